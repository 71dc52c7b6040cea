"""Check the model against literature findings written as an expectations table.

The table format (tab-separated, one header line) is that of
``../shared/biology/expectations.tsv``; its columns:

``id``
    unique row id.
``context``
    alteration names separated by ``;`` (the alteration library's names or aliases).
``therapy``
    therapies joined by ``+``, each a therapy-library name or alias, optionally ``name@dose``
    with a unit (``lapatinib@1uM``); without a dose, the drug's standard dose.
``expected``
    ``sensitive`` (effect >= 0.5), ``partial`` (0.2 < effect < 0.5), ``resistant``
    (effect <= 0.2), ``stronger`` or ``weaker`` (by at least 0.05 than the comparison).
``compare_to``
    for ``stronger``/``weaker``: ``therapy:<therapies>`` (same context) or
    ``context:<alterations>`` (same therapy).
``readout``
    ``proliferation`` (default), ``apoptosis``, ``survival``, ``pAKT`` or ``pERK``.
``confidence``, ``source``
    carried through to the report.

The effect ``e`` of a therapy is :func:`her2sim.her2.scenario.effect` of the steady-state
readout against the same context untreated. A row naming an unknown alteration, therapy or
readout is an error: every such problem is reported at once, with its line, and nothing is
simulated. No row is treated specially.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import pandas as pd

from her2sim.errors import ConfigError, Her2simError, ModelValidationError
from her2sim.files import read_text, tsv_rows
from her2sim.her2.alterations import Context
from her2sim.her2.scenario import Her2Simulator, effect, readout_name
from her2sim.her2.therapies import Regimen

__all__ = ["THRESHOLDS", "Expectation", "classify", "parse_expectations", "read_expectations", "validate"]

#: Effect thresholds of the table format.
THRESHOLDS = {"sensitive": 0.5, "resistant": 0.2, "difference": 0.05}
_COLUMNS = ("id", "context", "therapy", "expected", "compare_to", "readout", "confidence", "source")
_OUTCOMES = ("sensitive", "partial", "resistant", "stronger", "weaker")


@dataclass(frozen=True)
class Expectation:
    """One row of an expectations table, its names resolved."""

    id: str
    context: Context
    regimen: Regimen
    expected: str
    compare_context: Context | None
    compare_regimen: Regimen | None
    readout: str
    confidence: str
    source: str
    line: int

    @property
    def compare_label(self) -> str:
        if self.compare_regimen is not None:
            return f"therapy:{self.compare_regimen.label}"
        if self.compare_context is not None:
            return f"context:{self.compare_context.label}"
        return ""


def parse_expectations(
    text: str, source: str = "<expectations>", simulator: Her2Simulator | None = None
) -> list[Expectation]:
    """Parse an expectations table, resolving every name; all problems are raised together."""
    simulator = simulator or Her2Simulator()
    rows, problems, seen = [], [], set()
    for number, values in tsv_rows(text, source, ("id", "context", "therapy", "expected"), _COLUMNS):
        where = f"{source}:{number}: row {values['id'] or '?'}"
        if values["id"] in seen:
            problems.append(f"{where}: duplicate id")
        seen.add(values["id"])
        try:
            rows.append(_row(values, number, simulator))
        except Her2simError as exc:
            problems.append(f"{where}: {exc}")
    if problems:
        raise ModelValidationError(problems, source)
    return rows


def _row(v: dict[str, str], line: int, simulator: Her2Simulator) -> Expectation:
    expected = v["expected"].lower()
    if expected not in _OUTCOMES:
        raise ConfigError(f"expected must be one of {', '.join(_OUTCOMES)}, not {v['expected']!r}")
    context, regimen = simulator.context(v["context"]), simulator.regimen(v["therapy"])
    if not regimen.doses:
        raise ConfigError("the therapy column is empty")
    compare_context = compare_regimen = None
    if expected in ("stronger", "weaker"):
        kind, _, what = v["compare_to"].partition(":")
        if kind.strip() == "therapy" and what.strip():
            compare_regimen = simulator.regimen(what)
        elif kind.strip() == "context" and what.strip():
            compare_context = simulator.context(what)
        else:
            raise ConfigError(f"{expected} needs compare_to 'therapy:<therapies>' or 'context:<alterations>'")
    elif v["compare_to"]:
        raise ConfigError(f"compare_to is only used with stronger/weaker, not {expected}")
    return Expectation(
        id=v["id"],
        context=context,
        regimen=regimen,
        expected=expected,
        compare_context=compare_context,
        compare_regimen=compare_regimen,
        readout=readout_name(v["readout"] or "proliferation"),
        confidence=v["confidence"],
        source=v["source"],
        line=line,
    )


def read_expectations(path: str | os.PathLike[str], simulator: Her2Simulator | None = None) -> list[Expectation]:
    """Read and resolve an expectations table file."""
    return parse_expectations(read_text(path), str(path), simulator)


def classify(e: float) -> str:
    """``sensitive``, ``partial`` or ``resistant`` for an effect, by the table's thresholds.

    >>> classify(0.5), classify(0.3), classify(0.2)
    ('sensitive', 'partial', 'resistant')
    """
    if e >= THRESHOLDS["sensitive"]:
        return "sensitive"
    if e <= THRESHOLDS["resistant"]:
        return "resistant"
    return "partial"


class Compared(Protocol):
    """A row that names an effect and, optionally, what it is compared with (an expectation or a
    measurement); read-only, so frozen dataclasses fit."""

    @property
    def context(self) -> Context: ...

    @property
    def regimen(self) -> Regimen: ...

    @property
    def readout(self) -> str: ...

    @property
    def compare_context(self) -> Context | None: ...

    @property
    def compare_regimen(self) -> Regimen | None: ...


def compared_effects(rows: Sequence[Compared], simulator: Her2Simulator) -> list[tuple[float, float | None]]:
    """Each row's effect and its comparison's effect (None without one): the same readout under
    ``compare_regimen`` in the row's context, or under the row's regimen in ``compare_context``.
    Every scenario is simulated in one batch."""
    untreated = Regimen()
    pairs: list[tuple[Context, Regimen]] = []
    for row in rows:
        pairs += [(row.context, row.regimen), (row.context, untreated)]
        if row.compare_regimen is not None:
            pairs.append((row.context, row.compare_regimen))
        if row.compare_context is not None:
            pairs += [(row.compare_context, row.regimen), (row.compare_context, untreated)]
    simulator.readouts(pairs)  # one batch; the look-ups below hit the cache

    def e(context: Context, regimen: Regimen, readout: str) -> float:
        treated, base = simulator.readouts([(context, regimen), (context, untreated)])
        return effect(readout, treated[readout], base[readout])

    out: list[tuple[float, float | None]] = []
    for row in rows:
        compare = None
        if row.compare_regimen is not None:
            compare = e(row.context, row.compare_regimen, row.readout)
        elif row.compare_context is not None:
            compare = e(row.compare_context, row.regimen, row.readout)
        out.append((e(row.context, row.regimen, row.readout), compare))
    return out


def validate(rows: Sequence[Expectation], simulator: Her2Simulator | None = None) -> pd.DataFrame:
    """Simulate every row (all scenarios in one batch) and judge it.

    Returns one row per expectation: the simulated ``effect``, the comparison's
    ``compare_effect`` where there is one, the ``observed`` class and ``passed``.
    """
    simulator = simulator or Her2Simulator()
    records = []
    for row, (value, compare) in zip(rows, compared_effects(rows, simulator), strict=True):
        if compare is None:
            observed = classify(value)
        elif value - compare >= THRESHOLDS["difference"]:
            observed = "stronger"
        elif compare - value >= THRESHOLDS["difference"]:
            observed = "weaker"
        else:
            observed = "similar"
        records.append(
            {
                "id": row.id,
                "context": row.context.label,
                "therapy": row.regimen.label,
                "readout": row.readout,
                "expected": row.expected,
                "compare_to": row.compare_label,
                "effect": value,
                "compare_effect": compare,
                "observed": observed,
                "passed": observed == row.expected,
                "confidence": row.confidence,
                "source": row.source,
            }
        )
    return pd.DataFrame.from_records(records)
