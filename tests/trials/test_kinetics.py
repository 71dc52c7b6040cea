"""Tumour kinetics data: the shipped file, and broken twins that fail at their line."""

from __future__ import annotations

from pathlib import Path

import pytest

from her2sim.errors import ModelFormatError
from her2sim.her2.alterations import alteration_library
from her2sim.trials.kinetics import PARAMETERS, kinetics, read_kinetics

GOOD = """\
parameters:
  potential_doubling_days: {value: 5, unit: days, prior: [2, 30], fit: true, source: "a paper"}
  potential_doubling_sigma: {value: 0.5, prior: [0.1, 1.5], source: "none; uncertain", uncertain: true}
  cell_density: {value: 1.0e+8, prior: [1.0e+7, 1.0e+9], source: "Del Monte 2009"}
  pcr_residual_cells: {value: 1000, prior: [10, 1.0e+7], fit: true, source: "anchor"}
  adcc_kill: {value: 1, prior: [0.05, 10], fit: true, source: "none"}
  subclone_fraction: {value: 1.0e-3, prior: [1.0e-6, 0.1], fit: true, source: "none"}
  subclone_fraction_sigma: {value: 1.5, prior: [0.1, 3], source: "none"}
  antibody_exposure: {value: 0.1, prior: [0.001, 1], fit: true, source: "Thurber 2008"}
  drug_sensitivity_sigma: {value: 0.5, prior: [0.05, 2], source: "none"}
  loss_independent_share: {value: 1, prior: [0.01, 1], source: "none"}
  drug_effect_scale: {value: 1, prior: [0.05, 1], source: "none"}
  chemo_sensitivity_sigma: {value: 0.5, prior: [0.05, 2], source: "none"}
  pretreated_subclone_factor: {value: 10, prior: [1, 1000], fit: true, source: "none"}
  subclone_chemo_factor: {value: 1, prior: [0.01, 1], source: "none"}
  occult_deposit_cells: {value: 1.0e+5, prior: [100, 2.0e+7], fit: true, source: "none"}
  occult_deposit_sigma: {value: 1.5, prior: [0.1, 3], source: "none"}
  new_lesion_diameter_mm: {value: 10, prior: [5, 20], source: "RECIST 1.1"}
mechanisms:
  - {alteration: ERBB2:low, weight: 0.32, source: "Mittendorf 2009"}
  - {alteration: PIK3CA:H1047R, weight: 0.19, source: "Loibl 2013"}
"""


def test_the_shipped_kinetics_give_every_parameter_a_source_and_a_prior_around_it() -> None:
    kin = kinetics()
    assert set(kin.parameters) == set(PARAMETERS)
    for name, p in kin.parameters.items():
        assert p.source.strip(), name
        assert p.prior[0] <= p.value <= p.prior[1], name
    assert kin.fitted(), "the population fit needs parameters to move"
    library = alteration_library()
    assert all(library.find(m.alteration) is not None and m.weight > 0 for m in kin.mechanisms)


def test_with_values_moves_only_the_named_parameters() -> None:
    kin = kinetics()
    moved = kin.with_values({"adcc_kill": 2.5})
    assert moved.value("adcc_kill") == 2.5
    assert moved.value("cell_density") == kin.value("cell_density")
    with pytest.raises(KeyError, match="adcc_kil"):
        kin.with_values({"adcc_kil": 1.0})


def test_the_good_twin_reads(tmp_path: Path) -> None:
    path = tmp_path / "kinetics.yaml"
    path.write_text(GOOD, encoding="utf-8")
    kin = read_kinetics(path)
    assert [m.alteration for m in kin.mechanisms] == ["ERBB2:low", "PIK3CA:H1047R"]
    assert sorted(kin.fitted()) == ["adcc_kill", "antibody_exposure", "occult_deposit_cells", "pcr_residual_cells",
                                    "potential_doubling_days", "pretreated_subclone_factor",
                                    "subclone_fraction"]  # fmt: skip


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("  adcc_kill: {value: 1,", "  adcc_kil: {value: 1,", 6, "parameters.adcc_kil: unknown parameter"),
        ("{value: 1000, prior: [10, 1.0e+7]", "{value: 1, prior: [10, 1.0e+7]", 5,
         "parameters.pcr_residual_cells: need 0 < low <= value <= high, got 10 <= 1 <= 1e+07"),
        ("source: \"anchor\"}", "source: \"\"}", 5, "parameters.pcr_residual_cells.source: empty source"),
        ("fit: true, source: \"none\"}", "fit: yes please, source: \"none\"}", 6,
         "parameters.adcc_kill.fit: fit is true or false"),
        ("alteration: ERBB2:low,", "alteration: ERBB2:lo,", 20,
         "mechanisms[0].alteration: unknown alteration 'ERBB2:lo'"),
        ("weight: 0.19", "weight: -1", 21, "mechanisms[1].weight: weight must be > 0, got -1"),
        ("  cell_density: {value: 1.0e+8, prior: [1.0e+7, 1.0e+9], source: \"Del Monte 2009\"}\n", "", 1,
         "parameters: missing parameter 'cell_density'"),
    ],
    ids=["unknown parameter", "value outside prior", "empty source", "fit not boolean", "unknown alteration",
         "negative weight", "missing parameter"],
)  # fmt: skip
def test_each_broken_twin_is_one_located_error(tmp_path: Path, old: str, new: str, line: int, message: str) -> None:
    assert old in GOOD
    path = tmp_path / "kinetics.yaml"
    path.write_text(GOOD.replace(old, new), encoding="utf-8")
    with pytest.raises(ModelFormatError) as info:
        read_kinetics(path)
    assert info.value.line == line and info.value.message.startswith(message), str(info.value)
    assert "\n" not in str(info.value)
