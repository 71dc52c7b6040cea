"""Personal tumour profiles from cBioPortal exports, mapped to alterations and ranked therapies.

Two tables people download from cBioPortal are read:

* **mutations** (MAF-like, tab-separated): ``Hugo_Symbol`` and ``HGVSp_Short`` (``p.L755S``),
  optionally ``Tumor_Sample_Barcode`` (or ``Sample ID``) naming the sample;
* **copy number**: either cBioPortal's discrete ``data_CNA.txt`` (``Hugo_Symbol`` then one
  column per sample, GISTIC values -2..2) or a long table (``Sample ID``/``Tumor_Sample_Barcode``,
  ``Hugo_Symbol`` or ``Gene``, ``CNA`` or ``Alteration`` = ``AMP``/``HOMDEL``/``GAIN``/``HETLOSS``).

Each row becomes an alteration of the library (:meth:`AlterationLibrary.for_variant` for
mutations; amplification -> ``GENE:amp``, deep deletion -> ``GENE:loss``) or a report line
saying why it could not be used. Nothing is dropped silently.

Tables are read as cBioPortal writes them: UTF-8, tab-separated, unquoted, one field per
column, ``#`` comment lines allowed. A row with a field too many or too few, a column name
given twice, or a byte that is not UTF-8 is a ``file:line`` error rather than a guess, since
each guess would move values into the wrong column or the wrong sample.

Examples
--------
>>> import io
>>> maf = "Hugo_Symbol\\tHGVSp_Short\\nPIK3CA\\tp.H1047R\\nTP53\\tp.R175H\\nERBB2\\tL755\\n"
>>> profile = read_profiles(io.StringIO(maf))["sample"]
>>> profile.alterations
('PIK3CA:H1047R',)
>>> [line.split(": ", 1)[1] for line in profile.unmapped]
['TP53 p.R175H has no alteration in the library', 'ERBB2 L755: not a protein change (expected p.<ref><pos><alt>)']
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, TextIO

from her2sim.errors import ConfigError, ModelFormatError
from her2sim.files import check_file
from her2sim.her2.alterations import alteration_library

__all__ = ["MAX_TABLE_BYTES", "Profile", "read_profiles", "samples_of", "with_alterations"]

#: Largest cBioPortal table read. Exports reach hundreds of MB (a MAF has about 120 columns per
#: mutation); tables are streamed line by line and only the columns used are kept, so memory
#: does not grow with the file. Model files have their own, much smaller limit.
MAX_TABLE_BYTES = 2 * 1024**3

_SAMPLE_COLUMNS = ("Tumor_Sample_Barcode", "Sample ID", "Sample_ID", "SAMPLE_ID", "sample")
_PROTEIN = re.compile(r"^p\.(?:[A-Z*][0-9]+|[A-Z][0-9]+_[A-Z][0-9]+)\S*$")
_CNA_WORDS = {"AMP": 2, "GAIN": 1, "HETLOSS": -1, "HOMDEL": -2, "DIPLOID": 0}
_DEFAULT_SAMPLE = "sample"

#: A table: a file (size and encoding checked) or an open text stream (read as it is).
TableSource = str | os.PathLike[str] | TextIO


@dataclass
class Profile:
    """One tumour: the alterations it maps to and every input row that could not be used."""

    sample: str
    alterations: tuple[str, ...] = ()
    unmapped: list[str] = field(default_factory=list)

    @property
    def context(self) -> str:
        return "; ".join(self.alterations)


@dataclass(frozen=True)
class _Table:
    """A tab-separated table being read: its name for errors, its header and its data rows.

    ``rows`` yields ``(file line, fields)`` once, as the file is read.
    """

    name: str
    header_line: int
    columns: tuple[str, ...]
    rows: Iterator[tuple[int, list[str]]]

    def first(self, *names: str) -> int | None:
        """The field index of the first of ``names`` that is a column, or None."""
        return next((self.columns.index(n) for n in names if n in self.columns), None)


def _name(source: TableSource, what: str) -> str:
    return str(source) if isinstance(source, (str, os.PathLike)) else f"<{what}>"


@contextmanager
def _table(source: TableSource, what: str) -> Iterator[_Table]:
    """Open a table: its header is checked now, each row as it is read.

    Blank lines and lines starting with ``#`` (MAF version headers) are skipped. Fields are
    split on tabs alone, with no quoting: cBioPortal files are not quoted, so a ``"`` in a
    value is part of the value.
    """
    name = _name(source, what)
    with _numbered_lines(source, name) as lines:
        content = ((number, line.rstrip("\r\n")) for number, line in lines)
        content = ((number, line) for number, line in content if line.strip() and not line.startswith("#"))
        first = next(content, None)
        if first is None:
            raise ModelFormatError(f"the {what} table is empty", name)
        header_line, header = first
        columns = tuple(header.split("\t"))
        _check_unique(columns, name, header_line)
        yield _Table(name, header_line, columns, _rows(content, name, header_line, len(columns)))


@contextmanager
def _numbered_lines(source: TableSource, name: str) -> Iterator[Iterable[tuple[int, str]]]:
    """The lines of a file (checked against :data:`MAX_TABLE_BYTES`) or of an open text stream."""
    if not isinstance(source, (str, os.PathLike)):
        yield enumerate(source, start=1)
        return
    path = Path(source)
    check_file(path, MAX_TABLE_BYTES, "cBioPortal table", hint="cut it to the samples or columns needed")
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise ModelFormatError(f"cannot read: {exc.strerror}", name) from None
    with handle:
        yield _utf8_lines(handle, name)


def _utf8_lines(handle: BinaryIO, name: str) -> Iterator[tuple[int, str]]:
    """Numbered lines of a UTF-8 file (a byte-order mark is dropped); an invalid byte is an error.

    cBioPortal writes UTF-8. Falling back to Latin-1, as model files do, would put a wrong
    character into a sample name without a word, so the first invalid byte is reported with
    its line, its column and its offset in the file.
    """
    offset = 0
    for number, raw in enumerate(handle, start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ModelFormatError(
                f"not UTF-8: byte 0x{raw[exc.start]:02x} at offset {offset + exc.start}",
                name,
                number,
                exc.start + 1,
                hint="cBioPortal tables are UTF-8; save it as UTF-8 tab-separated text",
            ) from None
        yield number, text.removeprefix("\ufeff") if number == 1 else text
        offset += len(raw)


def _check_unique(columns: tuple[str, ...], name: str, line: int) -> None:
    """Refuse a column name given twice: which column holds the values would be a guess (pandas
    renamed the second ``S1.1``, a new sample in a data_CNA.txt). Unnamed columns are never read."""
    seen: dict[str, int] = {}
    for number, column in enumerate(columns, start=1):
        if column.strip() and column in seen:
            raise ModelFormatError(
                f"column {column!r} appears twice (fields {seen[column]} and {number})",
                name,
                line,
                hint="every column needs its own name",
            )
        seen[column] = number


def _rows(lines: Iterator[tuple[int, str]], name: str, header_line: int, width: int) -> Iterator[tuple[int, list[str]]]:
    """The fields of each data row. A row with more or fewer fields than the header is an
    error: every value after the missing or extra tab would be read as its neighbour's."""
    for number, line in lines:
        fields = line.split("\t")
        if len(fields) != width:
            raise ModelFormatError(
                f"{len(fields)} fields where the header (line {header_line}) has {width}",
                name,
                number,
                hint="a missing or extra tab shifts every value after it",
            )
        yield number, fields


