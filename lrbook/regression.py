"""One front door: validate once, fit, check the answer, summarise.

Used from chapter 3 onwards wherever a chapter needs a fitted model rather
than the inside of a fitter.
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pandas as pd

from lrbook.diagnostics import (
    SeparationError,
    check_collinearity,
    find_separation,
    separation_message,
)
from lrbook.glm import (
    gradient_and_hessian,
    newton_glm,
    value_and_gradient,
)
from lrbook.inference import (
    _inverse,
    coefficient_table,
    log_likelihood,
    null_log_likelihood,
    pseudo_r2,
)
from lrbook.links import LINKS, Link, get_link
from lrbook.losses import linear_predictor
from lrbook.optim import ConvergenceWarning, FitResult, lbfgs, optax_minimize
from lrbook.validation import check_data, check_features

__all__ = ["METHODS", "BinaryRegressionResult", "fit"]

METHODS = ("newton", "lbfgs", "gradient_descent", "adam")
"""The fitting methods `fit` knows."""

# A fitted probability this close to 0 or 1 (or a fit that did not converge)
# prompts the exact, slower check for separation.
_EXTREME_PROBABILITY = 1e-9


@dataclass(frozen=True, eq=False)
class BinaryRegressionResult:
    """A fitted binary regression, as returned by `fit`.

    Used in chapters 1, 3, 5, 7 and 8.

    Attributes
    ----------
    params : dict
        ``{"bias": shape (), "weights": shape (p,)}``, as JAX arrays.
    link : Link
    method : str
    penalty : float
    feature_names : list of str
    n_iter : int
    converged : bool
    loss_history : numpy.ndarray, shape (n_iter + 1,)
        The mean penalised negative log-likelihood per iteration.
    hessian : numpy.ndarray, shape (p + 1, p + 1)
        Of the summed penalised negative log-likelihood at ``params``,
        intercept first.

    Notes
    -----
    Like statsmodels' results, the result keeps the data it was fitted on:
    the log-likelihood and pseudo $R^2$ are computed from them when first
    asked for. An aligned float64 ``X`` is shared, not copied, so change it
    in place only after reading those.

    Examples
    --------
    >>> from lrbook.data import simulate
    >>> result = fit(*simulate(n=2_000, seed=1))
    >>> result.coef.index.tolist(), result.converged
    (['const', 'x1', 'x2'], True)
    >>> result.standard_errors.shape
    (3,)
    """

    params: dict
    link: Link
    method: str
    penalty: float
    feature_names: list[str]
    n_iter: int
    converged: bool
    loss_history: np.ndarray
    hessian: np.ndarray = field(repr=False)
    _X: Any = field(repr=False)
    _y: Any = field(repr=False)
    _sample_weight: Any = field(repr=False)

    @property
    def n_obs(self) -> int:
        """The number of rows used in the fit."""
        return int(self._y.shape[0])

    @cached_property
    def coef(self) -> pd.Series:
        """The coefficients, ``const`` first, indexed by name."""
        values = np.concatenate(
            [np.atleast_1d(np.asarray(self.params["bias"])),
             np.asarray(self.params["weights"])]
        ).astype(np.float64)
        return pd.Series(values, index=["const", *self.feature_names], name="coef")

    @cached_property
    def covariance(self) -> pd.DataFrame:
        """The inverse of `hessian`, labelled."""
        labels = self.coef.index
        return pd.DataFrame(_inverse(self.hessian), index=labels, columns=labels)

    @cached_property
    def standard_errors(self) -> pd.Series:
        """Square roots of the diagonal of `covariance`."""
        return pd.Series(
            np.sqrt(np.diag(self.covariance)), index=self.coef.index, name="std err"
        )

    @cached_property
    def log_likelihood(self) -> float:
        """The summed log-likelihood at the fitted coefficients (no penalty)."""
        return log_likelihood(
            self.params, self._X, self._y, self.link, self._sample_weight
        )

    @cached_property
    def null_log_likelihood(self) -> float:
        """The log-likelihood of the intercept-only model."""
        weights = None if self._sample_weight is None else np.asarray(
            self._sample_weight
        )
        return null_log_likelihood(np.asarray(self._y), weights)

    @cached_property
    def pseudo_r2(self) -> float:
        """McFadden's pseudo R², ``1 - log_likelihood / null_log_likelihood``."""
        return pseudo_r2(self.log_likelihood, self.null_log_likelihood)

    def summary(self, alpha: float = 0.05) -> pd.DataFrame:
        """The coefficient table, with statsmodels' columns.

        Parameters
        ----------
        alpha : float, default 0.05
            One minus the confidence level of the intervals.

        Returns
        -------
        pandas.DataFrame
            Columns ``coef``, ``std err``, ``z``, ``P>|z|`` and the interval
            bounds; index ``const`` and the feature names.
        """
        return coefficient_table(
            self.params, self.covariance.to_numpy(), self.feature_names, alpha
        )

    def predict_proba(self, X) -> np.ndarray:
        """Fitted probabilities for new rows.

        Parameters
        ----------
        X : array-like or pandas.DataFrame, shape (m, p)

        Returns
        -------
        numpy.ndarray, shape (m,)
        """
        X_array, _ = check_features(X)
        if X_array.shape[1] != len(self.feature_names):
            raise ValueError(
                f"X has {X_array.shape[1]} columns but the model was fitted on "
                f"{len(self.feature_names)} ({self.feature_names})."
            )
        X_jax = jnp.asarray(X_array, dtype=self._X.dtype)
        return np.asarray(self.link.inverse(linear_predictor(self.params, X_jax)))


