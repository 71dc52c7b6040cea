"""Run many cells on a Dask cluster, streaming results to Parquet and resuming after a stop.

Cells are grouped into chunks (cells of one context together, so each chunk simulates its
untreated baseline once). Each chunk runs on a worker with one engine thread (the cluster
provides the parallelism) and comes back as a table, which the client writes as one Parquet
part file, atomically (temporary name, then rename). An interrupted run therefore leaves only
complete parts; run it again with the same output directory and it computes only the chunks
that have no good part yet. A manifest records what the directory holds, so a different
screen cannot be mixed into it.

Each part carries, in its Parquet key-value metadata, a fingerprint of its chunk (the cells,
the settings and the run's manifest fingerprint), and page checksums. Before a resumed run
keeps a part it checks the footer, the row count, the fingerprint and every page, so a part
that was truncated, damaged on disk, copied from another run or cut for another chunk size is
computed again (and the caller told which) rather than trusted.

By default a local cluster with one single-threaded worker process per core is started; pass
``scheduler="tcp://host:port"`` to use a running distributed cluster.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import pandas as pd

from her2sim.errors import ConfigError
from her2sim.experiments.cells import Cell, evaluate_cells
from her2sim.files import atomic_write
from her2sim.her2.scenario import READOUTS
from her2sim.her2.settings import DEFAULT_SETTINGS, RunSettings

__all__ = ["Job", "cluster_client", "optional_cluster", "output_dir", "run_cells", "run_parts"]

_MANIFEST = "_manifest.json"
#: The key-value metadata entry of a part that holds its chunk's fingerprint.
_PART_KEY = b"her2sim.part"


def _chunks(cells: Sequence[Cell], size: int) -> list[list[Cell]]:
    """Cells grouped by context, cut into chunks of at most ``size``, in a stable order."""
    by_context: dict[str, list[Cell]] = {}
    for cell in cells:
        by_context.setdefault(cell.context, []).append(cell)
    return [group[i : i + size] for group in by_context.values() for i in range(0, len(group), size)]


def _fingerprint(cells: Sequence[Cell], run: dict[str, Any]) -> str:
    text = json.dumps(
        [[c.context, c.therapy, sorted((k, str(v)) for k, v in c.labels.items())] for c in cells] + [run],
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _recorded(settings: RunSettings, readouts: Sequence[str] | None) -> dict[str, Any]:
    """What of a run's settings and readouts changes its results, for its fingerprint.

    Threads change nothing (trajectory streams are keyed by trajectory); ``max_time`` and the
    readouts are recorded only when given, so a directory written before either could be
    given is resumed rather than refused.
    """
    recorded: dict[str, Any] = {"samples": settings.samples, "target_se": settings.target_se, "seed": settings.seed}
    if settings.max_time is not None:
        recorded["max_time"] = settings.max_time
    if readouts is not None:
        recorded["readouts"] = tuple(readouts)
    return recorded


def _write_part(table: pd.DataFrame, path: Path, key: str) -> None:
    """Write a chunk's table as a part: atomically, stamped with its fingerprint, with page checksums."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = pa.Table.from_pandas(table, preserve_index=False)
    data = data.replace_schema_metadata({**(data.schema.metadata or {}), _PART_KEY: key.encode()})
    buffer = pa.BufferOutputStream()
    pq.write_table(data, buffer, write_page_checksum=True)
    atomic_write(path, buffer.getvalue().to_pybytes())


