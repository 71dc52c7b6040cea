"""Virtual patient populations: the shipped data, sampling, contexts, profiles, and broken twins."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from her2sim.errors import ConfigError, Her2simWarning, ModelFormatError, UnknownNameError
from her2sim.experiments.profiles import Profile
from her2sim.her2.alterations import alteration_library
from her2sim.trials.population import (
    Conditional,
    Frequencies,
    PopulationLibrary,
    from_profiles,
    populations,
    read_populations,
    sample_patients,
)

REPO = Path(__file__).resolve().parents[2]
SHIPPED = (
    "her2-positive-neoadjuvant",
    "her2-positive-first-line",
    "her2-positive-pretreated",
    "her2-positive-post-tdm1",
    "her2-low-metastatic",
    "her2-low-zero-metastatic",
)
N = 20_000


@pytest.fixture(scope="module")
def samples() -> dict[str, pd.DataFrame]:
    return {name: sample_patients(name, N, seed=11) for name in SHIPPED}


# ------------------------------------------------------------------ the shipped data


def test_shipped_populations_read_with_every_attribute_and_a_source() -> None:
    library = populations()
    assert set(library.names) == set(SHIPPED)
    table = library.table()
    assert set(table["population"]) == set(SHIPPED)
    computed = {name for name, a in library.attributes.items() if a.formula}
    for name in SHIPPED:
        assert set(table.loc[table["population"] == name, "attribute"]) == set(library.attributes) - computed
    given = table[table["distribution"] != "not applicable"]
    unsourced = given[given["source"] == "not sourced"]
    assert unsourced["uncertain"].all() and (unsourced["note"] != "").all()


def test_every_reference_is_cited() -> None:
    cited = {key for text in populations().table()["source"] for key in text.split("; ")}
    assert set(populations().references) <= cited


def test_columns_are_the_vocabulary_then_the_context(samples: dict[str, pd.DataFrame]) -> None:
    patients = samples["her2-positive-first-line"]
    assert list(patients.columns) == [*populations().attributes, "context"]
    assert patients.index.name == "patient" and len(patients) == N
    assert patients["her2_ihc"].dtype == "category" and patients["her2_ish"].dtype == bool
    assert patients["prior_lines"].dtype == np.int64 and patients["tumour_diameter_cm"].isna().all()
    assert np.allclose(patients["bsa_m2"], np.sqrt(patients["weight_kg"] * patients["height_cm"] / 3600))


# ------------------------------------------------------------------ frequencies honoured


def expected(distribution: Frequencies, drawn: dict[str, float], where: str, name: str) -> dict[str, float]:
    """Leaf probabilities of a frequencies distribution, ranges as this sample drew them."""
    fixed = [
        drawn.get(f"{where}.{label}", p.low)
        for label, p in zip(distribution.labels, distribution.probabilities, strict=True)
    ]
    rests = [i for i, p in enumerate(distribution.probabilities) if p.rest]
    for i in rests:
        fixed[i] = drawn.get(f"{where}.{distribution.labels[i]}", 1 - sum(fixed) + fixed[i])
    out: dict[str, float] = {}
    for label, outcome, p in zip(distribution.labels, distribution.outcomes, fixed, strict=True):
        if isinstance(outcome, Frequencies):
            for leaf, q in expected(outcome, drawn, f"{name}.{label}", name).items():
                out[leaf] = out.get(leaf, 0.0) + p * q
        else:
            out[label] = out.get(label, 0.0) + p
    return out


def assert_binomial(values: pd.Series, probabilities: dict[str, float], what: str) -> None:
    """Each share within 5 binomial standard errors of its declared probability."""
    m = len(values)
    shares = values.astype(str).str.lower().value_counts(normalize=True)
    for label, p in probabilities.items():
        share = float(shares.get(label.lower(), 0.0))
        assert abs(share - p) <= 5 * math.sqrt(p * (1 - p) / max(m, 1)) + 1e-12, (what, label, share, p, m)


@pytest.mark.parametrize("name", SHIPPED)
def test_sampled_frequencies_match_the_declared_ones(samples: dict[str, pd.DataFrame], name: str) -> None:
    patients, library = samples[name], populations()
    drawn = patients.attrs["drawn"]
    for attribute, distribution in library.get(name).attributes.items():
        if isinstance(distribution, Frequencies):
            assert_binomial(patients[attribute], expected(distribution, drawn, attribute, attribute), attribute)
        elif isinstance(distribution, Conditional):
            given = library.attributes[distribution.given]
            for code, case in distribution.cases:
                if isinstance(case, Frequencies):
                    rows = patients[distribution.given].astype(str).str.lower() == given.label(code)
                    where = f"{attribute}[{given.name}={given.label(code)}]"
                    assert_binomial(patients.loc[rows, attribute], expected(case, drawn, where, attribute), where)


def test_uncertain_ranges_are_drawn_inside_their_bounds_and_recorded(samples: dict[str, pd.DataFrame]) -> None:
    drawn = samples["her2-low-zero-metastatic"].attrs["drawn"]
    assert 61 / 468 <= drawn["her2_ihc.0"] <= 16020 / 28280
    assert drawn["her2_ihc.0"] + drawn["her2_ihc.low"] == pytest.approx(1)
    other = sample_patients("her2-low-zero-metastatic", N, seed=12).attrs["drawn"]
    assert other["her2_ihc.0"] != drawn["her2_ihc.0"]  # one prevalence per virtual cohort


def test_continuous_distributions_follow_their_parameters(samples: dict[str, pd.DataFrame]) -> None:
    first = samples["her2-positive-first-line"]
    assert np.quantile(first["weight_kg"], [0.05, 0.95]) == pytest.approx([49, 98], rel=0.03)
    # metastases' doubling (mean 118, SD 134 days) truncated to the measured range 22-930:
    # the median is the log-normal's quantile at the middle of the kept probability (85.3 days)
    doubling = first["doubling_time_days"]
    assert doubling.between(22, 930).all() and doubling.median() == pytest.approx(85.3, rel=0.04)
    assert first["age"].between(21, 95).all() and first["sum_diameters_mm"].min() >= 10
    assert np.mean(first["gfr_ml_min"] < 60) == pytest.approx(0.159, abs=0.01)
    neo = samples["her2-positive-neoadjuvant"]
    assert np.quantile(neo["tumour_diameter_cm"], [0.25, 0.75]) == pytest.approx([1.8, 3.4], rel=0.03)
    assert neo["sum_diameters_mm"].isna().all()
    bsa = first["bsa_m2"]  # breast-cancer patients: 1.7 +/- 0.2 m2 (Madarnas 2001), women 1.71 m2 (Sacco 2010)
    assert 1.65 < bsa.mean() < 1.85 and 0.15 < bsa.std() < 0.25


def test_conditional_frequencies_are_honoured(samples: dict[str, pd.DataFrame]) -> None:
    first = samples["her2-positive-first-line"]
    mutated = first["pik3ca"] != "wild-type"
    for status, share in (("positive", 30 / 108), ("negative", 48 / 139)):
        rows = first["hr_status"] == status
        assert_binomial(mutated[rows].map({True: "yes", False: "no"}), {"yes": share}, status)
    assert not (first["prior_pertuzumab"] & ~first["prior_trastuzumab"]).any()
    assert not (first["prior_tdm1"] & ~first["prior_trastuzumab"]).any()
    assert (first.loc[first["her2_ihc"] == "2+", "her2_ish"]).all()
    zero = samples["her2-low-zero-metastatic"]
    for level, share in (("0", 0.756), ("1+", 0.896), ("2+", 0.896)):
        rows = zero["her2_ihc"] == level
        assert_binomial(zero.loc[rows, "hr_status"], {"positive": share}, level)
    low = samples["her2-low-metastatic"]
    assert not low.loc[low["hr_status"] == "negative", "prior_cdk46"].any()
    by_status = low.groupby("hr_status", observed=True)["doubling_time_days"].median()
    assert by_status["negative"] == pytest.approx(by_status["positive"], rel=0.1)  # metastases: one distribution


# ------------------------------------------------------------------ reproducibility and speed


def test_a_seed_reproduces_a_sample_and_a_prefix_is_the_smaller_sample() -> None:
    one = sample_patients("her2-positive-pretreated", 2000, seed=5)
    assert one.equals(sample_patients("her2-positive-pretreated", 2000, seed=5))
    assert not one.equals(sample_patients("her2-positive-pretreated", 2000, seed=6))
    small = sample_patients("her2-positive-pretreated", 300, seed=5)
    pd.testing.assert_frame_equal(one.head(300), small, check_categorical=False)
    assert small.attrs["drawn"] == one.attrs["drawn"]


def test_a_hundred_thousand_patients_take_well_under_a_second() -> None:
    sample_patients("her2-positive-first-line", 1000, seed=1)  # library and contexts read once
    start = time.perf_counter()
    patients = sample_patients("her2-positive-first-line", 100_000, seed=2)
    assert len(patients) == 100_000 and time.perf_counter() - start < 1.0


# ------------------------------------------------------------------ contexts


@pytest.mark.parametrize("name", SHIPPED)
def test_every_context_resolves_through_the_alteration_library(samples: dict[str, pd.DataFrame], name: str) -> None:
    library = alteration_library()
    for context in samples[name]["context"].unique():
        library.context(context)


def test_the_mapping_turns_attributes_into_library_names(samples: dict[str, pd.DataFrame]) -> None:
    first = samples["her2-positive-first-line"]
    parts = first["context"].astype(str).str.split("; ")

    def has(name: str) -> pd.Series:
        return parts.map(lambda names: name in names)

    homogeneous = ~first["her2_heterogeneous"]
    assert (has("ERBB2:amp") == homogeneous).all()  # IHC 3+, or 2+ with ISH amplification
    assert (has("ERBB2:heterogeneous") == first["her2_heterogeneous"]).all()
    assert (has("ESR1:high") == (first["hr_status"] == "positive")).all()
    assert (has("PIK3CA:H1047R") == (first["pik3ca"] == "H1047R")).all()
    assert (has("PIK3CA:E545K") == (first["pik3ca"] == "E545K")).all()
    assert (has("p95HER2") == (first["p95her2"] & homogeneous)).all()
    assert (has("CCNE1:amp") == first["ccne1_amp"]).all() and (has("PTEN:loss") == first["pten_loss"]).all()
    zero = samples["her2-low-zero-metastatic"]
    zero_parts = zero["context"].astype(str).str.split("; ")
    levels = zero_parts.map(lambda names: names[0])
    assert (levels == zero["her2_ihc"].map({"0": "ERBB2:zero", "1+": "ERBB2:low", "2+": "ERBB2:2+"})).all()
    is_zero = zero["her2_ihc"] == "0"
    assert not zero_parts[is_zero].map(lambda names: any(n.startswith("ERBB2:") for n in names[1:])).any()


# ------------------------------------------------------------------ from cBioPortal profiles


def test_from_profiles_takes_the_cohort_genotypes_and_samples_the_rest() -> None:
    cohort = {
        "S1": Profile("S1", ("PIK3CA:H1047R", "CCND1:amp", "NF1:loss")),
        "S2": Profile("S2", ("HER2:L755S", "ERBB2:amp")),  # an alias, and an attribute left to the population
        "S3": Profile("S3", ()),
    }
    patients = from_profiles(cohort, "her2-positive-first-line", seed=4)
    assert list(patients["sample"]) == ["S1", "S2", "S3"]
    assert list(patients["pik3ca"]) == ["H1047R", "wild-type", "wild-type"]
    assert list(patients["ccnd1_amp"]) == [True, False, False]
    assert list(patients["erbb2_mutation"]) == ["none", "ERBB2:L755S", "none"]
    assert not patients["pten_loss"].any() and not patients["ccne1_amp"].any()
    sampled = sample_patients("her2-positive-first-line", 3, seed=4)
    for column in ("her2_ihc", "hr_status", "weight_kg", "p95her2", "muc4_high"):
        assert patients[column].tolist() == sampled[column].tolist()  # same streams as sample_patients
    contexts = patients["context"].astype(str).str.split("; ").tolist()
    assert {"PIK3CA:H1047R", "CCND1:amp"} <= set(contexts[0]) and contexts[0][-1] == "NF1:loss"
    assert contexts[1].count("ERBB2:amp") <= 1 and "NF1:loss" not in contexts[2]
    for context in patients["context"]:
        alteration_library().context(context)
    assert patients.attrs["profiles"] == 3 and not patients.attrs["reused"]


def test_from_profiles_reuses_a_small_cohort_in_turn_and_says_so() -> None:
    cohort = [Profile("A", ("PIK3CA:E545K",)), Profile("B", ())]
    with pytest.warns(Her2simWarning, match="2 profiles for 5 patients"):
        patients = from_profiles(cohort, "her2-low-metastatic", seed=1, n=5)
    assert list(patients["sample"]) == ["A", "B", "A", "B", "A"]
    assert list(patients["pik3ca"]) == ["E545K", "wild-type"] * 2 + ["E545K"]
    assert patients.attrs["reused"]
    with pytest.raises(ConfigError, match="at least one profile"):
        from_profiles([], "her2-low-metastatic", seed=1)


# ------------------------------------------------------------------ broken twins

VALID = """\
references:
  r1: {citation: "Someone et al. 2020", kind: primary}
