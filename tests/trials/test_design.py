"""Trial designs: the shipped files, the condition language, the CLI, broken twins of every
check, and the published results table resolved against the designs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from her2sim.errors import Her2simWarning, ModelFormatError, ModelValidationError, UnknownNameError
from her2sim.formats.records import parse_document
from her2sim.trials.conditions import (
    ATTRIBUTES,
    AllOf,
    AnyOf,
    Between,
    Is,
    data_path,
    parse_condition,
    read_subgroups,
    satisfiable,
    subgroup_table,
)
from her2sim.trials.design import (
    POPULATIONS,
    SETTINGS,
    DrugChoice,
    DrugItem,
    describe_design,
    design,
    designs,
    read_design,
)
from her2sim.trials.population import sample_patients
from her2sim.trials.published import ENDPOINT_COLUMNS, ResolvedRow, resolve_trials_table, shipped_table
from tests.cli.test_cli import assert_one_line_error, run, run_main
from tests.conftest import REPO, SHARED

DESIGN_FILES = sorted(data_path("designs").glob("*.yaml"))
TRIALS_TSV = SHARED / "biology" / "trials.tsv"
needs_shared = pytest.mark.skipif(not TRIALS_TSV.is_file(), reason="../shared/biology/trials.tsv is not present")
SHIPPED = {"CLEOPATRA", "NeoSphere", "EMILIA", "NeoALTTO", "DESTINY-Breast03", "DESTINY-Breast04", "DAISY",
           "HER2CLIMB", "SOPHIA"}  # fmt: skip


# ------------------------------------------------------------------ the shipped designs
@pytest.mark.parametrize("path", DESIGN_FILES, ids=[p.stem for p in DESIGN_FILES])
def test_every_shipped_design_reads_with_every_fact_sourced(path: Path) -> None:
    d = read_design(path)
    assert d.setting in SETTINGS and d.population in POPULATIONS
    assert d.references and d.sources["title"] and d.sources["setting"]
    assert any(e.primary for e in d.endpoints)
    ids = {r.id for r in d.references}
    sourced = [c.source for c in d.eligibility] + [d.randomisation.source] + [a.source for a in d.arms]
    sourced += [g.source for a in d.arms for g in a.drugs] + [e.source for e in d.endpoints]
    sourced += [s.source for s in d.subgroups] + [n.source for n in d.notes]
    sourced += [d.assessments.source] if d.assessments else []
    for source in sourced:
        assert source and all(item.split(":")[0] in ids for item in source)
    if d.randomisation.randomised and d.control_arm is None:
        assert d.lacks("control_arm")
    if d.setting == "neoadjuvant":
        assert d.surgery_week is not None or d.lacks("surgery_week")
    for arm in d.arms:
        for given in arm.drugs:
            items = given.options
            for item in items:
                assert item.kind in ("library", "chemotherapy", "placebo")
                assert "dose" in item.schedule or item.kind == "placebo" or d.lacks("arms.drugs.dose")


def test_the_nine_trials_are_shipped_and_looked_up_by_name_or_alias() -> None:
    assert {d.name for d in designs()} == SHIPPED
    assert len({*designs(), *designs()}) == 9 and len({arm for d in designs() for arm in d.arms}) == 22  # hashable
    assert design("cleopatra") is design("NCT00567190")
    assert design("db-03").name == "DESTINY-Breast03" and design("DB04").name == "DESTINY-Breast04"
    with pytest.raises(UnknownNameError, match=r"unknown trial 'EMILLIA' \(did you mean 'EMILIA'\?\)"):
        design("EMILLIA")


def test_arms_are_named_as_published_and_labelled_as_in_the_results_table() -> None:
    cleopatra = design("CLEOPATRA")
    assert cleopatra.arm("placebo+TH").name == "Placebo + Trastuzumab + Docetaxel (control group)"
    assert cleopatra.control is cleopatra.arm("Placebo + Trastuzumab + Docetaxel (control group)")
    assert [a.label for a in design("NeoSphere").arms] == ["TH", "THP", "HP", "TP"]
    assert [a.n for a in design("NeoSphere").arms] == [107, 107, 107, 96]
    assert cleopatra.randomisation.ratio == (1, 1) and design("DB-04").randomisation.ratio == (2, 1)
    with pytest.raises(UnknownNameError, match=r"unknown CLEOPATRA arm 'placebo\+T'.*'placebo\+TH'"):
        cleopatra.arm("placebo+T")


def test_schedules_are_plain_mappings_with_library_names() -> None:
    _, trastuzumab, docetaxel = design("CLEOPATRA").arm("pertuzumab+TH").drugs
    assert isinstance(trastuzumab, DrugItem)
    assert dict(trastuzumab.schedule) == {"drug": "trastuzumab", "dose": "8 mg/kg", "then": "6 mg/kg",
                                          "every": "3 weeks", "until": "progression", "route": "IV"}  # fmt: skip
    assert docetaxel.kind == "chemotherapy" and docetaxel.schedule["cycles"] == 6
    assert trastuzumab.location.endswith(f"cleopatra.yaml:{_line(DESIGN_FILES, 'cleopatra', 'drug: trastuzumab')}")
    tdm1 = design("EMILIA").arm("T-DM1").drugs[0]
    assert tdm1.drug == "trastuzumab emtansine" and tdm1.kind == "library"
    capecitabine = design("EMILIA").arm("lapatinib+capecitabine").drugs[1]
    assert capecitabine.describe() == (
        "capecitabine 1000 mg/m2, 2 times a day, days 1-14, in cycles of 21 days, until progression, oral"
    )
    tpc = design("DB-04").arm("TPC").drugs[0]
    assert isinstance(tpc, DrugChoice) and [o.drug for o in tpc.options] == [
        "capecitabine", "eribulin", "gemcitabine", "paclitaxel", "nab-paclitaxel"]  # fmt: skip
    assert all("dose" in o.schedule for o in tpc.options) and not design("DB-04").lacks("arms.drugs.dose")
    assert tpc.options[0].describe() == "capecitabine 1250 mg/m2, 2 times a day, days 1-14, in cycles of 21 days, oral"
    assert tpc.shares == pytest.approx([0.201, 0.511, 0.103, 0.082, 0.103]) and tpc.shares_source
    assert "eribulin 1.4 mg/m2, days 1, 8, in cycles of 21 days, IV (51.1%)" in tpc.describe()
    assert design("HER2CLIMB").arm("placebo+trastuzumab+capecitabine").drugs[0].kind == "placebo"


def test_eligibility_selects_patients_by_attributes() -> None:
    cleopatra = design("CLEOPATRA")
    patient = {"her2_ihc": "2+", "her2_ish": True, "prior_lines": 0, "prior_pertuzumab": False, "prior_tdm1": False}
    assert cleopatra.eligible(patient)
    assert not cleopatra.eligible({**patient, "her2_ish": False})
    assert not cleopatra.eligible({**patient, "prior_pertuzumab": True})
    daisy = design("DAISY")  # cohorts: each arm has its own HER2 criterion
    low = {"prior_lines": 3, "her2_ihc": "1+", "her2_ish": False}
    assert daisy.eligible(low) and daisy.eligible(low, "cohort 2") and not daisy.eligible(low, "cohort 1")
    assert daisy.arm("cohort 1").population == "her2-positive-pretreated" and daisy.control_arm is None
    table = pd.DataFrame([patient, {**patient, "her2_ihc": "0", "her2_ish": False}, {**patient, "prior_lines": 2}])
    assert cleopatra.condition.mask(table).tolist() == [True, False, False]


def test_every_arm_enrols_from_its_population() -> None:
    """Each arm's population holds patients its criteria select (HER2CLIMB needs prior T-DM1, SOPHIA pertuzumab)."""
    for d in designs():
        for arm in d.arms:
            pool = sample_patients(arm.population or d.population, 2000, seed=0)
            share = float((d.condition.mask(pool) & arm.condition.mask(pool)).mean())
            assert share > 0.1, (d.name, arm.label, share)
    assert design("HER2CLIMB").population == design("SOPHIA").population == "her2-positive-post-tdm1"


