"""Clone dynamics: growth untreated, cytostasis and kill against the closed forms."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from her2sim.errors import ConfigError
from her2sim.trials.dynamics import (
    MAX_SUBCLONE_FRACTION,
    ArmEffects,
    Host,
    birth_and_loss,
    courses,
    deposit_courses,
    initial_cells,
    occult_deposits,
)
from her2sim.trials.kinetics import kinetics

KIN = kinetics().with_values({"potential_doubling_days": 7.0, "subclone_fraction": 0.01, "loss_independent_share": 1.0})


def host(n: int = 3, doubling: float = 100.0) -> Host:
    return Host(np.zeros(n), np.zeros((n, 1)), np.ones((n, 1), bool), np.full(n, doubling), np.ones(n),
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
        ArmEffects(np.ones((2, 3)), np.ones((2, 3)), np.ones((2, 3)), {})
    with pytest.raises(ConfigError, match="effects for 3 clones, the tumours have 2"):
        courses(ArmEffects.untreated(1, 5, clones=3), host(1), KIN, {}, np.array([0.0]))


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


def several(n: int, present: list[bool]) -> Host:
    """``n`` patients carrying the shipped mechanisms where ``present`` says."""
    mechanisms = tuple(m.alteration for m in KIN.mechanisms)
    assert len(present) == len(mechanisms)
    return replace(host(n), z_fraction=np.zeros((n, len(mechanisms))), present=np.tile(present, (n, 1)),
                   mechanisms=mechanisms)  # fmt: skip


def test_a_tumour_carries_each_mechanism_it_can_acquire_at_a_share_proportional_to_its_weight() -> None:
    weights = np.array([m.weight for m in KIN.mechanisms])
    present = [True] * len(weights)
    present[1] = False  # the main clone already has this mechanism
    start = initial_cells(several(2, present), KIN)
    assert start.shape == (1 + len(weights), 2) and start[2].sum() == 0
    shares = start[1:, 0] / start[:, 0].sum()
    expected = 0.01 * weights / weights.sum() * np.array(present)
    assert np.allclose(shares, expected)  # subclone_fraction split by weight; the absent one adds nothing
    crowded = initial_cells(
        several(1, [True] * len(weights)),
        KIN.with_values({"subclone_fraction": 0.1, "pretreated_subclone_factor": 50.0}),
    )
    assert crowded[1:].sum() / crowded.sum() == pytest.approx(0.1)  # not pretreated: as given
    treated = several(1, [True] * len(weights))
    treated.pretreated[:] = True
    capped = initial_cells(treated, KIN.with_values({"subclone_fraction": 0.1, "pretreated_subclone_factor": 50.0}))
    assert capped[1:].sum() / capped.sum() == pytest.approx(MAX_SUBCLONE_FRACTION)  # 5.0 scaled down together
    assert np.allclose(capped[1:, 0] / capped[1:, 0].sum(), weights / weights.sum())


def test_the_occult_deposit_holds_the_subclones_in_their_starting_proportions_and_grows_as_each_does() -> None:
    mechanisms = len(KIN.mechanisms)
    tumour = several(1, [True] * mechanisms)
    effects = ArmEffects.untreated(1, 61, clones=1 + mechanisms)
    effects.proliferation[:] = 0.0  # every clone arrested ...
    effects.proliferation[2] = 1.0  # ... but the second subclone
    kin = KIN.with_values({"occult_deposit_cells": 1e4})
    cells = courses(effects, tumour, kin, {}, np.array([0.0, 30.0, 60.0]))
    deposit = deposit_courses(tumour, kin, cells)
    assert deposit.shape == (mechanisms, 1, 3)
    assert deposit[:, 0, 0].sum() == pytest.approx(occult_deposits(tumour, kin)[0])
    assert np.allclose(deposit[:, 0, 0] / deposit[:, 0, 0].sum(), cells[1:, 0, 0] / cells[1:, 0, 0].sum())
    assert np.allclose(deposit[:, 0, 2] / deposit[:, 0, 0], cells[1:, 0, 2] / cells[1:, 0, 0])
    assert deposit[1, 0, 2] > deposit[1, 0, 0] and deposit[0, 0, 2] < deposit[0, 0, 0]


def test_occult_deposits_stay_below_what_imaging_finds() -> None:
    from her2sim.trials.dynamics import detectable_cells

    kin = KIN.with_values({"occult_deposit_cells": 1e6})
    found = detectable_cells(kin)  # a 10 mm sphere at the kinetics' cell density
    assert found == pytest.approx(math.pi / 6 * 1.0**3 * kin.value("cell_density"))
    h = host(3)
    deposits = occult_deposits(replace(h, z_deposit=np.array([0.0, -1.0, 30.0])), kin)
    assert deposits[0] == pytest.approx(1e6) and deposits[1] < 1e6 and deposits[2] == pytest.approx(0.5 * found)
