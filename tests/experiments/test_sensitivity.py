"""Sensitivity analysis: spaces, SALib wiring (checked on Ishigami), and robust validation."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from her2sim.errors import ModelFormatError
from her2sim.experiments.sensitivity import Space, Target, her2_space, morris, read_space, robust_validation, sobol
from her2sim.her2.perturbation import Perturbation
from her2sim.her2.scenario import Her2Simulator
from her2sim.her2.settings import RunSettings
from her2sim.her2.validation import parse_expectations


def test_the_declared_space_is_data_with_sane_bounds() -> None:
    space = her2_space(calibrated=False)
    assert len(space.factors) >= 20
    for f in space.factors:
        assert 0 < f.low < f.nominal <= f.high or (f.kind == "alteration" and f.low < f.nominal)
        if f.kind == "parameter":
            assert f.high <= 1.0 or f.target == "ERK_feedback_strength"
    wider = her2_space(spread=10, calibrated=False)
    egf = next(f for f in wider.factors if f.target == "EGF")
    assert egf.low == pytest.approx(0.01) and egf.high == pytest.approx(1.0)
    centred = next(f for f in her2_space().factors if f.target == "EGF")  # around the calibrated model
    assert centred.low < centred.nominal < centred.high and centred.nominal != egf.nominal


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("factors: [{parameter: EFG}]", "unknown model parameter 'EFG'"),
        ("factors: [{rate: HER9}]", "HER9"),
        ("factors: [{potency: lapatinb}]", "lapatinib"),
        ("factors: [{alteration: PIK3CA:H1047}]", "PIK3CA:H1047R"),
        ("factors: [{parameter: EGF, low: 0.5, high: 0.2}]", "low < high"),
        ("factors: [{parameter: EGF, rate: HER3}]", "exactly one"),
        ("factors: [{parameter: EGF}, {parameter: EGF}]", "declared twice"),
        ("spread: 0.5\nfactors: [{parameter: EGF}]", "spread must be > 1"),
        ("factors: []", "at least one factor"),
    ],
)
def test_bad_spaces_are_rejected_naming_the_entry(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "space.yaml"
    path.write_text(text)
    with pytest.raises(ModelFormatError, match=fragment.replace("(", r"\(")):
        read_space(path)


def test_perturbations_move_what_they_name() -> None:
    sim = Her2Simulator(perturbation=Perturbation())  # the model as written, not the calibrated default
    context, regimen = sim.context("ERBB2:amp; PIK3CA:H1047R"), sim.regimen("alpelisib")
    moved = Her2Simulator(perturbation=Perturbation(potency={"alpelisib": 100.0}, alteration={"PIK3CA:H1047R": 0.5},
                                                   parameters={"EGF": 0.9}, rate_scale={"HER3": 2.0}))  # fmt: skip
    ((_, base),) = sim.engine_scenarios(context, regimen)
    ((_, pert),) = moved.engine_scenarios(context, regimen)
    assert pert.parameters["inh_PI3K"] < base.parameters["inh_PI3K"]
    assert pert.parameters["PIK3CA_gain"] == pytest.approx(0.5 * base.parameters["PIK3CA_gain"])
    assert pert.parameters["EGF"] == 0.9 and pert.rate_scale["HER3"] == (2.0, 2.0)


def test_salib_wiring_reproduces_ishigami_indices() -> None:
    """The same sampling and analysis calls, on SALib's Ishigami function instead of the model."""
    from SALib.analyze import sobol as analyze
    from SALib.sample import sobol as sample
    from SALib.test_functions import Ishigami

    from her2sim.experiments import sensitivity

    space = Space(tuple(sensitivity.Factor("parameter", n, 0.0, -math.pi, math.pi, log=False) for n in "abc"))
    problem = space.problem()
    rows = sample.sample(problem, 1024, calc_second_order=False, seed=1)
    natural = np.array([space.natural(r) for r in rows])
    result = analyze.analyze(problem, Ishigami.evaluate(natural), calc_second_order=False, seed=1)
    np.testing.assert_allclose(result["S1"], [0.314, 0.442, 0.0], atol=0.05)
    np.testing.assert_allclose(result["ST"], [0.558, 0.442, 0.244], atol=0.05)


def test_morris_and_sobol_rank_the_factor_that_matters() -> None:
    space = Space(tuple(f for f in her2_space().factors if f.name in ("potency:lapatinib", "potency:everolimus")))
    target = Target("ERBB2:amp", "lapatinib")
    screened = morris(space, target, trajectories=4, settings=RunSettings(samples=200))
    assert screened["factor"].iloc[0] == "potency:lapatinib" and screened["mu_star"].iloc[1] == pytest.approx(
        0, abs=1e-9
    )  # everolimus is not given: its potency cannot matter
    indices = sobol(space, target, base=8, settings=RunSettings(samples=200))
    assert indices["factor"].iloc[0] == "potency:lapatinib" and set(indices.columns) >= {
        "S1",
        "S1_conf",
        "ST",
        "ST_conf",
    }


def test_robust_validation_reports_pass_fractions_and_deciding_factors() -> None:
    text = ("id\tcontext\ttherapy\texpected\tcompare_to\treadout\tconfidence\tsource\n"
            "A\tERBB2:amp\tlapatinib\tsensitive\t\t\t\t\n"
            "B\tERBB2:amp; PIK3CA:H1047R\talpelisib+trastuzumab\tstronger\ttherapy:trastuzumab\t\t\t\n")  # fmt: skip
    rows = parse_expectations(text)
    space = Space(
        tuple(f for f in her2_space().factors if f.name in ("potency:lapatinib", "potency:alpelisib", "parameter:EGF"))
    )
    table = robust_validation(rows, space, sets=3, trajectories=2, settings=RunSettings(samples=200))
    assert list(table["id"]) == ["A", "B"]
    assert table["pass_fraction"].between(0, 1).all() and table["nominal_passed"].all()
    assert table.set_index("id").loc["A", "deciding"].startswith("potency:lapatinib")


def test_designs_run_on_dask_give_the_same_values() -> None:
    from distributed import Client, LocalCluster

    from her2sim.experiments.sensitivity import evaluate

    space = Space(tuple(f for f in her2_space().factors if f.name in ("potency:lapatinib", "parameter:EGF")))
    rows = np.array([[-1.0, 0.0], [-0.7, 0.3], [-1.2, -0.3]])  # log10 of (EGF, lapatinib potency fold)
    target = Target("ERBB2:amp; PIK3CA:H1047R", "lapatinib")
    local = evaluate(space, rows, target, settings=RunSettings(samples=200))
    with (
        LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        seen: list[int] = []
        remote = evaluate(
            space,
            rows,
            target,
            client=client,
            chunk_size=2,
            progress=lambda d, n: seen.append(d),
            settings=RunSettings(samples=200),
        )
    np.testing.assert_allclose(remote, local)
    assert seen[-1] == 3