def test_show_the_design_in_words_with_its_sources() -> None:
    text = describe_design(design("HER2CLIMB"), sources=True)
    assert "randomisation: 2:1" in text and "placebo+trastuzumab+capecitabine (control)" in text
    assert "imaging every 6 weeks, every 9 weeks after week 24; RECIST 1.1; review BICR" in text
    assert "source: TukysaHCP: HER2CLIMB page" in text
    assert "tucatinib 300 mg, 2 times a day, until progression, oral" in text
    assert "not found in the sources:" in describe_design(design("NeoALTTO"))


# ------------------------------------------------------------------ the condition language
def condition(text: str) -> object:
    doc = parse_document(text, "c.yaml")
    return parse_condition(doc.data, doc)


def test_conditions_equality_membership_comparisons_all_any() -> None:
    c = condition("any: [{her2_ihc: [3+]}, {her2_ihc: [2+], her2_ish: true}]")
    assert c == AnyOf((Is("her2_ihc", ("3+",)), AllOf((Is("her2_ihc", ("2+",)), Is("her2_ish", (True,))))))
    assert c.matches({"her2_ihc": "3+", "her2_ish": False}) and not c.matches({"her2_ihc": "2+", "her2_ish": False})
    assert condition("her2_ihc: 0") == Is("her2_ihc", ("0",))  # YAML reads 0 as a number: the IHC score is text
    assert condition("hr_status: Positive") == Is("hr_status", ("positive",))
    lines = condition("prior_lines: {min: 1, max: 3}")
    assert lines == Between("prior_lines", min=1, max=3) and lines.describe() == "prior_lines >= 1 and prior_lines <= 3"
    assert [lines.matches({"prior_lines": k}) for k in (0, 1, 3, 4)] == [False, True, True, False]
    assert condition("age: {above: 18, below: 65}").matches({"age": 40.5})
    assert condition("erbb2_mutation: [none, HER2:L755S]") == Is("erbb2_mutation", ("none", "ERBB2:L755S"))
    assert condition("all: []").matches({}) and condition("all: []").describe() == "everyone"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("her2_ich: [3+]", "c.yaml:1: her2_ich: unknown attribute 'her2_ich' (did you mean her2_ish, her2_ihc?)"),
        ("her2_ihc: [4+]", "c.yaml:1: her2_ihc[0]: her2_ihc cannot be '4+' (values: 0, 1+, 2+, 3+)"),
        ("her2_ish: yes please", "her2_ish is true or false"),
        ("prior_lines: {at_least: 1}", "unknown comparison 'at_least' (use min (>=), max (<=), above (>), below (<))"),
        ("hr_status: {min: 1}", "hr_status is not a number"),
        ("any: []", "an empty any selects nobody"),
        ("erbb2_mutation: ERBB2:L755", "unknown alteration 'ERBB2:L755' (did you mean ERBB2:L755S"),
        ("- her2_ihc", "a condition is a mapping"),
    ],
)
def test_condition_mistakes_are_located(text: str, message: str) -> None:
    with pytest.raises(ModelFormatError) as caught:
        condition(text)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_satisfiability_finds_contradictions() -> None:
    ihc3, ihc0 = Is("her2_ihc", ("3+",)), Is("her2_ihc", ("0",))
    assert not satisfiable(AllOf((ihc3, ihc0)))
    assert satisfiable(AllOf((AnyOf((ihc3, ihc0)), ihc0)))
    assert not satisfiable(AllOf((Between("prior_lines", above=1), Between("prior_lines", below=2))))  # integers
    assert satisfiable(AllOf((Between("age", above=1), Between("age", below=2))))
    assert not satisfiable(AllOf((Between("age", min=65), Between("age", below=65))))
    assert not satisfiable(AllOf((Is("prior_lines", (0.0,)), Between("prior_lines", min=1))))
    assert not satisfiable(Between("weight_kg", max=-1))  # every number attribute is >= 0
    assert satisfiable(AllOf((Between("age", min=65), Between("age", max=65))))


