"""State statistics by buffered sort-merge: no hash probe in the flip loop.

The flip loop appends each completed stay as rows keyed by (state, column) to a fixed-size
per-thread buffer (:func:`new_stays`): as for the node accumulators, a column below
``n_windows`` holds the time spent in a window, a column ``n_windows + a`` a +1/-1
difference count of whole windows from ``a`` on, so a stay is one to four rows. When the
buffer is full, :func:`flush_stays` sorts it with a stable radix sort and merges it, in one
linear pass, into the thread's aggregate: rows sorted by key, one per (state, column)
visited. The buffer and its sorting twin keep their size; the aggregate, one array reused
from flush to flush, grows with the distinct (state, column) pairs only: memory does not
depend on the number of trajectories.

A row is its key words and its value (a float64's bits). The key is the packed state
(masked) with the column in the low ``shift`` bits of its last word when they fit there
(:func:`key_layout`; so a model of up to ~50 nodes has a one-word key, which sorts and
compares as one integer), else in a key word of its own (``shift`` 0). The top bit of the
last key word marks a stay's first row until the flush strips it.

After the run the threads' aggregates are merged in one linear pass each
(:func:`merge_rows`) and read out (:func:`count_entries`, :func:`write_entries`), which
folds the difference rows into window times, numbers the states in key order, with no hash
table, and writes each entry straight to its place in the table ordered by window.

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

#: Bytes of the rows a thread buffers before sorting them into its aggregate (the twin the
#: sort moves them to doubles it). A buffer's pages are touched only as rows arrive, so a
#: short run costs little of it. Each flush walks the whole aggregate, but a walk costs
#: about 5 ns a row (:func:`_merge_one_word`) and a fresh buffer's pages cost their zeroing:
#: a buffer grown with the aggregate at each flush made 300,000 HER2 trajectories (2
#: threads, 14.6 M rows a thread) take 7.9 s in the kernel, one of a fixed size 7.3 s from
#: 32 MiB, 6.9 s from 64 MiB, 6.5 s from 128 MiB and from 256 MiB.
STAY_BUFFER_BYTES = 128 << 20
#: Largest number of rows one stay can add.
STAY_ROWS = 4
#: The bit of the last key word that marks a stay's first row in the buffer.
FIRST = np.uint64(1) << np.uint64(63)
#: Most bits of one radix-sort digit: 2,048 counters stay in the L1 cache. The bits are
#: shared out evenly between the passes they need (47 bits: five of 10, not four of 11 and
#: one of 3): fewer buckets scatter faster, 24 against 33 ns a row on 8 M rows.
_DIGIT = 11
_RADIX = 1 << _DIGIT


@njit(cache=True, nogil=True)
def key_layout(state_mask, n_windows):
    """(key words, shift) of the rows for states under ``state_mask`` and ``n_windows``
    windows: the column takes the low ``shift`` bits of the last state word when they are
    free (the top bit kept for the stay mark), else a key word of its own (``shift`` 0)."""
    n_words = state_mask.shape[0]
    bits = 1
    while (1 << bits) <= 2 * n_windows:
        bits += 1
    top = 0
    last = state_mask[n_words - 1]
    while top < 64 and (last >> np.uint64(top)) != 0:
        top += 1
    if top + bits < 64:
        return n_words, bits
    return n_words + 1, 0


@njit(cache=True, nogil=True, inline="always")
def _column_mask(shift):
    """The bits of the last key word that hold the column."""
    if shift > 0:
        return (np.uint64(1) << np.uint64(shift)) - np.uint64(1)
    return ~FIRST


def new_stays(n_key: int, capacity: int | None = None) -> np.ndarray:
    """An empty row buffer and the twin its sort moves rows to: (2, ``capacity``, ``n_key``
    key words and the value bits), of :data:`STAY_BUFFER_BYTES` unless ``capacity`` rows are
    asked for. Its pages are only touched as rows arrive."""
    if capacity is None:
        capacity = STAY_BUFFER_BYTES // (8 * (n_key + 1))
    return np.empty((2, capacity, n_key + 1), dtype=np.uint64)


def new_rows(n_key: int) -> np.ndarray:
    """An empty aggregate: rows of ``n_key`` key words and the value bits, the rows in use
    first, then room for the next merge (see :func:`flush_stays`)."""
    return np.empty((0, n_key + 1), dtype=np.uint64)


def kept_rows(agg: np.ndarray, info: np.ndarray) -> np.ndarray:
    """The rows in use of an aggregate (``info``: rows in use, 1 once a stay was refused)."""
    return agg[: info[0]]


@njit(cache=True, nogil=True, inline="always")
def _put(stays, r, words, mask, n_words, shift, col, value):
    row = stays[0, r]
    for w in range(n_words - 1):
        row[w] = words[w] & mask[w]
    last = words[n_words - 1] & mask[n_words - 1]
    if shift > 0:
        row[n_words - 1] = (last << np.uint64(shift)) | col
        row[n_words] = as_bits(value)
    else:
        row[n_words - 1] = last
        row[n_words] = col
        row[n_words + 1] = as_bits(value)


@njit(cache=True, nogil=True, inline="always")
def keep_stay(stays, n_stays, state_info, words, mask, n_words, shift, t0, t1, tick, n_windows, overflow_acc):
    """Append the rows of the stay [t0, t1) in state ``words & mask`` to the buffer (which has
    room for them; ``n_stays``: rows, stays; ``shift``: see :func:`key_layout`), or once the
    thread's statistics are full (``state_info[1]``) add it to ``overflow_acc``. The stay's
    first row carries the :data:`FIRST` mark."""
    if state_info[1]:
        spread(overflow_acc, 0, t0, t1, tick, n_windows)
        return
    w0, first, full0, full1, w1, last = split(t0, t1, tick, n_windows)
    r = n_stays[0]
    _put(stays, r, words, mask, n_words, shift, FIRST | np.uint64(w0), first)
    r += 1
    if full1 > full0:
        _put(stays, r, words, mask, n_words, shift, np.uint64(n_windows + full0), 1.0)
        r += 1
        if full1 < n_windows:  # a stay that lasts to the end needs no closing -1
            _put(stays, r, words, mask, n_words, shift, np.uint64(n_windows + full1), -1.0)
            r += 1
    if w1 < n_windows:
        _put(stays, r, words, mask, n_words, shift, np.uint64(w1), last)
        r += 1
    n_stays[0] = r
    n_stays[1] += 1


@njit(cache=True, nogil=True, inline="always")
def _copy_row(dst, at, src, r, width):
    """``dst[at] = src[r]`` (rows of ``width`` words), the two-word rows of one-word keys
    copied without a loop: the sort and the merge move every row, so this is their cost."""
    if width == 2:
        dst[at, 0] = src[r, 0]
        dst[at, 1] = src[r, 1]
    else:
        for k in range(width):
            dst[at, k] = src[r, k]


@njit(cache=True, nogil=True)
def sort_rows(rows, dst):
    """``rows`` sorted by their key words (the first most significant), stably: a
    least-significant-digit radix sort over the bits where some rows differ only (the
    masked-out and never-changing nodes cost nothing), in as few passes of at most
    :data:`_DIGIT` bits as they need, the bits shared out evenly between the passes. The
    rows move between ``rows`` and ``dst`` (of the same shape); returns the one that holds
    them sorted."""
    n_rows, width = rows.shape
    n_key = width - 1
    if n_rows < 2:
        return rows
    varying = np.zeros(n_key, dtype=np.uint64)
    for r in range(n_rows):
        for w in range(n_key):
            varying[w] |= rows[r, w] ^ rows[0, w]
    digits = np.zeros(n_key, dtype=np.int64)  # passes per word
    size = np.zeros(n_key, dtype=np.int64)  # bits per pass
    for w in range(n_key):
        bits = 0
        while bits < 64 and (varying[w] >> np.uint64(bits)) != 0:
            bits += 1
        digits[w] = (bits + _DIGIT - 1) // _DIGIT
        size[w] = (bits + digits[w] - 1) // digits[w] if digits[w] else 0
    first_digit = np.zeros(n_key + 1, dtype=np.int64)
    for w in range(n_key):
        first_digit[w + 1] = first_digit[w] + digits[w]
    counts = np.zeros((first_digit[n_key], _RADIX), dtype=np.int64)
    for r in range(n_rows):
        for w in range(n_key):
            word = rows[r, w]
            low = (np.uint64(1) << np.uint64(size[w])) - np.uint64(1)
            for d in range(digits[w]):
                counts[first_digit[w] + d, (word >> np.uint64(d * size[w])) & low] += 1
    src = rows
    offsets = np.empty(_RADIX, dtype=np.int64)
    for w in range(n_key - 1, -1, -1):
        low = (np.uint64(1) << np.uint64(size[w])) - np.uint64(1)
        for d in range(digits[w]):
            c = counts[first_digit[w] + d]
            if c.max() == n_rows:
                continue
            total = 0
            for v in range(1 << size[w]):
                offsets[v] = total
                total += c[v]
            shift = np.uint64(d * size[w])
            for r in range(n_rows):
                v = (src[r, w] >> shift) & low
                at = offsets[v]
                offsets[v] = at + 1
                _copy_row(dst, at, src, r, width)
            src, dst = dst, src
    return src


@njit(cache=True, nogil=True, inline="always")
def _compare(a, i, b, j, n_key):
    """-1, 0 or 1 as the key of row ``i`` of ``a`` sorts before, with or after row ``j``'s of ``b``."""
    if n_key == 1:
        return -1 if a[i, 0] < b[j, 0] else (1 if a[i, 0] > b[j, 0] else 0)
    for w in range(n_key):
        if a[i, w] != b[j, w]:
            return -1 if a[i, w] < b[j, w] else 1
    return 0


