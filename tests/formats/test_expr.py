"""Expression dialects: parsing, printing, round trips and located syntax errors."""

from __future__ import annotations

import doctest

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from her2sim.errors import ModelFormatError
from her2sim.formats import _expr as expr_format_module
from her2sim.formats._expr import BNET, BOOLEANNET, MABOSS, Dialect, format_expr, parse_expr
from her2sim.model.expr import (
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
    evaluate,
    map_children,
    simplify,
)
from tests.strategies import ATTRS, NAMES, PARAMS, assignments, boolean_trees, rate_trees, same_number

A, B, C, D, E = Var("A"), Var("B"), Var("C"), Var("D"), Var("E")
DIALECTS = [pytest.param(d, id=d.name) for d in (BNET, BOOLEANNET, MABOSS)]


def test_doctests_of_the_module_pass() -> None:
    result = doctest.testmod(expr_format_module)
    assert result.attempted >= 2
    assert result.failed == 0


# ------------------------------------------------------------------ spellings
@pytest.mark.parametrize(
    ("dialect", "text"),
    [
        (BNET, "A & !(B | C)"),
        (BNET, "A&!(B|C)"),
        (BOOLEANNET, "A and not (B or C)"),
        (BOOLEANNET, "A AND NOT (B Or C)"),
        (MABOSS, "A & !(B | C)"),
        (MABOSS, "A && !(B || C)"),
        (MABOSS, "A AND NOT (B or C)"),
        (MABOSS, "\tA &\n  !( B|C )  "),
    ],
)
def test_every_spelling_of_the_same_rule(dialect: Dialect, text: str) -> None:
    assert parse_expr(text, dialect) == Logic("&", (A, Not(Logic("|", (B, C)))))


@pytest.mark.parametrize(
    ("dialect", "text", "expected"),
    [
        (BNET, "1", TRUE),
        (BNET, "0", FALSE),
        (BNET, "TRUE", TRUE),
        (BNET, "false", FALSE),
        (BOOLEANNET, "True", TRUE),
        (BOOLEANNET, "FALSE", FALSE),
        (MABOSS, "1", TRUE),
        (MABOSS, "0.0", FALSE),
        (MABOSS, "true", TRUE),
    ],
)
def test_constants(dialect: Dialect, text: str, expected: Expr) -> None:
    assert parse_expr(text, dialect) == expected


def test_bnet_names_may_hold_digits_and_dots() -> None:
    assert parse_expr("v_ERBB1_2 | p53.active | 4EBP1", BNET) == Logic(
        "|", (Var("v_ERBB1_2"), Var("p53.active"), Var("4EBP1"))
    )


def test_maboss_xor_and_its_word() -> None:
    assert parse_expr("A ^ B", MABOSS) == Logic("^", (A, B))
    assert parse_expr("A xor B", MABOSS) == Logic("^", (A, B))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$k_on * 2.5e-1", BinOp("*", Param("k_on"), Const(0.25))),
        ("@logic ? $u : 0", Cond(Attr("logic"), Param("u"), FALSE)),
        ("-3", Const(-3.0)),
        ("- -3", Const(3.0)),
        ("+$k", Param("k")),
        ("-$k", Neg(Param("k"))),
        ("log($k, 10) + exp(2)", BinOp("+", Call("log", (Param("k"), Const(10.0))), Call("exp", (Const(2.0),)))),
        ("f()", Call("f", ())),
        (".5 <= 1.", BinOp("<=", Const(0.5), Const(1.0))),
        ("A == 1 != B", BinOp("!=", BinOp("==", A, TRUE), B)),
        ("A ? B ? 1 : 2 : C ? 3 : 4", Cond(A, Cond(B, TRUE, Const(2.0)), Cond(C, Const(3.0), Const(4.0)))),
        ("(A ? 1 : 2) ? 3 : 4", Cond(Cond(A, TRUE, Const(2.0)), Const(3.0), Const(4.0))),
    ],
)
def test_maboss_rates(text: str, expected: Expr) -> None:
    assert parse_expr(text, MABOSS) == expected


