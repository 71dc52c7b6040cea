"""Chemotherapy as a mechanism: cytotoxic drugs kill cells as they cycle.

A drug's kill rate on a clone is ``kmax * C / (C + ec50) * P / P0`` (per day), with ``C`` its
concentration at the tumour and ``P / P0`` the clone's proliferation in the cell model
relative to untreated. An anti-HER2 drug that arrests cells in G1 therefore weakens the
chemotherapy given with it, and a combination's benefit is not the sum of its parts. The
parameters are data (``trials/data/chemotherapy.yaml``): priors for the population-level fit
to trial results. A drug no trial row constrains can declare ``kill_as`` another drug of equal
clinical efficacy; its kill rate then moves with that drug's fitted one (:func:`kill_rates`).

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
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from her2sim.formats.records import Document, read_document
from her2sim.trials.kinetics import read_parameter

__all__ = ["Chemotherapy", "chemotherapy_library", "kill_rates", "read_chemotherapies"]


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
    kill_as: str | None = None

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
    for i, drug in enumerate(out.values()):
        if drug.kill_as is not None and drug.kill_as not in out:
            raise doc.error(("chemotherapies", i, "kill_as", "drug"), f"unknown chemotherapy {drug.kill_as!r}",
                            hint=f"chemotherapies: {', '.join(out)}")  # fmt: skip
    return out


def kill_rates(fitted: Mapping[str, float], library: Mapping[str, Chemotherapy] | None = None) -> dict[str, float]:
    """Each chemotherapy's kill rate ``kmax``: the fitted one, else, for a drug that declares
    ``kill_as`` a fitted drug, its own prior value scaled as the fit scaled that drug's, else
    its prior value."""
    library = library if library is not None else chemotherapy_library()
    rates = {name: drug.kmax for name, drug in library.items()}
    for name, drug in library.items():
        killed_as = drug.kill_as
        if name not in fitted and killed_as is not None and killed_as in fitted:
            rates[name] = drug.kmax * fitted[killed_as] / library[killed_as].kmax
    rates.update(fitted)
    return rates


def _entry(doc: Document, i: int, raw: object) -> Chemotherapy:
    where = ("chemotherapies", i)
    if not isinstance(raw, dict):
        raise doc.error(where, "each chemotherapy is a mapping with name, class, phase, kmax and ec50")
    known = {"name", "class", "phase", "kmax", "ec50"}
    unknown = sorted(set(raw) - known - {"kill_as"})
    if unknown:
        raise doc.error((*where, unknown[0]), "unknown field", hint=f"fields: {', '.join(sorted(known))}, kill_as")
    missing = sorted(known - set(raw))
    if missing:
        raise doc.error(where, f"missing field {missing[0]!r}")
    kmax, ec50 = (read_parameter(doc, (*where, key), raw[key]) for key in ("kmax", "ec50"))
    kill_as = raw.get("kill_as")
    if kill_as is not None and not (
        isinstance(kill_as, dict) and set(kill_as) == {"drug", "source"} and str(kill_as["source"]).strip()
    ):
        raise doc.error((*where, "kill_as"), "kill_as is {drug, source}: the drug of equal efficacy and its source")
    return Chemotherapy(str(raw["name"]), str(raw["class"]), str(raw["phase"]), kmax.value, ec50.value,
                        kmax.prior, ec50.prior, None if kill_as is None else str(kill_as["drug"]))  # fmt: skip


@functools.cache
def chemotherapy_library() -> dict[str, Chemotherapy]:
    """The chemotherapies shipped with her2sim."""
    from importlib import resources

    return read_chemotherapies(str(resources.files("her2sim.trials") / "data" / "chemotherapy.yaml"))
