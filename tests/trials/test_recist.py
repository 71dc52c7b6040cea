"""RECIST 1.1 from simulated sums of diameters, progression-free survival and pCR."""

from __future__ import annotations

import numpy as np
import pytest

from her2sim.trials.recist import assess, pathological_complete_response, sums_of_diameters

DAYS = np.array([42.0, 84.0, 126.0, 168.0])
BASE = np.array([50.0])


@pytest.mark.parametrize(
    ("sums", "response", "day", "progressed"),
    [
        ([40.0, 36.0, 34.0, 33.0], "PR", 168.0, False),  # -34%: partial response, never progresses
        ([48.0, 45.0, 44.0, 46.0], "SD", 168.0, False),  # +4.5% over the nadir: not progression
        ([61.0, 70.0, 75.0, 80.0], "PD", 42.0, True),  # +22% at the first visit
        ([0.5, 0.2, 0.1, 0.1], "CR", 168.0, False),  # nothing measurable left
        ([20.0, 10.0, 14.0, 16.0], "PR", 168.0, True),  # 14 mm: +40% but +4 mm, not PD; 16 mm: +6 mm, PD
    ],
)
def test_responses_and_progression_follow_recist(sums: list[float], response: str, day: float,
                                                 progressed: bool) -> None:  # fmt: skip
    out = assess(np.array([sums]), BASE, DAYS)
    assert (out.response[0], out.progression_day[0], bool(out.progressed[0])) == (response, day, progressed)


def test_progression_needs_five_millimetres_over_the_nadir() -> None:
    out = assess(np.array([[4.0, 2.0, 3.0, 6.9]]), np.array([10.0]), DAYS)
    assert not out.progressed[0]  # 6.9 mm is +245% but only +4.9 mm
    out = assess(np.array([[4.0, 2.0, 3.0, 7.0]]), np.array([10.0]), DAYS)
    assert out.progressed[0] and out.progression_day[0] == 168.0


def test_a_response_counts_only_when_confirmed_if_the_trial_asks() -> None:
    once = np.array([[34.0, 40.0, 41.0, 42.0]])  # -32% once, then back to -20%
    assert assess(once, BASE, DAYS).response[0] == "PR"
    assert assess(once, BASE, DAYS, confirm=True).response[0] == "SD"
    twice = np.array([[34.0, 33.0, 41.0, 42.0]])
    assert assess(twice, BASE, DAYS, confirm=True).response[0] == "PR"


def test_a_new_lesion_is_progression_whatever_the_target_lesions_do() -> None:
    shrinking = np.array([[0.5, 0.2, 0.1, 0.1], [40.0, 36.0, 34.0, 33.0]])
    new = np.array([[False, False, True, True], [False, False, False, False]])
    out = assess(shrinking, np.array([50.0, 50.0]), DAYS, new_lesions=new)
    assert out.response.tolist() == ["CR", "PR"] and out.progressed.tolist() == [True, False]
    assert out.progression_day.tolist() == [126.0, 168.0] and out.new_lesion.tolist() == [True, False]
    growing = np.array([[61.0, 70.0, 75.0, 80.0]])
    out = assess(growing, BASE, DAYS, new_lesions=np.array([[False, True, True, True]]))
    assert out.progression_day[0] == 42.0 and not out.new_lesion[0]  # the targets progressed first


def test_best_change_is_the_deepest_shrinkage_before_progression() -> None:
    out = assess(np.array([[45.0, 30.0, 70.0, 10.0]]), BASE, DAYS)
    assert out.best_change_pct[0] == pytest.approx(-40.0) and out.progression_day[0] == 126.0


def test_sums_follow_the_cube_root_of_the_cell_count_and_pcr_a_threshold() -> None:
    sums = sums_of_diameters(np.array([[8e9, 1e9, 0.0]]), np.array([1e9]), np.array([30.0]))
    assert np.allclose(sums, [[60.0, 30.0, 0.0]])
    assert pathological_complete_response(np.array([0.0, 10.0, 1e4]), 100.0).tolist() == [True, True, False]
