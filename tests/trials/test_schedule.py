"""Schedules as trials write them: parsing, located errors and the administrations they give."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from her2sim.errors import ConfigError, ModelFormatError
from her2sim.formats.records import parse_document
from her2sim.trials.pk import concentrations, pk_library, sample_individuals
from her2sim.trials.schedule import Dose, Schedule, administrations, parse_dose, parse_schedule

PATIENTS = pd.DataFrame({"weight_kg": [50.0, 80.0], "bsa_m2": [1.5, 2.0], "gfr_ml_min": [60.0, 140.0]})


@pytest.mark.parametrize(
    ("drug", "dose", "expected"),
    [
        ("trastuzumab", "6 mg/kg", [300.0, 480.0]),
        ("docetaxel", "75 mg/m2", [112.5, 150.0]),
        ("docetaxel", "75 mg/m²", [112.5, 150.0]),
        ("pertuzumab", "420 mg", [420.0, 420.0]),
        ("capecitabine", "1.5 g", [1500.0, 1500.0]),
        ("carboplatin", "AUC 6", [6 * (60 + 25), 6 * (125 + 25)]),  # Calvert, GFR capped at 125 mL/min
        ("carboplatin", "AUC6 mg.min/mL", [6 * 85, 6 * 150]),
    ],
)
def test_mg_per_kg_per_m2_flat_and_calvert_auc_doses(drug, dose, expected):
    schedule = parse_schedule({"drug": drug, "dose": dose})
    times, amounts = administrations(schedule, PATIENTS, horizon_days=30)
    np.testing.assert_array_equal(times, [0.0])
    np.testing.assert_allclose(amounts[:, 0], expected)


def test_loading_dose_then_maintenance_every_three_weeks():
    schedule = parse_schedule({"drug": "trastuzumab", "dose": "8 mg/kg", "then": "6 mg/kg", "every": "3 weeks"})
    assert schedule == Schedule("trastuzumab", Dose(8.0, "mg/kg"), Dose(6.0, "mg/kg"), cycle_days=21.0)
    times, amounts = administrations(schedule, PATIENTS, horizon_days=63.5)
    np.testing.assert_array_equal(times, [0, 21, 42, 63])
    np.testing.assert_allclose(amounts, [[400, 300, 300, 300], [640, 480, 480, 480]])


def test_twice_daily_on_days_1_to_14_of_21():
    schedule = parse_schedule(
        {"drug": "capecitabine", "dose": "1000 mg/m2", "times_per_day": 2, "days": "1-14", "cycle": "3 weeks"}
    )
    times, amounts = administrations(schedule, PATIENTS, horizon_days=42)
    first = np.arange(28) / 2  # 0, 0.5, ..., 13.5
    np.testing.assert_array_equal(times, np.concatenate([first, 21 + first]))
    np.testing.assert_allclose(amounts[:, 0], [1500.0, 2000.0])
    assert not np.any(times % 21 >= 14)  # days 15-21 of each cycle are free


@pytest.mark.parametrize(
    ("item", "horizon", "expected"),
    [
        ({"every": "12 hours"}, 2, [0, 0.5, 1, 1.5]),
        ({"every": "day"}, 3, [0, 1, 2]),
        ({"every": "week", "weeks": 12}, 365, 7.0 * np.arange(12)),
        ({"every": "3 weeks", "cycles": 6}, 365, 21.0 * np.arange(6)),
        ({"every": "3 weeks", "cycles": 6}, 50, [0, 21, 42]),  # the horizon comes first
        ({"days": "1, 8", "cycle": "3 weeks", "cycles": 2}, 365, [0, 7, 21, 28]),
        ({"days": [1, 8, 15], "cycle": "4 weeks", "start": "day 22"}, 50, [21, 28, 35, 49]),
        ({}, 10, [0]),
        ({"start": "week 3"}, 10, []),
    ],
)
def test_schedule_words_lay_out_the_administration_times(item, horizon, expected):
    schedule = parse_schedule({"drug": "tucatinib", "dose": "300 mg", **item})
    times, amounts = administrations(schedule, PATIENTS, horizon_days=horizon)
    np.testing.assert_allclose(times, expected)
    assert amounts.shape == (2, len(expected))


def test_until_progression_stops_at_each_patients_stop_day():
    schedule = parse_schedule({"drug": "lapatinib", "dose": "1250 mg", "every": "day", "until": "progression"})
    _, amounts = administrations(schedule, PATIENTS, horizon_days=10, stop_day=np.array([4.0, np.inf]))
    np.testing.assert_array_equal(amounts[0], [1250] * 4 + [0] * 6)  # nothing on or after day 4
    np.testing.assert_array_equal(amounts[1], [1250] * 10)
    cycles = parse_schedule({"drug": "docetaxel", "dose": "75 mg/m2", "every": "3 weeks", "cycles": 6})
    _, stopped = administrations(cycles, PATIENTS, horizon_days=365, stop_day=30.0)  # surgery, for everyone
    np.testing.assert_array_equal(stopped[:, 2:], 0.0)


def test_administrations_drive_concentrations():
    schedule = parse_schedule(
        {"drug": "capecitabine", "dose": "1000 mg/m2", "times_per_day": 2, "days": "1-14", "cycle": "3 weeks"}
    )
    model = pk_library().get("capecitabine")
    doses = administrations(schedule, PATIENTS, horizon_days=21)
    result = concentrations(model, sample_individuals(model, PATIENTS, rng=1), np.arange(0, 21, 0.5), doses)
    assert result[:, 1:28].min() > 0  # on treatment
    assert result[:, 32:].max() < 1e-3 * result.max()  # a half-life of about an hour: gone in the week off


def test_drug_aliases_resolve_to_the_library_name():
    assert parse_schedule({"drug": "T-DM1", "dose": "3.6 mg/kg", "every": "3 weeks"}).drug == "trastuzumab emtansine"
    assert parse_dose("AUC 5") == Dose(5.0, "AUC")


DESIGN = """\
name: test trial
arms:
  - name: experimental
    schedule:
      - drug: {drug}
        dose: {dose}
        every: 3 weeks
        {extra}
