"""The explorer's "Your model" tab: upload a model, fix nodes, set parameters, simulate, look.

The tab opens on the package's example model (:data:`her2sim.web.own.EXAMPLE`). An upload is
checked for size in the browser (a file over the limit is never sent) and read on the server
by :func:`her2sim.web.own.read_upload`; its one-line error, if any, is the upload's status
line. **Run** is a background job (:func:`her2sim.web.own.own_answer`) with progress and
Cancel, like the other tabs. The page keeps the upload and the last answer in stores, so the
views (network, trajectories of the chosen nodes, final states) redraw without simulating.
"""

from __future__ import annotations

from typing import Any

from dash import no_update

from her2sim.errors import Her2simError
from her2sim.web.figures import placeholder, states_figure, trajectory_figure
from her2sim.web.network import FORCE_LAYOUT, graph_elements, legend, model_graph, register_zoom, view
from her2sim.web.own import (
    MAX_UPLOAD,
    OWN_LIMITS,
    Upload,
    decode_upload,
    own_answer,
    parse_own_request,
    read_upload,
)

__all__ = ["own_status_only", "own_tab", "register_own"]

#: Node trajectories drawn at first: the ones that change most.
FIRST_NODES = 6
_ACCEPT = ".bnet,.bnd,.cfg,.sbml,.xml,.booleannet"
_MB = MAX_UPLOAD / 1024 / 1024

#: In the browser: refuse an upload over the limit before it is sent, with the size in the
#: status line; else pass the files on to the server's reader.
_CHECK_SIZE = f"""function(contents, names) {{
    const none = window.dash_clientside.no_update;
    if (!contents || !contents.length) {{ return [none, none]; }}
    let total = 0;
    for (const content of contents) {{ total += Math.floor((content.length - content.indexOf(",") - 1) * 3 / 4); }}
    if (total > {MAX_UPLOAD}) {{
        return [none, "error: " + names.join(" + ") + " is " + (total / 1048576).toFixed(1) +
                " MB, more than the {_MB:g} MB the explorer reads; simulate larger models with `her2sim simulate`"];
    }}
    return [{{names: names, contents: contents}}, "reading " + names.join(" + ") + " ..."];
}}"""


def own_status_only(message: str) -> tuple[Any, ...]:
    """The Run callback's outputs that change nothing but the status line."""
    return (no_update, message)


def _model_state(upload: Upload) -> tuple[dict[str, Any], str, list[str], list[dict[str, str]], str]:
    """What the page keeps of an upload (files and graph), its status line, its node names,
    its parameter rows and its max time."""
    model, config = read_upload(upload)
    graph = model_graph(model)
    rows = [{"parameter": f"${name}", "value": f"{value:g}"} for name, value in model.parameters]
    counts = ((len(model), "node"), (len(graph["inputs"]), "input"), (len(graph["edges"]), "regulation"),
              (len(rows), "parameter"))  # fmt: skip
    status = f"read {upload.label}: " + ", ".join(f"{n} {what}{'' if n == 1 else 's'}" for n, what in counts)
    stored = {**upload.to_json(), "graph": graph, "name": model.name or upload.label}
    return stored, status, list(model.names), rows, f"{config.max_time:g}"


def _text_input(id_: str, value: str, label: str) -> list[Any]:
    """A labelled number field as text: a value out of range is sent as typed, and echoed."""
    from dash import dcc, html

    # "decimal" is a valid HTML inputmode (a keypad with a decimal point); dcc.Input's generated
    # type hints list only the modes Dash's documentation names
    field = dcc.Input(id=id_, type="text", inputMode="decimal", value=value,  # type: ignore[arg-type]
                      debounce=True, style={"width": "8em"})  # fmt: skip
    return [html.Label(label, htmlFor=id_), field]


