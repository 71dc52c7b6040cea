"""Trial designs: who a clinical trial took, what each arm was given and what it measured.

A design is a YAML file (the shipped ones are in ``her2sim/trials/data/designs``; the schema,
field by field, is in ``docs/reference/trial-designs.md``). Every design fact carries its
source: mapping sections have a ``source:`` key, the top-level texts are sourced under
``sources:``, and every source names a publication of ``references`` by its id followed by
where in it (``"Swain2020: abstract, Methods"``). A fact the sources lack is listed under
``not_found:`` instead of being guessed. Results are not part of a design: they are
measurements (see :mod:`her2sim.trials.published`).

:func:`read_design` checks a file and reports every problem as ``file:line: path: message
(fix)``: unknown keys, drugs, attributes, endpoints, populations; an eligibility that selects
nobody; a randomisation ratio that does not fit the arms; a required field neither given nor
listed as not found.

Examples
--------
>>> cleopatra = design("cleopatra")
>>> cleopatra.name, cleopatra.setting, cleopatra.n
('CLEOPATRA', 'first-line metastatic', 808)
>>> [arm.label for arm in cleopatra.arms], cleopatra.control_arm
(['pertuzumab+TH', 'placebo+TH'], 'placebo+TH')
>>> cleopatra.arm("pertuzumab+TH").drugs[0].describe()
'pertuzumab 840 mg, then 420 mg, every 3 weeks, until progression, IV'
>>> cleopatra.eligible({"her2_ihc": "2+", "her2_ish": True, "prior_lines": 0,
...                     "prior_pertuzumab": False, "prior_tdm1": False})
True
"""

from __future__ import annotations

import functools
import os
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NoReturn, TypeVar

from her2sim.errors import (
    ConfigError,
    Her2simWarning,
    ModelFormatError,
    ModelValidationError,
    UnknownNameError,
    closest,
)
from her2sim.formats.records import Document, Path, parse_document, read_document
from her2sim.trials.chemotherapy import chemotherapy_library
from her2sim.trials.conditions import (
    ATTRIBUTES,
    EVERYONE,
    AllOf,
    AnyOf,
    Condition,
    Subgroup,
    data_path,
    parse_condition,
    satisfiable,
    subgroup_table,
)
from her2sim.trials.pk import outside_validated, pk_library
from her2sim.trials.schedule import SCHEDULE_WORDS, Schedule, parse_schedule

__all__ = [
    "ENDPOINTS",
    "POPULATIONS",
    "SETTINGS",
    "Arm",
    "Assessments",
    "Criterion",
    "DrugChoice",
    "DrugItem",
    "Endpoint",
    "Gap",
    "Note",
    "Randomisation",
    "Reference",
    "SubgroupAnalysis",
    "TrialDesign",
    "describe_design",
    "design",
    "designs",
    "parse_design",
    "read_design",
]

#: Settings a design can have.
SETTINGS = ("neoadjuvant", "first-line metastatic", "pretreated metastatic")
#: Virtual populations a design can enrol from (shipped by the population layer, cross-checked there).
POPULATIONS = (
    "her2-positive-neoadjuvant",
    "her2-positive-first-line",
    "her2-positive-pretreated",
    "her2-positive-post-tdm1",
    "her2-low-metastatic",
    "her2-low-zero-metastatic",
)
PLACEBO = "placebo"
#: Endpoints a design can measure; pCR needs a definition, ORR says whether responses were confirmed.
ENDPOINTS = ("pCR", "ORR", "PFS", "OS")
PCR_DEFINITIONS = ("ypT0/is", "ypT0/is ypN0")
RECIST_VERSIONS = ("1.0", "1.1")
#: Who judged progression and response: the investigator, a blinded independent central review,
#: or an independent review the sources do not call blinded.
REVIEWS = ("investigator", "BICR", "independent")
# required and optional keys of each mapping of the schema
_TOP = (
    (
        "name",
        "title",
        "references",
        "setting",
        "population",
        "eligibility",
        "randomisation",
        "arms",
        "endpoints",
        "sources",
    ),
    ("aliases", "control_arm", "surgery_week", "assessments", "subgroups", "not_found", "notes"),
)
_REFERENCE = (("id", "citation"), ("doi", "pmid", "pmcid", "nct", "note"))
_CRITERION = (("text", "source"), ("condition", "note"))
_RANDOMISATION = (("source",), ("randomised", "ratio", "stratification", "blinding", "note"))
_ARM = (("name", "label", "n", "drugs", "source"), ("eligibility", "population", "note"))
_DRUG = (("drug", "source"), (*SCHEDULE_WORDS, "note"))
_CHOICE = (("one_of", "chosen_by", "source"), ("shares", "note"))
_SHARES = (("percent", "source"), ("note",))
#: How far the published shares of a choice may sum from 100 (rounding of each share).
SHARES_TOLERANCE = 1.0
_ASSESSMENTS = (("source",), ("imaging_every_weeks", "then_every_weeks", "after_week", "recist", "review", "note"))
_ENDPOINT = (("name", "source"), ("primary", "definition", "confirmed", "note"))
_SUBGROUPS = (("by", "groups", "source"), ("note",))
_GAP = (("field", "note"), ())
_NOTE = (("text", "source"), ())
_SOURCED = (("title", "setting"), ("control_arm", "surgery_week"))
_REFERENCE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
#: Largest difference between an arm's share of patients and its share of the ratio.
RATIO_TOLERANCE = 0.05


def _fields() -> frozenset[str]:
    """Every field a ``not_found`` entry can name (dotted, without list indices)."""
    out = {*_TOP[0], *_TOP[1]} | {f"eligibility.{a}" for a in ATTRIBUTES}
    for section, keys in (
        ("randomisation", _RANDOMISATION),
        ("arms", _ARM),
        ("arms.drugs", _DRUG),
        ("assessments", _ASSESSMENTS),
        ("endpoints", _ENDPOINT),
        ("subgroups", _SUBGROUPS),
    ):
        out |= {f"{section}.{k}" for k in (*keys[0], *keys[1]) if k not in ("source", "note")}
    return frozenset(out)


#: Fields a ``not_found`` entry can name.
FIELDS = _fields()

#: Sources of a fact: each ``"<reference id>: <where in it>"``.
Source = tuple[str, ...]


