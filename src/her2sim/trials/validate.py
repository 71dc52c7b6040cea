"""Simulated trials against published results (the rows of a ``trials.tsv`` table).

Each resolved row (:mod:`her2sim.trials.published`) is computed on the simulated patients of
its design, arm and subgroup: a percentage (pCR, ORR), a Kaplan-Meier median (months) or
landmark rate (percent free of the event at a time), or a Cox hazard ratio against the control
arm (:mod:`her2sim.trials.analysis`). A row is *within* its tolerance when the simulated value
is within :data:`TOLERANCE` of the published one: ±10 points for a percentage or a landmark
rate, ±30% for a median, ±0.15 for a hazard ratio. A row's *ordering* is right when, for every
other row of the same trial and endpoint (and landmark time) that differs from it in arm only,
or in subgroup only, the simulated values are ordered as the published ones. The same
pairs give *contrast misses* (:func:`contrast_misses`): how far the simulated difference between
two arms, or two subgroups, is from the published one, in the same units of tolerance, so a fit
is held to treatment effects and not only to levels.

Examples
--------
>>> scaled_miss("percent", published=45.8, simulated=40.8)  # 5 points below: half the tolerance
-0.5
>>> round(scaled_miss("median_months", published=12.4, simulated=12.4 * 1.3), 6)
1.0
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from her2sim.errors import ConfigError
from her2sim.trials.analysis import RESPONDERS, event_free_at, hazard_ratio, km_table
from her2sim.trials.published import ResolvedRow

__all__ = ["TOLERANCE", "compare", "contrast_misses", "replicated", "scaled_miss", "simulated_value"]

#: How far a simulated value may be from the published one, per statistic.
TOLERANCE = {"percent": 10.0, "landmark_percent": 10.0, "median_months": 0.30, "hazard_ratio": 0.15}
_ENDPOINT = {"pCR": "pcr", "ORR": "orr", "PFS": "pfs", "OS": "os"}


def scaled_miss(statistic: str, published: float, simulated: float) -> float:
    """The miss in units of the tolerance (|miss| <= 1 is within): points for percentages, the
    log ratio over log(1.3) for medians, the difference for hazard ratios."""
    if not math.isfinite(simulated):
        return math.inf
    if statistic == "median_months":
        if simulated <= 0:
            return math.inf
        return math.log(simulated / published) / math.log(1 + TOLERANCE[statistic])
    return (simulated - published) / TOLERANCE[statistic]


def simulated_value(row: ResolvedRow, patients: pd.DataFrame) -> float:
    """The row's statistic on the simulated patients of its trial (NaN when inestimable)."""
    table = patients[patients["trial"] == row.design.name]
    table = table[row.subgroup.condition.mask(table)]
    endpoint = _ENDPOINT[row.endpoint.name]
    arm = table[table["arm"] == row.arm.label]
    if row.statistic == "percent":
        values = arm["pcr"].astype(bool) if endpoint == "pcr" else arm["response"].isin(RESPONDERS)
        return 100.0 * float(values.mean()) if len(values) else math.nan
    if row.statistic == "landmark_percent":
        assert row.months is not None
        return 100.0 * event_free_at(arm, endpoint, row.months)
    if row.statistic == "median_months":
        km = km_table(arm)
        found = km[km["endpoint"] == endpoint.upper()]
        return float(found["median_months"].iloc[0]) if len(found) else math.nan
    assert row.compared_to is not None
    return float(hazard_ratio(table, row.arm.label, row.compared_to.label, endpoint).hr)  # type: ignore[arg-type]


