"""Virtual patient populations: sourced attribute distributions, sampled into patients and tumour contexts.

A population file (the shipped one is ``data/populations.yaml``; its header comment and
``docs/reference/populations.md`` give the schema) declares

* the patient **attributes**: the vocabulary shared with trial designs (HER2 IHC and ISH, HR
  status, PIK3CA, prior therapies, body size, tumour burden, ...);
* the **context** mapping: ordered rules that turn a patient's attributes into alterations of
  the library (``ERBB2:amp; ESR1:high; PIK3CA:H1047R``), kept in the data rather than in code;
* the **populations**: a distribution per attribute, each with its source and n, or
  ``uncertain: true`` and a note where no source gives it.

:func:`sample_patients` draws one row per patient, vectorised. Each attribute is drawn by
inverse transform from its own random stream, keyed by (seed, population, attribute). So a new
attribute does not change what the others drew, and the first k rows of a sample of n are the
sample of k. :func:`from_profiles` puts the genotypes of a cBioPortal cohort in place of the
sampled ones.

Examples
--------
>>> patients = sample_patients("her2-positive-first-line", n=1000, seed=7)
>>> len(patients), sorted(set(patients["her2_ihc"]))
(1000, ['2+', '3+'])
>>> patients.equals(sample_patients("her2-positive-first-line", n=1000, seed=7))
True
>>> patients.loc[1, ["her2_ihc", "hr_status", "pik3ca"]].tolist(), round(float(patients.loc[1, "weight_kg"]), 1)
(['3+', 'negative', 'other'], 63.0)
>>> list(patients["context"][:3])
['ERBB2:heterogeneous; ESR1:high', 'ERBB2:amp', 'ERBB2:amp; ESR1:high; p95HER2; MUC4:high']
"""

from __future__ import annotations

import functools
import math
import os
import re
import warnings
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from her2sim.errors import ConfigError, Her2simError, Her2simWarning, ModelFormatError, UnknownNameError, closest
from her2sim.formats.records import Document, Path, read_document

if TYPE_CHECKING:
    from her2sim.experiments.profiles import Profile

__all__ = [
    "Attribute",
    "Population",
    "PopulationLibrary",
    "from_profiles",
    "populations",
    "read_populations",
    "sample_patients",
]

_TYPES = ("category", "boolean", "integer", "number")
#: Computed columns: formula -> the number attributes it reads.
_FORMULAS = {"mosteller": ("weight_kg", "height_cm")}
_KINDS = ("frequencies", "normal", "lognormal", "uniform", "not_applicable", "given")
_PROVENANCE = ("source", "n", "definition", "uncertain", "note")
_FRACTION = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
_PERCENTILE = re.compile(r"^p(\d+(?:\.\d+)?)$")
_TOLERANCE = 1e-6


# ============================================================================ vocabulary and data


@dataclass(frozen=True)
class Attribute:
    """A patient attribute of the vocabulary.

    Discrete values are held as integer codes: a category's index in ``values``, 0/1 for a
    boolean, the integer itself for an integer.
    """

    name: str
    type: str
    values: tuple[str, ...] = ()
    unit: str = ""
    formula: str = ""
    profile_default: int | None = None
    description: str = ""

    @property
    def discrete(self) -> bool:
        return self.type != "number"

    def code(self, raw: Any) -> int | None:
        """The code of a value as written in the file, or None when it is not one of ours."""
        if isinstance(raw, bool):
            return int(raw) if self.type == "boolean" else None
        text = str(raw).strip()
        if self.type == "boolean":
            return {"true": 1, "false": 0}.get(text.lower())
        if self.type == "integer":
            return int(text) if re.fullmatch(r"-?\d+", text) else None
        if self.type == "category":
            return self.values.index(text) if text in self.values else None
        return None

    def label(self, code: int) -> str:
        """A code as users write the value."""
        if self.type == "category":
            return self.values[code]
        if self.type == "boolean":
            return "true" if code else "false"
        return str(code)

    def expected(self) -> str:
        """What a value of this attribute looks like, for messages."""
        if self.type == "category":
            return "one of " + ", ".join(self.values)
        return {"boolean": "true or false", "integer": "an integer"}.get(self.type, "a number")

    def column(self, codes: np.ndarray) -> Any:
        """The DataFrame column of an array of codes (numbers pass through)."""
        if self.type == "category":
            return pd.Categorical.from_codes(codes, categories=list(self.values))
        if self.type == "boolean":
            return codes.astype(bool)
        return codes


@dataclass(frozen=True)
class Reference:
    """A source cited by distributions."""

    key: str
    citation: str
    kind: str
    url: str = ""
    note: str = ""


@dataclass(frozen=True)
class Provenance:
    """Where a distribution comes from: references and n, a definition, or a note on why it is uncertain."""

    sources: tuple[str, ...] = ()
    n: int | None = None
    definition: str = ""
    uncertain: bool = False
    note: str = ""


@dataclass(frozen=True)
class Probability:
    """A frequency: fixed (``low == high``), a range drawn once per sample, or the rest."""

    low: float
    high: float
    text: str
    rest: bool = False


@dataclass(frozen=True)
class Frequencies:
    """Categorical: each outcome a code or a :class:`Frequencies` it splits into."""

    labels: tuple[str, ...]
    outcomes: tuple[int | Frequencies, ...]
    probabilities: tuple[Probability, ...]
    provenance: Provenance
    path: Path


@dataclass(frozen=True)
class Continuous:
    """Normal, log-normal (``a``, ``b`` = mean and SD of the log) or uniform (``a``, ``b`` = low, high)."""

    family: str
    a: float
    b: float
    lower: float
    upper: float
    text: str
    provenance: Provenance
    path: Path


@dataclass(frozen=True)
class NotApplicable:
    """An attribute this population does not have (its column is NaN)."""

    reason: str
    path: Path


@dataclass(frozen=True)
class Conditional:
    """A distribution per value (code) of another discrete attribute."""

    given: str
    cases: tuple[tuple[int, Frequencies | Continuous | NotApplicable], ...]
    provenance: Provenance
    path: Path


