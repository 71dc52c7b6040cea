"""Figures of a virtual clinical trial: Kaplan-Meier curves, forest, waterfall, swimmer and spider plots.

Each function takes the per-patient table (or :func:`~her2sim.trials.analysis.subgroup_table`'s
output) and returns a matplotlib :class:`~matplotlib.figure.Figure` that is not registered with
pyplot; write it with :func:`her2sim.report.figures.save_figure`. Colours are the Okabe-Ito
palette shared by every figure (:data:`her2sim._figure_style.OKABE_ITO`, arms in its order),
which stays distinct under the common colour-vision deficiencies (Okabe & Ito 2008, *Color
Universal Design*), and text is sized to be read on a projected slide.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import wraps
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from matplotlib import rc_context
from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, MultipleLocator, NullFormatter, NullLocator

from her2sim._figure_style import OKABE_ITO
from her2sim.errors import ConfigError
from her2sim.trials.analysis import (
    SURVIVAL_COLUMNS,
    _check_survival,
    _require,
    _survival_data,
    km_table,
    scan_table,
)

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType


__all__ = ["forest_figure", "km_figure", "spider_figure", "swimmer_figure", "waterfall_figure"]

#: Best overall response colours: blues for responses, grey for stable, vermillion for progression.
RESPONSE_COLOURS = {"CR": "#0072B2", "PR": "#56B4E9", "SD": "#999999", "PD": "#D55E00"}
RESPONSE_NAMES = {"CR": "complete response", "PR": "partial response", "SD": "stable disease",
                  "PD": "progressive disease"}  # fmt: skip
ENDPOINT_NAMES = {"pfs": ("Progression-free survival", "Progression-free (%)"), "os": ("Overall survival", "Alive (%)")}
#: Base font sizes for slides.
STYLE: dict[RcKeyType, Any] = {"font.size": 12, "axes.titlesize": 14, "axes.labelsize": 12, "xtick.labelsize": 11,
                                 "ytick.labelsize": 11, "legend.fontsize": 11, "axes.spines.top": False,
                                 "axes.spines.right": False}  # fmt: skip
#: Largest best change drawn; taller bars are cut and marked, so shrinkage stays readable.
WATERFALL_CAP = 100.0


def _styled(build: Callable[..., Figure]) -> Callable[..., Figure]:
    """Build the figure under the slide style, without touching the caller's rcParams."""

    @wraps(build)
    def wrapper(*args: Any, **kwargs: Any) -> Figure:
        with rc_context(STYLE):
            return build(*args, **kwargs)

    return wrapper


def _arm_colours(table: pd.DataFrame) -> dict[Any, str]:
    """Each arm's colour, in order of first appearance."""
    arms = list(dict.fromkeys(table["arm"]))
    return {arm: OKABE_ITO[i % len(OKABE_ITO)] for i, arm in enumerate(arms)}


def _trial_name(table: pd.DataFrame) -> str:
    """``"NAME: "`` when the table holds one trial, else empty."""
    names = table["trial"].unique() if "trial" in table else []
    return f"{names[0]}: " if len(names) == 1 else ""


def _horizon(times: pd.Series) -> float:
    """The longest time in ``times``, or 1 month when there is none."""
    longest = float(times.max()) if len(times) else np.nan
    return longest if np.isfinite(longest) and longest > 0 else 1.0


def _month_step(horizon: float) -> float:
    """A tick spacing in months giving at most 10 ticks up to ``horizon``."""
    return next((s for s in (1, 2, 3, 6, 12, 24, 48) if horizon / s <= 10), 96)


