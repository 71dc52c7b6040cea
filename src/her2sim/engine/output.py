"""Writing simulation results to files: the node table, and the state table on request.

The node table is small (windows x nodes). The state table has a row per (window, state)
visited and can be gigabytes: 100,000 trajectories of MaBoSS's 78-node Ewing model over
500 windows visit 42 million (state, window) pairs, 1.4 GB as Parquet and about 7 GB as
CSV, while the node table alone is written 2 s after the run starts. So the state table is
written only when asked for; its size is estimated first, a large one is announced
(:data:`LARGE`), and one that would not fit on its disk or in memory is refused before
anything is written. Its rows are named and written a chunk at a time, so writing it needs
little memory beyond the simulation's own arrays; the next chunk is named in a second thread
while the current one is encoded (both release the GIL). Files are written under a temporary
name and renamed when complete, so a failure never leaves a partial file that looks whole.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from her2sim.engine.memory import available_memory
from her2sim.errors import ConfigError, Her2simWarning

if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import BinaryIO

    import pandas as pd
    import pyarrow as pa

    from her2sim.engine.result import SimulationResult

__all__ = ["CHUNK_ROWS", "LARGE", "StateTableSize", "state_table_size", "write_nodes", "write_states"]

#: A state table estimated larger than this (bytes) is announced with a warning before it is written.
LARGE = 256 * 2**20
#: Rows of the state table named and written at a time (a Parquet row group).
CHUNK_ROWS = 1 << 20
#: Parquet keeps a column chunk's dictionary up to this size (pyarrow's default), then writes plain values.
_DICTIONARY_PAGE = 1 << 20
#: Rows and states whose names are measured to estimate a table's size.
_SAMPLE = 4096


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise ConfigError(f"{path}: results are written as .parquet or .csv, not {path.suffix or 'no suffix'!r}")
    return suffix


def _meta(result: SimulationResult) -> str:
    """The result's metadata and scenario as JSON (non-finite numbers as text)."""
    from her2sim.engine.provenance import scenario_record

    meta = {k: (v if not isinstance(v, float) or math.isfinite(v) else str(v)) for k, v in result.meta.items()}
    meta["scenario"] = scenario_record(result.scenario)
    meta["state_overflow"] = result.state_overflow
    return json.dumps(meta)


def _floats(values: np.ndarray) -> pa.Array:
    """``values`` as a float64 Arrow array sharing their memory. ``pa.array`` would import
    pandas (to ask whether it was given a pandas object), and importing pandas cost a third of
    a second of ``her2sim simulate -o``, which otherwise needs none."""
    import pyarrow as pa

    data = np.ascontiguousarray(values, dtype=np.float64)
    return pa.Array.from_buffers(pa.float64(), len(data), [None, pa.py_buffer(data)])


def _node_table(result: SimulationResult) -> pa.Table:
    """The node table (:meth:`SimulationResult.nodes` with its index as a ``time`` column) in
    Arrow columns made from the result's arrays, without pandas (see :func:`_floats`)."""
    import pyarrow as pa

    shown = [k for k in range(len(result.node_names)) if not result.internal[k]]
    columns = [_floats(result.times), *(_floats(result.node_prob[:, k]) for k in shown)]
    return pa.Table.from_arrays(columns, names=["time", *(result.node_names[k] for k in shown)])


def _write_parquet(table: pa.Table, target: Path, meta: str) -> None:
    import pyarrow.parquet as pq

    from her2sim.files import replace_when_written

    table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"her2sim": meta})
    with replace_when_written(target) as tmp:
        pq.write_table(table, tmp)


def _write_csv(table: pd.DataFrame, target: Path) -> None:
    from her2sim.files import replace_when_written

    with replace_when_written(target) as tmp:
        table.to_csv(tmp, index=False)


def write_nodes(result: SimulationResult, path: str | os.PathLike[str]) -> None:
    """Write the node probabilities per window as Parquet or CSV (by suffix), with the
    result's metadata in the Parquet schema or in ``STEM.meta.json`` beside a CSV."""
    target = Path(path)
    meta = _meta(result)
    if _suffix(target) == ".parquet":
        _write_parquet(_node_table(result), target, meta)
    else:
        _write_csv(result.nodes().reset_index(), target)
        _write_meta_json(target, meta)


def _write_meta_json(target: Path, meta: str) -> None:
    """The metadata a CSV cannot hold, in ``STEM.meta.json`` beside it."""
    from her2sim.files import atomic_write

    atomic_write(target.with_name(target.stem + ".meta.json"), json.dumps(json.loads(meta), indent=2))