def _part_problem(path: Path, key: str, rows: int) -> str | None:
    """Why the part at ``path`` cannot stand for a chunk of fingerprint ``key`` and ``rows`` rows (None: it can).

    The footer must be readable, the fingerprint and row count right, and every page must
    decode and match its checksum: a whole read, as cheap as the read that follows anyway.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        data = pa.py_buffer(path.read_bytes())  # read from memory: Arrow's messages then omit the path
        meta = pq.read_metadata(pa.BufferReader(data))
        if (meta.metadata or {}).get(_PART_KEY) != key.encode():
            return "belongs to another run or chunk"
        if meta.num_rows != rows:
            return f"holds {meta.num_rows} rows, not {rows}"
        pq.read_table(pa.BufferReader(data), page_checksum_verification=True)
    except (OSError, pa.ArrowException) as exc:
        return f"is damaged ({str(exc).splitlines()[0]})"
    return None


def _kept(path: Path, key: str, rows: int, notice: Callable[[str], None] | None) -> bool:
    """Whether an existing part can be kept; a bad one is deleted and ``notice`` told why."""
    if not path.exists():
        return False
    problem = _part_problem(path, key, rows)
    if problem is None:
        return True
    path.unlink()
    if notice:
        notice(f"{path} {problem}; computing it again")
    return False


def _check_names(cells: Sequence[Cell]) -> None:
    """Resolve every context and regimen before any work, so a typo fails at once."""
    from her2sim.her2.alterations import alteration_library
    from her2sim.her2.therapies import therapy_library

    for context in {c.context for c in cells}:
        alteration_library().context(context)
    for therapy in {c.therapy for c in cells}:
        therapy_library().regimen(therapy or None)


def _evaluate_chunk(cells: list[Cell], settings: RunSettings, readouts: Sequence[str]) -> pd.DataFrame:
    """Worker side: one chunk, one engine thread (the cluster gives the parallelism)."""
    return evaluate_cells(cells, settings=settings.with_(threads=1), readouts=readouts)


def _dask_client(scheduler: str | None, workers: int | None) -> Any:
    """A client of the cluster at ``scheduler``, or of a new local one (one single-threaded process per core)."""
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler, timeout="10s")
    n = workers or os.cpu_count() or 1
    # Quiet on stderr, whose lines are the command's: no dashboard, the scheduler's HTTP server
    # (health, metrics) on a free port rather than on 8787, which another cluster may hold, and
    # only errors logged (a stopped run's cancelled tasks are no news).
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                           scheduler_kwargs={"dashboard_address": ":0"}, silence_logs=logging.ERROR)  # fmt: skip
    return Client(cluster)


def _close_client(client: Any) -> None:
    """Close a Dask client and the local cluster it made, if it made one.

    Shutting a local cluster down may log that a worker process was still alive and had to
    be killed (``distributed.nanny``), or that connections closed under it: routine at the
    end of a run, and not the user's concern, so the ``distributed`` loggers say only errors
    while it closes. Their levels are put back afterwards.
    """
    loggers = [logging.getLogger(name) for name in ("distributed", "distributed.nanny", "distributed.worker")]
    levels = [logger.level for logger in loggers]
    local = getattr(client, "cluster", None)
    try:
        for logger in loggers:
            logger.setLevel(logging.ERROR)
        client.close()
        if local is not None:
            local.close()
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


@contextmanager
def cluster_client(
    scheduler: str | None = None, workers: int | None = None, client: Any | None = None
) -> Iterator[Any]:
    """A Dask client for the length of a ``with`` block.

    ``client`` itself when given (it stays open: its owner closes it); otherwise a client of
    the cluster at ``scheduler``, or of a new local cluster of ``workers`` single-threaded
    processes (default: one per core), closed at the end of the block with the local cluster.
    """
    if client is not None:
        yield client
        return
    made = _dask_client(scheduler, workers)
    try:
        yield made
    finally:
        _close_client(made)


@contextmanager
def optional_cluster(scheduler: str | None = None, workers: int | None = None) -> Iterator[Any | None]:
    """A Dask client (:func:`cluster_client`) when ``scheduler`` or ``workers`` asks for one,
    otherwise None: the work runs in this process, on the engine's threads."""
    if not (scheduler or workers):
        yield None
        return
    with cluster_client(scheduler, workers) as client:
        yield client


def output_dir(path: str | os.PathLike[str]) -> Path:
    """``path`` as a directory that results can be written to, made if missing.

    Writing is tried (a file made and removed), because that is what counts for root, ACLs
    and read-only mounts alike: a directory that cannot take the results fails at once, in
    one line, rather than when the first result arrives after the simulation.
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out} is a file; give a directory for the results")
    try:
        out.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix=".write-check-", dir=out)
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigError(f"{out}: cannot write the results here ({exc.strerror or exc})") from None
    return out


def _claim(out: Path, fingerprint: str, cells: int) -> None:
    """Make ``out`` the directory of the run ``fingerprint``; refuse one that holds another experiment."""
    manifest = out / _MANIFEST
    if manifest.exists():
        if _manifest_fingerprint(manifest) != fingerprint:
            raise ConfigError(f"{out} holds results of a different experiment; give a new output directory")
    elif any(out.glob("part-*.parquet")):
        raise ConfigError(f"{out} holds Parquet parts without a manifest; give a new output directory")
    else:
        atomic_write(manifest, json.dumps({"fingerprint": fingerprint, "cells": cells}))


def _manifest_fingerprint(manifest: Path) -> str:
    """The run a manifest belongs to; a manifest that cannot be read is a one-line error."""
    try:
        recorded = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{manifest}: unreadable manifest ({exc}); give a new output directory") from None
    fingerprint = recorded.get("fingerprint") if isinstance(recorded, dict) else None
    if not isinstance(fingerprint, str):
        raise ConfigError(f"{manifest}: the manifest names no run; give a new output directory")
    return fingerprint


@dataclass(frozen=True)
class Job:
    """One part of a run: a picklable function and its arguments, the fingerprint of what it
    computes, the rows its table must have, and its ``size`` in units of work (cells for
    :func:`run_cells`), which progress counts."""

    function: Callable[..., pd.DataFrame]
    arguments: tuple[Any, ...]
    key: str
    rows: int
    size: int = 1


@contextmanager
def _sigterm_deferred() -> Iterator[None]:
    """A SIGTERM received during the block handled after it, as it would have been (called
    from the main thread, with a handler Python can put back; else the block runs as is:
    signals are handled in the main thread only, and a handler installed outside Python
    reads as None, which ``signal.signal`` does not take back).
    A command stopped by SIGTERM reports the work done from ``progress``, so a part must
    not reach the disk without being counted: a stop between the two claimed fewer parts
    than were kept."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) is None:
        yield
        return
    received: list[FrameType | None] = []
    previous = signal.signal(signal.SIGTERM, lambda _signum, frame: received.append(frame))
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        if received:
            if callable(previous):
                previous(signal.SIGTERM, received[0])
            else:
                signal.raise_signal(signal.SIGTERM)


