"""Population pharmacokinetics: the drug library, virtual individuals and their plasma concentrations.

The library (``data/pk.yaml``) holds one compartment model per drug with typical values, log-normal
between-subject variability (IIV) and covariate effects, each number with its source. A trial
samples :class:`Individuals` from a patients table (:func:`sample_individuals`) and computes their
central (plasma) concentrations in mg/L under the doses a schedule gives them (:func:`concentrations`).

Units inside are days, litres and milligrams. Linear models are solved exactly: the response to a
dose is a sum of exponentials (eigen-decomposition of each patient's compartment matrix), and doses
are superposed by carrying one state per exponential from one time point to the next, so the cost
grows with patients x (times + doses), never with their product. Models with Michaelis-Menten
elimination or saturable distribution are integrated by a compiled, L-stable Rosenbrock method
of order 4 with error control (each patient with its own step size and tolerance, so a patient's
numbers do not depend on the rest of the batch): paclitaxel's saturable
distribution is stiff, so an explicit method such as RK4 would need steps of minutes. A
concentration at the time of a dose is the pre-dose value (a trough). IV infusions run at a
constant rate for their duration; the library gives a bolus where a drug's infusion time was not
found (minutes to hours, against half-lives of hours to weeks).

Examples
--------
>>> import numpy as np, pandas as pd
>>> model = pk_library().get("T-DM1")
>>> model.name, model.route, model.compartments, model.elimination
('trastuzumab emtansine', 'iv', 2, 'linear')
>>> people = sample_individuals(model, pd.DataFrame({"weight_kg": [70.0]}), variability=False)
>>> doses = (np.array([0.0]), np.array([[3.6 * 70]]))  # 3.6 mg/kg on day 0
>>> np.round(concentrations(model, people, np.array([1.0, 21.0]), doses), 2)
array([[55.24,  1.61]])
>>> round(float(to_nanomolar(55.24, model)), 1)  # mg/L -> nM through the molecular weight
372.0
"""

from __future__ import annotations

import functools
import math
import os
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from her2sim.errors import ConfigError, Her2simWarning, closest, location
from her2sim.formats.records import Document, Path, parse_document, read_document
from her2sim.her2._library import NamedLibrary

__all__ = [
    "COVARIATES",
    "DOSE_UNITS",
    "CovariateEffect",
    "DoseRange",
    "Individuals",
    "PKLibrary",
    "PKModel",
    "Parameter",
    "check_dose_range",
    "concentrations",
    "dose_mg",
    "outside_validated",
    "parse_pk",
    "pk_library",
    "read_pk",
    "sample_individuals",
    "to_nanomolar",
    "tumour_exposure",
]

#: How trials write a dose: flat, per kg of weight, per m2 of body surface, or a carboplatin AUC.
DOSE_UNITS = ("mg", "mg/kg", "mg/m2", "AUC")
#: Calvert formula: carboplatin dose (mg) = target AUC (mg.min/mL) x (GFR + 25 mL/min), with the
#: GFR capped at 125 mL/min (Calvert 1989 J Clin Oncol 7:1748, via the staging source S33c).
CALVERT_NONRENAL_ML_MIN = 25.0
CALVERT_GFR_CAP_ML_MIN = 125.0

#: Covariate name -> (patients-table column, accepted units of `reference` as factors to the column's
#: unit). Indicator covariates (0/1) have no units.
COVARIATES: dict[str, tuple[str, dict[str, float]]] = {
    "weight": ("weight_kg", {"kg": 1.0}),
    "lean_weight": ("lean_weight_kg", {"kg": 1.0}),
    "bsa": ("bsa_m2", {"m2": 1.0}),
    "gfr": ("gfr_ml_min", {"ml/min": 1.0}),
    "age": ("age", {"years": 1.0}),
    "albumin": ("albumin_g_l", {"g/l": 1.0, "g/dl": 10.0}),
    "ast": ("ast_u_l", {"u/l": 1.0, "iu/l": 1.0}),
    "alp": ("alp_u_l", {"u/l": 1.0, "iu/l": 1.0}),
    "bilirubin": ("bilirubin_mg_dl", {"mg/dl": 1.0}),
    "her2_ecd": ("her2_ecd_ng_ml", {"ng/ml": 1.0}),
    "tumour_size": ("sum_diameters_mm", {"mm": 1.0, "cm": 10.0}),
    "male": ("male", {}),
    "liver_metastases": ("liver_metastases", {}),
    "japan": ("japan", {}),
    "metastatic_breast_cancer": ("metastatic_breast_cancer", {}),
}
_FORMS = ("power", "exponential", "linear", "additive")

#: Parameter name -> physical kind (which units it may have).
_KINDS = {
    "CL": "clearance", "Q2": "clearance", "Q3": "clearance",
    "V1": "volume", "V2": "volume", "V3": "volume",
    "Vmax": "amount_rate", "Vmax_tr": "amount_rate",
    "Km": "concentration", "Km_tr": "concentration",
    "ka": "rate", "k21": "rate", "tlag": "time", "F": "fraction",
}  # fmt: skip
_TIME_DAYS = {
    "day": 1.0,
    "days": 1.0,
    "d": 1.0,
    "h": 1 / 24,
    "hour": 1 / 24,
    "hours": 1 / 24,
    "min": 1 / 1440,
    "minute": 1 / 1440,
    "minutes": 1 / 1440,
    "week": 7.0,
    "weeks": 7.0,
}
_MASS_MG = {"mg": 1.0, "ug": 1e-3, "ng": 1e-6, "g": 1e3}
_VOLUME_L = {"l": 1.0, "ml": 1e-3}
_UNIT_HINTS = {
    "clearance": "L/day, L/h, L/min or mL/min, optionally per kg: L/h/kg",
    "volume": "L or L/kg",
    "amount_rate": "mg/day, mg/h, ug/h or umol/h",
    "concentration": "mg/L, ug/mL, ug/L, ng/mL or umol/L",
    "rate": "1/day, 1/h or 1/min",
    "time": "day, h or min",
    "fraction": "fraction",
}
_ROUTES = ("iv", "oral", "sc", "im")
_EVIDENCE = ("population PK", "label-derived")
_ELIMINATION = ("linear", "michaelis-menten")