def test_the_subgroup_table_names_conditions_on_known_attributes() -> None:
    table = subgroup_table()
    assert table.get("PIK3CA mutated") is table.get("pik3ca mutant")
    assert table.get("HR+").condition == Is("hr_status", ("positive",))
    assert table.get("CD16A-158F carriers (FF or FV)").condition == Is("fcgr3a", ("FF", "VF"))
    for group in table:
        assert group.condition.attributes() <= set(ATTRIBUTES)


def test_a_broken_subgroup_table_is_a_located_error(tmp_path: Path) -> None:
    path = tmp_path / "subgroups.yaml"
    path.write_text("subgroups:\n  - {name: a, condition: {}}\n  - {name: b, aliases: [A], condition: {}}\n")
    with pytest.raises(ModelFormatError, match=r"subgroups.yaml:3: subgroups\[1\]: subgroup name 'A' is used twice"):
        read_subgroups(path)
    path.write_text("subgroups:\n  - name: x\n    condition: {all: [{her2_ihc: [0]}, {her2_ihc: [1+]}]}\n")
    with pytest.raises(ModelFormatError, match=r"subgroups.yaml:3: subgroups\[0\].condition: selects nobody"):
        read_subgroups(path)


# ------------------------------------------------------------------ the command line
def test_trial_list_shows_every_design() -> None:
    out = run("trial", "list").output
    for d in designs():
        row = next(line for line in out.splitlines() if f" {d.name} " in line)
        assert d.setting in row and str(d.n) in row and d.arms[0].label in row
    assert "PFS*, OS, ORR" in out and "pCR (ypT0/is)*" in out


