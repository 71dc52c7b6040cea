"""Conditions on patient attributes: the eligibility and subgroup language of trial designs.

A patient is described by the attributes of :data:`ATTRIBUTES`. A condition, written in YAML,
selects patients by those attributes:

``attribute: value``
    equality: ``hr_status: positive``, ``her2_ish: true``, ``prior_lines: 0``.
``attribute: [value, ...]``
    membership: ``her2_ihc: [2+, 3+]``.
``attribute: {min: a, max: b, above: c, below: d}``
    comparisons on a number attribute, any of the four: ``min`` is ``>=``, ``max`` is ``<=``,
    ``above`` is ``>`` and ``below`` is ``<`` (``prior_lines: {min: 1, max: 3}``).
``all: [condition, ...]`` and ``any: [condition, ...]``
    every one, or at least one, of the conditions holds.

The keys of one mapping must all hold: ``{her2_ihc: [2+], her2_ish: true}`` is IHC 2+ *and*
ISH-positive, and ``{}`` (or ``all: []``) selects everyone. There is no negation: a complement
is written as the membership of the other values. :func:`satisfiable` tells whether a condition
can select anybody at all, so a contradictory eligibility is refused when a design is read.

Subgroups of published results (``PIK3CA mutant``, ``HR-positive``) are named conditions,
kept as data in ``data/subgroups.yaml`` and read by :func:`subgroup_table`.

Examples
--------
>>> from her2sim.formats.records import parse_document
>>> doc = parse_document("any: [{her2_ihc: [3+]}, {her2_ihc: [2+], her2_ish: true}]", "c.yaml")
>>> condition = parse_condition(doc.data, doc)
>>> condition.describe()
'her2_ihc is 3+ or (her2_ihc is 2+ and her2_ish is true)'
>>> condition.matches({"her2_ihc": "2+", "her2_ish": True})
True
>>> satisfiable(AllOf((Is("her2_ihc", ("3+",)), Is("her2_ihc", ("0",)))))
False
>>> subgroup_table().get("PIK3CA mutated").condition.describe()
'pik3ca in {H1047R, E545K, other}'
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path as FilePath
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from her2sim.errors import ConfigError, closest
from her2sim.formats.records import Document, Path, read_document
from her2sim.her2._library import NamedLibrary

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = [
    "ATTRIBUTES",
    "EVERYONE",
    "AllOf",
    "AnyOf",
    "Attribute",
    "Between",
    "Condition",
    "Is",
    "Subgroup",
    "SubgroupTable",
    "data_path",
    "parse_condition",
    "read_subgroups",
    "satisfiable",
    "subgroup_table",
]

#: A value an attribute can take.
Value = str | bool | float


@dataclass(frozen=True)
class Attribute:
    """One patient attribute of the shared vocabulary.

    ``kind`` is ``category`` (one of ``values``), ``boolean``, ``integer`` or ``number`` (both
    >= 0), or ``alteration`` (``none`` or a name of the alteration library).
    """

    name: str
    kind: str
    description: str
    values: tuple[str, ...] = ()


#: The patient attributes conditions may name (the population engineer samples them).
ATTRIBUTES: Mapping[str, Attribute] = MappingProxyType(
    {
        a.name: a
        for a in (
            Attribute("her2_ihc", "category", "HER2 immunohistochemistry score", ("0", "1+", "2+", "3+")),
            Attribute("her2_ish", "boolean", "HER2 in situ hybridisation positive (ERBB2 amplified)"),
            Attribute("her2_heterogeneous", "boolean", "heterogeneous HER2 expression within the tumour"),
            Attribute("hr_status", "category", "hormone receptor (ER and/or PgR) status", ("positive", "negative")),
            Attribute("pik3ca", "category", "PIK3CA status", ("wild-type", "H1047R", "E545K", "other")),
            Attribute("p95her2", "boolean", "truncated p95HER2 expressed"),
            Attribute("erbb2_mutation", "alteration", "ERBB2 mutation: none, or an alteration-library name"),
            Attribute("prior_lines", "integer", "lines of therapy received for metastatic disease"),
            Attribute("prior_trastuzumab", "boolean", "trastuzumab received before (any setting)"),
            Attribute("prior_pertuzumab", "boolean", "pertuzumab received before (any setting)"),
            Attribute("prior_tdm1", "boolean", "trastuzumab emtansine received before (any setting)"),
            Attribute("prior_taxane", "boolean", "a taxane received before (any setting)"),
            Attribute("prior_cdk46", "boolean", "a CDK4/6 inhibitor received before (any setting)"),
            Attribute("brain_metastases", "category", "brain metastases", ("none", "stable", "active")),
            Attribute("visceral", "boolean", "visceral metastases"),
            Attribute("fcgr3a", "category", "FCGR3A (CD16A) codon 158 genotype", ("VV", "VF", "FF")),
            Attribute("weight_kg", "number", "body weight in kg"),
            Attribute("bsa_m2", "number", "body surface area in m2"),
            Attribute("age", "number", "age in years"),
        )
    }
)
_BOUNDS = ("min", "max", "above", "below")
_COMBINATORS = ("all", "any")
#: Above this many conjunctions a condition is refused rather than checked for satisfiability.
MAX_TERMS = 10_000


# ----------------------------------------------------------------------------- the language


@dataclass(frozen=True)
class Is:
    """``attribute`` takes one of ``values`` (equality when there is one value)."""

    attribute: str
    values: tuple[Value, ...]

    def matches(self, patient: Mapping[str, Any]) -> bool:
        """Whether the patient's value is one of ``values``."""
        return _value(patient, self.attribute) in self.values

    def mask(self, table: pd.DataFrame) -> np.ndarray:
        """One boolean per row of a table of patients (a column per attribute)."""
        column = _column(table, self.attribute)
        return column.isin(self.values).to_numpy(dtype=bool)

    def attributes(self) -> frozenset[str]:
        """The attribute names the condition reads."""
        return frozenset({self.attribute})

    def describe(self) -> str:
        """``her2_ihc is 3+``, ``her2_ihc in {2+, 3+}``."""
        shown = [_show(v) for v in self.values]
        return f"{self.attribute} is {shown[0]}" if len(shown) == 1 else f"{self.attribute} in {{{', '.join(shown)}}}"


