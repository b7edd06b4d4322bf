"""The Bernoulli negative log-likelihood and the quantities around it.

Parameters are a pytree ``{"bias": scalar, "weights": array of shape (p,)}``,
so that every function here can be differentiated with ``jax.grad`` and
vectorised with ``jax.vmap``.
These functions trust their input: validate user data with
`lrbook.validation.check_data` first.

Used in chapters 2 (the likelihood) onwards.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from lrbook.links import Link, get_link

__all__ = [
    "init_params",
    "linear_predictor",
    "naive_negative_log_likelihood",
    "negative_log_likelihood",
    "pointwise_negative_log_likelihood",
    "predict_proba",
]

Params = dict[str, jax.Array]


def init_params(n_features: int, dtype=None) -> Params:
    """Zero weights and bias, the usual starting point of a convex fit.

    Used in chapters 3 and 5.

    Parameters
    ----------
    n_features : int
        The number of weights, $p$.
    dtype : dtype, optional
        Defaults to JAX's default float (float32, or float64 under x64).

    Returns
    -------
    dict
        ``{"bias": shape (), "weights": shape (n_features,)}``.

    Examples
    --------
    >>> init_params(2)["weights"].shape
    (2,)
    """
    dtype = dtype or jnp.result_type(float)
    return {"bias": jnp.zeros((), dtype), "weights": jnp.zeros(n_features, dtype)}


def linear_predictor(params: Params, X: jax.Array) -> jax.Array:
    """The linear predictor $\\eta_i = \\beta_0 + x_i^\\top \\beta$.

    Used in chapters 1, 2 and 3.

    Parameters
    ----------
    params : dict
        ``{"bias": shape (), "weights": shape (p,)}``.
    X : array, shape (n, p)

    Returns
    -------
    array, shape (n,)

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> params = {"bias": jnp.asarray(1.0), "weights": jnp.asarray([2.0])}
    >>> linear_predictor(params, jnp.asarray([[0.5]])).tolist()
    [2.0]
    """
    return X @ params["weights"] + params["bias"]


def predict_proba(params: Params, X: jax.Array, link: str | Link = "logit"):
    """Fitted probabilities $p_i = g^{-1}(\\eta_i)$.

    Used in chapters 2 and 6.

    Parameters
    ----------
    params : dict
        ``{"bias": shape (), "weights": shape (p,)}``.
    X : array, shape (n, p)
    link : str or Link, default "logit"

    Returns
    -------
    array, shape (n,)

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> params = {"bias": jnp.asarray(0.0), "weights": jnp.asarray([0.0])}
    >>> predict_proba(params, jnp.ones((1, 1))).tolist()
    [0.5]
    """
    return get_link(link).inverse(linear_predictor(params, X))


def pointwise_negative_log_likelihood(
    eta: jax.Array, y: jax.Array, link: str | Link = "logit"
) -> jax.Array:
    """Each observation's $-[y_i \\log p_i + (1 - y_i) \\log(1 - p_i)]$.

    Used in chapter 2 (the likelihood).

    Parameters
    ----------
    eta : array, shape (n,)
        The linear predictor.
    y : array, shape (n,)
        Labels in {0, 1}.
    link : str or Link, default "logit"

    Returns
    -------
    array, shape (n,)

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> out = pointwise_negative_log_likelihood(jnp.zeros(1), jnp.ones(1))
    >>> round(float(out[0]), 4)
    0.6931
    """
    log_p, log_one_minus_p = get_link(link).log_prob(eta)
    # Written as a sum of two products rather than a `where`, so that
    # fractional labels (averaged outcomes) give the binomial likelihood.
    return -(y * log_p + (1 - y) * log_one_minus_p)


def negative_log_likelihood(
    params: Params,
    X: jax.Array,
    y: jax.Array,
    link: str | Link = "logit",
    penalty: float = 0.0,
    sample_weight: jax.Array | None = None,
) -> jax.Array:
    """The mean Bernoulli negative log-likelihood, with an optional ridge term.

    Used in chapters 2 to 5 and 9.

    $$
    J(\\beta_0, \\beta) = -\\frac{1}{n} \\sum_{i=1}^n
    \\left[ y_i \\log p_i + (1 - y_i) \\log(1 - p_i) \\right]
    + \\frac{\\lambda}{2} \\lVert \\beta \\rVert^2,
    $$

    with $p_i = g^{-1}(\\beta_0 + x_i^\\top \\beta)$. For the logit
    link this is the binary cross-entropy of machine learning. The logs are
    computed from $\\eta$ directly (``Link.log_prob``), so the loss stays
    finite and accurate for large $|\\eta|$. The bias is not penalised.

    Parameters
    ----------
    params : dict
        ``{"bias": shape (), "weights": shape (p,)}``.
    X : array, shape (n, p)
    y : array, shape (n,)
        Labels in {0, 1}.
    link : str or Link, default "logit"
    penalty : float, default 0.0
        The ridge strength $\\lambda \\ge 0$.
    sample_weight : array, shape (n,), optional
        Frequency weights; the mean becomes a weighted mean.

    Returns
    -------
    scalar array

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> params = init_params(1)
    >>> X, y = jnp.asarray([[1.0], [-1.0]]), jnp.asarray([1.0, 0.0])
    >>> round(float(negative_log_likelihood(params, X, y)), 4)
    0.6931
    """
    eta = linear_predictor(params, X)
    losses = pointwise_negative_log_likelihood(eta, y, link)
    if sample_weight is None:
        mean = jnp.mean(losses)
    else:
        mean = jnp.sum(sample_weight * losses) / jnp.sum(sample_weight)
    return mean + 0.5 * penalty * jnp.sum(params["weights"] ** 2)


def naive_negative_log_likelihood(
    params: Params, X: jax.Array, y: jax.Array, epsilon: float = 1e-7
) -> jax.Array:
    """The textbook logistic loss, $\\log(p + \\epsilon)$, kept to show
    why it fails.

    Used in chapter 2, which shows where it breaks.

    It forms $p = \\sigma(\\eta)$ first and takes logs afterwards. Once
    $\\sigma(\\eta)$ rounds to exactly 0 or 1 (for $|\\eta|$
    above about 17 in float32 or 37 in float64), the loss of a misclassified
    point is capped at $-\\log \\epsilon$ and its gradient vanishes.
    Use `negative_log_likelihood` instead.

    Parameters
    ----------
    params : dict
        ``{"bias": shape (), "weights": shape (p,)}``.
    X : array, shape (n, p)
    y : array, shape (n,)
    epsilon : float, default 1e-7
        Added inside each log to avoid $\\log 0$.

    Returns
    -------
    scalar array

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> params = {"bias": jnp.asarray(40.0), "weights": jnp.zeros(1)}
    >>> X, y = jnp.zeros((1, 1)), jnp.zeros(1)
    >>> round(float(naive_negative_log_likelihood(params, X, y)), 2)
    16.12
    """
    p = jax.nn.sigmoid(linear_predictor(params, X))
    return -jnp.mean(y * jnp.log(p + epsilon) + (1 - y) * jnp.log(1 - p + epsilon))