@njit(cache=True, nogil=True, inline="always")
def _group_end(rows, i, n_rows, n_key):
    """End of the run of rows with row ``i``'s key."""
    end = i + 1
    while end < n_rows and _compare(rows, end, rows, i, n_key) == 0:
        end += 1
    return end


@njit(cache=True, nogil=True)
def _stay_numbers(rows):
    """The stay each buffered row belongs to (rows in the order they came, marks in place)."""
    n_key = rows.shape[1] - 1
    stay = np.empty(rows.shape[0], dtype=np.int64)
    count = -1
    for r in range(rows.shape[0]):
        if rows[r, n_key - 1] & FIRST:
            count += 1
        stay[r] = count
    return stay


@njit(cache=True, nogil=True)
def _strip_marks(rows):
    """Remove the stay marks from the buffered ``rows``, leaving their keys."""
    n_key = rows.shape[1] - 1
    for r in range(rows.shape[0]):
        rows[r, n_key - 1] &= ~FIRST


@njit(cache=True, nogil=True)
def _first_refused_row(rows, stay, agg, used, count, max_rows):
    """The first buffered row of the first of ``count`` stays refused for want of room
    (the number of rows if none): the stays are taken in order and each new key counted at
    the stay that brings it first (rows sorted with their positions: the first of a run)."""
    n_rows, n_key = rows.shape[0], rows.shape[1] - 1
    keyed = np.empty((n_rows, n_key + 1), dtype=np.uint64)
    keyed[:, :n_key] = rows[:, :n_key]
    keyed[:, n_key] = np.arange(n_rows).astype(np.uint64)
    keyed = sort_rows(keyed, np.empty_like(keyed))
    births = np.zeros(count, dtype=np.int64)
    a = 0
    i = 0
    while i < n_rows:
        while a < used and _compare(agg, a, keyed, i, n_key) < 0:
            a += 1
        if a >= used or _compare(agg, a, keyed, i, n_key) != 0:
            births[stay[np.int64(keyed[i, n_key])]] += 1
        i = _group_end(keyed, i, n_rows, n_key)
    total = used
    for s in range(count):
        if total + STAY_ROWS > max_rows:
            return np.searchsorted(stay, s)
        total += births[s]
    return n_rows


