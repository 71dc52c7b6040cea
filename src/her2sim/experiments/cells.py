"""Cells: the unit of work of every experiment (one context under one regimen).

Dose-response curves, combination screens, the resistance landscape and cohorts are all
lists of cells. :func:`evaluate_cells` simulates a list of cells in one batch through one
compiled kernel and returns a tidy table: one row per cell and readout, with the treated and
untreated values and the effect. Each cell's sample count is chosen adaptively so that its
readouts' standard error (measured from the spread of per-trajectory averages) is below a
target (see :func:`required_samples`).

Examples
--------
>>> table = evaluate_cells([Cell("ERBB2:amp", "lapatinib"), Cell("ERBB2:amp", "")], settings=RunSettings(samples=300))
>>> sorted(table["therapy"].unique())
['lapatinib', 'untreated']
>>> bool(table.query("therapy == 'untreated'")["effect"].eq(0).all())
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import pandas as pd

from her2sim.errors import ConfigError
from her2sim.her2.scenario import READOUTS, Her2Simulator, effect, effect_se
from her2sim.her2.settings import DEFAULT_SETTINGS, RunSettings
from her2sim.her2.therapies import Regimen

__all__ = ["MAX_SAMPLES", "Cell", "evaluate_cells", "required_samples"]

#: Upper bound of trajectories per cell in adaptive sampling.
MAX_SAMPLES = 10_000
#: Trajectories of the pilot run of adaptive sampling when the settings give none.
_PILOT = 1000


@dataclass(frozen=True)
class Cell:
    """One context under one regimen, with labels carried to the result table.

    ``context`` uses the alteration library's names separated by ``;``; ``therapy`` the
    therapy library's names joined by ``+``, each optionally ``@dose`` (empty: untreated).
    """

    context: str
    therapy: str
    labels: Mapping[str, object] = field(default_factory=dict)


def required_samples(se: float, samples: int, target_se: float, maximum: int = MAX_SAMPLES) -> int:
    """Trajectories for a readout whose standard error was ``se`` at ``samples`` to reach ``target_se``.

    The error of a mean falls as ``1/sqrt(N)``: ``N = samples (se / target)^2``, at least
    ``samples`` (the pilot is kept) and at most ``maximum``.

    >>> required_samples(0.01, 1000, 0.005), required_samples(0.002, 1000, 0.005), required_samples(0.1, 1000, 0.005)
    (4000, 1000, 10000)
    """
    if not 0 < target_se < 1:
        raise ConfigError(f"target standard error must be in (0, 1), got {target_se}")
    return int(min(maximum, max(samples, math.ceil(samples * (se / target_se) ** 2))))


def evaluate_cells(
    cells: Sequence[Cell], *, settings: RunSettings = DEFAULT_SETTINGS, readouts: Sequence[str] = tuple(READOUTS)
) -> pd.DataFrame:
    """Simulate ``cells`` (and each context untreated) and return one row per cell and readout.

    With ``settings.target_se``, a pilot run at ``settings.samples`` (default 1,000)
    trajectories measures each readout's standard error; cells needing more trajectories
    (:func:`required_samples`, at most :data:`MAX_SAMPLES`) get only the missing ones, from
    independent random streams, pooled with the pilot. Columns: the cell's labels, ``context``,
    ``therapy``, ``readout``, ``treated``, ``untreated``, ``effect``,
    ``effect_se`` (its standard error, from the per-trajectory spread of both values),
    ``samples`` (trajectories of the treated cell).
    """
    target_se = settings.target_se
    if target_se is not None and settings.samples is None:
        settings = settings.with_(samples=_PILOT)
    sim = Her2Simulator(settings.config())
    resolved = [(sim.context(c.context), sim.regimen(c.therapy or None)) for c in cells]
    untreated = Regimen()
    pairs = [p for context, regimen in resolved for p in ((context, regimen), (context, untreated))]
    values = sim.readouts(pairs)
    errors = sim.readout_errors(pairs)
    counts = [sim.config.sample_count] * len(pairs)
    if target_se is not None:
        pilot_n = sim.config.sample_count
        need = [max(required_samples(e[r], pilot_n, target_se) for r in readouts) for e in errors]
        # a cell gets what it or its baseline needs; a context's baseline, the most any of its
        # cells needs, so every cell of a context is compared with the same untreated value
        cell_need = [max(need[2 * k], need[2 * k + 1]) for k in range(len(resolved))]
        base_need: dict[str, int] = {}
        for (context, _), n in zip(resolved, cell_need, strict=True):
            base_need[context.label] = max(base_need.get(context.label, pilot_n), n)
        need = [n for (context, _), c in zip(resolved, cell_need, strict=True) for n in (c, base_need[context.label])]
        for total in sorted(set(need) - {pilot_n}):
            todo = [i for i, k in enumerate(need) if k == total]
            extra = total - pilot_n  # only the missing trajectories, from independent streams
            more = Her2Simulator(replace(sim.config, sample_count=extra, seed=sim.config.seed + 1))
            extra_pairs = [pairs[i] for i in todo]
            for i, v, e in zip(todo, more.readouts(extra_pairs), more.readout_errors(extra_pairs), strict=True):
                values[i] = {r: (pilot_n * values[i][r] + extra * v[r]) / total for r in values[i]}
                errors[i] = {r: math.hypot(pilot_n * errors[i][r], extra * e[r]) / total for r in errors[i]}
                counts[i] = total
    rows = []
    for k, (cell, (context, regimen)) in enumerate(zip(cells, resolved, strict=True)):
        treated, base = values[2 * k], values[2 * k + 1]
        treated_se, base_se = errors[2 * k], errors[2 * k + 1]
        for readout in readouts:
            t, b = treated[readout], base[readout]
            rows.append(
                {
                    **cell.labels,
                    "context": context.label,
                    "therapy": regimen.label,
                    "readout": readout,
                    "treated": t,
                    "untreated": b,
                    "effect": effect(readout, t, b),
                    "effect_se": effect_se(readout, t, b, treated_se[readout], base_se[readout]),
                    "samples": counts[2 * k],
                }
            )
    return pd.DataFrame.from_records(rows)