def _sample(fields: list[str], at: int | None) -> str:
    """The sample a row belongs to (one unnamed sample when the table has no sample column)."""
    return (fields[at] if at is not None else "") or _DEFAULT_SAMPLE


def _profile(profiles: dict[str, Profile], sample: str) -> Profile:
    return profiles.setdefault(sample, Profile(sample))


def _add(profile: Profile, name: str) -> None:
    if name not in profile.alterations:
        profile.alterations = (*profile.alterations, name)


def _read_mutations(source: TableSource, profiles: dict[str, Profile]) -> None:
    with _table(source, "mutation") as table:
        missing = [c for c in ("Hugo_Symbol", "HGVSp_Short") if c not in table.columns]
        if missing:
            raise ModelFormatError(
                f"missing column(s) {', '.join(missing)}",
                table.name,
                table.header_line,
                hint="a cBioPortal mutation table",
            )
        library = alteration_library()
        gene_at, change_at = table.columns.index("Hugo_Symbol"), table.columns.index("HGVSp_Short")
        sample_at = table.first(*_SAMPLE_COLUMNS)
        for line, fields in table.rows:
            profile = _profile(profiles, _sample(fields, sample_at))
            gene, change = fields[gene_at].strip(), fields[change_at].strip()
            where = f"{table.name}:{line}"
            if not gene:
                profile.unmapped.append(f"{where}: a row without a gene symbol")
            elif not _PROTEIN.match(change):
                profile.unmapped.append(
                    f"{where}: {gene} {change or '(empty)'}: not a protein change (expected p.<ref><pos><alt>)"
                )
            elif (alteration := library.for_variant(gene, change)) is None:
                profile.unmapped.append(f"{where}: {gene} {change} has no alteration in the library")
            else:
                _add(profile, alteration.name)


