"""The explorer's Plotly figures, drawn from the service's JSON answers.

Every plot has axis titles with units; probabilities and effects keep a fixed 0-1 axis, so two
runs compare at a glance. A figure that has nothing to show yet is a short text, never empty
axes (:func:`placeholder`). Colours are Okabe-Ito (colour-blind safe), as in
:mod:`her2sim.report`.

Examples
--------
>>> curve = {"therapy": "lapatinib", "context": "ERBB2:amp", "background": "trastuzumab", "unit": "uM",
...          "unit_label": "uM", "dose": [0, 0.01, 1], "effect": [0.4, 0.5, 0.9], "effect_se": [0.02] * 3,
...          "ic50": "IC50 0.2 uM", "emax": 0.8}
>>> figure = dose_figure(curve)
>>> figure.layout.xaxis.title.text, list(figure.layout.yaxis.range)
('dose (uM, log scale)', [-0.05, 1.05])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from her2sim._figure_style import OKABE_ITO, OTHERS

__all__ = [
    "TIME_LABEL",
    "course_figure",
    "dose_figure",
    "placeholder",
    "states_figure",
    "trajectory_figure",
    "tumour_figure",
]

#: The time axis of a logical model: its rates have no unit of their own, so neither has time.
TIME_LABEL = "time (model rate units)"
#: A probability or an effect: a fixed axis with a little room for the error bands.
UNIT_RANGE = [-0.05, 1.05]
_FONT = {"family": "system-ui, sans-serif", "size": 13}


def _layout(figure: Any, title: str, height: int = 340, **more: Any) -> Any:
    """Shared looks: a left-aligned title, the legend under the plot (it fits a narrow screen)."""
    # the legend at the figure's foot, under the axis title, however many lines it wraps to
    looks = {"legend": {"orientation": "h", "yref": "container", "yanchor": "bottom", "y": 0, "x": 0}, **more}
    figure.update_layout(title={"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 15}}, height=height,
                         margin={"t": 64, "l": 64, "r": 16, "b": 40}, font=_FONT, template="plotly_white",
                         **looks)  # fmt: skip
    return figure


def placeholder(text: str) -> Any:
    """A low figure saying ``text``, on lines that fit a narrow screen (a graph is never
    hidden: Plotly sizes a hidden one wrong)."""
    import textwrap

    import plotly.graph_objects as go

    lines = "<br>".join(textwrap.wrap(text, 48))
    figure = go.Figure()
    figure.update_layout(height=110, margin={"t": 10, "b": 10, "l": 10, "r": 10}, xaxis={"visible": False},
                         yaxis={"visible": False}, plot_bgcolor="white", paper_bgcolor="white",
                         annotations=[{"text": lines, "showarrow": False, "xref": "paper", "yref": "paper",
                                       "x": 0.5, "y": 0.5, "font": {"color": "#555", "size": 13}}])  # fmt: skip
    return figure


def course_figure(timecourse: Mapping[str, Sequence[Any]]) -> Any:
    """Proliferation and apoptosis over time, treated (solid) against untreated (dashed)."""
    import plotly.graph_objects as go

    figure = go.Figure()
    rows = list(zip(timecourse["readout"], timecourse["condition"], timecourse["time"], timecourse["probability"],
                    strict=True))  # fmt: skip
    for colour, readout in zip(OKABE_ITO, ("proliferation", "apoptosis"), strict=False):
        for condition, dash in (("treated", "solid"), ("untreated", "dash")):
            points = [(t, p) for r, c, t, p in rows if r == readout and c == condition]
            figure.add_scatter(x=[t for t, _ in points], y=[p for _, p in points], name=f"{readout}, {condition}",
                               line={"dash": dash, "color": colour, "width": 2.2})  # fmt: skip
    return _layout(figure, "Phenotypes over time", height=380, xaxis={"title": TIME_LABEL},
                   yaxis={"title": "probability (0-1)", "range": UNIT_RANGE})  # fmt: skip


def dose_figure(curve: Mapping[str, Any]) -> Any:
    """One drug's dose-response: effect on proliferation (0-1, with a band of one standard
    error) over doses in the unit the drug was given in; the title names the context, the
    background drugs and the IC50 (only inside the tested doses)."""
    import plotly.graph_objects as go

    points = [(d, e, s) for d, e, s in zip(curve["dose"], curve["effect"], curve["effect_se"], strict=True) if d > 0]
    dose, effect = [d for d, _, _ in points], [e for _, e, _ in points]
    upper, lower = [e + s for _, e, s in points], [e - s for _, e, s in points]
    colour = OKABE_ITO[0]
    figure = go.Figure()
    figure.add_scatter(x=dose + dose[::-1], y=upper + lower[::-1], fill="toself", fillcolor="rgba(0,114,178,0.18)",
                       mode="lines", line={"width": 0}, hoverinfo="skip", name="± 1 standard error")  # fmt: skip
    figure.add_scatter(x=dose, y=effect, mode="lines+markers", line={"color": colour, "width": 2.2},
                       name=curve["therapy"], hovertemplate="%{x:.3g}: effect %{y:.2f}<extra></extra>")  # fmt: skip
    background = curve["background"]
    if background:  # dose 0 has no place on a log axis: the background alone is a line
        alone = curve["effect"][curve["dose"].index(0)] if 0 in curve["dose"] else None
        if alone is not None:
            figure.add_hline(y=alone, line_dash="dot", line_color=OTHERS, annotation_text=f"{background} alone",
                             annotation_position="bottom right")  # fmt: skip
    over = f" over {background}" if background else ""
    fitted = f"; largest added effect {curve['emax']:.2f}" if curve.get("emax") is not None else ""
    title = (
        f"{curve['therapy']} in {curve['context']}{over}<br><span style='font-size:13px'>{curve['ic50']}{fitted}</span>"
    )
    return _layout(figure, title, xaxis={"title": f"dose ({curve['unit_label']}, log scale)", "type": "log"},
                   yaxis={"title": "effect on proliferation", "range": UNIT_RANGE})  # fmt: skip


def tumour_figure(tumour: Mapping[str, Any]) -> Any:
    """A year's tumour burden of the scenario's cells under its regimen."""
    import plotly.graph_objects as go

    figure = go.Figure()
    figure.add_scatter(x=tumour["day"], y=tumour["cells"], name="tumour cells", line={"color": OKABE_ITO[2]})
    title = f"A tumour of these cells: best response {tumour['best_response']}"
    return _layout(figure, title, xaxis={"title": "time (days)"}, yaxis={"title": "cells (log scale)", "type": "log"},
                   showlegend=False)  # fmt: skip


def trajectory_figure(time: Sequence[float], trajectories: Mapping[str, Sequence[float]], nodes: Sequence[str],
                      title: str) -> Any:  # fmt: skip
    """The probability that each of ``nodes`` is on over time (pyMaBoSS's ``plot_trajectory``)."""
    import plotly.graph_objects as go

    figure = go.Figure()
    dashes = ("solid", "dash", "dot", "dashdot")
    for k, name in enumerate(nodes):
        figure.add_scatter(x=list(time), y=list(trajectories[name]), name=name, mode="lines",
                           line={"color": OKABE_ITO[k % len(OKABE_ITO)], "dash": dashes[k // len(OKABE_ITO) % 4],
                                 "width": 2.2})  # fmt: skip
    return _layout(figure, title, height=380, xaxis={"title": TIME_LABEL},
                   yaxis={"title": "P(node on)", "range": UNIT_RANGE})  # fmt: skip


def _wrapped(state: str, width: int = 36) -> str:
    """A state name (``A -- B -- C``) on lines of about ``width`` characters; ``<nil>``, the
    state with every node off, in words (Plotly reads text as HTML)."""
    if state == "<nil>":
        return "every node off"
    lines = [""]
    for node in state.split(" -- "):
        joined = f"{lines[-1]} -- {node}" if lines[-1] else node
        if len(joined) > width and lines[-1]:
            lines.append(node)
        else:
            lines[-1] = joined
    return "<br>".join(lines)


def states_figure(states: Sequence[Mapping[str, Any]], title: str) -> Any:
    """The states trajectories end in: a pie of the likeliest, the rest grey (pyMaBoSS's
    ``plot_piechart``)."""
    import plotly.graph_objects as go

    colours = [OTHERS if row["state"].startswith("others (") else OKABE_ITO[k % len(OKABE_ITO)]
               for k, row in enumerate(states)]  # fmt: skip
    figure = go.Figure()
    figure.add_pie(
        labels=[_wrapped(row["state"]) for row in states],
        values=[row["probability"] for row in states],
        marker={"colors": colours, "line": {"color": "white", "width": 1.5}},
        sort=False,
        direction="clockwise",
        textinfo="percent",
        hovertemplate="%{label}<br>%{percent}<extra></extra>",
    )
    return _layout(figure, title, height=300 + 34 * len(states), legend={"orientation": "h", "y": -0.05, "x": 0,
                                                                          "yanchor": "top"})  # fmt: skip
