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
   diameters and RECIST at each imaging visit, PFS, best response, pCR at surgery, and the clone
   that was largest when the tumour progressed.

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

import math
import warnings
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from her2sim.errors import ConfigError, Her2simWarning
from her2sim.her2.alterations import alteration_library, split_context
from her2sim.her2.scenario import Her2Simulator
from her2sim.trials.analysis import summary
from her2sim.trials.arm import arm_effects, daily_exposure
from her2sim.trials.chemotherapy import chemotherapy_library
from her2sim.trials.design import Arm, TrialDesign
from her2sim.trials.dynamics import ArmEffects, Host, courses
from her2sim.trials.kinetics import Kinetics, kinetics
from her2sim.trials.population import sample_patients
from her2sim.trials.recist import assess, sums_of_diameters

__all__ = ["Prepared", "TrialResult", "enrol", "outcomes", "prepare_arm", "run_trial", "tumours"]

#: Days in a month (365.25 / 12), for PFS in months as trials report it.
DAYS_PER_MONTH = 30.4375
#: Follow-up of a metastatic trial; progression-free patients are censored there.
HORIZON_MONTHS = 60.0
#: Imaging interval when the design does not give one (weeks); the run warns.
DEFAULT_IMAGING_WEEKS = 9.0
#: Most patients sampled to find the eligible ones before eligibility counts as selecting nobody.
MAX_SCREENED = 200_000
#: Patients simulated together (memory grows with it, not with the trial).
CHUNK = 2000


@dataclass(frozen=True)
class Prepared:
    """One arm's patients, tumours and drug effects: everything the population-level parameters
    do not change, so outcomes can be recomputed cheaply under new ones."""

    design: TrialDesign
    arm: Arm
    patients: pd.DataFrame
    host: Host
    subclones: np.ndarray
    effects: ArmEffects
    visits: np.ndarray
    surgery_day: float | None


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
    for i, context in enumerate(contexts):
        present = set(split_context(context))
        w = np.where([name in present for name in names], 0.0, weights)
        if w.sum() == 0:
            w = weights
        mechanism[i] = int(np.searchsorted(np.cumsum(w) / w.sum(), u[i], side="right"))
        subclones[i] = _with(library, context, names[mechanism[i]])
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
    )
    return host, subclones


def _with(library, context: str, mechanism: str) -> str:  # type: ignore[no-untyped-def]
    """``context`` with ``mechanism`` added, replacing an alternative of the same group."""
    group = library.get(mechanism).group
    kept = [a for a in split_context(context) if not (group and library.get(a).group == group) and a != mechanism]
    return library.context([*kept, mechanism]).label


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


def prepare_arm(
    design: TrialDesign, arm: Arm, n: int, seed: int, simulator: Her2Simulator, kin: Kinetics, points: int = 8
) -> tuple[Prepared, tuple[str, ...]]:
    """Enrol, draw tumours, compute exposures and effects for one arm."""
    patients = enrol(design, arm, n, seed)
    neoadjuvant = design.setting == "neoadjuvant"
    host, subclones = tumours(patients, kin, _seed(seed, design.name, arm.label, "tumour"), neoadjuvant)
    notes: tuple[str, ...] = ()
    if neoadjuvant:
        if design.surgery_week is None:
            raise ConfigError(f"{design.name}: a neoadjuvant design needs surgery_week")
        surgery = 7.0 * design.surgery_week
        days, visits = math.ceil(surgery) + 1, np.array([surgery])
        stop = np.full(n, surgery)
    else:
        surgery, days = None, int(HORIZON_MONTHS * DAYS_PER_MONTH) + 1
        visits, notes = _visits(design, days - 1)
        stop = np.full(n, np.inf)
    chunks = []
    for start in range(0, n, CHUNK):
        rows = slice(start, min(n, start + CHUNK))
        exposure = daily_exposure(
            arm, patients.iloc[rows], days, stop[rows], _seed(seed, design.name, arm.label, "pk", str(start))
        )
        chunks.append(
            arm_effects(
                simulator, exposure, [patients["context"].to_numpy(dtype=object)[rows], subclones[rows]], points
            )
        )
    effects = chunks[0] if len(chunks) == 1 else _concatenate(chunks)
    return Prepared(design, arm, patients, host, subclones, effects, visits, surgery), notes


def _concatenate(chunks: Sequence[ArmEffects]) -> ArmEffects:
    return ArmEffects(
        np.concatenate([c.proliferation for c in chunks], axis=1),
        np.concatenate([c.apoptosis for c in chunks], axis=1),
        np.concatenate([c.adcc for c in chunks], axis=1),
        {k: np.concatenate([c.chemotherapy[k] for c in chunks]) for k in chunks[0].chemotherapy},
    )


def outcomes(prepared: Prepared, kin: Kinetics, kmax: Mapping[str, float]) -> pd.DataFrame:
    """Per-patient outcomes of a prepared arm under population-level parameters."""
    p = prepared
    at = np.concatenate([[0.0], p.visits])
    cells = courses(p.effects, p.host, kin, kmax, at)  # clones x patients x (baseline + visits)
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
    result = assess(sums, baseline_mm, p.visits)
    visit = np.clip(np.searchsorted(p.visits, result.progression_day), 0, len(p.visits) - 1)
    largest = cells[:, np.arange(len(out)), visit + 1].argmax(axis=0)
    out["response"] = result.response
    out["best_change_pct"] = result.best_change_pct
    out["pfs_months"] = result.progression_day / DAYS_PER_MONTH
    out["progressed"] = result.progressed
    out["progression_clone"] = np.where(result.progressed, np.where(largest == 1, "subclone", "main"), "")
    out["mechanism"] = np.where(
        ~result.progressed, "", np.where(largest == 1, "subclone " + out["subclone"], "main clone regrowth")
    )
    return out


def kill_rates(values: Mapping[str, float] | None = None) -> dict[str, float]:
    """Each chemotherapy's kmax: the library's, with ``values`` in place of some."""
    rates = {name: drug.kmax for name, drug in chemotherapy_library().items()}
    rates.update(values or {})
    return rates


def run_trial(
    design: TrialDesign,
    patients: int | None = None,
    seed: int = 0,
    simulator: Her2Simulator | None = None,
    kin: Kinetics | None = None,
    kmax: Mapping[str, float] | None = None,
    points: int = 8,
) -> TrialResult:
    """Simulate every arm of ``design`` with ``patients`` per arm (default: the published arm sizes)."""
    simulator = simulator or Her2Simulator()
    kin = kin or kinetics()
    rates = kill_rates(kmax)
    tables, notes = [], []
    for arm in design.arms:
        prepared, arm_notes = prepare_arm(design, arm, patients or arm.n, seed, simulator, kin, points)
        notes.extend(n for n in arm_notes if n not in notes)
        tables.append(outcomes(prepared, kin, rates))
    table = pd.concat(tables, ignore_index=True)
    table.insert(2, "patient", np.arange(len(table)))
    for note in notes:
        warnings.warn(note, Her2simWarning, stacklevel=2)
    subgroups = sorted({by for analysis in design.subgroups for by in analysis.by})
    control = design.control.label if design.control is not None else design.arms[0].label
    return TrialResult(table, summary(table, control=control, subgroups=subgroups), tuple(notes))
