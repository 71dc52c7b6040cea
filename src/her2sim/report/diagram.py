"""The HER2 network drawn as a pathway diagram, nodes coloured by activity.

The layout is data (``her2/data/layout.tsv``): each node's layer, from the cell surface to the
phenotypes, and its side (PI3K-AKT on the left, RAS-MAPK and ER on the right), as in the
figure. Edges are the model's signed regulations (arrows for activation, bars for
inhibition); dashed grey edges are influences through rates only (masking, drug damage).
"""

from __future__ import annotations

import os

import pandas as pd

from her2sim.formats._io import save_figure
from her2sim.her2.model import data_path, load_model
from her2sim.model.graph import signed_edges

__all__ = ["draw_network", "layout_positions"]


def layout_positions() -> dict[str, tuple[float, float]]:
    """(x, y) of every node, read from the layout table: x = side, y = -layer (membrane on top)."""
    table = pd.read_csv(data_path("layout.tsv"), sep="\t", comment="#")
    duplicated = table.duplicated(["layer", "side"])
    if duplicated.any():
        raise ValueError(f"layout.tsv places two nodes at one spot: {', '.join(table.loc[duplicated, 'node'])}")
    return {row.node: (float(row.side), -float(row.layer)) for row in table.itertuples(index=False)}


def draw_network(activity: pd.Series | None, path: str | os.PathLike[str], title: str = "") -> None:
    """Write a PNG (or SVG, by suffix) of the network, nodes coloured by ``activity`` (0-1)."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch

    model = load_model()
    positions = layout_positions()
    missing = set(model.names) - set(positions)
    if missing:
        raise ValueError(f"layout.tsv lacks node(s) {', '.join(sorted(missing))}")
    fig, ax = plt.subplots(figsize=(13, 10))
    cmap = plt.get_cmap("RdYlGn")
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
        style = {1: ("-|>", "#2f6f3e"), -1: ("-[", "#b03030"), 0: ("-", "#888888")}[sign]
        arrow = FancyArrowPatch(positions[source], positions[target], arrowstyle=style[0], color=style[1],
                                mutation_scale=10, lw=0.8, alpha=0.55, shrinkA=14, shrinkB=14,
                                connectionstyle="arc3,rad=0.08")  # fmt: skip
        ax.add_patch(arrow)
    for name, (x, y) in positions.items():
        value = None if activity is None else float(activity.get(name, float("nan")))
        colour = "#dddddd" if value is None or value != value else cmap(value)
        ax.text(x, y, name if value is None else f"{name}\n{value:.2f}", ha="center", va="center", fontsize=7.5,
                bbox={"boxstyle": "round,pad=0.35", "fc": colour, "ec": "#333333", "lw": 0.6})  # fmt: skip
    ax.set_axis_off()
    ax.set_title(title or "HER2 network", fontsize=11)
    ax.margins(0.06)
    if activity is not None:
        sm = plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(0, 1))
        fig.colorbar(sm, ax=ax, fraction=0.025, pad=0.01, label="P(active) at steady state")
    fig.tight_layout()
    save_figure(fig, path, dpi=110)
