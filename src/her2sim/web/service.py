"""What the web explorer computes for one request, independent of the web framework.

A request names alterations, therapies (each optionally at its own dose, in the command line's
``DRUG@DOSE`` syntax), a dose multiple and a sample count. It is checked against the libraries
and against bounds (trajectories per request, names, body size) before any work; a value of
the wrong type is refused like a wrong value, with one line that echoes at most a short cut
of what was sent. The answer (phenotypes, node activity, time courses, a dose-response curve
and a tumour curve) is plain JSON-ready data, cached on disk by request so that a repeated
request is answered at once, from any worker process. :class:`JobSlots` bounds how many
answers are computed at a time.

A trial request (:func:`parse_trial_request`) names a shipped trial design and the patients per
arm; its answer (:func:`trial_answer`) holds the per-arm endpoints, the trial's published rows
against the simulation, the curves of its figures and what drove progression, cached alike.

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
>>> parse_trial_request({"trial": "neosphere", "patients": "40"})
TrialRequest(trial='NeoSphere', patients=40, seed=0)
>>> parse_trial_request({"trial": "NeoSphere", "patients": 5000})
Traceback (most recent call last):
...
her2sim.errors.ConfigError: patients must be an integer from 10 to 500 (per arm), got 5000
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
from typing import TYPE_CHECKING, Any, TypedDict

from her2sim.errors import ConfigError, Her2simWarning, UnknownNameError

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "LIMITS",
    "TRIAL_SAMPLES",
    "BodyTooLarge",
    "Busy",
    "JobSlots",
    "Request",
    "TrialRequest",
    "explore",
    "parse_body",
    "parse_request",
    "parse_trial_body",
    "parse_trial_request",
    "shown",
    "trial_answer",
]


class _Limits(TypedDict):
    """Bounds on one request (the doses are multiples, the rest whole numbers)."""

    min_samples: int
    max_samples: int
    min_dose: float
    max_dose: float
    max_items: int
    max_name: int
    max_body: int
    min_patients: int
    max_patients: int
    max_seed: int


#: Bounds on one request: trajectories per scenario, the dose multiple of the standard dose,
#: names per list and characters per name, bytes in a POST body, a trial's patients per arm
#: and its seed.
LIMITS: _Limits = {
    "min_samples": 100,
    "max_samples": 4000,
    "min_dose": 0.01,
    "max_dose": 100.0,
    "max_items": 8,
    "max_name": 64,
    "max_body": 64 * 1024,
    "min_patients": 10,
    "max_patients": 500,
    "max_seed": 1_000_000,
}
#: Cell-model trajectories per scenario of a trial's response tables (``TrialSettings.samples``).
TRIAL_SAMPLES = 100
_PARAMETERS = ("alterations", "therapies", "dose", "samples")
_TRIAL_PARAMETERS = ("trial", "patients", "seed")
_EXAMPLE = '{"therapies": ["lapatinib@250nM"], "samples": 500}'
_TRIAL_EXAMPLE = '{"trial": "NeoSphere", "patients": 100}'
_KINDS = {list: "an array", dict: "an object", str: "a string", int: "a number", float: "a number", bool: "a boolean"}
#: Decimal text in ASCII digits only: float() also reads "١٢", "1_0" and " nan ".
_DECIMAL = re.compile(r"\s*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*")
#: A sample count as text: "²".isdigit() is true, and int() refuses over 4300 digits.
_INTEGER = re.compile(r"\s*\+?[0-9]{1,9}\s*")
#: The number in front of a dose's unit (``250`` of ``250nM``).
_NUMBER = re.compile(r"^\s*[-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?")


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
    """A checked request: alteration names, therapies as (drug, dose in nM), trajectories, and
    the unit each therapy's dose was written in (``nM``, ``uM``, ``ug/mL``, ... or ``x``, a
    multiple of the standard dose), in which its dose-response curve is drawn."""

    alterations: tuple[str, ...] = ("ERBB2:amp",)
    therapies: tuple[tuple[str, float], ...] = ()
    samples: int = 1000
    units: tuple[str, ...] = ()

    @property
    def regimen(self) -> str:
        """The therapies at their doses, as the therapy library reads them."""
        return _regimen_text(self.therapies)

    def key(self) -> str:
        return repr(sorted(asdict(self).items()))


def _regimen_text(doses: Sequence[tuple[str, float]]) -> str:
    """``drug@DOSEnM+...``, the dose written exactly (repr) so the library reads back the same nM."""
    return "+".join(f"{name}@{dose!r}nM" for name, dose in doses)


#: Deepest nesting of arrays and objects a request may have (a request is one flat object); checked
#: before parsing, so the answer does not depend on the interpreter's recursion limit.
MAX_NESTING = 16


def _nesting(text: str) -> int:
    """The deepest nesting of JSON arrays and objects in ``text`` (brackets inside strings ignored).

    >>> _nesting('{"a": [1, {"b": "[[[\\"]"}]}')
    3
    """
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def parse_body(body: bytes, example: str = _EXAMPLE) -> dict[str, Any]:
    """The parameters a POST body holds: one JSON object of at most ``LIMITS["max_body"]`` bytes.

    Anything else (too long, not UTF-8, not JSON, nested past the parser's recursion limit, an
    array or a number) raises one clear error, which shows ``example``; nothing is taken for an
    empty request.
    """
    if len(body) > LIMITS["max_body"]:
        raise BodyTooLarge(f"the body is over {LIMITS['max_body'] // 1024} KiB; a request is a few hundred bytes, "
                           f"such as {example}")  # fmt: skip
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"the body is not UTF-8 text; send a JSON object such as {example}") from None
    if _nesting(text) > MAX_NESTING:
        raise ConfigError(f"the body nests too deeply; send one flat JSON object such as {example}")
    try:
        data = json.loads(text)
    except RecursionError:  # a bound of the parser below ours (a lowered recursion limit)
        raise ConfigError(f"the body nests too deeply; send one flat JSON object such as {example}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"the body is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
                          f"send an object such as {example}") from None  # fmt: skip
    except ValueError:  # an integer past Python's 4300-digit limit
        raise ConfigError(f"the body holds a number with too many digits; send an object such as {example}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"the body must be a JSON object such as {example}, got {_KINDS.get(type(data), 'null')}")
    return data


def parse_trial_body(body: bytes) -> dict[str, Any]:
    """The parameters a trial request's POST body holds (:func:`parse_body`, a trial's example)."""
    return parse_body(body, _TRIAL_EXAMPLE)


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


def _therapies(names: Sequence[str], multiple: float) -> tuple[tuple[tuple[str, float], ...], tuple[str, ...]]:
    """Each therapy at its own dose (``lapatinib@250nM``, ``trastuzumab@2x``: read by the
    library's regimen parser, as ``her2sim run -t`` reads them) or, written without one, at
    ``multiple`` times its standard dose; and the unit of each dose as written (``x`` for a
    multiple)."""
    from her2sim.her2.therapies import therapy_library

    regimen = therapy_library().regimen([n if "@" in n else f"{n}@{multiple!r}x" for n in names])
    units = [_NUMBER.sub("", n.partition("@")[2]).strip() for n in names]
    return tuple((drug.name, dose) for drug, dose in regimen.doses), tuple(
        "x" if unit.lower() in ("", "x") else unit for unit in units
    )


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
    therapies, units = _therapies(names, dose)
    return Request(alterations, therapies, samples, units)


@dataclass(frozen=True)
class TrialRequest:
    """A checked trial request: a shipped design's name, patients per arm, the seed."""

    trial: str
    patients: int = 100
    seed: int = 0

    def key(self) -> str:
        """The answer's cache key (apart from the scenario keys, which are lists of pairs)."""
        return f"trial {self.trial!r} patients={self.patients} seed={self.seed} samples={TRIAL_SAMPLES}"


def _bounded_integer(params: Mapping[str, Any], name: str, default: int, low: int, high: int, unit: str = "") -> int:
    raw = params.get(name, default)
    value = _integer(raw)
    if value is None or not low <= value <= high:
        raise ConfigError(f"{name} must be an integer from {low} to {high}{unit}, got {shown(raw)}")
    return value


def parse_trial_request(params: Mapping[str, Any]) -> TrialRequest:
    """A checked :class:`TrialRequest` from query or JSON parameters (``trial``, ``patients``,
    ``seed``); a design is found by name or alias, case-insensitive. Bad values raise one clear error."""
    from her2sim.trials.design import design, designs

    unknown = sorted(set(params) - set(_TRIAL_PARAMETERS))
    if unknown:
        raise ConfigError(f"unknown parameter {shown(unknown[0])} ({', '.join(_TRIAL_PARAMETERS)})")
    shipped = ", ".join(d.name for d in designs())
    name = params.get("trial")
    if name is None or (isinstance(name, str) and not name.strip()):
        raise ConfigError(f"trial: name one of the shipped trials ({shipped})")
    if not isinstance(name, str):
        raise ConfigError(f"trial must be the name of a shipped trial ({shipped}), got {shown(name)}")
    if len(name) > LIMITS["max_name"]:
        raise ConfigError(f"trial: a name is at most {LIMITS['max_name']} characters, got {shown(name)}")
    try:
        trial = design(name)
    except UnknownNameError as exc:
        if exc.suggestions:
            raise
        raise ConfigError(f"unknown trial {shown(name)} (the shipped trials: {shipped})") from None
    patients = _bounded_integer(params, "patients", 100, LIMITS["min_patients"], LIMITS["max_patients"], " (per arm)")
    seed = _bounded_integer(params, "seed", 0, 0, LIMITS["max_seed"])
    return TrialRequest(trial.name, patients, seed)


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
    from her2sim.her2.model import load_config
    from her2sim.her2.scenario import Her2Simulator, effect_se
    from her2sim.tumour.dynamics import simulate_tumour
    from her2sim.tumour.spec import HER2_LEVELS, Clone, Line, Tumour

    sim = Her2Simulator(load_config(samples=request.samples))
    context = "; ".join(request.alterations)
    step(1, "simulating the scenario")
    result = sim.run(context, request.regimen or None)
    step(2, "dose-response of each drug")
    curves = _dose_curves(sim, context, request)
    step(3, "tumour")
    level = next((k for k, v in HER2_LEVELS.items() if v in request.alterations), "3+")
    others = tuple(a for a in request.alterations if a not in HER2_LEVELS.values())
    tumour = Tumour("this context", (Clone("cells", 1.0, level, others),), 1e9, 60.0)
    if request.therapies:
        tumour = tumour.with_schedule((Line(request.regimen, 0.0),))
    course = simulate_tumour(tumour, 365, simulator=sim)
    timecourse = result.timecourse
    summary = result.summary.reset_index().to_dict("records")
    for row in summary:
        row["effect_se"] = effect_se(row["readout"], row["treated"], row["untreated"], row["treated_se"],
                                     row["untreated_se"])  # fmt: skip
    return {
        "context": result.context,
        "therapy": result.therapy,
        "summary": summary,
        "growth_index": None if math.isnan(result.growth_index) else result.growth_index,
        "still_on": list(result.still_on().index),
        "nodes": {
            name: {"treated": float(row.treated), "untreated": float(row.untreated)}
            for name, row in result.nodes.iterrows()
        },
        "timecourse": timecourse[timecourse["readout"].isin(["proliferation", "apoptosis"])].to_dict("list"),
        "dose_response": curves,
        "tumour": {
            "day": course.burden.index.tolist(),
            "cells": course.burden.tolist(),
            "best_response": course.best_response,
        },
        "samples": request.samples,
    }


def _dose_curves(sim: Any, context: str, request: Request) -> list[dict[str, Any]]:
    """A dose-response curve of proliferation for each drug of the request, the others held at
    their doses (its background), all simulated in one batch: effects against the untreated
    context with standard errors, doses in the unit the drug's dose was written in, and a Hill
    fit of the drug's own effect over its background (IC50 and the largest added effect, emax)."""
    from her2sim.experiments.doseresponse import dose_grid, fit_hill
    from her2sim.her2.scenario import effect, effect_se

    untreated = (sim.context(context), sim.regimen(None))
    plans = []
    for k, ((name, _), unit) in enumerate(zip(request.therapies, request.units, strict=True)):
        drug, background = sim.therapies.get(name), request.therapies[:k] + request.therapies[k + 1 :]
        grid = dose_grid(drug.standard_dose)
        pairs = [(untreated[0], sim.regimen(_regimen_text([(name, float(d)), *background]))) for d in grid]
        plans.append((drug, background, unit, grid, pairs))
    unit_of = dict(zip((name for name, _ in request.therapies), request.units, strict=True))
    every = [pair for *_, pairs in plans for pair in pairs] + [untreated]
    values, errors = sim.readouts(every), sim.readout_errors(every)  # one batch; the errors are cached runs
    base, base_se = values[-1]["proliferation"], errors[-1]["proliferation"]
    curves, at = [], 0
    for drug, background, unit, grid, pairs in plans:
        treated = [(values[i]["proliferation"], errors[i]["proliferation"]) for i in range(at, at + len(pairs))]
        at += len(pairs)
        effects = [effect("proliferation", t, base) for t, _ in treated]
        # the Hill fit is of the drug's own effect, over what its background leaves (the grid's dose 0)
        fit = fit_hill(grid, [effect("proliferation", t, treated[0][0]) for t, _ in treated])
        per_unit = drug.dose(f"1{unit}")  # nM in one of the unit
        over = [f"{name} {_in_unit(dose, sim.therapies.get(name), unit_of[name])}" for name, dose in background]
        curve = {"therapy": drug.name, "context": untreated[0].label, "background": " + ".join(over), "unit": unit}
        curve |= {
            "unit_label": _unit_label(drug, unit),
            "dose": [float(d / per_unit) for d in grid],
            "dose_nM": [float(d) for d in grid],
            "effect": effects,
            "effect_se": [effect_se("proliferation", t, base, se, base_se) for t, se in treated],
            "emax": fit.emax if fit.converged else None,
        }
        curves.append(curve | _ic50(fit.ic50_nM if fit.converged else math.nan, grid, drug, unit))
    return curves


def _unit_label(drug: Any, unit: str) -> str:
    """An axis's name for doses of ``drug`` in ``unit``."""
    return f"multiples of {drug.standard_dose_text}" if unit == "x" else unit


def _in_unit(nM: float, drug: Any, unit: str) -> str:
    """A dose of ``drug`` as text in ``unit`` (``250 nM``, ``0.5x``)."""
    value = nM / drug.dose(f"1{unit}")
    return f"{value:.3g}x" if unit == "x" else f"{value:.3g} {unit}"


def _ic50(ic50_nM: float, grid: Sequence[float] | np.ndarray, drug: Any, unit: str) -> dict[str, Any]:
    """The fitted IC50 only inside the tested doses: ``ic50_nM`` (None outside) and a text in
    ``unit`` that says "< lowest dose" or "> top dose" instead of extrapolating."""
    tested = [float(d) for d in grid if d > 0]
    low, high = min(tested), max(tested)
    if low <= ic50_nM <= high:
        return {"ic50_nM": ic50_nM, "ic50": f"IC50 {_in_unit(ic50_nM, drug, unit)}"}
    if ic50_nM < low:
        return {"ic50_nM": None, "ic50": f"IC50 < lowest dose ({_in_unit(low, drug, unit)})"}
    return {"ic50_nM": None, "ic50": f"IC50 > top dose ({_in_unit(high, drug, unit)})"}  # also where nothing was fitted


def explore(
    request: Request,
    cache_dir: str | os.PathLike[str] | None = None,
    step: Callable[[int, str], None] | None = None,
    slots: JobSlots | None = None,
) -> dict[str, Any]:
    """The answer to ``request``, from the disk cache when the same request was answered before.

    A computation (not a cached answer) holds one of ``slots`` while it runs.
    """
    return _answer(request.key(), lambda tell: _compute(request, tell), cache_dir, step, slots)


def _answer(
    key: str,
    compute: Callable[[Callable[[int, str], None]], dict[str, Any]],
    cache_dir: str | os.PathLike[str] | None,
    step: Callable[[int, str], None] | None,
    slots: JobSlots | None,
) -> dict[str, Any]:
    """``compute(step)``'s answer, cached under ``key`` in ``cache_dir``; a computation holds a slot."""
    step = step or (lambda *_: None)
    slot = slots.hold() if slots else contextlib.nullcontext()
    if cache_dir is None:
        with slot:
            return compute(step)
    import diskcache

    with diskcache.Cache(str(cache_dir)) as cache:
        hit = cache.get(key)
        if hit is not None:
            return dict(hit)
        with slot:
            answer = compute(step)
        cache.set(key, answer)
        return answer


def _plain(value: Any) -> Any:
    """A table cell as JSON holds it: numpy scalars as Python ones, NaN and infinities as None."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _records(table: Any, columns: Sequence[str]) -> list[dict[str, Any]]:
    """The ``columns`` of a DataFrame as JSON-ready records."""
    return [{c: _plain(row[c]) for c in columns} for row in table[list(columns)].to_dict("records")]


def _km_curves(patients: Any, arms: Sequence[str]) -> dict[str, dict[str, list[float]]]:
    """Kaplan-Meier progression-free survival (%) per arm, as steps: months, survival, censored months."""
    from lifelines import KaplanMeierFitter

    curves: dict[str, dict[str, list[float]]] = {}
    for arm in arms:
        part = patients[patients["arm"] == arm][["pfs_months", "progressed"]].dropna()
        if part.empty:
            curves[arm] = {"months": [], "survival_pct": [], "censored_months": []}
            continue
        fit = KaplanMeierFitter().fit(part["pfs_months"].to_numpy(float), part["progressed"].to_numpy(bool))
        steps = fit.survival_function_.iloc[:, 0]
        curves[arm] = {
            "months": [float(t) for t in steps.index],
            "survival_pct": [100.0 * float(v) for v in steps.to_numpy()],
            "censored_months": sorted({float(t) for t in part.loc[~part["progressed"].astype(bool), "pfs_months"]}),
        }
    return curves


def _waterfalls(patients: Any, arms: Sequence[str]) -> dict[str, dict[str, list[Any]]]:
    """Per arm, the best change of the target lesions (%) from the largest growth to the largest
    shrinkage, with each patient's best response; patients without measurable disease left out."""
    out: dict[str, dict[str, list[Any]]] = {}
    for arm in arms:
        part = patients[patients["arm"] == arm].dropna(subset=["best_change_pct"])
        part = part.sort_values("best_change_pct", ascending=False, kind="stable")
        out[arm] = {"best_change_pct": [float(v) for v in part["best_change_pct"]],
                    "response": [str(v) for v in part["response"]]}  # fmt: skip
    return out


def _compute_trial(request: TrialRequest, step: Callable[[int, str], None]) -> dict[str, Any]:
    """Simulate ``request``'s trial and compare it with its published rows, telling ``step`` each stage."""
    import warnings

    from her2sim.trials.design import design
    from her2sim.trials.published import resolve_trials_table, shipped_table
    from her2sim.trials.simulate import TrialSettings, run_trial
    from her2sim.trials.validate import compare

    trial = design(request.trial)
    arms = [arm.label for arm in trial.arms]
    step(1, f"simulating {trial.name}: {len(arms)} arms of {request.patients} patients "
            "(a trial's first run builds its response tables, which takes minutes)")  # fmt: skip
    settings = TrialSettings(patients=request.patients, seed=request.seed, samples=TRIAL_SAMPLES)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Her2simWarning)  # run_trial's notes are in the answer
        result = run_trial(trial, settings)
    step(2, "comparing with the published results")
    published = [row for row in resolve_trials_table(shipped_table()) if row.design.name == trial.name]
    columns = ["id", "arm", "subgroup", "endpoint", "statistic", "published", "simulated", "miss", "within",
               "ordering", "source"]  # fmt: skip
    comparison = _records(compare(published, result.patients), columns) if published else []
    step(3, "curves and tables")
    patients, summary = result.patients, result.summary
    metastatic = "pfs_months" in patients
    drivers = []
    if metastatic:
        counts = patients[patients["progressed"].astype(bool)].groupby(["arm", "mechanism"], sort=False).size()
        drivers = [{"arm": arm, "mechanism": mechanism, "patients": int(n)}
                   for (arm, mechanism), n in counts.items()]  # fmt: skip
    summary_columns = ["arm", "subgroup", "endpoint", "value", "ci_low", "ci_high", "n", "p_value", "versus", "note"]
    return {
        "trial": trial.name,
        "title": trial.title,
        "setting": trial.setting,
        "arms": arms,
        "patients": request.patients,
        "seed": request.seed,
        "samples": TRIAL_SAMPLES,
        "summary": _records(summary[summary["subgroup"] == "all"], summary_columns),
        "comparison": comparison,
        "km": _km_curves(patients, arms) if metastatic else None,
        "waterfall": _waterfalls(patients, arms) if metastatic else None,
        "pcr_pct": None
        if "pcr" not in patients
        else {arm: _plain(100.0 * patients.loc[patients["arm"] == arm, "pcr"].astype(bool).mean()) for arm in arms},
        "drivers": drivers,
        "notes": list(result.notes),
    }


