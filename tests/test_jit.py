import jax
import jax.numpy as jnp

from lrbook import _jit


def test_a_rejected_compiler_option_falls_back_to_the_defaults(monkeypatch):
    monkeypatch.setitem(_jit._FAST_COMPILE, "xla_no_such_option", True)
    _jit.compiler_options.cache_clear()
    try:
        assert _jit.compiler_options() == {}
    finally:
        monkeypatch.undo()
        _jit.compiler_options.cache_clear()
    assert _jit.compiler_options() == _jit._FAST_COMPILE


def test_jitted_functions_nest_inside_jit_and_vmap():
    @_jit.jit
    def double(x):
        return 2 * x

    assert float(double(jnp.asarray(1.5))) == 3.0
    assert float(jax.jit(lambda x: double(x) + 1)(jnp.asarray(1.0))) == 3.0
    assert jax.vmap(double)(jnp.arange(3.0)).tolist() == [0.0, 2.0, 4.0]
    assert "double" in double.lower(jnp.asarray(1.0)).as_text()