# ----------------------------------------------------------------------------- the schema


@dataclass(frozen=True)
class Reference:
    """A publication (or registry record, or page) a design's facts come from."""

    id: str
    citation: str
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    nct: str | None = None
    note: str = ""


@dataclass(frozen=True)
class Criterion:
    """One eligibility criterion: its wording, and the condition it puts on patients where the
    attribute vocabulary can express it (None where it cannot: performance status, LVEF)."""

    text: str
    condition: Condition | None
    source: Source
    note: str = ""


@dataclass(frozen=True)
class DrugItem:
    """A drug given on a schedule.

    ``drug`` is the therapy library's name (``trastuzumab emtansine`` for ``T-DM1``), a
    chemotherapy or ``placebo``; ``kind`` says which (``library``, ``chemotherapy``,
    ``placebo``). ``schedule`` is the item as a plain mapping, ``drug`` (canonical) and the
    schedule words (:data:`~her2sim.trials.schedule.SCHEDULE_WORDS`) as written (``dose: 8 mg/kg,
    then: 6 mg/kg, every: 3 weeks, until: progression``); a drug without ``dose`` is one whose
    dose the sources do not give (the design lists ``arms.drugs.dose`` under ``not_found``).
    ``location`` is ``file:line`` for messages.
    """

    drug: str
    kind: str
    schedule: Mapping[str, Any]
    source: Source
    note: str = ""
    location: str = ""

    def __hash__(self) -> int:  # the schedule is a mapping: hash what identifies the item
        return hash((self.drug, self.location, tuple(self.schedule.items())))

    @property
    def options(self) -> tuple[DrugItem, ...]:
        """The item itself, as the one option there is (a :class:`DrugChoice` has several)."""
        return (self,)

    def describe(self) -> str:
        """The schedule in words: ``trastuzumab 8 mg/kg, then 6 mg/kg, every 3 weeks, until progression``."""
        s = self.schedule
        words = [f"{self.drug} {s['dose']}" if "dose" in s else self.drug]
        if self.kind != PLACEBO and "dose" not in s:
            words[0] += " (dose not found in the sources)"
        phrases = {
            "then": "then {}",
            "every": "every {}",
            "times_per_day": "{} times a day",
            "days": "days {}",
            "cycle": "in cycles of {}",
            "cycles": "{} cycles",
            "start": "from {}",
            "weeks": "for {} weeks",
            "infusion": "infused over {}",
            "until": "until {}",
            "route": "{}",
        }
        words += [
            "once a day" if key == "times_per_day" and s[key] == 1 else phrase.format(s[key])
            for key, phrase in phrases.items()
            if key in s
        ]
        return ", ".join(words)


@dataclass(frozen=True)
class DrugChoice:
    """One of several schedules, chosen per patient (by ``chosen_by``, e.g. the investigator).

    ``shares`` gives each option's share of the arm's patients as the trial reported it
    (fractions summing to 1, in the order of ``options``, with ``shares_source``); without them
    every option is equally likely."""

    options: tuple[DrugItem, ...]
    chosen_by: str
    source: Source
    note: str = ""
    shares: tuple[float, ...] = ()
    shares_source: Source = ()

    def describe(self) -> str:
        """``one of (chosen by the investigator): a; b; c``, each with its share when published."""
        shown = [o.describe() for o in self.options]
        if self.shares:
            shown = [f"{text} ({100 * share:.1f}%)" for text, share in zip(shown, self.shares, strict=True)]
        return f"one of (chosen by {self.chosen_by}): " + "; ".join(shown)


#: An entry of an arm's ``drugs``.
Given = DrugItem | DrugChoice


@dataclass(frozen=True)
class Arm:
    """A treatment arm (or, in a non-randomised trial, a cohort)."""

    name: str
    label: str
    n: int
    drugs: tuple[Given, ...]
    source: Source
    eligibility: tuple[Criterion, ...] = ()
    population: str | None = None
    note: str = ""

    @property
    def condition(self) -> Condition:
        """The arm's own eligibility (cohorts by biomarker); everyone when it has none."""
        return _conjunction(self.eligibility)


@dataclass(frozen=True)
class Randomisation:
    """How patients were allotted to arms; ``ratio`` has one part per arm, in the order of ``arms``."""

    randomised: bool
    ratio: tuple[int, ...] | None
    stratification: tuple[str, ...]
    blinding: str
    source: Source
    note: str = ""


@dataclass(frozen=True)
class Assessments:
    """Tumour imaging (every ``imaging_every_weeks``, then every ``then_every_weeks`` from
    ``after_week``), the RECIST version and who reviewed progression for the primary endpoint."""

    imaging_every_weeks: float | None
    then_every_weeks: float | None
    after_week: float | None
    recist: str | None
    review: str | None
    source: Source
    note: str = ""


@dataclass(frozen=True)
class Endpoint:
    """An endpoint: ``pCR`` (``definition`` ypT0/is or ypT0/is ypN0), ``ORR`` (``confirmed``
    responses or not; None when the sources do not say), ``PFS`` or ``OS``."""

    name: str
    primary: bool
    definition: str | None
    confirmed: bool | None
    source: Source
    note: str = ""

    @property
    def label(self) -> str:
        """``pCR (ypT0/is)``, ``ORR (confirmed)``, ``PFS``."""
        extra = self.definition or {True: "confirmed", False: "unconfirmed", None: None}[self.confirmed]
        return f"{self.name} ({extra})" if extra else self.name


@dataclass(frozen=True)
class SubgroupAnalysis:
    """A grouping a publication reports: by which attributes, into which subgroups."""

    by: tuple[str, ...]
    groups: tuple[Subgroup, ...]
    source: Source
    note: str = ""


@dataclass(frozen=True)
class Gap:
    """A design fact the sources lack (``field`` is dotted: ``assessments.imaging_every_weeks``)."""

    field: str
    note: str


@dataclass(frozen=True)
class Note:
    """A sourced fact outside the schema (crossover, adjuvant therapy, unmodelled subgroups)."""

    text: str
    source: Source