attributes:
  her2_ihc: {type: category, values: ["0", "1+", "2+", "3+"]}
  hr_status: {type: category, values: [positive, negative]}
  pik3ca: {type: category, values: [wild-type, H1047R], from_profiles: wild-type}
  weight_kg: {type: number, unit: kg}
  height_cm: {type: number, unit: cm}
  bsa_m2: {type: number, unit: m2, formula: mosteller}
context:
  - slot: HER2
    rules:
      - {when: {her2_ihc: "3+"}, alteration: "ERBB2:amp"}
      - {when: {her2_ihc: "1+"}, alteration: "ERBB2:low"}
  - slot: ER
    rules:
      - {when: {hr_status: positive}, alteration: "ESR1:high"}
  - slot: PIK3CA
    rules:
      - {when: {pik3ca: H1047R}, alteration: "PIK3CA:H1047R"}
populations:
  base-pop:
    description: a test population
    attributes:
      her2_ihc:
        frequencies: {"3+": 0.75, "1+": 0.25}
        source: r1
        n: 100
      hr_status:
        frequencies: {positive: 0.6, negative: 0.4}
        source: r1
      pik3ca:
        given: hr_status
        source: r1
        cases:
          positive: {frequencies: {wild-type: 0.7, H1047R: 0.3}}
          negative: {frequencies: {wild-type: 0.9, H1047R: 0.1}}
      weight_kg:
        normal: {mean: 70, sd: 12}
        source: r1
      height_cm:
        uniform: {low: 150, high: 180}
        uncertain: true
        note: not sourced
  child:
    base: base-pop
    description: inherits all but HR status
    attributes:
      hr_status:
        frequencies: {positive: [0.2, 0.8], negative: rest}
        uncertain: true
        note: wide
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "populations.yaml"
    path.write_text(text)
    return path


