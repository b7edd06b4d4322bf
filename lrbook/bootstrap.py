"""The nonparametric bootstrap, many refits in one vectorised, jitted call.

A bootstrap replicate draws $n$ rows with replacement and refits the
model (Efron and Tibshirani, 1993). Refitting on duplicated rows is the same
as refitting on the original rows with frequency weights: the number of times
each row was drawn, a multinomial vector of counts $c$ with
$\\sum_i c_i = n$. So every replicate here is a weighted fit of one
fixed data set,

$$
\\hat\\theta^{*(b)} = \\arg\\min_\\theta \\sum_{i=1}^n c^{(b)}_i
    \\ell(\\eta_i(\\theta); y_i)
    + \\frac{\\lambda n}{2} \\lVert \\beta \\rVert^2,
$$

and ``jax.vmap`` runs a batch of them side by side. The spread of the
$\\hat\\theta^{*(b)}$ estimates the sampling spread of
$\\hat\\theta$.

Every replicate starts Newton's method at the full-data estimate, which lies
within a few standard errors of its own optimum, where full Newton steps
converge quadratically; so the loop takes full steps without a line search,
and its first step reuses the full-data derivatives. A replicate whose
Hessian stops being positive definite, or that has not converged within
``max_iter`` steps (a resample of nearly separated data may have no
maximum), is reported as not converged rather than stepped back.

Used in chapter 7 (inference with autodiff).
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass
from functools import cached_property

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from jax.scipy.linalg import cho_factor, cho_solve

from lrbook.links import get_link
from lrbook.losses import pointwise_negative_log_likelihood
from lrbook.optim import ConvergenceWarning
from lrbook.regression import fit
from lrbook.validation import check_data

__all__ = ["BootstrapResult", "bootstrap", "resample_counts"]

# Rows per block in the accumulation of each replicate's gradient and Hessian:
# a block of every replicate in a batch stays in cache between the linear
# predictor, the derivatives and the products with X.
BLOCK_ROWS = 4096


def resample_counts(key: jax.Array, n_samples: int) -> jax.Array:
    """How often each row is drawn in one bootstrap resample.

    Draws ``n_samples`` row indices with replacement and counts them, so the
    result is a multinomial vector with (nearly) equal cell probabilities.
    `bootstrap` gives replicate ``b`` the counts from
    ``jax.random.split(key, n_replicates)[b]``; chapter 7 uses them to show
    that a weighted fit is a fit to the duplicated rows.

    Parameters
    ----------
    key : jax.Array
        A PRNG key, from ``jax.random.key``.
    n_samples : int
        The number of rows, $n$, below $2^{31}$.

    Returns
    -------
    array of int32, shape (n_samples,)
        Non-negative counts that sum to ``n_samples``.

    Notes
    -----
    Each index is a random 32-bit integer modulo $n$, so a row is drawn
    with probability $1/n$ up to a relative error below
    $n / 2^{32}$ ($2 \\times 10^{-5}$ for 100,000 rows), far
    below the Monte Carlo error of any bootstrap. This takes half the time
    of ``jax.random.randint``, which spends a second 32-bit draw on removing
    that error, and drawing the counts is a large share of a bootstrap's
    cost.

    Examples
    --------
    >>> import jax
    >>> counts = resample_counts(jax.random.key(0), 5)
    >>> int(counts.sum())
    5
    """
    if not 0 < n_samples < 2**31:
        raise ValueError(
            f"n_samples must be between 1 and 2**31 - 1; got {n_samples}."
        )
    bits = jax.random.bits(key, (n_samples,), jnp.uint32)
    rows = (bits % jnp.uint32(n_samples)).astype(jnp.int32)
    return jnp.bincount(rows, length=n_samples)


@dataclass(frozen=True, eq=False)
class BootstrapResult:
    """The replicate fits of `bootstrap`, with their summaries.

    Standard errors and intervals use the converged replicates only.
    Chapter 7 compares them with the standard errors from the Hessian.

    Parameters
    ----------
    draws : numpy.ndarray, shape (n_replicates, p + 1)
        Each replicate's coefficients, intercept first.
    estimate : pandas.Series
        The fit to the full data, ``const`` first.
    converged : numpy.ndarray of bool, shape (n_replicates,)
    n_iter : numpy.ndarray of int, shape (n_replicates,)
        Newton iterations each replicate took, counting its first step.
    link : str, default "logit"
    penalty : float, default 0.0

    Examples
    --------
    >>> import jax, lrbook
    >>> X, y = lrbook.simulate(n=500, seed=1)
    >>> result = bootstrap(X, y, n_replicates=50, key=jax.random.key(0))
    >>> result.draws.shape
    (50, 3)
    """

    draws: np.ndarray
    estimate: pd.Series
    converged: np.ndarray
    n_iter: np.ndarray
    link: str = "logit"
    penalty: float = 0.0

    @property
    def n_replicates(self) -> int:
        """The number of replicates drawn, converged or not."""
        return int(self.draws.shape[0])

    @cached_property
    def frame(self) -> pd.DataFrame:
        """The converged draws as a DataFrame with one column per coefficient."""
        return pd.DataFrame(self.draws[self.converged], columns=self.estimate.index)

    @cached_property
    def standard_errors(self) -> pd.Series:
        """The standard deviation of the converged draws (divisor ``B - 1``)."""
        return self.frame.std(ddof=1).rename("std err")

    def percentile_intervals(self, alpha: float = 0.05) -> pd.DataFrame:
        """Percentile intervals: the ``alpha / 2`` and ``1 - alpha / 2``
        quantiles of the converged draws (chapter 7).

        Parameters
        ----------
        alpha : float, default 0.05
            One minus the confidence level.

        Returns
        -------
        pandas.DataFrame, shape (p + 1, 2)
            Columns ``[0.025`` and ``0.975]`` for ``alpha=0.05``.

        Examples
        --------
        >>> import jax, lrbook
        >>> X, y = lrbook.simulate(n=500, seed=1)
        >>> result = bootstrap(X, y, n_replicates=50, key=jax.random.key(0))
        >>> list(result.percentile_intervals().columns)
        ['[0.025', '0.975]']
        """
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be between 0 and 1; got {alpha!r}.")
        quantiles = self.frame.quantile([alpha / 2, 1 - alpha / 2]).T
        quantiles.columns = [f"[{alpha / 2:g}", f"{1 - alpha / 2:g}]"]
        return quantiles

    def summary(self, alpha: float = 0.05) -> pd.DataFrame:
        """The full-data coefficients with bootstrap standard errors and
        percentile intervals, as tabulated in chapter 7.

        Parameters
        ----------
        alpha : float, default 0.05
            One minus the confidence level of the intervals.

        Returns
        -------
        pandas.DataFrame, shape (p + 1, 4)
            Columns ``coef``, ``std err`` and the interval bounds.

        Examples
        --------
        >>> import jax, lrbook
        >>> X, y = lrbook.simulate(n=500, seed=1)
        >>> result = bootstrap(X, y, n_replicates=50, key=jax.random.key(0))
        >>> list(result.summary().columns)
        ['coef', 'std err', '[0.025', '0.975]']
        """
        table = pd.concat([self.estimate, self.standard_errors], axis=1)
        return pd.concat([table, self.percentile_intervals(alpha)], axis=1)


def _derivatives(eta, y, link):
    """First and second derivatives of each row's loss in eta."""
    if link.name == "logit":
        # The canonical link's derivatives are p - y and p(1 - p) exactly;
        # autodiff through log_sigmoid gives the same numbers at about ten
        # times the cost, and this is the inner loop of every replicate.
        p = jax.nn.sigmoid(eta)
        return p - y, p * (1 - p)

    def summed_loss(eta):
        return jnp.sum(pointwise_negative_log_likelihood(eta, y, link))

    # The loss is a sum of functions of one eta_i each, so its Hessian is
    # diagonal and one Hessian-vector product with ones returns it.
    return jax.jvp(jax.grad(summed_loss), (eta,), (jnp.ones_like(eta),))


