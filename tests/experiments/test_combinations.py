"""Combination screens and synergy scores."""

from __future__ import annotations

import numpy as np
import pytest

from her2sim.errors import ConfigError, UnknownNameError
from her2sim.experiments.combinations import combination_cells, combination_screen, synergy_scores
from her2sim.her2.settings import RunSettings

D = np.array([0.0, 1.0, 10.0, 100.0])
D1, D2 = np.repeat(D, 4), np.tile(D, 4)


def single(d: np.ndarray, ic50: float) -> np.ndarray:
    return 0.9 * d / (ic50 + d)


def test_bliss_independent_data_scores_zero_bliss() -> None:
    effect = 1 - (1 - single(D1, 10)) * (1 - single(D2, 10))
    scores = synergy_scores(D1, D2, effect)
    assert abs(scores["bliss"]) < 1e-6 and scores["hsa"] > 0


def test_synergistic_data_scores_positive_everywhere() -> None:
    independent = 1 - (1 - single(D1, 10)) * (1 - single(D2, 10))
    both = (D1 > 0) & (D2 > 0)
    effect = np.where(both, np.minimum(independent + 0.15, 1.0), independent)
    scores = synergy_scores(D1, D2, effect)
    assert scores["bliss"] > 0.1 and scores["hsa"] > 0.1 and scores["zip"] > 0.05


def test_cells_cover_every_pair_and_triple_over_the_matrix() -> None:
    cells = combination_cells(["ERBB2:amp"], ["trastuzumab", "lapatinib", "alpelisib"], doses=2,
                              triples=[["trastuzumab", "lapatinib", "alpelisib"]])  # fmt: skip
    assert len(cells) == 3 * 3**2 + 3**3


@pytest.mark.parametrize(
    ("therapies", "doses", "error"),
    [(["trastuzumab"], 3, ConfigError), (["trastuzumab", "lapatinib"], 0, ConfigError),
     (["trastuzumab", "lapatinb"], 3, UnknownNameError)],
)  # fmt: skip
def test_bad_screens_fail_before_work(therapies: list[str], doses: int, error: type[Exception]) -> None:
    with pytest.raises(error):
        combination_cells(["ERBB2:amp"], therapies, doses)


def test_pi3k_rescue_beats_either_drug_and_adds_more_where_pi3k_is_mutated() -> None:
    result = combination_screen(["ERBB2:amp; PIK3CA:H1047R", "ERBB2:amp"], ["trastuzumab", "alpelisib"], doses=3,
                                settings=RunSettings(samples=1000))  # fmt: skip
    mutant, wild = result.scores.set_index("context").loc[["ERBB2:amp; PIK3CA:H1047R", "ERBB2:amp"]].itertuples()
    assert mutant.hsa > 0.05 and mutant.best_effect > 0.5  # better than the better drug alone
    assert mutant.bliss > wild.bliss  # alpelisib adds more to trastuzumab in the PIK3CA-mutant cells
    assert len(result.matrix) == 32


def test_triples_are_scored_with_higher_order_models() -> None:
    result = combination_screen(["ERBB2:amp; PIK3CA:H1047R"], ["trastuzumab", "alpelisib"], doses=2,
                                triples=[["trastuzumab", "alpelisib", "palbociclib"]],
                                settings=RunSettings(samples=200))  # fmt: skip
    triple = result.scores.set_index("combination").loc["trastuzumab + alpelisib + palbociclib"]
    assert np.isfinite(triple["bliss"]) and np.isfinite(triple["hsa"]) and np.isnan(triple["loewe"])
    assert triple["best_doses"].count("nM") == 3
