"""The landscape's dose grid: every grid holds the standard dose, so its table can be read off."""

from __future__ import annotations

import itertools
import math

import pytest

from her2sim.errors import ConfigError
from her2sim.experiments.landscape import dose_multiples


@pytest.mark.parametrize("doses", range(1, 41))
def test_every_dose_grid_holds_the_standard_dose_once(doses: int) -> None:
    grid = dose_multiples(doses)
    assert len(grid) == doses and grid.count(1.0) == 1
    assert grid == sorted(grid) and all(b / a > 1.05 for a, b in itertools.pairwise(grid))
    assert math.isclose(grid[0], 1 / 30) if doses > 1 else grid == [1.0]
    assert math.isclose(grid[-1], 3.0) if doses > 2 else grid[-1] == 1.0


def test_steps_are_even_in_log_on_both_sides_of_the_standard_dose() -> None:
    grid = dose_multiples(8)
    ratios = [b / a for a, b in itertools.pairwise(grid)]
    assert max(ratios) / min(ratios) < 1.2


def test_a_grid_needs_a_dose() -> None:
    with pytest.raises(ConfigError, match="at least one dose"):
        dose_multiples(0)
