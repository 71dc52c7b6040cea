"""The engine: compiled kernels and stochastic, synchronous and asynchronous simulation.

Names are imported on first use, so that running a simulation does not load the attractor
libraries (mpbn, biobalm) and ``import her2sim.engine`` stays cheap.
"""

from __future__ import annotations

from her2sim._lazy import lazy_getattr

# ``simulate`` is also the name of a submodule: bind the function now, or importing the
# submodule would leave the module object under this name.
from her2sim.engine.simulate import simulate, simulate_batch

__all__ = [
    "CompiledModel",
    "Scenario",
    "SimulationConfig",
    "SimulationResult",
    "async_attractors",
    "asynchronous",
    "compile_model",
    "fixed_points",
    "reachable",
    "simulate",
    "simulate_batch",
    "synchronous",
    "trap_spaces",
]

_HOME = {
    "async_attractors": "her2sim.engine.attractors",
    "fixed_points": "her2sim.engine.attractors",
    "reachable": "her2sim.engine.attractors",
    "trap_spaces": "her2sim.engine.attractors",
    "CompiledModel": "her2sim.engine.compile",
    "compile_model": "her2sim.engine.compile",
    "asynchronous": "her2sim.engine.discrete",
    "synchronous": "her2sim.engine.discrete",
    "SimulationResult": "her2sim.engine.result",
    "Scenario": "her2sim.engine.scenario",
    "SimulationConfig": "her2sim.model.config",
}


__getattr__ = lazy_getattr(__name__, _HOME)


def __dir__() -> list[str]:
    return sorted(__all__)