@njit(cache=True, nogil=True)
def _refuse(rows, shift, overflow_acc):
    """Add the buffered ``rows`` (refused stays, in the order they came) to ``overflow_acc``,
    as :func:`spread` would have."""
    n_key = rows.shape[1] - 1
    columns = _column_mask(shift)
    for r in range(rows.shape[0]):
        overflow_acc[0, np.int64(rows[r, n_key - 1] & columns)] += as_float(rows[r, n_key])


@njit(cache=True, nogil=True)
def flush_stays(stays, n_stays, agg, agg_info, max_rows, shift, overflow_acc):
    """Sort the buffered rows into the aggregate ``agg`` (``agg_info``: rows in use, 1 once a
    stay was refused) and empty the buffer; returns the aggregate (a new array when it had
    to grow). Refused stays go to ``overflow_acc``.

    The aggregate is one array with room for its rows and a buffer's: the rows in use move
    to its end and the merge writes from its start, never overtaking the rows it still has
    to read, so the array is reused from flush to flush. Two halves, one the next merge's
    target, touched twice the memory, and fresh pages are zeroed by the kernel on first
    touch: that cost 1.4 s of a 9.3 s run of 300,000 HER2 trajectories (2 threads)."""
    n_rows, count = n_stays[0], n_stays[1]
    n_stays[0] = n_stays[1] = 0
    if n_rows == 0:
        return agg
    n_key = stays.shape[2] - 1
    used = agg_info[0]
    src = agg[:used]
    refusal = used + n_rows + STAY_ROWS > max_rows  # else no stay can be refused
    stay = _stay_numbers(stays[0, :n_rows]) if refusal else np.empty(0, dtype=np.int64)
    _strip_marks(stays[0, :n_rows])
    if refusal:
        cut = _first_refused_row(stays[0, :n_rows], stay, src, used, count, max_rows)
        if cut < n_rows:
            agg_info[1] = 1
            _refuse(stays[0, cut:n_rows], shift, overflow_acc)
            n_rows = cut
    rows = sort_rows(stays[0, :n_rows], stays[1, :n_rows])
    if used + n_rows > agg.shape[0]:  # room for every row, were all of them new
        out = np.empty((max(used + n_rows, 2 * agg.shape[0]), n_key + 1), dtype=np.uint64)
    else:  # the rows in use move to the end, and the merge fills the array from the start
        out = agg
        src = _to_end(agg, used)
    agg_info[0] = _merge_sorted(src, rows, out)
    return out


