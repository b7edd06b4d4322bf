import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lrbook.data import simulate
from lrbook.glm import (
    SAMPLE_EVERY,
    _sampled_hessian,
    gradient_and_hessian,
    newton_glm,
    value_and_gradient,
)
from lrbook.inference import hessian
from lrbook.links import get_link
from lrbook.losses import init_params, negative_log_likelihood
from lrbook.optim import newton


@pytest.fixture
def data64(small_data, x64):
    X, y = small_data
    return jnp.asarray(X, jnp.float64), jnp.asarray(y, jnp.float64)


@pytest.mark.parametrize("link", ["logit", "probit", "cloglog"])
@pytest.mark.parametrize("penalty", [0.0, 0.3])
def test_structured_derivatives_equal_autodiff(data64, link, penalty):
    X, y = data64
    params = {"bias": jnp.asarray(0.1), "weights": jnp.asarray([0.4, -0.2])}
    grad, hess = gradient_and_hessian(params, X, y, link, penalty, chunk_rows=300)

    n = X.shape[0]
    auto_grad = jax.grad(negative_log_likelihood)(params, X, y, link, penalty)
    np.testing.assert_allclose(grad[0], n * auto_grad["bias"], rtol=1e-10)
    np.testing.assert_allclose(grad[1:], n * auto_grad["weights"], rtol=1e-10)
    np.testing.assert_allclose(
        hess, hessian(params, X, y, link, penalty), rtol=1e-10, atol=1e-9
    )


def test_expected_information_equals_observed_for_the_logit(data64):
    X, y = data64
    params = {"bias": jnp.asarray(0.1), "weights": jnp.asarray([0.4, -0.2])}
    _, observed = gradient_and_hessian(params, X, y, "logit")
    _, expected = gradient_and_hessian(params, X, y, "logit", expected=True)
    np.testing.assert_allclose(observed, expected, rtol=1e-12)
    _, probit_observed = gradient_and_hessian(params, X, y, "probit")
    _, probit_expected = gradient_and_hessian(params, X, y, "probit", expected=True)
    assert not np.allclose(probit_observed, probit_expected, rtol=1e-3)


@pytest.mark.parametrize("chunk_rows", [1, 7, 2_000, 4_096])
def test_hessian_does_not_depend_on_the_block_size(data64, chunk_rows):
    X, y = data64
    params = {"bias": jnp.asarray(0.1), "weights": jnp.asarray([0.4, -0.2])}
    _, reference = gradient_and_hessian(params, X, y, chunk_rows=512)
    _, hess = gradient_and_hessian(params, X, y, chunk_rows=chunk_rows)
    np.testing.assert_allclose(hess, reference, rtol=1e-12)


@pytest.mark.parametrize("link", ["logit", "probit", "cloglog"])
def test_newton_glm_agrees_with_generic_newton(data64, link):
    X, y = data64
    start = init_params(2, jnp.float64)
    fast = newton_glm(X, y, start, link=link)

    def loss(params, X, y):
        return negative_log_likelihood(params, X, y, link)

    generic = newton(loss, start, (X, y))
    assert bool(fast.converged)
    for key in ("bias", "weights"):
        np.testing.assert_allclose(
            fast.params[key], generic.params[key], rtol=1e-9, atol=1e-12
        )


def test_newton_glm_can_be_vmapped_over_sample_weights(data64):
    X, y = data64
    weights = jnp.stack([jnp.ones(X.shape[0]), 2 * jnp.ones(X.shape[0])])

    def fit_one(w):
        return newton_glm(X, y, init_params(2, jnp.float64), sample_weight=w)

    results = jax.vmap(fit_one)(weights)
    # Doubling every weight leaves the maximiser unchanged.
    np.testing.assert_allclose(
        results.params["weights"][0], results.params["weights"][1], rtol=1e-10
    )
    assert results.loss_history.shape == (2, 51)


def test_newton_glm_loss_history_decreases(data64):
    X, y = data64
    result = newton_glm(X, y, init_params(2, jnp.float64))
    history = np.asarray(result.loss_history[: int(result.n_iter) + 1])
    assert np.all(np.diff(history) <= 1e-12)
    assert np.isnan(np.asarray(result.loss_history)[-1])