@_styled
def km_figure(table: pd.DataFrame, endpoint: Literal["pfs", "os"] = "pfs") -> Figure:
    """Kaplan-Meier curves per arm, with censoring ticks, medians and the number at risk.

    Parameters
    ----------
    table
        The per-patient table.
    endpoint
        ``"pfs"`` or ``"os"``.

    Returns
    -------
    Figure
        Survival (%) against months; a tick on a curve is a censored patient, a dotted drop
        marks each reached median, and the rows under the axis count patients still at risk.

    Examples
    --------
    >>> table = pd.DataFrame({"arm": list("AAABBB"), "pfs_months": [2.0, 4, 6, 3, 8, 12],
    ...                       "progressed": [True, True, False, True, True, False]})
    >>> km_figure(table).axes[0].get_ylabel()
    'Progression-free (%)'
    """
    from lifelines import KaplanMeierFitter

    _check_survival(table, endpoint)
    colours = _arm_colours(table)
    data = {arm: _survival_data(table[table["arm"] == arm], endpoint) for arm in colours}
    medians = km_table(table[["arm", *SURVIVAL_COLUMNS[endpoint]]]).set_index("arm")
    title, ylabel = ENDPOINT_NAMES[endpoint]
    fig = Figure(figsize=(9, 5.2 + 0.35 * len(colours)))
    curve, risk = fig.subplots(2, 1, sharex=True, height_ratios=[5, 0.6 + 0.35 * len(colours)])
    horizon = _horizon(table[SURVIVAL_COLUMNS[endpoint][0]])
    for arm, colour in colours.items():
        times, events = data[arm]
        row = medians.loc[arm]
        label = f"{arm} (n={len(times)}): median {_median_text(row)}"
        if len(times) == 0:
            curve.plot([], [], color=colour, label=label)
            continue
        fit = KaplanMeierFitter().fit(times, events)
        steps = fit.survival_function_.iloc[:, 0]
        curve.step(steps.index, 100 * steps.to_numpy(), where="post", color=colour, lw=2.2, label=label)
        censored = np.sort(times[~events])
        curve.plot(censored, 100 * fit.survival_function_at_times(censored).to_numpy(), ls="none", marker="|",
                   ms=9, mew=1.4, color=colour)  # fmt: skip
        if np.isfinite(row["median_months"]):
            curve.plot([row["median_months"]] * 2, [0, 50], ls=":", lw=1.5, color=colour)
    curve.axhline(50, ls=":", lw=1, color="0.6")
    curve.set(ylabel=ylabel, ylim=(0, 102), xlim=(0, horizon * 1.02))
    curve.yaxis.set_major_locator(MultipleLocator(25))
    curve.xaxis.set_major_locator(MultipleLocator(_month_step(horizon)))
    fig.suptitle(f"{_trial_name(table)}{title.lower() if _trial_name(table) else title}", x=0.01, ha="left")
    if colours:
        curve.legend(loc="lower left", bbox_to_anchor=(0, 1.0), frameon=False, borderaxespad=0.2, alignment="left",
                     title="tick: censored patient; dotted drop: median", title_fontsize=10)  # fmt: skip
    else:
        curve.text(0.5, 0.5, "no patients", transform=curve.transAxes, ha="center", color="0.4")
    _at_risk(risk, data, colours, curve.get_xticks())
    risk.set_xlabel("Months since randomisation")
    fig.align_ylabels()
    fig.tight_layout()
    return fig


def _median_text(row: pd.Series) -> str:
    """``12.4 mo (95% CI 10.1–15.0)``, with ``NR`` for a limit the curve does not reach."""
    if not np.isfinite(row["median_months"]):
        return "not reached"
    low, high = (f"{v:.1f}" if np.isfinite(v) else "NR" for v in (row["ci_low_months"], row["ci_high_months"]))
    return f"{row['median_months']:.1f} mo (95% CI {low}–{high})"