Leaf = Frequencies | Continuous | NotApplicable
Distribution = Leaf | Conditional


@dataclass(frozen=True)
class Rule:
    """If every (attribute, code) holds, the slot's alteration is ``alteration`` (None: nothing)."""

    when: tuple[tuple[str, int], ...]
    alteration: str | None


@dataclass(frozen=True)
class Slot:
    """A place in the context: the first rule that holds gives its alteration."""

    name: str
    rules: tuple[Rule, ...]
    note: str = ""


@dataclass(frozen=True)
class Population:
    """A population: a distribution for each attribute (formulas aside), and the order to draw them in.

    ``defined_in`` names, per attribute, the population whose entry is used (itself or a base).
    """

    name: str
    description: str
    base: str
    attributes: Mapping[str, Distribution]
    defined_in: Mapping[str, str]
    order: tuple[str, ...]


# ============================================================================ reading


class _Reader:
    """Checks a population document section by section; every problem is a located error."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.references: dict[str, Reference] = {}
        self.attributes: dict[str, Attribute] = {}

    def error(self, path: Path, message: str, hint: str | None = None) -> ModelFormatError:
        return self.doc.error(path, message, hint)

    def mapping(self, path: Path, raw: Any, what: str) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise self.error(path, f"{what} must be a mapping")
        return raw

    def keys(self, path: Path, raw: dict[str, Any], allowed: Sequence[str], required: Sequence[str] = ()) -> None:
        for key in raw:
            if key not in allowed:
                raise self.error((*path, key), f"unknown key {key!r}", f"keys: {', '.join(allowed)}")
        for key in required:
            if key not in raw:
                raise self.error(path, f"missing {key!r}")

    def text(self, path: Path, raw: Any) -> str:
        if not isinstance(raw, str) or not raw.strip():
            raise self.error(path, "must be a non-empty text")
        return raw.strip()

    # ---------------------------------------------------------------- sections

    def library(self) -> PopulationLibrary:
        root = self.doc.data
        if not isinstance(root, dict):
            raise ModelFormatError(
                "a population file is a mapping: references, attributes, context, populations", self.doc.source, 1
            )
        sections = ("references", "attributes", "context", "populations")
        self.keys((), root, sections, sections)
        self.read_references(root["references"])
        self.read_attributes(root["attributes"])
        slots = self.read_context(root["context"])
        readers = self.profile_readers(slots)
        found = self.read_populations(root["populations"])
        return PopulationLibrary(
            self.doc.source, self.references, self.attributes, slots, found, readers, self.doc.line(("context",))
        )

    def read_references(self, raw: Any) -> None:
        path: Path = ("references",)
        for key, entry in self.mapping(path, raw, "references").items():
            where = (*path, key)
            entry = self.mapping(where, entry, f"reference {key!r}")
            self.keys(where, entry, ("citation", "kind", "url", "note"), ("citation", "kind"))
            kind = self.text((*where, "kind"), entry["kind"])
            if kind not in ("primary", "secondary", "derived"):
                raise self.error((*where, "kind"), f"kind must be primary, secondary or derived, got {kind!r}")
            self.references[key] = Reference(
                key,
                self.text((*where, "citation"), entry["citation"]),
                kind,
                str(entry.get("url", "")),
                str(entry.get("note", "")),
            )

    def read_attributes(self, raw: Any) -> None:
        path: Path = ("attributes",)
        allowed = ("type", "values", "unit", "formula", "from_profiles", "description")
        for name, entry in self.mapping(path, raw, "attributes").items():
            where = (*path, name)
            entry = self.mapping(where, entry, f"attribute {name!r}")
            self.keys(where, entry, allowed, ("type",))
            kind = entry["type"]
            if kind not in _TYPES:
                raise self.error((*where, "type"), f"type must be one of {', '.join(_TYPES)}, got {kind!r}")
            values = entry.get("values")
            if (kind == "category") != (values is not None):
                raise self.error(where, "a category attribute, and only a category attribute, lists its values")
            if values is not None and (
                not isinstance(values, list) or not values or len({str(v) for v in values}) != len(values)
            ):
                raise self.error((*where, "values"), "values must be a non-empty list of distinct values")
            attribute = Attribute(
                name,
                kind,
                tuple(str(v) for v in values or ()),
                str(entry.get("unit", "")),
                str(entry.get("formula", "")),
                description=str(entry.get("description", "")),
            )
            if attribute.formula and (attribute.formula not in _FORMULAS or kind != "number"):
                raise self.error(
                    (*where, "formula"),
                    f"unknown formula {attribute.formula!r} for a {kind}",
                    f"formulas of number attributes: {', '.join(_FORMULAS)}",
                )
            if "from_profiles" in entry:
                default = attribute.code(entry["from_profiles"])
                if default is None or not attribute.discrete:
                    raise self.error((*where, "from_profiles"), f"must be a value of {name} ({attribute.expected()})")
                attribute = replace(attribute, profile_default=default)
            self.attributes[name] = attribute
        for name, attribute in self.attributes.items():
            for needed in _FORMULAS.get(attribute.formula, ()):
                if needed not in self.attributes or self.attributes[needed].type != "number":
                    raise self.error((*path, name, "formula"), f"{attribute.formula} needs number attribute {needed!r}")

    def read_context(self, raw: Any) -> tuple[Slot, ...]:
        from her2sim.her2.alterations import alteration_library

        library = alteration_library()
        path: Path = ("context",)
        if not isinstance(raw, list):
            raise self.error(path, "context must be a list of slots")
        slots = []
        for i, entry in enumerate(raw):
            where = (*path, i)
            entry = self.mapping(where, entry, "a slot")
            self.keys(where, entry, ("slot", "rules", "note"), ("slot", "rules"))
            if not isinstance(entry["rules"], list) or not entry["rules"]:
                raise self.error((*where, "rules"), "rules must be a non-empty list")
            rules = []
            for j, rule in enumerate(entry["rules"]):
                at = (*where, "rules", j)
                rule = self.mapping(at, rule, "a rule")
                self.keys(at, rule, ("when", "alteration"), ("when", "alteration"))
                when = tuple(
                    self.condition((*at, "when", a), a, v)
                    for a, v in self.mapping((*at, "when"), rule["when"], "when").items()
                )
                name = self.text((*at, "alteration"), rule["alteration"])
                if name.lower() == "none":
                    rules.append(Rule(when, None))
                    continue
                found = library.find(name)
                if found is None:
                    suggestions = closest(name, library.names)
                    hint = "did you mean " + ", ".join(repr(s) for s in suggestions) + "?" if suggestions else None
                    raise self.error((*at, "alteration"), f"unknown alteration {name!r} (not in the library)", hint)
                rules.append(Rule(when, found.name))
            slots.append(Slot(self.text((*where, "slot"), entry["slot"]), tuple(rules), str(entry.get("note", ""))))
        return tuple(slots)

    def condition(self, path: Path, name: str, value: Any) -> tuple[str, int]:
        attribute = self.attribute(path, name)
        if not attribute.discrete:
            raise self.error(path, f"{name} is a number; rules test categories, booleans and integers")
        code = attribute.code(value)
        if code is None:
            raise self.error(path, f"{value!r} is not a value of {name} ({attribute.expected()})")
        return name, code

    def attribute(self, path: Path, name: str) -> Attribute:
        """The vocabulary attribute called ``name``; an unknown name is an error at ``path``."""
        if name not in self.attributes:
            suggestions = closest(name, self.attributes)
            hint = "did you mean " + ", ".join(repr(s) for s in suggestions) + "?" if suggestions else None
            raise self.error(path, f"unknown attribute {name!r}", hint)
        return self.attributes[name]

    def profile_readers(self, slots: tuple[Slot, ...]) -> dict[str, dict[str, int]]:
        """For each genotype attribute (``from_profiles``), alteration name -> the value it means.

        Read off the rules that test that attribute alone, first rule first.
        """
        readers: dict[str, dict[str, int]] = {}
        for name, attribute in self.attributes.items():
            if attribute.profile_default is None:
                continue
            reader: dict[str, int] = {}
            for slot in slots:
                for rule in slot.rules:
                    if rule.alteration and len(rule.when) == 1 and rule.when[0][0] == name:
                        reader.setdefault(rule.alteration, rule.when[0][1])
            if not reader:
                raise self.error(
                    ("attributes", name, "from_profiles"),
                    f"no context rule tests {name} alone, so a profile cannot give it",
                )
            readers[name] = reader
        return readers

    # ---------------------------------------------------------------- populations

    def read_populations(self, raw: Any) -> dict[str, Population]:
        path: Path = ("populations",)
        entries = self.mapping(path, raw, "populations")
        own: dict[str, dict[str, Distribution]] = {}
        for name, entry in entries.items():
            where = (*path, name)
            entry = self.mapping(where, entry, f"population {name!r}")
            self.keys(where, entry, ("description", "base", "attributes"), ("description",))
            given = self.mapping((*where, "attributes"), entry.get("attributes", {}), "attributes")
            own[name] = {}
            for attribute_name, spec in given.items():
                at = (*where, "attributes", attribute_name)
                attribute = self.attribute(at, attribute_name)
                if attribute.formula:
                    inputs = " and ".join(_FORMULAS[attribute.formula])
                    raise self.error(
                        at, f"{attribute_name} is computed from {inputs} ({attribute.formula}); give no distribution"
                    )
                own[name][attribute_name] = self.distribution(at, spec, attribute)
        return {name: self.population(name, entries, own) for name in entries}

    def population(self, name: str, entries: dict[str, Any], own: dict[str, dict[str, Distribution]]) -> Population:
        """Resolve the base chain of ``name``, then check completeness and the conditionals."""
        attributes: dict[str, Distribution] = {}
        defined_in: dict[str, str] = {}
        chain = [name]
        while "base" in entries[chain[-1]]:
            at = ("populations", chain[-1], "base")
            base = self.text(at, entries[chain[-1]]["base"])
            if base not in entries:
                suggestions = closest(base, entries)
                hint = "did you mean " + ", ".join(repr(s) for s in suggestions) + "?" if suggestions else None
                raise self.error(at, f"unknown population {base!r}", hint)
            if base in chain:
                raise self.error(at, f"populations are their own base: {' -> '.join([*chain, base])}")
            chain.append(base)
        for member in reversed(chain):
            for attribute_name, distribution in own[member].items():
                attributes[attribute_name] = distribution
                defined_in[attribute_name] = member
        where = ("populations", name)
        missing = [a for a, attribute in self.attributes.items() if not attribute.formula and a not in attributes]
        if missing:
            raise self.error(where, f"population {name!r} gives no distribution for {', '.join(missing)}")
        ordered = [a for a in self.attributes if a in attributes]
        population = Population(
            name,
            self.text(("populations", name, "description"), entries[name]["description"]),
            str(entries[name].get("base", "")),
            attributes,
            defined_in,
            self.order(name, attributes, ordered),
        )
        for attribute_name in ordered:
            distribution = attributes[attribute_name]
            if isinstance(distribution, Conditional):
                self.check_cases(population, attribute_name, distribution)
        return population

    def order(self, name: str, attributes: dict[str, Distribution], ordered: list[str]) -> tuple[str, ...]:
        """The vocabulary order, each attribute moved after the one it is conditional on."""
        done: list[str] = []

        def visit(attribute_name: str, stack: tuple[str, ...]) -> None:
            if attribute_name in done:
                return
            distribution = attributes[attribute_name]
            if isinstance(distribution, Conditional):
                if distribution.given in stack:  # reported where the circle was entered
                    cycle = " -> ".join([*stack[stack.index(distribution.given) :], distribution.given])
                    entered = attributes[distribution.given]
                    raise self.error(
                        (*entered.path, "given"), f"population {name!r}: conditionals go round in a circle ({cycle})"
                    )
                visit(distribution.given, (*stack, distribution.given))
            done.append(attribute_name)

        for attribute_name in ordered:
            visit(attribute_name, (attribute_name,))
        return tuple(done)

    def check_cases(self, population: Population, name: str, distribution: Conditional) -> None:
        """Every value the given attribute can take in ``population`` needs a case."""
        given = self.attributes[distribution.given]
        covered = {code for code, _ in distribution.cases}
        for code in sorted(_possible(population.attributes[distribution.given])):
            if code not in covered:
                raise self.error(
                    (*distribution.path, "cases"),
                    f"population {population.name!r}: no case for "
                    f"{given.name} = {given.label(code)}, which it can take",
                )

    # ---------------------------------------------------------------- distributions

    def distribution(
        self,
        path: Path,
        raw: Any,
        attribute: Attribute,
        parent: Provenance | None = None,
        splits: Mapping[str, Frequencies] | None = None,
    ) -> Distribution:
        """Compile one distribution of ``attribute``.

        Cases (``parent`` given) inherit the conditional's provenance and its compiled ``splits``;
        a split refines a category into other values and has a provenance of its own.
        """
        raw = self.mapping(path, raw, f"the distribution of {attribute.name}")
        kinds = [k for k in _KINDS if k in raw]
        if len(kinds) != 1:
            raise self.error(path, f"give exactly one of {', '.join(_KINDS)}", f"found {', '.join(kinds) or 'none'}")
        kind = kinds[0]
        in_case = parent is not None
        allowed = [kind, *_PROVENANCE]
        if kind in ("frequencies", "given") and not in_case:
            allowed.append("split")
        if kind == "given":
            if in_case:
                raise self.error((*path, kind), "a case cannot be conditional itself")
            allowed.append("cases")
        self.keys(path, raw, allowed, ("cases",) if kind == "given" else ())
        provenance = self.provenance(path, raw, parent or Provenance())
        if not in_case:
            splits = self.splits(path, raw.get("split"), attribute)
        if kind == "not_applicable":
            if attribute.discrete:
                raise self.error(
                    (*path, kind), f"{attribute.name} is a {attribute.type}; only numbers can be not applicable"
                )
            return NotApplicable(self.text((*path, kind), raw[kind]), path)
        if kind in ("normal", "lognormal", "uniform"):
            if attribute.discrete:
                raise self.error((*path, kind), f"{attribute.name} is a {attribute.type}: give frequencies")
            self.check_provenance(path, provenance)
            return self.continuous(path, kind, raw[kind], provenance)
        found: Distribution
        if kind == "given":
            found = self.conditional(path, raw, attribute, provenance, splits or {})
            used = {label for _, case in found.cases if isinstance(case, Frequencies) for label in case.labels}
        else:
            if not attribute.discrete:
                raise self.error((*path, kind), f"{attribute.name} is a number: give normal, lognormal or uniform")
            self.check_provenance(path, provenance)
            found = self.frequencies(path, raw[kind], attribute, provenance, splits or {})
            used = set(found.labels)
        for label in splits or {}:
            if not in_case and label not in used:
                raise self.error((*path, "split", label), f"split of {label!r}, which no frequencies name")
        return found

    def conditional(
        self,
        path: Path,
        raw: dict[str, Any],
        attribute: Attribute,
        provenance: Provenance,
        splits: Mapping[str, Frequencies],
    ) -> Conditional:
        given = self.attribute((*path, "given"), str(raw["given"]))
        if given.name == attribute.name or not given.discrete or given.formula:
            raise self.error(
                (*path, "given"), f"{attribute.name} can only be conditional on another discrete attribute"
            )
        cases: list[tuple[int, Leaf]] = []
        for key, spec in self.mapping((*path, "cases"), raw["cases"], "cases").items():
            code = given.code(key)
            if code is None:
                raise self.error((*path, "cases", key), f"{key!r} is not a value of {given.name} ({given.expected()})")
            case = self.distribution((*path, "cases", key), spec, attribute, provenance, splits)
            cases.append((code, cast(Leaf, case)))  # a case cannot be conditional: refused in distribution()
        if not cases:
            raise self.error((*path, "cases"), "give at least one case")
        return Conditional(given.name, tuple(cases), provenance, path)

    def splits(self, path: Path, raw: Any, attribute: Attribute) -> dict[str, Frequencies]:
        """Compiled ``split:`` entries (category -> its values), each with its own provenance."""
        found = {}
        for label, spec in ({} if raw is None else self.mapping((*path, "split"), raw, "split")).items():
            at = (*path, "split", label)
            spec = self.mapping(at, spec, f"the split of {label!r}")
            self.keys(at, spec, ("frequencies", *_PROVENANCE), ("frequencies",))
            inner = self.provenance(at, spec, Provenance())
            self.check_provenance(at, inner)
            found[str(label)] = self.frequencies(at, spec["frequencies"], attribute, inner, {})
        return found

    def frequencies(
        self, path: Path, raw: Any, attribute: Attribute, provenance: Provenance, splits: Mapping[str, Frequencies]
    ) -> Frequencies:
        where = (*path, "frequencies")
        raw = self.mapping(where, raw, "frequencies")
        if not raw:
            raise self.error(where, "give at least one value")
        labels, outcomes, probabilities, seen = [], [], [], set()
        for label, value in raw.items():
            at = (*where, label)
            outcome: int | Frequencies
            if label in splits:
                outcome = splits[label]
            else:
                code = attribute.code(label)
                if code is None:
                    raise self.error(
                        at,
                        f"{label!r} is not a value of {attribute.name}",
                        f"values: {attribute.expected()}; or refine a category with split:",
                    )
                if code in seen:
                    raise self.error(at, f"{label!r} is given twice")
                seen.add(code)
                outcome = code
            labels.append(attribute.label(outcome) if isinstance(outcome, int) else str(label))
            outcomes.append(outcome)
            probabilities.append(self.probability(at, value))
        self.check_sum(where, probabilities)
        return Frequencies(tuple(labels), tuple(outcomes), tuple(probabilities), provenance, path)

    def check_sum(self, path: Path, probabilities: list[Probability]) -> None:
        rests = sum(p.rest for p in probabilities)
        if rests > 1:
            raise self.error(path, "only one value can be the rest")
        if rests:
            top = sum(p.high for p in probabilities if not p.rest)
            if top > 1 + _TOLERANCE:
                raise self.error(path, f"the other frequencies can reach {top:.6g}, leaving no rest")
            return
        if any(p.low != p.high for p in probabilities):
            raise self.error(path, "a range needs another value to be the rest", "write rest for one value")
        total = sum(p.low for p in probabilities)
        if abs(total - 1) > _TOLERANCE:
            raise self.error(path, f"frequencies sum to {total:.6g}, not 1", "or write rest for one value")

    def probability(self, path: Path, raw: Any) -> Probability:
        if raw == "rest":
            return Probability(0.0, 0.0, "rest", rest=True)
        if isinstance(raw, list):
            if len(raw) != 2:
                raise self.error(path, "a range is [low, high]")
            low, high = self.fraction(path, raw[0]), self.fraction(path, raw[1])
            if low > high:
                raise self.error(path, f"range [{raw[0]}, {raw[1]}] goes down")
            return Probability(low, high, f"[{raw[0]}, {raw[1]}]")
        value = self.fraction(path, raw)
        return Probability(value, value, str(raw))

    def fraction(self, path: Path, raw: Any) -> float:
        match = _FRACTION.match(raw) if isinstance(raw, str) else None
        if match:
            count, total = int(match[1]), int(match[2])
            if total == 0:
                raise self.error(path, f"{raw!r} divides by zero")
            value = count / total
        elif isinstance(raw, (int, float)) and not isinstance(raw, bool):
            value = float(raw)
        else:
            raise self.error(path, f"{raw!r} is not a frequency", "a number, a fraction k/n, [low, high] or rest")
        if not 0 <= value <= 1:
            raise self.error(path, f"frequency {raw} is not between 0 and 1")
        return value

    def continuous(self, path: Path, family: str, raw: Any, provenance: Provenance) -> Continuous:
        where = (*path, family)
        raw = self.mapping(where, raw, family)
        values = {}
        for key, value in raw.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise self.error((*where, key), f"{key} must be a finite number, got {value!r}")
            values[key] = float(value)
        text = f"{family} " + ", ".join(f"{k}={v:g}" for k, v in values.items())
        log = family == "lognormal"
        lower, upper = values.pop("min", 0.0 if log else -math.inf), values.pop("max", math.inf)
        if family == "uniform":
            if set(values) != {"low", "high"} or math.isfinite(lower) or math.isfinite(upper):
                raise self.error(where, "uniform takes low and high", f"got {', '.join(raw)}")
            if values["low"] >= values["high"]:
                raise self.error(where, f"low ({values['low']:g}) must be below high ({values['high']:g})")
            return Continuous(family, values["low"], values["high"], lower, upper, text, provenance, path)
        if log and lower < 0:
            raise self.error((*where, "min"), "a log-normal value is positive: min must be >= 0")
        if lower >= upper:
            raise self.error(where, f"min ({lower:g}) must be below max ({upper:g})")
        if set(values) == {"mean", "sd"}:
            mean, sd = values["mean"], values["sd"]
            if sd <= 0:
                raise self.error((*where, "sd"), f"sd must be > 0, got {sd:g}")
            if log and mean <= 0:
                raise self.error((*where, "mean"), f"a log-normal mean must be > 0, got {mean:g}")
            if log:  # moment matching: the log-normal with this arithmetic mean and SD
                sigma = math.sqrt(math.log1p((sd / mean) ** 2))
                mean, sd = math.log(mean) - sigma**2 / 2, sigma
        else:
            mean, sd = self.percentiles(where, values, log)
        a = (math.log(lower) if lower > 0 else -math.inf) if log else lower
        b = (math.log(upper) if math.isfinite(upper) else math.inf) if log else upper
        if ndtr((b - mean) / sd) - ndtr((a - mean) / sd) < 1e-12:
            raise self.error(where, f"no probability between min and max ({lower:g}..{upper:g})")
        return Continuous(family, mean, sd, lower, upper, text, provenance, path)

    def percentiles(self, path: Path, values: dict[str, float], log: bool) -> tuple[float, float]:
        """Mean and SD (of the log if ``log``) of the normal through two percentiles."""
        found = [(float(m[1]), key) for key in values if (m := _PERCENTILE.match(key))]
        if len(values) != 2 or len(found) != 2:
            raise self.error(
                path, "give mean and sd, or two percentiles", f"for example p25 and p75; got {', '.join(values)}"
            )
        (p1, k1), (p2, k2) = sorted(found)
        if not 0 < p1 < p2 < 100:
            raise self.error(path, "percentiles must be two different values between 0 and 100")
        x1, x2 = values[k1], values[k2]
        if log and x1 <= 0:
            raise self.error((*path, k1), f"a log-normal percentile must be > 0, got {x1:g}")
        if x2 <= x1:
            raise self.error((*path, k2), f"{k2} ({x2:g}) must be above {k1} ({x1:g})")
        y1, y2 = (math.log(x1), math.log(x2)) if log else (x1, x2)
        z1, z2 = float(ndtri(p1 / 100)), float(ndtri(p2 / 100))
        sd = (y2 - y1) / (z2 - z1)
        return y1 - z1 * sd, sd

    def provenance(self, path: Path, raw: dict[str, Any], parent: Provenance) -> Provenance:
        """``parent``'s provenance with the fields ``raw`` gives; a new source or definition replaces the old."""
        found = parent
        if "source" in raw:
            keys = raw["source"] if isinstance(raw["source"], list) else [raw["source"]]
            for key in keys:
                if key not in self.references:
                    suggestions = closest(str(key), self.references)
                    hint = "did you mean " + ", ".join(repr(s) for s in suggestions) + "?" if suggestions else None
                    raise self.error((*path, "source"), f"unknown reference {key!r}", hint)
            found = replace(found, sources=tuple(keys), definition="", n=None)
        if "definition" in raw:
            if "source" in raw:
                raise self.error((*path, "definition"), "give a source or a definition, not both")
            found = replace(found, definition=self.text((*path, "definition"), raw["definition"]), sources=(), n=None)
        if "n" in raw:
            n = raw["n"]
            if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n <= 0):
                raise self.error((*path, "n"), f"n must be a positive integer, got {n!r}")
            found = replace(found, n=n)
        if "uncertain" in raw:
            if not isinstance(raw["uncertain"], bool):
                raise self.error((*path, "uncertain"), "uncertain must be true or false")
            found = replace(found, uncertain=raw["uncertain"])
        if "note" in raw:
            found = replace(found, note=self.text((*path, "note"), raw["note"]))
        return found

    def check_provenance(self, path: Path, provenance: Provenance) -> None:
        if not (provenance.sources or provenance.definition or provenance.uncertain):
            raise self.error(
                path, "no source", "give source: (a reference), definition:, or uncertain: true and a note"
            )
        if provenance.uncertain and not provenance.note:
            raise self.error(path, "an uncertain distribution needs a note saying what it rests on")


