"""Checks on the data a user hands to lrbook, made once at the boundary.

Jitted code inside the package trusts its inputs; every public entry point
that takes user data calls `check_data` first, so a mistake is reported
in words that name the problem, echo the offending value and suggest the fix.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["check_data", "check_features", "check_labels"]

_MAX_SHOWN = 5


def _describe_positions(mask: np.ndarray) -> str:
    positions = np.argwhere(mask)[:_MAX_SHOWN]
    shown = ", ".join(str(tuple(int(i) for i in pos)) for pos in positions)
    more = " and more" if mask.sum() > _MAX_SHOWN else ""
    return f"{int(mask.sum())} value(s), at {shown}{more}"


def _as_numeric_array(values: Any, name: str) -> np.ndarray:
    if isinstance(values, pd.DataFrame):
        non_numeric = [
            column
            for column, dtype in values.dtypes.items()
            if not (pd.api.types.is_numeric_dtype(dtype)
                    or pd.api.types.is_bool_dtype(dtype))
        ]
        if non_numeric:
            raise TypeError(
                f"{name} must be numeric; columns {non_numeric} are not. "
                "Encode categorical columns as 0/1 indicators first "
                "(for example with pandas.get_dummies)."
            )
        values = values.to_numpy()
    elif isinstance(values, pd.Series):
        values = values.to_numpy()

    array = np.asarray(values)
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_
    ):
        raise TypeError(
            f"{name} must hold numbers; got an array of dtype {array.dtype}. "
            "Convert it with np.asarray(..., dtype=float) after encoding any "
            "text columns as numbers."
        )
    if np.iscomplexobj(array):
        raise TypeError(f"{name} must be real; got complex dtype {array.dtype}.")
    return array


def check_features(X: Any) -> tuple[np.ndarray, list[str]]:
    """Validate a feature matrix and return it with its column names.

    Used, through `lrbook.fit`, from chapter 3 on.

    Parameters
    ----------
    X : array-like or pandas.DataFrame, shape (n_samples, n_features)
        The features. Booleans and integers are accepted.

    Returns
    -------
    X : numpy.ndarray, shape (n_samples, n_features)
        The features as floating point numbers (float64).
    feature_names : list of str
        The DataFrame's column names, or ``x1, ..., xp`` for an array.

    Raises
    ------
    TypeError
        If ``X`` is not numeric.
    ValueError
        If ``X`` is not two-dimensional, has no rows or no columns, or holds
        NaN or infinite values.

    Examples
    --------
    >>> X, names = check_features([[0.5, 1.0], [1.5, 2.0]])
    >>> X.shape, names
    ((2, 2), ['x1', 'x2'])
    """
    if isinstance(X, pd.DataFrame):
        feature_names = [str(column) for column in X.columns]
    else:
        feature_names = None
    array = _as_numeric_array(X, "X")

    if array.ndim != 2:
        hint = (
            " Reshape a single feature with X.reshape(-1, 1)."
            if array.ndim == 1
            else ""
        )
        raise ValueError(
            f"X must be two-dimensional, (n_samples, n_features); got shape "
            f"{array.shape}.{hint}"
        )
    n, p = array.shape
    if n == 0:
        raise ValueError(f"X has no rows (shape {array.shape}); pass at least one "
                         "observation.")
    if p == 0:
        raise ValueError(f"X has no columns (shape {array.shape}); pass at least one "
                         "feature.")

    array = array.astype(np.float64, copy=False)
    # A finite sum proves every entry finite in one read of X, without a
    # mask the size of X. A sum can also overflow, so min and max decide when
    # it is not finite; the mask is built only to report the positions.
    with np.errstate(over="ignore", invalid="ignore"):
        total = array.sum()
    if not np.isfinite(total) and not (
        np.isfinite(array.min()) and np.isfinite(array.max())
    ):
        finite = np.isfinite(array)
        raise ValueError(
            f"X must be finite; found NaN or infinite {_describe_positions(~finite)}"
            " (row, column). Drop or impute those rows first."
        )

    if feature_names is None:
        feature_names = [f"x{j + 1}" for j in range(p)]
    return array, feature_names


def check_labels(y: Any) -> np.ndarray:
    """Validate binary labels.

    Used, through `lrbook.fit`, from chapter 3 on.

    Parameters
    ----------
    y : array-like or pandas.Series, shape (n_samples,)
        The outcome, coded 0/1 or as booleans.

    Returns
    -------
    numpy.ndarray, shape (n_samples,)
        The labels as float64 zeros and ones.

    Raises
    ------
    TypeError
        If ``y`` is not numeric or boolean.
    ValueError
        If ``y`` is not one-dimensional, is empty, holds NaN or infinite values,
        or holds values other than 0 and 1.

    Examples
    --------
    >>> check_labels([True, False, True])
    array([1., 0., 1.])
    """
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise ValueError(
                f"y must be one column; got a DataFrame with {y.shape[1]} "
                "columns. Pass the outcome column alone, e.g. df['y']."
            )
        y = y.iloc[:, 0]
    array = _as_numeric_array(y, "y")

    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(
            f"y must be one-dimensional, (n_samples,); got shape {array.shape}."
        )
    if array.shape[0] == 0:
        raise ValueError("y is empty; pass at least one observation.")

    array = array.astype(np.float64, copy=False)
    finite = np.isfinite(array)
    if not finite.all():
        raise ValueError(
            f"y must be finite; found NaN or infinite {_describe_positions(~finite)}."
            " Drop those rows first."
        )
    # Comparisons, not np.unique: sorting a million labels costs ten times more.
    other = (array != 0) & (array != 1)
    if other.any():
        labels = np.unique(array)
        shown = labels[:10].tolist()
        raise ValueError(
            f"y must contain only 0 and 1; found values {shown}"
            f"{' ...' if labels.size > 10 else ''}. Recode the outcome as 0/1."
        )
    return array


def check_data(
    X: Any, y: Any, sample_weight: Any = None
) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray | None]:
    """Validate features and labels together.

    Used, through `lrbook.fit`, from chapter 3 on.

    Parameters
    ----------
    X : array-like or pandas.DataFrame, shape (n_samples, n_features)
    y : array-like or pandas.Series, shape (n_samples,)
    sample_weight : array-like, shape (n_samples,), optional
        Non-negative frequency weights.

    Returns
    -------
    X : numpy.ndarray, shape (n_samples, n_features)
    y : numpy.ndarray, shape (n_samples,)
    feature_names : list of str
    sample_weight : numpy.ndarray, shape (n_samples,), or None

    Raises
    ------
    TypeError, ValueError
        As in `check_features` and `check_labels`, and when the
        lengths of ``X``, ``y`` and ``sample_weight`` differ.

    Examples
    --------
    >>> X, y, names, w = check_data([[1.0], [2.0]], [0, 1])
    >>> names, y
    (['x1'], array([0., 1.]))
    """
    X_array, feature_names = check_features(X)
    y_array = check_labels(y)
    if X_array.shape[0] != y_array.shape[0]:
        raise ValueError(
            f"X and y must have the same number of rows; X has "
            f"{X_array.shape[0]} and y has {y_array.shape[0]}."
        )

    weights = None
    if sample_weight is not None:
        weights = _as_numeric_array(sample_weight, "sample_weight")
        weights = weights.astype(np.float64, copy=False)
        if weights.shape != y_array.shape:
            raise ValueError(
                f"sample_weight must have shape {y_array.shape}, like y; got "
                f"{weights.shape}."
            )
        if not np.isfinite(weights).all() or (weights < 0).any():
            raise ValueError(
                "sample_weight must be finite and non-negative; found "
                f"{weights[~np.isfinite(weights) | (weights < 0)][:5].tolist()}."
            )
        if weights.sum() == 0:
            raise ValueError("sample_weight sums to zero; no observation counts.")
    return X_array, y_array, feature_names, weights
