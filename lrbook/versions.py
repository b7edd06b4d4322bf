"""The software a chapter ran with, for its closing "session info" line.

Used in every chapter (the last cell) and in the preface.
"""

from __future__ import annotations

import platform
from collections import Counter
from importlib import metadata

__all__ = ["session_info", "versions"]

# Distribution names as importlib.metadata knows them, with the label shown.
_PACKAGES = {
    "JAX": "jax",
    "jaxlib": "jaxlib",
    "Flax": "flax",
    "optax": "optax",
    "NumPy": "numpy",
    "pandas": "pandas",
    "plotnine": "plotnine",
    "statsmodels": "statsmodels",
    "lrbook": "lrbook",
}

# The entries session_info shows, in order; versions() holds more.
_SHOWN = ("Python", "JAX", "Flax", "optax", "NumPy", "platform", "device")


def _describe_devices() -> str:
    import jax

    devices = jax.devices()
    kinds = Counter(device.device_kind for device in devices)
    backend = devices[0].platform
    parts = [
        # On CPU the kind is just "cpu" again, so give the count alone.
        f"{count} device{'s' * (count > 1)}" if kind == backend
        else f"{count} x {kind}"
        for kind, count in kinds.items()
    ]
    return f"{backend} ({', '.join(parts)})"


def versions() -> dict[str, str]:
    """Versions of Python, the book's libraries, the platform and the device.

    Used, through `session_info`, at the end of chapters 1 to 9.

    Package versions come from the installed distributions' metadata
    (``importlib.metadata``), so nothing beyond JAX is imported. The device
    entry names JAX's default backend and its devices; asking for it starts
    JAX's backends if they were not running yet, but changes no JAX setting.

    Returns
    -------
    dict of str to str
        Keys ``Python``, ``JAX``, ``jaxlib``, ``Flax``, ``optax``, ``NumPy``,
        ``pandas``, ``plotnine``, ``statsmodels``, ``lrbook``, ``platform``
        (e.g. ``Linux-x86_64``) and ``device`` (e.g. ``cpu (1 device)`` or
        ``gpu (1 x NVIDIA H100)``). A package that is not installed shows as
        ``not installed``.

    Examples
    --------
    >>> import jax
    >>> versions()["JAX"] == jax.__version__
    True
    """
    info = {"Python": platform.python_version()}
    for label, distribution in _PACKAGES.items():
        try:
            info[label] = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            info[label] = "not installed"
    info["platform"] = f"{platform.system()}-{platform.machine()}"
    info["device"] = _describe_devices()
    return info


def session_info() -> str:
    """One line naming Python, JAX, Flax, optax, NumPy, the platform and device.

    Used in the last cell of chapters 1 to 9.

    Returns
    -------
    str
        For example ``Python 3.11.7 · JAX 0.10.2 · Flax 0.12.8 · optax 0.2.8
        · NumPy 2.4.0 · Linux-x86_64 · device: cpu (1 device)``.

    Examples
    --------
    >>> session_info().startswith("Python ")
    True
    """
    info = versions()
    parts = []
    for key in _SHOWN:
        if key == "platform":
            parts.append(info[key])
        elif key == "device":
            parts.append(f"device: {info[key]}")
        else:
            parts.append(f"{key} {info[key]}")
    return " · ".join(parts)
