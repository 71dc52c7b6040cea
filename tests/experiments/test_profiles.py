"""cBioPortal profiles: every row mapped or reported; therapies ranked and explained."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from her2sim.errors import ConfigError, ModelFormatError, UnknownNameError
from her2sim.experiments import profiles as profiles_module
from her2sim.experiments.predict import rank_therapies
from her2sim.experiments.profiles import Profile, read_profiles, samples_of, with_alterations
from her2sim.her2.settings import RunSettings
from tests.conftest import DATA
from tests.twins import assert_every_twin_listed, assert_located_error

MAF = (
    "#version 2.4\n"
    "Hugo_Symbol\tEntrez_Gene_Id\tVariant_Classification\tHGVSp_Short\tTumor_Sample_Barcode\n"
    "PIK3CA\t5290\tMissense_Mutation\tp.H1047R\tS1\n"
    "ERBB2\t2064\tMissense_Mutation\tp.L755S\tS2\n"
    "ERBB3\t2065\tMissense_Mutation\tp.E928G\tS2\n"
    "ERBB2\t2064\tIn_Frame_Ins\tp.A775_G776insYVMA\tS3\n"
    "PTEN\t5728\tNonsense_Mutation\tp.R233*\tS3\n"
    "TP53\t7157\tMissense_Mutation\tp.R175H\tS1\n"
    "ERBB2\t2064\tMissense_Mutation\tL755S\tS1\n"
    "\t\tMissense_Mutation\tp.A1B\tS1\n"
)
CNA_WIDE = "Hugo_Symbol\tEntrez_Gene_Id\tS1\tS2\tS3\nERBB2\t2064\t2\t0\t-1\nCCND1\t595\t2\t1\tNA\nMYC\t4609\t2\t0\t0\n"
CNA_LONG = "Sample ID\tGene\tCNA\nS1\tERBB2\tAMP\nS1\tPTEN\tHOMDEL\nS1\tERBB2\tHOMDEL\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_mutations_and_wide_copy_number_map_to_alterations(tmp_path: Path) -> None:
    profiles = read_profiles(write(tmp_path, "m.tsv", MAF), write(tmp_path, "c.tsv", CNA_WIDE))
    assert profiles["S1"].alterations == ("PIK3CA:H1047R", "ERBB2:amp", "CCND1:amp")
    assert profiles["S2"].alterations == ("ERBB2:L755S", "ERBB3:E928G")
    assert profiles["S3"].alterations == ("ERBB2:exon20ins", "PTEN:loss")
    s1 = "\n".join(profiles["S1"].unmapped)
    assert "m.tsv:8: TP53 p.R175H has no alteration" in s1
    assert "m.tsv:9: ERBB2 L755S: not a protein change" in s1
    assert "m.tsv:10: a row without a gene symbol" in s1
    assert "c.tsv:4: MYC amplification has no alteration in the library" in s1
    assert "CCND1 gain is not modelled" in "\n".join(profiles["S2"].unmapped)
    assert "CCND1 copy number 'NA'" in "\n".join(profiles["S3"].unmapped)


def test_long_copy_number_and_contradictions_are_reported(tmp_path: Path) -> None:
    profile = read_profiles(copy_number=write(tmp_path, "c.tsv", CNA_LONG))["S1"]
    assert profile.alterations == ("PTEN:loss",)
    assert any("ERBB2:amp, ERBB2:zero" in line or "gained and lost" in line for line in profile.unmapped)


def test_empty_or_malformed_tables_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(ModelFormatError, match="empty"):
        read_profiles(write(tmp_path, "e.tsv", "\n\n"))
    with pytest.raises(ModelFormatError, match="HGVSp_Short"):
        read_profiles(write(tmp_path, "m.tsv", "Hugo_Symbol\tProtein\nERBB2\tp.L755S\n"))
    with pytest.raises(ConfigError):
        read_profiles()
    with pytest.raises(ConfigError, match="no sample S9"):
        samples_of(read_profiles(write(tmp_path, "m2.tsv", MAF)), ["S9"])


def test_ranking_puts_the_rescue_first_and_names_the_pathway_left_on() -> None:
    table = rank_therapies(
        "ERBB2:amp; PIK3CA:H1047R",
        ["trastuzumab", "alpelisib+trastuzumab", "lapatinib"],
        settings=RunSettings(samples=400),
    )
    assert table["rank"].tolist() == [1, 2, 3]
    assert table["therapy"].iloc[0] == "alpelisib + trastuzumab"
    left_on = table.set_index("therapy").loc["trastuzumab", "still_on"]
    assert "PI3K" in left_on and "AKT" in left_on


# ------------------------------------------------------- cBioPortal twins: valid files and broken ones
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
    "header-only-error.maf": (None, None, "no mutation rows (header only)"),
}


def read_table(path: Path) -> dict:
    """Profiles from one table, read as mutations (``.maf``) or copy number (anything else)."""
    return read_profiles(path) if path.suffix == ".maf" else read_profiles(copy_number=path)


def test_every_cbioportal_error_file_has_an_expectation() -> None:
    assert_every_twin_listed(CBIO, "*-error.*", ERRORS)


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_cbioportal_error_files_fail_at_the_right_line(name: str) -> None:
    assert_located_error(read_table, CBIO / name, *ERRORS[name])


def test_the_valid_twins_read() -> None:
    profiles = read_profiles(CBIO / "mutations.maf", CBIO / "copy-number.cna")
    assert {s: p.alterations for s, p in profiles.items()} == {
        "S1": ("PIK3CA:H1047R", "ERBB2:amp"),
        "S2": ("ERBB2:L755S", "PTEN:loss"),
    }


def test_a_header_only_mutation_table_is_a_cohort_without_mutations_when_copy_number_names_samples() -> None:
    profiles = read_profiles(CBIO / "header-only-error.maf", CBIO / "copy-number.cna")
    assert {s: p.alterations for s, p in profiles.items()} == {"S1": ("ERBB2:amp",), "S2": ("PTEN:loss",)}


def test_tables_without_a_single_row_are_refused_naming_each(tmp_path: Path) -> None:
    cna = write(tmp_path, "c.tsv", "Hugo_Symbol\tS1\n")
    with pytest.raises(ModelFormatError, match=r"c.tsv: no copy-number rows \(header only\)"):
        read_profiles(copy_number=cna)
    with pytest.raises(ModelFormatError) as info:
        read_profiles(CBIO / "header-only-error.maf", cna)
    assert str(info.value).startswith(f"{CBIO / 'header-only-error.maf'}: no mutation rows (header only)")
    assert f"{cna} has no copy-number rows either" in str(info.value)


def test_the_size_limit_is_one_for_cbioportal_tables_not_for_model_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(profiles_module, "MAX_TABLE_BYTES", 1024 * 1024)
    big = write(tmp_path, "big.maf", "Hugo_Symbol\tHGVSp_Short\n" + "PIK3CA\tp.H1047R\n" * 70_000)
    with pytest.raises(ModelFormatError) as info:
        read_profiles(big)
    assert str(info.value).startswith(f"{big}: file is 1.1 MB, over the 1 MiB limit for cBioPortal tables")
    assert "model" not in str(info.value)


def test_a_44_mb_maf_is_read_in_a_few_seconds(tmp_path: Path) -> None:
    """Real MAF exports have a hundred columns and reach hundreds of MB; model files are < 5 MB."""
    padding = "\t".join(["Missense_Mutation"] * 60)
    header = "\t".join(["Hugo_Symbol", "HGVSp_Short", "Tumor_Sample_Barcode", *(f"C{i}" for i in range(60))])
    row = f"PIK3CA\tp.H1047R\tS1\t{padding}\nTP53\tp.R175H\tS2\t{padding}\n"
    maf = write(tmp_path, "big.maf", f"#version 2.4\n{header}\n" + row * (44_000_000 // len(row)))
    assert maf.stat().st_size > 43_000_000
    start = time.perf_counter()
    profiles = read_profiles(maf)
    assert time.perf_counter() - start < 5
    assert profiles["S1"].alterations == ("PIK3CA:H1047R",)
    assert len(profiles["S2"].unmapped) == 44_000_000 // len(row)


# ------------------------------------------------------------- properties of the table reader
#: header names that change how a table is read (gene, value and sample columns)
RESERVED = {"Hugo_Symbol", "Gene", "gene", "Entrez_Gene_Id", "Cytoband", "CNA", "Alteration", "cna", "sample"}
RESERVED |= set(profiles_module._SAMPLE_COLUMNS)
#: any text a cell can hold: everything but the tab, the line ends and lone surrogates
NAMES = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\t\r\n"), min_size=1, max_size=6)
SAMPLES = st.lists(NAMES.filter(lambda s: s.strip() and s not in RESERVED), min_size=1, max_size=6, unique=True)


def maf(samples: list[str]) -> str:
    rows = "".join(f"PIK3CA\tp.H1047R\t{sample}\n" for sample in samples)
    return f"#version 2.4\nHugo_Symbol\tHGVSp_Short\tTumor_Sample_Barcode\n{rows}"


def wide_cna(samples: list[str]) -> str:
    """A data_CNA.txt with one column per sample and ERBB2 amplified in each."""
    return "\t".join(["Hugo_Symbol", *samples]) + "\n" + "\t".join(["ERBB2"] + ["2"] * len(samples)) + "\n"


@pytest.fixture(scope="module")
def table_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One file the property tests overwrite for every example."""
    return tmp_path_factory.mktemp("tables") / "table.tsv"


