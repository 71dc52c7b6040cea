"""A virtual trial: eligible patients drawn from the design's population, each arm's drugs acting on
each patient's clones through PK and the cell model, RECIST assessments at the design's visits.

The steps, per arm:

1. **Enrol** (:func:`enrol`): sample the arm's population (:mod:`her2sim.trials.population`) in
   growing batches until enough patients meet the trial's and the arm's eligibility.
2. **Tumours** (:func:`tumours`): each patient's main clone (their context) and a resistant
   subclone (a mechanism of :mod:`her2sim.trials.kinetics`), and the draws that the
   population-level parameters turn into growth rates and subclone sizes.
3. **Effects** (:func:`her2sim.trials.arm.arm_effects`): daily exposures and the cell model's
   response of each clone (computed once; :class:`Prepared` keeps them for a calibration).
4. **Outcomes** (:func:`outcomes`): clone courses (:mod:`her2sim.trials.dynamics`), sums of
   diameters, new lesions from the occult deposit, and RECIST at each imaging visit, PFS, best
   response, pCR at surgery, and what progressed: a new lesion, or the clone that was largest
   when the target lesions progressed.

Metastatic tumours are measured as one sphere whose diameter is the sum of the target lesions'
diameters (the RECIST sum), so its volume gives the number of cells; a neoadjuvant tumour is a
sphere of its clinical diameter. Overall survival is not modelled.

Examples
--------
>>> from her2sim.trials.design import design
>>> result = run_trial(design("NeoSphere"), patients=40, seed=1)  # doctest: +SKIP
>>> sorted(result.patients["arm"].unique())  # doctest: +SKIP
['HP', 'TH', 'THP', 'TP']
"""

from __future__ import annotations

import hashlib
import math
import os
import warnings
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from her2sim.errors import ConfigError, Her2simWarning
from her2sim.her2.alterations import AlterationLibrary, alteration_library, split_context
from her2sim.her2.model import load_config
from her2sim.her2.scenario import Her2Simulator
from her2sim.trials.analysis import DAYS_PER_MONTH, summary
from her2sim.trials.arm import arm_effects, daily_exposure
from her2sim.trials.defaults import fitted_parameters
from her2sim.trials.design import Arm, TrialDesign
from her2sim.trials.dynamics import ArmEffects, Host, courses, detectable_cells, occult_deposits
from her2sim.trials.exposure import response_tables
from her2sim.trials.growth import growth_rates
from her2sim.trials.kinetics import Kinetics
from her2sim.trials.population import sample_patients
from her2sim.trials.recist import assess, sums_of_diameters

__all__ = [
    "Prepared",
    "TrialResult",
    "TrialSettings",
    "enrol",
    "outcomes",
    "prepare_arm",
    "run_trial",
    "simulate_part",
    "tumours",
]

#: Follow-up of a metastatic trial; progression-free patients are censored there.
HORIZON_MONTHS = 60.0
#: Imaging interval when the design does not give one (weeks); the run warns.
DEFAULT_IMAGING_WEEKS = 9.0
#: Most patients sampled to find the eligible ones before eligibility counts as selecting nobody.
MAX_SCREENED = 200_000


@dataclass(frozen=True)
class Prepared:
    """One arm's patients, tumours and drug effects: everything the population-level parameters
    do not change, so outcomes can be recomputed cheaply under new ones.

    The effects depend on one population parameter, ``antibody_exposure``; they are kept at one
    or more of its values (``levels``, increasing) and read between them by
    :meth:`effects_at` (linearly in its logarithm)."""

    design: TrialDesign
    arm: Arm
    patients: pd.DataFrame
    host: Host
    subclones: np.ndarray
    effects: tuple[ArmEffects, ...]
    levels: tuple[float, ...]
    visits: np.ndarray
    surgery_day: float | None

    def effects_at(self, antibody_exposure: float) -> ArmEffects:
        """The effects at an antibody exposure (the nearest level beyond the levels' range)."""
        if len(self.levels) == 1:
            return self.effects[0]
        x = np.log(np.clip(antibody_exposure, self.levels[0], self.levels[-1]))
        grid = np.log(self.levels)
        j = int(np.clip(np.searchsorted(grid, x) - 1, 0, len(grid) - 2))
        w = float((x - grid[j]) / (grid[j + 1] - grid[j]))
        return self.effects[j].blend(self.effects[j + 1], w)