@dataclass(frozen=True)
class StateTableSize:
    """Estimated size of a state table file: its rows and distinct states, the bytes of
    the file and the bytes of memory needed to write it, and whether the distinct names fit
    Parquet's dictionary page (then a Parquet file keeps them in a dictionary)."""

    rows: int
    states: int
    file_bytes: int
    memory_bytes: int
    dictionary: bool


def state_table_size(
    result: SimulationResult, suffix: str, rows: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
) -> StateTableSize:
    """Estimate the size of ``result``'s state table written as ``suffix`` (.parquet or .csv).

    Exact row and state counts. A CSV's bytes per row are those of a sample of rows
    written as CSV. A Parquet file holds each distinct name once per row group while the
    names fit its dictionary page, and otherwise every row's name compressed about fivefold
    (sixfold on MaBoSS's Ewing model, so the estimate errs large), with eight bytes of
    probability a row. Memory counts the row arrays and two chunks of named rows (one written,
    the next named). ``rows``
    are the table's rows when already at hand (see :func:`_state_rows`).
    """
    import io

    from her2sim.engine.result import state_names

    kept = result.require_states()
    window, probability, state = rows or _state_rows(result)
    n_rows, states = len(state), len(kept.keys) + bool(len(state) > len(kept.index))
    sample = np.sort(np.random.default_rng(0).integers(0, max(n_rows, 1), min(_SAMPLE, n_rows)))
    named = state[sample][state[sample] < len(kept.keys)]
    names = state_names(kept.keys[named], result.node_names, ~result.internal)
    row_name = float(np.mean([len(n) for n in names])) if names else 10.0
    dictionary = states * (row_name + 4) <= _DICTIONARY_PAGE
    if suffix == ".csv":
        text = io.BytesIO()
        _csv(_chunks(result, (window[sample], probability[sample], state[sample])), text)
        file_bytes = n_rows * len(text.getvalue()) / max(len(sample), 1)
    elif dictionary:
        groups = -(-n_rows // CHUNK_ROWS)
        file_bytes = n_rows * (8 + math.log2(states + 1) / 8) + groups * states * (row_name + 4)
    else:
        file_bytes = n_rows * (8 + (row_name + 4) / 5)
    memory_bytes = n_rows * 24 + 2 * min(n_rows, CHUNK_ROWS) * (3 * row_name + 64)  # two chunks in flight
    return StateTableSize(n_rows, states, int(file_bytes), int(memory_bytes), dictionary)


def _gb(n: float) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e8 else f"{n / 1e6:.1f} MB"


def _check_room(target: Path, size: StateTableSize, other: StateTableSize) -> None:
    """Refuse a state table that would not fit on its disk or in memory; announce a large one."""
    folder = next((p for p in (target.parent, *target.parent.parents) if p.exists()), Path("."))
    free = shutil.disk_usage(folder).free
    memory = available_memory()
    fix = "make it smaller with a larger time_tick or fewer trajectories"
    if target.suffix.lower() == ".csv" and other.file_bytes < size.file_bytes:
        fix = f"write it as .parquet (about {_gb(other.file_bytes)}), or {fix}"
    if size.file_bytes > free:
        raise ConfigError(
            f"{target}: the state table would take about {_gb(size.file_bytes)} ({size.rows:,} rows), more than "
            f"the {_gb(free)} free on its disk; {fix}"
        )
    if memory is not None and size.memory_bytes > memory:
        raise ConfigError(
            f"{target}: writing the state table needs about {_gb(size.memory_bytes)} of memory ({size.states:,} "
            f"states), more than the {_gb(memory)} available; make it smaller with a larger time_tick or fewer "
            "trajectories"
        )
    if size.file_bytes > LARGE:
        warnings.warn(
            f"{target}: the state table will be about {_gb(size.file_bytes)} ({size.rows:,} rows, {size.states:,} "
            f"states); {fix}",
            Her2simWarning,
            stacklevel=4,  # the caller of SimulationResult.save_states
        )


def _state_rows(result: SimulationResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(window, probability, state index) of every row of the state table, the
    :data:`~her2sim.engine.result.NOT_KEPT` rows (state index = number of states) included."""
    kept = result.require_states()
    return result._with_not_kept(kept.window, kept.probability, kept.index, len(kept.keys))


def _chunks(result: SimulationResult, rows: tuple[np.ndarray, np.ndarray, np.ndarray]) -> Iterator[pa.Table]:
    """The state table as Arrow tables of at most :data:`CHUNK_ROWS` rows, each row's state
    named as it is written: memory holds one chunk's names, never the whole table's."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from her2sim.engine._names import state_name_array
    from her2sim.engine.result import NOT_KEPT

    window, probability, state = rows
    keys, include = result.require_states().keys, ~result.internal
    for start in range(0, max(len(state), 1), CHUNK_ROWS):
        part = state[start : start + CHUNK_ROWS]
        kept = part < len(keys)
        picked = keys[np.where(kept, part, 0)] if len(keys) else np.zeros((len(part), keys.shape[1]), np.uint64)
        names = state_name_array(picked, result.node_names, include)
        if not kept.all():
            names = pc.if_else(pa.array(kept), names, pa.scalar(NOT_KEPT, pa.large_string()))
        yield pa.Table.from_arrays(
            [_floats(result.times[window[start : start + CHUNK_ROWS]]), names,
             _floats(probability[start : start + CHUNK_ROWS])],
            names=["time", "state", "probability"],
        )  # fmt: skip


def _ahead(chunks: Iterator[pa.Table]) -> Iterator[pa.Table]:
    """``chunks``, each made in a second thread while the one before is consumed: naming a
    chunk (Numba, no GIL) overlaps with encoding the previous one (Arrow, no GIL). Measured on
    300,000 HER2 trajectories: naming 2.7 s, Parquet encoding 3.9 s, done one after the other
    before. An error in the producer is raised here, in the consumer."""
    import queue
    import threading

    done = object()
    handoff: queue.Queue[object] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def hand(item: object) -> bool:
        """Put ``item`` in the hand-off, unless the consumer has stopped (then False)."""
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for chunk in chunks:
                if not hand(chunk):
                    return
            hand(done)
        except BaseException as error:  # handed to the consumer, which raises it
            hand(error)

    worker = threading.Thread(target=produce, name="her2sim-state-names", daemon=True)
    worker.start()
    try:
        while (item := handoff.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


def _stream_parquet(chunks: Iterator[pa.Table], target: Path, meta: str, dictionary: bool) -> None:
    """Write the chunks as one Parquet file. The state names get no statistics (the minimum
    and maximum of long names help no reader), and a dictionary only when their distinct
    names fit its page (``dictionary``, see :func:`state_table_size`): else Parquet builds
    it and drops it when it outgrows its page. Measured on the 28 M rows (12 M states) of
    300,000 HER2 trajectories: 3.6-3.8 s and 653 MB with pyarrow's defaults, 3.2 s and 645
    MB without those two."""
    import pyarrow.parquet as pq

    from her2sim.files import replace_when_written

    schema = _schema().with_metadata({"her2sim": meta})
    encoded = ["time", "state"] if dictionary else ["time"]
    with (
        replace_when_written(target) as tmp,
        pq.ParquetWriter(tmp, schema, use_dictionary=encoded, write_statistics=["time", "probability"]) as out,
    ):
        for chunk in _ahead(chunks):
            out.write_table(chunk)


def _stream_csv(chunks: Iterator[pa.Table], target: Path) -> None:
    from her2sim.files import replace_when_written

    with replace_when_written(target) as tmp, open(tmp, "wb") as fh:
        _csv(chunks, fh)


def _csv(chunks: Iterator[pa.Table], fh: BinaryIO) -> None:
    """The chunks as CSV: a plain header, then unquoted values (state names hold no comma
    or quote; Arrow refuses a value that would need quoting rather than corrupt the file)."""
    import pyarrow.csv as csv

    fh.write(b"time,state,probability\n")
    options = csv.WriteOptions(include_header=False, quoting_style="none")
    with csv.CSVWriter(fh, _schema(), write_options=options) as writer:
        for chunk in _ahead(chunks):
            writer.write_table(chunk)


def _schema() -> pa.Schema:
    import pyarrow as pa

    return pa.schema([("time", pa.float64()), ("state", pa.large_string()), ("probability", pa.float64())])


def write_states(result: SimulationResult, path: str | os.PathLike[str]) -> None:
    """Write the state probabilities per window (the rows of :meth:`SimulationResult.states`)
    as Parquet or CSV (by suffix), with the result's metadata.

    The rows are named and written :data:`CHUNK_ROWS` at a time, so memory holds one
    chunk's names, not the table's. The file's size is estimated first
    (:func:`state_table_size`): a table that would not fit on its disk or in memory raises
    :class:`~her2sim.errors.ConfigError` before anything is written, and one larger than
    :data:`LARGE` is announced with a warning.
    """
    result.require_states()
    target = Path(path)
    suffix = _suffix(target)
    rows = _state_rows(result)
    other = ".csv" if suffix == ".parquet" else ".parquet"
    size = state_table_size(result, suffix, rows)
    _check_room(target, size, state_table_size(result, other, rows))
    meta = _meta(result)
    if suffix == ".parquet":
        _stream_parquet(_chunks(result, rows), target, meta, size.dictionary)
    else:
        _stream_csv(_chunks(result, rows), target)
        _write_meta_json(target, meta)
