"""Tests for lrbook.plots: the theme, the scales and the shared figures."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import plotnine as p9
import pytest

from lrbook.plots import (
    FIGURE_SIZE,
    LINETYPES,
    PALETTE,
    calibration_table,
    plot_calibration,
    plot_distance_to_optimum,
    plot_loss_curves,
    plot_probability_surface,
    scale_colour_book,
    scale_linetype_book,
    theme_book,
)

HISTORIES = {
    "Gradient descent": 0.3 + 0.4 * 0.9 ** np.arange(30),
    "Adam": 0.3 + 0.4 * 0.7 ** np.arange(20),
}


def geoms(plot):
    return [type(layer.geom).__name__ for layer in plot.layers]


def draws(plot):
    """Build and draw the figure, then free it; fails on any plotnine error."""
    figure = plot.draw()
    assert figure.get_size_inches() == pytest.approx(FIGURE_SIZE)
    plt.close("all")
    return True


def sample(n=400, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    y = (rng.random(n) < 1 / (1 + np.exp(-(X[:, 0] - X[:, 1])))).astype(int)
    return X, y


def test_palette_is_okabe_ito_with_black_last():
    assert len(PALETTE) == 8 == len(set(PALETTE))
    assert PALETTE[-1] == "#000000"
    assert {"#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00"} <= set(PALETTE)


def test_theme_book_leaves_the_global_theme_alone():
    before = type(p9.theme_get())
    theme = theme_book(base_size=12)
    assert isinstance(theme, p9.theme)
    assert type(p9.theme_get()) is before
    assert theme.themeables["legend_position"].properties["value"] == "bottom"


def test_theme_book_rejects_bad_size():
    with pytest.raises(ValueError, match="positive number of points; got -1"):
        theme_book(-1)


def test_scales_use_the_palette_and_linetypes():
    assert set(scale_colour_book().palette(8)) == set(PALETTE)
    assert list(scale_linetype_book().palette(len(LINETYPES))) == list(LINETYPES)


def test_plot_loss_curves_layers_labels_and_order():
    plot = plot_loss_curves(HISTORIES, legend_title="Optimiser")
    assert isinstance(plot, p9.ggplot)
    assert geoms(plot) == ["geom_line"]
    assert plot.labels.x == "Iteration"
    assert plot.labels.y == "Mean negative log-likelihood"
    assert list(plot.data["name"].cat.categories) == list(HISTORIES)
    assert len(plot.data) == 50
    # Names are told apart by both colour and line type.
    assert {"color", "linetype"} <= set(plot.mapping)
    assert draws(plot)


def test_plot_loss_curves_log_scale_and_nan_padding():
    padded = {"GD": np.r_[0.7, 0.5, 0.4, np.nan, np.nan]}
    plot = plot_loss_curves(padded, log_y=True)
    assert len(plot.data) == 3
    assert any(isinstance(s, p9.scale_y_log10) for s in plot.scales)
    assert draws(plot)


@pytest.mark.parametrize(
    ("histories", "error", "match"),
    [
        ({}, TypeError, "non-empty mapping"),
        ([0.5, 0.4], TypeError, "non-empty mapping"),
        ({"a": np.ones((2, 2))}, ValueError, r"one-dimensional; got shape \(2, 2\)"),
        ({str(i): [1.0] for i in range(9)}, ValueError, "at most 8 .* got 9"),
    ],
)
def test_plot_loss_curves_rejects_bad_histories(histories, error, match):
    with pytest.raises(error, match=match):
        plot_loss_curves(histories)


def test_plot_loss_curves_log_needs_positive_losses():
    with pytest.raises(ValueError, match=r"needs positive losses; found -0\.1"):
        plot_loss_curves({"a": [1.0, -0.1]}, log_y=True)


def test_plot_distance_to_optimum_drops_non_positive_values():
    histories = {"Newton": [0.9, 0.5, 0.4, 0.4, 0.39999], "GD": [0.9, 0.6, 0.5]}
    plot = plot_distance_to_optimum(histories, 0.4)
    assert geoms(plot) == ["geom_line", "geom_point"]
    assert any(isinstance(s, p9.scale_y_log10) for s in plot.scales)
    newton = plot.data[plot.data["name"] == "Newton"]
    np.testing.assert_allclose(newton["value"], [0.5, 0.1])
    assert (plot.data["value"] > 0).all()
    assert draws(plot)


def test_plot_distance_to_optimum_rejects_bad_optimum():
    with pytest.raises(ValueError, match="optimum_loss must be finite; got nan"):
        plot_distance_to_optimum(HISTORIES, float("nan"))
    with pytest.raises(ValueError, match=r"no loss lies above optimum_loss=1\.0"):
        plot_distance_to_optimum(HISTORIES, 1.0)


def test_plot_probability_surface_draws_boundary_where_p_is_half():
    X, y = sample()
    plot = plot_probability_surface(
        lambda Z: 1 / (1 + np.exp(-(Z[:, 0] - Z[:, 1]))), X, y,
        grid_size=40, n_points=100, title="Logistic fit",
    )
    assert geoms(plot) == ["geom_raster", "geom_path", "geom_point"]
    surface, boundary, points = (layer.geom.data for layer in plot.layers)
    assert len(surface) == 40 * 40
    assert surface["x"].min() < X[:, 0].min()
    assert surface["y"].max() > X[:, 1].max()
    # P = 0.5 exactly where x1 = x2; linear interpolation between grid
    # points (spacing about 0.2) misses the curved sigmoid by far less
    # than a grid step.
    np.testing.assert_allclose(boundary["x"], boundary["y"], atol=1e-3)
    assert len(boundary) > 20
    assert len(points) == 100
    assert set(points["class"]) == {"y = 0", "y = 1"}
    assert {"color", "shape"} <= set(plot.layers[2].mapping)
    assert plot.labels.title == "Logistic fit"
    assert draws(plot)


def test_plot_probability_surface_subsample_is_seeded():
    X, y = sample()
    predict = lambda Z: np.full(len(Z), 0.3)  # noqa: E731
    first = plot_probability_surface(predict, X, y, n_points=50, seed=1)
    again = plot_probability_surface(predict, X, y, n_points=50, seed=1)
    other = plot_probability_surface(predict, X, y, n_points=50, seed=2)
    subsample = [plot.layers[-1].geom.data for plot in (first, again, other)]
    pd.testing.assert_frame_equal(subsample[0], subsample[1])
    assert not subsample[0].equals(subsample[2])
    # A surface that never reaches 0.5 has no boundary to draw.
    assert geoms(first) == ["geom_raster", "geom_point"]


@pytest.mark.parametrize(
    ("predict", "X", "match"),
    [
        (lambda Z: np.full(len(Z), 0.5), np.zeros((4, 3)),
         r"exactly two columns .* got shape \(4, 3\)"),
        (lambda Z: np.full(3, 0.5), np.eye(4, 2), "one probability per row"),
        (lambda Z: Z[:, 0] * 10, np.eye(4, 2), r"probabilities in \[0, 1\]"),
    ],
)
def test_plot_probability_surface_rejects_bad_input(predict, X, match):
    with pytest.raises(ValueError, match=match):
        plot_probability_surface(predict, X, [0, 1, 0, 1], grid_size=5)


def test_calibration_table_on_a_hand_made_example():
    y = [0, 1, 0, 1, 1, 0, 1]
    p = [0.9, 0.1, 0.2, 0.8, 0.7, 0.3, 0.6]
    table = calibration_table(y, p, n_bins=2)
    assert list(table.columns) == ["bin", "mean_predicted", "observed", "count"]
    # Sorted: 0.1 0.2 0.3 0.6 | 0.7 0.8 0.9 (ranks 0-3 to bin 1, 4-6 to bin 2).
    assert table["bin"].tolist() == [1, 2]
    assert table["count"].tolist() == [4, 3]
    np.testing.assert_allclose(table["mean_predicted"], [0.3, 0.8])
    np.testing.assert_allclose(table["observed"], [2 / 4, 2 / 3])


def test_calibration_bins_hold_equal_counts():
    rng = np.random.default_rng(0)
    p = rng.random(1003)
    y = (rng.random(1003) < p).astype(int)
    table = calibration_table(y, p, n_bins=10)
    assert table["count"].sum() == 1003
    assert table["count"].max() - table["count"].min() <= 1
    assert table["mean_predicted"].is_monotonic_increasing
    # Simulated from p itself, so each bin is calibrated up to noise.
    assert np.max(np.abs(table["observed"] - table["mean_predicted"])) < 0.15


def test_plot_calibration_layers_and_labels():
    rng = np.random.default_rng(1)
    p = rng.random(500)
    y = (rng.random(500) < p).astype(int)
    plot = plot_calibration(y, p, n_bins=8)
    assert geoms(plot) == ["geom_abline", "geom_line", "geom_point"]
    assert plot.layers[0].geom.aes_params["linetype"] == "dashed"
    pd.testing.assert_frame_equal(plot.data, calibration_table(y, p, n_bins=8))
    assert plot.labels.x == "Mean predicted probability in bin"
    assert plot.labels.size == "Rows in bin"
    assert draws(plot)


@pytest.mark.parametrize(
    ("y", "p", "n_bins", "match"),
    [
        ([0, 1, 1], [0.1, 0.2], 2, r"shape of y, \(3,\); got \(2,\)"),
        ([0, 1], [0.1, 1.2], 1, r"in \[0, 1\]; got values from 0.1 to 1.2"),
        ([0, 1], [0.1, 0.2], 3, r"number of rows \(2\); got 3"),
        ([0, 2], [0.1, 0.2], 1, "only 0 and 1"),
    ],
)
def test_calibration_table_rejects_bad_input(y, p, n_bins, match):
    with pytest.raises(ValueError, match=match):
        calibration_table(y, p, n_bins=n_bins)
