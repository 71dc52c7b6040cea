"""Simulation engine: analytic checks, structural properties, bad inputs, kernel rate tables."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from her2sim.engine.compile import compile_model
from her2sim.engine.result import NOT_KEPT
from her2sim.engine.scenario import Scenario, runtime_arrays
from her2sim.engine.simulate import simulate, simulate_batch
from her2sim.errors import ConfigError, Her2simWarning, UnknownNameError
from her2sim.formats.maboss import parse_maboss
from her2sim.model.config import SimulationConfig
from her2sim.model.expr import BinOp, Cond, Const, Not, Param, Var, evaluate
from her2sim.model.network import Model, Node
from tests.strategies import boolean_trees

N = 20000


def _window_means(f, tick: float, n_windows: int, steps: int = 2001) -> np.ndarray:
    out = []
    for w in range(n_windows):
        t = np.linspace(w * tick, (w + 1) * tick, steps)
        out.append(np.trapezoid(f(t), t) / tick)
    return np.array(out)


# ----------------------------------------------------------------------------- analytic
@pytest.mark.parametrize(("a", "b"), [(1.0, 0.5), (0.3, 2.0)])
def test_single_node_matches_two_state_markov_chain(a: float, b: float) -> None:
    model, _ = parse_maboss(f"Node A {{ rate_up = {a}; rate_down = {b}; }}", "A.istate = 0;")
    config = SimulationConfig(max_time=5, time_tick=0.5, sample_count=N, seed=7, threads=2)
    result = simulate(model, config)
    p = result.nodes()["A"].to_numpy()
    expected = _window_means(lambda t: a / (a + b) * (1 - np.exp(-(a + b) * t)), 0.5, config.n_windows)
    se = np.sqrt(expected * (1 - expected) / N)
    assert len(p) == config.n_windows
    assert np.all(np.abs(p - expected) <= 4 * se + 1e-3), (p, expected)


CHAIN_BND = """
Node A { rate_up = 0; rate_down = 0; }
Node B { logic = A; rate_up = @logic ? 1 : 0; rate_down = @logic ? 0 : 1; }
Node C { logic = B; rate_up = @logic ? 1 : 0; rate_down = @logic ? 0 : 1; }
"""
CHAIN_CFG = "A.istate = 1; B.istate = 0; C.istate = 0;"


def test_chain_gives_erlang_activation_time() -> None:
    model, _ = parse_maboss(CHAIN_BND, CHAIN_CFG)
    config = SimulationConfig(max_time=4, time_tick=1, sample_count=N, seed=3, threads=2)
    result = simulate(model, config)
    erlang = lambda t: 1 - np.exp(-t) * (1 + t)  # noqa: E731
    expected = _window_means(erlang, 1.0, config.n_windows)
    p = result.nodes()["C"].to_numpy()
    se = np.sqrt(expected * (1 - expected) / N)
    assert np.all(np.abs(p - expected) <= 4 * se + 1e-3), (p, expected)
    # B alone is exponential(1)
    pb = result.nodes()["B"].to_numpy()
    eb = _window_means(lambda t: 1 - np.exp(-t), 1.0, config.n_windows)
    assert np.all(np.abs(pb - eb) <= 4 * np.sqrt(eb * (1 - eb) / N) + 1e-3)
    # final state at max_time: C on with probability Erlang CDF at 4
    finals = result.final_states().set_index("state")["probability"]
    p_final = sum(v for s, v in finals.items() if "C" in s.split(" -- "))
    e_final = erlang(4.0)
    assert abs(p_final - e_final) <= 4 * math.sqrt(e_final * (1 - e_final) / N) + 1e-3


# ----------------------------------------------------------------------------- properties
TOGGLE_BND = """
Node A { logic = !B; rate_up = @logic ? 1 : 0; rate_down = @logic ? 0 : 1; }
Node B { logic = !A; rate_up = @logic ? 1 : 0; rate_down = @logic ? 0 : 1; }
Node C { logic = A & !C | B; rate_up = @logic ? 2 : 0; rate_down = @logic ? 0 : 0.5; }
"""


def _toggle(cfg: str = "") -> Model:
    return parse_maboss(TOGGLE_BND, cfg)[0]


def _arrays(result) -> list[np.ndarray]:
    out = [result.node_prob, result.fixed_prob]
    if result.state_statistics is not None:
        out += [result.state_statistics.probability, result.state_statistics.final_probability]
    return out


@pytest.mark.parametrize("threads", [2, 3])
def test_thread_count_does_not_change_result(threads: int) -> None:
    """Also checks the merge of the threads' tables in parts (one per thread) and the
    order of the long state table: by time, then by state, or the likeliest state first."""
    model = _toggle()
    one = simulate(model, SimulationConfig(max_time=6, time_tick=0.5, sample_count=3000, seed=11, threads=1))
    two = simulate(model, SimulationConfig(max_time=6, time_tick=0.5, sample_count=3000, seed=11, threads=threads))
    for result in (one, two):
        long = result.states()
        assert long["time"].is_monotonic_increasing
        kept = result.require_states()
        assert all(np.all(np.diff(kept.index[kept.window == w]) > 0) for w in np.unique(kept.window))
        likeliest = result.states(likeliest_first=True)
        assert likeliest["time"].is_monotonic_increasing
        assert all(group.is_monotonic_decreasing for _, group in likeliest.groupby("time")["probability"])
        pd.testing.assert_frame_equal(
            likeliest.sort_values(["time", "state"]).reset_index(drop=True),
            long.sort_values(["time", "state"]).reset_index(drop=True),
        )
    assert np.allclose(one.node_prob, two.node_prob, rtol=0, atol=1e-12)
    s1 = one.states(wide=True).sort_index(axis=1)
    s2 = two.states(wide=True).sort_index(axis=1)
    assert list(s1.columns) == list(s2.columns)
    assert np.allclose(s1.to_numpy(), s2.to_numpy(), rtol=0, atol=1e-12)
    f1 = one.final_states().set_index("state")["probability"].sort_index()
    f2 = two.final_states().set_index("state")["probability"].sort_index()
    assert list(f1.index) == list(f2.index)
    assert np.allclose(f1.to_numpy(), f2.to_numpy(), rtol=0, atol=1e-12)


def test_a_fixed_thread_count_is_bitwise_reproducible() -> None:
    """Across thread counts tables agree within 1e-12 (above); with one count, exactly."""
    config = SimulationConfig(max_time=6, time_tick=0.5, sample_count=3000, seed=11, threads=2)
    one, two = simulate(_toggle(), config), simulate(_toggle(), config)
    assert np.array_equal(one.node_prob, two.node_prob)
    assert one.states().equals(two.states())


def _free_nodes(n: int) -> Model:
    text = "\n".join(f"Node N{i} {{ logic = !N{i}; rate_up = 1; rate_down = 1; }}" for i in range(n))
    return parse_maboss(text, "")[0]


@pytest.mark.parametrize("max_states", [100, 5000, 20000])
def test_bounded_state_tables_report_overflow_and_keep_totals(max_states: int) -> None:
    """Far more (state, window) entries than the bound: the run ends, the time that found no
    room is reported as overflow, and kept states plus overflow still add up to 1."""
    config = SimulationConfig(max_time=5, time_tick=1, sample_count=20000, seed=3, threads=2, max_states=max_states)
    with pytest.warns(Her2simWarning, match="state statistics are incomplete"):
        result = simulate(_free_nodes(20), config)
    assert result.state_overflow > 0.05
    kept = result.require_states()
    assert len(kept.keys) <= 2 * max_states  # each of the two threads keeps at most max_states entries
    per_window = np.bincount(kept.window, weights=kept.probability, minlength=5)
    assert np.allclose(per_window + result.overflow_prob, 1.0, atol=1e-9)
    assert kept.final_probability.sum() + result.meta["final_overflow"] == pytest.approx(1.0)


def test_a_truncated_state_table_says_so_in_its_own_rows() -> None:
    """What found no room is the '<not kept>' row of each table, which then sums to one, and a
    warning says so: a truncated table is never passed off as the state distribution."""
    config = SimulationConfig(max_time=5, time_tick=1, sample_count=5000, seed=3, threads=2, max_states=500)
    with pytest.warns(Her2simWarning, match="state statistics are incomplete"):
        result = simulate(_free_nodes(16), config)
    long = result.states()
    assert np.allclose(long.groupby("time")["probability"].sum(), 1.0)
    last_rows = long.groupby("time").tail(1)
    assert (last_rows["state"] == NOT_KEPT).all()
    assert np.allclose(last_rows["probability"], result.overflow_prob)
    wide = result.states(wide=True)
    assert np.allclose(wide.sum(axis=1), 1.0) and np.allclose(wide[NOT_KEPT], result.overflow_prob)
    finals = result.final_states().set_index("state")["probability"]
    assert finals.sum() == pytest.approx(1.0) and finals[NOT_KEPT] == result.meta["final_overflow"]


@pytest.mark.parametrize("n", [20, 60])
def test_state_tables_add_up_to_the_node_probabilities(n: int) -> None:
    """Each node's probability in a window is the summed probability of the states it is on in:
    with 20 nodes the window is packed beside the state in one key word, with 60 it needs a
    key word of its own (see ``_stays.key_layout``); both read out the same way."""
    config = SimulationConfig(max_time=5, time_tick=0.5, sample_count=2000, seed=4, threads=2)
    result = simulate(_free_nodes(n), config)
    kept = result.require_states()
    k = np.arange(n)
    on = (kept.keys[:, k // 64] >> (k % 64).astype(np.uint64)) & np.uint64(1)
    from_states = np.zeros((len(result.times), n))
    np.add.at(from_states, kept.window, kept.probability[:, None] * on[kept.index])
    assert np.allclose(from_states, result.node_prob, atol=1e-9)


def test_state_tables_grow_without_overflow_below_the_bound() -> None:
    config = SimulationConfig(max_time=5, time_tick=1, sample_count=20000, seed=3, threads=2)
    result = simulate(_free_nodes(20), config)
    assert result.state_overflow == 0.0
    kept = result.require_states()
    assert len(kept.keys) > 100_000  # the tables grew far past their first size
    wide = np.bincount(kept.window, weights=kept.probability, minlength=5)
    assert np.allclose(wide, 1.0, atol=1e-9)


def test_different_seeds_differ() -> None:
    model = _toggle()
    a = simulate(model, SimulationConfig(max_time=6, time_tick=0.5, sample_count=3000, seed=1, threads=1))
    b = simulate(model, SimulationConfig(max_time=6, time_tick=0.5, sample_count=3000, seed=2, threads=1))
    assert not np.allclose(a.node_prob, b.node_prob, rtol=0, atol=1e-12)


def test_node_probabilities_are_state_marginals_and_states_sum_to_one() -> None:
    model = _toggle()
    result = simulate(model, SimulationConfig(max_time=5, time_tick=0.5, sample_count=4000, seed=5, threads=2))
    wide = result.states(wide=True)
    assert np.allclose(wide.sum(axis=1).to_numpy(), 1.0, atol=1e-9)
    nodes = result.nodes()
    for name in nodes.columns:
        cols = [c for c in wide.columns if name in c.split(" -- ")]
        assert np.allclose(wide[cols].sum(axis=1).to_numpy(), nodes[name].to_numpy(), atol=1e-9), name


def test_fixed_points_of_a_toggle_switch() -> None:
    model, _ = parse_maboss(
        """
        Node A { logic = !B; rate_up = @logic ? 1 : 0; rate_down = @logic ? 0 : 1; }
        Node B { logic = !A; rate_up = @logic ? 1 : 0; rate_down = @logic ? 0 : 1; }
        """,
        "A.istate = 0.5; B.istate = 0.5;",
    )
    result = simulate(model, SimulationConfig(max_time=60, time_tick=10, sample_count=4000, seed=9, threads=2))
    fp = result.fixed_points()
    assert set(fp["state"]) <= {"A", "B"}
    assert fp["probability"].sum() == pytest.approx(1.0, abs=1e-12)
    for _, row in fp.iterrows():
        assert row["probability"] == pytest.approx(0.5, abs=0.05)


def test_final_states_count_trajectories_ended_at_fixed_points_once_with_internal_nodes_masked() -> None:
    """The kernel counts a trajectory that ends at a fixed point in the fixed-point table
    only; the merge adds those to the final states with the internal nodes masked out.
    Half the trajectories (A on) end at one of two fixed points that differ only in the
    internal G, so they are one final state; the other half oscillate in O to the end."""
    model, _ = parse_maboss(
        """
        Node A { rate_up = 0; rate_down = 0; }
        Node G { rate_up = 0; rate_down = 0; }
        Node H { logic = A; rate_up = @logic ? 1 : 0; rate_down = @logic ? 0 : 1; }
        Node O { rate_up = A ? 0 : 1; rate_down = 1; }
        """,
        "[A].istate = 0.5 [0], 0.5 [1]; [G].istate = 0.5 [0], 0.5 [1]; H.istate = 0; O.istate = 0;"
        " G.is_internal = 1; H.is_internal = 1;",
    )
    n = 4000
    result = simulate(model, SimulationConfig(max_time=40, time_tick=10, sample_count=n, seed=5, threads=2))
    fixed = result.fixed_points()
    assert set(fixed["state"]) == {"A -- H", "A -- G -- H"}
    kept = result.require_states()
    assert len(kept.final_keys) == 3  # one row per final state: A, O and none, whatever G and H
    finals = result.final_states().set_index("state")["probability"]
    assert set(finals.index) == {"A", "O", "<nil>"}
    assert finals["A"] == pytest.approx(fixed["probability"].sum(), abs=1e-12)
    assert finals["A"] == pytest.approx(0.5, abs=4 * math.sqrt(0.25 / n))
    assert finals.sum() == pytest.approx(1.0, abs=1e-12)


def test_batch_with_fixed_node() -> None:
    model = _toggle()
    config = SimulationConfig(max_time=5, time_tick=1, sample_count=2000, seed=4, threads=2)
    on, off, plain = simulate_batch(
        model,
        [Scenario("on", fixed={"A": True}), Scenario("off", fixed={"A": False}), Scenario("plain")],
        config,
    )
    assert np.all(on.nodes()["A"].to_numpy() == 1.0)
    assert np.all(off.nodes()["A"].to_numpy() == 0.0)
    assert on.scenario == Scenario("on", fixed={"A": True})
    # A on forces B off in the toggle switch eventually
    assert on.nodes()["B"].iloc[-1] < 0.05
    assert 0.0 < plain.nodes()["A"].iloc[-1] < 1.0


def test_a_batch_of_many_scenarios_equals_each_run_alone() -> None:
    """A batch with several scenarios per thread runs each on one thread: same numbers (up to
    the order of sums), same order, and each scenario's own state tables."""
    model = _toggle()
    config = SimulationConfig(max_time=5, time_tick=1, sample_count=3000, seed=4, threads=2)
    scenarios = [Scenario(f"k{k}", rate_scale={"A": (0.5 + k / 4, 1.0)}) for k in range(6)]
    batch = simulate_batch(model, scenarios, config, states=True)
    assert [r.scenario for r in batch] == scenarios
    for scenario, result in zip(scenarios, batch, strict=True):
        alone = simulate(model, config, scenario)
        np.testing.assert_allclose(result.node_prob, alone.node_prob, rtol=0, atol=1e-12)
        np.testing.assert_allclose(result.late_sums, alone.late_sums, rtol=1e-12)
        pd.testing.assert_frame_equal(result.states(), alone.states(), check_exact=False, rtol=1e-12)
    assert batch[0].node_prob[-1, 0] != batch[-1].node_prob[-1, 0]  # the scenarios differ


