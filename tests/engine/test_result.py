"""Simulation results: the optional state statistics, misuse errors, provenance, save and load."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from her2sim.engine.provenance import model_hash
from her2sim.engine.result import NOT_KEPT, SimulationResult
from her2sim.engine.result_files import MANIFEST
from her2sim.engine.scenario import Scenario
from her2sim.engine.simulate import simulate, simulate_batch
from her2sim.errors import ConfigError, Her2simError, Her2simWarning, ModelFormatError
from her2sim.formats.maboss import parse_maboss
from her2sim.model.config import SimulationConfig
from her2sim.model.network import Model

BND = """
Node A { logic = !B; rate_up = @logic ? $k : 0; rate_down = @logic ? 0 : 1; }
Node B { logic = !A; rate_up = @logic ? 1 : 0; rate_down = @logic ? 0 : 1; }
Node C { logic = A | B; rate_up = @logic ? 2 : 0; rate_down = @logic ? 0 : 0.5; }
"""
CFG = "$k = 1; C.is_internal = 1;"
CONFIG = SimulationConfig(max_time=4, time_tick=0.5, sample_count=300, seed=5, threads=1)
SCENARIO = Scenario("mutant", parameters={"k": 2.0}, rate_scale={"B": (0.5, 1.0)}, fixed={"C": True},
                    initial={"A": 0.25})  # fmt: skip


def _model() -> Model:
    return parse_maboss(BND, CFG, bnd_source="toy.bnd")[0]


@pytest.fixture(scope="module")
def with_states() -> SimulationResult:
    return simulate(_model(), CONFIG, SCENARIO)


@pytest.fixture(scope="module")
def without_states() -> SimulationResult:
    return simulate(_model(), CONFIG, states=False)


def _same(one: SimulationResult, other: SimulationResult) -> None:
    """Every table and every recorded fact of ``one`` equals ``other``'s."""
    assert one.node_names == other.node_names and one.scenario == other.scenario and one.meta == other.meta
    for table in ("nodes", "node_errors", "fixed_points", "late_nodes", "not_kept"):
        left, right = getattr(one, table)(), getattr(other, table)()
        (pd.testing.assert_series_equal if isinstance(left, pd.Series) else pd.testing.assert_frame_equal)(left, right)
    pd.testing.assert_frame_equal(one.nodes(include_internal=True), other.nodes(include_internal=True))
    assert (one.state_statistics is None) == (other.state_statistics is None)
    if one.state_statistics is not None:
        for wide in (False, True):
            pd.testing.assert_frame_equal(one.states(wide=wide), other.states(wide=wide))
        pd.testing.assert_frame_equal(one.final_states(), other.final_states())
        pd.testing.assert_series_equal(one.entropy(), other.entropy())


# ------------------------------------------------------------------ state statistics
def test_state_statistics_are_one_object_present_only_when_kept(
    with_states: SimulationResult, without_states: SimulationResult
) -> None:
    kept = with_states.require_states()
    assert kept is with_states.state_statistics
    assert len(kept.index) == len(kept.window) == len(kept.probability)
    assert np.allclose(np.bincount(kept.window, weights=kept.probability), 1.0)
    assert kept.final_probability.sum() == pytest.approx(1.0)
    assert without_states.state_statistics is None
    assert without_states.late_nodes().shape == (2, 2)  # late-time statistics are always kept


@pytest.mark.parametrize("method", ["states", "final_states", "entropy", "require_states", "plot_piechart"])
def test_asking_for_states_that_were_not_kept_says_how_to_keep_them(
    without_states: SimulationResult, method: str
) -> None:
    with pytest.raises(ConfigError, match=r"kept no state statistics: simulate with states=True \(--states"):
        getattr(without_states, method)()


