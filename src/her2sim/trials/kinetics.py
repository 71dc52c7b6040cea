"""Population-level tumour parameters: how fast tumours turn over, how many cells they hold, what
they carry that resists therapy, when surgery finds no invasive cells.

These numbers sit between the cell model (which says how a clone's proliferation and apoptosis
change under drugs) and a trial (which counts responses and progressions). Each is data
(``trials/data/kinetics.yaml``) with its source, a prior range for the population-level fit
to trial results (``her2sim trial calibrate``), and ``fit: true`` when that fit may move it.
The chemotherapies' kill parameters are the same kind of parameter
(:mod:`her2sim.trials.chemotherapy`) and are read by the same :func:`read_parameter`.

A **resistance mechanism** is an alteration of the library that a patient's tumour may carry in
a minority of its cells at the start of treatment: the subclone that therapy selects and that
drives progression (Swain et al. 2023, Fig. 2). Each patient carries one, drawn by ``weight``
among the mechanisms their main clone does not already have.

Examples
--------
>>> kin = kinetics()
>>> kin.value("cell_density") > 0
True
>>> sorted(kin.fitted())[:2] == sorted(kin.fitted())[:2]
True
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from her2sim.errors import UnknownNameError, closest
from her2sim.formats.records import Document, Path, read_document

__all__ = ["Kinetics", "Mechanism", "Parameter", "kinetics", "read_kinetics", "read_parameter"]

#: The parameters a kinetics file must give (the dynamics read each of them).
PARAMETERS = (
    "potential_doubling_days",
    "potential_doubling_sigma",
    "cell_density",
    "pcr_residual_cells",
    "adcc_kill",
    "subclone_fraction",
    "subclone_fraction_sigma",
    "antibody_exposure",
    "drug_sensitivity_sigma",
    "loss_independent_share",
    "drug_effect_scale",
    "chemo_sensitivity_sigma",
    "pretreated_subclone_factor",
    "subclone_chemo_factor",
    "occult_deposit_cells",
    "occult_deposit_sigma",
    "new_lesion_diameter_mm",
)
_PARAMETER_FIELDS = ("value", "unit", "prior", "source", "fit", "uncertain", "note")


@dataclass(frozen=True)
class Parameter:
    """A number with its unit, source and prior range (log-uniform) for the population fit."""

    value: float
    unit: str
    prior: tuple[float, float]
    source: str
    fit: bool = False
    uncertain: bool = False


@dataclass(frozen=True)
class Mechanism:
    """A resistance subclone: the alteration it adds to the patient's main clone."""

    alteration: str
    weight: float
    source: str


@dataclass(frozen=True)
class Kinetics:
    """The population-level tumour parameters and resistance mechanisms of a trial."""

    parameters: Mapping[str, Parameter]
    mechanisms: tuple[Mechanism, ...]
    source: str = ""

    def value(self, name: str) -> float:
        """The value of parameter ``name``."""
        try:
            return self.parameters[name].value
        except KeyError:
            raise UnknownNameError("tumour parameter", name, self.parameters) from None

    def fitted(self) -> dict[str, Parameter]:
        """The parameters the population fit may move."""
        return {name: p for name, p in self.parameters.items() if p.fit}

    def with_values(self, values: Mapping[str, float]) -> Kinetics:
        """The same kinetics with some parameters set (names must exist)."""
        for name in values:
            self.value(name)
        changed = {n: replace(p, value=float(values[n])) if n in values else p for n, p in self.parameters.items()}
        return replace(self, parameters=changed)