@dataclass(frozen=True)
class TrialResult:
    """Per-patient outcomes and the per-arm (and per-subgroup) endpoint summary."""

    patients: pd.DataFrame
    summary: pd.DataFrame
    notes: tuple[str, ...] = field(default=())


def _seed(seed: int, *keys: str) -> int:
    """A seed of its own for each (trial, arm, purpose), stable across runs and Python versions."""
    return (seed * 1_000_003 + zlib.crc32("|".join(keys).encode())) % 2**32


def enrol(design: TrialDesign, arm: Arm, n: int, seed: int) -> pd.DataFrame:
    """``n`` eligible patients for ``arm``: the design's and the arm's criteria, from the arm's
    population (or the design's), screened in growing batches."""
    if n < 1:
        raise ConfigError(f"an arm needs at least 1 patient, got {n}")
    population = arm.population or design.population
    condition_trial, condition_arm = design.condition, arm.condition
    screened = max(4 * n, 1000)
    while True:
        pool = sample_patients(population, screened, _seed(seed, design.name, arm.label, "enrol"))
        eligible = pool[condition_trial.mask(pool) & condition_arm.mask(pool)]
        if len(eligible) >= n:
            return eligible.iloc[:n].reset_index(drop=True)
        if screened >= MAX_SCREENED:
            raise ConfigError(
                f"{design.name} arm {arm.label!r}: {len(eligible)} of {screened} patients of population "
                f"{population!r} are eligible; the eligibility selects (almost) nobody"
            )
        screened = min(MAX_SCREENED, screened * 4 if len(eligible) else screened * 10)


def tumours(patients: pd.DataFrame, kin: Kinetics, seed: int, neoadjuvant: bool) -> tuple[Host, np.ndarray]:
    """Each patient's host draws and subclone context (the main context with one mechanism)."""
    rng = np.random.default_rng(seed)
    n = len(patients)
    library = alteration_library()
    names = tuple(m.alteration for m in kin.mechanisms)
    weights = np.array([m.weight for m in kin.mechanisms])
    contexts = patients["context"].to_numpy(dtype=object)
    u = rng.random(n)
    mechanism = np.empty(n, dtype=int)
    subclones = np.empty(n, dtype=object)
    options = {c: _subclone_options(library, c, names) for c in set(contexts)}
    for i, context in enumerate(contexts):
        candidates = options[context]
        w = np.array([weights[j] if candidates[j] else 0.0 for j in range(len(names))])
        if w.sum() == 0:
            raise ConfigError(f"no resistance mechanism of the kinetics file can arise in context {context!r}")
        mechanism[i] = int(np.searchsorted(np.cumsum(w) / w.sum(), u[i], side="right"))
        subclones[i] = candidates[mechanism[i]]
    if neoadjuvant:
        diameter_cm = patients["tumour_diameter_cm"].to_numpy(dtype=float)
    else:
        diameter_cm = patients["sum_diameters_mm"].to_numpy(dtype=float) / 10.0
    if not np.all(np.isfinite(diameter_cm) & (diameter_cm > 0)):
        raise ConfigError("every patient needs a tumour size (tumour_diameter_cm or sum_diameters_mm)")
    host = Host(
        z_tpot=rng.standard_normal(n),
        z_fraction=rng.standard_normal(n),
        mechanism=mechanism,
        doubling_days=patients["doubling_time_days"].to_numpy(dtype=float),
        immune=patients["immune_capacity"].to_numpy(dtype=float),
        volume_cm3=math.pi / 6 * diameter_cm**3,
        mechanisms=names,
        z_sensitivity=rng.standard_normal(n),
        z_chemo=rng.standard_normal(n),
        pretreated=patients["prior_trastuzumab"].to_numpy(dtype=bool),
        z_deposit=rng.standard_normal(n),
    )
    return host, subclones


