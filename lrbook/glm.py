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
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.scipy.linalg import cho_factor, cho_solve

from lrbook._jit import jit
from lrbook.links import get_link
from lrbook.losses import pointwise_negative_log_likelihood
from lrbook.optim import FitResult

__all__ = ["gradient_and_hessian", "newton_glm", "value_and_gradient"]

# Rows per block when accumulating X^T diag(d2) X: large enough for an
# efficient matrix product, small enough that the block stays in cache.
CHUNK_ROWS = 2048

# Data with at most this many entries (4 MiB in float64) are one block by
# default: they fit in cache anyway, and each block adds a loop iteration.
SINGLE_BLOCK_ENTRIES = 2**19

# Newton's early steps use a Hessian from every SAMPLE_EVERY-th block, when
# the data have at least SAMPLE_EVERY * MIN_SAMPLED_BLOCKS blocks, while the
# Newton decrement exceeds SAMPLE_WHILE times the summed loss.
SAMPLE_EVERY = 16
MIN_SAMPLED_BLOCKS = 8
SAMPLE_WHILE = 1e-5


def _row_terms(eta, y, link, expected=False, second=True):
    """Each row's loss and its first (and second) derivative in eta."""
    if link.name == "logit" and not expected:
        # The canonical link's loss is softplus(eta) - y eta, with derivatives
        # p - y and p (1 - p). XLA does not reduce the generic expressions to
        # these; written with one exp(-|eta|), which cannot overflow, they are
        # several times cheaper. Tests check that both routes agree.
        e = jnp.exp(-jnp.abs(eta))
        inverse = 1 / (1 + e)
        p = jnp.where(eta >= 0, inverse, e * inverse)
        loss = jnp.maximum(eta, 0) + jnp.log1p(e) - y * eta
        return loss, p - y, e * inverse**2 if second else None
    loss = pointwise_negative_log_likelihood(eta, y, link)
    return loss, *_derivatives(eta, y, link, expected, second)


def _derivatives(eta, y, link, expected=False, second=True):
    r"""First and second (None unless ``second``) derivatives of each
    observation's loss in eta.

    With ``expected=True`` the second derivative is replaced by its
    expectation over y, $(d\mu/d\eta)^2 / (\mu (1 - \mu))$: the
    Fisher scoring weight that statsmodels' IRLS uses. For the logit link the
    two coincide.
    """

    def loss(eta_i, y_i):
        return pointwise_negative_log_likelihood(eta_i, y_i, link)

    d1 = jax.vmap(jax.grad(loss))(eta, y)
    if not second:
        return d1, None
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


class _Sums(NamedTuple):
    """What one pass over the rows adds up, for the unpenalised summed loss."""

    loss: jax.Array  # sum of w_i l_i
    d1: jax.Array  # sum of w_i d1_i, the bias's gradient
    gradient: jax.Array  # (p,): X^T (w d1)
    d2: jax.Array | None  # sum of w_i d2_i
    column_sums: jax.Array | None  # (p,): X^T (w d2)
    gram: jax.Array | None  # (p, p): X^T diag(w d2) X


def _block_rows(shape: tuple[int, int], chunk_rows: int | None) -> int:
    """Rows per block: ``chunk_rows``, or by default `CHUNK_ROWS` or all."""
    n, p = shape
    if chunk_rows is None:
        chunk_rows = n if n * p <= SINGLE_BLOCK_ENTRIES else CHUNK_ROWS
    return max(1, min(chunk_rows, n))


