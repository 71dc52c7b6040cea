"""Expression trees: construction, inspection, substitution, evaluation and simplification."""

from __future__ import annotations

import dataclasses
import doctest
import math

import pytest
from hypothesis import given, settings

from her2sim.model import expr as expr_module
from her2sim.model.expr import (
    FALSE,
    FUNCTIONS,
    TRUE,
    Attr,
    BinOp,
    Call,
    Cond,
    Const,
    Logic,
    Neg,
    Not,
    Param,
    Var,
    attributes,
    call_function,
    children,
    conjunction,
    disjunction,
    evaluate,
    is_boolean,
    map_children,
    parameters,
    simplify,
    substitute,
    variables,
    walk,
)
from tests.strategies import NAMES, assignments, boolean_trees

A, B, C = Var("A"), Var("B"), Var("C")


def test_doctests_of_the_module_pass() -> None:
    result = doctest.testmod(expr_module)
    assert result.attempted >= 5
    assert result.failed == 0


# ------------------------------------------------------------------ construction
def test_trees_are_frozen_hashable_values() -> None:
    rule = Logic("&", (A, Not(B)))
    assert rule == Logic("&", (Var("A"), Not(Var("B"))))
    assert hash(rule) == hash(Logic("&", (Var("A"), Not(Var("B")))))
    assert {rule: 1}[Logic("&", (A, Not(B)))] == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        rule.op = "|"  # type: ignore[misc]


def test_binop_refuses_an_unknown_operator() -> None:
    with pytest.raises(ValueError, match=r"unknown operator '\*\*'"):
        BinOp("**", A, B)


def test_boolean_constants_are_one_and_zero() -> None:
    assert Const(1.0) == TRUE
    assert Const(0.0) == FALSE


def test_functions_table_gives_arities() -> None:
    assert FUNCTIONS == {"log": (1, 2), "exp": (1, 2)}


# ------------------------------------------------------------------- inspection
def test_children_of_each_node_kind() -> None:
    cond = Cond(A, Const(2.0), Param("k"))
    assert children(A) == ()
    assert children(Const(3.0)) == ()
    assert children(Param("k")) == ()
    assert children(Attr("logic")) == ()
    assert children(Not(A)) == (A,)
    assert children(Neg(A)) == (A,)
    assert children(BinOp("+", A, B)) == (A, B)
    assert children(cond) == (A, Const(2.0), Param("k"))
    assert children(Call("log", (A, B))) == (A, B)


def test_walk_yields_parents_first_left_to_right() -> None:
    rule = Logic("|", (Logic("&", (A, B)), Not(C)))
    assert list(walk(rule)) == [rule, Logic("&", (A, B)), A, B, Not(C), C]


def test_variables_parameters_and_attributes_are_collected_separately() -> None:
    rate = Cond(Attr("logic"), BinOp("*", Param("k"), Var("X")), Call("exp", (Neg(Param("d")), Var("Y"))))
    assert variables(rate) == frozenset({"X", "Y"})
    assert parameters(rate) == frozenset({"k", "d"})
    assert attributes(rate) == frozenset({"logic"})
    assert variables(Const(1.0)) == frozenset()


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (Logic("^", (A, Not(Logic("|", (B, TRUE))))), True),
        (FALSE, True),
        (Const(2.0), False),
        (BinOp("+", A, B), False),
        (BinOp("<", A, B), False),
        (Logic("&", (A, Param("k"))), False),
        (Not(Attr("logic")), False),
        (Neg(A), False),
        (Cond(A, TRUE, FALSE), False),
        (Call("log", (A,)), False),
    ],
)
def test_is_boolean(expr, expected: bool) -> None:
    assert is_boolean(expr) is expected


def test_map_children_rebuilds_one_level_only() -> None:
    def wrap(e):
        return Not(e)

    assert map_children(Logic("&", (A, B)), wrap) == Logic("&", (Not(A), Not(B)))
    assert map_children(Not(Logic("&", (A, B))), wrap) == Not(Not(Logic("&", (A, B))))
    assert map_children(Neg(A), wrap) == Neg(Not(A))
    assert map_children(Cond(A, B, C), wrap) == Cond(Not(A), Not(B), Not(C))
    assert map_children(Call("exp", (A, B)), wrap) == Call("exp", (Not(A), Not(B)))
    assert map_children(A, wrap) is A


# ----------------------------------------------------------------- substitution
def test_substitute_replaces_leaves_everywhere() -> None:
    rule = Logic("|", (Logic("&", (A, B)), Not(B)))
    assert substitute(rule, {B: TRUE}) == Logic("|", (Logic("&", (A, TRUE)), Not(TRUE)))


