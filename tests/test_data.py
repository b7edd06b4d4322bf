import numpy as np
import pandas as pd
import pytest
from scipy import special

import lrbook
from lrbook.data import DATASETS


def test_standard_data_set_has_the_documented_shape(standard_data):
    X, y = standard_data
    assert X.shape == (100_000, 2) and X.dtype == np.float64
    assert y.shape == (100_000,) and set(np.unique(y)) == {0, 1}


def test_the_same_seed_gives_identical_arrays():
    X1, y1 = lrbook.simulate(n=1_000, seed=3)
    X2, y2 = lrbook.simulate(n=1_000, seed=3)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    X3, _ = lrbook.simulate(n=1_000, seed=4)
    assert not np.array_equal(X1, X3)


def test_simulate_draws_from_the_stated_model():
    X, y = lrbook.simulate(n=200_000, weights=(0.5, 1.0, -1.0), bias=-0.2, seed=1)
    assert X.shape == (200_000, 3)
    expected = special.expit(-0.2 + X @ [0.5, 1.0, -1.0]).mean()
    assert abs(y.mean() - expected) < 4 * np.sqrt(0.25 / 200_000)


@pytest.mark.parametrize("link", ["probit", "cloglog"])
def test_other_links_shift_the_share_of_ones(link):
    _, y_logit = lrbook.simulate(n=50_000, seed=2)
    _, y_other = lrbook.simulate(n=50_000, seed=2, link=link)
    assert y_other.mean() != y_logit.mean()


def test_identity_link_needs_probabilities_in_range():
    X, _y = lrbook.simulate(n=500, weights=(0.05,), bias=0.5, link="identity")
    assert X.shape == (500, 1)
    with pytest.raises(ValueError, match=r"must stay in \[0, 1\]"):
        lrbook.simulate(n=500, weights=(1.0,), bias=0.5, link="identity")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"n": 0}, ValueError, "n must be at least 1"),
        ({"n": 2.5}, TypeError, "n must be an integer"),
        ({"weights": ()}, ValueError, "weights must be a non-empty"),
        ({"weights": (1.0, np.nan)}, ValueError, "weights must be a non-empty"),
        ({"bias": np.inf}, ValueError, "bias must be finite"),
        ({"link": "logistic"}, ValueError, "unknown link 'logistic'"),
    ],
)
def test_simulate_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        lrbook.simulate(**kwargs)


def test_nonlinear_data_put_the_ones_near_the_origin():
    X, y = lrbook.simulate_nonlinear(n=20_000)
    radius = np.hypot(X[:, 0], X[:, 1])
    assert y[radius < 0.7].mean() > 0.7
    assert y[radius > 1.8].mean() < 0.1


def test_train_test_split_partitions_the_rows():
    X = np.arange(20, dtype=float).reshape(10, 2)
    y = np.arange(10)
    _X_train, X_test, y_train, y_test = lrbook.train_test_split(X, y, 0.3, seed=1)
    assert len(y_test) == 3 and len(y_train) == 7
    assert sorted(np.concatenate([y_train, y_test])) == list(range(10))
    np.testing.assert_array_equal(X_test[:, 0], 2 * y_test)


def test_train_test_split_rejects_empty_sides():
    with pytest.raises(ValueError, match="leaves one side empty"):
        lrbook.train_test_split(np.ones((3, 1)), np.ones(3), 0.1)
    with pytest.raises(ValueError, match="test_fraction must be between"):
        lrbook.train_test_split(np.ones((3, 1)), np.ones(3), 1.0)


def test_load_returns_the_documented_columns():
    frame = lrbook.load("anes96")
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == DATASETS["anes96"]["columns"]
    assert frame.shape == (944, 11)
    assert set(frame["vote"].unique()) == {0, 1}
    assert frame.notna().all().all()


def test_load_matches_the_statsmodels_original():
    from statsmodels.datasets import anes96

    original = anes96.load_pandas().data
    frame = lrbook.load("anes96")
    np.testing.assert_allclose(
        frame.to_numpy(dtype=float), original[frame.columns].to_numpy(dtype=float)
    )


def test_load_unknown_name_lists_the_available_ones():
    with pytest.raises(ValueError, match=r"unknown data set 'iris'.*\['anes96'\]"):
        lrbook.load("iris")
