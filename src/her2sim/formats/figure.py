"""Figure records: one published pathway figure described in Markdown with YAML front matter.

The records follow Pathway Figure OCR (PFOCR, WikiPathways): a ``---`` line, YAML keys
(``figid``, ``figtitle``, ``caption``, ``papertitle``, ``reftext``, ``year``, ``doi``,
``pmcid``, ``organisms``, ...), a closing ``---`` line, then an optional Markdown body. The
genes found in the figure are the ``keywords`` of the ``schema-jsonld`` block; the top-level
``keywords`` key holds the paper's subject keywords instead and stays in
:attr:`FigureRecord.raw`.

PFOCR's gene keywords are noisy: they mix human symbols (``ERBB2``), hits of other species'
lexicons written in lower case (``cdk2``, and ``her2``, which in zebrafish is *hairy-related
2*), OCR misreadings (``HERZ`` for HER2) and plain words (``tumour``). :func:`gene_symbols`
keeps only the keywords that a curated table, ``data/gene_aliases.tsv``, shows to be HGNC
approved symbols or their aliases, and reports the rest as unresolved instead of guessing.

A record is data about a figure, not a model: this module builds no network.

Examples
--------
>>> record = parse_figure_record('''---
... figid: PMC1__F1
... figtitle: HER2 signalling
... year: '2023'
... schema-jsonld:
...   keywords: [her2, PIK3CA, tumour]
... ---
... ''')
>>> record.title, record.year
('HER2 signalling', 2023)
>>> genes = gene_symbols(record)
>>> genes.symbols, genes.unresolved
(('ERBB2', 'PIK3CA'), ('tumour',))
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType
from typing import Any

import yaml

from her2sim.errors import ModelFormatError
from her2sim.files import read_text

__all__ = [
    "FigureRecord",
    "GeneSymbols",
    "gene_aliases",
    "gene_symbols",
    "parse_figure_record",
    "read_figure_record",
]

_REQUIRED = ("figid", "figtitle")
#: PFOCR writes ``NA`` where it found no organism.
_MISSING = "NA"


@dataclass(frozen=True, slots=True)
class FigureRecord:
    """One figure record.

    Parameters
    ----------
    figid:
        PFOCR figure identifier, e.g. ``PMC9640784__41573_2022_579_Fig2_HTML``.
    title:
        Figure title (``figtitle``).
    caption:
        Figure caption, or ``""``.
    paper_title, reftext, doi, pmcid:
        The paper the figure comes from (``papertitle``, ``reftext``, ``doi``, ``pmcid``),
        each ``""`` when absent.
    year:
        Publication year, or ``None``.
    organisms, organisms_ner:
        Organisms PFOCR assigned and those named in the text, without PFOCR's ``NA``.
    keywords:
        The figure's gene keywords as PFOCR lists them, unfiltered; see :func:`gene_symbols`.
    body:
        Markdown after the front matter, or ``""``.
    raw:
        The whole front matter as loaded, read-only; not part of equality.
    source:
        Where the record was read from; not part of equality.
    """

    figid: str
    title: str
    caption: str = ""
    paper_title: str = ""
    reftext: str = ""
    year: int | None = None
    doi: str = ""
    pmcid: str = ""
    organisms: tuple[str, ...] = ()
    organisms_ner: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    body: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)
    source: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class GeneSymbols:
    """What :func:`gene_symbols` made of a record's keywords.

    Parameters
    ----------
    resolved:
        ``(keyword, approved symbol)`` for each distinct keyword the alias table knows, in
        record order; several keywords may give one symbol (``her2`` and ``ERBB2``).
    unresolved:
        Distinct keywords with no row in the table, in record order, spelled as in the record.
    """

    resolved: tuple[tuple[str, str], ...]
    unresolved: tuple[str, ...]

    @property
    def symbols(self) -> tuple[str, ...]:
        """Approved symbols of :attr:`resolved`, each once, in order of first appearance."""
        return tuple(dict.fromkeys(symbol for _, symbol in self.resolved))


def parse_figure_record(text: str, source: str = "<string>") -> FigureRecord:
    """Build a :class:`FigureRecord` from the text of a Markdown file with YAML front matter.

    Parameters
    ----------
    text:
        The record: ``---``, YAML, ``---``, then an optional Markdown body.
    source:
        Where ``text`` came from, for error messages.

    Returns
    -------
    FigureRecord

    Raises
    ------
    ModelFormatError
        With ``source:line``: no front matter, front matter never closed, invalid YAML (at
        the line YAML names), a front matter that is not a mapping, a missing or empty
        ``figid`` or ``figtitle``, or a value of the wrong kind (at its key's line).

    Examples
    --------
    >>> parse_figure_record("figtitle: HER2", "f.md")
    Traceback (most recent call last):
    ...
    her2sim.errors.ModelFormatError: f.md:1:1: no YAML front matter (the record must start with a '---' line)
    """
    lines = text.splitlines()
    if not lines or lines[0].rstrip() != "---":
        raise ModelFormatError("no YAML front matter", source, 1, 1, "the record must start with a '---' line")
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
    if end is None:
        raise ModelFormatError("the YAML front matter is never closed", source, 1, 1, "end it with a '---' line")
    data, key_lines = _load_front_matter("\n".join(lines[1:end]), source)
    fields = _Fields(data, key_lines, source)
    jsonld = fields.mapping("schema-jsonld")
    return FigureRecord(
        figid=fields.text("figid"),
        title=fields.text("figtitle"),
        caption=fields.text("caption"),
        paper_title=fields.text("papertitle"),
        reftext=fields.text("reftext"),
        year=fields.year("year"),
        doi=fields.text("doi"),
        pmcid=fields.text("pmcid"),
        organisms=fields.texts(data, "organisms"),
        organisms_ner=fields.texts(data, "organisms_ner"),
        keywords=fields.texts(jsonld, "keywords", at="schema-jsonld"),
        body="\n".join(lines[end + 1 :]).strip("\n"),
        raw=MappingProxyType(data),
        source=source,
    )


def _load_front_matter(front: str, source: str) -> tuple[dict[str, Any], dict[str, int]]:
    """Load the YAML with PyYAML's safe loader, keeping each top-level key's file line.

    This is ``yaml.safe_load`` taken apart into its compose and construct steps, so that the
    node tree's marks give the line of every key for later error messages.
    """
    first_line = 2  # the YAML starts on the line after the opening '---'
    try:
        loader = yaml.SafeLoader(front)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = first_line + mark.line if mark else first_line
        col = mark.column + 1 if mark else None
        raise ModelFormatError(f"invalid YAML: {exc.problem or exc.context}", source, line, col) from None
    except yaml.reader.ReaderError as exc:  # a character YAML refuses, located by offset
        line = first_line + front.count("\n", 0, exc.position)
        raise ModelFormatError(f"invalid YAML: unacceptable character U+{exc.character:04X}", source, line) from None
    if not isinstance(node, yaml.MappingNode) or not isinstance(data, dict):
        raise ModelFormatError("the front matter must be a mapping of keys to values", source, first_line)
    key_lines = {str(k.value): first_line + k.start_mark.line for k, _ in node.value if isinstance(k, yaml.ScalarNode)}
    return data, key_lines


class _Fields:
    """Typed access to front-matter values, with errors at the line of the offending key."""

    def __init__(self, data: dict[str, Any], key_lines: dict[str, int], source: str) -> None:
        self.data = data
        self.key_lines = key_lines
        self.source = source

    def fail(self, key: str, message: str) -> ModelFormatError:
        return ModelFormatError(message, self.source, self.key_lines.get(key, 1))

    def text(self, key: str) -> str:
        value = self.data.get(key)
        if isinstance(value, (list, dict)):
            raise self.fail(key, f"{key} must be text, not a {'list' if isinstance(value, list) else 'mapping'}")
        text = "" if value is None else str(value).strip()
        if key in _REQUIRED and not text:
            what = "is empty" if key in self.data else "is missing"
            raise self.fail(key, f"required key {key!r} {what}")
        return text

    def year(self, key: str) -> int | None:
        value = self.data.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not str(value).strip().isdigit():
            raise self.fail(key, f"{key} must be a whole year such as 2023, got {value!r}")
        return int(str(value).strip())

    def mapping(self, key: str) -> dict[str, Any]:
        value = self.data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(key, f"{key} must be a mapping")
        return value

    def texts(self, holder: Mapping[str, Any], key: str, at: str | None = None) -> tuple[str, ...]:
        """A list of strings (or one string) under ``key`` of ``holder``, without ``NA``."""
        value = holder.get(key)
        if value is None:
            return ()
        items = value if isinstance(value, list) else [value]
        if any(isinstance(item, (list, dict)) for item in items):
            raise self.fail(at or key, f"{key} must be a list of text")
        return tuple(s for s in (str(item).strip() for item in items if item is not None) if s and s != _MISSING)


def read_figure_record(path: str | os.PathLike[str]) -> FigureRecord:
    """Read a figure record file; see :func:`parse_figure_record`."""
    return parse_figure_record(read_text(path), str(path))


@functools.cache
def gene_aliases() -> Mapping[str, str]:
    """The curated table ``data/gene_aliases.tsv``: upper-case alias to HGNC approved symbol.

    Approved symbols map to themselves. The table's header comments say how rows are chosen
    and which ambiguous spellings are left out on purpose.

    Examples
    --------
    >>> gene_aliases()["HER2"], gene_aliases()["ERBB2"]
    ('ERBB2', 'ERBB2')
    """
    resource = resources.files("her2sim.formats").joinpath("data/gene_aliases.tsv")
    source = str(resource)
    table: dict[str, str] = {}
    for lineno, line in enumerate(resource.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#") or line.startswith("alias\t"):
            continue
        fields = line.split("\t")
        if len(fields) != 3 or not fields[0] or not fields[1]:
            raise ModelFormatError("expected 'alias<TAB>symbol<TAB>note'", source, lineno)
        alias = fields[0].upper()
        if alias in table:
            raise ModelFormatError(f"alias {fields[0]!r} is listed twice", source, lineno)
        table[alias] = fields[1]
    return MappingProxyType(table)


def gene_symbols(record: FigureRecord) -> GeneSymbols:
    """Sort a record's keywords into HGNC symbols and the rest.

    A keyword is resolved when the alias table (:func:`gene_aliases`) has it, compared
    case-insensitively: ``ERBB2`` and ``mtor`` as approved symbols, ``her2`` as an alias of
    ERBB2. Everything else (``tumour``, OCR noise such as ``HERZ``, other species' genes such
    as ``rab1ab``) is unresolved: a word that merely looks like a symbol is not evidence.

    Parameters
    ----------
    record:
        A figure record.

    Returns
    -------
    GeneSymbols
        Resolved ``(keyword, symbol)`` pairs and unresolved keywords, each distinct and in
        record order; ``.symbols`` gives the distinct approved symbols.

    Examples
    --------
    >>> r = FigureRecord("f", "t", keywords=("her1", "EGFR", "cd4-1", "her1"))
    >>> gene_symbols(r)
    GeneSymbols(resolved=(('her1', 'EGFR'), ('EGFR', 'EGFR')), unresolved=('cd4-1',))
    """
    table = gene_aliases()
    resolved: dict[str, str] = {}
    unresolved: dict[str, None] = {}
    for keyword in record.keywords:
        symbol = table.get(keyword.upper())
        if symbol is not None:
            resolved.setdefault(keyword, symbol)
        else:
            unresolved.setdefault(keyword, None)
    return GeneSymbols(tuple(resolved.items()), tuple(unresolved))
