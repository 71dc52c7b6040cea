"""The tumour level: files, dynamics, and the clinic checks of issue 6."""

from __future__ import annotations

import time

import numpy as np
import pytest

from her2sim.errors import ConfigError, ModelFormatError, UnknownNameError
from her2sim.her2.scenario import Her2Simulator
from her2sim.tumour.dynamics import simulate_tumour
from her2sim.tumour.spec import Line, Tumour, example_names, parse_tumour, read_tumour


@pytest.fixture(scope="module")
def sim() -> Her2Simulator:
    return Her2Simulator()


def treated(name: str, *lines: Line) -> Tumour:
    return read_tumour(f"example:{name}").with_schedule(lines)


def shrinks(result: object) -> bool:
    return result.best_response in ("PR", "CR")  # type: ignore[attr-defined]


# ------------------------------------------------------------------ clinic checks
@pytest.mark.parametrize("example", ["heterogeneous", "her2_low"])
def test_heterogeneous_or_low_her2_responds_to_tdxd_only(sim: Her2Simulator, example: str) -> None:
    results = {
        t: simulate_tumour(treated(example, Line(t, 0.0)), 180, simulator=sim)
        for t in ("T-DXd", "T-DM1", "trastuzumab")
    }
    assert shrinks(results["T-DXd"])
    assert not shrinks(results["T-DM1"]) and not shrinks(results["trastuzumab"])


def test_homogeneous_3plus_responds_to_all_three(sim: Her2Simulator) -> None:
    for therapy in ("T-DXd", "T-DM1", "trastuzumab"):
        assert shrinks(simulate_tumour(treated("homogeneous_3plus", Line(therapy, 0.0)), 180, simulator=sim)), therapy


def test_pik3ca_clone_is_selected_and_alpelisib_delays_progression(sim: Her2Simulator) -> None:
    dual = simulate_tumour(treated("pik3ca_subclone", Line("trastuzumab+pertuzumab", 0.0)), 1095, simulator=sim)
    shares = dual.fractions()["HER2 3+ PIK3CA H1047R"]
    assert shares.iloc[0] == pytest.approx(0.01) and shares.iloc[-1] > 0.5
    assert np.isfinite(dual.time_to_progression)
    triple = simulate_tumour(
        treated("pik3ca_subclone", Line("trastuzumab+pertuzumab+alpelisib", 0.0)), 1095, simulator=sim
    )
    assert np.isnan(triple.time_to_progression) or triple.time_to_progression > dual.time_to_progression + 90


def test_stopping_therapy_lets_the_tumour_regrow(sim: Her2Simulator) -> None:
    result = simulate_tumour(
        treated("homogeneous_3plus", Line("trastuzumab+pertuzumab", 0.0, 120.0)), 365, simulator=sim
    )
    burden = result.burden
    assert burden.loc[120.0] < burden.loc[0.0] < burden.loc[365.0]
    assert result.lines["ended_by"].tolist() == ["scheduled stop"]


def test_switching_at_progression_starts_the_next_line(sim: Her2Simulator) -> None:
    result = simulate_tumour(
        treated("pik3ca_subclone", Line("trastuzumab+pertuzumab", 0.0), Line("T-DXd", "progression")),
        730,
        simulator=sim,
    )
    first, second = result.lines.itertuples(index=False)
    assert first.ended_by == "progression" and second.start == first.stop == first.progression_day
    assert result.burden.iloc[-1] < result.burden.loc[first.stop]


# ------------------------------------------------------------------ dynamics
def test_a_rare_resistant_clone_can_die_out_or_escape(sim: Her2Simulator) -> None:
    text = """
name: two resistant cells
cells: 1.0e9
clones:
  - {name: sensitive, fraction: 0.999999998, her2: "3+"}
  - {name: resistant, fraction: 0.000000002, her2: "3+", alterations: [PIK3CA:H1047R]}
schedule: [{therapy: trastuzumab+pertuzumab, start: 0}]
"""
    tumour = parse_tumour(text)
    finals = [simulate_tumour(tumour, 400, method="stochastic", seed=s, simulator=sim).cells["resistant"].iloc[-1]
              for s in range(20)]  # fmt: skip
    assert any(f == 0 for f in finals) and any(f > 20 for f in finals)  # each lineage dies out with p = d/b
    again = simulate_tumour(tumour, 200, method="stochastic", seed=3, simulator=sim).cells["resistant"]
    assert again.equals(simulate_tumour(tumour, 200, method="stochastic", seed=3, simulator=sim).cells["resistant"])


