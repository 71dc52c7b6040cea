"""The immutable network: nodes, initial states, queries, ``with_*`` edits and validation."""

from __future__ import annotations

import dataclasses
import doctest
import pickle

import pytest

from her2sim.errors import Her2simError, ModelValidationError, UnknownNameError
from her2sim.model import network as network_module
from her2sim.model.expr import FALSE, TRUE, Attr, BinOp, Call, Cond, Const, Logic, Not, Param, Var
from her2sim.model.network import (
    IStateGroup,
    Model,
    Node,
    default_rate_down,
    default_rate_up,
    validate,
)

A, B, C = Var("A"), Var("B"), Var("C")


def test_doctests_of_the_module_pass() -> None:
    result = doctest.testmod(network_module)
    assert result.attempted >= 3
    assert result.failed == 0


def small_model() -> Model:
    """A is an input, B = !A with a parameter rate, C = A & B."""
    return Model(
        (
            Node("A", None),
            Node("B", Not(A), rate_up=Param("k")),
            Node("C", Logic("&", (A, B))),
        ),
        parameters=(("k", 2.0),),
        istate=(IStateGroup.single("A", 0.25),),
        name="small",
    )


# ------------------------------------------------------------------------ nodes
def test_default_rates_are_maboss_logic_conditionals() -> None:
    assert default_rate_up() == Cond(Attr("logic"), Const(1.0), Const(0.0))
    assert default_rate_down() == Cond(Attr("logic"), Const(0.0), Const(1.0))


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        (Node("X", None), True),
        (Node("X", Var("X")), True),
        (Node("X", Var("Y")), False),
        (Node("X", TRUE), False),
        (Node("X", None, rate_up=Const(1.0)), False),
        (Node("X", Var("X"), rate_down=Const(0.0)), False),
    ],
)
def test_node_is_input(node: Node, expected: bool) -> None:
    assert node.is_input is expected


def test_effective_rates() -> None:
    assert Node("X", A).effective_rate_up() == default_rate_up()
    assert Node("X", A).effective_rate_down() == default_rate_down()
    assert Node("X", None).effective_rate_up() == Const(0.0)
    assert Node("X", None).effective_rate_down() == Const(0.0)
    explicit = Node("X", A, rate_up=Param("u"), rate_down=Param("d"))
    assert explicit.effective_rate_up() == Param("u")
    assert explicit.effective_rate_down() == Param("d")


def test_attribute_map_adds_logic_to_the_custom_attributes() -> None:
    node = Node("X", Logic("|", (A, B)), attributes=(("w", Const(3.0)),))
    assert node.attribute_map() == {"w": Const(3.0), "logic": Logic("|", (A, B))}
    assert Node("X", None, attributes=(("w", Const(3.0)),)).attribute_map() == {"w": Const(3.0)}


def test_resolved_rates_replace_attributes_through_chains() -> None:
    node = Node(
        "X",
        A,
        rate_up=BinOp("*", Param("k"), Attr("w")),
        attributes=(("w", Cond(Attr("logic"), Const(2.0), Attr("base"))), ("base", Const(0.5))),
    )
    up, down = node.resolved_rates()
    assert up == BinOp("*", Param("k"), Cond(A, Const(2.0), Const(0.5)))
    assert down == Cond(A, Const(0.0), Const(1.0))


def test_resolved_rates_report_attributes_that_refer_to_each_other() -> None:
    node = Node("X", None, rate_up=Attr("a"), attributes=(("a", Attr("b")), ("b", Attr("a"))))
    with pytest.raises(ModelValidationError, match="node X: attributes refer to each other in a cycle"):
        node.resolved_rates()


def test_node_origin_is_not_part_of_equality() -> None:
    assert Node("X", A, origin="a.bnet:1") == Node("X", A, origin="b.bnet:9")
    assert hash(Node("X", A, origin="a.bnet:1")) == hash(Node("X", A))


# ----------------------------------------------------------------- initial states
def test_single_initial_state() -> None:
    assert IStateGroup.single("A", 0.3) == IStateGroup(("A",), ((0.7, (0,)), (0.3, (1,))))
    assert IStateGroup.single("A", 1.0) == IStateGroup(("A",), ((1.0, (1,)),))
    assert IStateGroup.single("A", 0.0) == IStateGroup(("A",), ((1.0, (0,)),))


