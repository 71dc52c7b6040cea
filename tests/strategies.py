"""Hypothesis strategies for expression trees, shared by the model and format tests."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence

from hypothesis import strategies as st

from her2sim.model.expr import (
    ARITHMETIC,
    COMPARISONS,
    FALSE,
    TRUE,
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
)

#: Node names used by generated trees: none is a keyword, a constant or a function in any dialect.
NAMES = ("A", "B", "C", "D", "E", "F")
#: Parameter values for generated rates: zero, negative and fractional on purpose.
PARAMS = {"k": 0.5, "neg": -3.0, "zero": 0.0}
#: Attributes of the node a generated rate belongs to (``@logic`` is its rule).
ATTRS: dict[str, Expr] = {"logic": Logic("&", (Var("A"), Not(Var("B")))), "w": Const(2.5)}


def logic_nodes(kids: st.SearchStrategy[Expr], ops: Sequence[str]) -> st.SearchStrategy[Expr]:
    """Logical operators over two to four operands drawn from ``kids``."""
    return st.builds(Logic, st.sampled_from(sorted(ops)), st.lists(kids, min_size=2, max_size=4).map(tuple))


def boolean_trees(ops: Sequence[str] = ("&", "|"), names: Sequence[str] = NAMES) -> st.SearchStrategy[Expr]:
    """Random Boolean rules over up to six ``names``, with 0/1 constants, ``Not`` and ``ops``.

    (Choosing the number of variables first with ``flatmap`` makes generation ten times slower;
    small trees already use few variables.)
    """
    leaves = st.sampled_from([*(Var(n) for n in names), TRUE, FALSE])
    return st.recursive(
        leaves,
        lambda kids: st.builds(Not, kids) | logic_nodes(kids, ops),
        max_leaves=24,
    )


_NUMBERS = st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from([0.0, 1.0, 2.0, 0.5, -1.0, 1e-9, 1e300])


def rate_trees(names: Sequence[str] = NAMES[:3]) -> st.SearchStrategy[Expr]:
    """Random MaBoSS rate expressions: every node kind of :mod:`her2sim.model.expr`."""
    leaves = (
        st.builds(Const, _NUMBERS)
        | st.sampled_from([Var(n) for n in names])
        | st.sampled_from([Param(p) for p in sorted(PARAMS)])
        | st.sampled_from([Attr(a) for a in sorted(ATTRS)])
    )
    ops = sorted(ARITHMETIC | COMPARISONS)

    def extend(kids: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
        return (
            st.builds(Not, kids)
            | st.builds(Neg, kids)
            | logic_nodes(kids, ("&", "|", "^"))
            | st.builds(BinOp, st.sampled_from(ops), kids, kids)
            | st.builds(Cond, kids, kids, kids)
            | st.builds(Call, st.sampled_from(["log", "exp"]), st.lists(kids, min_size=1, max_size=2).map(tuple))
        )

    return st.recursive(leaves, extend, max_leaves=16)


def assignments(names: Sequence[str]) -> Iterator[dict[str, int]]:
    """Every 0/1 assignment of ``names`` (a truth table's rows)."""
    for values in itertools.product((0, 1), repeat=len(names)):
        yield dict(zip(names, values, strict=True))


def same_number(a: float, b: float) -> bool:
    """Equality that treats two NaNs as equal (inf == inf already holds)."""
    return a == b or (math.isnan(a) and math.isnan(b))
