"""Link functions for binary regression.

A link function $g$ maps a probability $p \\in (0, 1)$ to the
linear predictor $\\eta = g(p)$; its inverse, the mean function, maps
$\\eta$ back to a probability.
Each `Link` here also carries the log probability of each outcome,
$\\log p$ and $\\log(1 - p)$, computed without forming $p$
first, so that the likelihood stays finite when $|\\eta|$ is large.

Used in chapters 1 (the link functions), 2 (the likelihood) and 7 (probit and
complementary log-log fits).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
from jax.scipy import special, stats

__all__ = ["LINKS", "Link", "get_link"]

# Below this eta, exp(eta) is so small that log(1 - exp(-exp(eta))) equals
# eta - exp(eta) / 2 to machine precision in both float32 and float64.
_CLOGLOG_SMALL_ETA = -15.0


@dataclass(frozen=True)
class Link:
    """A link function with its inverse and stable log probabilities.

    Used in chapters 1 (the link functions), 2 and 7.

    Parameters
    ----------
    name : str
        The name used by `get_link` and `lrbook.fit`.
    link : callable
        $g(p)$, from probabilities to the linear predictor.
    inverse : callable
        $g^{-1}(\\eta)$, from the linear predictor to probabilities.
    log_prob : callable
        Maps ``eta`` to the pair ``(log p, log(1 - p))``, each with the shape
        of ``eta``.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from lrbook.links import get_link
    >>> float(get_link("logit").inverse(jnp.asarray(0.0)))
    0.5
    """

    name: str
    link: Callable[[jax.Array], jax.Array]
    inverse: Callable[[jax.Array], jax.Array]
    log_prob: Callable[[jax.Array], tuple[jax.Array, jax.Array]]

    def __repr__(self) -> str:
        return f"Link({self.name!r})"


def _logit_log_prob(eta):
    # log_sigmoid stays finite where log(sigmoid(eta)) underflows to log(0).
    return jax.nn.log_sigmoid(eta), jax.nn.log_sigmoid(-eta)


def _probit_log_prob(eta):
    # log Phi(-eta) = log(1 - Phi(eta)); logcdf keeps the far tail accurate.
    return stats.norm.logcdf(eta), stats.norm.logcdf(-eta)


def _cloglog_inverse(eta):
    # p = 1 - exp(-exp(eta)); -expm1 keeps precision when exp(eta) is tiny.
    return -jnp.expm1(-jnp.exp(eta))


def _cloglog_link(p):
    return jnp.log(-jnp.log1p(-p))


def _cloglog_log_prob(eta):
    rate = jnp.exp(eta)
    log_one_minus_p = -rate

    # log(-expm1(-rate)) is exact for moderate rates but gives log(0) once
    # exp(eta) underflows; the series eta - rate / 2 takes over before that.
    # The double `where` keeps the gradient of the unused branch finite.
    small = eta < _CLOGLOG_SMALL_ETA
    safe_rate = jnp.where(small, 1.0, rate)
    log_p = jnp.where(small, eta - rate / 2, jnp.log(-jnp.expm1(-safe_rate)))
    return log_p, log_one_minus_p


def _identity_log_prob(eta):
    # Only defined for 0 < eta < 1; outside it the logs are NaN, which is the
    # honest answer for a linear probability model fitted by likelihood.
    return jnp.log(eta), jnp.log1p(-eta)


LINKS: dict[str, Link] = {
    "logit": Link("logit", special.logit, jax.nn.sigmoid, _logit_log_prob),
    "probit": Link("probit", stats.norm.ppf, stats.norm.cdf, _probit_log_prob),
    "cloglog": Link("cloglog", _cloglog_link, _cloglog_inverse, _cloglog_log_prob),
    "identity": Link("identity", lambda p: p, lambda eta: eta, _identity_log_prob),
}
"""The links known by name: logit, probit, cloglog (complementary log-log)
and identity (the linear probability model)."""


def get_link(link: str | Link) -> Link:
    """Look up a link by name.

    Used in chapters 1 and 7.

    Parameters
    ----------
    link : str or Link
        One of ``"logit"``, ``"probit"``, ``"cloglog"``, ``"identity"``, or
        a `Link`, which is returned unchanged.

    Returns
    -------
    Link

    Raises
    ------
    ValueError
        If the name is not one of the known links.
    TypeError
        If ``link`` is neither a string nor a `Link`.

    Examples
    --------
    >>> get_link("probit").name
    'probit'
    """
    if isinstance(link, Link):
        return link
    if not isinstance(link, str):
        raise TypeError(
            f"link must be a link name or a Link; got {type(link).__name__} "
            f"{link!r}. Pass one of {sorted(LINKS)}."
        )
    try:
        return LINKS[link]
    except KeyError:
        raise ValueError(
            f"unknown link {link!r}; the valid names are {sorted(LINKS)}."
        ) from None
