"""Numbering the distinct states of a merged statistics table."""

from __future__ import annotations

import numpy as np
import pytest

from her2sim.engine._kernel import number_states


@pytest.mark.parametrize("n_words", [1, 3])
def test_each_row_gets_the_number_of_its_state_in_order_of_first_appearance(n_words: int) -> None:
    rng = np.random.default_rng(n_words)
    distinct = rng.integers(0, 2**63, (3000, n_words), dtype=np.uint64)
    distinct[1, 0] = distinct[0, 0]  # equal in one word only: still two states
    keys = distinct[rng.integers(0, len(distinct), 20_000)]
    ids, first = number_states(keys)
    expected_first = np.sort(np.unique(keys, axis=0, return_index=True)[1])
    np.testing.assert_array_equal(first, expected_first)
    np.testing.assert_array_equal(keys[first[ids]], keys)  # every row is its state's
    assert np.all(np.diff(first) > 0) and ids[0] == 0
    # equal numbers exactly for equal rows
    _, inverse = np.unique(keys, axis=0, return_inverse=True)
    np.testing.assert_array_equal(np.unique(np.stack([ids, inverse.ravel()]), axis=1).shape[1], len(first))


def test_no_rows_and_one_row() -> None:
    ids, first = number_states(np.zeros((0, 2), dtype=np.uint64))
    assert len(ids) == len(first) == 0
    ids, first = number_states(np.zeros((1, 2), dtype=np.uint64))
    assert ids.tolist() == [0] and first.tolist() == [0]
