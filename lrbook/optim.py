"""Training loops shared by the chapters, for any differentiable loss.

Every fitter here takes a loss ``loss_fn(params, *data)``, a pytree of
starting parameters and a tuple ``data`` of arrays whose first axis indexes
observations. Each runs its whole loop inside one ``jax.jit``-compiled
``lax.while_loop`` (or ``lax.scan`` for mini-batches) and returns a
`FitResult`. A fitter never raises inside the loop: it reports
``converged`` and ``n_iter``, and the Python front warns with a
`ConvergenceWarning` when a requested tolerance was not reached.

Used in chapters 3 (gradient descent), 4 (Adam), 5 (L-BFGS and Newton),
6 (a neural network) and 9 (mini-batches).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
import optax.tree_utils as otu
from jax.flatten_util import ravel_pytree
from jax.scipy.linalg import cho_factor, cho_solve

__all__ = [
    "ConvergenceWarning",
    "FitResult",
    "gradient_descent",
    "iterations_to_reach",
    "lbfgs",
    "newton",
    "optax_minimize",
]


class ConvergenceWarning(UserWarning):
    """A fit stopped at its iteration limit before meeting its tolerance.

    Used in chapters 3 and 5.
    """


class FitResult(NamedTuple):
    """What a fitter returns; a pytree, so it passes through ``jax.vmap``.

    Used in chapters 3, 4, 5 and 9.

    Attributes
    ----------
    params : pytree
        The final parameters.
    loss_history : array, shape (n_iter + 1,)
        The loss at the start and after each iteration (after each epoch for
        mini-batch fits). Inside ``vmap`` or ``jit`` it keeps its full
        length, ``max_iter + 1``, padded with NaN.
    n_iter : int array
        Iterations run (epochs for mini-batch fits).
    converged : bool array
        Whether the stopping rule was met before ``max_iter``.
    grad_norm : array
        The largest absolute entry of the gradient at ``params``.
    batch_loss_history : array or None
        For mini-batch fits, the loss on each mini-batch, one per update.
    hessian : array or None
        For `lrbook.glm.newton_glm`, the Hessian of the summed
        objective computed in the last iteration (at the parameters before
        the final step, which is shorter than ``tol``).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> result = newton(lambda w, t: jnp.sum((w - t) ** 2), jnp.zeros(2),
    ...                 (jnp.ones(2),))
    >>> int(result.n_iter), bool(result.converged)
    (2, True)
    """

    params: Any
    loss_history: jax.Array
    n_iter: jax.Array
    converged: jax.Array
    grad_norm: jax.Array
    batch_loss_history: jax.Array | None = None
    hessian: jax.Array | None = None


def _default_tol(params, float64: float, float32: float) -> float:
    leaves = jax.tree.leaves(params)
    is_double = any(jnp.asarray(leaf).dtype == jnp.float64 for leaf in leaves)
    return float64 if is_double else float32


def _max_abs(tree) -> jax.Array:
    return otu.tree_max(jax.tree.map(jnp.abs, tree))


def _finish(result: FitResult, tol: float, max_iter: int, name: str) -> FitResult:
    """Trim the padded history and warn if the tolerance was not met."""
    n_iter = int(result.n_iter)
    result = result._replace(loss_history=result.loss_history[: n_iter + 1])
    if tol > 0 and not bool(result.converged):
        warnings.warn(
            f"{name} stopped at max_iter={max_iter} before the gradient fell "
            f"below tol={tol:g} (largest |gradient| entry "
            f"{float(result.grad_norm):.3g}). Raise max_iter, or check the data "
            "and the learning rate.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return result


def _check_data(data) -> tuple:
    if not isinstance(data, tuple | list):
        raise TypeError(
            f"data must be a tuple of arrays, e.g. (X, y); got "
            f"{type(data).__name__}. Wrap a single array as (X,)."
        )
    return tuple(data)


def _init_state(optimizer, params, hyperparams):
    """optimizer.init, then overwrite injected hyperparameters with traced values."""
    state = optimizer.init(params)
    if hyperparams:
        for name, value in hyperparams.items():
            current = state.hyperparams[name]
            state.hyperparams[name] = jnp.asarray(value, dtype=current.dtype)
    return state


@functools.partial(jax.jit, static_argnums=(0, 3, 4))
def _full_batch_loop(loss_fn, params, data, optimizer, max_iter, tol, hyperparams):
    value_and_grad = jax.value_and_grad(lambda p: loss_fn(p, *data))
    loss, grad = value_and_grad(params)
    history = jnp.full(max_iter + 1, jnp.nan, dtype=loss.dtype).at[0].set(loss)

    def keep_going(state):
        k, _, _, _, grad, _ = state
        return (k < max_iter) & ~(_max_abs(grad) <= tol)

    def step(state):
        k, params, opt_state, _, grad, history = state
        updates, opt_state = optimizer.update(grad, opt_state, params)
        params = optax.apply_updates(params, updates)
        loss, grad = value_and_grad(params)
        return k + 1, params, opt_state, loss, grad, history.at[k + 1].set(loss)

    opt_state = _init_state(optimizer, params, hyperparams)
    state = (0, params, opt_state, loss, grad, history)
    k, params, _, _, grad, history = jax.lax.while_loop(keep_going, step, state)
    grad_norm = _max_abs(grad)
    return FitResult(params, history, k, grad_norm <= tol, grad_norm)


@functools.partial(jax.jit, static_argnums=(0, 3, 4, 5))
def _mini_batch_loop(
    loss_fn, params, data, optimizer, n_epochs, batch_size, key, hyperparams
):
    n = data[0].shape[0]
    n_batches = n // batch_size

    def full_loss(params):
        return loss_fn(params, *data)

    def batch_step(carry, start):
        params, opt_state, order = carry
        rows = jax.lax.dynamic_slice_in_dim(order, start, batch_size)
        batch = tuple(array[rows] for array in data)
        loss, grad = jax.value_and_grad(loss_fn)(params, *batch)
        updates, opt_state = optimizer.update(grad, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state, order), loss

    def epoch(carry, epoch_key):
        params, opt_state = carry
        # A fresh permutation each epoch: every row is used once per epoch,
        # and the rows left over after the last full batch change each time.
        order = jax.random.permutation(epoch_key, n)
        starts = jnp.arange(n_batches) * batch_size
        (params, opt_state, _), losses = jax.lax.scan(
            batch_step, (params, opt_state, order), starts
        )
        return (params, opt_state), (full_loss(params), losses)

    keys = jax.random.split(key, n_epochs)
    (params, _), (epoch_losses, batch_losses) = jax.lax.scan(
        epoch, (params, _init_state(optimizer, params, hyperparams)), keys
    )
    grad_norm = _max_abs(jax.grad(full_loss)(params))
    return params, epoch_losses, batch_losses.reshape(-1), grad_norm


def optax_minimize(
    loss_fn: Callable[..., jax.Array],
    params: Any,
    data: tuple,
    optimizer: optax.GradientTransformation,
    *,
    max_iter: int = 500,
    tol: float = 0.0,
    batch_size: int | None = None,
    key: jax.Array | None = None,
    hyperparams: dict | None = None,
) -> FitResult:
    """Minimise a loss with any optax gradient transformation.

    Used in chapters 4 (Flax and Adam) and 9 (mini-batches).

    Each iteration takes the gradient of ``loss_fn`` on the full data (or on
    one mini-batch) and applies ``optimizer``'s update. The whole loop is
    compiled once per ``loss_fn``, ``optimizer`` and data shape.

    Parameters
    ----------
    loss_fn : callable
        ``loss_fn(params, *data) -> scalar``. Define it once at module level
        (not as a fresh lambda per call) so that the compiled loop is reused.
    params : pytree
        Starting parameters.
    data : tuple of arrays
        Each of shape ``(n, ...)``; passed to ``loss_fn`` after ``params``.
    optimizer : optax.GradientTransformation
        For example ``optax.sgd(0.1)``, ``optax.sgd(0.1, momentum=0.9)`` or
        ``optax.adam(0.1)``.
    max_iter : int, default 500
        Full-batch: the number of updates. Mini-batch: the number of epochs.
    tol : float, default 0.0
        Full-batch only: stop once every entry of the gradient is at most
        ``tol`` in absolute value. With 0 the loop runs all ``max_iter``
        updates and does not warn.
    batch_size : int, optional
        If given, each update uses ``batch_size`` rows, drawn without
        replacement within an epoch; rows beyond the last full batch of an
        epoch are skipped in that epoch.
    key : jax.Array, optional
        PRNG key for the mini-batch order; required with ``batch_size``.
    hyperparams : dict, optional
        Starting values for the hyperparameters of an optimizer built with
        ``optax.inject_hyperparams``, e.g. ``{"learning_rate": 0.05}``. They
        are traced, so a new value reuses the compiled loop.

    Returns
    -------
    FitResult
        For mini-batch fits, ``loss_history`` holds the full-data loss at the
        start and after each epoch, ``batch_loss_history`` the loss of each
        mini-batch, and ``converged`` is always False.

    Examples
    --------
    >>> import jax.numpy as jnp, optax
    >>> loss = lambda params, x: jnp.sum((params - x) ** 2)
    >>> result = optax_minimize(loss, jnp.zeros(2), (jnp.ones(2),),
    ...                         optax.sgd(0.25), max_iter=20)
    >>> [round(float(v), 4) for v in result.params]
    [1.0, 1.0]
    """
    data = _check_data(data)
    if not isinstance(max_iter, int) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer; got {max_iter!r}.")
    if tol < 0:
        raise ValueError(f"tol must be non-negative; got {tol!r}.")

    if batch_size is None:
        result = _full_batch_loop(
            loss_fn, params, data, optimizer, max_iter, tol, hyperparams
        )
        return _finish(result, tol, max_iter, "optax_minimize")

    n = data[0].shape[0]
    if not isinstance(batch_size, int) or not 1 <= batch_size <= n:
        raise ValueError(
            f"batch_size must be an integer between 1 and the number of rows "
            f"({n}); got {batch_size!r}."
        )
    if key is None:
        raise ValueError(
            "mini-batch fits need a PRNG key for the batch order; pass "
            "key=jax.random.key(seed)."
        )
    initial = loss_fn(params, *data)
    params, epoch_losses, batch_losses, grad_norm = _mini_batch_loop(
        loss_fn, params, data, optimizer, max_iter, batch_size, key, hyperparams
    )
    history = jnp.concatenate([initial[None], epoch_losses])
    return FitResult(
        params, history, jnp.asarray(max_iter), jnp.asarray(False), grad_norm,
        batch_losses,
    )


# One transformation object for every call, with the learning rate traced, so
# that trying several learning rates compiles the loop once.
_SGD = optax.inject_hyperparams(optax.sgd)(learning_rate=0.1)


def gradient_descent(
    loss_fn: Callable[..., jax.Array],
    params: Any,
    data: tuple,
    *,
    learning_rate: float = 0.1,
    max_iter: int = 500,
    tol: float = 0.0,
    batch_size: int | None = None,
    key: jax.Array | None = None,
) -> FitResult:
    """Plain (full-batch or mini-batch) gradient descent.

    Used in chapters 3 (gradient descent) and 5.

    Each update is $\\theta \\leftarrow \\theta - \\alpha \\nabla J(\\theta)$
    with the fixed learning rate $\\alpha$; it is
    `optax_minimize` with ``optax.sgd(learning_rate)``.

    Parameters
    ----------
    loss_fn : callable
        ``loss_fn(params, *data) -> scalar``.
    params : pytree
        Starting parameters.
    data : tuple of arrays
        Passed to ``loss_fn`` after ``params``.
    max_iter : int, default 500
        The number of updates (epochs with ``batch_size``).
    tol : float, default 0.0
        As in `optax_minimize`.
    batch_size : int, optional
        Rows per update; full batch if omitted.
    key : jax.Array, optional
        PRNG key for the mini-batch order.
    learning_rate : float, default 0.1
        The step size $\\alpha$.

    Returns
    -------
    FitResult

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> loss = lambda params, x: jnp.sum((params - x) ** 2)
    >>> result = gradient_descent(loss, jnp.zeros(1), (jnp.ones(1),),
    ...                           learning_rate=0.25, max_iter=30)
    >>> round(float(result.params[0]), 6)
    1.0
    """
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be positive; got {learning_rate!r}.")
    return optax_minimize(
        loss_fn, params, data, _SGD, max_iter=max_iter, tol=tol,
        batch_size=batch_size, key=key,
        hyperparams={"learning_rate": learning_rate},
    )


@functools.partial(jax.jit, static_argnums=(0, 3, 4))
def _lbfgs_loop(loss_fn, params, data, memory_size, max_iter, tol):
    def objective(params):
        return loss_fn(params, *data)

    optimizer = optax.lbfgs(memory_size=memory_size)
    value_and_grad = optax.value_and_grad_from_state(objective)
    loss, grad = jax.value_and_grad(objective)(params)
    history = jnp.full(max_iter + 1, jnp.nan, dtype=loss.dtype).at[0].set(loss)

    def keep_going(state):
        k, _, _, grad, _ = state
        return (k < max_iter) & ~(_max_abs(grad) <= tol)

    def step(state):
        k, params, opt_state, _, history = state
        # The line search of the previous step already evaluated the loss and
        # gradient here; value_and_grad_from_state reuses them.
        loss, grad = value_and_grad(params, state=opt_state)
        updates, opt_state = optimizer.update(
            grad, opt_state, params, value=loss, grad=grad, value_fn=objective
        )
        params = optax.apply_updates(params, updates)
        new_loss = otu.tree_get(opt_state, "value")
        new_grad = otu.tree_get(opt_state, "grad")
        return k + 1, params, opt_state, new_grad, history.at[k + 1].set(new_loss)

    state = (0, params, optimizer.init(params), grad, history)
    k, params, _, grad, history = jax.lax.while_loop(keep_going, step, state)
    grad_norm = _max_abs(grad)
    return FitResult(params, history, k, grad_norm <= tol, grad_norm)


def lbfgs(
    loss_fn: Callable[..., jax.Array],
    params: Any,
    data: tuple,
    *,
    memory_size: int = 10,
    max_iter: int = 100,
    tol: float | None = None,
) -> FitResult:
    """Limited-memory BFGS with optax's zoom line search.

    Used in chapter 5 (L-BFGS and Newton).

    L-BFGS keeps the last ``memory_size`` parameter and gradient differences
    and uses them to apply an approximation of the inverse Hessian to the
    gradient (Liu and Nocedal, 1989). Each iteration costs a few gradient
    evaluations (one, once the line search accepts the first step).

    Parameters
    ----------
    loss_fn : callable
        ``loss_fn(params, *data) -> scalar``.
    params : pytree
        Starting parameters.
    data : tuple of arrays
        Passed to ``loss_fn`` after ``params``.
    memory_size : int, default 10
        Number of correction pairs kept.
    max_iter : int, default 100
        Maximum number of iterations.
    tol : float, optional
        Stop once every gradient entry is at most ``tol`` in absolute value.
        Defaults to 1e-10 for float64 parameters and 1e-5 for float32.

    Returns
    -------
    FitResult

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> loss = lambda params, x: jnp.sum((params - x) ** 2)
    >>> result = lbfgs(loss, jnp.zeros(2), (jnp.asarray([1.0, -2.0]),))
    >>> [round(float(v), 4) for v in result.params], bool(result.converged)
    ([1.0, -2.0], True)
    """
    data = _check_data(data)
    tol = _default_tol(params, 1e-10, 1e-5) if tol is None else tol
    result = _lbfgs_loop(loss_fn, params, data, memory_size, max_iter, tol)
    return _finish(result, tol, max_iter, "lbfgs")


@functools.partial(jax.jit, static_argnums=(0, 3))
def _newton_loop(loss_fn, params, data, max_iter, tol):
    flat, unravel = ravel_pytree(params)

    def objective(flat):
        return loss_fn(unravel(flat), *data)

    gradient = jax.grad(objective)
    hessian = jax.hessian(objective)
    history = jnp.full(max_iter + 1, jnp.nan, dtype=flat.dtype)
    history = history.at[0].set(objective(flat))

    def keep_going(state):
        k, _, step_size, _ = state
        return (k < max_iter) & ~(step_size <= tol)

    def step(state):
        k, flat, _, history = state
        loss = history[k]
        grad = gradient(flat)
        direction = cho_solve(cho_factor(hessian(flat)), grad)

        # Backtracking (halving) keeps the loss from rising on the rare
        # start far from the optimum; near it the full step is accepted.
        def too_long(t):
            return (objective(flat - t * direction) > loss) & (t > 1e-10)

        t = jax.lax.while_loop(too_long, lambda t: t / 2, jnp.ones_like(loss))
        new_flat = flat - t * direction
        step_size = jnp.max(jnp.abs(new_flat - flat))
        return k + 1, new_flat, step_size, history.at[k + 1].set(objective(new_flat))

    init = (0, flat, jnp.asarray(jnp.inf, flat.dtype), history)
    k, flat, step_size, history = jax.lax.while_loop(keep_going, step, init)
    grad_norm = jnp.max(jnp.abs(gradient(flat)))
    return FitResult(unravel(flat), history, k, step_size <= tol, grad_norm)


def newton(
    loss_fn: Callable[..., jax.Array],
    params: Any,
    data: tuple,
    *,
    max_iter: int = 50,
    tol: float | None = None,
) -> FitResult:
    """Newton's method with the exact Hessian from ``jax.hessian``.

    Used in chapter 5 (L-BFGS and Newton).

    Each iteration solves $H \\delta = \\nabla J$ by a Cholesky
    factorisation of the (symmetric, positive definite) Hessian and steps
    $\\theta \\leftarrow \\theta - t \\delta$, halving $t$ from 1
    until the loss does not increase. For the logistic likelihood this is the
    algorithm statsmodels' ``Logit.fit()`` runs, and it converges
    quadratically near the optimum.

    Parameters
    ----------
    loss_fn : callable
        ``loss_fn(params, *data) -> scalar``, twice differentiable and
        convex near the optimum.
    params : pytree
        Starting parameters.
    data : tuple of arrays
        Passed to ``loss_fn`` after ``params``.
    max_iter : int, default 50
        Maximum number of iterations.
    tol : float, optional
        Stop once no parameter moves by more than ``tol`` in an iteration.
        Defaults to 1e-10 for float64 parameters and 1e-5 for float32.

    Returns
    -------
    FitResult
        ``grad_norm`` is measured at the final parameters.

    Warnings
    --------
    ``jax.hessian`` forms the full $(d, d)$ Hessian of all ``d``
    parameters; that is cheap for a regression and prohibitive for a large
    network. For binary regression on many rows, `lrbook.fit` uses a
    faster Hessian that exploits the model's structure.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> loss = lambda params, x: jnp.sum(jnp.cosh(params - x))
    >>> result = newton(loss, jnp.zeros(2), (jnp.asarray([0.5, -1.0]),))
    >>> [round(float(v), 6) for v in result.params]
    [0.5, -1.0]
    """
    data = _check_data(data)
    tol = _default_tol(params, 1e-10, 1e-5) if tol is None else tol
    result = _newton_loop(loss_fn, params, data, max_iter, tol)
    return _finish_newton(result, tol, max_iter)


def _finish_newton(result: FitResult, tol: float, max_iter: int) -> FitResult:
    n_iter = int(result.n_iter)
    result = result._replace(loss_history=result.loss_history[: n_iter + 1])
    if not bool(result.converged):
        warnings.warn(
            f"newton stopped at max_iter={max_iter} before the step fell below "
            f"tol={tol:g}; the loss history ends at "
            f"{float(result.loss_history[-1]):.6g}. Raise max_iter, or look for "
            "separation or collinear columns in the data.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return result


def iterations_to_reach(
    loss_history, minimum: float, tolerance: float
) -> int | None:
    """The first iteration whose loss is within ``tolerance`` of ``minimum``.

    Used in chapters 3, 4 and 5 to compare how fast optimisers converge.

    Parameters
    ----------
    loss_history : array-like, shape (n_iter + 1,)
        Losses at the start and after each iteration, as in
        `FitResult.loss_history`; NaN padding never counts as reached.
    minimum : float
        The smallest attainable loss (for example from a Newton fit).
    tolerance : float
        How close counts as reached; must be positive.

    Returns
    -------
    int or None
        The index $k$ of the first loss with $J_k - J^* < \\text{tolerance}$,
        so the number of iterations it took, or None if none is that close.

    Examples
    --------
    >>> iterations_to_reach([1.0, 0.5, 0.26, 0.2501], minimum=0.25,
    ...                     tolerance=0.02)
    2
    >>> iterations_to_reach([1.0, 0.5], minimum=0.25, tolerance=0.02) is None
    True
    """
    if not tolerance > 0:
        raise ValueError(f"tolerance must be positive; got {tolerance!r}.")
    gaps = np.asarray(loss_history, dtype=np.float64) - minimum
    close = np.flatnonzero(gaps < tolerance)
    return int(close[0]) if close.size else None
