"""Figures of the HER2 experiments, shared by the command line and the report.

Each function takes a result and returns a matplotlib :class:`~matplotlib.figure.Figure`
that pyplot does not keep; write it with :func:`her2sim.report.figures.save_figure`. They are
built to not mislead: effects on a fixed 0-1 axis (a figure says so when it has to show
more), error bars from the simulation's standard errors, what was given besides the drug in
the title, doses in the unit the user gave, synergy on a scale centred at zero, and factors
named in words. Colours and sizes are those of :mod:`her2sim._figure_style`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import Colormap, Normalize, TwoSlopeNorm
from matplotlib.figure import Figure

from her2sim._figure_style import (
    DIVERGING,
    OKABE_ITO,
    SEQUENTIAL,
    cell_text,
    ink_on,
    new_figure,
    styled,
    wrapped,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from her2sim.experiments.doseresponse import DoseResponse
    from her2sim.her2.scenario import ScenarioResult

__all__ = [
    "dose_response_figure",
    "landscape_figure",
    "sensitivity_figure",
    "synergy_figure",
    "timecourse_figure",
]

#: The readouts a time course shows unless told otherwise.
PHENOTYPES = ("proliferation", "apoptosis")


def _note(fig: Figure, text: str, colour: str = "0.3") -> None:
    """A line under the figure, left-aligned; the layout makes room for it (a figure's
    ``supxlabel``, which no figure here uses otherwise)."""
    fig.supxlabel(text, x=0.01, ha="left", fontsize=10, color=colour)


def _effect_words(readout: str) -> str:
    """What an effect of 1 means for ``readout`` (see :func:`her2sim.her2.scenario.effect`)."""
    return "1 = every cell apoptotic" if readout == "apoptosis" else "1 = abolished"


def timecourse_figure(result: ScenarioResult, names: Sequence[str] = PHENOTYPES, title: str = "") -> Figure:
    """Readouts or nodes over time, treated (solid) against untreated (dashed) in one colour.

    Parameters
    ----------
    result
        A scenario (:meth:`~her2sim.her2.scenario.Her2Simulator.run`).
    names
        Readouts (``proliferation``, ``apoptosis``, ``survival``, ``pAKT``, ``pERK``) and model
        nodes (``AKT``), in this order; more than six get one small panel each.
    title
        Figure title (default: the context and the regimen).

    Examples
    --------
    >>> from her2sim.her2.scenario import scenario
    >>> from her2sim.her2.settings import RunSettings
    >>> fig = timecourse_figure(scenario(["ERBB2:amp"], "lapatinib", settings=RunSettings(samples=100, max_time=10)))
    >>> fig.axes[0].get_xlabel(), [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ('time (model rate units)', ['proliferation', 'apoptosis', 'treated', 'untreated'])
    """
    from her2sim.report.simulation import trajectory_figure

    treated, untreated = result.trajectories("treated"), result.trajectories("untreated")
    return trajectory_figure(treated, list(names), wrapped(title or f"{result.context} | {result.therapy}", 70),
                             reference=untreated, ylabel="probability")  # fmt: skip


@styled
def dose_response_figure(curve: DoseResponse) -> Figure:
    """Simulated effects (with standard-error bars) and the fitted Hill curve against log dose.

    The effect axis is 0 to 1; when a simulated effect (or its error bar) falls outside, the
    axis grows to show it and the figure says so. Doses are in ``curve.unit``; the IC50 is
    given only inside the tested doses (:meth:`~her2sim.experiments.doseresponse.DoseResponse.ic50_text`).
    A drug-free point (dose 0) is the dotted line: no effect, or the background drugs alone.
    """
    table = curve.table()
    unit = curve.unit
    positive = table[table["dose_nM"] > 0]
    doses = positive["dose_nM"].to_numpy(dtype=float) / unit.nM
    effect = positive["effect"].to_numpy(dtype=float)
    error = positive["effect_se"].to_numpy(dtype=float) if "effect_se" in positive else np.zeros_like(effect)
    fig = new_figure(figsize=(11, 5.2), layout="constrained")
    ax = fig.subplots()
    zero = table[table["dose_nM"] == 0]
    if len(zero):
        base = float(zero["effect"].iloc[0])
        words = f"{curve.background} alone" if curve.background else "no drug"
        ax.axhline(base, color="0.45", ls=":", lw=1.5, label=f"dose 0 ({words})")
    ax.errorbar(doses, effect, yerr=1.96 * error, fmt="o", ms=7, color=OKABE_ITO[0], ecolor=OKABE_ITO[0],
                elinewidth=1.4, capsize=3, label="simulated (bars: 95% interval)")  # fmt: skip
    if curve.fit.converged and len(doses):
        grid = np.geomspace(doses.min(), doses.max(), 200)
        label = f"Hill fit, IC50 {curve.ic50_text()}"
        ax.plot(grid, curve.fit.predict(grid * unit.nM), "-", color=OKABE_ITO[1], lw=2.2, label=label)
        low, high = curve.tested
        if low <= curve.fit.ic50_nM <= high:
            ax.axvline(curve.fit.ic50_nM / unit.nM, color=OKABE_ITO[1], ls="--", lw=1.2)
    else:
        ax.plot([], [], " ", label="Hill fit: not possible (the effect does not change with dose)")
    ax.set_xscale("log")
    unit_words = "multiples of the standard dose" if unit.name == "x" else unit.name
    ax.set(xlabel=f"{curve.therapy} dose ({unit_words})",
           ylabel=f"effect on {curve.readout}\n({_effect_words(curve.readout)})")  # fmt: skip
    reach = np.concatenate([effect - 1.96 * error, effect + 1.96 * error, [0.0, 1.0]])
    reach = reach[np.isfinite(reach)]
    low, high = min(0.0, float(reach.min())), max(1.0, float(reach.max()))
    ax.set_ylim(low - 0.03, high + 0.03)
    if low < 0 or high > 1:
        _note(fig, "The effect axis is extended beyond 0-1 to show every simulated point.")
        for level in (0, 1):
            ax.axhline(level, color="0.7", lw=0.8, zorder=0)
    with_ = f", with {curve.background} throughout" if curve.background else ""
    ax.set_title(wrapped(f"{curve.therapy} in {curve.context}{with_}", 70), loc="left")
    fig.legend(loc="outside right upper", frameon=False, fontsize=10)
    return fig


@styled
def synergy_figure(matrix: pd.DataFrame, title: str = "") -> Figure:
    """A drug pair's dose matrix: its effect (0-1) beside its excess over Bliss independence
    on a scale centred at zero (positive: synergy, negative: antagonism).

    ``matrix`` holds one context and one pair (a screen table's rows for them; see
    :func:`~her2sim.experiments.combinations.bliss_excess`). Doses are in each drug's
    standard-dose unit; a cell's label never reads ``-0.00``.
    """
    from her2sim.experiments.combinations import bliss_excess
    from her2sim.her2.therapies import therapy_library

    effect, excess = bliss_excess(matrix)
    drugs = [therapy_library().get(str(matrix[f"drug_{k}"].iloc[0])) for k in (1, 2)]
    units = [drug.unit() for drug in drugs]
    fig = new_figure(figsize=(13, 5.6), layout="constrained")
    left, right = fig.subplots(1, 2)
    _grid(left, effect, SEQUENTIAL, Normalize(0, 1), "effect on proliferation (1 = abolished)", signed=False)
    limit = max(0.1, float(np.nanmax(np.abs(excess.to_numpy()), initial=0.0)))
    _grid(right, excess, DIVERGING, TwoSlopeNorm(0.0, -limit, limit), "excess over Bliss (+ synergy, - antagonism)",
          signed=True)  # fmt: skip
    left.set_title("Effect", loc="left")
    right.set_title("Synergy: effect minus Bliss independence", loc="left")
    for ax in (left, right):
        ax.set_xticks(range(effect.shape[1]), [units[1].number(x) for x in effect.columns], rotation=30, ha="right")
        ax.set_yticks(range(effect.shape[0]), [units[0].number(x) for x in effect.index])
        ax.set(xlabel=f"{drugs[1].name} ({units[1].name})", ylabel=f"{drugs[0].name} ({units[0].name})")
    context = str(matrix["context"].iloc[0])
    fig.suptitle(wrapped(title or f"{drugs[0].name} x {drugs[1].name} in {context}", 90), x=0.01, ha="left")
    note = "Grey: one drug alone, no combination to judge."
    if "effect_se" in matrix and matrix["effect_se"].notna().any():
        note += f" A cell's effect has a standard error of about {matrix['effect_se'].median():.2f}."
    _note(fig, note)
    return fig


def _grid(ax: Axes, grid: pd.DataFrame, cmap: str | Colormap, norm: Normalize, label: str, signed: bool) -> None:
    """One heatmap panel: the cells coloured and labelled, with a colour bar; NaN cells blank."""
    values = grid.to_numpy(dtype=float)
    cmap = (colormaps[cmap] if isinstance(cmap, str) else cmap).with_extremes(bad="#E5E5E5")
    image = ax.imshow(values, origin="lower", cmap=cmap, norm=norm, aspect="auto")
    colours = image.cmap(norm(values))
    for (i, j), value in np.ndenumerate(values):
        if np.isfinite(value):
            ax.text(j, i, cell_text(value, signed=signed), ha="center", va="center", fontsize=11,
                    color=ink_on(colours[i, j]))  # fmt: skip
    ax.figure.colorbar(image, ax=ax, label=label, shrink=0.9)
    ax.spines[["top", "right"]].set_visible(True)


@styled
def landscape_figure(table: pd.DataFrame, readout: str = "proliferation") -> Figure:
    """Effects at the standard dose: mechanisms (rows) x therapies (columns), 0-1 on one colour scale.

    Effects below 0 (the therapy raised the readout) keep their label and take the colour of
    0; the colour bar's arrow says so.
    """
    part = table[(table["readout"] == readout) & np.isclose(table["dose_multiple"], 1.0)]
    grid = part.pivot_table(index="mechanism", columns="regimen", values="effect", sort=False)
    rows, cols = grid.shape
    fig = new_figure(figsize=(max(9.0, 0.62 * cols + 4.5), max(4.5, 0.5 * rows + 2.8)), layout="constrained")
    ax = fig.subplots()
    norm = Normalize(0, 1)
    values = grid.to_numpy(dtype=float)
    image = ax.imshow(values, cmap=SEQUENTIAL, norm=norm, aspect="auto")
    colours = image.cmap(norm(values))
    small = 10 if cols <= 20 else 8
    for (i, j), value in np.ndenumerate(values):
        if np.isfinite(value):
            ax.text(j, i, cell_text(value), ha="center", va="center", fontsize=small, color=ink_on(colours[i, j]))
    ax.set_xticks(range(cols), [r.replace("+", " + ") for r in grid.columns], rotation=50, ha="right")
    ax.set_yticks(range(rows), grid.index)
    ax.spines[["top", "right"]].set_visible(True)
    extend = "min" if np.nanmin(values, initial=0.0) < 0 else "neither"
    fig.colorbar(image, ax=ax, extend=extend, label=f"effect on {readout}\n(0 = resistant, 1 = abolished)")
    ax.set_title("Resistance landscape at the standard dose", loc="left")
    return fig


@styled
def sensitivity_figure(indices: pd.DataFrame, title: str = "", top: int = 15) -> Figure:
    """A tornado chart (Morris mu* with its 95% interval) or Sobol bars (total and first-order),
    the ``top`` factors, named in words (:func:`~her2sim.experiments.sensitivity.factor_label`).

    Give it the indices of the factors that can move the target
    (:meth:`~her2sim.experiments.sensitivity.Space.for_target`). When an interval is wider than
    its index, the ranking is not resolved and the figure says how often.

    Examples
    --------
    >>> table = pd.DataFrame({"factor": ["parameter:EGF", "potency:lapatinib"], "mu_star": [0.2, 0.05],
    ...                       "mu_star_conf": [0.05, 0.08], "sigma": [0.1, 0.02]})
    >>> fig = sensitivity_figure(table, "lapatinib")
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()], fig.get_supxlabel()[:30]
    (['lapatinib potency', 'EGF parameter'], 'Warning: the 95% interval is w')
    """
    from her2sim.experiments.sensitivity import factor_label

    shown = indices.head(top).iloc[::-1]
    fig = new_figure(figsize=(9, 0.42 * len(shown) + 2.6), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(shown))
    if "mu_star" in shown:
        ax.barh(y, shown["mu_star"], xerr=shown["mu_star_conf"], color=OKABE_ITO[0], height=0.7,
                error_kw={"ecolor": "0.2", "capsize": 3})  # fmt: skip
        ax.set_xlabel("Morris μ* (mean absolute elementary effect), bars: 95% interval")
        wide = int((shown["mu_star_conf"] > shown["mu_star"]).sum())
        ax.set_xlim(left=0)
    else:
        ax.barh(y + 0.2, shown["ST"], height=0.4, xerr=shown["ST_conf"], label="total (ST)", color=OKABE_ITO[1],
                error_kw={"ecolor": "0.2", "capsize": 2})  # fmt: skip
        ax.barh(y - 0.2, shown["S1"], height=0.4, xerr=shown["S1_conf"], label="first order (S1)",
                color=OKABE_ITO[0], error_kw={"ecolor": "0.2", "capsize": 2})  # fmt: skip
        ax.set_xlabel("Sobol index (share of the variance), bars: 95% interval")
        ax.axvline(0, color="0.4", lw=0.8)
        fig.legend(loc="outside upper right", ncols=2, frameon=False)
        wide = int(((shown["ST_conf"] > shown["ST"].abs()) | (shown["S1_conf"] > shown["S1"].abs())).sum())
    ax.set_yticks(y, [factor_label(str(f)) for f in shown["factor"]])
    fig.suptitle(wrapped(title, 80), x=0.01, ha="left")
    if wide:
        _note(fig, f"Warning: the 95% interval is wider than the index for {wide} of {len(shown)} factors; "
              "their order is not resolved (sample more).", OKABE_ITO[1])  # fmt: skip
    return fig
