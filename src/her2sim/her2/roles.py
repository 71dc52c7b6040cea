"""The roles the code gives parts of the HER2 model, read from ``her2/data/roles.yaml``.

Which nodes are readouts and phenotypes, which alteration stands for each HER2 IHC score,
which ``her2.cfg`` parameters the pharmacology reads and writes, and which drugs the report
adds by itself are biology: they are data, each with its source, and the modules that use
them (:mod:`~her2sim.her2.scenario`, :mod:`~her2sim.her2.pharmacology`,
:mod:`her2sim.tumour.spec`, :mod:`her2sim.report.build`) hold only the logic. The file is read
once; a problem in it is a ``file:line`` error naming the field.

Examples
--------
>>> shipped = roles()
>>> shipped.readouts["survival"]
Readout(name='survival', node='Apoptosis', complement=True, rises=False)
>>> shipped.her2_levels["3+"], shipped.pharmacology.her2_density
('ERBB2:amp', 'HER2_surface')
"""

from __future__ import annotations

import functools
import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from her2sim.formats.records import Document, Path, read_document
from her2sim.her2.model import data_path

__all__ = ["EpitopeMask", "Pharmacology", "Readout", "ReportDrugs", "Roles", "read_roles", "roles"]

_EFFECTS = {"fall": False, "rise": True}


@dataclass(frozen=True)
class Readout:
    """A phenotype or signal read as a node's steady-state probability.

    ``complement``: the readout is 1 - the node's probability; ``rises``: a therapy works by
    raising it, so its effect is ``(r - r0)/(1 - r0)`` rather than ``1 - r/r0``.
    """

    name: str
    node: str
    complement: bool
    rises: bool


@dataclass(frozen=True)
class EpitopeMask:
    """A masking node's level parameter, the share of antibody binding lost while it is on, and
    the drug site that lowers its level (an anti-masking drug)."""

    level: str
    masking: str
    lowered_by: str


@dataclass(frozen=True)
class Pharmacology:
    """The ``her2.cfg`` parameters :mod:`her2sim.her2.pharmacology` reads and writes."""

    her2_density: str
    epitope_masks: tuple[EpitopeMask, ...]
    conjugate_masking_share: str
    payload_uptake: str
    payload_max: str
    payload_ec50: str
    payload_bystander: str


@dataclass(frozen=True)
class ReportDrugs:
    """Drugs the report chooses by itself: synergy partners and the therapy at progression."""

    synergy_first: str
    synergy_partners: tuple[str, ...]
    next_line: str

    def synergy_pair(self, regimen: Sequence[str]) -> tuple[str, str]:
        """The two drugs of the synergy map for a regimen of these drug names.

        >>> drugs = ReportDrugs("trastuzumab", ("alpelisib", "lapatinib"), "T-DXd")
        >>> drugs.synergy_pair([]), drugs.synergy_pair(["alpelisib"]), drugs.synergy_pair(["a", "b", "c"])
        (('trastuzumab', 'alpelisib'), ('alpelisib', 'lapatinib'), ('a', 'b'))
        """
        if len(regimen) >= 2:
            return regimen[0], regimen[1]
        first = regimen[0] if regimen else self.synergy_first
        return first, next(p for p in self.synergy_partners if p != first)


@dataclass(frozen=True)
class Roles:
    """Everything of ``roles.yaml``: readouts by name (in table order), the phenotype nodes,
    IHC score -> alteration name, the pharmacology's parameters and the report's drugs."""

    readouts: dict[str, Readout]
    phenotypes: frozenset[str]
    her2_levels: dict[str, str]
    pharmacology: Pharmacology
    report: ReportDrugs


@functools.cache
def roles() -> Roles:
    """The roles shipped with the model (``her2/data/roles.yaml``), read once."""
    return read_roles(data_path("roles.yaml"))


def read_roles(path: str | os.PathLike[str]) -> Roles:
    """Read a roles file; every problem is a ``file:line`` error naming the field."""
    doc = read_document(path)
    top = _fields(doc, (), doc.data, ("readouts", "phenotypes", "her2_levels", "pharmacology", "report"))
    phenotypes = _entry(doc, ("phenotypes",), top["phenotypes"], ("nodes",))
    return Roles(
        readouts={name: _readout(doc, name, raw) for name, raw in _named(doc, ("readouts",), top["readouts"])},
        phenotypes=frozenset(_names(doc, ("phenotypes", "nodes"), phenotypes["nodes"])),
        her2_levels={
            score: _value(doc, ("her2_levels", score), raw, "alteration")
            for score, raw in _named(doc, ("her2_levels",), top["her2_levels"])
        },
        pharmacology=_pharmacology(doc, top["pharmacology"]),
        report=_report(doc, top["report"]),
    )


