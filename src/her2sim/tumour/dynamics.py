"""Tumour dynamics over days to months: clones grow and die under a treatment schedule.

Each day (``dt``) every clone ``i`` grows by its birth rate minus its death rate
(:class:`~her2sim.tumour.rates.CloneRates`). Two methods:

``deterministic``
    ``N_i(t + dt) = N_i(t) exp((b_i - d_i) dt)``, exact for rates constant over a step.
``stochastic``
    tau-leaping for clones below ``stochastic_below`` cells (births and deaths drawn from
    Poisson distributions, so a small clone can die out or escape), the deterministic step for
    larger ones; seeded and reproducible.

The schedule is followed line by line. A line starting at ``progression`` begins on the day
the previous line fails. Progression is RECIST-like on the total burden: at least 20% above
its lowest point since the line started. Response: the burden falls at least 30% below its
value at the start of the line.

Examples
--------
>>> from her2sim.tumour.spec import read_tumour, Line
>>> tumour = read_tumour("example:homogeneous_3plus").with_schedule((Line("lapatinib", 0.0),))
>>> result = simulate_tumour(tumour, days=180)
>>> result.best_response
'PR'
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from her2sim.errors import ConfigError
from her2sim.her2.scenario import Her2Simulator
from her2sim.her2.therapies import Regimen
from her2sim.tumour.rates import CloneRates
from her2sim.tumour.spec import Tumour

__all__ = ["PROGRESSION", "RESPONSE", "TumourResult", "simulate_tumour"]

#: Progression: burden at least this much above its nadir since the line started.
PROGRESSION = 0.20
#: Response: burden at least this much below its value at the start of the line.
RESPONSE = 0.30
#: Complete response: burden below this fraction of the starting burden (undetectable).
COMPLETE = 1e-3


@dataclass(frozen=True)
class TumourResult:
    """Clone sizes over time, the lines actually given, and the response summary."""

    tumour: str
    cells: pd.DataFrame  # day x clone
    lines: pd.DataFrame  # line, therapy, start, stop, ended_by, progression_day
    best_response: str
    time_to_progression: float  # days from the first line's start; nan if none
    method: str

    @property
    def burden(self) -> pd.Series:
        return self.cells.sum(axis=1)

    def fractions(self) -> pd.DataFrame:
        """Each clone's share of the tumour over time (zero where the tumour is gone)."""
        total = self.burden.replace(0, np.nan)
        return self.cells.div(total, axis=0).fillna(0.0)

    def tidy(self) -> pd.DataFrame:
        """One row per day and clone: cells and share, with the therapy given that day."""
        long = self.cells.reset_index().melt(id_vars="day", var_name="clone", value_name="cells")
        shares = self.fractions().reset_index().melt(id_vars="day", var_name="clone", value_name="fraction")
        out = long.merge(shares, on=["day", "clone"])
        out["therapy"] = out["day"].map(self._therapy_on)
        return out

    def _therapy_on(self, day: float) -> str:
        for row in self.lines.itertuples(index=False):
            # a line still running when the simulation ends also covers its last day
            if row.start <= day < row.stop or (day == row.stop and not row.ended_by):
                return str(row.therapy)
        return "untreated"