def _possible(distribution: Distribution) -> set[int]:
    """Codes a discrete distribution can draw (with a frequency or a range above zero)."""
    if isinstance(distribution, Conditional):
        return set().union(*(_possible(case) for _, case in distribution.cases))
    if not isinstance(distribution, Frequencies):
        return set()
    found: set[int] = set()
    for outcome, probability in zip(distribution.outcomes, distribution.probabilities, strict=True):
        if probability.high > 0 or probability.rest:
            found |= _possible(outcome) if isinstance(outcome, Frequencies) else {outcome}
    return found


# ============================================================================ sampling


def _stream(seed: int, *keys: str) -> np.random.Generator:
    """The random stream of (seed, population, attribute, purpose): stable across processes and versions."""
    return np.random.default_rng(np.random.SeedSequence([seed, *(zlib.crc32(k.encode()) for k in keys)]))


def _inverse_cdf(distribution: Continuous, u: np.ndarray) -> np.ndarray:
    """Values at probabilities ``u`` of the (truncated) distribution."""
    if distribution.family == "uniform":
        return distribution.a + u * (distribution.b - distribution.a)
    log = distribution.family == "lognormal"
    low, high = distribution.lower, distribution.upper
    if log:
        low = math.log(low) if low > 0 else -math.inf
        high = math.log(high) if math.isfinite(high) else math.inf
    f_low = float(ndtr((low - distribution.a) / distribution.b))
    f_high = float(ndtr((high - distribution.a) / distribution.b))
    p = np.clip(f_low + u * (f_high - f_low), np.nextafter(0.0, 1.0), np.nextafter(1.0, 0.0))
    values = distribution.a + distribution.b * ndtri(p)
    return np.clip(np.exp(values) if log else values, distribution.lower, distribution.upper)