def test_a_failing_scenario_in_a_large_batch_raises_the_error() -> None:
    model, _ = parse_maboss("Node A { rate_up = $k; rate_down = 1; }", "$k = 1; A.istate = 0;")
    config = SimulationConfig(max_time=1e6, time_tick=1e5, sample_count=10, threads=2, max_flips=1e5)
    quiet = Scenario(parameters={"k": 1e-9})
    with pytest.raises(ConfigError, match="max_flips"):
        simulate_batch(model, [quiet] * 3 + [Scenario(parameters={"k": 1.0})] + [quiet] * 4, config)


def test_negative_parameter_rate_raises_before_simulating() -> None:
    model, _ = parse_maboss("Node A { rate_up = $k; rate_down = 1; }", "$k = -1; A.istate = 0;")
    calls = []
    with pytest.raises(ConfigError):
        simulate(model, SimulationConfig(max_time=1, sample_count=10), progress=calls.append)
    assert calls == []
    good, _ = parse_maboss("Node A { rate_up = $k; rate_down = 1; }", "$k = 1; A.istate = 0;")
    with pytest.raises(ConfigError):
        simulate(good, SimulationConfig(max_time=1, sample_count=10), Scenario(parameters={"k": -2.0}))


@pytest.mark.parametrize(
    "kwargs", [{"max_time": 0}, {"sample_count": 0}, {"time_tick": 0}, {"max_time": 1, "time_tick": 2}]
)
def test_bad_config_raises(kwargs: dict) -> None:
    with pytest.raises(ConfigError):
        SimulationConfig(**kwargs)


