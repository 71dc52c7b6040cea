"""``her2sim calibrate`` driven as a user drives it: files written, progress, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from her2sim.experiments.sensitivity import her2_space
from her2sim.her2.posterior import read_posterior
from tests.cli.test_cli import assert_one_line_error, run, run_main

TABLE = (
    "id\tkind\tcontext\ttherapy\treadout\tvalue\tsd\tresponse\tcompare_to\tsource\n"
    "m1\tclass\tERBB2:amp\tlapatinib\t\t\t\tsensitive\t\ts\n"
    "m2\teffect\tERBB2:amp\tlapatinib@100nM\t\t0.4\t0.1\t\t\ts\n"
    "m3\tratio\tERBB2:amp; PIK3CA:H1047R\ttrastuzumab+lapatinib\t\t0.5\t\t\tcontext:ERBB2:amp\ts\n"
)


def test_calibrate_writes_the_posterior_the_fit_table_and_plots(tmp_path: Path) -> None:
    table = tmp_path / "m.tsv"
    table.write_text(TABLE)
    out = tmp_path / "fit"
    result = run("calibrate", table, "-o", out, "--budget", "3", "--samples", "100", "--ensemble", "2")
    factors = len(her2_space(calibrated=False).factors)
    assert f"fitting {factors} factors to 3 measurements" in result.stdout and "in-sample" in result.stdout
    for name in ("posterior.tsv", "fit.tsv", "marginals.png", "fit.png", "calibration.json", "bo.db"):
        assert (out / name).stat().st_size > 0, name
    posterior = read_posterior(out / "posterior.tsv")
    assert len(posterior.factors) == factors
    at_bound = posterior.meta["best set at a prior bound"]  # what the run says of it, it also writes
    assert ("note: at a bound of the prior" in result.stdout) == (at_bound != "none"), result.stdout
    fit = pd.read_csv(out / "fit.tsv", sep="\t")
    assert list(fit["id"]) == ["m1", "m2", "m3"] and {"low", "high", "correct_share"} <= set(fit.columns)


def test_calibrate_refuses_bad_tables_and_other_fits_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tsv"
    bad.write_text(TABLE.replace("ERBB2:amp\tlapatinib\t\t\t\tsensitive", "ERBB2:amp\tlapatinibb\t\t\t\tsensitive"))
    proc = run_main("calibrate", bad, "-o", tmp_path / "out", cwd=tmp_path)
    assert_one_line_error(proc, "bad.tsv:2: row m1: unknown therapy 'lapatinibb'")
    assert not (tmp_path / "out").exists()  # nothing is simulated or written for a bad table
    good = tmp_path / "good.tsv"
    good.write_text(TABLE)
    run("calibrate", good, "-o", tmp_path / "fit", "--budget", "2", "--samples", "100", "--ensemble", "1")
    other = tmp_path / "other.tsv"
    other.write_text(TABLE.replace("0.4\t0.1", "0.3\t0.1"))
    proc = run_main("calibrate", other, "-o", tmp_path / "fit", "--budget", "2", cwd=tmp_path)
    assert_one_line_error(proc, "holds a fit of another model, space or set of measurements")
    proc = run_main("calibrate", good, "-o", tmp_path / "x", "--method", "mcmc", cwd=tmp_path)
    assert_one_line_error(proc, "method must be one of bo, abc")
