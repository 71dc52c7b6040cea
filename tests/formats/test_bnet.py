"""BoolNet ``.bnet`` files: edge cases, broken twins, published models and writing."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

from her2sim.errors import ModelFormatError
from her2sim.formats import bnet as bnet_module
from her2sim.formats.bnet import parse_bnet, read_bnet, write_bnet
from her2sim.model.expr import FALSE, TRUE, BinOp, Const, Logic, Not, Param, Var, is_boolean
from her2sim.model.network import IStateGroup, Model, Node
from tests.conftest import DATA, model_params, shared_models
from tests.twins import assert_every_twin_listed, assert_located_error

BNET_DATA = DATA / "bnet"
A, B, C = Var("A"), Var("B"), Var("C")


def test_doctests_of_the_module_pass() -> None:
    result = doctest.testmod(bnet_module)
    assert result.attempted >= 3
    assert result.failed == 0


# ------------------------------------------------------------------ edge cases
@pytest.mark.parametrize("name", ["empty.bnet", "comments_only.bnet"])
def test_a_file_without_nodes_is_refused(name: str) -> None:
    path = BNET_DATA / name
    with pytest.raises(ModelFormatError) as info:
        read_bnet(path)
    assert info.value.message == "no nodes: the file is empty"
    assert (info.value.source, info.value.line, info.value.col) == (str(path), None, None)


def test_constants() -> None:
    m = read_bnet(BNET_DATA / "constants.bnet")
    assert m.names == ("ON", "OFF", "T", "F", "A")
    assert [m.node(n).rule for n in ("ON", "OFF", "T", "F")] == [TRUE, FALSE, TRUE, FALSE]
    on, off, t, f = Var("ON"), Var("OFF"), Var("T"), Var("F")
    assert m.node("A").rule == Logic("|", (Logic("&", (on, Not(off))), Logic("&", (t, f))))
    assert m.inputs() == ()
    assert m.name == "constants"


def test_operator_binding() -> None:
    m = read_bnet(BNET_DATA / "operator_binding.bnet")
    rules = {n.name: n.rule for n in m.nodes}
    assert rules == {
        "A": A,
        "B": B,
        "C": C,
        "OR_OF_AND": Logic("|", (A, Logic("&", (B, C)))),
        "AND_OF_NOT": Logic("&", (Not(A), B)),
        "PARENS": Logic("&", (Logic("|", (A, B)), C)),
        "AND_OR": Logic("|", (Logic("&", (A, B)), C)),
        "NOT_OR": Not(Logic("|", (A, B))),
        "CHAIN": Logic("&", (A, B, C)),
        "NOT_NOT": Not(Not(A)),
    }
    assert m.inputs() == ("A", "B", "C")


def test_windows_line_ends() -> None:
    path = BNET_DATA / "crlf.bnet"
    assert b"\r\n" in path.read_bytes()
    m = read_bnet(path)
    assert m.names == ("A", "B", "C")
    assert m.node("B").rule == Logic("&", (A, Not(C)))
    assert m.node("C").origin == f"{path}:6"


def test_latin1_comment_neither_breaks_the_file_nor_shifts_its_lines() -> None:
    # The comment holds 0xE9 and 0x85; decoded as Latin-1, 0x85 is a line break to str.splitlines.
    path = BNET_DATA / "latin1.bnet"
    assert b"\xe9" in path.read_bytes()
    assert b"\x85" in path.read_bytes()
    m = read_bnet(path)
    assert m.names == ("A", "B")
    assert m.node("B").rule == Logic("&", (A, Not(B)))
    assert m.node("B").origin == f"{path}:4"


@pytest.mark.parametrize("separator", ["\x0c", "\x1c", "\u2028"])
def test_only_newlines_end_lines(separator: str) -> None:
    m = parse_bnet(f"# note{separator} still the comment, A & B\nA, A\n", "m.bnet")
    assert m.names == ("A",)
    assert m.node("A").origin == "m.bnet:2"


def test_header_is_optional_and_spelled_loosely() -> None:
    expected = (Node("A", A), Node("B", Not(A)))
    for text in ("A, A\nB, !A\n", "targets,factors\nA,A\nB,!A", "Targets ,\tFactors\nA,\tA\nB , !A # c\n"):
        assert parse_bnet(text).nodes == expected


# -------------------------------------------------------------- broken twins
ERRORS = {
    "unbalanced-error.bnet": (3, 11, "unbalanced parentheses: ')' expected"),
    "duplicate-error.bnet": (5, 1, "duplicate node 'A'"),
    "bad-name-error.bnet": (3, 3, "invalid node name 'ERK-1'"),
    "missing-comma-error.bnet": (4, 1, "expected 'target, factors'"),
    "stray-operator-error.bnet": (3, 8, "unexpected '|' where a value was expected"),
    "bad-character-error.bnet": (3, 8, "unexpected character '~' in BoolNet expression"),
    "double-ampersand-error.bnet": (3, 6, "unexpected '&&' after a complete expression"),
    "empty-rule-error.bnet": (2, 3, "empty expression"),
    "constant-name-error.bnet": (3, 1, "invalid node name 'true'"),
}


def test_every_error_file_has_an_expectation() -> None:
    assert_every_twin_listed(BNET_DATA, "*-error.bnet", ERRORS)


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_error_files_raise_at_the_right_place(name: str) -> None:
    line, col, message = ERRORS[name]
    path = BNET_DATA / name
    err = assert_located_error(read_bnet, path, line, col, message)
    assert str(err).startswith(f"{path}:{line}:{col}: {message}")
    with pytest.raises(ModelFormatError) as from_text:  # the same text given as a string
        parse_bnet(path.read_text(), "twin.bnet")
    assert (from_text.value.source, from_text.value.line, from_text.value.col) == ("twin.bnet", line, col)


def test_duplicate_hint_names_the_first_definition() -> None:
    with pytest.raises(ModelFormatError) as info:
        read_bnet(BNET_DATA / "duplicate-error.bnet")
    assert info.value.hint == "first defined at line 2"


@pytest.mark.parametrize(
    ("text", "line", "col", "message"),
    [
        ("A, B, C\n", 1, 5, "unexpected ',' after a complete expression"),
        ("A, A\ncafé, A\n", 2, 1, "invalid node name 'café'"),  # not ASCII: no rule could name it
        (", A\n", 1, 1, "invalid node name ''"),
        ("A, A\n0, A\n", 2, 1, "invalid node name '0'"),
        ("A, A\nB, (A | B) & (A\n", 2, 16, "unbalanced parentheses: ')' expected"),
        ("A, A\nB, A)\n", 2, 5, "unbalanced parentheses: unexpected ')'"),
    ],
)
def test_errors_in_text(text: str, line: int, col: int, message: str) -> None:
    with pytest.raises(ModelFormatError) as info:
        parse_bnet(text)
    assert (info.value.source, info.value.line, info.value.col, info.value.message) == ("<string>", line, col, message)


def test_missing_file() -> None:
    with pytest.raises(ModelFormatError, match="no such file"):
        read_bnet(BNET_DATA / "does-not-exist.bnet")


# ---------------------------------------------------------------- free inputs
def test_names_used_but_never_defined_become_input_nodes_in_order_of_first_use() -> None:
    m = parse_bnet("targets, factors\nA, Z & !A\nB, X | A\nC, Z\n", "free.bnet")
    assert m.names == ("A", "B", "C", "Z", "X")
    assert m.inputs() == ("Z", "X")
    z = m.node("Z")
    assert z.rule == Var("Z")
    assert z.is_input
    assert z.description == "free input (not declared in the file)"
    assert z.origin == "free.bnet:2"
    assert m.node("X").origin == "free.bnet:3"


def test_free_inputs_round_trip_as_self_loops() -> None:
    m = parse_bnet("A, B & C\n")
    text = write_bnet(m)
    assert text == "targets, factors\nA, B & C\nB, B\nC, C\n"
    again = parse_bnet(text)
    assert again.names == m.names
    assert [n.rule for n in again.nodes] == [n.rule for n in m.nodes]


# ------------------------------------------------------------ published models
@pytest.mark.parametrize("path", model_params("*.bnet"))
def test_published_models_load_and_round_trip(path: Path) -> None:
    m = read_bnet(path)
    defined = [
        line.split(",", 1)[0].strip()
        for line in path.read_text().splitlines()
        if line.split("#", 1)[0].strip() and line.split(",", 1)[0].strip().lower() != "targets"
    ]
    assert m.names[: len(defined)] == tuple(defined)
    assert all(node.rule is not None and is_boolean(node.rule) for node in m.nodes)
    assert m.check() is m
    text = write_bnet(m)
    again = parse_bnet(text, str(path))
    assert again.names == m.names
    assert [n.rule for n in again.nodes] == [n.rule for n in m.nodes]
    assert write_bnet(again) == text


def test_a_published_model_in_detail() -> None:
    paths = shared_models("bbm_003_SAHIN2009-CELLCOLLECTIVE.bnet")
    if not paths:
        pytest.skip("../shared/models is not present")
    m = read_bnet(paths[0])
    assert len(m) == 20
    assert m.inputs() == ("v_EGF",)
    assert m.node("v_CDK6").rule == Var("v_CycD1")
    assert m.node("v_CDK2").rule == Logic("&", (Var("v_CycE1"), Not(Logic("|", (Var("v_p21"), Var("v_p27"))))))


# --------------------------------------------------------------------- writing
def test_write_bnet() -> None:
    m = Model((Node("A", None), Node("B", Logic("&", (A, Not(B)))), Node("ON", TRUE), Node("OFF", FALSE)))
    assert write_bnet(m) == "targets, factors\nA, A\nB, A & !B\nON, 1\nOFF, 0\n"


def test_write_bnet_refuses_rates_attributes_and_parameters_unless_lossy() -> None:
    base = parse_bnet("A, A\nB, A\n", "m.bnet")
    plain = write_bnet(base)
    with_rates = base.with_rates("B", up=Const(2.0))
    with pytest.raises(ModelFormatError, match="node B has custom rates or attributes") as info:
        write_bnet(with_rates)
    assert info.value.hint == "write MaBoSS .bnd/.cfg, or pass lossy=True"
    assert info.value.source == "m"
    assert write_bnet(with_rates, lossy=True) == plain
    with_attrs = base.with_node(Node("B", A, attributes=(("w", Const(1.0)),)))
    with pytest.raises(ModelFormatError, match="node B has custom rates or attributes"):
        write_bnet(with_attrs)
    assert write_bnet(with_attrs, lossy=True) == plain
    with_params = base.with_parameters({"k": 1.0, "d": 2.0})
    with pytest.raises(ModelFormatError, match=r"the model has parameters \(\$k, \$d\), which .bnet cannot hold"):
        write_bnet(with_params)
    assert write_bnet(with_params, lossy=True) == plain


def test_write_bnet_keeps_initial_states_silently() -> None:
    m = parse_bnet("A, A\nB, A\n").with_initial_state("A", 1.0)
    assert write_bnet(m) == "targets, factors\nA, A\nB, A\n"
    assert m.istate == (IStateGroup.single("A", 1.0),)


def test_write_bnet_refuses_a_rule_that_is_not_boolean_even_when_lossy() -> None:
    m = Model((Node("A", BinOp("*", Param("k"), Const(0.5))),), name="rates")
    with pytest.raises(ModelFormatError, match=r"rule of A: BoolNet cannot express the operator '\*'") as info:
        write_bnet(m, lossy=True)
    assert info.value.source == "rates"


def test_fixed_nodes_are_written_as_constants(tmp_path: Path) -> None:
    m = parse_bnet("A, A\nB, A & !C\nC, B\n").with_fixed("C", False)
    path = tmp_path / "mutant.bnet"
    path.write_text(write_bnet(m))
    back = read_bnet(path)
    assert back.node("C").rule == FALSE
    assert back.name == "mutant"
    assert back.node("B").origin == f"{path}:3"