# ---------------------------------------------------------- precedence and order
@pytest.mark.parametrize(
    ("dialect", "text", "expected"),
    [
        (BNET, "A | B & C", Logic("|", (A, Logic("&", (B, C))))),
        (BNET, "A & B | C", Logic("|", (Logic("&", (A, B)), C))),
        (BNET, "!A & B", Logic("&", (Not(A), B))),
        (BNET, "!!A", Not(Not(A))),
        (BOOLEANNET, "A or B and C", Logic("|", (A, Logic("&", (B, C))))),
        (BOOLEANNET, "not A and B", Logic("&", (Not(A), B))),
        (MABOSS, "A ^ B | C & D", Logic("^", (A, Logic("|", (B, Logic("&", (C, D))))))),
        (MABOSS, "A & B == C", Logic("&", (A, BinOp("==", B, C)))),
        (MABOSS, "A == B < C", BinOp("==", A, BinOp("<", B, C))),
        (MABOSS, "A < B + C", BinOp("<", A, BinOp("+", B, C))),
        (MABOSS, "A + B * C", BinOp("+", A, BinOp("*", B, C))),
        (MABOSS, "-A * B", BinOp("*", Neg(A), B)),
        (MABOSS, "!A < B", BinOp("<", Not(A), B)),
        (MABOSS, "A | B ? C : D", Cond(Logic("|", (A, B)), C, D)),
    ],
)
def test_precedence(dialect: Dialect, text: str, expected: Expr) -> None:
    assert parse_expr(text, dialect) == expected


@pytest.mark.parametrize(
    ("dialect", "text", "expected"),
    [
        (BNET, "A & B & C", Logic("&", (A, B, C))),
        (BNET, "A | B | C | D", Logic("|", (A, B, C, D))),
        (BNET, "(A & B) & C", Logic("&", (Logic("&", (A, B)), C))),
        (BNET, "A & B & C | D & E", Logic("|", (Logic("&", (A, B, C)), Logic("&", (D, E))))),
        (BOOLEANNET, "A or B or C", Logic("|", (A, B, C))),
        (MABOSS, "A - B - C", BinOp("-", BinOp("-", A, B), C)),
        (MABOSS, "A / B * C", BinOp("*", BinOp("/", A, B), C)),
        (MABOSS, "A - B + C", BinOp("+", BinOp("-", A, B), C)),
        (MABOSS, "A ^ B ^ C", Logic("^", (A, B, C))),
        (MABOSS, "A && B & C and D", Logic("&", (A, B, C, D))),
        (MABOSS, "A + B & C + D & E", Logic("&", (BinOp("+", A, B), BinOp("+", C, D), E))),
    ],
)
def test_runs_of_a_logical_operator_are_flat_and_arithmetic_is_left_associative(
    dialect: Dialect, text: str, expected: Expr
) -> None:
    assert parse_expr(text, dialect) == expected


# -------------------------------------------------------------------- printing
@pytest.mark.parametrize(
    ("dialect", "expr", "text"),
    [
        (BNET, Logic("&", (A, B, C)), "A & B & C"),
        (BNET, Logic("&", (Logic("&", (A, B)), C)), "(A & B) & C"),
        (BNET, Logic("&", (A, Logic("&", (B, C)))), "A & (B & C)"),
        (BNET, Logic("|", (A, Logic("&", (B, C)))), "A | B & C"),
        (BNET, Logic("&", (Logic("|", (A, B)), Not(C))), "(A | B) & !C"),
        (BNET, Not(Not(Logic("|", (A, TRUE)))), "!!(A | 1)"),
        (BOOLEANNET, Logic("&", (Not(A), Logic("|", (B, FALSE)))), "not A and (B or False)"),
        (BOOLEANNET, Not(Not(A)), "not not A"),
        (MABOSS, BinOp("-", A, BinOp("-", B, C)), "A - (B - C)"),
        (MABOSS, BinOp("-", BinOp("-", A, B), C), "A - B - C"),
        (MABOSS, BinOp("*", Neg(A), Const(-2.0)), "-A * -2"),
        (MABOSS, Neg(BinOp("+", A, B)), "-(A + B)"),
        (MABOSS, Cond(Attr("logic"), Param("k"), Const(0.25)), "@logic ? $k : 0.25"),
        (MABOSS, BinOp("*", Cond(A, TRUE, FALSE), Const(2.0)), "(A ? 1 : 0) * 2"),
        (MABOSS, Cond(Cond(A, B, C), D, TRUE), "(A ? B : C) ? D : 1"),
        (MABOSS, Call("exp", (Param("k"), Cond(A, B, C))), "exp($k, A ? B : C)"),
        (MABOSS, Const(1e-5), "1e-05"),
        (MABOSS, Const(3.0), "3"),
        (MABOSS, Const(1e20), "1e+20"),
    ],
)
def test_format_uses_as_few_parentheses_as_the_precedences_allow(dialect: Dialect, expr: Expr, text: str) -> None:
    assert format_expr(expr, dialect) == text
    assert parse_expr(text, dialect) == expr