def _pass(params, X, y, sample_weight, link, chunk_rows, expected=False,
          second=True) -> _Sums:
    """One read of ``X``: the loss, gradient and (optionally) Hessian sums.

    The rows are taken ``chunk_rows`` at a time. Each block's linear
    predictor, per-row derivatives and products with the block are formed
    while the block is in cache, so ``X`` is read once in all. Every block has
    the same shape, which keeps the compiled program small: the last block
    is moved back to end at row n, and the rows it shares with the block
    before count zero.
    """
    n, p = X.shape
    rows = _block_rows(X.shape, chunk_rows)
    n_blocks = -(-n // rows)
    dtype = X.dtype

    def block(b, sums):
        nominal = b * rows
        start = jnp.minimum(nominal, n - rows)
        X_b = jax.lax.dynamic_slice_in_dim(X, start, rows)
        y_b = jax.lax.dynamic_slice_in_dim(y, start, rows)
        eta = X_b @ params["weights"] + params["bias"]
        loss, d1, d2 = _row_terms(eta, y_b, link, expected, second)

        fresh = start + jnp.arange(rows) >= nominal
        if sample_weight is None:
            w = fresh.astype(dtype)
        else:
            w = jnp.where(
                fresh, jax.lax.dynamic_slice_in_dim(sample_weight, start, rows), 0
            )
        # `where`, not a product: a row outside the identity link's range has
        # an infinite loss, and 0 * inf would be NaN.
        loss = jnp.sum(jnp.where(w > 0, w * loss, 0))
        d1 = w * d1
        if not second:
            return _Sums(
                sums.loss + loss, sums.d1 + jnp.sum(d1),
                sums.gradient + d1 @ X_b, None, None, None,
            )

        d2 = w * d2
        # [d1; d2] @ X_b rather than X_b.T @ d: XLA runs this form several
        # times faster on the CPU.
        products = jnp.stack([d1, d2]) @ X_b
        return _Sums(
            sums.loss + loss,
            sums.d1 + jnp.sum(d1),
            sums.gradient + products[0],
            sums.d2 + jnp.sum(d2),
            sums.column_sums + products[1],
            sums.gram + (X_b * d2[:, None]).T @ X_b,
        )

    zero, zeros = jnp.zeros((), dtype), jnp.zeros(p, dtype)
    init = _Sums(zero, zero, zeros, None, None, None)
    if second:
        init = init._replace(d2=zero, column_sums=zeros, gram=jnp.zeros((p, p), dtype))
    return jax.lax.fori_loop(0, n_blocks, block, init)


def _sampled_hessian(params, X, y, sample_weight, link, chunk_rows, every):
    """The Hessian sums of `_pass` estimated from every ``every``-th block.

    Reads ``1 / every`` of ``X``, and scales the sums by the total weight over
    the weight of the blocks read; the loss and gradient sums are left zero.
    """
    n, p = X.shape
    rows = _block_rows(X.shape, chunk_rows)
    dtype = X.dtype

    def block(j, carry):
        sums, weight = carry
        start = j * every * rows
        X_b = jax.lax.dynamic_slice_in_dim(X, start, rows)
        y_b = jax.lax.dynamic_slice_in_dim(y, start, rows)
        eta = X_b @ params["weights"] + params["bias"]
        _, _, d2 = _row_terms(eta, y_b, link)
        if sample_weight is None:
            w = jnp.ones(rows, dtype)
        else:
            w = jax.lax.dynamic_slice_in_dim(sample_weight, start, rows)
        d2 = w * d2
        return sums._replace(
            d2=sums.d2 + jnp.sum(d2),
            column_sums=sums.column_sums + d2 @ X_b,
            gram=sums.gram + (X_b * d2[:, None]).T @ X_b,
        ), weight + jnp.sum(w)

    zero, zeros = jnp.zeros((), dtype), jnp.zeros(p, dtype)
    init = _Sums(zero, zero, zeros, zero, zeros, jnp.zeros((p, p), dtype))
    # Whole blocks only: the last, shifted block of `_pass` is never sampled.
    sums, weight = jax.lax.fori_loop(0, (n // rows) // every, block, (init, zero))
    # Zero weight in every sampled block makes the Hessian NaN, which
    # newton_glm answers with the exact one.
    scale = _total_weight(X, sample_weight) / weight
    return sums._replace(
        d2=scale * sums.d2,
        column_sums=scale * sums.column_sums,
        gram=scale * sums.gram,
    )


def _total_weight(X, sample_weight):
    if sample_weight is None:
        return jnp.asarray(X.shape[0], X.dtype)
    return jnp.sum(sample_weight)


def _penalised(sums: _Sums, weights, penalty, total_weight):
    """Mean penalised loss, and gradient and Hessian of the summed objective.

    Ordered bias first, then the weights; the Hessian is None when the pass
    did not form one.
    """
    loss = sums.loss / total_weight + 0.5 * penalty * jnp.sum(weights**2)
    grad = jnp.concatenate(
        [sums.d1[None], sums.gradient + penalty * total_weight * weights]
    )
    if sums.gram is None:
        return loss, grad, None

    p = weights.shape[0]
    ridge = penalty * total_weight * jnp.eye(p, dtype=weights.dtype)
    top = jnp.concatenate([sums.d2[None], sums.column_sums])
    lower = jnp.concatenate([sums.column_sums[:, None], sums.gram + ridge], axis=1)
    return loss, grad, jnp.concatenate([top[None, :], lower], axis=0)


@functools.partial(
    jit, static_argnames=("link", "chunk_rows", "expected")
)
def gradient_and_hessian(
    params, X, y, link="logit", penalty=0.0, sample_weight=None,
    chunk_rows: int | None = None, expected: bool = False,
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
    chunk_rows : int, optional
        Rows per block; see `newton_glm`.
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
    sums = _pass(params, X, y, sample_weight, link, chunk_rows, expected)
    total_weight = _total_weight(X, sample_weight)
    _, grad, hess = _penalised(sums, params["weights"], penalty, total_weight)
    return grad, hess


@functools.partial(jit, static_argnames=("link", "chunk_rows"))
def value_and_gradient(
    params, X, y, link="logit", penalty=0.0, sample_weight=None,
    chunk_rows: int | None = None,
):
    """The mean penalised negative log-likelihood and its gradient, in one
    read of ``X``.

    Used by `lrbook.fit` for its first-order methods and L-BFGS (chapter 5).

    Equal to ``jax.value_and_grad`` of
    `lrbook.losses.negative_log_likelihood`, but each block of rows is
    read once for the linear predictor and the gradient, and the gradient is
    formed as $d_1^\\top X$, which XLA runs faster on the CPU than the
    $X^\\top d_1$ that autodiff produces.

    Parameters
    ----------
    params : dict
        ``{"bias": shape (), "weights": shape (p,)}``.
    X : array, shape (n, p)
    y : array, shape (n,)
    link : str or Link, default "logit"
    penalty : float, default 0.0
    sample_weight : array, shape (n,), optional
    chunk_rows : int, optional
        Rows per block; see `newton_glm`.

    Returns
    -------
    loss : scalar array
    grad : dict
        Shaped like ``params``.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from lrbook.losses import init_params
    >>> X, y = jnp.asarray([[1.0], [-1.0]]), jnp.asarray([1.0, 0.0])
    >>> loss, grad = value_and_gradient(init_params(1), X, y)
    >>> round(float(loss), 4), grad["weights"].tolist()
    (0.6931, [-0.5])
    """
    link = get_link(link)
    sums = _pass(params, X, y, sample_weight, link, chunk_rows, second=False)
    total_weight = _total_weight(X, sample_weight)
    loss, grad, _ = _penalised(sums, params["weights"], penalty, total_weight)
    grad = grad / total_weight
    return loss, {"bias": grad[0], "weights": grad[1:]}


@functools.partial(jit, static_argnames=("link", "max_iter", "chunk_rows"))
def newton_glm(
    X, y, params, *, link="logit", penalty=0.0, sample_weight=None,
    max_iter: int = 50, tol=None, chunk_rows: int | None = None,
) -> FitResult:
    """Newton's method for a binary GLM, one pass over ``X`` per iteration.

    Used in chapters 5, 7 and 9 (through `lrbook.fit` and `fit_sharded`).

    One iteration reads ``X`` once. Each block of ``chunk_rows`` rows gives,
    while it is in cache, its linear predictor at the new parameters, its
    rows' losses and derivatives $d_1, d_2$, and its shares of the gradient
    $\\tilde X^\\top d_1$ and of the Hessian
    $\\tilde X^\\top \\operatorname{diag}(d_2) \\tilde X$; no weighted copy
    of ``X`` is formed, and no copy of ``X`` at all. The step solves
    $H \\delta = \\nabla$ by a Cholesky factorisation of the symmetric
    Hessian. If the new parameters do not lower the loss, the step is halved
    and that pass repeated (rare near a logistic regression's optimum).

    On data of at least ``16 * 8`` blocks, the first steps take the Hessian
    from every 16th block alone (a sixteenth of its cost, an extra read of a
    sixteenth of ``X``) while the Newton decrement
    $\\nabla^\\top H^{-1} \\nabla$ (twice the fall in the loss that the
    step predicts) exceeds $10^{-5}$ times the summed loss: far from the
    optimum a Hessian within a few percent moves the parameters almost as
    far. The gradient is always exact, and the last steps use the
    exact Hessian, so the answer and its Hessian are those of plain Newton.
    The loop stops when the next step would move no parameter by more than
    ``tol``; that last step is taken without another pass, so ``hessian``
    is the Hessian at a point within ``tol`` of the returned parameters.

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
        Stop once the Newton step moves no parameter by more than ``tol``.
        Defaults to 1e-10 in float64 and 1e-5 in float32.
    chunk_rows : int, optional
        Rows per block. By default all rows when ``X`` has at most 2**19
        entries, else 2048. One block of all rows (``chunk_rows >= n``)
        suits arrays sharded over devices (`lrbook.parallel.fit_sharded`).

    Returns
    -------
    FitResult
        ``loss_history`` holds the mean penalised loss $J$, padded with
        NaN to length ``max_iter + 1``; ``hessian`` is the Hessian of the
        summed objective at the last point evaluated, intercept first (NaN if
        no evaluation was finite), and ``grad_norm`` the largest entry of the
        mean objective's gradient there.

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
    total_weight = _total_weight(X, sample_weight)
    n_params = X.shape[1] + 1
    rows = _block_rows(X.shape, chunk_rows)
    # Far from the optimum the step need not be exact: a Hessian from every
    # SAMPLE_EVERY-th block costs a fraction of the full one and moves the
    # parameters almost as far. Only with enough blocks for a sound sample.
    can_sample = -(-X.shape[0] // rows) >= SAMPLE_EVERY * MIN_SAMPLED_BLOCKS

    def exact(params):
        return _pass(params, X, y, sample_weight, link_fn, chunk_rows)

    def sampled(params):
        sums = _pass(params, X, y, sample_weight, link_fn, chunk_rows, second=False)
        hessian_sums = _sampled_hessian(
            params, X, y, sample_weight, link_fn, chunk_rows, SAMPLE_EVERY
        )
        return hessian_sums._replace(
            loss=sums.loss, d1=sums.d1, gradient=sums.gradient
        )

    def evaluate(params, every):
        if can_sample:
            sums = jax.lax.cond(every > 1, sampled, exact, params)
        else:
            sums = exact(params)
        return _penalised(sums, params["weights"], penalty, total_weight)

    def keep_going(state):
        k, _, _, _, _, _, t, step_size, every, _ = state
        # step_size < 0 flags a non-finite Newton step (a singular Hessian);
        # t shrinks only while a step keeps failing to lower the loss. A
        # sampled Hessian never ends the loop: the last one must be exact.
        return (k < max_iter) & ((step_size > tol) | (every > 1)) & (t > 1e-10)

    def step(state):
        k, params, delta, loss, grad, hess, t, step_size, every, history = state
        candidate = jax.tree.map(lambda v, d: v - t * d, params, delta)
        new_loss, new_grad, new_hess = evaluate(candidate, every)

        # Near the optimum a full step changes the loss by less than its
        # rounding error; such a step must still be accepted, or Newton
        # would stall a few digits short of the maximum. A NaN loss (a step
        # outside the identity link's range, say) is not accepted.
        slack = 64 * jnp.finfo(dtype).eps * jnp.abs(loss)
        first = loss == jnp.inf
        accept = (new_loss <= loss + slack) | first

        def accepted(_):
            solution = cho_solve(cho_factor(new_hess), new_grad)
            new_delta = {"bias": solution[0], "weights": solution[1:]}
            finite = jnp.all(jnp.isfinite(solution))
            size = jnp.where(finite, jnp.max(jnp.abs(solution)), -1.0)
            # Half the Newton decrement g' H^-1 g predicts the fall in the
            # summed loss; once it is a small share of the loss, the steps
            # that remain need the exact Hessian's quadratic convergence.
            far = new_grad @ solution > SAMPLE_WHILE * new_loss * total_weight
            next_every = jnp.where(can_sample & far & finite, SAMPLE_EVERY, 1)
            # A sampled Hessian that is singular (a rare category missing
            # from the sample, say) is no verdict: evaluate here again, exactly.
            retry = ~finite & (every > 1)
            taken = jnp.where(first, 0, 1)
            return (
                k + taken,
                candidate,
                jax.tree.map(lambda d: jnp.where(retry, 0, d), new_delta),
                jnp.where(retry, jnp.inf, new_loss),
                new_grad,
                new_hess,
                jnp.ones((), dtype),
                jnp.where(retry, jnp.inf, size),
                next_every,
                history.at[k + taken].set(new_loss),
            )

        def rejected(_):
            return (
                k, params, delta, loss, grad, hess, t / 2, step_size, every, history
            )

        return jax.lax.cond(accept, accepted, rejected, None)

    init = (
        0,
        params,
        jax.tree.map(jnp.zeros_like, params),
        jnp.asarray(jnp.inf, dtype),
        jnp.full(n_params, jnp.nan, dtype),
        jnp.full((n_params, n_params), jnp.nan, dtype),
        jnp.ones((), dtype),
        jnp.asarray(jnp.inf, dtype),
        jnp.asarray(SAMPLE_EVERY if can_sample else 1),
        jnp.full(max_iter + 1, jnp.nan, dtype),
    )
    k, params, delta, loss, grad, hess, _, step_size, _, history = (
        jax.lax.while_loop(keep_going, step, init)
    )
    # The last Newton step is shorter than tol; it is taken without another
    # pass over X, so it must fit within max_iter like every other step.
    converged = (step_size >= 0) & (step_size <= tol) & (k < max_iter)
    params = jax.tree.map(lambda v, d: jnp.where(converged, v - d, v), params, delta)
    n_iter = k + converged
    # Its effect on the loss is below rounding: record the last loss again.
    history = jnp.where(
        converged & (jnp.arange(max_iter + 1) == n_iter), loss, history
    )
    grad_norm = jnp.max(jnp.abs(grad)) / total_weight
    return FitResult(params, history, n_iter, converged, grad_norm, hessian=hess)