def test_a_number_given_a_category_follows_each_case(tmp_path: Path) -> None:
    cases = """\
      weight_kg:
        given: hr_status
        source: r1
        cases:
          positive: {lognormal: {mean: 240, sd: 160}}
          negative: {lognormal: {mean: 100, sd: 40}}
"""
    text = VALID.replace("      weight_kg:\n        normal: {mean: 70, sd: 12}\n        source: r1\n", cases)
    assert text != VALID
    patients = read_populations(write(tmp_path, text)).sample("base-pop", 8000, seed=2)
    means = patients.groupby("hr_status", observed=True)["weight_kg"].mean()
    assert means["positive"] == pytest.approx(240, rel=0.05) and means["negative"] == pytest.approx(100, rel=0.05)


def line_of(text: str, marker: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if marker in line)


def test_the_valid_twin_reads_and_samples(tmp_path: Path) -> None:
    library = read_populations(write(tmp_path, VALID))
    assert isinstance(library, PopulationLibrary) and library.names == ("base-pop", "child")
    patients = library.sample("child", 4000, seed=3)
    assert set(patients["context"]) <= {
        "ERBB2:amp",
        "ERBB2:amp; ESR1:high",
        "ERBB2:low",
        "ERBB2:low; ESR1:high",
        "ERBB2:amp; PIK3CA:H1047R",
        "ERBB2:amp; ESR1:high; PIK3CA:H1047R",
        "ERBB2:low; PIK3CA:H1047R",
        "ERBB2:low; ESR1:high; PIK3CA:H1047R",
    }
    assert library.get("child").defined_in == {
        "her2_ihc": "base-pop",
        "hr_status": "child",
        "pik3ca": "base-pop",
        "weight_kg": "base-pop",
        "height_cm": "base-pop",
    }
    assert patients["height_cm"].between(150, 180).all()


