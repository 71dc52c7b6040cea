"""The engine: compiled kernels and stochastic, synchronous and asynchronous simulation."""

from her2sim.engine.compile import CompiledModel, compile_model
from her2sim.engine.result import SimulationResult
from her2sim.engine.scenario import Scenario
from her2sim.engine.simulate import simulate, simulate_batch
from her2sim.model.config import SimulationConfig

__all__ = [
    "CompiledModel",
    "Scenario",
    "SimulationConfig",
    "SimulationResult",
    "compile_model",
    "simulate",
    "simulate_batch",
]