@dataclass(frozen=True)
class Between:
    """A number attribute within bounds: ``>= min``, ``<= max``, ``> above``, ``< below``."""

    attribute: str
    min: float | None = None
    max: float | None = None
    above: float | None = None
    below: float | None = None

    def matches(self, patient: Mapping[str, Any]) -> bool:
        """Whether the patient's value lies within every bound given."""
        value = _value(patient, self.attribute)
        return bool(
            (self.min is None or value >= self.min)
            and (self.max is None or value <= self.max)
            and (self.above is None or value > self.above)
            and (self.below is None or value < self.below)
        )

    def mask(self, table: pd.DataFrame) -> np.ndarray:
        """One boolean per row of a table of patients."""
        import numpy as np

        column = _column(table, self.attribute).to_numpy(dtype=float)
        keep = np.ones(len(column), dtype=bool)
        for bound, test in (
            (self.min, np.greater_equal),
            (self.max, np.less_equal),
            (self.above, np.greater),
            (self.below, np.less),
        ):
            if bound is not None:
                keep &= test(column, bound)
        return keep

    def attributes(self) -> frozenset[str]:
        """The attribute names the condition reads."""
        return frozenset({self.attribute})

    def describe(self) -> str:
        """``prior_lines >= 1 and prior_lines <= 3``."""
        parts = [(">=", self.min), ("<=", self.max), (">", self.above), ("<", self.below)]
        return " and ".join(f"{self.attribute} {op} {_show(v)}" for op, v in parts if v is not None)


@dataclass(frozen=True)
class AllOf:
    """Every one of ``items`` holds; with no items, everyone."""

    items: tuple[Condition, ...] = ()

    def matches(self, patient: Mapping[str, Any]) -> bool:
        """Whether every item holds for the patient."""
        return all(item.matches(patient) for item in self.items)

    def mask(self, table: pd.DataFrame) -> np.ndarray:
        """One boolean per row of a table of patients."""
        import numpy as np

        keep = np.ones(len(table), dtype=bool)
        for item in self.items:
            keep &= item.mask(table)
        return keep

    def attributes(self) -> frozenset[str]:
        """The attribute names the condition reads."""
        return frozenset().union(*(item.attributes() for item in self.items))

    def describe(self) -> str:
        """``a and (b or c)``; ``everyone`` when empty."""
        if not self.items:
            return "everyone"
        if len(self.items) == 1:
            return self.items[0].describe()
        return " and ".join(
            f"({d})" if isinstance(i, AnyOf) and len(i.items) > 1 else d
            for i, d in ((i, i.describe()) for i in self.items)
        )


