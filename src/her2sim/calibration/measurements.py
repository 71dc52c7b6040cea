"""Measurements the HER2 model is fitted to and judged by: cell-line responses, effect sizes,
clinical subgroup ratios, and the qualitative findings of an expectations table.

A measurement table is tab-separated UTF-8 text with one header line. Its columns:

``id``
    unique row id.
``kind``
    ``effect`` (a measured effect size, ``value`` from -1 to 1; negative when the readout
    rises), ``class`` (a sensitive / partial / resistant call, or ``increase`` for a readout
    that rises by at least the threshold difference, ``response``), ``ratio`` (the effect over the effect of a
    comparison, ``value`` > 0, ``compare_to``), ``stronger`` or ``weaker`` (than the
    comparison by at least 0.05).
``context``
    alterations of the alteration library, separated by ``;``. May be empty when
    ``cell_line`` names a line of the cell-line table, whose context is then used.
``cell_line``
    optional: a line of the cell-line table (``cell_lines.tsv``); its context is used when
    ``context`` is empty and must equal it otherwise.
``therapy``
    therapies joined by ``+``, each a library name or alias, optionally ``name@dose`` with a
    unit (``lapatinib@1uM``).
``readout``
    ``proliferation`` (default), ``apoptosis``, ``survival``, ``pAKT`` or ``pERK``.
``value``, ``sd``
    the measured number and its standard deviation (defaults: 0.1 for ``effect`` and
    ``ratio``); ``sd`` also scales how much a miss costs in a fit.
``response``
    for ``class``: ``sensitive``, ``partial``, ``resistant`` or ``increase``.
``compare_to``
    for ``ratio``, ``stronger`` and ``weaker``: ``therapy:<therapies>`` (same context) or
    ``context:<alterations>`` (same therapy).
``source``
    where the number comes from (required).

The effect of a therapy is :func:`her2sim.her2.scenario.effect` of the steady-state readout
against the same context untreated, with the thresholds of the expectations format
(:data:`her2sim.her2.validation.THRESHOLDS`). Every name is resolved when the table is read;
all problems are reported together, each with its ``file:line``, before any simulation.

A cell-line table (``cell_line``, ``context``, ``not_expressed``, ``source``) maps each line to
a context of the library. Alterations a line carries that the library cannot express are
listed in ``not_expressed``: the line is still used, with its measurements' ``sd`` multiplied
by :data:`INCOMPLETE_CONTEXT_FACTOR` (what its context leaves out may decide its response), and
:func:`unexpressed_report` says what its context leaves out.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from her2sim.errors import ConfigError, Her2simError, ModelFormatError, ModelValidationError, finite_number
from her2sim.files import read_text, tsv_rows
from her2sim.her2.alterations import Context, alteration_library
from her2sim.her2.scenario import readout_name
from her2sim.her2.therapies import Regimen, therapy_library
from her2sim.her2.validation import Expectation

__all__ = [
    "EXPECTATION_SD",
    "INCOMPLETE_CONTEXT_FACTOR",
    "KINDS",
    "CellLine",
    "Measurement",
    "from_expectations",
    "parse_cell_lines",
    "parse_measurements",
    "read_cell_lines",
    "read_measurements",
    "read_tables",
    "shipped_cell_lines",
    "shipped_tables",
    "unexpressed_report",
]

#: Measurement kinds, and the default ``sd`` of those that carry a value.
KINDS = ("effect", "class", "ratio", "stronger", "weaker")
_DEFAULT_SD = {"effect": 0.1, "ratio": 0.1}
_RESPONSES = ("sensitive", "partial", "resistant", "increase")
_COLUMNS = ("id", "kind", "context", "cell_line", "therapy", "readout", "value", "sd", "response", "compare_to",
            "source")  # fmt: skip
_LINE_COLUMNS = ("cell_line", "context", "not_expressed", "source")


@dataclass(frozen=True)
class CellLine:
    """A cell line: its context in the library and the alterations the library cannot express."""

    name: str
    context: Context
    not_expressed: tuple[str, ...]
    source: str
    line: int


@dataclass(frozen=True)
class Measurement:
    """One measured quantity of the model, with where it comes from (see the module docstring)."""

    id: str
    kind: str
    context: Context
    regimen: Regimen
    readout: str
    value: float | None
    sd: float
    response: str
    compare_context: Context | None
    compare_regimen: Regimen | None
    cell_line: str
    source: str
    origin: str

    @property
    def compares(self) -> bool:
        return self.compare_context is not None or self.compare_regimen is not None

    @property
    def label(self) -> str:
        """What was measured, in a few words (``lapatinib in ERBB2:amp; PTEN:loss``)."""
        where = self.cell_line or self.context.label
        return f"{self.regimen.label} in {where}"


# ----------------------------------------------------------------------------- cell lines
def parse_cell_lines(text: str, source: str = "<cell lines>") -> dict[str, CellLine]:
    """Cell lines by name (case-insensitive keys are their lower-case names)."""
    rows = tsv_rows(text, source, ("cell_line", "context", "source"), _LINE_COLUMNS)
    library = alteration_library()
    lines: dict[str, CellLine] = {}
    problems = []
    for number, values in rows:
        where = f"{source}:{number}"
        name = values["cell_line"]
        try:
            if not name:
                raise ConfigError("the cell_line column is empty")
            if name.lower() in lines:
                raise ConfigError(f"cell line {name!r} is listed twice")
            if not values["source"]:
                raise ConfigError(f"cell line {name!r} has no source")
            context = library.context(values["context"])
        except Her2simError as exc:
            problems.append(f"{where}: {exc}")
            continue
        not_expressed = tuple(a.strip() for a in values.get("not_expressed", "").split(";") if a.strip())
        lines[name.lower()] = CellLine(name, context, not_expressed, values["source"], number)
    if problems:
        raise ModelValidationError(problems, source)
    return lines


def read_cell_lines(path: str | os.PathLike[str]) -> dict[str, CellLine]:
    """Read a cell-line table file (see the module docstring)."""
    return parse_cell_lines(read_text(path), str(path))


def unexpressed_report(lines: Iterable[CellLine]) -> list[str]:
    """One line per cell line whose known alterations the library cannot all express."""
    return [
        f"{line.name}: context {line.context.label} leaves out {', '.join(line.not_expressed)}"
        for line in lines
        if line.not_expressed
    ]


# ----------------------------------------------------------------------------- measurements
def parse_measurements(
    text: str, source: str = "<measurements>", cell_lines: dict[str, CellLine] | None = None
) -> list[Measurement]:
    """Parse a measurement table, resolving every name; all problems are raised together."""
    rows = tsv_rows(text, source, ("id", "kind", "therapy", "source"), _COLUMNS)
    out: list[Measurement] = []
    problems: list[str] = []
    seen: set[str] = set()
    for number, values in rows:
        where = f"{source}:{number}: row {values['id'] or '?'}"
        try:
            if values["id"] in seen:
                raise ConfigError("duplicate id")
            seen.add(values["id"])
            out.append(_measurement(values, f"{source}:{number}", cell_lines or {}))
        except Her2simError as exc:
            problems.append(f"{where}: {exc}")
    if problems:
        raise ModelValidationError(problems, source)
    if not out:
        raise ModelFormatError("the table has a header and no rows", source, 1, hint="one measurement per row")
    return out


def read_measurements(path: str | os.PathLike[str], cell_lines: dict[str, CellLine] | None = None) -> list[Measurement]:
    """Read a measurement table file (see the module docstring)."""
    return parse_measurements(read_text(path), str(path), cell_lines)


#: The weight of a curated literature finding: its class or comparison misses are scaled by
#: this sd, ten times smaller than a single paper's call (0.1 in the shipped cell-line table):
#: a finding of the literature table is a consensus over several studies, and the model's
#: default must reproduce every one of them.
EXPECTATION_SD = 0.01
#: A cell line whose context leaves out part of what the line carries (``not_expressed``) tells
#: less about that context: its measurements' sd is multiplied by this factor.
INCOMPLETE_CONTEXT_FACTOR = 2.0


def from_expectations(rows: Sequence[Expectation], source: str = "<expectations>") -> list[Measurement]:
    """An expectations table's rows as measurements: classes and comparisons, no numbers."""
    out = []
    for row in rows:
        kind = row.expected if row.expected in ("stronger", "weaker") else "class"
        out.append(
            Measurement(
                id=row.id,
                kind=kind,
                context=row.context,
                regimen=row.regimen,
                readout=row.readout,
                value=None,
                sd=EXPECTATION_SD,
                response=row.expected if kind == "class" else "",
                compare_context=row.compare_context,
                compare_regimen=row.compare_regimen,
                cell_line="",
                source=row.source,
                origin=f"{source}:{row.line}",
            )
        )
    return out


