"""Tumour courses of an arm's patients: each clone's cells day by day under the arm's drugs.

A patient's tumour is two clones: the main clone (the patient's context) and a resistant
subclone (the main context plus one mechanism of :mod:`her2sim.trials.kinetics`), a small
fraction of the cells at the start. A clone's cells change at the net rate (per day)

``b0 * (rp - ra - adcc_kill * immune * adcc) - d0 * (l + (1 - l) * rp) - sum_c kmax_c * s_c * e_c * rp``

* ``b0 = ln 2 / Tpot``: the birth rate of an untreated tumour, from its potential doubling
  time (cell production without loss, measured in patients by BrdU labelling);
* ``d0 = b0 - ln 2 / Td``: the loss that makes the tumour double in its volume doubling time
  ``Td`` (the population's ``doubling_time_days``), so untreated clones grow as observed;
* ``l``: the share of that loss that goes on when proliferation stops (``loss_independent_share``);
  the rest falls with ``rp``, as apoptosis in breast carcinomas rises with mitotic activity, so a
  purely cytostatic effect slows a tumour more than it shrinks it unless ``l`` is near 1;
* ``rp``: the clone's proliferation in the cell model under that day's drug exposure, relative
  to the clone untreated; ``ra``: the apoptosis the drugs add, ``(A - A0) / (1 - A0)``;
* ``adcc``: the antibodies' ADCC drive times the clone's epitope access, scaled by the
  patient's ``immune_capacity`` and the population parameter ``adcc_kill``;
* ``e_c``: chemotherapy ``c``'s daily mean effect ``C / (C + ec50)``; it kills cycling cells,
  so its kill scales with ``rp`` (:mod:`her2sim.trials.chemotherapy`);
* between patients, what the cell model's contexts leave out of a tumour's response (cell lines
  of one known genotype respond differently, O'Brien et al. 2010): each patient's targeted-drug
  effects are scaled by ``s = drug_effect_scale * exp(drug_sensitivity_sigma * z)`` (``rp``
  becomes ``1 - s (1 - rp)``, ``ra`` becomes ``s ra``; the median scale, at most 1, is what the
  tumour's stroma takes from the effect cells show in culture) and the chemotherapy kill by
  ``s_c = exp(chemo_sensitivity_sigma * z_c)``, times ``subclone_chemo_factor`` in the
  resistant subclone (what earlier therapy left alive resists chemotherapy too).

Everything that depends on drugs and the cell model is in :class:`ArmEffects`, computed once per
arm; the population-level numbers (:class:`~her2sim.trials.kinetics.Kinetics`, chemotherapy
``kmax``) enter only here, so fitting them to trial results re-runs this module alone.

Beyond the measured lesions, a metastatic patient carries an occult deposit of resistant subclone
cells (:func:`occult_deposits`: lognormal between patients, below what imaging finds). It grows
as the subclone does, and when it reaches :func:`detectable_cells` it is a new lesion, which RECIST
counts as progression whatever the target lesions do.

Examples
--------
>>> from her2sim.trials.kinetics import kinetics
>>> effects = ArmEffects.untreated(patients=1, days=30)
>>> host = Host(np.zeros(1), np.zeros(1), np.zeros(1, dtype=int), np.array([60.0]),
...             np.array([1.0]), np.array([20.0]), ("PIK3CA:H1047R",), np.zeros(1), np.zeros(1), np.zeros(1, bool),
...             np.zeros(1))
>>> cells = courses(effects, host, kinetics(), {}, np.array([0.0, 30.0]))
>>> growth = cells.sum(axis=0)[0]
>>> bool(abs(growth[1] / growth[0] - 2 ** 0.5) < 1e-6)  # untreated: doubles in Td = 60 days
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from her2sim.errors import ConfigError
from her2sim.trials.course import clone_course
from her2sim.trials.kinetics import Kinetics

__all__ = ["ArmEffects", "Host", "courses", "detectable_cells", "initial_cells", "occult_deposits"]

#: Clone order in every clones x patients array.
CLONES = ("main", "subclone")
#: Largest share of a tumour the resistant subclone can start as: therapy the patient has had can
#: leave a tumour made mostly of resistant cells, but the patient's context stays their main clone.
MAX_SUBCLONE_FRACTION = 0.9


@dataclass(frozen=True)
class ArmEffects:
    """Per clone, patient and day: relative proliferation ``rp``, added apoptosis ``ra`` and
    ADCC drive ``adcc`` (clones x patients x days, float32), and each chemotherapy's daily
    effect (patients x days)."""

    proliferation: np.ndarray
    apoptosis: np.ndarray
    adcc: np.ndarray
    chemotherapy: Mapping[str, np.ndarray]

    def __post_init__(self) -> None:
        shape = self.proliferation.shape
        if len(shape) != 3 or shape[0] != len(CLONES):
            raise ConfigError(f"effects must be clones x patients x days, got {shape}")
        for name, array in (("apoptosis", self.apoptosis), ("adcc", self.adcc)):
            if array.shape != shape:
                raise ConfigError(f"{name} has shape {array.shape}, proliferation {shape}")
        for name, array in self.chemotherapy.items():
            if array.shape != shape[1:]:
                raise ConfigError(f"chemotherapy {name} has shape {array.shape}, expected {shape[1:]}")

    @property
    def patients(self) -> int:
        return self.proliferation.shape[1]

    @property
    def days(self) -> int:
        return self.proliferation.shape[2]

    @classmethod
    def untreated(cls, patients: int, days: int) -> ArmEffects:
        """No drug: every clone proliferates as untreated."""
        shape = (len(CLONES), patients, days)
        return cls(np.ones(shape, np.float32), np.zeros(shape, np.float32), np.zeros(shape, np.float32), {})

    def blend(self, other: ArmEffects, weight: float) -> ArmEffects:
        """``(1 - weight) * self + weight * other``, array by array (chemotherapy is the same in both)."""

        def mix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            return ((1 - weight) * a + weight * b).astype(np.float32)

        return ArmEffects(mix(self.proliferation, other.proliferation), mix(self.apoptosis, other.apoptosis),
                          mix(self.adcc, other.adcc), self.chemotherapy)  # fmt: skip

    def take(self, rows: np.ndarray) -> ArmEffects:
        """The effects of a subset of patients."""
        return ArmEffects(self.proliferation[:, rows], self.apoptosis[:, rows], self.adcc[:, rows],
                          {k: v[rows] for k, v in self.chemotherapy.items()})  # fmt: skip


@dataclass(frozen=True)
class Host:
    """What the dynamics need of each patient, fixed before any parameter is fitted.

    ``z_tpot``, ``z_fraction``, ``z_sensitivity``, ``z_chemo`` and ``z_deposit`` are standard
    normal draws that the population parameters turn into each patient's potential doubling time,
    subclone fraction, sensitivities to targeted drugs and to chemotherapy, and occult deposit
    size, so a fit moves the distributions
    without redrawing the patients. ``mechanism`` indexes ``mechanisms``; ``pretreated`` marks
    tumours that anti-HER2 therapy has already selected (their subclones start larger).
    """

    z_tpot: np.ndarray
    z_fraction: np.ndarray
    mechanism: np.ndarray
    doubling_days: np.ndarray
    immune: np.ndarray
    volume_cm3: np.ndarray
    mechanisms: tuple[str, ...]
    z_sensitivity: np.ndarray
    z_chemo: np.ndarray
    pretreated: np.ndarray
    z_deposit: np.ndarray

    def take(self, rows: np.ndarray) -> Host:
        return Host(self.z_tpot[rows], self.z_fraction[rows], self.mechanism[rows], self.doubling_days[rows],
                    self.immune[rows], self.volume_cm3[rows], self.mechanisms, self.z_sensitivity[rows],
                    self.z_chemo[rows], self.pretreated[rows], self.z_deposit[rows])  # fmt: skip


def birth_and_loss(host: Host, kin: Kinetics) -> tuple[np.ndarray, np.ndarray]:
    """Each patient's birth rate ``b0`` and basal loss ``d0`` (per day).

    Where a patient's drawn potential doubling time is longer than their volume doubling time
    (no cell loss could make that tumour grow as fast as it does), ``b0`` is the observed growth
    rate and the loss is zero."""
    tpot = kin.value("potential_doubling_days") * np.exp(kin.value("potential_doubling_sigma") * host.z_tpot)
    growth = math.log(2) / host.doubling_days
    b0 = np.maximum(math.log(2) / tpot, growth)
    return b0, b0 - growth


def initial_cells(host: Host, kin: Kinetics) -> np.ndarray:
    """Cells of each clone at the start (clones x patients)."""
    total = host.volume_cm3 * kin.value("cell_density")
    selected = np.where(host.pretreated, kin.value("pretreated_subclone_factor"), 1.0)
    fraction = (
        kin.value("subclone_fraction") * selected * np.exp(kin.value("subclone_fraction_sigma") * host.z_fraction)
    )
    fraction = np.clip(fraction, 0.0, MAX_SUBCLONE_FRACTION)
    return np.stack([total * (1 - fraction), total * fraction])


def detectable_cells(kin: Kinetics) -> float:
    """Cells of a sphere of the diameter at which imaging finds a new lesion."""
    diameter_cm = kin.value("new_lesion_diameter_mm") / 10.0
    return math.pi / 6 * diameter_cm**3 * kin.value("cell_density")


def occult_deposits(host: Host, kin: Kinetics) -> np.ndarray:
    """Each patient's occult deposit of resistant cells at the start (cells), kept below what
    imaging finds (an occult deposit is by definition not seen at baseline)."""
    cells = kin.value("occult_deposit_cells") * np.exp(kin.value("occult_deposit_sigma") * host.z_deposit)
    return np.minimum(cells, 0.5 * detectable_cells(kin))


def courses(
    effects: ArmEffects, host: Host, kin: Kinetics, kmax: Mapping[str, float], at_days: np.ndarray
) -> np.ndarray:
    """Cells of each clone at ``at_days`` (clones x patients x visits).

    ``kmax`` gives each chemotherapy's kill rate (per day); a chemotherapy the arm gives without
    a ``kmax`` is an error."""
    missing = sorted(set(effects.chemotherapy) - set(kmax))
    if missing:
        raise ConfigError(f"no kill rate (kmax) for chemotherapy {missing[0]!r}")
    b0, d0 = birth_and_loss(host, kin)
    cells0 = initial_cells(host, kin)
    adcc_scale = kin.value("adcc_kill") * host.immune
    targeted = kin.value("drug_effect_scale") * np.exp(kin.value("drug_sensitivity_sigma") * host.z_sensitivity)
    targeted = targeted[:, None]
    steady_loss = kin.value("loss_independent_share")
    chemo = np.exp(kin.value("chemo_sensitivity_sigma") * host.z_chemo)[:, None]
    out = np.empty((len(CLONES), effects.patients, len(at_days)))
    for k in range(len(CLONES)):
        chemo_k = chemo * (kin.value("subclone_chemo_factor") if CLONES[k] == "subclone" else 1.0)
        rp = np.clip(1.0 - targeted * (1.0 - effects.proliferation[k]), 0.0, None)
        ra = targeted * effects.apoptosis[k]
        loss = d0[:, None] * (steady_loss + (1.0 - steady_loss) * rp)
        net = b0[:, None] * (rp - ra - adcc_scale[:, None] * effects.adcc[k]) - loss
        for name, effect in effects.chemotherapy.items():
            net -= kmax[name] * chemo_k * effect * rp
        out[k] = clone_course(cells0[k], net, 1.0, at_days)
    return out
