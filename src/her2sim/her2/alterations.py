"""The alteration library: named tumour alterations and what each does to the HER2 model.

An alteration (``ERBB2:L755S``, ``PIK3CA:H1047R``, ``p95HER2``, ``MUC4:high``) is data in
``data/alterations.yaml``: the model parameters it sets, the nodes it fixes, how it shifts the
potency of drugs, or, for a heterogeneous tumour, the clones it is made of. A
:class:`Context` is the set of alterations of one tumour, checked for contradictions.

Examples
--------
>>> library = alteration_library()
>>> context = library.context("ERBB2:amp; PIK3CA:H1047R")
>>> context.parameters["HER2_surface"], context.parameters["PIK3CA_gain"]
(1.0, 0.5)
>>> context.potency("alpelisib", "inh_PI3K"), context.potency("alpelisib", "inh_AKT")
(0.3, 1)
>>> library.context("PTEN:loss").fixed
{'PTEN': False}
"""

from __future__ import annotations

import functools
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar

import pandas as pd

from her2sim.errors import ConfigError, ModelFormatError
from her2sim.formats.records import Document, Path, read_document
from her2sim.her2._library import NamedLibrary

__all__ = [
    "Alteration",
    "AlterationLibrary",
    "Clone",
    "Context",
    "alteration_library",
    "read_alterations",
    "split_context",
]

_DIRECTIONS = ("gain", "loss", "level")


@dataclass(frozen=True)
class Clone:
    """One subpopulation of a heterogeneous tumour: its share and its own alterations."""

    fraction: float
    alterations: tuple[str, ...]


@dataclass(frozen=True)
class Alteration:
    """A named alteration and its effect on the model (see ``data/alterations.yaml``)."""

    name: str
    gene: str
    direction: str
    aliases: tuple[str, ...] = ()
    group: str = ""
    parameters: Mapping[str, float] = field(default_factory=dict)
    fixed: Mapping[str, bool] = field(default_factory=dict)
    potency: Mapping[str, float] = field(default_factory=dict)
    potency_sites: tuple[str, ...] = ()
    clones: tuple[Clone, ...] = ()
    variants: tuple[str, ...] = ()
    figure: str = ""
    description: str = ""
    references: tuple[str, ...] = ()