@pytest.mark.parametrize(
    ("dialect", "expr", "message"),
    [
        (BNET, Const(2.0), "BoolNet cannot express the number 2.0"),
        (BNET, Logic("^", (A, B)), "BoolNet cannot express the operator '\\^'"),
        (BNET, Param("k"), "BoolNet cannot express the parameter \\$k"),
        (BNET, Attr("logic"), "BoolNet cannot express the attribute @logic"),
        (BNET, Neg(A), "BoolNet cannot express arithmetic"),
        (BNET, Cond(A, B, C), "BoolNet cannot express a conditional"),
        (BNET, Call("log", (A,)), "BoolNet cannot express the function log\\(\\)"),
        (BOOLEANNET, BinOp("+", A, B), "BooleanNet cannot express the operator '\\+'"),
        (MABOSS, Const(float("inf")), "MaBoSS cannot express the number inf"),
        (MABOSS, BinOp("*", A, Const(float("nan"))), "MaBoSS cannot express the number nan"),
    ],
)
def test_format_refuses_what_the_dialect_cannot_express(dialect: Dialect, expr: Expr, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        format_expr(expr, dialect)


def test_format_refuses_something_that_is_not_an_expression() -> None:
    with pytest.raises(TypeError, match="not an expression"):
        format_expr(object(), MABOSS)  # type: ignore[arg-type]


# --------------------------------------------------------------- syntax errors
@pytest.mark.parametrize(
    ("dialect", "text", "col", "message"),
    [
        (BNET, "A & (B | C", 11, "unbalanced parentheses: ')' expected"),
        (BNET, "((A)", 5, "unbalanced parentheses: ')' expected"),
        (BNET, "A & B)", 6, "unbalanced parentheses: unexpected ')'"),
        (BNET, "A & ()", 6, "unbalanced parentheses: unexpected ')'"),
        (BNET, "A & & B", 5, "unexpected '&' where a value was expected"),
        (BNET, "| A", 1, "unexpected '|' where a value was expected"),
        (BNET, "A &", 4, "expression ends where a value was expected"),
        (BNET, "A & #B", 5, "unexpected character '#' in BoolNet expression"),
        (BNET, "A $ B", 3, "unexpected character '$' in BoolNet expression"),
        (BNET, "A B", 3, "unexpected 'B' after a complete expression"),
        (BNET, "A ! B", 3, "unexpected '!' after a complete expression"),
        (BNET, "", 1, "empty expression"),
        (BNET, "   ", 4, "empty expression"),
        (BOOLEANNET, "A & B", 3, "unexpected '&' after a complete expression"),
        (BOOLEANNET, "A and or B", 7, "operator 'or' where a value was expected"),
        (BOOLEANNET, "!A", 1, "unexpected '!' where a value was expected"),
        (MABOSS, "A ? B", 6, "expected ':', found end of expression"),
        (MABOSS, "log(A, B", 9, "expected ')', found end of expression"),
        (MABOSS, "$ k", 1, "unexpected character '$' in MaBoSS expression"),
        (MABOSS, "2x", 1, "unexpected character '2' in MaBoSS expression"),
        (MABOSS, "A & B; C", 6, "unexpected character ';' in MaBoSS expression"),
    ],
)
def test_syntax_errors_name_source_line_and_column(dialect: Dialect, text: str, col: int, message: str) -> None:
    with pytest.raises(ModelFormatError) as info:
        parse_expr(text, dialect, source="rules.txt")
    err = info.value
    assert err.message == message
    assert (err.source, err.line, err.col) == ("rules.txt", 1, col)
    assert str(err).startswith(f"rules.txt:1:{col}: ")


def test_unclosed_parenthesis_hint_points_at_the_opening_one() -> None:
    with pytest.raises(ModelFormatError) as info:
        parse_expr("A & (B | C", BNET)
    assert info.value.hint == "the '(' at line 1, column 5 is never closed"
    assert str(info.value) == (
        "<string>:1:11: unbalanced parentheses: ')' expected (the '(' at line 1, column 5 is never closed)"
    )


def test_error_positions_are_offset_by_where_the_expression_starts_in_its_file() -> None:
    with pytest.raises(ModelFormatError) as info:
        parse_expr("A $ B", BNET, source="m.bnet", line=3, col=4)
    assert (info.value.line, info.value.col) == (3, 6)
    with pytest.raises(ModelFormatError) as info:
        parse_expr("A &\n  (B", MABOSS, source="m.bnd", line=10, col=9)
    assert (info.value.line, info.value.col) == (11, 5)
    assert info.value.hint == "the '(' at line 11, column 3 is never closed"
    assert str(info.value).startswith("m.bnd:11:5: unbalanced parentheses")


def test_absurdly_deep_nesting_is_a_format_error_not_a_crash() -> None:
    with pytest.raises(ModelFormatError, match="nested too deeply") as info:
        parse_expr("(" * 5000 + "A" + ")" * 5000, MABOSS, source="deep.bnd", line=2, col=7)
    assert (info.value.line, info.value.col) == (2, 7)


# ----------------------------------------------------------------- round trips
def fold_negated_numbers(e: Expr) -> Expr:
    """What the parser changes in a printed tree: ``-2`` is read as the number -2, not -(2)."""
    e = map_children(e, fold_negated_numbers)
    if isinstance(e, Neg) and isinstance(e.arg, Const):
        return Const(-e.arg.value)
    return e


@settings(max_examples=200, deadline=None)
@given(boolean_trees(ops=("&", "|")))
def test_bnet_round_trips_boolean_trees_exactly(rule: Expr) -> None:
    assert parse_expr(format_expr(rule, BNET), BNET) == rule


@settings(max_examples=200, deadline=None)
@given(boolean_trees(ops=("&", "|")))
def test_booleannet_round_trips_boolean_trees_exactly(rule: Expr) -> None:
    assert parse_expr(format_expr(rule, BOOLEANNET), BOOLEANNET) == rule


@settings(max_examples=200, deadline=None)
@given(boolean_trees(ops=("&", "|", "^")))
def test_maboss_round_trips_boolean_trees_exactly(rule: Expr) -> None:
    assert parse_expr(format_expr(rule, MABOSS), MABOSS) == rule


@settings(max_examples=200, deadline=None)
@given(boolean_trees(ops=("&", "|")), st.sampled_from([BNET, BOOLEANNET, MABOSS]))
def test_printed_rules_keep_their_truth_table(rule: Expr, dialect: Dialect) -> None:
    back = parse_expr(format_expr(rule, dialect), dialect)
    simple = simplify(rule)
    for state in assignments(NAMES):
        expected = evaluate(rule, state)
        assert evaluate(back, state) == expected
        assert evaluate(simple, state) == expected


def evaluate_rate(e: Expr, state: dict[str, int]) -> float:
    return evaluate(e, state, PARAMS, ATTRS)


@settings(max_examples=200, deadline=None)
@given(rate_trees())
def test_maboss_round_trips_rates(rate: Expr) -> None:
    text = format_expr(rate, MABOSS)
    back = parse_expr(text, MABOSS)
    assert back == fold_negated_numbers(rate)
    assert format_expr(back, MABOSS) == format_expr(fold_negated_numbers(rate), MABOSS)
    for state in assignments(NAMES[:3]):
        assert same_number(evaluate_rate(back, state), evaluate_rate(rate, state))


@settings(max_examples=200, deadline=None)
@given(rate_trees())
def test_simplified_rates_can_be_written_and_keep_their_value(rate: Expr) -> None:
    simple = simplify(rate)
    back = parse_expr(format_expr(simple, MABOSS), MABOSS)
    for state in assignments(NAMES[:3]):
        assert same_number(evaluate_rate(back, state), evaluate_rate(rate, state))


_FUZZ_ALPHABET = "AB01x ()!&|^$@?:,+-*/<>=.e\t\n#;~"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=_FUZZ_ALPHABET, max_size=25), st.sampled_from([BNET, BOOLEANNET, MABOSS]))
def test_any_text_parses_or_raises_a_format_error_and_what_parses_round_trips(text: str, dialect: Dialect) -> None:
    try:
        parsed = parse_expr(text, dialect, source="fuzz")
    except ModelFormatError as err:
        assert err.source == "fuzz"
        assert err.line is not None and 1 <= err.line <= text.count("\n") + 1
        assert err.col is not None and err.col >= 1
        return
    try:
        printed = format_expr(parsed, dialect)
    except ValueError:  # "0.5" parses in MaBoSS only, "A(B)" is a call, ...
        return
    assert parse_expr(printed, dialect) == parsed
