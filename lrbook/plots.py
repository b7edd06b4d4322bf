"""The book's figures: one theme, one palette and the plots several chapters share.

Every helper returns a ``plotnine.ggplot`` with `theme_book` applied and
never draws or shows it; a chapter displays it by leaving it as the last
expression of a cell. Nothing here changes plotnine's global settings
(no ``theme_set``). plotnine is imported inside each function, so importing
`lrbook` stays quick.

Used in chapters 1 to 9.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from lrbook.validation import check_data, check_labels

if TYPE_CHECKING:
    import plotnine

__all__ = [
    "FIGURE_SIZE",
    "LINETYPES",
    "PALETTE",
    "calibration_table",
    "plot_calibration",
    "plot_distance_to_optimum",
    "plot_loss_curves",
    "plot_probability_surface",
    "scale_colour_book",
    "scale_linetype_book",
    "theme_book",
]

#: The Okabe–Ito colour-blind-safe palette in its published order, with black
#: moved to the end: orange, sky blue, bluish green, yellow, blue, vermillion,
#: reddish purple, black.
PALETTE: tuple[str, ...] = (
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
    "#000000",
)

#: Width and height in inches of a book figure.
FIGURE_SIZE: tuple[float, float] = (6.4, 4.0)

#: Line types in the order lines receive them; tuples are matplotlib dash
#: patterns ``(offset, (on, off, ...))`` in points.
LINETYPES: tuple = (
    "solid",
    "dashed",
    "dotted",
    "dashdot",
    (0, (8, 3)),
    (0, (1, 5)),
    (0, (6, 2, 1, 2, 1, 2)),
    (0, (12, 4)),
)

# The order in which lines take colours: the strongest contrasts on white
# first, and yellow, hard to see as a thin line, last.
_LINE_COLOURS = tuple(PALETTE[i] for i in (4, 5, 2, 0, 6, 1, 7, 3))
_CLASS_COLOURS = (PALETTE[4], PALETTE[5])  # blue for y = 0, vermillion for y = 1


def theme_book(base_size: float = 11) -> plotnine.theme:
    """The book's plotnine theme: minimal, legend below, figure size set.

    Used in the figures of chapters 1 to 9.

    Parameters
    ----------
    base_size : float, default 11
        Font size in points of axis titles; tick labels and legend text are
        90% of it and titles 120%.

    Returns
    -------
    plotnine.theme
        Add it to a plot (``p + theme_book()``); global settings stay as
        they were.

    Examples
    --------
    >>> import plotnine as p9
    >>> theme = theme_book()
    >>> isinstance(theme, p9.theme)
    True
    """
    import plotnine as p9

    if isinstance(base_size, bool) or not isinstance(base_size, int | float) \
            or not base_size > 0:
        raise ValueError(
            f"base_size must be a positive number of points; got {base_size!r}. "
            "The default is 11."
        )
    small = 0.9 * base_size
    return p9.theme_minimal(base_size=base_size) + p9.theme(
        figure_size=FIGURE_SIZE,
        legend_position="bottom",
        legend_title=p9.element_text(size=base_size),
        legend_text=p9.element_text(size=small),
        axis_title=p9.element_text(size=base_size),
        axis_text=p9.element_text(size=small, color="#333333"),
        plot_title=p9.element_text(size=1.2 * base_size),
        panel_grid_minor=p9.element_blank(),
    )


def scale_colour_book(**kwargs) -> plotnine.scale_color_manual:
    """A discrete colour scale from `PALETTE`.

    Used in chapters 1, 2, 3 and 9.

    Levels take blue, vermillion, bluish green, orange, reddish purple, sky
    blue, black and yellow in turn, so the first lines have the most contrast
    on a white background.

    Parameters
    ----------
    **kwargs : Any
        Passed on to ``plotnine.scale_colour_manual`` (e.g. ``name``).

    Examples
    --------
    >>> scale_colour_book(name="Optimiser").name
    'Optimiser'
    """
    import plotnine as p9

    return p9.scale_colour_manual(values=list(_LINE_COLOURS), **kwargs)


def scale_linetype_book(**kwargs) -> plotnine.scale_linetype_manual:
    """A discrete line-type scale from `LINETYPES`.

    Used in chapters 1, 3 and 9.

    Pair it with `scale_colour_book` on the same variable, so a line's
    meaning does not rest on colour alone.

    Parameters
    ----------
    **kwargs : Any
        Passed on to ``plotnine.scale_linetype_manual``.

    Examples
    --------
    >>> scale_linetype_book(name="Optimiser").name
    'Optimiser'
    """
    import plotnine as p9

    return p9.scale_linetype_manual(values=list(LINETYPES), **kwargs)


def _histories_frame(histories: Mapping[str, object]) -> pd.DataFrame:
    """Long data frame with columns name, iteration and value."""
    if not isinstance(histories, Mapping) or len(histories) == 0:
        raise TypeError(
            "histories must be a non-empty mapping from names to 1-D arrays; "
            f"got {type(histories).__name__} {histories!r:.60}. Pass e.g. "
            '{"Adam": result.loss_history}.'
        )
    if len(histories) > len(LINETYPES):
        raise ValueError(
            f"at most {len(LINETYPES)} histories can be told apart; got "
            f"{len(histories)}. Plot them in groups."
        )
    frames = []
    for name, values in histories.items():
        array = np.asarray(values, dtype=float)
        if array.ndim != 1:
            raise ValueError(
                f"history {name!r} must be one-dimensional; got shape "
                f"{array.shape}. Pass one loss per iteration."
            )
        frames.append(
            pd.DataFrame(
                {"name": str(name), "iteration": np.arange(array.size),
                 "value": array}
            )
        )
    frame = pd.concat(frames, ignore_index=True)
    names = [str(name) for name in histories]
    frame["name"] = pd.Categorical(frame["name"], categories=names)
    return frame


def _lines(frame: pd.DataFrame, legend_title: str | None, points: bool):
    import plotnine as p9

    mapping = p9.aes("iteration", "value", colour="name", linetype="name")
    plot = p9.ggplot(frame, mapping) + p9.geom_line(size=0.8)
    if points:
        plot = plot + p9.geom_point(p9.aes(shape="name"), size=1.2)
        plot = plot + p9.scale_shape_discrete(name=legend_title)
    plot = (
        plot
        + scale_colour_book(name=legend_title)
        + scale_linetype_book(name=legend_title)
        + theme_book()
    )
    if legend_title is None:
        # Without a title plotnine would print the column name, "name".
        plot = plot + p9.theme(legend_title=p9.element_blank())
    return plot


def plot_loss_curves(
    histories: Mapping[str, object],
    *,
    log_y: bool = False,
    xlabel: str = "Iteration",
    ylabel: str = "Mean negative log-likelihood",
    legend_title: str | None = None,
) -> plotnine.ggplot:
    """Loss against iteration, one line per named history.

    Used in chapters 3, 4 and 9.

    Lines differ in colour and in line type, and the legend names them.
    NaN and infinite entries (the padding of a history run under ``vmap``)
    are dropped.

    Parameters
    ----------
    histories : mapping of str to array-like, each of shape (n_iter_k + 1,)
        Losses per iteration, in the order the legend lists them.
    log_y : bool, default False
        Use a log10 loss axis; every loss must then be positive.
    xlabel, ylabel : str
        Axis titles.
    legend_title : str, optional
        Title above the legend; none by default.

    Returns
    -------
    plotnine.ggplot

    Examples
    --------
    >>> p = plot_loss_curves({"Gradient descent": [0.7, 0.5, 0.4],
    ...                       "Adam": [0.7, 0.45, 0.39]})
    >>> p.labels.y
    'Mean negative log-likelihood'
    """
    import plotnine as p9

    frame = _histories_frame(histories)
    frame = frame[np.isfinite(frame["value"])]
    if log_y and (frame["value"] <= 0).any():
        bad = float(frame.loc[frame["value"] <= 0, "value"].iloc[0])
        raise ValueError(
            f"log_y=True needs positive losses; found {bad!r}. Use log_y=False "
            "or plot_distance_to_optimum."
        )
    plot = _lines(frame, legend_title, points=False) + p9.labs(x=xlabel, y=ylabel)
    return plot + p9.scale_y_log10() if log_y else plot


def plot_distance_to_optimum(
    histories: Mapping[str, object],
    optimum_loss: float,
    *,
    xlabel: str = "Iteration",
    ylabel: str = "Loss above the minimum (log scale)",
    legend_title: str | None = None,
) -> plotnine.ggplot:
    """How far each history's loss is above the optimum, on a log10 scale.

    Used in chapter 5 (L-BFGS and Newton).

    Plots $J(\\theta_k) - J^\\star$ against the iteration $k$.
    On this scale linear convergence is a straight line and Newton's
    quadratic convergence a line that bends down ever more steeply.
    Values that are zero or negative (the optimum reached to machine
    precision, or passed by rounding) and NaN entries are dropped, so a line
    ends where its optimiser met the optimum.

    Parameters
    ----------
    histories : mapping of str to array-like, each of shape (n_iter_k + 1,)
    optimum_loss : float
        The minimum $J^\\star$, e.g. from a float64 Newton fit.
    xlabel, ylabel : str
    legend_title : str, optional

    Returns
    -------
    plotnine.ggplot
        Lines with points, differing in colour, line type and point shape.

    Examples
    --------
    >>> p = plot_distance_to_optimum({"Newton": [0.7, 0.41, 0.4, 0.4]}, 0.4)
    >>> p.data["value"].round(6).tolist()
    [0.3, 0.01]
    """
    import plotnine as p9

    optimum = float(optimum_loss)
    if not np.isfinite(optimum):
        raise ValueError(
            f"optimum_loss must be finite; got {optimum_loss!r}. Pass the loss "
            "at the reference fit."
        )
    frame = _histories_frame(histories)
    frame["value"] = frame["value"] - optimum
    frame = frame[frame["value"] > 0]
    if frame.empty:
        raise ValueError(
            f"no loss lies above optimum_loss={optimum!r}, so nothing is left to "
            "plot on a log scale. Check that optimum_loss is the minimum."
        )
    return (
        _lines(frame, legend_title, points=True)
        + p9.scale_y_log10()
        + p9.labs(x=xlabel, y=ylabel)
    )


def plot_probability_surface(
    predict: Callable[[np.ndarray], np.ndarray],
    X,
    y,
    *,
    grid_size: int = 100,
    title: str | None = None,
    n_points: int = 2000,
    seed: int = 0,
    xlabel: str = "First feature",
    ylabel: str = "Second feature",
) -> plotnine.ggplot:
    """Predicted $P(y = 1 \\mid x)$ over the plane of two features.

    Used in chapter 6 (a small neural network).

    The background is a raster of ``predict`` on a ``grid_size`` by
    ``grid_size`` grid spanning the data (5% margin), shaded from blue
    ($P$ near 0) through white (0.5) to vermillion (near 1). A solid
    black line traces the 0.5 contour, the decision boundary, computed with
    contourpy (matplotlib's contouring library); it is left out when the
    probabilities never cross 0.5. At most ``n_points`` observations, a
    random subsample drawn with ``seed``, are overlaid, coloured and shaped
    by class.

    Parameters
    ----------
    predict : callable
        Maps an array of shape (m, 2) to probabilities of shape (m,), e.g.
        ``lambda Z: predict_proba(model, Z)``.
    X : array-like, shape (n, 2)
    y : array-like, shape (n,)
        Labels in {0, 1}.
    grid_size : int, default 100
        Grid points along each axis.
    title : str, optional
    n_points : int, default 2000
        The most observations to draw.
    seed : int, default 0
        Seeds the subsample (NumPy ``default_rng``).
    xlabel, ylabel : str
        Axis titles; name the features in words.

    Returns
    -------
    plotnine.ggplot

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.special import expit
    >>> X = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    >>> p = plot_probability_surface(lambda Z: expit(Z.sum(1) - 1),
    ...                              X, [0, 1, 0], grid_size=20)
    >>> len(p.layers)
    3
    """
    import contourpy
    import plotnine as p9

    X, y, _, _ = check_data(X, y)
    if X.shape[1] != 2:
        raise ValueError(
            f"X must have exactly two columns to plot a surface; got shape "
            f"{X.shape}. Select two features, e.g. X[:, :2]."
        )
    for name, value, low in (("grid_size", grid_size, 2), ("n_points", n_points, 1)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) \
                or value < low:
            raise ValueError(
                f"{name} must be an integer of at least {low}; got {value!r}."
            )
    if not callable(predict):
        raise TypeError(
            f"predict must be callable; got {type(predict).__name__}. Pass e.g. "
            "lambda Z: predict_proba(model, Z)."
        )

    low, high = X.min(axis=0), X.max(axis=0)
    margin = 0.05 * np.where(high > low, high - low, 1.0)
    axes = [np.linspace(lo, hi, grid_size) for lo, hi in zip(low - margin,
                                                               high + margin,
                                                               strict=True)]
    grid_x, grid_y = np.meshgrid(*axes)
    grid = np.column_stack([grid_x.ravel(), grid_y.ravel()])
    probability = np.asarray(predict(grid), dtype=float)
    if probability.size != grid.shape[0]:
        raise ValueError(
            f"predict must return one probability per row; for {grid.shape[0]} "
            f"rows it returned shape {probability.shape}."
        )
    probability = probability.reshape(-1)
    if not (np.isfinite(probability).all() and (probability >= 0).all()
            and (probability <= 1).all()):
        raise ValueError(
            "predict must return probabilities in [0, 1]; got values from "
            f"{float(np.nanmin(probability))!r} to "
            f"{float(np.nanmax(probability))!r}. Apply "
            "jax.nn.sigmoid to logits."
        )
    surface = pd.DataFrame({"x": grid[:, 0], "y": grid[:, 1], "p": probability})

    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(y), size=min(n_points, len(y)), replace=False))
    classes = np.where(y[rows] == 1, "y = 1", "y = 0")
    points = pd.DataFrame({"x": X[rows, 0], "y": X[rows, 1], "class": classes})

    plot = (
        p9.ggplot(mapping=p9.aes("x", "y"))
        + p9.geom_raster(p9.aes(fill="p"), data=surface, alpha=0.45)
        + p9.scale_fill_gradient2(
            low=_CLASS_COLOURS[0], mid="#FFFFFF", high=_CLASS_COLOURS[1],
            midpoint=0.5, limits=(0, 1), name="Predicted P(y = 1)",
        )
    )
    lines = contourpy.contour_generator(
        axes[0], axes[1], probability.reshape(grid_x.shape)
    ).lines(0.5)
    if lines:
        boundary = pd.DataFrame(
            [(x, y, k) for k, line in enumerate(lines) for x, y in line],
            columns=["x", "y", "piece"],
        )
        plot = plot + p9.geom_path(
            p9.aes(group="piece"), data=boundary, colour="black", size=0.8
        )
    plot = (
        plot
        + p9.geom_point(p9.aes(colour="class", shape="class"), data=points,
                        size=1.5, alpha=0.8)
        + p9.scale_colour_manual(values=list(_CLASS_COLOURS), name="Observed")
        + p9.scale_shape_manual(values=["o", "^"], name="Observed")
        + p9.labs(x=xlabel, y=ylabel, title=title)
        + theme_book()
    )
    return plot


def calibration_table(y, probabilities, n_bins: int = 10) -> pd.DataFrame:
    """Mean predicted probability and observed frequency in equal-count bins.

    Used in chapter 8 (a real data set).

    Rows are sorted by predicted probability and cut into ``n_bins`` groups
    whose sizes differ by at most one (quantile bins); ties at a cut are
    split by their order in the input. For a well-calibrated model,
    ``observed`` is close to ``mean_predicted`` in every bin.

    Parameters
    ----------
    y : array-like, shape (n,)
        Labels in {0, 1}.
    probabilities : array-like, shape (n,)
        Predicted $P(y = 1)$, in [0, 1].
    n_bins : int, default 10
        Between 1 and n.

    Returns
    -------
    pandas.DataFrame
        One row per bin: ``bin`` (1 to n_bins, lowest probabilities first),
        ``mean_predicted``, ``observed`` (the fraction with y = 1) and
        ``count``.

    Examples
    --------
    >>> calibration_table([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4], n_bins=2)
       bin  mean_predicted  observed  count
    0    1            0.15       0.0      2
    1    2            0.35       1.0      2
    """
    y = check_labels(y)
    p = np.asarray(probabilities, dtype=float)
    if p.shape != y.shape:
        raise ValueError(
            f"probabilities must have the shape of y, {y.shape}; got {p.shape}. "
            "Pass one predicted probability per observation."
        )
    if not (np.isfinite(p).all() and (p >= 0).all() and (p <= 1).all()):
        raise ValueError(
            f"probabilities must lie in [0, 1]; got values from "
            f"{float(np.nanmin(p))!r} to {float(np.nanmax(p))!r}. Apply the "
            "sigmoid to logits first."
        )
    n = y.size
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) \
            or not 1 <= n_bins <= n:
        raise ValueError(
            f"n_bins must be an integer between 1 and the number of rows ({n}); "
            f"got {n_bins!r}."
        )
    order = np.argsort(p, kind="stable")
    bins = np.empty(n, dtype=int)
    # Rank r goes to bin floor(r * n_bins / n): sizes differ by at most one.
    bins[order] = np.arange(n) * n_bins // n + 1
    frame = pd.DataFrame({"bin": bins, "p": p, "y": y})
    table = frame.groupby("bin").agg(
        mean_predicted=("p", "mean"), observed=("y", "mean"), count=("y", "size")
    )
    return table.reset_index()


def plot_calibration(y, probabilities, *, n_bins: int = 10) -> plotnine.ggplot:
    """Observed frequency against mean predicted probability, per bin.

    Used in chapter 8 (a real data set).

    Each point is one bin of `calibration_table`, sized by how many
    rows it holds; a dashed 45-degree line marks perfect calibration, so
    points below it are bins where the model predicts too high.

    Parameters
    ----------
    y : array-like, shape (n,)
        Labels in {0, 1}.
    probabilities : array-like, shape (n,)
    n_bins : int, default 10

    Returns
    -------
    plotnine.ggplot

    Examples
    --------
    >>> import numpy as np
    >>> p = np.linspace(0.05, 0.95, 200)
    >>> y = (np.random.default_rng(0).random(200) < p).astype(int)
    >>> plot_calibration(y, p, n_bins=5).data.shape
    (5, 4)
    """
    import plotnine as p9

    table = calibration_table(y, probabilities, n_bins=n_bins)
    return (
        p9.ggplot(table, p9.aes("mean_predicted", "observed"))
        + p9.geom_abline(intercept=0, slope=1, linetype="dashed", colour="#7F7F7F")
        + p9.geom_line(colour=_LINE_COLOURS[0])
        + p9.geom_point(p9.aes(size="count"), colour=_LINE_COLOURS[0])
        + p9.scale_size_continuous(range=(1.5, 4))
        + p9.scale_x_continuous(limits=(0, 1))
        + p9.scale_y_continuous(limits=(0, 1))
        + p9.labs(
            x="Mean predicted probability in bin",
            y="Observed fraction with y = 1",
            size="Rows in bin",
        )
        + theme_book()
    )
