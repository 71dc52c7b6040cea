"""Doses and schedules as trials write them, and the administrations they give each patient.

A schedule item is plain data, as a trial design file holds it::

    {drug: trastuzumab, dose: 8 mg/kg, then: 6 mg/kg, every: 3 weeks, until: progression}
    {drug: capecitabine, dose: 1000 mg/m2, times_per_day: 2, days: 1-14, cycle: 3 weeks}
    {drug: carboplatin, dose: AUC 6, every: 3 weeks, cycles: 6}

:func:`parse_schedule` turns one into a :class:`Schedule`, reporting a problem through a callback
so the caller can point at its own file and line; :func:`administrations` lays a schedule out for a
patients table: the dose times (shared) and each patient's amounts in mg, zero from the patient's
stop day (progression or surgery) on.

Words
-----
``dose``           first administration: ``840 mg``, ``8 mg/kg``, ``75 mg/m2``, ``AUC 6`` (carboplatin,
                   Calvert: mg = AUC x (GFR + 25))
``then``           every later administration (a loading dose is ``dose``)
``every``          interval between administrations: ``day``, ``week``, ``3 weeks``, ``12 hours``;
                   with ``days`` it is the cycle length
``cycle``          cycle length, with ``days`` (which days of each cycle carry doses: ``1-14``,
                   ``1, 8``, ``[1, 8, 15]``) and ``times_per_day`` (evenly spread over the day)
``cycles``         number of cycles (or administrations, with ``every``); ``weeks`` total duration
``until``          ``progression`` or ``surgery``: no fixed end (every schedule stops at the stop day)
``start``          ``day 22`` or ``week 13``: when the first cycle starts (default day 1)
``infusion``       infusion time (``90 min``, ``3 hours``), overriding the PK library's
``route``          ``IV``, ``oral``, ``SC`` or ``IM``, as the trial writes it: checked against the PK library
``times_per_day``  alone (without ``every`` or ``cycle``): that many doses every day

Examples
--------
>>> import numpy as np, pandas as pd
>>> item = {"drug": "Herceptin", "dose": "8 mg/kg", "then": "6 mg/kg", "every": "3 weeks", "until": "progression"}
>>> schedule = parse_schedule(item)
>>> schedule.drug, schedule.dose, schedule.then, schedule.cycle_days
('trastuzumab', Dose(value=8.0, unit='mg/kg'), Dose(value=6.0, unit='mg/kg'), 21.0)
>>> patients = pd.DataFrame({"weight_kg": [60.0, 80.0]})
>>> times, amounts = administrations(schedule, patients, horizon_days=63, stop_day=np.array([np.inf, 30.0]))
>>> times
array([ 0., 21., 42.])
>>> amounts
array([[480., 360., 360.],
       [640., 480.,   0.]])
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from her2sim.errors import ConfigError, UnknownNameError, closest
from her2sim.trials.pk import PKLibrary, check_dose_range, dose_mg, pk_library

__all__ = ["SCHEDULE_WORDS", "Dose", "Doses", "ErrorAt", "Schedule", "administrations", "parse_dose", "parse_schedule"]

#: ``where(key, message, hint)`` returns the exception to raise for a problem at ``key`` of an item.
ErrorAt = Callable[[str, str, "str | None"], Exception]

#: Largest patients x administrations matrix :func:`administrations` builds (8 bytes each: 2 GB).
MAX_CELLS = 2**28

#: The words of a schedule item (with ``drug``); trial designs write their schedules in them.
SCHEDULE_WORDS = (
    "dose",
    "then",
    "every",
    "cycle",
    "times_per_day",
    "days",
    "cycles",
    "weeks",
    "until",
    "start",
    "infusion",
    "route",
)
_KEYS = ("drug", *SCHEDULE_WORDS)
_ROUTES = {"iv": "iv", "intravenous": "iv", "oral": "oral", "po": "oral", "sc": "sc", "subcutaneous": "sc",
           "im": "im", "intramuscular": "im"}  # fmt: skip
_UNTIL = ("progression", "surgery")
_DAYS_PER = {
    "min": 1 / 1440,
    "minute": 1 / 1440,
    "minutes": 1 / 1440,
    "mins": 1 / 1440,
    "h": 1 / 24,
    "hr": 1 / 24,
    "hrs": 1 / 24,
    "hour": 1 / 24,
    "hours": 1 / 24,
    "d": 1.0,
    "day": 1.0,
    "days": 1.0,
    "w": 7.0,
    "wk": 7.0,
    "week": 7.0,
    "weeks": 7.0,
}
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_DOSE_UNITS = {
    "mg": ("mg", 1.0),
    "g": ("mg", 1000.0),
    "mg/kg": ("mg/kg", 1.0),
    "mg/m2": ("mg/m2", 1.0),
    "mg/m²": ("mg/m2", 1.0),
    "mg/m^2": ("mg/m2", 1.0),
}
_DOSE_HINT = "write 840 mg, 8 mg/kg, 75 mg/m2 or AUC 6"
_DURATION_HINT = "write day, week, 3 weeks, 12 hours or 21 days"


@dataclass(frozen=True)
class Dose:
    """A dose as written: ``value`` in ``unit`` (mg, mg/kg, mg/m2 or AUC)."""

    value: float
    unit: str

    @property
    def text(self) -> str:
        return f"AUC {self.value:g}" if self.unit == "AUC" else f"{self.value:g} {self.unit}"

    def mg(self, patients: pd.DataFrame) -> np.ndarray:
        """Each patient's amount in mg (see :func:`her2sim.trials.pk.dose_mg`)."""
        return dose_mg(self.value, self.unit, patients)