# ----------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class Parameter:
    """One model parameter: its typical value in days, litres and milligrams, and its IIV.

    ``per_kg`` values are multiplied by each patient's weight; ``omega2`` is the variance of the
    log-normal eta (0: the same for every patient with the same covariates).
    """

    name: str
    value: float | None
    unit: str
    per_kg: bool = False
    omega2: float = 0.0
    source: str = ""
    uncertain: bool = False


@dataclass(frozen=True)
class CovariateEffect:
    """A covariate's effect on a parameter's typical value (``form`` as in the pk.yaml header)."""

    parameter: str
    covariate: str
    form: str
    reference: float
    effect: float
    default: float
    source: str = ""

    @property
    def column(self) -> str:
        return COVARIATES[self.covariate][0]

    def apply(self, typical: np.ndarray, x: np.ndarray) -> np.ndarray:
        """The parameter after this effect, for covariate values ``x`` (column units)."""
        if self.form == "power":
            return typical * (x / self.reference) ** self.effect
        if self.form == "exponential":
            return typical * np.exp(self.effect * (x - self.reference))
        if self.form == "linear":
            return typical * (1.0 + self.effect * (x - self.reference))
        return typical + self.effect * (x - self.reference)


@dataclass(frozen=True)
class DoseRange:
    """Doses the model was fitted to: ``low`` to ``high`` in ``unit`` (one of :data:`DOSE_UNITS`)."""

    low: float
    high: float
    unit: str
    source: str = ""

    @property
    def text(self) -> str:
        return f"AUC {self.low:g}-{self.high:g}" if self.unit == "AUC" else f"{self.low:g}-{self.high:g} {self.unit}"


@dataclass(frozen=True, eq=False)
class PKModel:
    """The pharmacokinetic model of one drug, as read from a pk.yaml entry.

    ``missing`` names the parameters a simulation needs that no source gave; such a drug is
    documented but cannot be simulated. ``line`` and ``lines`` locate the entry in ``source``.
    """

    name: str
    evidence: str
    route: str
    compartments: int
    elimination: str
    parameters: Mapping[str, Parameter]
    covariates: tuple[CovariateEffect, ...] = ()
    iiv: tuple[str, ...] = ()
    omega: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), repr=False)
    infusion_days: float | None = None
    dose_factor: float = 1.0
    molecular_weight: float | None = None
    doses: tuple[DoseRange, ...] = ()
    tumour_to_plasma: float = 1.0
    tumour_uncertain: bool = True
    missing: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    source: str = "<pk>"
    line: int | None = None
    lines: Mapping[str, int] = field(default_factory=dict, repr=False)

    @property
    def simulable(self) -> bool:
        return not self.missing

    def value(self, name: str) -> float | None:
        """The typical value of parameter ``name`` (canonical units), or None if absent."""
        par = self.parameters.get(name)
        return None if par is None else par.value

    def has(self, name: str) -> bool:
        return self.value(name) is not None

    def where(self, field_name: str) -> str:
        """``file:line`` of one of this drug's fields (of the entry when the field is absent)."""
        return location(self.source, self.lines.get(field_name, self.line))

    def require_simulable(self) -> None:
        if self.missing:
            raise ConfigError(
                f"{self.where('parameters')}: {self.name} cannot be simulated: no source gives "
                f"{', '.join(self.missing)} (see its notes in the PK library)"
            )


class PKLibrary(NamedLibrary[PKModel]):
    """PK models looked up by drug name or by the therapy library's aliases, case-insensitively."""

    kind = "drug"
    suggest_aliases = True


@dataclass(frozen=True)
class Individuals:
    """Per-patient parameter values of one drug (canonical units), from :func:`sample_individuals`."""

    drug: str
    parameters: Mapping[str, np.ndarray]
    n: int

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, name: str) -> np.ndarray:
        return self.parameters[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.parameters)


# ----------------------------------------------------------------------------- reading


def read_pk(path: str | os.PathLike[str]) -> PKLibrary:
    """Read a PK library file (the format of ``data/pk.yaml``); every problem names file:line."""
    return _library(read_document(path))


def parse_pk(text: str, source: str = "<pk>") -> PKLibrary:
    """Parse PK library text (see :func:`read_pk`).

    >>> text = '''
    ... drugs:
    ...   - name: demo
    ...     evidence: population PK
    ...     model: one compartment
    ...     source: made up
    ...     route: iv
    ...     compartments: 1
    ...     elimination: linear
    ...     parameters:
    ...       CL: {value: 1, unit: L/h, iiv_cv: 30, source: example}
    ...       V1: {value: 10, unit: L, source: example}
    ...     tumour_to_plasma: {value: 1, uncertain: true, source: none found}
    ... '''
    >>> model = parse_pk(text).get("demo")
    >>> model.value("CL"), model.iiv, round(float(model.omega[0, 0]), 4)
    (24.0, ('CL',), 0.0862)
    """
    return _library(parse_document(text, source))


@functools.cache
def pk_library() -> PKLibrary:
    """The PK library shipped with her2sim (``her2sim/trials/data/pk.yaml``)."""
    return read_pk(str(resources.files("her2sim.trials") / "data" / "pk.yaml"))


_TOP_KEYS = ("drugs", "sources")
_DRUG_KEYS = (
    "name",
    "evidence",
    "model",
    "source",
    "route",
    "infusion",
    "infusion_note",
    "compartments",
    "elimination",
    "parameters",
    "correlations",
    "covariates",
    "dose_factor",
    "molecular_weight",
    "validated_doses",
    "tumour_to_plasma",
    "notes",
)
_QUANTITY_KEYS = ("value", "unit", "iiv_cv", "iiv_omega2", "source", "quote", "derived", "uncertain", "note")


