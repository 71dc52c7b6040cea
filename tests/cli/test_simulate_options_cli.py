"""``her2sim simulate`` on a user's own model: --mutate, --param, --istate, --figures, thread_count.

Successes run in-process; the one-line errors are checked on the library function behind the
options and, for the entry point's part (one stderr line, exit code 2), through ``python -m``.
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

import pandas as pd
import pytest

from her2sim.cli._edits import edit_model
from her2sim.errors import ConfigError
from her2sim.formats.maboss import parse_maboss
from her2sim.model.network import Model
from tests.cli.test_cli import PNG_SIGNATURE, assert_one_line_error, listing, run, run_main

BND = """
Node A { logic = A; }
Node B { logic = A; rate_up = @logic ? $u_B : 0; rate_down = @logic ? 0 : $d_B; }
Node C { logic = B & !D; }
Node D { logic = D; }
"""
CFG = "$u_B = 1;\n$d_B = 1;\nA.istate = 1;\nD.istate = 0;\nmax_time = 4;\ntime_tick = 1;\nsample_count = 400;\n"


@pytest.fixture
def own(tmp_path: Path) -> Path:
    """A small MaBoSS pair with rate parameters; its .cfg sets no thread_count."""
    (tmp_path / "own.bnd").write_text(BND)
    (tmp_path / "own.cfg").write_text(CFG)
    return tmp_path / "own.bnd"


def last(csv: Path) -> pd.Series:
    return pd.read_csv(csv).set_index("time").iloc[-1]


def threads_used(csv: Path) -> int:
    return int(json.loads(csv.with_name(csv.stem + ".meta.json").read_text())["threads"])


# ------------------------------------------------------------------ success
def test_mutate_param_and_istate_change_the_run(own: Path, tmp_path: Path) -> None:
    plain, edited = tmp_path / "plain.csv", tmp_path / "edited.csv"
    run("simulate", own, "-o", plain)
    assert last(plain)["A"] == 1.0 and last(plain)["B"] > 0.5
    run("simulate", own, "-o", edited, "--mutate", "D=on", "--param", "$u_B=0", "--istate", "B=0", "--istate", "C=0")
    end = last(edited)
    assert (end["D"], end["B"], end["C"]) == (1.0, 0.0, 0.0)  # D held on, B never switches on, C off
    run("simulate", own, "-o", edited, "--mutate", "A=0", "--param", "d_B=0", "--istate", "B=1")
    assert (last(edited)["A"], last(edited)["B"]) == (0.0, 1.0)  # B starts on and, with d_B = 0, stays on


def test_mutate_accepts_on_off_in_any_case_and_1_0(own: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    for value, expected in (("ON", 1.0), ("off", 0.0), ("On", 1.0), ("1", 1.0), ("0", 0.0)):
        run("simulate", own, "-n", "50", "-o", out, "--mutate", f"D={value}")
        assert last(out)["D"] == expected, value


def test_figures_writes_the_four_pngs(own: Path, tmp_path: Path) -> None:
    folder = tmp_path / "figs"
    result = run("simulate", own, "--figures", folder)
    names = ["final_states.png", "fixed_points.png", "network.png", "trajectories.png"]
    assert listing(folder) == names
    for name in names:
        assert f"wrote {folder / name}" in result.stdout
        data = (folder / name).read_bytes()
        assert data[:8] == PNG_SIGNATURE and len(data) > 10_000


def test_without_states_the_final_state_pie_is_left_out(own: Path, tmp_path: Path) -> None:
    run("simulate", own, "--no-states", "--figures", tmp_path / "figs")
    assert listing(tmp_path / "figs") == ["fixed_points.png", "network.png", "trajectories.png"]


# -------------------------------------------------------------- thread_count
def test_a_stated_thread_count_is_obeyed_and_threads_wins(own: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    (tmp_path / "own.cfg").write_text(CFG + "thread_count = 1;\n")
    run("simulate", own, "-o", out)
    assert threads_used(out) == 1
    run("simulate", own, "-o", out, "--threads", "2")
    assert threads_used(out) == 2


def test_without_thread_count_every_core_is_used(own: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    run("simulate", own, "-o", out)
    assert threads_used(out) == min(os.cpu_count() or 1, 400)


def test_a_thread_count_of_one_in_a_cfg_given_by_name_is_obeyed(own: Path, tmp_path: Path) -> None:
    """Stated at MaBoSS's default value, it is still stated: no machine default replaces it."""
    out, cfg = tmp_path / "r.csv", tmp_path / "elsewhere.cfg"
    cfg.write_text(CFG + "thread_count = 1;\n")
    run("simulate", own, cfg, "-o", out)
    assert threads_used(out) == 1


def test_a_cfg_that_sets_nothing_runs_with_the_defaults(own: Path, tmp_path: Path) -> None:
    """MaBoSS's defaults for what changes results, every core for the threads."""
    out = tmp_path / "r.csv"
    (tmp_path / "own.cfg").write_text("$u_B = 1;\n$d_B = 1;\n")
    run("simulate", own, "-o", out, "-n", "20")
    meta = json.loads(out.with_name(out.stem + ".meta.json").read_text())
    assert (meta["max_time"], meta["time_tick"], meta["seed"], meta["discrete_time"]) == (1000.0, 0.5, 0, False)
    assert meta["threads"] == min(os.cpu_count() or 1, 20)


