"""The curated HER2-positive breast cancer model and its alteration and therapy libraries.

Everything biological is data in ``her2sim/her2/data``: the network (``her2.bnd``,
``her2.cfg``), the evidence for each rule (``annotations.tsv``), the tumour alterations
(``alterations.yaml``) and the drugs (``therapies.yaml``). The modules here read those files,
turn alterations and doses into the model's runtime parameters, and run scenarios.
"""

from __future__ import annotations

from typing import Any

__all__ = ["load_model"]

_EXPORTS = {
    "load_model": "her2sim.her2.model",
    "load_config": "her2sim.her2.model",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'her2sim.her2' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