BROKEN = [
    # (what, replace this, with this, the line marker, message fragment)
    ("unknown population", "base: base-pop", "base: base-pops", "base: base-pops",
     "unknown population 'base-pops' (did you mean 'base-pop'?)"),
    ("negative SD", "sd: 12", "sd: -12", "sd: -12", "sd must be > 0, got -12"),
    ("frequencies not summing to 1", "{positive: 0.6, negative: 0.4}", "{positive: 0.6, negative: 0.3}",
     "negative: 0.3", "frequencies sum to 0.9, not 1"),
    ("unknown attribute", "      weight_kg:\n", "      weight_kgs:\n", "weight_kgs:",
     "unknown attribute 'weight_kgs' (did you mean 'weight_kg'"),
    ("unknown library alteration", '"PIK3CA:H1047R"}', '"PIK3CA:H1047X"}', "PIK3CA:H1047X",
     "unknown alteration 'PIK3CA:H1047X' (not in the library) (did you mean 'PIK3CA:H1047R'"),
    ("unknown attribute in a rule", "{hr_status: positive}, alteration", "{hr_stat: positive}, alteration",
     "hr_stat:", "unknown attribute 'hr_stat'"),
    ("a value that is not one", '{"3+": 0.75, "1+": 0.25}', '{"3+": 0.75, "4+": 0.25}', '"4+"',
     "'4+' is not a value of her2_ihc"),
    ("a missing case", "          negative: {frequencies: {wild-type: 0.9, H1047R: 0.1}}\n", "", "        cases:",
     "no case for hr_status = negative"),
    ("an unknown reference", "source: r1\n        n: 100", "source: r2\n        n: 100", "source: r2",
     "unknown reference 'r2'"),
    ("uncertain without a note", "        note: not sourced\n", "", "      height_cm:", "needs a note"),
    ("a range without a rest", "negative: rest}", "negative: 0.5}", "negative: 0.5",
     "a range needs another value to be the rest"),
    ("percentiles going down", "{mean: 70, sd: 12}", "{p25: 80, p75: 60}", "p75: 60",
     "p75 (60) must be above p25 (80)"),
    ("a computed attribute given", "        note: wide\n",
     "        note: wide\n      bsa_m2: {uniform: {low: 1, high: 2}, uncertain: true, note: x}\n", "bsa_m2: {uniform",
     "bsa_m2 is computed from weight_kg and height_cm"),
    ("a missing attribute", "        source: r1\n      height_cm:\n        uniform: {low: 150, high: 180}\n"
     "        uncertain: true\n        note: not sourced\n", "        source: r1\n", "  base-pop:",
     "gives no distribution for height_cm"),
    ("conditionals in a circle", "        frequencies: {positive: [0.2, 0.8], negative: rest}\n",
     "        given: pik3ca\n        cases:\n          wild-type: {frequencies: {positive: 1}}\n"
     "          H1047R: {frequencies: {negative: 1}}\n", "given: pik3ca",
     "conditionals go round in a circle (hr_status -> pik3ca -> hr_status)"),
]  # fmt: skip


