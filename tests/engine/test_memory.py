"""The default state-table bound is sized from memory, so runs keep every state where
memory allows, and say what they lost where it does not."""

from __future__ import annotations

import warnings

import pytest

from her2sim.engine import memory, simulate
from her2sim.errors import Her2simWarning
from her2sim.formats.bnet import parse_bnet
from her2sim.model.config import SimulationConfig

#: 24 nodes that each flip at rate 1: 6,000 trajectories over 10 windows visit about 1.5
#: million (state, window) entries, more than the fixed default of old (2**20 per thread).
FREE = parse_bnet("targets, factors\n" + "".join(f"N{i}, !N{i}\n" for i in range(24)))
CONFIG = SimulationConfig(max_time=10, time_tick=1, sample_count=6000, seed=1, threads=1)


def test_the_default_bound_keeps_every_state_where_the_old_one_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "available_memory", lambda: 8 * 2**30)
    with pytest.warns(Her2simWarning, match=r"max_states 1,048,576 per thread\): 10 of 10 windows lost"):
        old = simulate(FREE, CONFIG.with_(max_states=1 << 20))
    assert old.state_overflow > 0.05
    with warnings.catch_warnings():
        warnings.simplefilter("error", Her2simWarning)
        new = simulate(FREE, CONFIG)
    assert new.state_overflow == 0.0 and (new.not_kept() == 0).all()
    assert new.meta["max_states"] == memory.default_max_states(24, 1, 8 * 2**30) > 1 << 20
    sums = new.states().groupby("time", observed=True)["probability"].sum()
    assert sums.to_numpy() == pytest.approx(1.0)


def test_with_little_memory_the_run_says_the_bound_was_sized_from_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "available_memory", lambda: 20 * 2**20)
    with pytest.warns(Her2simWarning, match="sized from the memory available") as caught:
        result = simulate(FREE, CONFIG.with_(sample_count=500))
    [warning] = caught
    assert "Raise max_states (--max-states) if memory allows" in str(warning.message)
    assert result.meta["max_states"] == memory.default_max_states(24, 1, 20 * 2**20)
    assert (result.not_kept() > 0).all()


def test_the_bound_scales_with_memory_and_threads_and_has_a_floor() -> None:
    one = memory.default_max_states(40, threads=1, available=2**34)
    assert memory.default_max_states(40, threads=2, available=2**34) == one // 2
    assert memory.default_max_states(80, threads=1, available=2**34) < one  # two words a state
    assert memory.default_max_states(40, threads=1, available=0) == 4096
