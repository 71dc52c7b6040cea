"""Population-level parameters fitted to published trial results, with the cell model fixed.

The cell model's parameters come from the cell calibration (:mod:`her2sim.calibration`) and stay
as they are. What a trial adds, and what no cell measurement constrains, is fitted here, to the
rows of a results table only: the tumour parameters marked ``fit: true`` in
``trials/data/kinetics.yaml`` and the kill rate ``kmax`` of each chemotherapy the rows' arms
give. Each arm of the rows' designs is prepared once (:func:`~her2sim.trials.simulate.prepare_arm`:
patients, exposures, cell-model responses); a candidate parameter set then only re-runs the clone
dynamics and the endpoints, so a fit costs seconds per candidate, not a cell simulation.

The fit uses :func:`her2sim.calibration.fit.calibrate` (optuna TPE or pyabc ABC-SMC, resumable
in a directory); a row's miss is scaled by its tolerance (:func:`~her2sim.trials.validate.scaled_miss`),
each pair of rows that differ in arm or in subgroup adds the miss of their difference
(:func:`~her2sim.trials.validate.contrast_misses`), and a value the simulation cannot estimate (a
median not reached) counts as a miss of :data:`INESTIMABLE`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from her2sim.errors import ConfigError
from her2sim.experiments.sensitivity import Factor, Space
from her2sim.her2.ensemble import weighted_quantiles
from her2sim.her2.posterior import Posterior
from her2sim.trials.chemotherapy import chemotherapy_library, kill_rates
from her2sim.trials.defaults import KINDS, split_values
from her2sim.trials.design import DrugItem, Given, TrialDesign
from her2sim.trials.kinetics import Kinetics, kinetics
from her2sim.trials.published import ResolvedRow
from her2sim.trials.simulate import Prepared, TrialSettings, outcomes, prepare_arm, warm_tables
from her2sim.trials.validate import compare, contrast_misses

__all__ = ["INESTIMABLE", "TrialProblem", "population_space", "prepare"]

#: Scaled miss of a row whose statistic the simulation cannot estimate.
INESTIMABLE = 4.0
#: Antibody exposures at which a fit keeps each arm's effects (log-spaced over the prior).
EXPOSURE_LEVELS = 7
_TUMOUR, _KILL = KINDS


def population_space(rows: Sequence[ResolvedRow], kin: Kinetics | None = None) -> Space:
    """The fitted tumour parameters and the kmax of each chemotherapy the rows' arms give."""
    kin = kin or kinetics()
    factors = [Factor(_TUMOUR, name, p.value, *p.prior) for name, p in kin.fitted().items()]
    library = chemotherapy_library()
    given = sorted({item.drug for design in _designs(rows) for arm in design.arms for item in _items(arm.drugs)
                    if item.kind == "chemotherapy"})  # fmt: skip
    factors += [Factor(_KILL, name, library[name].kmax, *library[name].kmax_prior) for name in given]
    return Space(tuple(factors))


def _designs(rows: Sequence[ResolvedRow]) -> list[TrialDesign]:
    return list({r.design.name: r.design for r in rows}.values())


def _items(drugs: Iterable[Given]) -> Iterator[DrugItem]:
    for given in drugs:
        yield from given.options


def prepare(rows: Sequence[ResolvedRow], settings: TrialSettings, kin: Kinetics | None = None) -> tuple[Prepared, ...]:
    """Every arm of the rows' designs, prepared with ``settings`` (patients per arm and seed); when
    the antibody exposure is fitted, its effects are kept at :data:`EXPOSURE_LEVELS` values
    spanning its prior."""
    kin = kin or kinetics()
    simulator = settings.simulator()
    exposure = kin.parameters["antibody_exposure"]
    levels = tuple(np.geomspace(*exposure.prior, EXPOSURE_LEVELS)) if exposure.fit else None
    out: list[Prepared] = []
    for design in _designs(rows):
        warm_tables(design, settings, kin, simulator)
        out.extend(prepare_arm(design, arm, settings, kin, simulator, levels=levels) for arm in design.arms)
    return tuple(out)


@dataclass(frozen=True)
class TrialProblem:
    """A population fit: published rows, prepared arms and the space of population parameters."""

    rows: tuple[ResolvedRow, ...]
    arms: tuple[Prepared, ...]
    space: Space
    kin: Kinetics = field(default_factory=kinetics)
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.rows:
            raise ConfigError("a trial fit needs at least one published row")
        if not self.space.factors:
            raise ConfigError("a trial fit needs at least one parameter to fit")

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.space.factors]

    @property
    def size(self) -> int:
        return len(self.rows)

    def parameters(self, values: Sequence[float]) -> tuple[Kinetics, dict[str, float]]:
        """(kinetics, kill rates) at ``values`` (natural units, in the order of the space)."""
        tumour, kill = split_values(self.names, list(values))
        return self.kin.with_values(tumour), kill_rates(kill)

    def patients(self, values: Sequence[float]) -> pd.DataFrame:
        """The simulated patients of every prepared arm at ``values``."""
        kin, kill = self.parameters(values)
        return pd.concat([outcomes(arm, kin, kill) for arm in self.arms], ignore_index=True)

    def table(self, values: Sequence[float]) -> pd.DataFrame:
        """Published against simulated, per row, at ``values``."""
        return compare(self.rows, self.patients(values))

    def misses(self, values: Sequence[float], threads: int | None = None) -> np.ndarray:
        """Each row's scaled miss, then each comparable pair's contrast miss (arm against arm,
        subgroup against subgroup), so the fit answers for treatment effects as well as levels."""
        table = self.table(values)
        miss = np.concatenate([table["miss"].to_numpy(dtype=float), contrast_misses(table)])
        return np.where(np.isfinite(miss), miss, INESTIMABLE)

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        digest.update(repr([(r.id, r.design.name, r.arm.label, r.subgroup.name, r.statistic, r.value)
                            for r in self.rows]).encode())  # fmt: skip
        digest.update(repr([(f.name, f.low, f.high) for f in self.space.factors]).encode())
        digest.update(repr([(a.design.name, a.arm.label, len(a.patients)) for a in self.arms]).encode())
        digest.update(repr(sorted((k, p.value) for k, p in self.kin.parameters.items())).encode())
        digest.update(str(self.seed).encode())
        return digest.hexdigest()[:16]

    def predictions(self, posterior: Posterior, members: int) -> pd.DataFrame:
        """Each row at the best parameters, with the 5-95% range over ``members`` posterior draws."""
        best = self.table(list(posterior.values[int(np.argmin(posterior.loss))]))
        draws = posterior.draw(members, self.seed)
        sims = np.array([self.table(list(posterior.values[i]))["simulated"].to_numpy(dtype=float) for _, i in draws])
        weights = np.array([w for w, _ in draws])
        best["low"], best["high"] = weighted_quantiles(sims, weights, (0.05, 0.95))
        return best
