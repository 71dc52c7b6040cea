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
from her2sim.her2.pharmacology import adcc_drive, epitope_access
from her2sim.her2.scenario import Her2Simulator
from her2sim.her2.therapies import Regimen, TherapyLibrary

__all__ = ["INTERPOLATION_ERROR", "ResponseTable", "build_tables", "cache_directory", "response_tables"]

#: Largest absolute interpolation error of proliferation and apoptosis (probabilities) seen
#: against direct simulation at random concentrations, 6 grid points per drug (see the tests).
INTERPOLATION_ERROR = 0.05
#: Version of the cached table layout (part of the cache key).
_FORMAT = 3
#: Grid span around a drug's standard dose: from 1/30 to 30 times it, log-spaced, plus none.
_SPAN = (1 / 30, 30.0)
#: Bystander payload grid points for a conjugate whose payload crosses membranes.
_BYSTANDER_POINTS = 6
#: Contexts simulated in one engine batch when many tables are missing (memory, not speed).
BATCH_CONTEXTS = 48
#: The context whose release at the top of the grid ends the bystander axis.
BYSTANDER_REFERENCE = "ERBB2:amp"


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
    the same context untreated (``p0``, ``a0``), and, computed rather than simulated at each
    grid point, the ADCC the drugs direct at its cells (:func:`~her2sim.her2.pharmacology.adcc_drive`
    times the context's epitope access) and the membrane-permeable payload its cells release
    (:meth:`~her2sim.her2.scenario.Her2Simulator.bystander_release`). With such a payload the
    table has one more axis, the payload reaching the cells from their neighbours."""

    context: str
    drugs: tuple[str, ...]
    grids: tuple[np.ndarray, ...]
    proliferation: np.ndarray
    apoptosis: np.ndarray
    p0: float
    a0: float
    adcc: np.ndarray
    release: np.ndarray
    bystander: np.ndarray | None = None

    @classmethod
    def build(cls, simulator: Her2Simulator, context: str, drugs: Sequence[str], points: int = 6) -> ResponseTable:
        """Simulate one context's grid (one batch) and return its table."""
        [table] = build_tables(simulator, [context], drugs, points)
        return table

    def at(self, concentrations: np.ndarray, bystander: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(proliferation, apoptosis) at each row of ``concentrations`` (points x drugs, nM),
        interpolated multilinearly in log concentration; beyond the grid, the last value holds.
        ``bystander`` (per point) is the payload from neighbouring cells, for tables with that axis."""
        axes, points = self._points(concentrations)
        if self.bystander is not None:
            b = np.zeros(len(points)) if bystander is None else np.asarray(bystander, dtype=float)
            axes.append(_axis(self.bystander))
            points = np.column_stack([points, _axis(np.clip(b, self.bystander[0], self.bystander[-1]))])
        return _interpolate(axes, points, self.proliferation), _interpolate(axes, points, self.apoptosis)

    def adcc_at(self, concentrations: np.ndarray) -> np.ndarray:
        """The ADCC directed at this context's cells at each row of ``concentrations``."""
        return _interpolate(*self._points(concentrations), values=self.adcc)

    def release_at(self, concentrations: np.ndarray) -> np.ndarray:
        """The membrane-permeable payload this context's cells release at each row."""
        return _interpolate(*self._points(concentrations), values=self.release)

    def _points(self, concentrations: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
        c = np.asarray(concentrations, dtype=float)
        c = c.reshape(-1, 1) if c.ndim == 1 and len(self.drugs) == 1 else np.atleast_2d(c)
        if c.shape[1] != len(self.drugs):
            raise ConfigError(f"expected concentrations of {len(self.drugs)} drugs, got {c.shape[1]}")
        axes = [_axis(g) for g in self.grids]
        return axes, np.column_stack([np.clip(_axis(c[:, j]), a[0], a[-1]) for j, a in enumerate(axes)])

    def save(self, path: Path) -> None:
        """Write the table (npz) through a temporary file and a rename."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npz")
        arrays = {f"grid{j}": g for j, g in enumerate(self.grids)}
        if self.bystander is not None:
            arrays["bystander"] = self.bystander
        np.savez(tmp, proliferation=self.proliferation, apoptosis=self.apoptosis, adcc=self.adcc,
                 release=self.release, base=np.array([self.p0, self.a0]), drugs=np.array(self.drugs),
                 context=np.array(self.context), allow_pickle=True, **arrays)  # fmt: skip
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> ResponseTable:
        with np.load(path, allow_pickle=False) as data:
            drugs = tuple(str(d) for d in data["drugs"])
            grids = tuple(data[f"grid{j}"] for j in range(len(drugs)))
            byst = data.get("bystander", None)
            return cls(str(data["context"]), drugs, grids, data["proliferation"], data["apoptosis"],
                       float(data["base"][0]), float(data["base"][1]), data["adcc"], data["release"], byst)  # fmt: skip


def build_tables(
    simulator: Her2Simulator, contexts: Sequence[str], drugs: Sequence[str], points: int = 6
) -> list[ResponseTable]:
    """The tables of several contexts for one set of drugs, simulated in one batch.

    When a drug's payload crosses membranes, every table gets a bystander axis from none to
    what an HER2-amplified tumour releases at the top of the grid (:data:`BYSTANDER_REFERENCE`),
    so the payload released by one clone can be read on the table of another."""
    if not drugs:
        raise ConfigError("a response table needs at least one drug")
    if points < 2:
        raise ConfigError(f"a concentration grid needs at least 2 points, got {points}")
    library = simulator.therapies
    names = tuple(library.get(d).name for d in drugs)
    grids = tuple(_grid(library.get(n).standard_dose, points) for n in names)
    mesh = np.stack(np.meshgrid(*grids, indexing="ij"), axis=-1).reshape(-1, len(names))
    regimens = [_regimen(library, names, row) for row in mesh]
    shape = tuple(len(g) for g in grids)
    reference = simulator.context(BYSTANDER_REFERENCE)
    top = simulator.bystander_release(reference, regimens[-1])
    byst = np.concatenate([[0.0], np.geomspace(top / 300, top, _BYSTANDER_POINTS - 1)]) if top > 0 else None
    ctxs = [simulator.context(c) for c in contexts]
    defaults = {**simulator.model.parameter_values, **simulator.perturbation.parameters}
    if byst is None:
        values = simulator.readouts([(c, r) for c in ctxs for r in regimens] + [(c, Regimen()) for c in ctxs])
    else:
        pairs = [(c, r) for c in ctxs for r in regimens for _ in byst]
        doses = [float(b) for _ in ctxs for _ in regimens for b in byst]
        values = simulator.readouts_with_bystander(pairs + [(c, Regimen()) for c in ctxs], doses + [0.0] * len(ctxs))
    full = shape + ((len(byst),) if byst is not None else ())
    size = int(np.prod(full))
    tables = []
    for i, ctx in enumerate(ctxs):
        block = values[i * size : (i + 1) * size]
        base = values[len(ctxs) * size + i]
        prolif = np.array([v["proliferation"] for v in block]).reshape(full)
        apopt = np.array([v["apoptosis"] for v in block]).reshape(full)
        adcc = np.array([adcc_drive(r, ctx) * epitope_access(ctx, defaults, r) for r in regimens]).reshape(shape)
        release = np.array([simulator.bystander_release(ctx, r) for r in regimens]).reshape(shape)
        tables.append(ResponseTable(ctx.label, names, grids, prolif, apopt, base["proliferation"],
                                    base["apoptosis"], adcc, release, byst))  # fmt: skip
    return tables


def response_tables(
    simulator: Her2Simulator,
    contexts: Sequence[str],
    drugs: Sequence[str],
    points: int = 6,
    cache: Path | None = None,
) -> dict[str, ResponseTable]:
    """Each context's table for ``drugs``: from the disk cache where present, the others
    simulated in batches of :data:`BATCH_CONTEXTS` contexts and stored."""
    folder = cache or cache_directory()
    drugs = tuple(simulator.therapies.get(d).name for d in drugs)
    out: dict[str, ResponseTable] = {}
    todo: dict[str, Path] = {}
    for context in dict.fromkeys(contexts):
        path = folder / f"{_key(simulator, context, drugs, points)}.npz"
        if path.is_file():
            try:
                out[context] = ResponseTable.load(path)
                continue
            except (OSError, ValueError, KeyError):
                pass  # a damaged entry is rebuilt
        todo[context] = path
    names = list(todo)
    for start in range(0, len(names), BATCH_CONTEXTS):  # batches bound the engine's memory
        batch = names[start : start + BATCH_CONTEXTS]
        for context, table in zip(batch, build_tables(simulator, batch, drugs, points), strict=True):
            table.save(todo[context])
            out[context] = table
    return out


def _interpolate(axes: list[np.ndarray], points: np.ndarray, values: np.ndarray) -> np.ndarray:
    from scipy.interpolate import RegularGridInterpolator

    return RegularGridInterpolator(axes, values, method="linear")(points)


def _grid(standard: float, points: int) -> np.ndarray:
    low, high = standard * _SPAN[0], standard * _SPAN[1]
    return np.concatenate([[0.0], np.geomspace(low, high, points - 1)])


def _axis(c: np.ndarray) -> np.ndarray:
    """The interpolation coordinate of a concentration (nM) or bystander dose (payload EC50s):
    log10(1 + c), linear near zero and logarithmic above one."""
    return np.log10(1.0 + np.asarray(c, dtype=float))


def _regimen(library: TherapyLibrary, names: Sequence[str], doses: np.ndarray) -> Regimen:
    """The regimen of the drugs at the given nM doses (drugs at zero left out)."""
    parts = [f"{n}@{d:.6g}nM" for n, d in zip(names, doses, strict=True) if d > 0]
    return library.regimen("+".join(parts)) if parts else Regimen()


def _key(simulator: Her2Simulator, context: str, drugs: Sequence[str], points: int) -> str:
    digest = hashlib.sha256()
    for name in ("her2.bnd", "her2.cfg", "alterations.yaml", "therapies.yaml", "posterior.tsv"):
        path = Path(data_path(name))
        digest.update(path.read_bytes() if path.is_file() else b"-")
    perturbation = simulator.perturbation
    digest.update(repr((sorted(perturbation.parameters.items()), sorted(perturbation.rate_scale.items()),
                        sorted(perturbation.potency.items()), sorted(perturbation.emax.items()),
                        sorted(perturbation.alteration.items()))).encode())  # fmt: skip
    config = simulator.config
    digest.update(f"{context}|{'+'.join(drugs)}|{points}|{_FORMAT}|{config.sample_count}|{config.seed}|"
                  f"{config.max_time}|{config.time_tick}".encode())  # fmt: skip
    return digest.hexdigest()[:24]
