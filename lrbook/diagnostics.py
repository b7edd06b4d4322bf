"""Detecting data for which the maximum likelihood estimate does not exist.

Two pitfalls make a binary regression's MLE fail to exist or to be unique:

* **separation** (Albert and Anderson, 1984): some combination of the
  features splits the ones from the zeros, completely or up to ties, so the
  likelihood keeps rising as the coefficients run off to infinity;
* **collinear columns**: a column is a linear combination of the others (or
  of the intercept), so the Hessian is singular and the coefficients are not
  identified.

Both are reported with an exception naming the columns involved, never
returned as huge or NaN coefficients.

Used by `lrbook.fit`; chapter 7 shows both errors.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "CollinearityError",
    "SeparationError",
    "check_collinearity",
    "find_separation",
    "separation_message",
]


class SeparationError(ValueError):
    """The outcome is perfectly or quasi-perfectly separated by the features.

    Raised by `lrbook.fit` when no maximum likelihood estimate exists.
    Used in chapter 7, which shows when it is raised.
    """


class CollinearityError(ValueError):
    """Some columns of the design matrix are linearly dependent.

    Raised by `lrbook.fit` when coefficients are not identified.
    Used in chapter 7, which shows when it is raised.
    """


def _column_labels(feature_names: list[str]) -> list[str]:
    return ["const", *feature_names]


def find_separation(X: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """Look for a direction that separates the outcome, by linear programming.

    Used, through `lrbook.fit`, in chapter 7.

    The data are completely or quasi-completely separated exactly when some
    $b \\neq 0$ satisfies $s_i \\tilde x_i^\\top b \\ge 0$ for all
    $i$, with $s_i = 2 y_i - 1$ and at least one inequality
    strict (Albert and Anderson, 1984). We maximise
    $\\sum_i s_i \\tilde x_i^\\top b$ over such $b$ in the box
    $|b_j| \\le 1$ (Konis, 2007): a positive optimum means separation.

    Parameters
    ----------
    X : numpy.ndarray, shape (n, p)
    y : numpy.ndarray, shape (n,)
        Labels in {0, 1}.

    Returns
    -------
    numpy.ndarray, shape (p + 1,), or None
        A separating direction (intercept first) scaled to the columns'
        original units, or None when the data are not separated.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.asarray([[-2.0], [-1.0], [1.0], [2.0]])
    >>> find_separation(X, np.asarray([0, 0, 1, 1])) is not None
    True
    """
    from scipy.optimize import linprog

    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    design = np.column_stack([np.ones(len(y)), X])

    # Scaling each column to unit size keeps the LP well conditioned.
    scale = np.abs(design).max(axis=0)
    scale[scale == 0] = 1.0
    signed = (2 * y - 1)[:, None] * (design / scale)

    result = linprog(
        c=-signed.sum(axis=0),
        A_ub=-signed,
        b_ub=np.zeros(len(y)),
        bounds=[(-1, 1)] * design.shape[1],
        method="highs",
    )
    if result.status != 0:
        return None
    margins = signed @ result.x
    tolerance = 1e-9 * max(1.0, np.abs(signed).sum(axis=1).max())
    if -result.fun > 1e-7 * len(y) ** 0.5 and margins.min() >= -tolerance:
        return result.x / scale
    return None


def separation_message(direction: np.ndarray, feature_names: list[str]) -> str:
    """A readable description of a separating direction.

    Used, through `lrbook.fit`, in chapter 7.

    Parameters
    ----------
    direction : numpy.ndarray, shape (p + 1,)
        From `find_separation`, intercept first.
    feature_names : list of str, length p

    Returns
    -------
    str
        The error message `lrbook.fit` raises.

    Examples
    --------
    >>> import numpy as np
    >>> separation_message(np.asarray([0.0, 1.0]), ["x1"])[:30]
    'the outcome is (quasi-)complet'
    """
    labels = _column_labels(feature_names)
    big = np.abs(direction) > 1e-6 * np.abs(direction).max()
    terms = " + ".join(
        f"{value:.3g}*{label}"
        for value, label, keep in zip(direction, labels, big, strict=True)
        if keep
    )
    involved = [label for label, keep in zip(labels, big, strict=True) if keep]
    return (
        "the outcome is (quasi-)completely separated: the linear combination "
        f"{terms} is >= 0 for every y = 1 and <= 0 for every y = 0, so the "
        "likelihood keeps rising as the coefficients grow and no maximum "
        f"likelihood estimate exists. Columns involved: {involved}. Drop or "
        "merge the separating column(s), collect more data, or fit with a "
        "ridge penalty (penalty > 0)."
    )


def check_collinearity(
    hessian: np.ndarray, feature_names: list[str], rtol: float | None = None
) -> None:
    """Raise if the Hessian shows linearly dependent columns.

    Used, through `lrbook.fit`, in chapter 7.

    The Hessian of a binary regression is
    $\\tilde X^\\top W \\tilde X$ with positive weights, so it is
    singular exactly when $\\tilde X = [1, X]$ has dependent columns.
    We scale it to unit diagonal and compare its smallest eigenvalue with its
    largest; the eigenvector of the smallest names the columns involved.

    Parameters
    ----------
    hessian : numpy.ndarray, shape (p + 1, p + 1)
        Intercept first.
    feature_names : list of str, length p
    rtol : float, optional
        Smallest acceptable ratio of eigenvalues; defaults to 1000 times the
        machine epsilon of the Hessian's dtype.

    Raises
    ------
    CollinearityError
        With the columns whose combination is (nearly) constant.

    Examples
    --------
    >>> import numpy as np
    >>> check_collinearity(np.eye(3), ["x1", "x2"]) is None
    True
    """
    hessian = np.asarray(hessian)
    labels = _column_labels(feature_names)
    if rtol is None:
        rtol = 1000 * np.finfo(hessian.dtype).eps
    hessian = hessian.astype(np.float64)

    diagonal = np.diag(hessian)
    if not np.isfinite(hessian).all():
        raise CollinearityError(
            "the Hessian at the fitted coefficients is not finite; the fit "
            "diverged. Check the data for separation or extreme values."
        )
    zero = [label for label, d in zip(labels, diagonal, strict=True) if d <= 0]
    if zero:
        raise CollinearityError(
            f"columns {zero} carry no information (all zero, or zero weight): "
            "their coefficients are not identified. Drop them."
        )

    scale = 1 / np.sqrt(diagonal)
    eigenvalues, eigenvectors = np.linalg.eigh(hessian * np.outer(scale, scale))
    if eigenvalues[0] > rtol * eigenvalues[-1]:
        return None
    vector = eigenvectors[:, 0]
    involved = [
        label for label, v in zip(labels, vector, strict=True)
        if abs(v) > 0.1 * np.abs(vector).max()
    ]
    raise CollinearityError(
        f"columns {involved} are collinear (linearly dependent, or nearly so: "
        f"the scaled Hessian's condition number is "
        f"{eigenvalues[-1] / max(eigenvalues[0], 1e-300):.3g}), so their "
        "coefficients are not identified. Drop one of them, combine them, or "
        "fit with a ridge penalty (penalty > 0). A column that is constant is "
        "collinear with the intercept ('const')."
    )
