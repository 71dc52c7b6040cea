"""Regression and growth rates per patient (her2sim.trials.growth), recovered from known curves."""

from __future__ import annotations

import numpy as np
import pytest

from her2sim.trials.growth import growth_rates

DAYS = np.arange(1, 13) * 42.0  # scans every 6 weeks for a year
BASELINE = 80.0


def fit(curve: np.ndarray, last: int | None = None, p_value: float = 0.10) -> tuple[str, float, float]:
    """The model, g and d of one patient whose sums follow ``curve`` (relative to baseline)."""
    last_scan = np.array([len(DAYS) - 1 if last is None else last])
    row = growth_rates(DAYS, BASELINE * curve[None, :], np.array([BASELINE]), last_scan, p_value).iloc[0]
    return row["model"], row["g"], row["d"]


@pytest.mark.parametrize(("g", "d"), [(0.0009, 0.01), (0.0002, 0.02), (0.004, 0.003)])
def test_a_tumour_that_shrinks_then_regrows_gives_back_both_rates(g: float, d: float) -> None:
    model, g_fit, d_fit = fit(np.exp(-d * DAYS) + np.exp(g * DAYS) - 1)
    assert model == "gd"
    assert g_fit == pytest.approx(g, rel=1e-4) and d_fit == pytest.approx(d, rel=1e-4)


def test_a_tumour_that_only_shrinks_or_only_grows_gets_the_one_rate_model() -> None:
    model, g, d = fit(np.exp(-0.01 * DAYS))
    assert (model, np.isnan(g), d) == ("dx", True, pytest.approx(0.01, rel=1e-4))
    model, g, d = fit(np.exp(0.002 * DAYS))
    assert (model, g, np.isnan(d)) == ("gx", pytest.approx(0.002, rel=1e-4), True)


def test_only_the_scans_up_to_the_last_one_used_count() -> None:
    """Scans after progression are not taken: a tumour that regrows only after the third scan
    is, up to it, one that only shrank."""
    curve = np.exp(-0.01 * DAYS) + np.exp(0.004 * np.clip(DAYS - 126, 0, None)) - 1
    assert fit(curve, last=2)[0] == "dx"
    assert fit(curve)[0] in ("gd", "gx")


def test_noise_hides_a_growth_too_slow_to_be_significant() -> None:
    rng = np.random.default_rng(3)
    noisy = np.exp(-0.01 * DAYS + 0.05 * rng.standard_normal(len(DAYS))) + np.exp(1e-5 * DAYS) - 1
    model, g, _ = fit(noisy)
    assert model == "dx" and np.isnan(g)


def test_too_few_scans_or_too_little_change_are_excluded_and_a_flat_tumour_is_not_fit() -> None:
    assert fit(np.exp(-0.01 * DAYS), last=-1)[0] == "excluded"  # baseline only
    assert fit(np.full(len(DAYS), 0.9), last=0)[0] == "excluded"  # one scan, 10% smaller
    assert fit(np.full(len(DAYS), 0.6), last=0)[0] == "dx"  # one scan, 40% smaller
    assert fit(np.ones(len(DAYS)))[0] == "not fit"


def test_patients_are_fitted_each_on_their_own_scans() -> None:
    rng = np.random.default_rng(0)
    g, d = rng.uniform(0.0005, 0.005, 20), rng.uniform(0.002, 0.03, 20)
    sums = BASELINE * (np.exp(-d[:, None] * DAYS) + np.exp(g[:, None] * DAYS) - 1)
    table = growth_rates(DAYS, sums, np.full(20, BASELINE), np.full(20, len(DAYS) - 1))
    assert (table["model"] == "gd").all()
    np.testing.assert_allclose(table["g"], g, rtol=1e-4)
    np.testing.assert_allclose(table["d"], d, rtol=1e-4)


def test_the_compiled_fit_finds_the_least_squares_of_scipys_solver_on_noisy_scans() -> None:
    from scipy import optimize

    from her2sim.trials.growth import _least_squares

    rng = np.random.default_rng(7)
    for _ in range(30):
        g, d = rng.uniform(0.0005, 0.005), rng.uniform(0.002, 0.03)
        f = (np.exp(-d * DAYS) + np.exp(g * DAYS) - 1) * np.exp(0.05 * rng.standard_normal(len(DAYS)))
        start = np.array([0.001, 0.01])
        rates, rss, _ = _least_squares(2, DAYS, f, start, 1.0)
        reference = optimize.least_squares(
            lambda r, f=f: np.exp(-r[1] * DAYS) + np.exp(r[0] * DAYS) - 1 - f, start, bounds=(0.0, 1.0), xtol=1e-15,
            ftol=1e-15, gtol=1e-15,
        )  # fmt: skip
        assert rss <= 2 * float(np.sum(reference.fun**2)) + 1e-12
        np.testing.assert_allclose(rates, reference.x, rtol=1e-3, atol=1e-7)