def _subclone_options(library: AlterationLibrary, context: str, mechanisms: Sequence[str]) -> list[str | None]:
    """Each mechanism's subclone of ``context`` (the mechanism added, replacing an alternative of
    its group), or None where the main clone has it already or it contradicts the context."""
    present = split_context(context)
    out: list[str | None] = []
    for mechanism in mechanisms:
        group = library.get(mechanism).group
        rival = [a for a in present if group and library.get(a).group == group]
        changed = [mechanism if a in rival else a for a in present] if rival else [*present, mechanism]
        try:
            out.append(None if mechanism in present else library.context(list(dict.fromkeys(changed))).label)
        except ConfigError:
            out.append(None)
    return out


def _visits(design: TrialDesign, days: int) -> tuple[np.ndarray, tuple[str, ...]]:
    """Imaging days of a metastatic trial (baseline excluded) and a note when assumed."""
    a = design.assessments
    notes: tuple[str, ...] = ()
    every = a.imaging_every_weeks if a is not None else None
    if every is None:
        every = DEFAULT_IMAGING_WEEKS
        notes = (f"{design.name}: imaging interval not in the design; every {every:g} weeks assumed",)
    visits = list(np.arange(7 * every, days + 1e-9, 7 * every))
    if a is not None and a.then_every_weeks and a.after_week:
        early = [d for d in visits if d <= 7 * a.after_week]
        visits = early + list(np.arange(early[-1] + 7 * a.then_every_weeks, days + 1e-9, 7 * a.then_every_weeks))
    return np.array(visits), notes


@dataclass(frozen=True)
class TrialSettings:
    """How a trial is simulated: patients per arm (None: the published arm sizes), seed, the cell
    model's trajectories per scenario, concentration grid points per drug, patients per part, and
    whether each patient's scans and their growth rates are kept (``scans``; a comparison with
    published rows needs neither)."""

    patients: int | None = None
    seed: int = 0
    samples: int = 200
    points: int = 6
    chunk: int = 1000
    scans: bool = True

    def __post_init__(self) -> None:
        for name in ("samples", "points", "chunk"):
            value = getattr(self, name)
            if not (isinstance(value, int) and value >= (2 if name == "points" else 1)):
                raise ConfigError(f"{name} must be a whole number >= {2 if name == 'points' else 1}, got {value!r}")
        if self.patients is not None and not (isinstance(self.patients, int) and self.patients >= 1):
            raise ConfigError(f"patients per arm must be a whole number >= 1, got {self.patients!r}")

    def arm_size(self, arm: Arm) -> int:
        return self.patients or arm.n

    def simulator(self) -> Her2Simulator:
        """The calibrated cell model at these settings."""
        return Her2Simulator(load_config(samples=self.samples, seed=self.seed))


def _enrolled(
    design: TrialDesign, arm: Arm, settings: TrialSettings, kin: Kinetics
) -> tuple[pd.DataFrame, Host, np.ndarray]:
    """An arm's patients, hosts and subclone contexts (all of them; cheap and deterministic)."""
    patients = enrol(design, arm, settings.arm_size(arm), settings.seed)
    seed = _seed(settings.seed, design.name, arm.label, "tumour")
    host, subclones = tumours(patients, kin, seed, design.setting == "neoadjuvant")
    return patients, host, subclones


def _timeline(design: TrialDesign) -> tuple[int, np.ndarray, float | None, tuple[str, ...]]:
    """(days simulated, assessment days, surgery day or None, notes)."""
    if design.setting == "neoadjuvant":
        if design.surgery_week is None:
            raise ConfigError(f"{design.name}: a neoadjuvant design needs surgery_week")
        surgery = 7.0 * design.surgery_week
        return math.ceil(surgery) + 1, np.array([surgery]), surgery, ()
    days = int(HORIZON_MONTHS * DAYS_PER_MONTH) + 1
    visits, notes = _visits(design, days - 1)
    return days, visits, None, notes


