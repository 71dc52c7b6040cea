"""The ``her2sim`` command line, driven as a user drives it.

Commands that succeed run in-process through typer's ``CliRunner``; errors go through the real
entry point (``python -m her2sim.cli``, i.e. :func:`her2sim.cli.main`) in a subprocess, because
only ``main()`` turns a :class:`~her2sim.errors.Her2simError` into one stderr line and exit code 2.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner, Result

import her2sim
from her2sim.cli import app
from her2sim.examples import example_path
from her2sim.formats import read_model
from her2sim.formats.maboss import read_maboss
from her2sim.model.config import SimulationConfig
from her2sim.model.expr import Var, evaluate, variables
from her2sim.model.network import Model
from tests.conftest import shared_models
from tests.strategies import assignments

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: rich wraps tables to the terminal; a wide one keeps every row on one line
WIDE = {"COLUMNS": "200", "NO_COLOR": "1"}


# ------------------------------------------------------------------ helpers
def run(*args: str | Path) -> Result:
    """Invoke the typer app in-process; the command must succeed."""
    result = CliRunner().invoke(app, [str(a) for a in args], env=WIDE)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 0, result.output
    return result


def run_main(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``python -m her2sim.cli ARGS`` (the installed entry point) in ``cwd``."""
    env = {**os.environ, **WIDE}
    return subprocess.run(
        [sys.executable, "-m", "her2sim.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
    )


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *fragments: str) -> str:
    """Exit code 2, one stderr line ``her2sim: error: ...`` holding every fragment, no traceback."""
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("her2sim: error: "), lines[0]
    assert "Traceback" not in proc.stderr + proc.stdout
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def same_rules(a: Model, b: Model) -> None:
    """Same node names and, node by node, the same Boolean function (on every assignment).

    An input may have no rule (SBML-qual) or keep itself (``A, A`` in BoolNet): the same dynamics.
    """
    assert sorted(a.names) == sorted(b.names)
    for node in a.nodes:
        left, right = node.rule or Var(node.name), b.node(node.name).rule or Var(node.name)
        if left == right:
            continue
        names = sorted(variables(left) | variables(right))
        assert all(evaluate(left, row) == evaluate(right, row) for row in assignments(names)), node.name


def bnet_path(stem: str) -> Path:
    files = shared_models(f"{stem}*.bnet")
    if not files:
        pytest.skip("../shared/models is not present")
    return files[0]


def listing(folder: Path) -> list[str]:
    """Every file in ``folder``, hidden ones (left-over temporary files) included."""
    return sorted(p.name for p in folder.iterdir())


RATES_BND = """
Node A { logic = !B; rate_up = @logic ? $k : 0; rate_down = @logic ? 0 : 1; }
Node B { logic = A; }
"""
RATES_CFG = "$k = 3;\nA.istate = 1;\n"


@pytest.fixture
def rates_model(tmp_path: Path) -> Path:
    """A MaBoSS model with custom rates and a parameter, which BoolNet cannot hold."""
    bnd = tmp_path / "rates.bnd"
    bnd.write_text(RATES_BND)
    bnd.with_suffix(".cfg").write_text(RATES_CFG)
    return bnd


# ------------------------------------------------------------------ version
def test_version_in_process_and_through_the_entry_point(tmp_path: Path) -> None:
    assert run("--version").stdout.strip() == f"her2sim {her2sim.__version__}"
    proc = run_main("--version", cwd=tmp_path)
    assert (proc.returncode, proc.stdout.strip(), proc.stderr) == (0, f"her2sim {her2sim.__version__}", "")


def test_the_command_line_starts_without_the_heavy_libraries(tmp_path: Path) -> None:
    """pandas, matplotlib, Dask and the attractor tools load when a command needs them, not
    when the CLI starts: pandas alone took a third of a second of every command's start."""
    heavy = ["pandas", "matplotlib", "distributed", "mpbn", "biobalm", "lifelines"]
    code = f"import sys, her2sim.cli; print([m for m in {heavy!r} if m in sys.modules])"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert proc.stdout.strip() == "[]"


def test_no_arguments_shows_help_without_a_traceback(tmp_path: Path) -> None:
    proc = run_main(cwd=tmp_path)
    assert "Traceback" not in proc.stderr
    assert "convert" in proc.stdout + proc.stderr
    assert "simulate" in proc.stdout + proc.stderr