@dataclass(frozen=True)
class TrialDesign:
    """A clinical trial's design, every fact with its source (see the module documentation)."""

    name: str
    aliases: tuple[str, ...]
    title: str
    references: tuple[Reference, ...]
    setting: str
    population: str
    eligibility: tuple[Criterion, ...]
    randomisation: Randomisation
    arms: tuple[Arm, ...]
    control_arm: str | None
    surgery_week: float | None
    assessments: Assessments | None
    endpoints: tuple[Endpoint, ...]
    subgroups: tuple[SubgroupAnalysis, ...]
    not_found: tuple[Gap, ...]
    notes: tuple[Note, ...]
    sources: Mapping[str, Source] = field(default_factory=dict)
    path: str = ""

    def __hash__(self) -> int:  # ``sources`` is a mapping: hash what identifies the design
        return hash((self.name, self.path))

    @property
    def n(self) -> int:
        """Patients in all arms."""
        return sum(arm.n for arm in self.arms)

    @property
    def condition(self) -> Condition:
        """The trial-wide eligibility: every criterion the attribute vocabulary can express."""
        return _conjunction(self.eligibility)

    @property
    def control(self) -> Arm | None:
        """The control arm, if the design names one."""
        return None if self.control_arm is None else self.arm(self.control_arm)

    def arm(self, name: str) -> Arm:
        """The arm with this label or published name (case-insensitive).

        >>> design("EMILIA").arm("t-dm1").name
        'Trastuzumab Emtansine (T-DM1)'
        """
        key = name.strip().lower()
        for arm in self.arms:
            if key in (arm.label.lower(), arm.name.lower()):
                return arm
        raise UnknownNameError(f"{self.name} arm", name, [a.label for a in self.arms])

    def eligible(self, patient: Mapping[str, Any], arm: str | None = None) -> bool:
        """Whether a patient (attribute -> value) meets the eligibility of the trial and of
        ``arm`` (or, without one, of at least one arm)."""
        if not self.condition.matches(patient):
            return False
        arms = self.arms if arm is None else (self.arm(arm),)
        return any(a.condition.matches(patient) for a in arms)

    def endpoint(self, name: str, definition: str | None = None) -> Endpoint | None:
        """The endpoint called ``name`` (and, for pCR, with this ``definition``), or None."""
        for e in self.endpoints:
            if e.name.lower() == name.lower() and (definition is None or e.definition == definition):
                return e
        return None

    def subgroup(self, name: str) -> Subgroup | None:
        """A subgroup the design reports, by the subgroup table's name or alias, or None."""
        found = subgroup_table().find(name)
        if found is None:
            return None
        return next((g for a in self.subgroups for g in a.groups if g.name == found.name), None)

    @property
    def subgroup_groups(self) -> dict[str, dict[str, Condition]]:
        """The reported subgroups as the analysis takes them (:func:`her2sim.trials.analysis.summary`):
        for each grouping, named by the attributes it groups by, each group's name and condition.

        >>> design("EMILIA").subgroup_groups["age"]["age <65"].describe()
        'age < 65'
        """
        grouped: dict[str, dict[str, Condition]] = {}
        for analysis in self.subgroups:
            grouped.setdefault(", ".join(analysis.by), {}).update({g.name: g.condition for g in analysis.groups})
        return grouped

    def lacks(self, field: str) -> bool:
        """Whether the sources lack ``field`` (it is listed under ``not_found``)."""
        return any(gap.field == field for gap in self.not_found)


def _conjunction(criteria: Sequence[Criterion]) -> Condition:
    conditions = tuple(c.condition for c in criteria if c.condition is not None)
    if not conditions:
        return EVERYONE
    return conditions[0] if len(conditions) == 1 else AllOf(conditions)


# ----------------------------------------------------------------------------- reading


def read_design(path: str | os.PathLike[str]) -> TrialDesign:
    """Read and check a trial-design file; every problem is reported with its ``file:line``.

    Raises
    ------
    ModelFormatError
        one problem, as ``file:line: path: message (fix)``.
    ModelValidationError
        several problems, each located, on one line.
    """
    return _Reader(read_document(path)).design()


def parse_design(text: str, source: str = "<design>") -> TrialDesign:
    """A trial design from YAML text (:func:`read_design` reads a file).

    >>> parse_design("name: X", "x.yaml")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    her2sim.errors.ModelFormatError: x.yaml:1: missing required field 'title' (and 'references', ...)
    """
    return _Reader(parse_document(text, source)).design()


class _Skip(Exception):
    """The piece being read is wrong; its problem has been recorded."""


T = TypeVar("T")


