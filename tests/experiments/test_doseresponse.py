"""Hill fits and dose-response curves."""

from __future__ import annotations

import numpy as np
import pytest

from her2sim.errors import ConfigError
from her2sim.experiments.doseresponse import dose_grid, dose_response, fit_hill
from her2sim.her2.settings import RunSettings


def test_fit_intervals_cover_the_true_parameters() -> None:
    d = np.geomspace(0.1, 1e4, 12)
    truth = 0.7 * d**1.5 / (40**1.5 + d**1.5)
    covered = np.zeros(3)
    for seed in range(60):
        fit = fit_hill(d, truth + np.random.default_rng(seed).normal(0, 0.01, d.size))
        assert fit.converged
        covered += [fit.ic50_ci[0] < 40 < fit.ic50_ci[1], fit.emax_ci[0] < 0.7 < fit.emax_ci[1],
                    fit.slope_ci[0] < 1.5 < fit.slope_ci[1]]  # fmt: skip
    assert np.all(covered / 60 > 0.85)  # nominal 95% intervals


def test_flat_curve_is_reported_not_fitted() -> None:
    fit = fit_hill([0, 1, 10, 100], [0.0, 0.0, 0.0, 0.0])
    assert not fit.converged and np.isnan(fit.ic50_nM)


def test_dose_grid_needs_two_doses() -> None:
    with pytest.raises(ConfigError):
        dose_grid(100.0, 1)


def test_mutant_specific_potency_shows_in_the_ic50() -> None:
    doses = [0, 10, 30, 100, 300, 1000, 3000, 10000, 30000]
    wt = dose_response("ERBB2:amp", "lapatinib", doses_nM=doses, settings=RunSettings(samples=300)).fit
    mutant = dose_response("ERBB2:L755S", "lapatinib", doses_nM=doses, settings=RunSettings(samples=300)).fit
    assert mutant.ic50_nM > 5 * wt.ic50_nM
    covalent_wt = dose_response("ERBB2:amp", "neratinib", doses_nM=doses, settings=RunSettings(samples=300)).fit
    covalent_mutant = dose_response("ERBB2:L755S", "neratinib", doses_nM=doses, settings=RunSettings(samples=300)).fit
    assert covalent_mutant.ic50_nM < 3 * covalent_wt.ic50_nM


def test_background_drug_is_given_in_every_cell() -> None:
    curve = dose_response("ERBB2:amp; PIK3CA:H1047R", "alpelisib", doses_nM=[0, 1000], background="trastuzumab",
                          settings=RunSettings(samples=300))  # fmt: skip
    at_zero = curve.curve.set_index("dose_nM").loc[0.0, "effect"]
    assert at_zero > 0.0  # trastuzumab alone already acts at zero alpelisib


@pytest.mark.parametrize("doses", [[], [-1.0, 10.0], [float("nan")]])
def test_bad_dose_grids_fail_before_work(doses: list[float]) -> None:
    with pytest.raises(ConfigError):
        dose_response("ERBB2:amp", "lapatinib", doses_nM=doses)