def maboss_draw(group: IStateGroup, u: float) -> int:
    """MaBoSS's draw (IStates.h/IStates.cc): normalise by the sum, pick the first outcome whose
    running sum exceeds ``u``, or the last one."""
    total = sum(p for p, _ in group.outcomes)
    running = 0.0
    for j, (p, _) in enumerate(group.outcomes):
        running += p / total if total else float("nan")
        if u < running or j == len(group.outcomes) - 1:
            return j
    raise AssertionError("unreachable")


@pytest.mark.parametrize(
    ("probabilities", "expected"),
    [
        ((0.2, 0.3, 0.5), (0.2, 0.3, 0.5)),
        ((0.6, 0.6), (0.5, 0.5)),  # MaBoSS divides by the sum ...
        ((0.1, 0.3), (0.25, 0.75)),  # ... whether above or below 1
        ((2.0, 1.0, 1.0), (0.5, 0.25, 0.25)),
        ((0.3,), (1.0,)),  # a single outcome is certain
        ((0.0, 0.0), (0.0, 1.0)),  # a zero sum leaves only the last outcome
        ((-0.5, 1.5), (0.0, 1.0)),
    ],
)
def test_effective_probabilities_follow_maboss_cumulative_draw(
    probabilities: tuple[float, ...], expected: tuple[float, ...]
) -> None:
    group = IStateGroup(("A",), tuple((p, (j % 2,)) for j, p in enumerate(probabilities)))
    assert group.effective_probabilities() == pytest.approx(expected)
    n = 10_000
    counts = [0] * len(probabilities)
    for i in range(n):
        counts[maboss_draw(group, (i + 0.5) / n)] += 1
    assert tuple(c / n for c in counts) == pytest.approx(expected, abs=2e-4)


def test_joint_group_marginals() -> None:
    group = IStateGroup(("A", "B"), ((0.2, (1, 1)), (0.3, (1, 0)), (0.5, (0, 1))))
    assert group.p_on("A") == pytest.approx(0.5)
    assert group.p_on("B") == pytest.approx(0.7)
    unnormalised = IStateGroup(("A", "B"), ((1.0, (1, 1)), (3.0, (0, 1))))
    assert unnormalised.p_on("A") == pytest.approx(0.25)
    assert unnormalised.p_on("B") == pytest.approx(1.0)


# ---------------------------------------------------------------------- queries
def test_queries() -> None:
    m = small_model()
    assert len(m) == 3
    assert m.names == ("A", "B", "C")
    assert [m.index(n) for n in m.names] == [0, 1, 2]
    assert m.node("B") == Node("B", Not(A), rate_up=Param("k"))
    assert "C" in m
    assert "Z" not in m
    assert 3 not in m
    assert m.parameter_values == {"k": 2.0}
    assert m.regulators("C") == frozenset({"A", "B"})
    assert m.regulators("A") == frozenset()


def test_unknown_node_suggests_close_names() -> None:
    m = Model((Node("ERBB2", None), Node("AKT1", Var("ERBB2"))))
    with pytest.raises(UnknownNameError) as info:
        m.index("ERBB")
    assert isinstance(info.value, Her2simError)
    assert isinstance(info.value, KeyError)
    assert info.value.kind == "node"
    assert info.value.suggestions == ["ERBB2"]
    assert str(info.value) == "unknown node 'ERBB' (did you mean 'ERBB2'?)"
    with pytest.raises(UnknownNameError, match=r"unknown node 'MTOR'$"):
        m.node("MTOR")


def test_inputs_and_outputs() -> None:
    m = Model(
        (
            Node("A", None),
            Node("B", Var("B")),  # a self-loop is an input and reads only itself
            Node("C", Logic("&", (A, B))),
            Node("D", C),
            Node("E", TRUE),
            Node("F", None, rate_up=Const(1.0)),
            Node("G", Var("G"), rate_down=BinOp("*", Param("k"), Var("E"))),
        )
    )
    assert m.inputs() == ("A", "B")
    assert m.outputs() == ("D", "F", "G")
    assert m.regulators("G") == frozenset({"G", "E"})


def test_initial_probability() -> None:
    m = small_model()
    assert m.initial_probability("A") == 0.25
    assert m.initial_probability("B") == 0.5  # MaBoSS's default for a node in no group
    joint = m.with_istate_group(IStateGroup(("B", "C"), ((1.0, (1, 1)), (1.0, (1, 0)), (2.0, (0, 0)))))
    assert joint.initial_probability("B") == pytest.approx(0.5)
    assert joint.initial_probability("C") == pytest.approx(0.25)
    with pytest.raises(UnknownNameError):
        m.initial_probability("Z")