def _library(doc: Document) -> PKLibrary:
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("drugs"), list):
        raise doc.error((), "expected a top-level 'drugs:' list", "see the header of her2sim/trials/data/pk.yaml")
    _known_keys(doc, (), data, _TOP_KEYS)
    models = [_model(doc, ("drugs", i), raw) for i, raw in enumerate(data["drugs"])]
    seen: set[str] = set()
    for i, model in enumerate(models):
        if model.name.lower() in seen:
            raise doc.error(("drugs", i, "name"), f"drug {model.name!r} appears twice", "give each drug one entry")
        seen.add(model.name.lower())
    return PKLibrary((replace(m, aliases=_aliases(m.name)) for m in models), doc.source)


def _aliases(name: str) -> tuple[str, ...]:
    """The therapy library's aliases of a drug it knows (the PK file does not repeat them)."""
    from her2sim.her2.therapies import therapy_library

    drug = therapy_library().find(name)
    return drug.aliases if drug is not None and drug.name == name else ()


def _known_keys(doc: Document, path: Path, raw: Mapping[str, Any], known: Sequence[str]) -> None:
    for key in raw:
        if key not in known:
            near = closest(key, known)
            hint = f"did you mean {near[0]!r}?" if near else "known: " + ", ".join(known)
            raise doc.error((*path, key), f"unknown field {key!r}", hint)


def _mapping(doc: Document, path: Path, raw: Any, what: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise doc.error(path, f"{what} must be a mapping")
    return raw


def _choice(doc: Document, path: Path, raw: Any, choices: Sequence[Any]) -> Any:
    if raw not in choices:
        raise doc.error(path, f"{raw!r} is not one of {', '.join(map(str, choices))}")
    return raw


def _number(doc: Document, path: Path, raw: Any, *, positive: bool = True) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw):
        raise doc.error(path, f"expected a number, got {raw!r}")
    if positive and raw <= 0:
        raise doc.error(path, f"must be > 0, got {raw!r}")
    return float(raw)


def _source(doc: Document, path: Path, raw: Mapping[str, Any], has_value: bool) -> str:
    """The source text of a quantity; a number needs one, and 'none ...' needs `uncertain: true`."""
    source = raw.get("source")
    if not isinstance(source, str) or not source.strip():
        raise doc.error(path, "needs a 'source'", "name where the number comes from, or 'not found'")
    lowered = source.strip().lower()
    if has_value and lowered.startswith("not found"):
        raise doc.error((*path, "source"), "a value whose source is 'not found' must be null")
    if has_value and lowered.startswith("none") and raw.get("uncertain") is not True:
        raise doc.error((*path, "source"), "a value without a source must be marked 'uncertain: true'")
    return source


def _model(doc: Document, path: Path, raw: Any) -> PKModel:
    raw = _mapping(doc, path, raw, "a drug entry")
    _known_keys(doc, path, raw, _DRUG_KEYS)
    for key in (
        "name",
        "evidence",
        "model",
        "source",
        "route",
        "compartments",
        "elimination",
        "parameters",
        "tumour_to_plasma",
    ):
        if key not in raw:
            raise doc.error(path, f"drug entry has no {key!r}")
    name = raw["name"]
    if not isinstance(name, str) or not name.strip():
        raise doc.error((*path, "name"), "a drug name must be text")
    _choice(doc, (*path, "evidence"), raw["evidence"], _EVIDENCE)
    route = _choice(doc, (*path, "route"), raw["route"], _ROUTES)
    compartments = _choice(doc, (*path, "compartments"), raw["compartments"], (1, 2, 3))
    elimination = _choice(doc, (*path, "elimination"), raw["elimination"], _ELIMINATION)
    mw = _molecular_weight(doc, (*path, "molecular_weight"), raw.get("molecular_weight"))
    parameters = {
        pname: _parameter(doc, (*path, "parameters", pname), pname, praw, mw)
        for pname, praw in _mapping(doc, (*path, "parameters"), raw["parameters"], "parameters").items()
    }
    missing = _check_structure(doc, path, route, compartments, elimination, parameters)
    covariates = tuple(
        _covariate(doc, (*path, "covariates", i), craw, parameters)
        for i, craw in enumerate(_list(doc, (*path, "covariates"), raw.get("covariates")))
    )
    iiv = tuple(p.name for p in parameters.values() if p.omega2 > 0)
    omega = _omega(doc, (*path, "correlations"), raw.get("correlations"), parameters, iiv)
    infusion = None
    if raw.get("infusion") is not None:
        if route != "iv":
            raise doc.error((*path, "infusion"), f"an infusion needs route iv, not {route}")
        infusion = _quantity(doc, (*path, "infusion"), raw["infusion"], "time", None)
    dose_factor = 1.0
    if raw.get("dose_factor") is not None:
        dose_factor = _quantity(doc, (*path, "dose_factor"), raw["dose_factor"], "fraction", None) or 1.0
    tumour = _mapping(doc, (*path, "tumour_to_plasma"), raw["tumour_to_plasma"], "tumour_to_plasma")
    tumour_value = _quantity(doc, (*path, "tumour_to_plasma"), tumour, "fraction", None)
    if tumour_value is None:
        raise doc.error((*path, "tumour_to_plasma"), "needs a value (an uncertain default if no source gives one)")
    return PKModel(
        name=name.strip(),
        evidence=raw["evidence"],
        route=route,
        compartments=compartments,
        elimination=elimination,
        parameters=parameters,
        covariates=covariates,
        iiv=iiv,
        omega=omega,
        infusion_days=infusion,
        dose_factor=dose_factor,
        molecular_weight=mw,
        doses=tuple(
            _dose_range(doc, (*path, "validated_doses", i), d)
            for i, d in enumerate(_list(doc, (*path, "validated_doses"), raw.get("validated_doses")))
        ),
        tumour_to_plasma=tumour_value,
        tumour_uncertain=bool(tumour.get("uncertain", False)),
        missing=missing,
        source=doc.source,
        line=doc.line(path),
        lines={key: line for key in raw if (line := doc.line((*path, key))) is not None},
    )


