"""Standard errors, Wald tests and goodness of fit from the Hessian.

At the maximum likelihood estimate $\\hat\\theta = (\\hat\\beta_0,
\\hat\\beta)$, the inverse of the Hessian of the summed negative
log-likelihood estimates the covariance of $\\hat\\theta$:

$$
\\widehat{\\operatorname{Var}}(\\hat\\theta) = H(\\hat\\theta)^{-1}, \\qquad
H(\\theta) = \\nabla^2 \\Big[-\\sum_i \\log p(y_i \\mid x_i, \\theta)\\Big].
$$

The square roots of its diagonal are the standard errors; the Wald statistic
$z_j = \\hat\\theta_j / \\mathrm{se}_j$ is compared with the standard
normal for p-values and intervals. Vectors here are ordered as statsmodels
orders them: the intercept (``const``) first, then the weights.

Used in chapters 3 (statsmodels' table), 7 (inference with autodiff) and 8
(a real data set).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from jax.flatten_util import ravel_pytree
from scipy import stats

from lrbook.glm import gradient_and_hessian
from lrbook.links import Link
from lrbook.losses import linear_predictor, negative_log_likelihood
from lrbook.losses import pointwise_negative_log_likelihood as _pointwise

__all__ = [
    "TABLE_COLUMNS",
    "coefficient_table",
    "covariance",
    "hessian",
    "log_likelihood",
    "null_log_likelihood",
    "pseudo_r2",
    "standard_errors",
]

TABLE_COLUMNS = ["coef", "std err", "z", "P>|z|", "[0.025", "0.975]"]
"""The columns of statsmodels' coefficient table, which
`coefficient_table` reproduces (the interval labels follow ``alpha``)."""


def _total_weight(y, sample_weight):
    if sample_weight is None:
        return jnp.asarray(y.shape[0], dtype=jnp.result_type(y, float))
    return jnp.sum(sample_weight)


@functools.partial(jax.jit, static_argnames=("link",))
def hessian(
    params, X, y, link: str | Link = "logit", penalty: float = 0.0,
    sample_weight=None,
) -> jax.Array:
    """The Hessian of the summed negative log-likelihood, by ``jax.hessian``.

    Used in chapters 3 and 7 (inference with autodiff).

    This is the direct autodiff route: flatten the parameters, write the
    summed objective $N \\cdot J$ as a function of the flat vector and
    differentiate it twice. `covariance` gets the same matrix faster
    from the model's structure (`lrbook.glm.gradient_and_hessian`).

    Parameters
    ----------
    params : dict
        ``{"bias": shape (), "weights": shape (p,)}``.
    X : array, shape (n, p)
    y : array, shape (n,)
    link : str or Link, default "logit"
    penalty : float, default 0.0
    sample_weight : array, shape (n,), optional

    Returns
    -------
    array, shape (p + 1, p + 1)
        Intercept first.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from lrbook.losses import init_params
    >>> X, y = jnp.asarray([[1.0], [-1.0]]), jnp.asarray([1.0, 0.0])
    >>> hessian(init_params(1), X, y).tolist()
    [[0.5, 0.0], [0.0, 0.5]]
    """
    flat, unravel = ravel_pytree(params)
    total = _total_weight(y, sample_weight)

    def summed(flat):
        mean = negative_log_likelihood(
            unravel(flat), X, y, link, penalty, sample_weight
        )
        return total * mean

    return jax.hessian(summed)(flat)


def covariance(
    params, X, y, link: str | Link = "logit", penalty: float = 0.0,
    sample_weight=None, information: str = "observed",
) -> np.ndarray:
    """The estimated covariance matrix of the coefficients, $H^{-1}$.

    Used in chapter 7 (inference with autodiff).

    Parameters
    ----------
    params : dict
        The fitted ``{"bias": shape (), "weights": shape (p,)}``.
    X : array, shape (n, p)
    y : array, shape (n,)
    link : str or Link, default "logit"
    penalty : float, default 0.0
        With a ridge penalty the matrix is the inverse curvature of the
        penalised objective; see the warning below.
    sample_weight : array, shape (n,), optional
    information : {"observed", "expected"}, default "observed"
        The observed Hessian (what statsmodels' ``Logit`` and ``Probit``
        use) or the expected (Fisher) information (what statsmodels' ``GLM``
        reports after IRLS). They coincide for the logit link.

    Returns
    -------
    numpy.ndarray, shape (p + 1, p + 1)
        Intercept first.

    Warnings
    --------
    With ``penalty > 0`` this matrix is not the covariance of the penalised
    estimate. That is the sandwich $H_\\lambda^{-1} V H_\\lambda^{-1}$, with
    $V$ the variance of the unpenalised score, which is smaller than
    $H_\\lambda^{-1}$; and the estimate is biased towards zero, so intervals
    built from either are centred on the wrong value and do not have their
    nominal coverage. Use the bootstrap (`lrbook.bootstrap.bootstrap`) to
    see the penalised estimate's spread.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from lrbook.losses import init_params
    >>> X, y = jnp.asarray([[1.0], [-1.0]]), jnp.asarray([1.0, 0.0])
    >>> covariance(init_params(1), X, y).round(6).tolist()
    [[2.0, 0.0], [0.0, 2.0]]
    """
    if information not in ("observed", "expected"):
        raise ValueError(
            f"information must be 'observed' or 'expected'; got {information!r}."
        )
    _, matrix = gradient_and_hessian(
        params, X, y, link, penalty, sample_weight,
        expected=information == "expected",
    )
    return _inverse(matrix)


def _inverse(matrix) -> np.ndarray:
    """The inverse of a symmetric positive definite matrix, in float64."""
    # Solving against the identity through a Cholesky factor is more accurate
    # than a general inverse and fails loudly if H is not positive definite.
    from scipy.linalg import cho_factor, cho_solve

    matrix = np.asarray(matrix, dtype=np.float64)
    return cho_solve(cho_factor(matrix), np.eye(matrix.shape[0]))


def standard_errors(
    params, X, y, link: str | Link = "logit", penalty: float = 0.0,
    sample_weight=None, information: str = "observed",
) -> dict[str, np.ndarray]:
    """Standard errors of the coefficients, as a pytree shaped like ``params``.

    Used in chapter 7 (inference with autodiff).

    Parameters
    ----------
    params : dict
        The fitted ``{"bias": shape (), "weights": shape (p,)}``.
    X : array, shape (n, p)
    y : array, shape (n,)
    link : str or Link, default "logit"
    penalty : float, default 0.0
    sample_weight : array, shape (n,), optional
    information : {"observed", "expected"}, default "observed"
        As in `covariance`.

    Returns
    -------
    dict
        ``{"bias": float, "weights": numpy.ndarray of shape (p,)}``.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from lrbook.losses import init_params
    >>> X, y = jnp.asarray([[1.0], [-1.0]]), jnp.asarray([1.0, 0.0])
    >>> se = standard_errors(init_params(1), X, y)
    >>> round(float(se["bias"]), 4)
    1.4142
    """
    cov = covariance(params, X, y, link, penalty, sample_weight, information)
    se = np.sqrt(np.diag(cov))
    return {"bias": se[0], "weights": se[1:]}


def log_likelihood(
    params, X, y, link: str | Link = "logit", sample_weight=None
) -> float:
    """The summed Bernoulli log-likelihood $\\sum_i \\log p(y_i \\mid x_i)$.

    Used in chapters 3 and 7.

    Parameters
    ----------
    params : dict
    X : array, shape (n, p)
    y : array, shape (n,)
    link : str or Link, default "logit"
    sample_weight : array, shape (n,), optional

    Returns
    -------
    float

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from lrbook.losses import init_params
    >>> X, y = jnp.asarray([[1.0], [-1.0]]), jnp.asarray([1.0, 0.0])
    >>> round(log_likelihood(init_params(1), X, y), 4)
    -1.3863
    """
    return -float(_summed_loss(params, X, y, link, sample_weight))


@functools.partial(jax.jit, static_argnames=("link",))
def _summed_loss(params, X, y, link, sample_weight):
    losses = _pointwise(linear_predictor(params, X), y, link)
    if sample_weight is not None:
        losses = losses * sample_weight
    return jnp.sum(losses)


def null_log_likelihood(y, sample_weight=None) -> float:
    """The log-likelihood of the intercept-only model.

    Used in chapters 3 and 7.

    With $\\bar y$ the (weighted) share of ones, it is
    $N [\\bar y \\log \\bar y + (1 - \\bar y) \\log(1 - \\bar y)]$, the
    same for every link.

    Parameters
    ----------
    y : array, shape (n,)
    sample_weight : array, shape (n,), optional

    Returns
    -------
    float

    Examples
    --------
    >>> round(null_log_likelihood([0, 1, 1, 0]), 4)
    -2.7726
    """
    y = np.asarray(y, dtype=np.float64)
    weights = np.ones_like(y) if sample_weight is None else np.asarray(
        sample_weight, dtype=np.float64
    )
    total = weights.sum()
    mean = np.sum(weights * y) / total
    if mean in (0.0, 1.0):
        return 0.0
    return float(total * (mean * np.log(mean) + (1 - mean) * np.log1p(-mean)))


def pseudo_r2(log_likelihood: float, null_log_likelihood: float) -> float:
    """McFadden's pseudo $R^2 = 1 - \\ell(\\hat\\theta) / \\ell_0$.

    Used in chapters 3 and 7.

    Parameters
    ----------
    log_likelihood : float
        Of the fitted model.
    null_log_likelihood : float
        Of the intercept-only model.

    Returns
    -------
    float
        0 for a model no better than the intercept alone; it approaches 1
        only as the fitted probabilities approach the outcomes.

    Examples
    --------
    >>> pseudo_r2(-50.0, -100.0)
    0.5
    """
    if null_log_likelihood == 0:
        raise ValueError(
            "the null log-likelihood is 0 (y is constant), so McFadden's "
            "pseudo R^2 is undefined."
        )
    return 1.0 - log_likelihood / null_log_likelihood


def coefficient_table(
    params, cov: np.ndarray, feature_names: list[str] | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """A coefficient table with the columns of statsmodels' summary.

    Used in chapters 7 and 8.

    Parameters
    ----------
    params : dict
        ``{"bias": shape (), "weights": shape (p,)}``.
    cov : numpy.ndarray, shape (p + 1, p + 1)
        From `covariance`, intercept first.
    feature_names : list of str, optional
        Defaults to ``x1, ..., xp``, as statsmodels names array columns.
    alpha : float, default 0.05
        One minus the confidence level of the intervals.

    Returns
    -------
    pandas.DataFrame, shape (p + 1, 6)
        Index ``const`` then the feature names; columns ``coef``,
        ``std err``, ``z``, ``P>|z|`` (two-sided) and the interval bounds
        (``[0.025`` and ``0.975]`` for ``alpha=0.05``).

    Examples
    --------
    >>> import numpy as np
    >>> params = {"bias": np.asarray(0.0), "weights": np.asarray([1.96])}
    >>> table = coefficient_table(params, np.eye(2))
    >>> float(round(table.loc["x1", "P>|z|"], 3))
    0.05
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1; got {alpha!r}.")
    coef = np.concatenate(
        [np.atleast_1d(np.asarray(params["bias"], dtype=np.float64)),
         np.asarray(params["weights"], dtype=np.float64)]
    )
    cov = np.asarray(cov, dtype=np.float64)
    if cov.shape != (coef.size, coef.size):
        raise ValueError(
            f"cov must have shape {(coef.size, coef.size)} to match params; got "
            f"{cov.shape}."
        )
    if feature_names is None:
        feature_names = [f"x{j + 1}" for j in range(coef.size - 1)]

    se = np.sqrt(np.diag(cov))
    z = coef / se
    critical = stats.norm.ppf(1 - alpha / 2)
    lower_label = f"[{alpha / 2:g}"
    upper_label = f"{1 - alpha / 2:g}]"
    return pd.DataFrame(
        {
            "coef": coef,
            "std err": se,
            "z": z,
            "P>|z|": 2 * stats.norm.sf(np.abs(z)),
            lower_label: coef - critical * se,
            upper_label: coef + critical * se,
        },
        index=pd.Index(["const", *feature_names]),
    )
