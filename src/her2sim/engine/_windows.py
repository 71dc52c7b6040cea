"""How a stay ``[t0, t1)`` falls on the time windows, and dense accumulation of it.

Shared by the flip loop (node times, :mod:`her2sim.engine._kernel`) and the state
statistics (:mod:`her2sim.engine._stays`). Whole windows are recorded as a +1/-1 difference
pair, so a long stay costs O(1) whatever the number of windows it covers.
"""

from __future__ import annotations

from numba import njit


@njit(cache=True, nogil=True, inline="always")
def split(t0, t1, tick, n_windows):
    """How [t0, t1) falls on the windows: (w0, time in w0, first whole window, end of the
    whole windows, w1, time in w1)."""
    w0 = int(t0 / tick)
    end0 = (w0 + 1) * tick
    if t1 <= end0:
        return w0, t1 - t0, 0, 0, n_windows, 0.0
    w1 = min(int(t1 / tick), n_windows)
    last = t1 - max(w1 * tick, end0) if w1 < n_windows else 0.0
    return w0, end0 - t0, w0 + 1, w1, w1, last


@njit(cache=True, nogil=True)
def spread(acc, row, t0, t1, tick, n_windows):
    """Add the time spent in [t0, t1) to the windows of the dense row ``acc[row]``.

    Columns ``0..n_windows-1`` hold times; columns ``n_windows..2*n_windows`` the
    difference counts of whole windows, folded in by :func:`finish_spread`.
    """
    if t1 <= t0 or t0 >= n_windows * tick:
        return
    w0, first, full0, full1, w1, last = split(t0, t1, tick, n_windows)
    acc[row, w0] += first
    if full1 > full0:
        acc[row, n_windows + full0] += 1.0
        if full1 < n_windows:  # a stay that lasts to the end needs no closing -1
            acc[row, n_windows + full1] -= 1.0
    if w1 < n_windows:
        acc[row, w1] += last


@njit(cache=True, nogil=True)
def finish_spread(acc, tick, n_windows):
    """Fold the difference columns of :func:`spread` into the window times, in place."""
    for row in range(acc.shape[0]):
        running = 0.0
        for w in range(n_windows):
            running += acc[row, n_windows + w]
            acc[row, w] += running * tick
            acc[row, n_windows + w] = 0.0
        acc[row, 2 * n_windows] = 0.0