@njit(cache=True, nogil=True)
def _to_end(agg, used):
    """The first ``used`` rows of ``agg`` moved to its end (the last row first, as the two
    ranges may overlap); returns them there."""
    shift = agg.shape[0] - used
    if shift > 0:
        for r in range(used - 1, -1, -1):
            _copy_row(agg, r + shift, agg, r, agg.shape[1])
    return agg[shift:]


@njit(cache=True, nogil=True)
def _merge_into(src, rows, out):
    """Merge the sorted ``rows`` (equal keys in stay order) into the sorted aggregate rows
    ``src``, writing to ``out`` from its start; returns the rows written. A key's values are
    added in the order the stays came, after the aggregate's. ``src`` may be the end of
    ``out`` itself when ``out`` has room for every row before it: a row is then written only
    where ``src`` has been read already."""
    n_key = src.shape[1] - 1
    used, n_rows = src.shape[0], rows.shape[0]
    n = 0
    a = 0
    i = 0
    while i < n_rows:
        while a < used and _compare(src, a, rows, i, n_key) < 0:
            _copy_row(out, n, src, a, n_key + 1)
            n += 1
            a += 1
        value = as_float(rows[i, n_key])
        if a < used and _compare(src, a, rows, i, n_key) == 0:
            value = as_float(src[a, n_key]) + value
            a += 1
        for k in range(n_key):
            out[n, k] = rows[i, k]
        i += 1
        while i < n_rows and _compare(rows, i, out, n, n_key) == 0:
            value = value + as_float(rows[i, n_key])
            i += 1
        out[n, n_key] = as_bits(value)
        n += 1
    for r in range(a, used):
        _copy_row(out, n, src, r, n_key + 1)
        n += 1
    return n


