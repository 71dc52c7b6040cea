"""Expression trees for Boolean rules and MaBoSS rate expressions.

One small typed tree serves both uses, as in MaBoSS, where every expression evaluates to a
double and logical operators read any non-zero value as true:

* a Boolean *rule* uses :class:`Var`, :class:`Const` (0 or 1), :class:`Not` and the logical
  :class:`BinOp` operators ``&``, ``|`` and ``^``;
* a *rate* adds numbers, ``$parameters`` (:class:`Param`), node attributes such as ``@logic``
  (:class:`Attr`), arithmetic, comparisons, ``test ? a : b`` (:class:`Cond`) and the functions
  ``log`` and ``exp`` (:class:`Call`).

Trees are immutable and hashable. Text is produced and parsed per file format in
:mod:`her2sim.formats`; this module only builds, inspects, simplifies and evaluates.

Examples
--------
>>> rule = BinOp("&", Var("A"), Not(Var("B")))
>>> sorted(variables(rule))
['A', 'B']
>>> evaluate(rule, {"A": 1, "B": 0})
1.0
>>> simplify(BinOp("|", Var("A"), TRUE))
Const(value=1.0)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

__all__ = [
    "ARITHMETIC",
    "COMPARISONS",
    "FALSE",
    "FUNCTIONS",
    "LOGICAL",
    "TRUE",
    "Attr",
    "BinOp",
    "Call",
    "Cond",
    "Const",
    "Expr",
    "Neg",
    "Not",
    "Param",
    "Var",
    "attributes",
    "conjunction",
    "disjunction",
    "evaluate",
    "is_boolean",
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
class BinOp:
    """A binary operator: logical (``& | ^``), arithmetic (``+ - * /``) or a comparison."""

    op: str
    left: Expr
    right: Expr

    def __post_init__(self) -> None:
        if self.op not in LOGICAL | ARITHMETIC | COMPARISONS:
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


Expr = Const | Var | Param | Attr | Not | Neg | BinOp | Cond | Call

TRUE = Const(1.0)
FALSE = Const(0.0)


def children(expr: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of ``expr``."""
    if isinstance(expr, (Not, Neg)):
        return (expr.arg,)
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
        if isinstance(e, BinOp) and e.op not in LOGICAL:
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
    if isinstance(expr, BinOp):
        return BinOp(expr.op, fn(expr.left), fn(expr.right))
    if isinstance(expr, Cond):
        return Cond(fn(expr.test), fn(expr.then), fn(expr.orelse))
    if isinstance(expr, Call):
        return Call(expr.func, tuple(fn(a) for a in expr.args))
    return expr


def substitute(expr: Expr, mapping: Mapping[Expr, Expr]) -> Expr:
    """Replace every leaf or sub-tree found in ``mapping`` by its value.

    >>> substitute(BinOp("&", Var("A"), Var("B")), {Var("B"): TRUE})
    BinOp(op='&', left=Var(name='A'), right=Const(value=1.0))
    """

    def visit(e: Expr) -> Expr:
        hit = mapping.get(e)
        if hit is not None:
            return hit
        return map_children(e, visit)

    return visit(expr)


def conjunction(terms: list[Expr]) -> Expr:
    """``t1 & t2 & ...``, or TRUE for no terms."""
    if not terms:
        return TRUE
    out = terms[0]
    for t in terms[1:]:
        out = BinOp("&", out, t)
    return out


def disjunction(terms: list[Expr]) -> Expr:
    """``t1 | t2 | ...``, or FALSE for no terms."""
    if not terms:
        return FALSE
    out = terms[0]
    for t in terms[1:]:
        out = BinOp("|", out, t)
    return out


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


_BINARY: dict[str, Callable[[float, float], float]] = {
    "&": lambda a, b: 1.0 if (a != 0.0 and b != 0.0) else 0.0,
    "|": lambda a, b: 1.0 if (a != 0.0 or b != 0.0) else 0.0,
    "^": lambda a, b: 1.0 if ((a != 0.0) != (b != 0.0)) else 0.0,
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
        if isinstance(e, BinOp) and e.op in ("&", "|"):
            for const, other in ((e.left, e.right), (e.right, e.left)):
                if isinstance(const, Const):
                    absorbing = (const.value == 0.0) if e.op == "&" else (const.value != 0.0)
                    if absorbing:
                        return FALSE if e.op == "&" else TRUE
                    if is_boolean(other):
                        return other
        return e

    return visit(expr)