def _cna_value(text: str) -> int | None:
    text = text.strip().upper()
    if text in _CNA_WORDS:
        return _CNA_WORDS[text]
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value in (-2, -1, 0, 1, 2) else None


def _add_cna(profile: Profile, gene: str, value: int, where: str) -> None:
    if value in (-1, 0, 1):
        if value:
            kind = "gain" if value > 0 else "shallow loss"
            profile.unmapped.append(f"{where}: {gene} {kind} is not modelled (only amplification and deep deletion)")
        return
    suffix = "amp" if value == 2 else "loss"
    try:
        _add(profile, alteration_library().get(f"{gene}:{suffix}").name)
    except KeyError:
        profile.unmapped.append(
            f"{where}: {gene} {'amplification' if value == 2 else 'deep deletion'} has no alteration in the library"
        )


def _read_cna(source: TableSource, profiles: dict[str, Profile]) -> None:
    with _table(source, "copy-number") as table:
        gene_at = table.first("Hugo_Symbol", "Gene", "gene")
        if gene_at is None:
            raise ModelFormatError(
                "missing column Hugo_Symbol (or Gene)",
                table.name,
                table.header_line,
                hint="a cBioPortal copy-number table",
            )
        value_at = table.first("CNA", "Alteration", "cna")
        if value_at is not None:  # long format
            sample_at = table.first(*_SAMPLE_COLUMNS)
            for line, fields in table.rows:
                profile = _profile(profiles, _sample(fields, sample_at))
                _cna_row(profile, fields[gene_at], fields[value_at], f"{table.name}:{line}")
            return
        samples = _wide_samples(table, gene_at)
        for line, fields in table.rows:
            for at, sample in samples:
                _cna_row(_profile(profiles, sample), fields[gene_at], fields[at], f"{table.name}:{line}")


def _wide_samples(table: _Table, gene_at: int) -> list[tuple[int, str]]:
    """(field index, sample) of each sample column of a data_CNA.txt; an unnamed one is an error."""
    samples = [
        (at, column)
        for at, column in enumerate(table.columns)
        if at != gene_at and column not in ("Entrez_Gene_Id", "Cytoband")
    ]
    if not samples:
        raise ModelFormatError(
            "no sample columns", table.name, table.header_line, hint="data_CNA.txt has one column per sample"
        )
    unnamed = next((at for at, column in samples if not column.strip()), None)
    if unnamed is not None:
        raise ModelFormatError(
            f"column {unnamed + 1} has no sample name",
            table.name,
            table.header_line,
            hint="data_CNA.txt names a sample at the head of each column",
        )
    return samples


