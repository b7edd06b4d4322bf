import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import special, stats

from lrbook.links import LINKS, Link, get_link


def eta_grid():
    """A grid in the current default precision (float64 under the x64 fixture)."""
    return jnp.linspace(-6.0, 6.0, 25)


@pytest.mark.parametrize("name", ["logit", "probit", "cloglog"])
def test_link_inverts_its_inverse(name, x64):
    link = get_link(name)
    # Beyond eta = 2.5, p is so close to 1 that the round trip loses digits.
    eta = eta_grid()[:18]
    p = link.inverse(eta)
    np.testing.assert_allclose(link.link(p), eta, rtol=1e-9, atol=1e-9)


def test_identity_link_is_the_identity():
    link = get_link("identity")
    p = jnp.asarray([0.1, 0.5, 0.9])
    np.testing.assert_array_equal(link.inverse(p), p)
    np.testing.assert_array_equal(link.link(p), p)


def test_inverse_links_match_scipy(x64):
    eta = np.linspace(-5, 5, 11)
    np.testing.assert_allclose(LINKS["logit"].inverse(eta), special.expit(eta))
    np.testing.assert_allclose(LINKS["probit"].inverse(eta), stats.norm.cdf(eta))
    np.testing.assert_allclose(
        LINKS["cloglog"].inverse(eta), 1 - np.exp(-np.exp(eta)), rtol=1e-12
    )


def test_logit_uses_jax_nn_sigmoid():
    assert LINKS["logit"].inverse is jax.nn.sigmoid


@pytest.mark.parametrize("name", ["logit", "probit", "cloglog"])
def test_log_prob_matches_log_of_probability(name, x64):
    link = get_link(name)
    eta = eta_grid()[:18]  # up to eta = 2.5, where 1 - p is still representable
    log_p, log_q = link.log_prob(eta)
    p = link.inverse(eta)
    np.testing.assert_allclose(log_p, np.log(p), rtol=1e-10)
    np.testing.assert_allclose(log_q, np.log1p(-p), rtol=1e-7)


@pytest.mark.parametrize("name", ["logit", "probit", "cloglog"])
def test_log_prob_is_finite_far_in_the_tails(name):
    # In float32, p rounds to 0 or 1 long before these values of eta.
    eta = jnp.asarray([-200.0, -60.0, -20.0, 20.0, 60.0])
    eta = eta if name != "cloglog" else eta / 20  # exp(exp(60)) overflows
    log_p, log_q = get_link(name).log_prob(eta)
    assert bool(jnp.all(jnp.isfinite(log_p)))
    if name == "logit":
        assert bool(jnp.all(jnp.isfinite(log_q)))
        np.testing.assert_allclose(log_p[0], -200.0, rtol=1e-6)


def test_cloglog_log_prob_is_accurate_and_differentiable_for_small_eta(x64):
    eta = jnp.asarray([-40.0, -16.0, -14.0])
    log_p, _ = LINKS["cloglog"].log_prob(eta)
    # log(1 - exp(-exp(eta))) = eta - exp(eta)/2 + O(exp(2 eta))
    np.testing.assert_allclose(log_p, eta - jnp.exp(eta) / 2, rtol=1e-12)
    grad = jax.grad(lambda e: jnp.sum(LINKS["cloglog"].log_prob(e)[0]))(eta)
    assert bool(jnp.all(jnp.isfinite(grad)))
    np.testing.assert_allclose(grad, 1.0, atol=1e-5)


def test_get_link_returns_a_link_unchanged():
    link = LINKS["probit"]
    assert get_link(link) is link
    assert isinstance(get_link("logit"), Link)


def test_unknown_link_names_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown link 'logistic'.*cloglog"):
        get_link("logistic")


def test_link_of_wrong_type():
    with pytest.raises(TypeError, match="link must be a link name"):
        get_link(3)
