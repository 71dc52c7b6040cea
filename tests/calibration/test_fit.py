"""Calibration recovers known parameters from synthetic data, resumes, refuses to mix fits,
and predicts with intervals; cross-validation holds measurements out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from her2sim.calibration.crossval import cross_validate, folds
from her2sim.calibration.fit import FitSettings, Problem, calibrate, factors_at_bounds
from her2sim.calibration.measurements import parse_measurements
from her2sim.calibration.objective import predict
from her2sim.errors import ConfigError
from her2sim.experiments.sensitivity import Factor, Space
from her2sim.her2.model import load_config
from her2sim.her2.posterior import Posterior, read_posterior
from her2sim.her2.scenario import Her2Simulator

SPACE = Space(
    (
        Factor("potency", "lapatinib", 1.0, 1 / 3, 3.0),
        Factor("parameter", "HER2_homodimer_RAS", 0.4, 0.1, 1.0),
    )
)
TRUTH = np.array([2.0, 0.2])
SAMPLES = 200
QUESTIONS = [
    ("ERBB2:amp", "lapatinib@30nM", "proliferation"),
    ("ERBB2:amp", "lapatinib@100nM", "proliferation"),
    ("ERBB2:amp", "lapatinib@300nM", "proliferation"),
    ("ERBB2:amp", "trastuzumab", "pERK"),
    ("ERBB2:amp", "trastuzumab", "proliferation"),
    ("ERBB2:amp; NRG1:high", "pertuzumab", "pERK"),
]


def synthetic_table() -> str:
    """Effects the model gives at TRUTH, written as a measurement table."""
    sim = Her2Simulator(load_config(samples=SAMPLES, seed=1), SPACE.perturbation(TRUTH))
    rows = ["id\tkind\tcontext\ttherapy\treadout\tvalue\tsd\tsource"]
    for i, (context, therapy, readout) in enumerate(QUESTIONS):
        ctx, reg = sim.context(context), sim.regimen(therapy)
        treated, base = sim.readouts([(ctx, reg), (ctx, sim.regimen(None))])
        from her2sim.her2.scenario import effect

        value = effect(readout, treated[readout], base[readout])
        rows.append(f"s{i}\teffect\t{context}\t{therapy}\t{readout}\t{value:.6f}\t0.02\tsynthetic")
    return "\n".join(rows) + "\n"


@pytest.fixture(scope="module")
def problem() -> Problem:
    return Problem(tuple(parse_measurements(synthetic_table(), "synthetic.tsv")), SPACE, samples=SAMPLES, seed=1)


def test_bayesian_optimisation_recovers_the_parameters_behind_synthetic_data(problem: Problem, tmp_path: Path) -> None:
    fit = calibrate(problem, tmp_path / "fit", FitSettings(budget=45, samples=SAMPLES, startup=12), ensemble=5)
    best = fit.posterior.values[int(np.argmin(fit.posterior.loss))]
    assert abs(np.log(best[0] / TRUTH[0])) < np.log(1.35), best  # lapatinib potency within 35%
    assert abs(best[1] - TRUTH[1]) < 0.08, best
    assert fit.table["correct"].all()
    assert set(fit.table.columns) >= {"observed", "predicted", "median", "low", "high", "correct_share"}
    assert (fit.table["low"] <= fit.table["high"]).all()
    written = read_posterior(tmp_path / "fit" / "posterior.tsv")
    assert written.factors == ("potency:lapatinib", "parameter:HER2_homodimer_RAS")
    assert written.meta["method"] == "bo" and np.isclose(written.weights.sum(), 1.0)


def test_a_polish_after_few_evaluations_descends_from_the_best_and_a_start_is_tried_first(
    problem: Problem, tmp_path: Path
) -> None:
    rough = calibrate(problem, tmp_path / "rough", FitSettings(budget=6, samples=SAMPLES, startup=6), ensemble=1)
    polished = calibrate(problem, tmp_path / "polished", FitSettings(budget=6, samples=SAMPLES, startup=6, polish=3),
                         ensemble=1)  # fmt: skip
    assert polished.posterior.loss.min() <= rough.posterior.loss.min()
    assert int(polished.posterior.meta["evaluations"]) > 6  # the polish's candidates are trials too
    truth = Posterior(tuple(f.name for f in SPACE.factors), TRUTH[None, :], np.ones(1), np.zeros(1))
    started = calibrate(problem, tmp_path / "started", FitSettings(budget=3, samples=SAMPLES, startup=3),
                        ensemble=1, start=truth)  # fmt: skip
    assert started.posterior.loss.min() < rough.posterior.loss.min()  # the earlier fit's best was tried


def test_factors_at_a_bound_of_their_prior_are_named_with_the_bound() -> None:
    space = Space((Factor("potency", "lapatinib", 1.0, 0.1, 10.0),
                   Factor("parameter", "HER2_homodimer_RAS", 0.5, 0.0, 1.0, log=False)))  # fmt: skip
    assert factors_at_bounds(space, [1.0, 0.5]) == ()
    # within 1% of the range: of the log range for a log factor, of the range for a linear one
    assert factors_at_bounds(space, [0.1 * 10 ** (2 * 0.009), 0.995]) == (
        "potency:lapatinib = 0.1042 (lower bound)",
        "parameter:HER2_homodimer_RAS = 0.995 (upper bound)",
    )
    assert factors_at_bounds(space, [0.1 * 10 ** (2 * 0.02), 0.98]) == ()


def test_a_fit_whose_truth_lies_beyond_the_prior_says_so(problem: Problem, tmp_path: Path) -> None:
    narrow = Space((Factor("potency", "lapatinib", 0.5, 1 / 3, 1.0), SPACE.factors[1]))  # truth: potency 2
    fit = calibrate(Problem(problem.measurements, narrow, samples=SAMPLES, seed=1), tmp_path / "fit",
                    FitSettings(budget=12, samples=SAMPLES, startup=8, polish=3), ensemble=1)  # fmt: skip
    assert fit.at_bounds[0] == "potency:lapatinib = 1 (upper bound)", fit.at_bounds
    written = read_posterior(tmp_path / "fit" / "posterior.tsv")
    assert written.meta["best set at a prior bound"] == "; ".join(fit.at_bounds)


def test_a_fit_resumes_where_it_stopped_and_refuses_another_fit(problem: Problem, tmp_path: Path) -> None:
    out = tmp_path / "fit"
    calibrate(problem, out, FitSettings(budget=6, samples=SAMPLES, startup=4), ensemble=1)
    again = calibrate(problem, out, FitSettings(budget=10, samples=SAMPLES, startup=4), ensemble=1)
    assert again.posterior.meta["evaluations"] == "10"  # 6 kept, 4 more run
    fewer = Problem(problem.measurements[:3], SPACE, samples=SAMPLES, seed=1)
    with pytest.raises(ConfigError, match="holds a fit of another model, space or set of measurements"):
        calibrate(fewer, out, FitSettings(budget=6, samples=SAMPLES))
    with pytest.raises(ConfigError, match="holds a bo fit"):
        calibrate(problem, out, FitSettings(method="abc", budget=20, population=5, samples=SAMPLES))
    (out / "calibration.json").write_text("{broken")
    with pytest.raises(ConfigError, match="unreadable manifest"):
        calibrate(problem, out, FitSettings(budget=6, samples=SAMPLES))
    assert (out / "calibration.json").read_text() == "{broken"  # a refused fit writes nothing


def test_abc_smc_gives_a_weighted_population(problem: Problem, tmp_path: Path) -> None:
    fit = calibrate(problem, tmp_path / "abc", FitSettings(method="abc", budget=30, population=8, samples=SAMPLES),
                    ensemble=4)  # fmt: skip
    assert len(fit.posterior) == 8 and fit.posterior.meta["method"] == "abc"
    assert np.all(np.isfinite(fit.posterior.loss)) and np.isclose(fit.posterior.weights.sum(), 1.0)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"method": "grid"}, "method must be one of"),
        ({"budget": 0}, "budget must be a whole number"),
        ({"method": "abc", "budget": 10, "population": 20}, "at least two populations"),
    ],
)
def test_impossible_settings_are_refused(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        FitSettings(**settings)  # type: ignore[arg-type]


def test_an_empty_or_degenerate_problem_is_refused(problem: Problem) -> None:
    with pytest.raises(ConfigError, match="at least one measurement"):
        Problem((), SPACE)
    with pytest.raises(ConfigError, match="at least one uncertain factor"):
        Problem(problem.measurements, Space(()))
    flat = Space((Factor("parameter", "EGF", 0.1, 0.1, 0.1),))
    with pytest.raises(ConfigError, match="no room to move"):
        Problem(problem.measurements, flat)


def test_folds_cover_every_measurement_once(problem: Problem) -> None:
    held = [i for _, fold in folds(problem, "3") for i in fold]
    assert sorted(held) == list(range(len(problem.measurements)))
    with pytest.raises(ConfigError, match="needs 2 to 6 folds"):
        folds(problem, "7")
    with pytest.raises(ConfigError, match="at least two files"):
        folds(problem, "source")
    with pytest.raises(ConfigError, match="a number of folds or 'source'"):
        folds(problem, "many")


def test_cross_validation_predicts_held_out_measurements(problem: Problem, tmp_path: Path) -> None:
    table = cross_validate(problem, tmp_path, "2", FitSettings(budget=8, samples=SAMPLES, startup=4))
    assert sorted(table["id"]) == sorted(m.id for m in problem.measurements)
    assert set(table["fold"]) == {"fold 1", "fold 2"} and "correct" in table


def test_predictions_score_misses_by_their_sd(problem: Problem) -> None:
    at_truth = predict(problem.measurements, problem.simulator(TRUTH))
    assert np.allclose(at_truth["miss"], 0.0, atol=1e-3)  # the table rounds values to 6 decimals
    elsewhere = predict(problem.measurements, problem.simulator([1 / 3, 1.0]))
    assert (elsewhere["miss"].abs() > 1).any()


def test_a_fit_on_a_dask_cluster_equals_the_local_fit(problem: Problem, tmp_path: Path) -> None:
    """Candidates evaluated on the cluster's workers score exactly as locally (same seeds)."""
    from distributed import Client, LocalCluster

    settings = FitSettings(budget=6, samples=SAMPLES, startup=6)
    local = calibrate(problem, tmp_path / "local", settings, ensemble=1)
    with (
        LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        remote = calibrate(problem, tmp_path / "dask", settings, client=client, ensemble=1)
    assert np.allclose(np.sort(local.posterior.loss), np.sort(remote.posterior.loss))
