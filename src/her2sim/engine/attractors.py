"""Attractor analysis delegated to the field's libraries: mpbn and biobalm.

her2sim does not solve attractors itself. The model's Boolean rules (an input without a rule
keeps its value) are handed to:

* `mpbn <https://github.com/bnediction/mpbn>`_ for fixed points (the same in every update
  semantics), minimal trap spaces (the attractors of the most permissive semantics) and
  most-permissive reachability;
* `biobalm <https://github.com/jcrozum/biobalm>`_ for the attractors of the asynchronous
  semantics, fixed points and complex attractors alike, each given by its minimal trap
  space and one state in it.

Rates are not part of this analysis: it reads the rules only.

Examples
--------
>>> from her2sim.formats.bnet import parse_bnet
>>> toggle = parse_bnet("A, !B\\nB, !A")
>>> fixed_points(toggle)[["A", "B"]].to_dict("records")
[{'A': 0, 'B': 1}, {'A': 1, 'B': 0}]
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from her2sim.formats.bnet import bnet_rules
from her2sim.model.network import Model

__all__ = ["async_attractors", "fixed_points", "reachable", "trap_spaces"]


def _rules(model: Model) -> dict[str, str]:
    """The model's rules in BoolNet syntax, as mpbn and biobalm read them."""
    model.check(model.name or None)
    return bnet_rules(model)


def _frame(states: list[Mapping[str, int | str]], names: tuple[str, ...]) -> pd.DataFrame:
    frame = pd.DataFrame([{name: s[name] for name in names} for s in states], columns=list(names))
    return frame.sort_values(list(names), key=lambda c: c.astype(str)).reset_index(drop=True)


def fixed_points(model: Model) -> pd.DataFrame:
    """Every fixed point of the rules (mpbn), one row per fixed point, one column per node."""
    import mpbn

    network = mpbn.MPBooleanNetwork(_rules(model))
    return _frame(list(network.fixedpoints()), model.names)


def trap_spaces(model: Model) -> pd.DataFrame:
    """Minimal trap spaces (mpbn): 0/1 for fixed nodes, ``"*"`` for free ones."""
    import mpbn

    network = mpbn.MPBooleanNetwork(_rules(model))
    return _frame(list(network.attractors()), model.names)


def reachable(model: Model, source: Mapping[str, int], target: Mapping[str, int]) -> bool:
    """Whether ``target`` (a full or partial state) is reachable from the full state ``source``
    in the most permissive semantics (mpbn), which over-approximates every other semantics."""
    import mpbn

    model_names = set(model.names)
    for state in (source, target):
        unknown = set(state) - model_names
        if unknown:
            from her2sim.errors import UnknownNameError

            raise UnknownNameError("node", sorted(unknown)[0], model.names)
    network = mpbn.MPBooleanNetwork(_rules(model))
    return bool(network.reachability(dict(source), dict(target)))


def async_attractors(model: Model) -> pd.DataFrame:
    """Attractors of the asynchronous semantics (biobalm's succession diagram).

    One row per attractor: ``kind`` (``fixed point`` or ``complex``), then per node its value
    in the attractor's minimal trap space (``"*"`` when it oscillates), and ``seed``, one
    state of the attractor as ``name=value`` pairs.
    """
    import biobalm

    text = "\n".join(f"{name}, {rule}" for name, rule in _rules(model).items())
    diagram = biobalm.SuccessionDiagram.from_rules(text)
    diagram.build()
    rows = []
    for node_id, seeds in diagram.expanded_attractor_seeds().items():
        space = diagram.node_data(node_id)["space"]
        for seed in seeds:
            full = {**{n: "*" for n in model.names}, **{k: int(v) for k, v in space.items()}}
            kind = "fixed point" if all(v != "*" for v in full.values()) else "complex"
            rows.append({"kind": kind, **full, "seed": " ".join(f"{k}={int(v)}" for k, v in sorted(seed.items()))})
    columns = ["kind", *model.names, "seed"]
    return pd.DataFrame(rows, columns=columns).sort_values(["kind", "seed"]).reset_index(drop=True)
