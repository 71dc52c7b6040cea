"""MaBoSS ``.bnd``/``.cfg`` files: the whole grammar, broken twins, round trips, cMaBoSS itself."""

from __future__ import annotations

import doctest
import importlib
import itertools
import re
import sys
import warnings
from pathlib import Path
from types import ModuleType

import pytest

from her2sim.errors import ConfigError, Her2simWarning, ModelFormatError, ModelValidationError
from her2sim.formats import format_for, read_model, read_model_and_config, write_model
from her2sim.formats import maboss as maboss_module
from her2sim.formats.maboss import (
    parse_bnd,
    parse_cfg,
    parse_cfgs,
    parse_maboss,
    read_maboss,
    write_bnd,
    write_cfg,
    write_maboss,
)
from her2sim.model.config import MABOSS_DEFAULTS, SimulationConfig
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
    variables,
)
from her2sim.model.network import IStateGroup, Model, Node
from tests.conftest import DATA, model_params
from tests.strategies import assignments

MABOSS_DATA = DATA / "maboss"
GRAMMAR_BND = MABOSS_DATA / "grammar.bnd"
GRAMMAR_CFG = MABOSS_DATA / "grammar.cfg"
SMALL_BND = MABOSS_DATA / "small.bnd"
A, B, C, D = Var("A"), Var("B"), Var("C"), Var("D")
LOGIC = Attr("logic")


def test_doctests_of_the_module_pass() -> None:
    result = doctest.testmod(maboss_module)
    assert result.attempted >= 1
    assert result.failed == 0


# ------------------------------------------------------------------ helpers
def same_function(left: Expr | None, right: Expr | None, params: dict[str, float] | None = None) -> bool:
    """True when both expressions give the same value on every 0/1 assignment of their variables."""
    if left is None or right is None:
        return left is right
    if flattened(left) == flattened(right):
        return True  # the same tree up to the grouping of & and | (MaBoSS groups them to the right)
    names = sorted(variables(left) | variables(right))
    return all(evaluate(left, row, params) == evaluate(right, row, params) for row in assignments(names))


def flattened(expr: Expr) -> object:
    """``expr`` with chains of ``&`` (or of ``|``) as flat tuples: ``(A & B) & C`` is ``A & (B & C)``."""
    if isinstance(expr, Logic) and expr.op in ("&", "|"):
        terms: list[object] = []
        for side in expr.args:
            flat = flattened(side)
            same = isinstance(flat, tuple) and flat[0] == expr.op
            terms.extend(flat[1] if same else [flat])  # type: ignore[index]
        return (expr.op, tuple(terms))
    if isinstance(expr, Not):
        return ("!", flattened(expr.arg))
    if isinstance(expr, Cond):
        return ("?", flattened(expr.test), flattened(expr.then), flattened(expr.orelse))
    return expr


def assert_same_model(a: Model, b: Model) -> None:
    """Equal nodes (rules, rates, attributes, annotations), parameters and initial states."""
    assert a.names == b.names
    for x, y in zip(a.nodes, b.nodes, strict=True):
        assert x == y, x.name
    assert a.parameters == b.parameters
    assert a.istate == b.istate


def cmaboss_for(model: Model) -> ModuleType:
    """The smallest cMaBoSS build that holds ``model`` (64 nodes by default; 128, 256, ... built
    into the same wheel)."""
    size = next(n for n in (64, 128, 256, 512, 1024) if len(model) <= n)
    return importlib.import_module("cmaboss" if size == 64 else f"cmaboss_{size}n")


def write_pair(model: Model, config: SimulationConfig | None, folder: Path) -> tuple[Path, Path]:
    """Write ``model`` as folder/model.bnd + folder/model.cfg with :func:`write_maboss`."""
    bnd, cfg = write_maboss(model, config)
    bnd_path, cfg_path = folder / "model.bnd", folder / "model.cfg"
    bnd_path.write_text(bnd, encoding="utf-8")
    cfg_path.write_text(cfg, encoding="utf-8")
    return bnd_path, cfg_path


# ------------------------------------------------------------- the whole grammar
@pytest.fixture(scope="module")
def grammar() -> tuple[Model, SimulationConfig]:
    return read_maboss(GRAMMAR_BND)


def test_grammar_file_nodes_in_file_order_with_comments_skipped(grammar: tuple[Model, SimulationConfig]) -> None:
    model, _ = grammar
    # "Hidden" sits in a /* */ comment; "targets, factors" is a BoolNet header, not a node
    assert model.names == ("Input", "A", "B", "C", "D", "E", "F")
    assert model.name == "grammar"
    origins = {n.name: n.origin for n in model.nodes}
    assert origins == {name: f"{GRAMMAR_BND}:{line}" for name, line in
                       [("Input", 5), ("A", 11), ("B", 22), ("C", 23), ("D", 25), ("E", 27), ("F", 34)]}  # fmt: skip


