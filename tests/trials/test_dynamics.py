"""Clone dynamics: growth untreated, cytostasis and kill against the closed forms."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from her2sim.errors import ConfigError
from her2sim.trials.dynamics import ArmEffects, Host, birth_and_loss, courses, initial_cells
from her2sim.trials.kinetics import kinetics

KIN = kinetics().with_values({"potential_doubling_days": 7.0, "subclone_fraction": 0.01, "loss_independent_share": 1.0})


def host(n: int = 3, doubling: float = 100.0) -> Host:
    return Host(np.zeros(n), np.zeros(n), np.zeros(n, dtype=int), np.full(n, doubling), np.ones(n),
                np.full(n, 10.0), ("PIK3CA:H1047R",), np.zeros(n), np.zeros(n), np.zeros(n, bool),
                np.zeros(n))  # fmt: skip


def test_untreated_tumours_grow_at_their_volume_doubling_time_whatever_their_turnover() -> None:
    days = np.array([0.0, 100.0, 200.0])
    for tpot in (3.0, 20.0):
        cells = courses(
            ArmEffects.untreated(3, 201), host(), KIN.with_values({"potential_doubling_days": tpot}), {}, days
        )
        total = cells.sum(axis=0)
        assert np.allclose(total[:, 1] / total[:, 0], 2.0) and np.allclose(total[:, 2] / total[:, 0], 4.0)


def test_a_drug_that_halves_proliferation_follows_the_closed_form() -> None:
    effects = ArmEffects.untreated(3, 51)
    effects.proliferation[:] = 0.5
    b0, d0 = birth_and_loss(host(), KIN)
    cells = courses(effects, host(), KIN, {}, np.array([0.0, 50.0]))
    expected = np.exp((0.5 * b0 - d0) * 50.0)
    assert np.allclose(cells[0, :, 1] / cells[0, :, 0], expected, rtol=1e-4)
    assert b0[0] == pytest.approx(math.log(2) / 7.0) and d0[0] == pytest.approx(b0[0] - math.log(2) / 100.0)


@pytest.mark.parametrize("share", [1.0, 0.4, 0.01])
def test_the_loss_that_falls_with_proliferation_follows_the_closed_form(share: float) -> None:
    effects = ArmEffects.untreated(3, 51)
    effects.proliferation[:] = 0.5
    kin = KIN.with_values({"loss_independent_share": share})
    b0, d0 = birth_and_loss(host(), kin)
    cells = courses(effects, host(), kin, {}, np.array([0.0, 50.0]))
    expected = np.exp((0.5 * b0 - d0 * (share + (1 - share) * 0.5)) * 50.0)
    assert np.allclose(cells[0, :, 1] / cells[0, :, 0], expected, rtol=1e-4)


def test_a_cytostatic_effect_shrinks_a_tumour_less_as_less_loss_goes_on_without_proliferation() -> None:
    effects = ArmEffects.untreated(3, 61)
    effects.proliferation[:] = 0.0
    left = [
        courses(effects, host(), KIN.with_values({"loss_independent_share": share}), {}, np.array([0.0, 60.0]))
        for share in (1.0, 0.5, 0.01)
    ]
    ratios = [c[0, 0, 1] / c[0, 0, 0] for c in left]
    assert ratios[0] < ratios[1] < ratios[2] <= 1.0


def test_chemotherapy_kills_cycling_cells_only() -> None:
    effects = ArmEffects.untreated(2, 11)
    effects = ArmEffects(
        effects.proliferation, effects.apoptosis, effects.adcc, {"docetaxel": np.full((2, 11), 0.5, np.float32)}
    )
    effects.proliferation[:, 1] = 0.0  # the second patient's cells are all arrested
    cells = courses(effects, host(2), KIN, {"docetaxel": 0.2}, np.array([0.0, 10.0]))
    b0, d0 = birth_and_loss(host(2), KIN)
    assert cells[0, 0, 1] / cells[0, 0, 0] == pytest.approx(math.exp((b0[0] - d0[0] - 0.1) * 10), rel=1e-4)
    assert cells[0, 1, 1] / cells[0, 1, 0] == pytest.approx(math.exp(-d0[1] * 10), rel=1e-4)
    resistant = courses(effects, host(2), KIN.with_values({"subclone_chemo_factor": 0.25}), {"docetaxel": 0.2},
                        np.array([0.0, 10.0]))  # fmt: skip
    assert np.allclose(resistant[0], cells[0])  # the main clone as before; the subclone a quarter of the kill
    assert resistant[1, 0, 1] / resistant[1, 0, 0] == pytest.approx(math.exp((b0[0] - d0[0] - 0.025) * 10), rel=1e-4)


def test_the_subclone_starts_at_its_share_and_adcc_spares_it_when_it_hides_the_epitope() -> None:
    start = initial_cells(host(1), KIN)
    assert start[1, 0] / start.sum() == pytest.approx(0.01)
    treated = host(1)
    treated.pretreated[:] = True  # earlier anti-HER2 therapy selected the subclone
    selected = initial_cells(treated, KIN.with_values({"pretreated_subclone_factor": 20.0}))
    assert selected[1, 0] / selected.sum() == pytest.approx(0.2)
    assert start.sum() == pytest.approx(10.0 * KIN.value("cell_density"))
    effects = ArmEffects.untreated(1, 31)
    effects.adcc[0] = 0.2  # the main clone is reached by the antibody, the subclone is not
    cells = courses(effects, host(1), KIN.with_values({"adcc_kill": 1.0}), {}, np.array([0.0, 30.0]))
    assert cells[0, 0, 1] / cells[0, 0, 0] < cells[1, 0, 1] / cells[1, 0, 0]


def test_a_chemotherapy_without_a_kill_rate_is_an_error() -> None:
    effects = ArmEffects.untreated(1, 5)
    effects = ArmEffects(
        effects.proliferation, effects.apoptosis, effects.adcc, {"eribulin": np.zeros((1, 5), np.float32)}
    )
    with pytest.raises(ConfigError, match="no kill rate"):
        courses(effects, host(1), KIN, {}, np.array([0.0]))
    with pytest.raises(ConfigError, match="clones x patients x days"):
        ArmEffects(np.ones((1, 2, 3)), np.ones((1, 2, 3)), np.ones((1, 2, 3)), {})


def test_a_more_sensitive_patient_responds_more_to_the_same_exposure() -> None:
    effects = ArmEffects.untreated(2, 31)
    effects.proliferation[:] = 0.7
    patients = host(2)
    patients.z_sensitivity[:] = [-1.0, 1.0]
    for scale in (1.0, 0.4):  # the median scale multiplies every patient's sensitivity
        kin = KIN.with_values({"drug_sensitivity_sigma": 0.5, "drug_effect_scale": scale})
        cells = courses(effects, patients, kin, {}, np.array([0.0, 30.0]))
        growth = cells[0, :, 1] / cells[0, :, 0]
        b0, d0 = birth_and_loss(patients, kin)
        expected = np.exp((b0 * (1 - scale * np.exp(0.5 * np.array([-1.0, 1.0])) * 0.3) - d0) * 30)
        assert np.allclose(growth, expected, rtol=1e-4) and growth[1] < growth[0]


def test_occult_deposits_stay_below_what_imaging_finds() -> None:
    from her2sim.trials.dynamics import detectable_cells, occult_deposits

    kin = KIN.with_values({"occult_deposit_cells": 1e6})
    found = detectable_cells(kin)  # a 10 mm sphere at the kinetics' cell density
    assert found == pytest.approx(math.pi / 6 * 1.0**3 * kin.value("cell_density"))
    h = host(3)
    deposits = occult_deposits(replace(h, z_deposit=np.array([0.0, -1.0, 30.0])), kin)
    assert deposits[0] == pytest.approx(1e6) and deposits[1] < 1e6 and deposits[2] == pytest.approx(0.5 * found)