def _list(doc: Document, path: Path, raw: Any) -> list[Any]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise doc.error(path, "expected a list")
    return raw


def _quantity(doc: Document, path: Path, raw: Any, kind: str, mw: float | None) -> float | None:
    """A ``{value, unit, source, ...}`` mapping as a canonical number (None when the value is null)."""
    raw = _mapping(doc, path, raw, "a quantity")
    _known_keys(doc, path, raw, _QUANTITY_KEYS)
    value = raw.get("value")
    _source(doc, path, raw, value is not None)
    if value is None:
        return None
    number = _number(doc, (*path, "value"), value)
    factor, per_kg = _unit_factor(doc, (*path, "unit"), kind, raw.get("unit"), mw)
    if per_kg:
        raise doc.error((*path, "unit"), "a per-kg unit is only for parameters")
    return number * factor


def _parameter(doc: Document, path: Path, name: str, raw: Any, mw: float | None) -> Parameter:
    kind = _KINDS.get(name)
    if kind is None:
        near = closest(name, _KINDS)
        raise doc.error(
            path, f"unknown parameter {name!r}", f"did you mean {near[0]!r}?" if near else "known: " + ", ".join(_KINDS)
        )
    raw = _mapping(doc, path, raw, "a parameter")
    _known_keys(doc, path, raw, _QUANTITY_KEYS)
    value = raw.get("value")
    source = _source(doc, path, raw, value is not None)
    if value is None:
        return Parameter(name, None, str(raw.get("unit", "")), source=source)
    number = _number(doc, (*path, "value"), value)
    factor, per_kg = _unit_factor(doc, (*path, "unit"), kind, raw.get("unit"), mw)
    if per_kg and kind not in ("clearance", "volume"):
        raise doc.error((*path, "unit"), f"{name} cannot be per kg")
    if "iiv_cv" in raw and "iiv_omega2" in raw:
        raise doc.error(path, "give either iiv_cv or iiv_omega2, not both")
    omega2 = 0.0
    if raw.get("iiv_cv") is not None:
        omega2 = math.log1p((_number(doc, (*path, "iiv_cv"), raw["iiv_cv"]) / 100) ** 2)
    elif raw.get("iiv_omega2") is not None:
        omega2 = _number(doc, (*path, "iiv_omega2"), raw["iiv_omega2"])
    if omega2 and name == "tlag":
        raise doc.error(path, "IIV on tlag is not supported", "all patients share the lag time; drop iiv_cv")
    return Parameter(
        name, number * factor, str(raw.get("unit", "")), per_kg, omega2, source, bool(raw.get("uncertain", False))
    )


def _unit_factor(doc: Document, path: Path, kind: str, unit: Any, mw: float | None) -> tuple[float, bool]:
    """(factor to days/litres/milligrams, per kg of weight) of a unit of the given kind."""
    text = "" if unit is None else str(unit)
    try:
        return _canonical(kind, text.replace(" ", "").replace("µ", "u").replace("μ", "u").lower(), mw)
    except KeyError:
        raise doc.error(
            path, f"unit {text!r} is not a {kind.replace('_', ' ')} unit", f"write {_UNIT_HINTS[kind]}"
        ) from None
    except ValueError as exc:
        raise doc.error(path, str(exc)) from None


def _canonical(kind: str, unit: str, mw: float | None) -> tuple[float, bool]:
    per_kg = unit.endswith("/kg") and kind in ("clearance", "volume")
    if per_kg:
        unit = unit[: -len("/kg")]
    top, _, bottom = unit.partition("/")
    if kind == "fraction":
        if unit not in ("", "fraction"):
            raise KeyError(unit)
        return 1.0, False
    if kind == "time":
        return _TIME_DAYS[unit], False
    if kind == "volume":
        return _VOLUME_L[unit], per_kg
    if kind == "rate":
        if top != "1":
            raise KeyError(unit)
        return 1 / _TIME_DAYS[bottom], False
    if kind == "clearance":
        return _VOLUME_L[top] / _TIME_DAYS[bottom], per_kg
    mass = _mass_mg(top, mw)
    if kind == "amount_rate":
        return mass / _TIME_DAYS[bottom], False
    return mass / _VOLUME_L[bottom], False  # concentration


def _mass_mg(unit: str, mw: float | None) -> float:
    if unit == "umol":
        if mw is None:
            raise ValueError("a umol unit needs the drug's molecular_weight")
        return mw * 1e-3
    return _MASS_MG[unit]


def _molecular_weight(doc: Document, path: Path, raw: Any) -> float | None:
    if raw is None:
        return None
    raw = _mapping(doc, path, raw, "molecular_weight")
    _known_keys(doc, path, raw, _QUANTITY_KEYS)
    value = raw.get("value")
    _source(doc, path, raw, value is not None)
    if value is None:
        return None
    unit = str(raw.get("unit", "")).replace(" ", "").lower()
    factors = {"g/mol": 1.0, "da": 1.0, "kda": 1000.0}
    if unit not in factors:
        raise doc.error((*path, "unit"), f"unit {raw.get('unit')!r} is not a molecular weight unit", "g/mol or kDa")
    return _number(doc, (*path, "value"), value) * factors[unit]