def own_tab(upload: Upload) -> tuple[Any, Any]:
    """The tab's controls and results, showing ``upload`` (the example) before any upload."""
    from dash import dcc, html
    from dash.dash_table.DataTable import DataTable

    stored, status, names, rows, max_time = _model_state(upload)
    controls = html.Div(
        [
            dcc.Upload(
                html.Div(
                    [
                        "Drop a model here or ",
                        html.U("choose a file"),
                        html.Br(),
                        html.Small(
                            f".bnet, .bnd + .cfg (choose both), SBML-qual (.sbml, .xml), .booleannet; up to {_MB:g} MB"
                        ),
                    ]
                ),
                id="own-upload",
                multiple=True,
                accept=_ACCEPT,
                className="upload",
            ),
            html.Div(
                f"{status} (the example; upload your own above)",
                id="own-upload-status",
                role="status",
                className="status",
            ),
            html.Label("Fix ON (mutation)", htmlFor="own-on"),
            dcc.Dropdown(id="own-on", options=names, value=[], multi=True, placeholder="nodes held on"),
            html.Label("Fix OFF (knock-out)", htmlFor="own-off"),
            dcc.Dropdown(id="own-off", options=names, value=[], multi=True, placeholder="nodes held off"),
            html.Label("Parameters (click a value to change it)"),
            DataTable(
                id="own-parameters",
                # Dash's generated hint is an invariant dict[str | float | int, ...]: dict[str, str] rows fit it
                data=rows,  # type: ignore[arg-type]
                editable=True,
                columns=[{"name": "parameter", "id": "parameter", "editable": False}, {"name": "value", "id": "value"}],
                style_cell={"fontFamily": "sans-serif", "fontSize": 13, "textAlign": "left"},
            ),
            *_text_input("own-max-time", max_time, "Max time (model rate units)"),
            *_text_input(
                "own-samples", "1000", f"Trajectories ({OWN_LIMITS['min_samples']}-{OWN_LIMITS['max_samples']})"
            ),
            html.Div(
                [html.Button("Run", id="own-run"), html.Button("Cancel", id="own-cancel", disabled=True)],
                className="buttons",
            ),
            html.Progress(id="own-progress", value="0", max="3", style={"width": "100%"}),
            html.Div(id="own-status", role="status", className="status"),
            dcc.Store(id="own-model", data=stored),
            dcc.Store(id="own-upload-checked"),
            dcc.Store(id="own-answer"),
        ],
        className="controls",
    )
    caption = html.Div(id="own-caption", className="caption")
    results = html.Div(
        [
            html.H3(stored["name"], id="own-headline"),
            view(
                "own-network",
                graph_elements(stored["graph"]),
                FORCE_LAYOUT,
                legend(inputs=True, fixed=True),
                caption,
                height="520px",
            ),
            html.Label("Nodes to plot", htmlFor="own-plot-nodes"),
            dcc.Dropdown(id="own-plot-nodes", options=[], value=[], multi=True),
            dcc.Graph(id="own-trajectories", figure=placeholder("Run to see the node trajectories here.")),
            dcc.Graph(id="own-states", figure=placeholder("Run to see the states trajectories end in here.")),
            html.Ul(id="own-notes", className="notes"),
        ],
        className="results",
    )
    return controls, results


def _changing(answer: dict[str, Any]) -> list[str]:
    """The nodes whose probability changes most over the run, :data:`FIRST_NODES` at most."""
    spans = {name: max(values) - min(values) for name, values in answer["trajectories"].items()}
    return sorted(spans, key=lambda name: -spans[name])[:FIRST_NODES]


