"""Nodes that read more nodes than one table can hold: Shannon-expanded, same semantics.

A wide node's rule and rates, read through the kernel (tests walked, then a leaf table), must
give exactly what the vectorised evaluator (which fills every narrow table) gives in the same
state, and simulating through expansions must change nothing, not even the random draws.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from her2sim.engine import SimulationConfig, simulate
from her2sim.engine.compile import CompiledModel, compile_model
from her2sim.engine.discrete import synchronous
from her2sim.engine.scenario import RuntimeArrays, Scenario, runtime_arrays
from her2sim.engine.tables import evaluate_vectorized
from her2sim.errors import ConfigError, ModelValidationError
from her2sim.formats import read_model
from her2sim.formats.maboss import read_maboss
from her2sim.model.expr import BinOp, Cond, Const, Expr, Logic, Not, Param, Var
from her2sim.model.network import Model, Node
from tests.conftest import DATA, REPO

BBM_004 = DATA / "published" / "bbm_004_ERBB-RECEPTOR-SIGNALING.bnet"
INPUTS = tuple(f"N{i}" for i in range(25))


def kernel_values(compiled: CompiledModel, arrays: RuntimeArrays, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every node's flip rate and rule value in each state, as the kernel reads them."""
    s = compiled.structure
    rates, logic = np.zeros(states.shape), np.zeros(states.shape)
    for i, x in enumerate(states):
        compiled.kernel.rates_of(x, arrays.start.rate_table, s.tab_ptr, s.reg_ptr, s.reg_idx, s.root, s.tests, rates[i])
        compiled.kernel.rates_of(x, arrays.logic_table, s.tab_ptr, s.reg_ptr, s.reg_idx, s.root, s.tests, logic[i])
    return rates, logic


