"""What the web explorer computes for one request, independent of the web framework.

A request names alterations, therapies, a dose multiple and a sample count. It is checked
against the libraries and against bounds (trajectories and simulated time per request) before
any work; the answer (phenotypes, node activity, time courses, a dose-response curve and a
tumour curve) is plain JSON-ready data, cached on disk by request so that a repeated request
is answered at once, from any worker process.

Examples
--------
>>> request = parse_request({"alterations": "ERBB2:amp", "therapies": "lapatinib", "samples": "300"})
>>> request.alterations, request.therapies, request.samples
(('ERBB2:amp',), ('lapatinib',), 300)
>>> parse_request({"samples": "1e9"})
Traceback (most recent call last):
...
her2sim.errors.ConfigError: samples must be an integer from 100 to 4000, got '1e9'
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from her2sim.errors import ConfigError

__all__ = ["LIMITS", "Request", "explore", "parse_request"]

#: Bounds on one request: trajectories per scenario, and the dose multiple of the standard dose.
LIMITS = {"min_samples": 100, "max_samples": 4000, "min_dose": 0.01, "max_dose": 100.0, "max_items": 8}


@dataclass(frozen=True)
class Request:
    alterations: tuple[str, ...] = ("ERBB2:amp",)
    therapies: tuple[str, ...] = ()
    dose_multiple: float = 1.0
    samples: int = 1000

    @property
    def regimen(self) -> str:
        """The therapies at the dose multiple, as the therapy library reads them."""
        return "+".join(f"{t}@{self.dose_multiple:g}x" for t in self.therapies)

    def key(self) -> str:
        return repr(sorted(asdict(self).items()))


def _names(value: Any, what: str) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    items = value if isinstance(value, (list, tuple)) else str(value).replace(";", ",").split(",")
    names = tuple(str(v).strip() for v in items if str(v).strip())
    if len(names) > LIMITS["max_items"]:
        raise ConfigError(f"at most {LIMITS['max_items']} {what} per request, got {len(names)}")
    return names


def parse_request(params: Mapping[str, Any]) -> Request:
    """A checked :class:`Request` from query or JSON parameters; bad values raise one clear error."""
    from her2sim.her2.alterations import alteration_library
    from her2sim.her2.therapies import therapy_library

    unknown = sorted(set(params) - {"alterations", "therapies", "dose", "samples"})
    if unknown:
        raise ConfigError(f"unknown parameter {unknown[0]!r} (alterations, therapies, dose, samples)")
    alterations = _names(params.get("alterations", "ERBB2:amp"), "alterations")
    therapies = _names(params.get("therapies"), "therapies")
    library = alteration_library()
    alterations = tuple(library.context(alterations).label.split("; ")) if alterations else ()
    drugs = therapy_library()
    therapies = tuple(drugs.get(t).name for t in therapies)
    raw_dose, raw_samples = params.get("dose", 1.0), params.get("samples", 1000)
    try:
        dose = float(raw_dose)
    except (TypeError, ValueError):
        dose = math.nan
    if not (LIMITS["min_dose"] <= dose <= LIMITS["max_dose"]):
        raise ConfigError(f"dose must be a multiple of the standard dose from {LIMITS['min_dose']:g} to "
                          f"{LIMITS['max_dose']:g}, got {raw_dose!r}")  # fmt: skip
    text = str(raw_samples).strip()
    if not text.isdigit() or not LIMITS["min_samples"] <= int(text) <= LIMITS["max_samples"]:
        raise ConfigError(f"samples must be an integer from {LIMITS['min_samples']} to {LIMITS['max_samples']}, "
                          f"got {raw_samples!r}")  # fmt: skip
    return Request(alterations, therapies, dose, int(text))


def _compute(request: Request, step: Callable[[int, str], None]) -> dict[str, Any]:

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
        curve = dose_response(context, request.therapies[0], samples=request.samples,
                              background="+".join(request.therapies[1:]))  # fmt: skip
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
    request: Request, cache_dir: str | os.PathLike[str] | None = None, step: Callable[[int, str], None] | None = None
) -> dict[str, Any]:
    """The answer to ``request``, from the disk cache when the same request was answered before."""
    if cache_dir is None:
        return _compute(request, step or (lambda *_: None))
    import diskcache

    with diskcache.Cache(str(cache_dir)) as cache:
        key = request.key()
        hit = cache.get(key)
        if hit is not None:
            return dict(hit)
        answer = _compute(request, step or (lambda *_: None))
        cache.set(key, answer)
        return answer