def compare(rows: Sequence[ResolvedRow], patients: pd.DataFrame | Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One line per row: published and simulated values, the scaled miss, within tolerance, ordering."""
    if isinstance(patients, Mapping):
        patients = pd.concat(list(patients.values()), ignore_index=True)
    out = pd.DataFrame(
        {
            "id": [r.id for r in rows],
            "trial": [r.design.name for r in rows],
            "arm": [r.arm.label for r in rows],
            "subgroup": [r.subgroup.name for r in rows],
            "endpoint": [r.measure for r in rows],
            "statistic": [r.statistic for r in rows],
            "published": [r.value for r in rows],
            "simulated": [simulated_value(r, patients) for r in rows],
            "source": [r.source for r in rows],
        }
    )
    out["miss"] = [
        scaled_miss(s, p, v) for s, p, v in zip(out["statistic"], out["published"], out["simulated"], strict=True)
    ]
    out["within"] = out["miss"].abs() <= 1.0
    out["ordering"] = _orderings(out)
    return out


def replicated(tables: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """The comparisons of the same rows under several seeds (each a :func:`compare` table), as
    one: the simulated value's mean, lowest and highest, and the share of seeds in which the row
    is within tolerance and its ordering right (NaN for a row without peers).

    At 1,000 patients per arm a median lands on an imaging visit, so one seed's count of rows
    within tolerance can move by a row or two; the shares say which rows are reliably met.

    Examples
    --------
    >>> a = pd.DataFrame({"id": ["T1"], "published": [10.0], "simulated": [9.0], "within": [True],
    ...                   "ordering": [float("nan")]})
    >>> b = a.assign(simulated=[13.0], within=[False])
    >>> replicated([a, b])[["simulated", "low", "high", "within_share"]].to_numpy().tolist()
    [[11.0, 9.0, 13.0, 0.5]]
    """
    if not tables:
        raise ConfigError("no comparison to replicate: give at least one seed")
    ids = [list(t["id"]) for t in tables]
    if any(i != ids[0] for i in ids):
        raise ConfigError("replicates compare different rows; compare the same table under each seed")
    simulated = np.array([t["simulated"].to_numpy(dtype=float) for t in tables])
    within = np.array([t["within"].to_numpy(dtype=float) for t in tables])
    ordering = np.array([t["ordering"].to_numpy(dtype=float) for t in tables])
    out = tables[0].drop(columns=[c for c in ("simulated", "miss", "within", "ordering") if c in tables[0]]).copy()
    out["simulated"] = simulated.mean(axis=0)
    out["low"] = simulated.min(axis=0)
    out["high"] = simulated.max(axis=0)
    out["within_share"] = within.mean(axis=0)
    out["ordering_share"] = ordering.mean(axis=0)  # NaN stays NaN where a row has no peers
    out["replicates"] = len(tables)
    return out


def _peers(table: pd.DataFrame, i: int) -> pd.DataFrame:
    """The rows comparable with row ``i``: same trial, statistic and endpoint, differing in arm
    only or in subgroup only."""
    row = table.loc[i]
    same = table[(table["trial"] == row["trial"]) & (table["statistic"] == row["statistic"])
                 & (table["endpoint"] == row["endpoint"]) & (table.index != i)]  # fmt: skip
    return same[(same["subgroup"] == row["subgroup"]) ^ (same["arm"] == row["arm"])]


def contrast_misses(table: pd.DataFrame) -> np.ndarray:
    """For each comparable pair of rows of :func:`compare`'s table (each pair once), the miss of
    the simulated difference against the published one, in units of the statistic's tolerance
    (medians and hazard ratios on the log scale as in :func:`scaled_miss`); inf where a value is
    inestimable."""
    out = []
    for i in table.index:
        for j, peer in _peers(table, i).iterrows():
            if j > i:
                row = table.loc[i]
                if not (math.isfinite(row["simulated"]) and math.isfinite(peer["simulated"])):
                    out.append(math.inf)
                    continue
                published = scaled_miss(row["statistic"], peer["published"], row["published"])
                simulated = scaled_miss(row["statistic"], peer["simulated"], row["simulated"])
                out.append(simulated - published)
    return np.array(out, dtype=float)


def _orderings(table: pd.DataFrame) -> list[float]:
    """Per row: 1 when every comparable row is ordered as published, 0 when one is not, NaN when
    none is comparable (or a published tie)."""
    result = []
    for i, row in table.iterrows():
        peers = _peers(table, i)
        signs = [
            np.sign(row["published"] - p["published"]) == np.sign(row["simulated"] - p["simulated"])
            for _, p in peers.iterrows()
            if p["published"] != row["published"]
        ]
        result.append(float(all(signs)) if signs else math.nan)
    return result