def reference_values(
    model: Model, states: np.ndarray, scenario: Scenario | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The same, from the vectorised evaluator on each node's whole rule and rates."""
    scenario = scenario or Scenario()
    columns = {name: states[:, k] for k, name in enumerate(model.names)}
    params = {**model.parameter_values, **scenario.parameters}
    rates, logic = np.zeros(states.shape), np.zeros(states.shape)
    for k, node in enumerate(model.nodes):
        scale_up, scale_down = scenario.rate_scale.get(node.name, (1.0, 1.0))
        up, down = node.resolved_rates()
        rate_up = evaluate_vectorized(up, columns, params) * scale_up
        rate_down = evaluate_vectorized(down, columns, params) * scale_down
        rates[:, k] = 0.0 if node.name in scenario.fixed else np.where(states[:, k] == 0, rate_up, rate_down)
        rule = node.rule if node.rule is not None else Var(node.name)
        logic[:, k] = evaluate_vectorized(rule, columns, params) != 0
    return rates, logic


def random_states(n: int, count: int, seed: int) -> np.ndarray:
    """``count`` states of ``n`` nodes, each state with its own bias (mostly off, even, mostly
    on), so that paths through long chains of tests are taken too."""
    rng = np.random.default_rng(seed)
    bias = rng.choice([0.03, 0.5, 0.97], size=(count, 1))
    return (rng.random((count, n)) < bias).astype(np.uint8)


@st.composite
def wide_rules(draw: st.DrawFn) -> Expr:
    """A rule that reads all 25 inputs and the node itself: clauses of one to five literals
    joined by a random tree of ``&``, ``|`` and ``^``; a few names appear twice."""
    names = draw(st.permutations([*INPUTS, "W"])) + draw(st.lists(st.sampled_from(INPUTS), max_size=4))
    clauses: list[Expr] = []
    while len(names) > 0:
        size = draw(st.integers(1, 5))
        literals = [Not(Var(n)) if draw(st.booleans()) else Var(n) for n in names[:size]]
        names = names[size:]
        op = draw(st.sampled_from("&|^"))
        clauses.append(literals[0] if len(literals) == 1 else Logic(op, tuple(literals)))
    while len(clauses) > 1:
        j = draw(st.integers(0, len(clauses) - 2))
        op = draw(st.sampled_from(["&", "|", "&", "|", "^"]))
        clauses[j : j + 2] = [Logic(op, (clauses[j], clauses[j + 1]))]
    return clauses[0]


@st.composite
def wide_models(draw: st.DrawFn) -> Model:
    """25 inputs and one node ``W`` reading them all: a random rule with default or
    parameterised rates, or a majority rule and a rate that counts the active inputs
    (arithmetic, which no Boolean split expresses)."""
    order = draw(st.permutations(INPUTS))
    a, b, c, d = (Var(n) for n in order[:4])
    kind = draw(st.integers(0, 2))
    if kind == 0:
        node = Node("W", draw(wide_rules()))
    elif kind == 1:
        up = Cond(Logic("&", (a, b)), BinOp("*", Param("u"), Const(2.0)), BinOp("+", Param("v"), c))
        node = Node("W", draw(wide_rules()), up, Cond(Not(d), Const(0.5), BinOp("*", Param("v"), a)))
    else:
        count: Expr = Var(order[0])
        for name in order[1:]:
            count = BinOp("+", count, Var(name))
        rule = BinOp(">", count, Const(12.0))
        up = Cond(rule, BinOp("*", Param("u"), BinOp("/", count, Const(25.0))), Const(0.0))
        node = Node("W", rule, up, Cond(rule, Const(0.0), Param("v")))
    inputs = tuple(Node(name, None) for name in INPUTS)
    return Model((*inputs, node), parameters=(("u", 1.5), ("v", 0.25)))


@settings(max_examples=40, deadline=None)
@given(model=wide_models(), seed=st.integers(0, 2**32 - 1), data=st.data())
def test_a_wide_node_reads_the_values_of_its_full_table(model: Model, seed: int, data: st.DataObject) -> None:
    compiled = compile_model(model)
    k = model.index("W")
    assert k in compiled.structure.wide_idx  # expanded (often into tests, or one leaf when the rule is degenerate)
    scenario = data.draw(
        st.sampled_from(
            [
                Scenario(),
                Scenario(parameters={"u": 3.0, "v": 0.0}, rate_scale={"W": (0.5, 4.0)}),
                Scenario(fixed={"W": True}),
            ]
        )
    )
    states = random_states(len(model), 256, seed)
    mine = kernel_values(compiled, runtime_arrays(compiled.structure, scenario), states)
    theirs = reference_values(model, states, scenario)
    np.testing.assert_array_equal(mine[1], theirs[1])
    np.testing.assert_array_equal(mine[0], theirs[0])


def test_bbm_004_is_compiled_with_shc_expanded_and_reads_the_values_of_its_rules() -> None:
    model = read_model(BBM_004)
    compiled = compile_model(model)
    s = compiled.structure
    shc = model.index("v_Shc")
    assert s.root[shc] >= 0  # tests first: expanded
    assert len(s.tests) <= 32 and sum(s.tab_ptr[g + 1] - s.tab_ptr[g] for g in s.node_segments[shc]) <= 1024
    assert all(s.root[k] == ~k for k in range(len(model)) if k != shc)  # every other node: one table
    assert "v_Shc" in compiled.dependents("v_PTEN")
    states = random_states(len(model), 400, seed=4)
    mine = kernel_values(compiled, runtime_arrays(s), states)
    theirs = reference_values(model, states)
    np.testing.assert_array_equal(mine[1], theirs[1])
    np.testing.assert_array_equal(mine[0], theirs[0])
    assert 0 < theirs[1][:, shc].mean() < 1  # both values of Shc's rule were seen


def test_expanding_every_node_changes_no_trajectory(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no regulator but itself allowed in a node's table, and leaves of two, most nodes
    of the HER2 model are expanded; the rates are the same, so the seeded runs are the same
    to the last bit."""
    data = REPO / "src" / "her2sim" / "her2" / "data"
    model = read_maboss(data / "her2.bnd", data / "her2.cfg")[0]
    config = SimulationConfig(max_time=20, time_tick=2, sample_count=300, seed=7, threads=2)
    narrow = simulate(model, config)
    start = {name: int(i % 3 == 0) for i, name in enumerate(model.names)}
    steps = synchronous(model, start, steps=6)
    monkeypatch.setattr("her2sim.engine.tables.MAX_REGULATORS", 1)
    monkeypatch.setattr("her2sim.engine._expansion.LEAF_WIDTH", 2)
    expanded = compile_model.__wrapped__(model)
    assert len(set(expanded.structure.wide_idx.tolist())) > len(model) // 2 and (expanded.structure.root >= 0).any()
    wide = simulate(expanded, config)
    assert wide.meta["flips"] == narrow.meta["flips"]
    assert wide.nodes().equals(narrow.nodes())
    assert wide.states().equals(narrow.states())
    assert synchronous(expanded, start, steps=6).equals(steps)


def test_a_rule_too_large_to_expand_is_refused_in_one_line_naming_the_node() -> None:
    """The parity of 40 nodes has no small expansion: refused when compiled, before any run."""
    inputs = tuple(Node(f"A{i}", None) for i in range(40))
    parity = Node("P", Logic("^", tuple(Var(f"A{i}") for i in range(40))))
    with pytest.raises(ModelValidationError, match=r"node P reads 40 nodes .*table entries") as error:
        compile_model(Model((*inputs, parity)))
    assert "\n" not in str(error.value)


def test_a_node_reading_hundreds_of_nodes_compiles_when_its_rule_is_simple() -> None:
    inputs = tuple(Node(f"A{i}", None) for i in range(300))
    model = Model((*inputs, Node("ANY", Logic("|", tuple(Var(f"A{i}") for i in range(300))))))
    compiled = compile_model(model)
    states = np.zeros((3, len(model)), dtype=np.uint8)
    states[1, 299] = 1
    states[2, 0] = 1
    mine = kernel_values(compiled, runtime_arrays(compiled.structure), states)
    assert mine[1][:, -1].tolist() == [0, 1, 1]


def test_a_bad_rate_in_a_wide_node_names_the_node_and_a_state() -> None:
    inputs = tuple(Node(name, None) for name in INPUTS)
    wide = Node("W", Logic("|", tuple(Var(n) for n in INPUTS)), Cond(Var("N3"), Param("u"), Const(1.0)))
    model = Model((*inputs, wide), parameters=(("u", -1.0),))
    with pytest.raises(ConfigError, match=r"rate_up of W is -1.0 when W=0, .*N3=1"):
        runtime_arrays(compile_model(model).structure)
