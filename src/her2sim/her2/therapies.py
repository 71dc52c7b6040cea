"""The therapy library: drugs, their doses and the mechanisms they act by.

Each drug is data in ``data/therapies.yaml``: the model sites it binds (with a Kd, a cellular
IC50 or, for covalent inhibitors, a KI and an inactivation ratio), its ADCC and, for an
antibody-drug conjugate, its payload. Doses carry units; mass concentrations are converted
through the molecular weight. A :class:`Regimen` is a set of drugs at their doses.

Examples
--------
>>> library = therapy_library()
>>> regimen = library.regimen("T-DM1+lapatinib@250nM")
>>> [(drug.name, round(dose_nM, 2)) for drug, dose_nM in regimen.doses]
[('trastuzumab emtansine', 6.67), ('lapatinib', 250.0)]
>>> regimen.label
'trastuzumab emtansine + lapatinib@250nM'
>>> round(parse_concentration("10 ug/mL", molecular_weight=148_000), 2)  # trastuzumab, in nM
67.57
"""

from __future__ import annotations

import functools
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from her2sim.errors import ConfigError, ModelFormatError
from her2sim.formats.records import Document, Path, read_document
from her2sim.her2._library import NamedLibrary

__all__ = [
    "NANOMOLAR",
    "Binding",
    "DoseUnit",
    "Drug",
    "Payload",
    "Regimen",
    "TherapyLibrary",
    "parse_concentration",
    "read_therapies",
    "therapy_library",
]

#: Molar units, as a factor to nM.
_MOLAR = {"pm": 1e-3, "nm": 1.0, "um": 1e3, "µm": 1e3, "μm": 1e3, "mm": 1e6, "m": 1e9}
#: Mass units per mL, as a factor to g/L.
_MASS = {"ng/ml": 1e-6, "ug/ml": 1e-3, "µg/ml": 1e-3, "μg/ml": 1e-3, "mg/ml": 1.0, "g/l": 1.0, "mg/l": 1e-3}
_NUMBER_UNIT = re.compile(r"^\s*([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([^\s0-9].*?)?\s*$")
_UNITS_HINT = "write a dose with a unit: 1uM, 100nM, 10ug/mL, or 2x for twice the standard dose"


def parse_concentration(text: str, molecular_weight: float | None = None) -> float:
    """A concentration with its unit, in nM (mass units need ``molecular_weight`` in g/mol)."""
    match = _NUMBER_UNIT.match(text)
    if match is None or match.group(2) is None:
        raise ConfigError(f"dose {text!r} has no unit ({_UNITS_HINT})")
    value, unit = float(match.group(1)), match.group(2).replace(" ", "").lower()
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"dose {text!r} must be a finite number >= 0")
    if unit in _MOLAR:
        return value * _MOLAR[unit]
    if unit in _MASS:
        if not molecular_weight:
            raise ConfigError(f"dose {text!r} is a mass concentration but the molecular weight is unknown")
        return value * _MASS[unit] / molecular_weight * 1e9  # g/L -> mol/L -> nM
    raise ConfigError(f"dose {text!r}: unknown unit {match.group(2)!r} ({_UNITS_HINT})")


#: How each unit is written in tables and on axes.
_UNIT_NAMES = {"pm": "pM", "nm": "nM", "um": "µM", "µm": "µM", "μm": "µM", "mm": "mM", "m": "M", "ng/ml": "ng/mL",
               "ug/ml": "µg/mL", "µg/ml": "µg/mL", "μg/ml": "µg/mL", "mg/ml": "mg/mL", "g/l": "g/L",
               "mg/l": "mg/L"}  # fmt: skip


@dataclass(frozen=True)
class DoseUnit:
    """A unit doses are shown in: its name and the nM that one of it is (see :meth:`Drug.unit`).

    >>> unit = DoseUnit("µM", 1000.0)
    >>> unit.of(250.0), unit.format(2500.0)
    (0.25, '2.5 µM')
    """

    name: str
    nM: float

    def of(self, dose_nM: float) -> float:
        """A dose in nM in this unit."""
        return dose_nM / self.nM

    def number(self, dose_nM: float) -> str:
        """A dose in nM as a number in this unit: three significant digits, no exponent from 1000
        to a million."""
        value = self.of(dose_nM)
        return f"{value:.0f}" if 1000 <= abs(value) < 1e6 else f"{value:.3g}"

    def format(self, dose_nM: float) -> str:
        """``2.5 µM``: a dose in nM written in this unit (``3x`` for multiples of the standard dose)."""
        return f"{self.number(dose_nM)}x" if self.name == "x" else f"{self.number(dose_nM)} {self.name}"


