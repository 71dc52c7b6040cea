"""The Dash explorer: pick alterations, therapies and a dose; see the network and the phenotypes.

Runs are background callbacks (a worker process per run, through a disk cache shared with
the server), so a long simulation shows its progress and can be cancelled, and answers are
cached per request (:func:`her2sim.web.service.explore`). ``/api/scenario`` answers the same
requests as JSON: a 400 and a one-line message for bad parameters, a 413 for a body over the
limit.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from dash import no_update

from her2sim.errors import ConfigError, Her2simError
from her2sim.web.service import LIMITS, BodyTooLarge, explore, parse_body, parse_request, shown

__all__ = ["create_app"]

#: The dose slider's range: log10 of the multiple of the standard dose.
_SLIDER = (-1, 1)


def _dose_multiple(position: Any) -> float:
    """The multiple of the standard dose the slider's ``position`` (its log10) stands for.

    The value comes from the browser, so anything but a number in the slider's range is refused.
    """
    low, high = _SLIDER
    if isinstance(position, bool) or not isinstance(position, (int, float)) or not low <= position <= high:
        raise ConfigError(f"the dose slider runs from {low} to {high} (log10 of the multiple), got {shown(position)}")
    return float(10**position)


def _network_elements(nodes: dict[str, dict[str, float]] | None, condition: str) -> list[dict[str, Any]]:
    from her2sim.her2.model import load_model
    from her2sim.model.graph import signed_edges
    from her2sim.report.diagram import layout_positions

    positions = layout_positions()
    elements: list[dict[str, Any]] = []
    for name, (x, y) in positions.items():
        value = None if nodes is None else nodes.get(name, {}).get(condition)
        label = name if value is None else f"{name}\n{value:.2f}"
        elements.append({"data": {"id": name, "label": label, "activity": 0.5 if value is None else value},
                         "position": {"x": 110 * x, "y": -75 * y}})  # fmt: skip
    for source, target, sign in signed_edges(load_model()):
        if source != target:
            kind = {1: "activates", -1: "inhibits", 0: "mixed"}[sign]
            elements.append({"data": {"source": source, "target": target}, "classes": kind})
    return elements


_STYLESHEET = [
    {"selector": "node", "style": {
        "label": "data(label)", "text-wrap": "wrap", "font-size": 9, "text-valign": "center",
        "shape": "round-rectangle",
        "width": 70, "height": 30, "border-width": 1, "border-color": "#333",
        "background-color": "mapData(activity, 0, 1, #d73027, #1a9850)"}},
    {"selector": "edge", "style": {"curve-style": "bezier", "width": 1, "opacity": 0.6}},
    {"selector": ".activates", "style": {"line-color": "#2f6f3e", "target-arrow-color": "#2f6f3e",
                                         "target-arrow-shape": "triangle"}},
    {"selector": ".inhibits", "style": {"line-color": "#b03030", "target-arrow-color": "#b03030",
                                        "target-arrow-shape": "tee"}},
    {"selector": ".mixed", "style": {"line-color": "#888", "line-style": "dashed"}},
]  # fmt: skip


def _figures(answer: dict[str, Any]) -> tuple[Any, Any, Any]:
    import plotly.graph_objects as go

    course = go.Figure()
    data = answer["timecourse"]
    for readout in ("proliferation", "apoptosis"):
        for condition, dash in (("treated", "solid"), ("untreated", "dash")):
            rows = [i for i, (r, c) in enumerate(zip(data["readout"], data["condition"], strict=True))
                    if r == readout and c == condition]  # fmt: skip
            course.add_scatter(x=[data["time"][i] for i in rows], y=[data["probability"][i] for i in rows],
                               name=f"{readout}, {condition}", line={"dash": dash})  # fmt: skip
    course.update_layout(title="Phenotypes over time", yaxis={"range": [0, 1]}, height=320, margin={"t": 40})
    dose = go.Figure()
    curve = answer["dose_response"]
    if curve:
        positive = [(d, e) for d, e in zip(curve["dose_nM"], curve["effect"], strict=True) if d > 0]
        dose.add_scatter(
            x=[d for d, _ in positive], y=[e for _, e in positive], mode="lines+markers", name=curve["therapy"]
        )
        ic50 = f", IC50 {curve['ic50_nM']:.3g} nM" if curve["ic50_nM"] else ""
        dose.update_layout(title=f"Dose-response: {curve['therapy']}{ic50}", xaxis={"type": "log", "title": "nM"})
    else:
        dose.update_layout(title="Dose-response: choose a therapy")
    dose.update_layout(yaxis={"title": "effect on proliferation"}, height=320, margin={"t": 40})
    tumour = go.Figure()
    tumour.add_scatter(x=answer["tumour"]["day"], y=answer["tumour"]["cells"], name="tumour cells")
    tumour.update_layout(title=f"Tumour of these cells: best response {answer['tumour']['best_response']}",
                         yaxis={"type": "log", "title": "cells"}, xaxis={"title": "day"}, height=320,
                         margin={"t": 40})  # fmt: skip
    return course, dose, tumour


def _status_only(message: str) -> tuple[Any, ...]:
    """The Run callback's outputs that change nothing but the status line."""
    return (no_update,) * 8 + (message,)