@dataclass(frozen=True)
class Schedule:
    """When and how much of one drug a trial arm gives.

    Administrations fall on ``days`` (1-based) of cycles ``cycle_days`` long, ``times_per_day``
    times on each such day, from ``start_day`` (0-based days), for ``cycles`` cycles or
    ``duration_days``, or without end (``None``). A schedule without repetition gives one dose.
    ``infusion_days`` (None: the PK library's) goes to :func:`her2sim.trials.pk.concentrations`.
    """

    drug: str
    dose: Dose
    then: Dose | None = None
    cycle_days: float | None = None
    days: tuple[int, ...] = (1,)
    times_per_day: int = 1
    cycles: int | None = None
    duration_days: float | None = None
    start_day: float = 0.0
    until: str | None = None
    infusion_days: float | None = None

    def offsets(self) -> np.ndarray:
        """Administration times within one cycle, in days from its start."""
        per_day = np.arange(self.times_per_day) / self.times_per_day
        return np.sort((np.asarray(self.days, dtype=float)[:, None] - 1 + per_day[None, :]).ravel())


class Doses(NamedTuple):
    """Administrations of one schedule: shared times (days) and amounts (mg, patients x times)."""

    times_days: np.ndarray
    amounts_mg: np.ndarray


def _config_error(key: str, message: str, hint: str | None = None) -> Exception:
    return ConfigError(f"schedule.{key}: {message}" + (f" ({hint})" if hint else ""))