def _check_structure(
    doc: Document, path: Path, route: str, compartments: int, elimination: str, parameters: Mapping[str, Parameter]
) -> tuple[str, ...]:
    """Refuse parameters the declared structure does not use; return the required ones not found."""
    where = (*path, "parameters")
    allowed = {"CL", "V1"}
    if compartments >= 2:
        allowed |= {"Q2", "V2", "Vmax_tr", "Km_tr", "k21"}
    if compartments == 3:
        allowed |= {"Q3", "V3"}
    if elimination == "michaelis-menten":
        allowed |= {"Vmax", "Km"}
    if route != "iv":
        allowed |= {"ka", "F", "tlag"}
    for name in parameters:
        if name not in allowed:
            raise doc.error(
                (*where, name),
                f"{name} does not belong to a {compartments}-compartment {route} model with {elimination} elimination",
            )
    present = {name for name, p in parameters.items() if p.value is not None}
    needed = [["V1"], ["CL"] if elimination == "linear" else ["Vmax", "Km"]]
    if compartments >= 2:
        saturable = "Vmax_tr" in parameters or "Km_tr" in parameters
        if saturable and elimination == "linear":
            raise doc.error(where, "saturable transfer (Vmax_tr, Km_tr) needs elimination: michaelis-menten")
        needed.append(["Vmax_tr", "Km_tr"] + ([] if "k21" in parameters else ["V2"]) if saturable else ["Q2", "V2"])
    if compartments == 3:
        needed.append(["Q3", "V3"])
    missing: list[str] = []
    for group in needed:
        for name in group:
            if name not in parameters:
                raise doc.error(
                    where, f"a {compartments}-compartment model with {elimination} elimination needs {name}"
                )
            if name not in present:
                missing.append(name)
    return tuple(missing)


def _covariate(doc: Document, path: Path, raw: Any, parameters: Mapping[str, Parameter]) -> CovariateEffect:
    raw = _mapping(doc, path, raw, "a covariate effect")
    _known_keys(
        doc,
        path,
        raw,
        ("parameter", "covariate", "form", "reference", "effect", "default", "source", "quote", "derived", "note"),
    )
    for key in ("parameter", "covariate", "form", "reference", "effect", "source"):
        if key not in raw:
            raise doc.error(path, f"covariate effect has no {key!r}")
    par = parameters.get(raw["parameter"])
    if par is None or par.value is None:
        raise doc.error((*path, "parameter"), f"no parameter {raw['parameter']!r} with a value to act on")
    name = raw["covariate"]
    if name not in COVARIATES:
        near = closest(str(name), COVARIATES)
        raise doc.error(
            (*path, "covariate"),
            f"unknown covariate {name!r}",
            f"did you mean {near[0]!r}?" if near else "known: " + ", ".join(COVARIATES),
        )
    form = _choice(doc, (*path, "form"), raw["form"], _FORMS)
    reference, unit_factor = _reference(doc, (*path, "reference"), name, raw["reference"])
    effect = _number(doc, (*path, "effect"), raw["effect"], positive=False)
    if form == "power" and reference <= 0:
        raise doc.error((*path, "reference"), "a power effect needs a reference > 0")
    if form == "additive":
        if par.per_kg:
            raise doc.error((*path, "parameter"), "an additive effect on a per-kg parameter is not supported")
        factor, _ = _unit_factor(doc, (*path, "parameter"), _KINDS[par.name], par.unit, None)
        effect *= factor / unit_factor  # per unit of the column, in canonical parameter units
    default = (
        reference if raw.get("default") is None else _number(doc, (*path, "default"), raw["default"], positive=False)
    )
    return CovariateEffect(par.name, name, form, reference, effect, default, str(raw["source"]))


def _reference(doc: Document, path: Path, covariate: str, raw: Any) -> tuple[float, float]:
    """(reference value in the column's unit, factor from the written unit to the column's unit)."""
    units = COVARIATES[covariate][1]
    if not units:
        return _number(doc, path, raw, positive=False), 1.0
    match = re.fullmatch(r"\s*([-+]?\d*\.?\d+(?:[eE][-+]?\d+)?)\s*(\S+)\s*", str(raw))
    if match is None or match.group(2).lower() not in units:
        raise doc.error(path, f"reference {raw!r} needs a value and a unit", "one of " + ", ".join(units))
    factor = units[match.group(2).lower()]
    return float(match.group(1)) * factor, factor


def _omega(
    doc: Document, path: Path, raw: Any, parameters: Mapping[str, Parameter], iiv: tuple[str, ...]
) -> np.ndarray:
    """The covariance matrix of the etas (order ``iiv``), checked positive definite."""
    omega = np.diag([parameters[n].omega2 for n in iiv])
    for i, item in enumerate(_list(doc, path, raw)):
        here = (*path, i)
        item = _mapping(doc, here, item, "a correlation")
        _known_keys(doc, here, item, ("between", "covariance", "correlation", "source", "note"))
        pair = item.get("between")
        if not isinstance(pair, list) or len(pair) != 2 or any(p not in iiv for p in pair) or pair[0] == pair[1]:
            raise doc.error((*here, "between"), "needs two different parameters that have IIV", f"IIV on: {iiv}")
        _source(doc, here, item, True)
        a, b = iiv.index(pair[0]), iiv.index(pair[1])
        if ("covariance" in item) == ("correlation" in item):
            raise doc.error(here, "give either covariance or correlation")
        if "covariance" in item:
            cov = _number(doc, (*here, "covariance"), item["covariance"], positive=False)
        else:
            cov = _number(doc, (*here, "correlation"), item["correlation"], positive=False) * math.sqrt(
                omega[a, a] * omega[b, b]
            )
        omega[a, b] = omega[b, a] = cov
    if iiv and np.linalg.eigvalsh(omega).min() <= 0:
        raise doc.error(path, "the IIV covariance matrix is not positive definite")
    return omega


def _dose_range(doc: Document, path: Path, raw: Any) -> DoseRange:
    raw = _mapping(doc, path, raw, "a dose range")
    _known_keys(doc, path, raw, ("low", "high", "unit", "source", "derived", "quote", "note"))
    low = _number(doc, (*path, "low"), raw.get("low"))
    high = _number(doc, (*path, "high"), raw.get("high"))
    if high < low:
        raise doc.error(path, f"low {low:g} is above high {high:g}")
    unit = _choice(doc, (*path, "unit"), raw.get("unit"), DOSE_UNITS)
    return DoseRange(low, high, unit, _source(doc, path, raw, True))


