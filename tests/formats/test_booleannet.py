"""BooleanNet reader and writer: the published Zañudo models, round trips and broken twins."""

from __future__ import annotations

from pathlib import Path

import pytest

from her2sim.errors import ModelFormatError
from her2sim.formats import format_for, read_model, write_model
from her2sim.formats.booleannet import (
    RANK_ANNOTATION,
    parse_booleannet,
    parse_booleannet_initial_conditions,
    read_booleannet,
    read_booleannet_initial_conditions,
    write_booleannet,
)
from her2sim.formats.sbmlqual import read_sbmlqual
from her2sim.model.expr import FALSE, TRUE, Logic, Not, Var, is_boolean
from her2sim.model.network import IStateGroup, Model, Node
from tests.conftest import MODELS, model_params

ZANUDO_2020 = MODELS / "jgtz_BreastCancerModelv2__BreastCancerModel_ZanudoEtAl2020.booleannet"
ZANUDO_2020_SBML = MODELS / "jgtz_BreastCancerModelv2__BreastCancerModel_ZanudoEtAl2020.sbml"
needs_zanudo = pytest.mark.skipif(not ZANUDO_2020.is_file(), reason="../shared/models is not present")


def assert_same_dynamics(a: Model, b: Model) -> None:
    """Same nodes, rules and initial-state probabilities (what BooleanNet can hold)."""
    assert a.names == b.names
    for name in a.names:
        assert a.node(name).rule == b.node(name).rule, name
        assert a.initial_probability(name) == b.initial_probability(name), name


# ----------------------------------------------------------------------------- published files
@pytest.mark.parametrize("path", model_params("*.booleannet"))
def test_shared_booleannet_loads_and_round_trips(path: Path) -> None:
    model = read_booleannet(path)
    assert len(model) >= 80
    assert model.name == path.stem
    assert all(n.rule is not None and is_boolean(n.rule) for n in model.nodes)
    assert model.inputs(), "drugs and *_T totals are self-loop inputs"
    assert_same_dynamics(model, parse_booleannet(write_booleannet(model)))


@needs_zanudo
def test_zanudo_2020_rules_and_constants() -> None:
    model = read_booleannet(ZANUDO_2020)
    assert len(model) == 100
    assert model.node("pRb_3").rule == FALSE  # written "0" in the file
    assert model.node("HER2").rule == Var("HER2")
    assert model.node("KMT2D").rule == Not(Var("AKT"))
    assert model.node("HER2").origin.endswith(":15")
    assert model.istate == ()


@needs_zanudo
def test_zanudo_2017_raw_constants() -> None:
    model = read_booleannet(MODELS / "jgtz_BreastCancerModelv2__BreastCancerModel_ZanudoEtAl2017_raw.booleannet")
    assert model.node("IGF1R_T").rule == TRUE
    assert model.node("HER2").rule == FALSE


@needs_zanudo
def test_sbml_twin_has_the_same_nodes() -> None:
    sbml = read_sbmlqual(ZANUDO_2020_SBML)
    assert set(sbml.names) == set(read_booleannet(ZANUDO_2020).names)


@pytest.mark.parametrize("path", model_params("*_InitialConditions.txt"))
def test_initial_conditions_name_model_nodes(path: Path, recwarn: pytest.WarningsRecorder) -> None:
    conditions = read_booleannet_initial_conditions(path)
    rules = path.with_name(path.name.replace("_InitialConditions.txt", ".booleannet"))
    assert set(conditions) <= set(read_booleannet(rules).names)
    assert set(conditions.values()) <= {0.0, 1.0, 1.0 / 3.0}
    assert conditions["BIM_T"] == pytest.approx(1 / 3)  # ranStateCorrelated: (int)(1.5 * u)


@needs_zanudo
def test_initial_conditions_repeat_keeps_last_value_and_warns() -> None:
    path = MODELS / "jgtz_BreastCancerModelv2__BreastCancerModel_ZanudoEtAl2020_InitialConditions.txt"
    with pytest.warns(UserWarning, match=r":93:1: PTEN is listed again .*first at line 9"):
        conditions = read_booleannet_initial_conditions(path)
    assert conditions["PTEN"] == 1.0


# ----------------------------------------------------------------------------- semantics
def test_initial_values_inputs_and_ranks() -> None:
    text = """# a comment line
A = B = False   # chained initial values
C = Random
D = True
1: E* = A and not (B or C)
2: D* = E
F* = G or D
"""
    model = parse_booleannet(text, "demo.booleannet")
    assert model.names == ("A", "B", "C", "D", "E", "F", "G")
    assert model.inputs() == ("A", "B", "C", "G")  # G is read but never defined: a free input
    assert model.node("A").rule is None
    assert [model.initial_probability(n) for n in "ABCDG"] == [0, 0, 0.5, 1, 0.5]
    assert model.node("E").rule == Logic("&", (Var("A"), Not(Logic("|", (Var("B"), Var("C"))))))
    assert dict(model.annotations) == {RANK_ANNOTATION + "E": "1", RANK_ANNOTATION + "D": "2"}
    assert model.name == "demo"