def parse_dose(text: Any, where: ErrorAt = _config_error, key: str = "dose") -> Dose:
    """A dose written as text: ``840 mg``, ``8 mg/kg``, ``1000 mg/m2``, ``AUC 6`` or ``AUC 5 mg.min/mL``.
    A range as trials write one (``25-30 mg/m2``: the investigator's choice) is its midpoint.

    >>> parse_dose("75 mg/m2"), parse_dose("AUC 6"), parse_dose("1.5 g")
    (Dose(value=75.0, unit='mg/m2'), Dose(value=6.0, unit='AUC'), Dose(value=1500.0, unit='mg'))
    >>> parse_dose("25-30 mg/m2")
    Dose(value=27.5, unit='mg/m2')
    """
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise where(key, f"dose {text!r} must be text such as 8 mg/kg", _DOSE_HINT)
    written = str(text).strip()
    auc = re.fullmatch(rf"AUC\s*({_NUMBER})\s*(?:mg\s*[.*·]?\s*min\s*/\s*ml)?", written, re.IGNORECASE)
    if auc is not None:
        return Dose(_positive(float(auc.group(1)), where, key, f"dose {written!r}"), "AUC")
    match = re.fullmatch(rf"({_NUMBER})(?:\s*[-–]\s*({_NUMBER}))?\s*(\D.*)?", written)
    if match is None:
        raise where(key, f"dose {written!r} is not a number with a unit", _DOSE_HINT)
    low, high = float(match.group(1)), float(match.group(2) or match.group(1))
    if high < low:
        raise where(key, f"dose range {written!r} runs downwards", "write the lower dose first: 25-30 mg/m2")
    value, unit = (low + high) / 2, (match.group(3) or "").replace(" ", "").lower()
    if not unit:
        raise where(key, f"dose {written!r} has no unit", _DOSE_HINT)
    if unit not in _DOSE_UNITS:
        raise where(key, f"unknown dose unit {match.group(3)!r}", _DOSE_HINT)
    canonical, factor = _DOSE_UNITS[unit]
    return Dose(_positive(value, where, key, f"dose {written!r}") * factor, canonical)


def _positive(value: float, where: ErrorAt, key: str, what: str) -> float:
    if not math.isfinite(value) or value <= 0:
        raise where(key, f"{what} must be a number > 0", None)
    return value


def _duration(raw: Any, where: ErrorAt, key: str) -> float:
    """``3 weeks``, ``week``, ``12 hours``, ``90 min`` in days."""
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise where(key, f"{raw!r} is not a duration", _DURATION_HINT)
    written = str(raw).strip()
    match = re.fullmatch(rf"({_NUMBER})?\s*([A-Za-z]*)", written)
    if match is None or not match.group(2):
        raise where(key, f"{written!r} needs a unit of time", _DURATION_HINT)
    word = match.group(2).lower()
    if word not in _DAYS_PER:
        near = closest(word, [w for w in _DAYS_PER if len(w) > 2])
        raise where(
            key, f"unknown schedule word {match.group(2)!r}", f"did you mean {near[0]!r}?" if near else _DURATION_HINT
        )
    number = 1.0 if match.group(1) is None else float(match.group(1))
    return _positive(number, where, key, f"{key} {written!r}") * _DAYS_PER[word]


def _count(raw: Any, where: ErrorAt, key: str, most: int | None = None) -> int:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or raw != int(raw) or raw < 1:
        raise where(key, f"{key} must be a whole number >= 1, got {raw!r}", None)
    if most is not None and raw > most:
        raise where(key, f"{key} must be at most {most}, got {raw!r}", None)
    return int(raw)


def _days(raw: Any, where: ErrorAt) -> tuple[int, ...]:
    """``1-14``, ``1, 8``, ``[1, 8, 15]`` or ``1`` as sorted day numbers."""
    items = raw if isinstance(raw, list) else str(raw).split(",")
    days: list[int] = []
    for item in items:
        text = str(item).strip()
        match = re.fullmatch(r"(\d+)\s*(?:-\s*(\d+))?", text)
        if isinstance(item, bool) or match is None:
            raise where("days", f"{text!r} is not a day or a range of days", "write 1-14, 1, 8 or [1, 8, 15]")
        first, last = int(match.group(1)), int(match.group(2) or match.group(1))
        if first < 1:
            raise where("days", f"days are numbered from 1, got {first}", None)
        if last < first:
            raise where("days", f"days {text!r} run backwards", f"write {last}-{first}")
        for day in range(first, last + 1):
            if day in days:
                raise where("days", f"day {day} is given twice", None)
            days.append(day)
    if not days:
        raise where("days", "no days given", "write 1-14, 1, 8 or [1, 8, 15]")
    return tuple(sorted(days))