def _measurement(v: dict[str, str], origin: str, cell_lines: dict[str, CellLine]) -> Measurement:
    kind = v["kind"].lower()
    if kind not in KINDS:
        raise ConfigError(f"kind must be one of {', '.join(KINDS)}, not {v['kind']!r}")
    context = _context(v, cell_lines)
    if not v["therapy"]:
        raise ConfigError("the therapy column is empty")
    regimen = therapy_library().regimen(v["therapy"])
    value = finite_number(v["value"], "value") if v["value"] else None
    if kind in ("effect", "ratio") and value is None:
        raise ConfigError(f"a {kind} measurement needs a value")
    if kind == "effect" and value is not None and not -1 <= value <= 1:
        raise ConfigError(f"an effect is a fraction from -1 to 1, got {value:g}")
    if kind == "ratio" and value is not None and value <= 0:
        raise ConfigError(f"a ratio must be > 0, got {value:g}")
    sd = finite_number(v["sd"], "sd") if v["sd"] else _DEFAULT_SD.get(kind, 0.05)
    if not sd > 0:
        raise ConfigError(f"sd must be > 0, got {sd:g}")
    line = cell_lines.get(v["cell_line"].lower()) if v["cell_line"] else None
    if line is not None and line.not_expressed:
        sd *= INCOMPLETE_CONTEXT_FACTOR
    response = v["response"].lower()
    if kind == "class" and response not in _RESPONSES:
        raise ConfigError(f"a class measurement needs response {', '.join(_RESPONSES)}, not {v['response']!r}")
    if kind != "class" and response:
        raise ConfigError(f"response is only used with kind class, not {kind}")
    compare_context, compare_regimen = _comparison(kind, v["compare_to"])
    return Measurement(
        id=v["id"],
        kind=kind,
        context=context,
        regimen=regimen,
        readout=readout_name(v["readout"] or "proliferation"),
        value=value,
        sd=sd,
        response=response,
        compare_context=compare_context,
        compare_regimen=compare_regimen,
        cell_line=cell_lines[v["cell_line"].lower()].name if v["cell_line"] else "",
        source=v["source"],
        origin=origin,
    )