# ----------------------------------------------------------------------------- doses


def _column(patients: pd.DataFrame, column: str, why: str) -> np.ndarray:
    if column not in patients.columns:
        raise ConfigError(f"the patients table has no column {column!r}, needed for {why}")
    values = patients[column].to_numpy(dtype=float)
    if not np.all(np.isfinite(values) & (values > 0)):
        raise ConfigError(f"patients.{column}: every value must be a number > 0 (needed for {why})")
    return values


def dose_mg(value: float, unit: str, patients: pd.DataFrame) -> np.ndarray:
    """Each patient's dose in mg for ``value`` in ``unit`` (one of :data:`DOSE_UNITS`).

    ``mg/kg`` uses column ``weight_kg``, ``mg/m2`` ``bsa_m2``, and ``AUC`` (carboplatin) the Calvert
    formula with ``gfr_ml_min`` capped at 125 mL/min.

    >>> patients = pd.DataFrame({"weight_kg": [60.0], "bsa_m2": [1.7], "gfr_ml_min": [150.0]})
    >>> [float(dose_mg(v, u, patients)[0]) for v, u in [(8, "mg/kg"), (75, "mg/m2"), (6, "AUC"), (420, "mg")]]
    [480.0, 127.5, 900.0, 420.0]
    """
    if unit == "mg":
        return np.full(len(patients), float(value))
    if unit == "mg/kg":
        return value * _column(patients, "weight_kg", "mg/kg doses")
    if unit == "mg/m2":
        return value * _column(patients, "bsa_m2", "mg/m2 doses")
    if unit == "AUC":
        gfr = np.minimum(_column(patients, "gfr_ml_min", "AUC (Calvert) doses"), CALVERT_GFR_CAP_ML_MIN)
        return value * (gfr + CALVERT_NONRENAL_ML_MIN)
    raise ConfigError(f"unknown dose unit {unit!r} (one of {', '.join(DOSE_UNITS)})")


_TOLERANCE = 1e-9


def outside_validated(model: PKModel, value: float, unit: str) -> str | None:
    """What is wrong with a dose the library's validated ranges give in the same unit (None: it is
    inside them, or no range uses its unit): ``dose 20 mg/kg is outside the validated range ...``."""
    same = [r for r in model.doses if r.unit == unit]
    if not same or any(r.low * (1 - _TOLERANCE) <= value <= r.high * (1 + _TOLERANCE) for r in same):
        return None
    written = f"AUC {value:g}" if unit == "AUC" else f"{value:g} {unit}"
    return (
        f"dose {written} is outside the validated range {' or '.join(r.text for r in same)} of {model.name}'s PK model"
    )


def check_dose_range(model: PKModel, value: float, unit: str, patients: pd.DataFrame) -> bool:
    """Warn (:class:`~her2sim.errors.Her2simWarning`) if a dose lies outside the model's validated doses.

    A range in the dose's own unit is compared directly; otherwise each patient's dose in mg is
    compared with the ranges converted to mg for that patient. Returns True if the dose is inside
    (or the library gives no range).

    >>> import warnings
    >>> model = pk_library().get("trastuzumab")
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     check_dose_range(model, 12, "mg/kg", pd.DataFrame({"weight_kg": [70.0]}))
    False
    >>> print(str(caught[0].message).split(": ", 1)[1][:83])
    trastuzumab.validated_doses: dose 12 mg/kg is outside the validated range 2-8 mg/kg
    """
    if not model.doses:
        return True
    same = [r for r in model.doses if r.unit == unit]
    if same:
        if outside_validated(model, value, unit) is None:
            return True
        outside = ""
    else:
        mg = dose_mg(value, unit, patients)
        inside = np.zeros(len(mg), dtype=bool)
        for r in model.doses:
            low, high = dose_mg(r.low, r.unit, patients), dose_mg(r.high, r.unit, patients)
            inside |= (mg >= low * (1 - _TOLERANCE)) & (mg <= high * (1 + _TOLERANCE))
        if inside.all():
            return True
        outside = f" for {int((~inside).sum())} of {len(mg)} patients"
    written = f"AUC {value:g}" if unit == "AUC" else f"{value:g} {unit}"
    ranges = " or ".join(r.text for r in model.doses)
    sources = "; ".join(r.source for r in model.doses)
    warnings.warn(
        f"{model.where('validated_doses')}: {model.name}.validated_doses: dose {written} is outside the "
        f"validated range {ranges}{outside} ({sources})",
        Her2simWarning,
        stacklevel=2,
    )
    return False


# ----------------------------------------------------------------------------- individuals


def sample_individuals(
    model: PKModel,
    patients: pd.DataFrame,
    rng: np.random.Generator | int | None = None,
    *,
    variability: bool = True,
) -> Individuals:
    """Each patient's parameters: typical values x covariate effects x log-normal IIV.

    Covariates come from the patients table's columns (:data:`COVARIATES`); a missing column or a
    NaN means the covariate's default (the reference patient). ``rng`` is a generator or a seed:
    the same seed gives the same individuals. ``variability=False`` gives the typical individuals.

    >>> model = pk_library().get("trastuzumab")
    >>> patients = pd.DataFrame({"weight_kg": [66.0, 80.0]})
    >>> np.round(sample_individuals(model, patients, variability=False)["CL"], 4)  # L/day
    array([0.127, 0.153])
    >>> a = sample_individuals(model, patients, rng=7)["CL"]
    >>> bool(np.array_equal(a, sample_individuals(model, patients, rng=7)["CL"]))
    True
    """
    model.require_simulable()
    n = len(patients)
    values: dict[str, np.ndarray] = {}
    for name, par in model.parameters.items():
        if par.value is None:
            continue
        typical = np.full(n, par.value)
        if par.per_kg:
            typical = typical * _column(patients, "weight_kg", f"{model.name}'s per-kg parameter {name}")
        for eff in model.covariates:
            if eff.parameter == name:
                typical = eff.apply(typical, _covariate_values(model, eff, patients))
        values[name] = typical
    if variability and model.iiv:
        generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        etas = generator.standard_normal((n, len(model.iiv))) @ np.linalg.cholesky(model.omega).T
        for k, name in enumerate(model.iiv):
            values[name] = values[name] * np.exp(etas[:, k])
    bad = [name for name, v in values.items() if not np.all(np.isfinite(v) & (v > 0))]
    if bad:
        raise ConfigError(f"{model.name}: covariates give {', '.join(bad)} <= 0 for some patients; check the table")
    return Individuals(model.name, values, n)