def simulate_tumour(
    tumour: Tumour,
    days: float = 365.0,
    *,
    method: str = "deterministic",
    dt: float = 1.0,
    seed: int = 1,
    stochastic_below: float = 1e5,
    simulator: Her2Simulator | None = None,
) -> TumourResult:
    """Simulate ``tumour`` under its schedule for ``days`` days (see the module docstring)."""
    if method not in ("deterministic", "stochastic"):
        raise ConfigError(f"method must be deterministic or stochastic, not {method!r}")
    if not (math.isfinite(days) and days > 0 and math.isfinite(dt) and 0 < dt <= days):
        raise ConfigError(f"days must be > 0 and dt in (0, days], got days={days}, dt={dt}")
    rates = CloneRates(tumour, simulator)
    plan = [(rates.sim.regimen(line.therapy), line) for line in tumour.schedule]
    rates.prepare([Regimen(), *(r for r, _ in plan)])
    rng = np.random.default_rng(seed)
    sizes = np.array([c.fraction * tumour.cells for c in tumour.clones], dtype=float)
    steps = math.ceil(days / dt)
    record = np.zeros((steps + 1, len(sizes)))
    record[0] = sizes
    given: list[dict[str, object]] = []
    state = _LineState()

    for step in range(steps):
        day = step * dt
        nxt = state.index + 1
        start = plan[nxt][1].start if nxt < len(plan) else None  # a day, or "progression"
        if isinstance(start, float) and start <= day + 1e-9:
            state.begin(nxt, day, float(sizes.sum()), given, plan[nxt][1].therapy, "next line")
        line = plan[state.index][1] if state.index >= 0 else None
        if line is not None and state.on and line.stop is not None and day >= line.stop:
            state.end(day, given, "scheduled stop")
        regimen = plan[state.index][0] if state.on else Regimen()
        total = sizes.sum()
        birth, death = rates.rates(regimen, sizes / total if total > 0 else sizes)
        sizes = _step(sizes, birth, death, dt, method, stochastic_below, rng)
        record[step + 1] = sizes
        later = (step + 1) * dt
        if state.on and state.progressed(float(sizes.sum()), later):
            given[-1]["progression_day"] = later
            if nxt < len(plan) and plan[nxt][1].start == "progression":
                state.begin(nxt, later, float(sizes.sum()), given, plan[nxt][1].therapy, "progression")
    if state.on:
        state.end(steps * dt, given, "")
    frame = pd.DataFrame(record, columns=[c.name for c in tumour.clones])
    frame.index = pd.Index(np.arange(steps + 1) * dt, name="day")
    frame.columns.name = "clone"
    table = pd.DataFrame(given, columns=["line", "therapy", "start", "stop", "ended_by", "progression_day"])
    return TumourResult(tumour.name, frame, table, state.best_response(), state.first_progression, method)


def _step(
    sizes: np.ndarray, birth: np.ndarray, death: np.ndarray, dt: float, method: str, below: float,
    rng: np.random.Generator,
) -> np.ndarray:  # fmt: skip
    """One time step: exponential growth, or tau-leaping for the small clones."""
    out = sizes * np.exp((birth - death) * dt)
    if method == "stochastic":
        small = sizes < below
        n = np.round(sizes[small])
        born = rng.poisson(np.clip(birth[small] * n * dt, 0, None))
        died = rng.poisson(np.clip(death[small] * n * dt, 0, None))
        out[small] = np.maximum(n + born - died, 0.0)
    return out


class _LineState:
    """Bookkeeping of the line being given: start, nadir, progression, first-line response."""

    def __init__(self) -> None:
        self.index = -1
        self.on = self.line_progressed = False
        self.baseline = self.nadir = math.nan
        self.first_start = math.nan
        self.first_lowest = math.inf  # lowest burden / baseline on the first line
        self.first_progression = math.nan

    def begin(self, i: int, day: float, burden: float, given: list[dict[str, object]], therapy: str, why: str) -> None:
        if self.on:
            self.end(day, given, why)
        self.index, self.on, self.line_progressed = i, True, False
        self.baseline = self.nadir = burden
        if i == 0:
            self.first_start = day
        given.append({"line": i + 1, "therapy": therapy, "start": day, "stop": math.nan, "ended_by": ""})

    def end(self, day: float, given: list[dict[str, object]], why: str) -> None:
        given[-1]["stop"] = day
        if why and not given[-1]["ended_by"]:
            given[-1]["ended_by"] = why
        self.on = False

    def progressed(self, burden: float, day: float) -> bool:
        """Update the nadir; True on the step the burden first reaches progression on this line."""
        self.nadir = min(self.nadir, burden)
        if self.index == 0:
            self.first_lowest = min(self.first_lowest, burden / self.baseline)
        if self.line_progressed or burden < (1 + PROGRESSION) * self.nadir:
            return False
        self.line_progressed = True
        if self.index == 0:
            self.first_progression = day - self.first_start
        return True

    def best_response(self) -> str:
        if math.isinf(self.first_lowest):
            return "NE"
        if self.first_lowest <= COMPLETE:
            return "CR"
        if self.first_lowest <= 1 - RESPONSE:
            return "PR"
        return "PD" if not math.isnan(self.first_progression) else "SD"
