import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from lrbook.losses import (
    init_params,
    linear_predictor,
    naive_negative_log_likelihood,
    negative_log_likelihood,
    predict_proba,
)


@pytest.fixture
def problem(small_data):
    X, y = small_data
    params = {"bias": jnp.asarray(0.2), "weights": jnp.asarray([1.0, -0.5])}
    return params, jnp.asarray(X, jnp.float32), jnp.asarray(y, jnp.float32)


def test_negative_log_likelihood_is_binary_cross_entropy(problem):
    params, X, y = problem
    eta = linear_predictor(params, X)
    expected = jnp.mean(optax.sigmoid_binary_cross_entropy(eta, y))
    np.testing.assert_allclose(
        negative_log_likelihood(params, X, y), expected, rtol=1e-6
    )


def test_gradient_matches_the_analytic_formula(problem, x64):
    params, X, y = problem
    X, y = X.astype(jnp.float64), y.astype(jnp.float64)
    params = jax.tree.map(lambda a: a.astype(jnp.float64), params)
    grad = jax.grad(negative_log_likelihood)(params, X, y)

    residual = predict_proba(params, X) - y
    n = X.shape[0]
    np.testing.assert_allclose(grad["weights"], X.T @ residual / n, rtol=1e-12)
    np.testing.assert_allclose(grad["bias"], jnp.sum(residual) / n, rtol=1e-12)


def test_naive_and_stable_forms_agree_for_moderate_eta(problem):
    params, X, y = problem
    np.testing.assert_allclose(
        naive_negative_log_likelihood(params, X, y),
        negative_log_likelihood(params, X, y),
        rtol=1e-4,
    )


def test_stable_form_survives_large_eta_where_the_naive_one_saturates():
    X = jnp.asarray([[1.0]])
    y = jnp.asarray([0.0])
    params = {"bias": jnp.asarray(0.0), "weights": jnp.asarray([50.0])}
    # The exact loss is log(1 + e^50), essentially 50.
    np.testing.assert_allclose(negative_log_likelihood(params, X, y), 50.0, rtol=1e-6)
    naive = naive_negative_log_likelihood(params, X, y)
    assert float(naive) < 17.0  # capped at -log(epsilon)
    grad = jax.grad(naive_negative_log_likelihood)(params, X, y)
    assert float(grad["weights"][0]) == 0.0
    stable_grad = jax.grad(negative_log_likelihood)(params, X, y)
    np.testing.assert_allclose(stable_grad["weights"][0], 1.0, rtol=1e-6)


def test_ridge_penalty_adds_half_lambda_squared_norm(problem):
    params, X, y = problem
    base = negative_log_likelihood(params, X, y)
    penalised = negative_log_likelihood(params, X, y, penalty=0.4)
    expected = base + 0.5 * 0.4 * (1.0**2 + 0.5**2)
    np.testing.assert_allclose(penalised, expected, rtol=1e-6)


def test_integer_sample_weights_equal_repeated_rows(problem):
    params, X, y = problem
    counts = jnp.asarray(np.random.default_rng(1).integers(0, 3, size=X.shape[0]))
    repeated = jnp.repeat(jnp.arange(X.shape[0]), counts)
    weighted = negative_log_likelihood(
        params, X, y, sample_weight=counts.astype(X.dtype)
    )
    explicit = negative_log_likelihood(params, X[repeated], y[repeated])
    np.testing.assert_allclose(weighted, explicit, rtol=1e-5)


@pytest.mark.parametrize("link", ["probit", "cloglog"])
def test_other_links_use_their_inverse(problem, link, x64):
    params, X, y = problem
    X, y = X.astype(jnp.float64), y.astype(jnp.float64)
    p = predict_proba(params, X, link)
    # For cloglog, 1 - p = exp(-exp(eta)) exactly, even where p rounds to 1.
    eta = linear_predictor(params, X)
    log_q = -jnp.exp(eta) if link == "cloglog" else jnp.log1p(-p)
    expected = -jnp.mean(y * jnp.log(p) + (1 - y) * log_q)
    np.testing.assert_allclose(
        negative_log_likelihood(params, X, y, link), expected, rtol=1e-10
    )


def test_init_params_shapes_and_dtype():
    params = init_params(3)
    assert params["weights"].shape == (3,)
    assert params["bias"].shape == ()
    assert params["weights"].dtype == jnp.float32
