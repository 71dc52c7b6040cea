"""Run settings, kept apart from the network as MaBoSS keeps ``.cfg`` apart from ``.bnd``.

Examples
--------
>>> SimulationConfig(max_time=50, time_tick=0.5, sample_count=1000).n_windows
100
>>> SimulationConfig(sample_count=0)
Traceback (most recent call last):
...
her2sim.errors.ConfigError: sample_count must be a whole number from 1 to 1,000,000,000, got 0

A configuration remembers which settings were chosen (:attr:`SimulationConfig.explicit`), so
that a file that states only some of them is written back with those only, and so that its
choices can be laid over other defaults (:meth:`SimulationConfig.over`):

>>> stated = SimulationConfig(explicit=frozenset()).with_(sample_count=50)
>>> sorted(stated.explicit), stated.over(MABOSS_DEFAULTS).max_time
(['sample_count'], 1000.0)
"""

from __future__ import annotations

import math
import numbers
import os
from dataclasses import dataclass, field, fields, replace

from her2sim.errors import ConfigError

__all__ = ["MABOSS_DEFAULTS", "MAX_SAMPLE_COUNT", "MAX_THREADS", "SETTINGS", "SimulationConfig"]

#: Most trajectories one run may ask for (memory does not grow with them; time does).
MAX_SAMPLE_COUNT = 10**9
#: Most worker threads one run may ask for.
MAX_THREADS = 4096