def test_an_unknown_option_is_a_usage_error_not_a_traceback(tmp_path: Path) -> None:
    proc = run_main("simulate", "example:erbb_core", "--bogus", cwd=tmp_path)
    assert proc.returncode == 2
    assert "No such option: --bogus" in proc.stderr
    assert "Traceback" not in proc.stderr


# --------------------------------------------------------------------- info
def table_rows(output: str) -> dict[str, list[str]]:
    """The cells of each row of rich's first table, keyed by the first cell."""
    rows = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip().strip("│").split("│")]
        if line.lstrip().startswith("│") and len(cells) >= 2:
            rows.setdefault(cells[0], cells[1:])
    return rows


def test_info_on_a_shared_bnet() -> None:
    path = bnet_path("bbm_003_SAHIN2009")
    model = read_model(path)
    out = run("info", path).stdout
    assert out.startswith(f"{model.name}: {len(model)} nodes, {len(model.inputs())} inputs, ")
    rows = table_rows(out)
    assert set(model.names) <= set(rows)
    assert [name for name in model.names if rows[name][0] == "input"] == list(model.inputs()) == ["v_EGF"]
    assert [name for name in model.names if rows[name][0] == "output"] == [
        n for n in model.outputs() if n not in model.inputs()
    ]
    assert rows["v_CDK6"][:2] == ["", "v_CycD1"]


def test_info_on_the_shipped_example() -> None:
    out = run("info", "example:erbb_core").stdout
    assert out.startswith("erbb_core: 9 nodes, 2 inputs, 1 outputs, 1 parameters")
    rows = table_rows(out)
    model, _ = read_maboss(example_path("erbb_core"))
    assert set(model.names) <= set(rows)
    assert rows["NRG1"][:2] == ["input", "-"]  # no rule at all
    assert rows["HER2"][:3] == ["input", "HER2", "ERBB2"]
    assert rows["Proliferation"][:2] == ["output", "CyclinD1"]
    assert rows["HER2_HER3"] == ["", "HER2 & (NRG1 | !AKT)", "ERBB2 ERBB3", ""]
    assert rows["$k_dimer"] == ["2"]


# ------------------------------------------------------------------ convert
def test_convert_bnet_to_bnd_writes_the_cfg_beside_it(tmp_path: Path) -> None:
    source = bnet_path("bbm_096")
    target = tmp_path / "out.bnd"
    out = run("convert", source, target).stdout
    model = read_model(source)
    assert out.strip() == f"wrote {target} ({len(model)} nodes)"
    assert listing(tmp_path) == ["out.bnd", "out.cfg"]
    back, config = read_maboss(target)
    assert back.names == model.names
    assert [n.rule for n in back.nodes] == [n.rule for n in model.nodes]  # exact trees
    # the settings `simulate` uses for a .bnet, so both files run alike; no thread_count
    assert config == SimulationConfig()
    assert "thread_count" not in (tmp_path / "out.cfg").read_text()


@pytest.mark.parametrize("suffix", [".sbml", ".booleannet"])
def test_convert_bnet_to_other_formats_keeps_the_rules(tmp_path: Path, suffix: str) -> None:
    source = bnet_path("bbm_033")
    target = tmp_path / f"out{suffix}"
    run("convert", source, target)
    assert listing(tmp_path) == [target.name]
    same_rules(read_model(source), read_model(target))


def test_convert_sbml_to_bnet_and_back(tmp_path: Path) -> None:
    files = shared_models("bbm_035*.sbml")
    if not files:
        pytest.skip("../shared/models is not present")
    original = read_model(files[0])
    run("convert", files[0], tmp_path / "m.bnet")
    as_bnet = read_model(tmp_path / "m.bnet")
    same_rules(original, as_bnet)
    run("convert", tmp_path / "m.bnet", tmp_path / "again.sbml")
    same_rules(original, read_model(tmp_path / "again.sbml"))
    # and the shared BoolNet twin of this SBML file says the same
    same_rules(original, read_model(bnet_path("bbm_035")))