"""


@pytest.mark.parametrize(
    ("drug", "dose", "extra", "key", "line", "message"),
    [
        ("trastuzumb", "8 mg/kg", "", "drug", 5, "unknown drug 'trastuzumb' (did you mean 'trastuzumab'"),
        ("trastuzumab", "8 mg/l", "", "dose", 6, "unknown dose unit 'mg/l' (write 840 mg, 8 mg/kg"),
        ("trastuzumab", "8", "", "dose", 6, "dose '8' has no unit"),
        ("trastuzumab", "-8 mg/kg", "", "dose", 6, "dose '-8 mg/kg' must be a number > 0"),
        ("trastuzumab", "0 mg/kg", "", "dose", 6, "must be a number > 0"),
        ("trastuzumab", "8 mg/kg", "evry: 3 weeks", "evry", 8, "unknown schedule word 'evry' (did you mean 'every'?)"),
        ("trastuzumab", "8 mg/kg", "until: death", "until", 8, "unknown schedule word 'death'"),
        ("capecitabine", "1000 mg/m2", "days: 15-3", "days", 8, "days '15-3' run backwards (write 3-15)"),
        ("capecitabine", "1000 mg/m2", "days: 1-28", "days", 8, "day 28 is beyond the 21-day cycle"),
        ("capecitabine", "1000 mg/m2", "days: 0-3", "days", 8, "days are numbered from 1"),
        ("capecitabine", "1000 mg/m2", "days: 1, 1", "days", 8, "day 1 is given twice"),
        ("capecitabine", "1000 mg/m2", "cycles: 0", "cycles", 8, "cycles must be a whole number >= 1"),
        ("capecitabine", "1000 mg/m2", "times_per_day: 30", "times_per_day", 8, "must be at most 24"),
        ("capecitabine", "1000 mg/m2", "times_per_day: 0", "times_per_day", 8, "must be a whole number >= 1"),
        ("capecitabine", "1000 mg/m2", "infusion: 1 h", "infusion", 8, "capecitabine is given oral, not as an"),
        ("capecitabine", "1000 mg/m2", "cycle: 3 weeks", "cycle", 8, "give either every or cycle"),
        ("capecitabine", "1000 mg/m2", "weeks: -2", "weeks", 8, "must be a number > 0"),
        ("capecitabine", "1000 mg/m2", "start: tomorrow", "start", 8, "is not a day or week number"),
    ],
)
def test_bad_schedule_items_raise_one_line_errors_located_in_the_design_file(drug, dose, extra, key, line, message):
    doc = parse_document(DESIGN.format(drug=drug, dose=dose, extra=extra), "design.yaml")
    path = ("arms", 0, "schedule", 0)

    def where(k, msg, hint):
        return doc.error((*path, k), msg, hint)

    with pytest.raises(ModelFormatError) as caught:
        parse_schedule(doc.data["arms"][0]["schedule"][0], where)
    text = str(caught.value)
    assert "\n" not in text
    assert text.startswith(f"design.yaml:{line}: arms[0].schedule[0].{key}: ")
    assert message in text


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"drug": "lapatinib"}, "schedule.dose: a schedule item needs 'dose'"),
        ({"drug": "lapatinib", "dose": "1250 mg", "every": "fortnight"}, "unknown schedule word 'fortnight'"),
        ({"drug": "lapatinib", "dose": "1250 mg", "then": "1000 mg"}, "then needs a repeating schedule"),
        ({"drug": "lapatinib", "dose": "1250 mg", "every": "12 hours", "times_per_day": 2}, "shorter than a day"),
        ({"drug": "lapatinib", "dose": "1250 mg", "every": "day", "cycles": 3, "weeks": 2}, "either cycles or weeks"),
        ({"drug": "lapatinib", "dose": True}, "must be text such as 8 mg/kg"),
    ],
)
def test_without_a_locator_errors_are_config_errors_naming_the_key(item, message):
    with pytest.raises(ConfigError, match=message) as caught:
        parse_schedule(item)
    assert "\n" not in str(caught.value)


def test_administration_inputs_are_checked():
    trastuzumab = parse_schedule({"drug": "trastuzumab", "dose": "6 mg/kg", "every": "3 weeks"})
    with pytest.raises(ConfigError, match="no column 'weight_kg', needed for mg/kg doses"):
        administrations(trastuzumab, pd.DataFrame({"bsa_m2": [1.8]}), 42)
    with pytest.raises(ConfigError, match=r"patients\.weight_kg: every value must be a number > 0"):
        administrations(trastuzumab, pd.DataFrame({"weight_kg": [np.nan]}), 42)
    with pytest.raises(ConfigError, match="stop_day must be a number"):
        administrations(trastuzumab, PATIENTS, 42, stop_day=np.array([np.nan, 3.0]))
    with pytest.raises(ConfigError, match="horizon_days must be a finite number > 0"):
        administrations(trastuzumab, PATIENTS, 0)


def test_a_schedule_can_set_the_infusion_time_of_an_iv_drug():
    schedule = parse_schedule({"drug": "paclitaxel", "dose": "80 mg/m2", "every": "week", "infusion": "1 hour"})
    assert schedule.infusion_days == pytest.approx(1 / 24)