def test_models_are_frozen_hashable_values() -> None:
    m = small_model()
    assert m == small_model()
    assert hash(m) == hash(small_model())
    assert m != m.with_parameters({"k": 3.0})
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.name = "other"  # type: ignore[misc]
    copy = pickle.loads(pickle.dumps(m))
    assert copy == m
    assert copy.index("C") == 2


def test_a_model_hashes_once_and_is_pickled_without_its_hash() -> None:
    """The hash is cached on first use; a pickle (another process's string hashes) drops it."""
    m = small_model()
    assert hash(m) == hash((m.nodes, m.parameters, m.istate, m.name, m.annotations))
    assert m._hash is not None
    copy = pickle.loads(pickle.dumps(m))
    assert copy._hash is None and hash(copy) == hash(m)
    edited = m.with_parameters({"k": 3.0})
    assert edited._hash is None and hash(edited) != hash(m)


def test_duplicate_node_names_are_refused_all_at_once() -> None:
    with pytest.raises(ModelValidationError) as info:
        Model(
            (
                Node("A", None, origin="m.bnet:1"),
                Node("B", None, origin="m.bnet:2"),
                Node("A", B, origin="m.bnet:3"),
                Node("B", A),
            )
        )
    assert info.value.problems == ["m.bnet:3: duplicate node 'A'", "duplicate node 'B'"]


# ------------------------------------------------------------------------ edits
def test_with_node_replaces_by_name_or_appends_and_leaves_the_original_alone() -> None:
    m = small_model()
    replaced = m.with_node(Node("B", A))
    assert replaced.names == ("A", "B", "C")
    assert replaced.node("B").rule == A
    appended = m.with_nodes([Node("D", C), Node("A", TRUE)])
    assert appended.names == ("A", "B", "C", "D")
    assert appended.node("A").rule == TRUE
    assert appended.index("D") == 3
    assert m == small_model()
    assert "D" not in m


def test_with_fixed_makes_the_rule_constant_clears_rates_and_sets_the_start() -> None:
    m = small_model()
    on = m.with_fixed("B", True)
    assert on.node("B") == Node("B", TRUE)
    assert on.initial_probability("B") == 1.0
    off = m.with_fixed("A", False)
    assert off.node("A").rule == FALSE
    assert off.initial_probability("A") == 0.0
    assert isinstance(off.initial_probability("A"), float)  # not the int 0 of an empty sum
    assert off.istate == (IStateGroup.single("A", 0.0),)
    assert m == small_model()  # untouched
    assert m.node("B").rate_up == Param("k")
    with pytest.raises(UnknownNameError):
        m.with_fixed("Z", True)


def test_with_fixed_keeps_the_attributes() -> None:
    m = Model((Node("X", A, attributes=(("w", Const(2.0)),)), Node("A", None)))
    assert m.with_fixed("X", True).node("X").attributes == (("w", Const(2.0)),)


def test_with_fixed_on_a_node_of_a_joint_initial_state() -> None:
    group = IStateGroup(("A", "B"), ((0.25, (1, 1)), (0.75, (0, 0))))
    m = small_model().with_istate_group(group)
    fixed = m.with_fixed("B", False)
    assert fixed.initial_probability("B") == 0.0
    assert fixed.initial_probability("A") == pytest.approx(0.25)  # the partner keeps its distribution
    assert fixed.istate == (IStateGroup(("A", "B"), ((0.25, (1, 0)), (0.75, (0, 0)))),)
    assert fixed.node("B").rule == FALSE


def test_with_rates() -> None:
    m = small_model()
    both = m.with_rates("C", up=Param("k"), down=Const(0.1))
    assert (both.node("C").rate_up, both.node("C").rate_down) == (Param("k"), Const(0.1))
    kept = m.with_rates("B", down=Const(0.5))
    assert (kept.node("B").rate_up, kept.node("B").rate_down) == (Param("k"), Const(0.5))
    assert m.node("C").rate_up is None


def test_with_parameters_strips_dollar_and_keeps_order() -> None:
    m = small_model().with_parameters({"$new": 3, "k": 0.5})
    assert m.parameters == (("k", 0.5), ("new", 3.0))
    assert isinstance(m.parameter_values["new"], float)
    assert small_model().parameter_values == {"k": 2.0}


