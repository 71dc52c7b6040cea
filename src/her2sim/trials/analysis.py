"""Endpoints of a virtual clinical trial, computed from its per-patient table.

The input is one row per patient with the columns ``arm``, ``pfs_months`` and ``progressed``
(``os_months`` and ``died`` when overall survival is followed), ``response`` (best overall
response by RECIST 1.1: ``CR``, ``PR``, ``SD`` or ``PD``), ``pcr`` (neoadjuvant trials) and
attribute columns such as ``pik3ca`` to form subgroups. A ``trial`` column, when present,
keeps trials apart in :func:`summary`. Subgroups are either the levels of attribute columns
(``["pik3ca"]``: a row per value) or named groups, each selecting its patients by a condition
(``{"age": {"age <65": condition, ...}}``, as a trial design declares them): a continuous
attribute such as age needs the latter.

Proportions (pCR, objective response) get Wilson score intervals; medians come from
Kaplan-Meier estimates and hazard ratios from a Cox model on an arm indicator, both fitted
with lifelines, with the log-rank test for the p-value.

Data that cannot give an estimate (no patients, no events, an empty arm) never raise: the
value is NaN and the ``note`` column says why. Columns that are missing, an unknown arm or
subgroup column, and impossible settings raise :class:`~her2sim.errors.Her2simError`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Literal, NamedTuple, Protocol, overload

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from her2sim.errors import ConfigError, Her2simWarning, UnknownNameError, closest

__all__ = [
    "HazardRatio",
    "event_free_at",
    "hazard_ratio",
    "km_table",
    "proportion_table",
    "scan_table",
    "subgroup_table",
    "summary",
    "wilson_interval",
]

Proportion = Literal["pcr", "orr"]
Survival = Literal["pfs", "os"]

#: Days in a month (365.25 / 12), for times in months as trials report them.
DAYS_PER_MONTH = 30.4375
#: Landmark times (months) at which the summary gives each arm's event-free rate.
LANDMARK_MONTHS = (12.0, 24.0)
#: Time and event columns of each time-to-event endpoint.
SURVIVAL_COLUMNS: dict[str, tuple[str, str]] = {"pfs": ("pfs_months", "progressed"), "os": ("os_months", "died")}
#: The column each proportion is read from, and what it is called in notes.
PROPORTION_COLUMNS: dict[str, tuple[str, str]] = {"pcr": ("pcr", "pCR"), "orr": ("response", "objective response")}
#: Best overall responses that count as objective responses (RECIST 1.1).
RESPONDERS = ("CR", "PR")
#: The per-patient columns of the regression-growth fit (:mod:`her2sim.trials.growth`).
GROWTH_COLUMNS = ("tumour_model", "growth_rate_per_day")
#: Models of that fit a patient is analysed under (the others were excluded or not fitted).
_ANALYSED = ("gd", "dx", "gx")


class Selector(Protocol):
    """What picks a named subgroup's patients (a trial design's conditions do)."""

    def mask(self, table: pd.DataFrame) -> np.ndarray:
        """Which rows of ``table`` belong to the subgroup."""
        ...


#: Subgroups: attribute columns whose every level is a subgroup, or named groups by variable.
Subgroups = Sequence[str] | Mapping[str, Mapping[str, Selector]]


# ---------------------------------------------------------------- proportions


@overload
def wilson_interval(successes: float, n: float, level: float = 0.95) -> tuple[float, float]: ...
@overload
def wilson_interval(
    successes: ArrayLike, n: ArrayLike, level: float = 0.95
) -> tuple[NDArray[np.float64], NDArray[np.float64]]: ...
def wilson_interval(
    successes: ArrayLike, n: ArrayLike, level: float = 0.95
) -> tuple[float, float] | tuple[NDArray[np.float64], NDArray[np.float64]]:
    r"""Wilson score interval of a binomial proportion (Wilson 1927, *JASA* 22:209).

    With :math:`\hat p = x/n` and :math:`z` the two-sided normal quantile of ``level``,

    .. math:: \frac{\hat p + z^2/2n \pm z\sqrt{\hat p(1-\hat p)/n + z^2/4n^2}}{1 + z^2/n}.

    Unlike the Wald interval it stays inside [0, 1] and keeps its coverage near 0 and n
    (Newcombe 1998, *Stat Med* 17:857, method 3).

    Parameters
    ----------
    successes, n
        Counts, scalars or arrays that broadcast together; ``0 <= successes <= n``.
    level
        Confidence level, in (0, 1).

    Returns
    -------
    (low, high)
        Proportions in [0, 1]; NaN where ``n`` is 0. Floats for scalar input, else arrays.

    Raises
    ------
    ConfigError
        A negative count, more successes than patients, or a level outside (0, 1).

    Examples
    --------
    >>> low, high = wilson_interval(0, 10)
    >>> round(low, 4), round(high, 4)
    (0.0, 0.2775)
    >>> low, high = wilson_interval([5, 10], [10, 10])
    >>> low.round(4).tolist(), high.round(4).tolist()
    ([0.2366, 0.7225], [0.7634, 1.0])
    """
    from scipy.stats import norm

    x = np.asarray(successes, dtype=float)
    total = np.asarray(n, dtype=float)
    _check_level(level)
    if np.any(x < 0) or np.any(x > total):
        raise ConfigError(f"a proportion needs 0 <= successes <= n, got {successes!s} of {n!s}")
    z = float(norm.ppf(0.5 + level / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / total
        denominator = 1 + z**2 / total
        centre = (p + z**2 / (2 * total)) / denominator
        half = z * np.sqrt(p * (1 - p) / total + z**2 / (4 * total**2)) / denominator
    low, high = np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
    if low.ndim == 0:
        return float(low), float(high)
    return low, high


def proportion_table(
    table: pd.DataFrame, endpoint: Proportion, by: Sequence[str] = ("arm",), level: float = 0.95
) -> pd.DataFrame:
    """Percent of patients with a pCR or an objective response, per group, with Wilson CIs.

    pCR is the share of ``pcr`` true among patients with a recorded ``pcr``; the objective
    response rate (ORR) is the share of ``CR`` or ``PR`` best overall responses among patients
    with a recorded ``response``. Patients with a missing value are not evaluable.

    Parameters
    ----------
    table
        The per-patient table.
    endpoint
        ``"pcr"`` or ``"orr"``.
    by
        Columns that define the groups, ``arm`` by default.
    level
        Confidence level of the interval.

    Returns
    -------
    DataFrame
        One row per group: the ``by`` columns, ``value_pct``, ``ci_low_pct``, ``ci_high_pct``,
        ``count`` (patients with the outcome), ``n`` (evaluable patients) and ``note``.

    Examples
    --------
    >>> table = pd.DataFrame({"arm": ["A"] * 4 + ["B"] * 4,
    ...                       "response": ["CR", "PR", "SD", "PD", "PD", "PD", "SD", None]})
    >>> proportion_table(table, "orr")[["arm", "value_pct", "count", "n"]]
      arm  value_pct  count  n
    0   A       50.0      2  4
    1   B        0.0      0  3
    """
    if endpoint not in PROPORTION_COLUMNS:
        raise ConfigError(f"unknown proportion endpoint {endpoint!r}: use 'pcr' or 'orr'")
    _require(table, [*by, PROPORTION_COLUMNS[endpoint][0]])
    _check_level(level)
    rows = []
    for key, part in _groups(table, by):
        found = _proportion(part, endpoint, level)
        rows.append({**key, "value_pct": found.value, "ci_low_pct": found.low, "ci_high_pct": found.high,
                     "count": found.counted, "n": found.n, "note": found.note})  # fmt: skip
    return pd.DataFrame(rows, columns=[*by, "value_pct", "ci_low_pct", "ci_high_pct", "count", "n", "note"])


class _Estimate(NamedTuple):
    """A percentage or a median with its interval; ``counted`` is responders or events."""

    value: float
    low: float
    high: float
    counted: int
    n: int
    note: str


def _proportion(part: pd.DataFrame, endpoint: str, level: float) -> _Estimate:
    """Percent of evaluable patients with the outcome, and its Wilson interval in percent."""
    column, name = PROPORTION_COLUMNS[endpoint]
    values = part[column].dropna()
    hits = values.isin(RESPONDERS) if endpoint == "orr" else values.astype(bool)
    count, n = int(hits.sum()), len(values)
    if n == 0:
        return _Estimate(np.nan, np.nan, np.nan, 0, 0, f"no patient evaluable for {name}")
    low, high = wilson_interval(count, n, level)
    return _Estimate(100 * count / n, 100 * low, 100 * high, count, n, "")


# ---------------------------------------------------------------- tumour growth rates


def scan_table(table: pd.DataFrame) -> pd.DataFrame:
    """The scans of every patient as a long table, one row per patient and scan, baseline
    first: the per-patient table's ``scan_days`` and ``sums_mm`` (arrays, to the scan at
    progression) with the baseline ``sum_diameters_mm`` at day 0. The format tumour growth
    inhibition fits and the ``tumgr`` R package read.

    Returns
    -------
    DataFrame
        ``trial`` (when present), ``arm``, ``patient``, ``day``, ``months``, ``sum_mm`` and
        ``change_pct`` (from baseline).

    Examples
    --------
    >>> table = pd.DataFrame({"arm": ["A"], "patient": [0], "sum_diameters_mm": [50.0],
    ...                       "scan_days": [np.array([42.0, 84.0])], "sums_mm": [np.array([40.0, 45.0])]})
    >>> scan_table(table)[["day", "sum_mm", "change_pct"]].round(6).to_numpy().tolist()
    [[0.0, 50.0, 0.0], [42.0, 40.0, -20.0], [84.0, 45.0, -10.0]]
    """
    _require(table, ["arm", "patient", "sum_diameters_mm", "scan_days", "sums_mm"])
    keys = ["trial", "arm", "patient"] if "trial" in table else ["arm", "patient"]
    counts = table["scan_days"].map(len).to_numpy(dtype=np.int64) + 1
    baseline = table["sum_diameters_mm"].to_numpy(dtype=float)
    days = np.concatenate([np.zeros(0), *(np.concatenate([[0.0], d]) for d in table["scan_days"])])
    sums = np.concatenate(
        [np.zeros(0), *(np.concatenate([[b], s]) for b, s in zip(baseline, table["sums_mm"], strict=True))]
    )
    long = table[keys].loc[table.index.repeat(counts)].reset_index(drop=True)
    long["day"] = days
    long["months"] = days / DAYS_PER_MONTH
    long["sum_mm"] = sums
    long["change_pct"] = 100.0 * (sums / np.repeat(baseline, counts) - 1.0)
    return long


def _median_growth(part: pd.DataFrame, level: float) -> _Estimate:
    """Median growth rate (per day) of the patients with one (models ``gd`` and ``gx``), with
    the distribution-free interval of the median (order statistics, binomial coverage)."""
    rates = np.sort(part["growth_rate_per_day"].dropna().to_numpy(dtype=float))
    n = len(rates)
    if n == 0:
        return _Estimate(np.nan, np.nan, np.nan, 0, 0, "no patient with a growth rate")
    from scipy.stats import binom

    low_rank = int(binom.ppf((1 - level) / 2, n, 0.5))
    high_rank = int(binom.isf((1 - level) / 2, n, 0.5))
    low = rates[low_rank - 1] if low_rank >= 1 else np.nan
    high = rates[high_rank] if high_rank < n else np.nan
    return _Estimate(float(np.median(rates)), float(low), float(high), n, n, "")


def _regression_only(part: pd.DataFrame, level: float) -> _Estimate:
    """Percent of the analysed patients whose tumour only shrank (model ``dx``), Wilson interval."""
    models = part["tumour_model"].dropna()
    analysed = models[models.isin(_ANALYSED)]
    count, n = int((analysed == "dx").sum()), len(analysed)
    if n == 0:
        return _Estimate(np.nan, np.nan, np.nan, 0, 0, "no patient analysed for tumour growth")
    low, high = wilson_interval(count, n, level)
    return _Estimate(100 * count / n, 100 * low, 100 * high, count, n, "")


# ---------------------------------------------------------------- time to event


class _Comparison(NamedTuple):
    hr: float
    low: float
    high: float
    p: float
    n: int
    events: int
    note: str


class HazardRatio(NamedTuple):
    """Hazard ratio of an arm against a control, its confidence interval and log-rank p."""

    hr: float
    low: float
    high: float
    p: float


def km_table(table: pd.DataFrame, by: Sequence[str] = ("arm",), level: float = 0.95) -> pd.DataFrame:
    """Kaplan-Meier median progression-free (and overall) survival per group.

    Medians and their confidence intervals are read off the lifelines
    ``KaplanMeierFitter`` curve and its pointwise band (exponential Greenwood, i.e. log(-log)
    transformed), the Brookmeyer-Crowley construction: the median is the first time the curve
    reaches 0.5 or below, and the limits are the times its band does. OS rows appear when the
    table has ``os_months`` and ``died``.

    Parameters
    ----------
    table
        The per-patient table.
    by
        Columns that define the groups.
    level
        Confidence level of the interval.

    Returns
    -------
    DataFrame
        One row per group and endpoint: the ``by`` columns, ``endpoint`` (``PFS`` or ``OS``),
        ``median_months``, ``ci_low_months``, ``ci_high_months``, ``events``, ``n`` and ``note``.
        A median the curve never reaches is NaN with a note; an unreached upper limit is
        ``inf`` (the interval is open above).

    Examples
    --------
    >>> table = pd.DataFrame({"arm": "A", "pfs_months": [1.0, 2, 3, 4, 5],
    ...                       "progressed": [True, False, True, True, True]})
    >>> km_table(table)[["arm", "endpoint", "median_months", "events", "n"]]
      arm endpoint  median_months  events  n
    0   A      PFS            4.0       4  5
    """
    endpoints = [e for e, columns in SURVIVAL_COLUMNS.items() if set(columns) <= set(table.columns)]
    if not endpoints:
        raise ConfigError("the table has no time-to-event columns: expected pfs_months and progressed")
    _require(table, by)
    _check_level(level)
    rows = []
    for key, part in _groups(table, by):
        for endpoint in endpoints:
            fit = _kaplan_meier(part, endpoint, level)
            rows.append({**key, "endpoint": endpoint.upper(), "median_months": fit.value, "ci_low_months": fit.low,
                         "ci_high_months": fit.high, "events": fit.counted, "n": fit.n, "note": fit.note})  # fmt: skip
    columns = ["endpoint", "median_months", "ci_low_months", "ci_high_months", "events", "n", "note"]
    return pd.DataFrame(rows, columns=[*by, *columns])


def event_free_at(table: pd.DataFrame, endpoint: str, months: float) -> float:
    """Kaplan-Meier share of ``table``'s patients free of ``endpoint`` (``pfs`` or ``os``) at
    ``months``; NaN without patients, or when follow-up ends before ``months`` with patients
    still free of the event (the curve is not known there).

    Examples
    --------
    >>> table = pd.DataFrame({"pfs_months": [1.0, 2, 3, 4], "progressed": [True, True, False, True]})
    >>> event_free_at(table, "pfs", 2.5)
    0.5
    """
    return _event_free(table, endpoint, months, 0.95).value / 100.0


def _event_free(part: pd.DataFrame, endpoint: str, months: float, level: float) -> _Estimate:
    """Percent free of the event at ``months`` on the Kaplan-Meier curve, with the curve's
    pointwise interval there (exponential Greenwood); ``counted`` is the events by then."""
    from lifelines import KaplanMeierFitter

    times, events = _survival_data(part, endpoint)
    name = f"{endpoint.upper()} at {months:g} months"
    if len(times) == 0:
        return _Estimate(np.nan, np.nan, np.nan, 0, 0, f"no patient with a {endpoint.upper()} time")
    fit = KaplanMeierFitter(alpha=1 - level).fit(times, events)
    free = float(fit.predict(months))
    counted = int(events[times <= months].sum())
    if months > times.max() and free > 0:
        return _Estimate(np.nan, np.nan, np.nan, counted, len(times), f"{name}: follow-up ends before it")
    band = fit.confidence_interval_survival_function_  # a step function from time 0
    low, high = band[band.index <= months].iloc[-1]
    return _Estimate(100 * free, 100 * float(low), 100 * float(high), counted, len(times), "")


def _survival_data(part: pd.DataFrame, endpoint: str) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """(times, event flags) of the patients with both recorded."""
    time, event = SURVIVAL_COLUMNS[endpoint]
    known = part[[time, event]].dropna()
    times = known[time].to_numpy(dtype=float)
    if np.any(times < 0):
        raise ConfigError(f"negative {time} in the patient table")
    return times, known[event].to_numpy(dtype=bool)


def _kaplan_meier(part: pd.DataFrame, endpoint: str, level: float) -> _Estimate:
    """Kaplan-Meier median and its interval; ``count`` is the number of events."""
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    times, events = _survival_data(part, endpoint)
    n, observed = len(times), int(events.sum())
    name = endpoint.upper()
    if n == 0:
        return _Estimate(np.nan, np.nan, np.nan, 0, 0, f"no patient with a {name} time")
    if observed == 0:
        return _Estimate(np.nan, np.nan, np.nan, 0, n, f"no {name} event (all censored): median not estimable")
    fit = KaplanMeierFitter(alpha=1 - level).fit(times, events)
    low, high = median_survival_times(fit.confidence_interval_).iloc[0]
    median = float(fit.median_survival_time_)
    if np.isinf(median):
        return _Estimate(np.nan, float(low), float(high), observed, n, f"median {name} not reached")
    return _Estimate(median, float(low), float(high), observed, n, "")


def hazard_ratio(
    table: pd.DataFrame, arm: str, control: str, endpoint: Survival = "pfs", level: float = 0.95
) -> HazardRatio:
    """Hazard ratio of ``arm`` against ``control`` with its CI, and the log-rank p-value.

    The ratio is ``exp(beta)`` of a lifelines ``CoxPHFitter`` (Efron ties) on one covariate,
    1 for patients in ``arm`` and 0 for patients in ``control``; other arms are ignored. Below 1,
    ``arm`` progresses (or dies) more slowly. The p-value is the two-sided log-rank test of the
    same two arms.

    Parameters
    ----------
    table
        The per-patient table.
    arm, control
        Arm labels.
    endpoint
        ``"pfs"`` or ``"os"``.
    level
        Confidence level of the interval.

    Returns
    -------
    HazardRatio
        ``(hr, low, high, p)``. When the data cannot give a ratio (an arm without patients or
        without events) the values are NaN and a :class:`~her2sim.errors.Her2simWarning` says why.

    Examples
    --------
    Progression twice as slow on the new arm (median 13.9 against 6.9 months):

    >>> rng = np.random.default_rng(1)
    >>> table = pd.DataFrame({"arm": ["new"] * 300 + ["old"] * 300,
    ...                       "pfs_months": np.r_[rng.exponential(20, 300), rng.exponential(10, 300)],
    ...                       "progressed": True})
    >>> result = hazard_ratio(table, "new", "old")
    >>> round(result.hr, 2), result.low < 0.5 < result.high, result.p < 1e-6
    (0.49, True, True)
    """
    _check_survival(table, endpoint)
    _check_level(level)
    found = _compare(table, arm, control, endpoint, level)
    if found.note:
        arms = [str(a) for a in table["arm"].unique()]
        guesses = [closest(label, arms) for label in (arm, control) if label not in arms]
        hint = f" (did you mean {guesses[0][0]!r}?)" if guesses and guesses[0] else ""
        message = f"{endpoint.upper()} hazard ratio of {arm} vs {control}: {found.note}{hint}"
        warnings.warn(message, Her2simWarning, stacklevel=2)
    return HazardRatio(found.hr, found.low, found.high, found.p)


def _compare(part: pd.DataFrame, arm: str, control: str, endpoint: str, level: float) -> _Comparison:
    """Cox hazard ratio and log-rank p of two arms in ``part``; NaN with a note when impossible."""
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError, ConvergenceWarning
    from lifelines.statistics import logrank_test

    name = endpoint.upper()
    data = {label: _survival_data(part[part["arm"] == label], endpoint) for label in (arm, control)}
    n = sum(len(times) for times, _ in data.values())
    events = sum(int(flags.sum()) for _, flags in data.values())
    for label, (times, _) in data.items():
        if len(times) == 0:
            why = f"no patient of {label} has a {name} time" if (part["arm"] == label).any() else f"{label} is empty"
            return _Comparison(np.nan, np.nan, np.nan, np.nan, n, events, why)
    if events == 0:
        return _Comparison(np.nan, np.nan, np.nan, np.nan, n, 0, f"no {name} event in either arm")
    (t_arm, e_arm), (t_control, e_control) = data[arm], data[control]
    p = float(logrank_test(t_arm, t_control, e_arm, e_control).p_value)
    silent = [label for label, (_, flags) in data.items() if not flags.any()]
    if silent:
        return _Comparison(np.nan, np.nan, np.nan, p, n, events, f"no {name} event in {silent[0]}: HR not estimable")
    frame = pd.DataFrame({"time": np.r_[t_arm, t_control], "event": np.r_[e_arm, e_control],
                          "in_arm": np.r_[np.ones(len(t_arm)), np.zeros(len(t_control))]})  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        try:
            cox = CoxPHFitter(alpha=1 - level).fit(frame, "time", "event")
        except (ConvergenceError, ConvergenceWarning):
            note = "Cox fit did not converge (the arms separate completely or nearly): HR not estimable"
            return _Comparison(np.nan, np.nan, np.nan, p, n, events, note)
    low, high = np.exp(cox.confidence_intervals_.loc["in_arm"].to_numpy())
    return _Comparison(float(np.exp(cox.params_["in_arm"])), float(low), float(high), p, n, events, "")


def subgroup_table(
    table: pd.DataFrame,
    arm: str,
    control: str,
    subgroups: Subgroups,
    endpoint: Survival = "pfs",
    level: float = 0.95,
) -> pd.DataFrame:
    """Hazard ratios of ``arm`` against ``control`` in every level of each subgroup column.

    The first row is the whole population (``variable`` and ``level`` both ``"all"``). Each
    ratio is a separate Cox fit restricted to the patients of that level, exactly as
    :func:`hazard_ratio`; no treatment-by-subgroup interaction is fitted or tested, so a
    difference between subgroup ratios is descriptive, not evidence of effect modification.
    Patients with a missing attribute are left out of that variable's rows.

    Parameters
    ----------
    table
        The per-patient table.
    arm, control
        Arm labels.
    subgroups
        Attribute columns, e.g. ``["pik3ca", "hr_status"]``, or named groups by variable
        (see the module's docstring).
    endpoint
        ``"pfs"`` or ``"os"``.
    level
        Confidence level of the interval.

    Returns
    -------
    DataFrame
        One row per level: ``variable``, ``level``, ``n``, ``n_arm``, ``n_control``, ``events``,
        ``hr``, ``ci_low``, ``ci_high``, ``p_value``, ``median_arm_months``,
        ``median_control_months``, ``note``, and the ``arm``, ``control`` and ``endpoint``
        compared (for the forest plot's labels).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> table = pd.DataFrame({"arm": np.repeat(["new", "old"], 200),
    ...                       "pik3ca": np.tile(["mutant", "wild-type"], 200),
    ...                       "pfs_months": rng.exponential(10, 400), "progressed": True})
    >>> subgroup_table(table, "new", "old", ["pik3ca"])[["variable", "level", "n", "n_arm"]]
      variable      level    n  n_arm
    0      all        all  400    200
    1   pik3ca     mutant  200    100
    2   pik3ca  wild-type  200    100
    """
    _check_survival(table, endpoint)
    _require_subgroups(table, subgroups)
    _check_level(level)
    rows = []
    for variable, value, part in _subgroups(table, subgroups):
        found = _compare(part, arm, control, endpoint, level)
        medians = {label: _kaplan_meier(part[part["arm"] == label], endpoint, level).value for label in (arm, control)}
        rows.append({"variable": variable, "level": value, "n": found.n,
                     "n_arm": int((part["arm"] == arm).sum()), "n_control": int((part["arm"] == control).sum()),
                     "events": found.events, "hr": found.hr, "ci_low": found.low, "ci_high": found.high,
                     "p_value": found.p, "median_arm_months": medians[arm], "median_control_months": medians[control],
                     "note": found.note, "arm": arm, "control": control, "endpoint": endpoint.upper()})  # fmt: skip
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- the summary


def summary(table: pd.DataFrame, control: str | None, subgroups: Subgroups = (), level: float = 0.95) -> pd.DataFrame:
    """Every endpoint of every arm, overall and per subgroup level, as one tidy table.

    This is the table ``her2sim trial run`` writes and ``her2sim trial validate`` compares with
    published rows. Endpoints are ``pCR_pct``, ``ORR_pct`` (:func:`proportion_table`),
    ``median_PFS_months``, ``median_OS_months`` (:func:`km_table`), the event-free rates at
    :data:`LANDMARK_MONTHS` (``PFS_12mo_pct``, ``PFS_24mo_pct``, ``OS_...``: the Kaplan-Meier
    curve and its pointwise interval there), where the table has the
    regression-growth fit (:mod:`her2sim.trials.growth`) ``median_g_per_day`` (median growth
    rate of the tumours that grew, with the order-statistic interval of the median) and
    ``regression_only_pct`` (share of the fitted tumours that only shrank), and, for each arm other than
    ``control``, ``PFS_HR`` and ``OS_HR`` against ``control`` (:func:`hazard_ratio`); without a
    control (the cohorts of a non-randomised trial are not compared), no hazard ratios. An
    endpoint the trial does not measure (its column absent or empty in every patient of that
    trial) has no rows; one measured but inestimable in a group has a NaN value and a note.

    Parameters
    ----------
    table
        The per-patient table; a ``trial`` column, if present, keeps trials apart.
    control
        The control arm label, the reference of the hazard ratios; None for none.
    subgroups
        Attribute columns whose levels get rows of their own, labelled ``column=level``, or
        named groups by variable (see the module's docstring), labelled by their names.
    level
        Confidence level of the intervals.

    Returns
    -------
    DataFrame
        Columns ``trial``, ``arm``, ``subgroup`` (``all``, ``column=level`` or a group's name), ``endpoint``,
        ``value``, ``ci_low``, ``ci_high``, ``n`` (evaluable patients; both arms for a hazard
        ratio), ``p_value`` (log-rank, hazard ratios only), ``versus`` (the control of a hazard
        ratio, else empty) and ``note``.

    Examples
    --------
    >>> table = pd.DataFrame({"trial": "T", "arm": list("AAAABBBB"),
    ...                       "pfs_months": [3.0, 5, 9, 14, 4, 8, 12, 20], "progressed": True,
    ...                       "response": ["PD", "SD", "PR", "SD", "PR", "CR", "SD", "PR"]})
    >>> summary(table, control="A").round(2)[["arm", "endpoint", "value", "ci_low", "ci_high", "n"]]
      arm           endpoint  value  ci_low  ci_high  n
    0   A            ORR_pct  25.00    4.56    69.94  4
    1   A  median_PFS_months   5.00    3.00    14.00  4
    2   A       PFS_12mo_pct  25.00    0.89    66.53  4
    3   A       PFS_24mo_pct   0.00    0.00     0.00  4
    4   B            ORR_pct  75.00   30.06    95.44  4
    5   B  median_PFS_months   8.00    4.00    20.00  4
    6   B       PFS_12mo_pct  25.00    0.89    66.53  4
    7   B       PFS_24mo_pct   0.00    0.00     0.00  4
    8   B             PFS_HR   0.61    0.14     2.77  8
    """
    _require(table, ["arm"])
    _require_subgroups(table, subgroups)
    _check_level(level)
    rows: list[dict[str, object]] = []
    trials = table.groupby("trial", sort=False, dropna=False) if "trial" in table else [("", table)]
    for trial, in_trial in trials:
        measured = _measured(in_trial)
        arms = list(dict.fromkeys(in_trial["arm"]))
        for variable, value, part in _subgroups(in_trial, subgroups):
            subgroup = value if variable == "all" or isinstance(subgroups, Mapping) else f"{variable}={value}"
            for arm in arms:
                for endpoint, estimate in _arm_endpoints(part, arm, control, measured, level):
                    rows.append({"trial": trial, "arm": arm, "subgroup": subgroup, "endpoint": endpoint, **estimate})
    columns = ["trial", "arm", "subgroup", "endpoint", "value", "ci_low", "ci_high", "n", "p_value", "versus", "note"]
    return pd.DataFrame(rows, columns=columns)


def _measured(trial: pd.DataFrame) -> list[str]:
    """The endpoints a trial records for at least one patient, in summary order."""
    recorded = {
        "pcr": "pcr" in trial and trial["pcr"].notna().any(),
        "orr": "response" in trial and trial["response"].notna().any(),
        **{e: set(c) <= set(trial.columns) and trial[c[0]].notna().any() for e, c in SURVIVAL_COLUMNS.items()},
        "growth": set(GROWTH_COLUMNS) <= set(trial.columns) and trial["tumour_model"].notna().any(),
    }
    return [endpoint for endpoint, present in recorded.items() if present]


def _arm_estimates(mine: pd.DataFrame, endpoint: str, level: float) -> list[tuple[str, _Estimate]]:
    """(endpoint name, estimate) of one measured endpoint of one arm's patients ``mine``; the
    growth fit gives two, the median growth rate and the share that only shrank."""
    if endpoint == "growth":
        return [
            ("median_g_per_day", _median_growth(mine, level)),
            ("regression_only_pct", _regression_only(mine, level)),
        ]
    if endpoint in PROPORTION_COLUMNS:
        return [(f"{'pCR' if endpoint == 'pcr' else 'ORR'}_pct", _proportion(mine, endpoint, level))]
    landmarks = [(f"{endpoint.upper()}_{t:g}mo_pct", _event_free(mine, endpoint, t, level)) for t in LANDMARK_MONTHS]
    return [(f"median_{endpoint.upper()}_months", _kaplan_meier(mine, endpoint, level)), *landmarks]


def _arm_endpoints(
    part: pd.DataFrame, arm: str, control: str | None, measured: list[str], level: float
) -> Iterator[tuple[str, dict[str, object]]]:
    """(endpoint name, value columns) of one arm in one subgroup, in summary order."""
    mine = part[part["arm"] == arm]
    for endpoint in measured:
        for name, found in _arm_estimates(mine, endpoint, level):
            yield name, {"value": found.value, "ci_low": found.low, "ci_high": found.high, "n": found.n,
                         "p_value": np.nan, "versus": "", "note": found.note}  # fmt: skip
    if control is None or arm == control:
        return
    for endpoint in (e for e in measured if e in SURVIVAL_COLUMNS):
        ratio = _compare(part, arm, control, endpoint, level)
        yield f"{endpoint.upper()}_HR", {"value": ratio.hr, "ci_low": ratio.low, "ci_high": ratio.high, "n": ratio.n,
                                         "p_value": ratio.p, "versus": control, "note": ratio.note}  # fmt: skip


# ---------------------------------------------------------------- helpers


def _groups(table: pd.DataFrame, by: Sequence[str]) -> Iterator[tuple[dict[str, object], pd.DataFrame]]:
    """(column values, rows) of each group, in order of first appearance."""
    if not by:
        yield {}, table
        return
    for key, part in table.groupby(list(by), sort=False, dropna=False, observed=True):
        yield dict(zip(by, key, strict=True)), part


def _subgroups(table: pd.DataFrame, subgroups: Subgroups) -> Iterator[tuple[str, object, pd.DataFrame]]:
    """("all", "all", everyone), then (variable, level, rows): for each level of each column,
    or for each named group in declared order."""
    yield "all", "all", table
    if isinstance(subgroups, Mapping):
        for variable, groups in subgroups.items():
            for name, selector in groups.items():
                yield variable, name, table[np.asarray(selector.mask(table), dtype=bool)]
        return
    for variable in subgroups:
        for value in sorted(table[variable].dropna().unique(), key=str):
            yield variable, value, table[table[variable] == value]


def _require_subgroups(table: pd.DataFrame, subgroups: Subgroups) -> None:
    """Subgroup columns must be in ``table``; named groups find their own (their masks say)."""
    if not isinstance(subgroups, Mapping):
        _require(table, subgroups)


def _require(table: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise UnknownNameError("patient table column", missing[0], table.columns)


def _check_survival(table: pd.DataFrame, endpoint: str) -> None:
    if endpoint not in SURVIVAL_COLUMNS:
        raise ConfigError(f"unknown time-to-event endpoint {endpoint!r}: use 'pfs' or 'os'")
    _require(table, ["arm", *SURVIVAL_COLUMNS[endpoint]])


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ConfigError(f"a confidence level must be between 0 and 1, got {level}")
