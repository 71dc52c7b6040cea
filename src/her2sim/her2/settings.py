"""How an experiment on the HER2 model runs: one frozen settings value passed everywhere.

Scenarios, screens, curves, rankings, cohorts and sensitivity analyses all take
``settings=RunSettings(...)`` rather than loose keywords. A field left ``None`` keeps the
model's own value (``her2.cfg``); :meth:`RunSettings.config` turns the settings into the
engine's :class:`~her2sim.model.config.SimulationConfig`.

Examples
--------
>>> RunSettings(samples=500, seed=3).config().sample_count
500
>>> RunSettings(samples=0)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
her2sim.errors.ConfigError: samples must be a whole number from 1 to 1,000,000,000, got 0; give a positive ...
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, replace

from her2sim.errors import ConfigError
from her2sim.her2.model import load_config
from her2sim.model.config import MAX_SAMPLE_COUNT, MAX_THREADS, SimulationConfig

__all__ = ["DEFAULT_SETTINGS", "RunSettings"]


@dataclass(frozen=True, slots=True)
class RunSettings:
    """How to simulate: trajectories, simulated time, seed, threads and a precision target.

    Parameters
    ----------
    samples:
        Trajectories per scenario (``None``: ``her2.cfg``'s ``sample_count``). With
        ``target_se`` this is the pilot run (``None``: 1,000).
    max_time:
        Simulated time in model rate units; steady-state readouts average its second half
        (``None``: ``her2.cfg``'s).
    seed:
        Seed of the random streams (``None``: ``her2.cfg``'s); results do not depend on
        ``threads``.
    threads:
        Engine threads (``None``: every core). Work spread over a Dask cluster runs each
        worker with one.
    target_se:
        Standard error (a probability, in (0, 1)) a cell's readouts are sampled down to, by
        adding trajectories after the pilot; ``None`` runs exactly ``samples``. Only the
        cell-based experiments (curves, screens, landscape) use it.
    """

    samples: int | None = None
    max_time: float | None = None
    seed: int | None = None
    threads: int | None = None
    target_se: float | None = None

    def __post_init__(self) -> None:
        if self.samples is not None and not (_whole(self.samples) and 1 <= self.samples <= MAX_SAMPLE_COUNT):
            raise ConfigError(f"samples must be a whole number from 1 to {MAX_SAMPLE_COUNT:,}, got {self.samples!r}; "
                              "give a positive number of trajectories")  # fmt: skip
        if self.max_time is not None and not (_number(self.max_time) and self.max_time > 0):
            raise ConfigError(f"max_time must be a positive number, got {self.max_time!r}; "
                              "give the simulated time in model rate units, e.g. 60")  # fmt: skip
        if self.seed is not None and not (_whole(self.seed) and 0 <= self.seed < 2**63):
            raise ConfigError(f"seed must be a whole number in [0, 2**63), got {self.seed!r}; give e.g. 1")
        if self.threads is not None and not (_whole(self.threads) and 1 <= self.threads <= MAX_THREADS):
            raise ConfigError(f"threads must be a whole number from 1 to {MAX_THREADS}, got {self.threads!r}; "
                              "leave it out to use every core")  # fmt: skip
        if self.target_se is not None and not (_number(self.target_se) and 0 < self.target_se < 1):
            raise ConfigError(f"target standard error must be in (0, 1), got {self.target_se!r}; "
                              "give a probability such as 0.005")  # fmt: skip

    def config(self) -> SimulationConfig:
        """The engine's configuration: ``her2.cfg`` with every setting given here replacing its own."""
        return load_config(samples=self.samples, max_time=self.max_time, seed=self.seed, threads=self.threads)

    def with_(self, **changes: int | float | None) -> RunSettings:
        """A copy with some fields changed (validated again).

        >>> RunSettings(samples=300).with_(threads=1)
        RunSettings(samples=300, max_time=None, seed=None, threads=1, target_se=None)
        """
        return replace(self, **changes)  # type: ignore[arg-type]


#: Every setting from ``her2.cfg``: the default of every function that takes ``settings``.
DEFAULT_SETTINGS = RunSettings()


def _whole(value: object) -> bool:
    """An integer (NumPy's included), never a ``bool``: ``True`` is not a sample count."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _number(value: object) -> bool:
    """A finite real number, never a ``bool``."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
