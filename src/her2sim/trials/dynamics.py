"""Tumour courses of an arm's patients: each clone's cells day by day under the arm's drugs.

A patient's tumour is its main clone (the patient's context) and a resistant subclone for each
mechanism of :mod:`her2sim.trials.kinetics` the main clone can acquire (the main context plus
that mechanism), together a small fraction of the cells at the start. A tumour of 10^9-10^11
cells carries some cells of every resistance that arises at a rate per division before treatment
starts (Goldie & Coldman 1979 Cancer Treat Rep 63:1727, PMID 526911), so every patient carries every mechanism
their main clone lacks, each at its own share: ``subclone_fraction`` times the mechanism's weight
(its share of all mechanisms' weights) times a lognormal factor drawn per patient and mechanism.
A subclone that starts below one cell is absent. A clone's cells change at the net rate (per day)

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
  resistant subclones (what earlier therapy left alive resists chemotherapy too).

Everything that depends on drugs and the cell model is in :class:`ArmEffects`, computed once per
arm; the population-level numbers (:class:`~her2sim.trials.kinetics.Kinetics`, chemotherapy
``kmax``) enter only here, so fitting them to trial results re-runs this module alone.

Beyond the measured lesions, a metastatic patient carries an occult deposit of resistant cells
(:func:`occult_deposits`: lognormal between patients, below what imaging finds), made of the
tumour's subclones in their starting proportions. Each grows as its subclone does (the deposit
follows the subclones' summed cells, :func:`deposit_courses`), and when the deposit reaches
:func:`detectable_cells` it is a new lesion, which RECIST counts as progression whatever the
target lesions do.

Examples
--------
>>> from her2sim.trials.kinetics import kinetics
>>> kin = kinetics()
>>> mechanisms = tuple(m.alteration for m in kin.mechanisms)
>>> effects = ArmEffects.untreated(patients=1, days=30, clones=1 + len(mechanisms))
>>> host = Host(np.zeros(1), np.zeros((1, len(mechanisms))), np.ones((1, len(mechanisms)), bool), np.array([60.0]),
...             np.array([1.0]), np.array([20.0]), mechanisms, np.zeros(1), np.zeros(1), np.zeros(1, bool),
...             np.zeros(1))
>>> cells = courses(effects, host, kin, {}, np.array([0.0, 30.0]))
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

__all__ = [
    "ArmEffects",
    "Host",
    "courses",
    "deposit_courses",
    "detectable_cells",
    "initial_cells",
    "occult_deposits",
    "subclone_shares",
]

#: Largest share of a tumour its resistant subclones can start as together: therapy the patient
#: has had can leave a tumour made mostly of resistant cells, but the patient's context stays
#: their main clone.
MAX_SUBCLONE_FRACTION = 0.9


@dataclass(frozen=True)
class ArmEffects:
    """Per clone, patient and day: relative proliferation ``rp``, added apoptosis ``ra`` and
    ADCC drive ``adcc`` (clones x patients x days, float32; the main clone first, then the
    subclones in the order of :attr:`Host.mechanisms`), and each chemotherapy's daily effect
    (patients x days)."""

    proliferation: np.ndarray
    apoptosis: np.ndarray
    adcc: np.ndarray
    chemotherapy: Mapping[str, np.ndarray]

    def __post_init__(self) -> None:
        shape = self.proliferation.shape
        if len(shape) != 3 or shape[0] < 1:
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

    @property
    def clones(self) -> int:
        return self.proliferation.shape[0]

    @classmethod
    def untreated(cls, patients: int, days: int, clones: int = 2) -> ArmEffects:
        """No drug: every clone proliferates as untreated."""
        shape = (clones, patients, days)
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
    subclone shares (``z_fraction``: patients x mechanisms), sensitivities to targeted drugs and to
    chemotherapy, and occult deposit size, so a fit moves the distributions without redrawing the
    patients. ``present`` (patients x mechanisms) marks the subclones a patient's main clone can
    give (not those it already carries or that contradict it); ``pretreated`` marks tumours that
    anti-HER2 therapy has already selected (their subclones start larger).
    """

    z_tpot: np.ndarray
    z_fraction: np.ndarray
    present: np.ndarray
    doubling_days: np.ndarray
    immune: np.ndarray
    volume_cm3: np.ndarray
    mechanisms: tuple[str, ...]
    z_sensitivity: np.ndarray
    z_chemo: np.ndarray
    pretreated: np.ndarray
    z_deposit: np.ndarray

    def take(self, rows: np.ndarray) -> Host:
        return Host(self.z_tpot[rows], self.z_fraction[rows], self.present[rows], self.doubling_days[rows],
                    self.immune[rows], self.volume_cm3[rows], self.mechanisms, self.z_sensitivity[rows],
                    self.z_chemo[rows], self.pretreated[rows], self.z_deposit[rows])  # fmt: skip

    @property
    def clones(self) -> tuple[str, ...]:
        """Clone names in the order of every clones x patients array: the main clone, then one
        subclone per mechanism."""
        return ("main", *self.mechanisms)


