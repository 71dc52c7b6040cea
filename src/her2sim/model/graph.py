"""The signed interaction graph of a logical model (who activates or inhibits whom).

An edge ``A -> B`` exists when ``A`` appears in ``B``'s rule; its sign is ``+1`` when ``A``
appears only un-negated, ``-1`` only under an odd number of negations, ``0`` when both (or in
an exclusive or, where the sign depends on the other inputs).

Examples
--------
>>> from her2sim.formats.maboss import parse_maboss
>>> model, _ = parse_maboss("Node A { logic = A; } Node B { logic = A & !C; } Node C { logic = B ^ (A | !C); }")
>>> sorted(signed_edges(model))
[('A', 'A', 1), ('A', 'B', 1), ('A', 'C', 0), ('B', 'C', 0), ('C', 'B', -1), ('C', 'C', 0)]
"""

from __future__ import annotations

from collections.abc import Iterator

from her2sim.model.expr import Expr, Logic, Not, Var, children
from her2sim.model.network import Model

__all__ = ["signed_edges"]


def _polarities(expr: Expr, positive: bool = True) -> Iterator[tuple[str, int]]:
    if isinstance(expr, Var):
        yield expr.name, 1 if positive else -1
    elif isinstance(expr, Not):
        yield from _polarities(expr.arg, not positive)
    elif isinstance(expr, Logic) and expr.op == "^":
        for child in expr.args:
            yield from ((name, 0) for name, _ in _polarities(child, positive))
    else:
        for child in children(expr):
            yield from _polarities(child, positive)


def signed_edges(model: Model) -> list[tuple[str, str, int]]:
    """(source, target, sign) for every regulation in the nodes' rules."""
    edges = []
    for node in model.nodes:
        if node.rule is None:
            continue
        signs: dict[str, set[int]] = {}
        for name, sign in _polarities(node.rule):
            signs.setdefault(name, set()).add(sign)
        for name, seen in signs.items():
            edges.append((name, node.name, seen.pop() if len(seen) == 1 else 0))
    return edges
