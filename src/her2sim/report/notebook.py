"""What Jupyter shows for a model or a simulation result: short, bounded HTML.

A model shows its name, size, parameters and a table of nodes with their rules; a result
shows its settings, each node's probability in the last window, the likeliest final states
and the fixed points reached. Tables stop at :data:`MAX_ROWS` rows and long rules are cut,
so an 80-node model or a run that visited a million states still fits on a screen.

Examples
--------
>>> from her2sim.formats.bnet import parse_bnet
>>> html = model_html(parse_bnet("A, A\\nB, A & !B"))
>>> "<td>A &amp; !B</td>" in html, "2 nodes" in html
(True, True)
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING

from her2sim.formats._expr import MABOSS, format_expr

if TYPE_CHECKING:
    from her2sim.engine.result import SimulationResult
    from her2sim.model.expr import Expr
    from her2sim.model.network import Model

__all__ = ["MAX_ROWS", "model_html", "result_html"]

#: Most rows of a table; longer tables show their head and say how many rows are left out.
MAX_ROWS = 30
#: Longest rule or rate shown, in characters.
MAX_RULE = 90
_TABLE = 'style="border-collapse:collapse;font-size:0.9em"'
_CELL = "padding:1px 8px;text-align:left;vertical-align:top"


def _count(n: int, word: str) -> str:
    """``1 node``, ``2 nodes``."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _text(expr: Expr | None) -> str:
    if expr is None:
        return "—"
    text = format_expr(expr, MABOSS)
    return text if len(text) <= MAX_RULE else text[: MAX_RULE - 1] + "…"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], total: int, what: str) -> str:
    """An HTML table of already-escaped cells, with a note when ``total`` rows were cut."""
    head = "".join(f'<th style="{_CELL}">{h}</th>' for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    more = f"<p><i>… and {total - len(rows)} more {what}</i></p>" if total > len(rows) else ""
    return f"<table {_TABLE}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def _bar(p: float) -> str:
    """A probability as a number and a small horizontal bar."""
    width = round(60 * min(max(p, 0.0), 1.0))
    return (f'<span style="display:inline-block;width:{width}px;height:0.7em;background:#0072B2"></span>'
            f'<span style="display:inline-block;width:{60 - width}px;height:0.7em;background:#E8E8E8"></span>'
            f" {p:.3f}")  # fmt: skip


def model_html(model: Model) -> str:
    """A model as HTML: name and size, parameters, and its nodes with rules (and explicit
    rates, when any node has them) and the probability of starting on."""
    inputs = set(model.inputs())
    title = html.escape(model.name or "unnamed model")
    summary = (f"<b>{title}</b>: {_count(len(model), 'node')} ({_count(len(inputs), 'input')}, "
               f"{_count(len(model.outputs()), 'output')}), {_count(len(model.parameters), 'parameter')}")  # fmt: skip
    params = ", ".join(f"${html.escape(k)} = {v:g}" for k, v in model.parameters[:12])
    if len(model.parameters) > 12:
        params += f", … ({len(model.parameters) - 12} more)"
    rates = any(n.rate_up is not None or n.rate_down is not None for n in model.nodes)
    header = ["node", "rule", *(["rate_up", "rate_down"] if rates else []), "P(on) at start"]
    rows = []
    for node in model.nodes[:MAX_ROWS]:
        rule = "input" if node.name in inputs and node.rule is None else html.escape(_text(node.rule))
        cells = [f"<b>{html.escape(node.name)}</b>", rule]
        if rates:
            cells += [html.escape(_text(node.rate_up)), html.escape(_text(node.rate_down))]
        rows.append([*cells, f"{model.initial_probability(node.name):g}"])
    parts = [f"<p>{summary}</p>"]
    if params:
        parts.append(f"<p>parameters: {params}</p>")
    parts.append(_table(header, rows, len(model), "nodes (<code>model.names</code>)"))
    return "<div>" + "".join(parts) + "</div>"


def result_html(result: SimulationResult, states: int = 5) -> str:
    """A result as HTML: its settings, every node's probability in the last window, the
    ``states`` likeliest final states (when state statistics were kept) and the fixed points."""
    meta = result.meta
    name = html.escape(str(meta.get("model") or "unnamed model"))
    parts = [
        f"<p><b>{name}</b>: {meta['sample_count']:,} trajectories to t = {meta['max_time']:g} "
        f"(windows of {meta['time_tick']:g}), seed {meta['seed']}, {_count(meta['threads'], 'thread')}, "
        f"{meta['elapsed_s']:.2f} s</p>"
    ]
    last = result.last_nodes()
    rows = [[html.escape(str(node)), _bar(float(p))] for node, p in last.head(MAX_ROWS).items()]
    tail = f"at t = {result.times[-1]:g}"
    parts.append(_table(["node", f"P(on) {tail}"], rows, len(last), "nodes (<code>result.nodes()</code>)"))
    if result.state_statistics is not None:
        finals = result.final_states()
        rows = [[html.escape(str(s)), f"{p:.3f}"] for s, p in finals.head(states).itertuples(index=False)]
        parts.append(f"<p>likeliest final states (of {len(finals):,}):</p>")
        parts.append(_table(["state", "probability"], rows, len(finals), "states (<code>result.final_states()</code>)"))
    reached = float(result.fixed_prob.sum())
    parts.append(f"<p>{_count(len(result.fixed_prob), 'fixed point')} reached by {reached:.1%} of trajectories"
                 " (<code>result.fixed_points()</code>)</p>")  # fmt: skip
    if result.state_overflow > 0:
        parts.append(f"<p><b>note:</b> up to {result.state_overflow:.1%} of a window's probability found no room "
                     "in the state tables (raise <code>max_states</code>)</p>")  # fmt: skip
    return "<div>" + "".join(parts) + "</div>"
