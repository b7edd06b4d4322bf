"""lrbook.fit against statsmodels, and its handling of bad input."""

import subprocess
import sys

import jax
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import lrbook
from lrbook.diagnostics import CollinearityError, SeparationError


@pytest.fixture(scope="module")
def reference(standard_data):
    X, y = standard_data
    design = sm.add_constant(X)
    return {
        "logit": sm.Logit(y, design).fit(disp=0),
        "probit": sm.Probit(y, design).fit(disp=0),
    }


@pytest.mark.parametrize("method", ["newton", "lbfgs"])
@pytest.mark.parametrize("link", ["logit", "probit"])
def test_matches_statsmodels_in_float64(standard_data, reference, x64, method, link):
    X, y = standard_data
    ours = lrbook.fit(X, y, link=link, method=method)
    theirs = reference[link]

    assert ours.converged
    np.testing.assert_allclose(ours.coef.to_numpy(), theirs.params, atol=1e-6)
    np.testing.assert_allclose(
        ours.standard_errors.to_numpy(), theirs.bse, rtol=1e-6
    )
    np.testing.assert_allclose(ours.log_likelihood, theirs.llf, atol=1e-6)
    np.testing.assert_allclose(ours.null_log_likelihood, theirs.llnull, atol=1e-6)
    np.testing.assert_allclose(ours.pseudo_r2, theirs.prsquared, atol=1e-9)

    table = ours.summary()
    reference_table = pd.DataFrame(
        {"z": theirs.tvalues, "P>|z|": theirs.pvalues},
    )
    np.testing.assert_allclose(table["z"], reference_table["z"], rtol=1e-6)
    np.testing.assert_allclose(
        table[["[0.025", "0.975]"]].to_numpy(), theirs.conf_int(), atol=1e-6
    )


def test_cloglog_matches_statsmodels_glm(standard_data, x64):
    X, y = standard_data
    family = sm.families.Binomial(sm.families.links.CLogLog())
    design = sm.add_constant(X)
    irls = sm.GLM(y, design, family=family).fit(tol=1e-12)
    newton = sm.GLM(y, design, family=family).fit(method="newton", tol=1e-12)
    ours = lrbook.fit(X, y, link="cloglog")

    # statsmodels forms 1 - p as 1 - (1 - exp(-exp(eta))), which loses most
    # digits for a row with y = 0 and eta near 3.5; lrbook uses
    # log(1 - p) = -exp(eta) exactly. That moves statsmodels' estimate by
    # about 3e-6 on these data ...
    np.testing.assert_allclose(ours.coef.to_numpy(), irls.params, atol=1e-5)
    # ... and lrbook's is the true maximum: higher likelihood, zero gradient.
    theirs = {"bias": irls.params[0], "weights": irls.params[1:]}
    assert ours.log_likelihood >= lrbook.log_likelihood(
        theirs, X, y.astype(float), "cloglog"
    )

    # Observed-information standard errors match statsmodels' Newton fit;
    # expected-information ones match its IRLS fit.
    np.testing.assert_allclose(ours.standard_errors, newton.bse, rtol=1e-4)
    expected = lrbook.standard_errors(
        ours.params, ours._X, ours._y, "cloglog", information="expected"
    )
    np.testing.assert_allclose(
        np.r_[expected["bias"], expected["weights"]], irls.bse, rtol=1e-4
    )


def test_float32_fit_reproduces_the_book_table(standard_data, reference):
    X, y = standard_data
    assert not jax.config.jax_enable_x64
    ours = lrbook.fit(X, y)
    np.testing.assert_allclose(ours.coef, [0.3012, 1.5128, -0.8028], atol=1e-4)
    np.testing.assert_allclose(ours.standard_errors, [0.0079, 0.0107, 0.0087],
                               atol=1e-4)
    assert round(ours.log_likelihood) == -49498
    assert round(ours.pseudo_r2, 4) == 0.2810
    # ... and statsmodels says the same on the same data.
    np.testing.assert_allclose(reference["logit"].params, ours.coef, atol=1e-4)
    assert round(reference["logit"].llf) == -49498
    assert round(reference["logit"].prsquared, 4) == 0.2810
    np.testing.assert_allclose(
        reference["logit"].bse, [0.008, 0.011, 0.009], atol=5e-4
    )


