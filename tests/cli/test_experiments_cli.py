"""Experiment commands driven as a user drives them: dose-response, screen, landscape, predict, cohort."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import typer

from tests.cli.test_cli import PNG_SIGNATURE, WIDE, assert_one_line_error, run, run_main, table_rows

SPEC = """contexts:
  - {label: "amplified", alterations: "ERBB2:amp"}
  - {label: "PIK3CA", alterations: "ERBB2:amp; PIK3CA:H1047R", figure: "6"}
therapies: [trastuzumab, alpelisib+trastuzumab]
"""
MAF = "Hugo_Symbol\tHGVSp_Short\tTumor_Sample_Barcode\nPIK3CA\tp.H1047R\tA\nTP53\tp.R175H\tA\nERBB2\tp.L755S\tB\n"


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """An in-process Dask cluster for ``--scheduler``: a run costs no cluster start-up."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def test_dose_response_prints_the_curve_and_its_fit(tmp_path: Path) -> None:
    png, out = tmp_path / "dr.png", tmp_path / "dr.csv"
    result = run("dose-response", "-a", "ERBB2:amp", "-t", "lapatinib", "--dose", "10nM", "--dose", "100nM",
                 "--dose", "1uM", "--dose", "10uM", "-n", "300", "--plot", png, "-o", out)  # fmt: skip
    assert "Hill fit: IC50" in result.output
    assert png.read_bytes().startswith(PNG_SIGNATURE)
    curve = pd.read_csv(out)
    assert curve["effect"].is_monotonic_increasing and list(curve["dose_nM"]) == [10, 100, 1000, 10000]


def test_screen_landscape_and_cohort_run_on_a_local_dask_cluster(tmp_path: Path) -> None:
    screen = run("screen", tmp_path / "s", "-t", "trastuzumab", "-t", "alpelisib", "-c", "ERBB2:amp; PIK3CA:H1047R",
                 "--doses", "2", "-n", "200", "--workers", "1")  # fmt: skip
    assert "trastuzumab + alpelisib" in screen.output
    assert set(pd.read_csv(tmp_path / "s" / "synergy.csv").columns) >= {"bliss", "hsa", "loewe", "zip"}

    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    land = run("landscape", tmp_path / "l", "--spec", spec, "-n", "200", "--workers", "1")
    rows = table_rows(land.output)
    assert rows["PIK3CA"][2] == "alpelisib+trastuzumab"
    assert (tmp_path / "l" / "landscape.png").read_bytes().startswith(PNG_SIGNATURE)
    assert len(pd.read_parquet(tmp_path / "l" / "landscape.parquet")) == 4

    maf = tmp_path / "maf.tsv"
    maf.write_text(MAF)
    cohort = run("cohort", tmp_path / "c", "--mutations", maf, "-a", "ERBB2:amp", "-t", "trastuzumab",
                 "-t", "neratinib", "-n", "200", "--workers", "1")  # fmt: skip
    assert "2 samples; 1 input rows not used" in cohort.output
    table = pd.read_parquet(tmp_path / "c" / "cohort.parquet")
    assert set(table["sample"]) == {"A", "B"} and set(table["rank"]) == {1, 2}
    assert "TP53 p.R175H" in (tmp_path / "c" / "unmapped.txt").read_text()


@pytest.mark.parametrize("doses", [2, 3, 4, 8])
def test_landscape_over_a_dose_grid_writes_the_standard_dose_results(
    tmp_path: Path, scheduler: str, doses: int
) -> None:
    spec, out = tmp_path / "spec.yaml", tmp_path / "l"
    spec.write_text(SPEC)
    land = run("landscape", out, "--spec", spec, "--doses", str(doses), "-n", "200", "--scheduler", scheduler)
    assert table_rows(land.output)["PIK3CA"][2] == "alpelisib+trastuzumab"
    table = pd.read_parquet(out / "landscape.parquet")
    assert len(table) == 2 * 2 * doses and table["dose_multiple"].eq(1.0).sum() == 2 * 2
    assert list(pd.read_csv(out / "rescues.csv")["mechanism"]) == ["amplified", "PIK3CA"]
    assert (out / "landscape.png").read_bytes().startswith(PNG_SIGNATURE)


def test_a_resumed_screen_names_a_damaged_part_and_computes_it_again(tmp_path: Path, scheduler: str) -> None:
    args = ("screen", tmp_path, "-t", "trastuzumab", "-t", "alpelisib", "--doses", "2", "-n", "200",
            "--scheduler", scheduler)  # fmt: skip
    run(*args)
    first = (tmp_path / "synergy.csv").read_text()
    part = tmp_path / "part-00000.parquet"
    part.write_bytes(part.read_bytes()[:100])
    again = run(*args)
    assert f"warning: {part} is damaged (" in again.output and "; computing it again" in again.output
    assert (tmp_path / "synergy.csv").read_text() == first


