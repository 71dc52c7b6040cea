"""Predictions over the calibrated posterior: credible intervals, and how often a call holds.

A calibrated model is an ensemble of parameter sets (:mod:`her2sim.her2.posterior`). Each
function here runs its question once per member, with the member's weight, and reports the
weighted median and 5-95% interval of every number, and for every call (sensitive, resistant,
a finding passing) the share of the ensemble that makes it.

Examples
--------
>>> members = [(0.5, Perturbation()), (0.5, Perturbation(potency={"lapatinib": 3.0}))]
>>> table = scenario_ensemble("ERBB2:amp", "lapatinib", members, settings=RunSettings(samples=300))
>>> bool(table.loc["proliferation", "effect_low"] <= table.loc["proliferation", "effect_high"])
True
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from her2sim.errors import ConfigError
from her2sim.her2.perturbation import Perturbation
from her2sim.her2.posterior import Posterior, default_posterior
from her2sim.her2.scenario import READOUTS, Her2Simulator, effect
from her2sim.her2.settings import DEFAULT_SETTINGS, RunSettings
from her2sim.her2.therapies import Regimen
from her2sim.her2.validation import Expectation, classify, validate

__all__ = ["Members", "members", "rank_ensemble", "scenario_ensemble", "validate_ensemble", "weighted_quantiles"]

Members = Sequence[tuple[float, Perturbation]]
_QUANTILES = (0.05, 0.5, 0.95)


def members(n: int, posterior: Posterior | None = None, seed: int = 0) -> list[tuple[float, Perturbation]]:
    """``n`` members of ``posterior`` (default: the shipped one), by weight."""
    posterior = posterior or default_posterior()
    if posterior is None:
        raise ConfigError("this installation has no calibrated posterior (her2/data/posterior.tsv); "
                          "run her2sim calibrate, or leave out --ensemble")  # fmt: skip
    return posterior.sample(n, seed)


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, q: Sequence[float] = _QUANTILES) -> np.ndarray:
    """Quantiles of ``values`` (members along the first axis) under ``weights``; one row per q."""
    values = np.asarray(values, dtype=float)
    order = np.argsort(values, axis=0)
    out = np.empty((len(q), *values.shape[1:]))
    flat_values = values.reshape(len(values), -1)
    flat_order = order.reshape(len(values), -1)
    for j in range(flat_values.shape[1]):
        keep = flat_order[:, j][weights[flat_order[:, j]] > 0]  # members without weight take no part
        w = weights[keep]
        cumulative = (np.cumsum(w) - 0.5 * w) / w.sum()
        out.reshape(len(q), -1)[:, j] = np.interp(q, cumulative, flat_values[keep, j])
    return out


def _simulators(ensemble: Members, settings: RunSettings) -> tuple[np.ndarray, list[Her2Simulator]]:
    if not ensemble:
        raise ConfigError("an ensemble needs at least one member")
    config = settings.config()
    return np.array([w for w, _ in ensemble]), [Her2Simulator(config, p) for _, p in ensemble]


def scenario_ensemble(
    alterations: str, therapy: str | None, ensemble: Members, *, settings: RunSettings = DEFAULT_SETTINGS
) -> pd.DataFrame:
    """Per readout: untreated, treated and effect as median with 5-95% interval over the
    ensemble, and the share of the ensemble calling it sensitive, partial or resistant."""
    weights, sims = _simulators(ensemble, settings)
    values = []
    for sim in sims:
        context, regimen = sim.context(alterations), sim.regimen(therapy)
        treated, untreated = sim.readouts([(context, regimen), (context, Regimen())])
        values.append([[untreated[k], treated[k], effect(k, treated[k], untreated[k])] for k in READOUTS])
    array = np.array(values)  # members x readouts x (untreated, treated, effect)
    q = weighted_quantiles(array, weights)
    records = {}
    for i, name in enumerate(READOUTS):
        row: dict[str, float] = {}
        for j, what in enumerate(("untreated", "treated", "effect")):
            row[f"{what}_low"], row[what], row[f"{what}_high"] = q[0, i, j], q[1, i, j], q[2, i, j]
        calls = [classify(e) for e in array[:, i, 2]]
        for label in ("sensitive", "partial", "resistant"):
            row[f"share_{label}"] = float(weights[[c == label for c in calls]].sum() / weights.sum())
        records[name] = row
    frame = pd.DataFrame.from_dict(records, orient="index")
    frame.index.name = "readout"
    return frame


def validate_ensemble(
    rows: Sequence[Expectation], ensemble: Members, *, settings: RunSettings = DEFAULT_SETTINGS
) -> pd.DataFrame:
    """Every row of an expectations table under every member: effect median and 5-95%
    interval, and ``pass_share``, the weighted share of the ensemble in which the row passes."""
    weights, sims = _simulators(ensemble, settings)
    tables = [validate(rows, sim) for sim in sims]
    effects = np.array([t["effect"].to_numpy(dtype=float) for t in tables])
    passes = np.array([t["passed"].to_numpy(dtype=float) for t in tables])
    q = weighted_quantiles(effects, weights)
    out = tables[0][["id", "context", "therapy", "readout", "expected", "compare_to"]].copy()
    out["effect_low"], out["effect"], out["effect_high"] = q[0], q[1], q[2]
    out["pass_share"] = weights @ passes / weights.sum()
    return out


def rank_ensemble(
    context: str, therapies: Sequence[str], ensemble: Members, *, settings: RunSettings = DEFAULT_SETTINGS
) -> pd.DataFrame:
    """Regimens ranked by their median proliferation effect over the ensemble, with its
    5-95% interval and the share of the ensemble calling each class."""
    weights, sims = _simulators(ensemble, settings)
    effects = []
    for sim in sims:
        ctx = sim.context(context)
        regimens = [sim.regimen(t) for t in therapies]
        results = sim.readouts([(ctx, r) for r in regimens] + [(ctx, Regimen())])
        base = results[-1]["proliferation"]
        effects.append([effect("proliferation", r["proliferation"], base) for r in results[:-1]])
    array = np.array(effects)
    q = weighted_quantiles(array, weights)
    labels = [sims[0].regimen(t).label for t in therapies]
    table = pd.DataFrame({"therapy": labels, "effect_low": q[0], "effect": q[1], "effect_high": q[2]})
    for label in ("sensitive", "partial", "resistant"):
        calls = np.vectorize(classify)(array) == label
        table[f"share_{label}"] = weights @ calls / weights.sum()
    table = table.sort_values("effect", ascending=False, kind="stable").reset_index(drop=True)
    table.insert(0, "rank", range(1, len(table) + 1))
    return table