@dataclass(frozen=True)
class AnyOf:
    """At least one of ``items`` holds."""

    items: tuple[Condition, ...]

    def matches(self, patient: Mapping[str, Any]) -> bool:
        """Whether some item holds for the patient."""
        return any(item.matches(patient) for item in self.items)

    def mask(self, table: pd.DataFrame) -> np.ndarray:
        """One boolean per row of a table of patients."""
        import numpy as np

        keep = np.zeros(len(table), dtype=bool)
        for item in self.items:
            keep |= item.mask(table)
        return keep

    def attributes(self) -> frozenset[str]:
        """The attribute names the condition reads."""
        return frozenset().union(*(item.attributes() for item in self.items))

    def describe(self) -> str:
        """``a or (b and c)``."""
        if len(self.items) == 1:
            return self.items[0].describe()
        return " or ".join(
            f"({d})" if isinstance(i, AllOf) and len(i.items) > 1 else d
            for i, d in ((i, i.describe()) for i in self.items)
        )


#: A condition on patient attributes.
Condition = Is | Between | AllOf | AnyOf
#: The condition that selects everyone.
EVERYONE = AllOf()


def _value(patient: Mapping[str, Any], attribute: str) -> Any:
    try:
        value = patient[attribute]
    except KeyError:
        raise ConfigError(f"the patient has no attribute {attribute!r}") from None
    return str(value) if ATTRIBUTES[attribute].kind in ("category", "alteration") else value


def _column(table: pd.DataFrame, attribute: str) -> pd.Series:
    if attribute not in table.columns:
        raise ConfigError(f"the patient table has no column {attribute!r}")
    column = table[attribute]
    return column.astype(str) if ATTRIBUTES[attribute].kind in ("category", "alteration") else column