def _weeks(raw: Any, where: ErrorAt) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise where("weeks", f"weeks must be a number of weeks, got {raw!r}", "write weeks: 12")
    return _positive(float(raw), where, "weeks", f"weeks {raw!r}") * 7.0


def _start(raw: Any, where: ErrorAt) -> float:
    match = re.fullmatch(r"\s*(day|week)\s+(\d+)\s*", str(raw), re.IGNORECASE)
    if match is None or int(match.group(2)) < 1:
        raise where("start", f"start {raw!r} is not a day or week number", "write day 22 or week 13")
    return (int(match.group(2)) - 1) * (1.0 if match.group(1).lower() == "day" else 7.0)


def parse_schedule(
    item: Mapping[str, Any], where: ErrorAt = _config_error, library: PKLibrary | None = None
) -> Schedule:
    """A schedule from its plain-data item; problems raise ``where(key, message, hint)``.

    The default ``where`` raises :class:`~her2sim.errors.ConfigError`; a design reader passes one
    that locates the key in its file (``lambda key, msg, hint: doc.error((*path, key), msg, hint)``).
    ``drug`` is a name or alias of the PK library (``library``, default the shipped one).

    >>> s = parse_schedule({"drug": "capecitabine", "dose": "1000 mg/m2", "times_per_day": 2, "days": "1-14",
    ...                     "cycle": "3 weeks"})
    >>> s.cycle_days, s.days[-1], s.times_per_day, s.offsets()[:3]
    (21.0, 14, 2, array([0. , 0.5, 1. ]))
    >>> parse_schedule({"drug": "lapatinib", "dose": "1250 mg", "evry": "day"})
    Traceback (most recent call last):
    ...
    her2sim.errors.ConfigError: schedule.evry: unknown schedule word 'evry' (did you mean 'every'?)
    """
    if not isinstance(item, Mapping):
        raise where("drug", "a schedule item must be a mapping with drug and dose", None)
    for key in item:
        if key not in _KEYS:
            near = closest(str(key), _KEYS)
            raise where(
                str(key),
                f"unknown schedule word {key!r}",
                f"did you mean {near[0]!r}?" if near else "known: " + ", ".join(_KEYS),
            )
    for key in ("drug", "dose"):
        if item.get(key) is None:
            raise where(key, f"a schedule item needs {key!r}", None)
    try:
        model = (library or pk_library()).get(str(item["drug"]))
    except UnknownNameError as exc:
        raise where("drug", str(exc), None) from None
    if item.get("route") is not None:
        route = _ROUTES.get(str(item["route"]).strip().lower())
        if route is None:
            raise where("route", f"unknown route {item['route']!r}", "IV, oral, SC or IM")
        if route != model.route:
            given = f"{model.name} is given {model.route.upper()} in the PK library, not {item['route']}"
            raise where("route", given, None)
    if item.get("infusion") is not None and model.route != "iv":
        raise where("infusion", f"{model.name} is given {model.route}, not as an infusion", "drop infusion")
    dose = parse_dose(item["dose"], where, "dose")
    then = parse_dose(item["then"], where, "then") if item.get("then") is not None else None
    if item.get("every") is not None and item.get("cycle") is not None:
        raise where("cycle", "give either every or cycle, not both", "cycle with days; every without")
    repeat_key = "every" if item.get("every") is not None else "cycle"
    cycle = _duration(item[repeat_key], where, repeat_key) if item.get(repeat_key) is not None else None
    if cycle is None and item.get("times_per_day") is not None and item.get("days") is None:
        cycle = 1.0  # "300 mg twice daily": every day
    days = _days(item["days"], where) if item.get("days") is not None else (1,)
    per_day = _count(item["times_per_day"], where, "times_per_day", 24) if item.get("times_per_day") is not None else 1
    if cycle is None:
        for key in ("then", "days", "times_per_day", "cycles", "weeks", "until"):
            if item.get(key) is not None:
                raise where(key, f"{key} needs a repeating schedule", "add every: 3 weeks (or cycle: with days)")
    elif cycle < 1:
        if item.get("days") is not None or per_day > 1:
            raise where(
                repeat_key,
                f"a {repeat_key} shorter than a day cannot have days or times_per_day",
                "write every: 12 hours alone, or times_per_day: 2 with a cycle",
            )
    elif days[-1] > cycle:
        raise where("days", f"day {days[-1]} is beyond the {cycle:g}-day cycle", None)
    if item.get("cycles") is not None and item.get("weeks") is not None:
        raise where("weeks", "give either cycles or weeks, not both", None)
    until = item.get("until")
    if until is not None and until not in _UNTIL:
        raise where("until", f"unknown schedule word {until!r}", "until: progression or until: surgery")
    return Schedule(
        drug=model.name,
        dose=dose,
        then=then,
        cycle_days=cycle,
        days=days,
        times_per_day=per_day,
        cycles=_count(item["cycles"], where, "cycles") if item.get("cycles") is not None else None,
        duration_days=_weeks(item["weeks"], where) if item.get("weeks") is not None else None,
        start_day=_start(item["start"], where) if item.get("start") is not None else 0.0,
        until=until,
        infusion_days=_duration(item["infusion"], where, "infusion") if item.get("infusion") is not None else None,
    )


