"""The PK library, virtual individuals and concentrations, against scipy ODE solutions and published exposures."""

from __future__ import annotations

import math
import re
import warnings
from importlib import resources

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

from her2sim.errors import ConfigError, Her2simWarning, ModelFormatError
from her2sim.her2.therapies import therapy_library
from her2sim.trials.pk import (
    Individuals,
    PKModel,
    concentrations,
    parse_pk,
    pk_library,
    read_pk,
    sample_individuals,
    to_nanomolar,
    tumour_exposure,
)
from her2sim.trials.schedule import administrations, parse_schedule

DRUGS = [
    "trastuzumab", "pertuzumab", "margetuximab", "trastuzumab emtansine", "trastuzumab deruxtecan", "lapatinib",
    "neratinib", "tucatinib", "alpelisib", "palbociclib", "ribociclib", "abemaciclib", "letrozole", "anastrozole",
    "exemestane", "tamoxifen", "fulvestrant", "docetaxel", "paclitaxel", "nab-paclitaxel", "capecitabine",
    "eribulin", "gemcitabine", "vinorelbine", "carboplatin",
]  # fmt: skip

#: A standard schedule of each drug (the regimens of the staging sources).
STANDARD = {
    "trastuzumab": {"dose": "8 mg/kg", "then": "6 mg/kg", "every": "3 weeks"},
    "pertuzumab": {"dose": "840 mg", "then": "420 mg", "every": "3 weeks"},
    "margetuximab": {"dose": "15 mg/kg", "every": "3 weeks"},
    "trastuzumab emtansine": {"dose": "3.6 mg/kg", "every": "3 weeks"},
    "trastuzumab deruxtecan": {"dose": "5.4 mg/kg", "every": "3 weeks"},
    "lapatinib": {"dose": "1250 mg", "every": "day"},
    "neratinib": {"dose": "240 mg", "every": "day"},
    "tucatinib": {"dose": "300 mg", "every": "12 hours"},
    "alpelisib": {"dose": "300 mg", "every": "day"},
    "palbociclib": {"dose": "125 mg", "days": "1-21", "cycle": "4 weeks"},
    "ribociclib": {"dose": "600 mg", "days": "1-21", "cycle": "4 weeks"},
    "abemaciclib": {"dose": "150 mg", "every": "12 hours"},
    "letrozole": {"dose": "2.5 mg", "every": "day"},
    "anastrozole": {"dose": "1 mg", "every": "day"},
    "tamoxifen": {"dose": "20 mg", "every": "day"},
    "fulvestrant": {"dose": "500 mg", "every": "4 weeks"},
    "docetaxel": {"dose": "75 mg/m2", "every": "3 weeks", "cycles": 6},
    "paclitaxel": {"dose": "80 mg/m2", "every": "week", "weeks": 4},
    "nab-paclitaxel": {"dose": "100 mg/m2", "days": "1, 8, 15", "cycle": "4 weeks"},
    "capecitabine": {"dose": "1000 mg/m2", "times_per_day": 2, "days": "1-14", "cycle": "3 weeks"},
    "eribulin": {"dose": "1.4 mg/m2", "days": "1, 8", "cycle": "3 weeks"},
    "gemcitabine": {"dose": "1000 mg/m2", "days": "1, 8", "cycle": "3 weeks"},
    "vinorelbine": {"dose": "25 mg/m2", "days": "1, 8", "cycle": "3 weeks"},
    "carboplatin": {"dose": "AUC 6", "every": "3 weeks"},
}


def patients(n: int = 3, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "weight_kg": rng.uniform(50, 90, n),
            "bsa_m2": rng.uniform(1.5, 2.1, n),
            "gfr_ml_min": rng.uniform(60, 120, n),
        }
    )


