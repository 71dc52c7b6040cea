"""cBioPortal tables read as plain rows: valid files and broken twins, and properties of the reader."""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from her2sim.errors import ModelFormatError
from her2sim.formats import cbioportal
from her2sim.formats.cbioportal import CopyNumber, Mutation, read_copy_number, read_mutations
from tests.conftest import DATA
from tests.twins import assert_every_twin_listed, assert_located_error

CBIO = DATA / "cbioportal"
#: broken twin -> (line, col, message); ``.maf`` files are read as mutations, ``.cna`` as copy number
ERRORS = {
    "ragged-long-error.maf": (3, None, "5 fields where the header (line 2) has 4"),
    "ragged-short-error.maf": (4, None, "3 fields where the header (line 2) has 4"),
    "ragged-error.cna": (3, None, "3 fields where the header (line 1) has 4"),
    "duplicate-column-error.maf": (2, None, "column 'HGVSp_Short' appears twice (fields 3 and 4)"),
    "duplicate-sample-error.cna": (1, None, "column 'S1' appears twice (fields 3 and 5)"),
    "unnamed-sample-error.cna": (1, None, "column 4 has no sample name"),
    "latin1-error.maf": (3, 23, "not UTF-8: byte 0xe9 at offset 95"),
}


def read_table(path: Path) -> list[Mutation] | list[CopyNumber]:
    """Every row of one table, read as mutations (``.maf``) or copy number (anything else)."""
    return list(read_mutations(path)) if path.suffix == ".maf" else list(read_copy_number(path))


def test_every_cbioportal_error_file_has_an_expectation() -> None:
    assert_every_twin_listed(CBIO, "*-error.*", ERRORS)


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_cbioportal_error_files_fail_at_the_right_line(name: str) -> None:
    assert_located_error(read_table, CBIO / name, *ERRORS[name])


def test_the_valid_twins_read_as_rows_that_know_their_line() -> None:
    maf, cna = CBIO / "mutations.maf", CBIO / "copy-number.cna"
    assert read_table(maf) == [Mutation(str(maf), 3, "S1", "PIK3CA", "p.H1047R"),
                               Mutation(str(maf), 4, "S2", "ERBB2", "p.L755S")]  # fmt: skip
    rows = read_table(cna)
    assert [(r.where, r.sample, r.gene, r.value) for r in rows] == [
        (f"{cna}:2", "S1", "ERBB2", 2), (f"{cna}:2", "S2", "ERBB2", 0),
        (f"{cna}:3", "S1", "PTEN", 0), (f"{cna}:3", "S2", "PTEN", -2),
    ]  # fmt: skip
    assert read_table(CBIO / "header-only.maf") == []


def test_long_copy_number_words_and_unreadable_values() -> None:
    text = "Sample ID\tGene\tCNA\nS1\tERBB2\tAMP\nS1\tPTEN\thomdel\nS2\tMYC\t2.0\nS2\tCCND1\tNA\n"
    rows = list(read_copy_number(io.StringIO(text)))
    assert [(r.where, r.sample, r.gene, r.text, r.value) for r in rows] == [
        ("<copy-number>:2", "S1", "ERBB2", "AMP", 2), ("<copy-number>:3", "S1", "PTEN", "homdel", -2),
        ("<copy-number>:4", "S2", "MYC", "2.0", 2), ("<copy-number>:5", "S2", "CCND1", "NA", None),
    ]  # fmt: skip


def test_a_table_without_a_sample_column_is_one_sample_and_missing_columns_are_named() -> None:
    rows = list(read_mutations(io.StringIO("Hugo_Symbol\tHGVSp_Short\n\tp.A1B\n")))
    assert rows == [Mutation("<mutation>", 2, "sample", "", "p.A1B")]
    with pytest.raises(ModelFormatError, match=r"^<mutation>:1: missing column\(s\) HGVSp_Short"):
        list(read_mutations(io.StringIO("Hugo_Symbol\tProtein\nERBB2\tp.L755S\n")))
    with pytest.raises(ModelFormatError, match=r"^<copy-number>:1: missing column Hugo_Symbol \(or Gene\)"):
        list(read_copy_number(io.StringIO("Symbol\tS1\nERBB2\t2\n")))
    with pytest.raises(ModelFormatError, match=r"^<copy-number>: the copy-number table is empty"):
        list(read_copy_number(io.StringIO("# nothing\n\n")))


