"""Bounded work: counts within stated bounds, and runs too large to finish refused (with the
estimate) before they start, from the library, from a ``.cfg`` and from the command line."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from her2sim.engine import SimulationConfig, simulate
from her2sim.engine import work as work_module
from her2sim.engine.compile import compile_model
from her2sim.engine.scenario import runtime_arrays
from her2sim.engine.work import WorkEstimate, estimate_work, rate_bound
from her2sim.errors import ConfigError, Her2simWarning, ModelFormatError
from her2sim.formats.maboss import parse_maboss
from tests.conftest import DATA

SMALL_BND = (DATA / "maboss" / "small.bnd").read_text(encoding="utf-8")
SMALL_CFG = (DATA / "maboss" / "small.cfg").read_text(encoding="utf-8")


def one_node(rate: str, max_time: float = 10.0):  # type: ignore[no-untyped-def]
    model, _ = parse_maboss(f"Node A {{ logic = !A; rate_up = {rate}; rate_down = {rate}; }}")
    return model, SimulationConfig(max_time=max_time, time_tick=max_time, sample_count=1000, seed=3)


# ---------------------------------------------------------------------------- counts
@pytest.mark.parametrize(
    ("setting", "value"),
    [("sample_count", "1e20"), ("sample_count", "1e12"), ("sample_count", "1e400"), ("thread_count", "1e20")],
)
def test_counts_out_of_their_bounds_are_located_errors(setting: str, value: str) -> None:
    cfg = SMALL_CFG.replace("sample_count = 100;", f"sample_count = 100;\n{setting} = {value};")
    line = cfg.splitlines().index(f"{setting} = {value};") + 1
    with pytest.raises(ModelFormatError, match=setting.replace("thread_count", "threads")) as caught:
        parse_maboss(SMALL_BND, cfg, "small.bnd", "small.cfg")
    assert (caught.value.source, caught.value.line) == ("small.cfg", line)


@pytest.mark.parametrize(
    "changes",
    [
        {"sample_count": 10**20},
        {"sample_count": 10**12},
        {"sample_count": True},
        {"sample_count": 2.0},
        {"threads": 10**6},
        {"max_states": 2**70},
        {"max_flips": 0},
        {"max_flips": float("nan")},
    ],
)
def test_config_states_its_bounds(changes: dict[str, object]) -> None:
    with pytest.raises(ConfigError, match="must be"):
        SimulationConfig().with_(**changes)


def test_numpy_integers_are_whole_numbers() -> None:
    import numpy as np

    assert SimulationConfig(sample_count=np.int64(50)).sample_count == 50


# ---------------------------------------------------------------------------- estimates
def test_the_rate_bound_is_the_sum_of_each_nodes_largest_rate() -> None:
    model, _ = parse_maboss("Node A { logic = !A; rate_up = 3; rate_down = 0.5; } Node B { logic = A; }")
    compiled = compile_model(model)
    assert rate_bound(compiled, runtime_arrays(compiled.structure)) == 3.0 + 1.0


def test_a_small_run_needs_no_pilot() -> None:
    model, config = one_node("2")
    compiled = compile_model(model)

    def pilot(_: SimulationConfig) -> int:
        raise AssertionError("no pilot for a run the bound already shows small")

    estimate = estimate_work(compiled, runtime_arrays(compiled.structure), config, pilot)
    assert estimate == WorkEstimate(2.0 * 10.0 * 1000, extrapolated=False)


def test_the_pilot_measures_the_rate_when_the_bound_is_loose() -> None:
    """B's rate is huge, but only when A is on, and A never is: the run is small."""
    model, _ = parse_maboss(
        "Node A { logic = A; rate_up = 0; rate_down = 0; }"
        "Node B { logic = !B; rate_up = A ? 1e9 : 1; rate_down = A ? 1e9 : 1; }",
        "A.istate = 0;",
    )
    config = SimulationConfig(max_time=100.0, time_tick=1.0, sample_count=1000, seed=1)
    compiled = compile_model(model)
    flips: list[int] = []

    def pilot(trial: SimulationConfig) -> int:
        result = simulate(compiled, trial, states=False)
        flips.append(result.meta["flips"])
        return result.meta["flips"]

    estimate = estimate_work(compiled, runtime_arrays(compiled.structure), config, pilot)
    assert len(flips) > 1 and flips[0] == 0  # the first horizon saw nothing: it grew
    assert 0.5 * 100 * 1000 < estimate.flips < 2 * 100 * 1000  # B flips at rate 1 for 100 time units
    assert simulate(model, config, states=False).meta["flips"] == pytest.approx(1e5, rel=0.05)


@pytest.mark.parametrize(("rate", "max_time"), [("1e300", 10.0), ("1", 1e300), ("1e9", 1e6)])
def test_a_run_that_would_never_end_is_refused_at_once_with_its_estimate(rate: str, max_time: float) -> None:
    model, config = one_node(rate, max_time)
    started = time.perf_counter()
    with pytest.raises(ConfigError, match=r"this run needs about \S+ flips \(roughly .* hours on"):
        simulate(model, config)
    assert time.perf_counter() - started < 20


def test_the_flip_limit_is_a_setting() -> None:
    model, config = one_node("50")
    with pytest.raises(ConfigError, match="max_flips = 1e\\+04"):
        simulate(model, config.with_(max_flips=1e4))
    assert simulate(model, config.with_(max_flips=1e7)).meta["flips"] > 1e4


def test_a_long_run_is_announced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(work_module, "WARN_FLIPS", 1e4)
    model, config = one_node("5")
    with pytest.warns(Her2simWarning, match="this run needs at most 50,000 flips"):
        simulate(model, config)


def test_discrete_time_work_is_one_transition_per_tick() -> None:
    model, config = one_node("1")
    compiled = compile_model(model)
    discrete = config.with_(discrete_time=True, time_tick=0.01)
    estimate = estimate_work(compiled, runtime_arrays(compiled.structure), discrete, lambda _: 0)
    assert estimate == WorkEstimate(1000 * 1000, extrapolated=False)


# ---------------------------------------------------------------------------- command line
def test_the_cli_refuses_an_endless_run_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "fast.bnd").write_text("Node A { logic = !A; rate_up = 1e300; rate_down = 1e300; }\n")
    (tmp_path / "fast.cfg").write_text("max_time = 10;\ntime_tick = 1;\nsample_count = 10000;\n")
    proc = subprocess.run(
        [sys.executable, "-m", "her2sim.cli", "simulate", "fast.bnd"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120, check=False,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("her2sim: error: this run needs about"), proc.stderr
    assert "max_flips" in lines[0]


def test_the_cli_prints_a_long_run_warning_as_one_line(tmp_path: Path) -> None:
    (tmp_path / "slow.bnd").write_text("Node A { logic = !A; rate_up = 1; rate_down = 1; }\n")
    (tmp_path / "slow.cfg").write_text("max_time = 10;\ntime_tick = 1;\nsample_count = 100;\nthread_count = 2;\n")
    code = (
        "import her2sim.engine.work as w; w.WARN_FLIPS = 10; import sys; "
        "sys.argv = ['her2sim', 'simulate', 'slow.bnd']; from her2sim.cli import main; main()"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                          timeout=120, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines() == [
        "her2sim: warning: this run needs at most 1,000 flips (roughly 0 minutes on 2 threads)"
    ]
