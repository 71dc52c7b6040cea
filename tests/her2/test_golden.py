"""The HER2 model's seeded readouts against the committed golden file (see ``golden.py``)."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from tests.her2 import golden


def test_the_readouts_match_the_golden_file() -> None:
    expected = pd.read_csv(golden.GOLDEN)
    observed = golden.readouts()
    assert list(observed.columns) == list(expected.columns)
    assert observed[["context", "therapy"]].equals(expected[["context", "therapy"]]), (
        "the scenarios of the literature table changed: regenerate with python -m tests.her2.golden"
    )
    moved = (observed.iloc[:, 2:] - expected.iloc[:, 2:]).abs().max(axis=1)
    changed = observed.loc[moved > 1e-9, ["context", "therapy"]]
    assert changed.empty, (
        f"{len(changed)} scenario(s) moved, first {changed.iloc[0].tolist()}: if meant, regenerate with "
        "python -m tests.her2.golden and commit the file with the change"
    )


@pytest.mark.parametrize("threads", [1, 3])
def test_the_golden_numbers_do_not_depend_on_the_thread_count(monkeypatch: pytest.MonkeyPatch, threads: int) -> None:
    monkeypatch.setattr(golden, "SETTINGS", replace(golden.SETTINGS, threads=threads))
    expected = pd.read_csv(golden.GOLDEN)
    observed = golden.readouts()
    assert (observed.iloc[:, 2:] - expected.iloc[:, 2:]).abs().to_numpy().max() <= 1e-9