def reference(model: PKModel, people: Individuals, times: np.ndarray, doses: tuple[np.ndarray, np.ndarray],
              patient: int, infusion_days: float | None = None, method: str = "LSODA") -> np.ndarray:  # fmt: skip
    """One patient's concentrations by scipy's solve_ivp, written from the model equations alone."""
    p = {name: float(values[patient]) for name, values in people.parameters.items()}
    depot = model.route != "iv" and "ka" in p
    duration = model.infusion_days if infusion_days is None else infusion_days
    duration = duration if model.route == "iv" and duration else None
    lag, scale = p.get("tlag", 0.0), model.dose_factor * p.get("F", 1.0)
    starts = doses[0] + lag
    amounts = doses[1][patient] * scale

    def rhs(_t: float, y: np.ndarray, rate: float) -> list[float]:
        a_depot, a_c, a_1, a_2 = y
        c = a_c / p["V1"]
        elimination = p.get("CL", 0.0) * c
        if "Vmax" in p:
            elimination += p["Vmax"] * c / (p["Km"] + c)
        out1 = back1 = out2 = back2 = 0.0
        if "Vmax_tr" in p:
            out1 = p["Vmax_tr"] * c / (p["Km_tr"] + c)
            c1 = a_1 / p["V2"] if "V2" in p else 0.0
            back1 = p["k21"] * a_1 if "k21" in p else p["Vmax_tr"] * c1 / (p["Km_tr"] + c1)
        elif "Q2" in p:
            out1, back1 = p["Q2"] * c, p["Q2"] * a_1 / p["V2"]
        if "Q3" in p:
            out2, back2 = p["Q3"] * c, p["Q3"] * a_2 / p["V3"]
        absorption = p["ka"] * a_depot if depot else 0.0
        dc = absorption - elimination - out1 + back1 - out2 + back2 + rate
        return [-absorption, dc, out1 - back1, out2 - back2]

    ends = starts + duration if duration else np.empty(0)
    breakpoints = sorted(set(times.tolist()) | set(starts.tolist()) | set(ends.tolist()))
    y, now, rate, out = np.zeros(4), breakpoints[0], 0.0, {}
    for t in breakpoints:
        if t > now + 1e-12:  # rounding can put an infusion's end a hair from an output time
            y = solve_ivp(rhs, (now, t), y, args=(rate,), method=method, rtol=1e-11, atol=1e-14).y[:, -1].copy()
            now = t
        out[t] = y[1] / p["V1"]  # before the doses given at t
        if duration:
            rate += (amounts[starts == t].sum() - amounts[ends == t].sum()) / duration
            rate = 0.0 if abs(rate) < 1e-12 else rate
        else:
            y[0 if depot else 1] += amounts[starts == t].sum()
    return np.array([out[t] for t in times])


def model_from(parameters: str, route: str = "iv", compartments: int = 1, elimination: str = "linear",
               extra: str = "") -> PKModel:  # fmt: skip
    text = f"""
drugs:
  - name: demo
    evidence: population PK
    model: test model
    source: test
    route: {route}
    compartments: {compartments}
    elimination: {elimination}
    parameters:
{parameters}
    tumour_to_plasma: {{value: 1, uncertain: true, source: none found}}
{extra}"""
    return parse_pk(text, "demo.yaml").get("demo")


def assert_close(actual: np.ndarray, expected: np.ndarray, rtol: float) -> None:
    floor = rtol * 1e-3 * float(np.max(np.abs(expected)))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=floor)


# ----------------------------------------------------------------------------- linear models, exact


def test_one_compartment_closed_form_matches_ode():
    model = model_from(
        "      CL: {value: 5, unit: L/h, iiv_cv: 30, source: test}\n"
        "      V1: {value: 50, unit: L, iiv_cv: 20, source: test}"
    )
    people = sample_individuals(model, patients(), rng=1)
    times = np.linspace(0, 5, 41)
    doses = (np.array([0.0, 1.0, 2.5, 2.5]), np.array([[100, 50, 80, 20.0]] * 3))
    result = concentrations(model, people, times, doses)
    for i in range(3):
        assert_close(result[i], reference(model, people, times, doses, i), 1e-6)
    assert result[0, 0] == 0.0  # pre-dose at a dose time