def test_substitute_is_simultaneous_so_names_can_be_swapped() -> None:
    assert substitute(Logic("&", (A, Not(B))), {A: B, B: A}) == Logic("&", (B, Not(A)))


def test_substitute_replaces_a_whole_subtree_before_looking_inside() -> None:
    inner = Logic("&", (A, B))
    assert substitute(Not(inner), {inner: C, A: FALSE}) == Not(C)


def test_substitute_reaches_into_every_node_kind() -> None:
    rate = Cond(A, Neg(A), Call("log", (A, Attr("logic"))))
    assert substitute(rate, {A: Param("p"), Attr("logic"): TRUE}) == Cond(
        Param("p"), Neg(Param("p")), Call("log", (Param("p"), TRUE))
    )


def test_substitute_with_no_match_returns_an_equal_tree() -> None:
    rule = Logic("&", (A, B))
    assert substitute(rule, {C: TRUE}) == rule


def test_conjunction_and_disjunction_are_one_flat_node() -> None:
    assert conjunction([A, B, C]) == Logic("&", (A, B, C))
    assert disjunction([A, B, C]) == Logic("|", (A, B, C))
    assert conjunction([A]) == A
    assert disjunction([A]) == A
    assert conjunction([]) == TRUE
    assert disjunction([]) == FALSE


# ------------------------------------------------------------------- evaluation
def test_evaluate_logical_operators_read_any_nonzero_value_as_true() -> None:
    assert evaluate(Logic("&", (Const(2.0), Const(-1.0))), {}) == 1.0
    assert evaluate(Logic("&", (Const(2.0), Const(0.0))), {}) == 0.0
    assert evaluate(Logic("|", (Const(0.0), Const(0.5))), {}) == 1.0
    assert evaluate(Logic("^", (Const(3.0), Const(1.0))), {}) == 0.0
    assert evaluate(Logic("^", (Const(3.0), Const(0.0))), {}) == 1.0
    assert evaluate(Not(Const(7.0)), {}) == 0.0
    assert evaluate(Not(Const(0.0)), {}) == 1.0


def test_evaluate_reads_state_parameters_and_attributes() -> None:
    rate = Cond(Attr("logic"), BinOp("*", Param("k"), Attr("w")), Neg(Param("k")))
    attrs = {"logic": Logic("&", (A, Not(B))), "w": Const(4.0)}
    assert evaluate(rate, {"A": 1, "B": 0}, {"k": 0.5}, attrs) == 2.0
    assert evaluate(rate, {"A": 1, "B": 1}, {"k": 0.5}, attrs) == -0.5


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        ("+", 9.0),
        ("-", 3.0),
        ("*", 18.0),
        ("/", 2.0),
        ("==", 0.0),
        ("!=", 1.0),
        ("<", 0.0),
        (">", 1.0),
        ("<=", 0.0),
        (">=", 1.0),
    ],
)
def test_evaluate_arithmetic_and_comparisons(op: str, expected: float) -> None:
    assert evaluate(BinOp(op, Const(6.0), Const(3.0)), {}) == expected


def test_evaluate_comparisons_at_equality() -> None:
    for op, expected in [("==", 1.0), ("<=", 1.0), (">=", 1.0), ("<", 0.0), (">", 0.0), ("!=", 0.0)]:
        assert evaluate(BinOp(op, Const(2.0), Const(2.0)), {}) == expected


def test_evaluate_division_by_zero_follows_c_doubles() -> None:
    assert evaluate(BinOp("/", Const(3.0), Const(0.0)), {}) == math.inf
    assert evaluate(BinOp("/", Const(-3.0), Const(0.0)), {}) == -math.inf
    assert math.isnan(evaluate(BinOp("/", Const(0.0), Const(0.0)), {}))
    nan = BinOp("/", Const(0.0), Const(0.0))
    assert math.isnan(evaluate(BinOp("/", nan, Const(0.0)), {}))  # nan / 0 is nan in C, not inf


def test_evaluate_conditional_takes_one_branch() -> None:
    rate = Cond(A, Const(10.0), Const(20.0))
    assert evaluate(rate, {"A": 1}) == 10.0
    assert evaluate(rate, {"A": 0}) == 20.0
    # The branch not taken is not evaluated: an unknown node there does not matter.
    assert evaluate(Cond(TRUE, Const(1.0), Var("missing")), {}) == 1.0


def test_evaluate_unknown_names_raise_key_error() -> None:
    with pytest.raises(KeyError):
        evaluate(Var("missing"), {})
    with pytest.raises(KeyError):
        evaluate(Param("missing"), {})
    with pytest.raises(KeyError):
        evaluate(Attr("missing"), {})


def test_evaluate_refuses_something_that_is_not_an_expression() -> None:
    with pytest.raises(TypeError, match="not an expression"):
        evaluate("A & B", {})  # type: ignore[arg-type]


