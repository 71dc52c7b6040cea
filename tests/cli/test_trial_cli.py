"""``her2sim trial run / validate / calibrate`` driven as a user would, in a subprocess."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from her2sim.trials.published import COLUMNS
from tests.cli.test_cli import assert_one_line_error, run_main

FAST = ("--samples", "30", "--points", "3")


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HER2SIM_CACHE", str(tmp_path_factory.getbasetemp() / "responses"))


def table(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "published.tsv"
    path.write_text("\t".join(COLUMNS) + "\n" + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def test_trial_run_writes_tables_and_figures_and_resumes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HER2SIM_PROGRESS", "lines")  # every progress line, however quick the run
    out = tmp_path / "cleopatra"
    args = ("trial", "run", "CLEOPATRA", "--patients", "8", "--chunk", "4", "--workers", "1", "-o", out, *FAST)
    proc = run_main(*args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for name in ("patients.parquet", "summary.csv", "km.png", "waterfall.png", "swimmer.png", "spider.png",
                 "mechanisms.csv", "forest-pertuzumab-th.png"):  # fmt: skip
        assert (out / name).is_file(), name
    patients = pd.read_parquet(out / "patients.parquet")
    assert len(patients) == 16 and set(patients["arm"]) == {"pertuzumab+TH", "placebo+TH"}
    assert len(list((out / "parts").glob("part-*.parquet"))) == 4
    again = run_main(*args, cwd=tmp_path)
    assert again.returncode == 0 and "her2sim: trial: done, 4/4 parts in " in again.stderr  # all kept
    pd.testing.assert_frame_equal(patients, pd.read_parquet(out / "patients.parquet"))


def test_a_non_randomised_trial_compares_no_cohorts(tmp_path: Path) -> None:
    """DAISY's cohorts differ in HER2 expression, not in treatment: no hazard ratio between
    them and no forest plot, while each cohort keeps its response rate and median."""
    out = tmp_path / "daisy"
    proc = run_main("trial", "run", "DAISY", "--patients", "6", "--workers", "1", "-o", out, *FAST, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["endpoint"]) == {"ORR_pct", "median_PFS_months", "PFS_12mo_pct", "PFS_24mo_pct",
                                        "median_g_per_day", "regression_only_pct"}  # fmt: skip
    assert set(summary["arm"]) == {"cohort 1", "cohort 2", "cohort 3"}
    assert (out / "km.png").is_file() and not list(out.glob("forest-*.png"))


def test_trial_validate_compares_every_row(tmp_path: Path) -> None:
    path = table(tmp_path, "A1\tNeoSphere\t\t\tTH\t\tall\tpCR_breast_pct\t29.0\t107\tGianni 2012",
                 "A2\tNeoSphere\t\t\tTHP\t\tall\tpCR_breast_pct\t45.8\t107\tGianni 2012")  # fmt: skip
    proc = run_main("trial", "validate", path, "--patients", "10", "-o", tmp_path / "v.csv", *FAST, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "within tolerance:" in proc.stdout and "/2;" in proc.stdout
    compared = pd.read_csv(tmp_path / "v.csv")
    assert compared["id"].tolist() == ["A1", "A2"] and compared["simulated"].between(0, 100).all()


def test_trial_validate_over_seeds_reports_each_rows_share_and_range(tmp_path: Path) -> None:
    path = table(tmp_path, "A1\tNeoSphere\t\t\tTH\t\tall\tpCR_breast_pct\t29.0\t107\tGianni 2012")
    args = ("trial", "validate", path, "--patients", "10", "--replicates", "2", "-o", tmp_path / "v.csv", *FAST)
    proc = run_main(*args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "seeds 0 to 1" in proc.stdout and "within tolerance per seed:" in proc.stdout
    compared = pd.read_csv(tmp_path / "v.csv")
    assert compared["replicates"].tolist() == [2]
    assert compared["low"].le(compared["simulated"]).all() and compared["simulated"].le(compared["high"]).all()
    assert compared["within_share"].between(0, 1).all()


def test_trial_validate_takes_a_table_or_the_held_out_results_not_both(tmp_path: Path) -> None:
    path = table(tmp_path, "A1\tNeoSphere\t\t\tTH\t\tall\tpCR_breast_pct\t29.0\t107\tGianni 2012")
    proc = run_main("trial", "validate", path, "--heldout", cwd=tmp_path)
    assert_one_line_error(proc, "not both")


def test_trial_calibrate_writes_a_population_posterior(tmp_path: Path) -> None:
    path = table(tmp_path, "A1\tNeoSphere\t\t\tTP\t\tall\tpCR_breast_pct\t24.0\t96\tGianni 2012")
    proc = run_main("trial", "calibrate", path, "--budget", "3", "--patients", "6", "--ensemble", "2",
                    "-o", tmp_path / "fit", *FAST, cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    header = [
        line for line in (tmp_path / "fit" / "posterior.tsv").read_text().splitlines() if not line.startswith("#")
    ]
    assert header[0].startswith("weight\tloss\t") and "kmax:docetaxel" in header[0]
    earlier = tmp_path / "fit" / "posterior.tsv"
    again = run_main("trial", "calibrate", path, "--budget", "2", "--patients", "6", "--ensemble", "2",
                     "--start", earlier, "-o", tmp_path / "fit2", *FAST, cwd=tmp_path)  # fmt: skip
    assert again.returncode == 0, again.stderr
    best = [pd.read_csv(tmp_path / d / "posterior.tsv", sep="\t", comment="#")["loss"].min() for d in ("fit", "fit2")]
    assert best[1] <= best[0] + 1e-9  # the earlier fit's best set is tried first


def test_trial_mistakes_are_one_line_errors(tmp_path: Path) -> None:
    assert_one_line_error(run_main("trial", "run", "CLEOPATRE", cwd=tmp_path), "unknown trial 'CLEOPATRE'")
    bad = table(tmp_path, "A1\tNeoSphere\t\t\tTHX\t\tall\tpCR_breast_pct\t29.0\t107\tGianni 2012")
    assert_one_line_error(run_main("trial", "validate", bad, cwd=tmp_path), "published.tsv:2", "arm")
    assert_one_line_error(run_main("trial", "run", "NeoSphere", "--patients", "0", cwd=tmp_path), "patients")
