"""Logistic regression and a small network as Flax NNX modules.

A module maps features ``X`` of shape ``(n, p)`` to logits, the linear
predictor $\\eta$ of shape ``(n,)``; the probability is
$\\sigma(\\eta)$. `train_model` fits any such module in place with
an optax optimizer, running the whole loop as one compiled ``lax.scan``.

Used in chapters 4 (Flax and Adam), 6 (a small neural network) and
9 (mini-batches).
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from lrbook.losses import pointwise_negative_log_likelihood
from lrbook.validation import check_data

__all__ = [
    "MLP",
    "LogisticRegression",
    "TrainHistory",
    "binary_cross_entropy",
    "predict_proba",
    "train_model",
]


def _check_positive_int(value, name: str, hint: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be a positive integer; got {value!r}. {hint}")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}. {hint}")
    return operator.index(value)


class LogisticRegression(nnx.Module):
    """Logistic regression as a Flax module: one linear unit, no activation.

    Used in chapters 4 (Flax and Adam) and 6.

    The module returns the linear predictor
    $\\eta_i = \\beta_0 + x_i^\\top \\beta$, the logit of
    $P(y_i = 1 \\mid x_i)$; `predict_proba` applies the sigmoid.

    Parameters
    ----------
    n_features : int
        The number of features, $p$.
    rngs : flax.nnx.Rngs
        Random state for the initial weights (LeCun normal; the bias starts
        at zero).
    param_dtype : dtype, default float32
        Use ``jnp.float64`` (with ``jax_enable_x64``) to match statsmodels
        to many digits.

    Examples
    --------
    >>> from flax import nnx
    >>> import jax.numpy as jnp
    >>> model = LogisticRegression(3, rngs=nnx.Rngs(0))
    >>> model(jnp.ones((5, 3))).shape
    (5,)
    >>> {k: v.shape for k, v in model.params_dict().items()}
    {'bias': (), 'weights': (3,)}
    """

    def __init__(
        self, n_features: int, *, rngs: nnx.Rngs, param_dtype=jnp.float32
    ) -> None:
        self.n_features = _check_positive_int(
            n_features, "n_features", "Pass the number of columns of X."
        )
        self.linear = nnx.Linear(
            self.n_features, 1, param_dtype=param_dtype, rngs=rngs
        )

    def __call__(self, x: jax.Array) -> jax.Array:
        """Logits for ``x`` of shape ``(n, p)``; returns shape ``(n,)``."""
        return self.linear(x)[:, 0]

    def params_dict(self) -> dict[str, jax.Array]:
        """The parameters in lrbook's functional layout.

        Returns
        -------
        dict
            ``{"bias": shape (), "weights": shape (p,)}``, the layout of
            `lrbook.losses.negative_log_likelihood` and the fitters in
            `lrbook.optim`, so the two kinds of fit can be compared.
        """
        return {
            "bias": self.linear.bias[...][0],
            "weights": self.linear.kernel[...][:, 0],
        }


class MLP(nnx.Module):
    """A multilayer perceptron with one logit output.

    Used in chapters 6 (a small neural network) and 8.

    Each hidden layer computes $h^{(l)} = a(W_l h^{(l-1)} + b_l)$ with
    the activation $a$; the output unit is linear, so the module
    returns logits just as `LogisticRegression` does, and the two
    train with the same loss.

    Parameters
    ----------
    n_features : int
        The number of features, $p$.
    hidden : sequence of int, default (10,)
        The width of each hidden layer, input side first. An empty sequence
        leaves only the output unit, which is logistic regression.
    activation : callable, default jax.nn.relu
        Applied elementwise after each hidden layer.
    rngs : flax.nnx.Rngs
        Random state for the initial weights.
    param_dtype : dtype, default float32

    Examples
    --------
    >>> from flax import nnx
    >>> import jax.numpy as jnp
    >>> model = MLP(2, hidden=(8, 4), rngs=nnx.Rngs(0))
    >>> model(jnp.ones((5, 2))).shape
    (5,)
    """

    def __init__(
        self,
        n_features: int,
        hidden: Sequence[int] = (10,),
        activation: Callable[[jax.Array], jax.Array] = jax.nn.relu,
        *,
        rngs: nnx.Rngs,
        param_dtype=jnp.float32,
    ) -> None:
        self.n_features = _check_positive_int(
            n_features, "n_features", "Pass the number of columns of X."
        )
        if isinstance(hidden, int | np.integer) or not isinstance(hidden, Sequence):
            raise TypeError(
                f"hidden must be a sequence of layer widths; got {hidden!r}. "
                "For one hidden layer of 10 units pass hidden=(10,)."
            )
        widths = []
        for width in hidden:
            if isinstance(width, bool) or not isinstance(width, int | np.integer) \
                    or width < 1:
                raise ValueError(
                    f"hidden layer widths must be positive integers; got "
                    f"hidden={tuple(hidden)!r}. Drop or fix the entry {width!r}."
                )
            widths.append(int(width))
        if not callable(activation):
            raise TypeError(
                f"activation must be callable; got {activation!r}. "
                "Pass a function such as jax.nn.relu or jax.nn.tanh."
            )
        self.activation = activation
        sizes = [self.n_features, *widths]
        self.hidden = nnx.List(
            nnx.Linear(n_in, n_out, param_dtype=param_dtype, rngs=rngs)
            for n_in, n_out in itertools.pairwise(sizes)
        )
        self.output = nnx.Linear(sizes[-1], 1, param_dtype=param_dtype, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        """Logits for ``x`` of shape ``(n, p)``; returns shape ``(n,)``."""
        for layer in self.hidden:
            x = self.activation(layer(x))
        return self.output(x)[:, 0]


def binary_cross_entropy(model: nnx.Module, X: jax.Array, y: jax.Array) -> jax.Array:
    """The mean Bernoulli negative log-likelihood of a module's logits.

    Used in chapters 4 and 6.

    $$
    J = -\\frac{1}{n} \\sum_{i=1}^n
    \\left[ y_i \\log \\sigma(\\eta_i) + (1 - y_i) \\log(1 - \\sigma(\\eta_i))
    \\right],
    $$

    with $\\eta = \\text{model}(X)$, computed with log-sigmoids so that
    it stays finite for large $|\\eta|$. It trusts its input, so that
    it can run under ``jit`` and ``grad``; check user data first (as
    `train_model` does).

    Parameters
    ----------
    model : flax.nnx.Module
        Maps ``X`` to logits of shape ``(n,)``.
    X : array, shape (n, p)
    y : array, shape (n,)
        Labels in {0, 1}.

    Returns
    -------
    scalar array

    Examples
    --------
    >>> from flax import nnx
    >>> import jax.numpy as jnp
    >>> model = LogisticRegression(1, rngs=nnx.Rngs(0))
    >>> loss = binary_cross_entropy(model, jnp.zeros((2, 1)), jnp.asarray([0., 1.]))
    >>> round(float(loss), 4)
    0.6931
    """
    return jnp.mean(pointwise_negative_log_likelihood(model(X), y, "logit"))


def predict_proba(model: nnx.Module, X) -> jax.Array:
    """Predicted probabilities $\\sigma(\\eta_i)$ from a module's logits.

    Used in chapters 6 and 8.

    Parameters
    ----------
    model : flax.nnx.Module
        Maps ``X`` to logits of shape ``(n,)``.
    X : array-like, shape (n, p)

    Returns
    -------
    array, shape (n,)

    Examples
    --------
    >>> from flax import nnx
    >>> import jax.numpy as jnp
    >>> model = LogisticRegression(2, rngs=nnx.Rngs(0))
    >>> predict_proba(model, jnp.zeros((1, 2))).tolist()
    [0.5]
    """
    if not isinstance(X, jax.Array):
        X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(
            f"X must be two-dimensional, (n_samples, n_features); got shape "
            f"{X.shape}. Reshape a single row with X.reshape(1, -1)."
        )
    _check_n_features(model, X.shape[1], "X")
    return jax.nn.sigmoid(model(jnp.asarray(X, _param_dtype(model))))


class TrainHistory(NamedTuple):
    """The losses recorded by `train_model`.

    Used in chapters 4, 6 and 8.

    Attributes
    ----------
    loss : numpy.ndarray, shape (n_steps + 1,)
        The mean negative log-likelihood on all training rows before each
        update, and after the last one.
    valid_loss : numpy.ndarray, shape (n_steps + 1,), or None
        The same on the validation data, at the same parameters; None when
        no validation data were given.

    Examples
    --------
    >>> import numpy as np
    >>> history = TrainHistory(loss=np.asarray([0.69, 0.5]), valid_loss=None)
    >>> len(history.loss) - 1  # the number of updates
    1
    """

    loss: np.ndarray
    valid_loss: np.ndarray | None


def _param_dtype(model: nnx.Module):
    leaves = jax.tree.leaves(nnx.state(model, nnx.Param))
    return leaves[0].dtype if leaves else jnp.result_type(float)


def _check_n_features(model: nnx.Module, n_columns: int, name: str) -> None:
    expected = getattr(model, "n_features", None)
    if expected is not None and n_columns != expected:
        raise ValueError(
            f"{name} has {n_columns} columns but the model was built for "
            f"n_features={expected}. Pass the same features the model was "
            "built for, or build a new model."
        )


def _run_steps(
    graphdef, state, data, valid, *, n_steps, batch_size, key, with_valid
):
    """Run ``n_steps`` updates in one ``lax.scan``; pure, so it can be jitted."""
    X, y = data
    n = X.shape[0]

    def full_loss(model):
        return binary_cross_entropy(model, X, y)

    def valid_loss(model):
        return binary_cross_entropy(model, *valid) if with_valid else jnp.nan

    def step(carry, _):
        state, order, position, key = carry
        model, optimizer = nnx.merge(graphdef, state)
        if batch_size is None:
            loss, grads = nnx.value_and_grad(binary_cross_entropy)(model, X, y)
        else:
            # A fresh permutation at the start of each epoch, so every row is
            # used once per epoch; the n % batch_size rows left after the last
            # full batch sit out that epoch.
            def new_epoch(key):
                key, subkey = jax.random.split(key)
                return jax.random.permutation(subkey, n), jnp.int32(0), key

            order, position, key = jax.lax.cond(
                position + batch_size > n,
                new_epoch,
                lambda key: (order, position, key),
                key,
            )
            rows = jax.lax.dynamic_slice_in_dim(order, position, batch_size)
            loss = full_loss(model)
            grads = nnx.grad(binary_cross_entropy)(model, X[rows], y[rows])
            position = position + batch_size
        recorded = (loss, valid_loss(model))
        optimizer.update(model, grads)
        _, state = nnx.split((model, optimizer))
        return (state, order, position, key), recorded

    # position = n forces a permutation before the first mini-batch.
    carry = (state, jnp.arange(n), jnp.int32(n), key)
    (state, *_), (losses, valid_losses) = jax.lax.scan(
        step, carry, None, length=n_steps
    )
    model, _ = nnx.merge(graphdef, state)
    losses = jnp.append(losses, full_loss(model))
    valid_losses = jnp.append(valid_losses, valid_loss(model))
    return state, losses, valid_losses


def train_model(
    model: nnx.Module,
    X,
    y,
    optimizer: optax.GradientTransformation,
    *,
    n_steps: int,
    batch_size: int | None = None,
    key: jax.Array | None = None,
    X_valid=None,
    y_valid=None,
) -> TrainHistory:
    """Fit a module in place by minimising `binary_cross_entropy`.

    Used in chapters 4, 6 and 8.

    Each step computes the gradient of the loss with respect to the module's
    ``nnx.Param`` variables and applies ``optimizer``'s update,
    $\\theta \\leftarrow \\theta + \\text{update}(\\nabla J(\\theta))$.
    The model and a fresh ``nnx.Optimizer`` are split into a graph definition
    and a state pytree, and all ``n_steps`` steps run inside one
    ``jax.jit``-compiled ``jax.lax.scan``, so the loop is compiled once per
    call rather than dispatched step by step. The trained parameters are then
    written back into ``model``.

    Parameters
    ----------
    model : flax.nnx.Module
        Maps ``X`` to logits of shape ``(n,)``; updated in place.
    X : array-like, shape (n, p)
        Training features; cast to the dtype of the model's parameters.
    y : array-like, shape (n,)
        Training labels in {0, 1}.
    optimizer : optax.GradientTransformation
        For example ``optax.adam(0.1)``. Its state starts afresh each call.
    n_steps : int
        The number of updates.
    batch_size : int, optional
        Rows per update. By default every update uses all rows (full batch).
        With ``batch_size``, rows are drawn without replacement within an
        epoch: the rows are permuted afresh each epoch and consecutive
        slices of ``batch_size`` rows are used in turn; the
        ``n % batch_size`` rows left after the last full slice sit out that
        epoch.
    key : jax.Array, optional
        PRNG key for the mini-batch order, e.g. ``jax.random.key(seed)``;
        required with ``batch_size`` and ignored without it.
    X_valid, y_valid : array-like, optional
        Validation data, given together, whose loss is recorded each step.

    Returns
    -------
    TrainHistory
        ``loss`` and ``valid_loss``, each of shape ``(n_steps + 1,)``: the
        loss on all training (validation) rows before each update and after
        the last. With mini-batches, ``loss`` is still the full training
        loss, which costs one extra pass over the data per step.

    Raises
    ------
    TypeError, ValueError
        For invalid data (see `lrbook.validation.check_data`), a
        feature count that differs from the model's, or invalid
        ``n_steps``, ``batch_size`` or ``key``.

    Examples
    --------
    >>> import jax.numpy as jnp, optax
    >>> from flax import nnx
    >>> X = jnp.asarray([[-2.0], [-1.0], [1.0], [2.0], [0.5], [-0.5]])
    >>> y = jnp.asarray([0, 0, 1, 1, 0, 1])
    >>> model = LogisticRegression(1, rngs=nnx.Rngs(0))
    >>> history = train_model(model, X, y, optax.adam(0.1), n_steps=200)
    >>> history.loss.shape, bool(history.loss[-1] < history.loss[0])
    ((201,), True)
    """
    X_np, y_np, _, _ = check_data(X, y)
    _check_n_features(model, X_np.shape[1], "X")
    n_steps = _check_positive_int(n_steps, "n_steps", "Pass e.g. n_steps=500.")
    n = X_np.shape[0]
    if batch_size is not None:
        if isinstance(batch_size, bool) or not isinstance(
            batch_size, int | np.integer
        ) or not 1 <= batch_size <= n:
            raise ValueError(
                f"batch_size must be an integer between 1 and the number of rows "
                f"({n}); got {batch_size!r}. Pass None for full-batch training."
            )
        batch_size = int(batch_size)
        if key is None:
            raise ValueError(
                "mini-batch training needs a PRNG key for the batch order; "
                "pass key=jax.random.key(seed)."
            )
        if not isinstance(key, jax.Array):
            raise TypeError(
                f"key must be a JAX PRNG key; got {key!r}. "
                "Pass key=jax.random.key(seed)."
            )
    else:
        # The scan carries a key either way; it is never used full batch.
        key = jax.random.key(0)

    if (X_valid is None) != (y_valid is None):
        raise ValueError(
            "X_valid and y_valid must be given together; got only "
            f"{'X_valid' if y_valid is None else 'y_valid'}. Pass both or neither."
        )
    dtype = _param_dtype(model)
    data = (jnp.asarray(X_np, dtype), jnp.asarray(y_np, dtype))
    valid = None
    if X_valid is not None:
        Xv_np, yv_np, _, _ = check_data(X_valid, y_valid)
        _check_n_features(model, Xv_np.shape[1], "X_valid")
        if Xv_np.shape[1] != X_np.shape[1]:
            raise ValueError(
                f"X_valid must have the columns of X ({X_np.shape[1]}); got "
                f"{Xv_np.shape[1]}. Use the same features for both."
            )
        valid = (jnp.asarray(Xv_np, dtype), jnp.asarray(yv_np, dtype))

    opt = nnx.Optimizer(model, optimizer, wrt=nnx.Param)
    graphdef, state = nnx.split((model, opt))
    # The optax transformation is new on every call, so the compiled loop is
    # too; compiling once per call keeps the loop itself free of Python.
    run = jax.jit(
        lambda state, data, valid, key: _run_steps(
            graphdef, state, data, valid, n_steps=n_steps,
            batch_size=batch_size, key=key, with_valid=valid is not None,
        )
    )
    state, losses, valid_losses = run(state, data, valid, key)
    nnx.update((model, opt), state)
    return TrainHistory(
        np.asarray(losses), None if valid is None else np.asarray(valid_losses)
    )