def create_app(cache_dir: str | os.PathLike[str] | None = None) -> Any:
    """The Dash app; results and background jobs share ``cache_dir`` (a temporary one by default)."""
    import dash_cytoscape as cyto
    import diskcache
    from dash import Dash, DiskcacheManager, Input, Output, State, dash_table, dcc, html
    from flask import jsonify, request

    from her2sim.her2.alterations import alteration_library
    from her2sim.her2.therapies import therapy_library

    root = Path(cache_dir) if cache_dir else Path(tempfile.mkdtemp(prefix="her2sim-web-"))
    results_dir = str(root / "results")
    manager = DiskcacheManager(diskcache.Cache(str(root / "jobs")))
    app = Dash(__name__, title="her2sim explorer", background_callback_manager=manager)

    controls = html.Div(
        [
            html.Label("Alterations"),
            dcc.Dropdown(
                id="alterations", options=[a.name for a in alteration_library()], value=["ERBB2:amp"], multi=True
            ),
            html.Label("Therapies"),
            dcc.Dropdown(
                id="therapies", options=[d.name for d in therapy_library()], value=["trastuzumab"], multi=True
            ),
            html.Label("Dose (multiple of the standard dose, log scale)"),
            dcc.Slider(
                id="dose", min=_SLIDER[0], max=_SLIDER[1], step=0.1, value=0, marks={-1: "0.1x", 0: "1x", 1: "10x"}
            ),
            html.Label(f"Trajectories per scenario ({LIMITS['min_samples']}-{LIMITS['max_samples']})"),
            dcc.Input(id="samples", type="number", value=1000, min=LIMITS["min_samples"], max=LIMITS["max_samples"]),
            html.Div(
                [html.Button("Run", id="run"), html.Button("Cancel", id="cancel", disabled=True)],
                style={"marginTop": "0.6em", "display": "flex", "gap": "0.5em"},
            ),
            html.Progress(id="progress", value="0", max="3", style={"width": "100%", "marginTop": "0.5em"}),
            html.Div(id="status", role="status"),
        ],
        style={"width": "300px", "flex": "none", "display": "flex", "flexDirection": "column", "gap": "0.3em"},
    )
    results = html.Div(
        [
            html.H3(id="headline"),
            dash_table.DataTable(id="summary", style_cell={"fontFamily": "sans-serif", "fontSize": 13}),
            html.Div(id="pathway"),
            cyto.Cytoscape(
                id="network",
                elements=_network_elements(None, "treated"),
                layout={"name": "preset"},
                stylesheet=_STYLESHEET,
                style={"width": "100%", "height": "620px"},
            ),
            dcc.Graph(id="course"),
            dcc.Graph(id="dose-curve"),
            dcc.Graph(id="tumour"),
        ],
        style={"flex": "1", "minWidth": "0"},
    )
    app.layout = html.Div(
        [html.H2("her2sim explorer: HER2 signalling and therapy resistance"),
         html.Div([controls, results], style={"display": "flex", "gap": "1.5em"})],
        style={"fontFamily": "system-ui, sans-serif", "margin": "1em 2em"},
    )  # fmt: skip

    @app.callback(
        Output("headline", "children"),
        Output("summary", "data"),
        Output("summary", "columns"),
        Output("pathway", "children"),
        Output("network", "elements"),
        Output("course", "figure"),
        Output("dose-curve", "figure"),
        Output("tumour", "figure"),
        Output("status", "children"),
        Input("run", "n_clicks"),
        State("alterations", "value"),
        State("therapies", "value"),
        State("dose", "value"),
        State("samples", "value"),
        background=True,
        running=[(Output("run", "disabled"), True, False), (Output("cancel", "disabled"), False, True)],
        cancel=[Input("cancel", "n_clicks")],
        progress=[Output("progress", "value"), Output("status", "children")],
        prevent_initial_call=True,
    )
    def run(set_progress: Any, _: int, alterations: list[str], therapies: list[str], dose: float, samples: int) -> Any:
        try:
            params = {"alterations": alterations or [], "therapies": therapies or [],
                      "dose": _dose_multiple(dose), "samples": samples}  # fmt: skip
            answer = explore(parse_request(params), results_dir, lambda i, what: set_progress((str(i), what)))
        except Her2simError as exc:
            return _status_only(f"error: {exc}")
        rows = [{k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items()} for row in answer["summary"]]
        columns = [{"name": c, "id": c} for c in ("readout", "untreated", "treated", "effect")]
        headline = f"{answer['context'] or 'no alteration'} | {answer['therapy']}"
        pathway = "Left on under treatment: " + (", ".join(answer["still_on"]) or "none")
        course, dose_fig, tumour = _figures(answer)
        return (headline, rows, columns, pathway, _network_elements(answer["nodes"], "treated"), course, dose_fig,
                tumour, f"done ({answer['samples']} trajectories per scenario)")  # fmt: skip

    @app.server.route("/api/scenario", methods=["GET", "POST"])
    def api() -> Any:
        try:
            if request.method == "POST":  # read one byte past the limit, never the whole of a long body
                params = parse_body(request.stream.read(LIMITS["max_body"] + 1))
            else:
                params = request.args.to_dict()
            answer = explore(parse_request(params), results_dir)
        except BodyTooLarge as exc:
            return jsonify({"error": str(exc)}), 413
        except Her2simError as exc:
            return jsonify({"error": str(exc)}), 400
        return jsonify(answer)

    return app
