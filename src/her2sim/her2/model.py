"""The curated HER2 model: network, run settings and annotations, read from package data.

The model lives in ``her2sim/her2/data`` as files the ecosystem reads: ``her2.bnd`` and
``her2.cfg`` (MaBoSS), with the evidence for every rule in ``annotations.tsv``. This module
only locates and reads them; nothing about the biology is written in Python.

Examples
--------
>>> model = load_model()
>>> {"HER2", "p95HER2", "HER2_HER3", "PI3K", "ERK", "CDK2", "Proliferation"} <= set(model.names)
True
>>> load_config().max_time
60.0
"""

# no `from __future__ import annotations`: the module defines its own annotations()
import functools
from dataclasses import replace
from importlib import resources
from pathlib import Path

import pandas as pd

from her2sim.errors import ConfigError
from her2sim.model.config import SimulationConfig
from her2sim.model.network import Model

__all__ = ["annotations", "data_path", "load_config", "load_model"]


def data_path(name: str) -> Path:
    """Path of a file shipped in ``her2sim/her2/data``."""
    return Path(str(resources.files("her2sim.her2") / "data" / name))


@functools.cache
def _read() -> tuple[Model, SimulationConfig]:
    from her2sim.formats.maboss import read_maboss

    model, config = read_maboss(data_path("her2.bnd"), data_path("her2.cfg"))
    return replace(model, name="her2sim HER2 model"), config


def load_model() -> Model:
    """The HER2 network with its default (untreated, unaltered) parameters."""
    return _read()[0]


def load_config(
    *,
    samples: int | None = None,
    max_time: float | None = None,
    seed: int | None = None,
    threads: int | None = None,
) -> SimulationConfig:
    """The run settings shipped with the model (``her2.cfg``), each setting given here replacing its own."""
    changes = {"sample_count": samples, "max_time": max_time, "seed": seed, "threads": threads}
    try:
        return _read()[1].with_(**{k: v for k, v in changes.items() if v is not None})
    except (TypeError, ValueError) as exc:  # a setting of the wrong type: one clear error
        raise ConfigError(str(exc)) from None


@functools.cache
def annotations() -> pd.DataFrame:
    """One row per node: its genes, the evidence for its rule (DOI/PMID) and a note."""
    return pd.read_csv(data_path("annotations.tsv"), sep="\t", comment="#", dtype=str).fillna("")
