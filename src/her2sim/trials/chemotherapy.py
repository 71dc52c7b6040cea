"""Chemotherapy as a mechanism: cytotoxic drugs kill cells as they cycle.

A drug's kill rate on a clone is ``kmax * C / (C + ec50) * P / P0`` (per day), with ``C`` its
concentration at the tumour and ``P / P0`` the clone's proliferation in the cell model
relative to untreated. An anti-HER2 drug that arrests cells in G1 therefore weakens the
chemotherapy given with it, and a combination's benefit is not the sum of its parts. The
parameters are data (``trials/data/chemotherapy.yaml``): priors for the population-level fit
to trial results.

Examples
--------
>>> drug = chemotherapy_library()["docetaxel"]
>>> rate = drug.kill(np.array([0.0, drug.ec50]), np.array([1.0, 0.5]))
>>> bool(np.allclose(rate, [0.0, drug.kmax * 0.5 * 0.5]))
True
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, replace

import numpy as np

from her2sim.formats.records import Document, read_document
from her2sim.trials.kinetics import read_parameter

__all__ = ["Chemotherapy", "chemotherapy_library", "read_chemotherapies"]


@dataclass(frozen=True)
class Chemotherapy:
    """One cytotoxic drug: its class, the cycle phase it hits, and its kill parameters."""

    name: str
    drug_class: str
    phase: str
    kmax: float
    ec50: float
    kmax_prior: tuple[float, float]
    ec50_prior: tuple[float, float]

    def kill(self, concentration: np.ndarray, relative_proliferation: np.ndarray) -> np.ndarray:
        """Kill rate per day at ``concentration`` (mg/L) on cells proliferating at the given
        fraction of their untreated rate."""
        c = np.clip(np.asarray(concentration, dtype=float), 0.0, None)
        return self.kmax * c / (c + self.ec50) * np.clip(relative_proliferation, 0.0, None)

    def with_parameters(self, kmax: float | None = None, ec50: float | None = None) -> Chemotherapy:
        """The drug with fitted parameters."""
        return replace(self, kmax=self.kmax if kmax is None else kmax, ec50=self.ec50 if ec50 is None else ec50)


def read_chemotherapies(path: str | os.PathLike[str]) -> dict[str, Chemotherapy]:
    """Read a chemotherapy file; every problem is a ``file:line`` error naming the field."""
    doc = read_document(path)
    if not isinstance(doc.data, dict) or not isinstance(doc.data.get("chemotherapies"), list):
        raise doc.error((), "expected a top-level 'chemotherapies:' list")
    out: dict[str, Chemotherapy] = {}
    for i, raw in enumerate(doc.data["chemotherapies"]):
        drug = _entry(doc, i, raw)
        if drug.name in out:
            raise doc.error(("chemotherapies", i, "name"), f"{drug.name!r} is listed twice")
        out[drug.name] = drug
    return out


def _entry(doc: Document, i: int, raw: object) -> Chemotherapy:
    where = ("chemotherapies", i)
    if not isinstance(raw, dict):
        raise doc.error(where, "each chemotherapy is a mapping with name, class, phase, kmax and ec50")
    known = {"name", "class", "phase", "kmax", "ec50"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise doc.error((*where, unknown[0]), "unknown field", hint=f"fields: {', '.join(sorted(known))}")
    missing = sorted(known - set(raw))
    if missing:
        raise doc.error(where, f"missing field {missing[0]!r}")
    kmax, ec50 = (read_parameter(doc, (*where, key), raw[key]) for key in ("kmax", "ec50"))
    return Chemotherapy(str(raw["name"]), str(raw["class"]), str(raw["phase"]), kmax.value, ec50.value,
                        kmax.prior, ec50.prior)  # fmt: skip


@functools.cache
def chemotherapy_library() -> dict[str, Chemotherapy]:
    """The chemotherapies shipped with her2sim."""
    from importlib import resources

    return read_chemotherapies(str(resources.files("her2sim.trials") / "data" / "chemotherapy.yaml"))