def _check_options(link, method, penalty, max_iter, tol, learning_rate):
    if not isinstance(method, str):
        raise TypeError(f"method must be a string; got {type(method).__name__}.")
    if method not in METHODS:
        raise ValueError(
            f"unknown method {method!r}; the valid names are {list(METHODS)}."
        )
    link = get_link(link)
    if link.name not in LINKS or LINKS[link.name] is not link:
        raise ValueError(
            f"fit needs one of the named links {sorted(LINKS)}; got {link!r}."
        )
    if isinstance(penalty, bool) or not isinstance(penalty, int | float) or not (
        math.isfinite(penalty) and penalty >= 0
    ):
        raise ValueError(
            f"penalty must be a finite number >= 0; got {penalty!r}. Use 0 for "
            "an unpenalised fit."
        )
    if max_iter is not None and (
        isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1
    ):
        raise ValueError(f"max_iter must be a positive integer; got {max_iter!r}.")
    if tol is not None and not tol > 0:
        raise ValueError(f"tol must be positive; got {tol!r}.")
    if learning_rate is not None and not learning_rate > 0:
        raise ValueError(f"learning_rate must be positive; got {learning_rate!r}.")
    return link


@functools.cache
def _glm_loss(link: str, chunk_rows: int | None = None):
    """The mean penalised loss ``loss(params, X, y, sample_weight, penalty)``.

    Its value is `lrbook.losses.negative_log_likelihood`; its derivative comes
    from `lrbook.glm.value_and_gradient`, which reads X once for both rather
    than twice as autodiff would. One function per (link, block size), so
    that the compiled loops in lrbook.optim, which key their cache on it,
    are reused across fits.
    """

    @jax.custom_vjp
    def loss(params, X, y, sample_weight, penalty):
        return value_and_gradient(
            params, X, y, link, penalty, sample_weight, chunk_rows
        )[0]

    def forward(params, X, y, sample_weight, penalty):
        value, grad = value_and_gradient(
            params, X, y, link, penalty, sample_weight, chunk_rows
        )
        return value, grad

    def backward(grad, cotangent):
        # Only the parameters are differentiated; the data get no cotangent.
        return jax.tree.map(lambda g: cotangent * g, grad), None, None, None, None

    loss.defvjp(forward, backward)
    return loss


def _probability_range(params, X: np.ndarray, link: Link) -> tuple[float, float]:
    """The smallest and largest fitted probability.

    Every inverse link is increasing, so the extremes of the probability sit
    at the extremes of the linear predictor; NumPy computes those without a
    compilation for each new shape of X.
    """
    weights = np.asarray(params["weights"], dtype=np.float64)
    eta = X @ weights + float(params["bias"])
    low, high = np.asarray(link.inverse(np.asarray([eta.min(), eta.max()])))
    return float(low), float(high)


# Learning rates are injected (traced), so a new rate reuses the compiled loop.
_FIRST_ORDER = {
    "gradient_descent": optax.inject_hyperparams(optax.sgd)(learning_rate=0.1),
    "adam": optax.inject_hyperparams(optax.adam)(learning_rate=0.1),
}


