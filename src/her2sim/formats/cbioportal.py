"""cBioPortal tables read as plain rows: the mutations and copy-number changes of each sample.

Two tables people download from cBioPortal are read:

* **mutations** (MAF-like, tab-separated): ``Hugo_Symbol`` and ``HGVSp_Short`` (``p.L755S``),
  optionally ``Tumor_Sample_Barcode`` (or ``Sample ID``) naming the sample;
* **copy number**: either cBioPortal's discrete ``data_CNA.txt`` (``Hugo_Symbol`` then one
  column per sample, GISTIC values -2..2) or a long table (``Sample ID``/``Tumor_Sample_Barcode``,
  ``Hugo_Symbol`` or ``Gene``, ``CNA`` or ``Alteration`` = ``AMP``/``HOMDEL``/``GAIN``/``HETLOSS``).

Each data row becomes a :class:`Mutation` or :class:`CopyNumber` that knows its file and
line; what the rows mean for a tumour (which alteration of the HER2 library each one is) is
decided by :mod:`her2sim.experiments.profiles`.

Tables are read as cBioPortal writes them: UTF-8, tab-separated, unquoted, one field per
column, ``#`` comment lines allowed. A row with a field too many or too few, a column name
given twice, or a byte that is not UTF-8 is a ``file:line`` error rather than a guess, since
each guess would move values into the wrong column or the wrong sample. Rows are yielded as
the file is read, so memory does not grow with the file.

Examples
--------
>>> import io
>>> maf = "Hugo_Symbol\\tHGVSp_Short\\tTumor_Sample_Barcode\\nPIK3CA\\tp.H1047R\\tS1\\n"
>>> [(m.sample, m.gene, m.change, m.where) for m in read_mutations(io.StringIO(maf))]
[('S1', 'PIK3CA', 'p.H1047R', '<mutation>:2')]
>>> cna = "Hugo_Symbol\\tS1\\tS2\\nERBB2\\t2\\tNA\\n"
>>> [(c.sample, c.gene, c.value) for c in read_copy_number(io.StringIO(cna))]
[('S1', 'ERBB2', 2), ('S2', 'ERBB2', None)]
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

from her2sim.errors import ModelFormatError
from her2sim.files import check_file

__all__ = [
    "MAX_TABLE_BYTES",
    "SAMPLE_COLUMNS",
    "CopyNumber",
    "Mutation",
    "TableSource",
    "read_copy_number",
    "read_mutations",
    "table_name",
]

#: Largest cBioPortal table read. Exports reach hundreds of MB (a MAF has about 120 columns per
#: mutation); tables are streamed line by line and only the columns used are kept, so memory
#: does not grow with the file. Model files have their own, much smaller limit.
MAX_TABLE_BYTES = 2 * 1024**3

#: Columns that name a row's sample, the first present wins.
SAMPLE_COLUMNS = ("Tumor_Sample_Barcode", "Sample ID", "Sample_ID", "SAMPLE_ID", "sample")
#: The sample of every row of a table without a sample column.
_DEFAULT_SAMPLE = "sample"
_CNA_WORDS = {"AMP": 2, "GAIN": 1, "HETLOSS": -1, "HOMDEL": -2, "DIPLOID": 0}

#: A table: a file (size and encoding checked) or an open text stream (read as it is).
TableSource = str | os.PathLike[str] | TextIO


@dataclass(frozen=True, slots=True)
class Mutation:
    """One row of a mutation table: its sample, gene and protein change as written (``p.L755S``,
    or whatever the file holds), and where it was read."""

    source: str
    line: int
    sample: str
    gene: str
    change: str

    @property
    def where(self) -> str:
        """``file:line`` of the row."""
        return f"{self.source}:{self.line}"


@dataclass(frozen=True, slots=True)
class CopyNumber:
    """One gene of one sample in a copy-number table: the value as written (``text``), as a
    GISTIC level -2..2 (``value``, None when it is none of them), and where it was read."""

    source: str
    line: int
    sample: str
    gene: str
    text: str
    value: int | None

    @property
    def where(self) -> str:
        """``file:line`` of the row."""
        return f"{self.source}:{self.line}"


def table_name(source: TableSource, what: str) -> str:
    """The name errors give a table: its path, or ``<what>`` for an open stream."""
    return str(source) if isinstance(source, (str, os.PathLike)) else f"<{what}>"


def read_mutations(source: TableSource) -> Iterator[Mutation]:
    """The rows of a mutation table, as the file is read; a missing ``Hugo_Symbol`` or
    ``HGVSp_Short`` column is an error at the header's line."""
    with _table(source, "mutation") as table:
        missing = [c for c in ("Hugo_Symbol", "HGVSp_Short") if c not in table.columns]
        if missing:
            raise ModelFormatError(
                f"missing column(s) {', '.join(missing)}",
                table.name,
                table.header_line,
                hint="a cBioPortal mutation table",
            )
        gene_at, change_at = table.columns.index("Hugo_Symbol"), table.columns.index("HGVSp_Short")
        sample_at = table.first(*SAMPLE_COLUMNS)
        for line, fields in table.rows:
            yield Mutation(
                table.name, line, _sample(fields, sample_at), fields[gene_at].strip(), fields[change_at].strip()
            )


def read_copy_number(source: TableSource) -> Iterator[CopyNumber]:
    """The values of a copy-number table, long or wide (``data_CNA.txt``), as the file is read:
    row by row, and in a wide table sample by sample within a row."""
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
            sample_at = table.first(*SAMPLE_COLUMNS)
            for line, fields in table.rows:
                yield _copy_number(table.name, line, _sample(fields, sample_at), fields[gene_at], fields[value_at])
            return
        samples = _wide_samples(table, gene_at)
        for line, fields in table.rows:
            for at, sample in samples:
                yield _copy_number(table.name, line, sample, fields[gene_at], fields[at])


def _copy_number(source: str, line: int, sample: str, gene: str, text: str) -> CopyNumber:
    return CopyNumber(source, line, sample, gene.strip(), text, _cna_value(text))


def _cna_value(text: str) -> int | None:
    """A GISTIC level from ``-2``..``2`` (``2.0`` too) or ``AMP``/``GAIN``/...; None otherwise."""
    text = text.strip().upper()
    if text in _CNA_WORDS:
        return _CNA_WORDS[text]
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value in (-2, -1, 0, 1, 2) else None


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


@contextmanager
def _table(source: TableSource, what: str) -> Iterator[_Table]:
    """Open a table: its header is checked now, each row as it is read.

    Blank lines and lines starting with ``#`` (MAF version headers) are skipped. Fields are
    split on tabs alone, with no quoting: cBioPortal files are not quoted, so a ``"`` in a
    value is part of the value.
    """
    name = table_name(source, what)
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
    """The sample a row belongs to (``sample`` when the table has no sample column)."""
    return (fields[at] if at is not None else "") or _DEFAULT_SAMPLE


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