def _context(v: dict[str, str], cell_lines: dict[str, CellLine]) -> Context:
    """The row's context: its own, or its cell line's (which must agree when both are given)."""
    context = alteration_library().context(v["context"]) if v["context"] else None
    if not v["cell_line"]:
        if context is None:
            raise ConfigError("give a context or a cell_line")
        return context
    line = cell_lines.get(v["cell_line"].lower())
    if line is None:
        from her2sim.errors import UnknownNameError

        raise UnknownNameError("cell line", v["cell_line"], [c.name for c in cell_lines.values()])
    if context is not None and context.label != line.context.label:
        raise ConfigError(f"context {context.label!r} differs from cell line {line.name}'s {line.context.label!r}")
    return line.context


def _comparison(kind: str, text: str) -> tuple[Context | None, Regimen | None]:
    if kind not in ("ratio", "stronger", "weaker"):
        if text:
            raise ConfigError(f"compare_to is only used with ratio, stronger and weaker, not {kind}")
        return None, None
    what, _, names = text.partition(":")
    if what.strip() == "therapy" and names.strip():
        return None, therapy_library().regimen(names)
    if what.strip() == "context" and names.strip():
        return alteration_library().context(names), None
    raise ConfigError(f"{kind} needs compare_to 'therapy:<therapies>' or 'context:<alterations>'")


def read_tables(
    paths: Sequence[str | os.PathLike[str]], cell_lines: dict[str, CellLine] | None = None
) -> list[Measurement]:
    """Measurements of several files: measurement tables (a ``kind`` column) and
    expectations tables (an ``expected`` column), told apart by their header."""
    from her2sim.her2.validation import parse_expectations

    out: list[Measurement] = []
    for path in paths:
        text = read_text(path)
        header = next((line for line in text.splitlines() if line.strip() and not line.startswith("#")), "")
        columns = {c.strip() for c in header.split("\t")}
        if "expected" in columns:
            out += from_expectations(parse_expectations(text, str(path)), str(path))
        elif "kind" in columns:
            out += parse_measurements(text, str(path), cell_lines)
        else:
            raise ModelFormatError("neither a measurement table (no 'kind' column) nor an expectations table "
                                   "(no 'expected' column)", str(path), 1)  # fmt: skip
    ids = [m.id for m in out]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise ConfigError(f"measurement id {twice[0]!r} appears in more than one row of the tables given")
    return out


def shipped_tables() -> list[Path]:
    """The HER2 model's own measurements: its literature table and ``data/measurements/*.tsv``
    (the cell-line table itself excepted)."""
    from her2sim.her2.model import data_path

    folder = Path(data_path("measurements"))
    tables = sorted(p for p in folder.glob("*.tsv") if p.name not in ("cell_lines.tsv", "trials_extra.tsv"))
    return [Path(data_path("expectations.tsv")), *tables]


def shipped_cell_lines() -> dict[str, CellLine]:
    """The HER2 model's cell-line table (empty when the package has none)."""
    from her2sim.her2.model import data_path

    path = Path(data_path("measurements")) / "cell_lines.tsv"
    return read_cell_lines(path) if path.is_file() else {}