def test_grammar_file_rules(grammar: tuple[Model, SimulationConfig]) -> None:
    model, _ = grammar
    rules = {n.name: n.rule for n in model.nodes}
    assert rules == {
        "Input": None,
        "A": Logic("|", (Logic("&", (Var("Input"), Not(C))), FALSE)),  # AND, NOT, OR words and FALSE
        "B": Logic("^", (A, C)),  # xor word in a short form
        "C": Logic("|", (Logic("&", (A, B)), Logic("&", (TRUE, Not(B))))),  # & binds tighter than |
        "D": Logic("|", (A, B)),  # BoolNet line
        "E": Logic("&", (Logic("|", (A, B)), Not(Logic("^", (C, D))))),  # ||, &&, ^
        "F": None,  # an empty block
    }
    assert model.inputs() == ("Input", "F")


def test_grammar_file_rates_attributes_and_parameters(grammar: tuple[Model, SimulationConfig]) -> None:
    model, _ = grammar
    a = model.node("A")
    assert a.rate_up == Cond(LOGIC, BinOp("*", Param("k_up"), Attr("boost")), Const(0.0))
    assert a.rate_down == Cond(LOGIC, Const(0.0), Param("k_down"))
    assert a.attributes == (("boost", Const(1.5)),)  # set twice: the last value wins, as in MaBoSS
    e = model.node("E")
    assert e.rate_up == Cond(
        LOGIC,
        Call("exp", (Call("log", (Param("k_up"),)),)),
        Cond(BinOp(">=", Param("k_down"), Const(1.0)), Const(0.5), Const(0.25)),
    )
    equal_b, differ_c = BinOp("==", B, Const(1.0)), BinOp("!=", C, Const(0.0))
    sum_ = BinOp("-", BinOp("+", equal_b, BinOp("*", differ_c, Const(2.0))), BinOp("/", Const(1.0), Const(4.0)))
    assert e.rate_down == Cond(Not(LOGIC), sum_, Const(0.0))
    assert e.attributes == (("threshold", BinOp("<=", BinOp("+", Neg(Param("k_down")), Const(4.0)), Const(3.5))),)
    # the rates evaluate as MaBoSS would: $k_down = $k_up / 4 + 0.5 = 1, @boost = 1.5
    params = model.parameter_values
    up, down = a.resolved_rates()
    assert evaluate(up, {"Input": 1, "C": 0}, params) == 3.0
    assert evaluate(down, {"Input": 1, "C": 1}, params) == 1.0
    e_up, e_down = e.resolved_rates()
    assert evaluate(e_up, {"A": 1, "B": 0, "C": 0, "D": 0}, params) == pytest.approx(2.0)
    assert evaluate(e_up, {"A": 0, "B": 0, "C": 0, "D": 0}, params) == 0.5
    assert evaluate(e_down, {"A": 0, "B": 1, "C": 1, "D": 0}, params) == 2.75  # @logic is 0 here
    assert evaluate(e_down, {"A": 0, "B": 1, "C": 1, "D": 1}, params) == 0.0


def test_grammar_file_string_attributes(grammar: tuple[Model, SimulationConfig]) -> None:
    model, _ = grammar
    node = model.node("Input")
    assert node.description == "an input: no logic and no rates"
    assert node.genes == ("EGFR", "ERBB2")
    assert node.references == ("PMID:11111111", "doi:10.1000/example")
    assert model.node("A").description == "second text wins"
    # an attribute MaBoSS does not know is kept as an annotation, so it is written back
    assert model.annotations == (("maboss.A.colour", "red"),)


def test_grammar_cfg_parameters_and_run_settings(grammar: tuple[Model, SimulationConfig]) -> None:
    model, config = grammar
    assert read_maboss(GRAMMAR_BND, GRAMMAR_CFG) == grammar  # the .cfg beside the .bnd is found by name
    assert model.parameters == (("k_up", 2.0), ("k_down", 1.0), ("unused", 3.0))
    assert config == SimulationConfig(
        max_time=12.0,
        time_tick=0.25,
        sample_count=500,
        seed=42,
        threads=3,
        discrete_time=False,
        extra=(
            ("use_physrandgen", 0.0),
            ("display_traj", 0.0),
            ("statdist_traj_count", 10.0),
            ("statdist_cluster_threshold", 0.9),
        ),
    )


def test_grammar_cfg_initial_states_and_node_settings(grammar: tuple[Model, SimulationConfig]) -> None:
    model, _ = grammar
    assert model.istate == (
        IStateGroup(("Input",), ((1.0, (1,)),)),
        IStateGroup(("A",), ((0.5, (0,)), (0.5, (1,)))),  # istate = -1: random
        IStateGroup(("B", "C"), ((0.3, (1, 0)), (0.7, (0, 1)))),
        IStateGroup(("D",), ((1.0, (1,)),)),  # TRUE
    )
    probabilities = {name: model.initial_probability(name) for name in model.names}
    assert probabilities == {"Input": 1.0, "A": 0.5, "B": 0.3, "C": 0.7, "D": 1.0, "E": 0.5, "F": 0.5}
    assert [n.name for n in model.nodes if n.internal] == ["E"]
    assert {n.name: n.refstate for n in model.nodes if n.refstate is not None} == {"F": 1, "D": 0}


