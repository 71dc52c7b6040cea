"""Expression trees for Boolean rules and MaBoSS rate expressions.

One small typed tree serves both uses, as in MaBoSS, where every expression evaluates to a
double and logical operators read any non-zero value as true:

* a Boolean *rule* uses :class:`Var`, :class:`Const` (0 or 1), :class:`Not` and the logical
  operators ``&``, ``|`` and ``^`` (:class:`Logic`, over any number of operands);
* a *rate* adds numbers, ``$parameters`` (:class:`Param`), node attributes such as ``@logic``
  (:class:`Attr`), arithmetic, comparisons, ``test ? a : b`` (:class:`Cond`) and the functions
  ``log`` and ``exp`` (:class:`Call`).

Trees are immutable and hashable. Text is produced and parsed per file format in
:mod:`her2sim.formats`; this module only builds, inspects, simplifies and evaluates.

A chain such as ``A & B & ... & Z`` is one flat :class:`Logic` node, not a ladder of binary
nodes, so a rule's width never becomes depth. Depth itself is bounded (:data:`MAX_DEPTH`,
checked by :func:`depth` and by :meth:`her2sim.model.network.Model.check`): the recursive
functions here and in the formats then stay far below Python's recursion limit, whatever
limit an imported library sets (mpbn raises it to 100000, past the C stack).

Examples
--------
>>> rule = Logic("&", (Var("A"), Not(Var("B"))))
>>> sorted(variables(rule))
['A', 'B']
>>> evaluate(rule, {"A": 1, "B": 0})
1.0
>>> simplify(Logic("|", (Var("A"), TRUE)))
Const(value=1.0)
>>> depth(conjunction([Var(f"X{i}") for i in range(600)]))
2
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "ARITHMETIC",
    "COMPARISONS",
    "FALSE",
    "FUNCTIONS",
    "LOGICAL",
    "MAX_DEPTH",
    "TRUE",
    "Attr",
    "BinOp",
    "Call",
    "Cond",
    "Const",
    "Expr",
    "Logic",
    "Neg",
    "Not",
    "Param",
    "Var",
    "attributes",
    "children",
    "conjunction",
    "depth",
    "disjunction",
    "evaluate",
    "is_boolean",
    "map_children",
    "parameters",
    "simplify",
    "substitute",
    "variables",
    "walk",
]

LOGICAL = frozenset({"&", "|", "^"})
ARITHMETIC = frozenset({"+", "-", "*", "/"})
COMPARISONS = frozenset({"==", "!=", "<", ">", "<=", ">="})
#: Functions MaBoSS rates may call, with their (min, max) number of arguments.
FUNCTIONS: dict[str, tuple[int, int]] = {"log": (1, 2), "exp": (1, 2)}
#: Deepest tree accepted in a model (a leaf has depth 1). Published rules are under 20 deep;
#: the bound keeps every recursive walk of a tree under about 600 Python frames.
MAX_DEPTH = 200


@dataclass(frozen=True, slots=True)
class Const:
    """A number; Boolean constants are ``Const(0.0)`` and ``Const(1.0)``."""

    value: float


@dataclass(frozen=True, slots=True)
class Var:
    """The state (0 or 1) of the node called ``name``."""

    name: str


@dataclass(frozen=True, slots=True)
class Param:
    """A model parameter, written ``$name`` in MaBoSS files (``name`` has no ``$``)."""

    name: str


@dataclass(frozen=True, slots=True)
class Attr:
    """An attribute of the node being evaluated, written ``@name`` (``@logic`` is its rule)."""

    name: str


@dataclass(frozen=True, slots=True)
class Not:
    """Logical negation: 1 when ``arg`` is zero, else 0."""

    arg: Expr


@dataclass(frozen=True, slots=True)
class Neg:
    """Arithmetic negation."""

    arg: Expr


@dataclass(frozen=True, slots=True)
class Logic:
    """A logical operator over two or more operands: ``&`` (all non-zero), ``|`` (any
    non-zero) or ``^`` (an odd number non-zero); the result is 0 or 1.

    A chain read from text (``A & B & C``) is one node; ``(A & B) & C`` nests, as written.
    """

    op: str
    args: tuple[Expr, ...]

    def __post_init__(self) -> None:
        if self.op not in LOGICAL:
            raise ValueError(f"unknown logical operator {self.op!r}")
        if len(self.args) < 2:
            raise ValueError(f"{self.op!r} needs two or more operands, got {len(self.args)}")


@dataclass(frozen=True, slots=True)
class BinOp:
    """A binary arithmetic operator (``+ - * /``) or comparison (``== != < > <= >=``)."""

    op: str
    left: Expr
    right: Expr

    def __post_init__(self) -> None:
        if self.op not in ARITHMETIC | COMPARISONS:
            raise ValueError(f"unknown operator {self.op!r}")


@dataclass(frozen=True, slots=True)
class Cond:
    """``test ? then : orelse``."""

    test: Expr
    then: Expr
    orelse: Expr


@dataclass(frozen=True, slots=True)
class Call:
    """A call of one of :data:`FUNCTIONS`."""

    func: str
    args: tuple[Expr, ...]


Expr = Const | Var | Param | Attr | Not | Neg | Logic | BinOp | Cond | Call

TRUE = Const(1.0)
FALSE = Const(0.0)


def children(expr: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of ``expr``."""
    if isinstance(expr, (Not, Neg)):
        return (expr.arg,)
    if isinstance(expr, Logic):
        return expr.args
    if isinstance(expr, BinOp):
        return (expr.left, expr.right)
    if isinstance(expr, Cond):
        return (expr.test, expr.then, expr.orelse)
    if isinstance(expr, Call):
        return expr.args
    return ()


