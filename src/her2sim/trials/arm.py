"""From an arm's schedules to what its drugs do to each patient's clones, day by day.

For each drug of the arm, the PK library gives each patient's plasma concentrations under the
schedule (:mod:`her2sim.trials.pk`, :mod:`her2sim.trials.schedule`), averaged over each day.
Targeted drugs reach the tumour at their tumour-to-plasma ratio (antibodies and conjugates also
at the population parameter ``antibody_exposure``: they spread unevenly through a tumour, leaving
cells untargeted, Thurber et al. 2008) and act through the cell model:
their daily concentrations (nM) are read on each clone's response table
(:mod:`her2sim.trials.exposure`), giving the clone's relative proliferation, added apoptosis
and ADCC drive. A payload that crosses membranes (T-DXd's DXd) reaches every clone from the
cells of the patient's main clone, which hold almost all of the tumour when treatment starts
(the subclone's own release is neglected). Chemotherapies act through their daily mean effect
``C / (C + ec50)`` (:mod:`her2sim.trials.chemotherapy`). A drug chosen per patient (``one_of``)
is drawn with equal chances for each patient.

Everything here is independent of the population-level tumour parameters, so a calibration
computes it once per arm (:class:`~her2sim.trials.dynamics.ArmEffects`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from her2sim.errors import ConfigError
from her2sim.her2.scenario import Her2Simulator
from her2sim.trials.chemotherapy import chemotherapy_library
from her2sim.trials.design import Arm, DrugChoice, DrugItem, Given
from her2sim.trials.dynamics import ArmEffects
from her2sim.trials.exposure import ResponseTable, response_tables
from her2sim.trials.pk import PKModel, concentrations, pk_library, sample_individuals, to_nanomolar, tumour_exposure
from her2sim.trials.schedule import administrations, parse_schedule

__all__ = ["DailyExposure", "arm_effects", "daily_exposure", "is_macromolecule", "samples_per_day"]

#: Molecules above this molecular weight (g/mol: antibodies and conjugates) change little within a
#: day (half-lives of days); their daily mean is their concentration at mid-day.
_MACROMOLECULE = 10_000.0
#: Concentration samples per day for small molecules, to average their within-day swings.
_SMALL_MOLECULE_SAMPLES = 12


@dataclass(frozen=True)
class DailyExposure:
    """Each patient's daily exposure to an arm's drugs: targeted drugs' tumour concentrations
    (nM, drug -> patients x days) and chemotherapies' daily mean effects (patients x days).
    ``macromolecules`` are the targeted drugs that are antibodies or conjugates."""

    targeted: Mapping[str, np.ndarray]
    chemotherapy: Mapping[str, np.ndarray]
    macromolecules: frozenset[str] = frozenset()


def is_macromolecule(model: PKModel) -> bool:
    """Whether a drug is an antibody or a conjugate (by its molecular weight)."""
    return model.molecular_weight is not None and model.molecular_weight > _MACROMOLECULE


def samples_per_day(model: PKModel) -> int:
    """How often within a day a drug's concentration is sampled for its daily mean."""
    return 1 if is_macromolecule(model) else _SMALL_MOLECULE_SAMPLES


def daily_exposure(arm: Arm, patients: pd.DataFrame, days: int, stop_day: np.ndarray, seed: int) -> DailyExposure:
    """Daily exposures of ``patients`` to ``arm``'s drugs over ``days`` days from the first dose.

    ``stop_day`` ends every drug for a patient (surgery; ``inf`` for none). Each drug's
    between-patient variability is drawn from its own stream of ``seed``."""
    n = len(patients)
    targeted: dict[str, np.ndarray] = {}
    chemo: dict[str, np.ndarray] = {}
    large: set[str] = set()
    rng = np.random.default_rng(seed)
    for position, given in enumerate(arm.drugs):
        chosen = _chosen_options(given, n, rng)
        for index, item in enumerate(given.options):
            rows = np.flatnonzero(chosen == index)
            if item.kind == "placebo" or rows.size == 0:
                continue
            values = _item_exposure(
                item, patients.iloc[rows], days, stop_day[rows], seed + 7919 * (position + 1) + index
            )
            into = targeted if item.kind == "library" else chemo
            into.setdefault(item.drug, np.zeros((n, days)))[rows] += values
            if item.kind == "library" and is_macromolecule(pk_library().get(item.drug)):
                large.add(item.drug)
    return DailyExposure(targeted, chemo, frozenset(large))


