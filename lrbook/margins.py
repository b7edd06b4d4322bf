"""Average marginal effects: what a coefficient means on the probability scale.

The average marginal effect (AME) of feature $j$ is the mean over rows
of the slope of the fitted probability in that feature,

$$
\\mathrm{AME}_j(\\theta) = \\frac{1}{n} \\sum_{i=1}^n
    \\frac{\\partial p_i}{\\partial x_{ij}}
= \\frac{1}{n} \\sum_{i=1}^n (g^{-1})'(\\eta_i) \\, \\beta_j .
$$

Here ``jax.grad`` of the mean fitted probability with respect to ``X``
supplies every $\\partial p_i / \\partial x_{ij} / n$ at once, and the
column sums of that gradient are the AMEs. Their standard errors come from the
delta method: with $J = \\partial\\,\\mathrm{AME} / \\partial\\theta$ from
``jax.jacobian``, $\\widehat{\\operatorname{Var}}(\\mathrm{AME}) =
J \\, \\widehat{\\operatorname{Var}}(\\hat\\theta) \\, J^\\top$. This is what
statsmodels reports as ``get_margeff(at="overall", method="dydx")``.

Used in chapters 7 (inference with autodiff) and 8 (a real data set).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from scipy import stats

from lrbook.inference import covariance
from lrbook.links import Link, get_link
from lrbook.losses import predict_proba
from lrbook.regression import BinaryRegressionResult
from lrbook.validation import check_data, check_features

__all__ = ["average_marginal_effects", "marginal_effects"]


def marginal_effects(params, X, link: str | Link = "logit") -> jax.Array:
    """The average marginal effects, by ``jax.grad`` of the mean probability.

    A pure JAX function of ``params``, so it can itself be differentiated
    (as `average_marginal_effects` does for the delta method), jitted
    or vmapped. Chapter 7 derives it and checks it against statsmodels.

    Parameters
    ----------
    params : dict
        ``{"bias": shape (), "weights": shape (p,)}``.
    X : array, shape (n, p)
        The rows to average over, usually the data the model was fitted on.
    link : str or Link, default "logit"

    Returns
    -------
    array, shape (p,)
        $\\frac{1}{n}\\sum_i \\partial p_i / \\partial x_{ij}$ for each
        feature $j$.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> params = {"bias": jnp.asarray(0.0), "weights": jnp.asarray([2.0])}
    >>> # At eta = 0 the logistic slope is 1/4, so the effect is 2/4.
    >>> marginal_effects(params, jnp.zeros((3, 1))).tolist()
    [0.5]
    """

    def mean_probability(X):
        return jnp.mean(predict_proba(params, X, link))

    # Row i of the gradient holds dp_i/dx_i divided by n; the column sums
    # are therefore the row means of the slopes.
    return jnp.sum(jax.grad(mean_probability)(X), axis=0)


@functools.partial(jax.jit, static_argnames=("link",))
def _effects_and_jacobian(theta, X, link):
    """The AMEs and their Jacobian in theta = (bias, weights)."""

    def effects(theta):
        params = {"bias": theta[0], "weights": theta[1:]}
        return marginal_effects(params, X, link)

    return effects(theta), jax.jacobian(effects)(theta)


def _flat(params) -> np.ndarray:
    try:
        bias, weights = params["bias"], params["weights"]
    except (KeyError, TypeError):
        raise TypeError(
            "params must be a dict {'bias': scalar, 'weights': array of shape "
            "(p,)} or a fitted BinaryRegressionResult; got "
            f"{type(params).__name__}."
        ) from None
    return np.concatenate(
        [np.atleast_1d(np.asarray(bias, np.float64)),
         np.ravel(np.asarray(weights, np.float64))]
    )


def average_marginal_effects(
    params,
    X,
    y=None,
    *,
    link: str | Link | None = None,
    cov=None,
    feature_names: list[str] | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Average marginal effects with delta-method standard errors.

    The effect of feature $j$ is the mean over the rows of ``X`` of
    $\\partial p_i / \\partial x_{ij}$ (see `marginal_effects`);
    its covariance is $J V J^\\top$, with $J$ the Jacobian of the
    effects in the coefficients (``jax.jacobian``) and $V$ the
    coefficients' covariance. Every feature is treated as continuous, as in
    statsmodels' ``get_margeff(at="overall", method="dydx")`` with its
    default ``dummy=False``. Chapters 7 and 8 report effects with it.

    Parameters
    ----------
    params : dict or BinaryRegressionResult
        ``{"bias": shape (), "weights": shape (p,)}``, or the result of
        `lrbook.fit`, which also supplies the link, the covariance
        and the feature names.
    X : array-like or pandas.DataFrame, shape (n_samples, n_features)
        The rows to average over.
    y : array-like, shape (n_samples,), optional
        The outcomes; needed only to compute the covariance (the inverse of
        the observed Hessian) when ``cov`` is not given and ``params`` is a
        dict.
    link : str or Link, optional
        Defaults to the result's link, or ``"logit"`` for a dict.
    cov : array-like, shape (p + 1, p + 1), optional
        The coefficients' covariance, intercept first.
    feature_names : list of str, optional
        Row labels; default the DataFrame's columns, the result's names or
        ``x1, ..., xp``.
    alpha : float, default 0.05
        One minus the confidence level of the intervals.

    Returns
    -------
    pandas.DataFrame, shape (p, 6)
        Columns ``dy/dx``, ``std err``, ``z``, ``P>|z|`` (two-sided) and the
        interval bounds (``[0.025`` and ``0.975]`` for ``alpha=0.05``).

    Raises
    ------
    ValueError
        If neither ``cov`` nor ``y`` is available, or if shapes disagree.

    Examples
    --------
    >>> import lrbook
    >>> X, y = lrbook.simulate(n=2_000, seed=0)
    >>> table = average_marginal_effects(lrbook.fit(X, y), X)
    >>> list(table.columns)
    ['dy/dx', 'std err', 'z', 'P>|z|', '[0.025', '0.975]']
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1; got {alpha!r}.")
    if isinstance(params, BinaryRegressionResult):
        result = params
        params = result.params
        link = result.link if link is None else link
        if cov is None:
            cov = result.covariance.to_numpy()
        if feature_names is None:
            feature_names = result.feature_names
    link = get_link("logit" if link is None else link)

    theta = _flat(params)
    if y is None:
        X_array, names = check_features(X)
    else:
        X_array, y_array, names, _ = check_data(X, y)
    if X_array.shape[1] != theta.size - 1:
        raise ValueError(
            f"X has {X_array.shape[1]} columns but params has "
            f"{theta.size - 1} weights; pass the features the model was "
            "fitted on."
        )
    feature_names = names if feature_names is None else list(feature_names)
    if len(feature_names) != X_array.shape[1]:
        raise ValueError(
            f"feature_names has {len(feature_names)} names for "
            f"{X_array.shape[1]} columns of X."
        )

    dtype = jnp.result_type(float)
    X_jax = jnp.asarray(X_array, dtype)
    theta_jax = jnp.asarray(theta, dtype)
    if cov is None:
        if y is None:
            raise ValueError(
                "the standard errors need the coefficients' covariance: pass "
                "cov=..., or y so that it can be computed from the Hessian, "
                "or pass the result of lrbook.fit as params."
            )
        params_jax = {"bias": theta_jax[0], "weights": theta_jax[1:]}
        cov = covariance(params_jax, X_jax, jnp.asarray(y_array, dtype), link)
    cov = np.asarray(cov, dtype=np.float64)
    if cov.shape != (theta.size, theta.size):
        raise ValueError(
            f"cov must have shape {(theta.size, theta.size)}, intercept first; "
            f"got {cov.shape}."
        )

    effects, jacobian = _effects_and_jacobian(theta_jax, X_jax, link)
    effects = np.asarray(effects, np.float64)
    jacobian = np.asarray(jacobian, np.float64)
    se = np.sqrt(np.diag(jacobian @ cov @ jacobian.T))
    z = effects / se
    critical = stats.norm.ppf(1 - alpha / 2)
    return pd.DataFrame(
        {
            "dy/dx": effects,
            "std err": se,
            "z": z,
            "P>|z|": 2 * stats.norm.sf(np.abs(z)),
            f"[{alpha / 2:g}": effects - critical * se,
            f"{1 - alpha / 2:g}]": effects + critical * se,
        },
        index=pd.Index(feature_names),
    )