def walk(expr: Expr) -> Iterator[Expr]:
    """Yield ``expr`` and every sub-expression, parents first."""
    stack = [expr]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(children(node)))


def depth(expr: Expr) -> int:
    """Levels in ``expr`` (a leaf is 1), counted without recursion so any tree can be measured."""
    deepest = 0
    stack = [(expr, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children(node))
    return deepest


def variables(expr: Expr) -> frozenset[str]:
    """Names of the nodes ``expr`` reads."""
    return frozenset(e.name for e in walk(expr) if isinstance(e, Var))


def parameters(expr: Expr) -> frozenset[str]:
    """Names of the parameters ``expr`` reads (without ``$``)."""
    return frozenset(e.name for e in walk(expr) if isinstance(e, Param))


def attributes(expr: Expr) -> frozenset[str]:
    """Names of the node attributes ``expr`` reads (without ``@``)."""
    return frozenset(e.name for e in walk(expr) if isinstance(e, Attr))


def is_boolean(expr: Expr) -> bool:
    """True when ``expr`` is a pure Boolean rule: nodes, 0/1 and logical operators only."""
    for e in walk(expr):
        if isinstance(e, Const) and e.value not in (0.0, 1.0):
            return False
        if isinstance(e, BinOp):
            return False
        if isinstance(e, (Param, Attr, Neg, Cond, Call)):
            return False
    return True


def map_children(expr: Expr, fn: Callable[[Expr], Expr]) -> Expr:
    """Rebuild ``expr`` with ``fn`` applied to each direct child."""
    if isinstance(expr, Not):
        return Not(fn(expr.arg))
    if isinstance(expr, Neg):
        return Neg(fn(expr.arg))
    if isinstance(expr, Logic):
        return Logic(expr.op, tuple(fn(a) for a in expr.args))
    if isinstance(expr, BinOp):
        return BinOp(expr.op, fn(expr.left), fn(expr.right))
    if isinstance(expr, Cond):
        return Cond(fn(expr.test), fn(expr.then), fn(expr.orelse))
    if isinstance(expr, Call):
        return Call(expr.func, tuple(fn(a) for a in expr.args))
    return expr


def substitute(expr: Expr, mapping: Mapping[Expr, Expr]) -> Expr:
    """Replace every leaf or sub-tree found in ``mapping`` by its value.

    >>> substitute(Logic("&", (Var("A"), Var("B"))), {Var("B"): TRUE})
    Logic(op='&', args=(Var(name='A'), Const(value=1.0)))
    """

    def visit(e: Expr) -> Expr:
        hit = mapping.get(e)
        if hit is not None:
            return hit
        return map_children(e, visit)

    return visit(expr)


def conjunction(terms: Sequence[Expr]) -> Expr:
    """``t1 & t2 & ...`` as one node; the term itself when there is one, TRUE when none."""
    return _junction("&", terms, TRUE)


def disjunction(terms: Sequence[Expr]) -> Expr:
    """``t1 | t2 | ...`` as one node; the term itself when there is one, FALSE when none."""
    return _junction("|", terms, FALSE)


def _junction(op: str, terms: Sequence[Expr], empty: Expr) -> Expr:
    if not terms:
        return empty
    return terms[0] if len(terms) == 1 else Logic(op, tuple(terms))


def _truth(x: float) -> float:
    return 1.0 if x != 0.0 else 0.0


# MaBoSS evaluates in C doubles, where log(0) is -inf, 1/0 is inf and exp(1000) is inf; Python's
# math functions raise instead, so the reference evaluator spells the C results out.
def _div(a: float, b: float) -> float:
    if b != 0.0:
        return a / b
    return math.nan if (a == 0.0 or math.isnan(a)) else math.copysign(math.inf, a)


def _ln(x: float) -> float:
    if x > 0.0:
        return math.log(x)
    return -math.inf if x == 0.0 else math.nan


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def logic_value(op: str, values: Iterable[float]) -> float:
    """``&``, ``|`` or ``^`` over numbers read as truth values (non-zero is true)."""
    truths = [v != 0.0 for v in values]
    if op == "&":
        return float(all(truths))
    if op == "|":
        return float(any(truths))
    return float(sum(truths) % 2)


_BINARY: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": _div,
    "==": lambda a, b: float(a == b),
    "!=": lambda a, b: float(a != b),
    "<": lambda a, b: float(a < b),
    ">": lambda a, b: float(a > b),
    "<=": lambda a, b: float(a <= b),
    ">=": lambda a, b: float(a >= b),
}