class _Draw:
    """One call: ``n`` patients of one population from one seed; ``fixed`` columns are not drawn."""

    def __init__(
        self,
        library: PopulationLibrary,
        population: Population,
        n: int,
        seed: int,
        fixed: Mapping[str, np.ndarray],
    ) -> None:
        self.library, self.population, self.n, self.seed = library, population, n, seed
        self.columns: dict[str, np.ndarray] = dict(fixed)
        self.drawn: dict[str, float] = {}
        for name in population.order:
            if name not in self.columns:
                self.columns[name] = self.attribute(name, population.attributes[name])
        for name, attribute in library.attributes.items():
            if attribute.formula == "mosteller":
                weight, height = (self.columns[a] for a in _FORMULAS["mosteller"])
                self.columns[name] = np.sqrt(weight * height / 3600.0)

    def attribute(self, name: str, distribution: Distribution) -> np.ndarray:
        keys = (self.population.name, name)
        u = _stream(self.seed, *keys, "value").random(self.n)
        u_split = _stream(self.seed, *keys, "split").random(self.n)
        ranges = _stream(self.seed, *keys, "range")
        resolved: dict[int, np.ndarray] = {}
        if not isinstance(distribution, Conditional):
            return self.leaf(distribution, u, u_split, ranges, resolved, name, name)
        given = self.columns[distribution.given]
        attribute = self.library.attributes[distribution.given]
        out = np.empty(self.n, dtype=np.int64 if self.library.attributes[name].discrete else np.float64)
        for code, case in distribution.cases:
            mask = given == code
            where = f"{name}[{distribution.given}={attribute.label(code)}]"
            out[mask] = self.leaf(case, u[mask], u_split[mask], ranges, resolved, where, name)
        return out

    def leaf(
        self,
        distribution: Leaf,
        u: np.ndarray,
        u_split: np.ndarray,
        ranges: np.random.Generator,
        resolved: dict[int, np.ndarray],
        where: str,
        name: str,
    ) -> np.ndarray:
        """Draw a leaf at probabilities ``u``; ``where`` names it in ``drawn`` (a split, shared by
        the cases of a conditional, is named after the attribute ``name``)."""
        if isinstance(distribution, NotApplicable):
            return np.full(len(u), np.nan)
        if isinstance(distribution, Continuous):
            return _inverse_cdf(distribution, u)
        cumulative = np.cumsum(self.probabilities(distribution, ranges, resolved, where))
        index = np.minimum(np.searchsorted(cumulative / cumulative[-1], u, side="right"), len(cumulative) - 1)
        codes = np.array([o if isinstance(o, int) else -1 for o in distribution.outcomes], dtype=np.int64)
        out = codes[index]
        for i, outcome in enumerate(distribution.outcomes):
            if isinstance(outcome, Frequencies):  # a split, drawn from the second stream
                mask = index == i
                label = f"{name}.{distribution.labels[i]}"
                out[mask] = self.leaf(outcome, u_split[mask], u_split[mask], ranges, resolved, label, name)
        return out

    def probabilities(
        self, distribution: Frequencies, ranges: np.random.Generator, resolved: dict[int, np.ndarray], where: str
    ) -> np.ndarray:
        """The frequencies of this call: every range drawn once, the rest what is left."""
        key = id(distribution)
        if key not in resolved:
            values = np.array(
                [p.low if p.low == p.high else ranges.uniform(p.low, p.high) for p in distribution.probabilities]
            )
            rest = [i for i, p in enumerate(distribution.probabilities) if p.rest]
            if rest:
                values[rest[0]] = max(0.0, 1.0 - values.sum())
            if any(p.low != p.high for p in distribution.probabilities):
                for label, value in zip(distribution.labels, values, strict=True):
                    self.drawn[f"{where}.{label}"] = float(value)
            resolved[key] = values
        return resolved[key]


