"""The Dash explorer: pick alterations, therapies and a dose; see the network and the phenotypes.

Runs are background callbacks (a worker process per run, through a disk cache shared with
the server), so a long simulation shows its progress and can be cancelled (the status line
then reads "cancelled"), and answers are cached per request
(:func:`her2sim.web.service.explore`). At most ``max_jobs`` runs go at a time; a run beyond
them is refused at once with a "busy" status line. ``/api/scenario`` answers the same requests
as JSON: a 400 and a one-line message for bad parameters, a 413 for a body over the limit, a
503 when ``max_jobs`` computations run and ``max_waiting`` wait.

The page has three tabs: **Scenario** (one cell context under therapies: the signalling network
coloured by activity, treated or untreated, phenotypes with standard errors, a dose-response
curve per drug and a tumour), **Trial** (a shipped trial design simulated with virtual
patients, :func:`her2sim.web.service.trial_answer`) and **Your model** (an uploaded model
simulated with mutations, :mod:`her2sim.web.own_tab`), each with its background callback;
``/api/trial`` answers trial requests as JSON. Number fields are text, so a value out of range
is refused with what was typed; on a narrow screen (420 px) the controls go above the results.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import multiprocess
import psutil  # Dash's DiskcacheManager watches its job processes with it (a dash[diskcache] requirement)
from dash import DiskcacheManager, no_update

from her2sim.errors import ConfigError, Her2simError
from her2sim.web.figures import course_figure, dose_figure, placeholder, tumour_figure
from her2sim.web.own_tab import own_status_only
from her2sim.web.service import (
    LIMITS,
    BodyTooLarge,
    Busy,
    JobSlots,
    explore,
    parse_body,
    parse_request,
    parse_trial_body,
    parse_trial_request,
    shown,
    trial_answer,
)

__all__ = ["create_app"]

#: The dose slider's range: log10 of the multiple of the standard dose.
_SLIDER = (-1, 1)
#: The job handle of a run refused for want of a slot (``busy:CALLBACK``): it has no process.
_REFUSED = "busy"
#: Where the trial tab's jobs find the response tables: the server's settings, passed on to each
#: job (jobs fork from a fork server, whose environment is the one it started with).
_TABLE_SETTINGS = ("HER2SIM_CACHE", "XDG_CACHE_HOME")
#: What a job needs, imported once by the fork server rather than by every job.
_JOB_MODULES = [
    "her2sim.web.app",
    "her2sim.her2.scenario",
    "her2sim.experiments.doseresponse",
    "her2sim.tumour.dynamics",
    "her2sim.trials.simulate",
    "her2sim.trials.validate",
]


#: The page's looks: one column of controls beside the results, wrapping under them on a
#: narrow screen (420 px: a phone), where a wide network scrolls sideways instead of shrinking.
_CSS = """
.page { font-family: system-ui, sans-serif; margin: 1em 2em; }
.row { display: flex; flex-wrap: wrap; gap: 1.5em; margin-top: 1em; }
.controls { width: 300px; flex: none; display: flex; flex-direction: column; gap: 0.3em; }
.results { flex: 1 1 520px; min-width: 0; }
.buttons { display: flex; gap: 0.5em; margin-top: 0.6em; }
.status { min-height: 1.3em; overflow-wrap: anywhere; }
.caption { font-size: 14px; color: #222; }
.notes { font-size: 12px; color: #555; }
.upload { border: 2px dashed #888; border-radius: 6px; padding: 0.8em; text-align: center; cursor: pointer; }
button.small { min-width: 2.2em; }
.network-box { border: 1px solid #ddd; overflow-x: auto; }
@media (max-width: 700px) {
  .page { margin: 0.5em; }
  .page h2 { font-size: 1.25em; }
  .controls { width: 100%; }
  .network-wide { min-width: 820px; }
}
"""


class BoundedJobs(DiskcacheManager):
    """Dash's disk-cache job manager, running at most ``max_jobs`` job processes at a time.

    Dash starts one process per background run, however many users click Run. Beyond
    ``max_jobs`` live ones (counted over all the page's background callbacks) this manager
    starts none and answers the run with ``refused[name](message)``, the outputs of the
    callback function called ``name`` for a "busy" status line of its own: the refused handle,
    ``busy:NAME``, names the callback, since Dash asks for a job's result by handle only. Jobs
    are counted per server process. Jobs start from a fork server (preloaded with the model's
    modules), not by forking the threaded web server: a fork taken while another request
    thread holds SQLite's lock (every poll reads the job cache) leaves the job hung for good in
    its first cache access, holding a slot.
    """

    def __init__(self, cache: Any, max_jobs: int, refused: Mapping[str, Callable[[str], Any]]) -> None:
        self.max_jobs, self.refused = max_jobs, dict(refused)
        self._callbacks: dict[Any, str] = {}  # job function -> its callback's name; Dash registers in __init__
        self._jobs: set[int] = set()
        self._lock = threading.Lock()
        super().__init__(cache)
        method = "forkserver" if "forkserver" in multiprocess.get_all_start_methods() else "spawn"
        self._processes = multiprocess.get_context(method)
        if method == "forkserver":
            self._processes.set_forkserver_preload(_JOB_MODULES)

    def make_job_fn(self, fn: Any, progress: Any, key: Any = None) -> Any:
        job_fn = super().make_job_fn(fn, progress, key)
        self._callbacks[job_fn] = getattr(fn, "__name__", "")
        return job_fn

    def call_job_fn(self, key: str, job_fn: Any, args: Any, context: Any) -> Any:
        """Start the job in a process of its own, or return a refused handle when none is free."""
        with self._lock:
            self._jobs = {pid for pid in self._jobs if self.job_running(pid)}
            if len(self._jobs) >= self.max_jobs:
                return f"{_REFUSED}:{self._callbacks.get(job_fn, '')}"
            process = self._processes.Process(target=job_fn, args=(key, self._make_progress_key(key), args, context))
            process.start()
            self._jobs.add(process.pid)
            return process.pid

    def job_running(self, job: Any) -> bool:
        try:
            return not _refused(job) and bool(super().job_running(job))
        except psutil.NoSuchProcess:  # it ended between Dash's two looks at it
            return False

    def terminate_job(self, job: Any) -> None:
        if not _refused(job):
            with contextlib.suppress(psutil.NoSuchProcess):  # it ended on its own meanwhile
                super().terminate_job(job)

    def get_result(self, key: str, job: Any) -> Any:
        if _refused(job):
            refused = self.refused.get(str(job).partition(":")[2])
            return self.UNDEFINED if refused is None else refused(str(Busy(self.max_jobs)))
        return super().get_result(key, job)


def _refused(job: Any) -> bool:
    return isinstance(job, str) and job.partition(":")[0] == _REFUSED


def _dose_multiple(position: Any) -> float:
    """The multiple of the standard dose the slider's ``position`` (its log10) stands for.

    The value comes from the browser, so anything but a number in the slider's range is refused.
    """
    low, high = _SLIDER
    if isinstance(position, bool) or not isinstance(position, (int, float)) or not low <= position <= high:
        raise ConfigError(f"the dose slider runs from {low} to {high} (log10 of the multiple), got {shown(position)}")
    return float(10**position)


def _regimen(chosen: Any, doses: Any) -> Any:
    """The page's therapies: the chosen names, each replaced by its entry in the doses field
    (``lapatinib@250nM``) where it has one; the field's other entries are added. The result is
    checked by :func:`~her2sim.web.service.parse_request`, as a request's therapies are."""
    if doses is not None and not isinstance(doses, str):
        raise ConfigError(f"doses must be text such as lapatinib@250nM, got {shown(doses)}")
    written = [item.strip() for item in (doses or "").replace(";", ",").split(",") if item.strip()]
    if not written or not isinstance(chosen, list):
        return chosen or []
    named = {item.partition("@")[0].strip().lower() for item in written}
    return [name for name in chosen if not (isinstance(name, str) and name.lower() in named)] + written


def _summary_table(rows: list[dict[str, Any]]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The phenotype table: each value with its standard error (``0.416 ± 0.010``)."""
    values = ("untreated", "treated", "effect")
    columns = [{"name": "readout", "id": "readout"}] + [{"name": f"{v} (± SE)", "id": v} for v in values]
    data = [{"readout": row["readout"], **{v: f"{row[v]:.3f} ± {row[f'{v}_se']:.3f}" for v in values}} for row in rows]
    return data, columns


def _network_caption(answer: dict[str, Any] | None, condition: str) -> str:
    """What the network's colours show: which condition, or that nothing ran yet."""
    if answer is None:
        return "Not simulated yet: Run colours each node by the probability that it is on at steady state."
    if condition == "treated":
        return f"Node colour: probability on at steady state, treated ({answer['therapy']}), in {answer['context']}."
    return f"Node colour: probability on at steady state, untreated, in {answer['context']}."


def _status_only(message: str) -> tuple[Any, ...]:
    """The Run callback's outputs that change nothing but the status line."""
    return (no_update,) * 8 + (message,)


def _trial_status_only(message: str) -> tuple[Any, ...]:
    """The trial tab's Run callback's outputs that change nothing but its status line."""
    return (no_update,) * 12 + (message,)


#: Columns of the trial tab's tables: (field, heading).
_SUMMARY_COLUMNS = (("arm", "arm"), ("endpoint", "endpoint"), ("value", "value"), ("ci_low", "95% CI low"),
                    ("ci_high", "95% CI high"), ("n", "n"), ("p_value", "log-rank p"), ("versus", "versus"),
                    ("note", "note"))  # fmt: skip
_COMPARISON_COLUMNS = (("id", "id"), ("arm", "arm"), ("subgroup", "subgroup"), ("endpoint", "endpoint"),
                       ("published", "published"), ("simulated", "simulated"), ("within", "within"))  # fmt: skip
_DRIVER_COLUMNS = (("arm", "arm"), ("mechanism", "largest clone at progression"), ("patients", "patients"))


def _table(rows: list[dict[str, Any]], columns: tuple[tuple[str, str], ...]) -> tuple[list[Any], list[Any]]:
    """DataTable data and columns: numbers to 3 significant digits, booleans as yes/no, None blank."""

    def cell(value: Any) -> Any:
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, float):
            return float(f"{value:.3g}")
        return "" if value is None else value

    data = [{key: cell(row.get(key)) for key, _ in columns} for row in rows]
    return data, [{"name": heading, "id": key} for key, heading in columns]


def _trial_figures(answer: dict[str, Any]) -> tuple[Any, Any]:
    """The Kaplan-Meier figure (empty for a neoadjuvant trial) and the response figure: a
    waterfall per arm, or pCR by arm with the published values."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    name, arms = answer["trial"], answer["arms"]
    if answer["km"] is None:
        km = placeholder(f"{name} is neoadjuvant: its endpoint is pCR at surgery, not progression-free survival")
        response = go.Figure()
        pcr = answer["pcr_pct"] or {}
        response.add_bar(x=arms, y=[pcr.get(arm) for arm in arms], name="simulated")
        published = [r for r in answer["comparison"] if r["endpoint"] == "pCR" and r["subgroup"] == "all"]
        if published:
            response.add_scatter(x=[r["arm"] for r in published], y=[r["published"] for r in published],
                                 mode="markers", marker={"symbol": "diamond", "size": 12, "color": "black"},
                                 name="published")  # fmt: skip
        response.update_layout(title=f"{name}: pathological complete response by arm", height=360,
                               xaxis={"title": "arm"}, yaxis={"title": "pCR (%)", "range": [0, 100]},
                               margin={"t": 40})  # fmt: skip
        return km, response
    km = go.Figure()
    for arm in arms:
        curve = answer["km"][arm]
        km.add_scatter(x=curve["months"], y=curve["survival_pct"], name=arm, mode="lines", line={"shape": "hv"})
    km.update_layout(title=f"{name}: progression-free survival by arm (Kaplan-Meier)", height=380,
                     xaxis={"title": "months since randomisation"}, yaxis={"title": "progression-free (%)",
                     "range": [0, 102]}, margin={"t": 40})  # fmt: skip
    response = make_subplots(rows=len(arms), cols=1, shared_yaxes=True, subplot_titles=arms, vertical_spacing=0.08)
    for row, arm in enumerate(arms, start=1):
        bars = answer["waterfall"][arm]
        response.add_bar(x=list(range(1, len(bars["best_change_pct"]) + 1)), y=bars["best_change_pct"], name=arm,
                         text=bars["response"], hovertemplate="%{y:.0f}% (%{text})", textposition="none",
                         row=row, col=1)  # fmt: skip
        response.update_yaxes(title_text="best change (%)", range=[-105, 105], row=row, col=1)
    response.update_xaxes(title_text="patients, largest growth first", row=len(arms), col=1)
    for level in (20, -30):  # RECIST 1.1: progression (from the nadir), partial response
        response.add_hline(y=level, line_dash="dash", line_width=1, line_color="#444", row="all", col=1)
    response.update_layout(title=f"{name}: best change of the target lesions per patient (RECIST: -30% PR, +20% PD)",
                           height=160 + 220 * len(arms), showlegend=False, margin={"t": 60}, bargap=0)  # fmt: skip
    return km, response


def _job_environment(settings: Mapping[str, str]) -> None:
    """Set this job process's response-table settings to the server's (``settings``)."""
    for name in _TABLE_SETTINGS:
        if name in settings:
            os.environ[name] = settings[name]
        else:
            os.environ.pop(name, None)


def create_app(cache_dir: str | os.PathLike[str] | None = None, max_jobs: int = 2, max_waiting: int = 8) -> Any:
    """The Dash app; results and background jobs share ``cache_dir`` (a temporary one by default).

    At most ``max_jobs`` runs from the page go at a time (more are refused), and at most
    ``max_jobs`` API computations, with ``max_waiting`` more queued (more get a 503).
    """
    import diskcache
    from dash import Dash, Input, Output, State, dcc, html
    from dash.dash_table.DataTable import DataTable
    from flask import jsonify, request

    from her2sim.her2.alterations import alteration_library
    from her2sim.her2.therapies import therapy_library
    from her2sim.trials.design import designs
    from her2sim.web.network import her2_elements, legend, register_zoom, view
    from her2sim.web.own import example_upload
    from her2sim.web.own_tab import own_tab, register_own

    api_slots = JobSlots(max_jobs, max_waiting)
    root = Path(cache_dir) if cache_dir else Path(tempfile.mkdtemp(prefix="her2sim-web-"))
    results_dir = str(root / "results")
    tables = {name: os.environ[name] for name in _TABLE_SETTINGS if name in os.environ}
    refused = {"run": _status_only, "run_trial": _trial_status_only, "run_own": own_status_only}
    manager = BoundedJobs(diskcache.Cache(str(root / "jobs")), max_jobs, refused)
    app = Dash(__name__, title="her2sim explorer", background_callback_manager=manager)
    app.index_string = app.index_string.replace("{%css%}", "{%css%}<style>" + _CSS + "</style>")

    controls = html.Div(
        [
            html.Label("Alterations", htmlFor="alterations"),
            dcc.Dropdown(
                id="alterations", options=[a.name for a in alteration_library()], value=["ERBB2:amp"], multi=True
            ),
            html.Label("Therapies", htmlFor="therapies"),
            dcc.Dropdown(
                id="therapies", options=[d.name for d in therapy_library()], value=["trastuzumab"], multi=True
            ),
            html.Label("Dose (multiple of the standard dose, log scale)"),
            dcc.Slider(
                id="dose", min=_SLIDER[0], max=_SLIDER[1], step=0.1, value=0, marks={-1: "0.1x", 0: "1x", 1: "10x"}
            ),
            html.Label("Doses with units (optional)", htmlFor="doses"),
            dcc.Input(id="doses", type="text", value="", debounce=True, placeholder="lapatinib@250nM, T-DM1@10ug/mL"),
            html.Small(
                "A drug written here takes this dose, not the slider's; its dose-response is drawn in this unit.",
                className="notes",
            ),
            html.Label(
                f"Trajectories per scenario ({LIMITS['min_samples']}-{LIMITS['max_samples']})", htmlFor="samples"
            ),
            dcc.Input(
                id="samples", type="text", inputMode="numeric", value="1000", debounce=True, style={"width": "8em"}
            ),
            html.Div(
                [html.Button("Run", id="run"), html.Button("Cancel", id="cancel", disabled=True)], className="buttons"
            ),
            html.Progress(id="progress", value="0", max="3", style={"width": "100%"}),
            html.Div(id="status", role="status", className="status"),
            dcc.Store(id="scenario-answer"),
        ],
        className="controls",
    )
    network_caption = html.Div(_network_caption(None, "treated"), id="network-caption", className="caption")
    toggle = dcc.RadioItems(
        id="condition", options=[{"label": f" {c}", "value": c} for c in ("treated", "untreated")], value="treated",
        inline=True, inputStyle={"marginLeft": "0.8em"},
    )  # fmt: skip
    results = html.Div(
        [
            html.H3("ERBB2:amp | trastuzumab: not run yet", id="headline"),
            DataTable(
                id="summary", style_cell={"fontFamily": "sans-serif", "fontSize": 13}, style_table={"overflowX": "auto"}
            ),
            html.Div(id="pathway"),
            view(
                "network",
                her2_elements(None, "treated"),
                {"name": "preset", "fit": True, "padding": 16},
                html.Div([html.Div(["Colour nodes by: ", toggle]), legend()]),
                network_caption,
                height="680px",
                wide=True,
            ),
            dcc.Graph(
                id="course",
                figure=placeholder("Choose alterations and therapies, then Run: phenotypes over time appear here."),
            ),
            html.Div(
                [dcc.Graph(figure=placeholder("A dose-response curve of each drug appears here."))], id="dose-curves"
            ),
            dcc.Graph(id="tumour", figure=placeholder("A year of a tumour of these cells appears here.")),
        ],
        className="results",
    )
    trial_controls = html.Div(
        [
            html.Label("Trial design"),
            dcc.Dropdown(
                id="trial",
                options=[{"label": f"{d.name} ({d.setting})", "value": d.name} for d in designs()],
                value="NeoSphere",
                clearable=False,
            ),
            html.Label(
                f"Patients per arm ({LIMITS['min_patients']}-{LIMITS['max_patients']})", htmlFor="trial-patients"
            ),
            dcc.Input(id="trial-patients", type="text", inputMode="numeric", value="100", style={"width": "8em"}),
            html.Div(
                [html.Button("Run", id="trial-run"), html.Button("Cancel", id="trial-cancel", disabled=True)],
                className="buttons",
            ),
            html.Progress(id="trial-progress", value="0", max="3", style={"width": "100%"}),
            html.Div(id="trial-status", role="status", className="status"),
            html.P(
                "A trial's first run simulates its response tables (a minute or more); "
                "later runs of its drugs read them from disk.",
                style={"fontSize": 12, "color": "#555"},
            ),
        ],
        className="controls",
    )
    cells = {"fontFamily": "sans-serif", "fontSize": 13, "textAlign": "left"}
    within = [
        {"if": {"filter_query": f'{{within}} = "{answer}"', "column_id": "within"}, "backgroundColor": colour}
        for answer, colour in (("yes", "#d6e9f5"), ("no", "#fbe0c8"))  # blue and orange, not green and red
    ]
    hidden = {"display": "none"}  # until an answer shows them
    trial_results = html.Div(
        [
            html.H3(id="trial-headline"),
            html.Div(
                [
                    html.H4("Endpoints per arm"),
                    DataTable(id="trial-summary", style_cell=cells),
                    html.H4("Published results against the simulation"),
                    html.P(
                        "Within: inside the tolerance (10 points of a percentage, 30% of a median, "
                        "0.15 of a hazard ratio).",
                        style={"fontSize": 12, "color": "#555"},
                    ),
                    DataTable(id="trial-comparison", style_cell=cells, style_data_conditional=within),
                ],
                id="trial-tables",
                style=hidden,
            ),
            dcc.Graph(
                id="trial-km",
                figure=placeholder(
                    "Choose a trial and click Run: endpoints per arm, published "
                    "results against the simulation and figures appear here."
                ),
            ),
            dcc.Graph(id="trial-response", figure=placeholder("")),
            html.Div(
                [html.H4("What drove progression"), DataTable(id="trial-drivers", style_cell=cells)],
                id="trial-drivers-box",
                style=hidden,
            ),
            html.Ul(id="trial-notes", className="notes"),
        ],
        className="results",
    )
    own_controls, own_results = own_tab(example_upload())
    tabs = [("Scenario", "scenario", controls, results), ("Trial", "trial", trial_controls, trial_results),
            ("Your model", "own", own_controls, own_results)]  # fmt: skip
    app.layout = html.Div(
        [
            html.H2("her2sim explorer: HER2 signalling and therapy resistance"),
            dcc.Tabs(
                id="tabs",
                value="scenario",
                children=[
                    dcc.Tab(label=label, value=value, children=html.Div([left, right], className="row"))
                    for label, value, left, right in tabs
                ],
            ),
        ],
        className="page",
    )

    @app.callback(
        Output("headline", "children"),
        Output("summary", "data"),
        Output("summary", "columns"),
        Output("pathway", "children"),
        Output("scenario-answer", "data"),
        Output("course", "figure"),
        Output("dose-curves", "children"),
        Output("tumour", "figure"),
        Output("status", "children"),
        Input("run", "n_clicks"),
        State("alterations", "value"),
        State("therapies", "value"),
        State("dose", "value"),
        State("doses", "value"),
        State("samples", "value"),
        background=True,
        running=[(Output("run", "disabled"), True, False), (Output("cancel", "disabled"), False, True)],
        cancel=[Input("cancel", "n_clicks")],
        progress=[Output("progress", "value"), Output("status", "children")],
        prevent_initial_call=True,
    )
    def run(set_progress: Any, _: int, alterations: Any, therapies: Any, dose: Any, doses: Any, samples: Any) -> Any:
        try:
            params = {"alterations": alterations or [], "therapies": _regimen(therapies, doses),
                      "dose": _dose_multiple(dose), "samples": samples}  # fmt: skip
            answer = explore(parse_request(params), results_dir, lambda i, what: set_progress((str(i), what)))
        except Her2simError as exc:
            return _status_only(f"error: {exc}")
        rows, columns = _summary_table(answer["summary"])
        headline = f"{answer['context'] or 'no alteration'} | {answer['therapy']}"
        pathway = "Left on under treatment: " + (", ".join(answer["still_on"]) or "none")
        curves = [dcc.Graph(figure=dose_figure(curve)) for curve in answer["dose_response"]] or [
            dcc.Graph(figure=placeholder("Untreated: choose a therapy for its dose-response curve."))
        ]
        kept = {key: answer[key] for key in ("context", "therapy", "nodes")}  # what the network redraws from
        return (headline, rows, columns, pathway, kept, course_figure(answer["timecourse"]), curves,
                tumour_figure(answer["tumour"]), f"done ({answer['samples']} trajectories per scenario)")  # fmt: skip

    @app.callback(
        Output("network", "elements"),
        Output("network-caption", "children"),
        Input("scenario-answer", "data"),
        Input("condition", "value"),
    )
    def network(answer: Any, condition: Any) -> tuple[list[dict[str, Any]], str]:
        condition = "untreated" if condition == "untreated" else "treated"
        return her2_elements(answer["nodes"] if answer else None, condition), _network_caption(answer, condition)

    register_zoom(app, "network")
    register_own(app, results_dir)
    for tab in ("", "trial-", "own-"):
        _register_cancel(app, tab)

    @app.callback(
        Output("trial-headline", "children"),
        Output("trial-summary", "data"),
        Output("trial-summary", "columns"),
        Output("trial-comparison", "data"),
        Output("trial-comparison", "columns"),
        Output("trial-tables", "style"),
        Output("trial-km", "figure"),
        Output("trial-response", "figure"),
        Output("trial-drivers", "data"),
        Output("trial-drivers", "columns"),
        Output("trial-drivers-box", "style"),
        Output("trial-notes", "children"),
        Output("trial-status", "children"),
        Input("trial-run", "n_clicks"),
        State("trial", "value"),
        State("trial-patients", "value"),
        background=True,
        running=[(Output("trial-run", "disabled"), True, False), (Output("trial-cancel", "disabled"), False, True)],
        cancel=[Input("trial-cancel", "n_clicks")],
        progress=[Output("trial-progress", "value"), Output("trial-status", "children")],
        prevent_initial_call=True,
    )
    def run_trial(set_progress: Any, _: int, trial: Any, patients: Any) -> Any:
        _job_environment(tables)
        try:
            asked = parse_trial_request({"trial": trial, "patients": patients})
            answer = trial_answer(asked, results_dir, lambda i, what: set_progress((str(i), what)))
        except Her2simError as exc:
            return _trial_status_only(f"error: {exc}")
        summary, summary_columns = _table(answer["summary"], _SUMMARY_COLUMNS)
        comparison, comparison_columns = _table(answer["comparison"], _COMPARISON_COLUMNS)
        drivers, driver_columns = _table(answer["drivers"], _DRIVER_COLUMNS)
        km, response = _trial_figures(answer)
        neoadjuvant = answer["km"] is None
        headline = [f"{answer['trial']} ({answer['setting']})", html.Br(),
                    html.Small(answer["title"], style={"fontWeight": "normal"})]  # fmt: skip
        notes = [html.Li(note) for note in answer["notes"]]
        if neoadjuvant:
            notes.append(html.Li("A neoadjuvant trial ends at surgery: no progression-free survival, no waterfall "
                                 "and no drivers of progression; pCR is its endpoint."))  # fmt: skip
        if not answer["comparison"]:
            notes.append(html.Li(f"The shipped published table has no row for {answer['trial']}."))
        done = f"done ({answer['patients']} patients per arm, seed {answer['seed']})"
        return (headline, summary, summary_columns, comparison, comparison_columns, {}, km, response, drivers,
                driver_columns, {"display": "none"} if neoadjuvant else {}, notes, done)  # fmt: skip

    def answered(
        parse: Callable[[Any], Any], body: Callable[[bytes], dict[str, Any]], compute: Callable[..., Any]
    ) -> Any:
        """A JSON API answer: the parameters from the query (GET) or the body (POST), or an error."""
        try:
            if request.method == "POST":  # read one byte past the limit, never the whole of a long body
                params = body(request.stream.read(LIMITS["max_body"] + 1))
            else:
                params = request.args.to_dict()
            answer = compute(parse(params), results_dir, slots=api_slots)
        except BodyTooLarge as exc:
            return jsonify({"error": str(exc)}), 413
        except Her2simError as exc:
            return jsonify({"error": str(exc)}), 400
        except Busy as exc:
            return jsonify({"error": str(exc)}), 503, {"Retry-After": "5"}
        return jsonify(answer)

    @app.server.route("/api/scenario", methods=["GET", "POST"])
    def api() -> Any:
        return answered(parse_request, parse_body, explore)

    @app.server.route("/api/trial", methods=["GET", "POST"])
    def api_trial() -> Any:
        return answered(parse_trial_request, parse_trial_body, trial_answer)

    return app


def _register_cancel(app: Any, prefix: str) -> None:
    """The tab's Cancel button (``{prefix}cancel``) leaves a visible "cancelled" in its status line
    and empties its progress bar (the background job itself is cancelled by Dash)."""
    from dash import Input, Output

    @app.callback(
        Output(f"{prefix}status", "children", allow_duplicate=True),
        Output(f"{prefix}progress", "value", allow_duplicate=True),
        Input(f"{prefix}cancel", "n_clicks"),
        prevent_initial_call=True,
    )
    def cancelled(_: int) -> tuple[str, str]:
        return "cancelled", "0"
