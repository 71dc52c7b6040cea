"""What a simulation result records about where it came from: the model's content hash and
the scenario, as plain data that a file can hold and give back.

Examples
--------
>>> from her2sim.formats.bnet import parse_bnet
>>> model = parse_bnet("A, A\\nB, A", source="here/toy.bnet")
>>> model_hash(model) == model_hash(parse_bnet("A, A\\nB, A", source="there/toy.bnet"))
True
>>> model_hash(model) == model_hash(model.with_fixed("A", True))
False
>>> record = scenario_record(Scenario("on", rate_scale={"B": (0.5, 1.0)}))
>>> record["rate_scale"], scenario_from_record(record) == Scenario("on", rate_scale={"B": (0.5, 1.0)})
({'B': [0.5, 1.0]}, True)
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from her2sim.engine.scenario import Scenario
from her2sim.model.network import Model

__all__ = ["model_hash", "scenario_from_record", "scenario_record"]


@functools.lru_cache(maxsize=64)
def model_hash(model: Model) -> str:
    """SHA-256 of the model's content: equal models (:class:`~her2sim.model.network.Model`
    equality) hash alike, wherever they were read from, and any edit changes the hash.

    The content is the model's ``repr`` with each node's ``origin`` (``file:line``, left out of
    equality) blanked. Cached per model, so a batch of scenarios hashes its model once.
    """
    content = replace(model, nodes=tuple(replace(node, origin="") for node in model.nodes))
    return hashlib.sha256(repr(content).encode("utf-8")).hexdigest()


def scenario_record(scenario: Scenario) -> dict[str, Any]:
    """``scenario`` as JSON-ready data: its name and four mappings (rate multipliers as lists)."""
    return {
        "name": scenario.name,
        "parameters": dict(scenario.parameters),
        "rate_scale": {name: [up, down] for name, (up, down) in scenario.rate_scale.items()},
        "fixed": dict(scenario.fixed),
        "initial": dict(scenario.initial),
    }


def scenario_from_record(record: Mapping[str, Any]) -> Scenario:
    """The :class:`~her2sim.engine.scenario.Scenario` that :func:`scenario_record` gave ``record`` for."""
    return Scenario(
        name=record["name"],
        parameters=dict(record["parameters"]),
        rate_scale={name: (up, down) for name, (up, down) in record["rate_scale"].items()},
        fixed=dict(record["fixed"]),
        initial=dict(record["initial"]),
    )