def test_latin1_network_is_read(tmp_path: Path) -> None:
    path = MABOSS_DATA / "latin1.bnd"
    assert b"\xe9" in path.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    model, _ = read_maboss(path)
    assert model.node("A").description == "protéine kinase"
    assert model.node("B").origin == f"{path}:6"
    # written back (UTF-8) it reads the same
    copy = tmp_path / "copy.bnd"
    write_model(model, copy)
    assert read_model(copy).node("A").description == "protéine kinase"


# ----------------------------------------------------------- grammar in text
def test_case_insensitive_keywords_and_constants() -> None:
    model = parse_bnd("node A { logic = b Or not B aNd true; }\nNODE B { logic = A xOr False; }\nb : B;\n")
    b = Var("b")
    assert model.node("A").rule == Logic("|", (b, Logic("&", (Not(B), TRUE))))
    assert model.node("B").rule == Logic("^", (A, FALSE))
    assert model.node("b").rule == B  # node names keep their case


def test_operator_precedence_is_maboss() -> None:
    # MaBoSS: ! > * / > + - > comparisons > == != > & > | > ^ > ?:
    model = parse_bnd("A : B | C ^ D & !B;\nB : B;\nC : C;\nD : D;\n")
    assert model.node("A").rule == Logic("^", (Logic("|", (B, C)), Logic("&", (D, Not(B)))))
    rate = parse_bnd("Node A { rate_up = !B * 2 + 1 < 3 == C & D ? 1 : 0; }\nB:B;C:C;D:D;").node("A").rate_up
    mul = BinOp("*", Not(B), Const(2.0))
    test = Logic("&", (BinOp("==", BinOp("<", BinOp("+", mul, Const(1.0)), Const(3.0)), C), D))
    assert rate == Cond(test, Const(1.0), Const(0.0))


@pytest.mark.parametrize(
    "text",
    [
        "A : B &\n  C;\nB : A;\nC : A;\n",  # an incomplete line goes on
        "A : B\n  & C;\nB : A;\nC : A;\n",  # the next line starts with an operator
        "A : B\n  AND C\nB : A\nC : A\n",  # ... or an operator word, without semicolons
        "A, (B &\n C)\nB, A\nC, A\n",
        "A : B & C; B : A; C : A;\n",  # several statements on one line
    ],
)
def test_short_forms_span_lines_as_in_maboss(text: str) -> None:
    model = parse_bnd(text)
    assert model.names == ("A", "B", "C")
    assert model.node("A").rule == Logic("&", (B, C))
    assert model.node("C").rule == A


def test_deep_nesting_is_a_format_error_whatever_the_recursion_limit() -> None:
    # importing mpbn raises the limit to 100000; the reader must stop at a sane depth anyway
    before = sys.getrecursionlimit()
    try:
        sys.setrecursionlimit(100_000)
        with pytest.raises(ModelFormatError, match="nested too deeply") as info:
            parse_bnd("Node A {\n  logic = " + "(" * 3000 + "A" + ")" * 3000 + ";\n}\n", "deep.bnd")
    finally:
        sys.setrecursionlimit(before)
    assert (info.value.source, info.value.line, info.value.col) == ("deep.bnd", 2, 11)
    assert parse_bnd("A : " + "!(" * 70 + "A" + ")" * 70).node("A").rule is not None


def test_strings_may_hold_semicolons_braces_comments_and_escapes() -> None:
    text = 'Node A {\n  description = "a; b } // c /* d */ \\"e\\"";\n  logic = A;\n}\n# x\nNode B { logic = A; }\n'
    model = parse_bnd(text)
    assert model.node("A").description == 'a; b } // c /* d */ "e"'
    assert model.node("B").origin == "<string>:6"


def test_a_comment_sign_inside_a_line_is_not_a_comment() -> None:
    with pytest.raises(ModelFormatError) as info:
        parse_bnd("Node A { logic = A; }\n  # not a comment: # only starts one at the start of a line\n")
    assert (info.value.line, info.value.col) == (2, 3)


def test_cfg_parameters_may_use_earlier_ones_and_functions() -> None:
    model = parse_bnd("Node A { rate_up = $c; rate_down = $d; }")
    cfg = "$a = 2;\n$b = $a * 3 - 1;\n$c = $b > 4 ? log(exp($a)) : 0;\n$d = -$a / 4;\n$a = 10;\n"
    model, _ = parse_cfg(cfg, model)
    # a parameter set again keeps its first place and takes its last value
    assert model.parameters == (("a", 10.0), ("b", 5.0), ("c", 2.0), ("d", -0.5))


def test_cfg_settings_are_case_insensitive_and_stray_semicolons_pass() -> None:
    _, config = parse_maboss("A : A;", "MAX_TIME = 3;;\n;Sample_Count = 7;\nA.ISTATE = 1;")
    assert (config.max_time, config.sample_count) == (3.0, 7)


def test_a_cfg_that_sets_nothing_leaves_every_setting_unset() -> None:
    """Unset: MaBoSS's defaults for what changes results, every core for the threads."""
    model, config = parse_maboss("A : A;", "")
    assert config == MABOSS_DEFAULTS.with_(threads=None)
    assert config.explicit == frozenset()
    assert model.istate == ()
    _, no_cfg = parse_maboss("A : A;")
    assert (no_cfg, no_cfg.explicit) == (config, frozenset())


