"""Virtual trials end to end: enrolment, subclones, neoadjuvant and metastatic arms, parts."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from her2sim.errors import ConfigError
from her2sim.her2.alterations import alteration_library
from her2sim.trials.analysis import DAYS_PER_MONTH
from her2sim.trials.arm import daily_exposure
from her2sim.trials.conditions import Is
from her2sim.trials.design import Criterion, design
from her2sim.trials.kinetics import kinetics
from her2sim.trials.simulate import TrialSettings, _subclone_options, enrol, run_trial, tumours

#: Small and fast: few trajectories, a coarse concentration grid.
FAST = {"samples": 40, "points": 3}


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HER2SIM_CACHE", str(tmp_path_factory.getbasetemp() / "responses"))


def test_enrolment_takes_only_eligible_patients() -> None:
    trial = design("DESTINY-Breast04")
    patients = enrol(trial, trial.arms[0], 200, seed=3)
    assert len(patients) == 200
    assert set(patients["her2_ihc"]) <= {"1+", "2+"} and not patients["her2_ish"].any()
    assert patients.equals(enrol(trial, trial.arms[0], 200, seed=3))


def test_eligibility_that_selects_nobody_in_the_population_is_an_error() -> None:
    trial = design("CLEOPATRA")
    nobody = replace(trial, eligibility=(Criterion("HER2 zero", Is("her2_ihc", ("0",)), ("Baselga2012: abstract",)),))
    with pytest.raises(ConfigError, match=r"selects .*nobody"):
        enrol(nobody, nobody.arms[0], 10, seed=0)


def test_a_subclone_replaces_the_alternative_of_its_group_and_never_repeats_the_main_clone() -> None:
    library = alteration_library()
    low, pik3ca, p95 = _subclone_options(library, "ERBB2:amp; PIK3CA:H1047R", ["ERBB2:low", "PIK3CA:H1047R", "p95HER2"])
    assert low == "ERBB2:low; PIK3CA:H1047R" and pik3ca is None and p95 == "ERBB2:amp; PIK3CA:H1047R; p95HER2"
    assert _subclone_options(library, "ERBB2:zero", ["p95HER2"]) == [None]  # p95HER2 needs HER2 gained


def test_each_patient_carries_one_mechanism_drawn_among_those_it_can_acquire() -> None:
    trial = design("CLEOPATRA")
    patients = enrol(trial, trial.arms[0], 300, seed=1)
    host, subclones = tumours(patients, kinetics(), seed=2, neoadjuvant=False)
    mechanisms = np.array(host.mechanisms)[host.mechanism]
    for context, sub, mechanism in zip(patients["context"], subclones, mechanisms, strict=True):
        assert mechanism in sub.split("; ") and mechanism not in context.split("; ")
    assert len(set(mechanisms)) > 1


def test_a_neoadjuvant_trial_gives_pcr_per_patient_reproducibly() -> None:
    trial = design("NeoSphere")
    settings = TrialSettings(patients=12, seed=5, **FAST)
    first = run_trial(trial, settings)
    table = first.patients
    assert list(table["arm"].unique()) == [a.label for a in trial.arms]
    assert table["pcr"].dtype == bool and (table["residual_cells"] >= 0).all()
    assert {"pCR_pct"} == set(first.summary["endpoint"])
    again = run_trial(trial, settings).patients
    pd.testing.assert_frame_equal(table, again)


def test_a_metastatic_trial_assesses_recist_and_names_the_clone_that_progressed() -> None:
    trial = design("EMILIA")
    kin = kinetics().with_values({"subclone_fraction": 0.05, "potential_doubling_days": 25.0})
    result = run_trial(trial, TrialSettings(patients=15, seed=2, **FAST), kin=kin)
    table = result.patients
    assert set(table["response"]) <= {"CR", "PR", "SD", "PD"}
    assert (table["pfs_months"] > 0).all() and (table["pfs_months"] <= 60.01).all()
    progressed = table[table["progressed"]]
    assert (progressed["mechanism"] != "").all() and (table.loc[~table["progressed"], "mechanism"] == "").all()
    assert set(progressed["progression_clone"]) <= {"main", "subclone"}
    assert {"ORR_pct", "median_PFS_months", "PFS_HR", "median_g_per_day"} <= set(result.summary["endpoint"])
    assert any("imaging interval not in the design" in n for n in result.notes)
    assert set(table["tumour_model"]) <= {"gd", "dx", "gx", "not fit", "excluded"}
    last_scan = table["scan_days"].map(lambda days: days[-1])  # the scan at progression, or the last one
    np.testing.assert_allclose(last_scan / DAYS_PER_MONTH, table["pfs_months"])
    assert (table["scan_days"].map(len) == table["sums_mm"].map(len)).all()
    grew = table["tumour_model"].isin(["gd", "gx"])
    assert (table.loc[grew, "growth_rate_per_day"] > 0).all() and table.loc[~grew, "growth_rate_per_day"].isna().all()


def test_a_run_without_scans_keeps_neither_scans_nor_growth_rates() -> None:
    table = run_trial(design("EMILIA"), TrialSettings(patients=4, seed=2, scans=False, **FAST)).patients
    assert not {"scan_days", "sums_mm", "tumour_model", "growth_rate_per_day"} & set(table.columns)
    assert table["pfs_months"].notna().all()


def test_parts_on_dask_give_the_table_of_a_run_in_process(tmp_path: Path) -> None:
    from distributed import Client, LocalCluster

    trial = design("NeoSphere")
    settings = TrialSettings(patients=10, seed=1, chunk=4, **FAST)
    local = run_trial(trial, settings).patients
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client:  # fmt: skip
        parts = run_trial(trial, settings, out_dir=tmp_path, client=client).patients
    assert len(list(tmp_path.glob("part-*.parquet"))) == 4 * 3  # 3 parts of at most 4 patients per arm
    pd.testing.assert_frame_equal(local.reset_index(drop=True), parts.reset_index(drop=True), check_dtype=False)


def test_less_antibody_reaching_the_tumour_leaves_more_cells_proliferating() -> None:
    from her2sim.trials.simulate import prepare_arm

    trial = design("NeoSphere")
    settings = TrialSettings(patients=6, seed=1, **FAST)
    prepared = prepare_arm(trial, trial.arm("HP"), settings, kinetics(), settings.simulator(), levels=(0.001, 1.0))
    low, high = prepared.effects
    assert prepared.levels == (0.001, 1.0)
    assert low.proliferation[0].mean() > high.proliferation[0].mean()
    assert low.adcc[0].mean() < high.adcc[0].mean()
    middle = prepared.effects_at(0.03).proliferation  # read between the levels, in log exposure
    assert np.all(middle >= np.minimum(low.proliferation, high.proliferation) - 1e-6)
    assert np.all(middle <= np.maximum(low.proliferation, high.proliferation) + 1e-6)
    assert np.allclose(prepared.effects_at(5.0).proliferation, high.proliferation)  # beyond: the last level


def test_a_choice_with_published_shares_assigns_patients_by_them() -> None:
    trial = design("DESTINY-Breast04")
    arm = trial.arm("TPC")
    patients = enrol(trial, arm, 1000, seed=5)
    stop = np.full(len(patients), np.inf)

    def treated(arm_used: object) -> dict[str, float]:
        exposure = daily_exposure(arm_used, patients, 8, stop, seed=11)
        return {drug: float((daily > 0).any(axis=1).mean()) for drug, daily in exposure.chemotherapy.items()}

    shared = treated(arm)
    assert shared["eribulin"] == pytest.approx(0.511, abs=0.05)
    assert shared["paclitaxel"] == pytest.approx(0.082, abs=0.03)
    assert sum(shared.values()) == pytest.approx(1.0)
    choice = arm.drugs[0]
    equal = treated(replace(arm, drugs=(replace(choice, shares=()),)))
    assert all(share == pytest.approx(0.2, abs=0.05) for share in equal.values())
