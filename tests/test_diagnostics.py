import numpy as np
import pytest

from lrbook.diagnostics import CollinearityError, check_collinearity, find_separation
from lrbook.validation import check_data, check_features, check_labels


def test_find_separation_finds_a_separating_direction():
    X = np.column_stack([np.linspace(-1, 1, 30), np.random.default_rng(0).random(30)])
    y = (X[:, 0] > 0.1).astype(float)
    direction = find_separation(X, y)
    assert direction is not None
    margins = (2 * y - 1) * (direction[0] + X @ direction[1:])
    assert margins.min() >= -1e-9 and margins.max() > 0


def test_find_separation_returns_none_for_overlapping_classes():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((300, 2))
    y = (rng.random(300) < 0.5).astype(float)
    assert find_separation(X, y) is None


def test_check_collinearity_names_the_dependent_columns():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((100, 3))
    X[:, 2] = X[:, 0] - X[:, 1]
    design = np.column_stack([np.ones(100), X])
    with pytest.raises(CollinearityError, match=r"\['x1', 'x2', 'x3'\]"):
        check_collinearity(design.T @ design, ["x1", "x2", "x3"])
    check_collinearity(design[:, :3].T @ design[:, :3], ["x1", "x2"])


def test_check_collinearity_reports_a_zero_column():
    hessian = np.diag([1.0, 0.0])
    with pytest.raises(CollinearityError, match=r"\['x1'\] carry no information"):
        check_collinearity(hessian, ["x1"])


def test_validation_returns_float_arrays_and_names():
    X, y, names, weights = check_data([[1, 2], [3, 4]], [True, False])
    assert X.dtype == np.float64 and y.tolist() == [1.0, 0.0]
    assert names == ["x1", "x2"] and weights is None


def test_column_vector_labels_are_accepted_but_wider_ones_are_not():
    assert check_labels(np.array([[0], [1]])).shape == (2,)
    with pytest.raises(ValueError, match="y must be one-dimensional"):
        check_labels(np.zeros((2, 2)))


def test_complex_features_are_rejected():
    with pytest.raises(TypeError, match="X must be real"):
        check_features(np.ones((2, 2), dtype=complex))


def test_all_zero_weights_are_rejected():
    with pytest.raises(ValueError, match="sample_weight sums to zero"):
        check_data(np.ones((2, 1)), [0, 1], sample_weight=[0, 0])


def test_huge_finite_features_are_accepted_and_nan_is_found():
    # Their sum overflows to inf; validation must not mistake that for inf.
    X = np.asarray([[1e308], [1e308], [-1.0]])
    checked, _ = check_features(X)
    assert checked.shape == (3, 1)
    with pytest.raises(ValueError, match=r"X must be finite.*\(1, 0\)"):
        check_features(np.asarray([[1e308], [np.nan], [1e308]]))
