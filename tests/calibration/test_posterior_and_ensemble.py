"""Posterior files, ensemble predictions with intervals, and clinical subgroup ratios."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from her2sim.calibration.clinical import measurement_table, subgroup_ratios
from her2sim.errors import ConfigError, ModelFormatError
from her2sim.her2.ensemble import rank_ensemble, scenario_ensemble, validate_ensemble, weighted_quantiles
from her2sim.her2.model import data_path
from her2sim.her2.perturbation import Perturbation
from her2sim.her2.posterior import Posterior, parse_posterior, read_posterior
from her2sim.her2.settings import RunSettings
from her2sim.her2.validation import parse_expectations
from tests.conftest import SHARED

POSTERIOR = Posterior(
    ("parameter:EGF", "potency:lapatinib"),
    np.array([[0.1, 1.0], [0.2, 2.0], [0.15, 0.5]]),
    np.array([2.0, 1.0, 1.0]),
    np.array([0.3, 0.5, 0.9]),
    {"method": "bo"},
)


def test_a_posterior_round_trips_through_its_file(tmp_path: Path) -> None:
    POSTERIOR.write(tmp_path / "p.tsv")
    back = read_posterior(tmp_path / "p.tsv")
    assert back.factors == POSTERIOR.factors and back.meta == {"method": "bo"}
    assert np.allclose(back.values, POSTERIOR.values) and np.allclose(back.weights, [0.5, 0.25, 0.25])
    assert back.best().parameters == {"EGF": 0.1} and back.best().potency == {"lapatinib": 1.0}
    assert list(back.quantiles().columns) == ["q05", "q50", "q95"]


def test_sampling_is_by_weight_and_reproducible() -> None:
    assert len(POSTERIOR.sample(3)) == 3 and sum(w for w, _ in POSTERIOR.sample(3)) == pytest.approx(1.0)
    drawn = [p.parameters["EGF"] for _, p in POSTERIOR.sample(2, seed=4)]
    assert drawn == [p.parameters["EGF"] for _, p in POSTERIOR.sample(2, seed=4)]
    with pytest.raises(ConfigError, match="at least one member"):
        POSTERIOR.sample(0)


@pytest.mark.parametrize(
    ("text", "fragment", "line"),
    [
        ("weight\tparameter:EGF\n1\t0.1\n", "expected a header", 1),
        ("# m: x\nweight\tloss\tparameter:EGF\n1\t0.2\n", "2 fields where the header has 3", 3),
        ("weight\tloss\tparameter:EGF\n1\t0.2\tlots\n", "every field must be a number", 2),
        ("weight\tloss\tparameter:EGF\n1\t0.2\tinf\n", "finite", 2),
        ("weight\tloss\tEGF\n1\t0.2\t0.1\n", "column 'EGF' is not a factor", 1),
        ("weight\tloss\tparameter:EGF\n", "no members", 1),
        ("weight\tloss\tparameter:EGF\n0\t0.2\t0.1\n", "weights must be", None),
    ],
)
def test_malformed_posterior_files(text: str, fragment: str, line: int | None) -> None:
    with pytest.raises(ModelFormatError, match=fragment) as caught:
        parse_posterior(text, "p.tsv")
    assert caught.value.line == line


def test_weighted_quantiles_respect_the_weights() -> None:
    q = weighted_quantiles(np.array([0.0, 1.0, 2.0]), np.array([0.0, 0.0, 1.0]))
    assert np.allclose(q, 2.0)
    q = weighted_quantiles(np.array([[0.0, 10.0], [1.0, 20.0]]), np.array([1.0, 1.0]), (0.5,))
    assert np.allclose(q, [[0.5, 15.0]])


MEMBERS = [(0.5, Perturbation()), (0.5, Perturbation(potency={"lapatinib": 30.0}))]
SETTINGS = RunSettings(samples=300)


def test_a_scenario_over_an_ensemble_gives_intervals_and_class_shares() -> None:
    table = scenario_ensemble("ERBB2:amp", "lapatinib", MEMBERS, settings=SETTINGS)
    row = table.loc["proliferation"]
    assert row["effect_low"] < row["effect_high"]  # a 30-fold weaker lapatinib moves the effect
    assert row[["share_sensitive", "share_partial", "share_resistant"]].sum() == pytest.approx(1.0)
    with pytest.raises(ConfigError, match="at least one member"):
        scenario_ensemble("ERBB2:amp", "lapatinib", [], settings=SETTINGS)


def test_validation_and_ranking_over_an_ensemble() -> None:
    text = "id\tcontext\ttherapy\texpected\nE1\tERBB2:amp\tlapatinib\tsensitive\n"
    table = validate_ensemble(parse_expectations(text), MEMBERS, settings=SETTINGS)
    assert 0.0 <= table.loc[0, "pass_share"] <= 1.0 and table.loc[0, "effect_low"] <= table.loc[0, "effect_high"]
    ranking = rank_ensemble("ERBB2:amp", ["lapatinib", "T-DXd"], MEMBERS, settings=SETTINGS)
    assert ranking["therapy"].tolist()[0] == "trastuzumab deruxtecan" and list(ranking["rank"]) == [1, 2]


MAPPING = {
    "arms": {"THP": "trastuzumab+pertuzumab"},
    "subgroups": {"HR-positive": {"versus": "HR-negative", "contexts": ["ERBB2:amp; ESR1:high"]}},
    "contexts": {"HR-negative": "ERBB2:amp"},
}


def test_subgroup_ratios_pair_a_subgroup_with_its_complement() -> None:
    table = (
        "id\ttrial\tarm\tsubgroup\tendpoint\tvalue\tn\tsource\n"
        "A\tX\tTHP\tHR-positive\tpCR_breast_pct\t26\t50\ts\n"
        "B\tX\tTHP\tHR-negative\tpCR_breast_pct\t63\t50\ts\n"
        "C\tX\tTHP\tHR-positive\tPFS_HR\t0.7\t\ts\n"  # a hazard ratio is not an outcome of one subgroup
        "D\tX\tTH\tHR-positive\tpCR_breast_pct\t20\t\ts\n"  # an arm the mapping does not name
    )
    [row] = subgroup_ratios(table, MAPPING)
    assert row["value"] == "0.413" and row["compare_to"] == "context:ERBB2:amp" and row["sd"] == "0.2"


@pytest.mark.skipif(not (SHARED / "biology" / "trials.tsv").is_file(), reason="../shared/biology is not present")
def test_the_shipped_ratios_are_derived_from_the_trials_table() -> None:
    text = measurement_table(SHARED / "biology" / "trials.tsv", data_path("measurements/trial_subgroups.yaml"))
    shipped = Path(data_path("measurements/clinical_ratios.tsv")).read_text()
    for line in text.splitlines()[1:]:
        assert line in shipped