def prepare_arm(
    design: TrialDesign, arm: Arm, settings: TrialSettings, kin: Kinetics, simulator: Her2Simulator,
    rows: slice | None = None, levels: Sequence[float] | None = None,
) -> Prepared:  # fmt: skip
    """Enrol, draw tumours, compute exposures and effects for an arm's patients (``rows`` of them),
    at the antibody exposures ``levels`` (default: the kinetics' own value)."""
    patients, host, subclones = _enrolled(design, arm, settings, kin)
    rows = rows or slice(0, len(patients))
    index = np.arange(len(patients))[rows]
    patients, host, subclones = patients.iloc[index].reset_index(drop=True), host.take(index), subclones[index]
    days, visits, surgery, _ = _timeline(design)
    stop = np.full(len(patients), np.inf if surgery is None else surgery)
    exposure = daily_exposure(
        arm, patients, days, stop, _seed(settings.seed, design.name, arm.label, "pk", str(index[0]))
    )
    contexts = [patients["context"].to_numpy(dtype=object), subclones]
    levels = tuple(sorted(levels or (kin.value("antibody_exposure"),))) if exposure.macromolecules else (1.0,)
    effects = tuple(arm_effects(simulator, exposure, contexts, settings.points, level) for level in levels)
    return Prepared(design, arm, patients, host, subclones, effects, levels, visits, surgery)


def outcomes(prepared: Prepared, kin: Kinetics, kmax: Mapping[str, float], scans: bool = False) -> pd.DataFrame:
    """Per-patient outcomes of a prepared arm under population-level parameters. With
    ``scans`` (metastatic trials), also each patient's scans as a trial records them, from the
    first to the one at progression (``scan_days``, ``sums_mm``: arrays), and their regression
    and growth rates (:mod:`her2sim.trials.growth`; the population fit, which needs neither,
    goes without)."""
    p = prepared
    at = np.concatenate([[0.0], p.visits])
    effects = p.effects_at(kin.value("antibody_exposure"))
    cells = courses(effects, p.host, kin, kmax, at)  # clones x patients x (baseline + visits)
    total = cells.sum(axis=0)
    out = p.patients.copy()
    out.insert(0, "arm", p.arm.label)
    out.insert(0, "trial", p.design.name)
    out["subclone"] = [p.host.mechanisms[m] for m in p.host.mechanism]
    out["subclone_fraction"] = cells[1, :, 0] / total[:, 0]
    if p.surgery_day is not None:
        out["residual_cells"] = total[:, -1]
        out["pcr"] = total[:, -1] < kin.value("pcr_residual_cells")
        return out
    baseline_mm = p.patients["sum_diameters_mm"].to_numpy(dtype=float)
    sums = sums_of_diameters(total[:, 1:], total[:, 0], baseline_mm)
    deposit = occult_deposits(p.host, kin)[:, None] * cells[1, :, 1:] / cells[1, :, :1]
    result = assess(sums, baseline_mm, p.visits, new_lesions=deposit >= detectable_cells(kin))
    visit = np.clip(np.searchsorted(p.visits, result.progression_day), 0, len(p.visits) - 1)
    largest = cells[:, np.arange(len(out)), visit + 1].argmax(axis=0)
    out["response"] = result.response
    out["best_change_pct"] = result.best_change_pct
    out["pfs_months"] = result.progression_day / DAYS_PER_MONTH
    out["progressed"] = result.progressed
    subclone_progressed = (largest == 1) | result.new_lesion
    out["progression_clone"] = np.where(result.progressed, np.where(subclone_progressed, "subclone", "main"), "")
    out["new_lesion"] = result.new_lesion
    if scans:
        out["scan_days"] = [p.visits[: last + 1] for last in visit]
        out["sums_mm"] = [sums[i, : last + 1] for i, last in enumerate(visit)]
        rates = growth_rates(p.visits, sums, baseline_mm, visit)
        out["tumour_model"] = rates["model"].to_numpy()
        out["growth_rate_per_day"] = rates["g"].to_numpy()
        out["regression_rate_per_day"] = rates["d"].to_numpy()
    by_targets = np.where(largest == 1, "subclone " + out["subclone"], "main clone regrowth")
    out["mechanism"] = np.where(
        ~result.progressed, "", np.where(result.new_lesion, "subclone " + out["subclone"] + " (new lesion)", by_targets)
    )
    return out


