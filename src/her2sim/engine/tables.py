"""Compile rule and rate trees into lookup tables over each node's regulators.

A node's flip rate depends only on the nodes its rule and rates read (its *regulators*) and
on itself. Evaluating its rate trees once, vectorised, on every combination of those few
states gives a table; the simulation loop then keeps, for every node, the index of the
current combination and updates it with one XOR when a regulator flips. A flip therefore
costs one table read per node that reads the flipped node, whatever the size of the rules.

Parameters, drug rate multipliers and fixed nodes change the tables' *values* only, so they
are applied when the tables are filled, per scenario, with every rate checked (negative,
infinite or NaN rates are refused before any simulation starts). The loop itself is one
Numba kernel compiled once for every model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

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

__all__ = ["MAX_REGULATORS", "RateStructure", "evaluate_vectorized", "fill_tables", "rate_structure"]

#: Largest number of nodes one node's rule and rates may read (a table of 2**20 rates).
MAX_REGULATORS = 20


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

    ``reg_ptr``/``reg_idx`` list each node's regulators (itself included; bit *i* of its
    table index is the state of its *i*-th regulator); ``dep_ptr``/``dep_idx``/``dep_bit``
    list, for each node, the nodes that read it and the bit it sets in their index;
    ``tab_ptr`` is where each node's table starts. ``node_params`` holds the positions (in
    ``model.parameters``) of the parameters each node's rule and rates read: a node's tables
    depend only on those and on its rate multipliers, so :func:`fill_tables` reuses them
    across scenarios through ``table_cache``.
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
    node_params: tuple[tuple[int, ...], ...] = ()
    table_cache: dict[tuple[object, ...], tuple[np.ndarray, np.ndarray | None]] = field(
        default_factory=dict, compare=False, repr=False
    )


#: Entries kept in a structure's table cache before it is emptied (bounds memory in long screens).
_CACHE_LIMIT = 200_000


def rate_structure(model: Model) -> RateStructure:
    """Resolve each node's rates and list its regulators and dependents."""
    model.check(model.name or None)
    if len(model) == 0:
        raise ModelValidationError(["the model has no nodes"])
    index = {name: i for i, name in enumerate(model.names)}
    ups, downs, rules, regulators = [], [], [], []
    for k, node in enumerate(model.nodes):
        up, down = node.resolved_rates()
        up, down = simplify(up), simplify(down)
        rule = simplify(node.rule) if node.rule is not None else None
        names = variables(up) | variables(down) | (variables(rule) if rule is not None else frozenset())
        regs = [k, *sorted(index[v] for v in names if index[v] != k)]
        if len(regs) > MAX_REGULATORS:
            raise ModelValidationError(
                [
                    f"{node.origin + ': ' if node.origin else ''}node {node.name} reads {len(regs) - 1} nodes; "
                    f"her2sim supports up to {MAX_REGULATORS - 1} regulators per node"
                ]
            )
        ups.append(up)
        downs.append(down)
        rules.append(rule)
        regulators.append(regs)
    n = len(model)
    reg_ptr = np.zeros(n + 1, dtype=np.int64)
    reg_ptr[1:] = np.cumsum([len(r) for r in regulators])
    reg_idx = np.array([k for r in regulators for k in r], dtype=np.int64)
    readers: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    for j, regs in enumerate(regulators):
        for bit, k in enumerate(regs):
            readers[k].append((j, bit))
    dep_ptr = np.zeros(n + 1, dtype=np.int64)
    dep_ptr[1:] = np.cumsum([len(r) for r in readers])
    dep_idx = np.array([j for r in readers for j, _ in r], dtype=np.int64)
    dep_bit = np.array([1 << bit for r in readers for _, bit in r], dtype=np.int64)
    tab_ptr = np.zeros(n + 1, dtype=np.int64)
    tab_ptr[1:] = np.cumsum([1 << len(r) for r in regulators])
    position = {name: i for i, (name, _) in enumerate(model.parameters)}
    node_params = tuple(
        tuple(sorted(position[p] for e in (ups[k], downs[k], rules[k]) if e is not None for p in parameters(e)))
        for k in range(len(model))
    )
    return RateStructure(model, tuple(ups), tuple(downs), tuple(rules), reg_ptr, reg_idx,
                         dep_ptr, dep_idx, dep_bit, tab_ptr, node_params)  # fmt: skip


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
    """The flip-rate table and the rule table of every node, for one scenario.

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
        lo, hi = structure.tab_ptr[k], structure.tab_ptr[k + 1]
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
            hit = _node_tables(structure, k, param_values, is_fixed, float(up_scale[k]), float(down_scale[k]))
            cache[key] = hit
        logic[lo:hi] = hit[0]
        if hit[1] is not None:
            rates[lo:hi] = hit[1]
    return rates, logic


def _node_tables(
    structure: RateStructure,
    k: int,
    param_values: Mapping[str, float],
    is_fixed: bool,
    up_scale: float,
    down_scale: float,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Node ``k``'s rule table and (unless it is fixed) its flip-rate table."""
    model = structure.model
    names = model.names
    regs = structure.reg_idx[structure.reg_ptr[k] : structure.reg_ptr[k + 1]]
    bits = _combinations(len(regs))
    columns = {names[r]: bits[:, i] for i, r in enumerate(regs)}
    own = bits[:, 0]
    rule = structure.rules[k]
    logic = own if rule is None else (evaluate_vectorized(rule, columns, param_values) != 0).astype(np.uint8)
    if is_fixed:
        return logic, None
    up = evaluate_vectorized(structure.up[k], columns, param_values) * up_scale
    down = evaluate_vectorized(structure.down[k], columns, param_values) * down_scale
    rate = np.where(own == 0, up, down)
    bad = ~(np.isfinite(rate) & (rate >= 0))
    if bad.any():
        i = int(np.argmax(bad))
        state = ", ".join(f"{names[r]}={int(bits[i, b])}" for b, r in enumerate(regs))
        which = "rate_up" if own[i] == 0 else "rate_down"
        origin = f" ({model.nodes[k].origin})" if model.nodes[k].origin else ""
        raise ConfigError(f"{which} of {names[k]}{origin} is {rate[i]} when {state}; rates must be finite and >= 0")
    return logic, rate
