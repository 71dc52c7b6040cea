"""The experiment figures say what they show: axes, limits, units, titles, labels, colours.

Each figure is built from a small hand-made result (no simulation) and checked on its
matplotlib objects.
"""

from __future__ import annotations

import math

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection
from matplotlib.colors import TwoSlopeNorm

from her2sim._figure_style import OKABE_ITO, cell_text
from her2sim.errors import ConfigError
from her2sim.experiments.doseresponse import DoseResponse, HillFit, fit_hill
from her2sim.her2.scenario import READOUTS, ScenarioResult
from her2sim.her2.therapies import NANOMOLAR, therapy_library
from her2sim.report.plots import (
    dose_response_figure,
    landscape_figure,
    sensitivity_figure,
    synergy_figure,
    timecourse_figure,
)
from her2sim.report.simulation import TIME_LABEL

NAN2 = (math.nan, math.nan)


def curve(effects: list[float], ic50: float, *, background: str = "", unit: object = NANOMOLAR) -> DoseResponse:
    """A dose-response over 1 to 1000 nM (and 0) with the given effects and a fitted IC50."""
    doses = [0.0, 1.0, 10.0, 100.0, 1000.0]
    table = pd.DataFrame({"dose_nM": doses, "treated": 0.5, "untreated": 0.5, "effect": [0.0, *effects],
                          "effect_se": 0.02, "samples": 500, "context": "ERBB2:amp"})  # fmt: skip
    fit = HillFit(ic50, 0.8, 1.0, (ic50 / 2, ic50 * 2), NAN2, NAN2, True)
    return DoseResponse("ERBB2:amp", "lapatinib", "proliferation", table, fit, background, unit)  # type: ignore[arg-type]


def texts(fig: object) -> list[str]:
    """Every text drawn in a figure's axes (cell labels and annotations)."""
    return [t.get_text() for ax in fig.axes for t in ax.texts]  # type: ignore[attr-defined]


# ------------------------------------------------------------------ dose-response
def test_an_ic50_beyond_the_tested_doses_is_not_extrapolated() -> None:
    assert curve([0.1, 0.2, 0.3, 0.4], ic50=50_000).ic50_text() == "> 1000 nM (top dose)"
    assert curve([0.7, 0.75, 0.8, 0.8], ic50=0.01).ic50_text() == "< 1 nM (lowest dose)"
    inside = curve([0.1, 0.3, 0.6, 0.8], ic50=30)
    assert inside.ic50_text() == "30 nM"
    assert inside.ic50_text(interval=True) == "30 nM (95% CI 15 nM to 60 nM)"
    flat = fit_hill([1, 10, 100], [0.2, 0.2, 0.2])
    assert DoseResponse("c", "d", "proliferation", curve([0.2] * 4, 1).curve, flat).ic50_text() == "not estimable"


def test_dose_response_has_a_fixed_effect_axis_error_bars_units_and_the_background_in_its_title() -> None:
    microM = therapy_library().get("lapatinib").unit("1uM")
    fig = dose_response_figure(curve([0.1, 0.2, 0.3, 0.4], ic50=50_000, background="trastuzumab", unit=microM))
    ax = fig.axes[0]
    low, high = ax.get_ylim()
    assert low == pytest.approx(-0.03) and high == pytest.approx(1.03)  # 0-1, a margin each side
    assert ax.get_xlabel() == "lapatinib dose (µM)" and ax.get_xscale() == "log"
    assert ax.get_ylabel() == "effect on proliferation\n(1 = abolished)"
    assert ax.get_title(loc="left") == "lapatinib in ERBB2:amp, with trastuzumab throughout"
    assert [x for x, _ in ax.lines[-1].get_xydata()][:1] == [pytest.approx(0.001)]  # doses in µM, not nM
    [bars] = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(bars.get_segments()) == 4  # one error bar per positive dose
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "Hill fit, IC50 > 1 µM (top dose)" in legend and "dose 0 (trastuzumab alone)" in legend
    assert fig.get_supxlabel() == ""  # nothing to warn about


