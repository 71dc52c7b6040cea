"""Any model's interaction graph: who activates or inhibits whom, laid out by networkx.

Edges are the signed regulations of :func:`~her2sim.model.graph.signed_edges`. Activation and
inhibition differ three ways, so the picture reads in grey print and under any colour-vision
deficiency: blue arrows against vermillion bars (an Okabe-Ito pair, never red and green), and
regulations of both signs are grey and dashed. Inputs (nodes that keep their value) are pale blue.
The HER2 model has its own hand-made layout in :mod:`her2sim.report.diagram`.

Examples
--------
>>> from her2sim.formats.bnet import parse_bnet
>>> fig = network_figure(parse_bnet("A, A\\nB, A & !C\\nC, B"))
>>> fig.axes[0].get_title(loc="left")
'3 nodes, 4 regulations'
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import ArrowStyle, FancyArrowPatch, Patch, Rectangle

from her2sim._figure_style import OKABE_ITO, new_figure, styled
from her2sim.errors import ConfigError
from her2sim.model.graph import signed_edges

if TYPE_CHECKING:
    from her2sim.model.network import Model

__all__ = ["network_figure"]

ACTIVATION, INHIBITION = OKABE_ITO[0], OKABE_ITO[1]  # blue and vermillion
BOTH = "#666666"
NODE = "#EEEEEE"
INPUT = "#CFE8F7"
#: sign -> (arrow style, colour, line style, legend text)
EDGE_STYLES: dict[int, tuple[Any, str, str, str]] = {
    1: (ArrowStyle("-|>", head_length=0.55, head_width=0.3), ACTIVATION, "-", "activates (arrow)"),
    -1: (ArrowStyle("-[", widthB=0.9, lengthB=0.0), INHIBITION, "-", "inhibits (bar)"),
    0: (ArrowStyle("->", head_length=0.5, head_width=0.25), BOTH, "--", "both signs (dashed)"),
}


def _layout(model: Model) -> dict[str, tuple[float, float]]:
    """Kamada-Kawai within each connected part; parts side by side, largest first, and
    unconnected nodes in a column at the right (one layout of a disconnected graph would
    throw the small parts to the corners and crush the rest)."""
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(model.names)
    graph.add_edges_from((a, b) for a, b, _ in signed_edges(model) if a != b)
    parts = sorted(nx.connected_components(graph), key=lambda part: (-len(part), model.index(min(part))))
    pos: dict[str, tuple[float, float]] = {}
    left = 0.0
    alone = [next(iter(part)) for part in parts if len(part) == 1]
    for part in (p for p in parts if len(p) > 1):
        radius = math.sqrt(len(part)) / 2
        placed = nx.kamada_kawai_layout(graph.subgraph(part), scale=radius) if len(part) > 2 else {
            name: ((i - 0.5) * radius, 0.0) for i, name in enumerate(sorted(part, key=model.index))}  # fmt: skip
        low = min(x for x, _ in placed.values())
        pos.update({name: (float(x - low + left), float(y)) for name, (x, y) in placed.items()})
        left = max(x for x, _ in pos.values()) + 1.0
    top = max((y for _, y in pos.values()), default=0.0)
    for k, name in enumerate(sorted(alone, key=model.index)):
        pos[name] = (left, top - 0.6 * k)
    return pos


@styled
def network_figure(model: Model, title: str = "", layout: Mapping[str, tuple[float, float]] | None = None) -> Figure:
    """Draw ``model``'s signed interaction graph.

    Parameters
    ----------
    model
        Any model.
    title
        Figure title (default: the model's name).
    layout
        Node name -> (x, y) for every node; default: networkx's Kamada-Kawai layout of each
        connected part.

    Returns
    -------
    Figure
        Nodes as labelled boxes, regulations as curved edges ending at the box they act on;
        self-regulation is a loop over the box.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    edges = signed_edges(model)
    pos = dict(layout) if layout is not None else _layout(model)
    missing = [name for name in model.names if name not in pos]
    if missing:
        raise ConfigError(f"the layout places no {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
    n = len(model)
    side = min(4.5 + 1.1 * math.sqrt(n), 16.0)  # inches; the figure is 1.25 times as wide
    fig = new_figure(figsize=(side * 1.25, side))
    FigureCanvasAgg(fig)  # measuring the labels needs a renderer
    ax = fig.add_axes((0.01, 0.6 / side, 0.98, 1 - 1.35 / side))  # 0.75 in for the titles, 0.6 in for the legend
    ax.set_axis_off()
    xs, ys = [p[0] for p in pos.values()] or [0.0], [p[1] for p in pos.values()] or [0.0]
    span_x, span_y = (max(xs) - min(xs)) or 1.0, (max(ys) - min(ys)) or 1.0
    ax.set_xlim(min(xs) - 0.08 * span_x, max(xs) + 0.08 * span_x)
    ax.set_ylim(min(ys) - 0.08 * span_y, max(ys) + 0.08 * span_y)
    fontsize = 12 if n <= 25 else 11 if n <= 60 else 9
    inputs = set(model.inputs())
    # boxes under the edges, names over them: a bar lies on its target's border, and a
    # crossing edge never hides a name
    texts = {}
    for name in model.names:
        face = INPUT if name in inputs else NODE
        frame = {"boxstyle": "round,pad=0.3", "fc": face, "ec": "#444444", "lw": 0.8}
        texts[name] = ax.text(*pos[name], name, ha="center", va="center", fontsize=fontsize, zorder=3,
                              color="none", bbox=frame)  # fmt: skip
        ax.text(*pos[name], name, ha="center", va="center", fontsize=fontsize, zorder=5)
    boxes = _boxes(fig, ax, texts)
    # an inhibition ends 7 points outside its target's box, so the bar across its end stays off the box
    bar_ends = _boxes(fig, ax, texts, extra=7.0)
    for source, target, sign in edges:
        style, colour, line, _ = EDGE_STYLES[sign]
        common = {"arrowstyle": style, "color": colour, "linestyle": line, "lw": 1.4, "zorder": 4,
                  "mutation_scale": 14 if n <= 60 else 10}  # fmt: skip
        box = boxes[target]
        if source == target:
            x, top = box.get_x() + box.get_width() / 2, box.get_y() + box.get_height()
            quarter = box.get_width() / 4
            ax.add_patch(FancyArrowPatch((x - quarter, top), (x + quarter, top), connectionstyle="arc3,rad=-1.6",
                                         shrinkA=0, shrinkB=0, **common))  # fmt: skip
        else:
            ax.add_patch(FancyArrowPatch(pos[source], pos[target], patchA=boxes[source],
                                         patchB=bar_ends[target] if sign < 0 else box,
                                         connectionstyle="arc3,rad=0.12", shrinkA=1, shrinkB=1, **common))  # fmt: skip
    handles: list[Artist] = [
        Line2D([], [], color=c, ls=ls, lw=2, label=text) for _, c, ls, text in EDGE_STYLES.values()
    ]
    handles.append(Patch(fc=INPUT, ec="#444444", label="input (keeps its value)"))
    fig.legend(handles=handles, loc="lower center", ncols=4, frameon=False)
    fig.suptitle(title or model.name or "Interaction graph", x=0.01, y=1 - 0.12 / side, ha="left", va="top",
                 fontweight="bold")  # fmt: skip
    ax.set_title(f"{n} nodes, {len(edges)} regulations", loc="left", fontsize=11, color="#444444")
    return fig


def _boxes(fig: Figure, ax: Any, texts: Mapping[str, Any], extra: float = 0.0) -> dict[str, Rectangle]:
    """Each label's box, grown by ``extra`` points, as a rectangle in data coordinates, for
    edges to end on.

    Data coordinates, not pixels: a figure saved at another resolution scales text and axes
    alike, so the rectangles still fit their boxes.
    """
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    to_data = ax.transData.inverted()
    out = {}
    for name, text in texts.items():
        pad = (0.3 * text.get_fontsize() + extra) * fig.dpi / 72  # the box's pad, in pixels
        extent = text.get_window_extent(renderer).padded(pad)
        (x0, y0), (x1, y1) = to_data.transform([(extent.x0, extent.y0), (extent.x1, extent.y1)])
        out[name] = Rectangle((x0, y0), x1 - x0, y1 - y0, transform=ax.transData)
    return out
