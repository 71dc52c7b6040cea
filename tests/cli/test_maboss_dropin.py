"""``her2sim maboss``, MaBoSS's command line, against MaBoSS itself (cMaBoSS).

Both simulate one published network (bbm_096, ERBB-regulated G1/S transition) with the same
``.bnd``/``.cfg``, which marks two nodes internal and three as reference nodes so that every
column is exercised. The files must match in structure (names, headers, rows, number and
state formats) and agree in value: TH, HD and every state probability within four standard
errors, fixed points within four binomial errors.
"""

from __future__ import annotations

import ctypes
import math
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from her2sim.cli import app
from her2sim.cli.maboss import parse_arguments
from her2sim.engine.maboss_run import cluster_distributions
from her2sim.errors import ConfigError, ModelFormatError
from her2sim.formats import read_model
from her2sim.formats.maboss import parse_bnd, parse_cfgs, write_maboss
from her2sim.formats.maboss_output import hexfloat
from her2sim.model.config import SimulationConfig
from tests.conftest import shared_models

N = 2000
CONFIG = SimulationConfig(
    max_time=20, time_tick=1, sample_count=N, seed=1, threads=1, extra=(("statdist_traj_count", 10.0),)
)
INTERNAL = ("v_ERBB1_2", "v_ERBB2_3")
REFERENCE = {"v_pRB1": 1, "v_p27": 0, "v_CDK2": 1}
FILES = ("_probtraj.csv", "_fp.csv", "_statdist.csv", "_run.txt")
EMPTY = ("_statdist_cluster.csv", "_statdist_distrib.csv", "_observed_graph.csv", "_observed_durations.csv")
FOUR_DECIMALS = re.compile(r"^-?\d+\.\d{4}$")
SIX_DECIMALS = re.compile(r"^\d+\.\d{6}$")


@dataclass
class Row:
    """One window of a probtraj file."""

    cells: list[str]
    th: float
    th_error: float
    h: float
    hd: list[float]
    states: dict[frozenset[str], tuple[float, float]]


@dataclass
class Run:
    """Where the two simulators wrote their files, and the network's node names."""

    mine: str
    theirs: str
    nodes: tuple[str, ...]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Run:
    import cmaboss  # a test dependency (pyproject): a broken install fails here, not skips

    files = shared_models("bbm_096_*.bnet")
    if not files:
        pytest.skip("../shared/models is not present")
    folder = tmp_path_factory.mktemp("dropin")
    model = read_model(files[0])
    bnd, cfg = write_maboss(model, CONFIG)
    cfg += "".join(f"{n}.is_internal = 1;\n" for n in INTERNAL)
    cfg += "".join(f"{n}.refstate = {v};\n" for n, v in REFERENCE.items())
    (folder / "model.bnd").write_text(bnd)
    (folder / "model.cfg").write_text(cfg)
    theirs = str(folder / "theirs")
    result = cmaboss.MaBoSSSim(network=str(folder / "model.bnd"), config=str(folder / "model.cfg")).run()
    result.display_probtraj(theirs + "_probtraj.csv")
    result.display_fp(theirs + "_fp.csv")
    result.display_statdist(theirs + "_statdist.csv")
    result.display_run(theirs + "_run.txt")
    mine = str(folder / "mine")
    invoke("maboss", "-c", folder / "model.cfg", "-o", mine, folder / "model.bnd")
    return Run(mine, theirs, model.names)


def invoke(*args: str | Path) -> str:
    """Run the typer app in-process; the command must succeed. Returns its output."""
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def read_probtraj(path: str) -> tuple[list[str], list[Row]]:
    lines = Path(path).read_text().splitlines()
    header = lines[0].split("\t")
    width = header.index("State")
    rows = []
    for line in lines[1:]:
        cells = line.split("\t")
        states = {
            frozenset() if name == "<nil>" else frozenset(name.split(" -- ")): (float(p), float(e))
            for name, p, e in zip(cells[width::3], cells[width + 1 :: 3], cells[width + 2 :: 3], strict=True)
        }
        values = [float(c) for c in cells[1:width]]
        rows.append(Row(cells, values[0], values[1], values[2], values[3:], states))
    return header, rows


def test_same_files(runs: Run) -> None:
    for suffix in FILES:
        assert Path(runs.mine + suffix).is_file(), suffix
        assert Path(runs.theirs + suffix).is_file(), suffix
    for suffix in EMPTY:  # MaBoSS's CSV mode leaves these empty
        assert Path(runs.mine + suffix).read_text() == ""


