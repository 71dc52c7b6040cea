"""Add up the per-thread accumulators of a simulation into one set of tables.

Each thread keeps its own hash tables of states (ids in insertion order) and a sparse table
of (state id, window column) times. Merging maps every thread's state ids into one combined
table with the kernel's own hash look-up (linear in the number of states), then folds the
difference columns of whole windows into per-window times.
"""

from __future__ import annotations

import numpy as np

from her2sim.engine import _kernel

__all__ = ["merge_counts", "merge_state_windows"]

EMPTY, ROW_EXTRA = _kernel.EMPTY, _kernel.ROW_EXTRA


def _combine(tables: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """One table's worth of states from several: (keys ordered by new id, per-table id maps)."""
    n_words = tables[0].shape[1] - ROW_EXTRA
    total = sum(int(np.count_nonzero(t[:, n_words] != EMPTY)) for t in tables)
    capacity = 1
    while capacity < 2 * total + 2:
        capacity *= 2
    dest = _kernel.empty_state_table(capacity, n_words)
    used = np.zeros(1, dtype=np.int64)
    maps = []
    for table in tables:
        id_map = np.full(table.shape[0], -1, dtype=np.int64)
        _kernel.merge_states(table, dest, used, id_map)
        maps.append(id_map)
    rows = np.nonzero(dest[:, n_words] != EMPTY)[0]
    keys = np.zeros((int(used[0]), n_words), dtype=np.uint64)
    keys[dest[rows, n_words + 1].astype(np.int64)] = dest[rows, :n_words]
    return keys, maps


def merge_counts(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Add up per-thread (state table, counts by id): (packed states, total counts)."""
    keys, maps = _combine([table for table, _ in parts])
    totals = np.zeros(len(keys))
    for (_, counts), id_map in zip(parts, maps, strict=True):
        known = id_map >= 0
        np.add.at(totals, id_map[known], counts[: len(id_map)][known])
    return keys, totals


def merge_state_windows(
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], n_windows: int, tick: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Add up per-thread sparse (state, window) times.

    Each part is (state table, pair keys, pair values) where a pair key is
    ``state id * (2W + 1) + column``: columns below W are times in a window, the others the
    +1/-1 difference counts of whole windows. Returns (packed states, state index, window,
    time) with one entry per (state, window) visited.
    """
    width = 2 * n_windows + 1
    keys, maps = _combine([table for table, _, _ in parts])
    gids, cols, vals = [], [], []
    for (_, pair_keys, pair_vals), id_map in zip(parts, maps, strict=True):
        used = pair_keys != -1
        gids.append(id_map[pair_keys[used] // width])
        cols.append(pair_keys[used] % width)
        vals.append(pair_vals[used])
    gid, col, val = np.concatenate(gids), np.concatenate(cols), np.concatenate(vals)
    direct = col < n_windows
    out_gid, out_win, out_val = [gid[direct]], [col[direct]], [val[direct]]
    # whole windows: a +1 at column a and a -1 at column b cover windows a .. b-1
    d_gid, d_col, d_val = gid[~direct], col[~direct] - n_windows, val[~direct]
    if len(d_gid):
        order = np.lexsort((d_col, d_gid))
        d_gid, d_col, d_val = d_gid[order], d_col[order], d_val[order]
        running = np.cumsum(d_val)
        starts = np.r_[0, np.nonzero(np.diff(d_gid))[0] + 1]
        before = np.repeat(np.r_[0.0, running[starts[1:] - 1]], np.diff(np.r_[starts, len(d_gid)]))
        level = running - before  # whole windows counted from d_col up to the group's next entry
        last_of_group = np.r_[d_gid[1:] != d_gid[:-1], True]
        nxt = np.where(last_of_group, n_windows, np.r_[d_col[1:], n_windows])
        span = np.where(level > 0.5, np.maximum(nxt - d_col, 0), 0)
        keep = span > 0
        offsets = np.arange(span[keep].sum()) - np.repeat(np.cumsum(span[keep]) - span[keep], span[keep])
        out_gid.append(np.repeat(d_gid[keep], span[keep]))
        out_win.append(np.repeat(d_col[keep], span[keep]) + offsets)
        out_val.append(np.repeat(level[keep], span[keep]) * tick)
    gid, win, val = np.concatenate(out_gid), np.concatenate(out_win), np.concatenate(out_val)
    combined = gid * n_windows + win
    unique, inverse = np.unique(combined, return_inverse=True)
    sums = np.bincount(inverse.ravel(), weights=val, minlength=len(unique))
    return keys, unique // n_windows, unique % n_windows, sums