def _chosen_options(given: Given, n: int, rng: np.random.Generator) -> np.ndarray:
    """Which option of ``given`` each of ``n`` patients receives: by the published shares of a
    choice that gives them, else with equal chances (one option: all patients)."""
    if not isinstance(given, DrugChoice):
        return np.zeros(n, dtype=int)
    if given.shares:
        return rng.choice(len(given.options), size=n, p=np.asarray(given.shares))
    return rng.integers(len(given.options), size=n)


def _item_exposure(item: DrugItem, patients: pd.DataFrame, days: int, stop_day: np.ndarray, seed: int) -> np.ndarray:
    """One schedule item's daily exposure: tumour nM for a targeted drug, mean effect for a chemotherapy."""
    if "dose" not in item.schedule:
        raise ConfigError(f"{item.location}: {item.drug} has no dose in the design; it cannot be simulated")
    schedule = parse_schedule(item.schedule)
    model = pk_library().get(schedule.drug)
    doses = administrations(schedule, patients, float(days), stop_day)
    people = sample_individuals(model, patients, rng=seed)
    per_day = samples_per_day(model)
    times = (np.arange(days)[:, None] + (np.arange(per_day) + 0.5) / per_day).ravel()
    plasma = concentrations(model, people, times, doses, infusion_days=schedule.infusion_days)
    plasma = plasma.reshape(len(patients), days, per_day)
    if item.kind == "library":
        return (to_nanomolar(plasma, model) * tumour_exposure(model)).mean(axis=2)
    ec50 = chemotherapy_library()[item.drug].ec50
    tumour = plasma * tumour_exposure(model)
    return (tumour / (tumour + ec50)).mean(axis=2)


def arm_effects(
    simulator: Her2Simulator,
    exposure: DailyExposure,
    clones: Sequence[np.ndarray],
    points: int = 6,
    antibody_exposure: float = 1.0,
) -> ArmEffects:
    """Each clone's daily responses from the exposures; ``clones`` gives each clone's context per
    patient (main clone first), read on response tables simulated once per context.
    ``antibody_exposure`` scales the tumour concentrations of antibodies and conjugates (the
    population parameter of :mod:`her2sim.trials.kinetics`)."""
    n, days = _shape(exposure, len(clones[0]))
    shape = (len(clones), n, days)
    prolif = np.ones(shape, np.float32)
    apopt = np.zeros(shape, np.float32)
    adcc = np.zeros(shape, np.float32)
    drugs = tuple(sorted(exposure.targeted))
    if drugs:
        tables = response_tables(simulator, sorted({c for clone in clones for c in clone}), drugs, points)
        scale = [antibody_exposure if d in exposure.macromolecules else 1.0 for d in drugs]
        doses = np.stack([exposure.targeted[d] * f for d, f in zip(drugs, scale, strict=True)], axis=-1)
        released = _released(tables, clones[0], doses)
        for k, contexts in enumerate(clones):
            for context in np.unique(contexts):
                rows = np.flatnonzero(contexts == context)
                table = tables[context]
                flat = doses[rows].reshape(-1, len(drugs))
                p, a = table.at(flat, None if released is None else released[rows].ravel())
                prolif[k, rows] = (p / table.p0).reshape(len(rows), days)
                added = np.clip((a - table.a0) / max(1.0 - table.a0, 1e-12), 0.0, None)
                apopt[k, rows] = added.reshape(len(rows), days)
                adcc[k, rows] = table.adcc_at(flat).reshape(len(rows), days)
    chemo = {name: values.astype(np.float32) for name, values in exposure.chemotherapy.items()}
    return ArmEffects(prolif, apopt, adcc, chemo)


def _released(tables: Mapping[str, ResponseTable], main: np.ndarray, doses: np.ndarray) -> np.ndarray | None:
    """Membrane-permeable payload released by each patient's main clone each day (patients x
    days), or None when no drug of the arm has such a payload."""
    if next(iter(tables.values())).bystander is None:
        return None
    out = np.zeros(doses.shape[:2])
    for context in np.unique(main):
        rows = np.flatnonzero(main == context)
        out[rows] = tables[context].release_at(doses[rows].reshape(-1, doses.shape[2])).reshape(len(rows), -1)
    return out


def _shape(exposure: DailyExposure, n: int) -> tuple[int, int]:
    arrays = [*exposure.targeted.values(), *exposure.chemotherapy.values()]
    if not arrays:
        raise ConfigError("the arm gives no drug that acts (placebo only)")
    return n, arrays[0].shape[1]