@pytest.mark.parametrize(("what", "old", "new", "marker", "fragment"), BROKEN, ids=[b[0] for b in BROKEN])
def test_each_broken_twin_is_one_located_error(
    tmp_path: Path, what: str, old: str, new: str, marker: str, fragment: str
) -> None:
    assert old in VALID, what
    text = VALID.replace(old, new, 1)
    path = write(tmp_path, text)
    with pytest.raises(ModelFormatError) as caught:
        read_populations(path)
    error = caught.value
    assert (error.source, error.line) == (str(path), line_of(text, marker)), str(error)
    assert fragment in str(error) and str(error).startswith(f"{path}:{error.line}: ")
    assert "\n" not in str(error)


def test_a_context_the_library_rejects_is_a_located_error(tmp_path: Path) -> None:
    clash = '  - slot: clash\n    rules:\n      - {when: {hr_status: negative}, alteration: "ERBB2:low"}\n'
    text = VALID.replace("  - slot: PIK3CA\n", clash + "  - slot: PIK3CA\n")
    library = read_populations(write(tmp_path, text))
    with pytest.raises(
        ModelFormatError, match=r"'ERBB2:amp; ERBB2:low.*' is rejected by the alteration library"
    ) as caught:
        library.sample("base-pop", 500, seed=1)
    assert caught.value.line == line_of(text, "context:")