def test_predict_reports_unused_rows_and_ranks(tmp_path: Path) -> None:
    maf = tmp_path / "maf.tsv"
    maf.write_text(MAF)
    result = run("predict", "--mutations", maf, "--sample", "A", "-a", "ERBB2:amp", "-t", "trastuzumab",
                 "-t", "alpelisib+trastuzumab", "-n", "300", "-o", tmp_path / "rank.csv")  # fmt: skip
    assert "A: PIK3CA:H1047R; ERBB2:amp" in result.output
    assert "not used" in result.output and "TP53 p.R175H" in result.output
    ranking = pd.read_csv(tmp_path / "rank.csv")
    assert ranking["therapy"].iloc[0] == "alpelisib + trastuzumab"


def test_experiment_errors_are_one_line_and_write_nothing(tmp_path: Path) -> None:
    assert_one_line_error(run_main("screen", "out", "-t", "trastuzumab", "-t", "lapatinb", cwd=tmp_path), "lapatinib")
    assert_one_line_error(run_main("screen", "out", "-t", "trastuzumab", "-t", "lapatinib", "--doses", "0",
                                   cwd=tmp_path), "at least one dose")  # fmt: skip
    assert_one_line_error(run_main("dose-response", "-t", "lapatinib", "--dose", "3", cwd=tmp_path), "has no unit")
    (tmp_path / "bad.tsv").write_text("gene\tchange\nERBB2\tp.L755S\n")
    assert_one_line_error(run_main("predict", "--mutations", "bad.tsv", cwd=tmp_path), "bad.tsv", "Hugo_Symbol")
    assert_one_line_error(run_main("landscape", "out", "--doses", "0", cwd=tmp_path), "at least one dose")
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").rglob("part-*"))


def test_cbioportal_tables_that_would_be_misread_are_one_line_errors(tmp_path: Path) -> None:
    header = "#version 2.4\nHugo_Symbol\tHGVSp_Short\tTumor_Sample_Barcode\n"
    (tmp_path / "header.maf").write_text(header)
    assert_one_line_error(run_main("predict", "--mutations", "header.maf", cwd=tmp_path),
                          "header.maf: no mutation rows (header only)")  # fmt: skip
    (tmp_path / "ragged.maf").write_text(header + "PIK3CA\tp.H1047R\tS1\tmore\n")
    assert_one_line_error(run_main("cohort", "out", "--mutations", "ragged.maf", cwd=tmp_path),
                          "ragged.maf:3: 4 fields where the header (line 2) has 3")  # fmt: skip
    assert not (tmp_path / "out").exists()


def test_an_output_directory_that_is_a_file_or_unwritable_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("x")
    assert_one_line_error(run_main("landscape", "taken", "-n", "100", cwd=tmp_path), "taken")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        proc = run_main("report", "-o", locked / "sub" / "r.html", "-n", "100", cwd=tmp_path)
        if proc.returncode != 0:  # root may write anywhere; elsewhere the error is one line
            assert_one_line_error(proc, "locked")
    finally:
        locked.chmod(0o700)


