"""cBioPortal profiles: every row mapped or reported; therapies ranked and explained."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from her2sim.errors import ConfigError, ModelFormatError, UnknownNameError
from her2sim.experiments.predict import rank_therapies
from her2sim.experiments.profiles import Profile, read_profiles, samples_of, with_alterations
from her2sim.her2.settings import RunSettings
from tests.conftest import DATA
from tests.twins import assert_located_error

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


# ------------------------------------------------------- cBioPortal files mapped to alterations
CBIO = DATA / "cbioportal"


def test_the_valid_twins_read() -> None:
    profiles = read_profiles(CBIO / "mutations.maf", CBIO / "copy-number.cna")
    assert {s: p.alterations for s, p in profiles.items()} == {
        "S1": ("PIK3CA:H1047R", "ERBB2:amp"),
        "S2": ("ERBB2:L755S", "PTEN:loss"),
    }


def test_a_header_only_mutation_table_is_a_cohort_without_mutations_when_copy_number_names_samples() -> None:
    profiles = read_profiles(CBIO / "header-only.maf", CBIO / "copy-number.cna")
    assert {s: p.alterations for s, p in profiles.items()} == {"S1": ("ERBB2:amp",), "S2": ("PTEN:loss",)}


def test_tables_without_a_single_row_are_refused_naming_each(tmp_path: Path) -> None:
    assert_located_error(read_profiles, CBIO / "header-only.maf", None, None, "no mutation rows (header only)")
    cna = write(tmp_path, "c.tsv", "Hugo_Symbol\tS1\n")
    with pytest.raises(ModelFormatError, match=r"c.tsv: no copy-number rows \(header only\)"):
        read_profiles(copy_number=cna)
    with pytest.raises(ModelFormatError) as info:
        read_profiles(CBIO / "header-only.maf", cna)
    assert str(info.value).startswith(f"{CBIO / 'header-only.maf'}: no mutation rows (header only)")
    assert f"{cna} has no copy-number rows either" in str(info.value)


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