def test_bad_arguments_are_one_line_errors() -> None:
    with pytest.raises(UnknownNameError, match="did you mean 'her2-positive-first-line'"):
        sample_patients("her2-postive-first-line", 10, seed=1)
    with pytest.raises(ConfigError, match="positive integer"):
        sample_patients("her2-positive-first-line", 0, seed=1)
    with pytest.raises(ConfigError, match="non-negative integer"):
        sample_patients("her2-positive-first-line", 10, seed=-1)


# ------------------------------------------------------------------ the reference page


def render(library: PopulationLibrary, population: str) -> str:
    """The markdown table of one population's values, as docs/reference/populations.md shows it."""
    table = library.table()
    rows = table[table["population"] == population]
    head = "| attribute | case | distribution | source | n | uncertain | note |\n|---|---|---|---|---|---|---|\n"
    body = ""
    for row in rows.itertuples(index=False):
        inherited = "" if row.defined_in == population else f" *(from {row.defined_in})*"
        n = "" if row.n is None or pd.isna(row.n) else str(int(row.n))
        cells = [row.attribute + inherited, row.case, row.distribution, row.source, n,
                 "yes" if row.uncertain else "", row.note]  # fmt: skip
        body += "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |\n"
    return head + body


def render_rules(library: PopulationLibrary) -> str:
    """The markdown table of the context rules, as docs/reference/populations.md shows it."""
    out = "| slot | when | alteration |\n|---|---|---|\n"
    for slot in library.slots:
        for rule in slot.rules:
            when = ", ".join(f"{a} = {library.attributes[a].label(c)}" for a, c in rule.when) or "always"
            out += f"| {slot.name} | {when} | {rule.alteration or 'nothing'} |\n"
    return out


@pytest.mark.parametrize("name", SHIPPED)
def test_the_reference_page_shows_every_value_of_the_data(name: str) -> None:
    page = (REPO / "docs" / "reference" / "populations.md").read_text()
    assert render(populations(), name) in page, f"regenerate the table of {name} in populations.md"


def test_the_reference_page_shows_the_context_rules() -> None:
    page = (REPO / "docs" / "reference" / "populations.md").read_text()
    assert render_rules(populations()) in page, "regenerate the context rules in populations.md"
