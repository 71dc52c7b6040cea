"""Birth and death rates of each clone under a regimen, from the cell model.

Untreated, every clone doubles in the tumour's doubling time: its birth rate is
``b0 = ln 2 / T_d + delta0`` and its death rate ``delta0`` (a basal loss, 0.01 per day by
default). A regimen changes them through the same effects the validation table uses:

* birth ``b0 * P / P0``: proliferation relative to the clone untreated;
* death ``delta0 + b0 * (A - A0) / (1 - A0)``: the apoptosis the regimen adds, on the scale of
  the birth rate (a regimen that makes every cell die removes cells as fast as they are born),
  plus ``b0 * adcc * access * immune_capacity``: antibody-dependent killing by immune cells, at
  the regimen's ADCC drive (:func:`~her2sim.her2.pharmacology.adcc_drive`), the clone's epitope
  access and the host's immune capacity (1: typical);

where ``P``, ``A`` (``P0``, ``A0``) are the clone's steady-state proliferation and apoptosis
probabilities in the cell model under the regimen (untreated).

Membrane-permeable payloads (T-DXd's DXd) reach every cell in proportion to what the whole
tumour takes up, which changes as the clones' shares change. Each clone's ``P`` and ``A`` are
therefore simulated on a small grid of bystander doses and interpolated during the dynamics;
:meth:`CloneRates.release` gives the payload each clone releases per cell.
"""

from __future__ import annotations

import math

import numpy as np

from her2sim.errors import ConfigError
from her2sim.her2.pharmacology import adcc_drive, epitope_access, population_uptake
from her2sim.her2.scenario import Her2Simulator
from her2sim.her2.therapies import Regimen
from her2sim.tumour.spec import Tumour

__all__ = ["CloneRates"]

_GRID = 7  # bystander doses per clone and regimen


class CloneRates:
    """Each clone's (P, A) under each regimen, as functions of the bystander payload."""

    def __init__(self, tumour: Tumour, simulator: Her2Simulator | None = None, delta0: float = 0.01) -> None:
        if not (math.isfinite(delta0) and delta0 >= 0):
            raise ConfigError(f"basal death rate must be >= 0, got {delta0}")
        self.tumour = tumour
        self.sim = simulator or Her2Simulator()
        self.contexts = [self.sim.context(c.context) for c in tumour.clones]
        self.delta0 = delta0
        self.b0 = math.log(2) / tumour.doubling_time_days + delta0
        base = self.sim.readouts([(c, Regimen()) for c in self.contexts])
        self.p0 = np.array([v["proliferation"] for v in base])
        self.a0 = np.array([v["apoptosis"] for v in base])
        stalled = [c.name for c, p in zip(tumour.clones, self.p0, strict=True) if p <= 0]
        if stalled:
            raise ConfigError(f"clone(s) {', '.join(stalled)} do not proliferate untreated in the cell model")
        self._tables: dict[tuple[object, ...], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
        self._immune_kill: dict[tuple[object, ...], np.ndarray] = {}

    def release(self, regimen: Regimen) -> np.ndarray:
        """Membrane-permeable payload each clone releases per cell (0 without such a payload)."""
        defaults = self.sim.model.parameter_values
        return np.array([population_uptake(regimen, [(1.0, c)], defaults) for c in self.contexts])

    def _table(self, regimen: Regimen) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(bystander grid, release, P[clone, grid], A[clone, grid]) for ``regimen``."""
        key = regimen.key
        if key not in self._tables:
            release = self.release(regimen)
            top = float(release.max())
            grid = np.linspace(0.0, top, _GRID) if top > 0 else np.zeros(1)
            pairs = [(c, regimen) for c in self.contexts for _ in grid]
            values = self.sim.readouts_with_bystander(pairs, [float(b) for _ in self.contexts for b in grid])
            shape = (len(self.contexts), len(grid))
            p = np.array([v["proliferation"] for v in values]).reshape(shape)
            a = np.array([v["apoptosis"] for v in values]).reshape(shape)
            self._tables[key] = (grid, release, p, a)
        return self._tables[key]

    def prepare(self, regimens: list[Regimen]) -> None:
        """Simulate every regimen's table now (one batch each), before the dynamics start."""
        for regimen in regimens:
            self._table(regimen)

    def rates(self, regimen: Regimen, fractions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(birth, death) per clone per day, given the clones' current shares of the tumour."""
        grid, release, p, a = self._table(regimen)
        bystander = float(np.dot(fractions, release))
        if len(grid) == 1:
            prolif, apopt = p[:, 0], a[:, 0]
        else:
            prolif = np.array([np.interp(bystander, grid, row) for row in p])
            apopt = np.array([np.interp(bystander, grid, row) for row in a])
        birth = self.b0 * prolif / self.p0
        added = np.clip((apopt - self.a0) / np.clip(1.0 - self.a0, 1e-12, None), 0.0, None)
        return birth, self.delta0 + self.b0 * (added + self._immune(regimen))

    def _immune(self, regimen: Regimen) -> np.ndarray:
        """Each clone's ADCC kill on the scale of the birth rate."""
        key = ("immune", regimen.key)
        if key not in self._immune_kill:
            defaults = self.sim.model.parameter_values
            self._immune_kill[key] = np.array([
                adcc_drive(regimen, c) * epitope_access(c, defaults, regimen) * self.tumour.immune_capacity
                for c in self.contexts
            ])  # fmt: skip
        return self._immune_kill[key]