def read_parameter(doc: Document, path: Path, raw: object) -> Parameter:
    """A parameter entry ``{value, unit, prior: [low, high], source, fit, uncertain}``; value and
    prior positive and finite, the value inside its prior."""
    if not isinstance(raw, Mapping) or not {"value", "prior", "source"} <= set(raw):
        raise doc.error(path, "a parameter is {value, unit, prior: [low, high], source}")
    unknown = sorted(set(raw) - set(_PARAMETER_FIELDS))
    if unknown:
        raise doc.error((*path, unknown[0]), "unknown field", hint=f"fields: {', '.join(_PARAMETER_FIELDS)}")
    try:
        value = float(raw["value"])
        low, high = (float(x) for x in raw["prior"])
    except (TypeError, ValueError):
        raise doc.error(path, "value and prior must be numbers, prior as [low, high]") from None
    if not all(math.isfinite(x) and x > 0 for x in (value, low, high)) or not low <= value <= high:
        raise doc.error(path, f"need 0 < low <= value <= high, got {low:g} <= {value:g} <= {high:g}")
    if not str(raw["source"]).strip():
        raise doc.error((*path, "source"), "empty source", hint="cite the publication, or say no source exists")
    flags = {}
    for flag in ("fit", "uncertain"):
        given = raw.get(flag, False)
        if not isinstance(given, bool):
            raise doc.error((*path, flag), f"{flag} is true or false")
        flags[flag] = given
    return Parameter(value, str(raw.get("unit", "")), (low, high), str(raw["source"]), **flags)


def read_kinetics(path: str | os.PathLike[str]) -> Kinetics:
    """Read a kinetics file; every problem is a ``file:line`` error naming the field."""
    doc = read_document(path)
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("parameters"), dict):
        raise doc.error((), "expected a 'parameters:' mapping and a 'mechanisms:' list")
    unknown = sorted(set(data) - {"parameters", "mechanisms"})
    if unknown:
        raise doc.error((unknown[0],), "unknown section", hint="sections: parameters, mechanisms")
    parameters = {}
    for name, raw in data["parameters"].items():
        if name not in PARAMETERS:
            raise doc.error(("parameters", name), "unknown parameter", hint=f"parameters: {', '.join(PARAMETERS)}")
        parameters[name] = read_parameter(doc, ("parameters", name), raw)
    missing = [n for n in PARAMETERS if n not in parameters]
    if missing:
        raise doc.error(("parameters",), f"missing parameter {missing[0]!r}")
    return Kinetics(parameters, tuple(_mechanisms(doc, data.get("mechanisms"))), str(path))


def _mechanisms(doc: Document, raw: object) -> Iterable[Mechanism]:
    from her2sim.her2.alterations import alteration_library

    if not isinstance(raw, list) or not raw:
        raise doc.error(("mechanisms",), "expected a non-empty list of {alteration, weight, source}")
    library = alteration_library()
    seen = set()
    for i, item in enumerate(raw):
        where: Path = ("mechanisms", i)
        if not isinstance(item, dict) or set(item) - {"alteration", "weight", "source", "note"} or not {
            "alteration", "weight", "source"} <= set(item):  # fmt: skip
            raise doc.error(where, "a mechanism is {alteration, weight, source}")
        name = str(item["alteration"])
        if library.find(name) is None:
            raise doc.error((*where, "alteration"), f"unknown alteration {name!r}", hint=_suggest(name, library.names))
        if name in seen:
            raise doc.error((*where, "alteration"), f"{name!r} is listed twice")
        seen.add(name)
        try:
            weight = float(item["weight"])
        except (TypeError, ValueError):
            raise doc.error((*where, "weight"), "weight must be a number") from None
        if not (math.isfinite(weight) and weight > 0):
            raise doc.error((*where, "weight"), f"weight must be > 0, got {weight:g}")
        yield Mechanism(name, weight, str(item["source"]))


def _suggest(name: str, names: tuple[str, ...]) -> str:
    near = closest(name, names)
    return f"did you mean {', '.join(repr(n) for n in near)}?" if near else f"alterations: {', '.join(names)}"


@functools.cache
def kinetics() -> Kinetics:
    """The tumour parameters shipped with her2sim."""
    from importlib import resources

    return read_kinetics(str(resources.files("her2sim.trials") / "data" / "kinetics.yaml"))
