"""Tumour regression and growth rates of each patient, from the sums of diameters at the scans.

The regression-growth model of Stein et al. (Clin Cancer Res 2008;14:6137, doi:10.1158/
1078-0432.CCR-08-0375; the method of the ``tumgr`` R package, Wilkerson 2016) describes a
tumour under treatment as two parts, one shrinking and one growing, each exponential: the sum
of diameters relative to baseline is ``f(t) = exp(-d t) + exp(g t) - 1`` (``gd``), or
``exp(-d t)`` when it only shrinks (``dx``) and ``exp(g t)`` when it only grows (``gx``), with
``t`` in days from baseline. The growth rate ``g`` (per day) is the "g-score" trials report:
e.g. He et al. (Oncologist 2025;30:oyaf057, doi:10.1093/oncolo/oyaf057) give median g 0.0009
and 0.0002 per day for the T-DM1 and T-DXd arms of DESTINY-Breast03, and the share of tumours
that only shrank (23% and 48%).

Each patient's scans from baseline to the first progression (or the last scan) are fitted
with the three models by bounded least squares; a fit counts when each of its rates is
significantly above zero (two-sided t-test on the asymptotic standard error, at ``p_value``)
and moves the sum by at least a millimetre over the scans (:data:`RESOLUTION_MM`: simulated
sums carry no measurement noise, so a t-test alone would call any rate significant), and among
the fits that count the one of lowest AIC is kept.
As ``tumgr`` does, a patient with no scan after baseline, or with one whose sum moved less
than 20%, is ``excluded``, and one no model fits is ``not fit``. ``tumgr``'s fourth model (a
share ``phi`` of the tumour that grows, the rest shrinking) is left out: it needs more
scans than most patients have before progression.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from numba import njit
from scipy import stats

__all__ = ["MODELS", "RESOLUTION_MM", "growth_rates"]

#: The models, each with its rate parameters (per day) in order.
MODELS: dict[str, tuple[str, ...]] = {"dx": ("d",), "gx": ("g",), "gd": ("g", "d")}
#: Largest rate a fit may take (per day): a tumour halving or doubling in under a day is not one.
_MAX_RATE = 1.0
#: Smallest relative change between two scans for a patient with one scan after baseline.
_TWO_SCAN_CHANGE = 0.2
#: Smallest change of the sum of diameters (mm) a rate must make over the scans to count:
#: RECIST 1.1 measures to the millimetre.
RESOLUTION_MM = 1.0


def growth_rates(
    days: np.ndarray, sums: np.ndarray, baseline_mm: np.ndarray, last_scan: np.ndarray, p_value: float = 0.10
) -> pd.DataFrame:
    """Per patient: the model kept (``gd``, ``dx``, ``gx``, ``not fit`` or ``excluded``) and the
    growth and regression rates per day (NaN where the model has none).

    Parameters
    ----------
    days
        Days of the scans after baseline (one per column of ``sums``).
    sums
        Sums of diameters (mm), patients x scans.
    baseline_mm
        Sums of diameters at baseline (day 0).
    last_scan
        Index of each patient's last scan used (the first at progression, or the last one).
    p_value
        Significance a rate must reach for its model to count (``tumgr``'s examples use 0.10).

    Examples
    --------
    >>> days = np.array([42.0, 84, 126, 168, 210])
    >>> shrinks_then_grows = 50 * (np.exp(-0.02 * days) + np.exp(0.004 * days) - 1)
    >>> shrinks = 50 * np.exp(-0.01 * days)
    >>> table = growth_rates(days, np.vstack([shrinks_then_grows, shrinks]), np.array([50.0, 50]), np.array([4, 4]))
    >>> table["model"].tolist(), table["g"].round(4).tolist()[0], table["d"].round(4).tolist()
    (['gd', 'dx'], 0.004, [0.02, 0.01])
    """
    days = np.asarray(days, dtype=float)
    sums = np.asarray(sums, dtype=float)
    rows = [
        _fit_patient(np.concatenate([[0.0], days[: last + 1]]), np.concatenate([[1.0], sums[i, : last + 1] / base]),
                     p_value, RESOLUTION_MM / base)
        for i, (base, last) in enumerate(zip(np.asarray(baseline_mm, dtype=float), np.asarray(last_scan), strict=True))
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["model", "g", "d"])


def _start(model: str, t: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Starting rates: the log-linear slope to the smallest scan (regression) and from it to
    the last (growth), each at least a small positive rate."""
    low = int(np.argmin(f))
    decay = -math.log(max(f[low], 1e-6)) / t[low] if low > 0 else 1e-3
    growth = math.log(max(f[-1], 1e-6) / max(f[low], 1e-6)) / (t[-1] - t[low]) if low < len(t) - 1 else 1e-3
    start = {"dx": [decay], "gx": [math.log(max(f[-1], 1e-6)) / t[-1]], "gd": [growth, decay]}[model]
    return np.clip(np.asarray(start, dtype=float), 1e-5, _MAX_RATE / 2)


def _fit_patient(t: np.ndarray, f: np.ndarray, p_value: float, resolution: float) -> tuple[str, float, float]:
    """(model, g, d) of one patient's scans ``f`` (relative to baseline) on days ``t``; a rate
    counts only when it moves ``f`` by ``resolution`` or more by the last scan."""
    if len(t) < 2:
        return "excluded", math.nan, math.nan
    if len(t) == 2 and abs(f[1] - 1.0) < _TWO_SCAN_CHANGE:
        return "excluded", math.nan, math.nan
    best: tuple[float, str, np.ndarray] | None = None
    for code, (model, names) in enumerate(MODELS.items()):
        n_free = len(t) - 1 - len(names)  # f(0) = 1 in every model: the baseline is not a free point
        if n_free < 0:
            continue
        rates, rss, curvature = _least_squares(code, t[1:], f[1:], _start(model, t, f), _MAX_RATE)
        shown = np.abs(np.expm1(rates * t[-1] * np.array([1.0 if name == "g" else -1.0 for name in names])))
        if np.any(shown < resolution) or not _significant(rates, rss, curvature, n_free, p_value):
            continue
        n = len(t) - 1
        aic = n * math.log(max(rss, 1e-12) / n) + 2 * len(names)
        if best is None or aic < best[0]:
            best = (aic, model, rates)
    if best is None:
        return "not fit", math.nan, math.nan
    _, model, rates = best
    named = dict(zip(MODELS[model], rates, strict=True))
    return model, named.get("g", math.nan), named.get("d", math.nan)


def _significant(rates: np.ndarray, rss: float, curvature: np.ndarray, n_free: int, p_value: float) -> bool:
    """Whether every rate is above zero at ``p_value``: a t-test on the asymptotic standard
    error, from ``curvature`` (the Jacobian's J'J at the fit) and the residual variance; with
    no residual, a rate that shows is significant."""
    if n_free == 0 or rss <= 1e-14:
        return True
    try:
        covariance = np.linalg.inv(curvature) * rss / n_free
    except np.linalg.LinAlgError:
        return False
    errors = np.sqrt(np.clip(np.diag(covariance), 0.0, None))
    with np.errstate(divide="ignore"):
        t_values = np.where(errors > 0, rates / errors, np.inf)
    return bool(np.all(2 * stats.t.sf(t_values, n_free) < p_value))


@njit(cache=True)
def _least_squares(code, t, f, start, upper):
    """Rates of model ``code`` (0 ``dx``, 1 ``gx``, 2 ``gd``; the order of :data:`MODELS`)
    fitting ``f`` at days ``t`` in least squares, within [0, ``upper``]: Levenberg-Marquardt
    with the analytic Jacobian, steps projected onto the bounds. Returns (rates, residual sum
    of squares, J'J at the rates). Compiled: scipy's solver took 4.5 ms a patient, most of it
    the overhead of its calls on a problem of one or two parameters and a few dozen points."""
    p = start.shape[0]
    rates = start.copy()
    jac = np.empty((t.shape[0], p))
    resid = np.empty(t.shape[0])
    rss = _residuals(code, rates, t, f, jac, resid)
    damping = 1e-3
    for _ in range(500):
        jtj = jac.T @ jac
        grad = jac.T @ resid
        step_taken = False
        while damping < 1e12:
            a = jtj.copy()
            for k in range(p):
                a[k, k] += damping * max(jtj[k, k], 1e-12)
            step = np.linalg.solve(a, -grad)
            trial = np.minimum(np.maximum(rates + step, 0.0), upper)
            trial_jac = np.empty_like(jac)
            trial_resid = np.empty_like(resid)
            trial_rss = _residuals(code, trial, t, f, trial_jac, trial_resid)
            if trial_rss < rss:
                moved = np.max(np.abs(trial - rates))
                gain = rss - trial_rss
                rates, rss, jac, resid = trial, trial_rss, trial_jac, trial_resid
                damping = max(damping / 3.0, 1e-12)
                step_taken = True
                if gain <= 1e-15 * max(rss, 1e-300) or moved <= 1e-15:
                    return rates, rss, jac.T @ jac
                break
            damping *= 4.0
        if not step_taken:
            break
    return rates, rss, jac.T @ jac


@njit(cache=True)
def _residuals(code, rates, t, f, jac, resid):
    """Fill the residuals (model - ``f``) and the Jacobian of model ``code`` at ``rates``;
    return the residual sum of squares."""
    rss = 0.0
    for i in range(t.shape[0]):
        if code == 0:
            shrink = math.exp(-rates[0] * t[i])
            value = shrink
            jac[i, 0] = -t[i] * shrink
        elif code == 1:
            grow = math.exp(rates[0] * t[i])
            value = grow
            jac[i, 0] = t[i] * grow
        else:
            grow, shrink = math.exp(rates[0] * t[i]), math.exp(-rates[1] * t[i])
            value = shrink + grow - 1.0
            jac[i, 0] = t[i] * grow
            jac[i, 1] = -t[i] * shrink
        resid[i] = value - f[i]
        rss += resid[i] * resid[i]
    return rss