NANOMOLAR = DoseUnit("nM", 1.0)


def _molecular_weight(text: str) -> float:
    """``148 kDa`` or ``581 g/mol`` in g/mol."""
    match = _NUMBER_UNIT.match(str(text))
    if match is None or match.group(2) is None:
        raise ValueError(f"molecular weight {text!r} needs a unit (kDa or g/mol)")
    unit = match.group(2).replace(" ", "").lower()
    factor = {"kda": 1000.0, "da": 1.0, "g/mol": 1.0}.get(unit)
    if factor is None:
        raise ValueError(f"molecular weight {text!r}: unit must be kDa, Da or g/mol")
    return float(match.group(1)) * factor


@dataclass(frozen=True)
class Binding:
    """A drug occupying one model site (a parameter of ``her2.cfg``).

    ``potency`` is in nM: Kd or IC50 for a reversible binder, KI for a covalent one.
    """

    site: str
    potency: float
    hill: float = 1.0
    emax: float = 1.0
    covalent: bool = False
    inactivation_ratio: float = 0.0

    def drive(self, dose: float, fold: float = 1.0) -> float:
        """The drug's occupancy drive ``x`` at ``dose`` nM on a target ``fold`` times less
        sensitive to it (a mutant).

        Occupancy of a site by drugs ``i`` is ``sum(emax_i x_i) / (1 + sum x_i)``. A reversible
        binder's IC50 is multiplied by ``fold``. A covalent binder inactivates its target at
        ``kinact*c/(KI+c)`` against resynthesis at ``kdeg``; a resistant target slows the
        covalent step, so ``fold`` divides ``kinact/kdeg``. That moves the IC50 by ``fold`` as
        for a reversible binder and, unlike a change of ``KI`` alone, also lowers the occupancy
        a saturating dose reaches (a gatekeeper mutant is not rescued by more drug).
        """
        if self.covalent:
            return self.inactivation_ratio / fold * dose / (self.potency + dose)
        return (dose / (self.potency * fold)) ** self.hill


@dataclass(frozen=True)
class Payload:
    """The cytotoxic load of an antibody-drug conjugate."""

    drug_to_antibody_ratio: float
    ec50: float
    max: float
    bystander: float


@dataclass(frozen=True)
class Drug:
    """One therapy of the library (see ``data/therapies.yaml``)."""

    name: str
    aliases: tuple[str, ...]
    drug_class: str
    molecular_weight: float
    standard_dose: float
    standard_dose_text: str
    bindings: tuple[Binding, ...]
    adcc: float = 0.0
    payload: Payload | None = None
    mechanism: str = ""
    references: tuple[str, ...] = ()

    def dose(self, text: str | float | None) -> float:
        """A dose in nM from text (``1uM``, ``10ug/mL``, ``2x``), a number in nM, or the standard."""
        if text is None:
            return self.standard_dose
        if isinstance(text, (int, float)):
            value = float(text)
            if not math.isfinite(value) or value < 0:
                raise ConfigError(f"{self.name}: dose must be a finite number >= 0, got {text}")
            return value
        stripped = text.strip().lower()
        if stripped.endswith("x"):
            try:
                multiple = float(stripped[:-1])
            except ValueError:
                raise ConfigError(f"{self.name}: dose {text!r} is not a number of standard doses") from None
            if not math.isfinite(multiple) or multiple < 0:
                raise ConfigError(f"{self.name}: dose {text!r} must be >= 0")
            return multiple * self.standard_dose
        return parse_concentration(text, self.molecular_weight)

    def unit(self, text: str | None = None) -> DoseUnit:
        """The unit of a dose as written (``1uM``: µM, ``10ug/mL``: µg/mL, ``2x``: multiples of
        the standard dose); without one, the unit of the drug's standard dose.

        >>> drug = therapy_library().get("trastuzumab")
        >>> drug.unit().name, round(drug.unit().nM, 3), drug.unit("2x").name
        ('µg/mL', 6.757, 'x')
        """
        text = (text if text is not None else self.standard_dose_text).strip().lower()
        if text.endswith("x"):
            return DoseUnit("x", self.standard_dose)
        match = _NUMBER_UNIT.match(text)
        unit = (match.group(2) or "nm").replace(" ", "") if match else "nm"
        if unit in _MOLAR:
            return DoseUnit(_UNIT_NAMES[unit], _MOLAR[unit])
        if unit in _MASS and self.molecular_weight:
            return DoseUnit(_UNIT_NAMES[unit], _MASS[unit] / self.molecular_weight * 1e9)
        return NANOMOLAR