def _covariate_values(model: PKModel, eff: CovariateEffect, patients: pd.DataFrame) -> np.ndarray:
    if eff.column not in patients.columns:
        return np.full(len(patients), eff.default)
    x = pd.to_numeric(patients[eff.column], errors="coerce").to_numpy(dtype=float)
    x = np.where(np.isnan(x), eff.default, x)
    if eff.form == "power" and not np.all(x > 0):
        raise ConfigError(f"patients.{eff.column}: values must be > 0 for {model.name}'s effect on {eff.parameter}")
    return x


# ----------------------------------------------------------------------------- concentrations


def concentrations(
    model: PKModel,
    individuals: Individuals,
    times_days: np.ndarray,
    doses: tuple[np.ndarray, np.ndarray],
    *,
    infusion_days: float | None = None,
    rtol: float = 1e-5,
) -> np.ndarray:
    """Plasma (central) concentrations in mg/L, patients x times.

    ``doses`` is ``(dose times in days, amounts in mg as patients x doses)``, as
    :func:`her2sim.trials.schedule.administrations` gives them; extravascular doses are scaled by F
    and delayed by tlag, and ``dose_factor`` converts a salt form. ``infusion_days`` overrides the
    library's infusion time (0: a bolus). A concentration at a dose time is the pre-dose value.
    ``rtol`` is the relative tolerance of the integrator for nonlinear models (linear ones are exact).

    >>> model = pk_library().get("lapatinib")
    >>> people = sample_individuals(model, pd.DataFrame(index=range(1)), variability=False)
    >>> days = np.arange(7.0)
    >>> np.round(concentrations(model, people, days + 1, (days, np.full((1, 7), 1250.0))), 2)
    array([[0.54, 0.81, 0.95, 1.01, 1.05, 1.06, 1.07]])
    """
    model.require_simulable()
    if individuals.drug != model.name:
        raise ConfigError(f"individuals were sampled for {individuals.drug}, not {model.name}")
    times = np.asarray(times_days, dtype=float).ravel()
    dose_times = np.asarray(doses[0], dtype=float).ravel()
    amounts = np.asarray(doses[1], dtype=float)
    n = len(individuals)
    if amounts.shape != (n, dose_times.size):
        raise ConfigError(
            f"dose amounts have shape {amounts.shape}; expected {(n, dose_times.size)} (patients x doses)"
        )
    if not (np.all(np.isfinite(times)) and np.all(np.isfinite(dose_times))):
        raise ConfigError("times and dose times must be finite numbers of days")
    if not np.all(np.isfinite(amounts) & (amounts >= 0)):
        raise ConfigError("dose amounts must be finite and >= 0 mg")
    if n == 0 or times.size == 0:
        return np.zeros((n, times.size))
    system = _System(model, individuals)
    scale = model.dose_factor * (individuals["F"][:, None] if "F" in individuals.parameters else 1.0)
    duration = model.infusion_days if infusion_days is None else infusion_days
    if model.route != "iv" or not duration:
        duration = None
    lag = float(model.value("tlag") or 0.0)
    engine: _Linear | _Nonlinear
    if system.linear:
        engine = _Linear(system)
    else:
        engine = _Nonlinear(system, atol=amounts.max(axis=1, initial=0.0) * rtol * 1e-3, rtol=rtol)
    return _superpose(engine, times, dose_times + lag, amounts * scale, duration, n)


@dataclass
class _System:
    """Per-patient rate constants and the compartment layout of one model."""

    model: PKModel
    individuals: Individuals
    depot: int | None = None
    central: int = 0
    p1: int | None = None
    p2: int | None = None
    size: int = 0

    def __post_init__(self) -> None:
        has = self.individuals.parameters
        index = 0
        if self.model.route != "iv" and "ka" in has:
            self.depot, index = 0, 1
        self.central, index = index, index + 1
        if self.model.compartments >= 2:
            self.p1, index = index, index + 1
        if self.model.compartments == 3:
            self.p2, index = index, index + 1
        self.size = index

    @property
    def linear(self) -> bool:
        return not any(name in self.individuals.parameters for name in ("Vmax", "Vmax_tr"))

    def get(self, name: str) -> np.ndarray | None:
        return self.individuals.parameters.get(name)

    def need(self, name: str) -> np.ndarray:
        """A parameter the model's structure requires (V1 always, V2 with Q2, ka with a depot)."""
        value = self.get(name)
        if value is None:
            raise ValueError(f"the PK model of {self.model.name} has no {name}")
        return value

    @property
    def input(self) -> int:
        return self.central if self.depot is None else self.depot

    def matrix(self) -> np.ndarray:
        """The linear flows as a matrix K (patients x n x n): d(amounts)/dt = K @ amounts + the rest.

        For a linear model that is all of it; a nonlinear model adds its saturable flows.
        """
        n, c, p = len(self.individuals), self.central, self.get
        k = np.zeros((n, self.size, self.size))
        v1 = self.need("V1")
        clearance = p("CL")
        if clearance is not None:
            k[:, c, c] = -clearance / v1
        for idx, q, v in ((self.p1, "Q2", "V2"), (self.p2, "Q3", "V3")):
            flow = p(q)
            if idx is not None and flow is not None:
                volume = self.need(v)
                k[:, c, c] -= flow / v1
                k[:, idx, c] = flow / v1
                k[:, c, idx] = flow / volume
                k[:, idx, idx] = -flow / volume
        k21 = p("k21")
        if self.p1 is not None and k21 is not None:  # first-order return from a saturable peripheral
            k[:, c, self.p1] = k21
            k[:, self.p1, self.p1] = -k21
        if self.depot is not None:
            ka = self.need("ka")
            k[:, self.depot, self.depot] = -ka
            k[:, c, self.depot] = ka
        return k


