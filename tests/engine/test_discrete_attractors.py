"""Synchronous/asynchronous updates and the mpbn/biobalm attractor adapters."""

from __future__ import annotations

import pytest

from her2sim.engine.attractors import async_attractors, fixed_points, reachable, trap_spaces
from her2sim.engine.discrete import asynchronous, synchronous
from her2sim.errors import ConfigError, UnknownNameError
from her2sim.formats import read_model
from her2sim.formats.bnet import parse_bnet
from tests.conftest import model_params

TOGGLE_WITH_OSCILLATOR = parse_bnet("A, !B\nB, !A\nC, !C & A\nD, 1")


def test_synchronous_blinker_has_period_four() -> None:
    model = parse_bnet("A, !B\nB, A")
    frame = synchronous(model, {"A": 1, "B": 0}, steps=8)
    assert frame["A"].tolist() == [1, 1, 0, 0, 1, 1, 0, 0, 1]
    assert frame["B"].tolist() == [0, 1, 1, 0, 0, 1, 1, 0, 0]
    assert list(frame.columns[:2]) == ["trajectory", "step"]


def test_synchronous_respects_fixed_nodes_and_many_initial_states() -> None:
    model = parse_bnet("A, !B\nB, A")
    frame = synchronous(model, [{"A": 0, "B": 0}, {"A": 1, "B": 1}], steps=3, fixed={"B": False})
    assert set(frame["B"]) == {0}
    assert frame[frame.step == 3]["A"].tolist() == [1, 1]


def test_asynchronous_changes_one_node_per_step_and_is_seeded() -> None:
    model = parse_bnet("A, !A\nB, !B\nC, !C")
    start = {"A": 0, "B": 0, "C": 0}
    frame = asynchronous(model, [start] * 5, steps=30, seed=3)
    values = frame[["A", "B", "C"]].to_numpy()
    changes = abs(values[1:] - values[:-1]).sum(axis=1)[frame.step.to_numpy()[1:] > 0]
    assert set(changes) <= {1}  # each node's rule negates it: every update flips exactly one node
    again = asynchronous(model, [start] * 5, steps=30, seed=3)
    assert frame.equals(again)
    assert not frame.equals(asynchronous(model, [start] * 5, steps=30, seed=4))


def test_discrete_bad_input() -> None:
    model = parse_bnet("A, !B\nB, A")
    with pytest.raises(ConfigError, match="no value for B"):
        synchronous(model, {"A": 1}, steps=2)
    with pytest.raises(UnknownNameError):
        synchronous(model, {"A": 1, "B": 0, "Z": 1}, steps=2)
    with pytest.raises(ConfigError, match="0 or 1"):
        synchronous(model, {"A": 2, "B": 0}, steps=2)
    with pytest.raises(ConfigError, match="steps"):
        asynchronous(model, {"A": 1, "B": 0}, steps=-1)


def test_fixed_points_trap_spaces_and_async_attractors() -> None:
    model = TOGGLE_WITH_OSCILLATOR
    assert fixed_points(model).to_dict("records") == [{"A": 0, "B": 1, "C": 0, "D": 1}]
    spaces = trap_spaces(model).to_dict("records")
    assert {"A": 1, "B": 0, "C": "*", "D": 1} in spaces and {"A": 0, "B": 1, "C": 0, "D": 1} in spaces
    attractors = async_attractors(model)
    assert sorted(attractors["kind"]) == ["complex", "fixed point"]
    complex_row = attractors[attractors.kind == "complex"].iloc[0]
    assert complex_row["C"] == "*" and complex_row["A"] == 1


def test_reachability() -> None:
    model = TOGGLE_WITH_OSCILLATOR
    assert reachable(model, {"A": 0, "B": 0, "C": 0, "D": 0}, {"A": 1, "D": 1})
    assert not reachable(model, {"A": 0, "B": 1, "C": 0, "D": 1}, {"A": 1})
    with pytest.raises(UnknownNameError):
        reachable(model, {"A": 0, "B": 0, "C": 0, "Q": 0}, {"A": 1})


@pytest.mark.parametrize("path", model_params("bbm_09*.bnet") + model_params("bbm_03[3-8]*.bnet"))
def test_published_fixed_points_are_stable_under_synchronous_update(path) -> None:
    model = read_model(path)
    points = fixed_points(model)
    assert len(points) >= 1
    states = points.to_dict("records")[:200]
    frame = synchronous(model, states, steps=1)
    after = frame[frame.step == 1][list(model.names)].to_dict("records")
    assert after == states