def _readout(doc: Document, name: str, raw: object) -> Readout:
    where: Path = ("readouts", name)
    entry = _entry(doc, where, raw, ("node", "effect"), ("complement",))
    complement = entry.get("complement", False)
    if not isinstance(complement, bool):
        raise doc.error((*where, "complement"), f"must be true or false, not {complement!r}")
    effect = entry["effect"]
    if not isinstance(effect, str) or effect not in _EFFECTS:
        raise doc.error((*where, "effect"), f"must be fall or rise, not {effect!r}")
    return Readout(name, _text(doc, (*where, "node"), entry["node"]), complement, _EFFECTS[effect])


def _pharmacology(doc: Document, raw: object) -> Pharmacology:
    where: Path = ("pharmacology",)
    section = _fields(doc, where, raw, ("her2_density", "epitope_masks", "conjugate_masking_share", "payload"))
    masks = section["epitope_masks"]
    if not isinstance(masks, list) or not masks:
        raise doc.error((*where, "epitope_masks"), "expected a list of {level, masking, lowered_by, source}")
    keys = ("uptake", "max", "ec50", "bystander")
    payload = _entry(doc, (*where, "payload"), section["payload"], keys)
    uptake, largest, ec50, bystander = (_text(doc, (*where, "payload", key), payload[key]) for key in keys)
    return Pharmacology(
        her2_density=_value(doc, (*where, "her2_density"), section["her2_density"], "parameter"),
        epitope_masks=tuple(_mask(doc, (*where, "epitope_masks", i), mask) for i, mask in enumerate(masks)),
        conjugate_masking_share=_value(
            doc, (*where, "conjugate_masking_share"), section["conjugate_masking_share"], "parameter"
        ),
        payload_uptake=uptake,
        payload_max=largest,
        payload_ec50=ec50,
        payload_bystander=bystander,
    )


def _mask(doc: Document, where: Path, raw: object) -> EpitopeMask:
    entry = _entry(doc, where, raw, ("level", "masking", "lowered_by"))
    return EpitopeMask(*(_text(doc, (*where, key), entry[key]) for key in ("level", "masking", "lowered_by")))


def _report(doc: Document, raw: object) -> ReportDrugs:
    section = _fields(doc, ("report",), raw, ("synergy", "next_line"))
    where: Path = ("report", "synergy")
    synergy = _entry(doc, where, section["synergy"], ("first", "partners"))
    partners = _names(doc, (*where, "partners"), synergy["partners"])
    if len(partners) < 2:
        raise doc.error((*where, "partners"), "name at least two drugs, so one always differs from the first")
    return ReportDrugs(
        _text(doc, (*where, "first"), synergy["first"]),
        tuple(partners),
        _value(doc, ("report", "next_line"), section["next_line"], "drug"),
    )


def _value(doc: Document, where: Path, raw: object, key: str) -> str:
    """The text of ``key`` in a ``{key, source}`` entry."""
    return _text(doc, (*where, key), _entry(doc, where, raw, (key,))[key])


def _entry(
    doc: Document, where: Path, raw: object, required: Collection[str], optional: Collection[str] = ()
) -> dict[str, Any]:
    """A mapping with the ``required`` fields and a ``source`` (a reference, a file of the model
    or a modelling choice), and no field but these and the ``optional`` ones."""
    entry = _fields(doc, where, raw, (*required, "source"), optional)
    _text(doc, (*where, "source"), entry["source"])
    return entry


def _fields(
    doc: Document, where: Path, raw: object, required: Collection[str], optional: Collection[str] = ()
) -> dict[str, Any]:
    """``raw`` as a mapping with every ``required`` field and no field outside ``optional``."""
    known = [*required, *optional]
    if not isinstance(raw, dict):
        raise doc.error(where, f"expected a mapping with {', '.join(known)}")
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise doc.error((*where, unknown[0]), "unknown field", hint=f"fields: {', '.join(known)}")
    missing = [key for key in required if key not in raw]
    if missing:
        raise doc.error(where, f"missing field {missing[0]!r}")
    return raw


def _named(doc: Document, where: Path, raw: object) -> list[tuple[str, object]]:
    """The (name, entry) pairs of a non-empty mapping, in file order."""
    if not isinstance(raw, dict) or not raw:
        raise doc.error(where, "expected a mapping of named entries")
    return list(raw.items())


def _names(doc: Document, where: Path, raw: object) -> list[str]:
    """A non-empty list of names."""
    if not isinstance(raw, list) or not raw:
        raise doc.error(where, "expected a list of names")
    return [_text(doc, (*where, i), value) for i, value in enumerate(raw)]


def _text(doc: Document, where: Path, raw: object) -> str:
    """Non-empty text."""
    if not isinstance(raw, str) or not raw.strip():
        raise doc.error(where, f"expected text, not {raw!r}")
    return raw.strip()