def test_oral_one_compartment_with_lag_and_bioavailability_matches_ode():
    model = model_from(
        "      CL: {value: 5, unit: L/h, source: test}\n"
        "      V1: {value: 50, unit: L, source: test}\n"
        "      ka: {value: 1.5, unit: 1/h, iiv_cv: 40, source: test}\n"
        "      F: {value: 0.6, unit: fraction, source: test}\n"
        "      tlag: {value: 30, unit: min, source: test}",
        route="oral",
    )
    people = sample_individuals(model, patients(), rng=2)
    times = np.linspace(0, 3, 73)
    doses = (np.array([0.0, 0.5, 1.0, 2.0]), np.full((3, 4), 100.0))
    result = concentrations(model, people, times, doses)
    for i in range(3):
        assert_close(result[i], reference(model, people, times, doses, i), 1e-6)
    assert np.all(result[:, times <= 30 / 1440] == 0.0)  # nothing before the lag


def test_infusions_match_ode_including_overlapping_ones():
    model = model_from(
        "      CL: {value: 3, unit: L/h, source: test}\n"
        "      V1: {value: 10, unit: L, source: test}\n"
        "      Q2: {value: 2, unit: L/h, source: test}\n"
        "      V2: {value: 30, unit: L, source: test}",
        compartments=2,
        extra="    infusion: {value: 2, unit: h, source: test}",
    )
    people = sample_individuals(model, patients(1), variability=False)
    times = np.linspace(0, 1, 97)
    doses = (np.array([0.0, 1 / 24, 0.5]), np.array([[10.0, 20.0, 5.0]]))  # the first two overlap
    result = concentrations(model, people, times, doses)
    assert_close(result[0], reference(model, people, times, doses, 0), 1e-6)
    bolus = concentrations(model, people, times, doses, infusion_days=0)
    assert_close(bolus[0], reference(model, people, times, doses, 0, infusion_days=0), 1e-6)


def test_two_compartment_matches_solve_ivp():
    model = pk_library().get("pertuzumab")
    people = sample_individuals(model, patients(4), rng=3)
    doses = administrations(parse_schedule({"drug": "pertuzumab", **STANDARD["pertuzumab"]}), patients(4), 63)
    times = np.arange(0, 70, 0.5)
    result = concentrations(model, people, times, doses)
    for i in range(4):
        assert_close(result[i], reference(model, people, times, doses, i), 1e-6)


def test_three_compartment_matches_solve_ivp():
    model = pk_library().get("docetaxel")
    people = sample_individuals(model, patients(), rng=4)
    doses = administrations(parse_schedule({"drug": "docetaxel", **STANDARD["docetaxel"]}), patients(), 42)
    times = np.concatenate([np.linspace(0, 1, 49), np.arange(1, 45, 0.25)])
    result = concentrations(model, people, times, doses)
    for i in range(3):
        assert_close(result[i], reference(model, people, times, doses, i), 1e-6)


def test_oral_two_compartment_with_lag_matches_solve_ivp():
    model = pk_library().get("tucatinib")
    people = sample_individuals(model, patients(), rng=5)
    doses = administrations(parse_schedule({"drug": "tucatinib", **STANDARD["tucatinib"]}), patients(), 3)
    times = np.linspace(0, 4, 193)
    result = concentrations(model, people, times, doses)
    for i in range(3):
        assert_close(result[i], reference(model, people, times, doses, i), 1e-6)


# ----------------------------------------------------------------------------- nonlinear models, integrated


def test_michaelis_menten_matches_solve_ivp():
    model = pk_library().get("trastuzumab")
    people = sample_individuals(model, patients(4), rng=6)
    doses = administrations(parse_schedule({"drug": "trastuzumab", **STANDARD["trastuzumab"]}), patients(4), 84)
    times = np.arange(0, 150.0)  # doses stop at day 84: the tail runs through the saturable range
    result = concentrations(model, people, times, doses, rtol=1e-8)
    for i in range(4):
        assert_close(result[i], reference(model, people, times, doses, i), 1e-6)
    coarse = concentrations(model, people, times, doses)  # the default tolerance
    assert_close(coarse, result, 1e-4)