@dataclass(frozen=True, slots=True)
class SimulationConfig:
    """How to simulate: time span, statistics windows, sample size, seed and threads.

    Parameters
    ----------
    max_time:
        Each trajectory runs until this time (MaBoSS ``max_time``).
    time_tick:
        Width of the windows over which probabilities are time-averaged (``time_tick``).
        There are ``floor(max_time / time_tick)`` windows, as in MaBoSS.
    sample_count:
        Number of trajectories (``sample_count``).
    seed:
        Seed of the random streams (``seed_pseudorandom``); trajectory *i* draws from a
        stream keyed by (seed, i), so results do not depend on the thread count.
    threads:
        Worker threads; ``None`` uses every core of the machine (``thread_count``).
    discrete_time:
        MaBoSS ``discrete_time``: every transition takes exactly ``time_tick``.
    max_states:
        Bound on the state statistics each thread keeps: at most this many entries (a
        state in a time window, a final state, a fixed point) per table. Time that finds
        no room is counted as overflow and the result says so (``state_overflow``).
        ``None`` (the default) sizes the bound when a run starts, from the memory then
        available (see :func:`her2sim.engine.memory.default_max_states`), so that a run
        keeps every state wherever memory allows; the result's ``meta`` records the bound used.
    max_flips:
        Refuse a run expected to make more flips than this (estimated before it starts,
        see :mod:`her2sim.engine.work`); the default is about a day of computing.
    extra:
        Other MaBoSS settings (``statdist_traj_count``, ``display_traj``...), kept so that a
        configuration read from a ``.cfg`` file is written back unchanged.
    explicit:
        The settings (field names) chosen on purpose rather than left to a default. A
        configuration built in code states every setting (the default); one read from a
        ``.cfg`` file states those the file sets, even at their default value, and
        :meth:`with_` adds the settings it changes. Writers write the stated settings only, and
        :meth:`over` lays them over other defaults. It is provenance, not a setting: two
        configurations with the same settings are equal whatever they state.
    """

    max_time: float = 100.0
    time_tick: float = 1.0
    sample_count: int = 10_000
    seed: int = 0
    threads: int | None = None
    discrete_time: bool = False
    max_states: int | None = None
    max_flips: float = 1e12
    extra: tuple[tuple[str, float], ...] = ()
    explicit: frozenset[str] = field(default_factory=lambda: SETTINGS, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not (isinstance(self.max_time, (int, float)) and math.isfinite(self.max_time) and self.max_time > 0):
            raise ConfigError(f"max_time must be a positive number, got {self.max_time}")
        if not (isinstance(self.time_tick, (int, float)) and math.isfinite(self.time_tick) and self.time_tick > 0):
            raise ConfigError(f"time_tick must be a positive number, got {self.time_tick}")
        if self.time_tick > self.max_time:
            raise ConfigError(
                f"time_tick ({self.time_tick}) is larger than max_time ({self.max_time}): no window to report"
            )
        if not (_whole(self.sample_count) and 1 <= self.sample_count <= MAX_SAMPLE_COUNT):
            raise ConfigError(
                f"sample_count must be a whole number from 1 to {MAX_SAMPLE_COUNT:,}, got {self.sample_count}"
            )
        if self.threads is not None and not (_whole(self.threads) and 1 <= self.threads <= MAX_THREADS):
            raise ConfigError(f"threads must be a whole number from 1 to {MAX_THREADS}, got {self.threads}")
        if not (_whole(self.seed) and 0 <= self.seed < 2**63):
            raise ConfigError(f"seed must be a whole number in [0, 2**63), got {self.seed}")
        if self.max_states is not None and not (_whole(self.max_states) and 1 <= self.max_states < 2**62):
            raise ConfigError(f"max_states must be a whole number from 1 to 2**62, got {self.max_states}")
        if not (isinstance(self.max_flips, (int, float)) and self.max_flips > 0):
            raise ConfigError(f"max_flips must be a positive number, got {self.max_flips}")
        if not self.explicit <= SETTINGS:
            unknown = ", ".join(sorted(self.explicit - SETTINGS))
            raise ConfigError(f"explicit names settings a configuration does not have: {unknown}")

    @property
    def n_windows(self) -> int:
        """Number of statistics windows: ``floor(max_time / time_tick)`` (tolerant to rounding)."""
        return max(1, math.floor(self.max_time / self.time_tick + 1e-9))

    @property
    def thread_count(self) -> int:
        """Threads actually used: ``threads`` or the machine's cores, never more than samples."""
        wanted = self.threads or os.cpu_count() or 1
        return max(1, min(wanted, self.sample_count))

    def with_(self, **changes: object) -> SimulationConfig:
        """A copy with some settings changed (validated again); the changed settings are explicit."""
        return replace(self, **changes, explicit=self.explicit.union(changes))  # type: ignore[arg-type]

    def over(self, defaults: SimulationConfig) -> SimulationConfig:
        """This configuration's explicit settings laid over ``defaults``.

        A setting this configuration states keeps its value, even one equal to a default; a
        setting it leaves unset takes the value of ``defaults``. This is how a ``.cfg`` read
        without some settings meets defaults other than the reader's: MaBoSS's own for its
        command line, the explorer's for an uploaded model.

        Examples
        --------
        >>> file = SimulationConfig(explicit=frozenset()).with_(threads=1, max_time=5)
        >>> laid = file.over(SimulationConfig(max_time=50, time_tick=2, threads=4))
        >>> laid.threads, laid.max_time, laid.time_tick
        (1, 5, 2)
        """
        stated = {name: getattr(self, name) for name in self.explicit}
        return replace(defaults, **stated, explicit=defaults.explicit | self.explicit)


def _whole(value: object) -> bool:
    """An integer (NumPy's included), never a ``bool``: ``True`` is not a sample count."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


#: The settings of a :class:`SimulationConfig`, by field name (what :attr:`~SimulationConfig.explicit` may hold).
SETTINGS: frozenset[str] = frozenset(f.name for f in fields(SimulationConfig)) - {"explicit"}

#: MaBoSS's own defaults (RunConfig): what MaBoSS runs when a ``.cfg`` leaves a setting out.
#: her2sim's ``.cfg`` reader takes them too, except for ``thread_count`` (see
#: :func:`her2sim.formats.maboss.parse_cfg`); its command line ``her2sim maboss`` takes all of them.
MABOSS_DEFAULTS = SimulationConfig(max_time=1000.0, time_tick=0.5, sample_count=10_000, seed=0, threads=1)