def test_state_names_larger_than_free_memory_are_refused_before_any_is_written(
    with_states: SimulationResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    from her2sim.engine import _names

    monkeypatch.setattr(_names, "available_memory", lambda: 16)  # bytes: fewer than the names take
    with pytest.raises(ConfigError, match=r"the names of [\d,]+ states take .*save_states") as info:
        with_states.states()
    assert "\n" not in str(info.value)
    monkeypatch.setattr(_names, "available_memory", lambda: None)  # unknown: nothing refused
    assert len(with_states.states()) > 0


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_an_error_naming_a_chunk_reaches_the_writer_and_leaves_no_file(
    with_states: SimulationResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    """Chunks are named in a second thread while the writer encodes the one before: an error
    there is raised by ``save_states`` itself, nothing is left behind and the thread ends."""
    import threading

    from her2sim.engine import _names, output

    monkeypatch.setattr(output, "CHUNK_ROWS", 4)  # many chunks
    calls = []
    original = _names.state_name_array

    def failing(*args: object) -> object:
        calls.append(1)
        if len(calls) == 3:
            raise ConfigError("naming failed")
        return original(*args)

    monkeypatch.setattr(_names, "state_name_array", failing)
    with pytest.raises(ConfigError, match="naming failed"):
        with_states.save_states(tmp_path / f"s{suffix}")
    assert not list(tmp_path.iterdir())
    assert not any(t.name == "her2sim-state-names" for t in threading.enumerate())


def test_a_consumer_that_stops_ends_the_naming_thread(
    with_states: SimulationResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from her2sim.engine import output

    monkeypatch.setattr(output, "CHUNK_ROWS", 4)
    chunks = output._chunks(with_states, output._state_rows(with_states))
    ahead = output._ahead(chunks)
    next(ahead)
    ahead.close()  # the consumer gives up after one chunk (as a write that raises does)
    assert not any(t.name == "her2sim-state-names" for t in threading.enumerate())


def test_saving_states_that_were_not_kept_fails_before_writing(without_states: SimulationResult, tmp_path) -> None:
    with pytest.raises(ConfigError, match="states=True"):
        without_states.save_states(tmp_path / "s.parquet")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("value", [-0.1, 1.5, float("nan"), "0.1", True, None])
def test_min_probability_must_be_a_fraction(with_states: SimulationResult, value: object) -> None:
    with pytest.raises(ConfigError, match=r"min_probability must be a number in \[0, 1\], got .*: pass 0.01"):
        with_states.states(min_probability=value)  # type: ignore[arg-type]


def test_min_probability_accepts_numpy_numbers(with_states: SimulationResult) -> None:
    rows = with_states.states(min_probability=np.float32(0.2))
    assert (rows["probability"] > 0.2).all()


PIE_MISUSE = [
    ({"min_share": 2}, "min_share must be a number in"),
    ({"max_slices": 0}, "max_slices must be a whole number >= 1"),
    ({"max_slices": 2.5}, "max_slices must be a whole number"),
]


@pytest.mark.parametrize(("kwargs", "message"), PIE_MISUSE)
def test_pie_arguments_are_checked(with_states: SimulationResult, kwargs: dict, message: str) -> None:
    for plot in (with_states.plot_piechart, with_states.plot_fixpoint):
        with pytest.raises(ConfigError, match=message):
            plot(**kwargs)


def test_a_node_name_given_as_a_string_is_refused_with_the_fix(with_states: SimulationResult) -> None:
    with pytest.raises(ConfigError, match=r"not the string 'A': pass \['A'\]"):
        with_states.plot_trajectory("A")  # type: ignore[arg-type]


def test_misuse_errors_are_her2sim_errors_on_one_line(without_states: SimulationResult) -> None:
    with pytest.raises(Her2simError) as caught:
        without_states.states()
    assert "\n" not in str(caught.value)


# ------------------------------------------------------------------ provenance
def test_result_records_the_model_hash_and_the_scenario(with_states: SimulationResult) -> None:
    assert with_states.meta["model_hash"] == model_hash(_model())
    assert with_states.scenario == SCENARIO


def test_model_hash_follows_content_not_origin() -> None:
    model = _model()
    elsewhere = parse_maboss(BND, CFG, bnd_source="elsewhere/toy.bnd")[0]
    assert model.nodes[0].origin != elsewhere.nodes[0].origin
    assert model_hash(model) == model_hash(elsewhere)
    assert model_hash(model) != model_hash(model.with_fixed("A", True))
    assert len(model_hash(model)) == 64


def test_a_run_without_a_scenario_records_an_empty_one(without_states: SimulationResult) -> None:
    assert without_states.scenario == Scenario()


def test_a_batch_records_each_scenario() -> None:
    scenarios = [Scenario("on", fixed={"A": True}), Scenario("off", fixed={"A": False})]
    results = simulate_batch(_model(), scenarios, CONFIG)
    assert [r.scenario for r in results] == scenarios


def test_node_table_metadata_names_the_model_hash_and_the_scenario(with_states: SimulationResult, tmp_path) -> None:
    with_states.save_nodes(tmp_path / "nodes.csv")
    meta = json.loads((tmp_path / "nodes.meta.json").read_text())
    assert meta["model_hash"] == with_states.meta["model_hash"]
    assert meta["scenario"]["fixed"] == {"C": True} and meta["scenario"]["rate_scale"] == {"B": [0.5, 1.0]}


# ------------------------------------------------------------------ save and load
@pytest.mark.parametrize("fixture", ["with_states", "without_states"])
def test_a_saved_result_loads_back_equal(request: pytest.FixtureRequest, fixture: str, tmp_path: Path) -> None:
    result = request.getfixturevalue(fixture)
    result.save(tmp_path / "run")
    _same(SimulationResult.load(tmp_path / "run"), result)


def test_a_result_with_states_not_kept_and_many_words_loads_back(tmp_path: Path) -> None:
    """70 nodes pack into two words; a small max_states leaves '<not kept>' rows."""
    text = "\n".join(f"Node N{i} {{ logic = !N{i}; rate_up = 1; rate_down = 1; }}" for i in range(70))
    config = SimulationConfig(max_time=3, time_tick=1, sample_count=200, seed=2, threads=1, max_states=50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Her2simWarning)
        result = simulate(parse_maboss(text, "")[0], config)
    assert NOT_KEPT in result.states()["state"].tolist()
    result.save(tmp_path / "run")
    back = SimulationResult.load(tmp_path / "run")
    _same(back, result)
    assert back.require_states().keys.shape[1] == 2


def test_saving_again_replaces_the_result_and_its_state_tables(
    with_states: SimulationResult, without_states: SimulationResult, tmp_path: Path
) -> None:
    with_states.save(tmp_path / "run")
    without_states.save(tmp_path / "run")
    assert not (tmp_path / "run" / "states.parquet").exists()
    _same(SimulationResult.load(tmp_path / "run"), without_states)


def test_saving_into_a_foreign_directory_or_a_file_is_refused(with_states: SimulationResult, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match=r"holds 'notes\.txt', so it is not a saved result: save into a new"):
        with_states.save(tmp_path)
    with pytest.raises(ConfigError, match="is a file, and a result is saved as a directory"):
        with_states.save(tmp_path / "notes.txt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_an_interrupted_save_is_refused_by_load(with_states: SimulationResult, tmp_path: Path) -> None:
    with_states.save(tmp_path / "run")
    (tmp_path / "run" / MANIFEST).unlink()
    with pytest.raises(ModelFormatError, match=r"no manifest\.json: not a saved result, or its save did not finish"):
        SimulationResult.load(tmp_path / "run")


def test_tables_from_another_save_are_refused(
    with_states: SimulationResult, without_states: SimulationResult, tmp_path: Path
) -> None:
    with_states.save(tmp_path / "a")
    simulate(_model(), CONFIG.with_(max_time=2), states=False).save(tmp_path / "b")
    (tmp_path / "b" / "windows.parquet").replace(tmp_path / "a" / "windows.parquet")
    with pytest.raises(ModelFormatError, match=r"windows.parquet: 4 rows where manifest.json says 8 \(the tables"):
        SimulationResult.load(tmp_path / "a")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: "{", r"manifest.json:1:2: not valid JSON"),
        (lambda m: json.dumps({**m, "format": "other"}), "not the manifest of a saved result"),
        (lambda m: json.dumps({**m, "version": 99}), "format version 99, where this her2sim reads 1 to 1"),
        (lambda m: json.dumps({k: v for k, v in m.items() if k != "scenario"}), "incomplete saved result"),
    ],
)
def test_a_damaged_manifest_is_named_with_the_fix(
    with_states: SimulationResult, tmp_path: Path, edit, message: str
) -> None:
    with_states.save(tmp_path / "run")
    manifest = tmp_path / "run" / MANIFEST
    manifest.write_text(edit(json.loads(manifest.read_text())))
    with pytest.raises(ModelFormatError, match=message):
        SimulationResult.load(tmp_path / "run")


def test_a_damaged_table_is_named(with_states: SimulationResult, tmp_path: Path) -> None:
    with_states.save(tmp_path / "run")
    (tmp_path / "run" / "state_rows.parquet").write_bytes(b"not parquet")
    with pytest.raises(ModelFormatError, match=r"state_rows.parquet: cannot read: .*\(save the result again"):
        SimulationResult.load(tmp_path / "run")