@pytest.mark.parametrize("drug", ["paclitaxel", "nab-paclitaxel"])
def test_saturable_distribution_matches_solve_ivp(drug):
    model = pk_library().get(drug)
    people = sample_individuals(model, patients(2), rng=7)
    doses = administrations(parse_schedule({"drug": drug, "dose": "80 mg/m2", "every": "week"}), patients(2), 14)
    times = np.concatenate([np.linspace(0, 1, 97), np.arange(1.25, 16, 0.25)])
    result = concentrations(model, people, times, doses, rtol=1e-8)
    for i in range(2):
        assert_close(result[i], reference(model, people, times, doses, i, method="Radau"), 1e-5)


@pytest.mark.parametrize("drug", ["trastuzumab", "paclitaxel"])
def test_a_patients_nonlinear_concentrations_do_not_depend_on_the_other_patients(drug):
    """Each patient is integrated with its own step size and tolerance: alone or in a batch of
    others on other doses, the same numbers (to the last bit)."""
    model = pk_library().get(drug)
    people = sample_individuals(model, patients(3), rng=8)
    schedule = {"drug": drug, **STANDARD[drug]} if drug in STANDARD else {"drug": drug, "dose": "80 mg/m2",
                                                                          "every": "week"}  # fmt: skip
    times, amounts = administrations(parse_schedule(schedule), patients(3), 42)
    amounts = amounts * np.array([[1.0], [5.0], [0.2]])
    batch = concentrations(model, people, np.arange(0, 60, 0.5), (times, amounts))
    alone = Individuals(drug, {k: v[:1] for k, v in people.parameters.items()}, 1)
    first = concentrations(model, alone, np.arange(0, 60, 0.5), (times, amounts[:1]))
    np.testing.assert_array_equal(batch[:1], first)


# ----------------------------------------------------------------------------- published exposure


def test_trastuzumab_8_then_6_mg_per_kg_q3w_steady_state_trough_in_published_range():
    """Herceptin SmPC Table 15 (S04): MBC, 8 -> 6 mg/kg q3w, Cmin,ss median 44.2 ug/mL, 5th-95th 1.8-85.4."""
    published_median, published_5th, published_95th = 44.2, 1.8, 85.4
    model = pk_library().get("trastuzumab")
    schedule = parse_schedule({"drug": "trastuzumab", **STANDARD["trastuzumab"]})
    cohort = pd.DataFrame({"weight_kg": np.full(2000, 66.0)})  # the model's reference patient
    steady = np.array([252.0])  # pre-dose at week 36; the SmPC gives steady state by week 12
    typical = concentrations(model, sample_individuals(model, cohort[:1], variability=False), steady,
                             administrations(schedule, cohort[:1], 260))[0, 0]  # fmt: skip
    troughs = concentrations(model, sample_individuals(model, cohort, rng=2024), steady,
                             administrations(schedule, cohort, 260))[:, 0]  # fmt: skip
    assert published_5th < typical < published_95th
    assert abs(typical / published_median - 1) < 0.15
    assert abs(np.median(troughs) / published_median - 1) < 0.25
    assert np.percentile(troughs, 5) > published_5th


# ----------------------------------------------------------------------------- individuals


def test_iiv_sampling_is_reproducible_with_a_seed_and_has_the_model_variance():
    model = pk_library().get("trastuzumab")
    cohort = pd.DataFrame({"weight_kg": np.full(20000, 66.0)})
    a = sample_individuals(model, cohort, rng=11)
    b = sample_individuals(model, cohort, rng=np.random.default_rng(11))
    c = sample_individuals(model, cohort, rng=12)
    assert all(np.array_equal(a[name], b[name]) for name in a)
    assert not np.array_equal(a["CL"], c["CL"])
    etas = np.log(np.column_stack([a[name] / model.value(name) for name in model.iiv]))
    np.testing.assert_allclose(np.cov(etas.T), model.omega, atol=0.05 * model.omega.max())
    assert math.isclose(model.omega[0, 0], math.log(1 + 0.401**2))  # CL 40.1% CV (S02)


