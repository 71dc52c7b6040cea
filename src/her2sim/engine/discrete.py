"""Discrete-time Boolean updates as BoolNet defines them: synchronous and asynchronous.

Both run through the same compiled rule tables as the stochastic engine. Results are tidy
tables: one row per (trajectory, step), one 0/1 column per node.

Examples
--------
>>> from her2sim.formats.bnet import parse_bnet
>>> blinker = parse_bnet("A, !B\\nB, A")
>>> synchronous(blinker, {"A": 1, "B": 0}, steps=4)["A"].tolist()
[1, 1, 0, 0, 1]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from her2sim.engine.compile import CompiledModel, compile_model
from her2sim.engine.scenario import Scenario, runtime_arrays
from her2sim.errors import ConfigError, UnknownNameError
from her2sim.model.network import Model

__all__ = ["asynchronous", "synchronous"]


def _initial_matrix(model: Model, initial: Mapping[str, int] | Sequence[Mapping[str, int]]) -> np.ndarray:
    states = [initial] if isinstance(initial, Mapping) else list(initial)
    if not states:
        raise ConfigError("give at least one initial state")
    out = np.zeros((len(states), len(model)), dtype=np.uint8)
    for i, state in enumerate(states):
        missing = set(model.names) - set(state)
        if missing:
            raise ConfigError(f"initial state {i} gives no value for {', '.join(sorted(missing)[:5])}")
        for name, value in state.items():
            if name not in model:
                raise UnknownNameError("node", name, model.names)
            if value not in (0, 1):
                raise ConfigError(f"initial value of {name} must be 0 or 1, got {value!r}")
            out[i, model.index(name)] = value
    return out


def _frame(model: Model, out: np.ndarray) -> pd.DataFrame:
    m, steps, n = out.shape
    frame = pd.DataFrame(out.reshape(m * steps, n).astype(np.int8), columns=list(model.names))
    frame.insert(0, "step", np.tile(np.arange(steps), m))
    frame.insert(0, "trajectory", np.repeat(np.arange(m), steps))
    return frame


def _run(
    model: Model | CompiledModel,
    initial: Mapping[str, int] | Sequence[Mapping[str, int]],
    steps: int,
    fixed: Mapping[str, bool] | None,
    seed: int | None,
) -> pd.DataFrame:
    """Run the synchronous (``seed`` None) or asynchronous kernel from every initial state."""
    if not (isinstance(steps, int) and steps >= 0):
        raise ConfigError(f"steps must be a whole number >= 0, got {steps}")
    compiled = model if isinstance(model, CompiledModel) else compile_model(model)
    arrays = runtime_arrays(compiled.structure, Scenario(fixed=dict(fixed or {})))
    s = compiled.structure
    x0 = _initial_matrix(compiled.model, initial)
    held = arrays.start.fixed >= 0
    x0[:, held] = arrays.start.fixed[held]
    out = np.zeros((x0.shape[0], steps + 1, x0.shape[1]), dtype=np.uint8)
    tables = (arrays.logic_table, s.tab_ptr, s.reg_ptr, s.reg_idx, s.root, s.tests, arrays.start.fixed, steps)
    if seed is None:
        compiled.kernel.synchronous_trajectories(x0, *tables, out)
    else:
        compiled.kernel.asynchronous_trajectories(x0, *tables, seed, out)
    return _frame(compiled.model, out)


def synchronous(
    model: Model | CompiledModel,
    initial: Mapping[str, int] | Sequence[Mapping[str, int]],
    steps: int,
    fixed: Mapping[str, bool] | None = None,
) -> pd.DataFrame:
    """Update every node at once from each initial state, ``steps`` times."""
    return _run(model, initial, steps, fixed, seed=None)


def asynchronous(
    model: Model | CompiledModel,
    initial: Mapping[str, int] | Sequence[Mapping[str, int]],
    steps: int,
    seed: int = 0,
    fixed: Mapping[str, bool] | None = None,
) -> pd.DataFrame:
    """At each step update one node drawn uniformly at random (seeded per trajectory)."""
    return _run(model, initial, steps, fixed, seed=seed)
