"""State statistics by buffered sort-merge: the sort, and the flush's bound on rows."""

from __future__ import annotations

import numpy as np
import pytest

from her2sim.engine import _stays

N_WINDOWS, TICK = 6, 1.0


@pytest.mark.parametrize("n_key", [1, 3])
def test_rows_sort_by_key_words_keeping_ties_in_order(n_key: int) -> None:
    rng = np.random.default_rng(1)
    rows = np.zeros((5000, n_key + 1), dtype=np.uint64)
    rows[:, :n_key] = rng.integers(0, 4, (5000, n_key)).astype(np.uint64) << np.uint64(40)
    rows[:, n_key - 1] |= rng.integers(0, 1 << 20, 5000).astype(np.uint64)  # digits of every width
    rows[:, n_key] = np.arange(5000, dtype=np.uint64)  # the value word: the order rows came in
    expected = rows[np.lexsort(rows[:, n_key - 1 :: -1].T)]
    np.testing.assert_array_equal(_stays.sort_rows(rows.copy(), np.empty_like(rows)), expected)


@pytest.mark.parametrize("n_key", [1, 2])
@pytest.mark.parametrize("in_place", [False, True])
def test_branch_free_merges_add_the_same_values_in_the_same_order_as_the_general_one(
    in_place: bool, n_key: int
) -> None:
    """The branch-free merges of one- and two-word keys, into a new array or into the
    aggregate's own array (its rows moved to the end), give the general merge's rows to the
    bit: values of equal keys added in the order they came, the aggregate's first."""
    rng = np.random.default_rng(3)
    used, n_rows = 3000, 2000
    merge = _stays._merge_one_word if n_key == 1 else _stays._merge_two_words

    def keyed(codes: np.ndarray, values: np.ndarray) -> np.ndarray:  # codes < 2**20 spread over the key words
        words = [(codes >> np.uint64(10)) & np.uint64(1023), codes & np.uint64(1023)] if n_key == 2 else [codes]
        return np.column_stack([*words, values.view(np.uint64)])

    codes = np.sort(rng.choice(1 << 20, used, replace=False)).astype(np.uint64)
    values = rng.uniform(0, 1, used + n_rows)
    buffered = rng.integers(0, 1 << 20, n_rows).astype(np.uint64)
    buffered[::7] = codes[rng.integers(0, used, len(buffered[::7]))]  # keys the aggregate has
    buffered[1::5] = buffered[0:-1:5]  # keys that come twice in the buffer
    src, rows = keyed(codes, values[:used]), keyed(buffered, values[used:])
    rows = _stays.sort_rows(rows, np.empty_like(rows))
    expected = np.empty((used + n_rows, n_key + 1), dtype=np.uint64)
    n = _stays._merge_into(src, rows, expected)
    if in_place:
        out = np.empty((used + n_rows + 5, n_key + 1), dtype=np.uint64)
        out[:used] = src
        got = merge(_stays._to_end(out, used), rows, out)
    else:
        out = np.empty_like(expected)
        got = merge(src, rows, out)
    assert got == n < used + n_rows
    np.testing.assert_array_equal(out[:n], expected[:n])


@pytest.mark.parametrize(("nodes", "n_windows", "layout"), [(41, 200, (1, 9)), (60, 200, (2, 0)), (130, 3, (3, 3))])
def test_the_column_shares_the_last_state_word_when_its_bits_are_free(
    nodes: int, n_windows: int, layout: tuple[int, int]
) -> None:
    mask = np.zeros((nodes + 63) // 64, dtype=np.uint64)
    for k in range(nodes):
        mask[k // 64] |= np.uint64(1) << np.uint64(k % 64)
    assert _stays.key_layout(mask, n_windows) == layout


def _run(
    stays: list[tuple[int, float, float]], capacity: int, max_rows: int, mask_bits: int = 8
) -> tuple[np.ndarray, np.ndarray]:
    """The aggregate rows (state, column, value) and the overflow of ``stays`` (state, t0, t1)
    kept through a buffer of ``capacity`` rows; states under a mask of ``mask_bits`` bits."""
    mask = np.array([(1 << mask_bits) - 1], dtype=np.uint64)
    n_key, shift = _stays.key_layout(mask, N_WINDOWS)
    buffer = _stays.new_stays(n_key, capacity)
    n_stays, info = np.zeros(2, dtype=np.int64), np.zeros(2, dtype=np.int64)
    agg, overflow = _stays.new_rows(n_key), np.zeros((1, 2 * N_WINDOWS + 1))
    for state, t0, t1 in stays:
        if n_stays[0] + _stays.STAY_ROWS > buffer.shape[1]:
            agg = _stays.flush_stays(buffer, n_stays, agg, info, max_rows, shift, overflow)
        words = np.array([state], dtype=np.uint64)
        _stays.keep_stay(buffer, n_stays, info, words, mask, 1, shift, t0, t1, TICK, N_WINDOWS, overflow)
    agg = _stays.flush_stays(buffer, n_stays, agg, info, max_rows, shift, overflow)
    rows = _stays.kept_rows(agg, info)
    columns = rows[:, n_key - 1] & ~_stays.FIRST
    if shift:
        state, column = rows[:, 0] >> np.uint64(shift), columns & np.uint64((1 << shift) - 1)
    else:
        state, column = rows[:, 0], columns
    return np.column_stack([state, column, rows[:, n_key]]), overflow


@pytest.mark.parametrize("max_rows", [10, 60, 1 << 20])
def test_small_buffers_keep_and_refuse_the_same_stays_as_one_large_buffer(max_rows: int) -> None:
    """A stay is refused once the rows in use plus four would pass ``max_rows``, and every
    later stay with it, however the stays were cut into buffers."""
    rng = np.random.default_rng(2)
    starts = rng.uniform(0, N_WINDOWS, 400)
    stays = [
        (int(s), float(t), float(t + d))
        for s, t, d in zip(rng.integers(0, 30, 400), starts, rng.exponential(1.5, 400), strict=True)
    ]
    one, lost = _run(stays, 4096, max_rows)
    wide, lost_wide = _run(stays, 4096, max_rows, mask_bits=64)  # the column in a key word of its own
    np.testing.assert_array_equal(wide, one)
    np.testing.assert_array_equal(lost_wide, lost)
    for capacity in (4, 9, 50):
        many, lost_many = _run(stays, capacity, max_rows)
        np.testing.assert_array_equal(many, one)
        np.testing.assert_array_equal(lost_many, lost)
    seen: set[tuple[int, int]] = set()
    refused = 0
    for state, t0, t1 in stays:  # the rule, on the rows each stay would add
        if len(seen) + _stays.STAY_ROWS > max_rows:
            refused += 1
            continue
        rows = _run([(state, t0, t1)], 16, 1 << 20)[0]
        seen.update((state, int(col)) for col in rows[:, 1])
    assert len(one) == len(seen) and (lost.any() == (refused > 0))
