"""Figures of a simulation and of a model's interaction graph (pyMaBoSS's plot_* parity)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.colors as mcolors
import pandas as pd
import pytest
from matplotlib.patches import FancyArrowPatch

import her2sim
from her2sim.engine.result import SimulationResult
from her2sim.errors import ConfigError, UnknownNameError
from her2sim.examples import example_path
from her2sim.formats.bnet import parse_bnet
from her2sim.formats.maboss import read_maboss
from her2sim.model.network import Model
from her2sim.report.network import ACTIVATION, INHIBITION, network_figure
from her2sim.report.simulation import (
    TIME_LABEL,
    final_state_figure,
    fixed_point_figure,
    trajectory_figure,
    write_figures,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def example() -> tuple[Model, SimulationResult]:
    model, config = read_maboss(example_path("erbb_core"))
    return model, her2sim.simulate(model, config.with_(sample_count=500, max_time=5.0))


def frame_of(n: int) -> pd.DataFrame:
    return pd.DataFrame({f"N{i}": [0.0, 0.5, 1.0] for i in range(n)}, index=pd.Index([0.0, 1.0, 2.0], name="time"))


def test_a_few_trajectories_share_one_axes_with_titled_axes() -> None:
    fig = trajectory_figure(frame_of(3), title="three")
    [ax] = fig.axes
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title(loc="left")) == (TIME_LABEL, "P(node on)", "three")
    assert TIME_LABEL == "time (model rate units)"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["N0", "N1", "N2"]
    assert len({line.get_color() for line in ax.get_lines()}) == 3


def test_twenty_or_more_nodes_get_one_titled_panel_each() -> None:
    fig = trajectory_figure(frame_of(23))
    assert [ax.get_title() for ax in fig.axes] == [f"N{i}" for i in range(23)]
    # every column keeps its time labels, also above an empty slot of the last row
    labelled = [ax for ax in fig.axes if ax.xaxis.get_tick_params()["labelbottom"]]
    assert len(labelled) == 7
    assert fig.get_supxlabel() == TIME_LABEL and fig.get_supylabel() == "P(node on)"


def test_a_choice_of_nodes_is_drawn_in_its_order_and_unknown_names_are_refused() -> None:
    fig = trajectory_figure(frame_of(30), nodes=["N7", "N2"])
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["N7", "N2"]
    with pytest.raises(UnknownNameError, match="did you mean 'N7'"):
        trajectory_figure(frame_of(30), nodes=["n7"])


def test_final_state_pie_groups_small_states_into_others() -> None:
    frame = pd.DataFrame({"state": ["A", "B", "A -- B", "<nil>", "C"], "probability": [0.5, 0.3, 0.17, 0.02, 0.01]})
    fig = final_state_figure(frame, min_share=0.05)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["50.0%  A", "30.0%  B", "17.0%  A -- B", "3.0%  others (2 states)"]
    wedges = fig.axes[0].patches
    assert mcolors.to_hex(wedges[-1].get_facecolor()) == "#bbbbbb"  # the grey of "others"
    assert sum(w.theta2 - w.theta1 for w in wedges) == pytest.approx(360)


def test_final_state_pie_caps_the_slices_and_shortens_long_states() -> None:
    many = " -- ".join(f"NODE{i}" for i in range(40))
    frame = pd.DataFrame({"state": [many, *(f"S{i}" for i in range(20))], "probability": [0.4] + [0.03] * 20})
    legend = [t.get_text() for t in final_state_figure(frame, max_slices=4).legends[0].get_texts()]
    assert len(legend) == 5 and legend[-1].endswith("others (17 states)")
    assert legend[0].count("\n") == 2 and legend[0].endswith("more")  # three lines, then "+k more"


def test_fixed_point_pie_counts_the_trajectories_that_reached_none() -> None:
    frame = pd.DataFrame({"state": ["A", "<nil>"], "probability": [0.5, 0.2]})
    fig = fixed_point_figure(frame)
    assert fig.get_suptitle() == "Fixed points, reached by 70% of trajectories"
    assert fig.legends[0].get_texts()[-1].get_text() == "30.0%  no fixed point reached"
    assert fig.axes[0].patches[-1].get_hatch() == "//"
    none = fixed_point_figure(frame.iloc[:0])
    assert [t.get_text() for t in none.legends[0].get_texts()] == ["100.0%  no fixed point reached"]


def test_network_edges_are_signed_by_shape_and_colour() -> None:
    model = parse_bnet("A, A\nB, A & !C\nC, B\nD, B & !C | !B & C")
    fig = network_figure(model, title="toy")
    assert fig.get_suptitle() == "toy"
    arrows = [p for p in fig.axes[0].patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == 6  # A->A (a loop), A->B, C-|B, B->C, B and C to D (both signs)
    colours = sorted(mcolors.to_hex(a.get_edgecolor()) for a in arrows)
    assert colours.count(ACTIVATION.lower()) == 3 and colours.count(INHIBITION.lower()) == 1
    assert {type(a.get_arrowstyle()).__name__ for a in arrows} == {"CurveFilledB", "BracketB", "CurveB"}
    labels = {t.get_text() for t in fig.axes[0].texts}
    assert labels == {"A", "B", "C", "D"}
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["activates (arrow)", "inhibits (bar)", "both signs (dashed)", "input (keeps its value)"]


def test_network_of_a_disconnected_model_keeps_every_node_inside_the_axes() -> None:
    model = parse_bnet("A, B\nB, A\nC, C\nD, !D\nE, F\nF, E & !A")
    fig = network_figure(model)
    ax = fig.axes[0]
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    for text in ax.texts:
        x, y = text.get_position()
        assert x0 < x < x1 and y0 < y < y1, text.get_text()


def test_result_methods_plot_like_pymaboss(example: tuple[Model, SimulationResult]) -> None:
    _, result = example
    assert result.plot_trajectory(["AKT", "ERK"]).axes[0].get_xlabel() == TIME_LABEL
    assert result.plot_piechart().legends[0].get_title().get_text() == "state at the last time"
    assert result.plot_fixpoint().get_suptitle().startswith("Fixed points, reached by")


def test_write_figures_writes_four_pngs(example: tuple[Model, SimulationResult], tmp_path: Path) -> None:
    model, result = example
    written = write_figures(result, model, tmp_path / "figs")
    names = ["trajectories.png", "final_states.png", "fixed_points.png", "network.png"]
    assert [p.name for p in written] == names
    for path in written:
        data = path.read_bytes()
        assert data[:8] == PNG_SIGNATURE and len(data) > 10_000, path.name


def test_a_given_layout_must_place_every_node() -> None:
    model = parse_bnet("A, B\nB, A")
    assert network_figure(model, layout={"A": (0.0, 0.0), "B": (1.0, 0.0)}).axes[0].texts[0].get_position() == (0, 0)
    with pytest.raises(ConfigError, match="the layout places no B"):
        network_figure(model, layout={"A": (0.0, 0.0)})