# ============================================================================ the library


class PopulationLibrary:
    """The populations of one file, with its attribute vocabulary and context rules.

    Read with :func:`read_populations`; the shipped one is :func:`populations`.
    """

    def __init__(
        self,
        source: str,
        references: Mapping[str, Reference],
        attributes: Mapping[str, Attribute],
        slots: tuple[Slot, ...],
        found: Mapping[str, Population],
        readers: Mapping[str, Mapping[str, int]],
        context_line: int | None = None,
    ) -> None:
        self.source = source
        self.context_line = context_line
        self.references = dict(references)
        self.attributes = dict(attributes)
        self.slots = slots
        self._populations = dict(found)
        self._readers = {k: dict(v) for k, v in readers.items()}
        self._named = {rule.alteration for slot in slots for rule in slot.rules if rule.alteration}

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._populations)

    def get(self, name: str) -> Population:
        """The population called ``name``; an unknown name suggests close ones."""
        if name not in self._populations:
            raise UnknownNameError("population", name, self._populations)
        return self._populations[name]

    def sample(self, population: str, n: int, seed: int) -> pd.DataFrame:
        """``n`` patients of ``population`` (see :func:`sample_patients`)."""
        chosen = self.get(population)
        _check_size(n, seed)
        draw = _Draw(self, chosen, n, seed, {})
        return self._frame(draw, self._contexts(chosen, draw.columns))

    def from_profiles(
        self, profiles: Mapping[str, Profile] | Sequence[Profile], population: str, seed: int, n: int | None = None
    ) -> pd.DataFrame:
        """Patients of ``population`` with the genotypes of ``profiles`` (see :func:`from_profiles`)."""
        from her2sim.her2.alterations import alteration_library

        chosen = self.get(population)
        cohort = list(profiles.values()) if isinstance(profiles, Mapping) else list(profiles)
        if not cohort:
            raise ConfigError("from_profiles needs at least one profile")
        n = len(cohort) if n is None else n
        _check_size(n, seed)
        if len(cohort) < n:
            warnings.warn(
                f"{len(cohort)} profiles for {n} patients: patient i takes profile i mod {len(cohort)}",
                Her2simWarning,
                stacklevel=3,
            )
        library = alteration_library()
        names = [tuple(library.get(a).name for a in p.alterations) for p in cohort]
        which = np.arange(n) % len(cohort)
        fixed = {}
        for attribute, reader in self._readers.items():
            default = self.attributes[attribute].profile_default
            codes = [next((reader[a] for a in reader if a in found), default) for found in names]
            fixed[attribute] = np.array(codes, dtype=np.int64)[which]
        draw = _Draw(self, chosen, n, seed, fixed)
        extras = ["; ".join(a for a in found if a not in self._named) for found in names]
        contexts = self._contexts(chosen, draw.columns, which, extras)
        frame = self._frame(draw, contexts)
        frame["sample"] = np.array([p.sample for p in cohort], dtype=object)[which]
        frame.attrs.update(profiles=len(cohort), reused=len(cohort) < n)
        return frame

    def table(self) -> pd.DataFrame:
        """Every distribution of every population, one row per value set, with its provenance.

        Columns: population, attribute, case, distribution, source, n, uncertain, note, defined_in.
        """
        rows = []
        for population in self._populations.values():
            for name in self.attributes:
                if name in population.attributes:
                    for row in self._rows(name, population.attributes[name], ""):
                        rows.append({"population": population.name, **row, "defined_in": population.defined_in[name]})
        return pd.DataFrame(rows)

    # ---------------------------------------------------------------- internals

    def _rows(self, name: str, distribution: Distribution, case: str) -> Iterable[dict[str, Any]]:
        if isinstance(distribution, Conditional):
            given = self.attributes[distribution.given]
            for code, leaf in distribution.cases:
                yield from self._rows(name, leaf, f"{given.name} = {given.label(code)}")
            return
        if isinstance(distribution, NotApplicable):
            yield {
                "attribute": name,
                "case": case,
                "distribution": "not applicable",
                "source": "",
                "n": None,
                "uncertain": False,
                "note": distribution.reason,
            }
            return
        if isinstance(distribution, Continuous):
            text = distribution.text
        else:
            text = "; ".join(
                f"{label} {p.text}" for label, p in zip(distribution.labels, distribution.probabilities, strict=True)
            )
        provenance = distribution.provenance
        source = "; ".join(provenance.sources) or (
            f"definition: {provenance.definition}" if provenance.definition else "not sourced"
        )
        yield {
            "attribute": name,
            "case": case,
            "distribution": text,
            "source": source,
            "n": provenance.n,
            "uncertain": provenance.uncertain,
            "note": provenance.note,
        }
        if isinstance(distribution, Frequencies):
            for label, outcome in zip(distribution.labels, distribution.outcomes, strict=True):
                if isinstance(outcome, Frequencies):
                    yield from self._rows(name, outcome, f"{case}, {label}" if case else label)

    def _contexts(
        self,
        population: Population,
        columns: Mapping[str, np.ndarray],
        which: np.ndarray | None = None,
        extras: Sequence[str] = (),
    ) -> pd.Categorical:
        """The context of every patient: the slots' alterations, then the profile's ``extras``.

        Rows are grouped by their combination of rule choices (and profile), so each distinct
        context is built and checked against the alteration library once.
        """
        n = len(next(iter(columns.values())))
        key, radix = np.zeros(n, dtype=np.int64), 1
        for slot in self.slots:
            choice = np.full(n, len(slot.rules), dtype=np.int64)
            for i in range(len(slot.rules) - 1, -1, -1):  # the first rule that holds is written last
                mask = np.ones(n, dtype=bool)
                for attribute, code in slot.rules[i].when:
                    mask &= columns[attribute] == code
                choice[mask] = i
            key += choice * radix
            radix *= len(slot.rules) + 1
        if which is not None:
            key = key * len(extras) + which
        unique, inverse = np.unique(key, return_inverse=True)
        texts = [self._context_text(int(k), extras) for k in unique]
        for text in dict.fromkeys(texts):
            problem = _context_problem(text)
            if problem:
                raise ModelFormatError(
                    f"population {population.name!r}: the context {text!r} is rejected by the "
                    f"alteration library: {problem}",
                    self.source,
                    self.context_line,
                    hint="add a rule that leaves one of them out",
                )
        categories = list(dict.fromkeys(texts))
        position = np.array([categories.index(t) for t in texts], dtype=np.int64)
        return pd.Categorical.from_codes(position[inverse.ravel()], categories=categories)

    def _context_text(self, key: int, extras: Sequence[str]) -> str:
        names: list[str] = []
        profile = None
        if extras:
            key, profile = divmod(key, len(extras))
        for slot in self.slots:
            key, choice = divmod(key, len(slot.rules) + 1)
            alteration = slot.rules[choice].alteration if choice < len(slot.rules) else None
            if alteration:
                names.append(alteration)
        if profile is not None and extras[profile]:
            names.append(extras[profile])
        return "; ".join(names) or "none"

    def _frame(self, draw: _Draw, contexts: pd.Categorical) -> pd.DataFrame:
        data = {name: attribute.column(draw.columns[name]) for name, attribute in self.attributes.items()}
        frame = pd.DataFrame(data, index=pd.RangeIndex(draw.n, name="patient"))
        frame["context"] = contexts
        frame.attrs = {
            "population": draw.population.name,
            "seed": draw.seed,
            "source": self.source,
            "drawn": draw.drawn,
        }
        return frame