def _at_risk(ax: Any, data: dict[Any, tuple[Any, Any]], colours: dict[Any, str], ticks: Sequence[float]) -> None:
    """The number-at-risk table: one row per arm (``data`` holds its times), one count per x tick."""
    ticks = [t for t in ticks if 0 <= t <= ax.get_xlim()[1]]
    for row, (arm, colour) in enumerate(colours.items()):
        times, _ = data[arm]
        for tick in ticks:
            ax.text(tick, -row, str(int((times >= tick).sum())), ha="center", va="center", color=colour, fontsize=11)
    ax.set_ylim(-max(len(colours), 1) + 0.5, 0.5)
    ax.set_yticks(range(0, -len(colours), -1), [str(arm) for arm in colours])
    for label, colour in zip(ax.get_yticklabels(), colours.values(), strict=True):
        label.set_color(colour)
    ax.tick_params(axis="y", length=0, pad=22)
    ax.tick_params(axis="x", labelbottom=True)
    ax.spines[["left"]].set_visible(False)
    ax.set_title("Number at risk", loc="left", fontsize=11)


@_styled
def forest_figure(subgroups: pd.DataFrame) -> Figure:
    """Hazard ratio with its confidence interval for every subgroup level, on a log axis.

    Parameters
    ----------
    subgroups
        The output of :func:`~her2sim.trials.analysis.subgroup_table`.

    Returns
    -------
    Figure
        One row per level, grouped under its variable, with the number of patients and the
        hazard ratio printed beside it; square areas grow with the number of patients.
        A level without an estimate reads "not estimable". Intervals beyond the axis end in
        an arrow.

    Examples
    --------
    >>> rows = pd.DataFrame({"variable": ["all", "pik3ca", "pik3ca"], "level": ["all", "mutant", "wild-type"],
    ...                      "n": [800, 200, 600], "hr": [0.62, 0.8, 0.55], "ci_low": [0.5, 0.5, 0.44],
    ...                      "ci_high": [0.77, 1.3, 0.69], "arm": "new", "control": "old", "endpoint": "PFS"})
    >>> forest_figure(rows).axes[1].get_xscale()
    'log'
    """
    _require(subgroups, ["variable", "level", "n", "hr", "ci_low", "ci_high", "arm", "control", "endpoint"])
    lines = _forest_lines(subgroups)
    height = 1.9 + 0.42 * len(lines)
    # the label column widens with the longest label (about 0.095 inch a character at 12 points),
    # so that a design's group names ("HR-positive / no prior CDK4/6 inhibitor") push no column off
    label_width = max(2.3, 0.3 + 0.095 * max(len(text) for text, _ in lines))
    fig = Figure(figsize=(label_width + 7.7, height))
    labels, plot, numbers = fig.subplots(1, 3, sharey=True, width_ratios=[label_width, 3.6, 2.4])
    finite = subgroups[["ci_low", "ci_high"]].to_numpy(dtype=float)
    finite = finite[np.isfinite(finite) & (finite > 0)]
    reach = int(min(np.ceil(np.max(np.abs(np.log2(finite)), initial=2.0)), 6.0))
    step = 1 if reach <= 3 else 2  # ticks at powers of 2 up to 1/8-8, else of 4 (at most 7 ticks)
    reach += reach % step
    high = 2.0**reach  # symmetric about 1, from 1/4-4 up to 1/64-64
    low = 1 / high
    size = 250 / np.sqrt(max(float(subgroups["n"].max()), 1))
    for y, (text, row) in enumerate(lines):
        bold = row is None or row["variable"] == "all"
        labels.text(0.02 if bold else 0.1, -y, text, va="center", fontweight="bold" if bold else "normal")
        if row is None:
            continue
        numbers.text(0.0, -y, f"{int(row['n'])}", va="center", ha="left")
        if not np.isfinite(row["hr"]):
            numbers.text(0.28, -y, "not estimable", va="center", ha="left", color="0.4")
            continue
        numbers.text(0.28, -y, f"{row['hr']:.2f} ({row['ci_low']:.2f}–{row['ci_high']:.2f})", va="center")
        left, right = max(row["ci_low"], low), min(row["ci_high"], high)
        plot.plot([left, right], [-y, -y], color="black", lw=1.6)
        if row["ci_low"] < low:
            plot.plot([low], [-y], marker="<", color="black", ms=7)
        if row["ci_high"] > high:
            plot.plot([high], [-y], marker=">", color="black", ms=7)
        plot.scatter([row["hr"]], [-y], s=size * np.sqrt(row["n"]), marker="s", color=OKABE_ITO[0], zorder=3)
    plot.axvline(1, color="0.3", lw=1.2)
    plot.set_xscale("log")
    plot.set_xlim(low, high)
    plot.xaxis.set_major_locator(FixedLocator([2.0**k for k in range(-reach, reach + 1, step)]))
    plot.xaxis.set_major_formatter(lambda v, _: f"1/{round(1 / v)}" if v < 1 else f"{v:.0f}")  # 1/64, not 0.016
    plot.xaxis.set_minor_formatter(NullFormatter())
    plot.xaxis.set_minor_locator(NullLocator())
    first = subgroups.iloc[0]
    plot.set_xlabel(f"{first['endpoint']} hazard ratio (log scale)\n← favours {first['arm']}    "
                    f"favours {first['control']} →")  # fmt: skip
    plot.set_ylim(-len(lines) + 0.5, 1)
    plot.spines[["left"]].set_visible(False)
    plot.tick_params(axis="y", left=False)
    for ax in (labels, numbers):
        ax.axis("off")
        ax.set_xlim(0, 1)
    for ax, x, heading in ((labels, 0.02, "Subgroup"), (numbers, 0.0, "n"), (numbers, 0.28, "HR (95% CI)")):
        ax.text(x, 0.8, heading, fontweight="bold", va="center")
    fig.suptitle(f"{first['endpoint']}: {first['arm']} vs {first['control']} by subgroup", x=0.02, ha="left",
                 fontsize=14)  # fmt: skip
    fig.text(0.02, 0.01, "Each HR from a Cox model within the subgroup alone; no interaction was tested.",
             fontsize=9.5, color="0.3")  # fmt: skip
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


