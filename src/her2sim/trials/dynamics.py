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
as subclone cells do in a lesion without main-clone cells, and when it reaches
:func:`detectable_cells` it is a new lesion, which RECIST counts as progression whatever the
target lesions do.

A membrane-permeable payload (T-DXd's DXd) reaches cells from the clones around them, so its
effects depend on a lesion's composition: they come at a few shares of the main clone
(:attr:`ArmEffects.shares`) and each day's are read at that day's share
(:mod:`her2sim.trials.course`). As the main clone dies, the subclone gets less of its payload
(the bystander killing of antigen-negative cells rises with the share of antigen-positive cells
around them and fades as they are killed: Singh et al. 2016 J Pharmacokinet Pharmacodyn,
doi:10.1007/s10928-016-9495-8, PMC5112145, co-cultures of HER2-negative with HER2-positive
cells under a trastuzumab conjugate with a membrane-permeable payload).

Examples
--------
>>> from her2sim.trials.kinetics import kinetics
>>> effects = ArmEffects.untreated(patients=1, days=30)
>>> host = Host(np.zeros(1), np.zeros(1), np.zeros(1, dtype=int), np.array([60.0]),
...             np.array([1.0]), np.array([20.0]), ("PIK3CA:H1047R",), np.zeros(1), np.zeros(1), np.zeros(1, bool),
...             np.zeros(1))
>>> cells = courses(effects, host, kinetics(), {}, np.array([0.0, 30.0]))
>>> growth = cells[:2].sum(axis=0)[0]  # the lesion's two clones (the third row: the occult deposit)
>>> bool(abs(growth[1] / growth[0] - 2 ** 0.5) < 1e-6)  # untreated: doubles in Td = 60 days
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from her2sim.errors import ConfigError
from her2sim.trials.course import Rates, lesion_courses
from her2sim.trials.kinetics import Kinetics

__all__ = ["ArmEffects", "Host", "courses", "detectable_cells", "initial_cells", "occult_deposits"]

#: Clone order in every clones x patients array.
CLONES = ("main", "subclone")
#: Largest share of a tumour the resistant subclone can start as: therapy the patient has had can
#: leave a tumour made mostly of resistant cells, but the patient's context stays their main clone.
MAX_SUBCLONE_FRACTION = 0.9


@dataclass(frozen=True)
class ArmEffects:
    """Per main-clone share, clone, patient and day: relative proliferation ``rp`` and added
    apoptosis ``ra`` (shares x clones x patients x days, float32); per clone, patient and day the
    ADCC drive ``adcc``; each chemotherapy's daily effect (patients x days).

    ``shares`` are the main clone's shares of a lesion at which ``rp`` and ``ra`` were read
    (increasing from 0 to 1): they differ only when a membrane-permeable payload reaches cells
    from their neighbours (:mod:`her2sim.trials.course`). Without one there is one share, 1, and
    arrays of clones x patients x days are taken as that single layer."""

    proliferation: np.ndarray
    apoptosis: np.ndarray
    adcc: np.ndarray
    chemotherapy: Mapping[str, np.ndarray]
    shares: tuple[float, ...] = (1.0,)

    def __post_init__(self) -> None:
        for name in ("proliferation", "apoptosis"):
            array = getattr(self, name)
            if array.ndim == 3:
                object.__setattr__(self, name, array[None])
        shape = self.proliferation.shape
        if len(shape) != 4 or shape[1] != len(CLONES) or shape[0] != len(self.shares):
            raise ConfigError(f"effects must be shares x clones x patients x days for {len(self.shares)} "
                              f"share(s), got {shape}")  # fmt: skip
        steps = np.diff(self.shares)
        if len(self.shares) > 1 and (self.shares[0] != 0.0 or self.shares[-1] != 1.0 or np.any(steps <= 0)):
            raise ConfigError(f"main-clone shares must increase from 0 to 1, got {self.shares}")
        if self.apoptosis.shape != shape:
            raise ConfigError(f"apoptosis has shape {self.apoptosis.shape}, proliferation {shape}")
        if self.adcc.shape != shape[1:]:
            raise ConfigError(f"adcc has shape {self.adcc.shape}, expected {shape[1:]}")
        for name, array in self.chemotherapy.items():
            if array.shape != shape[2:]:
                raise ConfigError(f"chemotherapy {name} has shape {array.shape}, expected {shape[2:]}")

    @property
    def patients(self) -> int:
        return self.proliferation.shape[2]

    @property
    def days(self) -> int:
        return self.proliferation.shape[3]

    @classmethod
    def untreated(cls, patients: int, days: int) -> ArmEffects:
        """No drug: every clone proliferates as untreated."""
        shape = (len(CLONES), patients, days)
        return cls(np.ones(shape, np.float32), np.zeros(shape, np.float32), np.zeros(shape, np.float32), {})

    def blend(self, other: ArmEffects, weight: float) -> ArmEffects:
        """``(1 - weight) * self + weight * other``, array by array (chemotherapy and shares are
        the same in both)."""

        def mix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            return ((1 - weight) * a + weight * b).astype(np.float32)

        return ArmEffects(mix(self.proliferation, other.proliferation), mix(self.apoptosis, other.apoptosis),
                          mix(self.adcc, other.adcc), self.chemotherapy, self.shares)  # fmt: skip

    def take(self, rows: np.ndarray) -> ArmEffects:
        """The effects of a subset of patients."""
        return ArmEffects(self.proliferation[:, :, rows], self.apoptosis[:, :, rows], self.adcc[:, rows],
                          {k: v[rows] for k, v in self.chemotherapy.items()}, self.shares)  # fmt: skip


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
    """Cells of the main clone, the subclone and the occult deposit at ``at_days``
    (3 x patients x visits; :func:`~her2sim.trials.course.lesion_courses`).

    ``kmax`` gives each chemotherapy's kill rate (per day); a chemotherapy the arm gives without
    a ``kmax`` is an error."""
    missing = sorted(set(effects.chemotherapy) - set(kmax))
    if missing:
        raise ConfigError(f"no kill rate (kmax) for chemotherapy {missing[0]!r}")
    b0, d0 = birth_and_loss(host, kin)
    targeted = kin.value("drug_effect_scale") * np.exp(kin.value("drug_sensitivity_sigma") * host.z_sensitivity)
    chemo = np.exp(kin.value("chemo_sensitivity_sigma") * host.z_chemo)[:, None]
    kill = np.zeros((effects.patients, effects.days))
    for name, effect in effects.chemotherapy.items():
        kill += kmax[name] * chemo * effect
    rates = Rates(
        effects.proliferation, effects.apoptosis, effects.adcc, kill, np.asarray(effects.shares), b0, d0, targeted,
        kin.value("loss_independent_share"), kin.value("adcc_kill") * host.immune,
        np.array([1.0 if clone == "main" else kin.value("subclone_chemo_factor") for clone in CLONES]),
    )  # fmt: skip
    return lesion_courses(initial_cells(host, kin), occult_deposits(host, kin), rates, at_days)
