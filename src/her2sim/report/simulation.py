"""Figures of one simulation: node trajectories, final states and fixed points.

They are pyMaBoSS's ``plot_trajectory``, ``plot_piechart`` and ``plot_fixpoint``, drawn from
the tables a :class:`~her2sim.engine.result.SimulationResult` returns (so a result read back
from Parquet plots too). Each function returns a matplotlib :class:`~matplotlib.figure.Figure`
that pyplot does not keep (:func:`~her2sim._figure_style.new_figure`): a notebook shows it
once, and :func:`her2sim.report.figures.save_figure` writes it. Colours and sizes are those of
:mod:`her2sim._figure_style` (colour-blind safe, legible on a slide).

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"A": [0.0, 0.5], "B": [1.0, 0.8]}, index=pd.Index([0.0, 1.0], name="time"))
>>> trajectory_figure(frame).axes[0].get_xlabel()
'time (model rate units)'
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from her2sim._figure_style import OKABE_ITO, OTHERS, STYLE, new_figure, styled
from her2sim.errors import ConfigError, UnknownNameError

if TYPE_CHECKING:
    from her2sim.engine.result import SimulationResult
    from her2sim.model.network import Model

__all__ = ["final_state_figure", "fixed_point_figure", "trajectory_figure", "write_figures"]

#: The x-axis title of every trajectory: rates have no unit of their own, so neither has time.
TIME_LABEL = "time (model rate units)"
#: Most lines drawn on one axes; more nodes get one small panel each.
MAX_LINES = 6


@styled
def trajectory_figure(
    frame: pd.DataFrame,
    nodes: Sequence[str] | None = None,
    title: str = "",
    *,
    reference: pd.DataFrame | None = None,
    conditions: tuple[str, str] = ("treated", "untreated"),
    ylabel: str = "P(node on)",
) -> Figure:
    """Probability that each node is on, over time (pyMaBoSS's ``plot_trajectory``).

    Parameters
    ----------
    frame
        :meth:`~her2sim.engine.result.SimulationResult.nodes`: one column per node, indexed by time.
    nodes
        The nodes to draw, in this order (default: every column).
    title
        Figure title (default "Node trajectories").
    reference
        The same nodes under another condition (untreated, say), drawn dashed in each node's
        colour beside ``frame``'s solid line; ``conditions`` names the two in the legend.
    ylabel
        The y-axis title (a readout such as survival is not a node's probability).

    Returns
    -------
    Figure
        Up to :data:`MAX_LINES` nodes share one axes, each in its own colour (and, alone, its
        own dash); more nodes get one small panel each, titled by the node, so 20 or 80 nodes
        stay apart.

    Examples
    --------
    >>> frame = pd.DataFrame({f"N{i}": [0.1, 0.2] for i in range(20)}, index=[0.0, 0.5])
    >>> len(trajectory_figure(frame).axes), trajectory_figure(frame, ["N3"]).axes[0].get_ylabel()
    (20, 'P(node on)')
    """
    if isinstance(nodes, str):  # a string is a sequence too: its letters are no nodes
        raise ConfigError(f"nodes is a list of node names, not the string {nodes!r}: pass [{nodes!r}]")
    names = list(frame.columns) if nodes is None else list(nodes)
    for name in names:
        for table in (frame, reference):
            if table is not None and name not in table.columns:
                raise UnknownNameError("node", name, [str(c) for c in table.columns])
    times = frame.index.to_numpy(dtype=float)
    title = title or "Node trajectories"
    paired = reference is not None
    if len(names) <= MAX_LINES:
        fig = new_figure(figsize=(9, 4.8), layout="constrained")
        ax = fig.subplots()
        for i, name in enumerate(names):
            dash = "-" if paired else ("-", "--", "-.", ":")[i % 4]
            ax.plot(times, frame[name].to_numpy(), color=OKABE_ITO[i], ls=dash, lw=2.2, label=name)
            if reference is not None:
                ax.plot(reference.index.to_numpy(dtype=float), reference[name].to_numpy(), color=OKABE_ITO[i],
                        ls="--", lw=1.8)  # fmt: skip
        ax.set(xlabel=TIME_LABEL, ylabel=ylabel, ylim=(-0.02, 1.02), xlim=(times[0], times[-1]))
        if names:
            handles, labels = ax.get_legend_handles_labels()
            if paired:
                handles, labels = [*handles, *_condition_handles()], [*labels, *conditions]
            ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        ax.set_title(title, loc="left")
        return fig
    cols = int(np.ceil(np.sqrt(len(names) * 16 / 9)))
    rows = int(np.ceil(len(names) / cols))
    width = min(16.0, 2.3 * cols)
    fig = new_figure(figsize=(width, min(0.68 * width * rows / cols + 1.2, 12.0)), layout="constrained")
    axes = fig.subplots(rows, cols, sharex=True, sharey=True, squeeze=False)
    small = 10 if cols <= 8 else 8
    for ax, name in zip(axes.flat, names, strict=False):
        values = frame[name].to_numpy()
        if reference is None:
            ax.fill_between(times, values, color=OKABE_ITO[5], alpha=0.35, lw=0)
        else:
            ax.plot(reference.index.to_numpy(dtype=float), reference[name].to_numpy(), color=OKABE_ITO[0],
                    ls="--", lw=1.6)  # fmt: skip
        ax.plot(times, values, color=OKABE_ITO[0], lw=1.8)
        ax.set_title(name, fontsize=small + 1, pad=3)
        ax.set(ylim=(0, 1.05), xlim=(times[0], times[-1]), yticks=[0, 0.5, 1])
        ax.tick_params(labelsize=small)
    for k in range(len(names), rows * cols):  # empty slots of the last row: the panel above shows the time
        axes[k // cols, k % cols].remove()
        axes[k // cols - 1, k % cols].tick_params(labelbottom=True)
    fig.supxlabel(TIME_LABEL)
    fig.supylabel(ylabel)
    fig.suptitle(title, x=0.01, ha="left", fontsize=STYLE["axes.titlesize"])
    if paired:
        fig.legend(_condition_handles(OKABE_ITO[0]), list(conditions), loc="outside upper right", ncols=2,
                   frameon=False)  # fmt: skip
    return fig


def _condition_handles(colour: str = "0.3") -> list[Line2D]:
    """Legend keys of the two conditions: a solid and a dashed line."""
    return [Line2D([], [], color=colour, ls="-", lw=2.2), Line2D([], [], color=colour, ls="--", lw=1.8)]


def _state_label(state: str, width: int = 46, lines: int = 3) -> str:
    """A MaBoSS state name (``A -- B -- C``) on at most ``lines`` lines of about ``width``
    characters, ending in ``+k more`` when the nodes do not fit."""
    nodes = state.split(" -- ")
    out = [nodes[0]]
    for k, node in enumerate(nodes[1:], start=1):
        joined = f"{out[-1]} -- {node}"
        if len(joined) <= width:
            out[-1] = joined
        elif len(out) == lines:
            return "\n".join(out) + f" -- +{len(nodes) - k} more"
        else:
            out[-1] += " --"
            out.append(node)
    return "\n".join(out)


def _group(frame: pd.DataFrame, min_share: float, max_slices: int) -> tuple[list[str], list[float], int]:
    """(labels, probabilities, states grouped) with the small and the many folded into one slice."""
    from her2sim.engine.result import check_fraction

    share = check_fraction(min_share, "min_share", 0.02)
    if isinstance(max_slices, bool) or not isinstance(max_slices, numbers.Integral) or max_slices < 1:
        raise ConfigError(f"max_slices must be a whole number >= 1, got {max_slices!r}: pass 7, say")
    ordered = frame.sort_values("probability", ascending=False)
    shown = ordered[ordered["probability"] >= share].head(int(max_slices))
    rest = ordered.drop(shown.index)
    labels, values = list(shown["state"].astype(str)), list(shown["probability"].astype(float))
    if len(rest) and rest["probability"].sum() > 0:
        labels.append(f"others ({len(rest)} state{'s' if len(rest) > 1 else ''})")
        values.append(float(rest["probability"].sum()))
    return labels, values, len(rest)


def _pie(ax: Any, labels: list[str], values: list[float], colours: list[str], heading: str, hatched: str) -> None:
    """A pie with percentages on the large wedges and the states in a legend beside it; the
    wedge labelled ``hatched`` is hatched grey (what is not a state)."""
    total = sum(values)
    wedges, _, texts = ax.pie(values, colors=colours, startangle=90, counterclock=False, autopct="%1.0f%%",
                              pctdistance=0.72, wedgeprops={"linewidth": 1.2, "edgecolor": "white"})  # fmt: skip
    for wedge, label in zip(wedges, labels, strict=True):
        if label == hatched:
            wedge.set(hatch="//", edgecolor="#888888")
    for text, value, colour in zip(texts, values, colours, strict=True):
        text.set_visible(value >= 0.04 * total)
        dark = colour in ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#000000")
        text.set(color="white" if dark else "black", fontsize=12, fontweight="bold")
    legend = [f"{100 * v / total:.1f}%  {_state_label(label)}" for label, v in zip(labels, values, strict=True)]
    ax.figure.legend(wedges, legend, loc="outside right center", frameon=False, title=heading, alignment="left",
                     title_fontproperties={"weight": "bold"})  # fmt: skip
    ax.set_aspect("equal")


def _colours(labels: list[str], special: dict[str, str]) -> list[str]:
    """Okabe-Ito in turn, grey for the grouped slice and fixed colours for ``special`` labels."""
    out, k = [], 0
    for label in labels:
        if label in special:
            out.append(special[label])
        elif label.startswith("others ("):
            out.append(OTHERS)
        else:
            out.append(OKABE_ITO[k % len(OKABE_ITO)])
            k += 1
    return out


@styled
def final_state_figure(frame: pd.DataFrame, min_share: float = 0.02, max_slices: int = 7, title: str = "") -> Figure:
    """Distribution of the states trajectories end in (pyMaBoSS's ``plot_piechart``).

    Parameters
    ----------
    frame
        :meth:`~her2sim.engine.result.SimulationResult.final_states`: ``state``, ``probability``.
    min_share, max_slices
        States below ``min_share``, and any beyond the ``max_slices`` likeliest, are grouped
        into one grey "others" slice.
    title
        Figure title (default "Final states").

    Examples
    --------
    >>> frame = pd.DataFrame({"state": ["A", "A -- B", "B", "<nil>"], "probability": [0.6, 0.3, 0.09, 0.01]})
    >>> final_state_figure(frame).legends[0].get_texts()[-1].get_text()
    '1.0%  others (1 state)'
    """
    labels, values, _ = _group(frame, min_share, max_slices)
    return _pie_figure(labels, values, _colours(labels, {}), title or "Final states", "state at the last time")


@styled
def fixed_point_figure(frame: pd.DataFrame, min_share: float = 0.02, max_slices: int = 7, title: str = "") -> Figure:
    """Share of trajectories that end in each fixed point (pyMaBoSS's ``plot_fixpoint``).

    Parameters
    ----------
    frame
        :meth:`~her2sim.engine.result.SimulationResult.fixed_points`: ``state``, ``probability``
        (a fraction of all trajectories).
    min_share, max_slices
        Fixed points below ``min_share``, and any beyond the ``max_slices`` likeliest, are
        grouped into one grey "others" slice.
    title
        Figure title (default: the share of trajectories that reached one).

    Returns
    -------
    Figure
        A pie over all trajectories: the trajectories that reached no fixed point by the end
        of the run are their own hatched slice, so the shares are not inflated.

    Examples
    --------
    >>> frame = pd.DataFrame({"state": ["A", "<nil>"], "probability": [0.5, 0.2]})
    >>> [t.get_text() for t in fixed_point_figure(frame).legends[0].get_texts()]
    ['50.0%  A', '20.0%  <nil>', '30.0%  no fixed point reached']
    """
    labels, values, _ = _group(frame, min_share, max_slices)
    missing = 1.0 - float(frame["probability"].sum())
    none = "no fixed point reached"
    if missing > 1e-9:
        labels.append(none)
        values.append(missing)
    title = title or f"Fixed points, reached by {1.0 - max(missing, 0.0):.0%} of trajectories"
    return _pie_figure(labels, values, _colours(labels, {none: "#FFFFFF"}), title, "fixed point (active nodes)", none)


def _pie_figure(
    labels: list[str], values: list[float], colours: list[str], title: str, heading: str, hatched: str = ""
) -> Figure:
    widest = max((len(line) for label in labels for line in _state_label(label).splitlines()), default=10)
    fig = new_figure(figsize=(max(8.5, 5.0 + 0.12 * widest), 5.2), layout="constrained")
    ax = fig.subplots()
    if values:
        _pie(ax, labels, values, colours, heading, hatched)
    else:
        ax.text(0.5, 0.5, "no trajectory reached a state here", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
    fig.suptitle(title, x=0.02, ha="left", fontsize=STYLE["axes.titlesize"])
    return fig


def write_figures(
    result: SimulationResult, model: Model, directory: str | os.PathLike[str], nodes: Sequence[str] | None = None
) -> list[Path]:
    """Write ``trajectories.png`` (of ``nodes``, default every node), ``final_states.png`` (when
    states were kept), ``fixed_points.png`` and ``network.png`` into ``directory`` (made if
    needed); return their paths."""
    from her2sim.report.figures import save_figure
    from her2sim.report.network import network_figure

    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    title = f"{model.name}: node trajectories" if model.name else ""
    figures = {"trajectories": trajectory_figure(result.nodes(), nodes, title=title)}
    if result.state_statistics is not None:
        figures["final_states"] = final_state_figure(result.final_states())
    figures["fixed_points"] = fixed_point_figure(result.fixed_points())
    figures["network"] = network_figure(model)
    written = []
    for stem, fig in figures.items():
        save_figure(fig, folder / f"{stem}.png", dpi=120)
        written.append(folder / f"{stem}.png")
    return written
