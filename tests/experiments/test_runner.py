"""The Dask runner: results stream to Parquet parts, a stopped run resumes, mixing is refused."""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pandas as pd
import pytest

from her2sim.errors import ConfigError, UnknownNameError
from her2sim.experiments.cells import Cell, evaluate_cells
from her2sim.experiments.runner import _sigterm_deferred, run_cells
from her2sim.her2.settings import RunSettings

CELLS = [Cell(c, t, {"k": i}) for i, (c, t) in enumerate(
    (c, t) for c in ("ERBB2:amp", "ERBB2:amp; PTEN:loss") for t in ("trastuzumab", "lapatinib", ""))]  # fmt: skip


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None)
    with Client(cluster) as c:
        yield c
    cluster.close()


def test_results_match_a_local_evaluation(client: object, tmp_path: Path) -> None:
    table = run_cells(
        CELLS, tmp_path, client=client, chunk_size=2, readouts=("proliferation",), settings=RunSettings(samples=300)
    )
    local = evaluate_cells(CELLS, readouts=("proliferation",), settings=RunSettings(samples=300))
    pd.testing.assert_frame_equal(table.sort_values("k").reset_index(drop=True), local, check_like=True)
    assert sorted(p.name for p in tmp_path.glob("part-*.parquet")) == [f"part-0000{i}.parquet" for i in range(4)]
    assert not list(tmp_path.glob(".*tmp"))


def test_a_stopped_run_resumes_without_recomputing(client: object, tmp_path: Path) -> None:
    run_cells(CELLS, tmp_path, client=client, chunk_size=2, settings=RunSettings(samples=200))
    kept = tmp_path / "part-00000.parquet"
    stamp = kept.stat().st_mtime_ns
    (tmp_path / "part-00003.parquet").unlink()  # as if the run had stopped before the last chunk
    seen: list[tuple[int, int]] = []
    table = run_cells(
        CELLS,
        tmp_path,
        client=client,
        chunk_size=2,
        progress=lambda d, n: seen.append((d, n)),
        settings=RunSettings(samples=200),
    )
    # progress counts cells: chunks of 2 + 1 per context, the last one (1 cell) computed again
    assert seen == [(5, 6), (6, 6)] and kept.stat().st_mtime_ns == stamp
    assert len(table) == len(CELLS) * 5


def test_a_different_experiment_is_not_mixed_in(client: object, tmp_path: Path) -> None:
    run_cells(CELLS[:2], tmp_path, client=client, settings=RunSettings(samples=200))
    with pytest.raises(ConfigError, match="different experiment"):
        run_cells(CELLS[:3], tmp_path, client=client, settings=RunSettings(samples=200))


def test_unknown_names_fail_before_any_work(client: object, tmp_path: Path) -> None:
    with pytest.raises(UnknownNameError):
        run_cells([*CELLS, Cell("ERBB2:amp", "trastuzumabb")], tmp_path, client=client)
    assert not list(tmp_path.glob("part-*"))