@dataclass(frozen=True)
class Regimen:
    """Drugs given together, each at a dose in nM (empty: untreated)."""

    doses: tuple[tuple[Drug, float], ...] = ()

    @property
    def label(self) -> str:
        """``trastuzumab + pertuzumab``, doses written only where not standard."""
        parts = []
        for drug, dose in self.doses:
            same = math.isclose(dose, drug.standard_dose, rel_tol=1e-9)
            parts.append(drug.name if same else f"{drug.name}@{_format_nM(dose)}")
        return " + ".join(parts) or "untreated"

    @property
    def key(self) -> tuple[tuple[str, float], ...]:
        return tuple(sorted((d.name, dose) for d, dose in self.doses))


def _format_nM(value: float) -> str:
    for unit, factor in (("mM", 1e6), ("uM", 1e3), ("nM", 1.0)):
        if value >= factor:
            return f"{value / factor:g}{unit}"
    return f"{value * 1e3:g}pM"


class TherapyLibrary(NamedLibrary[Drug]):
    """Drugs looked up by name or alias, case-insensitively."""

    kind = "therapy"
    suggest_aliases = True

    def __init__(self, drugs: Iterable[Drug], source: str = "<therapies>", lines: Sequence[int | None] = ()) -> None:
        super().__init__(drugs, source, lines)

    def regimen(self, therapies: str | Mapping[str, str | float | None] | Iterable[str] | None = None) -> Regimen:
        """Build a regimen from ``"a+b@1uM"``, ``{"a": "1uM", "b": None}`` or ``["a", "b@2x"]``.

        A dose of ``None`` means the drug's standard dose; numbers are nM.
        """
        if therapies is None:
            return Regimen()
        if isinstance(therapies, str):
            items: list[tuple[str, str | float | None]] = [_split_dose(t) for t in _split_regimen(therapies)]
        elif isinstance(therapies, Mapping):
            items = list(therapies.items())
        else:
            items = [_split_dose(t) for t in therapies]
        doses: dict[str, tuple[Drug, float]] = {}
        for name, dose in items:
            drug = self.get(name)
            if drug.name in doses:
                raise ConfigError(f"{drug.name} is given twice in one regimen; give it once with its total dose")
            doses[drug.name] = (drug, drug.dose(dose))
        return Regimen(tuple(doses.values()))

    def table(self) -> pd.DataFrame:
        """One row per drug: class, standard dose, sites and potencies, mechanism, references."""
        rows = []
        for d in self._items:
            sites = ", ".join(f"{b.site} ({'KI' if b.covalent else 'IC50/Kd'} {b.potency:g} nM)" for b in d.bindings)
            rows.append(
                {
                    "name": d.name,
                    "aliases": ", ".join(d.aliases),
                    "class": d.drug_class,
                    "standard_dose": d.standard_dose_text,
                    "sites": sites,
                    "adcc": d.adcc,
                    "payload": ""
                    if d.payload is None
                    else f"DAR {d.payload.drug_to_antibody_ratio:g}, bystander {d.payload.bystander:g}",
                    "mechanism": d.mechanism,
                    "references": " | ".join(d.references),
                }
            )
        return pd.DataFrame(rows)

    def check_against(self, parameters: Iterable[str]) -> None:
        """Raise if a drug binds a site that is not a parameter of the model."""
        known = set(parameters)
        problems = [
            f"{d.name}: unknown model site {b.site!r}" for d in self._items for b in d.bindings if b.site not in known
        ]
        if problems:
            raise ModelFormatError("; ".join(problems), self.source)


def _split_regimen(text: str) -> list[str]:
    parts = [p.strip() for p in text.split("+")]
    if any(not p for p in parts):
        raise ConfigError(f"therapy {text!r} has an empty part; join drugs with '+' (trastuzumab+pertuzumab)")
    return [p for p in parts if p.lower() not in ("untreated", "none")]


def _split_dose(text: str) -> tuple[str, str | None]:
    name, _, dose = text.partition("@")
    return name.strip(), (dose.strip() or None) if dose else None


