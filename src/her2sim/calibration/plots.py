"""Figures of a fit: where the posterior lies in each factor's prior range, and each
measurement observed against predicted (with the ensemble's 5-95% interval)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import NullFormatter, NullLocator

from her2sim._figure_style import OKABE_ITO, new_figure, styled
from her2sim.experiments.sensitivity import Space, factor_label
from her2sim.her2.posterior import Posterior
from her2sim.her2.validation import THRESHOLDS

__all__ = ["fit_figure", "marginals_figure"]

#: Colour-blind-safe pair (Okabe-Ito blue and vermillion) for right and wrong predictions.
_RIGHT, _WRONG = OKABE_ITO[0], OKABE_ITO[1]


@styled
def marginals_figure(posterior: Posterior, space: Space) -> Figure:
    """One panel per factor: the weighted posterior histogram over the factor's prior range,
    the prior's centre (dashed) and the best member (solid); the ticks are the range's ends
    and its centre."""
    factors = {f.name: f for f in space.factors}
    n = len(posterior.factors)
    cols = 5
    rows = math.ceil(n / cols)
    fig = new_figure(figsize=(3.4 * cols, 2.4 * rows + 0.6), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    best = posterior.values[int(np.argmin(posterior.loss))]
    for j, name in enumerate(posterior.factors):
        ax = axes[j // cols][j % cols]
        factor = factors.get(name)
        values = posterior.values[:, j]
        low, high = (factor.low, factor.high) if factor is not None else (values.min(), values.max())
        log = factor is None or factor.log
        bins = np.geomspace(low, high, 16) if log and low > 0 else np.linspace(low, high, 16)
        ax.hist(values, bins=bins, weights=posterior.weights, color=_RIGHT, alpha=0.75)
        if factor is not None:
            ax.axvline(factor.nominal, color="0.3", linestyle="--", linewidth=1)
        ax.axvline(best[j], color="black", linewidth=1.2)
        if log and low > 0:
            ax.set_xscale("log")
        ax.set_xlim(low, high)
        ticks = [low, high]
        if factor is not None and _apart(factor.nominal, (low, high), log and low > 0):
            ticks.insert(1, factor.nominal)
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xticks(ticks, [f"{t:.2g}" for t in ticks], fontsize=10)
        ax.set_yticks([])
        ax.set_title(factor_label(name), fontsize=11)
    for j in range(n, rows * cols):
        axes[j // cols][j % cols].axis("off")
    fig.suptitle("Posterior over each factor's prior range (dashed: prior centre, solid: best set)", x=0.01,
                 ha="left")  # fmt: skip
    return fig


def _apart(value: float, ends: tuple[float, float], log: bool) -> bool:
    """Whether a tick at ``value`` sits at least a sixth of the axis from both ``ends``."""
    scale = np.log if log else (lambda x: x)
    low, high = scale(ends[0]), scale(ends[1])
    return bool(min(abs(scale(value) - low), abs(high - scale(value))) >= (high - low) / 6)


@styled
def fit_figure(table: pd.DataFrame) -> Figure:
    """Left: measured values (effects, ratios) against predictions with 5-95% intervals.
    Right: each class or comparison measurement's predicted quantity against its threshold."""
    classes = int((~table["kind"].isin(["effect", "ratio"])).sum())
    fig = new_figure(figsize=(14, max(6.0, 0.17 * classes + 1.5)), layout="constrained")
    left, right = fig.subplots(1, 2)
    numeric = table[table["kind"].isin(["effect", "ratio"])]
    if len(numeric):
        observed = numeric["observed"].astype(float).to_numpy()
        colours = [_RIGHT if c else _WRONG for c in numeric["correct"]]
        left.errorbar(observed, numeric["median"], yerr=[numeric["median"] - numeric["low"],
                      numeric["high"] - numeric["median"]], fmt="none", ecolor="0.6", linewidth=1)  # fmt: skip
        left.scatter(observed, numeric["predicted"], c=colours, zorder=3, s=28)
        top = max(1.0, float(np.nanmax([observed.max(), numeric["high"].max()])) * 1.05)
        left.plot([0, top], [0, top], color="0.5", linestyle=":", linewidth=1)
        left.set_xlim(0, top)
        left.set_ylim(0, top)
    left.set_xlabel("measured (effect or ratio of effects)")
    left.set_ylabel("predicted (best set; bars: 5-95% over the ensemble)")
    left.set_title("Measured values")
    qualitative = table[~table["kind"].isin(["effect", "ratio"])].reset_index(drop=True)
    y = np.arange(len(qualitative))
    colours = [_RIGHT if c else _WRONG for c in qualitative["correct"]]
    right.hlines(y, qualitative["low"], qualitative["high"], color="0.6", linewidth=1)
    right.scatter(qualitative["predicted"], y, c=colours, zorder=3, s=20)
    for x in (THRESHOLDS["resistant"], THRESHOLDS["sensitive"]):
        right.axvline(x, color="0.5", linestyle=":", linewidth=1)
    right.set_yticks(y)
    right.set_yticklabels([f"{r.id} {r.observed}" for r in qualitative.itertuples()], fontsize=8)
    right.invert_yaxis()
    right.set_xlabel("predicted effect (class rows) or difference to the comparison")
    right.set_title(f"Classes and comparisons: {int(qualitative['correct'].sum())}/{len(qualitative)} right")
    marks = [Line2D([], [], ls="none", marker="o", color=c, label=t) for c, t in ((_RIGHT, "right"), (_WRONG, "wrong"))]
    fig.legend(handles=marks, loc="outside upper right", ncols=2, frameon=False)
    return fig
