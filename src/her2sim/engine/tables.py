"""Compile rule and rate trees into lookup tables over each node's regulators.

A node's flip rate depends only on the nodes its rule and rates read (its *regulators*) and
on itself. Evaluating its rate trees once, vectorised, on every combination of those few
states gives a table; the simulation loop then keeps, for every node, the index of the
current combination and updates it with one XOR when a regulator flips. A flip therefore
costs one table read per node that reads the flipped node, whatever the size of the rules.

A node that reads more than ``MAX_REGULATORS - 1`` nodes (a *wide* node) would need too
large a table; it is Shannon-expanded instead (:mod:`her2sim.engine._expansion`) into a few
tests on single regulators that lead to one of several smaller tables, the *leaves*. Tables are
therefore *segments*: segment ``k`` is node ``k``'s table (a wide node's first leaf) and the
further leaves of wide nodes follow the ``n`` node segments. The loop keeps updating narrow
nodes' indices with one XOR and evaluates a wide node's tests again when one of its
regulators flips; models without wide nodes take exactly the old path.

Parameters, drug rate multipliers and fixed nodes change the tables' *values* only, so they
are applied when the tables are filled, per scenario, with every rate checked (negative,
infinite or NaN rates are refused before any simulation starts). The loop itself is one
Numba kernel compiled once for every model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from her2sim.engine._expansion import Expansion, Exprs, expand
from her2sim.errors import ConfigError, ModelValidationError
from her2sim.model.expr import (
    ARITHMETIC,
    Attr,
    BinOp,
    Call,
    Cond,
    Const,
    Expr,
    Logic,
    Neg,
    Not,
    Param,
    Var,
    parameters,
    simplify,
    variables,
)
from her2sim.model.network import Model

__all__ = [
    "MAX_EXPANDED_SIZE",
    "MAX_REGULATORS",
    "RateStructure",
    "evaluate_vectorized",
    "fill_tables",
    "rate_structure",
]

#: Largest number of nodes (itself included) a node may read through one table (2**20 rates);
#: a node that reads more is Shannon-expanded (see the module docstring).
MAX_REGULATORS = 20
#: Most table entries plus tests one expanded node may take: as many as the largest table.
MAX_EXPANDED_SIZE = 1 << 20


def evaluate_vectorized(expr: Expr, columns: Mapping[str, np.ndarray], params: Mapping[str, float]) -> np.ndarray:
    """Evaluate ``expr`` on many states at once (MaBoSS semantics, C-double arithmetic).

    ``columns`` maps node names to 0/1 arrays of equal length.
    """
    size = len(next(iter(columns.values()))) if columns else 1

    def truth(a: np.ndarray) -> np.ndarray:
        return (a != 0.0).astype(np.float64)

    def ev(e: Expr) -> np.ndarray:
        if isinstance(e, Const):
            return np.full(size, e.value)
        if isinstance(e, Var):
            return columns[e.name].astype(np.float64)
        if isinstance(e, Param):
            return np.full(size, float(params[e.name]))
        if isinstance(e, Attr):
            raise ModelValidationError([f"attribute @{e.name} is not defined where it is used"])
        if isinstance(e, Not):
            return 1.0 - truth(ev(e.arg))
        if isinstance(e, Neg):
            return -ev(e.arg)
        if isinstance(e, Logic):
            combine = {"&": np.logical_and, "|": np.logical_or, "^": np.logical_xor}[e.op]
            out = ev(e.args[0]) != 0.0
            for arg in e.args[1:]:  # one operand at a time: memory stays one column whatever the width
                combine(out, ev(arg) != 0.0, out=out)
            return out.astype(np.float64)
        if isinstance(e, BinOp):
            a, b = ev(e.left), ev(e.right)
            if e.op in ARITHMETIC:
                return {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}[e.op](a, b)
            ops = {"==": np.equal, "!=": np.not_equal, "<": np.less, ">": np.greater,
                   "<=": np.less_equal, ">=": np.greater_equal}  # fmt: skip
            return ops[e.op](a, b).astype(np.float64)
        if isinstance(e, Cond):
            return np.where(ev(e.test) != 0.0, ev(e.then), ev(e.orelse))
        if isinstance(e, Call):
            args = [ev(a) for a in e.args]
            if e.func == "log":
                return np.log(args[0]) / np.log(args[1]) if len(args) == 2 else np.log(args[0])
            if e.func == "exp":
                return np.exp(args[0] * np.log(args[1])) if len(args) == 2 else np.exp(args[0])
        raise ModelValidationError([f"cannot evaluate expression {e!r}"])

    with np.errstate(all="ignore"):
        return ev(expr)


@dataclass(frozen=True, eq=False)
class RateStructure:
    """Everything about a network that does not change between scenarios.

    Tables are segments (see the module docstring): ``rules``/``up``/``down`` hold each
    segment's expressions, ``reg_ptr``/``reg_idx`` its regulators (bit *i* of its table index
    is the state of its *i*-th regulator, the first being the node it belongs to,
    ``owner``), ``tab_ptr`` where its table starts, and ``context`` the tested nodes' values
    that lead to it (empty for a narrow node). ``node_segments`` lists each node's segments.

    ``root`` is the ref each node's evaluation starts from: ``~k`` (segment ``k``, no test)
    for a narrow node, usually a row of ``tests`` for a wide one. A row holds (node tested,
    next ref when it is off, next ref when on); a ref ``r >= 0`` is row ``r`` and ``r < 0``
    segment ``~r``.
    ``dep_ptr``/``dep_idx``/``dep_bit`` list, for each node, the narrow nodes that read it and
    the bit it sets in their index; ``wide_ptr``/``wide_idx`` the wide nodes that read it.

    ``node_params`` holds the positions (in ``model.parameters``) of the parameters each
    node's rule and rates read: a node's tables depend only on those and on its rate
    multipliers, so :func:`fill_tables` reuses them across scenarios through ``table_cache``.
    """

    model: Model
    up: tuple[Expr, ...]
    down: tuple[Expr, ...]
    rules: tuple[Expr | None, ...]
    reg_ptr: np.ndarray
    reg_idx: np.ndarray
    dep_ptr: np.ndarray
    dep_idx: np.ndarray
    dep_bit: np.ndarray
    tab_ptr: np.ndarray
    owner: np.ndarray
    root: np.ndarray
    tests: np.ndarray
    wide_ptr: np.ndarray
    wide_idx: np.ndarray
    node_segments: tuple[tuple[int, ...], ...]
    context: tuple[tuple[tuple[int, int], ...], ...]
    node_params: tuple[tuple[int, ...], ...] = ()
    table_cache: dict[tuple[object, ...], tuple[tuple[np.ndarray, np.ndarray | None], ...]] = field(
        default_factory=dict, compare=False, repr=False
    )


#: Entries kept in a structure's table cache before it is emptied (bounds memory in long screens).
_CACHE_LIMIT = 200_000


def _pointers(sizes: list[int]) -> np.ndarray:
    ptr = np.zeros(len(sizes) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum(sizes)
    return ptr


@dataclass
class _Layout:
    """Segments as they are laid out (fields as in :class:`RateStructure`): segment ``k`` is
    node ``k``'s table, and a wide node's further leaves are appended."""

    exprs: list[Exprs]
    regs: list[list[int]]
    owner: list[int]
    context: list[tuple[tuple[int, int], ...]]
    root: list[int]
    tests: list[tuple[int, int, int]]
    node_segments: list[tuple[int, ...]]

    @classmethod
    def narrow(cls, exprs: list[Exprs], regulators: list[list[int]]) -> _Layout:
        """Every node in one table of its own."""
        n = len(exprs)
        return cls(list(exprs), [list(r) for r in regulators], list(range(n)), [()] * n,
                   [~k for k in range(n)], [], [(k,) for k in range(n)])  # fmt: skip

    def expanded(self, k: int, expansion: Expansion) -> None:
        """Put node ``k``'s expansion in: its first leaf in segment ``k``, the others and its
        tests after those already laid out."""
        slots = (k, *range(len(self.exprs), len(self.exprs) + len(expansion.leaves) - 1))
        for slot, leaf in zip(slots, expansion.leaves, strict=True):
            if slot == k:
                self.exprs[k], self.regs[k], self.context[k] = leaf.exprs, list(leaf.regs), leaf.context
            else:
                self.exprs.append(leaf.exprs)
                self.regs.append(list(leaf.regs))
                self.owner.append(k)
                self.context.append(leaf.context)
        offset = len(self.tests)

        def moved(ref: int) -> int:
            return ref + offset if ref >= 0 else ~slots[~ref]

        self.tests.extend((tested, moved(off), moved(on)) for tested, off, on in expansion.tests)
        self.root[k] = moved(expansion.root)
        self.node_segments[k] = slots


def rate_structure(model: Model) -> RateStructure:
    """Resolve each node's rates, list its regulators and dependents, and expand wide nodes.

    Raises :class:`ModelValidationError` naming the node when a wide node's expansion would
    need more than :data:`MAX_EXPANDED_SIZE` table entries and tests.
    """
    model.check(model.name or None)
    if len(model) == 0:
        raise ModelValidationError(["the model has no nodes"])
    n = len(model)
    index = {name: i for i, name in enumerate(model.names)}
    exprs: list[Exprs] = []
    regulators: list[list[int]] = []
    for k, node in enumerate(model.nodes):
        up, down = node.resolved_rates()
        rule = simplify(node.rule) if node.rule is not None else None
        exprs.append((rule, simplify(up), simplify(down)))
        names = frozenset().union(*(variables(e) for e in exprs[k] if e is not None))
        regulators.append([k, *sorted(index[v] for v in names if index[v] != k)])
    wide = [len(regs) > MAX_REGULATORS for regs in regulators]
    layout = _Layout.narrow(exprs, regulators)
    for k in (k for k in range(n) if wide[k]):
        node = model.nodes[k]
        label = f"{node.origin + ': ' if node.origin else ''}node {node.name}"
        layout.expanded(k, expand(node.name, exprs[k], index, MAX_EXPANDED_SIZE, label))

    readers: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    wide_readers: list[list[int]] = [[] for _ in range(n)]
    for j, regs in enumerate(regulators):
        for bit, k in enumerate(regs):
            if wide[j]:
                wide_readers[k].append(j)
            else:
                readers[k].append((j, bit))
    position = {name: i for i, (name, _) in enumerate(model.parameters)}
    node_params = tuple(
        tuple(sorted(position[p] for e in exprs[k] if e is not None for p in parameters(e))) for k in range(n)
    )
    return RateStructure(
        model=model,
        up=tuple(e[1] for e in layout.exprs),
        down=tuple(e[2] for e in layout.exprs),
        rules=tuple(e[0] for e in layout.exprs),
        reg_ptr=_pointers([len(r) for r in layout.regs]),
        reg_idx=np.array([k for r in layout.regs for k in r], dtype=np.int64),
        dep_ptr=_pointers([len(r) for r in readers]),
        dep_idx=np.array([j for r in readers for j, _ in r], dtype=np.int64),
        dep_bit=np.array([1 << bit for r in readers for _, bit in r], dtype=np.int64),
        tab_ptr=_pointers([1 << len(r) for r in layout.regs]),
        owner=np.array(layout.owner, dtype=np.int64),
        root=np.array(layout.root, dtype=np.int64),
        tests=np.array(layout.tests, dtype=np.int64).reshape(len(layout.tests), 3),
        wide_ptr=_pointers([len(r) for r in wide_readers]),
        wide_idx=np.array([j for r in wide_readers for j in r], dtype=np.int64),
        node_segments=tuple(layout.node_segments),
        context=tuple(layout.context),
        node_params=node_params,
    )


def _combinations(width: int) -> np.ndarray:
    """(2**width, width) matrix: row i holds the bits of i."""
    rows = np.arange(1 << width, dtype=np.int64)
    return ((rows[:, None] >> np.arange(width)) & 1).astype(np.uint8)


def fill_tables(
    structure: RateStructure,
    params: np.ndarray,
    up_scale: np.ndarray,
    down_scale: np.ndarray,
    fixed: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The flip-rate table and the rule table of every segment, for one scenario.

    Raises :class:`ConfigError` naming the node and a state when a rate is negative,
    infinite or NaN.
    """
    model = structure.model
    param_values: dict[str, float] | None = None
    rates = np.zeros(structure.tab_ptr[-1])
    logic = np.zeros(structure.tab_ptr[-1], dtype=np.uint8)
    cache = structure.table_cache
    if len(cache) > _CACHE_LIMIT:
        cache.clear()
    for k in range(len(model)):
        is_fixed = bool(fixed[k] >= 0)
        key = (
            k,
            is_fixed,
            float(up_scale[k]),
            float(down_scale[k]),
            *(float(params[i]) for i in structure.node_params[k]),
        )
        hit = cache.get(key)
        if hit is None:
            if param_values is None:
                param_values = {name: float(v) for (name, _), v in zip(model.parameters, params, strict=True)}
            hit = tuple(
                _segment_tables(structure, s, param_values, is_fixed, float(up_scale[k]), float(down_scale[k]))
                for s in structure.node_segments[k]
            )
            cache[key] = hit
        for s, (seg_logic, seg_rates) in zip(structure.node_segments[k], hit, strict=True):
            lo, hi = structure.tab_ptr[s], structure.tab_ptr[s + 1]
            logic[lo:hi] = seg_logic
            if seg_rates is not None:
                rates[lo:hi] = seg_rates
    return rates, logic