@dataclass(frozen=True)
class Context:
    """The alterations of one tumour (or one clone), merged into model changes.

    ``parameters`` and ``fixed`` are what the alterations set in the model; ``potency(drug,
    site)`` is the product of their fold changes of the drug's potency at that site. A context with a
    heterogeneous alteration has ``clones``: (fraction, context) pairs, each simulated apart.
    """

    alterations: tuple[Alteration, ...] = ()
    clones: tuple[tuple[float, Context], ...] = ()

    @property
    def label(self) -> str:
        """The alterations as users write them (``ERBB2:amp; PIK3CA:H1047R``), or ``none``."""
        return "; ".join(a.name for a in self.alterations) or "none"

    @property
    def parameters(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for alteration in self.alterations:
            out.update(alteration.parameters)
        return out

    @property
    def fixed(self) -> dict[str, bool]:
        out: dict[str, bool] = {}
        for alteration in self.alterations:
            out.update(alteration.fixed)
        return out

    def potency(self, drug: str, site: str) -> float:
        """Fold change of ``drug``'s potency at model site ``site`` in this context (> 1: less
        potent); only alterations whose altered protein sits at ``site`` count."""
        return math.prod(a.potency.get(drug, 1.0) for a in self.alterations if site in a.potency_sites)


def split_context(text: str) -> list[str]:
    """Alteration names of a context string: separated by ``;`` (``none`` or empty: none)."""
    names = [part.strip() for part in text.split(";")]
    return [n for n in names if n and n.lower() not in ("none", "-", "untreated")]


class AlterationLibrary(NamedLibrary[Alteration]):
    """A set of alterations looked up by name or alias, case-insensitively."""

    kind = "alteration"

    def __init__(
        self, alterations: Iterable[Alteration], source: str = "<alterations>", lines: Sequence[int | None] = ()
    ) -> None:
        super().__init__(alterations, source, lines)
        for index, alteration in enumerate(self):
            for clone in alteration.clones:
                for name in clone.alterations:
                    if self.get(name).clones:
                        raise ModelFormatError(f"{alteration.name}: a clone cannot be heterogeneous itself", source,
                                               self.line_of(index))  # fmt: skip

    def for_variant(self, gene: str, change: str) -> Alteration | None:
        """The alteration a protein change stands for (``ERBB2``, ``L755S`` or ``p.L755S``), if any.

        An alteration named ``GENE:CHANGE`` (or so aliased) wins; otherwise the first whose
        ``variants`` patterns match ``GENE:CHANGE``.
        """
        change = change.strip().removeprefix("p.")
        found = self.find(f"{gene}:{change}")
        if found is not None:
            return found
        text = f"{gene}:{change}"
        return next((a for a in self._items for pattern in a.variants if re.search(pattern, text)), None)

    def context(self, alterations: str | Iterable[str] = ()) -> Context:
        """Resolve names into a :class:`Context`, rejecting contradictions.

        Contradictions: one gene both gained and lost (``PTEN:loss`` with ``PTEN:amp``), or
        two alternatives of one group (``ERBB2:amp`` with ``ERBB2:low``).
        """
        names = split_context(alterations) if isinstance(alterations, str) else list(alterations)
        chosen: list[Alteration] = []
        for name in names:
            alteration = self.get(name)
            if alteration not in chosen:
                chosen.append(alteration)
        _check_consistent(chosen)
        mixtures = [a for a in chosen if a.clones]
        if len(mixtures) > 1:
            raise ConfigError(
                f"only one heterogeneous alteration per tumour, got {', '.join(a.name for a in mixtures)}"
            )
        if not mixtures:
            return Context(tuple(chosen))
        rest = [a for a in chosen if not a.clones]
        clones = []
        for clone in mixtures[0].clones:
            members = [self.get(n) for n in clone.alterations]
            members += [a for a in rest if not (a.group and a.group in {m.group for m in members})]
            _check_consistent(members)
            clones.append((clone.fraction, Context(tuple(members))))
        return Context(tuple(chosen), tuple(clones))

    def table(self) -> pd.DataFrame:
        """One row per alteration: name, gene, figure panel, effects and references."""
        rows = [
            {
                "name": a.name,
                "gene": a.gene,
                "direction": a.direction,
                "figure": a.figure,
                "parameters": ", ".join(f"{k}={v:g}" for k, v in a.parameters.items()),
                "fixed": ", ".join(f"{k}={int(v)}" for k, v in a.fixed.items()),
                "potency": ", ".join(f"{k} x{v:g}" for k, v in a.potency.items()),
                "clones": ", ".join(f"{c.fraction:g} {'+'.join(c.alterations)}" for c in a.clones),
                "description": a.description,
                "references": " | ".join(a.references),
            }
            for a in self._items
        ]
        return pd.DataFrame(rows)

    def check_against(self, parameters: Iterable[str], nodes: Iterable[str]) -> None:
        """Raise if an alteration names a model parameter or node that does not exist."""
        known_p, known_n = set(parameters), set(nodes)
        problems = [
            f"{a.name}: unknown model parameter {p!r}"
            for a in self._items
            for p in (*a.parameters, *a.potency_sites)
            if p not in known_p
        ] + [f"{a.name}: unknown model node {n!r}" for a in self._items for n in a.fixed if n not in known_n]
        if problems:
            raise ModelFormatError("; ".join(problems), self.source)


def _check_consistent(alterations: list[Alteration]) -> None:
    by_gene: dict[str, set[str]] = {}
    by_group: dict[str, list[str]] = {}
    for a in alterations:
        by_gene.setdefault(a.gene, set()).add(a.direction)
        if a.group:
            by_group.setdefault(a.group, []).append(a.name)
    for gene, directions in by_gene.items():
        if {"gain", "loss"} <= directions:
            named = ", ".join(a.name for a in alterations if a.gene == gene)
            raise ConfigError(f"contradictory alterations: {gene} is both gained and lost ({named})")
    for group, names in by_group.items():
        if len(names) > 1:
            raise ConfigError(f"contradictory alterations: {', '.join(names)} are alternatives ({group}); keep one")


# ----------------------------------------------------------------------------- reading


_KEYS = ("name", "aliases", "gene", "direction", "group", "parameters", "fixed", "potency", "potency_sites",
         "clones", "variants", "figure", "description", "references")  # fmt: skip
_MALFORMED = (TypeError, ValueError, KeyError, AttributeError, re.error)
T = TypeVar("T")


def _effect(doc: Document, at: Path, raw: dict[str, Any], key: str, read: Callable[[Any], T]) -> T:
    """``read`` applied to the entry's ``key``; a value it cannot read is an error at that key's line."""
    try:
        return read(raw.get(key))
    except _MALFORMED as exc:
        raise doc.located((*at, key), f"{raw['name']}: malformed effect ({exc})") from None


def _numbers(raw: Any) -> dict[str, float]:
    return {str(k): float(v) for k, v in (raw or {}).items()}


def _switches(raw: Any) -> dict[str, bool]:
    return {str(k): bool(int(v)) for k, v in (raw or {}).items()}


def _texts(raw: Any) -> tuple[str, ...]:
    return tuple(str(x) for x in raw or ())


def _clones(raw: Any) -> tuple[Clone, ...]:
    return tuple(Clone(float(c["fraction"]), _texts(c["alterations"])) for c in raw or ())


def _variants(raw: Any) -> tuple[str, ...]:
    variants = _texts(raw)
    for pattern in variants:
        re.compile(pattern)
    return variants


def _entry(doc: Document, index: int, raw: Any) -> Alteration:
    at: Path = ("alterations", index)
    if not isinstance(raw, dict) or "name" not in raw:
        raise doc.located(at, f"alteration #{index + 1} is not a mapping with a name")
    name = str(raw["name"])
    unknown = sorted(set(raw) - set(_KEYS))
    if unknown:
        raise doc.located((*at, unknown[0]), f"{name}: unknown key(s) {', '.join(unknown)}",
                          hint=f"keys: {', '.join(sorted(_KEYS))}")  # fmt: skip
    direction = str(raw.get("direction", "gain"))
    if direction not in _DIRECTIONS:
        raise doc.located((*at, "direction"), f"{name}: direction must be one of {', '.join(_DIRECTIONS)}")
    parameters = _effect(doc, at, raw, "parameters", _numbers)
    fixed = _effect(doc, at, raw, "fixed", _switches)
    potency = _effect(doc, at, raw, "potency", _numbers)
    potency_sites = _effect(doc, at, raw, "potency_sites", _texts)
    clones = _effect(doc, at, raw, "clones", _clones)
    variants = _effect(doc, at, raw, "variants", _variants)
    negative = next((k for k, v in parameters.items() if not math.isfinite(v) or v < 0), None)
    if negative is not None:
        raise doc.located((*at, "parameters", negative), f"{name}: parameter values must be finite and >= 0")
    weak = next((k for k, v in potency.items() if not math.isfinite(v) or v <= 0), None)
    if weak is not None:
        raise doc.located((*at, "potency", weak), f"{name}: potency fold changes must be finite and > 0")
    if bool(potency) != bool(potency_sites):
        raise doc.located((*at, "potency" if potency else "potency_sites"),
                          f"{name}: potency and potency_sites go together",
                          hint="name the sites that carry the altered protein")  # fmt: skip
    if clones and (any(c.fraction <= 0 for c in clones) or abs(sum(c.fraction for c in clones) - 1) > 1e-6):
        raise doc.located((*at, "clones"), f"{name}: clone fractions must be > 0 and sum to 1")
    return Alteration(
        name=name,
        gene=str(raw.get("gene", name.split(":")[0])),
        direction=direction,
        aliases=_texts(raw.get("aliases")),
        group=str(raw.get("group", "")),
        parameters=MappingProxyType(parameters),
        fixed=MappingProxyType(fixed),
        potency=MappingProxyType(potency),
        potency_sites=potency_sites,
        clones=clones,
        variants=variants,
        figure=str(raw.get("figure", "")),
        description=str(raw.get("description", "")),
        references=_texts(raw.get("references")),
    )


def read_alterations(path: str | os.PathLike[str]) -> AlterationLibrary:
    """Read an alteration library file (the format of ``data/alterations.yaml``); every problem
    names ``file:line``."""
    doc = read_document(path)
    if not isinstance(doc.data, dict) or not isinstance(doc.data.get("alterations"), list):
        raise doc.located(("alterations",), "expected a top-level 'alterations:' list")
    entries = doc.data["alterations"]
    lines = [doc.line(("alterations", i)) for i in range(len(entries))]
    return AlterationLibrary((_entry(doc, i, raw) for i, raw in enumerate(entries)), doc.source, lines)


@functools.cache
def alteration_library() -> AlterationLibrary:
    """The library shipped with her2sim, checked against the HER2 model."""
    from her2sim.her2.model import data_path, load_model

    library = read_alterations(data_path("alterations.yaml"))
    model = load_model()
    library.check_against(model.parameter_values, model.names)
    return library
