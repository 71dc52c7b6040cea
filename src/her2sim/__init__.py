"""her2sim: HER2-positive breast cancer signalling and therapy resistance as an executable model.

The functions most people need are available at the top level, loaded on first use so that
``import her2sim`` stays cheap and has no side effects:

>>> import her2sim
>>> model = her2sim.parse_bnet("A, !B\\nB, A")
>>> her2sim.SimulationConfig(max_time=4, time_tick=1, sample_count=100).n_windows
4
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from her2sim._lazy import lazy_getattr

try:
    __version__ = version("her2sim")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

#: Public name -> module that defines it.
_EXPORTS = {
    "Model": "her2sim.model.network",
    "Node": "her2sim.model.network",
    "SimulationConfig": "her2sim.model.config",
    "Scenario": "her2sim.engine.scenario",
    "SimulationResult": "her2sim.engine.result",
    "simulate": "her2sim.engine.simulate",
    "simulate_batch": "her2sim.engine.simulate",
    "synchronous": "her2sim.engine.discrete",
    "asynchronous": "her2sim.engine.discrete",
    "fixed_points": "her2sim.engine.attractors",
    "trap_spaces": "her2sim.engine.attractors",
    "async_attractors": "her2sim.engine.attractors",
    "read_model": "her2sim.formats",
    "read_model_and_config": "her2sim.formats",
    "write_model": "her2sim.formats",
    "read_maboss": "her2sim.formats.maboss",
    "parse_bnet": "her2sim.formats.bnet",
}

__all__ = ["__version__", *_EXPORTS]


__getattr__ = lazy_getattr(__name__, _EXPORTS)


def __dir__() -> list[str]:
    return sorted(__all__)