def test_settings_a_cfg_states_are_explicit_even_at_a_default_value(tmp_path: Path) -> None:
    _, config = parse_maboss("A : A;", "thread_count = 1;\nmax_time = 1000;\nstatdist_traj_count = 5;")
    assert (config.threads, config.max_time, dict(config.extra)) == (1, 1000.0, {"statdist_traj_count": 5.0})
    assert config.explicit == {"threads", "max_time", "extra"}
    # laid over other defaults, what the file states wins and the rest is theirs
    laid = config.over(SimulationConfig(max_time=7, sample_count=20, threads=4))
    assert (laid.threads, laid.max_time, laid.sample_count) == (1, 1000.0, 20)
    (tmp_path / "m.bnd").write_text("A : A;")
    (tmp_path / "m.cfg").write_text("thread_count = 3;")
    _, beside = read_maboss(tmp_path / "m.bnd")
    assert (beside, beside.explicit) == (MABOSS_DEFAULTS.with_(threads=3), {"threads"})


def test_settings_of_several_pieces_are_explicit_when_any_piece_states_them() -> None:
    model = parse_bnd("A : A;")
    _, config = parse_cfgs([("max_time = 5;", "a.cfg"), ("seed_pseudorandom = 0;", "-e")], model)
    assert (config.max_time, config.seed, config.explicit) == (5.0, 0, {"max_time", "seed"})
    assert parse_cfgs([], model)[1].explicit == frozenset()


@pytest.mark.parametrize(
    ("cfg", "refstate"), [("A.refstate = 1;", 1), ("A.refstate = 0;", 0), ("A.refstate = -1;", None)]
)
def test_refstate(cfg: str, refstate: int | None) -> None:
    assert parse_maboss("A : A;", cfg)[0].node("A").refstate == refstate


def test_in_graph_is_accepted_and_ignored() -> None:
    model, _ = parse_maboss("A : A;", "A.in_graph = 1;")
    assert model.node("A") == Node("A", A)


# ------------------------------------------------------------- broken twins
#: file -> (error type, line, column, start of the message); line None: the file as a whole
ERRORS: dict[str, tuple[type[Exception], int | None, int | None, str]] = {
    "unbalanced-error.bnd": (ModelFormatError, 5, 18, "unbalanced parentheses: ')' expected"),
    "missing-semicolon-error.bnd": (ModelFormatError, 2, 12, "missing ';' after attribute logic of node A"),
    "unclosed-block-error.bnd": (ModelFormatError, 5, 1, "node block A is never closed"),
    "empty-error.bnd": (ModelFormatError, None, None, "no nodes: the network file is empty"),
    "duplicate-node-error.bnd": (ModelFormatError, 3, 1, "duplicate node 'A'"),
    "undefined-node-error.bnd": (ModelValidationError, 2, None, "unknown node 'ERBB' in rule of AKT1"),
    "undefined-rate-parameter-error.bnd": (ModelValidationError, 4, None, "undefined parameter $k_up in rate_up of B"),
    "missing-semicolon-setting-error.cfg": (ModelFormatError, 2, 13, "missing ';' after max_time"),
    "unknown-attribute-error.cfg": (ModelFormatError, 2, 1, "invalid node attribute colour"),
    "unknown-node-error.cfg": (ModelFormatError, 3, 1, "unknown node 'ERBB3'"),
    "unknown-setting-error.cfg": (ModelFormatError, 3, 3, "unknown setting 'sample_cont'"),
    "undefined-parameter-error.cfg": (ModelFormatError, 2, 9, "undefined parameter $k_base in $k_on"),
    "schedule-error.cfg": (ModelFormatError, 3, 1, "EGFR.schedule: scheduled flips are not supported"),
    "unbalanced-parameter-error.cfg": (ModelFormatError, 1, 21, "unbalanced parentheses: ')' expected"),
}
HINTS = {
    "unbalanced-error.bnd": "the '(' at line 5, column 11 is never closed",
    "missing-semicolon-error.bnd": "end each statement with ';'",
    "unclosed-block-error.bnd": "a '}' is missing before this 'Node'; the block opens at {path}:2",
    "unknown-node-error.cfg": "did you mean 'ERBB2'?",
    "unknown-setting-error.cfg": "did you mean 'sample_count'?",
    "undefined-parameter-error.cfg": "define it earlier in the file",
}


def test_every_error_file_has_an_expectation() -> None:
    assert sorted(p.name for p in MABOSS_DATA.glob("*-error.*")) == sorted(ERRORS)


