"""Newton's method specialised to binary regression.

For a binary GLM the negative log-likelihood is a sum of scalar functions of
the linear predictor, $\\sum_i \\ell(\\eta_i; y_i)$, so its gradient and
Hessian have the structure

$$
\\nabla = \\tilde X^\\top d_1, \\qquad H = \\tilde X^\\top \\operatorname{diag}(d_2)
\\tilde X,
$$

where $\\tilde X = [1, X]$, and $d_1, d_2$ are the first and second
derivatives of $\\ell$ in $\\eta$. Here ``jax.grad`` supplies
$d_1$ and $d_2$ for any link (so the Hessian is exact, not the
expected information), and the products with $X$ are accumulated over
blocks of rows, so no weighted copy of $X$ is ever formed.

Used by `lrbook.fit`, `lrbook.parallel.fit_sharded` and the
chapters on Newton's method (5) and inference (7).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax.scipy.linalg import cho_factor, cho_solve

from lrbook.links import get_link
from lrbook.losses import linear_predictor, pointwise_negative_log_likelihood
from lrbook.optim import FitResult

__all__ = ["gradient_and_hessian", "newton_glm"]

# Rows per block when accumulating X^T diag(d2) X: large enough for an
# efficient matrix product, small enough that the weighted block stays in cache.
CHUNK_ROWS = 2048


def _derivatives(eta, y, link, expected=False):
    r"""First and second derivatives of each observation's loss in eta.

    With ``expected=True`` the second derivative is replaced by its
    expectation over y, $(d\\mu/d\\eta)^2 / (\\mu (1 - \\mu))$: the
    Fisher scoring weight that statsmodels' IRLS uses. For the logit link the
    two coincide.
    """

    if link.name == "logit" and not expected:
        # The canonical link's derivatives are p - y and p (1 - p). XLA does
        # not reduce the autodiff expression to these, and they are several
        # times cheaper; tests check that both routes agree.
        p = jax.nn.sigmoid(eta)
        return p - y, p * (1 - p)

    def loss(eta_i, y_i):
        return pointwise_negative_log_likelihood(eta_i, y_i, link)

    d1 = jax.vmap(jax.grad(loss))(eta, y)
    if expected:
        # slope^2 / (mu (1 - mu)) overflows or divides 0 by 0 in the tails.
        # Written with d log(mu) / d eta where mu < 1/2 and with
        # d log(1 - mu) / d eta elsewhere, each factor stays representable.
        log_p, log_q = link.log_prob(eta)
        dlog_p = jax.vmap(jax.grad(lambda e: link.log_prob(e)[0]))(eta)
        dlog_q = jax.vmap(jax.grad(lambda e: link.log_prob(e)[1]))(eta)
        lower = log_p < log_q
        d2 = jnp.where(
            lower,
            dlog_p**2 * jnp.exp(jnp.where(lower, log_p - log_q, 0.0)),
            dlog_q**2 * jnp.exp(jnp.where(lower, 0.0, log_q - log_p)),
        )
    else:
        d2 = jax.vmap(jax.grad(jax.grad(loss)))(eta, y)
    return d1, d2


def _accumulate(X, d1, d2, chunk_rows):
    """X^T diag(d2) X, X^T d1 and X^T d2, one block of rows at a time.

    Each block is read once for all three. The two vector products are done
    as ``[d1; d2] @ X_block``, which XLA runs much faster on the CPU than
    ``X.T @ d`` over the whole of X.
    """
    n, p = X.shape
    n_full = (n // chunk_rows) * chunk_rows
    derivatives = jnp.stack([d1, d2])

    def add_block(X_block, d_block, gram, sums):
        weighted = X_block * d_block[1][:, None]
        return gram + weighted.T @ X_block, sums + d_block @ X_block

    gram = jnp.zeros((p, p), X.dtype)
    sums = jnp.zeros((2, p), X.dtype)
    if n_full:
        def body(b, carry):
            start = b * chunk_rows
            X_block = jax.lax.dynamic_slice_in_dim(X, start, chunk_rows)
            d_block = jax.lax.dynamic_slice_in_dim(
                derivatives, start, chunk_rows, axis=1
            )
            return add_block(X_block, d_block, *carry)

        gram, sums = jax.lax.fori_loop(0, n // chunk_rows, body, (gram, sums))
    if n_full < n:
        gram, sums = add_block(X[n_full:], derivatives[:, n_full:], gram, sums)
    return gram, sums[0], sums[1]


def _assemble(X, d1, d2, weights, penalty, total_weight, chunk_rows):
    """Gradient and Hessian of the summed objective, ordered (bias, weights)."""
    gram, grad_weights, column_sums = _accumulate(X, d1, d2, chunk_rows)
    grad_weights = grad_weights + penalty * total_weight * weights
    grad = jnp.concatenate([jnp.sum(d1)[None], grad_weights])

    p = X.shape[1]
    ridge = penalty * total_weight * jnp.eye(p, dtype=X.dtype)
    top = jnp.concatenate([jnp.sum(d2)[None], column_sums])
    lower = jnp.concatenate([column_sums[:, None], gram + ridge], axis=1)
    hessian = jnp.concatenate([top[None, :], lower], axis=0)
    return grad, hessian


@functools.partial(
    jax.jit, static_argnames=("link", "chunk_rows", "expected")
)
def gradient_and_hessian(
    params, X, y, link="logit", penalty=0.0, sample_weight=None,
    chunk_rows: int = CHUNK_ROWS, expected: bool = False,
):
    """Gradient and exact Hessian of the summed penalised negative
    log-likelihood.

    Used in chapters 5 and 7.

    The objective is $N \\cdot J(\\beta_0, \\beta)$, where $J$ is
    `lrbook.losses.negative_log_likelihood` and $N$ the number of
    observations (the sum of ``sample_weight``). The inverse of this Hessian
    is the usual covariance matrix of the maximum likelihood estimate.

    Parameters
    ----------
    params : dict
        ``{"bias": shape (), "weights": shape (p,)}``.
    X : array, shape (n, p)
    y : array, shape (n,)
    link : str or Link, default "logit"
    penalty : float, default 0.0
        Ridge strength $\\lambda$.
    sample_weight : array, shape (n,), optional
    chunk_rows : int, default 2048
        Rows per block in the Hessian accumulation.
    expected : bool, default False
        Return the expected (Fisher) information instead of the observed
        Hessian. They are equal for the logit link.

    Returns
    -------
    grad : array, shape (p + 1,)
        Ordered bias first, then the weights.
    hessian : array, shape (p + 1, p + 1)

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from lrbook.losses import init_params
    >>> X, y = jnp.asarray([[1.0], [-1.0]]), jnp.asarray([1.0, 0.0])
    >>> grad, hess = gradient_and_hessian(init_params(1), X, y)
    >>> hess.tolist()
    [[0.5, 0.0], [0.0, 0.5]]
    """
    link = get_link(link)
    eta = linear_predictor(params, X)
    d1, d2 = _derivatives(eta, y, link, expected)
    if sample_weight is None:
        total_weight = jnp.asarray(X.shape[0], X.dtype)
    else:
        d1, d2 = d1 * sample_weight, d2 * sample_weight
        total_weight = jnp.sum(sample_weight)
    return _assemble(X, d1, d2, params["weights"], penalty, total_weight, chunk_rows)


def _objective(eta, y, weights, link, penalty, sample_weight):
    losses = pointwise_negative_log_likelihood(eta, y, link)
    if sample_weight is None:
        mean = jnp.mean(losses)
    else:
        mean = jnp.sum(sample_weight * losses) / jnp.sum(sample_weight)
    return mean + 0.5 * penalty * jnp.sum(weights**2)


@functools.partial(jax.jit, static_argnames=("link", "max_iter", "chunk_rows"))
def newton_glm(
    X, y, params, *, link="logit", penalty=0.0, sample_weight=None,
    max_iter: int = 50, tol=None, chunk_rows: int = CHUNK_ROWS,
) -> FitResult:
    """Newton's method for a binary GLM, two passes over ``X`` per iteration.

    Used in chapters 5, 7 and 9 (through `lrbook.fit` and `fit_sharded`).

    One iteration reads ``X`` twice: once in the blocked accumulation of the
    gradient $\\tilde X^\\top d_1$ and Hessian
    $\\tilde X^\\top \\operatorname{diag}(d_2) \\tilde X$ (each block of
    rows is read once for both), and once in the product $X \\delta$
    that updates the linear predictor. The step solves
    $H \\delta = \\nabla$ by Cholesky; a step that would raise the loss
    is halved until it does not, which reuses $X\\delta$ and needs no
    further pass. No copy of ``X`` is made.

    This function is jitted and can be ``vmap``-ed (over ``sample_weight``,
    for instance); it trusts its input. Validate user data and get warnings
    through `lrbook.fit`.

    Parameters
    ----------
    X : array, shape (n, p)
    y : array, shape (n,)
    params : dict
        Starting point ``{"bias": shape (), "weights": shape (p,)}``.
    link : str, default "logit"
        A link name (static under ``jit``).
    penalty : float, default 0.0
    sample_weight : array, shape (n,), optional
    max_iter : int, default 50
    tol : float, optional
        Stop once no parameter moves by more than ``tol``. Defaults to 1e-10
        in float64 and 1e-5 in float32.
    chunk_rows : int, default 2048

    Returns
    -------
    FitResult
        ``loss_history`` holds the mean penalised loss $J$, padded with
        NaN to length ``max_iter + 1``; ``hessian`` is the Hessian of the
        summed objective from the last iteration, intercept first (NaN if
        no iteration ran).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from lrbook.losses import init_params
    >>> X = jnp.asarray([[0.0], [1.0], [2.0], [3.0]])
    >>> y = jnp.asarray([0.0, 1.0, 0.0, 1.0])
    >>> result = newton_glm(X, y, init_params(1))
    >>> bool(result.converged)
    True
    """
    link_fn = get_link(link)
    dtype = X.dtype
    if tol is None:
        tol = 1e-10 if dtype == jnp.float64 else 1e-5
    if sample_weight is None:
        total_weight = jnp.asarray(X.shape[0], dtype)
    else:
        total_weight = jnp.sum(sample_weight)

    def objective(eta, weights):
        return _objective(eta, y, weights, link_fn, penalty, sample_weight)

    eta = linear_predictor(params, X)
    history = jnp.full(max_iter + 1, jnp.nan, dtype).at[0].set(
        objective(eta, params["weights"])
    )

    def keep_going(state):
        k, _, _, step_size, _, _ = state
        return (k < max_iter) & ~(step_size <= tol)

    def step(state):
        k, params, eta, _, history, _ = state
        d1, d2 = _derivatives(eta, y, link_fn)
        if sample_weight is not None:
            d1, d2 = d1 * sample_weight, d2 * sample_weight
        grad, hess = _assemble(
            X, d1, d2, params["weights"], penalty, total_weight, chunk_rows
        )
        delta = cho_solve(cho_factor(hess), grad)
        delta_bias, delta_weights = delta[0], delta[1:]
        delta_eta = X @ delta_weights + delta_bias

        loss = history[k]
        # Near the optimum a full step changes the loss by less than its
        # rounding error; such a step must still be accepted, or Newton
        # would stall a few digits short of the maximum.
        slack = 64 * jnp.finfo(dtype).eps * jnp.abs(loss)

        def trial(t):
            return t, objective(
                eta - t * delta_eta, params["weights"] - t * delta_weights
            )

        def too_long(state):
            t, trial_loss = state
            # A NaN trial loss (a step outside the identity link's range, say)
            # also counts as too long.
            return ~(trial_loss <= loss + slack) & (t > 1e-10)

        t, loss = jax.lax.while_loop(
            too_long, lambda state: trial(state[0] / 2), trial(jnp.ones((), dtype))
        )
        params = {
            "bias": params["bias"] - t * delta_bias,
            "weights": params["weights"] - t * delta_weights,
        }
        eta = eta - t * delta_eta
        step_size = t * jnp.max(jnp.abs(delta))
        # A non-finite step (singular Hessian) ends the loop unconverged.
        step_size = jnp.where(jnp.isfinite(step_size), step_size, -1.0)
        return k + 1, params, eta, step_size, history.at[k + 1].set(loss), hess

    p = X.shape[1] + 1
    init = (
        0, params, eta, jnp.asarray(jnp.inf, dtype), history,
        jnp.full((p, p), jnp.nan, dtype),
    )
    k, params, eta, step_size, history, hess = jax.lax.while_loop(
        keep_going, step, init
    )
    converged = (step_size >= 0) & (step_size <= tol)

    d1, _ = _derivatives(eta, y, link_fn)
    if sample_weight is not None:
        d1 = d1 * sample_weight
    grad_weights = (d1 @ X) / total_weight + penalty * params["weights"]
    grad_norm = jnp.maximum(jnp.abs(jnp.sum(d1) / total_weight),
                            jnp.max(jnp.abs(grad_weights)))
    return FitResult(params, history, k, converged, grad_norm, hessian=hess)