def test_covariates_scale_typical_values():
    library = pk_library()
    table = pd.DataFrame({"weight_kg": [66.0, 80.0, 80.0], "albumin_g_l": [40.0, 40.0, np.nan]})
    cl = sample_individuals(library.get("trastuzumab"), table, variability=False)["CL"]
    np.testing.assert_allclose(cl, 0.127 * (table["weight_kg"] / 66) ** 0.967)  # albumin 40 g/L = 4 g/dL
    gfr = pd.DataFrame({"gfr_ml_min": [0.0, 100.0]})
    carboplatin = sample_individuals(library.get("carboplatin"), gfr, variability=False)["CL"]
    np.testing.assert_allclose(carboplatin, (1.5 + 0.76 * 0.06 * gfr["gfr_ml_min"]) * 24)  # L/day
    letrozole = sample_individuals(library.get("letrozole"), pd.DataFrame({"weight_kg": [50.0]}), variability=False)
    np.testing.assert_allclose(letrozole["V1"], [1.87 * 50])
    tucatinib = sample_individuals(library.get("tucatinib"), pd.DataFrame(index=[0]), variability=False)
    np.testing.assert_allclose(tucatinib["CL"], [112 * (1 - 0.519) * 24])  # HER2+ MBC by default
    with pytest.raises(ConfigError, match="weight_kg"):
        sample_individuals(library.get("letrozole"), pd.DataFrame(index=[0]))


def test_nanomolar_and_tumour_exposure():
    assert float(to_nanomolar(148.5e-3 * 1000, "T-DM1")) == pytest.approx(1000.0)  # 148.5 mg/L of 148.5 kDa
    np.testing.assert_allclose(to_nanomolar(np.array([0.0, 0.4806]), "tucatinib"), [0.0, 1000.2], rtol=1e-4)
    assert tumour_exposure("capecitabine") == pytest.approx(3.52 / 2.36, abs=0.01)
    antibodies = ["trastuzumab", "pertuzumab", "margetuximab", "trastuzumab emtansine", "trastuzumab deruxtecan"]
    for drug in antibodies:
        assert tumour_exposure(drug) == 1.0 and pk_library().get(drug).tumour_uncertain


def test_a_dose_outside_the_validated_range_warns_on_one_line_naming_file_line_and_field():
    schedule = parse_schedule({"drug": "trastuzumab", "dose": "12 mg/kg", "every": "3 weeks"})
    with pytest.warns(Her2simWarning) as caught:
        administrations(schedule, patients(), 42)
    message = str(caught[0].message)
    assert "\n" not in message
    assert re.match(r".*pk\.yaml:\d+: trastuzumab\.validated_doses: dose 12 mg/kg is outside .*2-8 mg/kg", message)
    with pytest.warns(Her2simWarning, match=r"for 3 of 3 patients"):  # no range in mg: compared per patient
        administrations(parse_schedule({"drug": "carboplatin", "dose": "100 mg"}), patients(), 42)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        administrations(parse_schedule({"drug": "trastuzumab", **STANDARD["trastuzumab"]}), patients(), 42)


# ----------------------------------------------------------------------------- the shipped library


def test_the_shipped_library_covers_every_drug_by_its_therapy_library_name():
    library = pk_library()
    assert list(library.names) == DRUGS
    therapies = therapy_library()
    for name in library.names:
        drug = therapies.find(name)
        assert drug is None or drug.name == name
    assert library.get("T-DXd").name == "trastuzumab deruxtecan"
    assert [m.name for m in library if not m.simulable] == ["exemestane"]