def test_an_effect_outside_0_1_widens_the_axis_and_says_so() -> None:
    fig = dose_response_figure(curve([-0.3, 0.2, 0.5, 0.8], ic50=30))
    assert fig.axes[0].get_ylim()[0] < -0.3
    assert "extended beyond 0-1" in fig.get_supxlabel()


# ------------------------------------------------------------------ synergy and landscape
def matrix(effect: np.ndarray) -> pd.DataFrame:
    """A 3x3 dose matrix of trastuzumab (rows) and alpelisib (columns), zero doses included."""
    rows = []
    for i, d1 in enumerate([0.0, 6.76, 67.6]):
        for j, d2 in enumerate([0.0, 100.0, 3000.0]):
            rows.append({"context": "ERBB2:amp", "combination": "trastuzumab + alpelisib", "drug_1": "trastuzumab",
                         "dose_1_nM": d1, "drug_2": "alpelisib", "dose_2_nM": d2, "effect": effect[i, j],
                         "effect_se": 0.02})  # fmt: skip
    return pd.DataFrame(rows)


SYNERGY = np.array([[0.0, 0.3, 0.6], [0.2, 0.44, 0.7], [0.4, 0.6, 0.9]])


def test_synergy_map_is_centred_at_zero_with_readable_doses_and_no_negative_zero() -> None:
    fig = synergy_figure(matrix(SYNERGY))
    effect_ax, excess_ax = fig.axes[:2]  # then their colour bars
    [excess] = excess_ax.images
    assert isinstance(excess.norm, TwoSlopeNorm) and excess.norm.vcenter == 0
    assert excess.norm.vmin == -excess.norm.vmax
    assert effect_ax.images[0].norm.vmin == 0 and effect_ax.images[0].norm.vmax == 1
    labels = texts(fig)
    assert "0.00" in labels and "-0.00" not in labels  # 0.44 - (0.2 + 0.3 - 0.06) rounds to zero
    assert [t.get_text() for t in excess_ax.get_xticklabels()] == ["0", "0.1", "3"]  # alpelisib in µM
    assert [t.get_text() for t in excess_ax.get_yticklabels()] == ["0", "1", "10"]  # trastuzumab in µg/mL
    assert excess_ax.get_xlabel() == "alpelisib (µM)" and excess_ax.get_ylabel() == "trastuzumab (µg/mL)"
    assert fig.get_suptitle() == "trastuzumab x alpelisib in ERBB2:amp"
    assert "standard error of about 0.02" in fig.get_supxlabel()


def test_a_synergy_map_refuses_a_table_of_several_matrices() -> None:
    two = pd.concat([matrix(SYNERGY), matrix(SYNERGY).assign(context="ERBB2:amp; PIK3CA:H1047R")])
    with pytest.raises(ConfigError, match="one drug pair in one context"):
        synergy_figure(two)


def test_cell_labels_never_read_negative_zero() -> None:
    assert [cell_text(v) for v in (-0.004, -0.0, 0.004, -0.006)] == ["0.00", "0.00", "0.00", "-0.01"]
    assert cell_text(math.nan) == ""


def test_landscape_is_on_one_colour_blind_safe_scale_without_negative_zero() -> None:
    table = pd.DataFrame({"mechanism": ["amp", "amp", "PIK3CA", "PIK3CA"], "regimen": ["T", "T+A", "T", "T+A"],
                          "readout": "proliferation", "dose_multiple": 1.0,
                          "effect": [0.5, 0.9, -0.001, 0.7]})  # fmt: skip
    fig = landscape_figure(table)
    [image] = fig.axes[0].images
    assert image.cmap.name == "viridis" and (image.norm.vmin, image.norm.vmax) == (0, 1)
    assert sorted(texts(fig)) == ["0.00", "0.50", "0.70", "0.90"]
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["T", "T + A"]


