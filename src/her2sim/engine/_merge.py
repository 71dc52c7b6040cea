"""Add up the per-thread statistics tables of a simulation into plain arrays.

Each thread keeps its own hash tables keyed by (state, column) (see the statistics tables
of :mod:`her2sim.engine._kernel`). Merging adds every thread's rows into one table, folds
the difference rows of whole windows into per-window times, and reads the rows out as
(states, state index, window, time) arrays, ordered by window and, within a window, by
time. Every step is linear in the number of rows apart from the sorts: of each window's
rows by time, and of the difference rows (at most one pair per long stay).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from her2sim.engine import _kernel

__all__ = ["merge_counts", "merge_state_windows"]

EMPTY = _kernel.EMPTY


def _merged(tables: list[np.ndarray], used: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """One table holding the sums of ``tables``, with its row count: the fullest table,
    grown as needed, with the others' rows added in (the threads' tables are not used again)."""
    order = np.argsort(used)[::-1]
    dest = tables[order[0]]
    count = np.array([used[order[0]]], dtype=np.int64)
    for i in order[1:]:
        dest = _kernel.with_room(dest, count, used[i], _kernel.UNBOUNDED)
        _kernel.add_rows(dest, count, tables[i])
    return dest, count


def _rows(table: np.ndarray, used: int, low: int, high: int = int(EMPTY)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(key words, column, value) of the table rows whose column is in [low, high)."""
    return _kernel.read_rows(table, used, np.uint64(low), np.uint64(high))


def merge_counts(tables: list[np.ndarray], used: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Add up per-thread tables of state counts: (packed states, total counts)."""
    table, count = _merged(tables, used)
    keys, _, counts = _rows(table, int(count[0]), 0)
    return keys, counts


def merge_state_windows(
    tables: list[np.ndarray], used: list[int], n_windows: int, tick: float, threads: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Add up per-thread (state, window) tables.

    A row's column below ``n_windows`` is the time spent in the state within that window;
    a column ``n_windows + a`` holds a +1/-1 difference count of whole windows from ``a``
    on. Returns (distinct packed states, state index, window, time) with one entry per
    (state, window) visited, ordered by window and, within a window, by time, longest first.
    With ``threads`` > 1 the states are numbered while the rows are ordered.
    """
    table, count = _merged(tables, used)
    keys, cols, values = _rows(table, int(count[0]), n_windows)
    if len(cols):
        order = np.lexsort((cols, *keys.T[::-1]))
        keys, cols, values = keys[order], cols[order], values[order]
        table = _kernel.fold_whole_windows(table, count, keys, cols, values, n_windows, tick)
    keys, windows, times = _rows(table, int(count[0]), 0, n_windows)
    if threads > 1:
        with ThreadPoolExecutor(max_workers=2) as pool:  # both release the GIL
            numbering = pool.submit(_kernel.number_states, keys)
            order = _kernel.order_by_window(windows, times, n_windows)
            index, first = numbering.result()
    else:
        index, first = _kernel.number_states(keys)
        order = _kernel.order_by_window(windows, times, n_windows)
    return keys[first], index[order], windows[order], times[order]