def test_every_source_key_cited_in_the_library_is_defined():
    text = (resources.files("her2sim.trials") / "data" / "pk.yaml").read_text()
    data = yaml.safe_load(text)
    cited = set(re.findall(r"\b(S\d{2}[a-z]?|N\d{2}|ATOMS)\b", text.split("\ndrugs:", 1)[1]))
    assert cited <= set(data["sources"]), cited - set(data["sources"])


def test_derived_numbers_recompute_from_their_inputs():
    library, ln2 = pk_library(), math.log(2)

    def ka_for(tmax_h: float, k_per_h: float) -> float:
        return brentq(lambda ka: math.log(ka / k_per_h) / (ka - k_per_h) - tmax_h, k_per_h * 1.0001, 1e3)

    def per_hour(drug: str, name: str) -> float:
        return library.get(drug).value(name) / 24  # type: ignore[operator]

    assert per_hour("lapatinib", "CL") == pytest.approx(1250 / 36.2, rel=1e-3)
    assert library.get("lapatinib").value("V1") == pytest.approx(1250 / 36.2 * 24 / ln2, rel=1e-3)
    assert per_hour("lapatinib", "ka") == pytest.approx(ka_for(4, ln2 / 24), rel=1e-3)
    assert per_hour("neratinib", "ka") == pytest.approx(ka_for(5, 281 / 6433), rel=1e-3)
    assert per_hour("alpelisib", "CL") == pytest.approx(114 * ln2 / 13.7, rel=1e-3)
    assert per_hour("ribociclib", "CL") == pytest.approx(1090 * ln2 / 32, rel=1e-3)
    assert per_hour("anastrozole", "CL") == pytest.approx(90 * ln2 / 45, rel=1e-3)
    assert per_hour("abemaciclib", "ka") == pytest.approx(ka_for(8, 21.8 / 747), rel=1e-3)
    assert library.get("margetuximab").value("CL") == pytest.approx(15 / 4120, rel=1e-4)
    assert library.get("fulvestrant").value("ka") == pytest.approx(ln2 / 45, rel=1e-4)
    assert library.get("eribulin").dose_factor == pytest.approx(1.23 / 1.4, rel=1e-4)
    assert library.get("capecitabine").value("CL") == pytest.approx((218 + 12.9) * 24)
    atoms = {"C": 12.011, "H": 1.008, "N": 14.007, "O": 15.999, "S": 32.06, "Cl": 35.45, "F": 18.998}

    def mass(formula: str) -> float:
        return sum(atoms[e] * int(n or 1) for e, n in re.findall(r"([A-Z][a-z]?)(\d*)", formula))

    for drug, formula in [("lapatinib", "C29H26ClFN4O4S"), ("neratinib", "C30H29ClN6O3"), ("eribulin", "C40H59NO11"),
                          ("vinorelbine", "C45H54N4O8"), ("margetuximab", "C6484H10010N1726O2024S42")]:  # fmt: skip
        assert library.get(drug).molecular_weight == pytest.approx(mass(formula), rel=1e-4)
    tdxd = mass("C6460H9972N1724O2014S44") + 8 * mass("C52H57FN9O13")
    assert library.get("trastuzumab deruxtecan").molecular_weight == pytest.approx(tdxd, rel=1e-5)


@pytest.mark.parametrize("drug", [d for d in DRUGS if d != "exemestane"])
def test_every_simulable_drug_runs_its_standard_schedule(drug):
    cohort = patients(20)
    model = pk_library().get(drug)
    doses = administrations(parse_schedule({"drug": drug, **STANDARD[drug]}), cohort, 56)
    result = concentrations(model, sample_individuals(model, cohort, rng=8), np.arange(0, 56, 0.25), doses)
    assert result.shape == (20, 224)
    assert np.all(np.isfinite(result)) and np.all(result >= -1e-12) and result.max() > 0


