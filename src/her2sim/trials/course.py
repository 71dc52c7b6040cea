"""The course of many patients' tumours at once: clones growing and dying day by day.

Each patient's measured lesions hold two clones, the main clone and a resistant subclone, and
beyond them the patient may carry an occult deposit made of subclone cells alone. A clone's
cells change as ``dN/dt = (b - d) N`` with that day's net rate, so over a day ``N`` is multiplied
by ``exp((b - d) dt)``. A clone that falls below one cell is gone for good (no regrowth from
fractions of a cell).

What the drugs do to a clone can depend on the lesion's composition: a membrane-permeable
payload reaches each cell from the cells around it, so how much of it a cell gets follows the
share of the lesion held by the clone that releases most of it (the main clone). The effects
therefore come at a few shares of the main clone (``shares``, from 0 to 1) and each day's are
read between them (:func:`at_share`) at the lesion's composition of that day; the occult deposit,
having no main-clone cells, reads them at share 0. With a single share the composition does
not matter.

The course is kept only where a trial looks (the imaging visits, surgery), so memory grows with
visits, not days.

Examples
--------
>>> one = np.ones((1, 2, 1, 10), np.float32)  # one share, two clones, one patient, ten days
>>> zero = np.zeros((2, 1, 10), np.float32)
>>> rates = Rates(one, one * 0, zero, np.zeros((1, 10)), np.array([1.0]), np.log(2) * np.ones(1),
...               np.zeros(1), np.ones(1), 1.0, np.zeros(1), np.ones(2))
>>> cells = lesion_courses(np.array([[1.0], [0.0]]), np.array([2.0]), rates, np.array([0, 5, 10]))
>>> cells[:, 0].round(6).tolist()  # main clone, an empty subclone, the deposit: doubling daily
[[1.0, 32.0, 1024.0], [0.0, 0.0, 0.0], [2.0, 64.0, 2048.0]]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

__all__ = ["Rates", "at_share", "lesion_courses"]

#: Counts are capped at e^200 cells (far beyond any body), so a clone growing for years cannot
#: overflow; every endpoint has been reached long before.
_MAX_LOG_CELLS = 200.0


@dataclass(frozen=True)
class Rates:
    """What sets each clone's daily net rate (the formula of :mod:`her2sim.trials.dynamics`).

    ``proliferation`` and ``apoptosis`` (shares x clones x patients x days): the drugs' effects
    at each of ``shares`` (the main clone's share of the lesion, increasing from 0 to 1, or the
    single share 1); ``adcc`` (clones x patients x days): the ADCC drive; ``chemo_kill``
    (patients x days): the chemotherapies' kill of fully cycling main-clone cells, which
    ``clone_chemo`` scales per clone. Per patient: ``birth`` and basal ``loss`` (per day), the
    factor ``targeted`` on the targeted drugs' effects, ``adcc_scale``; ``steady_loss`` is the
    share of the basal loss that goes on when proliferation stops."""

    proliferation: np.ndarray
    apoptosis: np.ndarray
    adcc: np.ndarray
    chemo_kill: np.ndarray
    shares: np.ndarray
    birth: np.ndarray
    loss: np.ndarray
    targeted: np.ndarray
    steady_loss: float
    adcc_scale: np.ndarray
    clone_chemo: np.ndarray


def lesion_courses(cells0: np.ndarray, deposit0: np.ndarray, rates: Rates, at_days: np.ndarray) -> np.ndarray:
    """Cells of the main clone, the subclone and the occult deposit at ``at_days``
    (3 x patients x visits), from the lesions' clones at the start (2 x patients), the
    deposits (patients) and the daily rates."""
    steps = np.clip(np.round(np.asarray(at_days, dtype=float)).astype(np.int64), 0, rates.chemo_kill.shape[1])
    r = rates
    arrays = [np.asarray(a, np.float64) for a in (cells0, deposit0, r.chemo_kill, r.shares, r.clone_chemo)]
    cells, deposits, kill, shares, clone_chemo = arrays
    return _courses(cells, deposits, r.proliferation, r.apoptosis, r.adcc, kill, shares, r.birth, r.loss,
                    r.targeted, float(r.steady_loss), r.adcc_scale, clone_chemo, steps)  # fmt: skip


@njit(cache=True)
def _courses(cells0, deposit0, prolif, apopt, adcc, chemo_kill, shares, birth, loss, targeted, steady, adcc_scale,
             clone_chemo, steps):  # fmt: skip
    n, days = chemo_kill.shape
    out = np.zeros((3, n, steps.shape[0]))
    log_n = np.empty((3, days + 1))
    for i in range(n):
        alive = np.empty(3, np.bool_)
        for c in range(3):
            start = cells0[c, i] if c < 2 else deposit0[i]
            alive[c] = start >= 1.0
            log_n[c, 0] = math.log(start) if start > 0 else -1.0
        for t in range(days):
            main = math.exp(log_n[0, t]) if alive[0] else 0.0
            sub = math.exp(log_n[1, t]) if alive[1] else 0.0
            share = main / (main + sub) if main + sub > 0 else 1.0
            for c in range(3):
                clone = 1 if c == 2 else c
                at = 0.0 if c == 2 else share  # the deposit holds no main-clone cells
                rp_raw, ra_raw = at_share(prolif, apopt, shares, at, clone, i, t)
                rp = max(1.0 - targeted[i] * (1.0 - rp_raw), 0.0)
                ra = targeted[i] * ra_raw
                net = birth[i] * (rp - ra - adcc_scale[i] * adcc[clone, i, t])
                net -= loss[i] * (steady + (1.0 - steady) * rp)
                net -= clone_chemo[clone] * chemo_kill[i, t] * rp
                log_n[c, t + 1] = log_n[c, t] + net
                if log_n[c, t + 1] < 0.0:
                    alive[c] = False
        for c in range(3):
            first = cells0[c, i] if c < 2 else deposit0[i]
            if first < 1.0:
                continue
            dead_from = days + 1
            for t in range(days + 1):
                if log_n[c, t] < 0.0:
                    dead_from = t
                    break
            for v in range(steps.shape[0]):
                s = steps[v]
                out[c, i, v] = 0.0 if s >= dead_from else math.exp(min(log_n[c, s], _MAX_LOG_CELLS))
    return out


@njit(cache=True)
def at_share(prolif, apopt, shares, share, clone, i, t):
    """A clone's (proliferation, apoptosis) on day ``t`` at the main clone's ``share``: between
    the two shares around it, linearly in the logarithm of the share (a payload's effect follows
    the logarithm of its dose, and the dose the share), and linearly from share 0 to the first
    share above it."""
    if shares.shape[0] == 1:
        return prolif[0, clone, i, t], apopt[0, clone, i, t]
    j = 0
    while j < shares.shape[0] - 2 and share > shares[j + 1]:
        j += 1
    if j == 0:
        w = share / shares[1]
    else:
        w = math.log(max(share, shares[j]) / shares[j]) / math.log(shares[j + 1] / shares[j])
    w = min(max(w, 0.0), 1.0)
    p = (1.0 - w) * prolif[j, clone, i, t] + w * prolif[j + 1, clone, i, t]
    a = (1.0 - w) * apopt[j, clone, i, t] + w * apopt[j + 1, clone, i, t]
    return p, a