def test_first_order_methods_reach_the_same_estimate(small_data, x64):
    X, y = small_data
    newton = lrbook.fit(X, y)
    for method in ("gradient_descent", "adam"):
        result = lrbook.fit(X, y, method=method, max_iter=20_000)
        np.testing.assert_allclose(result.coef, newton.coef, atol=1e-5)


def test_ridge_shrinks_the_weights_but_not_the_bias(small_data, x64):
    X, y = small_data
    plain = lrbook.fit(X, y)
    ridge = lrbook.fit(X, y, penalty=1.0)
    assert np.all(np.abs(ridge.coef[1:]) < np.abs(plain.coef[1:]))
    # At the penalised optimum the gradient of the penalised mean loss is zero.
    grad = jax.grad(lrbook.negative_log_likelihood)(
        ridge.params, ridge._X, ridge._y, "logit", 1.0
    )
    np.testing.assert_allclose(grad["weights"], 0.0, atol=1e-9)


def test_sample_weights_equal_repeated_rows(small_data, x64):
    X, y = small_data
    counts = np.random.default_rng(3).integers(0, 3, size=len(y))
    weighted = lrbook.fit(X, y, sample_weight=counts)
    repeated = lrbook.fit(np.repeat(X, counts, axis=0), np.repeat(y, counts))
    np.testing.assert_allclose(weighted.coef, repeated.coef, atol=1e-9)
    np.testing.assert_allclose(
        weighted.standard_errors, repeated.standard_errors, rtol=1e-8
    )


def test_dataframe_names_flow_into_the_summary(small_data):
    X, y = small_data
    frame = pd.DataFrame(X, columns=["age", "income"])
    result = lrbook.fit(frame, pd.Series(y.astype(bool), name="vote"))
    assert list(result.summary().index) == ["const", "age", "income"]
    assert list(result.summary().columns) == [
        "coef", "std err", "z", "P>|z|", "[0.025", "0.975]",
    ]
    assert result.predict_proba(frame.iloc[:5]).shape == (5,)


def test_predict_proba_checks_the_number_of_columns(small_data):
    X, y = small_data
    result = lrbook.fit(X, y)
    with pytest.raises(ValueError, match="fitted on 2"):
        result.predict_proba(X[:, :1])