def _read_twin(path: Path) -> None:
    if path.suffix == ".cfg":
        read_maboss(SMALL_BND, path)
    else:
        read_maboss(path)


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_error_files_raise_at_the_right_place(name: str) -> None:
    kind, line, col, message = ERRORS[name]
    path = MABOSS_DATA / name
    with pytest.raises(kind) as info:
        _read_twin(path)
    err = info.value
    if isinstance(err, ModelFormatError):
        assert (err.source, err.line, err.col) == (str(path), line, col)
        assert err.message.startswith(message), err.message
        assert str(err).startswith(f"{path}:{line}:{col}: {message}" if line else f"{path}: {message}")
        if name in HINTS:
            assert err.hint == HINTS[name].replace("{path}", str(path))
    else:
        assert isinstance(err, ModelValidationError)
        assert len(err.problems) == 1
        assert err.problems[0].startswith(f"{path}:{line}: {message}"), err.problems[0]


def test_undefined_node_suggests_the_closest_name() -> None:
    with pytest.raises(ModelValidationError) as info:
        read_maboss(MABOSS_DATA / "undefined-node-error.bnd")
    assert info.value.problems[0].endswith("(did you mean 'ERBB2'?)")


@pytest.mark.parametrize("name", sorted(n for n in ERRORS if ERRORS[n][0] is ModelFormatError))
def test_error_twins_fail_the_same_way_from_text(name: str) -> None:
    _, line, col, message = ERRORS[name]
    text = (MABOSS_DATA / name).read_text()
    with pytest.raises(ModelFormatError) as info:
        if name.endswith(".cfg"):
            parse_maboss(SMALL_BND.read_text(), text, "net.bnd", "twin.cfg")
        else:
            parse_maboss(text, None, "twin.bnd")
    assert (info.value.line, info.value.col) == (line, col)
    assert info.value.source == ("twin.cfg" if name.endswith(".cfg") else "twin.bnd")
    assert info.value.message.startswith(message)


NETWORK = "Node A { logic = B; }\nNode B { logic = A; }\n"


@pytest.mark.parametrize(
    ("bnd", "cfg", "where", "message"),
    [
        (
            "Node A {\n  logic = B & C);\n}\nB : A;\nC : A;\n",
            None,
            ("bnd", 2, 16),
            "unbalanced parentheses: unexpected ')'",
        ),
        ("Node A {\n  logic = B\n}\nB : A;\n", None, ("bnd", 2, 12), "missing ';' after attribute logic of node A"),
        ("Node A {\n  logic = B;\n", None, ("bnd", 3, 1), "node block A is never closed"),
        ("// only\n/* comments */\n", None, ("bnd", None, None), "no nodes: the network file is empty"),
        ("Node A { logic = B ~ C; }\n", None, ("bnd", 1, 20), "unexpected character '~' in MaBoSS expression"),
        ("A : B &\nC : A\nB : A\n", None, ("bnd", 1, 8), "expression ends where a value was expected"),
        ("Node A { logic = B; rate_up = 1 }\nB : A;\n", None, ("bnd", 1, 33), "unexpected character '}'"),
        ("A = B;\n", None, ("bnd", 1, 1), "unexpected 'A'"),
        ("Node { logic = A; }\n", None, ("bnd", 1, 6), "expected a node name after 'Node'"),
        (NETWORK, "max_time = 12;\nsample_count = 500\n", ("cfg", 2, 19), "missing ';' after sample_count"),
        (NETWORK, "$a = 1;\n[A, B].istate = $q [0, 1], 1 [1, 0];\n", ("cfg", 2, 17), "undefined parameter $q"),
        (NETWORK, "[A, B].istate = A [0, 1], 1 [1, 0];\n", ("cfg", 1, 17), "an istate probability must be a number"),
        (NETWORK, "[A, BB].istate = 1 [0, 1];\n", ("cfg", 1, 1), "unknown node 'BB'"),
        (NETWORK, "[A, B].is_internal = 1;\n", ("cfg", 1, 1), "invalid node group attribute is_internal"),
        (NETWORK, "[A, B].istate = 1 [0, 1, 1];\n", ("cfg", 1, 20), "3 values given for 2 nodes"),
        (NETWORK, "[A, B].istate = 1 [0, x];\n", ("cfg", 1, 20), "istate values must be 0 or 1"),
        (NETWORK, "A.istate = 1;\n[A, B].istate = 1 [0, 1];\n", ("cfg", 2, 1), "initial state of A is declared twice"),
        (NETWORK, "\nsample_count = 2.5;\n", ("cfg", 2, 1), "sample_count must be a whole number, got 2.5"),
        (NETWORK, "time_tick = 1;\nmax_time = -1;\n", ("cfg", 2, 1), "max_time must be a positive number"),
        (NETWORK, "max_time = A;\n", ("cfg", 1, 12), "max_time must be a number, not a rule"),
        (NETWORK, "$a = 1 / 0;\n", ("cfg", 1, 6), "$a is not a finite number (inf)"),
        (NETWORK, "time_tick = 5;\nmax_time = 2;\n", ("cfg", None, None), "time_tick (5.0) is larger than max_time"),
    ],
)
def test_errors_in_text(bnd: str, cfg: str | None, where: tuple[str, int | None, int | None], message: str) -> None:
    with pytest.raises(ModelFormatError) as info:
        parse_maboss(bnd, cfg, "m.bnd", "m.cfg")
    err = info.value
    assert (err.source, err.line, err.col) == (f"m.{where[0]}", where[1], where[2])
    assert err.message.startswith(message), err.message


