"""A tumour as data: clones with HER2 levels and alterations, and a treatment schedule.

A tumour file (YAML) names its clones (share of the tumour, HER2 IHC level, alterations), its
size in cells, its untreated doubling time, and optionally a schedule: lines of therapy with a
start (a day, or ``progression`` to start when the previous line fails) and a stop. Every
field is checked before anything runs; errors name the file and the field.

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
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from her2sim.errors import ConfigError, Her2simError, ModelFormatError
from her2sim.files import parse_yaml, read_text
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
        _check_schedule(schedule, self.source)
        return replace(self, schedule=schedule)


def _field(source: str, where: str, message: str) -> ConfigError:
    return ConfigError(f"{source}: {where}: {message}")


def _number(value: Any, source: str, where: str, *, positive: bool = False) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise _field(source, where, f"must be a number, got {value!r}") from None
    if not math.isfinite(x) or x < 0 or (positive and x == 0):
        raise _field(source, where, f"must be a finite number {'>' if positive else '>='} 0, got {value!r}")
    return x


def _clone(raw: Any, i: int, source: str) -> Clone:
    where = f"clones[{i}]"
    if not isinstance(raw, dict):
        raise _field(source, where, "must be a mapping with name, fraction, her2 and optional alterations")
    unknown = sorted(set(raw) - {"name", "fraction", "her2", "alterations"})
    if unknown:
        raise _field(source, f"{where}.{unknown[0]}", "unknown field (name, fraction, her2, alterations)")
    her2 = str(raw.get("her2", "3+")).strip().upper().replace("IHC", "").strip()
    if her2 not in HER2_LEVELS:
        raise _field(source, f"{where}.her2", f"must be one of {', '.join(HER2_LEVELS)}, got {raw.get('her2')!r}")
    alterations = raw.get("alterations") or []
    if not isinstance(alterations, list):
        raise _field(source, f"{where}.alterations", "must be a list of alteration names")
    clone = Clone(
        name=str(raw.get("name", f"clone {i + 1}")),
        fraction=_number(raw.get("fraction"), source, f"{where}.fraction", positive=True),
        her2=her2,
        alterations=tuple(str(a) for a in alterations),
    )
    from her2sim.her2.alterations import alteration_library

    try:
        alteration_library().context(clone.context)
    except Her2simError as exc:
        raise _field(source, f"{where}.alterations", str(exc)) from None
    return clone


def _line(raw: Any, i: int, source: str) -> Line:
    where = f"schedule[{i}]"
    if not isinstance(raw, dict) or "therapy" not in raw:
        raise _field(source, where, "must be a mapping with therapy, start and optional stop")
    unknown = sorted(set(raw) - {"therapy", "start", "stop"})
    if unknown:
        raise _field(source, f"{where}.{unknown[0]}", "unknown field (therapy, start, stop)")
    from her2sim.her2.therapies import therapy_library

    therapy = str(raw["therapy"])
    try:
        therapy_library().regimen(therapy)
    except Her2simError as exc:
        raise _field(source, f"{where}.therapy", str(exc)) from None
    start_raw = raw.get("start", 0)
    start: float | str = (
        "progression"
        if str(start_raw).strip().lower() == "progression"
        else _number(start_raw, source, f"{where}.start")
    )
    stop = None if raw.get("stop") is None else _number(raw["stop"], source, f"{where}.stop")
    return Line(therapy, start, stop)


def _check_schedule(schedule: tuple[Line, ...], source: str) -> None:
    last_end = last_start = 0.0
    for i, line in enumerate(schedule):
        where = f"schedule[{i}]"
        if isinstance(line.start, float):
            if i > 0 and line.start <= last_start:
                raise _field(source, f"{where}.start", f"day {line.start:g} is not after the previous line's start "
                             f"(day {last_start:g}): schedules go forward in time")  # fmt: skip
            last_start = line.start
            if line.start < last_end:
                raise _field(source, f"{where}.start", f"day {line.start:g} is before the previous line ends "
                             f"(day {last_end:g}): lines may not overlap or go back in time")  # fmt: skip
            if line.stop is not None and line.stop <= line.start:
                raise _field(source, f"{where}.stop", f"must be after start (day {line.start:g})")
        elif i == 0:
            raise _field(source, f"{where}.start", "the first line cannot start at progression")
        if line.stop is not None:
            last_end = max(last_end, line.stop)
        elif i + 1 < len(schedule) and isinstance(schedule[i + 1].start, float):
            last_end = max(last_end, float(schedule[i + 1].start))


def parse_tumour(text: str, source: str = "<tumour>") -> Tumour:
    """Build a :class:`Tumour` from YAML text, checking every field."""
    data = parse_yaml(text, source)
    if not isinstance(data, dict):
        raise ModelFormatError("a tumour file is a YAML mapping (name, cells, clones, schedule)", source)
    unknown = sorted(set(data) - {"name", "cells", "doubling_time_days", "immune_capacity", "clones", "schedule"})
    if unknown:
        raise _field(source, unknown[0],
                     "unknown field (name, cells, doubling_time_days, immune_capacity, clones, schedule)")  # fmt: skip
    raw_clones = data.get("clones")
    if not isinstance(raw_clones, list) or not raw_clones:
        raise _field(source, "clones", "give at least one clone")
    clones = tuple(_clone(raw, i, source) for i, raw in enumerate(raw_clones))
    total = sum(c.fraction for c in clones)
    if abs(total - 1.0) > 1e-6:
        raise _field(source, "clones[].fraction", f"fractions must sum to 1, they sum to {total:g}")
    schedule = tuple(_line(raw, i, source) for i, raw in enumerate(data.get("schedule") or []))
    _check_schedule(schedule, source)
    return Tumour(
        name=str(data.get("name", Path(source).stem)),
        clones=clones,
        cells=_number(data.get("cells", 1e9), source, "cells", positive=True),
        doubling_time_days=_number(data.get("doubling_time_days", 60.0), source, "doubling_time_days", positive=True),
        immune_capacity=_number(data.get("immune_capacity", 1.0), source, "immune_capacity"),
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