def birth_and_loss(host: Host, kin: Kinetics) -> tuple[np.ndarray, np.ndarray]:
    """Each patient's birth rate ``b0`` and basal loss ``d0`` (per day).

    Where a patient's drawn potential doubling time is longer than their volume doubling time
    (no cell loss could make that tumour grow as fast as it does), ``b0`` is the observed growth
    rate and the loss is zero."""
    tpot = kin.value("potential_doubling_days") * np.exp(kin.value("potential_doubling_sigma") * host.z_tpot)
    growth = math.log(2) / host.doubling_days
    b0 = np.maximum(math.log(2) / tpot, growth)
    return b0, b0 - growth


def subclone_shares(host: Host, kin: Kinetics) -> np.ndarray:
    """Each subclone's share of the tumour's cells at the start (patients x mechanisms).

    A mechanism's median share is ``subclone_fraction`` times its weight's part of all
    mechanisms' weights (times ``pretreated_subclone_factor`` after earlier anti-HER2 therapy);
    where the shares of a patient add up to more than :data:`MAX_SUBCLONE_FRACTION` they are
    scaled down to it together."""
    weight = kin.mechanism_weights(host.mechanisms)
    selected = np.where(host.pretreated, kin.value("pretreated_subclone_factor"), 1.0)
    spread = np.exp(kin.value("subclone_fraction_sigma") * host.z_fraction)
    shares = kin.value("subclone_fraction") * selected[:, None] * (weight / weight.sum()) * spread * host.present
    total = shares.sum(axis=1, keepdims=True)
    return shares * np.minimum(1.0, MAX_SUBCLONE_FRACTION / np.maximum(total, 1e-300))


def initial_cells(host: Host, kin: Kinetics) -> np.ndarray:
    """Cells of each clone at the start (clones x patients: main clone, then the subclones)."""
    total = host.volume_cm3 * kin.value("cell_density")
    shares = subclone_shares(host, kin)
    return np.vstack([total * (1.0 - shares.sum(axis=1)), (total[:, None] * shares).T])


def detectable_cells(kin: Kinetics) -> float:
    """Cells of a sphere of the diameter at which imaging finds a new lesion."""
    diameter_cm = kin.value("new_lesion_diameter_mm") / 10.0
    return math.pi / 6 * diameter_cm**3 * kin.value("cell_density")


def occult_deposits(host: Host, kin: Kinetics) -> np.ndarray:
    """Each patient's occult deposit of resistant cells at the start (cells), kept below what
    imaging finds (an occult deposit is by definition not seen at baseline)."""
    cells = kin.value("occult_deposit_cells") * np.exp(kin.value("occult_deposit_sigma") * host.z_deposit)
    return np.minimum(cells, 0.5 * detectable_cells(kin))


def deposit_courses(host: Host, kin: Kinetics, cells: np.ndarray) -> np.ndarray:
    """Each subclone's cells in the occult deposit at every time of ``cells`` (subclones x
    patients x times), from the tumour's clone courses (clones x patients x times, the first
    time the start): the deposit holds the subclones in their starting proportions, and each
    part grows as its subclone does in the measured lesions."""
    resistant = cells[1:]
    total = resistant[:, :, :1].sum(axis=0, keepdims=True)
    scale = occult_deposits(host, kin)[None, :, None] / np.where(total > 0, total, np.inf)
    return resistant * scale


def courses(
    effects: ArmEffects, host: Host, kin: Kinetics, kmax: Mapping[str, float], at_days: np.ndarray
) -> np.ndarray:
    """Cells of each clone at ``at_days`` (clones x patients x visits).

    ``kmax`` gives each chemotherapy's kill rate (per day); a chemotherapy the arm gives without
    a ``kmax`` is an error."""
    missing = sorted(set(effects.chemotherapy) - set(kmax))
    if missing:
        raise ConfigError(f"no kill rate (kmax) for chemotherapy {missing[0]!r}")
    if effects.clones != len(host.clones):
        raise ConfigError(f"effects for {effects.clones} clones, the tumours have {len(host.clones)}")
    b0, d0 = birth_and_loss(host, kin)
    cells0 = initial_cells(host, kin)
    adcc_scale = kin.value("adcc_kill") * host.immune
    targeted = kin.value("drug_effect_scale") * np.exp(kin.value("drug_sensitivity_sigma") * host.z_sensitivity)
    targeted = targeted[:, None]
    steady_loss = kin.value("loss_independent_share")
    chemo = np.exp(kin.value("chemo_sensitivity_sigma") * host.z_chemo)[:, None]
    out = np.empty((effects.clones, effects.patients, len(at_days)))
    for k in range(effects.clones):
        if k > 0 and not host.present[:, k - 1].any():
            out[k] = 0.0  # no patient carries this subclone
            continue
        chemo_k = chemo * (kin.value("subclone_chemo_factor") if k > 0 else 1.0)
        rp = np.clip(1.0 - targeted * (1.0 - effects.proliferation[k]), 0.0, None)
        ra = targeted * effects.apoptosis[k]
        loss = d0[:, None] * (steady_loss + (1.0 - steady_loss) * rp)
        net = b0[:, None] * (rp - ra - adcc_scale[:, None] * effects.adcc[k]) - loss
        for name, effect in effects.chemotherapy.items():
            net -= kmax[name] * chemo_k * effect * rp
        out[k] = clone_course(cells0[k], net, 1.0, at_days)
    return out