def _cna_row(profile: Profile, gene: str, text: str, where: str) -> None:
    value = _cna_value(text)
    if value is None:
        profile.unmapped.append(f"{where}: {gene} copy number {text!r} is not one of -2..2 or AMP/GAIN/HETLOSS/HOMDEL")
    else:
        _add_cna(profile, gene.strip(), value, where)


def read_profiles(mutations: TableSource | None = None, copy_number: TableSource | None = None) -> dict[str, Profile]:
    """Profiles by sample from a mutation table and/or a copy-number table; never empty.

    The samples are those the rows name. A table with a header and no rows names none, and
    what that means depends on the other table. A MAF lists only the mutations found (a long
    copy-number table only the altered genes), so beside a table whose rows name the samples
    it says "none found": a legitimate cohort without mutations, read as such. When no table
    has a row there is no sample to rank; that is an error naming each table, not an empty
    result that ``predict`` would turn into an empty report and exit status 0.

    Contradictory alterations in one sample (a gene both amplified and deleted) are reported
    in that sample's ``unmapped`` list and the sample keeps neither.
    """
    if mutations is None and copy_number is None:
        raise ConfigError("give a mutation table, a copy-number table, or both")
    profiles: dict[str, Profile] = {}
    if mutations is not None:
        _read_mutations(mutations, profiles)
    if copy_number is not None:
        _read_cna(copy_number, profiles)
    if not profiles:
        raise _header_only([(mutations, "mutation"), (copy_number, "copy-number")])
    for profile in profiles.values():
        _resolve_conflicts(profile)
    return profiles


def _header_only(tables: list[tuple[TableSource | None, str]]) -> ModelFormatError:
    """The error for tables none of which has a row: the first is the source, the other named."""
    (first, what), *others = [(_name(source, what), what) for source, what in tables if source is not None]
    either = "".join(f", and {name} has no {kind} rows either" for name, kind in others)
    return ModelFormatError(f"no {what} rows (header only){either}", first, hint="no sample to rank")


def _resolve_conflicts(profile: Profile) -> None:
    library = alteration_library()
    try:
        library.context(profile.alterations)
    except ConfigError as exc:
        genes = [library.get(a).gene for a in profile.alterations]
        clash = [a for a, gene in zip(profile.alterations, genes, strict=True) if genes.count(gene) > 1]
        profile.unmapped.append(f"{profile.sample}: {exc}; left out: {', '.join(clash)}")
        profile.alterations = tuple(a for a in profile.alterations if a not in clash)


def samples_of(profiles: dict[str, Profile], names: Sequence[str] | None) -> list[Profile]:
    """The profiles called ``names`` (all when None), unknown names rejected."""
    if not names:
        return list(profiles.values())
    missing = [n for n in names if n not in profiles]
    if missing:
        raise ConfigError(f"no sample {', '.join(missing)} in the tables (samples: {', '.join(profiles)})")
    return [profiles[n] for n in names]


def with_alterations(profiles: dict[str, Profile], names: Sequence[str]) -> dict[str, Profile]:
    """The profiles with the alterations ``names`` added to every one (each once), as when
    IHC shows HER2 amplification that the sequencing tables do not.

    Names are the alteration library's (close ones suggested for a typo). A sample whose
    alterations then contradict each other (a gene both amplified and deleted) is an error
    naming the clash, since the added alteration is the user's, not a row to leave out.

    >>> base = {"s1": Profile("s1", ("PIK3CA:H1047R",))}
    >>> with_alterations(base, ["ERBB2:amp"])["s1"].alterations
    ('PIK3CA:H1047R', 'ERBB2:amp')
    """
    library = alteration_library()
    added = [library.get(name).name for name in names]
    out = {}
    for sample, profile in profiles.items():
        alterations = profile.alterations + tuple(a for a in dict.fromkeys(added) if a not in profile.alterations)
        library.context(alterations)
        out[sample] = Profile(profile.sample, alterations, profile.unmapped)
    return out