def test_trial_show_prints_the_design_in_words() -> None:
    out = run("trial", "show", "emilia").output
    assert out.startswith("EMILIA: A Randomized, Multicenter, Phase III")
    assert "lapatinib+capecitabine (control): Lapatinib + Capecitabine, n=496" in out
    assert "[her2_ihc is 3+ or her2_ish is true]" in out and "ORR (confirmed)" in out
    assert "source:" not in out and "source: Verma2012: Methods" in run("trial", "show", "EMILIA", "--sources").output


def test_trial_show_of_an_unknown_trial_is_one_line(tmp_path: Path) -> None:
    assert_one_line_error(run_main("trial", "show", "CLEOPATRE", cwd=tmp_path), "unknown trial 'CLEOPATRE'",
                          "'CLEOPATRA'")  # fmt: skip


# ------------------------------------------------------------------ broken twins of a small design
GOOD = """\
name: TWIN
title: A small trial
references:
  - {id: Ref1, citation: A paper}
sources:
  title: "Ref1: title"
  setting: "Ref1: abstract"
  control_arm: "Ref1: abstract"
setting: pretreated metastatic
population: her2-positive-pretreated
eligibility:
  - text: HER2-positive
    condition: {any: [{her2_ihc: [3+]}, {her2_ish: true}]}
    source: "Ref1: methods"
  - text: after trastuzumab
    condition: {prior_trastuzumab: true}
    source: "Ref1: methods"
randomisation:
  ratio: "1:1"
  source: "Ref1: methods"
arms:
  - name: Drug A
    label: A
    n: 100
    source: "Ref1: table 1"
    drugs:
      - {drug: trastuzumab, dose: 8 mg/kg, then: 6 mg/kg, every: 3 weeks, source: "Ref1: methods"}
  - name: Drug B
    label: B
    n: 98
    source: "Ref1: table 1"
    drugs:
      - {drug: T-DM1, dose: 3.6 mg/kg, every: 3 weeks, source: "Ref1: methods"}
      - one_of:
          - {drug: capecitabine, dose: 1250 mg/m2, times_per_day: 2, days: 1-14, cycle: 21 days}
          - {drug: eribulin, dose: 1.4 mg/m2, days: "1, 8", cycle: 21 days}
        chosen_by: the physician
        shares: {percent: [40, 60], source: "Ref1: table 1"}
        source: "Ref1: methods"
control_arm: B
assessments:
  imaging_every_weeks: 6
  recist: "1.1"
  review: BICR
  source: "Ref1: methods"
endpoints:
  - {name: PFS, primary: true, source: "Ref1: methods"}
  - {name: ORR, confirmed: true, source: "Ref1: methods"}
subgroups:
  - {by: hr_status, groups: [HR-positive, HR-negative], source: "Ref1: figure 2"}
"""


