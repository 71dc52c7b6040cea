"""The LLVM intrinsics behind the statistics tables and state names: bit casts, prefetch, memcpy."""

from __future__ import annotations

import numpy as np
from numba import njit

from her2sim.engine._intrinsics import as_bits, as_float, copy_bytes, prefetch_row


@njit
def _round_trip(values):
    out = np.empty_like(values)
    bits = np.empty(values.shape[0], dtype=np.uint64)
    for i in range(values.shape[0]):
        bits[i] = as_bits(values[i])
        out[i] = as_float(bits[i])
    return out, bits


@njit
def _prefetch_then_sum(table, rows):
    total = np.uint64(0)
    for i in range(rows.shape[0]):
        prefetch_row(table, rows[i])
        total += table[rows[i], 0]
    return total


def test_bit_casts_reinterpret_without_converting() -> None:
    values = np.array([0.0, -0.0, 1.5, -2.25e-300, 6.02e23, np.inf, -np.inf, np.nan])
    back, bits = _round_trip(values)
    assert np.array_equal(bits, values.view(np.uint64))
    assert np.array_equal(back.view(np.uint64), values.view(np.uint64))  # NaN and -0.0 included


def test_prefetch_changes_nothing_it_touches() -> None:
    table = np.arange(3000, dtype=np.uint64).reshape(1000, 3)
    before = table.copy()
    rows = np.random.default_rng(0).integers(0, 1000, 500)
    assert _prefetch_then_sum(table, rows) == table[rows, 0].sum()
    assert np.array_equal(table, before)


@njit
def _copy(dest, at, source, start, count):
    copy_bytes(dest, at, source, start, count)


def test_copy_bytes_copies_the_range_and_nothing_else() -> None:
    source = np.arange(50, dtype=np.uint8)
    dest = np.zeros(40, dtype=np.uint8)
    _copy(dest, 7, source, 20, 13)
    expected = np.zeros(40, dtype=np.uint8)
    expected[7:20] = source[20:33]
    np.testing.assert_array_equal(dest, expected)
    _copy(dest, 0, source, 0, 0)  # nothing
    np.testing.assert_array_equal(dest, expected)
