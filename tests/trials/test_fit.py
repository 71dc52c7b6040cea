"""The population fit: its space, its misses, and recovering known parameters from synthetic results."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from her2sim.calibration.fit import FitSettings, calibrate
from her2sim.experiments.sensitivity import Factor, Space
from her2sim.trials.fit import INESTIMABLE, TrialProblem, population_space, prepare
from her2sim.trials.published import COLUMNS, parse_trials_table
from her2sim.trials.simulate import TrialSettings

HEADER = "\t".join(COLUMNS) + "\n"
NEOSPHERE = HEADER + "".join(f"R{i}\tNeoSphere\t\t\t{arm}\t\tall\tpCR_breast_pct\t10\t\tsynthetic\n"
                             for i, arm in enumerate(["TH", "THP", "HP", "TP"]))  # fmt: skip
#: The parameters that make the synthetic results.
TRUTH = {"kmax:docetaxel": 3.0, "tumour:adcc_kill": 1.0, "tumour:pcr_residual_cells": 1e3}


@pytest.fixture(scope="module")
def arms(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    import os

    os.environ["HER2SIM_CACHE"] = str(tmp_path_factory.mktemp("responses"))
    try:
        rows = tuple(parse_trials_table(NEOSPHERE, "synthetic.tsv"))
        return rows, prepare(rows, TrialSettings(patients=60, seed=1, samples=40, points=3))
    finally:
        del os.environ["HER2SIM_CACHE"]


def test_the_space_holds_the_fitted_tumour_parameters_and_the_kill_of_each_chemotherapy_given(arms) -> None:  # type: ignore[no-untyped-def]
    rows, _ = arms
    names = [f.name for f in population_space(rows).factors]
    assert "kmax:docetaxel" in names and "tumour:adcc_kill" in names
    assert not any(n.startswith("kmax:capecitabine") for n in names)  # NeoSphere gives no capecitabine


def test_a_fit_recovers_the_kill_rate_that_made_synthetic_results(arms, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rows, prepared = arms
    truth = Space(tuple(Factor(*name.split(":"), value, value / 10, value * 10) for name, value in TRUTH.items()))
    made = TrialProblem(rows, prepared, truth).table(list(TRUTH.values()))["simulated"].to_numpy()
    assert 5 < made.max() < 95, made  # results the fit can learn from
    synthetic = tuple(replace(r, value=float(v)) for r, v in zip(rows, made, strict=True))
    space = Space((Factor("kmax", "docetaxel", 0.3, 0.05, 20.0),))
    fixed = {k: v for k, v in TRUTH.items() if k != "kmax:docetaxel"}
    problem = TrialProblem(synthetic, prepared, space, kin=_with(fixed))
    assert np.abs(problem.misses([TRUTH["kmax:docetaxel"]])).max() == 0
    fit = calibrate(problem, tmp_path / "fit", FitSettings(budget=30, startup=10, seed=2), ensemble=3)
    best = fit.posterior.values[int(np.argmin(fit.posterior.loss)), 0]
    assert best == pytest.approx(TRUTH["kmax:docetaxel"], rel=0.35)
    assert (tmp_path / "fit" / "posterior.tsv").is_file() and {"low", "high", "within"} <= set(fit.table.columns)


def test_a_row_the_simulation_cannot_estimate_is_a_bounded_miss(arms) -> None:  # type: ignore[no-untyped-def]
    rows, prepared = arms
    problem = TrialProblem(rows, prepared, Space((Factor("kmax", "docetaxel", 0.3, 0.05, 20.0),)))
    misses = problem.misses([0.3])
    assert misses.shape == (4 + 6,)  # four arms' rows, then the six pairs of arms
    assert np.all(np.isfinite(misses)) and np.all(np.abs(misses) <= max(INESTIMABLE, 10))


def _with(values):  # type: ignore[no-untyped-def]
    from her2sim.trials.kinetics import kinetics

    return kinetics().with_values({k.split(":")[1]: v for k, v in values.items() if k.startswith("tumour:")})
