"""State statistics by buffered sort-merge: the sort, and the flush's bound on rows."""

from __future__ import annotations

import numpy as np
import pytest

from her2sim.engine import _stays

N_WINDOWS, TICK = 6, 1.0


def test_rows_sort_by_state_then_column_keeping_ties_in_order() -> None:
    rng = np.random.default_rng(1)
    rows = np.zeros((5000, 4), dtype=np.uint64)
    rows[:, :2] = rng.integers(0, 4, (5000, 2)).astype(np.uint64) << np.uint64(40)
    rows[:, 2] = (np.arange(5000, dtype=np.uint64) << np.uint64(32)) | rng.integers(0, 12, 5000).astype(np.uint64)
    expected = rows[np.lexsort((rows[:, 2] & np.uint64(0xFFFFFFFF), rows[:, 1], rows[:, 0]))]
    np.testing.assert_array_equal(_stays.sort_rows(rows.copy(), np.empty_like(rows)), expected)


def _run(stays: list[tuple[int, float, float]], capacity: int, max_rows: int) -> tuple[np.ndarray, np.ndarray]:
    buffer = _stays.new_stays(1, capacity)
    n_stays, info = np.zeros(2, dtype=np.int64), np.zeros(3, dtype=np.int64)
    agg, overflow = _stays.new_rows(1), np.zeros((1, 2 * N_WINDOWS + 1))
    mask = np.full(1, np.uint64(0xFFFFFFFFFFFFFFFF))
    for state, t0, t1 in stays:
        if n_stays[0] + _stays.STAY_ROWS > buffer.shape[1]:
            agg = _stays.flush_stays(buffer, n_stays, agg, info, max_rows, N_WINDOWS, overflow)
        words = np.array([state], dtype=np.uint64)
        _stays.keep_stay(buffer, n_stays, info, words, mask, 1, t0, t1, TICK, N_WINDOWS, overflow)
    agg = _stays.flush_stays(buffer, n_stays, agg, info, max_rows, N_WINDOWS, overflow)
    return _stays.kept_rows(agg, info).copy(), overflow


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
