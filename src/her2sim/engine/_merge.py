"""Add up the per-thread statistics tables of a simulation into plain arrays.

Each thread keeps its own hash tables keyed by (state, column) (see the statistics tables
of :mod:`her2sim.engine._kernel`). Merging adds every thread's rows into one table, folds
the difference rows of whole windows into per-window times, and reads the rows out as
(states, state index, window, time) arrays. Every step is linear in the number of rows,
apart from sorting the difference rows, of which there is at most one pair per long stay.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from her2sim.engine import _kernel

__all__ = ["merge_counts", "merge_state_windows"]

EMPTY = _kernel.EMPTY


def _merged(tables: list[np.ndarray], used: list[int]) -> np.ndarray:
    """One table holding the sums of ``tables``: the fullest one, grown as needed, with the
    others' rows added in (the threads' tables are not used again)."""
    order = np.argsort(used)[::-1]
    dest = tables[order[0]]
    count = np.array([used[order[0]]], dtype=np.int64)
    for i in order[1:]:
        dest = _kernel._with_room(dest, count, used[i], _kernel.UNBOUNDED)
        _kernel.add_rows(dest, count, tables[i])
    return dest


def _rows(table: np.ndarray, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(key words, column, value) of the table rows where ``columns`` is True."""
    n_words = table.shape[1] - 2
    rows = np.nonzero(columns)[0]
    return table[rows, :n_words], table[rows, n_words].astype(np.int64), table[rows, n_words + 1].view(np.float64)


@njit(cache=True, nogil=True)
def _number_states(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index of each row's state among the distinct states, first row of each state)."""
    n_words = keys.shape[1]
    capacity = 2
    while capacity < 2 * keys.shape[0] + 2:
        capacity *= 2
    table = np.full((capacity, n_words + 2), EMPTY, dtype=np.uint64)
    full = np.full(n_words, EMPTY, dtype=np.uint64)
    ids = np.empty(keys.shape[0], dtype=np.int64)
    first = np.empty(keys.shape[0], dtype=np.int64)
    key = np.empty(n_words, dtype=np.uint64)  # a copy, not a slice: slicing in the loop is slow
    ahead = np.empty(n_words, dtype=np.uint64)
    count = 0
    for row in range(keys.shape[0]):
        if row + _kernel.PREFETCH_AHEAD < keys.shape[0]:
            _kernel._prefetch_key(table, keys, row + _kernel.PREFETCH_AHEAD, n_words, 0, ahead)
        for w in range(n_words):
            key[w] = keys[row, w]
        slot = _kernel._slot(table, key, full, n_words, 0)
        if table[slot, n_words] == EMPTY:
            for w in range(n_words):
                table[slot, w] = key[w]
            table[slot, n_words] = 0
            table[slot, n_words + 1] = count
            first[count] = row
            count += 1
        ids[row] = np.int64(table[slot, n_words + 1])
    return ids, first[:count]


def merge_counts(tables: list[np.ndarray], used: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Add up per-thread tables of state counts: (packed states, total counts)."""
    table = _merged(tables, used)
    keys, _, counts = _rows(table, table[:, -2] != EMPTY)
    return keys, counts.copy()


def merge_state_windows(
    tables: list[np.ndarray], used: list[int], n_windows: int, tick: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Add up per-thread (state, window) tables.

    A row's column below ``n_windows`` is the time spent in the state within that window;
    a column ``n_windows + a`` holds a +1/-1 difference count of whole windows from ``a``
    on. Returns (distinct packed states, state index, window, time) with one entry per
    (state, window) visited.
    """
    table = _merged(tables, used)
    count = np.array([np.count_nonzero(table[:, -2] != EMPTY)], dtype=np.int64)
    columns = table[:, -2]
    keys, cols, values = _rows(table, (columns != EMPTY) & (columns >= np.uint64(n_windows)))
    if len(cols):
        order = np.lexsort((cols, *keys.T[::-1]))
        keys, cols, values = keys[order], cols[order], values[order].copy()
        table = _kernel.fold_whole_windows(table, count, keys, cols, values, n_windows, tick)
    keys, windows, times = _rows(table, table[:, -2] < np.uint64(n_windows))
    index, first = _number_states(np.ascontiguousarray(keys))
    return keys[first], index, windows, times.copy()