def trial_answer(
    request: TrialRequest,
    cache_dir: str | os.PathLike[str] | None = None,
    step: Callable[[int, str], None] | None = None,
    slots: JobSlots | None = None,
) -> dict[str, Any]:
    """The answer to a trial ``request`` (JSON-ready), from the disk cache when answered before.

    The keys: ``trial``, ``title``, ``setting``, ``arms``, ``patients`` (per arm), ``seed``,
    ``samples``; ``summary``, the per-arm endpoints (subgroup ``all``: ``arm``, ``endpoint``,
    ``value``, ``ci_low``, ``ci_high``, ``n``, ``p_value``, ``versus``, ``note``); ``comparison``,
    the trial's shipped published rows against the simulation (``id``, ``arm``, ``subgroup``,
    ``endpoint``, ``statistic``, ``published``, ``simulated``, ``miss``, ``within``,
    ``ordering``, ``source``); for a metastatic trial ``km`` (per arm ``months``,
    ``survival_pct``, ``censored_months``), ``waterfall`` (per arm ``best_change_pct`` sorted
    and ``response``) and ``drivers`` (``arm``, ``mechanism``, ``patients`` among those who
    progressed), for a neoadjuvant one ``pcr_pct`` per arm (the others None or empty); ``notes``.
    Numbers that are not finite (an unreached median, an open interval) are None.
    """
    return _answer(request.key(), lambda tell: _compute_trial(request, tell), cache_dir, step, slots)