def _forest_lines(subgroups: pd.DataFrame) -> list[tuple[str, Any]]:
    """(label, row or None for a heading) from top to bottom."""
    lines: list[tuple[str, Any]] = []
    for variable, part in subgroups.groupby("variable", sort=False):
        if variable == "all":
            lines.extend(("All patients", row) for _, row in part.iterrows())
            continue
        lines.append((str(variable), None))
        lines.extend((str(row["level"]), row) for _, row in part.iterrows())
    return lines


def _recist_lines(ax: Any) -> None:
    """The RECIST 1.1 thresholds of a change from baseline (dashed, labelled at the right:
    +20% progression, -30% partial response) and the baseline."""
    for level, text in ((20, "+20%"), (-30, "−30%")):
        ax.axhline(level, ls="--", lw=1.2, color="0.25")
        ax.text(1.005, level, text, transform=ax.get_yaxis_transform(), va="center", color="0.25", fontsize=10)
    ax.axhline(0, lw=0.8, color="black")


@_styled
def waterfall_figure(table: pd.DataFrame, colour_by: Literal["response", "arm"] = "response") -> Figure:
    """Best percent change of the target lesions per patient, sorted, one panel per arm.

    Parameters
    ----------
    table
        The per-patient table; patients without a ``best_change_pct`` (no measurable disease)
        are left out and counted under the figure.
    colour_by
        ``"response"`` colours bars by best overall response; ``"arm"`` by arm, in the colours
        of the other figures.

    Returns
    -------
    Figure
        Bars from the largest growth (left) to the largest shrinkage (right), with the RECIST
        1.1 thresholds: -30% (partial response) and +20% (progression, which RECIST measures
        from the nadir, not the baseline). Bars above +100% are cut there and marked.

    Examples
    --------
    >>> table = pd.DataFrame({"arm": list("AABB"), "best_change_pct": [-45.0, 10, -100, 30],
    ...                       "response": ["PR", "SD", "CR", "PD"]})
    >>> len(waterfall_figure(table).axes)
    2
    """
    if colour_by not in ("response", "arm"):
        raise ConfigError(f"colour_by must be 'response' or 'arm', got {colour_by!r}")
    _require(table, ["arm", "best_change_pct", *(["response"] if colour_by == "response" else [])])
    measured = table.dropna(subset=["best_change_pct"])
    colours = _arm_colours(table)
    change = measured["best_change_pct"].to_numpy(dtype=float)
    top = min(max(float(np.max(change, initial=0)), 30.0), WATERFALL_CAP) + 12
    arms = list(colours) or ["no patients"]
    height = 1.6 + 3.2 * len(arms)
    fig = Figure(figsize=(10, height))
    axes = fig.subplots(len(arms), 1, sharey=True, squeeze=False)[:, 0]
    for ax, arm in zip(axes, arms, strict=True):
        part = measured[measured["arm"] == arm].sort_values("best_change_pct", ascending=False)
        values = part["best_change_pct"].to_numpy(dtype=float)
        if colour_by == "response":
            bar_colours = [RESPONSE_COLOURS.get(r, "#000000") for r in part["response"]]
        else:
            bar_colours = [colours.get(arm, "#000000")] * len(part)
        width = 100 / max(len(values), 1)
        x = width * (np.arange(len(values)) + 0.5)
        ax.bar(x, np.minimum(values, WATERFALL_CAP), width=width, color=bar_colours, linewidth=0)
        cut = values > WATERFALL_CAP
        ax.plot(x[cut], np.full(cut.sum(), WATERFALL_CAP + 6), ls="none", marker="^", ms=5, color="black")
        _recist_lines(ax)
        ax.set_xlim(0, 100)
        ax.xaxis.set_major_locator(MultipleLocator(25))
        ax.set_ylabel("Best change from\nbaseline (%)")
        ax.set_title(f"{arm} (n={len(values)} with measurable disease)", loc="left", fontsize=12)
    axes[0].set_ylim(-105, top)
    axes[-1].set_xlabel("Patients of the arm (%), from largest growth to largest shrinkage")
    if colour_by == "response":
        handles = [Patch(color=c, label=f"{r}: {RESPONSE_NAMES[r]}") for r, c in RESPONSE_COLOURS.items()]
        fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.01, 1 - 0.45 / height), ncols=4,
                   frameon=False, fontsize=10)  # fmt: skip
    left_out = len(table) - len(measured)
    fig.suptitle(f"{_trial_name(table)}best change in target lesions (RECIST 1.1)", x=0.01, ha="left")
    notes = ["Dashed: −30% partial response; +20% progression (RECIST measures it from the nadir)."]
    if (change > WATERFALL_CAP).any():
        notes.append(f"▲: bar cut at +{WATERFALL_CAP:g}%.")
    if left_out:
        notes.append(f"{left_out} patients without measurable disease are not shown.")
    fig.text(0.01, 0.005, "\n".join(notes), fontsize=9.5, color="0.3", va="bottom")
    fig.tight_layout(rect=(0, (0.1 + 0.2 * len(notes)) / height, 1, 1 - 0.6 / height))
    return fig