# ------------------------------------------------------------------ sensitivity
MORRIS = pd.DataFrame({"factor": ["parameter:IGF1R", "alteration:PIK3CA:H1047R", "potency:lapatinib"],
                       "mu_star": [0.3, 0.1, 0.02], "mu_star_conf": [0.05, 0.02, 0.04],
                       "sigma": [0.1, 0.05, 0.01]})  # fmt: skip


def test_tornado_names_factors_in_words_and_wraps_a_long_title() -> None:
    title = "Effect of trastuzumab + alpelisib on proliferation in ERBB2:amp; PIK3CA:H1047R: Morris screening"
    fig = sensitivity_figure(MORRIS, title)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "lapatinib potency", "PIK3CA:H1047R strength", "IGF1R parameter"]  # fmt: skip
    assert ax.get_xlim()[0] == 0 and ax.get_xlabel().startswith("Morris μ*")
    assert all(len(line) <= 80 for line in fig.get_suptitle().splitlines()) and "\n" in fig.get_suptitle()
    assert fig.get_supxlabel().startswith("Warning: the 95% interval is wider than the index for 1 of 3 factors")


def test_sobol_legend_sits_outside_the_bars_and_no_warning_when_intervals_are_narrow() -> None:
    table = pd.DataFrame({"factor": ["parameter:EGF", "rate:AKT"], "S1": [0.5, 0.2], "S1_conf": [0.05, 0.02],
                          "ST": [0.6, 0.3], "ST_conf": [0.05, 0.03]})  # fmt: skip
    fig = sensitivity_figure(table, "Sobol")
    fig.canvas.draw()
    [legend] = fig.legends
    ax_box, legend_box = fig.axes[0].get_window_extent(), legend.get_window_extent()
    assert not ax_box.overlaps(legend_box)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["AKT rate", "EGF parameter"]
    assert fig.get_supxlabel() == ""


# ------------------------------------------------------------------ time courses
def scenario_result(nodes: int = 3) -> ScenarioResult:
    """A scenario over 3 time points: readouts and ``nodes`` model nodes, treated and untreated."""
    times = [0.0, 1.0, 2.0]
    rows = [{"time": t, "readout": r, "condition": c, "probability": 0.5 if c == "treated" else 0.7}
            for c in ("untreated", "treated") for r in READOUTS for t in times]  # fmt: skip
    tc = pd.DataFrame({f"N{i}": [0.1, 0.2, 0.3] for i in range(nodes)}, index=pd.Index(times, name="time"))
    return ScenarioResult("ERBB2:amp", "lapatinib", pd.DataFrame(rows), pd.DataFrame(), pd.DataFrame(),
                          pd.concat({"untreated": tc, "treated": tc * 2}, axis=1))  # fmt: skip


def test_treated_and_untreated_of_one_readout_share_a_colour_solid_against_dashed() -> None:
    fig = timecourse_figure(scenario_result(), ["proliferation", "N1"])
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == (TIME_LABEL, "probability")
    assert ax.get_title(loc="left") == "ERBB2:amp | lapatinib"
    lines = ax.get_lines()
    assert [mcolors.to_hex(line.get_color()) for line in lines] == [OKABE_ITO[0].lower()] * 2 + [
        OKABE_ITO[1].lower()] * 2  # fmt: skip
    assert [line.get_linestyle() for line in lines] == ["-", "--", "-", "--"]
    assert lines[2].get_ydata().tolist() == [0.2, 0.4, 0.6]  # N1 treated
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["proliferation", "N1", "treated", "untreated"]


def test_twenty_nodes_get_a_panel_each_with_both_conditions() -> None:
    fig = timecourse_figure(scenario_result(20), [f"N{i}" for i in range(20)])
    assert len(fig.axes) == 20 and [ax.get_title() for ax in fig.axes[:2]] == ["N0", "N1"]
    assert all([line.get_linestyle() for line in ax.get_lines()] == ["--", "-"] for ax in fig.axes)
    assert fig.get_supxlabel() == TIME_LABEL
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["treated", "untreated"]
