"""What varies between simulations of one network, as the runtime arrays a kernel reads.

A :class:`Scenario` names changes to a model that need no recompilation: parameter values,
multipliers on rates (how a drug's dose slows a target's activation), fixed nodes
(mutations, knock-outs) and initial-state probabilities. :func:`runtime_arrays` turns a model
plus a scenario into the arrays the kernel takes.

Examples
--------
>>> from her2sim.formats.bnet import parse_bnet
>>> from her2sim.engine.tables import rate_structure
>>> structure = rate_structure(parse_bnet("A, A\\nB, A"))
>>> arrays = runtime_arrays(structure, Scenario(fixed={"A": True}, rate_scale={"B": (0.5, 1.0)}))
>>> start, end = structure.tab_ptr[1], structure.tab_ptr[2]  # B's table, indexed by (B, A)
>>> arrays.start.fixed.tolist(), arrays.start.rate_table[start:end].tolist()
([1, -1], [0.0, 1.0, 0.5, 0.0])
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from her2sim.engine._kernel import Start
from her2sim.engine.tables import RateStructure, fill_tables
from her2sim.errors import ConfigError, UnknownNameError

__all__ = ["RuntimeArrays", "Scenario", "runtime_arrays"]


@dataclass(frozen=True)
class Scenario:
    """Changes to a model that a compiled kernel takes at run time.

    Parameters
    ----------
    name:
        Label of the scenario in results.
    parameters:
        Parameter values (names without ``$``) replacing the model's.
    rate_scale:
        Node name -> (multiplier of rate_up, multiplier of rate_down).
    fixed:
        Node name -> value the node is held at from time 0 (its rates become zero).
    initial:
        Node name -> probability the node starts on (independently of other nodes).
    """

    name: str = ""
    parameters: Mapping[str, float] = field(default_factory=dict)
    rate_scale: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    fixed: Mapping[str, bool] = field(default_factory=dict)
    initial: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class RuntimeArrays:
    """The kernel's runtime inputs for one scenario: what the flip loop reads, as the
    kernel's own record (see ``_kernel.run_trajectories``), and the rule values the
    synchronous and asynchronous updates read instead of rates."""

    start: Start
    logic_table: np.ndarray


def _finite_nonnegative(value: float, what: str) -> float:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
        raise ConfigError(f"{what} must be a finite number >= 0, got {value}")
    return float(value)


def runtime_arrays(structure: RateStructure, scenario: Scenario | None = None) -> RuntimeArrays:
    """Arrays for a compiled model under ``scenario``, every name and value checked first."""
    model = structure.model
    scenario = scenario or Scenario()
    n = len(model)
    values = dict(model.parameters)
    for key, value in scenario.parameters.items():
        name = key.lstrip("$")
        if name not in values:
            raise UnknownNameError("parameter", name, values)
        if not (isinstance(value, (int, float)) and math.isfinite(value)):
            raise ConfigError(f"parameter ${name} must be a finite number, got {value}")
        values[name] = float(value)
    params = np.array(list(values.values()), dtype=np.float64)

    up_scale = np.ones(n)
    down_scale = np.ones(n)
    for name, (up, down) in scenario.rate_scale.items():
        k = model.index(name)
        up_scale[k] = _finite_nonnegative(up, f"rate_up multiplier of {name}")
        down_scale[k] = _finite_nonnegative(down, f"rate_down multiplier of {name}")

    fixed = np.full(n, -1, dtype=np.int8)
    for name, value in scenario.fixed.items():
        fixed[model.index(name)] = 1 if value else 0

    p_init = np.full(n, 0.5)
    for k, name in enumerate(model.names):
        p_init[k] = model.initial_probability(name)
    rate_table, logic_table = fill_tables(structure, params, up_scale, down_scale, fixed)
    grouped = [g for g in model.istate if len(g.nodes) > 1]
    for name, p in scenario.initial.items():
        k = model.index(name)
        if any(name in g.nodes for g in grouped):
            raise ConfigError(f"{name} has a joint initial state in the model; change the group instead")
        p_init[k] = _finite_nonnegative(p, f"initial probability of {name}")
        if p_init[k] > 1:
            raise ConfigError(f"initial probability of {name} must be in [0, 1], got {p}")

    grp_ptr = [0]
    grp_nodes: list[int] = []
    out_ptr = [0]
    out_cum: list[float] = []
    width = max((len(g.nodes) for g in grouped), default=1)
    out_vals: list[list[int]] = []
    for g in grouped:
        grp_nodes.extend(model.index(x) for x in g.nodes)
        grp_ptr.append(len(grp_nodes))
        running = 0.0
        for p, (_, vals) in zip(g.effective_probabilities(), g.outcomes, strict=True):
            running += p
            out_cum.append(running)
            out_vals.append(list(vals) + [0] * (width - len(vals)))
        out_ptr.append(len(out_cum))
    start = Start(
        rate_table=rate_table,
        fixed=fixed,
        p_init=p_init,
        grp_ptr=np.array(grp_ptr, dtype=np.int64),
        grp_nodes=np.array(grp_nodes, dtype=np.int64),
        out_ptr=np.array(out_ptr, dtype=np.int64),
        out_cum=np.array(out_cum, dtype=np.float64),
        out_vals=np.array(out_vals, dtype=np.uint8).reshape(len(out_vals), width),
    )
    return RuntimeArrays(start, logic_table)