class _Reader:
    """Reads one design document, recording problems and reading on, then raising them all."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.problems: list[ModelFormatError] = []
        self.reference_ids: set[str] = set()
        self.not_found: dict[str, Gap] = {}

    # -- helpers
    def fail(self, path: Path, message: str, hint: str | None = None) -> ModelFormatError:
        return self.doc.error(path, message, hint)

    def record(self, path: Path, message: str, hint: str | None = None) -> None:
        self.problems.append(self.fail(path, message, hint))

    def attempt(self, read: Callable[..., T], *args: Any) -> T | None:
        """``read(*args)``, or None after recording its problem."""
        try:
            return read(*args)
        except _Skip:
            return None
        except ModelFormatError as exc:
            self.problems.append(exc)
            return None

    def keys(self, data: Any, path: Path, spec: tuple[tuple[str, ...], tuple[str, ...]], what: str) -> dict[str, Any]:
        """Check a mapping's keys: unknown keys are recorded; a missing required one skips it."""
        if not isinstance(data, dict):
            raise self.fail(path, f"{what} is a mapping of {', '.join(spec[0])}, ...")
        required, optional = spec
        known = (*required, *optional)
        for key in data:
            if key not in known:
                near = closest(key, known)
                hint = (
                    (f"did you mean {', '.join(repr(n) for n in near)}? " if near else "")
                    + "known: "
                    + ", ".join(known)
                )
                self.record((*path, key), f"unknown key {key!r}", hint)
        missing = [k for k in required if k not in data]
        if missing:
            more = f" (and {', '.join(repr(m) for m in missing[1:])})" if len(missing) > 1 else ""
            self.record(path, f"missing required field {missing[0]!r}{more}")
            raise _Skip
        return data

    def listed(self, data: Any, path: Path, what: str) -> list[Any]:
        if not isinstance(data, list):
            raise self.fail(path, f"{what} is a list")
        return data

    def text(self, data: Any, path: Path) -> str:
        if not isinstance(data, str) or not data.strip():
            raise self.fail(path, f"expected a text, not {data!r}")
        return data.strip()

    def number(self, data: Any, path: Path, integer: bool = False) -> float:
        ok = isinstance(data, int) if integer else isinstance(data, (int, float))
        if isinstance(data, bool) or not ok or data <= 0:
            raise self.fail(path, f"expected a {'whole ' if integer else ''}number > 0, not {data!r}")
        return data

    def choice(self, data: Any, path: Path, allowed: Sequence[str], what: str) -> str:
        text = str(data).strip() if isinstance(data, (str, int, float)) and not isinstance(data, bool) else None
        if text is None or text not in allowed:
            near = closest(str(data), allowed)
            hint = (
                (f"did you mean {', '.join(repr(n) for n in near)}? " if near else "")
                + f"{what}: "
                + ", ".join(allowed)
            )
            raise self.fail(path, f"unknown {what.rstrip('s')} {data!r}", hint)
        return text

    def source(self, data: Any, path: Path) -> Source:
        """A source: ``"REF: where"`` or a list of them, each REF an id of ``references``."""
        items = data if isinstance(data, list) else [data]
        out = []
        for i, item in enumerate(items):
            where = (*path, i) if isinstance(data, list) else path
            if not isinstance(item, str) or ":" not in item:
                raise self.fail(
                    where, f"a source is 'reference-id: where in it', not {item!r}", "e.g. 'Baselga2012: abstract'"
                )
            ref, _, place = item.partition(":")
            if ref.strip() not in self.reference_ids:
                near = closest(ref.strip(), self.reference_ids)
                hint = (
                    (f"did you mean {', '.join(repr(n) for n in near)}? " if near else "")
                    + "references: "
                    + ", ".join(sorted(self.reference_ids))
                )
                raise self.fail(where, f"source names unknown reference {ref.strip()!r}", hint)
            if not place.strip():
                raise self.fail(where, "say where in the reference (section, table, page)")
            out.append(item.strip())
        if not out:
            raise self.fail(path, "a source is needed")
        return tuple(out)

    def nonempty(self, condition: Condition, path: Path, message: str) -> None:
        """Raise ``path: message: the condition (the conditions contradict)`` if nobody meets it."""
        try:
            empty = not satisfiable(condition)
        except ConfigError as exc:
            raise self.fail(path, str(exc)) from None
        if empty:
            raise self.fail(path, f"{message}: {condition.describe()}", "the conditions contradict")

    # -- the sections
    def design(self) -> TrialDesign:
        data = self.attempt(self.keys, self.doc.data, (), _TOP, "a trial design")
        if data is None:  # not a mapping, or required fields missing: nothing more can be read
            self.raise_problems()
        refs = self.attempt(self.references, data["references"]) or ()
        gaps = self.attempt(self.gaps, data.get("not_found", [])) or ()
        name = self.attempt(self.text, data["name"], ("name",))
        aliases = self.attempt(self.aliases, data.get("aliases", []))
        sources = self.attempt(self.top_sources, data["sources"], data)
        title = self.attempt(self.text, data["title"], ("title",))
        setting = self.attempt(self.choice, data["setting"], ("setting",), SETTINGS, "settings")
        population = self.attempt(self.choice, data["population"], ("population",), POPULATIONS, "populations")
        criteria = self.attempt(self.criteria, data["eligibility"], ("eligibility",), "eligibility")
        arms = self.attempt(self.arms, data["arms"])
        randomisation = self.attempt(self.randomisation, data["randomisation"], arms)
        control = self.attempt(self.control_arm, data.get("control_arm"), arms, randomisation)
        surgery = self.attempt(self.surgery_week, data.get("surgery_week"), setting)
        assessments = self.attempt(self.assessments, data.get("assessments"), setting)
        endpoints = self.attempt(self.endpoints, data["endpoints"])
        subgroups = self.attempt(self.subgroups, data.get("subgroups", []))
        notes = self.attempt(self.notes, data.get("notes", []))
        if criteria is not None and arms is not None:
            self.attempt(self.cohorts, criteria, arms, subgroups or ())
        self.finish()
        if (
            name is None
            or aliases is None
            or title is None
            or setting is None
            or population is None
            or criteria is None
            or randomisation is None
            or arms is None
            or endpoints is None
            or subgroups is None
            or notes is None
            or sources is None
        ):  # each None recorded a problem, which finish() raised
            raise RuntimeError(f"{self.doc.source}: a required section was not read, yet no problem was recorded")
        return TrialDesign(
            name=name,
            aliases=aliases,
            title=title,
            references=refs,
            setting=setting,
            population=population,
            eligibility=criteria,
            randomisation=randomisation,
            arms=arms,
            control_arm=control,
            surgery_week=surgery,
            assessments=assessments,
            endpoints=endpoints,
            subgroups=subgroups,
            not_found=gaps,
            notes=notes,
            sources=MappingProxyType(sources),
            path=self.doc.source,
        )

    def finish(self) -> None:
        """Raise the problems recorded, if any."""
        if self.problems:
            self.raise_problems()

    def raise_problems(self) -> NoReturn:
        """One problem as it is; several as one error listing them (each located)."""
        if len(self.problems) == 1:
            raise self.problems[0]
        raise ModelValidationError([str(p) for p in self.problems], self.doc.source)

    def references(self, data: Any) -> tuple[Reference, ...]:
        out = []
        for i, raw in enumerate(self.listed(data, ("references",), "references")):
            path: Path = ("references", i)
            ref = self.attempt(self.keys, raw, path, _REFERENCE, "a reference")
            if ref is None:
                continue
            ident = str(ref["id"])
            if not _REFERENCE_ID.match(ident) or ident in self.reference_ids:
                self.record(
                    (*path, "id"),
                    f"reference id {ident!r} is used twice"
                    if ident in self.reference_ids
                    else f"a reference id is letters, digits, '.', '_' and '-', not {ident!r}",
                )
                continue
            self.reference_ids.add(ident)
            extra = {k: str(ref[k]) for k in ("doi", "pmid", "pmcid", "nct") if ref.get(k) is not None}
            out.append(Reference(ident, str(ref["citation"]), note=str(ref.get("note", "")), **extra))
        if not out and not self.problems:
            raise self.fail(("references",), "a design needs at least one reference")
        return tuple(out)

    def gaps(self, data: Any) -> tuple[Gap, ...]:
        out = []
        for i, raw in enumerate(self.listed(data, ("not_found",), "not_found")):
            path: Path = ("not_found", i)
            gap = self.attempt(self.keys, raw, path, _GAP, "a not_found entry")
            if gap is None:
                continue
            name = str(gap["field"])
            if name not in FIELDS:
                near = closest(name, FIELDS)
                self.record(
                    (*path, "field"),
                    f"unknown field {name!r}",
                    f"did you mean {', '.join(near)}?" if near else "a dotted field of the schema",
                )
                continue
            self.not_found[name] = Gap(name, str(gap["note"]))
            out.append(self.not_found[name])
        return tuple(out)

    def present_or_missing(self, value: Any, name: str, path: Path, needed: bool = True, once: bool = True) -> None:
        """A field some designs lack: given, or listed under not_found, and (for a field that
        occurs ``once`` in a design, not once per arm or drug) never both."""
        if value is not None and once and name in self.not_found:
            raise self.fail(path, f"{name} is given and also listed under not_found", "remove one of the two")
        if value is None and needed and name not in self.not_found:
            raise self.fail(
                path[:-1],
                f"missing required field {path[-1]!r}",
                f"give it, or list {{field: {name}, note: ...}} under not_found",
            )

    def aliases(self, data: Any) -> tuple[str, ...]:
        return tuple(self.text(a, ("aliases", i)) for i, a in enumerate(self.listed(data, ("aliases",), "aliases")))

    def top_sources(self, data: Any, top: dict[str, Any]) -> dict[str, Source]:
        raw = self.keys(data, ("sources",), _SOURCED, "sources")
        out = {
            key: self.source(value, ("sources", key))
            for key, value in raw.items()
            if key in (*_SOURCED[0], *_SOURCED[1])
        }
        for key in _SOURCED[1]:
            if key in top and key not in out:
                raise self.fail(("sources",), f"{key} is given without a source", f"add sources.{key}")
            if key in out and key not in top:
                raise self.fail(("sources", key), f"a source for {key}, which the design does not give")
        return out

    def criteria(self, data: Any, path: Path, what: str) -> tuple[Criterion, ...]:
        out = []
        for i, raw in enumerate(self.listed(data, path, what)):
            where = (*path, i)
            c = self.attempt(self.criterion, raw, where)
            if c is not None:
                out.append(c)
        conditions = [c.condition for c in out if c.condition is not None]
        if len(conditions) > 1 and len(out) == len(data):
            self.nonempty(AllOf(tuple(conditions)), path, f"the {what} criteria together select nobody")
        return tuple(out)

    def criterion(self, raw: Any, path: Path) -> Criterion:
        c = self.keys(raw, path, _CRITERION, "an eligibility criterion")
        condition = None
        if "condition" in c:
            condition = parse_condition(c["condition"], self.doc, (*path, "condition"))
            self.nonempty(condition, (*path, "condition"), "selects nobody")
        return Criterion(
            self.text(c["text"], (*path, "text")),
            condition,
            self.source(c["source"], (*path, "source")),
            str(c.get("note", "")),
        )

    def arms(self, data: Any) -> tuple[Arm, ...]:
        out: list[Arm] = []
        labels: dict[str, int] = {}
        for i, raw in enumerate(self.listed(data, ("arms",), "arms")):
            arm = self.attempt(self.arm, raw, ("arms", i))
            if arm is None:
                continue
            for key in {arm.label.lower(), arm.name.lower()}:
                if key in labels:
                    self.record(("arms", i), f"arm {key!r} is named twice (also arms[{labels[key]}])")
                labels[key] = i
            out.append(arm)
        if not data:
            raise self.fail(("arms",), "a design needs at least one arm")
        if len(out) != len(data):
            raise _Skip
        return tuple(out)

    def arm(self, raw: Any, path: Path) -> Arm:
        a = self.keys(raw, path, _ARM, "an arm")
        drugs = []
        for j, item in enumerate(self.listed(a["drugs"], (*path, "drugs"), "drugs")):
            given = self.attempt(self.given, item, (*path, "drugs", j))
            if given is not None:
                drugs.append(given)
        if not a["drugs"]:
            raise self.fail((*path, "drugs"), "an arm is given at least one drug (placebo counts)")
        eligibility = self.criteria(a.get("eligibility", []), (*path, "eligibility"), "arm's")
        population = None
        if "population" in a:
            population = self.choice(a["population"], (*path, "population"), POPULATIONS, "populations")
        return Arm(
            self.text(a["name"], (*path, "name")),
            self.text(a["label"], (*path, "label")),
            int(self.number(a["n"], (*path, "n"), integer=True)),
            tuple(drugs),
            self.source(a["source"], (*path, "source")),
            eligibility,
            population,
            str(a.get("note", "")),
        )

    def given(self, raw: Any, path: Path, inherited: Source | None = None) -> Given:
        if isinstance(raw, dict) and "one_of" in raw:
            c = self.keys(raw, path, _CHOICE, "a choice of drugs")
            source = self.source(c["source"], (*path, "source"))
            options = self.listed(c["one_of"], (*path, "one_of"), "one_of")
            if len(options) < 2:
                raise self.fail((*path, "one_of"), "one_of lists two or more schedules")
            items = [self.given(o, (*path, "one_of", k), source) for k, o in enumerate(options)]
            plain = [i for i in items if isinstance(i, DrugItem)]
            if len(plain) != len(items):
                raise self.fail((*path, "one_of"), "a choice cannot hold another choice")
            shares: tuple[float, ...] = ()
            shares_source: Source = ()
            if "shares" in c:
                shares, shares_source = self.shares(c["shares"], (*path, "shares"), len(plain))
            return DrugChoice(tuple(plain), self.text(c["chosen_by"], (*path, "chosen_by")), source,
                              str(c.get("note", "")), shares, shares_source)  # fmt: skip
        spec = _DRUG if inherited is None else (("drug",), (*_DRUG[1], "source"))
        d = self.keys(raw, path, spec, "a schedule item")
        name, kind = self.drug(d["drug"], (*path, "drug"))
        schedule = {"drug": name}
        for key in SCHEDULE_WORDS:
            if key in d:
                value = d[key]
                if value is None or isinstance(value, (dict, list, bool)):
                    raise self.fail((*path, key), f"{key} is one value as the publication writes it, not {value!r}")
                schedule[key] = value
        if kind != PLACEBO:
            self.present_or_missing(schedule.get("dose"), "arms.drugs.dose", (*path, "dose"), once=False)
            if "dose" in schedule:  # the PK layer's reading: units, words, the validated dose range
                parsed = parse_schedule(schedule, lambda key, message, hint: self.fail((*path, key), message, hint))
                self.dose_range(parsed, path)
        item_source = self.source(d["source"], (*path, "source")) if "source" in d else inherited
        location = f"{self.doc.source}:{self.doc.line(path)}"
        return DrugItem(name, kind, MappingProxyType(schedule), item_source or (), str(d.get("note", "")), location)

    def shares(self, data: Any, path: Path, options: int) -> tuple[tuple[float, ...], Source]:
        """A choice's published shares of patients: one percent per option, summing to 100
        within :data:`SHARES_TOLERANCE` (each share rounded), as fractions summing to 1."""
        d = self.keys(data, path, _SHARES, "shares")
        percent = self.listed(d["percent"], (*path, "percent"), "shares' percent")
        if len(percent) != options:
            raise self.fail((*path, "percent"), f"{len(percent)} shares for {options} options",
                            "one percent per option, in the order of one_of")  # fmt: skip
        values = [self.number(v, (*path, "percent", k)) for k, v in enumerate(percent)]
        total = sum(values)
        if abs(total - 100.0) > SHARES_TOLERANCE:
            raise self.fail((*path, "percent"), f"the shares sum to {total:g}%, not 100%",
                            "give every option's share as the publication reports it")  # fmt: skip
        return tuple(v / total for v in values), self.source(d["source"], (*path, "source"))

    def dose_range(self, schedule: Schedule, path: Path) -> None:
        """Warn, at the dose's line, when a dose lies outside the PK model's validated doses."""
        model = pk_library().get(schedule.drug)
        for key, dose in (("dose", schedule.dose), ("then", schedule.then)):
            problem = None if dose is None else outside_validated(model, dose.value, dose.unit)
            if problem is not None:
                where = self.doc.error((*path, key), problem, "the simulation extrapolates the PK model")
                warnings.warn(str(where), Her2simWarning, stacklevel=2)

    def drug(self, data: Any, path: Path) -> tuple[str, str]:
        """A drug's canonical name and kind (``library``, ``chemotherapy`` or ``placebo``)."""
        from her2sim.her2.therapies import therapy_library

        written = str(data).strip()
        library = therapy_library()
        found = library.find(written)
        if found is not None:
            return found.name, "library"
        if written.lower() in chemotherapy_library():
            return written.lower(), "chemotherapy"
        if written.lower() == PLACEBO:
            return PLACEBO, PLACEBO
        pool = [*(k for d in library for k in (d.name, *d.aliases)), *chemotherapy_library(), PLACEBO]
        near = closest(written, pool)
        raise self.fail(
            path,
            f"unknown drug {written!r}",
            f"did you mean {', '.join(repr(n) for n in near)}?"
            if near
            else "a therapy-library name or alias, a chemotherapy of trials/data/chemotherapy.yaml, or placebo",
        )

    def randomisation(self, data: Any, arms: tuple[Arm, ...] | None) -> Randomisation:
        path: Path = ("randomisation",)
        r = self.keys(data, path, _RANDOMISATION, "randomisation")
        randomised = r.get("randomised", True)
        if not isinstance(randomised, bool):
            raise self.fail((*path, "randomised"), f"randomised is true or false, not {randomised!r}")
        ratio = None
        if randomised:
            self.present_or_missing(r.get("ratio"), "randomisation.ratio", (*path, "ratio"))
            if r.get("ratio") is not None:
                ratio = self.ratio(r["ratio"], (*path, "ratio"), arms)
        elif "ratio" in r:
            raise self.fail((*path, "ratio"), "a trial that is not randomised has no ratio")
        stratification = r.get("stratification", [])
        if not isinstance(stratification, list) or not all(isinstance(s, str) for s in stratification):
            raise self.fail((*path, "stratification"), "stratification is a list of factors, as published")
        return Randomisation(
            randomised,
            ratio,
            tuple(stratification),
            str(r.get("blinding", "")),
            self.source(r["source"], (*path, "source")),
            str(r.get("note", "")),
        )

    def ratio(self, data: Any, path: Path, arms: tuple[Arm, ...] | None) -> tuple[int, ...]:
        if not isinstance(data, str):
            raise self.fail(
                path,
                f"the ratio is a quoted text such as '2:1', not {data!r}",
                "quote it: YAML reads 1:1 unquoted as the number 61",
            )
        parts = data.split(":")
        if len(parts) < 2 or not all(p.strip().isdigit() and int(p) > 0 for p in parts):
            raise self.fail(path, f"a ratio is whole numbers > 0 joined by ':', not {data!r}")
        ratio = tuple(int(p) for p in parts)
        if arms is None:
            return ratio
        if len(ratio) != len(arms):
            raise self.fail(
                path,
                f"ratio {data} has {len(ratio)} parts for {len(arms)} arms",
                "one part per arm, in the order of arms",
            )
        total, parts_total = sum(a.n for a in arms), sum(ratio)
        shares = [a.n / total for a in arms]
        expected = [p / parts_total for p in ratio]
        if any(abs(s - e) > RATIO_TOLERANCE for s, e in zip(shares, expected, strict=True)):
            sizes = ", ".join(f"{a.label} {a.n}" for a in arms)
            raise self.fail(
                path,
                f"ratio {data} does not match the arms ({sizes})",
                f"parts follow the order of arms; shares may differ by at most {RATIO_TOLERANCE:g}",
            )
        return ratio

    def control_arm(self, data: Any, arms: tuple[Arm, ...] | None, r: Randomisation | None) -> str | None:
        path: Path = ("control_arm",)
        if r is not None and not r.randomised and data is not None:
            raise self.fail(path, "a trial that is not randomised has no control arm")
        self.present_or_missing(data, "control_arm", path, needed=r is not None and r.randomised)
        if data is None or arms is None:
            return None
        key = str(data).strip().lower()
        for arm in arms:
            if key in (arm.label.lower(), arm.name.lower()):
                return arm.label
        raise self.fail(path, f"control_arm {data!r} is not an arm", "arms: " + ", ".join(a.label for a in arms))

    def surgery_week(self, data: Any, setting: str | None) -> float | None:
        path: Path = ("surgery_week",)
        if setting is None:  # a wrong setting is reported already
            return None
        if setting != "neoadjuvant":
            if data is not None:
                raise self.fail(path, "surgery_week is for neoadjuvant designs")
            return None
        self.present_or_missing(data, "surgery_week", path)
        return None if data is None else float(self.number(data, path))

    def assessments(self, data: Any, setting: str | None) -> Assessments | None:
        path: Path = ("assessments",)
        metastatic = setting is not None and setting != "neoadjuvant"
        self.present_or_missing(data, "assessments", path, needed=metastatic)
        if data is None:
            return None
        a = self.keys(data, path, _ASSESSMENTS, "assessments")
        for key in ("imaging_every_weeks", "recist", "review"):
            self.present_or_missing(a.get(key), f"assessments.{key}", (*path, key), needed=metastatic)
        weeks = {
            k: float(self.number(a[k], (*path, k))) if a.get(k) is not None else None
            for k in ("imaging_every_weeks", "then_every_weeks", "after_week")
        }
        if (weeks["then_every_weeks"] is None) != (weeks["after_week"] is None):
            raise self.fail(path, "then_every_weeks and after_week go together")
        recist = None
        if a.get("recist") is not None:
            written = f"{a['recist']:.1f}" if isinstance(a["recist"], float) else a["recist"]
            recist = self.choice(written, (*path, "recist"), RECIST_VERSIONS, "RECIST versions")
        review = None if a.get("review") is None else self.choice(a["review"], (*path, "review"), REVIEWS, "reviews")
        return Assessments(
            weeks["imaging_every_weeks"],
            weeks["then_every_weeks"],
            weeks["after_week"],
            recist,
            review,
            self.source(a["source"], (*path, "source")),
            str(a.get("note", "")),
        )

    def endpoints(self, data: Any) -> tuple[Endpoint, ...]:
        out: list[Endpoint] = []
        for i, raw in enumerate(self.listed(data, ("endpoints",), "endpoints")):
            e = self.attempt(self.endpoint, raw, ("endpoints", i))
            if e is None:
                continue
            if any((o.name, o.definition) == (e.name, e.definition) for o in out):
                self.record(("endpoints", i), f"endpoint {e.label} is listed twice")
            out.append(e)
        if not data:
            raise self.fail(("endpoints",), "a design needs at least one endpoint")
        return tuple(out)

    def endpoint(self, raw: Any, path: Path) -> Endpoint:
        e = self.keys(raw, path, _ENDPOINT, "an endpoint")
        name = self.choice(e["name"], (*path, "name"), ENDPOINTS, "endpoints")
        primary = e.get("primary", False)
        if not isinstance(primary, bool):
            raise self.fail((*path, "primary"), f"primary is true or false, not {primary!r}")
        definition = None
        if name == "pCR":
            if "definition" not in e:
                raise self.fail(path, "a pCR endpoint needs a definition", "ypT0/is (breast) or ypT0/is ypN0 (total)")
            definition = self.choice(e["definition"], (*path, "definition"), PCR_DEFINITIONS, "pCR definitions")
        elif "definition" in e:
            raise self.fail((*path, "definition"), "only a pCR endpoint has a definition")
        confirmed = e.get("confirmed")
        if name == "ORR":
            if confirmed is not None and not isinstance(confirmed, bool):
                raise self.fail((*path, "confirmed"), f"confirmed is true or false, not {confirmed!r}")
            self.present_or_missing(confirmed, "endpoints.confirmed", (*path, "confirmed"), once=False)
        elif "confirmed" in e:
            raise self.fail((*path, "confirmed"), "only an ORR endpoint is confirmed or not")
        return Endpoint(
            name, primary, definition, confirmed, self.source(e["source"], (*path, "source")), str(e.get("note", ""))
        )

    def subgroups(self, data: Any) -> tuple[SubgroupAnalysis, ...]:
        out = []
        for i, raw in enumerate(self.listed(data, ("subgroups",), "subgroups")):
            analysis = self.attempt(self.subgroup_analysis, raw, ("subgroups", i))
            if analysis is not None:
                out.append(analysis)
        return tuple(out)

    def subgroup_analysis(self, raw: Any, path: Path) -> SubgroupAnalysis:
        s = self.keys(raw, path, _SUBGROUPS, "a subgroup analysis")
        by = s["by"] if isinstance(s["by"], list) else [s["by"]]
        for k, name in enumerate(by):
            if name not in ATTRIBUTES:
                near = closest(str(name), ATTRIBUTES)
                raise self.fail(
                    (*path, "by", k) if isinstance(s["by"], list) else (*path, "by"),
                    f"unknown attribute {name!r}",
                    f"did you mean {', '.join(near)}?" if near else "attributes: " + ", ".join(ATTRIBUTES),
                )
        groups = []
        table = subgroup_table()
        for k, label in enumerate(self.listed(s["groups"], (*path, "groups"), "groups")):
            where = (*path, "groups", k)
            group = table.find(str(label))
            if group is None:
                near = closest(str(label), [n for g in table for n in (g.name, *g.aliases)])
                raise self.fail(
                    where,
                    f"unknown subgroup {label!r}",
                    f"did you mean {', '.join(repr(n) for n in near)}?"
                    if near
                    else "add it to her2sim/trials/data/subgroups.yaml",
                )
            extra = group.condition.attributes() - set(by)
            if extra:
                raise self.fail(
                    where,
                    f"subgroup {group.name!r} is defined on {', '.join(sorted(extra))}, not on {', '.join(by)}",
                    "add the attribute to by",
                )
            groups.append(group)
        return SubgroupAnalysis(
            tuple(by), tuple(groups), self.source(s["source"], (*path, "source")), str(s.get("note", ""))
        )

    def notes(self, data: Any) -> tuple[Note, ...]:
        out = []
        for i, raw in enumerate(self.listed(data, ("notes",), "notes")):
            n = self.attempt(self.keys, raw, ("notes", i), _NOTE, "a note")
            if n is not None:
                out.append(
                    Note(self.text(n["text"], ("notes", i, "text")), self.source(n["source"], ("notes", i, "source")))
                )
        return tuple(out)

    def cohorts(
        self, criteria: tuple[Criterion, ...], arms: tuple[Arm, ...], subgroups: tuple[SubgroupAnalysis, ...]
    ) -> None:
        """Every arm and every reported subgroup must be able to hold an eligible patient."""
        trial = _conjunction(criteria)
        for i, arm in enumerate(arms):
            if arm.eligibility:
                self.attempt(
                    self.nonempty,
                    AllOf((trial, arm.condition)),
                    ("arms", i, "eligibility"),
                    "with the trial's eligibility, the arm selects nobody",
                )
        anyone = AnyOf(tuple(a.condition for a in arms))
        for i, analysis in enumerate(subgroups):
            for k, group in enumerate(analysis.groups):
                self.attempt(
                    self.nonempty,
                    AllOf((trial, anyone, group.condition)),
                    ("subgroups", i, "groups", k),
                    f"subgroup {group.name!r} selects nobody eligible",
                )


