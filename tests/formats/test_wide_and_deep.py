"""Rules as wide or as deep as a hostile file makes them: wide ones work everywhere a tree is
walked, deep ones are refused with one located error, and nothing reaches libsbml's recursion."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from her2sim.cli import app
from her2sim.engine import SimulationConfig, simulate
from her2sim.errors import ModelFormatError, ModelValidationError
from her2sim.formats import read_model
from her2sim.formats._expr import BNET, BOOLEANNET, MABOSS, format_expr, parse_expr
from her2sim.formats.bnet import parse_bnet
from her2sim.formats.sbmlqual import parse_sbmlqual, write_sbmlqual
from her2sim.model.expr import MAX_DEPTH, Attr, Expr, Logic, Not, Var, conjunction, depth, evaluate
from her2sim.model.network import Model, Node
from tests.conftest import DATA

WIDTH = 600


def wide_bnet(width: int = WIDTH) -> str:
    """``A`` reads a conjunction of ``width`` copies of ``B`` (the fuzzer's crashing rule)."""
    return "targets, factors\nA, " + " & ".join(["B"] * width) + "\nB, A | !B\n"


def wide_sbml(width: int = 500) -> str:
    """The small SBML-qual model with one condition replaced by an ``<or/>`` of ``width`` tests."""
    test = '<apply><eq/><ci> A </ci><cn type="integer"> 1 </cn></apply>'
    text = (DATA / "sbml" / "small.sbml").read_text(encoding="utf-8")
    assert test in text
    return text.replace(test, "<apply><or/>" + test * width + "</apply>", 1)


def nested_sbml(levels: int) -> str:
    """The small SBML-qual model with one condition under ``levels`` negations."""
    test = '<apply><eq/><ci> A </ci><cn type="integer"> 1 </cn></apply>'
    text = (DATA / "sbml" / "small.sbml").read_text(encoding="utf-8")
    return text.replace(test, "<apply><not/>" * levels + test + "</apply>" * levels, 1)


def cli(*args: str | Path) -> str:
    result = CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


# ------------------------------------------------------------------------------ wide rules
@pytest.mark.parametrize("name", ["wide.bnet", "wide.sbml"])
def test_a_rule_with_hundreds_of_operands_runs_through_info_convert_and_simulate(name: str, tmp_path: Path) -> None:
    source = tmp_path / name
    source.write_text(wide_bnet() if name.endswith(".bnet") else wide_sbml(), encoding="utf-8")
    assert "A" in cli("info", source)
    for suffix in (".bnet", ".bnd", ".booleannet", ".sbml"):
        cli("convert", source, tmp_path / f"out{suffix}")
        assert read_model(tmp_path / f"out{suffix}").names == read_model(source).names
    cli("simulate", source, "--samples", "200", "-o", tmp_path / "run.parquet")
    assert (tmp_path / "run.parquet").stat().st_size > 0


def test_a_wide_rule_is_one_flat_node_and_keeps_its_meaning() -> None:
    model = parse_bnet(wide_bnet(5000))
    rule = model.node("A").rule
    assert isinstance(rule, Logic) and len(rule.args) == 5000 and depth(rule) == 2
    assert hash(model) == hash(parse_bnet(wide_bnet(5000)))  # the compile cache hashes models
    result = simulate(model, SimulationConfig(sample_count=100, max_time=2.0, seed=1))
    assert list(result.nodes().columns) == ["A", "B"]


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 3000), st.sampled_from(["&", "|"]), st.sampled_from([BNET, BOOLEANNET, MABOSS]))
def test_any_width_prints_parses_and_evaluates_without_recursion(width: int, op: str, dialect: object) -> None:
    names = [f"X{i % 7}" for i in range(width)]
    rule = Logic(op, tuple(Not(Var(n)) if i % 3 == 0 else Var(n) for i, n in enumerate(names)))
    back = parse_expr(format_expr(rule, dialect), dialect)  # type: ignore[arg-type]
    assert back == rule
    state = {f"X{i}": i % 2 for i in range(7)}
    assert evaluate(back, state) == evaluate(rule, state)


def test_a_wide_sbml_or_is_written_back_as_one_apply(tmp_path: Path) -> None:
    model = parse_sbmlqual(wide_sbml())
    text = write_sbmlqual(model)
    assert parse_sbmlqual(text).node("B").rule == model.node("B").rule


# ------------------------------------------------------------------------------ deep rules
@pytest.mark.parametrize("levels", [MAX_DEPTH + 60, 6_000, 100_000])
def test_mathml_nested_deeper_than_libsbml_survives_is_refused_before_libsbml(levels: int) -> None:
    """6,000 levels killed the process inside libsbml with a segmentation fault."""
    with pytest.raises(ModelFormatError, match="nested too deeply") as caught:
        parse_sbmlqual(nested_sbml(levels), "deep.sbml")
    assert caught.value.source == "deep.sbml" and caught.value.line is not None


def test_mathml_at_the_depth_limit_of_a_condition_is_read() -> None:
    model = parse_sbmlqual(nested_sbml(MAX_DEPTH - 10))
    assert model.node("B").rule is not None


@pytest.mark.parametrize("dialect", [BNET, BOOLEANNET, MABOSS])
def test_a_parenthesised_rule_nested_past_the_limit_is_a_located_error(dialect: object) -> None:
    text = "(" * 1000 + "A" + ")" * 1000
    with pytest.raises(ModelFormatError, match="nested too deeply") as caught:
        parse_expr(text, dialect, "deep.txt", line=4)  # type: ignore[arg-type]
    assert (caught.value.source, caught.value.line) == ("deep.txt", 4)


def test_a_deep_tree_built_in_python_cannot_enter_a_node() -> None:
    rule = Var("A")
    for _ in range(5_000):
        rule = Not(rule)
    with pytest.raises(ModelValidationError, match="rule of A is nested 5001 levels deep"):
        Node("A", rule)
    with pytest.raises(ModelValidationError, match="rate_up of A is nested 5001 levels deep"):
        Node("A", Var("A"), rate_up=rule)


def test_attributes_that_substitute_into_a_deep_rate_are_refused() -> None:
    """Each attribute is shallow, but substituted into one another they nest past the limit."""
    layer = Var("A")
    for _ in range(MAX_DEPTH - 5):
        layer = Not(layer)
    attributes = [("a0", layer)]
    for i in range(1, 4):
        chain: Expr = Attr(f"a{i - 1}")
        for _ in range(MAX_DEPTH - 5):
            chain = Not(chain)
        attributes.append((f"a{i}", chain))
    node = Node("A", Var("A"), rate_up=Attr("a3"), attributes=tuple(attributes))
    with pytest.raises(ModelValidationError, match="nest over"):
        simulate(Model((node,)), SimulationConfig(sample_count=10, max_time=1.0))


def test_the_depth_limit_is_measured_without_recursion() -> None:
    rule = Var("A")
    for _ in range(200_000):
        rule = Not(rule)
    assert depth(rule) == 200_001
    assert depth(conjunction([Var("A")] * 10)) == 2
