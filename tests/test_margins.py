"""Average marginal effects against statsmodels' get_margeff, and bad input."""

import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

import lrbook
from lrbook.margins import average_marginal_effects, marginal_effects

MODELS = {"logit": sm.Logit, "probit": sm.Probit}


@pytest.fixture(scope="module")
def margeff(standard_data):
    X, y = standard_data
    design = sm.add_constant(X)
    return {
        link: model(y, design).fit(disp=0).get_margeff(at="overall", method="dydx")
        for link, model in MODELS.items()
    }


@pytest.mark.parametrize("link", ["logit", "probit"])
def test_matches_statsmodels_get_margeff(standard_data, margeff, x64, link):
    X, y = standard_data
    table = average_marginal_effects(lrbook.fit(X, y, link=link), X)
    theirs = margeff[link]

    assert list(table.columns) == ["dy/dx", "std err", "z", "P>|z|", "[0.025", "0.975]"]
    np.testing.assert_allclose(table["dy/dx"], theirs.margeff, rtol=1e-6)
    np.testing.assert_allclose(table["std err"], theirs.margeff_se, rtol=1e-6)
    np.testing.assert_allclose(table["z"], theirs.tvalues, rtol=1e-6)
    np.testing.assert_allclose(
        table[["[0.025", "0.975]"]].to_numpy(), theirs.conf_int(), atol=1e-8
    )


@pytest.mark.parametrize("link", ["logit", "probit", "cloglog"])
def test_params_and_y_give_the_same_table_as_a_result(small_data, x64, link):
    X, y = small_data
    result = lrbook.fit(X, y, link=link)
    from_result = average_marginal_effects(result, X)
    from_dict = average_marginal_effects(result.params, X, y, link=link)
    given_cov = average_marginal_effects(
        result.params, X, link=link, cov=result.covariance.to_numpy()
    )
    pd.testing.assert_frame_equal(from_result, from_dict, rtol=1e-9)
    pd.testing.assert_frame_equal(from_result, given_cov, rtol=1e-12)


def test_effects_equal_the_closed_forms(small_data, x64):
    X, _ = small_data
    params = {"bias": jnp.asarray(0.3), "weights": jnp.asarray([1.2, -0.7])}
    eta = 0.3 + X @ np.array([1.2, -0.7])

    p = 1 / (1 + np.exp(-eta))
    logit = marginal_effects(params, jnp.asarray(X), "logit")
    np.testing.assert_allclose(logit, np.mean(p * (1 - p)) * np.array([1.2, -0.7]),
                               rtol=1e-12)

    probit = marginal_effects(params, jnp.asarray(X), "probit")
    np.testing.assert_allclose(
        probit, np.mean(stats.norm.pdf(eta)) * np.array([1.2, -0.7]), rtol=1e-12
    )


def test_delta_method_matches_a_finite_difference_jacobian(small_data, x64):
    X, y = small_data
    result = lrbook.fit(X, y, link="probit")
    theta = result.coef.to_numpy()

    def effects(theta):
        params = {"bias": jnp.asarray(theta[0]), "weights": jnp.asarray(theta[1:])}
        return np.asarray(marginal_effects(params, jnp.asarray(X), "probit"))

    step = 1e-6
    jacobian = np.column_stack([
        (effects(theta + step * e) - effects(theta - step * e)) / (2 * step)
        for e in np.eye(theta.size)
    ])
    cov = result.covariance.to_numpy()
    expected = np.sqrt(np.diag(jacobian @ cov @ jacobian.T))
    table = average_marginal_effects(result, X)
    np.testing.assert_allclose(table["std err"], expected, rtol=1e-6)


def test_names_come_from_a_dataframe_or_the_argument(small_data):
    X, y = small_data
    frame = pd.DataFrame(X, columns=["age", "income"])
    result = lrbook.fit(frame, y)
    assert list(average_marginal_effects(result, frame).index) == ["age", "income"]
    renamed = average_marginal_effects(result, X, feature_names=["a", "b"])
    assert list(renamed.index) == ["a", "b"]
    narrower = average_marginal_effects(result, X, alpha=0.1)
    assert list(narrower.columns[-2:]) == ["[0.05", "0.95]"]


def test_bad_input_is_reported(small_data):
    X, y = small_data
    result = lrbook.fit(X, y)
    with pytest.raises(ValueError, match=r"pass cov=\.\.\., or y"):
        average_marginal_effects(result.params, X)
    with pytest.raises(ValueError, match="X has 1 columns but params has 2"):
        average_marginal_effects(result, X[:, :1])
    with pytest.raises(ValueError, match=r"cov must have shape \(3, 3\)"):
        average_marginal_effects(result.params, X, cov=np.eye(2))
    with pytest.raises(ValueError, match="feature_names has 1 names for 2"):
        average_marginal_effects(result, X, feature_names=["a"])
    with pytest.raises(ValueError, match="alpha must be between 0 and 1"):
        average_marginal_effects(result, X, alpha=1.5)
    with pytest.raises(TypeError, match="params must be a dict"):
        average_marginal_effects([0.1, 0.2, 0.3], X, y)
    with pytest.raises(ValueError, match="y must contain only 0 and 1"):
        average_marginal_effects(result.params, X, 2 * y)
    with pytest.raises(ValueError, match="unknown link 'logistic'"):
        average_marginal_effects(result, X, link="logistic")