# ----------------------------------------------------------------------------- the shipped designs


@functools.cache
def designs() -> tuple[TrialDesign, ...]:
    """The trial designs shipped with her2sim, in file-name order (read once).

    >>> [d.name for d in designs()][:3]
    ['CLEOPATRA', 'DAISY', 'DESTINY-Breast03']
    """
    folder = data_path("designs")
    out = [read_design(p) for p in sorted(folder.glob("*.yaml"))]
    seen: dict[str, str] = {}
    for d in out:
        for key in (d.name, *d.aliases):
            if key.lower() in seen:
                raise ModelFormatError(f"trial name {key!r} is used twice (also in {seen[key.lower()]})", d.path)
            seen[key.lower()] = d.path
    return tuple(out)


def design(name: str) -> TrialDesign:
    """The shipped design called ``name`` or one of its aliases (case-insensitive).

    >>> design("DB-03").name
    'DESTINY-Breast03'
    >>> design("CLEOPATRE")
    Traceback (most recent call last):
    ...
    her2sim.errors.UnknownNameError: unknown trial 'CLEOPATRE' (did you mean 'CLEOPATRA'?)
    """
    key = name.strip().lower()
    for d in designs():
        if key in (d.name.lower(), *(a.lower() for a in d.aliases)):
            return d
    raise UnknownNameError("trial", name, [k for d in designs() for k in (d.name, *d.aliases)])