def test_the_size_limit_is_one_for_cbioportal_tables_not_for_model_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cbioportal, "MAX_TABLE_BYTES", 1024 * 1024)
    big = tmp_path / "big.maf"
    big.write_text("Hugo_Symbol\tHGVSp_Short\n" + "PIK3CA\tp.H1047R\n" * 70_000)
    with pytest.raises(ModelFormatError) as info:
        list(read_mutations(big))
    assert str(info.value).startswith(f"{big}: file is 1.1 MB, over the 1 MiB limit for cBioPortal tables")
    assert "model" not in str(info.value)


# ------------------------------------------------------------- properties of the table reader
#: header names that change how a table is read (gene, value and sample columns)
RESERVED = {"Hugo_Symbol", "Gene", "gene", "Entrez_Gene_Id", "Cytoband", "CNA", "Alteration", "cna", "sample"}
RESERVED |= set(cbioportal.SAMPLE_COLUMNS)
#: any text a cell can hold: everything but the tab, the line ends and lone surrogates
NAMES = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\t\r\n"), min_size=1, max_size=6)
SAMPLES = st.lists(NAMES.filter(lambda s: s.strip() and s not in RESERVED), min_size=1, max_size=6, unique=True)


def maf(samples: list[str]) -> str:
    rows = "".join(f"PIK3CA\tp.H1047R\t{sample}\n" for sample in samples)
    return f"#version 2.4\nHugo_Symbol\tHGVSp_Short\tTumor_Sample_Barcode\n{rows}"


def wide_cna(samples: list[str]) -> str:
    """A data_CNA.txt with one column per sample and ERBB2 amplified in each."""
    return "\t".join(["Hugo_Symbol", *samples]) + "\n" + "\t".join(["ERBB2"] + ["2"] * len(samples)) + "\n"


def samples_in(rows: Iterable[Mutation | CopyNumber]) -> list[str]:
    """The samples the rows name, in the order they first appear."""
    return list(dict.fromkeys(row.sample for row in rows))


@pytest.fixture(scope="module")
def table_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One file the property tests overwrite for every example."""
    return tmp_path_factory.mktemp("tables") / "table.tsv"


@settings(max_examples=150, deadline=None)
@given(SAMPLES)
def test_sample_names_are_read_exactly_as_written(table_file: Path, samples: list[str]) -> None:
    table_file.write_text(maf(samples), encoding="utf-8")
    assert samples_in(read_mutations(table_file)) == samples
    table_file.write_text(wide_cna(samples), encoding="utf-8")
    assert samples_in(read_copy_number(table_file)) == samples


@settings(max_examples=100, deadline=None)
@given(SAMPLES, st.data())
def test_a_duplicated_column_is_refused_by_name(table_file: Path, samples: list[str], data: st.DataObject) -> None:
    twice = data.draw(st.sampled_from(samples))
    at = data.draw(st.integers(0, len(samples)))
    header = ["Hugo_Symbol", *samples[:at], twice, *samples[at:]]
    table_file.write_text(wide_cna(header[1:]), encoding="utf-8")
    first, second = sorted(i + 1 for i, name in enumerate(header) if name == twice)
    with pytest.raises(ModelFormatError) as info:
        list(read_copy_number(table_file))
    assert (info.value.line, info.value.message) == (1, f"column {twice!r} appears twice (fields {first} and {second})")


@settings(max_examples=100, deadline=None)
@given(SAMPLES, st.data())
def test_a_ragged_row_is_refused_at_its_line(table_file: Path, samples: list[str], data: st.DataObject) -> None:
    lines = maf(samples).split("\n")  # not splitlines: a sample name may hold \x1e or \u2028
    row = data.draw(st.integers(2, len(lines) - 2))
    extra = data.draw(st.sampled_from([-1, 1, 2]))
    fields = lines[row].split("\t")
    lines[row] = "\t".join(fields[:extra] if extra < 0 else fields + ["x"] * extra)
    table_file.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(ModelFormatError) as info:
        list(read_mutations(table_file))
    assert (info.value.line, info.value.message) == (row + 1, f"{3 + extra} fields where the header (line 2) has 3")


@settings(max_examples=100, deadline=None)
@given(SAMPLES, st.data())
def test_an_invalid_byte_is_refused_at_its_line_and_offset(
    table_file: Path, samples: list[str], data: st.DataObject
) -> None:
    text = maf(samples)
    at = data.draw(st.integers(0, len(text)))
    before = text[:at].encode()
    table_file.write_bytes(before + b"\xff" + text[at:].encode())
    with pytest.raises(ModelFormatError) as info:
        list(read_mutations(table_file))
    line_start = before.rfind(b"\n") + 1
    assert (info.value.line, info.value.col) == (before.count(b"\n") + 1, len(before) - line_start + 1)
    assert info.value.message == f"not UTF-8: byte 0xff at offset {len(before)}"
