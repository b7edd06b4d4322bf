"""Data parallelism: the rows of a data set split across devices.

A `jax.sharding.Mesh` names the devices; a
`jax.sharding.NamedSharding` with ``PartitionSpec("rows")`` places
the first axis of each array across them, a contiguous block of rows per
device. The package's jitted losses and fitters then run unchanged: ``jit``
follows the input shardings, each device computes its share of every sum
over rows (the loss, $X^\\top d_1$, $X^\\top \\operatorname{diag}
(d_2) X$) and XLA adds the all-reduce that combines the shares. The
parameters, a few numbers, are replicated on every device.

The mesh axis is of type ``AxisType.Auto``, where the compiler decides how
intermediate results are sharded. The default in JAX 0.10, ``Explicit``,
makes shardings part of array types, and every contraction over a sharded
axis (such as ``X.T @ r``) would then need an ``out_sharding`` annotation
that single-device code does not carry.

Used in chapter 9 (scaling out).
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec

from lrbook.links import LINKS, get_link
from lrbook.optim import ConvergenceWarning, FitResult
from lrbook.regression import _run, _start
from lrbook.validation import check_data

__all__ = [
    "COLLECTIVES",
    "collective_ops",
    "fit_sharded",
    "make_mesh",
    "pad_rows",
    "shard_rows",
]

COLLECTIVES = (
    "all-reduce", "all-gather", "reduce-scatter", "all-to-all",
    "collective-permute",
)  # fmt: skip
"""The cross-device operations `collective_ops` counts."""

# An HLO instruction such as `all-reduce(` or its asynchronous form
# `all-reduce-start(` (GPU); `-done` halves are not counted twice.
_COLLECTIVE = re.compile(rf"\b({'|'.join(COLLECTIVES)})(?:-start)?\(")


def make_mesh(n_devices: int | None = None, axis_name: str = "rows") -> Mesh:
    """A one-dimensional device mesh for splitting rows.

    Used in chapter 9 (scaling out).

    Parameters
    ----------
    n_devices : int, optional
        How many of ``jax.devices()`` to use, the first ones; all by default.
    axis_name : str, default "rows"
        The name of the mesh axis, which `shard_rows` splits rows over.

    Returns
    -------
    jax.sharding.Mesh
        Shape ``(n_devices,)``, axis type ``AxisType.Auto``.

    Raises
    ------
    TypeError, ValueError
        If ``n_devices`` is not a positive integer no larger than the number
        of devices JAX sees, or ``axis_name`` is not a non-empty string.

    Notes
    -----
    On a CPU, JAX sees one device unless the environment variable
    ``XLA_FLAGS=--xla_force_host_platform_device_count=4`` is set before
    ``jax`` is first imported; the simulated devices share the CPU's cores.

    Examples
    --------
    >>> mesh = make_mesh(1)
    >>> dict(mesh.shape)
    {'rows': 1}
    """
    available = jax.devices()
    if n_devices is None:
        n_devices = len(available)
    if isinstance(n_devices, bool) or not isinstance(n_devices, int | np.integer):
        raise TypeError(f"n_devices must be an integer; got {n_devices!r}.")
    if not 1 <= n_devices <= len(available):
        raise ValueError(
            f"n_devices must be between 1 and the {len(available)} device(s) "
            f"JAX sees ({available[0].platform}); got {n_devices}. On a CPU, set "
            f"XLA_FLAGS=--xla_force_host_platform_device_count={max(n_devices, 1)}"
            " before importing jax to simulate more devices."
        )
    if not isinstance(axis_name, str) or not axis_name:
        raise TypeError(f"axis_name must be a non-empty string; got {axis_name!r}.")
    return jax.make_mesh(
        (int(n_devices),),
        (axis_name,),
        axis_types=(AxisType.Auto,),
        devices=available[: int(n_devices)],
    )


def _axis(mesh: Mesh, axis_name: str | None) -> str:
    if not isinstance(mesh, Mesh):
        raise TypeError(
            f"mesh must be a jax.sharding.Mesh; got {type(mesh).__name__}. "
            "Make one with lrbook.parallel.make_mesh()."
        )
    if axis_name is None:
        if len(mesh.axis_names) != 1:
            raise ValueError(
                f"the mesh has axes {mesh.axis_names}; pass axis_name to say "
                "which one the rows are split over."
            )
        return mesh.axis_names[0]
    if axis_name not in mesh.axis_names:
        raise ValueError(
            f"axis_name {axis_name!r} is not an axis of the mesh, whose axes are "
            f"{mesh.axis_names}."
        )
    return axis_name


def shard_rows(mesh: Mesh, *arrays, axis_name: str | None = None) -> tuple:
    """Place each array on the mesh with its rows split across the devices.

    Device $k$ of $K$ holds rows $kn/K$ to
    $(k + 1)n/K - 1$ of every array; further axes (the columns of
    ``X``) stay whole. The row count must be a multiple of $K$, so
    that every device holds the same number of rows; pad first with
    `pad_rows`, whose zero-weight rows leave a weighted loss unchanged
    (`fit_sharded` does this for you). Used in chapter 9.

    Parameters
    ----------
    mesh : jax.sharding.Mesh
        From `make_mesh`.
    *arrays : array-like, each of shape (n, ...), or None
        The same number of rows ``n`` in each. ``None`` (an absent
        ``sample_weight``, say) is passed through.
    axis_name : str, optional
        The mesh axis to split over; needed only for a mesh with several axes.

    Returns
    -------
    tuple of jax.Array
        One per input, with sharding ``NamedSharding(mesh, PartitionSpec(axis))``.

    Raises
    ------
    ValueError
        If no array is given, an array has no axes, the arrays differ in
        length, or the length is not a multiple of the number of devices.

    Examples
    --------
    >>> import numpy as np
    >>> (X,) = shard_rows(make_mesh(1), np.zeros((4, 2)))
    >>> X.sharding.spec
    P('rows',)
    """
    axis = _axis(mesh, axis_name)
    if not arrays:
        raise ValueError(
            "shard_rows needs at least one array, e.g. shard_rows(mesh, X)."
        )
    converted = [None if a is None else jnp.asarray(a) for a in arrays]
    lengths = {a.shape[0] if a.ndim else None for a in converted if a is not None}
    if None in lengths:
        raise ValueError(
            "every array must have a row axis; got a scalar. Pass scalars such "
            "as the penalty to the loss directly."
        )
    if len(lengths) > 1:
        raise ValueError(
            f"the arrays must have the same number of rows; got {sorted(lengths)}."
        )
    n_devices = mesh.shape[axis]
    n = lengths.pop() if lengths else 0
    if n % n_devices:
        raise ValueError(
            f"the number of rows, {n}, is not a multiple of the {n_devices} devices "
            f"on mesh axis {axis!r}. Pad with lrbook.parallel.pad_rows(..., "
            f"multiple={n_devices}) and pass its sample weights to the loss, or "
            f"drop {n % n_devices} row(s)."
        )
    sharding = NamedSharding(mesh, PartitionSpec(axis))
    return tuple(None if a is None else jax.device_put(a, sharding) for a in converted)


def pad_rows(*arrays, multiple: int) -> tuple:
    """Append zero rows until the row count is a multiple of ``multiple``.

    Used in chapter 9, for rows that the devices cannot share evenly.

    Parameters
    ----------
    *arrays : array-like, each of shape (n, ...), or None
        ``None`` is passed through.
    multiple : int
        Usually the number of devices.

    Returns
    -------
    tuple of numpy.ndarray
        The padded arrays, each with $m = \\lceil n / \\text{multiple}
        \\rceil \\cdot \\text{multiple}$ rows, followed by a sample weight of
        shape ``(m,)``: 1.0 for the original rows and 0.0 for the padding.
        With these weights a weighted mean loss,
        $\\sum_i w_i \\ell_i / \\sum_i w_i$, equals the loss of the
        unpadded data.

    Examples
    --------
    >>> import numpy as np
    >>> X, y, weight = pad_rows(np.ones((3, 2)), np.ones(3), multiple=4)
    >>> X.shape, weight.tolist()
    ((4, 2), [1.0, 1.0, 1.0, 0.0])
    """
    if isinstance(multiple, bool) or not isinstance(multiple, int | np.integer) \
            or multiple < 1:
        raise ValueError(f"multiple must be a positive integer; got {multiple!r}.")
    converted = [None if a is None else np.asarray(a) for a in arrays]
    lengths = {a.shape[0] for a in converted if a is not None and a.ndim}
    if len(lengths) != 1 or any(a is not None and a.ndim == 0 for a in converted):
        raise ValueError(
            "pad_rows needs one or more arrays with the same number of rows; got "
            f"shapes {[None if a is None else a.shape for a in converted]}."
        )
    n = lengths.pop()
    extra = -n % multiple
    padded = tuple(
        None if a is None
        else np.concatenate([a, np.zeros((extra, *a.shape[1:]), a.dtype)])
        for a in converted
    )
    weight = np.concatenate([np.ones(n), np.zeros(extra)])
    return (*padded, weight)


def fit_sharded(
    X,
    y,
    *,
    mesh: Mesh,
    method: str | optax.GradientTransformation = "newton",
    link: str = "logit",
    penalty: float = 0.0,
    sample_weight=None,
    max_iter: int | None = None,
    tol: float | None = None,
) -> FitResult:
    """Fit a binary regression with the rows split across a mesh's devices.

    The data are checked, cast to JAX's default float, padded with
    zero-weight rows to a multiple of the device count if needed
    (`pad_rows`), and placed with `shard_rows`. Then the
    package's own jitted fitter runs on them unchanged:

    - ``"newton"``: `lrbook.glm.newton_glm`, with its whole share of
      rows as one block per device (``chunk_rows = n``); the blocked default
      slices rows at positions only known at run time, which would make XLA
      gather all of ``X`` onto every device.
    - ``"lbfgs"``: `lrbook.optim.lbfgs` on
      `lrbook.losses.negative_log_likelihood`.
    - an ``optax.GradientTransformation``: full-batch
      `lrbook.optim.optax_minimize` with it.

    In exact arithmetic the result is that of the one-device fit; in
    floating point the sums over rows are added in another order, so the
    two agree to rounding error (about 1e-12 in float64). Used in chapter 9.

    Parameters
    ----------
    X : array-like, shape (n_samples, n_features)
    y : array-like, shape (n_samples,)
        Outcomes coded 0/1.
    mesh : jax.sharding.Mesh
        A one-axis mesh from `make_mesh`.
    method : {"newton", "lbfgs"} or optax.GradientTransformation
    link : {"logit", "probit", "cloglog", "identity"}, default "logit"
    penalty : float, default 0.0
        Ridge strength on the weights.
    sample_weight : array-like, shape (n_samples,), optional
    max_iter : int, optional
        Defaults: 50 (Newton), 200 (L-BFGS), 1,000 (optax).
    tol : float, optional
        Newton: largest parameter change; otherwise largest gradient entry.
        Defaults: 1e-10 (Newton, L-BFGS) or 1e-8 (optax) in float64, and
        1e-5 in float32.

    Returns
    -------
    FitResult
        ``params`` replicated on every device of the mesh; ``loss_history``
        trimmed to ``n_iter + 1`` entries.

    Raises
    ------
    TypeError, ValueError
        For invalid data (see `lrbook.validation.check_data`), an
        unknown method or link, or a mesh with more than one axis.

    Notes
    -----
    A fit that stops at ``max_iter`` warns with
    `lrbook.ConvergenceWarning`.

    Examples
    --------
    >>> from lrbook.data import simulate
    >>> X, y = simulate(n=1_000, seed=0)
    >>> result = fit_sharded(X, y, mesh=make_mesh(1))
    >>> bool(result.converged)
    True
    """
    _axis(mesh, None)
    is_optax = isinstance(method, optax.GradientTransformation)
    if not is_optax and method not in ("newton", "lbfgs"):
        raise ValueError(
            f"method must be 'newton', 'lbfgs' or an optax.GradientTransformation "
            f"such as optax.adam(0.1); got {method!r}."
        )
    if link not in LINKS:
        raise ValueError(f"unknown link {link!r}; the valid names are {sorted(LINKS)}.")
    X_np, y_np, _, w_np = check_data(X, y, sample_weight)

    dtype = jnp.result_type(float)
    n_devices = mesh.devices.size
    if X_np.shape[0] % n_devices:
        X_np, y_np, w_np, pad_weight = pad_rows(X_np, y_np, w_np, multiple=n_devices)
        w_np = pad_weight if w_np is None else w_np
    X_s, y_s, w_s = shard_rows(
        mesh,
        X_np.astype(dtype),
        y_np.astype(dtype),
        None if w_np is None else w_np.astype(dtype),
    )
    params = _start(get_link(link), y_s, X_np.shape[1], dtype, w_s)
    # One block of rows per device: blocks at run-time offsets would make XLA
    # gather all of X onto every device for the Hessian.
    result = _run(
        method, get_link(link), X_s, y_s, w_s, float(penalty), params,
        max_iter, tol, None, chunk_rows=X_s.shape[0],
    )
    if not bool(result.converged):
        name = method if isinstance(method, str) else "optax"
        warnings.warn(
            f"fit_sharded(method={name!r}) stopped at its iteration limit "
            f"(max_iter={int(result.n_iter)}) before converging. Raise "
            "max_iter, or look for separation or collinear columns.",
            ConvergenceWarning,
            stacklevel=2,
        )
    return result


def collective_ops(fn: Callable, *args: Any, **kwargs: Any) -> dict[str, int]:
    """Count the cross-device operations in a jitted function's compiled code.

    Compiles ``fn`` for the given arguments (with their shardings) and counts
    the collectives XLA inserted into the program it will run: ``all-reduce``
    (a sum over devices, as for $X^\\top r$), ``all-gather`` (a whole
    array copied onto every device), and so on. For a data-parallel fit the
    healthy result is a few all-reduces and no all-gather of ``X``. Used in
    chapter 9.

    Parameters
    ----------
    fn : jitted callable
        A function wrapped in ``jax.jit`` (it needs ``.lower``).
    *args : Any
        Its positional arguments, with the shardings they will have.
    **kwargs : Any
        Its keyword arguments, static ones included.

    Returns
    -------
    dict of str to int
        One entry per name in `COLLECTIVES`, in that order. Each
        instruction counts once, wherever it sits in the program (inside a
        loop it runs once per iteration).

    Examples
    --------
    >>> import jax, jax.numpy as jnp
    >>> collective_ops(jax.jit(jnp.sum), jnp.ones(4))["all-reduce"]
    0
    """
    if not hasattr(fn, "lower"):
        raise TypeError(
            f"fn must be jitted (have a .lower method); got {fn!r}. Wrap it with "
            "jax.jit first."
        )
    text = fn.lower(*args, **kwargs).compile().as_text()
    found = Counter(_COLLECTIVE.findall(text))
    return {name: found[name] for name in COLLECTIVES}