@settings(max_examples=150, deadline=None)
@given(SAMPLES)
def test_sample_names_are_read_exactly_as_written(table_file: Path, samples: list[str]) -> None:
    table_file.write_text(maf(samples), encoding="utf-8")
    assert list(read_profiles(table_file)) == samples
    table_file.write_text(wide_cna(samples), encoding="utf-8")
    assert list(read_profiles(copy_number=table_file)) == samples


@settings(max_examples=100, deadline=None)
@given(SAMPLES, st.data())
def test_a_duplicated_column_is_refused_by_name(table_file: Path, samples: list[str], data: st.DataObject) -> None:
    twice = data.draw(st.sampled_from(samples))
    at = data.draw(st.integers(0, len(samples)))
    header = ["Hugo_Symbol", *samples[:at], twice, *samples[at:]]
    table_file.write_text(wide_cna(header[1:]), encoding="utf-8")
    first, second = sorted(i + 1 for i, name in enumerate(header) if name == twice)
    with pytest.raises(ModelFormatError) as info:
        read_profiles(copy_number=table_file)
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
        read_profiles(table_file)
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
        read_profiles(table_file)
    line_start = before.rfind(b"\n") + 1
    assert (info.value.line, info.value.col) == (before.count(b"\n") + 1, len(before) - line_start + 1)
    assert info.value.message == f"not UTF-8: byte 0xff at offset {len(before)}"


def test_alterations_given_by_hand_join_every_profile_once() -> None:
    profiles = {"a": Profile("a", ("PIK3CA:H1047R",), ["a: row left out"]), "b": Profile("b", ("ERBB2:amp",))}
    added = with_alterations(profiles, ["ERBB2:amp", "ERBB2:amp"])
    assert added["a"].alterations == ("PIK3CA:H1047R", "ERBB2:amp") and added["b"].alterations == ("ERBB2:amp",)
    assert added["a"].unmapped == ["a: row left out"]
    assert profiles["a"].alterations == ("PIK3CA:H1047R",)  # the profiles read are left as they were
    assert with_alterations(profiles, []) == profiles


def test_a_mistyped_or_contradicting_alteration_given_by_hand_is_refused() -> None:
    profiles = {"a": Profile("a", ("ERBB2:amp",))}
    with pytest.raises(UnknownNameError):
        with_alterations(profiles, ["ERBB2:ampp"])
    with pytest.raises(ConfigError, match="contradictory"):
        with_alterations(profiles, ["ERBB2:zero"])