def run_parts(
    jobs: Sequence[Job],
    out_dir: str | os.PathLike[str],
    fingerprint: str,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    client: Any | None = None,
    progress: Callable[[int, int], None] | None = None,
    notice: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Compute ``jobs`` on Dask, writing ``out_dir/part-NNNNN.parquet``, and return the whole table.

    ``fingerprint`` names the run: a directory holding another run is refused, and parts already
    written by this one are kept after the checks of the module docstring.

    Parameters
    ----------
    client:
        An existing ``distributed.Client`` (otherwise one is made from ``scheduler`` or a
        local cluster of ``workers`` processes, and closed at the end).
    progress:
        Called with (work done, work in all) as parts are written, resumed ones included,
        counted in the jobs' sizes (cells for :func:`run_cells`, so a part of many cells
        counts for them all and the rate, hence an estimate of the time left, stays even).
    notice:
        Called with one line for each existing part that is not kept (damaged, or of another
        run or chunk size), naming the part and why; that part is computed again.
    """
    out = output_dir(out_dir)
    _claim(out, fingerprint, len(jobs))
    parts = [out / f"part-{i:05d}.parquet" for i in range(len(jobs))]
    todo = [i for i, p in enumerate(parts) if not _kept(p, jobs[i].key, jobs[i].rows, notice)]
    total = sum(job.size for job in jobs)
    done = total - sum(jobs[i].size for i in todo)
    if progress:
        progress(done, total)
    if todo:
        from distributed import as_completed

        with cluster_client(scheduler, workers, client) as dask:
            futures = {dask.submit(jobs[i].function, *jobs[i].arguments, pure=False): i for i in todo}
            for future in as_completed(futures):
                i = futures[future]
                table = future.result()
                with _sigterm_deferred():  # a part on disk is always counted
                    _write_part(table, parts[i], jobs[i].key)
                    done += jobs[i].size
                    if progress:
                        progress(done, total)
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)


def run_cells(
    cells: Sequence[Cell],
    out_dir: str | os.PathLike[str],
    *,
    settings: RunSettings = DEFAULT_SETTINGS,
    readouts: Sequence[str] | None = None,
    chunk_size: int = 32,
    **run: Any,
) -> pd.DataFrame:
    """Evaluate ``cells`` under ``settings`` in chunks on Dask (:func:`run_parts`; ``run`` takes
    its keyword arguments: scheduler, workers, client, progress, notice), one part per chunk.

    Each worker runs one engine thread, whatever ``settings.threads`` says.
    """
    if not cells:
        raise ConfigError("nothing to run: the experiment has no cells")
    if chunk_size < 1:
        raise ConfigError(f"chunk size must be >= 1, got {chunk_size}")
    _check_names(cells)
    recorded = _recorded(settings, readouts)
    fingerprint = _fingerprint(cells, recorded)
    measured = tuple(readouts if readouts is not None else READOUTS)
    jobs = [
        Job(_evaluate_chunk, (chunk, settings, measured), _fingerprint(chunk, {**recorded, "run": fingerprint}),
            len(chunk) * len(measured), len(chunk))
        for chunk in _chunks(cells, chunk_size)
    ]  # fmt: skip
    return run_parts(jobs, out_dir, fingerprint, **run)
