"""What ``her2sim simulate`` writes: the node table by default, the state table on request
(Parquet unless named otherwise), sized before it is written. ``toy`` is in conftest.py."""

from __future__ import annotations

import collections
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from her2sim.cli import app
from her2sim.engine import output
from her2sim.errors import ConfigError, Her2simWarning
from tests.cli.test_cli import WIDE, assert_one_line_error, listing, run, run_main


def test_states_go_beside_the_node_table_as_parquet_whatever_its_format(toy: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "r.csv"
    result = run("simulate", toy, "-o", out, "--states")
    assert listing(out.parent) == ["r.csv", "r.meta.json", "r.states.parquet"]
    assert f"wrote {out.parent / 'r.states.parquet'}" in result.stdout
    states = pd.read_parquet(out.parent / "r.states.parquet")
    assert list(states.columns) == ["time", "state", "probability"]
    assert np.allclose(states.groupby("time")["probability"].sum(), 1.0)
    assert len(pd.read_csv(out)) == 12  # the node table: max_time 6 in windows of 0.5


def test_parquet_tables_are_written_without_pandas_and_read_back_as_the_result(toy: Path, tmp_path: Path) -> None:
    """The node and state tables go from the result's arrays to Arrow without pandas (its
    import was a third of a second of the command), and read back as ``nodes()`` and ``states()``."""
    import subprocess
    import sys

    from her2sim.engine import simulate
    from her2sim.formats.maboss import read_maboss

    out = tmp_path / "r.parquet"
    code = (
        "import sys; from her2sim.cli import main; "
        f"sys.argv = ['her2sim', 'simulate', {str(toy)!r}, '--seed', '4', '--threads', '1', '-o', {str(out)!r}, "
        "'--states']\ntry:\n    main()\nexcept SystemExit:\n    pass\nprint('pandas' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert proc.stdout.strip().endswith("False"), proc.stdout
    model, config = read_maboss(toy)
    result = simulate(model, config.with_(seed=4, threads=1))
    pd.testing.assert_frame_equal(pd.read_parquet(out), result.nodes().reset_index(), check_names=False)
    written = pd.read_parquet(tmp_path / "r.states.parquet")
    pd.testing.assert_frame_equal(written, result.states().astype({"state": object}), check_dtype=False)


def test_states_output_names_the_file_and_its_format(toy: Path, tmp_path: Path) -> None:
    run("simulate", toy, "--states-output", tmp_path / "s.csv")
    run("simulate", toy, "--states-output", tmp_path / "s.parquet")
    assert listing(tmp_path) == ["s.csv", "s.meta.json", "s.parquet", "toy.bnd", "toy.cfg"]
    as_csv, as_parquet = pd.read_csv(tmp_path / "s.csv"), pd.read_parquet(tmp_path / "s.parquet")
    assert as_csv["state"].tolist() == as_parquet["state"].astype(str).tolist()
    assert np.allclose(as_csv["probability"], as_parquet["probability"])


def test_a_large_state_table_is_announced_before_it_is_written(
    toy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(output, "LARGE", 100)
    with pytest.warns(Her2simWarning, match=r"r\.states\.parquet: the state table will be about .* rows, .* states"):
        run("simulate", toy, "-o", tmp_path / "r.parquet", "--states")
    assert (tmp_path / "r.states.parquet").is_file()


def test_a_state_table_beyond_the_free_disk_is_refused_before_anything_is_written(
    toy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _: usage(10**12, 10**12 - 1000, 1000))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["simulate", str(toy), "-o", str(out / "r.csv"),
                                      "--states-output", str(out / "r.csv.states.csv")], env=WIDE)  # fmt: skip
    assert isinstance(result.exception, ConfigError)
    message = str(result.exception)
    assert "\n" not in message and "more than the 0.0 MB free on its disk" in message
    assert "write it as .parquet (about " in message and "larger time_tick" in message
    assert not out.exists() or listing(out) == []  # not even the node table


def test_a_state_table_estimate_is_near_the_file_written(toy: Path, tmp_path: Path) -> None:
    from her2sim.engine import SimulationConfig, simulate
    from her2sim.formats.maboss import read_maboss

    model, _ = read_maboss(toy)
    result = simulate(model, SimulationConfig(max_time=20, time_tick=0.1, sample_count=3000, seed=1, threads=1))
    for suffix in (".csv", ".parquet"):
        result.save_states(tmp_path / f"s{suffix}")
        estimate = output.state_table_size(result, suffix)
        assert estimate.rows == len(result.states())
        assert 0.5 < estimate.file_bytes / (tmp_path / f"s{suffix}").stat().st_size < 2, suffix


@pytest.mark.parametrize("page", [output._DICTIONARY_PAGE, 0])
def test_state_names_are_dictionary_encoded_only_when_the_estimate_says_they_fit(
    toy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, page: int
) -> None:
    """A few distinct names go to a dictionary; names beyond its page are written plain
    (Parquet would build the dictionary and drop it). The names never carry statistics."""
    import pyarrow.parquet as pq

    from her2sim.engine import SimulationConfig, simulate
    from her2sim.formats.maboss import read_maboss

    monkeypatch.setattr(output, "_DICTIONARY_PAGE", page)
    model, _ = read_maboss(toy)
    result = simulate(model, SimulationConfig(max_time=20, time_tick=1, sample_count=500, seed=1, threads=1))
    result.save_states(tmp_path / "s.parquet")
    assert output.state_table_size(result, ".parquet").dictionary == (page > 0)
    column = pq.ParquetFile(tmp_path / "s.parquet").metadata.row_group(0).column(1)
    assert column.path_in_schema == "state"
    assert any("DICTIONARY" in encoding for encoding in column.encodings) == (page > 0)
    assert not column.is_stats_set
    written = pd.read_parquet(tmp_path / "s.parquet")
    pd.testing.assert_frame_equal(written, result.states().astype({"state": object}), check_dtype=False)


@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        (("--states",), "--states keeps the state table for --output"),
        (("--no-states", "--states-output", "s.parquet"), "--no-states"),
        (("--states-output", "s.txt"), "s.txt: results are written as .parquet or .csv"),
    ],
)
def test_state_flags_that_cannot_be_obeyed_are_refused_before_simulating(
    toy: Path, tmp_path: Path, flags: tuple[str, ...], fragment: str
) -> None:
    proc = run_main("simulate", toy, *flags, cwd=tmp_path)
    assert_one_line_error(proc, fragment)
    assert proc.stdout == ""
    assert listing(tmp_path) == ["toy.bnd", "toy.cfg"]