def _start(link: Link, y, p: int, dtype, sample_weight=None) -> dict:
    # Built in NumPy and transferred: jnp.zeros would compile a program for
    # each new number of features, a noticeable share of a small first fit.
    dtype = np.dtype(dtype)
    bias = np.zeros((), dtype)
    if link.name == "identity":
        # The identity link's likelihood is undefined at p = 0, where a zero
        # start would put every observation; start at the share of ones.
        weights = None if sample_weight is None else np.asarray(sample_weight)
        bias = np.asarray(np.average(np.asarray(y), weights=weights), dtype)
    return jax.device_put({"bias": bias, "weights": np.zeros(p, dtype)})


def _run(
    method, link, X, y, w, penalty, params, max_iter, tol, learning_rate,
    chunk_rows=None,
):
    """Dispatch to a fitter; also used by `lrbook.parallel.fit_sharded`.

    ``method`` is a name from `METHODS` or any optax transformation. The
    caller reports non-convergence.
    """
    double = X.dtype == jnp.float64
    if isinstance(method, str) and method == "newton":
        max_iter = max_iter or 50
        tol = tol or (1e-10 if double else 1e-5)
        result = newton_glm(
            X, y, params, link=link.name, penalty=penalty, sample_weight=w,
            max_iter=max_iter, tol=tol, chunk_rows=chunk_rows,
        )
        n_iter = int(result.n_iter)
        # Sliced in NumPy: slicing the JAX array compiles per length.
        history = np.asarray(result.loss_history)[: n_iter + 1]
        return result._replace(loss_history=history)

    loss = _glm_loss(link.name, chunk_rows)
    data = (X, y, w, penalty)
    with warnings.catch_warnings():
        # fit() reports non-convergence itself, with the method's name.
        warnings.simplefilter("ignore", ConvergenceWarning)
        if isinstance(method, str) and method == "lbfgs":
            return lbfgs(loss, params, data, max_iter=max_iter or 200, tol=tol)
        tol = tol or (1e-8 if double else 1e-5)
        if isinstance(method, str):
            optimizer = _FIRST_ORDER[method]
            hyperparams = {"learning_rate": learning_rate or 0.1}
        else:
            optimizer, hyperparams = method, None
        return optax_minimize(
            loss, params, data, optimizer, max_iter=max_iter or 10_000,
            tol=tol, hyperparams=hyperparams,
        )


