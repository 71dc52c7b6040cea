"""What the web explorer computes for one request, independent of the web framework.

A request names alterations, therapies (each optionally at its own dose, in the command line's
``DRUG@DOSE`` syntax), a dose multiple and a sample count. It is checked against the libraries
and against bounds (trajectories per request, names, body size) before any work; a value of
the wrong type is refused like a wrong value, with one line that echoes at most a short cut
of what was sent. The answer (phenotypes, node activity, time courses, a dose-response curve
and a tumour curve) is plain JSON-ready data, cached on disk by request so that a repeated
request is answered at once, from any worker process. :class:`JobSlots` bounds how many
answers are computed at a time.

Examples
--------
>>> request = parse_request({"alterations": "ERBB2:amp", "therapies": "lapatinib@250nM", "samples": "300"})
>>> request.alterations, request.therapies, request.samples
(('ERBB2:amp',), (('lapatinib', 250.0),), 300)
>>> parse_request({"samples": "1e9"})
Traceback (most recent call last):
...
her2sim.errors.ConfigError: samples must be an integer from 100 to 4000, got '1e9'
>>> parse_body(b'[1]')  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
her2sim.errors.ConfigError: the body must be a JSON object such as {"therapies": ...}, got an array
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from her2sim.errors import ConfigError

__all__ = ["LIMITS", "BodyTooLarge", "Busy", "JobSlots", "Request", "explore", "parse_body", "parse_request", "shown"]

#: Bounds on one request: trajectories per scenario, the dose multiple of the standard dose,
#: names per list and characters per name, and bytes in a POST body.
LIMITS = {
    "min_samples": 100,
    "max_samples": 4000,
    "min_dose": 0.01,
    "max_dose": 100.0,
    "max_items": 8,
    "max_name": 64,
    "max_body": 64 * 1024,
}
_PARAMETERS = ("alterations", "therapies", "dose", "samples")
_EXAMPLE = '{"therapies": ["lapatinib@250nM"], "samples": 500}'
_KINDS = {list: "an array", dict: "an object", str: "a string", int: "a number", float: "a number", bool: "a boolean"}
#: Decimal text in ASCII digits only: float() also reads "١٢", "1_0" and " nan ".
_DECIMAL = re.compile(r"\s*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*")
#: A sample count as text: "²".isdigit() is true, and int() refuses over 4300 digits.
_INTEGER = re.compile(r"\s*\+?[0-9]{1,9}\s*")


class BodyTooLarge(ConfigError):
    """A POST body longer than ``LIMITS["max_body"]`` (the web answer is 413, not 400)."""


class Busy(RuntimeError):
    """As many simulations are running (and waiting) as the server allows: try again shortly."""

    def __init__(self, running: int, waiting: int = 0) -> None:
        queued = f" and {waiting} waiting" if waiting else ""
        super().__init__(f"busy: {running} runs going{queued}, the most this server takes; try again in a few seconds")


def shown(value: Any, limit: int = 40) -> str:
    """``value`` as a message may echo it: scalars as typed but cut to ``limit`` characters,
    arrays and objects by kind only (their repr is unbounded and may recurse deeply)."""
    if isinstance(value, (list, tuple, dict)):
        return _KINDS[dict if isinstance(value, dict) else list]
    try:
        text = repr(value)
    except ValueError:  # an int past Python's 4300-digit limit for str()
        return "a number with too many digits"
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


@dataclass(frozen=True)
class Request:
    """A checked request: alteration names, therapies as (drug, dose in nM), trajectories."""

    alterations: tuple[str, ...] = ("ERBB2:amp",)
    therapies: tuple[tuple[str, float], ...] = ()
    samples: int = 1000

    @property
    def regimen(self) -> str:
        """The therapies at their doses, as the therapy library reads them."""
        return _regimen_text(self.therapies)

    def key(self) -> str:
        return repr(sorted(asdict(self).items()))


def _regimen_text(doses: Sequence[tuple[str, float]]) -> str:
    """``drug@DOSEnM+...``, the dose written exactly (repr) so the library reads back the same nM."""
    return "+".join(f"{name}@{dose!r}nM" for name, dose in doses)


def parse_body(body: bytes) -> dict[str, Any]:
    """The parameters a POST body holds: one JSON object of at most ``LIMITS["max_body"]`` bytes.

    Anything else (too long, not UTF-8, not JSON, nested past the parser's recursion limit, an
    array or a number) raises one clear error; nothing is taken for an empty request.
    """
    if len(body) > LIMITS["max_body"]:
        raise BodyTooLarge(f"the body is over {LIMITS['max_body'] // 1024} KiB; a request is a few hundred bytes, "
                           f"such as {_EXAMPLE}")  # fmt: skip
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"the body is not UTF-8 text; send a JSON object such as {_EXAMPLE}") from None
    except RecursionError:
        raise ConfigError(f"the body nests too deeply; send one flat JSON object such as {_EXAMPLE}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"the body is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
                          f"send an object such as {_EXAMPLE}") from None  # fmt: skip
    except ValueError:  # an integer past Python's 4300-digit limit
        raise ConfigError(f"the body holds a number with too many digits; send an object such as {_EXAMPLE}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"the body must be a JSON object such as {_EXAMPLE}, got {_KINDS.get(type(data), 'null')}")
    return data


def _names(value: Any, what: str) -> tuple[str, ...]:
    """Names from one comma- (or semicolon-) separated string or a list of strings."""
    if value is None:
        return ()
    if isinstance(value, str):
        items: Sequence[Any] = value.replace(";", ",").split(",")
    elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        items = value
    else:
        raise ConfigError(f"{what} must be a list of names or one comma-separated string, got {shown(value)}")
    names = tuple(v.strip() for v in items if v.strip())
    if len(names) > LIMITS["max_items"]:
        raise ConfigError(f"at most {LIMITS['max_items']} {what} per request, got {len(names)}")
    for name in names:
        if len(name) > LIMITS["max_name"]:
            raise ConfigError(f"{what}: a name is at most {LIMITS['max_name']} characters, got {shown(name)}")
    return names


def _real(value: Any) -> float:
    """A JSON number or decimal text (ASCII digits) as a float; NaN for anything else."""
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        return float(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return math.nan
    try:
        return float(value)
    except OverflowError:  # an integer no float holds
        return math.nan


def _integer(value: Any) -> int | None:
    """A JSON integer or integer text (ASCII digits); None for anything else."""
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        return int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _therapies(names: Sequence[str], multiple: float) -> tuple[tuple[str, float], ...]:
    """Each therapy at its own dose (``lapatinib@250nM``, ``trastuzumab@2x``: read by the
    library's regimen parser, as ``her2sim run -t`` reads them) or, written without one, at
    ``multiple`` times its standard dose."""
    from her2sim.her2.therapies import therapy_library

    regimen = therapy_library().regimen([n if "@" in n else f"{n}@{multiple!r}x" for n in names])
    return tuple((drug.name, dose) for drug, dose in regimen.doses)


def parse_request(params: Mapping[str, Any]) -> Request:
    """A checked :class:`Request` from query or JSON parameters; bad values raise one clear error."""
    from her2sim.her2.alterations import alteration_library

    unknown = sorted(set(params) - set(_PARAMETERS))
    if unknown:
        raise ConfigError(f"unknown parameter {shown(unknown[0])} ({', '.join(_PARAMETERS)})")
    alterations = _names(params.get("alterations", "ERBB2:amp"), "alterations")
    names = _names(params.get("therapies"), "therapies")
    raw_dose, raw_samples = params.get("dose", 1.0), params.get("samples", 1000)
    dose, samples = _real(raw_dose), _integer(raw_samples)
    if not LIMITS["min_dose"] <= dose <= LIMITS["max_dose"]:
        raise ConfigError(f"dose must be a multiple of the standard dose from {LIMITS['min_dose']:g} to "
                          f"{LIMITS['max_dose']:g}, got {shown(raw_dose)}")  # fmt: skip
    if samples is None or not LIMITS["min_samples"] <= samples <= LIMITS["max_samples"]:
        raise ConfigError(f"samples must be an integer from {LIMITS['min_samples']} to {LIMITS['max_samples']}, "
                          f"got {shown(raw_samples)}")  # fmt: skip
    if alterations:
        alterations = tuple(alteration_library().context(alterations).label.split("; "))
    return Request(alterations, _therapies(names, dose), samples)


class JobSlots:
    """At most ``running`` computations at a time in this process, and ``waiting`` more queued.

    A computation beyond both raises :class:`Busy` at once instead of waiting: memory stays
    bounded however many clients call, and a client learns to come back.
    """

    def __init__(self, running: int, waiting: int) -> None:
        if running < 1 or waiting < 0:
            raise ConfigError(f"--max-jobs must be at least 1 and --max-waiting 0 or more, got {running}, {waiting}")
        self.running, self.waiting = running, waiting
        self._now_running = self._now_waiting = 0
        self._changed = threading.Condition()

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """A slot for the duration of the block: at once, after waiting in the queue, or Busy."""
        with self._changed:
            if self._now_running >= self.running:
                if self._now_waiting >= self.waiting:
                    raise Busy(self._now_running, self._now_waiting)
                self._now_waiting += 1
                try:
                    self._changed.wait_for(lambda: self._now_running < self.running)
                finally:
                    self._now_waiting -= 1
            self._now_running += 1
        try:
            yield
        finally:
            with self._changed:
                self._now_running -= 1
                self._changed.notify()


def _compute(request: Request, step: Callable[[int, str], None]) -> dict[str, Any]:
    """Simulate ``request`` (scenario, dose-response, tumour), telling ``step`` each stage's start."""
    from her2sim.experiments.doseresponse import dose_response
    from her2sim.her2.model import load_config
    from her2sim.her2.scenario import Her2Simulator
    from her2sim.tumour.dynamics import simulate_tumour
    from her2sim.tumour.spec import HER2_LEVELS, Clone, Line, Tumour

    sim = Her2Simulator(load_config(samples=request.samples))
    context = "; ".join(request.alterations)
    step(1, "simulating the scenario")
    result = sim.run(context, request.regimen or None)
    step(2, "dose-response")
    curve = None
    if request.therapies:
        (first, _), *background = request.therapies  # a curve of the first, over the others at their doses
        curve = dose_response(context, first, samples=request.samples, background=_regimen_text(background))
    step(3, "tumour")
    level = next((k for k, v in HER2_LEVELS.items() if v in request.alterations), "3+")
    others = tuple(a for a in request.alterations if a not in HER2_LEVELS.values())
    tumour = Tumour("this context", (Clone("cells", 1.0, level, others),), 1e9, 60.0)
    if request.therapies:
        tumour = tumour.with_schedule((Line(request.regimen, 0.0),))
    course = simulate_tumour(tumour, 365, simulator=sim)
    timecourse = result.timecourse
    return {
        "context": result.context,
        "therapy": result.regimen,
        "summary": result.summary.reset_index().to_dict("records"),
        "growth_index": None if math.isnan(result.growth_index) else result.growth_index,
        "still_on": list(result.still_on().index),
        "nodes": {
            name: {"treated": float(row.treated), "untreated": float(row.untreated)}
            for name, row in result.nodes.iterrows()
        },
        "timecourse": timecourse[timecourse["readout"].isin(["proliferation", "apoptosis"])].to_dict("list"),
        "dose_response": None
        if curve is None
        else {
            "therapy": curve.therapy,
            "dose_nM": curve.curve["dose_nM"].tolist(),
            "effect": curve.curve["effect"].tolist(),
            "ic50_nM": curve.fit.ic50_nM if curve.fit.converged else None,
        },
        "tumour": {
            "day": course.burden.index.tolist(),
            "cells": course.burden.tolist(),
            "best_response": course.best_response,
        },
        "samples": request.samples,
    }


def explore(
    request: Request,
    cache_dir: str | os.PathLike[str] | None = None,
    step: Callable[[int, str], None] | None = None,
    slots: JobSlots | None = None,
) -> dict[str, Any]:
    """The answer to ``request``, from the disk cache when the same request was answered before.

    A computation (not a cached answer) holds one of ``slots`` while it runs.
    """
    step = step or (lambda *_: None)
    slot = slots.hold() if slots else contextlib.nullcontext()
    if cache_dir is None:
        with slot:
            return _compute(request, step)
    import diskcache

    with diskcache.Cache(str(cache_dir)) as cache:
        key = request.key()
        hit = cache.get(key)
        if hit is not None:
            return dict(hit)
        with slot:
            answer = _compute(request, step)
        cache.set(key, answer)
        return answer