def twin(tmp_path: Path, old: str, new: str) -> Path:
    assert GOOD.count(old) == 1, old
    path = tmp_path / "twin.yaml"
    path.write_text(GOOD.replace(old, new))
    return path


def line_of(path: Path, fragment: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), start=1) if fragment in line)


def _line(files: list[Path], stem: str, fragment: str) -> int:
    return line_of(next(p for p in files if p.stem == stem), fragment)


def test_the_good_twin_reads(tmp_path: Path) -> None:
    d = read_design(twin(tmp_path, "name: TWIN", "name: TWIN"))
    assert d.n == 198 and d.control is d.arm("b") and d.endpoint("orr").confirmed is True
    choice = d.arm("b").drugs[1]
    assert isinstance(choice, DrugChoice) and choice.shares == pytest.approx([0.4, 0.6])
    unshared = read_design(twin(tmp_path, '        shares: {percent: [40, 60], source: "Ref1: table 1"}\n', ""))
    assert unshared.arm("b").drugs[1].shares == ()


BROKEN = [
    # (what is wrong, old, new, fragment on the reported line, message)
    ("unknown top-level key", "setting: pretreated", "phase: 3\nsetting: pretreated", "phase: 3",
     "phase: unknown key 'phase' (known: name, title,"),
    ("unknown schedule key", "then: 6 mg/kg,", "then: 6 mg/kg, frequency: weekly,", "frequency",
     "arms[0].drugs[0].frequency: unknown key 'frequency' (known: drug, source, dose, then, every, cycle,"),
    ("unknown dose unit", "dose: 8 mg/kg,", "dose: 8 mg/lb,", "8 mg/lb",
     "arms[0].drugs[0].dose: unknown dose unit 'mg/lb' (write 840 mg, 8 mg/kg, 75 mg/m2 or AUC 6)"),
    ("wrong route", "then: 6 mg/kg,", "then: 6 mg/kg, route: oral,", "route: oral",
     "arms[0].drugs[0].route: trastuzumab is given IV in the PK library, not oral"),
    ("unknown drug", "drug: trastuzumab,", "drug: trastuzumb,", "trastuzumb",
     "arms[0].drugs[0].drug: unknown drug 'trastuzumb' (did you mean 'trastuzumab'"),
    ("unknown eligibility attribute", "{prior_trastuzumab: true}", "{prior_trastuzumub: true}", "prior_trastuzumub",
     "eligibility[1].condition.prior_trastuzumub: unknown attribute 'prior_trastuzumub' (did you mean prior_tras"),
    ("unknown subgroup attribute", "by: hr_status", "by: hr_stat", "by: hr",
     "subgroups[0].by: unknown attribute 'hr_stat' (did you mean hr_status"),
    ("subgroup not on its attribute", "groups: [HR-positive, HR-negative]", "groups: [HR-positive, PIK3CA mutant]",
     "{by: hr", "subgroups[0].groups[1]: subgroup 'PIK3CA mutant' is defined on pik3ca, not on hr_status"),
    ("unknown subgroup", "groups: [HR-positive, HR-negative]", "groups: [HR-positive, HR-neg]", "{by: hr",
     "subgroups[0].groups[1]: unknown subgroup 'HR-neg' (did you mean"),
    ("unknown endpoint", "{name: PFS,", "{name: DFS,", "name: DFS",
     "endpoints[0].name: unknown endpoint 'DFS' (did you mean 'PFS'? endpoints: pCR, ORR, PFS, OS)"),
    ("contradictory criterion", "{prior_trastuzumab: true}", "{all: [{her2_ihc: [3+]}, {her2_ihc: [0]}]}",
     "her2_ihc: [0]", "eligibility[1].condition: selects nobody: her2_ihc is 3+ and her2_ihc is 0"),
    ("contradictory criteria", "{prior_trastuzumab: true}", "{her2_ihc: [0], her2_ish: false}", "eligibility:",
     "eligibility: the eligibility criteria together select nobody"),
    ("ratio against the arms", 'ratio: "1:1"', 'ratio: "2:1"', "ratio:",
     "randomisation.ratio: ratio 2:1 does not match the arms (A 100, B 98)"),
    ("ratio parts", 'ratio: "1:1"', 'ratio: "1:1:1"', "ratio:", "ratio 1:1:1 has 3 parts for 2 arms"),
    ("unquoted ratio", 'ratio: "1:1"', "ratio: 1:1", "ratio:", "the ratio is a quoted text such as '2:1', not 61"),
    ("missing required field", "    n: 98\n", "", "- name: Drug B", "arms[1]: missing required field 'n'"),
    ("missing sometimes-required field", '  recist: "1.1"\n', "", "assessments:",
     "assessments: missing required field 'recist' (give it, or list {field: assessments.recist, note: ...}"),
    ("given and listed as not found", "subgroups:",
     "not_found:\n  - {field: assessments.recist, note: x}\nsubgroups:", 'recist: "1.1"',
     "assessments.recist: assessments.recist is given and also listed under not_found"),
    ("unknown not_found field", "subgroups:", "not_found:\n  - {field: assessment, note: x}\nsubgroups:",
     "field: assessment", "not_found[0].field: unknown field 'assessment' (did you mean assessments"),
    ("unknown reference", 'source: "Ref1: figure 2"', 'source: "Ref2: figure 2"', "Ref2",
     "subgroups[0].source: source names unknown reference 'Ref2' (did you mean 'Ref1'"),
    ("unknown population", "population: her2-positive-pretreated", "population: her2-pretreated",
     "population:", "population: unknown population 'her2-pretreated' (did you mean 'her2-positive-pretreated'"),
    ("control arm not an arm", "control_arm: B", "control_arm: C", "control_arm: C",
     "control_arm: control_arm 'C' is not an arm (arms: A, B)"),
    ("shares for other options", "percent: [40, 60]", "percent: [40, 30, 30]", "percent:",
     "arms[1].drugs[1].shares.percent: 3 shares for 2 options (one percent per option, in the order of one_of)"),
    ("shares not summing to 100", "percent: [40, 60]", "percent: [40, 50]", "percent:",
     "arms[1].drugs[1].shares.percent: the shares sum to 90%, not 100%"),
    ("shares without a source", 'shares: {percent: [40, 60], source: "Ref1: table 1"}', "shares: {percent: [40, 60]}",
     "shares:", "arms[1].drugs[1].shares: missing required field 'source'"),
    ("pCR without a definition", "{name: PFS,", "{name: pCR,", "name: pCR",
     "endpoints[0]: a pCR endpoint needs a definition"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "fragment", "message"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_each_broken_twin_is_one_located_error(tmp_path: Path, old: str, new: str, fragment: str, message: str) -> None:
    path = twin(tmp_path, old, new)
    with pytest.raises(ModelFormatError) as caught:
        read_design(path)
    text = str(caught.value)
    assert text.startswith(f"{path}:{line_of(path, fragment)}: "), text
    assert message in text, text
    assert "\n" not in text


def test_a_dose_outside_the_pk_models_validated_range_warns_at_its_line(tmp_path: Path) -> None:
    path = twin(tmp_path, "dose: 8 mg/kg,", "dose: 20 mg/kg,")
    with pytest.warns(Her2simWarning) as caught:
        read_design(path)
    [message] = [str(w.message) for w in caught if "validated range" in str(w.message)]
    assert message.startswith(f"{path}:{line_of(path, '20 mg/kg')}: arms[0].drugs[0].dose: dose 20 mg/kg is outside")
    assert "\n" not in message


def test_several_problems_are_reported_together_each_located(tmp_path: Path) -> None:
    path = tmp_path / "twin.yaml"
    path.write_text(GOOD.replace("drug: trastuzumab,", "drug: trastuzumb,").replace("{name: PFS,", "{name: DFS,"))
    with pytest.raises(ModelValidationError) as caught:
        read_design(path)
    text = str(caught.value)
    assert f"{path}:{line_of(path, 'trastuzumb')}: arms[0].drugs[0].drug: unknown drug" in text
    assert f"{path}:{line_of(path, 'DFS')}: endpoints[0].name: unknown endpoint 'DFS'" in text
    assert "\n" not in text
    path.write_text(GOOD.replace("dose: 3.6 mg/kg", "dosage: 3.6 mg/kg"))  # a misspelt dose is also a missing one
    with pytest.raises(ModelValidationError) as caught:
        read_design(path)
    where = f"{path}:{line_of(path, 'dosage')}: arms[1].drugs[0]"
    assert f"{where}.dosage: unknown key 'dosage' (did you mean 'dose'?" in str(caught.value)
    assert f"{where}: missing required field 'dose'" in str(caught.value)


def test_a_non_randomised_design_has_no_ratio_and_no_control(tmp_path: Path) -> None:
    path = twin(tmp_path, 'ratio: "1:1"', "randomised: false")
    path.write_text(path.read_text().replace("control_arm: B\n", "").replace('  control_arm: "Ref1: abstract"\n', ""))
    assert read_design(path).control_arm is None
    path.write_text(path.read_text().replace("randomised: false", 'randomised: false\n  ratio: "1:1"'))
    with pytest.raises(ModelFormatError, match="a trial that is not randomised has no ratio"):
        read_design(path)


# ------------------------------------------------------------------ published results
@needs_shared
def test_every_row_of_the_shared_trials_table_resolves() -> None:
    rows = resolve_trials_table(TRIALS_TSV)
    assert len(rows) == len(TRIALS_TSV.read_text().splitlines()) - 1
    by_id = {r.id: r for r in rows}
    t01 = by_id["T01"]
    assert (t01.design.name, t01.arm.label, t01.endpoint.definition, t01.value) == ("NeoSphere", "TH", "ypT0/is", 29.0)
    t10 = by_id["T10"]
    assert t10.arm is design("CLEOPATRA").control
    assert t10.subgroup.condition == Is("pik3ca", ("H1047R", "E545K", "other"))
    assert t10.n is None and t10.statistic == "median_months"
    assert by_id["T16"].endpoint.confirmed is True and by_id["T07"].statistic == "percent"


def test_the_held_out_results_resolve_and_repeat_no_result_the_fit_uses() -> None:
    """The shipped held-out table is the out-of-sample check of the population fit: every row
    resolves, and none is a result (trial, arm, subgroup, endpoint) the fit sees; subgroups of a
    fitted trial that the fit does not see may be held out."""

    def result(row: ResolvedRow) -> tuple[str, str, str, str]:
        return row.design.name, row.arm.label, row.subgroup.name, f"{row.measure} {row.statistic}"

    heldout = resolve_trials_table(shipped_table(heldout=True))
    fitted = resolve_trials_table(shipped_table())
    assert len(heldout) >= 40 and all(r.source for r in heldout)
    assert not {result(r) for r in heldout} & {result(r) for r in fitted}
    assert {r.design.name for r in heldout} - {r.design.name for r in fitted}  # and whole trials it never sees


HEADER = "id\ttrial\tsetting\tpopulation\tarm\tregimen\tsubgroup\tendpoint\tvalue\tn\tsource\n"


def results(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "trials.tsv"
    path.write_text(HEADER + "".join(row.replace("|", "\t") + "\n" for row in rows))
    return path


def test_hazard_ratios_compare_an_arm_with_the_control(tmp_path: Path) -> None:
    [row] = resolve_trials_table(results(tmp_path, "H1|CLEOPATRA|||pertuzumab+TH||all|PFS_HR|0.62|808|Baselga 2012"))
    assert row.statistic == "hazard_ratio" and row.compared_to is design("CLEOPATRA").control
    assert set(ENDPOINT_COLUMNS) >= {"pCR_breast_pct", "ORR_pct", "median_PFS_months", "median_OS_months", "OS_HR"}


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("X1|CLEOPATRE|||placebo+TH||all|median_PFS_months|12.4||s", "row X1: trial: unknown trial 'CLEOPATRE'"),
        ("X2|CLEOPATRA|||placebo+T||all|median_PFS_months|12.4||s", "row X2: arm: unknown CLEOPATRA arm 'placebo+T'"),
        ("X3|CLEOPATRA|||placebo+TH||PIK3CA mutnt|median_PFS_months|1||s", "row X3: subgroup: unknown subgroup"),
        ("X4|CLEOPATRA|||placebo+TH||HR-positive|median_PFS_months|1||s",
         "row X4: subgroup: CLEOPATRA reports no subgroup 'HR-positive' (its subgroups: PIK3CA wild-type"),
        ("X5|CLEOPATRA|||placebo+TH||all|median_DFS_months|1||s", "row X5: endpoint: unknown endpoint 'median_DFS"),
        ("X6|NeoSphere|||TH||all|ORR_pct|1||s", "row X6: endpoint: NeoSphere does not measure ORR (its endpoints: pCR"),
        ("X7|CLEOPATRA|||placebo+TH||all|PFS_HR|0.6||s", "row X7: arm: a hazard ratio is given for an arm against"),
        ("X8|DAISY|||cohort 1||all|PFS_HR|0.6||s", "row X8: endpoint: a hazard ratio needs a control arm"),
        ("X9|CLEOPATRA|||placebo+TH||all|ORR_pct|high||s", "row X9: value: 'high' is not a number"),
        ("X10|CLEOPATRA|||placebo+TH||all|ORR_pct|1|3.5|s", "row X10: n: '3.5' is not a whole number"),
    ],
)  # fmt: skip
def test_a_row_that_does_not_resolve_is_a_located_error_naming_the_column(
    tmp_path: Path, row: str, message: str
) -> None:
    path = results(tmp_path, "G1|CLEOPATRA|||placebo+TH||all|median_PFS_months|12.4|406|s", row)
    with pytest.raises(ModelValidationError) as caught:
        resolve_trials_table(path)
    assert str(caught.value).startswith(f"{path}:3: {message}"), str(caught.value)


def test_a_table_without_its_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "trials.tsv"
    path.write_text("id\ttrial\tarm\n")
    with pytest.raises(ModelFormatError, match=r"trials.tsv:1: missing column\(s\) setting, population"):
        resolve_trials_table(path)


def test_the_reference_page_lists_every_shipped_design() -> None:
    page = (REPO / "docs" / "reference" / "trial-designs.md").read_text()
    for d in designs():
        assert f"`{Path(d.path).name}`" in page and d.name in page
