"""State statistics by buffered sort-merge: no hash probe in the flip loop.

The flip loop appends each completed stay as rows keyed by (state, column) to a fixed-size
per-thread buffer (:func:`new_stays`): as for the node accumulators, a column below
``n_windows`` holds the time spent in a window, a column ``n_windows + a`` a +1/-1
difference count of whole windows from ``a`` on, so a stay is one to four rows. When the
buffer is full, :func:`flush_stays` sorts it with a stable radix sort and merges it, in one
linear pass, into the thread's aggregate: rows sorted by (state words, column), one per
(state, column) visited. The buffer, its sorting twin and the aggregate's two halves are
reused from flush to flush and grow only with the aggregate, which grows with the distinct
(state, column) pairs only: memory does not depend on the number of trajectories.

After the run the threads' aggregates are merged in one linear pass each
(:func:`merge_rows`) and read out by :func:`state_windows`, which folds the difference rows
into window times and numbers the states in key order, with no hash table.

A thread keeps at most ``max_rows`` aggregate rows, with the rule of the hash tables this
replaces: a stay is refused when the rows in use plus four (the most one stay adds) would
pass ``max_rows``, and from then on every stay of the thread is refused; refused stays go
whole to the dense ``overflow_acc``. The flush finds the first refused stay of a buffer
exactly, from the stay that first brings each new row.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from her2sim.engine._intrinsics import as_bits, as_float
from her2sim.engine._windows import split, spread

#: Rows a thread buffers at first before sorting them into its aggregate (24 MB for states
#: of one word, with the twin the sort moves them to); see :func:`buffer_for`.
STAY_BUFFER = 1 << 19
#: Largest number of rows one stay can add.
STAY_ROWS = 4
_LOW = np.uint64(0xFFFFFFFF)


def new_stays(n_words: int, capacity: int = STAY_BUFFER) -> np.ndarray:
    """An empty row buffer and the twin its sort moves rows to: (2, ``capacity``, ``n_words``
    state words, column, value bits). Its pages are only touched as rows arrive."""
    return np.empty((2, capacity, n_words + 2), dtype=np.uint64)


def new_rows(n_words: int) -> np.ndarray:
    """An empty aggregate: two halves (the rows in use, the other a merge target) of rows
    (``n_words`` state words, column, value bits)."""
    return np.empty((2, 0, n_words + 2), dtype=np.uint64)


def kept_rows(agg: np.ndarray, info: np.ndarray) -> np.ndarray:
    """The rows in use of an aggregate (``info``: rows in use, refused flag, current half)."""
    return agg[info[2], : info[0]]


@njit(cache=True, nogil=True)
def buffer_for(stays, agg_info):
    """``stays`` (empty), or a larger buffer once the aggregate holds more than twice its
    rows: a flush costs a pass over the aggregate, so the buffer grows with it to keep that
    pass a few row copies per buffered row (memory stays a fraction of the aggregate's)."""
    if agg_info[0] <= 2 * stays.shape[1]:
        return stays
    return np.empty((2, agg_info[0] // 2, stays.shape[2]), dtype=np.uint64)


@njit(cache=True, nogil=True, inline="always")
def _put(stays, r, words, mask, n_words, col, value):
    for w in range(n_words):
        stays[0, r, w] = words[w] & mask[w]
    stays[0, r, n_words] = col
    stays[0, r, n_words + 1] = as_bits(value)


@njit(cache=True, nogil=True, inline="always")
def keep_stay(stays, n_stays, state_info, words, mask, n_words, t0, t1, tick, n_windows, overflow_acc):
    """Append the rows of the stay [t0, t1) in state ``words & mask`` to the buffer (which has
    room for them; ``n_stays``: rows, stays), or once the thread's statistics are full
    (``state_info[1]``) add it to ``overflow_acc``. A row's column word carries its stay's
    number in the buffer in its upper 32 bits (the sort reads only the lower ones)."""
    if state_info[1]:
        spread(overflow_acc, 0, t0, t1, tick, n_windows)
        return
    w0, first, full0, full1, w1, last = split(t0, t1, tick, n_windows)
    tag = np.uint64(n_stays[1]) << np.uint64(32)
    r = n_stays[0]
    _put(stays, r, words, mask, n_words, tag | np.uint64(w0), first)
    r += 1
    if full1 > full0:
        _put(stays, r, words, mask, n_words, tag | np.uint64(n_windows + full0), 1.0)
        r += 1
        if full1 < n_windows:  # a stay that lasts to the end needs no closing -1
            _put(stays, r, words, mask, n_words, tag | np.uint64(n_windows + full1), -1.0)
            r += 1
    if w1 < n_windows:
        _put(stays, r, words, mask, n_words, tag | np.uint64(w1), last)
        r += 1
    n_stays[0] = r
    n_stays[1] += 1


@njit(cache=True, nogil=True)
def sort_rows(rows, dst):
    """``rows`` sorted by (state words, lower 32 bits of the column word), stably: a
    least-significant-digit radix sort on bytes, skipping the bytes all rows share (the
    masked-out and never-changing nodes, the upper bytes of small columns). The rows move
    between ``rows`` and ``dst`` (of the same shape); returns the one that holds them sorted."""
    n_rows, width = rows.shape
    n_words = width - 2
    n_digits = 4 + 8 * n_words  # the column's 4 bytes, then the words from the last one
    counts = np.zeros((n_digits, 256), dtype=np.int64)
    for r in range(n_rows):
        c = rows[r, n_words] & _LOW
        for b in range(4):
            counts[b, (c >> np.uint64(8 * b)) & np.uint64(255)] += 1
        for w in range(n_words):
            word = rows[r, n_words - 1 - w]
            for b in range(8):
                counts[4 + 8 * w + b, (word >> np.uint64(8 * b)) & np.uint64(255)] += 1
    src = rows
    offsets = np.empty(256, dtype=np.int64)
    for d in range(n_digits):
        if counts[d].max() == n_rows:
            continue
        col = n_words if d < 4 else n_words - 1 - (d - 4) // 8
        shift = np.uint64(8 * (d if d < 4 else (d - 4) % 8))
        total = 0
        for v in range(256):
            offsets[v] = total
            total += counts[d, v]
        for r in range(n_rows):
            v = (src[r, col] >> shift) & np.uint64(255)
            at = offsets[v]
            offsets[v] = at + 1
            for k in range(width):
                dst[at, k] = src[r, k]
        src, dst = dst, src
    return src


@njit(cache=True, nogil=True, inline="always")
def _compare(a, i, b, j, n_words):
    """-1, 0 or 1 as row ``i`` of ``a`` sorts before, with or after row ``j`` of ``b``."""
    for w in range(n_words):
        if a[i, w] != b[j, w]:
            return -1 if a[i, w] < b[j, w] else 1
    ca, cb = a[i, n_words] & _LOW, b[j, n_words] & _LOW
    if ca != cb:
        return -1 if ca < cb else 1
    return 0


@njit(cache=True, nogil=True, inline="always")
def _group_end(rows, i, n_rows, n_words):
    """End of the run of rows equal to row ``i`` in (state, column)."""
    end = i + 1
    while end < n_rows and _compare(rows, end, rows, i, n_words) == 0:
        end += 1
    return end


@njit(cache=True, nogil=True)
def _first_refused(rows, agg, used, count, max_rows):
    """The first of ``count`` stays refused for want of room (``count`` if none): the
    stays are taken in order and each new (state, column) row counted at the stay that
    brings it first (the sort is stable, so a run's first row is its first stay's)."""
    n_rows, n_words = rows.shape[0], rows.shape[1] - 2
    births = np.zeros(count, dtype=np.int64)
    a = 0
    i = 0
    while i < n_rows:
        while a < used and _compare(agg, a, rows, i, n_words) < 0:
            a += 1
        if a >= used or _compare(agg, a, rows, i, n_words) != 0:
            births[np.int64(rows[i, n_words] >> np.uint64(32))] += 1
        i = _group_end(rows, i, n_rows, n_words)
    total = used
    for s in range(count):
        if total + STAY_ROWS > max_rows:
            return s
        total += births[s]
    return count


@njit(cache=True, nogil=True)
def _refuse(rows, cut, overflow_acc):
    """Add the rows of the stays from ``cut`` on to ``overflow_acc``, stay by stay as
    :func:`spread` would have (a stay's rows are in distinct columns)."""
    n_words = rows.shape[1] - 2
    stay = (rows[:, n_words] >> np.uint64(32)).astype(np.int64)
    refused = np.flatnonzero(stay >= cut)
    for r in refused[np.argsort(stay[refused], kind="mergesort")]:
        overflow_acc[0, np.int64(rows[r, n_words] & _LOW)] += as_float(rows[r, n_words + 1])


@njit(cache=True, nogil=True)
def flush_stays(stays, n_stays, agg, agg_info, max_rows, n_windows, overflow_acc):
    """Sort the buffered rows into the aggregate ``agg`` (``agg_info``: rows in use, 1 once a
    stay was refused, the half in use) and empty the buffer; returns the aggregate (a new
    array when it had to grow). Refused stays go to ``overflow_acc``."""
    n_rows, count = n_stays[0], n_stays[1]
    n_stays[0] = n_stays[1] = 0
    if n_rows == 0:
        return agg
    n_words = stays.shape[2] - 2
    rows = sort_rows(stays[0, :n_rows], stays[1, :n_rows])
    used, cur = agg_info[0], agg_info[2]
    cut = count
    if used + n_rows + STAY_ROWS > max_rows:  # else no stay can be refused
        cut = _first_refused(rows, agg[cur], used, count, max_rows)
    if cut < count:
        agg_info[1] = 1
        _refuse(rows, cut, overflow_acc)
    groups = 0
    i = 0
    while i < n_rows:
        i = _group_end(rows, i, n_rows, n_words)
        groups += 1
    if used + groups > agg.shape[1]:
        bigger = np.empty((2, max(used + groups, 2 * agg.shape[1]), n_words + 2), dtype=np.uint64)
        bigger[cur, :used] = agg[cur, :used]
        agg = bigger
    src, out = agg[cur], agg[1 - cur]
    n = 0
    a = 0
    i = 0
    while a < used or i < n_rows:
        order = -1 if i >= n_rows else (1 if a >= used else _compare(src, a, rows, i, n_words))
        if order < 0:
            for k in range(n_words + 2):
                out[n, k] = src[a, k]
            n += 1
            a += 1
            continue
        end = _group_end(rows, i, n_rows, n_words)
        kept = order == 0
        value = as_float(src[a, n_words + 1]) if kept else 0.0
        if kept:
            a += 1
        for r in range(i, end):  # in stay order, as the stays came
            if np.int64(rows[r, n_words] >> np.uint64(32)) < cut:
                value = value + as_float(rows[r, n_words + 1]) if kept else as_float(rows[r, n_words + 1])
                kept = True
        if kept:
            for w in range(n_words):
                out[n, w] = rows[i, w]
            out[n, n_words] = rows[i, n_words] & _LOW
            out[n, n_words + 1] = as_bits(value)
            n += 1
        i = end
    agg_info[0] = n
    agg_info[2] = 1 - cur
    return agg


@njit(cache=True, nogil=True)
def merge_rows(a, b):
    """The sorted aggregate holding the rows of the sorted aggregates ``a`` and ``b``, the
    values of rows in both added (``a``'s first): one linear pass."""
    n_words = a.shape[1] - 2
    out = np.empty((a.shape[0] + b.shape[0], n_words + 2), dtype=np.uint64)
    n = 0
    i = 0
    j = 0
    while i < a.shape[0] or j < b.shape[0]:
        order = 1 if i >= a.shape[0] else (-1 if j >= b.shape[0] else _compare(a, i, b, j, n_words))
        if order <= 0:
            for k in range(n_words + 2):
                out[n, k] = a[i, k]
            if order == 0:
                out[n, n_words + 1] = as_bits(as_float(a[i, n_words + 1]) + as_float(b[j, n_words + 1]))
                j += 1
            i += 1
        else:
            for k in range(n_words + 2):
                out[n, k] = b[j, k]
            j += 1
        n += 1
    return out[:n]


@njit(cache=True, nogil=True)
def state_bound(rows, key):
    """The first row of the sorted aggregate ``rows`` whose state is not below the state
    ``key`` (a binary search on the state words)."""
    n_words = rows.shape[1] - 2
    low, high = 0, rows.shape[0]
    while low < high:
        mid = (low + high) // 2
        below = False
        for w in range(n_words):
            if rows[mid, w] != key[w]:
                below = rows[mid, w] < key[w]
                break
        if below:
            low = mid + 1
        else:
            high = mid
    return low


@njit(cache=True, nogil=True)
def _same_state(rows, i, j, n_words):
    for w in range(n_words):  # noqa: SIM110
        if rows[i, w] != rows[j, w]:
            return False
    return True


@njit(cache=True, nogil=True)
def _read_out(rows, n_windows, tick, keys, index, window, time, write):
    """Walk the aggregate state by state, adding each whole window described by the
    difference rows (a +1 at column ``n_windows + a`` and a -1 at ``n_windows + b``: the
    windows ``a .. b-1`` spent whole in the state) to the window's time; returns the
    (state, window) entries and the states, writing them when ``write``."""
    n_rows, n_words = rows.shape[0], rows.shape[1] - 2
    col = np.uint64(n_words)
    n = 0
    states = 0
    i = 0
    while i < n_rows:
        end = i + 1
        while end < n_rows and _same_state(rows, end, i, n_words):
            end += 1
        d = i  # the state's window rows are i .. d-1, its difference rows d .. end-1
        while d < end and rows[d, col] < np.uint64(n_windows):
            d += 1
        before = n
        level = 0.0
        w = 0
        k = i
        j = d
        while True:
            stop = np.int64(rows[j, col]) - n_windows if j < end else n_windows
            if level > 0.5:
                for win in range(w, stop):
                    value = level * tick
                    if k < d and np.int64(rows[k, col]) == win:
                        value = as_float(rows[k, n_words + 1]) + level * tick
                        k += 1
                    if write:
                        index[n], window[n], time[n] = states, win, value
                    n += 1
            else:
                while k < d and np.int64(rows[k, col]) < stop:
                    if write:
                        index[n], window[n], time[n] = states, np.int64(rows[k, col]), as_float(rows[k, n_words + 1])
                    n += 1
                    k += 1
            if j >= end:
                break
            level += as_float(rows[j, n_words + 1])
            w = stop
            j += 1
        if n > before:
            if write:
                for x in range(n_words):
                    keys[states, x] = rows[i, x]
            states += 1
        i = end
    return n, states


@njit(cache=True, nogil=True)
def state_windows(rows, n_windows, tick):
    """(distinct states, state index, window, time) of a merged aggregate, one entry per
    (state, window) with time in it, by state (numbered in key order) then window."""
    n_words = rows.shape[1] - 2
    empty_keys = np.empty((0, n_words), dtype=np.uint64)
    none = np.empty(0, dtype=np.int64)
    n, states = _read_out(rows, n_windows, tick, empty_keys, none, none, np.empty(0), False)
    keys = np.empty((states, n_words), dtype=np.uint64)
    index = np.empty(n, dtype=np.int64)
    window = np.empty(n, dtype=np.int64)
    time = np.empty(n, dtype=np.float64)
    _read_out(rows, n_windows, tick, keys, index, window, time, True)
    return keys, index, window, time


@njit(cache=True, nogil=True)
def order_by_window(windows, values, n_windows):
    """Order of entries by window, and within a window by value, largest first (ties in
    entry order): a radix sort on the values' bits (non-negative floats order as their bits
    do), then a counting sort on the windows, both stable."""
    n = windows.shape[0]
    keys = np.empty(n, dtype=np.uint64)
    for i in range(n):
        keys[i] = ~as_bits(values[i])  # largest value, smallest key
    counts = np.zeros((8, 256), dtype=np.int64)
    for i in range(n):
        for b in range(8):
            counts[b, (keys[i] >> np.uint64(8 * b)) & np.uint64(255)] += 1
    order = np.arange(n)
    other_keys = np.empty_like(keys)
    other_order = np.empty_like(order)
    offsets = np.empty(256, dtype=np.int64)
    for b in range(8):
        if counts[b].max() == n:
            continue
        shift = np.uint64(8 * b)
        total = 0
        for v in range(256):
            offsets[v] = total
            total += counts[b, v]
        for i in range(n):
            v = (keys[i] >> shift) & np.uint64(255)
            at = offsets[v]
            offsets[v] = at + 1
            other_keys[at] = keys[i]
            other_order[at] = order[i]
        keys, other_keys = other_keys, keys
        order, other_order = other_order, order
    starts = np.zeros(n_windows + 1, dtype=np.int64)
    for i in range(n):
        starts[windows[i] + 1] += 1
    for w in range(n_windows):
        starts[w + 1] += starts[w]
    for i in range(n):
        row = order[i]
        other_order[starts[windows[row]]] = row
        starts[windows[row]] += 1
    return other_order
