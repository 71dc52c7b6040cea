"""A whole :class:`~her2sim.engine.result.SimulationResult` saved as a directory, and loaded back.

The directory holds the arrays a result's tables are made from, as Parquet tables, and a
small JSON manifest (format 1)::

    manifest.json               {"format": "her2sim-result", "version": 1, "meta": {...},
                                 "scenario": {...}, "tables": {file name: rows}}
    nodes.parquet               node, internal, late_sum, late_square_sum: a row per node, in model order
    windows.parquet             time, not_kept: a row per time window
    node_probabilities.parquet  a column per node (model order), a row per window
    fixed_points.parquet        word0, word1, ..., probability: a row per fixed point reached
    states.parquet              word0, word1, ...: a row per distinct state visited    } only when the
    state_rows.parquet          state, window, probability: a row per (state, window)  } run kept state
    final_states.parquet        word0, word1, ..., probability: a row per final state   } statistics

States are packed as the engine packs them: node ``k`` is bit ``k % 64`` of the unsigned
64-bit ``word{k // 64}``. ``meta`` holds the model's content hash (``model_hash``), the
settings, seed and her2sim version; ``scenario`` the scenario the run received.

Each table is written under a temporary name and renamed when complete
(:func:`her2sim.files.replace_when_written`). An earlier manifest is removed before the
first table is written and the new one is written last, so the directory of an interrupted
save has no manifest and is refused by :func:`load_result` rather than read half old, half
new; the manifest's row counts catch tables from another save.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from her2sim.engine.provenance import scenario_from_record, scenario_record
from her2sim.engine.result import SimulationResult, StateStatistics
from her2sim.errors import ConfigError, ModelFormatError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["FORMAT", "MANIFEST", "VERSION", "load_result", "save_result"]

#: The manifest's file name, and the ``format`` it names.
MANIFEST = "manifest.json"
FORMAT = "her2sim-result"
#: The layout version this her2sim writes; a saved result of a later version is refused.
VERSION = 1
_STATE_TABLES = ("states.parquet", "state_rows.parquet", "final_states.parquet")
_TABLES = ("nodes.parquet", "windows.parquet", "node_probabilities.parquet", "fixed_points.parquet", *_STATE_TABLES)
_HINT = "save the result again with SimulationResult.save"


def _words(keys: np.ndarray) -> dict[str, np.ndarray]:
    """Packed states as one column per 64-bit word."""
    return {f"word{j}": np.ascontiguousarray(keys[:, j]) for j in range(keys.shape[1])}


def _tables(result: SimulationResult) -> dict[str, pa.Table]:
    import pyarrow as pa

    late = np.ascontiguousarray(result.late_sums.T)
    nodes = {"node": list(result.node_names), "internal": result.internal}
    tables = {
        "nodes.parquet": pa.table({**nodes, "late_sum": late[0], "late_square_sum": late[1]}),
        "windows.parquet": pa.table({"time": result.times, "not_kept": result.overflow_prob}),
        "node_probabilities.parquet": pa.table(
            {name: np.ascontiguousarray(result.node_prob[:, k]) for k, name in enumerate(result.node_names)}
        ),
        "fixed_points.parquet": pa.table({**_words(result.fixed_keys), "probability": result.fixed_prob}),
    }
    kept = result.state_statistics
    if kept is not None:
        tables["states.parquet"] = pa.table(_words(kept.keys))
        tables["state_rows.parquet"] = pa.table(
            {"state": kept.index, "window": kept.window, "probability": kept.probability}
        )
        tables["final_states.parquet"] = pa.table({**_words(kept.final_keys), "probability": kept.final_probability})
    return tables


def _check_target(folder: Path) -> None:
    """Refuse to save into a file, or into a directory that holds anything but a saved result."""
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{folder}: is a file, and a result is saved as a directory: choose a new path")
    if folder.is_dir():
        strangers = sorted(p.name for p in folder.iterdir() if p.name not in (MANIFEST, *_TABLES))
        if strangers:
            raise ConfigError(
                f"{folder}: holds {strangers[0]!r}, so it is not a saved result: save into a new or empty directory"
            )


def save_result(result: SimulationResult, path: str | os.PathLike[str]) -> None:
    """Write ``result`` into the directory ``path`` (made if needed) in the layout above.

    ``path`` must be new, empty, or a result saved before, which it replaces; anything else
    raises :class:`~her2sim.errors.ConfigError` before a file is written.
    """
    import pyarrow.parquet as pq

    from her2sim.files import atomic_write, replace_when_written

    folder = Path(path)
    _check_target(folder)
    tables = _tables(result)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST).unlink(missing_ok=True)
    for name, table in tables.items():
        with replace_when_written(folder / name) as tmp:
            pq.write_table(table, tmp)
    for name in set(_TABLES) - set(tables):  # the state tables of an earlier save
        (folder / name).unlink(missing_ok=True)
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "meta": result.meta,
        "scenario": scenario_record(result.scenario),
        "tables": {name: table.num_rows for name, table in tables.items()},
    }
    atomic_write(folder / MANIFEST, json.dumps(manifest, indent=2) + "\n")


def _manifest(folder: Path) -> dict[str, Any]:
    """The manifest of a saved result, its format and version checked."""
    from her2sim.files import read_text

    source = str(folder / MANIFEST)
    if not (folder / MANIFEST).is_file():
        raise ModelFormatError(f"no {MANIFEST}: not a saved result, or its save did not finish", str(folder),
                               hint=_HINT)  # fmt: skip
    try:
        manifest = json.loads(read_text(folder / MANIFEST))
    except json.JSONDecodeError as exc:
        raise ModelFormatError(f"not valid JSON ({exc.msg})", source, exc.lineno, exc.colno, hint=_HINT) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ModelFormatError(f'not the manifest of a saved result (no "format": "{FORMAT}")', source, hint=_HINT)
    version = manifest.get("version")
    if not isinstance(version, int) or not 1 <= version <= VERSION:
        raise ModelFormatError(f"format version {version!r}, where this her2sim reads 1 to {VERSION}", source,
                               hint="load it with the her2sim that saved it, or a newer one")  # fmt: skip
    return manifest


def _read(folder: Path, name: str, rows: Any) -> pa.Table:
    """The table ``name``, with the number of rows the manifest gives it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(folder / name)
    except (OSError, pa.ArrowException) as exc:
        raise ModelFormatError(f"cannot read: {exc}", str(folder / name), hint=_HINT) from None
    if table.num_rows != rows:
        raise ModelFormatError(f"{table.num_rows} rows where {MANIFEST} says {rows}", str(folder / name),
                               hint=f"the tables come from another save; {_HINT}")  # fmt: skip
    return table