def test_probtraj_layout(runs: Run) -> None:
    mine_header, mine = read_probtraj(runs.mine + "_probtraj.csv")
    their_header, theirs = read_probtraj(runs.theirs + "_probtraj.csv")
    fixed = ["Time", "TH", "ErrorTH", "H", *(f"HD={k}" for k in range(len(REFERENCE) + 1))]
    for header in (mine_header, their_header):
        assert header[: len(fixed)] == fixed
        groups = header[len(fixed) :]
        assert groups and groups == ["State", "Proba", "ErrorProba"] * (len(groups) // 3)
    assert [r.cells[0] for r in mine] == [r.cells[0] for r in theirs] == [f"{t:.4f}" for t in range(20)]
    outputs = set(runs.nodes) - set(INTERNAL)
    for header, rows in ((mine_header, mine), (their_header, theirs)):
        for row in rows:
            assert len(row.cells) <= len(header)
            assert all(FOUR_DECIMALS.match(c) for c in row.cells[: len(fixed)]), row.cells[: len(fixed)]
            numbers = row.cells[len(fixed) + 1 :: 3] + row.cells[len(fixed) + 2 :: 3]
            assert all(SIX_DECIMALS.match(c) for c in numbers)
            for name in row.cells[len(fixed) :: 3]:
                assert name == "<nil>" or set(name.split(" -- ")) <= outputs, name


def within(mine: float, theirs: float, se: float, slack: float = 1e-3) -> bool:
    return abs(mine - theirs) <= 4 * se + slack


def test_probtraj_values(runs: Run) -> None:
    """Values agree within four standard errors, and her2sim's errors bound MaBoSS's.

    Both sides estimate the same quantity from the same number of trajectories, so MaBoSS's
    standard error stands for both (times sqrt 2 for the difference). A rare state's error is
    itself poorly estimated: there her2sim's bound is added in, and 0.002 of slack.
    """
    _, mine = read_probtraj(runs.mine + "_probtraj.csv")
    _, theirs = read_probtraj(runs.theirs + "_probtraj.csv")
    failures = []
    for t, (a, b) in enumerate(zip(mine, theirs, strict=True)):
        if not within(a.th, b.th, math.sqrt(2) * b.th_error):
            failures.append((t, "TH", a.th, b.th, b.th_error))
        if b.th > 0.1 and a.th_error < 0.8 * b.th_error:
            failures.append((t, "ErrorTH", a.th_error, b.th_error))
        if not abs(a.h - b.h) <= 0.1 + 0.02 * b.h:  # plug-in entropy: no standard error to use
            failures.append((t, "H", a.h, b.h))
        for k, (p, q) in enumerate(zip(a.hd, b.hd, strict=True)):
            if not within(p, q, math.sqrt((p * (1 - p) + q * (1 - q)) / N)):
                failures.append((t, f"HD={k}", p, q))
        for state in a.states.keys() | b.states.keys():
            (p, e), (q, f) = a.states.get(state, (0.0, 0.0)), b.states.get(state, (0.0, 0.0))
            common = min(p, q) >= 0.01
            if not within(p, q, math.sqrt(2) * f if common else math.hypot(e, f), 1e-3 if common else 2e-3):
                failures.append((t, sorted(state), p, q))
            if common and e < 0.8 * f:
                failures.append((t, sorted(state), "ErrorProba", e, f))
    assert not failures, failures[:10]


def read_fixed_points(path: str) -> tuple[list[str], dict[frozenset[str], float]]:
    lines = Path(path).read_text().splitlines()
    count = int(re.fullmatch(r"Fixed Points \((\d+)\)", lines[0]).group(1))  # type: ignore[union-attr]
    assert len(lines) == (count + 2 if count else 1)
    header = lines[1].split("\t") if count else []
    points = {}
    for i, line in enumerate(lines[2:]):
        label, proba, name, *bits = line.split("\t")
        assert label == f"#{i + 1}"
        active = frozenset() if name == "<nil>" else frozenset(name.split(" -- "))
        assert {node for node, bit in zip(header[3:], bits, strict=True) if bit == "1"} == active
        points[active] = float(proba)
    return header, points


def test_fixed_points(runs: Run) -> None:
    mine_header, mine = read_fixed_points(runs.mine + "_fp.csv")
    their_header, theirs = read_fixed_points(runs.theirs + "_fp.csv")
    assert mine_header[:3] == their_header[:3] == ["FP", "Proba", "State"]
    assert sorted(mine_header[3:]) == sorted(their_header[3:]) == sorted(runs.nodes)  # MaBoSS orders by first use
    assert mine and theirs
    for state in mine.keys() | theirs.keys():
        p, q = mine.get(state, 0.0), theirs.get(state, 0.0)
        assert within(p, q, math.sqrt((p * (1 - p) + q * (1 - q)) / N)), (sorted(state), p, q)


def read_statdist(path: str) -> tuple[list[str], list[list[str]], list[tuple[str, list[list[str]]]], list[list[str]]]:
    """(header, trajectory rows, [(cluster header, rows)], cluster-distribution rows)."""
    blocks = Path(path).read_text().rstrip("\n").split("\n\n")
    first = blocks[0].split("\n")
    clusters = [(b.split("\n")[0], [r.split("\t") for r in b.split("\n")[1:]]) for b in blocks[1:-1]]
    summary = [r.split("\t") for r in blocks[-1].split("\n")]
    assert summary[0][0] == "Cluster"
    return first[0].split("\t"), [r.split("\t") for r in first[1:]], clusters, summary[1:]


def test_statdist_layout(runs: Run) -> None:
    reference_names = set(REFERENCE)
    count = int(dict(CONFIG.extra)["statdist_traj_count"])
    for prefix in (runs.mine, runs.theirs):
        header, trajectories, clusters, summary = read_statdist(prefix + "_statdist.csv")
        assert header[0] == "Trajectory" and header[1:] == ["State", "Proba"] * (len(header) // 2)
        assert [row[0] for row in trajectories] == [f"#{i + 1}" for i in range(count)]
        for row in trajectories:
            names, probas = row[1::2], [float(p) for p in row[2::2]]
            assert all(n == "<nil>" or set(n.split(" -- ")) <= reference_names for n in names)
            assert math.isclose(sum(probas), 1.0, abs_tol=1e-6)
        sizes = []
        for i, (head, rows) in enumerate(clusters):
            match = re.fullmatch(rf"Trajectory\[cluster=#{i + 1},size=(\d+)\](\tState\tProba){{4}} \.\.\.", head)
            assert match, head
            sizes.append(int(match.group(1)))
            assert len(rows) == sizes[-1]
        assert sum(sizes) == count
        assert [row[0] for row in summary] == [f"#{i + 1}" for i in range(len(clusters))]
        for row in summary:
            assert len(row) % 3 == 1 and math.isclose(sum(float(p) for p in row[2::3]), 1.0, abs_tol=1e-6)


def test_run_report(runs: Run) -> None:
    mine, theirs = Path(runs.mine + "_run.txt").read_text(), Path(runs.theirs + "_run.txt").read_text()
    banner = "\n" + "-" * 47 + "--- Run ---" + "-" * 47 + "\n"
    assert mine.startswith(banner) and theirs.startswith(banner)
    for setting in ("Time Tick: 1", "Max Time: 20", f"Sample Count: {N}", "StatDist Trajectory Count: 10",
                    "Discrete Time: FALSE", "Seed Pseudo Random: 1"):  # fmt: skip
        assert f"\n{setting}\n" in mine and f"\n{setting}\n" in theirs, setting


def test_hexfloat_writes_the_same_numbers(runs: Run, tmp_path: Path) -> None:
    model = Path(runs.mine).parent / "model"
    invoke("maboss", "--hexfloat", "-c", f"{model}.cfg", "-o", tmp_path / "hex", f"{model}.bnd")
    _, decimal = read_probtraj(runs.mine + "_probtraj.csv")
    lines = (tmp_path / "hex_probtraj.csv").read_text().splitlines()[1:]
    for row, line in zip(decimal, lines, strict=True):
        cells = line.split("\t")
        assert cells[0] == row.cells[0]  # times stay decimal, as in MaBoSS
        width = 4 + len(REFERENCE) + 1
        for i, cell in enumerate(cells[1:], start=1):
            if i >= width and (i - width) % 3 == 0:
                assert cell == row.cells[i]  # a state name
            else:
                digits = 4 if i < width else 6
                assert f"{float.fromhex(cell):.{digits}f}" == row.cells[i]


def test_hexfloat_is_c_percent_a() -> None:
    libc = ctypes.CDLL(None)
    for x in (0.0, 1.0, 0.375, -2.5, 1 / 3, 1e-300, 5e-324, 1e300):
        buffer = ctypes.create_string_buffer(64)
        libc.snprintf(buffer, 64, b"%a", ctypes.c_double(x))
        assert hexfloat(x) == buffer.value.decode(), x


def test_queries_print_and_exit(tmp_path: Path) -> None:
    bnd, cfg = tmp_path / "m.bnd", tmp_path / "m.cfg"
    bnd.write_text("Node A { logic = !B; }\nNode B { logic = A; }\n")
    cfg.write_text("$k = 1; A.istate = 1; max_time = 5;\n")
    assert invoke("maboss", "-c", cfg, "-l", bnd) == "A : !B\nB : A\n"
    assert "max_time = 2;" in invoke("maboss", "-c", cfg, "-e", "max_time = 2", "-d", bnd)
    assert "$k = 3;" in invoke("maboss", "-c", cfg, "-v", "k=3", "-d", bnd)
    assert invoke("maboss", "-c", cfg, "--check", bnd) == ""
    assert "MaBoSS version" in invoke("maboss", "--version")
    assert "-o --output PREFIX" in invoke("maboss", "--help")
    invoke("maboss", "-c", cfg, "--final", "-o", tmp_path / "f", bnd)
    assert re.fullmatch(r"(\S+\t(<nil>|A|B|A -- B)\n)+", (tmp_path / "f_finalprob.csv").read_text())


def run_main(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m her2sim.cli ARGS``: the entry point that turns errors into one line."""
    return subprocess.run([sys.executable, "-m", "her2sim.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=dict(os.environ), timeout=120, check=False)  # fmt: skip


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--bogus", "-c", "m.cfg", "-o", "out", "m.bnd"], "unknown option --bogus"),
        (["-o", "out", "m.bnd", "-c"], "missing value after option -c"),
        (["-c", "absent.cfg", "-o", "out", "m.bnd"], "absent.cfg"),
        (["-c", "m.cfg", "-o", "out", "absent.bnd"], "absent.bnd"),
    ],
    ids=["unknown-option", "missing-c-value", "missing-cfg", "missing-bnd"],
)
def test_errors_are_one_line(tmp_path: Path, args: list[str], fragment: str) -> None:
    (tmp_path / "m.bnd").write_text("Node A { logic = A; }\n")
    (tmp_path / "m.cfg").write_text("max_time = 2;\n")
    proc = run_main("maboss", *args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("her2sim: error: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert fragment in proc.stderr and "Traceback" not in proc.stderr
    assert not list(tmp_path.glob("out*"))  # nothing was written


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-c", "m.cfg", "-o", "out"], "boolean network file is missing"),
        (["-c", "m.cfg", "m.bnd"], "output option is not set"),
        (["-o", "out", "a.bnd", "b.bnd"], "boolean network file is already set to a.bnd [b.bnd]"),
        (["--ensemble", "-o", "out", "a.bnd", "b.bnd"], "--ensemble is not supported"),
        (["--format", "json", "-o", "out", "m.bnd"], "--format json is not supported"),
        (["-d", "-o", "out", "m.bnd"], "--dump-config and -o|--output are exclusive options"),
        (["-t", "-c", "m.cfg", "m.bnd"], "--generate-config-template and -c|--config are exclusive options"),
        (["--override", "--augment", "-o", "out", "m.bnd"], "--override and --augment are exclusive options"),
        (["-v", "k", "-o", "out", "m.bnd"], "invalid var format [k]"),
        (["--verbose", "high", "-o", "out", "m.bnd"], "unknown level for verbose high"),
    ],
)
def test_command_line_rules(argv: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_arguments(argv)


def test_config_expression_errors_name_the_expression() -> None:
    model = parse_bnd("Node A { logic = A; }")
    pieces = [("max_time = 5;\n", "m.cfg"), ("sample_count = 10;;\nbogus = 1;", "-e 'bogus'")]
    with pytest.raises(ModelFormatError) as info:
        parse_cfgs(pieces, model)
    assert (info.value.source, info.value.line, info.value.message) == ("-e 'bogus'", 2, "unknown setting 'bogus'")
    _, config = parse_cfgs([("max_time = 5; $k = 2;", "m.cfg"), ("max_time = $k * 3;", "-e")], model)
    assert config.max_time == 6


def test_clusters_join_trajectories_with_the_same_support() -> None:
    same = [{"A": 0.5, "<nil>": 0.5}, {"A": 0.2, "<nil>": 0.8}]
    other = [{"B": 1.0}]
    clusters = cluster_distributions(same + other + same[:1], threshold=1.0)
    assert [c.members for c in clusters] == [(0, 1, 3), (2,)]
    mean, error = clusters[0].distribution["A"]  # A: 0.5, 0.2, 0.5
    assert math.isclose(mean, 0.4) and math.isclose(error, math.sqrt((0.18 - 0.16) / 2))
