"""Published rows against simulated patients: statistics, tolerances, orderings."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from her2sim.errors import ConfigError, ModelValidationError
from her2sim.trials.published import COLUMNS, parse_trials_table
from her2sim.trials.validate import TOLERANCE, compare, contrast_misses, replicated, scaled_miss

HEADER = "\t".join(COLUMNS) + "\n"


def rows(*lines: tuple[str, str, str, str, float]):  # type: ignore[no-untyped-def]
    text = HEADER + "".join(f"{i}\t{t}\t\t\t{a}\t\t{s}\t{e}\t{v}\t\tsource\n" for i, t, a, s, e, v in
                            ((f"R{k}", *line) for k, line in enumerate(lines)))  # fmt: skip
    return parse_trials_table(text, "test.tsv")


def neosphere_patients() -> pd.DataFrame:
    """30% pCR with TH, 50% with THP: 100 patients each."""
    return pd.DataFrame({"trial": "NeoSphere", "arm": ["TH"] * 100 + ["THP"] * 100,
                         "pcr": [True] * 30 + [False] * 70 + [True] * 50 + [False] * 50})  # fmt: skip


def test_misses_are_scaled_by_the_tolerance_of_their_statistic() -> None:
    assert scaled_miss("percent", 40.0, 50.0) == pytest.approx(1.0)
    assert scaled_miss("median_months", 10.0, 13.0) == pytest.approx(1.0)
    assert scaled_miss("median_months", 10.0, 10.0 / 1.3) == pytest.approx(-1.0)
    assert scaled_miss("hazard_ratio", 0.62, 0.77) == pytest.approx(1.0)
    assert math.isinf(scaled_miss("median_months", 10.0, math.nan))
    assert TOLERANCE == {"percent": 10.0, "landmark_percent": 10.0, "median_months": 0.30, "hazard_ratio": 0.15}


def test_percentages_within_tolerance_and_orderings_of_arms() -> None:
    table = compare(rows(("NeoSphere", "TH", "all", "pCR_breast_pct", 29.0),
                         ("NeoSphere", "THP", "all", "pCR_breast_pct", 45.8)), neosphere_patients())  # fmt: skip
    assert table["simulated"].tolist() == [30.0, 50.0]
    assert table["within"].tolist() == [True, True] and table["ordering"].tolist() == [1.0, 1.0]
    swapped = compare(rows(("NeoSphere", "TH", "all", "pCR_breast_pct", 55.0),
                           ("NeoSphere", "THP", "all", "pCR_breast_pct", 45.8)), neosphere_patients())  # fmt: skip
    assert swapped["within"].tolist() == [False, True] and swapped["ordering"].tolist() == [0.0, 0.0]


def test_contrast_misses_hold_the_fit_to_the_difference_between_arms() -> None:
    published = rows(("NeoSphere", "TH", "all", "pCR_breast_pct", 29.0),
                     ("NeoSphere", "THP", "all", "pCR_breast_pct", 45.8))  # fmt: skip
    table = compare(published, neosphere_patients())  # simulated 30 and 50: a 20-point gap against 16.8
    assert contrast_misses(table) == pytest.approx([((30 - 50) - (29.0 - 45.8)) / 10.0])  # one pair, counted once
    flat = neosphere_patients().assign(pcr=[True] * 38 + [False] * 62 + [True] * 38 + [False] * 62)
    flat_table = compare(published, flat)  # both arms within tolerance of their levels...
    assert flat_table["within"].all()
    assert contrast_misses(flat_table) == pytest.approx([1.68])  # ...but the benefit of adding P is missed
    no_thp = neosphere_patients().query("arm == 'TH'")
    assert math.isinf(contrast_misses(compare(published, no_thp))[0])


def test_medians_hazard_ratios_and_subgroups_are_computed_on_the_right_patients() -> None:
    rng = np.random.default_rng(0)
    n = 2000
    arm = np.repeat(["placebo+TH", "pertuzumab+TH"], n)
    pik3ca = np.tile(["wild-type", "H1047R"], n)
    scale = np.where(arm == "pertuzumab+TH", 18.0, 12.0) * np.where(pik3ca == "H1047R", 0.6, 1.0)
    patients = pd.DataFrame({"trial": "CLEOPATRA", "arm": arm, "pik3ca": pik3ca, "progressed": True,
                             "pfs_months": rng.exponential(scale / math.log(2)), "response": "PR"})  # fmt: skip
    table = compare(rows(("CLEOPATRA", "placebo+TH", "PIK3CA mutant", "median_PFS_months", 7.2),
                         ("CLEOPATRA", "pertuzumab+TH", "PIK3CA wild-type", "median_PFS_months", 18.0),
                         ("CLEOPATRA", "pertuzumab+TH", "all", "PFS_HR", 0.67)), patients)  # fmt: skip
    assert table["simulated"][0] == pytest.approx(7.2, rel=0.12)
    assert table["simulated"][1] == pytest.approx(18.0, rel=0.12)
    assert table["simulated"][2] == pytest.approx(12.0 / 18.0, abs=0.06)
    assert table["within"].all()


def test_replicates_of_different_rows_are_refused() -> None:
    a = pd.DataFrame({"id": ["T1"], "simulated": [1.0], "within": [True], "ordering": [float("nan")]})
    with pytest.raises(ConfigError, match="different rows"):
        replicated([a, a.assign(id=["T2"])])
    with pytest.raises(ConfigError, match="at least one seed"):
        replicated([])


def test_landmark_rates_are_kaplan_meier_estimates_at_their_time() -> None:
    # T-DXd: 10 patients progress at months 1-10, 10 censored at 24; T-DM1: 20 progress at months 1-20
    patients = pd.DataFrame({"trial": "DESTINY-Breast03", "arm": ["T-DXd"] * 20 + ["T-DM1"] * 20,
                             "pfs_months": [*range(1, 11), *[24.0] * 10, *range(1, 21)],
                             "progressed": [True] * 10 + [False] * 10 + [True] * 20})  # fmt: skip
    published = rows(("DESTINY-Breast03", "T-DXd", "all", "PFS_12mo_pct", 75.8),
                     ("DESTINY-Breast03", "T-DM1", "all", "PFS_12mo_pct", 34.1),
                     ("DESTINY-Breast03", "T-DXd", "all", "PFS_30mo_pct", 40.0),
                     ("DESTINY-Breast03", "T-DM1", "all", "PFS_30mo_pct", 90.0))  # fmt: skip
    assert [r.months for r in published] == [12.0, 12.0, 30.0, 30.0] and published[0].measure == "PFS at 12 months"
    table = compare(published, patients)
    assert table["simulated"].iloc[:2].tolist() == pytest.approx([50.0, 40.0])  # 10/20 and 8/20 still free
    # ordered as published against the other 12-month row; a 30-month row (published 90) is no peer
    assert table["within"].tolist()[:2] == [False, True] and table["ordering"].iloc[0] == 1.0
    assert math.isnan(table["simulated"].iloc[2])  # follow-up ends at 24 months with patients free: unknown
    assert table["simulated"].iloc[3] == 0.0  # every T-DM1 patient progressed by month 20


def test_an_unknown_endpoint_names_the_landmark_form() -> None:
    with pytest.raises(ModelValidationError, match=r"test.tsv:2: row R0: endpoint: .*PFS_<N>mo_pct"):
        rows(("DESTINY-Breast03", "T-DXd", "all", "PFS_12m_pct", 75.8))
