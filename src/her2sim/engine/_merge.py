"""Add up the per-thread statistics of a simulation into plain arrays.

Final states and fixed points are per-thread hash tables keyed by state (see
:mod:`her2sim.engine._kernel`): their rows are added into one table and read out. State
probabilities are per-thread aggregates sorted by (state, column) (see
:mod:`her2sim.engine._stays`): they are merged in one linear pass per thread, read out with
the whole windows folded in and the states numbered in key order, each entry written
straight to its place in the table ordered by window, within a window in state order. With
several threads the merge and read-out run in parallel on ranges of states (the aggregates
are split at the same states).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from her2sim.engine import _kernel, _stays

__all__ = ["merge_counts", "merge_final_counts", "merge_state_windows"]

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


def merge_counts(tables: list[np.ndarray], used: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Add up per-thread tables of state counts: (packed states, total counts)."""
    table, count = _merged(tables, used)
    return _read_counts(table, count)


def merge_final_counts(
    final: list[np.ndarray], final_used: list[int], fixed: list[np.ndarray], fixed_used: list[int],
    state_mask: np.ndarray,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:  # fmt: skip
    """The final-state and the fixed-point counts, each as :func:`merge_counts` gives them,
    from the per-thread tables. The kernel counts a trajectory that ends at a fixed point in
    the fixed-point table only: its final state is that fixed point with the internal nodes
    masked out (``state_mask``), added here."""
    points, n_points = _merged(fixed, fixed_used)
    table, count = _merged(final, final_used)
    table = _kernel.with_room(table, count, int(n_points[0]), _kernel.UNBOUNDED)
    _kernel.add_masked_rows(table, count, points, state_mask)
    return _read_counts(table, count), _read_counts(points, n_points)


def _read_counts(table: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(packed states, counts) of a table of state counts with ``count[0]`` rows in use."""
    keys, _, counts = _kernel.read_rows(table, int(count[0]), np.uint64(0), EMPTY)
    return keys, counts


def _merge_range(
    parts: list[np.ndarray], n_windows: int, tick: float, shift: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """The merged ``parts`` (aggregate slices of one range of states), with their entries
    per window and their states (:func:`_stays.count_entries`)."""
    rows = parts[0]
    for other in parts[1:]:
        rows = _stays.merge_rows(rows, other)
    counts, states = _stays.count_entries(rows, n_windows, tick, shift)
    return rows, counts, int(states)


def _state_ranges(aggregates: list[np.ndarray], parts: int, shift: int) -> list[list[np.ndarray]]:
    """``aggregates`` cut into ``parts`` ranges of states (each a list of one slice per
    aggregate), at the states found at the quantiles of the largest one."""
    largest = max(aggregates, key=len)
    pivots = [largest[len(largest) * q // parts] for q in range(1, parts)] if len(largest) else []
    cuts = [[0, *(_stays.state_bound(a, pivot, shift) for pivot in pivots), len(a)] for a in aggregates]
    return [[a[c[q] : c[q + 1]] for a, c in zip(aggregates, cuts, strict=True)] for q in range(len(pivots) + 1)]


def merge_state_windows(
    aggregates: list[np.ndarray], n_windows: int, tick: float, shift: int, threads: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Add up per-thread (state, column) aggregates.

    A row's column below ``n_windows`` is the time spent in the state within that window;
    a column ``n_windows + a`` holds a +1/-1 difference count of whole windows from ``a``
    on; the keys are laid out by ``shift`` (see :func:`_stays.key_layout`). Returns
    (distinct packed states, state index, window, time) with one entry per (state, window)
    visited, ordered by window and, within a window, by state.
    With ``threads`` > 1 the states are split into that many ranges at the largest
    aggregate's quantiles, merged and read out in parallel (all calls release the GIL). The
    ranges first count their entries per window; then each writes its entries straight to
    their places in the output (a range's after the earlier ranges' in each window), so the
    output is ordered by window without a sort or a copy. ``aggregates`` is emptied: its
    arrays are freed as soon as they are merged, and the output takes their pages (fresh
    pages cost their zeroing, and in a virtual machine more).
    """
    ranges = _state_ranges(aggregates, threads, shift)
    n_words = aggregates[0].shape[1] - (1 if shift > 0 else 2)
    aggregates.clear()  # freed once merged, so that the output reuses their pages
    with ThreadPoolExecutor(max_workers=len(ranges)) as pool:  # its threads start with the first map
        run = pool.map if len(ranges) > 1 else map
        merged = list(run(lambda parts: _merge_range(parts, n_windows, tick, shift), ranges))
        del ranges
        counts = np.array([m[1] for m in merged]).reshape(len(merged), n_windows)
        # range q's entries of window w start after every range's entries of the earlier
        # windows and the earlier ranges' entries of window w
        places = np.cumsum(counts.T.ravel()).reshape(n_windows, len(merged)).T - counts
        first_states = np.cumsum([0] + [m[2] for m in merged])
        keys = np.empty((int(first_states[-1]), n_words), dtype=np.uint64)
        n = int(counts.sum())
        index, windows, times = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64), np.empty(n)

        def write(q: int) -> None:
            _stays.write_entries(merged[q][0], n_windows, tick, shift, places[q].copy(), int(first_states[q]),
                                 keys, index, windows, times)  # fmt: skip

        list(run(write, range(len(merged))))
    return keys, index, windows, times