def test_with_initial_state() -> None:
    m = small_model().with_initial_state("A", 0.9).with_initial_state("C", 1.0)
    assert m.initial_probability("A") == pytest.approx(0.9)
    assert m.initial_probability("C") == 1.0
    assert [g.nodes for g in m.istate] == [("A",), ("C",)]


@pytest.mark.parametrize("p_on", [-0.1, 1.5, float("nan")])
def test_with_initial_state_refuses_impossible_probabilities(p_on: float) -> None:
    with pytest.raises(ModelValidationError, match="initial probability of A must be in"):
        small_model().with_initial_state("A", p_on)


def test_with_initial_state_refuses_a_node_of_a_joint_group() -> None:
    m = small_model().with_istate_group(IStateGroup(("A", "B"), ((1.0, (1, 0)),)))
    with pytest.raises(ModelValidationError, match="A belongs to the joint initial state of A, B"):
        m.with_initial_state("A", 0.5)


def test_with_istate_group_replaces_every_overlapping_group() -> None:
    m = small_model().with_initial_state("B", 0.1).with_initial_state("C", 0.2)
    group = IStateGroup(("A", "B"), ((0.5, (1, 1)), (0.5, (0, 0))))
    joint = m.with_istate_group(group)
    assert joint.istate == (IStateGroup.single("C", 0.2), group)
    with pytest.raises(UnknownNameError):
        m.with_istate_group(IStateGroup(("A", "Z"), ((1.0, (1, 1)),)))


def test_with_input() -> None:
    m = small_model().with_input("EGF", 0.8)
    assert m.names == ("A", "B", "C", "EGF")
    assert m.node("EGF") == Node("EGF", None)
    assert m.initial_probability("EGF") == pytest.approx(0.8)
    with pytest.raises(ModelValidationError, match="node 'A' already exists"):
        m.with_input("A")


def test_without_input_substitutes_the_constant_and_simplifies() -> None:
    m = Model(
        (
            Node("A", None),
            Node("B", Logic("&", (A, C))),
            Node("C", Logic("|", (Not(A), C)), rate_up=Cond(A, Param("k"), Const(0.0))),
            Node("D", B, attributes=(("w", BinOp("*", A, Const(3.0))),)),
        ),
        parameters=(("k", 1.0),),
        istate=(IStateGroup.single("A", 0.3), IStateGroup.single("B", 0.6)),
    )
    on = m.without_input("A", True)
    assert on.names == ("B", "C", "D")
    assert on.node("B").rule == C
    assert on.node("C").rule == C
    assert on.node("C").rate_up == Param("k")
    assert on.node("D").attributes == (("w", Const(3.0)),)
    assert on.istate == (IStateGroup.single("B", 0.6),)
    off = m.without_input("A", False)
    assert off.node("B").rule == FALSE
    assert off.node("C").rule == TRUE
    assert off.node("C").rate_up == Const(0.0)
    assert m.names == ("A", "B", "C", "D")


def test_without_input_keeps_the_joint_initial_state_of_the_other_nodes() -> None:
    group = IStateGroup(("A", "C"), ((0.4, (1, 1)), (0.6, (0, 0))))
    m = small_model().with_istate_group(group)
    assert m.initial_probability("C") == pytest.approx(0.4)
    reduced = m.without_input("A", False)
    assert reduced.istate == (IStateGroup(("C",), ((0.4, (1,)), (0.6, (0,)))),)
    assert reduced.initial_probability("C") == pytest.approx(0.4)


def test_without_input_refuses_a_node_with_a_rule_or_rates() -> None:
    with pytest.raises(ModelValidationError, match="B is not an input node"):
        small_model().without_input("B", True)
    with_rates = Model((Node("A", None, rate_up=Const(1.0)),))
    with pytest.raises(ModelValidationError, match="A is not an input node"):
        with_rates.without_input("A", True)


def test_renamed_renames_nodes_rules_rates_attributes_and_initial_states() -> None:
    m = Model(
        (
            Node("A", None),
            Node("B", Not(A), rate_up=BinOp("*", Param("k"), A), attributes=(("w", A),)),
        ),
        istate=(IStateGroup(("A", "B"), ((1.0, (1, 0)),)),),
    )
    r = m.renamed({"A": "EGFR"})
    assert r.names == ("EGFR", "B")
    assert r.node("B") == Node(
        "B", Not(Var("EGFR")), rate_up=BinOp("*", Param("k"), Var("EGFR")), attributes=(("w", Var("EGFR")),)
    )
    assert r.istate == (IStateGroup(("EGFR", "B"), ((1.0, (1, 0)),)),)
    assert r.index("EGFR") == 0
    assert "A" not in r
    assert m.names == ("A", "B")


