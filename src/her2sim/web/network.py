"""The explorer's network views: a model's signed interaction graph in Cytoscape, its legend
and its zoom controls.

Edges are the signed regulations of :func:`~her2sim.model.graph.signed_edges`, in the palette
of :mod:`her2sim.report.network` (blue arrows activate, vermillion bars inhibit, grey dashes
are both: an Okabe-Ito pair, never red and green). A node is filled by the probability that
it is on, from white (0) to orange (1), and labelled with it; before a run it is grey. Inputs
have a double border, and a node fixed by a mutation a thick black one and its value.

The view opens fitted to its box. The mouse wheel scrolls the page: the graph zooms with
Ctrl (or Cmd) held over it, with a pinch on a touchpad, or with its buttons, and *Fit* shows it
whole again.

Examples
--------
>>> from her2sim.formats.bnet import parse_bnet
>>> graph = model_graph(parse_bnet("A, A\\nB, A & !C\\nC, B"))
>>> graph["inputs"], graph["edges"]
(['A'], [['A', 'A', 1], ['A', 'B', 1], ['C', 'B', -1], ['B', 'C', 1]])
>>> [e["data"]["label"] for e in graph_elements(graph, {"A": 1.0, "B": 0.25}, off=["C"]) if "label" in e["data"]]
['A\\n1.00', 'B\\n0.25', 'C\\nOFF (fixed)']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from her2sim.report.network import ACTIVATION, BOTH, INHIBITION

if TYPE_CHECKING:
    from her2sim.model.network import Model

__all__ = ["graph_elements", "her2_elements", "legend", "model_graph", "register_zoom", "stylesheet", "view"]

#: Fill of a node that is off (probability 0) and on (1); of a node not simulated yet.
OFF, ON, UNKNOWN = "#FFFFFF", "#E69F00", "#DDDDDD"
#: Font size of node labels, in graph units: a view fitted to its box keeps them legible.
FONT = 13


def stylesheet(font: int = FONT) -> list[dict[str, Any]]:
    """Cytoscape styles of a network view (labels of ``font`` graph units)."""
    return [
        {"selector": "node", "style": {
            "label": "data(label)", "text-wrap": "wrap", "font-size": font, "text-valign": "center",
            "text-halign": "center", "shape": "round-rectangle", "width": "data(width)", "height": 2.9 * font,
            "border-width": 1, "border-color": "#444", "color": "#000",
            "background-color": f"mapData(activity, 0, 1, {OFF}, {ON})"}},
        {"selector": ".unknown", "style": {"background-color": UNKNOWN}},
        {"selector": ".input", "style": {"border-style": "double", "border-width": 4}},
        {"selector": ".fixed", "style": {"border-width": 3.5, "border-color": "#000"}},
        {"selector": "edge", "style": {"curve-style": "bezier", "width": 1.6, "opacity": 0.85, "arrow-scale": 1.2}},
        {"selector": ".activates", "style": {"line-color": ACTIVATION, "target-arrow-color": ACTIVATION,
                                             "target-arrow-shape": "triangle"}},
        {"selector": ".inhibits", "style": {"line-color": INHIBITION, "target-arrow-color": INHIBITION,
                                            "target-arrow-shape": "tee"}},
        {"selector": ".mixed", "style": {"line-color": BOTH, "target-arrow-color": BOTH, "line-style": "dashed",
                                         "target-arrow-shape": "vee"}},
    ]  # fmt: skip


def _node(name: str, value: float | None, fixed: str, classes: list[str], font: int = FONT) -> dict[str, Any]:
    """A node element: labelled with its probability (or its fixed value), as wide as its label."""
    label = name if value is None else f"{name}\n{value:.2f}"
    if fixed:
        label = f"{name}\n{fixed} (fixed)"
    text = max(len(line) for line in label.split("\n"))
    if value is None and not fixed:
        classes = [*classes, "unknown"]
    if fixed:
        classes = [*classes, "fixed"]
    return {"data": {"id": name, "label": label, "activity": 0.5 if value is None else value,
                     "width": round(0.62 * font * text + font)}, "classes": " ".join(classes)}  # fmt: skip


def _edge(source: str, target: str, sign: int) -> dict[str, Any]:
    kind = {1: "activates", -1: "inhibits", 0: "mixed"}[sign]
    return {"data": {"id": f"{source}->{target}", "source": source, "target": target}, "classes": kind}


def her2_elements(nodes: Mapping[str, Mapping[str, float]] | None, condition: str) -> list[dict[str, Any]]:
    """The HER2 model on its hand-made layout, nodes coloured by their steady state under
    ``condition`` (``treated`` or ``untreated``) in ``nodes`` (grey without)."""
    from her2sim.her2.model import load_model
    from her2sim.model.graph import signed_edges
    from her2sim.report.diagram import layout_positions

    elements = []
    for name, (x, y) in layout_positions().items():
        value = None if nodes is None or name not in nodes else nodes[name][condition]
        element = _node(name, value, "", [])
        element["position"] = {"x": 125 * x, "y": -62 * y}
        elements.append(element)
    elements += [_edge(s, t, sign) for s, t, sign in signed_edges(load_model()) if s != t]
    return elements


def model_graph(model: Model) -> dict[str, Any]:
    """What a view needs of ``model``, as JSON: node names, inputs and signed edges."""
    from her2sim.model.graph import signed_edges

    return {"nodes": list(model.names), "inputs": list(model.inputs()),
            "edges": [[s, t, sign] for s, t, sign in signed_edges(model)]}  # fmt: skip


def graph_elements(
    graph: Mapping[str, Any], final: Mapping[str, float] | None = None, on: Sequence[str] = (), off: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """Elements of a :func:`model_graph`: nodes coloured by ``final`` (probability on; grey
    without), those in ``on`` and ``off`` marked fixed. They carry no positions: the force
    layout places them once, and new colours leave them where they are. An input's self-loop
    (its rule is itself) is left out: the double border says it."""
    inputs = set(graph["inputs"])
    elements = []
    for name in graph["nodes"]:
        fixed = "ON" if name in on else "OFF" if name in off else ""
        value = None if final is None else final.get(name)
        elements.append(_node(name, value, fixed, ["input"] if name in inputs else []))
    elements += [_edge(s, t, sign) for s, t, sign in graph["edges"] if not (s == t and s in inputs)]
    return elements


#: The force-directed layout of an uploaded model, run when its nodes arrive.
FORCE_LAYOUT = {"name": "cose", "animate": False, "randomize": True, "fit": True, "padding": 16,
                "nodeDimensionsIncludeLabels": True, "idealEdgeLength": 50, "nodeRepulsion": 4500,
                "componentSpacing": 40, "numIter": 1500}  # fmt: skip


def _swatch(colour: str, border: str = "1px solid #444") -> dict[str, Any]:
    return {"display": "inline-block", "width": "1.4em", "height": "0.9em", "background": colour,
            "border": border, "verticalAlign": "middle", "marginRight": "0.3em"}  # fmt: skip


def legend(inputs: bool = False, fixed: bool = False) -> Any:
    """The key of a view: edge kinds, the fill scale and, when asked, inputs and fixed nodes."""
    from dash import html

    def item(*children: Any) -> Any:
        return html.Span(children, style={"whiteSpace": "nowrap", "marginRight": "1.1em"})

    def line(colour: str, glyph: str, text: str) -> Any:
        return item(html.Span(glyph, style={"color": colour, "fontWeight": "bold", "marginRight": "0.3em"}), text)

    parts = [
        line(ACTIVATION, "──▶", "activates"),
        line(INHIBITION, "──┤", "inhibits"),
        line(BOTH, "╌╌›", "both"),
        item("P(on): 0", html.Span(style={**_swatch(f"linear-gradient(to right, {OFF}, {ON})"), "width": "4em"}), "1"),
        item(html.Span(style=_swatch(UNKNOWN)), "not simulated"),
    ]
    if inputs:
        parts.append(item(html.Span(style=_swatch(OFF, "4px double #444")), "input"))
    if fixed:
        parts.append(item(html.Span(style=_swatch(OFF, "3px solid #000")), "fixed by a mutation"))
    return html.Div(parts, className="legend", style={"fontSize": 13, "lineHeight": "1.8"})


def view(graph_id: str, elements: list[dict[str, Any]], layout: Mapping[str, Any], legend_box: Any,
         caption: Any, height: str = "640px", wide: bool = False) -> Any:  # fmt: skip
    """A network view: caption, zoom buttons, legend and the graph, fitted to its box (a small
    model at most twice its size: its labels stay in proportion).

    ``wide`` keeps the graph at least 820 px wide on a narrow screen (its box scrolls
    sideways), so a layout of many nodes keeps legible labels.
    """
    import dash_cytoscape as cyto
    from dash import dcc, html

    buttons = html.Div(
        [html.Button(text, id=f"{graph_id}-{what}", title=tip, className="small")
         for what, text, tip in (("zoom-in", "+", "zoom in"), ("zoom-out", "−", "zoom out"),
                                 ("fit", "Fit", "show the whole network"))]
        + [html.Span("Ctrl + wheel zooms; drag to move", style={"fontSize": 12, "color": "#555"})],
        style={"display": "flex", "gap": "0.4em", "alignItems": "center", "flexWrap": "wrap"},
    )  # fmt: skip
    graph = cyto.Cytoscape(
        id=graph_id, elements=elements, layout=dict(layout), stylesheet=stylesheet(),
        userZoomingEnabled=False, minZoom=0.1, maxZoom=2, boxSelectionEnabled=False,
        className="network-wide" if wide else "network", style={"width": "100%", "height": height},
    )  # fmt: skip
    stores = [dcc.Store(id=f"{graph_id}-zoomed"), dcc.Store(id=f"{graph_id}-wheel")]  # the zoom callbacks' outputs
    return html.Div(
        [caption, buttons, legend_box, html.Div(graph, className="network-box"), *stores],
        style={"display": "flex", "flexDirection": "column", "gap": "0.3em"},
    )


_ZOOM = """function(zoomIn, zoomOut, fit) {
    const box = document.getElementById(%(id)r);
    const cy = box && box._cyreg && box._cyreg.cy;
    const trigger = ((dash_clientside.callback_context.triggered || [])[0] || {}).prop_id || "";
    if (cy && trigger.endsWith("-fit.n_clicks")) {
        cy.fit(undefined, 16);  // the padding of the layouts
    } else if (cy && trigger) {
        const factor = trigger.includes("-zoom-in.") ? 1.3 : 1 / 1.3;
        cy.zoom({level: cy.zoom() * factor, renderedPosition: {x: cy.width() / 2, y: cy.height() / 2}});
    }
    return trigger;
}"""

_WHEEL = """function(id) {
    const box = document.getElementById(id);
    if (box && !box.dataset.wheel) {
        box.dataset.wheel = "ctrl";
        box.addEventListener("wheel", function (event) {
            const cy = box._cyreg && box._cyreg.cy;
            if (!cy || !(event.ctrlKey || event.metaKey)) { return; }  // without a modifier the page scrolls
            event.preventDefault();
            const edge = box.getBoundingClientRect();
            cy.zoom({level: cy.zoom() * Math.pow(1.002, -event.deltaY),
                     renderedPosition: {x: event.clientX - edge.left, y: event.clientY - edge.top}});
        }, {passive: false});
    }
    return id;
}"""


def register_zoom(app: Any, graph_id: str) -> None:
    """The browser-side callbacks of a view's zoom: its buttons, and Ctrl + wheel over it."""
    from dash import Input, Output

    app.clientside_callback(
        _ZOOM % {"id": graph_id},
        Output(f"{graph_id}-zoomed", "data"),
        Input(f"{graph_id}-zoom-in", "n_clicks"),
        Input(f"{graph_id}-zoom-out", "n_clicks"),
        Input(f"{graph_id}-fit", "n_clicks"),
        prevent_initial_call=True,
    )
    app.clientside_callback(_WHEEL, Output(f"{graph_id}-wheel", "data"), Input(graph_id, "id"))
