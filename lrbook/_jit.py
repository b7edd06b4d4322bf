"""``jax.jit`` with compiler options that shorten compilation on the CPU.

The book runs many small fits in fresh kernels, so compiling takes more of
its time than computing. XLA:CPU's older loop emitters compile the package's
programs (while loops over blocks of rows) in about 60% of the time of its
newer fusion emitters, and run them as fast; `jit` selects them. A jaxlib
that no longer knows the option gets JAX's defaults instead.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import jax

logger = logging.getLogger(__name__)

_FAST_COMPILE = {"xla_cpu_use_fusion_emitters": False}


@functools.cache
def compiler_options() -> dict[str, Any]:
    """The options `jit` passes to XLA: `_FAST_COMPILE` if accepted, else none."""
    try:
        jax.jit(lambda x: x + 1, compiler_options=_FAST_COMPILE).lower(1.0).compile()
    except jax.errors.JaxRuntimeError as error:
        logger.info("XLA rejected %s (%s); using its defaults.", _FAST_COMPILE, error)
        return {}
    return dict(_FAST_COMPILE)


class _LazyJit:
    """A function jitted on first use, once the backend can be asked."""

    def __init__(self, fun: Callable, jit_kwargs: dict[str, Any]):
        functools.update_wrapper(self, fun)
        self._fun = fun
        self._jit_kwargs = jit_kwargs

    @functools.cached_property
    def _jitted(self):
        return jax.jit(
            self._fun, compiler_options=compiler_options(), **self._jit_kwargs
        )

    @functools.cached_property
    def _nested(self):
        # JAX accepts compiler options only on the outermost jit.
        return jax.jit(self._fun, **self._jit_kwargs)

    def __call__(self, *args, **kwargs):
        leaves = jax.tree.leaves((args, kwargs))
        if any(isinstance(leaf, jax.core.Tracer) for leaf in leaves):
            return self._nested(*args, **kwargs)
        return self._jitted(*args, **kwargs)

    def lower(self, *args, **kwargs):
        """As ``jax.jit(fun).lower``."""
        return self._jitted.lower(*args, **kwargs)


def jit(fun: Callable | None = None, **jit_kwargs):
    """``jax.jit(fun, **jit_kwargs)`` with `compiler_options`.

    Usable as ``@jit`` or ``@functools.partial(jit, static_argnames=...)``.
    The backend is not touched until the first call, so importing lrbook
    leaves JAX's configuration (device counts, precision) open.
    """
    if fun is None:
        return functools.partial(jit, **jit_kwargs)
    return _LazyJit(fun, jit_kwargs)
