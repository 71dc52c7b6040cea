"""Late-time node averages and their standard errors (per-trajectory statistics)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from her2sim.engine.simulate import simulate
from her2sim.errors import ConfigError
from her2sim.formats.maboss import parse_maboss
from her2sim.model.config import SimulationConfig

FLIP = "Node A { rate_up = 2; rate_down = 1; }"


def config(n: int, seed: int = 1, threads: int = 1) -> SimulationConfig:
    return SimulationConfig(max_time=20, time_tick=0.5, sample_count=n, seed=seed, threads=threads)


def test_late_mean_is_the_window_average_over_the_late_interval() -> None:
    model, _ = parse_maboss(FLIP, "A.istate = 0;")
    result = simulate(model, config(2000), states=False, late_from=10)
    windows = result.nodes()["A"].loc[result.times >= 10].mean()
    assert result.late_nodes().loc["A", "mean"] == pytest.approx(windows, abs=1e-12)
    assert result.meta["late_from"] == 10


def test_late_mean_matches_the_stationary_probability() -> None:
    model, _ = parse_maboss(FLIP, "A.istate = 0;")
    late = simulate(model, config(20000), states=False).late_nodes().loc["A"]
    assert abs(late["mean"] - 2 / 3) < 4 * late["se"] + 1e-3


def test_standard_error_matches_the_spread_between_independent_runs() -> None:
    model, _ = parse_maboss(FLIP, "A.istate = 0;")
    runs = [simulate(model, config(400, seed=s), states=False).late_nodes().loc["A"] for s in range(30)]
    spread = float(np.std([r["mean"] for r in runs], ddof=1))
    reported = float(np.mean([r["se"] for r in runs]))
    assert 0.7 < reported / spread < 1.4
    assert reported < math.sqrt((2 / 3) * (1 / 3) / 400)  # time averaging beats the p(1-p)/N bound


def test_late_statistics_do_not_depend_on_threads() -> None:
    model, _ = parse_maboss(FLIP + "\nNode B { logic = A; }", "A.istate = 0;")
    one = simulate(model, config(3000, threads=1), states=False).late_nodes()
    two = simulate(model, config(3000, threads=2), states=False).late_nodes()
    np.testing.assert_allclose(one.to_numpy(), two.to_numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("late_from", [-1.0, 20.0, 25.0])
def test_late_interval_must_lie_inside_the_run(late_from: float) -> None:
    model, _ = parse_maboss(FLIP, "A.istate = 0;")
    with pytest.raises(ConfigError, match="late_from"):
        simulate(model, config(10), late_from=late_from)