def test_renamed_can_swap_names_but_not_merge_them() -> None:
    m = Model((Node("A", None), Node("B", Not(A))))
    swapped = m.renamed({"A": "B", "B": "A"})
    assert swapped.nodes == (Node("B", None), Node("A", Not(B)))
    with pytest.raises(ModelValidationError, match="duplicate node 'B'"):
        m.renamed({"A": "B"})


# ------------------------------------------------------------------- validation
def broken_model() -> Model:
    return Model(
        (
            Node("ERBB2", None, origin="her2.bnd:3"),
            Node(
                "AKT1",
                Logic("&", (Var("ERBB"), Var("PIK3CA"))),
                rate_up=Param("k_up"),
                rate_down=Const(-1.0),
                origin="her2.bnd:7",
            ),
            Node(
                "MTOR",
                Var("AKT1"),
                rate_up=BinOp("*", Attr("speed"), Call("sqrt", (Param("k"),))),
                rate_down=Call("log", ()),
                refstate=2,
                origin="her2.bnd:12",
            ),
        ),
        parameters=(("k", 1.0), ("unused", 2.0), ("High_MTOR", 1.0), ("nb_mutable", 1.0), ("bad", float("inf"))),
        istate=(
            IStateGroup(("AKT",), ((1.0, (1,)),)),
            IStateGroup(("ERBB2", "MTOR"), ((-0.5, (1, 1)), (1.0, (0,)))),
            IStateGroup(("MTOR",), ((1.0, (1,)),)),
        ),
    )


EXPECTED_PROBLEMS = [
    "her2.bnd:7: unknown node 'ERBB' in rule of AKT1 (did you mean 'ERBB2'?)",
    "her2.bnd:7: unknown node 'PIK3CA' in rule of AKT1",
    "her2.bnd:7: undefined parameter $k_up in rate_up of AKT1",
    "her2.bnd:7: rate_down of AKT1 must be a finite rate >= 0, got -1.0",
    "her2.bnd:12: undefined attribute @speed in rate_up of MTOR",
    "her2.bnd:12: unknown function sqrt() in rate_up of MTOR",
    "her2.bnd:12: log() takes 1 to 2 arguments, got 0 in rate_down of MTOR",
    "her2.bnd:12: refstate of MTOR must be 0 or 1, got 2",
    "parameter $bad is not a finite number (inf)",
    "parameter $bad is never used",
    "parameter $unused is never used",
    "unknown node 'AKT' in initial state (did you mean 'AKT1'?)",
    "initial state of [ERBB2, MTOR] has an invalid probability -0.5",
    "initial state of [ERBB2, MTOR] gives 1 values for 2 nodes",
    "node MTOR appears in two initial-state declarations",
]


def test_validate_reports_every_problem_at_once_with_locations() -> None:
    assert validate(broken_model()) == EXPECTED_PROBLEMS
    assert broken_model().problems() == EXPECTED_PROBLEMS


def test_validate_can_leave_unused_parameters_out() -> None:
    found = validate(broken_model(), unused_parameters=False)
    assert found == [p for p in EXPECTED_PROBLEMS if "never used" not in p]


def test_check_raises_once_with_every_error_but_tolerates_unused_parameters() -> None:
    with pytest.raises(ModelValidationError) as info:
        broken_model().check("her2.bnd")
    assert info.value.problems == [p for p in EXPECTED_PROBLEMS if "never used" not in p]
    text = str(info.value)
    assert text.startswith("her2.bnd: her2.bnd:7: unknown node 'ERBB' in rule of AKT1 (did you mean 'ERBB2'?); ")
    assert text.endswith("; and 8 more")
    unused = small_model().with_parameters({"spare": 1.0})
    assert unused.check() is unused
    assert unused.problems() == ["parameter $spare is never used"]


def test_a_valid_model_has_no_problems() -> None:
    m = small_model().with_rates("C", up=Cond(Attr("logic"), Call("exp", (Param("k"), Const(2.0))), Const(0.0)))
    assert validate(m) == []
    assert m.check() is m
