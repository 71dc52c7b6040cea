"""How far the model is from a set of measurements: predictions, misses and a loss to minimise.

Every measurement is predicted by the same simulator in one batch (all contexts and regimens
of the table through one compiled kernel). A miss is scaled by the measurement's ``sd``:

* ``effect`` and ``ratio``: ``(predicted - value) / sd``;
* ``class``: how far the effect falls outside the class (``>= 0.5`` sensitive, ``<= 0.2``
  resistant, between them partial, ``<= -0.05`` increase: the readout rises), less a
  ``margin`` inside the class, over ``sd``;
* ``stronger`` / ``weaker``: how far the difference to the comparison falls short of 0.05
  (plus the margin), over ``sd``.

The loss is the mean squared miss (zero when every measurement is met). ``correct`` says
whether each prediction is right without the margin: the class, the comparison, or the value
within two standard deviations.

Examples
--------
>>> import numpy as np
>>> misses = np.array([0.0, 2.0])
>>> float(loss(misses))
2.0
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from her2sim.calibration.measurements import Measurement
from her2sim.her2.scenario import Her2Simulator
from her2sim.her2.validation import THRESHOLDS, classify, compared_effects

__all__ = ["MARGIN", "loss", "predict"]

#: Distance inside a class boundary a fit aims for, so a fitted model is not on the edge.
MARGIN = 0.03
#: Largest ratio predicted (a comparison with almost no effect would otherwise divide by ~0).
_MAX_RATIO = 5.0


def loss(misses: np.ndarray) -> float:
    """Mean squared miss."""
    return float(np.mean(np.square(misses))) if len(misses) else 0.0


def predict(rows: Sequence[Measurement], simulator: Her2Simulator, margin: float = MARGIN) -> pd.DataFrame:
    """One row per measurement: the predicted effect (and the comparison's), the predicted
    quantity, the scaled ``miss``, and whether the prediction is ``correct``."""
    records = []
    for row, (value, compare) in zip(rows, compared_effects(rows, simulator), strict=True):
        predicted, miss, correct = _judge(row, value, compare, margin)
        records.append({"id": row.id, "kind": row.kind, "what": row.label, "readout": row.readout,
                        "observed": row.value if row.value is not None else row.response or row.kind,
                        "sd": row.sd, "effect": value, "compare_effect": compare, "predicted": predicted,
                        "miss": miss, "correct": correct, "source": row.source})  # fmt: skip
    return pd.DataFrame.from_records(records)


def _judge(row: Measurement, value: float, compare: float | None, margin: float) -> tuple[float, float, bool]:
    """(predicted quantity, scaled miss, correct) of one measurement."""
    if row.kind == "effect":
        assert row.value is not None
        miss = (value - row.value) / row.sd
        return value, miss, abs(miss) <= 2
    if row.kind == "ratio":
        assert row.value is not None and compare is not None
        ratio = min(_MAX_RATIO, max(value, 0.0) / compare) if compare > 0 else _MAX_RATIO
        miss = (ratio - row.value) / row.sd
        return ratio, miss, abs(miss) <= 2
    if row.kind == "class":
        correct = value <= -THRESHOLDS["difference"] if row.response == "increase" else classify(value) == row.response
        return value, _class_miss(row.response, value, margin) / row.sd, correct
    assert compare is not None
    difference = value - compare if row.kind == "stronger" else compare - value
    shortfall = max(0.0, THRESHOLDS["difference"] + margin - difference)
    return difference, shortfall / row.sd, difference >= THRESHOLDS["difference"]


def _class_miss(response: str, value: float, margin: float) -> float:
    """How far ``value`` is from lying ``margin`` inside the class ``response``."""
    low, high = THRESHOLDS["resistant"], THRESHOLDS["sensitive"]
    if response == "increase":
        return max(0.0, value + THRESHOLDS["difference"] + margin)
    if response == "sensitive":
        return max(0.0, high + margin - value)
    if response == "resistant":
        return max(0.0, value - (low - margin))
    return max(0.0, low + margin - value, value - (high - margin))