def test_sigterm_during_a_screen_says_what_was_kept_and_how_to_resume(tmp_path: Path) -> None:
    out = tmp_path / "s"  # 2 contexts x 3 pairs x 36 dose points: 8 chunks of at most 32 cells
    args = ("screen", out, "-t", "trastuzumab", "-t", "alpelisib", "-t", "lapatinib", "-c", "ERBB2:amp",
            "-c", "ERBB2:amp; PIK3CA:H1047R", "--doses", "5", "-n", "1000", "--workers", "1")  # fmt: skip
    command = [sys.executable, "-m", "her2sim.cli", *map(str, args)]
    env = {**os.environ, **WIDE}
    with subprocess.Popen(
        command, cwd=tmp_path, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as proc:
        deadline = time.monotonic() + 120
        while not list(out.glob("part-*.parquet")):
            assert proc.poll() is None and time.monotonic() < deadline, "the screen ended before its first part"
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    parts = list(out.glob("part-*.parquet"))
    cells = sum(len(pd.read_parquet(p)) for p in parts)  # one readout: one row per cell
    assert proc.returncode == 128 + signal.SIGTERM and 1 <= len(parts) < 8
    line = f"her2sim: stopped: {cells} of 216 cells kept in {out}; run the same command again to resume"
    *progress, last = err.splitlines()
    assert last == line and all(p.startswith("her2sim: screening: ") for p in progress), err
    assert not list(out.glob(".*.tmp"))


def test_sigterm_before_any_part_says_so_and_the_handler_is_put_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from her2sim.cli.experiments import _resumable

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(typer.Exit) as stop, _resumable("screening", tmp_path, tmp_path / "cells"):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises at once, in this (the main) thread
    assert stop.value.exit_code == 128 + signal.SIGTERM
    parts = tmp_path / "cells"
    assert capsys.readouterr().err == (
        f"her2sim: stopped: nothing computed yet in {parts}; run the same command again to resume\n"
    )
    assert signal.getsignal(signal.SIGTERM) is before


def run_unprivileged(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``run_main``, but as root without the capabilities that let root write into a read-only directory."""
    if os.geteuid() != 0:
        return run_main(*args, cwd=cwd)
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("root writes into read-only directories, and setpriv (util-linux) is missing to stop it")
    drop = "-dac_override,-dac_read_search,-fowner"
    command = [setpriv, f"--inh-caps={drop}", f"--bounding-set={drop}", sys.executable, "-m", "her2sim.cli"]
    return subprocess.run([*command, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **WIDE}, timeout=120, check=False)  # fmt: skip


@pytest.mark.parametrize("command", ["screen", "landscape"])
def test_a_read_only_output_directory_is_refused_before_any_simulation(
    tmp_path: Path, scheduler: str, command: str
) -> None:
    out, spec = tmp_path / "out", tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    args = {"screen": ("screen", out, "-t", "trastuzumab", "-t", "alpelisib", "--doses", "2"),
            "landscape": ("landscape", out, "--spec", spec)}[command]  # fmt: skip
    run(*args, "-n", "200", "--scheduler", scheduler)
    for part in out.rglob("part-*.parquet"):
        part.unlink()  # as if the run had stopped before its chunks were done
    out.chmod(0o555)  # the landscape's parts go to out/cells, still writable; its results may not
    try:
        proc = run_unprivileged(*args, "-n", "200", "--workers", "1", cwd=tmp_path)
    finally:
        out.chmod(0o755)
    assert_one_line_error(proc, f"{out}: cannot write")
    assert not list(out.rglob("part-*.parquet"))


SPACE = "factors: [{potency: alpelisib}, {potency: fulvestrant}, {parameter: EGF, max: 1}]\n"


def test_sensitivity_ranks_factors_and_draws_a_tornado(tmp_path: Path) -> None:
    space, png, out = tmp_path / "space.yaml", tmp_path / "t.png", tmp_path / "m.csv"
    space.write_text(SPACE)
    result = run("sensitivity", "-a", "ERBB2:amp", "-a", "PIK3CA:H1047R", "-t", "alpelisib", "--space", space,
                 "--trajectories", "3", "-n", "200", "-o", out, "--plot", png)  # fmt: skip
    assert "effect on proliferation" in result.output
    assert "(2 factors, morris; 1 of drugs or alterations not in this scenario left out)" in result.output
    table = pd.read_csv(out)
    assert set(table["factor"]) == {"potency:alpelisib", "parameter:EGF"}  # fulvestrant is not given
    assert png.read_bytes().startswith(PNG_SIGNATURE)
    space.write_text("factors: [{potency: alpelisibb}]\n")
    assert_one_line_error(run_main("sensitivity", "-t", "alpelisib", "--space", space, cwd=tmp_path),
                          "space.yaml", "factors[0]", "alpelisib")  # fmt: skip


def test_validate_with_robustness_reports_pass_fractions(tmp_path: Path) -> None:
    space, table, out = tmp_path / "space.yaml", tmp_path / "t.tsv", tmp_path / "r.csv"
    space.write_text(SPACE)
    row = "A\tERBB2:amp; PIK3CA:H1047R\talpelisib+trastuzumab\tstronger\ttherapy:trastuzumab\t\t\t\n"
    table.write_text("id\tcontext\ttherapy\texpected\tcompare_to\treadout\tconfidence\tsource\n" + row)
    result = run("validate", table, "--robustness", "3", "--morris", "2", "--space", space, "-n", "200", "-o", out)
    assert "robust 1/1" in result.output or "robust 0/1" in result.output
    robust = pd.read_csv(out)
    assert robust.loc[0, "id"] == "A" and 0 <= robust.loc[0, "pass_fraction"] <= 1
    assert "potency:alpelisib" in robust.loc[0, "deciding"]