def test_an_undefined_parameter_in_the_network_names_its_node() -> None:
    with pytest.raises(ModelValidationError) as info:
        parse_maboss("Node A {\n  logic = A;\n  rate_up = $k * @w;\n}\n", "max_time = 5;", "m.bnd")
    assert info.value.problems == ["m.bnd:1: undefined parameter $k in rate_up of A",
                                   "m.bnd:1: undefined attribute @w in rate_up of A"]  # fmt: skip


def test_missing_files() -> None:
    with pytest.raises(ModelFormatError, match="no such file"):
        read_maboss(MABOSS_DATA / "does-not-exist.bnd")
    with pytest.raises(ModelFormatError, match="no such file"):
        read_maboss(SMALL_BND, MABOSS_DATA / "does-not-exist.cfg")


# --------------------------------------------------------------- round trips
def test_grammar_round_trip(grammar: tuple[Model, SimulationConfig]) -> None:
    model, config = grammar
    bnd, cfg = write_maboss(model, config)
    again, config_again = parse_maboss(bnd, cfg, str(GRAMMAR_BND))
    assert_same_model(again, model)
    assert again.annotations == model.annotations
    assert config_again == config
    assert write_maboss(again, config_again) == (bnd, cfg)


def test_written_text_is_maboss_syntax(grammar: tuple[Model, SimulationConfig]) -> None:
    model, config = grammar
    bnd, cfg = write_maboss(model, config)
    assert 'Node A {\n  description = "second text wins";\n  colour = "red";\n  logic = Input & !C | 0;\n' in bnd
    assert "  boost = 1.5;\n}" in bnd
    assert "[B, C].istate = 0.3 [1, 0], 0.7 [0, 1];\n" in cfg
    assert "E.is_internal = 1;\nD.refstate = 0;\nF.refstate = 1;\n" in cfg
    assert cfg.endswith(
        "time_tick = 0.25;\nmax_time = 12;\nsample_count = 500;\ndiscrete_time = 0;\nseed_pseudorandom = 42;\n"
        "thread_count = 3;\nuse_physrandgen = 0;\ndisplay_traj = 0;\nstatdist_traj_count = 10;\n"
        "statdist_cluster_threshold = 0.9;\n"
    )


def test_write_cfg_writes_a_thread_count_only_when_one_is_set() -> None:
    """Unset threads (every core of whichever machine runs the file) are left out, never
    written as this machine's core count; a stated count is written as stated."""
    model = parse_bnd("A : A;")
    every_core = SimulationConfig(sample_count=1000, threads=None)
    assert "thread_count" not in write_cfg(model, every_core)
    _, again = parse_maboss("A : A;", write_cfg(model, every_core))
    assert (again, again.threads) == (every_core, None)
    assert "thread_count = 8;" in write_cfg(model, SimulationConfig(sample_count=2, threads=8))
    assert "thread_count = 1;" in write_cfg(model, MABOSS_DEFAULTS)  # MaBoSS's default, stated


def test_write_cfg_writes_the_settings_a_cfg_stated_and_no_others() -> None:
    model = parse_bnd("A : A;")
    cfg = "sample_count = 10000;\nthread_count = 1;\nstatdist_traj_count = 2;\n"
    _, config = parse_maboss("A : A;", cfg)
    assert write_cfg(model, config) == cfg  # the default values it states included
    assert f"\nseed_pseudorandom = {2**62 + 1};\n" in write_cfg(model, config.with_(seed=2**62 + 1))
    nothing = write_cfg(model, parse_maboss("A : A;", "")[1])
    assert nothing.endswith("\n;\n")  # MaBoSS refuses a configuration without a statement
    assert parse_maboss("A : A;", nothing)[1].explicit == frozenset()


def test_write_cfg_without_settings_leaves_them_to_the_reader() -> None:
    model = parse_bnd("Node A { rate_up = $k; rate_down = 0; }").with_parameters({"k": 2.0})
    assert write_cfg(model) == "$k = 2;\n"
    _, config = parse_maboss(write_bnd(model), write_cfg(model))
    assert (config, config.explicit) == (MABOSS_DEFAULTS.with_(threads=None), frozenset())


@pytest.mark.parametrize(
    ("value", "text"), [(1e20, "1e+20"), (3.0, "3"), (0.1, "0.1"), (-2.0, "-2"), (2.5e-300, "2.5e-300")]
)
def test_numbers_are_written_so_that_maboss_reads_them_back(value: float, text: str) -> None:
    # MaBoSS reads digits alone as a 64-bit integer: 1e20 written as 100000000000000000000 overflows
    model = parse_bnd("Node A { rate_up = $p; rate_down = 0; }").with_parameters({"p": value})
    cfg = write_cfg(model)
    assert cfg.startswith(f"$p = {text};\n")
    assert parse_cfg(cfg, model)[0].parameter_values == {"p": value}


def test_write_bnd_of_a_bare_model() -> None:
    model = Model((Node("A", None), Node("B", Logic("&", (A, Not(B))), rate_down=Const(0.5))))
    assert write_bnd(model) == "Node A {\n}\n\nNode B {\n  logic = A & !B;\n  rate_down = 0.5;\n}\n"