# ------------------------------------------------------------------- functions
def test_call_function_log_and_exp() -> None:
    assert call_function("log", [math.e]) == pytest.approx(1.0)
    assert call_function("log", [8.0, 2.0]) == pytest.approx(3.0)
    assert call_function("exp", [0.0]) == 1.0
    assert call_function("exp", [3.0, 2.0]) == pytest.approx(8.0)
    assert evaluate(Call("log", (Const(100.0), Const(10.0))), {}) == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("func", "args", "expected"),
    [
        ("log", [0.0], -math.inf),
        ("log", [-1.0], math.nan),
        ("log", [math.inf], math.inf),
        ("log", [5.0, 1.0], math.inf),  # log(5) / log(1) = x / 0
        ("log", [1.0, 1.0], math.nan),  # 0 / 0
        ("log", [5.0, 0.0], -0.0),  # log(5) / -inf
        ("log", [5.0, -2.0], math.nan),
        ("exp", [1000.0], math.inf),
        ("exp", [-1000.0], 0.0),
        ("exp", [2.0, 0.0], 0.0),  # exp(2 * -inf)
        ("exp", [2.0, -4.0], math.nan),
        ("exp", [2000.0, 10.0], math.inf),
    ],
)
def test_call_function_follows_c_doubles_instead_of_raising(func: str, args: list[float], expected: float) -> None:
    got = call_function(func, args)
    assert (math.isnan(got) and math.isnan(expected)) or got == expected


def test_call_function_refuses_an_unknown_function() -> None:
    with pytest.raises(ValueError, match="unknown function 'sqrt'"):
        call_function("sqrt", [4.0])


# --------------------------------------------------------------- simplification
@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (Logic("|", (A, TRUE)), TRUE),
        (Logic("|", (TRUE, A)), TRUE),
        (Logic("&", (A, FALSE)), FALSE),
        (Logic("&", (FALSE, A)), FALSE),
        (Logic("&", (A, TRUE)), A),
        (Logic("|", (FALSE, A)), A),
        (Not(Not(A)), A),
        (Not(TRUE), FALSE),
        (BinOp("+", Const(2.0), Const(3.0)), Const(5.0)),
        (Neg(Const(2.0)), Const(-2.0)),
        (Cond(TRUE, A, B), A),
        (Cond(FALSE, A, B), B),
        (Cond(Const(0.5), A, B), A),
        (Logic("&", (Logic("|", (B, TRUE)), Not(Not(A)))), A),
        (Logic("^", (A, FALSE)), Logic("^", (A, FALSE))),
    ],
)
def test_simplify(expr, expected) -> None:
    assert simplify(expr) == expected


def test_simplify_keeps_a_rate_that_is_not_boolean() -> None:
    # A rate "2 & 1" is 1, not 2: dropping "& 1" is only right for 0/1 operands.
    rate = Logic("&", (Param("k"), TRUE))
    assert simplify(rate) == rate
    assert simplify(Not(Not(Param("k")))) == Not(Not(Param("k")))
    assert simplify(Logic("&", (Const(2.0), TRUE))) == Const(1.0)


def test_simplify_leaves_calls_unfolded() -> None:
    call = Call("log", (Const(1.0),))
    assert simplify(call) == call


def test_simplify_does_not_fold_to_a_number_no_format_can_write() -> None:
    # 1/0 folded to Const(inf) would print as "inf", which every format reads back as a node name.
    for rate in (BinOp("/", Const(1.0), Const(0.0)), BinOp("/", Const(0.0), Const(0.0))):
        assert simplify(rate) == rate
    assert simplify(BinOp("*", BinOp("/", Const(1.0), Const(0.0)), FALSE)) == BinOp(
        "*", BinOp("/", Const(1.0), Const(0.0)), FALSE
    )


@settings(max_examples=200, deadline=None)
@given(boolean_trees(ops=("&", "|", "^")))
def test_simplify_keeps_the_truth_table(rule) -> None:
    simple = simplify(rule)
    assert variables(simple) <= variables(rule)
    for state in assignments(NAMES):
        assert evaluate(simple, state) == evaluate(rule, state)


@settings(max_examples=200, deadline=None)
@given(boolean_trees(ops=("&", "|", "^")))
def test_boolean_trees_evaluate_to_zero_or_one_and_simplify_to_a_boolean_tree(rule) -> None:
    assert is_boolean(rule)
    assert is_boolean(simplify(rule))
    assert {evaluate(rule, s) for s in assignments(NAMES)} <= {0.0, 1.0}


@settings(max_examples=200, deadline=None)
@given(boolean_trees())
def test_simplify_is_idempotent(rule) -> None:
    once = simplify(rule)
    assert simplify(once) == once