@njit(cache=True, nogil=True, inline="always")
def _add_row(out, n, last, key, bits):
    """Write the row (``key``, value ``bits``) after row ``n - 1`` of ``out``, or add its
    value to that row's when ``last``, that row's key, is ``key``; returns the rows written.
    Selects by bit masks, not branches: which way it goes is random from row to row."""
    same = np.uint64(key == last)
    at = n - np.int64(same)
    base = out[at, 1] & (np.uint64(0) - same)  # 0.0 unless the key continues
    out[at, 0] = key
    out[at, 1] = as_bits(as_float(base) + as_float(bits))
    return at + 1


@njit(cache=True, nogil=True)
def _merge_one_word(src, rows, out):
    """:func:`_merge_into` for one-word keys, with no branch that depends on the keys: each
    step takes the smaller head of ``src`` and ``rows`` (``src``'s on a tie, so a key's
    values are added in the same order) and writes it as a new row or adds it to the row
    just written. The two sequences interleave at random, so the branches of
    :func:`_merge_into` are mispredicted about once a row. Real keys have the top bit clear
    (see :func:`key_layout`), so ``~0`` is no row's key."""
    used, n_rows = src.shape[0], rows.shape[0]
    a = 0
    i = 0
    n = 0
    last = ~np.uint64(0)
    while a < used and i < n_rows:
        ka, ki = src[a, 0], rows[i, 0]
        take = np.uint64(ka <= ki)
        mask = np.uint64(0) - take
        key = ki ^ ((ka ^ ki) & mask)
        bits = rows[i, 1] ^ ((src[a, 1] ^ rows[i, 1]) & mask)
        a += np.int64(take)
        i += 1 - np.int64(take)
        n = _add_row(out, n, last, key, bits)
        last = key
    while a < used:
        n = _add_row(out, n, last, src[a, 0], src[a, 1])
        last = src[a, 0]
        a += 1
    while i < n_rows:
        n = _add_row(out, n, last, rows[i, 0], rows[i, 1])
        last = rows[i, 0]
        i += 1
    return n


@njit(cache=True, nogil=True, inline="always")
def _add_row2(out, n, last0, last1, key0, key1, bits):
    """:func:`_add_row` for two-word keys."""
    same = np.uint64((key0 == last0) & (key1 == last1))
    at = n - np.int64(same)
    base = out[at, 2] & (np.uint64(0) - same)
    out[at, 0] = key0
    out[at, 1] = key1
    out[at, 2] = as_bits(as_float(base) + as_float(bits))
    return at + 1