def test_importing_lrbook_leaves_jax_config_alone():
    code = (
        "import jax; before = jax.config.jax_enable_x64; import lrbook; "
        "import lrbook.plots, lrbook.models; "
        "assert jax.config.jax_enable_x64 == before == False; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "ok"


# --- bad input -------------------------------------------------------------

GOOD_X = np.random.default_rng(0).standard_normal((50, 2))
GOOD_Y = (GOOD_X[:, 0] + np.random.default_rng(1).standard_normal(50) > 0) * 1


@pytest.mark.parametrize(
    ("X", "y", "error", "message"),
    [
        (np.where(np.eye(50, 2) == 1, np.nan, GOOD_X), GOOD_Y, ValueError,
         r"X must be finite; found NaN or infinite 2 value\(s\), at \(0, 0\)"),
        (np.where(np.eye(50, 2) == 1, np.inf, GOOD_X), GOOD_Y, ValueError,
         "X must be finite"),
        (GOOD_X, np.where(np.arange(50) == 3, np.nan, GOOD_Y), ValueError,
         "y must be finite"),
        (GOOD_X, np.where(np.arange(50) == 0, 2, GOOD_Y), ValueError,
         r"y must contain only 0 and 1; found values \[0.0, 1.0, 2.0\]"),
        (GOOD_X, GOOD_Y * 2 - 1, ValueError, r"found values \[-1.0, 1.0\]"),
        (GOOD_X, GOOD_Y[:40], ValueError, "X has 50 and y has 40"),
        (GOOD_X[:, 0], GOOD_Y, ValueError, r"X must be two-dimensional.*reshape"),
        (GOOD_X[:0], GOOD_Y[:0], ValueError, "X has no rows"),
        (GOOD_X[:, :0], GOOD_Y, ValueError, "X has no columns"),
        (GOOD_X.astype(str), GOOD_Y, TypeError, "X must hold numbers"),
        (pd.DataFrame({"a": GOOD_X[:, 0], "b": ["u"] * 50}), GOOD_Y, TypeError,
         r"columns \['b'\] are not"),
        (GOOD_X, np.array(["yes", "no"] * 25), TypeError, "y must hold numbers"),
        (GOOD_X, GOOD_Y.reshape(5, 10), ValueError, "y must be one-dimensional"),
    ],
)
def test_bad_data_is_rejected_with_a_clear_message(X, y, error, message):
    with pytest.raises(error, match=message):
        lrbook.fit(X, y)


def test_boolean_labels_are_fine():
    result = lrbook.fit(GOOD_X, GOOD_Y.astype(bool))
    assert result.converged


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"link": "logistic"}, r"unknown link 'logistic'; the valid names"),
        ({"method": "bfgs"}, r"unknown method 'bfgs'; the valid names"),
        ({"penalty": -1.0}, "penalty must be a finite number >= 0"),
        ({"penalty": float("nan")}, "penalty must be a finite number >= 0"),
        ({"max_iter": 0}, "max_iter must be a positive integer"),
        ({"tol": -1e-3}, "tol must be positive"),
        ({"learning_rate": 0.0}, "learning_rate must be positive"),
        ({"sample_weight": -np.ones(50)}, "sample_weight must be finite and non"),
        ({"sample_weight": np.ones(3)}, r"sample_weight must have shape \(50,\)"),
    ],
)
def test_bad_options_are_rejected(options, message):
    with pytest.raises(ValueError, match=message):
        lrbook.fit(GOOD_X, GOOD_Y, **options)


def test_complete_separation_is_reported():
    X = np.linspace(-2, 2, 40)[:, None]
    y = (X[:, 0] > 0).astype(int)
    message = r"completely separated.*\['const', 'x1'\]"
    with pytest.raises(SeparationError, match=message):
        lrbook.fit(X, y)


def test_quasi_complete_separation_is_reported():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((200, 2))
    y = (rng.random(200) < 0.5).astype(int)
    # Every row with the indicator set has y = 1; the rest are mixed.
    indicator = (rng.random(200) < 0.2).astype(float)
    y[indicator == 1] = 1
    X = np.column_stack([X, indicator])
    with pytest.raises(SeparationError, match="x3"):
        lrbook.fit(X, y)


def test_separation_is_no_error_with_a_ridge_penalty():
    X = np.linspace(-2, 2, 40)[:, None]
    y = (X[:, 0] > 0).astype(int)
    result = lrbook.fit(X, y, penalty=0.1)
    assert result.converged and np.isfinite(result.coef).all()


def test_strong_but_unseparated_data_fit_without_complaint():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((500, 1))
    y = (rng.random(500) < 1 / (1 + np.exp(-8 * X[:, 0]))).astype(int)
    assert lrbook.fit(X, y).converged


def test_duplicated_column_is_reported():
    X = np.column_stack([GOOD_X, GOOD_X[:, 0] * 2.0])
    with pytest.raises(CollinearityError, match=r"\['x1', 'x3'\] are collinear"):
        lrbook.fit(X, GOOD_Y)


def test_constant_column_is_collinear_with_the_intercept():
    X = np.column_stack([GOOD_X, np.full(50, 3.0)])
    with pytest.raises(CollinearityError, match=r"'const'.*'x3'"):
        lrbook.fit(X, GOOD_Y)


def test_fit_warns_when_it_stops_at_max_iter(small_data):
    X, y = small_data
    with pytest.warns(lrbook.ConvergenceWarning, match=r"method='adam'.*max_iter"):
        result = lrbook.fit(X, y, method="adam", max_iter=5)
    assert not result.converged and result.n_iter == 5