def _first_patients(table: pd.DataFrame, max_patients: int) -> tuple[int, list[pd.DataFrame]]:
    """(patients per arm, each arm's patients drawn): the same number from each arm, at most
    ``max_patients`` in all, those with the lowest ``patient`` numbers."""
    if max_patients < 1:
        raise ConfigError(f"max_patients must be at least 1, got {max_patients}")
    per_arm = max(1, max_patients // max(table["arm"].nunique(), 1))
    return per_arm, [part.nsmallest(per_arm, "patient") for _, part in table.groupby("arm", sort=False)]


@_styled
def swimmer_figure(table: pd.DataFrame, max_patients: int = 50) -> Figure:
    """Time on study per patient, with progression and death, and the mechanism of progression.

    Parameters
    ----------
    table
        The per-patient table. Follow-up is ``os_months`` when present, else ``pfs_months``.
    max_patients
        Most patients drawn: the same number from each arm, those with the lowest ``patient``
        numbers (the title says how many of how many are shown).

    Returns
    -------
    Figure
        One bar per patient, grouped by arm and sorted by follow-up; a diamond marks
        progression, a cross death and an arrow a patient still followed at the end. The
        pathway that drove progression (``mechanism``) is written after the bar.

    Examples
    --------
    >>> table = pd.DataFrame({"arm": list("AB"), "patient": [1, 2], "pfs_months": [3.0, 9.0],
    ...                       "progressed": [True, False], "mechanism": ["PIK3CA", ""]})
    >>> swimmer_figure(table).axes[0].get_xlabel()
    'Months on study'
    """
    _require(table, ["arm", "patient", "pfs_months", "progressed"])
    colours = _arm_colours(table)
    followed_for_os = set(SURVIVAL_COLUMNS["os"]) <= set(table.columns)
    follow = "os_months" if followed_for_os else "pfs_months"
    per_arm, first = _first_patients(table, max_patients)
    shown = [part.assign(_time=lambda p: p[[follow, "pfs_months"]].max(axis=1)).sort_values("_time")
             for part in first]  # fmt: skip
    rows = pd.concat(shown, ignore_index=True) if shown else table.assign(_time=[])
    fig = Figure(figsize=(10, 2.2 + 0.24 * max(len(rows), 1)))
    ax = fig.subplots()
    y = np.arange(len(rows))[::-1]
    horizon = _horizon(rows["_time"])
    ax.barh(y, rows["_time"], height=0.7, color=[colours[a] for a in rows["arm"]], linewidth=0)
    progressed = rows["progressed"].fillna(False).to_numpy(dtype=bool)
    ax.plot(rows["pfs_months"][progressed], y[progressed], ls="none", marker="D", ms=6, mfc="white", mec="black")
    died = rows["died"].fillna(False).to_numpy(dtype=bool) if followed_for_os else np.zeros(len(rows), bool)
    ax.plot(rows["_time"][died], y[died], ls="none", marker="X", ms=8, color="black")
    ongoing = ~died if followed_for_os else ~progressed
    ax.plot(rows["_time"][ongoing] + horizon * 0.008, y[ongoing], ls="none", marker=">", ms=6, color="black")
    mechanisms = rows["mechanism"].fillna("").astype(str) if "mechanism" in rows else pd.Series("", index=rows.index)
    for yi, time, mechanism, labelled in zip(y, rows["_time"], mechanisms, progressed, strict=True):
        if labelled and mechanism:
            ax.text(time + horizon * 0.025, yi, mechanism, va="center", fontsize=9, color="0.2")
    ax.set_yticks(y, [str(p) for p in rows["patient"]], fontsize=8 if len(rows) > 30 else 10)
    ax.set(xlabel="Months on study", ylabel="Patient", ylim=(-0.7, len(rows) - 0.3), xlim=(0, horizon * 1.3))
    ax.xaxis.set_major_locator(MultipleLocator(_month_step(horizon)))
    handles: list[Artist] = [Patch(color=c, label=str(a)) for a, c in colours.items()]
    handles.append(Line2D([], [], ls="none", marker="D", mfc="white", mec="black", label="progression"))
    if followed_for_os:
        handles.append(Line2D([], [], ls="none", marker="X", color="black", label="death"))
    handles.append(Line2D([], [], ls="none", marker=">", color="black", label="still followed"))
    handles.append(Line2D([], [], ls="none", label="text: mechanism of progression"))
    ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0, 1.0), ncols=4, frameon=False, fontsize=10,
              handletextpad=0.4, columnspacing=1.2)  # fmt: skip
    fig.suptitle(f"{_trial_name(table)}time on study, {len(rows)} of {len(table)} patients "
                 f"({per_arm} per arm, lowest patient numbers)", x=0.01, ha="left", fontsize=13)  # fmt: skip
    fig.tight_layout()
    return fig


