"""How much work a run asks for, known before it starts.

A run's cost is its number of flips. Rates set no bound of their own: a ``rate_up`` of
``1e300`` or a ``max_time`` of ``1e300`` asks for more flips than any machine will make, and
without a check the run would start and never report progress (one trajectory never ends).

The estimate comes in two steps. Every flip rate of a node is in its table, so the sum over
nodes of their largest rates, ``Λ``, bounds the total rate in any state, and ``Λ · max_time``
bounds the expected flips of a trajectory; most models are far below any limit by this bound
alone, and nothing more is done. Above it, a short pilot measures the flip rate: a few
trajectories over a horizon short enough that the bound itself keeps the pilot cheap, with
the measured rate extrapolated to ``max_time`` (the estimate says so when it extrapolates).

Examples
--------
>>> from her2sim.engine.compile import compile_model
>>> from her2sim.engine.scenario import runtime_arrays
>>> from her2sim.formats.maboss import parse_maboss
>>> model, _ = parse_maboss("Node A { logic = !A; rate_up = 2; rate_down = 2; }")
>>> compiled = compile_model(model)
>>> rate_bound(compiled, runtime_arrays(compiled.structure))
2.0
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from her2sim.engine.compile import CompiledModel
from her2sim.engine.scenario import RuntimeArrays
from her2sim.errors import ConfigError, Her2simWarning
from her2sim.model.config import SimulationConfig

__all__ = ["NS_PER_FLIP", "WARN_FLIPS", "WorkEstimate", "check_work", "estimate_work", "rate_bound"]

#: Above this many expected flips a run is announced with its estimate (minutes of work).
WARN_FLIPS = 1e10
#: Below this bound on the expected flips no pilot runs: the run is small whatever it does.
_QUIET_FLIPS = 1e9
#: Trajectories in the pilot, and the flips its horizon is chosen to bound (in expectation).
_PILOT_TRAJECTORIES = 32
_PILOT_FLIPS = 2e5
#: Rough cost of a flip with state statistics, per thread, for the time in messages.
NS_PER_FLIP = 300.0

PilotFn = Callable[[SimulationConfig], int]


@dataclass(frozen=True)
class WorkEstimate:
    """Expected flips of a run: ``flips``, and whether they were measured and extrapolated
    from a pilot (``extrapolated``) or bounded from the rates alone."""

    flips: float
    extrapolated: bool

    def hours(self, threads: int) -> float:
        """Rough wall time at :data:`NS_PER_FLIP` per flip per thread."""
        return self.flips * NS_PER_FLIP * 1e-9 / max(1, threads) / 3600

    def describe(self, threads: int) -> str:
        """``about 3e+14 flips (roughly 12,500 hours on 2 threads)``, for messages."""
        how = "about" if self.extrapolated else "at most"
        count = f"{self.flips:,.0f}" if self.flips < 1e9 else f"{self.flips:.2g}"
        hours = self.hours(threads)
        span = f"{hours:,.0f} hours" if hours >= 1 else f"{hours * 60:,.0f} minutes"
        return f"{how} {count} flips (roughly {span} on {threads} thread{'s' * (threads > 1)})"


def rate_bound(compiled: CompiledModel, arrays: RuntimeArrays) -> float:
    """``Λ``: the sum over nodes of their largest flip rate, a bound on the total rate.

    A wide node's largest rate is the largest over its tables (see :mod:`her2sim.engine.tables`).
    """
    structure = compiled.structure
    largest = np.maximum.reduceat(arrays.start.rate_table, structure.tab_ptr[:-1])  # no table is empty
    per_node = np.zeros(len(compiled.model))
    np.maximum.at(per_node, structure.owner, largest)
    return float(per_node.sum())


def estimate_work(
    compiled: CompiledModel, arrays: RuntimeArrays, config: SimulationConfig, pilot: PilotFn
) -> WorkEstimate:
    """Expected flips of ``config.sample_count`` trajectories; ``pilot(cfg)`` runs a short
    run of ``cfg`` (no state statistics) and returns the flips it made.

    The pilot's first horizon is one the rate bound keeps within :data:`_PILOT_FLIPS`; when
    it sees few flips (the bound was loose), the horizon grows, at most a hundredfold a step,
    until the flips it sees are enough to measure the rate or it reaches ``max_time``.
    """
    if config.discrete_time:  # one transition per tick at most: the bound is the work
        return WorkEstimate(float(config.sample_count) * config.n_windows, extrapolated=False)
    bound = rate_bound(compiled, arrays)
    if bound * config.max_time * config.sample_count <= _QUIET_FLIPS:
        return WorkEstimate(bound * config.max_time * config.sample_count, extrapolated=False)
    horizon = min(config.max_time, _PILOT_FLIPS / (_PILOT_TRAJECTORIES * bound))
    while True:
        trial = config.with_(max_time=horizon, time_tick=horizon, sample_count=_PILOT_TRAJECTORIES, threads=1)
        flips = pilot(trial)
        if horizon >= config.max_time or flips >= _PILOT_FLIPS / 4:
            break
        horizon = min(config.max_time, horizon * min(100.0, _PILOT_FLIPS / max(flips, 1)))
    rate = flips / (_PILOT_TRAJECTORIES * horizon)
    return WorkEstimate(rate * config.max_time * config.sample_count, extrapolated=horizon < config.max_time)


def check_work(estimate: WorkEstimate, config: SimulationConfig) -> None:
    """Refuse a run over ``config.max_flips``; announce one over :data:`WARN_FLIPS`."""
    threads = config.thread_count
    if estimate.flips > config.max_flips:
        raise ConfigError(
            f"this run needs {estimate.describe(threads)}, over the limit of max_flips = {config.max_flips:.3g}; "
            "lower the rates, max_time or sample_count (or raise max_flips if you mean it)"
        )
    if estimate.flips > WARN_FLIPS:
        warnings.warn(f"this run needs {estimate.describe(threads)}", Her2simWarning, stacklevel=3)
