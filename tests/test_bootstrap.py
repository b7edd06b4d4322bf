"""The vmapped bootstrap: what a replicate is, how it compares, bad input."""

import importlib
import warnings

import jax
import numpy as np
import pytest

import lrbook
from lrbook.bootstrap import bootstrap, resample_counts
from lrbook.diagnostics import find_separation

# The module itself, even if lrbook/__init__.py exports the function
# `bootstrap` under the same name.
bootstrap_module = importlib.import_module("lrbook.bootstrap")


@pytest.fixture(scope="module")
def data():
    return lrbook.simulate(n=2_000, seed=11)


def test_resample_counts_are_a_resample_of_the_rows():
    counts = np.asarray(resample_counts(jax.random.key(3), 1_000))
    assert counts.shape == (1_000,) and counts.min() >= 0
    assert counts.sum() == 1_000
    # About a share exp(-1) of the rows is left out of a resample.
    assert abs(np.mean(counts == 0) - np.exp(-1)) < 0.05


@pytest.mark.parametrize(
    ("link", "penalty"),
    [("logit", 0.0), ("probit", 0.0), ("cloglog", 0.0), ("logit", 0.01)],
)
def test_a_replicate_is_the_fit_to_the_duplicated_rows(data, x64, link, penalty):
    X, y = data
    key = jax.random.key(5)
    result = bootstrap(
        X, y, n_replicates=6, key=key, link=link, penalty=penalty, batch_size=4
    )
    for b in (0, 5):
        counts = np.asarray(resample_counts(jax.random.split(key, 6)[b], len(y)))
        rows = np.repeat(np.arange(len(y)), counts)
        refit = lrbook.fit(X[rows], y[rows], link=link, penalty=penalty)
        np.testing.assert_allclose(result.draws[b], refit.coef, rtol=1e-8, atol=1e-10)
    assert result.converged.all()


def test_standard_errors_are_close_to_the_hessian_ones(data, x64):
    X, y = data
    result = bootstrap(X, y, n_replicates=400, key=jax.random.key(0))
    hessian = lrbook.fit(X, y).standard_errors
    # With 400 replicates a bootstrap standard error is within about 3.5%
    # of its limit (one sd); 10% leaves room for that and nothing else.
    np.testing.assert_allclose(result.standard_errors, hessian, rtol=0.10)
    np.testing.assert_allclose(result.estimate, lrbook.fit(X, y).coef, rtol=1e-12)


def test_summaries_are_the_moments_and_quantiles_of_the_draws(data, x64):
    X, y = data
    result = bootstrap(X, y, n_replicates=100, key=jax.random.key(1))
    np.testing.assert_allclose(
        result.standard_errors, result.draws.std(axis=0, ddof=1), rtol=1e-12
    )
    intervals = result.percentile_intervals(alpha=0.1)
    assert list(intervals.columns) == ["[0.05", "0.95]"]
    np.testing.assert_allclose(
        intervals.to_numpy(),
        np.quantile(result.draws, [0.05, 0.95], axis=0).T,
        rtol=1e-12,
    )
    summary = result.summary()
    assert list(summary.index) == ["const", "x1", "x2"]
    assert list(summary.columns) == ["coef", "std err", "[0.025", "0.975]"]
    assert result.n_replicates == 100


def test_draws_depend_on_the_key_only(data, x64):
    X, y = data
    first = bootstrap(X, y, n_replicates=30, key=jax.random.key(2), batch_size=7)
    again = bootstrap(X, y, n_replicates=30, key=jax.random.key(2), batch_size=30)
    other = bootstrap(X, y, n_replicates=30, key=jax.random.key(3), batch_size=7)
    np.testing.assert_allclose(first.draws, again.draws, rtol=1e-12, atol=1e-14)
    assert not np.allclose(first.draws, other.draws)


def test_blocks_of_rows_give_the_same_fit(data, x64, monkeypatch):
    # 2,000 rows in blocks of 300: six full blocks and one padded one.
    X, y = data
    key = jax.random.key(4)
    one_block = bootstrap(X, y, n_replicates=8, key=key)
    monkeypatch.setattr(bootstrap_module, "BLOCK_ROWS", 300)
    blocks = bootstrap(X, y, n_replicates=8, key=key)
    np.testing.assert_allclose(one_block.draws, blocks.draws, rtol=1e-10)


def test_float32_agrees_with_float64(data):
    X, y = data
    single = bootstrap(X, y, n_replicates=20, key=jax.random.key(6))
    assert single.converged.all()
    with jax.enable_x64(True):
        double = bootstrap(X, y, n_replicates=20, key=jax.random.key(6))
    np.testing.assert_allclose(single.draws, double.draws, atol=1e-4)


def test_replicates_without_an_estimate_are_reported_and_left_out(x64):
    # Separated but for the two points in the middle: a resample that misses
    # either of them is separated and has no maximum likelihood estimate.
    X = np.r_[np.linspace(-3, -1, 14), -0.5, 0.5, np.linspace(1, 3, 14)][:, None]
    y = np.r_[np.zeros(14), 1, 0, np.ones(14)]
    key = jax.random.key(0)
    with pytest.warns(lrbook.ConvergenceWarning, match="did not converge"):
        result = bootstrap(X, y, n_replicates=40, key=key)

    separated = []
    for replicate_key in jax.random.split(key, 40):
        rows = np.repeat(np.arange(len(y)), resample_counts(replicate_key, len(y)))
        separated.append(find_separation(X[rows], y[rows]) is not None)
    assert 0 < sum(separated) < 40
    np.testing.assert_array_equal(~result.converged, separated)
    assert len(result.frame) == result.converged.sum()
    assert np.isfinite(result.standard_errors).all()


def test_no_warning_when_every_replicate_converges(data):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bootstrap(X, y, n_replicates=10, key=jax.random.key(0))


def test_bad_input_is_reported(data):
    X, y = data
    key = jax.random.key(0)
    with pytest.raises(TypeError, match=r"key must be a single JAX PRNG key"):
        bootstrap(X, y, key=0)
    with pytest.raises(TypeError, match=r"key must be a single JAX PRNG key"):
        bootstrap(X, y, key=jax.random.split(key, 2))
    with pytest.raises(ValueError, match="n_replicates must be at least 2; got 1"):
        bootstrap(X, y, n_replicates=1, key=key)
    with pytest.raises(TypeError, match="batch_size must be an integer"):
        bootstrap(X, y, key=key, batch_size=2.5)
    with pytest.raises(ValueError, match="max_iter must be at least 1"):
        bootstrap(X, y, key=key, max_iter=0)
    with pytest.raises(ValueError, match="tol must be a positive number"):
        bootstrap(X, y, key=key, tol=-1.0)
    with pytest.raises(ValueError, match="y must contain only 0 and 1"):
        bootstrap(X, 2 * y, key=key)
    with pytest.raises(ValueError, match="X must be finite"):
        bootstrap(np.where(X > 2, np.nan, X), y, key=key)
    with pytest.raises(ValueError, match="penalty must be a finite number"):
        bootstrap(X, y, key=key, penalty=-1.0)
    with pytest.raises(ValueError, match="unknown link"):
        bootstrap(X, y, key=key, link="logistic")
    with pytest.raises(lrbook.SeparationError):
        bootstrap(X[:, :1], (X[:, 0] > 0).astype(int), key=key)