@njit(cache=True, nogil=True)
def _merge_two_words(src, rows, out):
    """:func:`_merge_one_word` for two-word keys (models of about 56 to 120 nodes): the same
    steps, the key compared word by word with masks."""
    used, n_rows = src.shape[0], rows.shape[0]
    a = 0
    i = 0
    n = 0
    last0 = last1 = ~np.uint64(0)  # no row's key: the last key word has its top bit clear
    while a < used and i < n_rows:
        a0, a1, b0, b1 = src[a, 0], src[a, 1], rows[i, 0], rows[i, 1]
        take = np.uint64((a0 < b0) | ((a0 == b0) & (a1 <= b1)))
        mask = np.uint64(0) - take
        key0 = b0 ^ ((a0 ^ b0) & mask)
        key1 = b1 ^ ((a1 ^ b1) & mask)
        bits = rows[i, 2] ^ ((src[a, 2] ^ rows[i, 2]) & mask)
        a += np.int64(take)
        i += 1 - np.int64(take)
        n = _add_row2(out, n, last0, last1, key0, key1, bits)
        last0, last1 = key0, key1
    while a < used:
        n = _add_row2(out, n, last0, last1, src[a, 0], src[a, 1], src[a, 2])
        last0, last1 = src[a, 0], src[a, 1]
        a += 1
    while i < n_rows:
        n = _add_row2(out, n, last0, last1, rows[i, 0], rows[i, 1], rows[i, 2])
        last0, last1 = rows[i, 0], rows[i, 1]
        i += 1
    return n


@njit(cache=True, nogil=True)
def _merge_sorted(src, rows, out):
    """The merge of :func:`_merge_into` (``src`` may be the end of ``out``), branch-free for
    keys of one or two words."""
    n_key = rows.shape[1] - 1
    if n_key == 1:
        return _merge_one_word(src, rows, out)
    if n_key == 2:
        return _merge_two_words(src, rows, out)
    return _merge_into(src, rows, out)


@njit(cache=True, nogil=True)
def merge_rows(a, b):
    """The sorted aggregate holding the rows of the sorted aggregates ``a`` and ``b``, the
    values of rows in both added (``a``'s first): one linear pass."""
    out = np.empty((a.shape[0] + b.shape[0], a.shape[1]), dtype=np.uint64)
    return out[: _merge_sorted(a, b, out)]


@njit(cache=True, nogil=True)
def state_bound(rows, row, shift):
    """The first row of the sorted aggregate ``rows`` whose state is not below the state of
    the row ``row`` (a binary search on the key with the column cleared)."""
    n_key = rows.shape[1] - 1
    key = row[:n_key].copy()
    key[n_key - 1] &= ~_column_mask(shift)
    low, high = 0, rows.shape[0]
    while low < high:
        mid = (low + high) // 2
        below = False
        for w in range(n_key):
            if rows[mid, w] != key[w]:
                below = rows[mid, w] < key[w]
                break
        if below:
            low = mid + 1
        else:
            high = mid
    return low


@njit(cache=True, nogil=True, inline="always")
def _same_state(rows, i, j, n_key, shift):
    for w in range(n_key - 1):
        if rows[i, w] != rows[j, w]:
            return False
    # the last key word holds the state's last word above ``shift``, or only the column
    return shift == 0 or (rows[i, n_key - 1] >> np.uint64(shift)) == (rows[j, n_key - 1] >> np.uint64(shift))


