"""Chemotherapy kills cycling cells: its data file and its interaction with cytostatic drugs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from her2sim.errors import ModelFormatError
from her2sim.trials.chemotherapy import chemotherapy_library, kill_rates, read_chemotherapies

ENTRY = """chemotherapies:
  - name: docetaxel
    class: taxane
    phase: mitosis
    kmax: {value: 0.05, unit: per day, prior: [0.005, 0.5], source: s}
    ec50: {value: 0.05, unit: mg/L, prior: [0.005, 0.5], source: s}
"""


def test_the_shipped_chemotherapies_read_with_their_priors() -> None:
    library = chemotherapy_library()
    assert {"docetaxel", "paclitaxel", "capecitabine", "eribulin", "carboplatin"} <= set(library)
    for drug in library.values():
        assert drug.kmax_prior[0] <= drug.kmax <= drug.kmax_prior[1]


def test_kill_needs_cycling_cells() -> None:
    drug = chemotherapy_library()["paclitaxel"]
    cycling, arrested = drug.kill(np.array([1.0, 1.0]), np.array([1.0, 0.2]))
    assert arrested == pytest.approx(0.2 * cycling) and drug.kill(np.array([0.0]), np.array([1.0]))[0] == 0


@pytest.mark.parametrize(
    ("old", "new", "fragment", "line"),
    [
        (
            "    phase: mitosis\n",
            "    phase: mitosis\n    colour: red\n",
            r"chemotherapies\[0\]\.colour: unknown field",
            5,
        ),
        ("{value: 0.05, unit: per day", "{value: 5, unit: per day", "need 0 < low <= value <= high", 5),
        ("prior: [0.005, 0.5], source: s}\n    ec50", "prior: [a, b], source: s}\n    ec50", "must be numbers", 5),
        ("    class: taxane\n", "", "missing field 'class'", 2),
        ("    phase: mitosis\n", "    phase: mitosis\n    kill_as: docetaxel\n", "kill_as is {drug, source}", 5),
        (
            "    phase: mitosis\n",
            "    phase: mitosis\n    kill_as: {drug: docetaxol, source: s}\n",
            "unknown chemotherapy 'docetaxol'",
            5,
        ),
    ],
)
def test_bad_entries_are_located(tmp_path: Path, old: str, new: str, fragment: str, line: int) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(ENTRY.replace(old, new, 1))
    with pytest.raises(ModelFormatError, match=fragment) as caught:
        read_chemotherapies(path)
    assert caught.value.line == line


def test_a_drug_declared_to_kill_as_a_fitted_one_moves_with_it(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    paclitaxel = ENTRY.split("\n", 1)[1].replace("docetaxel", "paclitaxel").replace("0.05, unit: per", "0.1, unit: per")
    path.write_text(ENTRY + paclitaxel + "    kill_as: {drug: docetaxel, source: s}\n")
    library = read_chemotherapies(path)
    assert kill_rates({}, library) == {"docetaxel": 0.05, "paclitaxel": 0.1}  # nothing fitted: the priors
    assert kill_rates({"docetaxel": 0.5}, library) == pytest.approx({"docetaxel": 0.5, "paclitaxel": 1.0})
    assert kill_rates({"docetaxel": 0.5, "paclitaxel": 0.2}, library)["paclitaxel"] == 0.2  # its own fit wins
    assert chemotherapy_library()["paclitaxel"].kill_as == "docetaxel"