def test_unknown_names_in_scenario_raise() -> None:
    model = _toggle()
    for scenario in (
        Scenario(fixed={"Nope": True}),
        Scenario(initial={"Nope": 0.5}),
        Scenario(rate_scale={"Nope": (1.0, 1.0)}),
        Scenario(parameters={"nope": 1.0}),
    ):
        with pytest.raises(UnknownNameError):
            simulate_batch(model, [Scenario(), scenario], SimulationConfig(max_time=1, sample_count=10))


# ----------------------------------------------------------------------------- kernel tables
ALL_NAMES = ("A", "B", "C", "D", "E", "F")


@st.composite
def small_models(draw) -> Model:
    n = draw(st.integers(3, 6))
    names = ALL_NAMES[:n]
    params = {"u": draw(st.sampled_from([0.0, 0.5, 1.0, 3.0])), "v": draw(st.sampled_from([0.25, 2.0]))}
    nodes = []
    for name in names:
        rule = draw(boolean_trees(names=names))
        kind = draw(st.integers(0, 3))
        if kind == 0:
            nodes.append(Node(name, rule))
        elif kind == 1:
            test = draw(boolean_trees(names=names))
            up = Cond(test, BinOp("*", Param("u"), Const(2.0)), Param("v"))
            down = Cond(rule, Const(0.0), BinOp("+", Param("v"), Var(draw(st.sampled_from(names)))))
            nodes.append(Node(name, rule, up, down))
        elif kind == 2:
            up = Cond(rule, Param("u"), Const(0.0))
            down = Cond(Not(rule), BinOp("*", Param("v"), Const(1.5)), Const(0.0))
            nodes.append(Node(name, rule, up, down))
        else:
            nodes.append(Node(name, None))  # an input
    return Model(tuple(nodes), parameters=tuple(params.items()))


