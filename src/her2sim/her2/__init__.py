"""The curated HER2-positive breast cancer model and its alteration and therapy libraries.

Everything biological is data in ``her2sim/her2/data``: the network (``her2.bnd``,
``her2.cfg``), the evidence for each rule (``annotations.tsv``), the tumour alterations
(``alterations.yaml``), the drugs (``therapies.yaml``) and the roles the code gives parts of
them: readouts, HER2 IHC levels, the pharmacology's parameters (``roles.yaml``). The modules
here read those files, turn alterations and doses into the model's runtime parameters, and run
scenarios.
"""

from __future__ import annotations

from her2sim._lazy import lazy_getattr

__all__ = ["load_model"]

_EXPORTS = {
    "load_model": "her2sim.her2.model",
    "load_config": "her2sim.her2.model",
}


__getattr__ = lazy_getattr(__name__, _EXPORTS)
