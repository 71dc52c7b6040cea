"""Responses to changing concentrations: grid tables, their interpolation error, the disk cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from her2sim.errors import ConfigError
from her2sim.her2.model import load_config
from her2sim.her2.scenario import Her2Simulator
from her2sim.her2.therapies import therapy_library
from her2sim.trials.exposure import INTERPOLATION_ERROR, ResponseTable, build_tables, response_tables

SAMPLES = 400


@pytest.fixture(scope="module")
def simulator() -> Her2Simulator:
    return Her2Simulator(load_config(samples=SAMPLES, seed=3))


def direct(simulator: Her2Simulator, context: str, drugs: tuple[str, ...], doses: np.ndarray) -> tuple[float, float]:
    regimen = "+".join(f"{d}@{c:.6g}nM" for d, c in zip(drugs, doses, strict=True) if c > 0) or None
    ctx = simulator.context(context)
    [value] = simulator.readouts([(ctx, simulator.regimen(regimen))])
    return value["proliferation"], value["apoptosis"]


@pytest.mark.parametrize(
    ("context", "drugs"),
    [("ERBB2:amp", ("lapatinib",)), ("ERBB2:amp; PIK3CA:H1047R", ("trastuzumab", "pertuzumab")),
     ("ERBB2:low", ("T-DXd",))],
)  # fmt: skip
def test_interpolation_stays_within_the_stated_error_of_direct_simulation(
    simulator: Her2Simulator, context: str, drugs: tuple[str, ...]
) -> None:
    table = ResponseTable.build(simulator, context, drugs, points=6)
    rng = np.random.default_rng(0)
    library = therapy_library()
    standard = np.array([library.get(d).standard_dose for d in drugs])
    doses = standard * 10 ** rng.uniform(-1.5, 1.4, size=(8, len(drugs)))
    p, a = table.at(doses, table.release_at(doses) if table.bystander is not None else None)
    for row, (pi, ai) in zip(doses, zip(p, a, strict=True), strict=True):
        pd_, ad = direct(simulator, context, drugs, row)
        assert abs(pi - pd_) <= INTERPOLATION_ERROR and abs(ai - ad) <= INTERPOLATION_ERROR, (row, pi, pd_)


def test_grid_points_reproduce_the_simulation_and_beyond_the_grid_the_last_value_holds(
    simulator: Her2Simulator,
) -> None:
    table = ResponseTable.build(simulator, "ERBB2:amp", ("lapatinib",), points=5)
    p, _ = table.at(table.grids[0][:, None])
    assert np.allclose(p, table.proliferation)
    far, _ = table.at(np.array([[1e9]]))
    assert far[0] == pytest.approx(table.proliferation[-1])
    assert table.p0 == pytest.approx(direct(simulator, "ERBB2:amp", ("lapatinib",), np.array([0.0]))[0])
    assert np.all(table.adcc == 0)  # a kinase inhibitor recruits no immune cells


def test_an_antibody_table_carries_its_adcc_drive(simulator: Her2Simulator) -> None:
    table = ResponseTable.build(simulator, "ERBB2:amp", ("trastuzumab",), points=4)
    none, standard = table.adcc_at(np.array([[0.0], [therapy_library().get("trastuzumab").standard_dose]]))
    assert none == 0 and 0 < standard <= therapy_library().get("trastuzumab").adcc
    masked = ResponseTable.build(simulator, "ERBB2:amp; MUC4:high", ("trastuzumab",), points=4)
    assert masked.adcc[-1] < table.adcc[-1]  # MUC4 hides the epitope from the antibody


def test_a_payload_that_crosses_membranes_adds_a_bystander_axis(simulator: Her2Simulator) -> None:
    amp, zero = build_tables(simulator, ["ERBB2:amp", "ERBB2:zero"], ("T-DXd",), points=3)
    assert zero.proliferation.shape == (3, 6) and np.array_equal(zero.bystander, amp.bystander)
    dose = np.array([[therapy_library().get("T-DXd").standard_dose]])
    released = amp.release_at(dose)
    assert released[0] > 0 and zero.release_at(dose)[0] == 0  # HER2-zero cells take up no conjugate
    alone, _ = zero.at(dose, np.array([0.0]))
    helped, _ = zero.at(dose, released)
    assert helped[0] < alone[0]  # DXd from HER2-positive neighbours reaches HER2-zero cells


def test_tables_of_several_contexts_in_one_batch_equal_tables_built_alone(simulator: Her2Simulator) -> None:
    together = build_tables(simulator, ["ERBB2:amp", "ERBB2:amp; PIK3CA:H1047R"], ("lapatinib",), points=3)
    alone = ResponseTable.build(simulator, "ERBB2:amp; PIK3CA:H1047R", ("lapatinib",), points=3)
    assert np.array_equal(together[1].proliferation, alone.proliferation)
    assert together[0].context != together[1].context


def test_tables_are_cached_on_disk_and_a_damaged_entry_is_rebuilt(simulator: Her2Simulator, tmp_path: Path) -> None:
    first = response_tables(simulator, ["ERBB2:amp"], ("lapatinib",), points=3, cache=tmp_path)
    [entry] = list(tmp_path.glob("*.npz"))
    again = response_tables(simulator, ["ERBB2:amp"], ("lapatinib",), points=3, cache=tmp_path)
    key = "ERBB2:amp"
    assert np.array_equal(first[key].proliferation, again[key].proliferation)
    entry.write_bytes(b"not a table")
    rebuilt = response_tables(simulator, ["ERBB2:amp"], ("lapatinib",), points=3, cache=tmp_path)
    assert np.array_equal(first[key].proliferation, rebuilt[key].proliferation)


def test_impossible_tables_are_refused(simulator: Her2Simulator) -> None:
    with pytest.raises(ConfigError, match="at least one drug"):
        ResponseTable.build(simulator, "ERBB2:amp", ())
    with pytest.raises(ConfigError, match="at least 2 points"):
        ResponseTable.build(simulator, "ERBB2:amp", ("lapatinib",), points=1)
    table = ResponseTable.build(simulator, "ERBB2:amp", ("lapatinib",), points=2)
    with pytest.raises(ConfigError, match="concentrations of 1 drugs"):
        table.at(np.zeros((1, 2)))
