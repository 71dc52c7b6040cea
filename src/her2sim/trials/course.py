"""The course of many patients' tumours at once: clones growing and dying day by day.

Each patient's tumour is a few clones (its main clone and the resistant subclones it carries).
A clone's cells change as ``dN/dt = (b - d) N`` with its birth and death rates of that day, so
over a day ``N`` is multiplied by ``exp((b - d) dt)``. Rates come as arrays (patients x days)
per clone; the course is their cumulative sum, kept only where a trial looks: at the imaging
visits and at surgery, so memory grows with visits, not days. A clone that falls below one
cell is gone for good (no regrowth from fractions of a cell).

Examples
--------
>>> net = np.full((1, 10), np.log(2))  # one patient, doubling every day for 10 days
>>> cells = clone_course(np.array([1.0]), net, 1.0, np.array([0, 5, 10]))
>>> cells.round(6).tolist()
[[1.0, 32.0, 1024.0]]
"""

from __future__ import annotations

import numpy as np

__all__ = ["clone_course", "dominant_clone"]

#: Counts are capped at e^200 cells (far beyond any body), so a clone growing for years cannot
#: overflow; every endpoint has been reached long before.
_MAX_LOG_CELLS = 200.0


def clone_course(cells0: np.ndarray, net_rate: np.ndarray, dt: float, at_days: np.ndarray) -> np.ndarray:
    """One clone's cells at ``at_days`` (patients x visits), from its initial cells and its
    daily net growth rates (patients x days, per day)."""
    log_n = np.log(np.clip(cells0, 1e-300, None))[:, None] + np.cumsum(net_rate * dt, axis=1)
    log_n = np.column_stack([np.log(np.clip(cells0, 1e-300, None)), log_n])
    extinct = np.minimum.accumulate(log_n, axis=1) < 0.0  # once below one cell, gone
    steps = np.clip(np.round(np.asarray(at_days) / dt).astype(int), 0, log_n.shape[1] - 1)
    cells = np.exp(np.minimum(log_n[:, steps], _MAX_LOG_CELLS))
    cells[extinct[:, steps] | (cells0[:, None] <= 0)] = 0.0
    return cells


def dominant_clone(cells: np.ndarray) -> np.ndarray:
    """Index of the largest clone of each patient (clones x patients -> patients)."""
    return np.asarray(cells).argmax(axis=0)
