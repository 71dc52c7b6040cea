"""Dose-response curves of one therapy in one context, with a fitted Hill model.

The curve is the therapy's effect (see :func:`her2sim.her2.scenario.effect`) over a dose grid,
other drugs of the regimen held at their standard doses. The fit is the Hill equation
``e(d) = Emax d^h / (IC50^h + d^h)`` by non-linear least squares (``scipy.optimize.curve_fit``)
in log-dose, with 95% confidence intervals from the parameter covariance (IC50's is computed
on log IC50, so it stays positive).

Examples
--------
>>> curve = dose_response("ERBB2:amp", "lapatinib", settings=RunSettings(samples=300))
>>> curve.fit.ic50_nM < 1000 and curve.fit.emax > 0.5
True
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from her2sim.errors import ConfigError
from her2sim.experiments.cells import Cell, evaluate_cells
from her2sim.her2.settings import DEFAULT_SETTINGS, RunSettings
from her2sim.her2.therapies import NANOMOLAR, DoseUnit, therapy_library

__all__ = ["DoseResponse", "HillFit", "dose_grid", "dose_response", "fit_hill"]


@dataclass(frozen=True)
class HillFit:
    """Hill parameters with 95% confidence intervals (``nan`` where a fit is not possible)."""

    ic50_nM: float
    emax: float
    slope: float
    ic50_ci: tuple[float, float]
    emax_ci: tuple[float, float]
    slope_ci: tuple[float, float]
    converged: bool

    def predict(self, doses_nM: np.ndarray) -> np.ndarray:
        d = np.asarray(doses_nM, dtype=float)
        return self.emax * d**self.slope / (self.ic50_nM**self.slope + d**self.slope)

    def as_dict(self) -> dict[str, float | bool]:
        return {
            "ic50_nM": self.ic50_nM,
            "ic50_low": self.ic50_ci[0],
            "ic50_high": self.ic50_ci[1],
            "emax": self.emax,
            "emax_low": self.emax_ci[0],
            "emax_high": self.emax_ci[1],
            "slope": self.slope,
            "slope_low": self.slope_ci[0],
            "slope_high": self.slope_ci[1],
            "converged": self.converged,
        }


_NAN2 = (math.nan, math.nan)


def fit_hill(doses_nM: Sequence[float] | np.ndarray, effects: Sequence[float] | np.ndarray) -> HillFit:
    """Fit ``e = Emax d^h / (IC50^h + d^h)`` to positive doses; zero doses are left out.

    >>> d = np.geomspace(1, 1000, 8)
    >>> fit = fit_hill(d, 0.8 * d / (30 + d))
    >>> round(fit.ic50_nM), round(fit.emax, 2), round(fit.slope, 2)
    (30, 0.8, 1.0)
    """
    from scipy.optimize import curve_fit

    d = np.asarray(doses_nM, dtype=float)
    e = np.asarray(effects, dtype=float)
    keep = d > 0
    d, e = d[keep], e[keep]
    if len(d) < 3 or np.ptp(e) < 1e-6:
        return HillFit(math.nan, float(np.max(e, initial=0.0)), math.nan, _NAN2, _NAN2, _NAN2, False)
    x = np.log(d)

    def model(x: np.ndarray, log_ic50: float, emax: float, slope: float) -> np.ndarray:
        return emax / (1.0 + np.exp(slope * (log_ic50 - x)))

    guess = (float(np.median(x)), float(max(e.max(), 1e-3)), 1.0)
    bounds = ([x.min() - 5, -1.5, 0.05], [x.max() + 5, 1.5, 10.0])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            popt, pcov = curve_fit(model, x, e, p0=guess, bounds=bounds, maxfev=20_000)
    except (RuntimeError, ValueError):
        return HillFit(math.nan, math.nan, math.nan, _NAN2, _NAN2, _NAN2, False)
    se = np.sqrt(np.clip(np.diag(pcov), 0, None)) if np.all(np.isfinite(pcov)) else np.full(3, np.nan)
    z = 1.959963984540054

    def ci(value: float, err: float) -> tuple[float, float]:
        return (value - z * err, value + z * err) if math.isfinite(err) else _NAN2

    lo, hi = ci(popt[0], se[0])
    return HillFit(
        ic50_nM=float(math.exp(popt[0])),
        emax=float(popt[1]),
        slope=float(popt[2]),
        ic50_ci=(math.exp(lo), math.exp(hi)) if math.isfinite(lo) else _NAN2,
        emax_ci=ci(float(popt[1]), se[1]),
        slope_ci=ci(float(popt[2]), se[2]),
        converged=True,
    )


@dataclass(frozen=True)
class DoseResponse:
    """A curve (tidy table: dose_nM, treated, untreated, effect, effect_se, ...) and its Hill fit.

    ``background`` names the drugs given at their own doses in every cell; ``unit`` is the
    unit doses are shown in (the one the user gave them in).
    """

    context: str
    therapy: str
    readout: str
    curve: pd.DataFrame
    fit: HillFit
    background: str = ""
    unit: DoseUnit = NANOMOLAR

    def table(self) -> pd.DataFrame:
        """The curve with the fitted effect beside each measured one."""
        out = self.curve.copy()
        out["fitted"] = self.fit.predict(out["dose_nM"].to_numpy()) if self.fit.converged else math.nan
        return out

    @property
    def tested(self) -> tuple[float, float]:
        """The lowest and the highest positive dose simulated, in nM."""
        doses = self.curve.loc[self.curve["dose_nM"] > 0, "dose_nM"]
        return (float(doses.min()), float(doses.max())) if len(doses) else (math.nan, math.nan)

    def ic50_text(self, interval: bool = False) -> str:
        """The fitted IC50 in :attr:`unit`, given only inside the tested doses: beyond the top
        dose it is ``> top dose``, below the lowest ``< lowest dose`` (an extrapolation is no
        estimate); ``not estimable`` without a fit. With ``interval``, an IC50 inside comes with
        its 95% confidence interval, when that too lies inside.

        >>> fit = HillFit(5e4, 0.8, 1.0, _NAN2, _NAN2, _NAN2, True)
        >>> curve = pd.DataFrame({"dose_nM": [0.0, 10.0, 1000.0]})
        >>> DoseResponse("ERBB2:amp", "lapatinib", "proliferation", curve, fit).ic50_text()
        '> 1000 nM (top dose)'
        """
        low, high = self.tested
        if not self.fit.converged or not math.isfinite(self.fit.ic50_nM) or not math.isfinite(high):
            return "not estimable"
        if self.fit.ic50_nM > high:
            return f"> {self.unit.format(high)} (top dose)"
        if self.fit.ic50_nM < low:
            return f"< {self.unit.format(low)} (lowest dose)"
        text = self.unit.format(self.fit.ic50_nM)
        if not interval:
            return text
        ci_low, ci_high = self.fit.ic50_ci
        if low <= ci_low and ci_high <= high:
            return f"{text} (95% CI {self.unit.format(ci_low)} to {self.unit.format(ci_high)})"
        return f"{text} (95% CI {'not estimable' if math.isnan(ci_low) else 'beyond the tested doses'})"


def dose_grid(standard_nM: float, points: int = 8, span: float = 1000.0) -> np.ndarray:
    """``points`` log-spaced doses from ``standard / span`` to ``10 x standard``, plus zero.

    >>> dose_grid(1000.0, 4, 1000.0).round(3).tolist()
    [0.0, 1.0, 21.544, 464.159, 10000.0]
    """
    if points < 2:
        raise ConfigError(f"a dose-response curve needs at least 2 doses, got {points}")
    return np.concatenate([[0.0], np.geomspace(standard_nM / span, standard_nM * 10, points)])


def dose_response(
    context: str,
    therapy: str,
    *,
    doses_nM: Sequence[float] | None = None,
    background: str = "",
    readout: str = "proliferation",
    unit: DoseUnit | None = None,
    settings: RunSettings = DEFAULT_SETTINGS,
) -> DoseResponse:
    """The effect of ``therapy`` over a dose grid in ``context``.

    ``background`` is another regimen given at its own doses in every cell (for example
    ``trastuzumab`` under a lapatinib curve); the effect is measured against the context
    untreated. ``unit`` is the unit doses are shown in (:meth:`~her2sim.her2.therapies.Drug.unit`
    of a dose as the user wrote it; default: the unit of the drug's standard dose).
    """
    drug = therapy_library().get(therapy)
    grid = np.asarray(dose_grid(drug.standard_dose) if doses_nM is None else doses_nM, dtype=float)
    if grid.size == 0 or np.any(~np.isfinite(grid)) or np.any(grid < 0):
        raise ConfigError("doses must be finite numbers >= 0, and at least one")
    extra = f"+{background}" if background else ""
    cells = [Cell(context, f"{drug.name}@{d:g}nM{extra}", {"dose_nM": float(d)}) for d in grid]
    table = evaluate_cells(cells, settings=settings, readouts=(readout,))
    fit = fit_hill(table["dose_nM"], table["effect"])
    background = therapy_library().regimen(background or None).label if background else ""
    return DoseResponse(table["context"].iloc[0], drug.name, readout, table.drop(columns="therapy"), fit, background,
                        unit or drug.unit())  # fmt: skip