def test_strings_round_trip_with_quotes_and_newlines() -> None:
    model = Model((Node("A", A, description='say "hi"\nthen \\ leave'),))
    assert parse_bnd(write_bnd(model)).node("A").description == 'say "hi"\nthen \\ leave'


@pytest.mark.parametrize("path", model_params("*.bnet"))
def test_shared_models_round_trip_through_maboss(path: Path) -> None:
    model = read_model(path)
    config = SimulationConfig(max_time=10, time_tick=0.5, sample_count=100, seed=7, threads=1)
    bnd, cfg = write_maboss(model, config)
    again, config_again = parse_maboss(bnd, cfg, "again.bnd", "again.cfg")
    assert again.names == model.names
    assert [n.rule for n in again.nodes] == [n.rule for n in model.nodes]
    assert again.parameters == model.parameters
    assert again.istate == model.istate
    assert config_again == config


def test_shipped_example_round_trips() -> None:
    from her2sim.examples import example_path

    model, config = read_maboss(example_path("erbb_core"))
    assert model.parameter_values == {"k_dimer": 2.0}
    assert config.max_time == 20.0
    again, config_again = parse_maboss(*write_maboss(model, config))
    assert_same_model(again, model)
    assert config_again == config


# ------------------------------------------------------------------ registry
def test_registry_reads_every_format_with_a_configuration(tmp_path: Path) -> None:
    """A .bnd brings its .cfg's settings; formats without run settings bring the defaults."""
    model, config = read_model_and_config(SMALL_BND)
    assert model == read_model(SMALL_BND)
    assert config == read_maboss(SMALL_BND)[1]
    sources = {".bnet": "targets, factors\nA, !B\nB, A\n", ".booleannet": "A* = not B\nB* = A\n"}
    for suffix, text in sources.items():
        (tmp_path / f"m{suffix}").write_text(text)
    write_model(read_model(tmp_path / "m.bnet"), tmp_path / "m.sbml")
    for name in ("m.bnet", "m.booleannet", "m.sbml"):
        model, config = read_model_and_config(tmp_path / name)
        assert model.names == ("A", "B")
        assert (config, config.explicit) == (SimulationConfig(), SimulationConfig().explicit)
    with pytest.raises(ConfigError, match=r"m\.cfg: a \.cfg goes with a MaBoSS \.bnd network; .*m\.bnet is a bnet"):
        read_model_and_config(tmp_path / "m.bnet", tmp_path / "m.cfg")


def test_registry_copies_a_bnd_with_the_settings_its_cfg_states(tmp_path: Path) -> None:
    (tmp_path / "m.bnd").write_text("A : A;\n")
    (tmp_path / "m.cfg").write_text("$k = 2;\nthread_count = 1;\nmax_time = 1000;\n")
    model, config = read_model_and_config(tmp_path / "m.bnd")
    write_model(model, tmp_path / "copy.bnd", config=config)
    assert (tmp_path / "copy.cfg").read_text() == "$k = 2;\nmax_time = 1000;\nthread_count = 1;\n"
    copy, copy_config = read_model_and_config(tmp_path / "copy.bnd")
    assert_same_model(copy, model)
    assert (copy_config, copy_config.explicit) == (config, config.explicit)


def test_registry_reads_bnd_with_its_cfg_and_writes_both(tmp_path: Path) -> None:
    assert format_for(SMALL_BND).name == "MaBoSS"
    model = read_model(SMALL_BND)
    assert model.parameter_values == {"k_on": 1.5}  # from small.cfg beside it
    assert model.initial_probability("EGFR") == 0.0
    target = tmp_path / "sub" / "copy.bnd"
    write_model(model, target)
    assert sorted(p.name for p in target.parent.iterdir()) == ["copy.bnd", "copy.cfg"]
    assert "$k_on = 1.5;" in (tmp_path / "sub" / "copy.cfg").read_text()
    assert_same_model(read_model(target), model)


def test_registry_converts_bnet_to_bnd(tmp_path: Path) -> None:
    source = tmp_path / "m.bnet"
    source.write_text("targets, factors\nA, !B\nB, A | B\n")
    target = tmp_path / "m.bnd"
    write_model(read_model(source), target)
    assert target.with_suffix(".cfg").is_file()
    back = read_model(target)
    assert back.names == ("A", "B")
    assert back.node("A").rule == Not(B)