def _show(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


# ----------------------------------------------------------------------------- parsing


def parse_condition(data: Any, doc: Document, path: Path = ()) -> Condition:
    """The condition written as ``data`` at ``path`` of ``doc``; a mistake is a located error.

    >>> from her2sim.formats.records import parse_document
    >>> doc = parse_document("prior_lines: {min: 1, max: 3}\\nbrain_metastases: [none, stable]", "c.yaml")
    >>> parse_condition(doc.data, doc).describe()
    'prior_lines >= 1 and prior_lines <= 3 and brain_metastases in {none, stable}'
    """
    if not isinstance(data, dict):
        raise doc.error(
            path,
            "a condition is a mapping of attributes (or all/any) to values",
            "e.g. {her2_ihc: [3+]} or {any: [{her2_ihc: [3+]}, {her2_ish: true}]}",
        )
    items = tuple(_entry(key, value, doc, (*path, key)) for key, value in data.items())
    return items[0] if len(items) == 1 else AllOf(items)


def _entry(key: str, value: Any, doc: Document, path: Path) -> Condition:
    if key in _COMBINATORS:
        if not isinstance(value, list):
            raise doc.error(path, f"{key} takes a list of conditions")
        if key == "any" and not value:
            raise doc.error(path, "any needs at least one condition (an empty any selects nobody)")
        items = tuple(parse_condition(item, doc, (*path, i)) for i, item in enumerate(value))
        return AllOf(items) if key == "all" else AnyOf(items)
    attribute = ATTRIBUTES.get(key)
    if attribute is None:
        near = closest(key, [*ATTRIBUTES, *_COMBINATORS])
        hint = f"did you mean {', '.join(near)}?" if near else f"attributes: {', '.join(ATTRIBUTES)}; or all, any"
        raise doc.error(path, f"unknown attribute {key!r}", hint)
    if isinstance(value, dict):
        return _between(attribute, value, doc, path)
    values = value if isinstance(value, list) else [value]
    if not values:
        raise doc.error(path, f"{key}: an empty list selects nobody")
    return Is(
        key,
        tuple(
            _normal(attribute, v, doc, (*path, i) if isinstance(value, list) else path) for i, v in enumerate(values)
        ),
    )


def _between(attribute: Attribute, bounds: dict[str, Any], doc: Document, path: Path) -> Between:
    if attribute.kind not in ("integer", "number"):
        raise doc.error(path, f"{attribute.name} is not a number: compare it with a value or a list of values")
    for key, bound in bounds.items():
        if key not in _BOUNDS:
            raise doc.error((*path, key), f"unknown comparison {key!r}", "use min (>=), max (<=), above (>), below (<)")
        if isinstance(bound, bool) or not isinstance(bound, (int, float)) or not math.isfinite(bound):
            raise doc.error((*path, key), f"{key} must be a finite number, not {bound!r}")
    if not bounds:
        raise doc.error(path, "give at least one of min, max, above, below")
    return Between(attribute.name, **{k: float(v) for k, v in bounds.items()})


def _normal(attribute: Attribute, value: Any, doc: Document, path: Path) -> Value:
    """A written value in its canonical form, or a located error."""
    if attribute.kind == "boolean":
        if not isinstance(value, bool):
            raise doc.error(path, f"{attribute.name} is true or false, not {value!r}")
        return value
    if attribute.kind in ("integer", "number"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise doc.error(path, f"{attribute.name} is a number, not {value!r}")
        return float(value)
    text = str(value).strip()
    if attribute.kind == "alteration":
        if text.lower() == "none":
            return "none"
        from her2sim.her2.alterations import alteration_library

        found = alteration_library().find(text)
        if found is None:
            near = closest(text, alteration_library().names)
            raise doc.error(
                path,
                f"{attribute.name}: unknown alteration {text!r}",
                f"did you mean {', '.join(near)}?" if near else "none, or an alteration-library name",
            )
        return found.name
    by_lower = {v.lower(): v for v in attribute.values}
    if text.lower() not in by_lower:
        raise doc.error(path, f"{attribute.name} cannot be {text!r}", f"values: {', '.join(attribute.values)}")
    return by_lower[text.lower()]


# ----------------------------------------------------------------------------- satisfiability


@dataclass(frozen=True)
class _Interval:
    low: float = 0.0  # every number attribute is >= 0
    low_open: bool = False
    high: float = math.inf
    high_open: bool = True
    integer: bool = False

    def __and__(self, other: _Interval) -> _Interval:
        # the tighter bound wins; on a tie, an open bound is the tighter one
        low, low_open = max((self.low, self.low_open), (other.low, other.low_open))
        high, closed = min((self.high, not self.high_open), (other.high, not other.high_open))
        return _Interval(low, low_open, high, not closed, self.integer)

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, (int, float)):  # a text is in no interval of numbers
            return False
        return (value > self.low if self.low_open else value >= self.low) and (
            value < self.high if self.high_open else value <= self.high
        )

    def empty(self) -> bool:
        if self.integer:
            first = math.floor(self.low) + 1 if self.low_open else math.ceil(self.low)
            return not (first in self and first < math.inf)
        return self.low > self.high or (self.low == self.high and (self.low_open or self.high_open))


_Domain = frozenset[Value] | _Interval
_Box = dict[str, _Domain]


def satisfiable(condition: Condition) -> bool:
    """Whether some patient can meet ``condition`` (contradictions are found, not sampled).

    The condition is expanded into alternatives, each a domain per attribute; it selects
    somebody when some alternative leaves every attribute a value. Integer attributes need an
    integer in range, and every number attribute is >= 0.

    >>> satisfiable(AllOf((Between("prior_lines", above=1), Between("prior_lines", below=2))))
    False
    >>> satisfiable(AnyOf((Is("her2_ihc", ("0",)), Is("her2_ish", (True,)))))
    True
    """
    return bool(_boxes(condition))


def _boxes(condition: Condition) -> list[_Box]:
    """The alternatives of ``condition`` that are not empty (a disjunctive normal form)."""
    if isinstance(condition, Is):
        attribute = ATTRIBUTES[condition.attribute]
        if attribute.kind in ("integer", "number"):
            base = _Interval(integer=attribute.kind == "integer")
            values = frozenset(v for v in condition.values if isinstance(v, float) and v in base)
            values = frozenset(v for v in values if not base.integer or float(v).is_integer())
            return [{condition.attribute: values}] if values else []
        return [{condition.attribute: frozenset(condition.values)}]
    if isinstance(condition, Between):
        interval = _Interval(integer=ATTRIBUTES[condition.attribute].kind == "integer")
        for value, low, open_ in (
            (condition.min, True, False),
            (condition.above, True, True),
            (condition.max, False, False),
            (condition.below, False, True),
        ):
            if value is not None:
                interval &= _Interval(value, open_) if low else _Interval(-math.inf, False, value, open_)
        return [] if interval.empty() else [{condition.attribute: interval}]
    if isinstance(condition, AnyOf):
        return [box for item in condition.items for box in _boxes(item)]
    boxes: list[_Box] = [{}]
    for item in condition.items:
        boxes = [merged for a in boxes for b in _boxes(item) if (merged := _merge(a, b)) is not None]
        if len(boxes) > MAX_TERMS:
            raise ConfigError(f"the condition has over {MAX_TERMS} alternatives; write it more simply")
    return boxes


def _merge(a: _Box, b: _Box) -> _Box | None:
    """The intersection of two alternatives, or None when an attribute is left no value."""
    out = dict(a)
    for name, domain in b.items():
        if name not in out:
            out[name] = domain
            continue
        mine = out[name]
        both: _Domain
        if isinstance(mine, _Interval):
            both = mine & domain if isinstance(domain, _Interval) else frozenset(v for v in domain if v in mine)
        elif isinstance(domain, _Interval):
            both = frozenset(v for v in mine if v in domain)
        else:
            both = mine & domain
        if both.empty() if isinstance(both, _Interval) else not both:
            return None
        out[name] = both
    return out


# ----------------------------------------------------------------------------- named subgroups


@dataclass(frozen=True)
class Subgroup:
    """A subgroup of published results (``PIK3CA mutant``) and the patients it holds."""

    name: str
    aliases: tuple[str, ...]
    condition: Condition
    note: str = ""


class SubgroupTable(NamedLibrary[Subgroup]):
    """Subgroups looked up by name or alias, case-insensitively."""

    kind = "subgroup"
    suggest_aliases = True

    def __init__(self, subgroups: Iterable[Subgroup], source: str = "<subgroups>") -> None:
        super().__init__(subgroups, source)


def read_subgroups(path: str | os.PathLike[str]) -> SubgroupTable:
    """Read a subgroup table (the format of ``data/subgroups.yaml``); errors name file:line."""
    doc = read_document(path)
    if not isinstance(doc.data, dict) or set(doc.data) != {"subgroups"} or not isinstance(doc.data["subgroups"], list):
        raise doc.error((), "expected one top-level 'subgroups:' list")
    entries: list[Subgroup] = []
    seen: dict[str, int | None] = {}
    for i, raw in enumerate(doc.data["subgroups"]):
        where: Path = ("subgroups", i)
        if not isinstance(raw, dict):
            raise doc.error(where, "a subgroup is a mapping with name, condition and optionally aliases, note")
        for key in raw:
            if key not in ("name", "aliases", "condition", "note"):
                raise doc.error((*where, key), f"unknown key {key!r}", "known keys: name, aliases, condition, note")
        for key in ("name", "condition"):
            if key not in raw:
                raise doc.error(where, f"missing required field {key!r}")
        aliases = raw.get("aliases") or []
        if not isinstance(aliases, list):
            raise doc.error((*where, "aliases"), "aliases is a list of texts")
        names = [str(raw["name"]), *(str(a) for a in aliases)]
        for name in names:
            if name.lower() in seen:
                raise doc.error(where, f"subgroup name {name!r} is used twice", f"first at line {seen[name.lower()]}")
            seen[name.lower()] = doc.line(where)
        condition = parse_condition(raw["condition"], doc, (*where, "condition"))
        try:
            empty = not satisfiable(condition)
        except ConfigError as exc:
            raise doc.error((*where, "condition"), str(exc)) from None
        if empty:
            raise doc.error((*where, "condition"), f"selects nobody: {condition.describe()}")
        entries.append(Subgroup(names[0], tuple(names[1:]), condition, str(raw.get("note", ""))))
    return SubgroupTable(entries, doc.source)


@functools.cache
def subgroup_table() -> SubgroupTable:
    """The subgroup table shipped with her2sim (``her2sim/trials/data/subgroups.yaml``)."""
    return read_subgroups(data_path("subgroups.yaml"))


def data_path(name: str) -> FilePath:
    """Path of a file shipped in ``her2sim/trials/data``."""
    from importlib import resources

    return FilePath(str(resources.files("her2sim.trials") / "data" / name))
