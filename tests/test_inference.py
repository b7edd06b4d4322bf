import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from lrbook.inference import (
    coefficient_table,
    covariance,
    hessian,
    log_likelihood,
    null_log_likelihood,
    pseudo_r2,
    standard_errors,
)


@pytest.fixture
def fitted(small_data, x64):
    import lrbook

    X, y = small_data
    result = lrbook.fit(X, y)
    return result.params, jnp.asarray(X), jnp.asarray(y, jnp.float64)


def test_jax_hessian_and_structured_covariance_agree(fitted):
    params, X, y = fitted
    from_autodiff = np.linalg.inv(np.asarray(hessian(params, X, y)))
    np.testing.assert_allclose(covariance(params, X, y), from_autodiff, rtol=1e-10)


def test_standard_errors_are_the_root_diagonal(fitted):
    params, X, y = fitted
    se = standard_errors(params, X, y)
    diagonal = np.sqrt(np.diag(covariance(params, X, y)))
    np.testing.assert_allclose(np.r_[se["bias"], se["weights"]], diagonal)


def test_expected_and_observed_information_for_probit_differ(fitted):
    params, X, y = fitted
    observed = covariance(params, X, y, "probit")
    expected = covariance(params, X, y, "probit", information="expected")
    assert not np.allclose(observed, expected, rtol=1e-4)
    with pytest.raises(ValueError, match="information must be 'observed'"):
        covariance(params, X, y, information="fisher")


def test_log_likelihood_sums_log_probabilities(fitted):
    params, X, y = fitted
    p = 1 / (1 + np.exp(-(params["bias"] + np.asarray(X) @ params["weights"])))
    expected = np.sum(np.where(np.asarray(y) == 1, np.log(p), np.log1p(-p)))
    np.testing.assert_allclose(log_likelihood(params, X, y), expected, rtol=1e-12)


def test_null_log_likelihood_and_pseudo_r2():
    y = np.array([0, 0, 0, 1])
    expected = 3 * np.log(0.75) + np.log(0.25)
    np.testing.assert_allclose(null_log_likelihood(y), expected)
    assert pseudo_r2(expected / 2, expected) == pytest.approx(0.5)
    assert null_log_likelihood(np.zeros(4)) == 0.0
    with pytest.raises(ValueError, match="pseudo R\\^2 is undefined"):
        pseudo_r2(-1.0, 0.0)


def test_coefficient_table_values_and_interval_labels():
    params = {"bias": np.asarray(0.5), "weights": np.asarray([2.0, -1.0])}
    cov = np.diag([0.25, 1.0, 4.0])
    table = coefficient_table(params, cov, ["a", "b"], alpha=0.1)
    assert list(table.columns) == ["coef", "std err", "z", "P>|z|", "[0.05", "0.95]"]
    np.testing.assert_allclose(table["std err"], [0.5, 1.0, 2.0])
    np.testing.assert_allclose(table["z"], [1.0, 2.0, -0.5])
    np.testing.assert_allclose(table["P>|z|"], 2 * stats.norm.sf([1.0, 2.0, 0.5]))
    np.testing.assert_allclose(
        table["0.95]"], [0.5 + 1.6448536 * 0.5, 2 + 1.6448536, -1 + 2 * 1.6448536]
    )


def test_coefficient_table_checks_shapes_and_alpha():
    params = {"bias": np.asarray(0.5), "weights": np.asarray([2.0])}
    with pytest.raises(ValueError, match=r"cov must have shape \(2, 2\)"):
        coefficient_table(params, np.eye(3))
    with pytest.raises(ValueError, match="alpha must be between 0 and 1"):
        coefficient_table(params, np.eye(2), alpha=1.5)