@_styled
def spider_figure(table: pd.DataFrame, max_patients: int = 60) -> Figure:
    """Change of the target lesions from baseline over time, a line per patient, one panel per arm.

    Parameters
    ----------
    table
        The per-patient table with its scans (``scan_days``, ``sums_mm``: see
        :func:`~her2sim.trials.analysis.scan_table`) and ``response``.
    max_patients
        Most patients drawn: the same number from each arm, those with the lowest ``patient``
        numbers (each panel's title says how many of how many).

    Returns
    -------
    Figure
        Each patient's sum of diameters, in percent change from baseline, from baseline to the
        scan at progression (a diamond) or the last scan, coloured by best overall response,
        with the RECIST 1.1 thresholds; changes above +100% are drawn at +100%.

    Examples
    --------
    >>> table = pd.DataFrame({"arm": ["A", "A"], "patient": [0, 1], "sum_diameters_mm": [50.0, 80.0],
    ...                       "scan_days": [np.array([42.0, 84.0])] * 2, "sums_mm": [np.array([30.0, 40.0]),
    ...                       np.array([85.0, 110.0])], "response": ["PR", "PD"], "progressed": [False, True]})
    >>> spider_figure(table).axes[0].get_xlabel()
    'Months on study'
    """
    _require(table, ["arm", "patient", "response", "progressed"])
    colours = _arm_colours(table)
    arms = list(colours) or ["no patients"]
    per_arm, first = _first_patients(table, max_patients)
    scans = scan_table(pd.concat(first, ignore_index=True)) if first else None
    horizon = _horizon(scans["months"]) if scans is not None else 1.0
    height = 1.4 + 3.0 * len(arms)
    fig = Figure(figsize=(10, height))
    axes = fig.subplots(len(arms), 1, sharex=True, sharey=True, squeeze=False)[:, 0]
    for ax, arm in zip(axes, arms, strict=True):
        patients = table[table["arm"] == arm].set_index("patient")
        mine = scans[scans["arm"] == arm] if scans is not None else pd.DataFrame(columns=["patient"])
        for patient, lines in mine.groupby("patient", sort=True):
            row = patients.loc[patient]
            change = np.minimum(lines["change_pct"].to_numpy(dtype=float), WATERFALL_CAP)
            colour = RESPONSE_COLOURS.get(str(row["response"]), "#000000")
            ax.plot(lines["months"], change, color=colour, lw=1.3, alpha=0.85)
            if bool(row["progressed"]):
                ax.plot(lines["months"].iloc[-1], change[-1], ls="none", marker="D", ms=5, mfc="white", mec=colour)
        _recist_lines(ax)
        ax.set_ylabel("Change from\nbaseline (%)")
        drawn = mine["patient"].nunique()
        ax.set_title(f"{arm} ({drawn} of {int((table['arm'] == arm).sum())} patients)", loc="left", fontsize=12)
    axes[0].set_ylim(-105, WATERFALL_CAP + 10)
    axes[-1].set(xlabel="Months on study", xlim=(0, horizon * 1.02))
    axes[-1].xaxis.set_major_locator(MultipleLocator(_month_step(horizon)))
    handles: list[Artist] = [Line2D([], [], color=c, lw=2, label=f"{r}: {RESPONSE_NAMES[r]}")
                             for r, c in RESPONSE_COLOURS.items()]  # fmt: skip
    handles.append(Line2D([], [], ls="none", marker="D", mfc="white", mec="black", label="progression"))
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.01, 1 - 0.45 / height), ncols=3,
               frameon=False, fontsize=10)  # fmt: skip
    fig.suptitle(f"{_trial_name(table)}change in target lesions over time (RECIST 1.1)", x=0.01, ha="left")
    note = (f"Lowest patient numbers, at most {per_arm} per arm; scans to progression. Dashed: −30% partial "
            "response; +20% progression (RECIST measures it from the nadir). Changes above +100% drawn at "
            "+100%.")  # fmt: skip
    fig.text(0.01, 0.005, note, fontsize=9.5, color="0.3", va="bottom", wrap=True)
    fig.tight_layout(rect=(0, 0.45 / height, 1, 1 - 0.8 / height))
    return fig
