"""``her2sim run`` and ``her2sim validate``, driven as a user drives them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tests.cli.test_cli import PNG_SIGNATURE, assert_one_line_error, listing, run, run_main, table_rows

HEADER = "id\tcontext\ttherapy\texpected\tcompare_to\treadout\tconfidence\tsource\n"


def test_run_prints_phenotypes_growth_index_and_the_pathway_left_on(tmp_path: Path) -> None:
    out, png = tmp_path / "tc.csv", tmp_path / "tc.png"
    result = run("run", "-a", "ERBB2:amp", "-a", "PIK3CA:H1047R", "-t", "trastuzumab", "-t", "pertuzumab",
                 "-n", "400", "--max-time", "30", "-o", out, "--plot", png,
                 "--node", "AKT", "--node", "pERK")  # fmt: skip
    assert "context ERBB2:amp; PIK3CA:H1047R" in result.output
    assert "therapy trastuzumab + pertuzumab" in result.output
    rows = table_rows(result.output)
    untreated, treated, effect = (float(x) for x in rows["proliferation"][:3])
    assert treated < untreated and abs(effect - (1 - treated / untreated)) < 2e-3
    assert "growth index" in result.output
    pathway = next(line for line in result.output.splitlines() if line.startswith("still on under treatment"))
    assert "AKT" in pathway and "PI3K" in pathway  # the PIK3CA mutant keeps the PI3K branch on
    table = pd.read_csv(out)
    assert set(table["readout"]) == {"proliferation", "apoptosis", "survival", "pAKT", "pERK"}
    assert png.read_bytes().startswith(PNG_SIGNATURE)


def test_run_with_a_dose_and_without_therapy() -> None:
    low = table_rows(run("run", "-a", "ERBB2:amp", "-t", "lapatinib@10nM", "-n", "300").output)
    high = table_rows(run("run", "-a", "ERBB2:amp", "-t", "lapatinib@3uM", "-n", "300").output)
    assert float(high["proliferation"][2]) > float(low["proliferation"][2]) + 0.3
    none = table_rows(run("run", "-a", "ERBB2:amp", "-n", "200").output)
    assert float(none["proliferation"][2]) == 0.0


def test_run_bad_input_is_one_line(tmp_path: Path) -> None:
    assert_one_line_error(run_main("run", "-a", "PIK3CA:H1047", cwd=tmp_path), "unknown alteration", "PIK3CA:H1047R")
    assert_one_line_error(run_main("run", "--plot", "p.png", "--node", "AKTT", cwd=tmp_path), "AKTT", "AKT")
    assert_one_line_error(run_main("run", "--node", "AKT", cwd=tmp_path), "--node", "--plot")
    assert_one_line_error(run_main("run", "-t", "lapatinib@5", cwd=tmp_path), "has no unit")
    assert_one_line_error(run_main("run", "-t", "lapatinib@-1uM", cwd=tmp_path), ">= 0")
    assert_one_line_error(run_main("run", "-a", "PTEN:loss", "-a", "ERBB2:amp", "-a", "ERBB2:low", cwd=tmp_path),
                          "contradictory")  # fmt: skip
    assert_one_line_error(run_main("run", "-t", "tucatinb", cwd=tmp_path), "unknown therapy", "tucatinib")
    assert_one_line_error(run_main("run", "-o", "x.txt", cwd=tmp_path), "x.txt")
    assert listing(tmp_path) == []


def test_validate_a_table_prints_pass_fail_and_writes_results(tmp_path: Path) -> None:
    table = tmp_path / "t.tsv"
    table.write_text(HEADER + "A\tERBB2:amp\tlapatinib\tsensitive\t\tproliferation\tstrong\tx\n"
                     "B\tERBB2:amp; p95HER2\ttrastuzumab\tresistant\t\t\tstrong\tx\n")  # fmt: skip
    out = tmp_path / "r.parquet"
    result = run("validate", table, "-n", "400", "-o", out)
    rows = table_rows(result.output)
    assert rows["A"][-1] == "pass" and rows["B"][-1] == "pass"
    assert "passed 2/2 (100%)" in result.output
    assert pd.read_parquet(out)["passed"].all()


def test_validate_exits_1_below_the_pass_threshold(tmp_path: Path) -> None:
    table = tmp_path / "t.tsv"
    table.write_text(HEADER + "A\tERBB2:amp\tlapatinib\tresistant\t\t\t\t\n")
    proc = run_main("validate", table, "-n", "300", cwd=tmp_path)
    assert proc.returncode == 1 and "passed 0/1" in proc.stdout


def test_validate_reports_every_bad_row_on_one_line(tmp_path: Path) -> None:
    table = tmp_path / "t.tsv"
    table.write_text(HEADER + "A\tERBB2:amp; FOO:bar\ttrastuzumab\tsensitive\t\t\t\t\n"
                     "B\tERBB2:amp\ttrastuzumabb\tsensitive\t\t\t\t\n")  # fmt: skip
    line = assert_one_line_error(run_main("validate", table, cwd=tmp_path), "t.tsv:2: row A", "t.tsv:3: row B")
    assert "FOO:bar" in line and "trastuzumabb" in line


def test_validate_default_table_runs(tmp_path: Path) -> None:
    proc = run_main("validate", "-n", "600", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "V43" in proc.stdout and "passed" in proc.stdout
