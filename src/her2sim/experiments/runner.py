"""Run many cells on a Dask cluster, streaming results to Parquet and resuming after a stop.

Cells are grouped into chunks (cells of one context together, so each chunk simulates its
untreated baseline once). Each chunk runs on a worker with one engine thread (the cluster
provides the parallelism) and comes back as a table, which the client writes as one Parquet
part file, atomically (temporary name, then rename). An interrupted run therefore leaves only
complete parts; run it again with the same output directory and it computes only the chunks
that have no part yet. A manifest records what the directory holds, so a different screen
cannot be mixed into it.

By default a local cluster with one single-threaded worker process per core is started; pass
``scheduler="tcp://host:port"`` to use a running distributed cluster.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from her2sim.errors import ConfigError
from her2sim.experiments.cells import Cell, evaluate_cells
from her2sim.formats._io import write_table

__all__ = ["dask_client", "run_cells"]

_MANIFEST = "_manifest.json"


def _chunks(cells: Sequence[Cell], size: int) -> list[list[Cell]]:
    """Cells grouped by context, cut into chunks of at most ``size``, in a stable order."""
    by_context: dict[str, list[Cell]] = {}
    for cell in cells:
        by_context.setdefault(cell.context, []).append(cell)
    return [group[i : i + size] for group in by_context.values() for i in range(0, len(group), size)]


def _fingerprint(cells: Sequence[Cell], settings: dict[str, Any]) -> str:
    text = json.dumps(
        [[c.context, c.therapy, sorted((k, str(v)) for k, v in c.labels.items())] for c in cells] + [settings],
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _check_names(cells: Sequence[Cell]) -> None:
    """Resolve every context and regimen before any work, so a typo fails at once."""
    from her2sim.her2.alterations import alteration_library
    from her2sim.her2.therapies import therapy_library

    for context in {c.context for c in cells}:
        alteration_library().context(context)
    for therapy in {c.therapy for c in cells}:
        therapy_library().regimen(therapy or None)


def _evaluate_chunk(cells: list[Cell], settings: dict[str, Any]) -> pd.DataFrame:
    """Worker side: one chunk, one engine thread."""
    return evaluate_cells(cells, threads=1, **settings)


def dask_client(scheduler: str | None = None, workers: int | None = None) -> Any:
    """A client of the cluster at ``scheduler``, or of a new local one (one single-threaded process per core)."""
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler, timeout="10s")
    n = workers or os.cpu_count() or 1
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
    return Client(cluster)


def run_cells(
    cells: Sequence[Cell],
    out_dir: str | os.PathLike[str],
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    client: Any | None = None,
    chunk_size: int = 32,
    samples: int | None = None,
    target_se: float | None = None,
    readouts: Sequence[str] | None = None,
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Evaluate ``cells`` on Dask, writing ``out_dir/part-NNNNN.parquet``; return the whole table.

    Parameters
    ----------
    client:
        An existing ``distributed.Client`` (otherwise one is made from ``scheduler`` or a
        local cluster of ``workers`` processes, and closed at the end).
    progress:
        Called with (chunks done, chunks in all) as parts are written, resumed ones included.
    """
    if not cells:
        raise ConfigError("nothing to run: the experiment has no cells")
    if chunk_size < 1:
        raise ConfigError(f"chunk size must be >= 1, got {chunk_size}")
    _check_names(cells)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out} is a file; give a directory for the results")
    settings: dict[str, Any] = {"samples": samples, "target_se": target_se, "seed": seed}
    if readouts is not None:
        settings["readouts"] = tuple(readouts)
    fingerprint = _fingerprint(cells, {k: v for k, v in settings.items()})
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / _MANIFEST
    if manifest.exists():
        if json.loads(manifest.read_text()).get("fingerprint") != fingerprint:
            raise ConfigError(f"{out} holds results of a different experiment; give a new output directory")
    elif any(out.glob("part-*.parquet")):
        raise ConfigError(f"{out} holds Parquet parts without a manifest; give a new output directory")
    else:
        manifest.write_text(json.dumps({"fingerprint": fingerprint, "cells": len(cells)}))
    chunks = _chunks(cells, chunk_size)
    parts = [out / f"part-{i:05d}.parquet" for i in range(len(chunks))]
    todo = [i for i, p in enumerate(parts) if not p.exists()]
    done = len(chunks) - len(todo)
    if progress:
        progress(done, len(chunks))
    if todo:
        own = client is None
        client = client or dask_client(scheduler, workers)
        try:
            from distributed import as_completed

            futures = {client.submit(_evaluate_chunk, chunks[i], settings, pure=False): i for i in todo}
            for future in as_completed(futures):
                write_table(future.result(), parts[futures[future]])
                done += 1
                if progress:
                    progress(done, len(chunks))
        finally:
            if own:
                cluster = getattr(client, "cluster", None)
                client.close()
                if cluster is not None:
                    cluster.close()
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