# ------------------------------------------------------- the real MaBoSS
def check_with_cmaboss(model: Model, config: SimulationConfig | None, folder: Path) -> None:
    """cMaBoSS reads what write_maboss wrote, and means by it what her2sim means."""
    bnd_path, cfg_path = write_pair(model, config, folder)
    sim = cmaboss_for(model).MaBoSSSim(network=str(bnd_path), config=str(cfg_path))
    assert sorted(sim.get_nodes()) == sorted(model.names)
    settings = dict(sim.param.items())
    assert {k[1:]: v for k, v in settings.items() if k.startswith("$")} == model.parameter_values
    config = MABOSS_DEFAULTS if config is None else config.over(MABOSS_DEFAULTS)  # what cMaBoSS runs
    assert (settings["max_time"], settings["time_tick"]) == (config.max_time, config.time_tick)
    assert (settings["sample_count"], settings["seed_pseudorandom"]) == (config.sample_count, config.seed)
    assert settings["thread_count"] == config.thread_count
    # MaBoSS writes the network and configuration it understood; her2sim reads them back
    theirs, their_config = parse_maboss(sim.str_bnd(), sim.str_cfg(), "cmaboss.bnd", "cmaboss.cfg")
    assert their_config.with_(extra=()) == config.with_(extra=(), threads=config.thread_count)
    params = model.parameter_values
    for node in model.nodes:
        other = theirs.node(node.name)
        assert (other.description, other.genes, other.references) == (node.description, node.genes, node.references)
        assert (other.internal, other.refstate) == (node.internal, node.refstate), node.name
        assert theirs.initial_probability(node.name) == pytest.approx(model.initial_probability(node.name))
        assert same_function(other.rule, node.rule), node.name
        for mine, their in zip(node.resolved_rates(), other.resolved_rates(), strict=True):
            assert same_function(mine, their, params), node.name
    for group in model.istate:
        if len(group.nodes) > 1:
            assert group in theirs.istate


def test_cmaboss_reads_the_written_grammar_file(grammar: tuple[Model, SimulationConfig], tmp_path: Path) -> None:
    check_with_cmaboss(*grammar, tmp_path)


def test_cmaboss_reads_the_written_latin1_file(tmp_path: Path) -> None:
    check_with_cmaboss(*read_maboss(MABOSS_DATA / "latin1.bnd"), tmp_path)


def test_cmaboss_reads_a_written_model_with_huge_and_tiny_parameters(tmp_path: Path) -> None:
    model = parse_bnd("Node A { logic = A; rate_up = $big * $small; rate_down = $small; }")
    check_with_cmaboss(model.with_parameters({"big": 1e20, "small": 2.5e-21}), None, tmp_path)


@pytest.mark.parametrize("path", model_params("*.bnet"))
def test_cmaboss_reads_every_written_shared_model(path: Path, tmp_path: Path) -> None:
    model = read_model(path)
    config = SimulationConfig(max_time=5, time_tick=1, sample_count=10, seed=3, threads=1)
    check_with_cmaboss(model.with_initial_state(model.names[0], 1.0), config, tmp_path)


def test_cmaboss_simulates_a_written_model(tmp_path: Path) -> None:
    model, config = read_maboss(SMALL_BND)
    bnd_path, cfg_path = write_pair(model, config.with_(sample_count=200, seed=5), tmp_path)
    result = cmaboss_for(model).MaBoSSSim(network=str(bnd_path), config=str(cfg_path)).run()
    probs, times, names = result.get_nodes_probtraj()[:3]
    assert len(times) == config.n_windows
    assert set(names) <= set(model.names)
    assert all(0.0 <= p <= 1.0 for p in itertools.chain.from_iterable(probs))
    # EGFR starts off and never changes; ERBB2 starts on with probability 1/2 and stays so
    assert all(row[list(names).index("EGFR")] == 0.0 for row in probs)
    assert probs[0][list(names).index("ERBB2")] == pytest.approx(0.5, abs=0.15)


def test_the_comparison_helpers_can_fail() -> None:
    assert same_function(Logic("&", (A, Logic("&", (B, C)))), Logic("&", (Logic("&", (A, B)), C)))
    assert same_function(Not(Logic("|", (A, B))), Logic("&", (Not(A), Not(B))))
    assert not same_function(Logic("&", (A, B)), Logic("|", (A, B)))
    assert not same_function(Neg(Param("k")), BinOp("-", Const(1.0), Param("k")), {"k": 2.0})
    assert flattened(Logic("|", (A, Logic("|", (B, C))))) == flattened(Logic("|", (Logic("|", (A, B)), C)))
    assert flattened(Logic("|", (A, Logic("&", (B, C))))) != flattened(Logic("&", (Logic("|", (A, B)), C)))


@pytest.mark.parametrize(
    ("istate", "fragment"),
    [
        ("[A, B].istate = 0.7 [0, 1], 0.7 [1, 0];", "of [A, B] sum to 1.4; they are divided by their sum"),
        ("[A, B].istate = 0 [0, 1], 0 [1, 0];", "of [A, B] sum to 0; every draw takes the last outcome"),
        ("[A].istate = 0.2 [0], 0.2 [1];", "of A sum to 0.4"),
    ],
)
def test_istate_probabilities_that_do_not_sum_to_one_are_named_with_their_line(istate: str, fragment: str) -> None:
    cfg = f"max_time = 5;\n{istate}\n"
    with pytest.warns(Her2simWarning, match=re.escape(fragment)) as caught:
        parse_maboss("Node A { logic = A; } Node B { logic = B; }", cfg, "x.bnd", "x.cfg")
    assert str(caught[0].message).startswith("x.cfg:2:")


def test_istate_probabilities_that_sum_to_one_say_nothing() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parse_maboss("Node A { logic = A; }", "[A].istate = 0.25 [0], 0.75 [1];\n")