def test_convert_the_example_to_bnd_keeps_rates_parameters_and_settings(tmp_path: Path) -> None:
    run("convert", "example:erbb_core", tmp_path / "copy.bnd")
    original, config = read_maboss(example_path("erbb_core"))
    copy, copy_config = read_maboss(tmp_path / "copy.bnd")
    assert copy.nodes == original.nodes
    assert (copy.parameters, copy.istate) == (original.parameters, original.istate)
    assert (copy_config, copy_config.explicit) == (config, config.explicit)


def test_convert_rates_to_bnet_fails_and_writes_nothing(rates_model: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.bnet"
    proc = run_main("convert", rates_model, target, cwd=tmp_path)
    assert_one_line_error(proc, "which .bnet cannot hold")
    assert listing(tmp_path) == ["rates.bnd", "rates.cfg"]  # no output, no temporary file
    assert proc.stdout == ""


def test_convert_rates_to_bnet_with_lossy_keeps_the_rules(rates_model: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.bnet"
    proc = run_main("convert", rates_model, target, "--lossy", cwd=tmp_path)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert target.read_text() == "targets, factors\nA, !B\nB, A\n"
    same_rules(read_model(rates_model), read_model(target))


def test_convert_to_an_unknown_suffix_fails_and_writes_nothing(tmp_path: Path) -> None:
    proc = run_main("convert", "example:erbb_core", tmp_path / "out.xyz", cwd=tmp_path)
    assert_one_line_error(proc, f"{tmp_path / 'out.xyz'}: unknown model file type", ".bnet", ".bnd")
    assert listing(tmp_path) == []


# ----------------------------------------------------------------- simulate
def test_simulate_writes_the_node_table_and_a_png(tmp_path: Path) -> None:
    out, png = tmp_path / "out.parquet", tmp_path / "out.png"
    result = run("simulate", "example:erbb_core", "-n", "2000", "-o", out, "--plot", png)
    model, config = read_maboss(example_path("erbb_core"))
    assert f"wrote {out}" in result.stdout
    assert "2000 trajectories" in result.stdout
    assert listing(tmp_path) == ["out.parquet", "out.png"]  # no state table unless asked for

    nodes = pd.read_parquet(out)
    assert list(nodes.columns) == ["time", *model.names]
    assert len(nodes) == config.n_windows
    assert nodes["time"].tolist() == pytest.approx([i * config.time_tick for i in range(config.n_windows)])
    probabilities = nodes[list(model.names)].to_numpy()
    assert ((probabilities >= 0) & (probabilities <= 1)).all()
    # HER2 starts on and keeps itself on; NRG1 starts off and has no rule
    assert (nodes["HER2"] == 1.0).all()
    assert (nodes["NRG1"] == 0.0).all()
    assert nodes["PI3K"].iloc[0] < 0.5  # [PI3K, AKT] start off together, so early windows are low

    assert png.read_bytes()[:8] == PNG_SIGNATURE
    assert png.stat().st_size > 1000


def test_simulate_writes_csv_with_its_metadata(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    run("simulate", "example:erbb_core", "-n", "300", "--seed", "11", "-o", out)
    assert listing(tmp_path) == ["out.csv", "out.meta.json"]
    nodes = pd.read_csv(out)
    assert nodes.columns[0] == "time"
    assert "Proliferation" in nodes.columns
    meta = json.loads((tmp_path / "out.meta.json").read_text())
    assert (meta["model"], meta["sample_count"], meta["seed"]) == ("erbb_core", 300, 11)
    assert meta["her2sim"] == her2sim.__version__


def test_simulate_with_a_seed_does_not_depend_on_threads(tmp_path: Path) -> None:
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    run("simulate", "example:erbb_core", "-n", "400", "--seed", "5", "--threads", "1", "--max-time", "5", "-o", one)
    run("simulate", "example:erbb_core", "-n", "400", "--seed", "5", "--threads", "2", "--max-time", "5", "-o", two)
    first, second = pd.read_csv(one), pd.read_csv(two)
    assert first["time"].iloc[-1] == 4.5  # --max-time 5 with the example's time_tick 0.5
    pd.testing.assert_frame_equal(first, second)


def test_simulate_a_bnet_model(tmp_path: Path) -> None:
    model = tmp_path / "toy.bnet"
    model.write_text("targets, factors\nA, A\nB, A & !B\n")
    result = run("simulate", model, "-n", "200", "--max-time", "4", "--time-tick", "1", "-o", tmp_path / "t.csv")
    assert "P(on) at t=3" in result.stdout
    nodes = pd.read_csv(tmp_path / "t.csv")
    assert list(nodes.columns) == ["time", "A", "B"]
    assert nodes["time"].tolist() == [0.0, 1.0, 2.0, 3.0]


def test_simulate_says_plainly_when_the_state_tables_overflow(tmp_path: Path) -> None:
    """Exit 0, one warning line, the share lost in each window printed with the fix, and a
    state table whose '<not kept>' rows hold what is missing."""
    model = tmp_path / "free.bnet"
    model.write_text("targets, factors\n" + "".join(f"N{i}, !N{i}\n" for i in range(16)))
    args = ("simulate", model, "-n", "2000", "--max-time", "5", "--time-tick", "1", "-o", tmp_path / "r.parquet",
            "--states")  # fmt: skip
    roomy = run_main(*args, cwd=tmp_path)
    assert roomy.returncode == 0 and roomy.stderr == ""
    assert "not kept" not in roomy.stdout
    crowded = run_main(*args, "--max-states", "50", cwd=tmp_path)
    assert crowded.returncode == 0, crowded.stderr
    [line] = crowded.stderr.splitlines()
    assert line.startswith("her2sim: warning: state statistics are incomplete (max_states 50 per thread): 5 of 5 ")
    assert "--max-states" in line
    states = pd.read_parquet(tmp_path / "r.states.parquet")
    not_kept = states[states["state"] == "<not kept>"].set_index("time")["probability"]
    assert len(not_kept) == 5 and (not_kept > 0.5).all()
    assert np.allclose(states.groupby("time")["probability"].sum(), 1.0)
    printed = {t: f"{p:.1%}" for t, p in not_kept.items()}  # one row a window: time, share lost
    rows = [line.split("│")[1:3] for line in crowded.stdout.splitlines() if line.count("│") == 3]
    assert {float(t): share.strip() for t, share in rows if t.strip() != "node" and "%" in share} == printed
    assert "to keep every state: raise --max-states" in crowded.stdout


def test_simulate_refuses_an_unknown_output_type_before_running(tmp_path: Path) -> None:
    proc = run_main("simulate", "example:erbb_core", "-n", "100", "-o", tmp_path / "out.txt", cwd=tmp_path)
    assert_one_line_error(proc, "out.txt", ".parquet or .csv")
    assert proc.stdout == ""  # nothing was simulated
    assert listing(tmp_path) == []


# --------------------------------------------------------------- bad inputs
def test_missing_file(tmp_path: Path) -> None:
    proc = run_main("info", "nowhere.bnet", cwd=tmp_path)
    assert_one_line_error(proc, "nowhere.bnet: no such file")
    proc = run_main("simulate", tmp_path / "nowhere.bnd", cwd=tmp_path)
    assert_one_line_error(proc, f"{tmp_path / 'nowhere.bnd'}: no such file")


def test_malformed_bnet_names_file_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "bad.bnet"
    bad.write_text("targets, factors\nA, B\nB, (A | C\nC, A\n")
    for command in ("info", "convert"):
        args = [command, bad] + ([tmp_path / "out.bnd"] if command == "convert" else [])
        line = assert_one_line_error(run_main(*args, cwd=tmp_path), f"{bad}:3:10: unbalanced parentheses")
        assert line.endswith("(the '(' at line 3, column 4 is never closed)")
    assert listing(tmp_path) == ["bad.bnet"]


def test_malformed_bnd_and_cfg_name_file_line_and_column(tmp_path: Path) -> None:
    bnd = tmp_path / "m.bnd"
    bnd.write_text("Node A {\n  logic = B\n}\nNode B { logic = A; }\n")
    assert_one_line_error(run_main("info", bnd, cwd=tmp_path), f"{bnd}:2:12: missing ';' after attribute logic")
    bnd.write_text("Node A { logic = B; }\nNode B { logic = A; }\n")
    cfg = tmp_path / "m.cfg"
    cfg.write_text("max_time = 5;\nAA.istate = 1;\n")
    assert_one_line_error(run_main("simulate", bnd, cwd=tmp_path), f"{cfg}:2:1: unknown node 'AA'", "did you mean 'A'?")


def test_unknown_example(tmp_path: Path) -> None:
    assert_one_line_error(run_main("info", "example:erbb_cor", cwd=tmp_path), "unknown example model 'erbb_cor'")
