"""her2sim agrees with MaBoSS (cmaboss): node and state probabilities in every window, fixed points."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from her2sim.engine.simulate import simulate
from her2sim.formats import read_model
from her2sim.formats.maboss import parse_maboss, write_maboss
from her2sim.model.config import SimulationConfig
from her2sim.model.network import Model
from tests.conftest import DATA, shared_models

N = 5000
CONFIG = SimulationConfig(max_time=10, time_tick=1, sample_count=N, seed=1, threads=2)

INLINE_BND = """
Node A { logic = !C; rate_up = $u * (@logic ? 2 : 0.5); rate_down = @logic ? 0 : $d; }
Node B { logic = A | C; rate_up = @logic ? $u : 0; rate_down = @logic ? 0.1 : 1.5; }
Node C { logic = A & B; rate_up = @logic ? 3 : 0; rate_down = @logic ? 0 : 0.7 * $d; }
Node D { logic = B & !C; rate_up = @logic ? 1 : 0.05; rate_down = @logic ? 0.2 : 1; }
"""
INLINE_CFG = "$u = 0.8; $d = 0.6; A.istate = 0; B.istate = 0.3; C.istate = 0; D.istate = 1;"


def _maboss(model: Model, tmp_path: Path, config: SimulationConfig = CONFIG):
    cap = next(c for c in (64, 128, 256, 512, 1024) if len(model) <= c)
    module = importlib.import_module("cmaboss" if cap == 64 else f"cmaboss_{cap}n")
    bnd, cfg = write_maboss(model, config)
    bnd_path, cfg_path = tmp_path / "model.bnd", tmp_path / "model.cfg"
    bnd_path.write_text(bnd)
    cfg_path.write_text(cfg)
    result = module.MaBoSSSim(network=str(bnd_path), config=str(cfg_path)).run()
    times = result.get_nodes_probtraj()[1]
    assert len(times) == config.n_windows
    return result


def _state_key(name: str) -> frozenset[str]:
    """A state named by its active nodes, in whatever order the simulator lists them."""
    return frozenset() if name == "<nil>" else frozenset(name.split(" -- "))


def _disagreements(mine: np.ndarray, theirs: np.ndarray, label: str, n: int = N) -> list[tuple]:
    # a probability summed to 1 + 1e-16 must not make the variance negative (and the test pass as NaN)
    se = np.sqrt(np.clip(mine * (1 - mine) + theirs * (1 - theirs), 0, None) / n)
    bad = np.abs(mine - theirs) > 4 * se + 1e-3
    return [(label, np.flatnonzero(bad).tolist(), mine[bad].round(4), theirs[bad].round(4))] if bad.any() else []


def _node_failures(mine: pd.DataFrame, maboss, n: int = N) -> list[tuple]:
    """Node probabilities that differ by more than 4 combined standard errors in a window."""
    failures = []
    theirs, _, names = maboss.get_nodes_probtraj()[:3]
    theirs = np.asarray(theirs)
    for j, name in enumerate(names):
        p_h = mine[name].to_numpy() if name in mine.columns else np.zeros(len(theirs))
        failures += _disagreements(p_h, theirs[:, j], f"node {name}", n)
    # nodes MaBoSS never reports active (absent from its table) must be off in ours too
    for name in set(mine.columns) - set(names):
        if mine[name].max() > 1e-3:
            failures.append((name, "missing in MaBoSS", mine[name].max(), 0.0))
    return failures


def _compare(model: Model, tmp_path: Path) -> None:
    """Every node and state probability in every window, and every fixed point, agree."""
    result = simulate(model, CONFIG)
    maboss = _maboss(model, tmp_path)
    failures = _node_failures(result.nodes(), maboss)

    # a state below 1e-3 in every window on both sides cannot exceed the tolerance: skip those
    windows = {t: w for w, t in enumerate(result.times)}
    mine_by_key: dict[frozenset[str], np.ndarray] = {}
    for row in result.states(min_probability=1e-4).itertuples():
        mine_by_key.setdefault(_state_key(row.state), np.zeros(CONFIG.n_windows))[windows[row.time]] = row.probability
    state_probs, _, state_names = maboss.get_probtraj()[:3]
    state_probs = np.asarray(state_probs)
    visible = np.flatnonzero(state_probs.max(axis=0) >= 1e-3)
    theirs_by_key = {_state_key(state_names[j]): state_probs[:, j] for j in visible}
    mine_by_key = {k: v for k, v in mine_by_key.items() if v.max() >= 1e-3 or k in theirs_by_key}
    zeros = np.zeros(CONFIG.n_windows)
    for key in set(mine_by_key) | set(theirs_by_key):
        failures += _disagreements(mine_by_key.get(key, zeros), theirs_by_key.get(key, zeros), f"state {sorted(key)}")

    my_fixed = {_state_key(r.state): r.probability for r in result.fixed_points().itertuples()}
    their_fixed = {_state_key(name): p for p, name in maboss.get_fp_table().values()}
    for key in set(my_fixed) | set(their_fixed):
        failures += _disagreements(
            np.array([my_fixed.get(key, 0.0)]), np.array([their_fixed.get(key, 0.0)]), f"fixed point {sorted(key)}"
        )
    assert not failures, failures[:10]


def test_inline_model_with_rates_and_parameters(tmp_path: Path) -> None:
    model, _ = parse_maboss(INLINE_BND, INLINE_CFG)
    _compare(model, tmp_path)


def _shared(stem: str, slow: bool = False):
    files = shared_models(f"{stem}_*.bnet")
    marks = [pytest.mark.slow] if slow else []
    if not files:
        marks.append(pytest.mark.skip(reason="../shared/models is not present"))
        return pytest.param(None, marks=marks, id=stem)
    return pytest.param(files[0], marks=marks, id=stem)


@pytest.mark.parametrize(
    "path",
    [
        _shared("bbm_096"),
        _shared("bbm_033"),
        _shared("bbm_035"),
        _shared("bbm_018"),
        _shared("bbm_209"),
    ],
)
def test_published_models(path: Path, tmp_path: Path) -> None:
    _compare(read_model(path), tmp_path)


def test_bbm_004_whose_shc_reads_27_nodes_agrees_on_every_node(tmp_path: Path) -> None:
    """247 nodes, one of them Shannon-expanded (past the largest table); cMaBoSS takes most
    of the time, so fewer trajectories and node probabilities only (22 free inputs make
    every full state rare)."""
    model = read_model(DATA / "published" / "bbm_004_ERBB-RECEPTOR-SIGNALING.bnet")
    config = CONFIG.with_(sample_count=2000)
    result = simulate(model, config, states=False)
    failures = _node_failures(result.nodes(), _maboss(model, tmp_path, config), config.sample_count)
    assert not failures, failures[:10]
