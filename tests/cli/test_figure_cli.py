"""``her2sim figure RECORD``: a figure record's genes against a model's node annotations."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from her2sim.examples import example_path
from her2sim.formats.figure import read_figure_record
from her2sim.formats.maboss import read_maboss
from her2sim.her2.coverage import figure_coverage
from tests.cli.test_cli import assert_one_line_error, listing, run, run_main, table_rows
from tests.conftest import SHARED

SEED = SHARED / "seeds" / "000_f81eb7544f0d353b.txt"

RECORD = """---
figid: PMC7__F3
figtitle: 'A [bold] test figure'
caption: HER2 and friends.
year: 2020
doi: 10.1000/test
organisms: [NA]
organisms_ner: [Homo sapiens]
schema-jsonld:
  keywords: [her2, AKT1, MTOR, tumour]
---
"""
MODEL = """
Node HER2 { genes = "ERBB2"; logic = HER2; }
Node AKT { genes = "AKT1 AKT2"; logic = HER2; }
"""


@pytest.fixture
def seed() -> Path:
    if not SEED.is_file():
        pytest.skip(f"{SEED} is not present (../shared/seeds holds the project's figure record)")
    return SEED


@pytest.fixture
def small(tmp_path: Path) -> tuple[Path, Path]:
    record, model = tmp_path / "fig.md", tmp_path / "m.bnd"
    record.write_text(RECORD)
    model.write_text(MODEL)
    return record, model


def test_seed_against_the_example_model(seed: Path) -> None:
    out = run("figure", seed, "--model", "example:erbb_core").stdout
    lines = out.splitlines()
    assert lines[0] == "Select mechanisms of HER2-targeted resistance"
    assert lines[1] == "figure PMC9640784__41573_2022_579_Fig2_HTML, 2023, DOI 10.1038/s41573-022-00579-0"
    assert "Sandra M. Swain, et al. Nat Rev Drug Discov. 2023;22(2):101-126." in lines
    assert "  a, Mutations and/or alterations in the HER family of receptors" in out
    assert max(len(line) for line in lines if not line.startswith(("┃", "│", "┏", "┡", "└"))) <= 200
    assert "organisms: none given (NA); named in the text: Danio rerio, Homo sapiens" in lines
    rows = table_rows(out)
    assert rows["ERBB2"] == ["her2, ERBB2", "yes", "HER2, HER2_HER3"]
    assert rows["ERBB3"] == ["her3, ERBB3", "yes", "HER2_HER3"]
    assert [rows[g][2] for g in ("AKT1", "AKT2", "AKT3", "KRAS", "HRAS", "NRAS")] == ["AKT"] * 3 + ["RAS"] * 3
    assert rows["MTOR"] == ["mtor, MTOR", "no", ""]
    assert "tumour" not in rows and "HERZ" not in rows
    assert "unresolved keywords (no gene symbol): rab1ab, cd4-1, HERZ, tumour" in lines
    assert "model genes not in the figure: NRG1" in lines
    assert lines[-1] == "covered 18/38 genes (47%) by erbb_core"
    not_covered = next(line for line in lines if line.startswith("not covered: "))
    assert not_covered.split(": ", 1)[1].split(", ")[:3] == ["MTOR", "CDK2", "EGFR"]
    assert "MUC4" in not_covered and "ERBB2" not in not_covered


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_seed_table_written(seed: Path, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"genes{suffix}"
    run("figure", seed, "--model", "example:erbb_core", "-o", out)
    table = pd.read_csv(out, keep_default_na=False) if suffix == ".csv" else pd.read_parquet(out)
    expected = figure_coverage(read_figure_record(seed), read_maboss(example_path("erbb_core"))[0]).table()
    pd.testing.assert_frame_equal(table, expected)
    assert table.set_index("gene").loc["ERBB2", "nodes"] == "HER2 HER2_HER3"
    assert listing(tmp_path) == [out.name]


def test_small_record_and_model(small: tuple[Path, Path]) -> None:
    record, model = small
    out = run("figure", record, "--model", model).stdout
    assert out.splitlines()[0] == "A [bold] test figure"  # rich markup in a title is text
    rows = table_rows(out)
    assert rows == {
        "ERBB2": ["her2", "yes", "HER2"],
        "AKT1": ["AKT1", "yes", "AKT"],
        "MTOR": ["MTOR", "no", ""],
    }
    assert "not covered: MTOR" in out
    assert "unresolved keywords (no gene symbol): tumour" in out
    assert "model genes not in the figure: AKT2" in out
    assert "covered 2/3 genes (67%) by m" in out


def test_default_model_is_the_her2_model(seed: Path) -> None:
    out = run("figure", seed).stdout
    rows = table_rows(out)
    # Issue 4: the HER2 model holds every entity of the figure, annotated with its genes.
    for gene in ("EGFR", "ERBB2", "ERBB3", "PIK3CA", "AKT1", "MTOR", "KRAS", "BRAF", "MAP2K1", "MAPK1",
                 "CDK2", "CCNE1", "CCND1", "CDK4", "CDK6", "MUC4", "CD44"):  # fmt: skip
        assert rows[gene][1] == "yes", (gene, rows[gene])


# --------------------------------------------------------------- bad inputs
def test_malformed_record_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.md"
    bad.write_text("---\nfigid: PMC1__F1\ncaption: no title\n---\n")
    assert_one_line_error(
        run_main("figure", bad, "--model", "example:erbb_core", cwd=tmp_path),
        f"{bad}:1: required key 'figtitle' is missing",
    )
    bad.write_text("figtitle: no front matter\n")
    assert_one_line_error(
        run_main("figure", bad, "--model", "example:erbb_core", cwd=tmp_path), f"{bad}:1:1: no YAML front matter"
    )
    bad.write_text("---\nfigid: PMC1__F1\nfigtitle: [unclosed\n---\n")
    assert_one_line_error(run_main("figure", bad, "--model", "example:erbb_core", cwd=tmp_path), "invalid YAML")


def test_missing_record_and_model_are_one_line(small: tuple[Path, Path], tmp_path: Path) -> None:
    record, _ = small
    assert_one_line_error(run_main("figure", "nowhere.md", "--model", "example:erbb_core", cwd=tmp_path),
                          "nowhere.md: no such file")  # fmt: skip
    assert_one_line_error(run_main("figure", record, "--model", "nowhere.bnd", cwd=tmp_path),
                          "nowhere.bnd: no such file")  # fmt: skip


def test_unknown_output_type_is_refused_before_reading(small: tuple[Path, Path], tmp_path: Path) -> None:
    record, model = small
    proc = run_main("figure", record, "--model", model, "-o", tmp_path / "genes.txt", cwd=tmp_path)
    assert_one_line_error(proc, "genes.txt", ".parquet or .csv")
    assert proc.stdout == ""
    assert listing(tmp_path) == ["fig.md", "m.bnd"]
