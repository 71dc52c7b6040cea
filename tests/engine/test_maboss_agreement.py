"""her2sim agrees with MaBoSS (cmaboss) node by node and window by window."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest

from her2sim.engine.simulate import simulate
from her2sim.formats import read_model
from her2sim.formats.maboss import parse_maboss, write_maboss
from her2sim.model.config import SimulationConfig
from her2sim.model.network import Model
from tests.conftest import shared_models

N = 5000
CONFIG = SimulationConfig(max_time=10, time_tick=1, sample_count=N, seed=1, threads=2)

INLINE_BND = """
Node A { logic = !C; rate_up = $u * (@logic ? 2 : 0.5); rate_down = @logic ? 0 : $d; }
Node B { logic = A | C; rate_up = @logic ? $u : 0; rate_down = @logic ? 0.1 : 1.5; }
Node C { logic = A & B; rate_up = @logic ? 3 : 0; rate_down = @logic ? 0 : 0.7 * $d; }
Node D { logic = B & !C; rate_up = @logic ? 1 : 0.05; rate_down = @logic ? 0.2 : 1; }
"""
INLINE_CFG = "$u = 0.8; $d = 0.6; A.istate = 0; B.istate = 0.3; C.istate = 0; D.istate = 1;"


def _maboss(model: Model, tmp_path: Path) -> tuple[np.ndarray, list[str]]:
    module = importlib.import_module("cmaboss_128n" if len(model) > 64 else "cmaboss")
    bnd, cfg = write_maboss(model, CONFIG)
    bnd_path, cfg_path = tmp_path / "model.bnd", tmp_path / "model.cfg"
    bnd_path.write_text(bnd)
    cfg_path.write_text(cfg)
    result = module.MaBoSSSim(network=str(bnd_path), config=str(cfg_path)).run()
    probs, times, names = result.get_nodes_probtraj()[:3]
    assert len(times) == CONFIG.n_windows
    return np.asarray(probs), list(names)


def _compare(model: Model, tmp_path: Path) -> None:
    mine = simulate(model, CONFIG, states=False).nodes()
    theirs, names = _maboss(model, tmp_path)
    assert mine.shape[0] == theirs.shape[0]
    failures = []
    for j, name in enumerate(names):
        p_m = theirs[:, j]
        p_h = mine[name].to_numpy() if name in mine.columns else np.zeros_like(p_m)
        se = np.sqrt((p_h * (1 - p_h) + p_m * (1 - p_m)) / N)
        bad = np.abs(p_h - p_m) > 4 * se + 1e-3
        if bad.any():
            failures.append((name, np.flatnonzero(bad).tolist(), p_h[bad].round(4), p_m[bad].round(4)))
    # nodes MaBoSS never reports active (absent from its table) must be off in ours too
    for name in set(mine.columns) - set(names):
        if mine[name].max() > 1e-3:
            failures.append((name, "missing in MaBoSS", mine[name].max(), 0.0))
    assert not failures, failures


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