def _block(array, index, rows):
    return jax.lax.dynamic_slice_in_dim(array, index * rows, rows)


@functools.partial(
    jax.jit,
    static_argnames=(
        "link", "n_replicates", "n_chunks", "chunk_size", "max_iter", "block_rows"
    ),
)
def _replicate_fits(
    key, X, y, theta0, penalty, tol, *, link, n_replicates, n_chunks, chunk_size,
    max_iter, block_rows,
):
    """Fit every replicate; returns draws, iterations and convergence flags.

    1. Split ``key`` into one key per replicate, padded to whole chunks.
    2. For each chunk (``lax.map``), draw the replicates' counts one after
       another, then fit them side by side (``vmap``).
    3. Each fit is Newton's method from ``theta0``; each step sums the
       count-weighted gradient and Hessian over blocks of ``block_rows`` rows.
    """
    link = get_link(link)
    n, p = X.shape
    n_blocks = -(-n // block_rows)
    # Padding rows get a count of zero, so they add nothing to any sum.
    padding = n_blocks * block_rows - n
    design = jnp.column_stack([jnp.ones(n, X.dtype), X])
    design = jnp.pad(design, ((0, padding), (0, 0)))
    y = jnp.pad(y, (0, padding))
    # The penalty (lambda n / 2) |beta|^2 spares the bias; counts sum to n.
    ridge = penalty * n * jnp.ones(p + 1, X.dtype).at[0].set(0.0)
    upper_rows, upper_cols = np.triu_indices(p + 1)

    def newton_step(theta, counts, derivatives):
        """One Newton step; `derivatives(b, X_b)` gives d1, d2 of block b."""

        def add_block(b, sums):
            X_b = _block(design, b, block_rows)
            c_b = _block(counts, b, block_rows).astype(X.dtype)
            d1, d2 = derivatives(b, X_b)
            # Entry (j, k) of the Hessian is sum_i d2_i x_ij x_ik: with one
            # column of products per entry of the upper triangle, a batch of
            # replicates gets all its entries from one matrix product.
            pairs = X_b[:, upper_rows] * X_b[:, upper_cols]
            grad, upper = sums
            return grad + X_b.T @ (c_b * d1), upper + pairs.T @ (c_b * d2)

        zeros = (jnp.zeros(p + 1, X.dtype), jnp.zeros(upper_rows.size, X.dtype))
        grad, upper = jax.lax.fori_loop(0, n_blocks, add_block, zeros)
        hess = jnp.zeros((p + 1, p + 1), X.dtype).at[upper_rows, upper_cols].set(upper)
        hess = hess + jnp.triu(hess, 1).T
        grad = grad + ridge * theta
        hess = hess + jnp.diag(ridge)
        # A Hessian that is not positive definite gives NaN: the loop stops.
        delta = cho_solve(cho_factor(hess), grad)
        step = jnp.max(jnp.abs(delta))
        return theta - delta, jnp.where(jnp.isfinite(step), step, -1.0)

    # Every replicate starts at the full-data estimate, so its first step can
    # reuse the full-data derivatives instead of evaluating new ones.
    d1_start, d2_start = _derivatives(design @ theta0, y, link)

    def at_start(b, X_b):
        return _block(d1_start, b, block_rows), _block(d2_start, b, block_rows)

    def fit_one(counts):
        theta, step = newton_step(theta0, counts, at_start)

        def keep_going(state):
            k, _, step = state
            return (k < max_iter) & (step > tol)

        def iterate(state):
            k, theta, _ = state

            def at_theta(b, X_b):
                return _derivatives(X_b @ theta, _block(y, b, block_rows), link)

            theta, step = newton_step(theta, counts, at_theta)
            return k + 1, theta, step

        k, theta, step = jax.lax.while_loop(keep_going, iterate, (1, theta, step))
        return theta, k, (step >= 0) & (step <= tol)

    def fit_chunk(chunk_keys):
        # Counts one replicate at a time: on CPU a batched scatter is much
        # slower than a sequence of plain ones.
        counts = jax.lax.map(lambda key: resample_counts(key, n), chunk_keys)
        return jax.vmap(fit_one)(jnp.pad(counts, ((0, 0), (0, padding))))

    # Pad to whole chunks with repeats of the first keys; those fits are
    # dropped at the end.
    keys = jax.random.split(key, n_replicates)
    keys = jnp.concatenate([keys, keys[: n_chunks * chunk_size - n_replicates]])
    draws, n_iter, converged = jax.lax.map(
        fit_chunk, keys.reshape(n_chunks, chunk_size)
    )
    keep = slice(0, n_replicates)
    return (draws.reshape(-1, p + 1)[keep], n_iter.reshape(-1)[keep],
            converged.reshape(-1)[keep])


def _check_count(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer; got {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}; got {value}.")
    return int(value)


def _check_key(key) -> jax.Array:
    typed = isinstance(key, jax.Array) and jax.dtypes.issubdtype(
        key.dtype, jax.dtypes.prng_key
    )
    if not typed or key.shape != ():
        raise TypeError(
            "key must be a single JAX PRNG key, such as jax.random.key(0); got "
            f"{type(key).__name__} {key!r}."
        )
    return key


def bootstrap(
    X,
    y,
    *,
    n_replicates: int = 1000,
    key: jax.Array,
    link: str = "logit",
    penalty: float = 0.0,
    max_iter: int = 20,
    tol: float | None = None,
    batch_size: int = 100,
) -> BootstrapResult:
    """Refit the model on ``n_replicates`` resamples of the rows.

    Each replicate draws its row counts with `resample_counts` and is
    fitted by Newton's method as a frequency-weighted fit of the original
    data, starting from the full-data estimate (which `lrbook.fit`
    computes first and checks for separation and collinearity). Replicates
    run ``batch_size`` at a time under ``jax.vmap``, the batches one after
    another under ``jax.lax.map``, all inside one ``jax.jit``-compiled call.
    Each replicate sums its gradient and Hessian over blocks of rows, so the
    memory needed beyond the data is about ``batch_size * n_samples``
    integer counts.

    Parameters
    ----------
    X : array-like or pandas.DataFrame, shape (n_samples, n_features)
    y : array-like or pandas.Series, shape (n_samples,)
        Outcomes coded 0/1.
    n_replicates : int, default 1000
        At least 2.
    key : jax.Array
        A PRNG key from ``jax.random.key``; replicate ``b`` uses
        ``jax.random.split(key, n_replicates)[b]``, so the draws do not
        depend on ``batch_size``.
    link : {"logit", "probit", "cloglog", "identity"}, default "logit"
    penalty : float, default 0.0
        Ridge strength $\\lambda$, as in `lrbook.fit`.
    max_iter : int, default 20
        Newton iterations per replicate.
    tol : float, optional
        A replicate has converged once no coefficient moves by more than
        ``tol``; default 1e-7 in float64 and 1e-5 in float32. Newton's
        error after a step of size $s$ is of order $s^2$, so
        the coefficients are then accurate to about 1e-14 in float64.
    batch_size : int, default 100
        Replicates fitted side by side.

    Returns
    -------
    BootstrapResult

    Raises
    ------
    TypeError, ValueError
        For invalid data or options, as `lrbook.fit` does, and for a
        ``key`` that is not a PRNG key.

    Notes
    -----
    Replicates that do not converge (on nearly separated data some
    resamples have no maximum likelihood estimate) are left out of the
    standard errors and intervals, with a
    `lrbook.ConvergenceWarning`.

    Chapter 7 runs 1,000 replicates on 100,000 rows and compares the
    standard errors with those from the Hessian.

    Examples
    --------
    >>> import jax, lrbook
    >>> X, y = lrbook.simulate(n=500, seed=1)
    >>> result = bootstrap(X, y, n_replicates=50, key=jax.random.key(0))
    >>> list(result.standard_errors.index)
    ['const', 'x1', 'x2']
    """
    key = _check_key(key)
    n_replicates = _check_count(n_replicates, "n_replicates", 2)
    max_iter = _check_count(max_iter, "max_iter", 1)
    batch_size = _check_count(batch_size, "batch_size", 1)
    if tol is not None and not (isinstance(tol, int | float) and tol > 0):
        raise ValueError(f"tol must be a positive number; got {tol!r}.")
    X_np, y_np, names, _ = check_data(X, y)
    full = fit(X_np, y_np, link=link, penalty=penalty)
    estimate = pd.Series(full.coef.to_numpy(), index=["const", *names], name="coef")

    dtype = jnp.result_type(float)
    if tol is None:
        tol = 1e-7 if dtype == jnp.float64 else 1e-5
    n_chunks = math.ceil(n_replicates / batch_size)
    chunk_size = math.ceil(n_replicates / n_chunks)
    draws, n_iter, converged = _replicate_fits(
        key,
        jnp.asarray(X_np, dtype),
        jnp.asarray(y_np, dtype),
        jnp.asarray(full.coef.to_numpy(), dtype),
        jnp.asarray(full.penalty, dtype),
        jnp.asarray(tol, dtype),
        link=full.link.name,
        n_replicates=n_replicates,
        n_chunks=n_chunks,
        chunk_size=chunk_size,
        max_iter=max_iter,
        block_rows=BLOCK_ROWS,
    )
    draws = np.asarray(draws, dtype=np.float64)
    converged, n_iter = np.asarray(converged), np.asarray(n_iter)

    failed = np.flatnonzero(~converged)
    if failed.size:
        shown = failed[:10].tolist()
        warnings.warn(
            f"{failed.size} of {n_replicates} bootstrap replicates did not "
            f"converge within max_iter={max_iter} Newton iterations (replicates "
            f"{shown}{' ...' if failed.size > 10 else ''}); they are left out "
            "of the standard errors and intervals. Raise max_iter; if the data "
            "are nearly separated, some resamples have no maximum likelihood "
            "estimate, and a ridge penalty (penalty > 0) helps.",
            ConvergenceWarning,
            stacklevel=2,
        )
    return BootstrapResult(
        draws=draws,
        estimate=estimate,
        converged=converged,
        n_iter=n_iter,
        link=full.link.name,
        penalty=full.penalty,
    )