@pytest.mark.parametrize("link", ["logit", "probit", "cloglog"])
@pytest.mark.parametrize("chunk_rows", [None, 7])
def test_value_and_gradient_equals_autodiff(data64, link, chunk_rows, rng):
    X, y = data64
    params = {"bias": jnp.asarray(0.1), "weights": jnp.asarray([0.4, -0.2])}
    weights = jnp.asarray(rng.uniform(0.5, 2.0, X.shape[0]))
    loss, grad = value_and_gradient(
        params, X, y, link, 0.3, weights, chunk_rows=chunk_rows
    )

    reference, auto_grad = jax.value_and_grad(negative_log_likelihood)(
        params, X, y, link, 0.3, weights
    )
    np.testing.assert_allclose(loss, reference, rtol=1e-13)
    for key in ("bias", "weights"):
        np.testing.assert_allclose(grad[key], auto_grad[key], rtol=1e-10, atol=1e-14)


def test_newton_glm_with_sampled_hessians_reaches_the_exact_answer(x64):
    # 4,000 rows in blocks of 16 make 250 blocks: enough for the early steps
    # to use a Hessian from every 16th block.
    X, y = simulate(n=4_000, weights=(1.0, -0.5, 0.25), seed=3)
    X, y = jnp.asarray(X), jnp.asarray(y, jnp.float64)
    start = init_params(3, jnp.float64)
    sampled = newton_glm(X, y, start, chunk_rows=16)
    exact = newton_glm(X, y, start, chunk_rows=X.shape[0])

    assert bool(sampled.converged) and bool(exact.converged)
    for key in ("bias", "weights"):
        np.testing.assert_allclose(
            sampled.params[key], exact.params[key], rtol=1e-10, atol=1e-12
        )
    # The Hessian returned is the exact one, not a sample's.
    _, at_answer = gradient_and_hessian(sampled.params, X, y)
    np.testing.assert_allclose(sampled.hessian, at_answer, rtol=1e-8)


def test_a_singular_sampled_hessian_falls_back_to_the_exact_one(x64, rng):
    # A rare indicator that is 1 only in rows no sampled block contains
    # (blocks 1 and 2 of 16 rows; every 16th block, from block 0, is sampled)
    # makes the sampled Hessian singular.
    n = 4_000
    x1 = rng.normal(size=n)
    rare = np.zeros(n)
    rare[20:44] = 1.0
    X = np.column_stack([x1, rare])
    eta = 0.5 * x1 + 0.3 * rare
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(float)
    X, y = jnp.asarray(X), jnp.asarray(y)
    sample = _sampled_hessian(
        init_params(2, jnp.float64), X, y, None, get_link("logit"), 16, SAMPLE_EVERY
    )
    assert float(sample.gram[1, 1]) == 0.0

    result = newton_glm(X, y, init_params(2, jnp.float64), chunk_rows=16)
    exact = newton_glm(X, y, init_params(2, jnp.float64), chunk_rows=n)
    assert bool(result.converged)
    np.testing.assert_allclose(
        result.params["weights"], exact.params["weights"], rtol=1e-10
    )


def test_zero_weights_on_every_sampled_block_fall_back_to_the_exact_hessian(x64):
    X, y = simulate(n=4_000, weights=(1.0, -0.5), seed=5)
    X, y = jnp.asarray(X), jnp.asarray(y, jnp.float64)
    # Blocks of 16 rows; the sampled ones are blocks 0, 16, 32, ...
    block = np.arange(X.shape[0]) // 16
    weights = jnp.asarray(np.where(block % SAMPLE_EVERY == 0, 0.0, 1.0))
    start = init_params(2, jnp.float64)

    result = newton_glm(X, y, start, sample_weight=weights, chunk_rows=16)
    exact = newton_glm(X, y, start, sample_weight=weights, chunk_rows=X.shape[0])
    assert bool(result.converged)
    np.testing.assert_allclose(
        result.params["weights"], exact.params["weights"], rtol=1e-10
    )