def _superpose(
    engine: _Linear | _Nonlinear,
    times: np.ndarray,
    starts: np.ndarray,
    amounts: np.ndarray,
    duration: float | None,
    n: int,
) -> np.ndarray:
    """Walk the merged time points, advancing the state, recording outputs and giving doses."""
    ends = starts + duration if duration else np.empty(0)
    grid = np.unique(np.concatenate([times, starts, ends]))
    outs_at, starts_at, ends_at = (_buckets(np.searchsorted(grid, t), grid.size) for t in (times, starts, ends))
    out = np.zeros((n, times.size))
    rate = np.zeros(n)
    active = 0
    previous = grid[0] if grid.size else 0.0
    for g, t in enumerate(grid):
        if t > previous:
            engine.advance(t - previous, rate if active else None)
            previous = t
        if outs_at[g]:
            out[:, outs_at[g]] = engine.concentration()[:, None]
        for j in ends_at[g]:
            rate -= amounts[:, j] / duration
            active -= 1
        if duration and not active:
            rate[:] = 0.0
        for j in starts_at[g]:
            if duration:
                rate += amounts[:, j] / duration
                active += 1
            else:
                engine.add(amounts[:, j])
    return out


def _buckets(positions: np.ndarray, size: int) -> list[list[int]]:
    buckets: list[list[int]] = [[] for _ in range(size)]
    for i, g in enumerate(positions.tolist()):
        buckets[g].append(i)
    return buckets


class _Linear:
    """Exact solution of a linear model: one decaying state per exponential of the impulse response."""

    def __init__(self, system: _System) -> None:
        eigenvalues, vectors = np.linalg.eig(system.matrix())
        inverse = np.linalg.inv(vectors)
        self.rates = -eigenvalues.real  # > 0
        v1 = system.need("V1")
        self.coefficients = (vectors[:, system.central, :] * inverse[:, :, system.input]).real / v1[:, None]
        self.state = np.zeros_like(self.rates)
        self._cache: dict[float, tuple[np.ndarray, np.ndarray]] = {}

    def _decay(self, dt: float) -> tuple[np.ndarray, np.ndarray]:
        found = self._cache.get(dt)
        if found is None:
            decay = np.exp(-self.rates * dt)
            found = (decay, -np.expm1(-self.rates * dt) / self.rates)
            if len(self._cache) < 256:
                self._cache[dt] = found
        return found

    def advance(self, dt: float, rate: np.ndarray | None) -> None:
        decay, gain = self._decay(dt)
        self.state *= decay
        if rate is not None:
            self.state += rate[:, None] * gain

    def add(self, amount: np.ndarray) -> None:
        self.state += amount[:, None]

    def concentration(self) -> np.ndarray:
        return np.einsum("nk,nk->n", self.state, self.coefficients)


class _Nonlinear:
    """Michaelis-Menten elimination or saturable distribution, integrated by the compiled
    Rosenbrock method of :mod:`her2sim.trials._rosenbrock` (each patient with its own step size)."""

    def __init__(self, system: _System, atol: np.ndarray, rtol: float) -> None:
        from her2sim.trials._rosenbrock import advance  # Numba, imported when a model needs it

        self._advance = advance
        self.s = system
        self.linear = system.matrix()
        n = len(system.individuals)
        self.params = np.full((6, n), np.nan)
        for row, name in enumerate(("V1", "V2", "Vmax", "Km", "Vmax_tr", "Km_tr")):
            value = system.get(name)
            if value is not None:
                self.params[row] = value
        saturable_return = system.get("k21") is None
        self.layout = np.array([system.central, -1 if system.p1 is None else system.p1, int(saturable_return)])
        self.no_rate = np.zeros(n)
        self.y = np.zeros((n, system.size))
        self.atol, self.rtol = np.maximum(atol, 1e-15), rtol
        self.h = np.full(n, 1e-3)

    def advance(self, dt: float, rate: np.ndarray | None) -> None:
        given = self.no_rate if rate is None else np.ascontiguousarray(rate, dtype=float)
        self._advance(self.y, float(dt), self.h, self.linear, self.params, self.layout, given, rate is not None,
                      self.atol, self.rtol)  # fmt: skip

    def add(self, amount: np.ndarray) -> None:
        self.y[:, self.s.input] += amount

    def concentration(self) -> np.ndarray:
        return self.y[:, self.s.central] / self.params[0]


# ----------------------------------------------------------------------------- units and exposure


def _model_of(drug: str | PKModel) -> PKModel:
    return drug if isinstance(drug, PKModel) else pk_library().get(drug)


def to_nanomolar(mg_per_l: np.ndarray | float, drug: str | PKModel) -> np.ndarray:
    """A concentration in mg/L as nM, through the drug's molecular weight.

    >>> round(float(to_nanomolar(1.0, "tucatinib")), 2)  # 1 mg/L of a 480.5 g/mol drug
    2081.17
    """
    model = _model_of(drug)
    if model.molecular_weight is None:
        raise ConfigError(f"{model.where('molecular_weight')}: {model.name} has no molecular weight; nM is unknown")
    return np.asarray(mg_per_l, dtype=float) * 1e6 / model.molecular_weight


def tumour_exposure(drug: str | PKModel) -> float:
    """The drug's tumour-to-plasma exposure ratio (1 where no source gives one: see ``tumour_uncertain``).

    >>> tumour_exposure("capecitabine"), tumour_exposure("trastuzumab")
    (1.49, 1.0)
    """
    return _model_of(drug).tumour_to_plasma