def administrations(
    schedule: Schedule,
    patients: pd.DataFrame,
    horizon_days: float,
    stop_day: np.ndarray | float = np.inf,
    library: PKLibrary | None = None,
) -> Doses:
    """Dose times (days, shared by all patients) and amounts (mg, patients x times) up to the horizon.

    A patient's amounts are zero from ``stop_day`` (one per patient, or one for all; ``inf``: never)
    on: treatment stops at progression or surgery whatever the schedule's own end. Doses outside
    the PK library's validated range warn (:class:`~her2sim.errors.Her2simWarning`).

    >>> s = parse_schedule({"drug": "carboplatin", "dose": "AUC 6", "every": "3 weeks", "cycles": 2})
    >>> administrations(s, pd.DataFrame({"gfr_ml_min": [100.0, 150.0]}), horizon_days=365).amounts_mg
    array([[750., 750.],
           [900., 900.]])
    """
    if not (isinstance(horizon_days, (int, float)) and math.isfinite(horizon_days) and horizon_days > 0):
        raise ConfigError(f"horizon_days must be a finite number > 0, got {horizon_days!r}")
    n = len(patients)
    stops = np.broadcast_to(np.asarray(stop_day, dtype=float), (n,))
    if np.isnan(stops).any():
        raise ConfigError("stop_day must be a number of days (inf: never) for every patient, not NaN")
    times = _times(schedule, float(horizon_days))
    if n * times.size > MAX_CELLS:
        raise ConfigError(
            f"{n} patients x {times.size} administrations is too large; shorten the horizon or "
            "simulate the patients in batches"
        )
    model = (library or pk_library()).get(schedule.drug)
    amounts = np.empty((n, times.size))
    for dose, columns in ((schedule.dose, slice(0, 1)), (schedule.then or schedule.dose, slice(1, None))):
        if times[columns].size:
            check_dose_range(model, dose.value, dose.unit, patients)
            amounts[:, columns] = dose.mg(patients)[:, None]
    amounts[times[None, :] >= stops[:, None]] = 0.0
    return Doses(times, amounts)


def _times(schedule: Schedule, horizon: float) -> np.ndarray:
    """The schedule's administration times before the horizon."""
    start = schedule.start_day
    if schedule.cycle_days is None:
        return np.array([start]) if start < horizon else np.empty(0)
    end = horizon if schedule.duration_days is None else min(horizon, start + schedule.duration_days)
    offsets = schedule.offsets()
    n_cycles = math.ceil(max(end - start, 0.0) / schedule.cycle_days) + 1
    if schedule.cycles is not None:
        n_cycles = min(n_cycles, schedule.cycles)
    times = (start + schedule.cycle_days * np.arange(n_cycles)[:, None] + offsets[None, :]).ravel()
    return times[times < end]