def fit(
    X,
    y,
    *,
    link: str = "logit",
    method: str = "newton",
    penalty: float = 0.0,
    sample_weight=None,
    max_iter: int | None = None,
    tol: float | None = None,
    learning_rate: float | None = None,
) -> BinaryRegressionResult:
    """Fit a binary regression by maximum likelihood.

    Used in chapters 1, 3, 5, 7 and 8.

    Maximises the Bernoulli log-likelihood of $y_i \\in \\{0, 1\\}$ with
    $P(y_i = 1) = g^{-1}(\\beta_0 + x_i^\\top \\beta)$, minus an optional
    ridge term $\\tfrac{\\lambda}{2} n \\lVert\\beta\\rVert^2$; an
    intercept is always included. Data are checked once, here; after the fit,
    separation and collinear columns are detected and reported with an error.
    Computation follows JAX's precision: enable float64 with
    ``jax.config.update("jax_enable_x64", True)`` for results that agree with
    statsmodels to many digits.

    Parameters
    ----------
    X : array-like or pandas.DataFrame, shape (n_samples, n_features)
        Numeric features, without an intercept column. DataFrame column names
        label the summary.
    y : array-like or pandas.Series, shape (n_samples,)
        Outcomes coded 0/1 or as booleans.
    link : {"logit", "probit", "cloglog", "identity"}, default "logit"
    method : {"newton", "lbfgs", "gradient_descent", "adam"}, default "newton"
        Newton's method with the exact Hessian (`lrbook.glm.newton_glm`),
        optax's L-BFGS, or a first-order method with ``learning_rate``.
    penalty : float, default 0.0
        Ridge strength $\\lambda \\ge 0$ on the weights (not the bias).
    sample_weight : array-like, shape (n_samples,), optional
        Non-negative frequency weights.
    max_iter : int, optional
        Defaults: 50 (Newton), 200 (L-BFGS), 10,000 (first-order methods).
    tol : float, optional
        Newton: largest parameter change; other methods: largest gradient
        entry of the mean loss. Defaults depend on the precision.
    learning_rate : float, optional
        For ``gradient_descent`` and ``adam``; default 0.1.

    Returns
    -------
    BinaryRegressionResult

    Raises
    ------
    TypeError, ValueError
        For invalid data or options, with a message that names the problem.
    lrbook.diagnostics.SeparationError
        If the outcome is perfectly or quasi-perfectly separated (without a
        penalty), since no maximum likelihood estimate exists.
    lrbook.diagnostics.CollinearityError
        If columns are linearly dependent (without a penalty).

    Notes
    -----
    A fit that stops at ``max_iter`` warns with
    `lrbook.ConvergenceWarning`.

    Examples
    --------
    >>> from lrbook.data import simulate
    >>> X, y = simulate(n=1_000, seed=0)
    >>> result = fit(X, y)
    >>> list(result.summary().columns)
    ['coef', 'std err', 'z', 'P>|z|', '[0.025', '0.975]']
    """
    link = _check_options(link, method, penalty, max_iter, tol, learning_rate)
    X_np, y_np, names, w_np = check_data(X, y, sample_weight)

    dtype = jnp.result_type(float)
    # device_put shares X's memory when it is already aligned float64 (no
    # copy of a large X); otherwise it copies once, converting the dtype.
    X_jax = jax.device_put(X_np.astype(dtype, copy=False))
    y_jax = jax.device_put(y_np.astype(dtype, copy=False))
    w_jax = None if w_np is None else jax.device_put(w_np.astype(dtype, copy=False))
    params = _start(link, y_jax, X_np.shape[1], dtype, w_jax)

    result: FitResult = _run(
        method, link, X_jax, y_jax, w_jax, float(penalty), params,
        max_iter, tol, learning_rate,
    )
    params = result.params
    finite = all(np.isfinite(np.asarray(v)).all() for v in jax.tree.leaves(params))
    low, high = _probability_range(params, X_np, link)
    if result.hessian is None:
        _, hess = gradient_and_hessian(
            params, X_jax, y_jax, link.name, float(penalty), w_jax
        )
    else:
        # Newton's last Hessian was taken one step (shorter than tol) before
        # the final parameters; that is close enough for standard errors and
        # saves a pass over X and a compilation.
        hess = result.hessian
    hess = np.asarray(hess)

    if penalty == 0 and link.name != "identity":
        extreme = min(low, 1 - high) < _EXTREME_PROBABILITY
        if not finite or extreme or not bool(result.converged):
            direction = find_separation(X_np, y_np)
            if direction is not None:
                raise SeparationError(separation_message(direction, names))
    if link.name == "identity" and finite and (low <= 0 or high >= 1):
        raise ValueError(
            "the identity link's fitted probabilities leave (0, 1) "
            f"(range {low:.3g} to {high:.3g}), where its likelihood is "
            "undefined. Fit the linear probability model by least squares "
            "instead, or use the logit link."
        )
    if not np.isfinite(hess).all():
        # A singular Hessian makes Newton's step NaN, so the final Hessian is
        # useless; the one at the start shows the same linear dependence.
        start = _start(link, y_jax, X_np.shape[1], dtype, w_jax)
        _, at_start = gradient_and_hessian(
            start, X_jax, y_jax, link, float(penalty), w_jax
        )
        check_collinearity(np.asarray(at_start), names)
        raise FloatingPointError(
            f"fit(method={method!r}) diverged to non-finite coefficients. Scale "
            "the features (for example to unit variance) or use method='newton'."
        )
    if penalty == 0:
        check_collinearity(hess, names)

    converged = bool(result.converged)
    if not converged:
        warnings.warn(
            f"fit(method={method!r}) stopped at its iteration limit "
            f"({int(result.n_iter)} iterations) before converging; the largest "
            f"gradient entry is {float(result.grad_norm):.3g}. Raise max_iter, "
            "or use method='newton'.",
            ConvergenceWarning,
            stacklevel=2,
        )
    return BinaryRegressionResult(
        params=params,
        link=link,
        method=method,
        penalty=float(penalty),
        feature_names=names,
        n_iter=int(result.n_iter),
        converged=converged,
        loss_history=np.asarray(result.loss_history)[: int(result.n_iter) + 1],
        hessian=hess,
        _X=X_jax,
        _y=y_jax,
        _sample_weight=w_jax,
    )
