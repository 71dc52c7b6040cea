"""Trial endpoints (her2sim.trials.analysis) and their figures (her2sim.trials.plots)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from her2sim.errors import ConfigError, Her2simWarning, UnknownNameError
from her2sim.report.figures import save_figure
from her2sim.trials import plots
from her2sim.trials.analysis import (
    hazard_ratio,
    km_table,
    proportion_table,
    scan_table,
    subgroup_table,
    summary,
    wilson_interval,
)

ENDPOINTS = {"pCR_pct", "ORR_pct", "median_PFS_months", "median_OS_months", "PFS_HR", "OS_HR", "PFS_12mo_pct",
             "PFS_24mo_pct", "OS_12mo_pct", "OS_24mo_pct"}  # fmt: skip


def trial_table(n: int = 200, seed: int = 0, ratio: float = 0.6, neoadjuvant: bool = False) -> pd.DataFrame:
    """A two-arm trial: exponential PFS (control median 12 months, ``ratio`` the true hazard
    ratio of the new arm), uniform censoring, and the outcome columns the simulator writes."""
    rng = np.random.default_rng(seed)
    arm = np.repeat(["control", "new"], n)
    pik3ca = rng.choice(["mutant", "wild-type"], 2 * n, p=[0.3, 0.7])
    hazard = np.log(2) / 12 * np.where(arm == "new", ratio, 1.0)
    pfs, censor = rng.exponential(1 / hazard), rng.uniform(6, 48, 2 * n)
    change = np.clip(rng.normal(np.where(arm == "new", -45, -30), 35), -100, 200)
    progressed = pfs <= censor
    return pd.DataFrame({
        "trial": "SIM", "arm": arm, "patient": np.arange(2 * n), "pik3ca": pik3ca,
        "hr_status": rng.choice(["positive", "negative"], 2 * n),
        "pfs_months": np.minimum(pfs, censor), "progressed": progressed,
        "os_months": np.minimum(pfs + rng.exponential(24, 2 * n), censor + 12), "died": rng.random(2 * n) < 0.5,
        "best_change_pct": change,
        "response": np.select([change <= -100, change <= -30, change >= 20], ["CR", "PR", "PD"], "SD"),
        "pcr": rng.random(2 * n) < np.where(arm == "new", 0.45, 0.3) if neoadjuvant else np.nan,
        "progression_clone": np.where(progressed, "c1", ""),
        "mechanism": np.where(progressed, rng.choice(["PIK3CA/AKT", "HER3-NRG1", "p95HER2"], 2 * n), ""),
        **scans(np.minimum(pfs, censor), progressed, change, rng),
    })  # fmt: skip


def scans(pfs_months: np.ndarray, progressed: np.ndarray, change: np.ndarray, rng: np.random.Generator) -> dict:
    """Scan columns as a metastatic trial writes them: a scan every 6 weeks to progression or
    censoring, the sum shrinking towards the best change, 25% above its nadir at progression."""
    baseline = rng.uniform(20, 150, len(pfs_months))
    days, sums = [], []
    for months, pd_seen, best, base in zip(pfs_months, progressed, change, baseline, strict=True):
        at = 42.0 * np.arange(1, max(1, int(months * 30.4375 / 42)) + 1)
        path = base * (1 + min(best, 0) / 100 * (1 - np.exp(-at / 60)))
        if pd_seen:
            path[-1] = 1.25 * path[:-1].min(initial=base)
        days.append(at)
        sums.append(path)
    return {"sum_diameters_mm": baseline, "scan_days": days, "sums_mm": sums}


# ---------------------------------------------------------------- proportions


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        (0, 10, 0.0, 0.2775),
        (5, 10, 0.2366, 0.7634),
        (10, 10, 0.7225, 1.0),
        # Newcombe 1998 Stat Med 17:857, Table II, method 3 (Wilson score)
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_interval_matches_known_values(successes: int, n: int, low: float, high: float) -> None:
    # (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n), Wilson 1927 JASA 22:209
    assert wilson_interval(successes, n) == pytest.approx((low, high), abs=5e-5)


def test_wilson_interval_is_vectorised_and_nan_without_patients() -> None:
    low, high = wilson_interval(np.array([0, 5, 0]), np.array([10, 10, 0]))
    assert low[:2] == pytest.approx([0.0, 0.2366], abs=5e-5) and high[:2] == pytest.approx([0.2775, 0.7634], abs=5e-5)
    assert np.isnan(low[2]) and np.isnan(high[2])
    narrow, wide = wilson_interval(5, 10, level=0.8), wilson_interval(5, 10, level=0.99)
    assert wide[0] < narrow[0] < 0.5 < narrow[1] < wide[1]


@pytest.mark.parametrize(("successes", "n", "level"), [(11, 10, 0.95), (-1, 10, 0.95), (5, 10, 1.0)])
def test_wilson_interval_refuses_impossible_input(successes: int, n: int, level: float) -> None:
    with pytest.raises(ConfigError):
        wilson_interval(successes, n, level)


def test_proportion_table_counts_pcr_and_orr_among_evaluable_patients() -> None:
    table = pd.DataFrame({
        "arm": ["A"] * 5 + ["B"] * 5,
        "response": ["CR", "PR", "SD", "PD", None, "PR", "PR", "PR", "SD", "SD"],
        "pcr": [True, False, np.nan, True, False, False, False, False, False, True],
    })  # fmt: skip
    orr = proportion_table(table, "orr").set_index("arm")
    assert orr.loc["A", ["count", "n"]].tolist() == [2, 4] and orr.loc["A", "value_pct"] == 50.0
    assert orr.loc["B", "value_pct"] == 60.0
    assert orr.loc["B", "ci_low_pct"] == pytest.approx(100 * wilson_interval(3, 5)[0])
    pcr = proportion_table(table, "pcr").set_index("arm")
    assert pcr.loc["A", ["count", "n"]].tolist() == [2, 4] and pcr.loc["B", "value_pct"] == 20.0
    assert list(proportion_table(table.assign(site="x"), "orr", by=["arm", "site"]).columns[:2]) == ["arm", "site"]


# ---------------------------------------------------------------- time to event


def test_km_median_of_a_hand_made_table() -> None:
    # A: events at 1, 3, 4, 5 and a patient censored at 2. S = 0.8 after 1, 0.8 * 2/3 = 0.533
    # after 3 and 0.267 after 4, so the median is 4. B: five events, S = 0.4 after 3: median 3.
    table = pd.DataFrame({
        "arm": ["A"] * 5 + ["B"] * 5,
        "pfs_months": [1.0, 2, 3, 4, 5, 1, 2, 3, 4, 5],
        "progressed": [True, False, True, True, True] + [True] * 5,
    })  # fmt: skip
    medians = km_table(table).set_index("arm")
    assert medians.loc["A", "median_months"] == 4.0 and medians.loc["B", "median_months"] == 3.0
    assert medians.loc["A", ["events", "n"]].tolist() == [4, 5] and (medians["endpoint"] == "PFS").all()
    assert (medians["ci_low_months"] <= medians["median_months"]).all()
    assert (medians["median_months"] <= medians["ci_high_months"]).all()


def test_km_table_adds_os_when_followed() -> None:
    medians = km_table(trial_table(50))
    assert sorted(medians["endpoint"].unique()) == ["OS", "PFS"] and len(medians) == 4


def exponential_arms(ratio: float, n: int = 2000, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "arm": np.repeat(["new", "control"], n),
        "pfs_months": np.r_[rng.exponential(10 / ratio, n), rng.exponential(10, n)],
        "progressed": True,
    })  # fmt: skip


def test_hazard_ratio_is_one_for_arms_from_the_same_distribution() -> None:
    hr, low, high, p = hazard_ratio(exponential_arms(1.0), "new", "control")
    assert low < 1 < high and 0.9 < hr < 1.1 and p > 0.01


def test_hazard_ratio_is_a_half_when_the_hazard_is_halved() -> None:
    hr, low, high, p = hazard_ratio(exponential_arms(0.5), "new", "control")
    assert low < 0.5 < high and 0.45 < hr < 0.55 and p < 1e-10
    assert hazard_ratio(exponential_arms(0.5), "control", "new").hr == pytest.approx(1 / hr, rel=1e-3)


def test_subgroup_table_has_a_row_per_level_after_the_overall_row() -> None:
    table = trial_table(300)
    rows = subgroup_table(table, "new", "control", ["pik3ca", "hr_status"])
    assert rows[["variable", "level"]].values.tolist() == [
        ["all", "all"], ["pik3ca", "mutant"], ["pik3ca", "wild-type"], ["hr_status", "negative"],
        ["hr_status", "positive"]]  # fmt: skip
    assert rows.loc[0, "n"] == 600 and rows.loc[1:2, "n"].sum() == 600
    assert (rows["n_arm"] + rows["n_control"] == rows["n"]).all()
    assert (rows["ci_low"] < rows["hr"]).all() and (rows["hr"] < rows["ci_high"]).all()
    assert {"median_arm_months", "median_control_months", "p_value", "note", "endpoint"} <= set(rows.columns)


def test_named_subgroups_select_by_condition_so_a_continuous_attribute_makes_two_rows_not_one_per_value() -> None:
    """As trial designs declare them (EMILIA reports age < 65 and >= 65): every value of a
    continuous column made a row of its own before, a forest plot thousands of rows tall."""
    from her2sim.trials.design import design

    table = trial_table(200).assign(age=np.random.default_rng(3).normal(58, 12, 400))
    groups = {"age": design("EMILIA").subgroup_groups["age"]}
    rows = subgroup_table(table, "new", "control", groups)
    assert rows[["variable", "level"]].values.tolist() == [["all", "all"], ["age", "age <65"], ["age", "age >=65"]]
    assert rows.loc[1, "n"] == (table["age"] < 65).sum() and rows.loc[1:2, "n"].sum() == 400
    labels = summary(table, control="control", subgroups=groups)["subgroup"]
    assert list(dict.fromkeys(labels)) == ["all", "age <65", "age >=65"]
    with pytest.raises(ConfigError, match="no column 'age'"):
        summary(trial_table(20), control="control", subgroups=groups)


def test_subgroup_table_names_an_unknown_column() -> None:
    with pytest.raises(UnknownNameError, match="pik3ca"):
        subgroup_table(trial_table(20), "new", "control", ["PIK3CA_status"])


# ---------------------------------------------------------------- the summary


def test_summary_rows_and_names() -> None:
    table = trial_table(150)
    rows = summary(table, control="control", subgroups=["pik3ca"])
    assert list(rows.columns) == ["trial", "arm", "subgroup", "endpoint", "value", "ci_low", "ci_high", "n",
                                  "p_value", "versus", "note"]  # fmt: skip
    assert not rows.duplicated(["trial", "arm", "subgroup", "endpoint"]).any()
    assert set(rows["subgroup"]) == {"all", "pik3ca=mutant", "pik3ca=wild-type"}
    assert set(rows["endpoint"]) == ENDPOINTS - {"pCR_pct"}  # a metastatic trial: no pCR rows
    control = rows[rows["arm"] == "control"]
    assert not control["endpoint"].str.endswith("_HR").any() and (control["versus"] == "").all()
    overall = rows[rows["subgroup"] == "all"].set_index(["arm", "endpoint"])
    assert overall.loc[("new", "PFS_HR"), "versus"] == "control" and overall.loc[("new", "PFS_HR"), "n"] == 300
    assert overall.loc[("new", "PFS_HR"), "value"] == pytest.approx(hazard_ratio(table, "new", "control").hr)
    assert overall.loc[("new", "median_PFS_months"), "value"] == pytest.approx(
        km_table(table).query("arm == 'new' and endpoint == 'PFS'")["median_months"].item()
    )
    neoadjuvant = summary(trial_table(50, neoadjuvant=True).drop(columns=["os_months", "died"]), "control")
    landmarks = {"PFS_12mo_pct", "PFS_24mo_pct"}
    assert set(neoadjuvant["endpoint"]) == {"pCR_pct", "ORR_pct", "median_PFS_months", "PFS_HR"} | landmarks


def test_summary_gives_the_median_growth_rate_and_the_share_that_only_shrank() -> None:
    table = trial_table(40, seed=1)
    models = np.array(["gd", "dx", "gx", "gd", "not fit", "excluded", "dx", "gd"] * 10)
    table["tumour_model"] = models
    rates = np.linspace(1e-4, 4e-3, len(table))
    table["growth_rate_per_day"] = np.where(np.isin(models, ["gd", "gx"]), rates, np.nan)
    rows = summary(table, control="control").set_index(["arm", "endpoint"])
    for arm, part in table.groupby("arm"):
        grew = part["growth_rate_per_day"].dropna()
        median = rows.loc[(arm, "median_g_per_day")]
        assert median["value"] == pytest.approx(grew.median()) and median["n"] == len(grew)
        assert median["ci_low"] <= median["value"] <= median["ci_high"]
        analysed = part["tumour_model"].isin(["gd", "dx", "gx"])
        share = rows.loc[(arm, "regression_only_pct")]
        assert share["n"] == analysed.sum()
        assert share["value"] == pytest.approx(100 * (part["tumour_model"] == "dx").sum() / analysed.sum())
    assert "median_g_per_day" not in set(summary(trial_table(40), control="control")["endpoint"])


def test_summary_without_a_control_has_no_hazard_ratios() -> None:
    rows = summary(trial_table(50), control=None)
    assert set(rows["endpoint"]) == ENDPOINTS - {"pCR_pct", "PFS_HR", "OS_HR"}
    assert (rows["versus"] == "").all()


def test_summary_keeps_trials_apart() -> None:
    both = pd.concat([trial_table(40, seed=1), trial_table(40, seed=2).assign(trial="OTHER")])
    rows = summary(both, control="control")
    assert rows.groupby("trial").size().tolist() == [16, 16]


# ---------------------------------------------------------------- degenerate data


def degenerate_tables() -> dict[str, pd.DataFrame]:
    base = trial_table(30)
    return {
        "no events": base.assign(progressed=False, died=False),
        "one arm without events": base.assign(progressed=base["progressed"] & (base["arm"] == "control")),
        "one arm empty": base[base["arm"] == "control"],
        "no patients": base.iloc[:0],
        "no times": base.assign(pfs_months=np.nan, os_months=np.nan),
        "no responses": base.assign(response=None),
        "arms separate completely": base.assign(
            pfs_months=np.where(base["arm"] == "new", 100.0, 1.0) + base["patient"] / 1000, progressed=True),
    }  # fmt: skip


@pytest.mark.parametrize("case", list(degenerate_tables()))
def test_degenerate_tables_give_nan_with_a_note(case: str) -> None:
    table = degenerate_tables()[case]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing leaks from lifelines, numpy or pandas
        rows = summary(table, control="control", subgroups=["pik3ca"])
        medians = km_table(table)
        proportion_table(table, "orr")
        groups = subgroup_table(table, "new", "control", ["pik3ca"])
    for frame, value in ((rows, "value"), (medians, "median_months"), (groups, "hr")):
        missing = frame[value].isna()
        assert (frame.loc[missing, "note"] != "").all(), frame.loc[missing]
    if case == "no patients":
        assert rows.empty and medians.empty
    elif case in ("no events", "one arm without events", "one arm empty", "arms separate completely"):
        assert groups["hr"].isna().all() and rows.loc[rows["endpoint"] == "PFS_HR", "value"].isna().all()
        with pytest.warns(Her2simWarning, match="not estimable|empty|no PFS event"):
            assert np.isnan(hazard_ratio(table, "new", "control").hr)


def test_an_absent_arm_is_nan_with_a_suggestion() -> None:
    with pytest.warns(Her2simWarning, match="did you mean 'new'"):
        result = hazard_ratio(trial_table(20), "neww", "control")
    assert np.isnan(result.hr) and np.isnan(result.p)


def test_missing_columns_are_one_line_errors() -> None:
    with pytest.raises(UnknownNameError, match="response"):
        proportion_table(trial_table(5).drop(columns="response"), "orr")
    with pytest.raises(ConfigError, match="pfs_months"):
        km_table(trial_table(5).drop(columns=["pfs_months", "os_months"]))
    with pytest.raises(ConfigError, match="'dfs'"):
        hazard_ratio(trial_table(5), "new", "control", endpoint="dfs")  # type: ignore[arg-type]


# ---------------------------------------------------------------- figures


FIGURES: dict[str, Callable[[pd.DataFrame], Figure]] = {
    "km": plots.km_figure,
    "km_os": lambda table: plots.km_figure(table, "os"),
    "forest": lambda table: plots.forest_figure(subgroup_table(table, "new", "control", ["pik3ca", "hr_status"])),
    "waterfall": plots.waterfall_figure,
    "waterfall_by_arm": lambda table: plots.waterfall_figure(table, colour_by="arm"),
    "swimmer": lambda table: plots.swimmer_figure(table, max_patients=30),
    "spider": lambda table: plots.spider_figure(table, max_patients=30),
}


@pytest.mark.parametrize("name", list(FIGURES))
def test_each_figure_is_a_figure_and_saves_a_png(name: str, tmp_path: Path) -> None:
    fig = FIGURES[name](trial_table(80))
    assert isinstance(fig, Figure) and fig.axes
    save_figure(fig, tmp_path / f"{name}.png")
    data = (tmp_path / f"{name}.png").read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000


@pytest.mark.parametrize("name", list(FIGURES))
@pytest.mark.parametrize("case", list(degenerate_tables()))
def test_figures_draw_degenerate_trials(name: str, case: str, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        save_figure(FIGURES[name](degenerate_tables()[case]), tmp_path / "figure.png")
    assert (tmp_path / "figure.png").stat().st_size > 0


def test_forest_figure_marks_inestimable_rows() -> None:
    table = degenerate_tables()["one arm without events"]
    fig = plots.forest_figure(subgroup_table(table, "new", "control", ["pik3ca"]))
    assert any(text.get_text() == "not estimable" for ax in fig.axes for text in ax.texts)


def test_forest_figure_keeps_long_group_names_and_every_column_inside_the_figure() -> None:
    """DESTINY-Breast04's group names pushed the hazard-ratio column off the figure's right
    edge, and ticks down to 1/64 printed as overlapping decimals."""
    rows = pd.DataFrame({"variable": ["all", "hr_status, prior_cdk46"], "n": [300, 176], "hr": [0.22, 0.03],
                         "level": ["all", "HR-positive / no prior CDK4/6 inhibitor"], "ci_low": [0.15, 0.02],
                         "ci_high": [0.33, 0.05], "arm": "T-DXd", "control": "TPC", "endpoint": "PFS"})  # fmt: skip
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = plots.forest_figure(rows)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    right = fig.bbox.x1
    assert all(t.get_window_extent(canvas.get_renderer()).x1 <= right for ax in fig.axes for t in ax.texts)
    assert [t.get_text() for t in fig.axes[1].get_xticklabels()][:3] == ["1/64", "1/16", "1/4"]


def test_scan_table_has_a_row_per_scan_baseline_first() -> None:
    table = trial_table(20)
    long = scan_table(table)
    assert len(long) == sum(len(d) + 1 for d in table["scan_days"])
    first = long.groupby(["arm", "patient"]).head(1)
    assert (first["day"] == 0).all() and (first["change_pct"] == 0).all()
    one = long[(long["arm"] == "new") & (long["patient"] == table["patient"].iloc[-1])]
    row = table.iloc[-1]
    np.testing.assert_allclose(one["sum_mm"].iloc[1:], row["sums_mm"])
    np.testing.assert_allclose(one["change_pct"].iloc[1:], 100 * (row["sums_mm"] / row["sum_diameters_mm"] - 1))
    assert list(long.columns) == ["trial", "arm", "patient", "day", "months", "sum_mm", "change_pct"]
    with pytest.raises(UnknownNameError, match="scan_days"):
        scan_table(table.drop(columns="scan_days"))
    assert scan_table(table.iloc[:0]).empty


def test_spider_figure_draws_a_line_per_patient_and_marks_progression() -> None:
    table = trial_table(40)
    fig = plots.spider_figure(table, max_patients=20)
    colours = set(plots.RESPONSE_COLOURS.values())
    lines = [line for line in fig.axes[0].lines if line.get_marker() in ("None", "") and line.get_color() in colours]
    shown = table[table["arm"] == "control"].nsmallest(10, "patient")
    assert len(lines) == 10 and fig.axes[0].get_title(loc="left") == "control (10 of 40 patients)"
    diamonds = [line for line in fig.axes[0].lines if line.get_marker() == "D"]
    assert len(diamonds) == int(shown["progressed"].sum())


def test_swimmer_figure_shows_at_most_max_patients() -> None:
    fig = plots.swimmer_figure(trial_table(100), max_patients=20)
    assert len(fig.axes[0].get_yticks()) == 20
    assert "20 of 200 patients" in fig.texts[0].get_text()


def test_landmark_rates_are_the_kaplan_meier_curve_and_its_band_at_their_time() -> None:
    from lifelines import KaplanMeierFitter

    table = trial_table(120, seed=3)
    rows = summary(table, control="control").set_index(["arm", "endpoint"])
    for arm, part in table.groupby("arm"):
        fit = KaplanMeierFitter(alpha=0.05).fit(part["pfs_months"], part["progressed"])
        band = fit.confidence_interval_survival_function_
        row = rows.loc[(arm, "PFS_12mo_pct")]
        assert row["value"] == pytest.approx(100 * float(fit.predict(12.0)))
        assert [row["ci_low"], row["ci_high"]] == pytest.approx(100 * band[band.index <= 12.0].iloc[-1].to_numpy())
        assert row["ci_low"] <= row["value"] <= row["ci_high"]
    short = table.assign(pfs_months=table["pfs_months"].clip(upper=10.0), progressed=table["pfs_months"] <= 10.0)
    unknown = summary(short, control="control").set_index(["arm", "endpoint"]).loc[("control", "PFS_12mo_pct")]
    assert np.isnan(unknown["value"]) and "follow-up ends" in unknown["note"]  # censored at 10 months, alive