def test_a_drug_without_clearance_cannot_be_simulated():
    model = pk_library().get("exemestane")
    with pytest.raises(ConfigError, match=r"pk\.yaml:\d+: exemestane cannot be simulated: no source gives V1, CL"):
        sample_individuals(model, patients())


# ----------------------------------------------------------------------------- input errors

MINIMAL = """drugs:
  - name: demo
    evidence: population PK
    model: test
    source: test
    route: iv
    compartments: 1
    elimination: linear
    parameters:
      CL: {value: 1, unit: L/h, iiv_cv: 30, source: a}
      V1: {value: 10, unit: L, iiv_cv: 30, source: a}
    correlations: []
    tumour_to_plasma: {value: 1, uncertain: true, source: none found}
"""


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("unit: L/h", "unit: L/fortnight", 10, "parameters.CL.unit: unit 'L/fortnight' is not a clearance unit"),
        ("source: a}\n      V1", "}\n      V1", 10, "parameters.CL: needs a 'source'"),
        ("CL: {value: 1", "Cl: {value: 1", 10, "unknown parameter 'Cl' (did you mean 'CL'?)"),
        ("value: 1, unit: L/h, iiv_cv: 30, source: a", "value: 1, unit: L/h, source: not found", 10,
         "a value whose source is 'not found' must be null"),
        ("      V1:", "      Q2: {value: 1, unit: L/h, source: a}\n      V1:", 11,
         "Q2 does not belong to a 1-compartment"),
        ("correlations: []", "correlations: [{between: [CL, V1], correlation: 1.5, source: a}]", 12,
         "not positive definite"),
        ("route: iv", "route: inhaled", 6, "'inhaled' is not one of iv, oral, sc, im"),
        ("tumour_to_plasma: {value: 1, uncertain: true,", "tumour_to_plasma: {value: 1,", 13,
         "without a source must be marked 'uncertain: true'"),
        ("    correlations: []", "    covariates: [{parameter: CL, covariate: height, form: power, reference: 1 m, "
         "effect: 1, source: a}]", 12, "unknown covariate 'height'"),
    ],
)  # fmt: skip
def test_library_file_errors_name_file_line_and_field(old, new, line, message):
    assert old in MINIMAL
    with pytest.raises(ModelFormatError) as caught:
        parse_pk(MINIMAL.replace(old, new, 1), "broken.yaml")
    text = str(caught.value)
    assert "\n" not in text
    assert text.startswith(f"broken.yaml:{line}: drugs[0].")
    assert message in text


def test_read_pk_reads_a_file(tmp_path):
    path = tmp_path / "pk.yaml"
    path.write_text(MINIMAL)
    assert read_pk(path).get("demo").value("CL") == 24.0


def test_concentration_inputs_are_checked():
    model = pk_library().get("pertuzumab")
    people = sample_individuals(model, patients(), rng=1)
    with pytest.raises(ConfigError, match=r"shape \(2, 1\); expected \(3, 1\)"):
        concentrations(model, people, np.arange(3.0), (np.array([0.0]), np.ones((2, 1))))
    with pytest.raises(ConfigError, match="sampled for pertuzumab, not trastuzumab"):
        concentrations(pk_library().get("trastuzumab"), people, np.arange(3.0), (np.zeros(1), np.ones((3, 1))))
    with pytest.raises(ConfigError, match=">= 0 mg"):
        concentrations(model, people, np.arange(3.0), (np.array([0.0]), -np.ones((3, 1))))


def test_speed_sanity_two_thousand_patients_for_a_year():
    """Not timed: exercises the vectorised paths at trial size (linear exact, nonlinear integrated)."""
    cohort = patients(2000, seed=9)
    days = np.arange(365.0)
    for drug in ("pertuzumab", "tucatinib", "trastuzumab"):
        model = pk_library().get(drug)
        doses = administrations(parse_schedule({"drug": drug, **STANDARD[drug]}), cohort, 365)
        result = concentrations(model, sample_individuals(model, cohort, rng=10), days, doses)
        assert result.shape == (2000, 365) and np.all(np.isfinite(result))
