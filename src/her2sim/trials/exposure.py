"""Cell responses to drug concentrations that change every day, without simulating the
network per patient per day.

A trial needs, for every patient and day, the proliferation and apoptosis of each tumour clone
under that day's drug concentrations. The cell model is run once per (context, drugs) on a
grid of concentrations (each drug from none to well above its clinical range, log-spaced; a
membrane-permeable payload adds a grid of bystander doses), all in one batch of the engine;
between grid points the response is interpolated multilinearly in log concentration. Tables
are cached on disk by everything that determines them (the model's files, the calibrated
parameters, the context, the drugs, the grid, the run settings), so a second trial reuses them.

The interpolation error is measured against direct simulation at random concentrations in
``tests/trials/test_exposure.py`` and stated in :data:`INTERPOLATION_ERROR`.

Examples
--------
>>> from her2sim.her2.model import load_config
>>> from her2sim.her2.scenario import Her2Simulator
>>> sim = Her2Simulator(load_config(samples=200))
>>> table = ResponseTable.build(sim, "ERBB2:amp", ("lapatinib",), points=4)
>>> p, a = table.at(np.array([[0.0], [1000.0]]))
>>> bool(p[1] < p[0])
True
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from her2sim.errors import ConfigError
from her2sim.her2.model import data_path
from her2sim.her2.pharmacology import adcc_drive
from her2sim.her2.scenario import Her2Simulator
from her2sim.her2.therapies import Regimen

__all__ = ["INTERPOLATION_ERROR", "ResponseTable", "cache_directory", "response_tables"]

#: Largest absolute interpolation error of proliferation and apoptosis (probabilities) seen
#: against direct simulation at random concentrations, 8 grid points per drug (see the tests).
INTERPOLATION_ERROR = 0.05
#: Grid span around a drug's standard dose: from 1/300 to 30 times it, log-spaced, plus none.
_SPAN = (1 / 300, 30.0)
#: Bystander payload grid points for a conjugate whose payload crosses membranes.
_BYSTANDER_POINTS = 5


def cache_directory() -> Path:
    """Where response tables are kept: ``$HER2SIM_CACHE``, else ``$XDG_CACHE_HOME/her2sim``,
    else ``~/.cache/her2sim``."""
    explicit = os.environ.get("HER2SIM_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "her2sim" / "responses"


@dataclass(frozen=True)
class ResponseTable:
    """Proliferation and apoptosis of one context over a grid of drug concentrations (nM),
    the same context untreated (``p0``, ``a0``), and the ADCC drive of the drugs at each
    grid point (:func:`~her2sim.her2.pharmacology.adcc_drive`, computed, not simulated)."""

    context: str
    drugs: tuple[str, ...]
    grids: tuple[np.ndarray, ...]
    proliferation: np.ndarray
    apoptosis: np.ndarray
    p0: float
    a0: float
    adcc: np.ndarray
    bystander: np.ndarray | None = None

    @classmethod
    def build(
        cls, simulator: Her2Simulator, context: str, drugs: Sequence[str], points: int = 8,
        bystander_max: float = 0.0,
    ) -> ResponseTable:  # fmt: skip
        """Simulate the grid (one batch) and return the table."""
        if not drugs:
            raise ConfigError("a response table needs at least one drug")
        if points < 2:
            raise ConfigError(f"a concentration grid needs at least 2 points, got {points}")
        ctx = simulator.context(context)
        library = simulator.therapies
        names = tuple(library.get(d).name for d in drugs)
        grids = tuple(_grid(library.get(n).standard_dose, points) for n in names)
        mesh = np.stack(np.meshgrid(*grids, indexing="ij"), axis=-1).reshape(-1, len(names))
        byst = np.linspace(0.0, bystander_max, _BYSTANDER_POINTS) if bystander_max > 0 else None
        regimens = [_regimen(library, names, row) for row in mesh]
        pairs = [(ctx, r) for r in regimens] + [(ctx, Regimen())]
        if byst is None:
            values = simulator.readouts(pairs)
        else:
            values = simulator.readouts_with_bystander(
                [(ctx, r) for r in regimens for _ in byst] + [(ctx, Regimen())],
                [float(b) for _ in regimens for b in byst] + [0.0],
            )
        shape = tuple(len(g) for g in grids) + ((len(byst),) if byst is not None else ())
        prolif = np.array([v["proliferation"] for v in values[:-1]]).reshape(shape)
        apopt = np.array([v["apoptosis"] for v in values[:-1]]).reshape(shape)
        base = values[-1]
        adcc = np.array([adcc_drive(r, ctx) for r in regimens]).reshape(shape[: len(grids)])
        return cls(ctx.label, names, grids, prolif, apopt, base["proliferation"], base["apoptosis"], adcc, byst)

    def at(self, concentrations: np.ndarray, bystander: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(proliferation, apoptosis) at each row of ``concentrations`` (patients x drugs, nM),
        interpolated multilinearly in log concentration; beyond the grid, the last value holds."""
        from scipy.interpolate import RegularGridInterpolator

        c = np.atleast_2d(np.asarray(concentrations, dtype=float))
        if c.shape[1] != len(self.drugs):
            raise ConfigError(f"expected concentrations of {len(self.drugs)} drugs, got {c.shape[1]}")
        axes = [_axis(g) for g in self.grids]
        points = np.column_stack([np.clip(_axis(c[:, j]), a[0], a[-1]) for j, a in enumerate(axes)])
        if self.bystander is not None:
            b = np.zeros(len(c)) if bystander is None else np.asarray(bystander, dtype=float)
            axes.append(self.bystander)
            points = np.column_stack([points, np.clip(b, self.bystander[0], self.bystander[-1])])
        out = []
        for values in (self.proliferation, self.apoptosis):
            out.append(RegularGridInterpolator(axes, values, method="linear")(points))
        return out[0], out[1]

    def adcc_at(self, concentrations: np.ndarray) -> np.ndarray:
        """The ADCC drive at each row of ``concentrations`` (patients x drugs, nM)."""
        from scipy.interpolate import RegularGridInterpolator

        c = np.atleast_2d(np.asarray(concentrations, dtype=float))
        axes = [_axis(g) for g in self.grids]
        points = np.column_stack([np.clip(_axis(c[:, j]), a[0], a[-1]) for j, a in enumerate(axes)])
        return RegularGridInterpolator(axes, self.adcc, method="linear")(points)

    def save(self, path: Path) -> None:
        """Write the table (npz) through a temporary file and a rename."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npz")
        arrays = {f"grid{j}": g for j, g in enumerate(self.grids)}
        if self.bystander is not None:
            arrays["bystander"] = self.bystander
        np.savez(tmp, proliferation=self.proliferation, apoptosis=self.apoptosis, adcc=self.adcc,
                 base=np.array([self.p0, self.a0]), drugs=np.array(self.drugs), context=np.array(self.context),
                 **arrays)  # fmt: skip
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> ResponseTable:
        with np.load(path, allow_pickle=False) as data:
            drugs = tuple(str(d) for d in data["drugs"])
            grids = tuple(data[f"grid{j}"] for j in range(len(drugs)))
            byst = data.get("bystander", None)
            return cls(str(data["context"]), drugs, grids, data["proliferation"], data["apoptosis"],
                       float(data["base"][0]), float(data["base"][1]), data["adcc"], byst)  # fmt: skip


def response_tables(
    simulator: Her2Simulator,
    requests: Sequence[tuple[str, tuple[str, ...], float]],
    points: int = 8,
    cache: Path | None = None,
) -> dict[tuple[str, tuple[str, ...]], ResponseTable]:
    """Tables for (context, drugs, bystander_max) requests, from the disk cache where present."""
    folder = cache or cache_directory()
    out = {}
    for context, drugs, bystander_max in requests:
        path = folder / f"{_key(simulator, context, drugs, points, bystander_max)}.npz"
        table = None
        if path.is_file():
            try:
                table = ResponseTable.load(path)
            except (OSError, ValueError, KeyError):
                table = None  # a damaged entry is rebuilt
        if table is None:
            table = ResponseTable.build(simulator, context, drugs, points, bystander_max)
            table.save(path)
        out[(context, drugs)] = table
    return out


def _grid(standard: float, points: int) -> np.ndarray:
    low, high = standard * _SPAN[0], standard * _SPAN[1]
    return np.concatenate([[0.0], np.geomspace(low, high, points - 1)])


def _axis(c: np.ndarray) -> np.ndarray:
    """The interpolation coordinate of a concentration: log10(1 + c), flat near zero."""
    return np.log10(1.0 + np.asarray(c, dtype=float))


def _regimen(library, names: Sequence[str], doses: np.ndarray) -> Regimen:  # type: ignore[no-untyped-def]
    """The regimen of the drugs at the given nM doses (drugs at zero left out)."""
    parts = [f"{n}@{d:.6g}nM" for n, d in zip(names, doses, strict=True) if d > 0]
    return library.regimen("+".join(parts)) if parts else Regimen()


def _key(simulator: Her2Simulator, context: str, drugs: Sequence[str], points: int, bystander: float) -> str:
    digest = hashlib.sha256()
    for name in ("her2.bnd", "her2.cfg", "alterations.yaml", "therapies.yaml", "posterior.tsv"):
        path = Path(data_path(name))
        digest.update(path.read_bytes() if path.is_file() else b"-")
    perturbation = simulator.perturbation
    digest.update(repr((sorted(perturbation.parameters.items()), sorted(perturbation.rate_scale.items()),
                        sorted(perturbation.potency.items()), sorted(perturbation.emax.items()),
                        sorted(perturbation.alteration.items()))).encode())  # fmt: skip
    config = simulator.config
    digest.update(f"{context}|{'+'.join(drugs)}|{points}|{bystander:.6g}|{config.sample_count}|{config.seed}|"
                  f"{config.max_time}|{config.time_tick}".encode())  # fmt: skip
    return digest.hexdigest()[:24]
