"""The book's data: simulated sets and the real one it ships.

Simulation happens in NumPy with an explicit seed and in float64 whatever
JAX's precision, so the same seed gives the same arrays everywhere.

Used in every chapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special, stats

from lrbook.links import LINKS

__all__ = ["DATASETS", "load", "simulate", "simulate_nonlinear", "train_test_split"]

# NumPy versions of the inverse links, for drawing outcomes in float64.
_INVERSE_LINKS = {
    "logit": special.expit,
    "probit": stats.norm.cdf,
    "cloglog": lambda eta: -np.expm1(-np.exp(eta)),
    "identity": lambda eta: eta,
}

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
"""Where `load` looks for the CSV files (the repository's ``data/``)."""

DATASETS = {
    "anes96": {
        "file": "anes96.csv",
        "outcome": "vote",
        "description": (
            "1996 American National Election Study: 944 respondents' expected "
            "vote (1 = Dole, 0 = Clinton) with party identification, ideology, "
            "age, education, income and media use."
        ),
        "columns": [
            "popul", "TVnews", "selfLR", "ClinLR", "DoleLR", "PID", "age",
            "educ", "income", "vote", "logpopul",
        ],
    },
}
"""The real data sets `load` knows, with their outcome column."""


def _aligned_empty(shape: tuple[int, ...]) -> np.ndarray:
    """An uninitialised float64 array whose data start on a 64-byte boundary.

    XLA on the CPU can use such an array in place, so `lrbook.fit` does not
    copy a large simulated X on its way into JAX.
    """
    nbytes = int(np.prod(shape)) * 8
    buffer = np.empty(nbytes + 64, dtype=np.uint8)
    offset = -buffer.ctypes.data % 64
    return buffer[offset : offset + nbytes].view(np.float64).reshape(shape)


def _check_count(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer; got {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}; got {value}.")
    return int(value)


def simulate(
    n: int = 100_000,
    weights: Sequence[float] = (1.5, -0.8),
    bias: float = 0.3,
    link: str = "logit",
    seed: int = 42,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw the book's standard data set, or a variation of it.

    Used in every chapter but chapter 8.

    The features are independent standard normals, and each outcome is a
    Bernoulli draw:

    $$
    x_i \\sim N(0, I_p), \\qquad
    y_i \\sim \\operatorname{Bernoulli}\\big(g^{-1}(\\beta_0 + x_i^\\top
    \\beta)\\big).
    $$

    With the defaults (n = 100,000, $\\beta = (1.5, -0.8)$,
    $\\beta_0 = 0.3$, logit link, seed 42) this is the data set every
    chapter uses.

    Parameters
    ----------
    n : int, default 100_000
        Number of rows.
    weights : sequence of float, default (1.5, -0.8)
        True weights $\\beta$; their number sets the number of features.
    bias : float, default 0.3
        True intercept $\\beta_0$.
    link : {"logit", "probit", "cloglog", "identity"}, default "logit"
    seed : int, default 42
        Seed for ``numpy.random.default_rng``.

    Returns
    -------
    X : numpy.ndarray, shape (n, p), float64
    y : numpy.ndarray, shape (n,), int64
        Zeros and ones.

    Examples
    --------
    >>> X, y = simulate(n=5)
    >>> X.shape, y.dtype.name
    ((5, 2), 'int64')
    """
    n = _check_count(n, "n")
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim != 1 or weights.size == 0 or not np.isfinite(weights).all():
        raise ValueError(
            f"weights must be a non-empty sequence of finite numbers; got "
            f"{weights.tolist()}."
        )
    if not np.isfinite(bias):
        raise ValueError(f"bias must be finite; got {bias!r}.")
    if link not in LINKS:
        raise ValueError(f"unknown link {link!r}; the valid names are {sorted(LINKS)}.")

    rng = np.random.default_rng(seed)
    # Filling an aligned array draws the same numbers as size=(n, p) would.
    X = rng.standard_normal(out=_aligned_empty((n, weights.size)))
    probability = _INVERSE_LINKS[link](bias + X @ weights)
    if link == "identity" and (probability.min() < 0 or probability.max() > 1):
        raise ValueError(
            "with the identity link, bias + X @ weights must stay in [0, 1]; "
            f"it ranges from {probability.min():.3g} to {probability.max():.3g}. "
            "Use smaller weights or another link."
        )
    y = rng.binomial(1, probability)
    return X, y.astype(np.int64)


def simulate_nonlinear(
    n: int = 20_000, seed: int = 42
) -> tuple[np.ndarray, np.ndarray]:
    """Data whose log-odds are not linear in the features: a disc of ones.

    Used in chapter 6 (a small neural network).

    Two standard-normal features; the log-odds fall with the squared
    distance from the origin,

    $$
    \\operatorname{logit} P(y_i = 1) = 2 - 1.5\\,(x_{i1}^2 + x_{i2}^2),
    $$

    so ones are likely inside a circle of radius about 1.15 and rare outside
    it. No linear predictor in $x_1, x_2$ can describe this; a small
    neural network can. Used in chapter 6.

    Parameters
    ----------
    n : int, default 20_000
    seed : int, default 42

    Returns
    -------
    X : numpy.ndarray, shape (n, 2), float64
    y : numpy.ndarray, shape (n,), int64

    Examples
    --------
    >>> X, y = simulate_nonlinear(n=4)
    >>> X.shape
    (4, 2)
    """
    n = _check_count(n, "n")
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    eta = 2.0 - 1.5 * np.sum(X**2, axis=1)
    y = rng.binomial(1, special.expit(eta))
    return X, y.astype(np.int64)


def train_test_split(
    X, y, test_fraction: float = 0.25, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split rows at random into a training and a held-out set.

    Used in chapters 6 and 8.

    Parameters
    ----------
    X : array-like, shape (n, p)
    y : array-like, shape (n,)
    test_fraction : float, default 0.25
        Share of rows held out, strictly between 0 and 1.
    seed : int, default 0

    Returns
    -------
    X_train, X_test, y_train, y_test : numpy.ndarray

    Examples
    --------
    >>> X, y = simulate(n=8)
    >>> [a.shape[0] for a in train_test_split(X, y)]
    [6, 2, 6, 2]
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"X and y must have the same number of rows; got {X.shape[0]} and "
            f"{y.shape[0]}."
        )
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be between 0 and 1; got {test_fraction}.")
    n_test = round(test_fraction * X.shape[0])
    if n_test in (0, X.shape[0]):
        raise ValueError(
            f"test_fraction={test_fraction} of {X.shape[0]} rows leaves one side "
            "empty; use more rows or another fraction."
        )
    order = np.random.default_rng(seed).permutation(X.shape[0])
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]


def load(name: str) -> pd.DataFrame:
    """Load one of the real data sets in the repository's ``data/`` folder.

    Used in chapter 8 (a real data set).

    Parameters
    ----------
    name : str
        A key of `DATASETS`; ``"anes96"`` is the 1996 American National
        Election Study vote data (see ``data/README.md`` for its source,
        licence and columns). Used in chapter 8.

    Returns
    -------
    pandas.DataFrame
        The documented columns, in order.

    Raises
    ------
    ValueError
        For an unknown name.
    FileNotFoundError
        If the CSV file is missing (lrbook installed without the repository).

    Examples
    --------
    >>> df = load("anes96")
    >>> df.shape
    (944, 11)
    """
    if name not in DATASETS:
        raise ValueError(
            f"unknown data set {name!r}; the available ones are {sorted(DATASETS)}."
        )
    info = DATASETS[name]
    path = DATA_DIR / info["file"]
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing. load() reads the repository's data/ folder; "
            "install lrbook from a clone with `pip install -e .`."
        )
    frame = pd.read_csv(path)
    missing = [column for column in info["columns"] if column not in frame.columns]
    if missing:
        raise ValueError(f"{path} lacks the documented columns {missing}.")
    return frame[info["columns"]]