@njit(cache=True, nogil=True)
def _read_out(rows, n_windows, tick, shift, place, first_state, keys, index, window, time, write):
    """Walk the aggregate state by state, adding each whole window described by the
    difference rows (a +1 at column ``n_windows + a`` and a -1 at ``n_windows + b``: the
    windows ``a .. b-1`` spent whole in the state) to the window's time; returns the states.

    Without ``write``, ``place[w]`` counts the (state, window) entries of window ``w``. With
    it, each entry is written at ``place[w]`` (then advanced) of ``index``, ``window`` and
    ``time``: the entries land by window, and within a window in state order; the states
    are numbered from ``first_state`` in key order, their keys written to ``keys``."""
    n_rows, n_key = rows.shape[0], rows.shape[1] - 1
    last = n_key - 1
    columns = _column_mask(shift)
    states = 0
    i = 0
    while i < n_rows:
        end = i + 1
        while end < n_rows and _same_state(rows, end, i, n_key, shift):
            end += 1
        d = i  # the state's window rows are i .. d-1, its difference rows d .. end-1
        while d < end and np.int64(rows[d, last] & columns) < n_windows:
            d += 1
        entries = 0
        level = 0.0
        w = 0
        k = i
        j = d
        while True:
            stop = np.int64(rows[j, last] & columns) - n_windows if j < end else n_windows
            if level > 0.5:
                for win in range(w, stop):
                    value = level * tick
                    if k < d and np.int64(rows[k, last] & columns) == win:
                        value = as_float(rows[k, n_key]) + level * tick
                        k += 1
                    _entry(place, win, first_state + states, value, index, window, time, write)
                    entries += 1
            else:
                while k < d and np.int64(rows[k, last] & columns) < stop:
                    win = np.int64(rows[k, last] & columns)
                    _entry(place, win, first_state + states, as_float(rows[k, n_key]), index, window, time, write)
                    entries += 1
                    k += 1
            if j >= end:
                break
            level += as_float(rows[j, n_key])
            w = stop
            j += 1
        if entries:
            if write:
                for x in range(keys.shape[1]):
                    keys[first_state + states, x] = rows[i, x]
                if shift > 0:
                    keys[first_state + states, last] = rows[i, last] >> np.uint64(shift)
            states += 1
        i = end
    return states


@njit(cache=True, nogil=True, inline="always")
def _entry(place, win, state, value, index, window, time, write):
    """Count an entry of window ``win``, or write it at that window's next place."""
    at = place[win]
    place[win] = at + 1
    if write:
        index[at], window[at], time[at] = state, win, value


@njit(cache=True, nogil=True)
def count_entries(rows, n_windows, tick, shift):
    """(entries per window, states) of a merged aggregate (keys laid out by ``shift``, see
    :func:`key_layout`): what :func:`write_entries` will write."""
    counts = np.zeros(n_windows, dtype=np.int64)
    none = np.empty(0, dtype=np.int64)
    states = _read_out(rows, n_windows, tick, shift, counts, 0, np.empty((0, 1), dtype=np.uint64), none, none,
                       np.empty(0), False)  # fmt: skip
    return counts, states


@njit(cache=True, nogil=True)
def write_entries(rows, n_windows, tick, shift, place, first_state, keys, index, window, time):
    """Write a merged aggregate's (state, window) entries with time in them at ``place``
    (per window, advanced; see :func:`count_entries`), the states numbered from
    ``first_state`` in key order, their keys to ``keys``."""
    _read_out(rows, n_windows, tick, shift, place, first_state, keys, index, window, time, True)


@njit(cache=True, nogil=True)
def window_starts(windows, n_windows):
    """Where each window's entries begin when entries are laid out by window."""
    starts = np.zeros(n_windows + 1, dtype=np.int64)
    for i in range(windows.shape[0]):
        starts[windows[i] + 1] += 1
    for w in range(n_windows):
        starts[w + 1] += starts[w]
    return starts


@njit(cache=True, nogil=True)
def likeliest_first(windows, values, n_windows):
    """Order of entries by window, and within a window by value, largest first (ties in
    entry order): :func:`sort_rows` on the values' bits (non-negative floats order as their
    bits do), then a counting sort on the windows, both stable."""
    n = windows.shape[0]
    rows = np.empty((n, 2), dtype=np.uint64)  # (key, entry): sorted as the stay rows are
    for i in range(n):
        rows[i, 0] = ~as_bits(values[i])  # largest value, smallest key
        rows[i, 1] = i
    by_value = sort_rows(rows, np.empty_like(rows))
    starts = window_starts(windows, n_windows)
    order = np.empty(n, dtype=np.int64)
    for i in range(n):
        row = np.int64(by_value[i, 1])
        order[starts[windows[row]]] = row
        starts[windows[row]] += 1
    return order