def test_write_then_parse_round_trips_rules_ranks_and_initial_states() -> None:
    text = "1: E* = A and not (B or C)\nA = B = False\nC = Random\nD = True\n2: D* = E\nF* = not G or D\nH* = 1\n"
    model = parse_booleannet(text)
    written = write_booleannet(model)
    again = parse_booleannet(written)
    assert_same_dynamics(model, again)
    assert again.annotations == model.annotations
    assert "1: E* = A and not (B or C)" in written
    assert "H* = True" in written
    assert write_booleannet(again) == written


def test_spacing_variants_of_the_rule_marker() -> None:
    model = parse_booleannet("A *= not B\nB*=A\n  3 :C * = A\n")
    assert model.node("A").rule == Not(Var("B"))
    assert dict(model.annotations) == {RANK_ANNOTATION + "C": "3"}


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("text", "line", "col", "match"),
    [
        ("A = True\nB* = A and or C\n", 2, 12, "operator 'or' where a value was expected"),
        ("A* = B &\n", 1, 8, "unexpected '&' after a complete expression"),
        ("A* = 10\n", 1, 6, "unexpected character '1'"),
        ("A* = B\nB* = Random\n", 2, 6, "'Random' in an update rule"),
        ("A = (1, 2, 3)\n", 1, 5, "piecewise-linear"),
        ("A = maybe\n", 1, 5, "expected True, False or Random"),
        ("A = B = \n", 1, 9, "found nothing"),
        ("and* = B\n", 1, 1, "reserved word"),
        ("A = True\n  B and C\n", 2, 3, "expected an update rule or an initial value"),
        ("A = True\nA = False\n", 2, 1, "second initial value for 'A'"),
    ],
)
def test_errors_name_line_and_column(text: str, line: int, col: int, match: str) -> None:
    with pytest.raises(ModelFormatError, match=match) as err:
        parse_booleannet(text, "bad.booleannet")
    assert (err.value.source, err.value.line, err.value.col) == ("bad.booleannet", line, col)
    assert str(err.value).startswith(f"bad.booleannet:{line}:{col}: ")


@needs_zanudo
def test_broken_twin_unbalanced_parenthesis(tmp_path: Path) -> None:
    lines = ZANUDO_2020.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("MAPK*="))
    lines[index] = lines[index].replace("(Trametinib and not RAS_3))", "(Trametinib and not RAS_3)", 1)
    broken = tmp_path / "twin.booleannet"
    broken.write_text("\n".join(lines) + "\n")
    with pytest.raises(ModelFormatError, match="unbalanced parentheses") as err:
        read_booleannet(broken)
    assert err.value.line == index + 1
    assert err.value.source == str(broken)
    assert err.value.col is not None and err.value.col > len("MAPK*=")


@needs_zanudo
def test_broken_twin_duplicate_rule_names_both_lines(tmp_path: Path) -> None:
    lines = ZANUDO_2020.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("AKT*="))
    broken = tmp_path / "twin.booleannet"
    broken.write_text("\n".join([*lines, lines[index]]) + "\n")
    with pytest.raises(ModelFormatError, match=f"second update rule for 'AKT'.*line {index + 1}") as err:
        read_booleannet(broken)
    assert err.value.line == len(lines) + 1


@pytest.mark.parametrize("text", ["", "\n\n", "#BOOLEAN RULES\n# nothing else\n"])
def test_empty_file_is_an_error(text: str, tmp_path: Path) -> None:
    path = tmp_path / "empty.booleannet"
    path.write_text(text)
    with pytest.raises(ModelFormatError, match="no nodes"):
        read_booleannet(path)


@pytest.mark.parametrize(
    ("text", "line", "match"),
    [
        ("HER2 1\n", 1, "node<TAB>value"),
        ("HER2\t1\nBIM\tmaybe\n", 2, "unknown initial value 'maybe'"),
        ("1x\t0\n", 1, "invalid node name"),
    ],
)
def test_initial_conditions_errors(text: str, line: int, match: str) -> None:
    with pytest.raises(ModelFormatError, match=match) as err:
        parse_booleannet_initial_conditions(text, "ic.txt")
    assert err.value.line == line


# ----------------------------------------------------------------------------- writer refusals
def test_writer_refuses_what_booleannet_cannot_hold() -> None:
    base = Model((Node("A", None), Node("B", Var("A"))))
    with pytest.raises(ModelFormatError, match="custom rates"):
        write_booleannet(base.with_rates("B", up=TRUE))
    assert write_booleannet(base.with_rates("B", up=TRUE), lossy=True) == "A = Random\nB* = A\n"
    with pytest.raises(ModelFormatError, match=r"probability 0\.3"):
        write_booleannet(base.with_initial_state("A", 0.3))
    assert write_booleannet(base.with_initial_state("A", 0.3), lossy=True) == "A = Random\nB* = A\n"
    joint = base.with_istate_group(IStateGroup(("A", "B"), ((0.5, (0, 0)), (0.5, (1, 1)))))
    with pytest.raises(ModelFormatError, match="joint initial state"):
        write_booleannet(joint)
    with pytest.raises(ModelFormatError, match="cannot be written"):
        write_booleannet(Model((Node("A.b", None),)))


def test_registry_reads_and_writes_booleannet(tmp_path: Path) -> None:
    model = parse_booleannet("A = True\nB* = A or B\n")
    path = tmp_path / "m.booleannet"
    assert format_for(path).name == "BooleanNet"
    write_model(model, path)
    assert_same_dynamics(read_model(path), model)