@settings(max_examples=50, deadline=None)
@given(model=small_models(), data=st.data())
def test_kernel_rate_tables_match_reference(model: Model, data: st.DataObject) -> None:
    compiled = compile_model(model)
    s = compiled.structure
    arrays = runtime_arrays(s)
    params = model.parameter_values
    n = len(model)
    out = np.zeros(n)
    for _ in range(8):
        bits = data.draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
        x = np.array(bits, dtype=np.uint8)
        compiled.kernel.rates_of(x, arrays.start.rate_table, s.tab_ptr, s.reg_ptr, s.reg_idx, s.root, s.tests, out)
        state = dict(zip(model.names, bits, strict=True))
        for k, node in enumerate(model.nodes):
            up, down = node.resolved_rates()
            expected = evaluate(down if bits[k] else up, state, params)
            assert out[k] == pytest.approx(expected, abs=1e-12), (node, state)


def test_state_names_match_their_definition_across_words_and_masks() -> None:
    from her2sim.engine.result import state_names

    names = tuple(f"N{i}" for i in range(70))  # two 64-bit words
    rng = np.random.default_rng(0)
    keys = rng.integers(0, 2**63, (500, 2), dtype=np.uint64)
    keys[:, 1] &= np.uint64(2**6 - 1)
    keys[0] = 0
    include = rng.random(70) < 0.8

    def by_definition(row: np.ndarray) -> str:
        on = [n for k, n in enumerate(names) if include[k] and int(row[k // 64]) >> (k % 64) & 1]
        return " -- ".join(on) or "<nil>"

    assert state_names(keys, names, include) == [by_definition(row) for row in keys]
    assert state_names(keys[:1], names)[0] == "<nil>"


def test_state_names_keep_non_ascii_node_names_and_name_states_of_hidden_nodes_nil() -> None:
    from her2sim.engine.result import state_names

    names = ("Akt", "\u03b2-catenin", "N3")
    keys = np.array([[0b011], [0b110], [0b000]], dtype=np.uint64)
    assert state_names(keys, names) == ["Akt -- \u03b2-catenin", "\u03b2-catenin -- N3", "<nil>"]
    assert state_names(keys, names, np.zeros(3, dtype=bool)) == ["<nil>"] * 3


def test_state_table_categories_are_the_distinct_names_of_the_states_visited() -> None:
    """The state column is built without pandas re-checking that its categories are
    distinct (they are by construction); check that they are, and that the column reads
    as the categorical pandas' checked constructor would build."""
    import pandas as pd

    result = simulate(_toggle(), SimulationConfig(max_time=4, time_tick=1, sample_count=500, seed=2, threads=2))
    column = result.states()["state"]
    categories = column.cat.categories
    assert categories.is_unique
    assert set(categories) == set(column.astype(str))
    checked = pd.Categorical.from_codes(column.cat.codes, categories=list(categories))
    assert checked.tolist() == column.tolist()


@pytest.mark.parametrize(("chunk_rows", "max_states"), [(1 << 20, None), (7, None), (7, 20), (1 << 20, 1)])
@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_saved_state_table_reads_back_as_states_returns_it(
    tmp_path, monkeypatch, chunk_rows: int, max_states: int | None, suffix: str
) -> None:
    """The state table is named and written a chunk of rows at a time; whatever the chunks,
    and with '<not kept>' rows (a few states kept, or none), the file holds the rows of
    ``states()``."""
    import pandas as pd

    from her2sim.engine import output

    monkeypatch.setattr(output, "CHUNK_ROWS", chunk_rows)
    config = SimulationConfig(max_time=4, time_tick=1, sample_count=500, seed=2, threads=1, max_states=max_states)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Her2simWarning)
        result = simulate(_toggle(), config)
    result.save_states(tmp_path / f"run.states{suffix}")
    back = (pd.read_parquet if suffix == ".parquet" else pd.read_csv)(tmp_path / f"run.states{suffix}")
    expected = result.states()
    assert list(back.columns) == ["time", "state", "probability"]
    assert back["state"].astype(str).tolist() == expected["state"].astype(str).tolist()
    assert np.allclose(back["time"], expected["time"]) and np.allclose(back["probability"], expected["probability"])
    assert (NOT_KEPT in back["state"].tolist()) == (max_states is not None)


@pytest.mark.parametrize("n", [0, 1, 63, 64, 65, 130])
def test_pack_flags_sets_bit_k_mod_64_of_word_k_div_64(n: int) -> None:
    from her2sim.engine.compile import pack_flags

    flags = np.random.default_rng(n).random(n) < 0.5
    words = pack_flags(flags)
    assert words.dtype == np.uint64 and words.shape == ((n + 63) // 64,)
    assert [bool(int(words[k // 64]) >> (k % 64) & 1) for k in range(n)] == flags.tolist()