def test_deterministic_untreated_growth_follows_the_doubling_time(sim: Her2Simulator) -> None:
    result = simulate_tumour(read_tumour("example:homogeneous_3plus"), 60, simulator=sim)
    assert result.burden.iloc[-1] / result.burden.iloc[0] == pytest.approx(2.0, rel=1e-6)
    assert result.best_response == "NE" and result.lines.empty


def test_one_year_of_five_clones_takes_seconds(sim: Her2Simulator) -> None:
    text = (
        "name: five\ncells: 1e9\nclones:\n"
        + "".join(
            f"  - {{name: c{i}, fraction: 0.2, her2: '{h}', alterations: {a}}}\n"
            for i, (h, a) in enumerate(
                [("3+", "[]"), ("3+", "[PIK3CA:H1047R]"), ("1+", "[]"), ("0", "[]"), ("3+", "[p95HER2]")]
            )
        )
        + "schedule: [{therapy: trastuzumab+pertuzumab, start: 0}, {therapy: T-DXd, start: progression}]\n"
    )
    started = time.perf_counter()
    for method in ("deterministic", "stochastic"):
        simulate_tumour(parse_tumour(text), 365, method=method, simulator=sim)
    assert time.perf_counter() - started < 30  # generous bound for CI; typically well under 5 s


# ------------------------------------------------------------------ files
ONE = "clones: [{name: a, fraction: 1}]\n"


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        ("clones: [{name: a, fraction: 0.5, her2: '3+'}]", 1, "clones[].fraction"),
        ("clones: [{name: a, fraction: -1, her2: '3+'}, {name: b, fraction: 2, her2: '3+'}]", 1, "clones[0].fraction"),
        ("cells: -5\nclones: [{name: a, fraction: 1, her2: '3+'}]", 1, "cells"),
        ("clones: [{name: a, fraction: 1, her2: '4+'}]", 1, "clones[0].her2"),
        ("clones: [{name: a, fraction: 1, her2: '3+', alterations: [FOO:bar]}]", 1, "clones[0].alterations"),
        ("clones: [{name: a, fraction: 1, her2: '3+', alterations: [ERBB2:zero]}]", 1, "clones[0].alterations"),
        (ONE + "schedule: [{therapy: trastuzumab, start: 10}, {therapy: T-DM1, start: 5}]", 2, "schedule[1].start"),
        (ONE + "schedule: [{therapy: trastuzumab, start: 10, stop: 5}]", 2, "schedule[0].stop"),
        (ONE + "schedule: [{therapy: trastuzumab, start: 0, stop: 50}, {therapy: T-DM1, start: 20}]", 2,
         "schedule[1].start"),
        (ONE + "schedule: [{therapy: trastuzumabb, start: 0}]", 2, "schedule[0].therapy"),
        (ONE + "schedule: [{therapy: T-DM1, start: progression}]", 2, "schedule[0].start"),
        ("clones: [{name: a, fraction: 1, colour: red}]", 1, "clones[0].colour"),
    ],
)  # fmt: skip
def test_bad_tumour_files_name_the_line_and_field(text: str, line: int, field: str) -> None:
    with pytest.raises(ModelFormatError) as info:
        parse_tumour(text, "t.yaml")
    assert str(info.value).startswith(f"t.yaml:{line}: {field}:"), str(info.value)


def test_a_schedule_given_in_code_names_the_tumour_and_the_field() -> None:
    tumour = read_tumour("example:homogeneous_3plus")
    with pytest.raises(ConfigError, match=r"homogeneous_3plus\.yaml: schedule\[1\]\.start: day 5 is not after"):
        tumour.with_schedule((Line("trastuzumab", 10.0), Line("T-DM1", 5.0)))


def test_examples_load_and_unknown_examples_suggest() -> None:
    assert {"heterogeneous", "her2_low", "homogeneous_3plus", "pik3ca_subclone"} <= set(example_names())
    for name in example_names():
        assert abs(sum(c.fraction for c in read_tumour(f"example:{name}").clones) - 1) < 1e-9
    with pytest.raises(UnknownNameError, match="heterogeneous"):
        read_tumour("example:heterogenous")
