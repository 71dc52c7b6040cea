"""A tumour as data: clones with HER2 levels and alterations, and a treatment schedule.

A tumour file (YAML) names its clones (share of the tumour, HER2 IHC level, alterations), its
size in cells, its untreated doubling time, and optionally a schedule: lines of therapy with a
start (a day, or ``progression`` to start when the previous line fails) and a stop. Every
field is checked before anything runs; errors name the file, the line and the field.

Examples
--------
>>> tumour = parse_tumour('''
... name: demo
... cells: 1e9
... clones:
...   - {name: a, fraction: 0.9, her2: "3+"}
...   - {name: b, fraction: 0.1, her2: "3+", alterations: [PIK3CA:H1047R]}
... schedule:
...   - {therapy: trastuzumab+pertuzumab, start: 0}
...   - {therapy: T-DXd, start: progression}
... ''')
>>> [c.context for c in tumour.clones]
['ERBB2:amp', 'ERBB2:amp; PIK3CA:H1047R']
>>> [(line.therapy, line.start) for line in tumour.schedule]
[('trastuzumab+pertuzumab', 0.0), ('T-DXd', 'progression')]
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from her2sim.errors import ConfigError, Her2simError
from her2sim.files import read_text
from her2sim.formats import records
from her2sim.formats.records import Document, dotted, parse_document
from her2sim.her2.roles import roles

__all__ = ["HER2_LEVELS", "Clone", "Line", "Tumour", "example_names", "parse_tumour", "read_tumour"]

#: IHC score -> alteration of the library setting that HER2 level (``her2/data/roles.yaml``).
HER2_LEVELS = roles().her2_levels


@dataclass(frozen=True)
class Clone:
    """A subpopulation: its name, share of the initial tumour, HER2 level and alterations."""

    name: str
    fraction: float
    her2: str
    alterations: tuple[str, ...] = ()

    @property
    def context(self) -> str:
        """The clone as an alteration context of the cell model."""
        return "; ".join((HER2_LEVELS[self.her2], *self.alterations))


@dataclass(frozen=True)
class Line:
    """One line of therapy: a regimen from ``start`` (a day or ``"progression"``) to ``stop``."""

    therapy: str
    start: float | str
    stop: float | None = None


@dataclass(frozen=True)
class Tumour:
    """Clones, size, untreated doubling time and schedule of one tumour."""

    name: str
    clones: tuple[Clone, ...]
    cells: float = 1e9
    doubling_time_days: float = 60.0
    schedule: tuple[Line, ...] = ()
    source: str = "<tumour>"
    #: The host's capacity for antibody-dependent killing relative to a typical patient.
    immune_capacity: float = 1.0

    def with_schedule(self, schedule: tuple[Line, ...]) -> Tumour:
        """The same tumour under another schedule (checked like a file's)."""

        def fail(path: records.Path, message: str) -> ConfigError:
            return ConfigError(f"{self.source}: {dotted(path)}: {message}")

        _check_schedule(schedule, fail)
        return replace(self, schedule=schedule)


def _number(doc: Document, path: records.Path, value: Any, *, positive: bool = False) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise doc.error(path, f"must be a number, got {value!r}") from None
    if not math.isfinite(x) or x < 0 or (positive and x == 0):
        raise doc.error(path, f"must be a finite number {'>' if positive else '>='} 0, got {value!r}")
    return x


def _clone(doc: Document, i: int, raw: Any) -> Clone:
    at: records.Path = ("clones", i)
    if not isinstance(raw, dict):
        raise doc.error(at, "must be a mapping with name, fraction, her2 and optional alterations")
    unknown = sorted(set(raw) - {"name", "fraction", "her2", "alterations"})
    if unknown:
        raise doc.error((*at, unknown[0]), "unknown field (name, fraction, her2, alterations)")
    her2 = str(raw.get("her2", "3+")).strip().upper().replace("IHC", "").strip()
    if her2 not in HER2_LEVELS:
        raise doc.error((*at, "her2"), f"must be one of {', '.join(HER2_LEVELS)}, got {raw.get('her2')!r}")
    alterations = raw.get("alterations") or []
    if not isinstance(alterations, list):
        raise doc.error((*at, "alterations"), "must be a list of alteration names")
    clone = Clone(
        name=str(raw.get("name", f"clone {i + 1}")),
        fraction=_number(doc, (*at, "fraction"), raw.get("fraction"), positive=True),
        her2=her2,
        alterations=tuple(str(a) for a in alterations),
    )
    from her2sim.her2.alterations import alteration_library

    try:
        alteration_library().context(clone.context)
    except Her2simError as exc:
        raise doc.error((*at, "alterations"), str(exc)) from None
    return clone


def _line(doc: Document, i: int, raw: Any) -> Line:
    at: records.Path = ("schedule", i)
    if not isinstance(raw, dict) or "therapy" not in raw:
        raise doc.error(at, "must be a mapping with therapy, start and optional stop")
    unknown = sorted(set(raw) - {"therapy", "start", "stop"})
    if unknown:
        raise doc.error((*at, unknown[0]), "unknown field (therapy, start, stop)")
    from her2sim.her2.therapies import therapy_library

    therapy = str(raw["therapy"])
    try:
        therapy_library().regimen(therapy)
    except Her2simError as exc:
        raise doc.error((*at, "therapy"), str(exc)) from None
    start_raw = raw.get("start", 0)
    start: float | str = (
        "progression" if str(start_raw).strip().lower() == "progression" else _number(doc, (*at, "start"), start_raw)
    )
    stop = None if raw.get("stop") is None else _number(doc, (*at, "stop"), raw["stop"])
    return Line(therapy, start, stop)


def _check_schedule(schedule: tuple[Line, ...], fail: Callable[[records.Path, str], Her2simError]) -> None:
    """Lines go forward in time without overlapping; ``fail(path, message)`` is the error for
    a problem at ``path`` (located in a file, or naming a schedule given in code)."""
    last_end = last_start = 0.0
    for i, line in enumerate(schedule):
        if isinstance(line.start, float):
            if i > 0 and line.start <= last_start:
                raise fail(("schedule", i, "start"), f"day {line.start:g} is not after the previous line's start "
                           f"(day {last_start:g}): schedules go forward in time")  # fmt: skip
            last_start = line.start
            if line.start < last_end:
                raise fail(("schedule", i, "start"), f"day {line.start:g} is before the previous line ends "
                           f"(day {last_end:g}): lines may not overlap or go back in time")  # fmt: skip
            if line.stop is not None and line.stop <= line.start:
                raise fail(("schedule", i, "stop"), f"must be after start (day {line.start:g})")
        elif i == 0:
            raise fail(("schedule", i, "start"), "the first line cannot start at progression")
        if line.stop is not None:
            last_end = max(last_end, line.stop)
        elif i + 1 < len(schedule) and isinstance(schedule[i + 1].start, float):
            last_end = max(last_end, float(schedule[i + 1].start))


def parse_tumour(text: str, source: str = "<tumour>") -> Tumour:
    """Build a :class:`Tumour` from YAML text, checking every field; a problem names
    ``source:line`` and the field."""
    doc = parse_document(text, source)
    data = doc.data
    if not isinstance(data, dict):
        raise doc.located((), "a tumour file is a YAML mapping (name, cells, clones, schedule)")
    unknown = sorted(set(data) - {"name", "cells", "doubling_time_days", "immune_capacity", "clones", "schedule"})
    if unknown:
        known = "name, cells, doubling_time_days, immune_capacity, clones, schedule"
        raise doc.error((unknown[0],), f"unknown field ({known})")
    raw_clones = data.get("clones")
    if not isinstance(raw_clones, list) or not raw_clones:
        raise doc.error(("clones",), "give at least one clone")
    clones = tuple(_clone(doc, i, raw) for i, raw in enumerate(raw_clones))
    total = sum(c.fraction for c in clones)
    if abs(total - 1.0) > 1e-6:
        raise doc.located(("clones",), f"clones[].fraction: fractions must sum to 1, they sum to {total:g}")
    schedule = tuple(_line(doc, i, raw) for i, raw in enumerate(data.get("schedule") or []))
    _check_schedule(schedule, doc.error)
    return Tumour(
        name=str(data.get("name", Path(source).stem)),
        clones=clones,
        cells=_number(doc, ("cells",), data.get("cells", 1e9), positive=True),
        doubling_time_days=_number(doc, ("doubling_time_days",), data.get("doubling_time_days", 60.0), positive=True),
        immune_capacity=_number(doc, ("immune_capacity",), data.get("immune_capacity", 1.0)),
        schedule=schedule,
        source=source,
    )


def _examples_dir() -> Path:
    return Path(str(resources.files("her2sim.tumour") / "data"))


def example_names() -> list[str]:
    """Names of the built-in tumours."""
    return sorted(p.stem for p in _examples_dir().glob("*.yaml"))


def read_tumour(path: str | os.PathLike[str]) -> Tumour:
    """Read a tumour file, or a built-in one as ``example:NAME``."""
    text = str(path)
    if text.startswith("example:"):
        name = text.split(":", 1)[1]
        if name not in example_names():
            from her2sim.errors import UnknownNameError

            raise UnknownNameError("example tumour", name, example_names())
        path = _examples_dir() / f"{name}.yaml"
    return parse_tumour(read_text(path), str(path))
