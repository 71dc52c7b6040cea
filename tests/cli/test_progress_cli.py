"""Output hygiene: progress lines off a terminal, no third-party warnings, defaults in ``--help``."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from her2sim.cli import _progress
from her2sim.cli._progress import _Lines, _mode, progress
from her2sim.experiments.sensitivity import Factor, Space, Target, sobol
from her2sim.her2.model import load_config
from her2sim.her2.settings import RunSettings
from tests.cli.test_cli import run, run_main

LINE = re.compile(r"^her2sim: validate: +\d+% \([\d,]+/[\d,]+ trajectories\), \d+ s elapsed(, about .+ left)?$")


class Clock:
    """A stand-in for ``time.monotonic`` that moves only when told."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_off_a_terminal_a_quick_job_stays_quiet_and_a_long_one_logs_every_few_percent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = Clock()
    monkeypatch.setattr(_progress.time, "monotonic", clock)
    quick, slow = [], []
    lines = _Lines("landscape", "cells", eta=True, quiet=2.0, write=quick.append)
    for done in range(0, 101, 10):
        clock.now += 0.1  # the whole job takes a second
        lines(done, 100)
    assert quick == []
    lines = _Lines("landscape", "cells", eta=True, quiet=2.0, write=slow.append)
    lines(40, 100)  # resumed: 40 cells kept from an earlier run
    for done in range(41, 101):
        clock.now += 1.0
        lines(done, 100)
    assert len(slow) == 13 and slow[-1] == "her2sim: landscape: done, 100/100 cells in 1 min 00 s"
    assert slow[0] == "her2sim: landscape:  42% (42/100 cells), 2 s elapsed, about 58 s left"  # 1 s a cell


def test_the_mode_follows_the_terminal_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HER2SIM_PROGRESS", raising=False)
    assert _mode() == "quiet-lines"  # pytest's stderr is not a terminal
    monkeypatch.setenv("HER2SIM_PROGRESS", "OFF")
    assert _mode() == "off"
    with progress("x", "cells") as update:
        update(1, 1)  # nothing to see, nothing raised


def test_validate_reports_progress_in_lines_when_not_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HER2SIM_PROGRESS", "lines")  # the lines from the first report, however fast the run
    proc = run_main("validate", "-n", "60", "--min-pass", "0", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) >= 3 and all(LINE.match(line) for line in lines[:-1]), proc.stderr
    assert re.fullmatch(r"her2sim: validate: done, [\d,]+/[\d,]+ trajectories in \d+ s", lines[-1])
    assert "passed" in proc.stdout


def test_a_dask_command_leaks_no_warnings(tmp_path: Path) -> None:
    """A local cluster started and shut down, and SALib on a flat target: stderr stays clean."""
    space = tmp_path / "space.yaml"
    space.write_text("factors: [{parameter: EGF, max: 1}, {parameter: NRG1, max: 1}]\n")
    proc = run_main("sensitivity", "-a", "ERBB2:amp", "--value", "--readout", "pERK", "--space", space,
                    "--trajectories", "2", "-n", "50", "--workers", "2", cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Warning" not in proc.stderr and "distributed." not in proc.stderr, proc.stderr


def test_sobol_of_a_target_no_factor_moves_warns_of_nothing() -> None:
    space = Space((Factor("parameter", "EGF", 0.1, 0.05, 0.2), Factor("parameter", "NRG1", 0.1, 0.05, 0.2)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = sobol(
            space, Target("ERBB2:amp", ""), base=2, settings=RunSettings(samples=30)
        )  # no therapy: an effect of 0 throughout
    assert np.allclose(table[["S1", "ST"]].fillna(0.0), 0.0)


def test_help_shows_defaults_and_units() -> None:
    config = load_config()
    text = " ".join(run("run", "--help").output.split())
    assert f"default: {config.sample_count}" in text and f"(default: {config.max_time:g})" in text
    assert "model rate units" in text and f"default: {config.seed}" in text
    dose = " ".join(run("dose-response", "--help").output.split())
    assert "100nM, 1uM, 10ug/mL or 2x the standard dose" in dose and "default: 8 doses" in dose
