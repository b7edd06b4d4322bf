"""Shared fixtures for the package's tests."""

import jax
import numpy as np
import pytest

import lrbook


@pytest.fixture
def x64():
    """Run a test in float64, then restore JAX's previous precision."""
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", previous)


@pytest.fixture(scope="session")
def standard_data():
    """The book's standard data set: 100,000 rows, two features."""
    return lrbook.simulate()


@pytest.fixture(scope="session")
def small_data():
    """A smaller draw of the same model, for fast tests."""
    return lrbook.simulate(n=2_000, seed=7)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
