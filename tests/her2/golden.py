"""Seeded golden outputs of the HER2 model: every readout of every context and therapy of the
literature table, at the calibrated default.

A change to the engine, the model files, the libraries or the shipped posterior that moves any
of these numbers fails ``test_golden.py``. When the change is meant, regenerate the file and
commit it with the change, so the diff shows what moved::

    python -m tests.her2.golden          # rewrites tests/data/golden/her2_readouts.csv

Trajectory ``i`` always draws from the stream keyed by (seed, ``i``), so the numbers do not
depend on the machine's core count.
"""

from __future__ import annotations

import pandas as pd

from her2sim.her2.model import data_path
from her2sim.her2.scenario import READOUTS, Her2Simulator
from her2sim.her2.settings import RunSettings
from her2sim.her2.validation import read_expectations
from tests.conftest import DATA

GOLDEN = DATA / "golden" / "her2_readouts.csv"
#: Few trajectories keep the test fast; the numbers need only be reproducible, not precise.
SETTINGS = RunSettings(samples=300, seed=11)


def readouts() -> pd.DataFrame:
    """One row per (context, therapy) of the literature table and its comparisons, treated and
    untreated, with every readout; sorted, so the file's diff is stable."""
    sim = Her2Simulator(SETTINGS.config())
    pairs = {}
    untreated = sim.regimen(None)
    for row in read_expectations(data_path("expectations.tsv"), sim):
        context = row.compare_context or row.context
        regimen = row.compare_regimen or row.regimen
        for pair in ((row.context, row.regimen), (row.context, untreated), (context, regimen), (context, untreated)):
            pairs[(pair[0].label, pair[1].label)] = pair
    keys = sorted(pairs)
    table = pd.DataFrame(sim.readouts([pairs[k] for k in keys]), columns=list(READOUTS))
    table.insert(0, "therapy", [therapy for _, therapy in keys])
    table.insert(0, "context", [context for context, _ in keys])
    return table


if __name__ == "__main__":
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    readouts().to_csv(GOLDEN, index=False, float_format="%.12g")
    print(f"wrote {GOLDEN}")
