"""The engine: compiled kernels and stochastic, synchronous and asynchronous simulation."""

from her2sim.engine.attractors import async_attractors, fixed_points, reachable, trap_spaces
from her2sim.engine.compile import CompiledModel, compile_model
from her2sim.engine.discrete import asynchronous, synchronous
from her2sim.engine.result import SimulationResult
from her2sim.engine.scenario import Scenario
from her2sim.engine.simulate import simulate, simulate_batch
from her2sim.model.config import SimulationConfig

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
