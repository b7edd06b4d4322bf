import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from lrbook.losses import init_params, negative_log_likelihood
from lrbook.optim import (
    ConvergenceWarning,
    FitResult,
    gradient_descent,
    iterations_to_reach,
    lbfgs,
    newton,
    optax_minimize,
)


def quadratic(params, target):
    return 0.5 * jnp.sum((params - target) ** 2)


def test_seed_recipe_reproduces_the_book_numbers(standard_data):
    """Chapter 3's recipe in float32: learning rate 0.1, 501 updates."""
    X, y = standard_data
    X, y = jnp.asarray(X, jnp.float32), jnp.asarray(y, jnp.float32)
    params = {
        "bias": jnp.zeros((), jnp.float32),
        "weights": jax.random.normal(jax.random.key(0), (2,)),
    }
    result = gradient_descent(
        negative_log_likelihood, params, (X, y), learning_rate=0.1, max_iter=501
    )
    assert int(result.n_iter) == 501
    assert result.loss_history.shape == (502,)
    assert round(float(result.loss_history[-1]), 4) == 0.4950
    np.testing.assert_allclose(result.params["weights"], [1.5045, -0.7979], atol=5e-4)
    np.testing.assert_allclose(result.params["bias"], 0.2995, atol=5e-4)
    assert np.all(np.diff(np.asarray(result.loss_history)) <= 1e-7)


def test_optax_minimize_with_adam_reaches_the_minimum():
    target = jnp.asarray([1.0, -2.0, 3.0])
    result = optax_minimize(
        quadratic, jnp.zeros(3), (target,), optax.adam(0.1), max_iter=2_000,
        tol=1e-5,
    )
    assert bool(result.converged)
    np.testing.assert_allclose(result.params, target, atol=1e-4)
    assert result.loss_history.shape == (int(result.n_iter) + 1,)


def test_first_order_fit_warns_when_it_hits_max_iter():
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        result = gradient_descent(
            quadratic, jnp.zeros(2), (jnp.ones(2),), learning_rate=0.01,
            max_iter=3, tol=1e-8,
        )
    assert not bool(result.converged)


def test_lbfgs_matches_newton_on_the_logistic_loss(small_data, x64):
    X, y = (jnp.asarray(a, jnp.float64) for a in small_data)
    start = init_params(2, jnp.float64)
    by_lbfgs = lbfgs(negative_log_likelihood, start, (X, y))
    by_newton = newton(negative_log_likelihood, start, (X, y))
    assert bool(by_lbfgs.converged) and bool(by_newton.converged)
    assert int(by_newton.n_iter) <= 8
    for key in ("bias", "weights"):
        np.testing.assert_allclose(
            by_lbfgs.params[key], by_newton.params[key], atol=1e-8
        )


def test_newton_warns_when_it_cannot_converge():
    def unbounded(params, x):
        # Convex but with no minimum: Newton keeps stepping towards -inf.
        return jnp.sum(jnp.exp(params * x))

    with pytest.warns(ConvergenceWarning, match="newton stopped"):
        result = newton(unbounded, jnp.zeros(1), (jnp.ones(1),), max_iter=5)
    assert int(result.n_iter) == 5


def test_mini_batch_fit_records_epochs_and_batches(small_data):
    X, y = (jnp.asarray(a, jnp.float32) for a in small_data)
    result = optax_minimize(
        negative_log_likelihood, init_params(2), (X, y), optax.adam(0.05),
        max_iter=5, batch_size=256, key=jax.random.key(0),
    )
    assert result.loss_history.shape == (6,)
    assert result.batch_loss_history.shape == (5 * (2_000 // 256),)
    assert float(result.loss_history[-1]) < float(result.loss_history[0]) - 0.1


def test_mini_batch_fit_is_reproducible_given_the_key(small_data):
    X, y = (jnp.asarray(a, jnp.float32) for a in small_data)

    def run(seed):
        return optax_minimize(
            negative_log_likelihood, init_params(2), (X, y), optax.sgd(0.1),
            max_iter=2, batch_size=100, key=jax.random.key(seed),
        ).params["weights"]

    np.testing.assert_array_equal(run(1), run(1))
    assert not np.array_equal(run(1), run(2))


def test_mini_batch_needs_a_key(small_data):
    X, y = small_data
    with pytest.raises(ValueError, match="need a PRNG key"):
        optax_minimize(
            negative_log_likelihood, init_params(2), (X, y), optax.sgd(0.1),
            batch_size=10,
        )


@pytest.mark.parametrize("batch_size", [0, 5_000, 2.5])
def test_batch_size_must_fit_the_data(small_data, batch_size):
    X, y = small_data
    with pytest.raises(ValueError, match="batch_size must be an integer"):
        optax_minimize(
            negative_log_likelihood, init_params(2), (X, y), optax.sgd(0.1),
            batch_size=batch_size, key=jax.random.key(0),
        )


def test_data_must_be_a_tuple():
    with pytest.raises(TypeError, match="data must be a tuple"):
        gradient_descent(quadratic, jnp.zeros(2), jnp.ones(2))


def test_bad_learning_rate_and_max_iter():
    with pytest.raises(ValueError, match="learning_rate must be positive"):
        gradient_descent(quadratic, jnp.zeros(2), (jnp.ones(2),), learning_rate=0)
    with pytest.raises(ValueError, match="max_iter must be a positive integer"):
        gradient_descent(quadratic, jnp.zeros(2), (jnp.ones(2),), max_iter=0)


def test_fit_result_is_a_pytree():
    result = newton(quadratic, jnp.zeros(2), (jnp.ones(2),))
    assert isinstance(result, FitResult)
    leaves = jax.tree.leaves(result)
    assert len(leaves) == 5  # params, history, n_iter, converged, grad_norm


def test_iterations_to_reach_finds_the_first_close_loss():
    history = np.asarray([0.9, 0.6, 0.51, 0.505, 0.5001, np.nan])
    assert iterations_to_reach(history, 0.5, 0.02) == 2
    assert iterations_to_reach(history, 0.5, 1e-3) == 4
    assert iterations_to_reach(history, 0.5, 1e-6) is None
    with pytest.raises(ValueError, match="tolerance must be positive"):
        iterations_to_reach(history, 0.5, 0.0)