def _segment_tables(
    structure: RateStructure,
    s: int,
    param_values: Mapping[str, float],
    is_fixed: bool,
    up_scale: float,
    down_scale: float,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Segment ``s``'s rule table and (unless its node is fixed) its flip-rate table."""
    model = structure.model
    names = model.names
    k = int(structure.owner[s])
    regs = structure.reg_idx[structure.reg_ptr[s] : structure.reg_ptr[s + 1]]
    bits = _combinations(len(regs))
    columns = {names[r]: bits[:, i] for i, r in enumerate(regs)}
    own = bits[:, 0]
    rule = structure.rules[s]
    logic = own if rule is None else (evaluate_vectorized(rule, columns, param_values) != 0).astype(np.uint8)
    if is_fixed:
        return logic, None
    up = evaluate_vectorized(structure.up[s], columns, param_values) * up_scale
    down = evaluate_vectorized(structure.down[s], columns, param_values) * down_scale
    rate = np.where(own == 0, up, down)
    bad = ~(np.isfinite(rate) & (rate >= 0))
    if bad.any():
        i = int(np.argmax(bad))
        values = [(r, int(bits[i, b])) for b, r in enumerate(regs)] + list(structure.context[s])
        state = ", ".join(f"{names[r]}={v}" for r, v in sorted(values, key=lambda rv: rv[0] != k))
        which = "rate_up" if own[i] == 0 else "rate_down"
        origin = f" ({model.nodes[k].origin})" if model.nodes[k].origin else ""
        raise ConfigError(f"{which} of {names[k]}{origin} is {rate[i]} when {state}; rates must be finite and >= 0")
    return logic, rate
