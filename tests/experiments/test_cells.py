"""Cells and adaptive sampling to a target standard error."""

from __future__ import annotations

import pytest

from her2sim.errors import ConfigError
from her2sim.experiments.cells import MAX_SAMPLES, Cell, evaluate_cells, required_samples
from her2sim.her2.model import load_config
from her2sim.her2.scenario import Her2Simulator
from her2sim.her2.settings import RunSettings


def test_adaptive_sampling_reaches_the_target_error() -> None:
    cells = [Cell("ERBB2:amp", t) for t in ("trastuzumab", "T-DM1", "alpelisib")]
    table = evaluate_cells(cells, readouts=("proliferation",), settings=RunSettings(target_se=0.006, samples=400))
    assert table["samples"].between(400, MAX_SAMPLES).all() and table["samples"].max() > 400
    for row in table.itertuples():
        sim = Her2Simulator(load_config(samples=int(row.samples), seed=5))
        pair = (sim.context(row.context), sim.regimen(row.therapy))
        assert sim.readout_errors([pair])[0]["proliferation"] < 0.006 * 1.15


def test_every_cell_of_a_context_shares_one_baseline() -> None:
    cells = [Cell("ERBB2:amp", t) for t in ("trastuzumab", "lapatinib", "alpelisib")]
    table = evaluate_cells(cells, readouts=("proliferation",), settings=RunSettings(target_se=0.005, samples=300))
    assert table["untreated"].nunique() == 1


def test_required_samples_bounds() -> None:
    assert required_samples(0.0, 500, 0.005) == 500
    assert required_samples(1.0, 500, 0.005) == MAX_SAMPLES
    with pytest.raises(ConfigError):
        required_samples(0.01, 500, 0.0)