def _keys(table: pa.Table, words: int) -> np.ndarray:
    """(rows, words) uint64 packed states from a table's ``word`` columns."""
    columns = [table.column(f"word{j}").to_numpy().astype(np.uint64) for j in range(words)]
    return np.column_stack(columns) if columns else np.empty((table.num_rows, 0), dtype=np.uint64)


def load_result(path: str | os.PathLike[str]) -> SimulationResult:
    """The result :func:`save_result` wrote into the directory ``path``.

    A missing or foreign manifest, a table that cannot be read, lacks a column or has other
    rows than the manifest says raises :class:`~her2sim.errors.ModelFormatError` naming the file.
    """
    folder = Path(path)
    manifest = _manifest(folder)
    source = str(folder / MANIFEST)
    try:
        rows = manifest["tables"]
        tables = {name: _read(folder, name, rows[name]) for name in _TABLES if name in rows}
        nodes = tables["nodes.parquet"]
        names = tuple(str(name) for name in nodes.column("node").to_pylist())
        words = (len(names) + 63) // 64
        windows, probabilities = tables["windows.parquet"], tables["node_probabilities.parquet"]
        fixed = tables["fixed_points.parquet"]
        statistics = None
        if all(name in tables for name in _STATE_TABLES):
            state_rows, finals = tables["state_rows.parquet"], tables["final_states.parquet"]
            statistics = StateStatistics(
                keys=_keys(tables["states.parquet"], words),
                index=state_rows.column("state").to_numpy().astype(np.int64),
                window=state_rows.column("window").to_numpy().astype(np.int64),
                probability=state_rows.column("probability").to_numpy().astype(np.float64),
                final_keys=_keys(finals, words),
                final_probability=finals.column("probability").to_numpy().astype(np.float64),
            )
        return SimulationResult(
            node_names=names,
            internal=nodes.column("internal").to_numpy(zero_copy_only=False).astype(bool),
            times=windows.column("time").to_numpy(),
            node_prob=np.column_stack([probabilities.column(name).to_numpy() for name in names]).astype(np.float64),
            overflow_prob=windows.column("not_kept").to_numpy().astype(np.float64),
            fixed_keys=_keys(fixed, words),
            fixed_prob=fixed.column("probability").to_numpy().astype(np.float64),
            late_sums=np.column_stack([nodes.column(c).to_numpy() for c in ("late_sum", "late_square_sum")]),
            state_statistics=statistics,
            scenario=scenario_from_record(manifest["scenario"]),
            meta=dict(manifest["meta"]),
        )
    except ModelFormatError:
        raise
    except (KeyError, TypeError, ValueError) as exc:  # a manifest or a table missing a key or a column
        raise ModelFormatError(f"incomplete saved result ({type(exc).__name__}: {exc})", source, hint=_HINT) from None