def targeted_drugs(arm: Arm) -> tuple[str, ...]:
    """The arm's drugs that act through the cell model (sorted, as response tables key them)."""
    return tuple(sorted({item.drug for given in arm.drugs for item in given.options if item.kind == "library"}))


def warm_tables(design: TrialDesign, settings: TrialSettings, kin: Kinetics, simulator: Her2Simulator) -> None:
    """Simulate, in one batch per arm, the response tables every part of the trial will read, so
    that parts running in parallel find them on disk rather than each building them."""
    for arm in design.arms:
        drugs = targeted_drugs(arm)
        if drugs:
            patients, _, subclones = _enrolled(design, arm, settings, kin)
            contexts = sorted(set(patients["context"]) | set(subclones))
            response_tables(simulator, contexts, drugs, settings.points)


def simulate_part(
    design: TrialDesign, arm_label: str, start: int, stop: int, settings: TrialSettings, kin: Kinetics,
    kmax: Mapping[str, float],
) -> pd.DataFrame:  # fmt: skip
    """Outcomes of patients ``start`` to ``stop`` of one arm (a part of a trial run)."""
    arm = design.arm(arm_label)
    prepared = prepare_arm(design, arm, settings, kin, settings.simulator(), slice(start, stop))
    table = outcomes(prepared, kin, kmax, scans=settings.scans)
    table.insert(2, "patient", np.arange(start, stop))
    return table


def run_trial(
    design: TrialDesign,
    settings: TrialSettings | None = None,
    kin: Kinetics | None = None,
    kmax: Mapping[str, float] | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    **run: Any,
) -> TrialResult:
    """Simulate every arm of ``design`` (population parameters: the shipped fit, unless given).

    Without ``out_dir`` the parts run here, one after the other. With it they run on Dask
    (:func:`her2sim.experiments.runner.run_parts`; ``run`` takes its scheduler, workers, client,
    progress and notice), each written as a Parquet part, so a stopped run resumes."""
    settings = settings or TrialSettings()
    fitted_kin, fitted_kill = fitted_parameters()
    kin = kin or fitted_kin
    rates = {**fitted_kill, **(kmax or {})}
    _, _, _, notes = _timeline(design)
    parts = [(arm.label, start, min(settings.arm_size(arm), start + settings.chunk))
             for arm in design.arms for start in range(0, settings.arm_size(arm), settings.chunk)]  # fmt: skip
    simulator = settings.simulator()
    warm_tables(design, settings, kin, simulator)
    if out_dir is None:
        table = pd.concat([simulate_part(design, *part, settings, kin, rates) for part in parts], ignore_index=True)
    else:
        from her2sim.experiments.runner import Job, run_parts

        fingerprint = _fingerprint(design, settings, kin, rates)
        jobs = [Job(simulate_part, (design, *part, settings, kin, rates), f"{fingerprint}/{part}", part[2] - part[1])
                for part in parts]  # fmt: skip
        table = run_parts(jobs, out_dir, fingerprint, **run)
    for note in notes:
        warnings.warn(note, Her2simWarning, stacklevel=2)
    control = design.control.label if design.control is not None else None
    return TrialResult(table, summary(table, control=control, subgroups=design.subgroup_groups), notes)


def _fingerprint(design: TrialDesign, settings: TrialSettings, kin: Kinetics, kmax: Mapping[str, float]) -> str:
    """What a trial run's results depend on: the design file, the settings, the parameters, the model."""
    from her2sim.her2.model import data_path

    digest = hashlib.sha256()
    digest.update(
        Path(design.path).read_bytes() if design.path and Path(design.path).is_file() else design.name.encode()
    )
    for name in ("her2.bnd", "her2.cfg", "alterations.yaml", "therapies.yaml", "posterior.tsv"):
        path = Path(data_path(name))
        digest.update(path.read_bytes() if path.is_file() else b"-")
    digest.update(repr((settings, sorted((k, p.value) for k, p in kin.parameters.items()),
                        [m.alteration for m in kin.mechanisms], sorted(kmax.items()))).encode())  # fmt: skip
    return digest.hexdigest()[:24]