def call_function(func: str, args: list[float]) -> float:
    """Evaluate a MaBoSS built-in: ``log(x[, base])`` and ``exp(x[, base])``."""
    if func == "log":
        value = _ln(args[0])
        return _div(value, _ln(args[1])) if len(args) == 2 else value
    if func == "exp":
        return _exp(args[0] * _ln(args[1])) if len(args) == 2 else _exp(args[0])
    raise ValueError(f"unknown function {func!r}")


def evaluate(
    expr: Expr,
    state: Mapping[str, float],
    params: Mapping[str, float] | None = None,
    attrs: Mapping[str, Expr] | None = None,
) -> float:
    """Evaluate ``expr`` with MaBoSS semantics (a slow reference, used as a test oracle).

    ``state`` maps node names to 0/1, ``params`` parameter names to values, and ``attrs`` the
    attribute names of the node being evaluated (``logic`` and custom ones) to expressions.
    """
    params = params or {}
    attrs = attrs or {}

    def ev(e: Expr) -> float:
        if isinstance(e, Const):
            return e.value
        if isinstance(e, Var):
            return float(state[e.name])
        if isinstance(e, Param):
            return float(params[e.name])
        if isinstance(e, Attr):
            return ev(attrs[e.name])
        if isinstance(e, Not):
            return 1.0 - _truth(ev(e.arg))
        if isinstance(e, Neg):
            return -ev(e.arg)
        if isinstance(e, Logic):
            return logic_value(e.op, [ev(a) for a in e.args])
        if isinstance(e, BinOp):
            return _BINARY[e.op](ev(e.left), ev(e.right))
        if isinstance(e, Cond):
            return ev(e.then) if ev(e.test) != 0.0 else ev(e.orelse)
        if isinstance(e, Call):
            return call_function(e.func, [ev(a) for a in e.args])
        raise TypeError(f"not an expression: {e!r}")

    return ev(expr)


def simplify(expr: Expr) -> Expr:
    """Fold constants and apply the Boolean identities that keep the meaning exactly.

    ``A & 1 -> A`` only when ``A`` is Boolean (a rate ``2 & 1`` is 1, not 2).

    >>> simplify(Logic("&", (Var("A"), TRUE, Var("B"))))
    Logic(op='&', args=(Var(name='A'), Var(name='B')))
    """

    def visit(e: Expr) -> Expr:
        e = map_children(e, visit)
        kids = children(e)
        if kids and all(isinstance(k, Const) for k in kids) and not isinstance(e, Call):
            value = evaluate(e, {})
            if math.isfinite(value):  # inf and nan have no spelling in any file format
                return Const(value)
        if isinstance(e, Not) and isinstance(e.arg, Not) and is_boolean(e.arg.arg):
            return e.arg.arg
        if isinstance(e, Cond) and isinstance(e.test, Const):
            return e.then if e.test.value != 0.0 else e.orelse
        if isinstance(e, Logic) and e.op in ("&", "|"):
            return _without_neutral_constants(e)
        return e

    return visit(expr)


def _without_neutral_constants(e: Logic) -> Expr:
    """``&``/``|`` with its constant operands folded: an absorbing one decides the result,
    neutral ones go (keeping the 0/1 result when what is left is not Boolean)."""
    absorbing = FALSE if e.op == "&" else TRUE
    kept = []
    for arg in e.args:
        if isinstance(arg, Const):
            if (arg.value != 0.0) == (absorbing.value != 0.0):
                return absorbing
        else:
            kept.append(arg)
    if len(kept) == len(e.args):
        return e
    if len(kept) == 1:
        return kept[0] if is_boolean(kept[0]) else e
    return Logic(e.op, tuple(kept))
