"""The Dash explorer: pick alterations, therapies and a dose; see the network and the phenotypes.

Runs are background callbacks (a worker process per run, through a disk cache shared with
the server), so a long simulation shows its progress and can be cancelled, and answers are
cached per request (:func:`her2sim.web.service.explore`). At most ``max_jobs`` runs go at a
time; a run beyond them is refused at once with a "busy" status line. ``/api/scenario``
answers the same requests as JSON: a 400 and a one-line message for bad parameters, a 413
for a body over the limit, a 503 when ``max_jobs`` computations run and ``max_waiting`` wait.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import multiprocess
import psutil  # Dash's DiskcacheManager watches its job processes with it (a dash[diskcache] requirement)
from dash import DiskcacheManager, no_update

from her2sim.errors import ConfigError, Her2simError
from her2sim.web.service import LIMITS, BodyTooLarge, Busy, JobSlots, explore, parse_body, parse_request, shown

__all__ = ["create_app"]

#: The dose slider's range: log10 of the multiple of the standard dose.
_SLIDER = (-1, 1)
#: The job handle of a run refused for want of a slot: it has no process.
_REFUSED = "busy"
#: What a job needs, imported once by the fork server rather than by every job.
_JOB_MODULES = [
    "her2sim.web.app",
    "her2sim.her2.scenario",
    "her2sim.experiments.doseresponse",
    "her2sim.tumour.dynamics",
]


class BoundedJobs(DiskcacheManager):
    """Dash's disk-cache job manager, running at most ``max_jobs`` job processes at a time.

    Dash starts one process per background run, however many users click Run. Beyond
    ``max_jobs`` live ones this manager starts none and answers the run with
    ``refused(message)``, the callback's outputs for a "busy" status line (the explorer has one
    background callback); jobs are counted per server process. Jobs start from a fork server
    (preloaded with the model's modules), not by forking the threaded web server: a fork taken
    while another request thread holds SQLite's lock (every poll reads the job cache) leaves the
    job hung for good in its first cache access, holding a slot.
    """

    def __init__(self, cache: Any, max_jobs: int, refused: Callable[[str], Any]) -> None:
        super().__init__(cache)
        self.max_jobs, self.refused = max_jobs, refused
        self._jobs: set[int] = set()
        self._lock = threading.Lock()
        method = "forkserver" if "forkserver" in multiprocess.get_all_start_methods() else "spawn"
        self._processes = multiprocess.get_context(method)
        if method == "forkserver":
            self._processes.set_forkserver_preload(_JOB_MODULES)

    def call_job_fn(self, key: str, job_fn: Any, args: Any, context: Any) -> Any:
        """Start the job in a process of its own, or return the refused handle when none is free."""
        with self._lock:
            self._jobs = {pid for pid in self._jobs if self.job_running(pid)}
            if len(self._jobs) >= self.max_jobs:
                return _REFUSED
            process = self._processes.Process(target=job_fn, args=(key, self._make_progress_key(key), args, context))
            process.start()
            self._jobs.add(process.pid)
            return process.pid

    def job_running(self, job: Any) -> bool:
        try:
            return job != _REFUSED and bool(super().job_running(job))
        except psutil.NoSuchProcess:  # it ended between Dash's two looks at it
            return False

    def terminate_job(self, job: Any) -> None:
        if job != _REFUSED:
            with contextlib.suppress(psutil.NoSuchProcess):  # it ended on its own meanwhile
                super().terminate_job(job)

    def get_result(self, key: str, job: Any) -> Any:
        if job == _REFUSED:
            return self.refused(str(Busy(self.max_jobs)))
        return super().get_result(key, job)


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


def create_app(cache_dir: str | os.PathLike[str] | None = None, max_jobs: int = 2, max_waiting: int = 8) -> Any:
    """The Dash app; results and background jobs share ``cache_dir`` (a temporary one by default).

    At most ``max_jobs`` runs from the page go at a time (more are refused), and at most
    ``max_jobs`` API computations, with ``max_waiting`` more queued (more get a 503).
    """
    import dash_cytoscape as cyto
    import diskcache
    from dash import Dash, Input, Output, State, dash_table, dcc, html
    from flask import jsonify, request

    from her2sim.her2.alterations import alteration_library
    from her2sim.her2.therapies import therapy_library

    api_slots = JobSlots(max_jobs, max_waiting)
    root = Path(cache_dir) if cache_dir else Path(tempfile.mkdtemp(prefix="her2sim-web-"))
    results_dir = str(root / "results")
    manager = BoundedJobs(diskcache.Cache(str(root / "jobs")), max_jobs, _status_only)
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
            answer = explore(parse_request(params), results_dir, slots=api_slots)
        except BodyTooLarge as exc:
            return jsonify({"error": str(exc)}), 413
        except Her2simError as exc:
            return jsonify({"error": str(exc)}), 400
        except Busy as exc:
            return jsonify({"error": str(exc)}), 503, {"Retry-After": "5"}
        return jsonify(answer)

    return app
