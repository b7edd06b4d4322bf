"""Tests for lrbook.models: the Flax modules and their training loop."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import statsmodels.api as sm
from flax import nnx

from lrbook.losses import negative_log_likelihood
from lrbook.models import (
    MLP,
    LogisticRegression,
    TrainHistory,
    binary_cross_entropy,
    predict_proba,
    train_model,
)
from lrbook.optim import optax_minimize


def simulate(n=2000, weights=(1.0, -2.0, 0.5), bias=-0.5, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, len(weights)))
    eta = bias + X @ np.asarray(weights)
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    return X, y


def as_vector(params):
    return np.r_[params["bias"], params["weights"]]


def test_logistic_regression_logits_and_params_dict():
    model = LogisticRegression(3, rngs=nnx.Rngs(0))
    X = np.random.default_rng(0).normal(size=(7, 3)).astype(np.float32)
    params = model.params_dict()
    assert params["bias"].shape == ()
    assert params["weights"].shape == (3,)
    expected = X @ np.asarray(params["weights"]) + float(params["bias"])
    np.testing.assert_allclose(model(jnp.asarray(X)), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        predict_proba(model, X), 1 / (1 + np.exp(-expected)), rtol=1e-5, atol=1e-6
    )


def test_adam_reaches_statsmodels_optimum():
    X, y = simulate()
    reference = sm.Logit(y, sm.add_constant(X)).fit(disp=0)
    model = LogisticRegression(3, rngs=nnx.Rngs(0))
    history = train_model(model, X, y, optax.adam(0.1), n_steps=300)
    # float32 Adam against float64 Newton: agreement to ~1e-4 is what
    # single precision allows; a wrong gradient or update misses by far more.
    np.testing.assert_allclose(
        as_vector(model.params_dict()), reference.params, atol=1e-4
    )
    assert history.loss[-1] == pytest.approx(-reference.llf / len(y), rel=1e-5)


def test_train_model_matches_functional_adam():
    # The same Adam on the same loss from the same start must trace the same
    # path whether written with NNX or with lrbook's functional fitter.
    X, y = simulate(n=500)
    model = LogisticRegression(3, rngs=nnx.Rngs(3))
    start = model.params_dict()
    history = train_model(model, X, y, optax.adam(0.05), n_steps=50)
    data = (jnp.asarray(X, jnp.float32), jnp.asarray(y, jnp.float32))
    result = optax_minimize(
        negative_log_likelihood, start, data, optax.adam(0.05), max_iter=50
    )
    np.testing.assert_allclose(history.loss, result.loss_history, rtol=1e-5)
    np.testing.assert_allclose(
        as_vector(model.params_dict()), as_vector(result.params), atol=1e-5
    )


def test_history_length_and_decrease():
    X, y = simulate(n=500)
    model = LogisticRegression(3, rngs=nnx.Rngs(0))
    # Gradient descent with a step below 2 / L decreases a smooth convex loss
    # at every step; here L <= max eigenvalue of X'X / (4 n), about 0.3.
    history = train_model(model, X, y, optax.sgd(0.5), n_steps=40)
    assert isinstance(history, TrainHistory)
    assert isinstance(history.loss, np.ndarray)
    assert history.loss.shape == (41,)
    assert history.valid_loss is None
    assert np.all(np.diff(history.loss) < 0)
    final = binary_cross_entropy(model, jnp.asarray(X, jnp.float32),
                                 jnp.asarray(y, jnp.float32))
    assert history.loss[-1] == pytest.approx(float(final), rel=1e-6)


def test_validation_loss_is_recorded_at_the_same_parameters():
    X, y = simulate(n=600)
    X_valid, y_valid = simulate(n=300, seed=2)
    model = LogisticRegression(3, rngs=nnx.Rngs(0))
    history = train_model(model, X, y, optax.adam(0.1), n_steps=20,
                          X_valid=X_valid, y_valid=y_valid)
    assert history.valid_loss.shape == (21,)
    final = binary_cross_entropy(model, jnp.asarray(X_valid, jnp.float32),
                                 jnp.asarray(y_valid, jnp.float32))
    assert history.valid_loss[-1] == pytest.approx(float(final), rel=1e-6)
    assert not np.allclose(history.valid_loss, history.loss)


def test_training_is_deterministic_given_the_seed():
    X, y = simulate(n=300)

    def fit(seed):
        model = MLP(3, hidden=(5,), rngs=nnx.Rngs(seed))
        history = train_model(model, X, y, optax.adam(0.05), n_steps=30,
                              batch_size=64, key=jax.random.key(seed))
        return history.loss, nnx.state(model, nnx.Param)

    loss_a, state_a = fit(7)
    loss_b, state_b = fit(7)
    loss_c, _ = fit(8)
    np.testing.assert_array_equal(loss_a, loss_b)
    for a, b in zip(jax.tree.leaves(state_a), jax.tree.leaves(state_b),
                    strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(loss_a, loss_c)


def test_one_batch_of_all_rows_is_full_batch():
    X, y = simulate(n=256)
    histories = []
    for batch_size, key in ((None, None), (256, jax.random.key(0))):
        model = LogisticRegression(3, rngs=nnx.Rngs(0))
        histories.append(train_model(model, X, y, optax.adam(0.1), n_steps=25,
                                     batch_size=batch_size, key=key).loss)
    # Only the summation order differs, so the paths agree to rounding.
    np.testing.assert_allclose(histories[0], histories[1], rtol=1e-5)


def test_mini_batches_still_reach_the_optimum_region():
    X, y = simulate(n=1000)
    reference = sm.Logit(y, sm.add_constant(X)).fit(disp=0)
    model = LogisticRegression(3, rngs=nnx.Rngs(0))
    history = train_model(model, X, y, optax.adam(0.01), n_steps=600,
                          batch_size=100, key=jax.random.key(0))
    assert history.loss.shape == (601,)
    assert history.loss[-1] < -reference.llf / len(y) + 2e-3


def test_mlp_output_shape_and_layers():
    model = MLP(2, hidden=(8, 4), activation=jax.nn.tanh, rngs=nnx.Rngs(0))
    assert model(jnp.ones((5, 2))).shape == (5,)
    shapes = [layer.kernel.shape for layer in model.hidden]
    assert shapes == [(2, 8), (8, 4)]
    assert model.output.kernel.shape == (4, 1)
    assert MLP(2, hidden=(), rngs=nnx.Rngs(0))(jnp.ones((3, 2))).shape == (3,)


def test_mlp_bends_the_boundary_where_logistic_regression_cannot():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(800, 2))
    y = (np.sum(X**2, axis=1) < 0.5).astype(float)  # a disc: not linear
    losses = {}
    for name, model in {
        "logistic": LogisticRegression(2, rngs=nnx.Rngs(0)),
        "mlp": MLP(2, hidden=(16,), rngs=nnx.Rngs(0)),
    }.items():
        losses[name] = train_model(model, X, y, optax.adam(0.05),
                                   n_steps=400).loss[-1]
    assert losses["logistic"] > 0.6
    assert losses["mlp"] < 0.25


def test_loss_is_finite_for_large_logits():
    model = LogisticRegression(1, rngs=nnx.Rngs(0))
    model.linear.kernel[...] = jnp.asarray([[100.0]])
    loss = binary_cross_entropy(model, jnp.ones((1, 1)), jnp.zeros(1))
    assert float(loss) == pytest.approx(100.0)


@pytest.mark.parametrize(
    ("hidden", "error", "match"),
    [
        ((10, 0), ValueError, r"positive integers; got hidden=\(10, 0\)"),
        ((4, -3), ValueError, "Drop or fix the entry -3"),
        ((2.5,), ValueError, "positive integers"),
        (10, TypeError, r"hidden=\(10,\)"),
    ],
)
def test_mlp_rejects_bad_hidden_sizes(hidden, error, match):
    with pytest.raises(error, match=match):
        MLP(2, hidden=hidden, rngs=nnx.Rngs(0))


@pytest.mark.parametrize("n_features", [0, -1])
def test_models_reject_bad_n_features(n_features):
    with pytest.raises(ValueError, match=f"positive integer; got {n_features}"):
        LogisticRegression(n_features, rngs=nnx.Rngs(0))


def test_mini_batches_need_a_key():
    X, y = simulate(n=100)
    model = LogisticRegression(3, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match=r"key=jax.random.key\(seed\)"):
        train_model(model, X, y, optax.adam(0.1), n_steps=5, batch_size=10)
    with pytest.raises(TypeError, match="JAX PRNG key; got 0"):
        train_model(model, X, y, optax.adam(0.1), n_steps=5, batch_size=10,
                    key=0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_steps": 0}, "n_steps must be a positive integer; got 0"),
        ({"n_steps": 5, "batch_size": 101, "key": jax.random.key(0)},
         r"between 1 and the number of rows \(100\); got 101"),
        ({"n_steps": 5, "X_valid": np.zeros((3, 3))},
         "given together; got only X_valid"),
    ],
)
def test_train_model_rejects_bad_settings(kwargs, match):
    X, y = simulate(n=100)
    model = LogisticRegression(3, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match=match):
        train_model(model, X, y, optax.adam(0.1), **kwargs)


def test_train_model_rejects_bad_data():
    X, y = simulate(n=100)
    model = LogisticRegression(3, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="X has 2 columns but the model was built"):
        train_model(model, X[:, :2], y, optax.adam(0.1), n_steps=5)
    with pytest.raises(ValueError, match="only 0 and 1"):
        train_model(model, X, 2 * y, optax.adam(0.1), n_steps=5)
    with pytest.raises(ValueError, match="X_valid has 2 columns"):
        train_model(model, X, y, optax.adam(0.1), n_steps=5,
                    X_valid=X[:, :2], y_valid=y)


def test_predict_proba_rejects_one_dimensional_input():
    model = LogisticRegression(2, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match=r"got shape \(2,\)"):
        predict_proba(model, np.ones(2))