# ----------------------------------------------------------------------------- in words


def describe_design(d: TrialDesign, sources: bool = False) -> str:
    """A design in words, one fact a line (with ``sources``, each followed by its source).

    >>> print(describe_design(design("DAISY")).splitlines()[0])
    DAISY: Trastuzumab deruxtecan in metastatic breast cancer with variable HER2 expression: the phase 2 DAISY trial
    """
    lines: list[str] = []

    def add(text: str, indent: int = 0, source: Source = (), note: str = "") -> None:
        lines.append("  " * indent + text)
        if note:
            lines.append("  " * (indent + 2) + "note: " + note)
        if sources and source:
            lines.append("  " * (indent + 2) + "source: " + "; ".join(source))

    def modelled(c: Criterion) -> str:
        return f"  [{c.condition.describe()}]" if c.condition is not None else "  [not modelled]"

    add(f"{d.name}: {d.title}", source=d.sources.get("title", ()))
    add(f"setting: {d.setting}; population: {d.population}; {d.n} patients", source=d.sources.get("setting", ()))
    add("eligibility:")
    for c in d.eligibility:
        add(f"- {c.text}{modelled(c)}", 1, c.source, c.note)
    r = d.randomisation
    if r.randomised:
        parts = [":".join(map(str, r.ratio)) if r.ratio else "ratio not found"]
        parts += [f"stratified by {'; '.join(r.stratification)}"] if r.stratification else []
        parts += [r.blinding] if r.blinding else []
        add("randomisation: " + "; ".join(parts), 0, r.source, r.note)
    else:
        add("randomisation: none", 0, r.source, r.note)
    add("arms:")
    for arm in d.arms:
        role = " (control)" if arm.label == d.control_arm else ""
        population = f" [{arm.population}]" if arm.population else ""
        add(f"{arm.label}{role}: {arm.name}, n={arm.n}{population}", 1, arm.source, arm.note)
        for c in arm.eligibility:
            add(f"only {c.text}{modelled(c)}", 2, c.source, c.note)
        for given in arm.drugs:
            add(given.describe(), 2, given.source, given.note)
    if d.surgery_week is not None:
        add(f"surgery after week {d.surgery_week:g}", source=d.sources.get("surgery_week", ()))
    a = d.assessments
    if a is not None:
        imaging = f"imaging every {a.imaging_every_weeks:g} weeks" if a.imaging_every_weeks else "imaging not found"
        if a.then_every_weeks and a.after_week:
            imaging += f", every {a.then_every_weeks:g} weeks after week {a.after_week:g}"
        recist = f"RECIST {a.recist}" if a.recist else "RECIST version not found"
        add(f"assessments: {imaging}; {recist}; review {a.review or 'not found'}", 0, a.source, a.note)
    add("endpoints:")
    for e in d.endpoints:
        add(f"- {e.label}{' (primary)' if e.primary else ''}", 1, e.source, e.note)
    if d.subgroups:
        add("subgroups:")
    for sub in d.subgroups:
        add(f"- by {', '.join(sub.by)}: {', '.join(g.name for g in sub.groups)}", 1, sub.source, sub.note)
    if d.notes:
        add("notes:")
    for n in d.notes:
        add(f"- {n.text}", 1, n.source)
    if d.not_found:
        add("not found in the sources:")
    for gap in d.not_found:
        add(f"- {gap.field}: {gap.note}", 1)
    add("references:")
    for ref in d.references:
        ids = [
            f"doi:{ref.doi}" if ref.doi else "",
            f"PMID {ref.pmid}" if ref.pmid else "",
            ref.pmcid or "",
            ref.nct or "",
        ]
        add(f"- {ref.id}: {ref.citation}" + (f" ({', '.join(i for i in ids if i)})" if any(ids) else ""), 1)
    return "\n".join(lines)
