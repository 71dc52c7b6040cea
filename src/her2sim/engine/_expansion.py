"""Shannon expansion of a node that reads too many nodes for one table.

A node's table has ``2**m`` entries for its ``m`` regulators, so past
:data:`~her2sim.engine.tables.MAX_REGULATORS` one table is out of reach (bbm_004's Shc reads
27 nodes: 2**28 entries). Such a *wide* node is compiled instead into a small decision diagram
whose tests read one regulator each and whose leaves are ordinary tables over the regulators
left: ``f = x ? f[x:=1] : f[x:=0]`` (Shannon expansion), applied to the node's rule and both
rates at once, on the regulator they mention most (see :func:`_most_read`), until a cofactor
reads at most :data:`LEAF_WIDTH` nodes. A cofactor is the expressions with the tested node replaced by a
constant and simplified (:func:`~her2sim.model.expr.simplify` keeps the meaning exactly), so a
leaf's table is filled like any node's, parameters and rate multipliers included, and holds
the very values the full table would. Equal cofactors are expanded once and a test whose two
branches agree is dropped: Shc's rule ("not PTEN, and any of 14 receptor dimers with one of
8 docking sites, or Fak, or Src") becomes 20 tests and 4 tables of at most 2**8 entries.

The node's own state is never tested: it is bit 0 of every leaf, where it chooses between
``rate_up`` and ``rate_down`` as in any table. Parameters are never substituted either, so
the expansion holds for every scenario and is built once, when the model is compiled.

The compiled size (tests plus table entries) is bounded by the largest table a node may have,
and the work by :data:`MAX_WORK`; a rule that needs more is refused then, naming the node,
before anything is simulated.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from her2sim.errors import ModelValidationError
from her2sim.model.expr import FALSE, TRUE, Const, Expr, Var, map_children, simplify, variables, walk

__all__ = ["LEAF_WIDTH", "MAX_WORK", "Expansion", "Exprs", "Leaf", "expand"]

#: Largest number of nodes (the node itself included) a leaf table reads: 2**8 entries.
#: Small leaves keep cofactors that differ in a few nodes cheap (an evaluation reads about
#: as many nodes whatever the width: fewer tests mean wider leaves).
LEAF_WIDTH = 8
#: Most expression nodes one expansion may visit (a few seconds of work at most).
MAX_WORK = 1 << 20

#: A node's (rule, rate_up, rate_down); the rule is None for an input.
Exprs = tuple[Expr | None, Expr, Expr]


@dataclass(frozen=True)
class Leaf:
    """One table of an expansion: the cofactored expressions, the nodes they read (the
    expanded node first), and one assignment of tested nodes that leads here (for messages)."""

    exprs: Exprs
    regs: tuple[int, ...]
    context: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Expansion:
    """A decision diagram over a node's regulators, with tables as leaves.

    ``tests[i]`` is (node tested, ref when it is off, ref when it is on); a ref ``r >= 0``
    is test ``r`` and ``r < 0`` is leaf ``~r``. ``root`` is the ref evaluation starts from.
    """

    root: int
    tests: tuple[tuple[int, int, int], ...]
    leaves: tuple[Leaf, ...]


def _reads(exprs: Exprs) -> frozenset[str]:
    return frozenset().union(*(variables(e) for e in exprs if e is not None))


def _most_read(exprs: Exprs, own: str) -> tuple[str, int]:
    """The regulator the expressions mention most, the first met among equals, and the
    number of expression nodes looked at.

    Mentioned most: setting it decides the most sub-terms (a sub-term the rule repeats, like
    bbm_004's 14 receptor dimers, goes in a few tests). First met: the order of the text
    keeps what a sub-term reads together, so that once its regulators are set it folds
    to a constant on every path (a formula that reads each node once then needs one test
    per node, not one per combination).
    """
    counts: Counter[str] = Counter()  # in order of first mention
    size = 0
    for e in (x for root in exprs if root is not None for x in walk(root)):
        size += 1
        if isinstance(e, Var) and e.name != own:
            counts[e.name] += 1
    return max(counts, key=counts.__getitem__), size


def _cofactor(exprs: Exprs, name: str, value: int) -> Exprs:
    """``exprs`` with node ``name`` set to ``value``, simplified."""
    const = TRUE if value else FALSE

    def put(e: Expr) -> Expr:
        if isinstance(e, Var):
            return const if e.name == name else e
        return e if isinstance(e, Const) else map_children(e, put)

    rule, up, down = exprs
    return None if rule is None else simplify(put(rule)), simplify(put(up)), simplify(put(down))


def expand(own: str, exprs: Exprs, index: Mapping[str, int], max_size: int, label: str) -> Expansion:
    """Expand node ``own`` (whose expressions are ``exprs``) into tests and leaf tables.

    ``index`` maps node names to positions; ``max_size`` bounds tests plus table entries.
    Raises :class:`ModelValidationError` (``label`` names the node) when the expansion needs
    more than ``max_size`` entries or :data:`MAX_WORK` steps.

    The diagram is built depth first without recursion (a path may test hundreds of nodes):
    a cofactor is pushed, its two cofactors are pushed on top, and it is finished once both
    have a ref.

    Examples
    --------
    ``W = R0 | ... | R9`` reads 11 nodes with itself: R0, R1 and R2 are tested (any of them on
    leads to leaf 1, which reads W alone) and R3 to R9 go in leaf 0 with W.

    >>> from her2sim.model.expr import Logic, Not
    >>> index = {name: i for i, name in enumerate(["W", *(f"R{i}" for i in range(10))])}
    >>> rule = Logic("|", tuple(Var(f"R{i}") for i in range(10)))
    >>> expansion = expand("W", (rule, rule, Not(rule)), index, 1 << 20, "node W")
    >>> expansion.root, expansion.tests
    (2, ((3, -1, -2), (2, 0, -2), (1, 1, -2)))
    >>> [leaf.regs for leaf in expansion.leaves]
    [(0, 4, 5, 6, 7, 8, 9, 10), (0,)]
    """
    k = index[own]
    refs: dict[Exprs, int] = {}
    splits: dict[Exprs, tuple[int, Exprs, Exprs]] = {}
    contexts: dict[Exprs, tuple[tuple[int, int], ...]] = {exprs: ()}
    tests: dict[tuple[int, int, int], int] = {}
    leaves: list[Leaf] = []
    size = work = 0

    def refuse(why: str) -> ModelValidationError:
        return ModelValidationError(
            [
                f"{label} reads {len(_reads(exprs) - {own})} nodes and its rule and rates {why}; "
                "give part of the rule to an intermediate node"
            ]
        )

    pending = [exprs]
    while pending:
        current = pending[-1]
        if current in refs:
            pending.pop()
            continue
        split = splits.get(current)
        if split is None:
            names = _reads(current) - {own}
            if len(names) < LEAF_WIDTH:
                size += 1 << (len(names) + 1)
                if size > max_size:
                    raise refuse(f"need more than {max_size:,} table entries")
                regs = (k, *sorted(index[name] for name in names))
                refs[current] = ~len(leaves)
                leaves.append(Leaf(current, regs, contexts[current]))
                pending.pop()
                continue
            name, seen = _most_read(current, own)
            work += seen
            if work > MAX_WORK:
                raise refuse(f"do not reduce to tables within {MAX_WORK:,} steps")
            off, on = _cofactor(current, name, 0), _cofactor(current, name, 1)
            splits[current] = (index[name], off, on)
            for value, child in ((1, on), (0, off)):
                if child not in refs:
                    contexts.setdefault(child, (*contexts[current], (index[name], value)))
                    pending.append(child)
            continue
        tested, off, on = split
        if refs[off] == refs[on]:
            refs[current] = refs[off]
        else:
            key = (tested, refs[off], refs[on])
            if key not in tests:
                size += 1
                if size > max_size:
                    raise refuse(f"need more than {max_size:,} table entries")
                tests[key] = len(tests)
            refs[current] = tests[key]
        pending.pop()
    return Expansion(refs[exprs], tuple(tests), tuple(leaves))
