"""Tests for lrbook.versions: the session-info line at the end of a chapter."""

import platform
from importlib import metadata

import flax
import jax
import numpy as np

from lrbook.versions import session_info, versions


def test_versions_match_the_installed_packages():
    info = versions()
    assert info["JAX"] == jax.__version__
    assert info["Flax"] == flax.__version__
    assert info["NumPy"] == np.__version__
    assert info["optax"] == metadata.version("optax")
    assert info["Python"] == platform.python_version()
    assert info["platform"] == f"{platform.system()}-{platform.machine()}"
    assert info["device"].startswith(jax.devices()[0].platform + " (")


def test_session_info_is_one_line_naming_jax_and_the_platform():
    line = session_info()
    assert "\n" not in line
    assert line.startswith(f"Python {platform.python_version()} · ")
    assert f"JAX {jax.__version__}" in line
    assert f"Flax {flax.__version__}" in line
    assert platform.system() in line
    assert "device: " in line


def test_session_info_leaves_jax_configuration_alone():
    before = (jax.config.jax_enable_x64, jax.config.jax_default_matmul_precision,
              jax.config.jax_platforms)
    session_info()
    after = (jax.config.jax_enable_x64, jax.config.jax_default_matmul_precision,
             jax.config.jax_platforms)
    assert before == after
