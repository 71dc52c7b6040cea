"""The HER2 network drawn as a pathway diagram, nodes coloured by activity.

The layout is data (``her2/data/layout.tsv``): each node's layer, from the cell surface to the
phenotypes, and its side (PI3K-AKT on the left, RAS-MAPK and ER on the right), as in the
figure. Edges are the model's signed regulations (blue arrows for activation, vermillion bars
for inhibition); dashed grey edges are influences through rates only (masking, drug damage).
"""

from __future__ import annotations

import os

import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from her2sim._figure_style import SEQUENTIAL, ink_on, new_figure, styled
from her2sim.her2.model import data_path, load_model
from her2sim.model.graph import signed_edges
from her2sim.report.figures import save_figure
from her2sim.report.network import EDGE_STYLES

__all__ = ["draw_network", "layout_positions", "network_activity_figure"]


def layout_positions() -> dict[str, tuple[float, float]]:
    """(x, y) of every node, read from the layout table: x = side, y = -layer (membrane on top)."""
    table = pd.read_csv(data_path("layout.tsv"), sep="\t", comment="#")
    duplicated = table.duplicated(["layer", "side"])
    if duplicated.any():
        raise ValueError(f"layout.tsv places two nodes at one spot: {', '.join(table.loc[duplicated, 'node'])}")
    return {row.node: (float(row.side), -float(row.layer)) for row in table.itertuples(index=False)}


@styled
def network_activity_figure(activity: pd.Series | None, title: str = "") -> Figure:
    """The network in the layout of ``layout.tsv``, nodes coloured by ``activity`` (0-1, viridis).

    Activation is a blue arrow and inhibition a vermillion bar (as in
    :func:`~her2sim.report.network.network_figure`); influences through rates only are dashed grey.
    """
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.patches import FancyArrowPatch

    model = load_model()
    positions = layout_positions()
    missing = set(model.names) - set(positions)
    if missing:
        raise ValueError(f"layout.tsv lacks node(s) {', '.join(sorted(missing))}")
    fig = new_figure(figsize=(14, 10.5), layout="constrained")
    ax = fig.subplots()
    cmap, norm = colormaps[SEQUENTIAL], Normalize(0, 1)
    logical = {(a, b) for a, b, _ in signed_edges(model)}
    for target in model.names:
        for source in sorted(model.regulators(target) - {target}):
            if (source, target) not in logical:
                ends = positions[source], positions[target]
                ax.add_patch(FancyArrowPatch(*ends, arrowstyle="-|>", color="#999999", ls="--", mutation_scale=8,
                                             lw=0.6, alpha=0.5, shrinkA=14, shrinkB=14))  # fmt: skip
    for source, target, sign in signed_edges(model):
        if source == target:
            continue
        style, colour, line, _ = EDGE_STYLES[sign]
        arrow = FancyArrowPatch(positions[source], positions[target], arrowstyle=style, color=colour, ls=line,
                                mutation_scale=10, lw=0.9, alpha=0.6, shrinkA=14, shrinkB=14,
                                connectionstyle="arc3,rad=0.08")  # fmt: skip
        ax.add_patch(arrow)
    for name, (x, y) in positions.items():
        value = None if activity is None else float(activity.get(name, float("nan")))
        face = "#dddddd" if value is None or value != value else cmap(norm(value))
        box = {"boxstyle": "round,pad=0.35", "fc": face, "ec": "#333333", "lw": 0.6}
        label = name if value is None else f"{name}\n{value:.2f}"
        ax.text(x, y, label, ha="center", va="center", fontsize=9, color=ink_on(face), bbox=box)
    ax.set_axis_off()
    ax.set_title(title or "HER2 network", loc="left")
    ax.margins(0.05)
    handles = [Line2D([], [], color=c, ls=ls, lw=2, label=text) for _, c, ls, text in EDGE_STYLES.values()]
    handles.append(Line2D([], [], color="#999999", ls="--", lw=1, label="through a rate only"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0, -0.01), ncols=4, frameon=False)
    if activity is not None:
        fig.colorbar(ScalarMappable(norm, cmap), ax=ax, fraction=0.025, pad=0.01, label="P(active) at steady state")
    return fig


def draw_network(activity: pd.Series | None, path: str | os.PathLike[str], title: str = "") -> None:
    """Write :func:`network_activity_figure` as a PNG (or SVG, by suffix)."""
    save_figure(network_activity_figure(activity, title), path, dpi=110)