def test_a_cfg_given_with_a_format_without_run_settings_fails_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "m.bnet").write_text("targets, factors\nA, A\n")
    (tmp_path / "m.cfg").write_text("max_time = 5;\n")
    proc = run_main("simulate", tmp_path / "m.bnet", tmp_path / "m.cfg", cwd=tmp_path)
    assert_one_line_error(proc, f"{tmp_path / 'm.cfg'}: a .cfg goes with a MaBoSS .bnd network")


# ------------------------------------------------------------------- errors
@pytest.fixture(scope="module")
def model() -> Model:
    """The model above with a joint initial state, [AB, AC]."""
    return parse_maboss(BND + "Node AB { logic = A; }\nNode AC { logic = A; }", CFG + "[AB, AC].istate = 1 [1, 1];")[0]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"mutate": ["Bb=ON"]}, "--mutate Bb=ON: unknown node 'Bb' (did you mean 'B'?)"),
        ({"mutate": ["B=up"]}, "--mutate B=up: the value must be ON or OFF (or 1/0), not 'up'"),
        ({"mutate": ["B"]}, "--mutate B: expected NAME=VALUE, for example --mutate NODE=OFF"),
        ({"mutate": ["B=ON", "B=OFF"]}, "--mutate B=OFF: B is already set by --mutate B=ON; give it once"),
        ({"param": ["$u_b=2"]}, "--param $u_b=2: unknown parameter '$u_b' (did you mean '$u_B', '$d_B'?)"),
        ({"param": ["zzz=2"]}, "--param zzz=2: unknown parameter '$zzz' (`her2sim info MODEL` lists the model's"),
        ({"param": ["u_B=fast"]}, "--param u_B=fast: the value must be a number, not 'fast'"),
        ({"param": ["u_B=nan"]}, "--param u_B=nan: the value must be a finite number, not 'nan'"),
        ({"istate": ["C=1.5"]}, "--istate C=1.5: the probability of starting on must be a number from 0 to 1"),
        ({"istate": ["C=-0"]}, None),  # -0 is 0: accepted
        ({"istate": ["X=0.5"]}, "--istate X=0.5: unknown node 'X'"),
        ({"istate": ["AB=0.5"]}, "--istate AB=0.5: AB starts jointly with AC; change their [AB, AC].istate line"),
        ({"istate": ["C=0.5"], "mutate": ["C=ON"]}, "--istate C=0.5: C is also mutated (--mutate C=ON)"),
    ],
)
def test_bad_options_say_which_option_and_the_fix(
    model: Model, options: dict[str, list[str]], message: str | None
) -> None:
    if message is None:
        assert edit_model(model, **options).initial_probability("C") == 0.0
        return
    with pytest.raises(ConfigError) as caught:
        edit_model(model, **options)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_a_model_without_parameters_says_so() -> None:
    plain = parse_maboss("Node A { logic = A; }")[0]
    with pytest.raises(ConfigError, match=r"unknown parameter '\$k' \(the model has no parameters\)"):
        edit_model(plain, param=["k=1"])


def test_the_entry_point_prints_one_line_and_runs_nothing(own: Path, tmp_path: Path) -> None:
    proc = run_main("simulate", own, "--mutate", "CC=ON", "-o", tmp_path / "r.csv", cwd=tmp_path)
    assert_one_line_error(proc, "--mutate CC=ON: unknown node 'CC' (did you mean 'C'?)")
    assert proc.stdout == "" and not (tmp_path / "r.csv").exists()
    (tmp_path / "taken").write_text("")
    proc = run_main("simulate", own, "--figures", tmp_path / "taken", cwd=tmp_path)
    assert_one_line_error(proc, "--figures names a directory")


def test_the_command_of_the_pymaboss_tutorial_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tutorial = Path(__file__).resolve().parents[2] / "docs" / "tutorials" / "from_pymaboss.py"
    text = tutorial.read_text().replace("\\\n#    ", "")
    [command] = [line[2:] for line in text.splitlines() if line.startswith("# her2sim simulate ")]
    monkeypatch.chdir(tmp_path)
    run(*shlex.split(command)[1:])
    assert listing(tmp_path / "figs") == ["final_states.png", "fixed_points.png", "network.png", "trajectories.png"]


def test_node_chooses_what_the_trajectory_figures_draw(own: Path, tmp_path: Path) -> None:
    result = run("simulate", own, "-n", "50", "--node", "B", "--node", "C", "--plot", tmp_path / "p.png")
    assert f"wrote {tmp_path / 'p.png'}" in result.stdout
    assert (tmp_path / "p.png").read_bytes()[:8] == PNG_SIGNATURE
    typo = run_main("simulate", own, "--node", "Q", "--plot", tmp_path / "q.png", cwd=tmp_path)
    assert_one_line_error(typo, "unknown node 'Q'")
    assert not (tmp_path / "q.png").exists()  # refused before the simulation, nothing written