# ----------------------------------------------------------------------------- reading


def _binding(raw: Mapping[str, Any], mw: float) -> Binding:
    mode = str(raw.get("mode", "reversible"))
    if mode not in ("reversible", "covalent"):
        raise ValueError(f"mode must be reversible or covalent, not {mode!r}")
    binding = Binding(
        site=str(raw["site"]),
        potency=parse_concentration(str(raw["potency"]), mw),
        hill=float(raw.get("hill", 1.0)),
        emax=float(raw.get("emax", 1.0)),
        covalent=mode == "covalent",
        inactivation_ratio=float(raw.get("inactivation_ratio", 0.0)),
    )
    if binding.potency <= 0 or binding.hill <= 0 or not 0 <= binding.emax <= 1:
        raise ValueError("potency and hill must be > 0 and emax in [0, 1]")
    if binding.covalent and binding.inactivation_ratio <= 0:
        raise ValueError("a covalent binding needs inactivation_ratio > 0")
    return binding


#: What a malformed value raises while it is read (a dose's ConfigError is a ValueError).
_MALFORMED = (KeyError, TypeError, ValueError, AttributeError)


def _action(raw: Any, mw: float) -> Binding | float | Payload:
    """What one action of a drug adds: a binding, an ADCC strength or a payload."""
    kind = raw.get("type")
    if kind == "bind":
        return _binding(raw, mw)
    if kind == "adcc":
        return float(raw["strength"])
    if kind == "payload":
        return Payload(
            float(raw["drug_to_antibody_ratio"]),
            float(raw["ec50"]),
            float(raw["max"]),
            float(raw.get("bystander", 0.0)),
        )
    raise ValueError(f"unknown action type {kind!r} (bind, adcc or payload)")


def _drug(doc: Document, index: int, raw: Any) -> Drug:
    at: Path = ("therapies", index)
    if not isinstance(raw, dict) or "name" not in raw:
        raise doc.located(at, f"therapy #{index + 1} is not a mapping with a name")
    name = str(raw["name"])
    try:
        mw = _molecular_weight(raw["molecular_weight"])
    except _MALFORMED as exc:
        raise doc.located((*at, "molecular_weight"), f"{name}: {exc}") from None
    bindings, adcc, payload = [], 0.0, None
    for i, action in enumerate(raw.get("actions") or ()):
        try:
            effect = _action(action, mw)
        except _MALFORMED as exc:
            raise doc.located((*at, "actions", i), f"{name}: {exc}") from None
        if isinstance(effect, Binding):
            bindings.append(effect)
        elif isinstance(effect, Payload):
            payload = effect
        else:
            adcc = effect
    if (adcc or payload) and not bindings:
        raise doc.located((*at, "actions"), f"{name}: ADCC and payloads need an epitope: give a bind action first")
    try:
        dose_text = str(raw["standard_dose"])
        standard = parse_concentration(dose_text, mw)
    except _MALFORMED as exc:
        raise doc.located((*at, "standard_dose"), f"{name}: {exc}") from None
    return Drug(
        name=name,
        aliases=tuple(str(a) for a in raw.get("aliases") or ()),
        drug_class=str(raw.get("class", "")),
        molecular_weight=mw,
        standard_dose=standard,
        standard_dose_text=dose_text,
        bindings=tuple(bindings),
        adcc=adcc,
        payload=payload,
        mechanism=str(raw.get("mechanism", "")),
        references=tuple(str(r) for r in raw.get("references") or ()),
    )


def read_therapies(path: str | os.PathLike[str]) -> TherapyLibrary:
    """Read a therapy library file (the format of ``data/therapies.yaml``); every problem names
    ``file:line``."""
    doc = read_document(path)
    if not isinstance(doc.data, dict) or not isinstance(doc.data.get("therapies"), list):
        raise doc.located(("therapies",), "expected a top-level 'therapies:' list")
    entries = doc.data["therapies"]
    lines = [doc.line(("therapies", i)) for i in range(len(entries))]
    return TherapyLibrary((_drug(doc, i, raw) for i, raw in enumerate(entries)), doc.source, lines)


@functools.cache
def therapy_library() -> TherapyLibrary:
    """The library shipped with her2sim, checked against the HER2 model."""
    from her2sim.her2.model import data_path, load_model

    library = read_therapies(data_path("therapies.yaml"))
    library.check_against(load_model().parameter_values)
    return library