@functools.lru_cache(maxsize=4096)
def _context_problem(text: str) -> str | None:
    """Why the alteration library rejects a context, or None."""
    from her2sim.her2.alterations import alteration_library

    try:
        alteration_library().context(text)
    except Her2simError as exc:
        return str(exc)
    return None


def _check_size(n: int, seed: int) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ConfigError(f"the number of patients must be a positive integer, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"the seed must be a non-negative integer, got {seed!r}")


# ============================================================================ public API


def read_populations(path: str | os.PathLike[str]) -> PopulationLibrary:
    """Read and check a population file (the format of ``data/populations.yaml``).

    Every problem is one ``file:line: path: message (fix)`` error: an unknown attribute,
    population, reference or alteration, frequencies that do not sum to 1, a negative SD, a
    conditional without a case for a value its attribute can take, ...

    Examples
    --------
    >>> library = read_populations(_data_path())
    >>> library.names[:2]
    ('her2-positive-first-line', 'her2-positive-pretreated')
    """
    return _Reader(read_document(path)).library()


def _data_path() -> str:
    return str(resources.files("her2sim.trials") / "data" / "populations.yaml")


@functools.cache
def populations() -> PopulationLibrary:
    """The populations shipped with her2sim (read once).

    Examples
    --------
    >>> sorted(populations().names)[0]
    'her2-low-metastatic'
    """
    return read_populations(_data_path())


def sample_patients(population: str, n: int, seed: int) -> pd.DataFrame:
    """``n`` virtual patients of a shipped population, reproducibly from ``seed``.

    Parameters
    ----------
    population
        A name of :func:`populations` (``her2-positive-neoadjuvant``, ``her2-positive-first-line``,
        ``her2-positive-pretreated``, ``her2-positive-post-tdm1``, ``her2-low-metastatic``,
        ``her2-low-zero-metastatic``).
    n
        Number of patients (rows).
    seed
        Non-negative integer. The first k rows of a sample of n are the sample of k.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``patient``; one column per attribute of the vocabulary (categories as
        pandas categoricals, booleans, integers, floats with NaN where not applicable,
        ``bsa_m2`` by Mosteller) and ``context``, the tumour as alteration-library names.
        ``attrs`` holds population, seed, source file and ``drawn``: the value each uncertain
        frequency range took in this sample.

    Examples
    --------
    >>> patients = sample_patients("her2-low-zero-metastatic", n=20000, seed=3)
    >>> round(patients.attrs["drawn"]["her2_ihc.0"], 3)  # this sample's IHC 0 share, from [0.130, 0.566]
    0.534
    >>> round(float((patients["her2_ihc"] == "0").mean()), 3)
    0.539
    """
    return populations().sample(population, n, seed)


def from_profiles(
    profiles: Mapping[str, Profile] | Sequence[Profile], population: str, seed: int, n: int | None = None
) -> pd.DataFrame:
    """Patients of a shipped population whose genotypes are those of a cBioPortal cohort.

    The genotype attributes (those with ``from_profiles`` in the vocabulary: PIK3CA, ERBB2 and
    ERBB3 mutations, CCND1/CCNE1 amplification, PTEN loss) are read from each profile's
    alterations, through the context rules that name them; a profile without any of them gets
    the attribute's ``from_profiles`` value (wild-type, none, false). Everything else (HER2 and
    HR status, prior therapy, body size, tumour burden) is sampled as in :func:`sample_patients`,
    with the same streams. Profile alterations that no rule names (``NF1:loss``, ``KRAS:G12D``)
    are added to the context as they are; those a rule names but that are not genotypes
    (``ERBB2:amp``, ``ESR1:high``) are left to the population.

    Patient i takes profile i; with fewer profiles than ``n`` (default: one patient per profile)
    they are reused in turn (i mod the number of profiles) and a :class:`Her2simWarning` says so.
    The column ``sample`` names each patient's profile.

    Examples
    --------
    >>> from her2sim.experiments.profiles import Profile
    >>> cohort = [Profile("S1", ("PIK3CA:H1047R", "NF1:loss")), Profile("S2", ())]
    >>> patients = from_profiles(cohort, "her2-positive-first-line", seed=1)
    >>> patients[["sample", "pik3ca"]].to_dict("list")
    {'sample': ['S1', 'S2'], 'pik3ca': ['H1047R', 'wild-type']}
    >>> patients.loc[0, "context"]
    'ERBB2:amp; ESR1:high; PIK3CA:H1047R; p95HER2; IGF1R:high; NF1:loss'

    """
    return populations().from_profiles(profiles, population, seed, n)