def register_own(app: Any, results_dir: str) -> None:
    """The tab's callbacks: the upload (checked in the browser, read on the server), Run and
    Cancel, and the views of the last answer."""
    from dash import Input, Output, State, html

    app.clientside_callback(
        _CHECK_SIZE,
        Output("own-upload-checked", "data"),
        Output("own-upload-status", "children"),
        Input("own-upload", "contents"),
        State("own-upload", "filename"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output("own-model", "data"),
        Output("own-upload-status", "children", allow_duplicate=True),
        Output("own-on", "options"),
        Output("own-on", "value"),
        Output("own-off", "options"),
        Output("own-off", "value"),
        Output("own-parameters", "data"),
        Output("own-max-time", "value"),
        Output("own-answer", "data", allow_duplicate=True),
        Input("own-upload-checked", "data"),
        prevent_initial_call=True,
    )
    def uploaded(checked: Any) -> Any:
        try:
            checked = checked if isinstance(checked, dict) else {}
            stored, status, names, rows, max_time = _model_state(
                decode_upload(checked.get("names") or [], checked.get("contents") or [])
            )
        except Her2simError as exc:
            return (no_update, f"error: {exc}", *(no_update,) * 7)
        return stored, status, names, [], names, [], rows, max_time, None

    @app.callback(
        Output("own-answer", "data"),
        Output("own-status", "children"),
        Input("own-run", "n_clicks"),
        State("own-model", "data"),
        State("own-on", "value"),
        State("own-off", "value"),
        State("own-parameters", "data"),
        State("own-max-time", "value"),
        State("own-samples", "value"),
        background=True,
        running=[(Output("own-run", "disabled"), True, False), (Output("own-cancel", "disabled"), False, True)],
        cancel=[Input("own-cancel", "n_clicks")],
        progress=[Output("own-progress", "value"), Output("own-status", "children")],
        prevent_initial_call=True,
    )
    def run_own(set_progress: Any, _: int, stored: Any, on: Any, off: Any, rows: Any, max_time: Any,
                samples: Any) -> Any:  # fmt: skip
        try:
            upload = Upload.from_json(stored)
            model, _config = read_upload(upload)
            params = {"on": on, "off": off, "parameters": rows, "max_time": max_time, "samples": samples}
            answer = own_answer(upload, parse_own_request(model, params), results_dir,
                                lambda i, what: set_progress((str(i), what)))  # fmt: skip
        except Her2simError as exc:
            return own_status_only(f"error: {exc}")
        return answer, f"done ({answer['samples']} trajectories to time {answer['max_time']:g})"

    @app.callback(
        Output("own-plot-nodes", "options"),
        Output("own-plot-nodes", "value"),
        Input("own-answer", "data"),
    )
    def plotted_nodes(answer: Any) -> tuple[list[str], list[str]]:
        if not answer:
            return [], []
        return list(answer["trajectories"]), _changing(answer)

    @app.callback(
        Output("own-trajectories", "figure"),
        Input("own-plot-nodes", "value"),
        State("own-answer", "data"),
    )
    def trajectories(nodes: Any, answer: Any) -> Any:
        if not answer:
            return placeholder("Run to see the node trajectories here.")
        nodes = [n for n in nodes or [] if n in answer["trajectories"]]
        if not nodes:
            return placeholder("Choose nodes to plot above.")
        title = f"Node trajectories: {answer['model']}, {answer['samples']} trajectories"
        return trajectory_figure(answer["time"], answer["trajectories"], nodes, title)

    @app.callback(
        Output("own-network", "elements"),
        Output("own-caption", "children"),
        Output("own-states", "figure"),
        Output("own-headline", "children"),
        Output("own-notes", "children"),
        Input("own-answer", "data"),
        Input("own-model", "data"),
    )
    def views(answer: Any, stored: Any) -> Any:
        graph, name = stored["graph"], stored["name"]
        if not answer:
            caption = "Not simulated yet: Run colours each node by the probability that it is on at the end."
            return (graph_elements(graph), caption, placeholder("Run to see the states trajectories end in here."),
                    name, [])  # fmt: skip
        fixed = [f"{n} ON" for n in answer["on"]] + [f"{n} OFF" for n in answer["off"]]
        changed = [f"${k} = {v:g}" for k, v in answer["parameters"].items()]
        edits = ", ".join(fixed + changed) or "no mutation"
        caption = (f"Node colour: probability on in the last time window (from {answer['time'][-1]:g} to "
                   f"{answer['max_time']:g}), {answer['samples']} trajectories; {edits}.")  # fmt: skip
        states = states_figure(answer["final_states"], f"Final states at time {answer['max_time']:g}")
        notes = [html.Li(note) for note in answer["notes"]]
        return (graph_elements(graph, answer["final"], answer["on"], answer["off"]), caption, states,
                f"{name}: {edits}", notes)  # fmt: skip

    register_zoom(app, "own-network")