def test_a_failing_chunk_leaves_only_complete_parts(
    client: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import her2sim.experiments.runner as runner

    real = runner._evaluate_chunk

    def flaky(cells: list[Cell], settings: RunSettings, readouts: Sequence[str]) -> pd.DataFrame:
        if cells[0].context.endswith("PTEN:loss"):
            raise RuntimeError("worker lost")
        return real(cells, settings, readouts)

    monkeypatch.setattr(runner, "_evaluate_chunk", flaky)
    with pytest.raises(RuntimeError, match="worker lost"):
        run_cells(CELLS, tmp_path, client=client, chunk_size=3, settings=RunSettings(samples=200))
    parts = list(tmp_path.glob("part-*.parquet"))
    assert len(parts) <= 1 and not list(tmp_path.glob(".*tmp"))
    for part in parts:
        assert len(pd.read_parquet(part)) == 3 * 5
    monkeypatch.setattr(runner, "_evaluate_chunk", real)
    assert (
        len(run_cells(CELLS, tmp_path, client=client, chunk_size=3, settings=RunSettings(samples=200)))
        == len(CELLS) * 5
    )


def test_a_file_in_place_of_the_output_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("not a directory")
    with pytest.raises(ConfigError, match="is a file"):
        run_cells(CELLS, tmp_path / "out")


@pytest.fixture(scope="module")
def finished(client: object, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, pd.DataFrame]:
    """A finished run of CELLS (its directory and table) and a run of the same cells with another seed."""
    clean, other = tmp_path_factory.mktemp("clean"), tmp_path_factory.mktemp("other")
    table = run_cells(CELLS, clean, client=client, chunk_size=2, settings=RunSettings(samples=200))
    run_cells(CELLS, other, client=client, chunk_size=2, settings=RunSettings(samples=200, seed=7))
    return clean, other, table


def truncate(part: Path, _: Path) -> None:
    part.write_bytes(part.read_bytes()[: part.stat().st_size // 2])


def scramble(part: Path, _: Path) -> None:
    """Flip 16 bytes in the middle of the data pages (between the leading magic number and the footer)."""
    data = bytearray(part.read_bytes())
    footer = int.from_bytes(data[-8:-4], "little")
    middle = (4 + len(data) - 8 - footer) // 2
    data[middle : middle + 16] = bytes(b ^ 0xFF for b in data[middle : middle + 16])
    part.write_bytes(bytes(data))


def drop_rows(part: Path, _: Path) -> None:
    """Keep the first 3 rows, and the metadata (its fingerprint) with them."""
    import pyarrow.parquet as pq

    pq.write_table(pq.read_table(part).slice(0, 3), part)


def replace_with_other_run(part: Path, other: Path) -> None:
    shutil.copyfile(other / part.name, part)


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (truncate, "is damaged"),
        (scramble, "is damaged"),
        (drop_rows, "holds 3 rows, not 5"),
        (replace_with_other_run, "belongs to another run"),
    ],
)
def test_a_bad_part_is_named_and_computed_again(
    client: object,
    tmp_path: Path,
    finished: tuple[Path, Path, pd.DataFrame],
    damage: Callable[[Path, Path], None],
    reason: str,
) -> None:
    clean, other, table = finished
    out = tmp_path / "out"
    shutil.copytree(clean, out)
    bad, kept = out / "part-00001.parquet", out / "part-00000.parquet"
    damage(bad, other)
    stamp = kept.stat().st_mtime_ns
    notices: list[str] = []
    seen: list[tuple[int, int]] = []
    resumed = run_cells(CELLS, out, client=client, chunk_size=2, notice=notices.append,
                        progress=lambda d, n: seen.append((d, n)), settings=RunSettings(samples=200))  # fmt: skip
    assert len(notices) == 1 and notices[0].startswith(f"{bad} {reason}"), notices
    assert notices[0].endswith("; computing it again") and "\n" not in notices[0]
    assert seen == [(5, 6), (6, 6)] and kept.stat().st_mtime_ns == stamp  # part 1 holds one cell
    pd.testing.assert_frame_equal(resumed, table)


def test_a_resume_with_another_chunk_size_does_not_mix_layouts(
    client: object, tmp_path: Path, finished: tuple[Path, Path, pd.DataFrame]
) -> None:
    clean, _, table = finished
    shutil.copytree(clean, tmp_path / "out")
    notices: list[str] = []
    resumed = run_cells(
        CELLS, tmp_path / "out", client=client, chunk_size=3, notice=notices.append, settings=RunSettings(samples=200)
    )
    assert len(notices) == 2 and all("another run" in n for n in notices)
    pd.testing.assert_frame_equal(resumed.sort_values("k", kind="stable").reset_index(drop=True), table)


def test_an_output_directory_that_cannot_be_made_is_refused_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(ConfigError, match="file/out: cannot write the results here"):
        run_cells(CELLS, tmp_path / "file" / "out")


@pytest.mark.parametrize("content", ["{not json", '["a list"]', '{"cells": 3}', "\udcff"])
def test_a_damaged_manifest_is_a_one_line_error(
    tmp_path: Path, finished: tuple[Path, Path, pd.DataFrame], content: str
) -> None:
    clean, _, _ = finished
    shutil.copytree(clean, tmp_path / "out")
    (tmp_path / "out" / "_manifest.json").write_bytes(content.encode("utf-8", "surrogateescape"))
    with pytest.raises(ConfigError, match=r"_manifest\.json: (unreadable manifest|the manifest names no run)"):
        run_cells(CELLS, tmp_path / "out", settings=RunSettings(samples=200))


def test_a_given_client_is_lent_and_left_open(client: object) -> None:
    from her2sim.experiments.runner import cluster_client, optional_cluster

    with cluster_client(client=client) as lent:
        assert lent is client
    assert client.status == "running"  # type: ignore[attr-defined]
    with optional_cluster() as none:  # no scheduler, no workers: work in this process
        assert none is None


def test_fingerprints_record_what_changes_results() -> None:
    from her2sim.experiments.runner import _recorded

    # as recorded before settings were one object, so directories of earlier runs resume
    assert _recorded(RunSettings(samples=200), None) == {"samples": 200, "target_se": None, "seed": None}
    assert _recorded(RunSettings(samples=200, threads=1), None) == _recorded(RunSettings(samples=200), None)
    assert _recorded(RunSettings(max_time=30), ("proliferation",)) == {
        "samples": None, "target_se": None, "seed": None, "max_time": 30, "readouts": ("proliferation",)
    }  # fmt: skip


def test_a_sigterm_while_a_part_is_written_and_counted_is_handled_after_both() -> None:
    """The stop message counts the parts from the progress reports, so SIGTERM must not
    land between a part's write and its report: it is handled after the block."""
    events: list[str] = []

    def handler(*_: object) -> None:
        events.append("handled")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        with _sigterm_deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            events.append("written and counted")
        assert events == ["written and counted", "handled"]
        assert signal.getsignal(signal.SIGTERM) is handler  # put back
    finally:
        signal.signal(signal.SIGTERM, previous)
