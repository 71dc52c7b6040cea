"""The alteration and therapy libraries: names, doses, contradictions and their link to the model."""

from __future__ import annotations

from pathlib import Path

import pytest

from her2sim.errors import ConfigError, ModelFormatError, UnknownNameError
from her2sim.her2.alterations import alteration_library, read_alterations
from her2sim.her2.model import annotations, load_model
from her2sim.her2.pharmacology import drug_parameters
from her2sim.her2.therapies import parse_concentration, read_therapies, therapy_library
from her2sim.model.expr import Var

#: alterations issue 4 names, plus the figure's panels they implement
REQUIRED_ALTERATIONS = [
    "ERBB2:L755S", "ERBB2:V777L", "ERBB2:D769Y", "ERBB2:exon20ins", "ERBB3:E928G", "p95HER2",
    "MUC4:high", "CD44-HA:high", "PIK3CA:H1047R", "PIK3CA:E545K", "PTEN:loss", "CCND1:amp",
    "ERBB2:amp", "ERBB2:low", "ERBB2:normal", "ERBB2:heterogeneous", "ESR1:high",
]  # fmt: skip
REQUIRED_THERAPIES = [
    "trastuzumab", "pertuzumab", "margetuximab", "T-DM1", "T-DXd", "lapatinib", "neratinib",
    "tucatinib", "pyrotinib", "alpelisib", "everolimus", "palbociclib", "ribociclib",
    "abemaciclib", "MEK-inhibitor", "CDK2-inhibitor", "fulvestrant", "tamoxifen",
]  # fmt: skip
#: genes of the system description that the model must annotate
FIGURE_GENES = [
    "ERBB2", "ERBB3", "EGFR", "PIK3CA", "PIK3CB", "PIK3CD", "PIK3R1", "AKT1", "AKT2", "AKT3", "MTOR",
    "KRAS", "HRAS", "NRAS", "ARAF", "BRAF", "RAF1", "MAP2K1", "MAP2K2", "MAPK1", "MAPK3", "CDK2",
    "CCNE1", "CCNE2", "CCND1", "CDK4", "CDK6", "MUC4", "CD44", "ESR1",
]  # fmt: skip


@pytest.mark.parametrize("name", REQUIRED_ALTERATIONS)
def test_required_alterations_exist_and_change_the_model(name: str) -> None:
    alteration = alteration_library().get(name)
    assert alteration.parameters or alteration.fixed or alteration.clones, name
    assert alteration.references, f"{name} has no reference"


@pytest.mark.parametrize("name", REQUIRED_THERAPIES)
def test_required_therapies_exist_and_act_through_model_sites(name: str) -> None:
    drug = therapy_library().get(name)
    assert drug.bindings and drug.references and drug.standard_dose > 0
    assert {b.site for b in drug.bindings} <= set(load_model().parameter_values)


def test_every_figure_gene_is_annotated_on_a_node() -> None:
    genes = {g for node in load_model().nodes for g in node.genes}
    assert set(FIGURE_GENES) - genes == set()


def test_every_node_has_evidence() -> None:
    table = annotations().set_index("node")
    for node in load_model().names:
        assert table.loc[node, "references"].strip(), node


def test_figure_entities_are_nodes() -> None:
    names = set(load_model().names)
    assert {"EGFR", "HER2", "p95HER2", "HER3", "EGF", "NRG1", "HER2_HER3", "HER2_HER3_L", "PI3K", "AKT",
            "mTORC1", "RAS", "RAF", "MEK", "ERK", "CDK2", "CyclinE", "CyclinD1", "CDK46", "RB1", "E2F",
            "MUC4", "CD44_HA", "ER", "FOXO", "ERK_feedback", "Proliferation", "Apoptosis"} <= names  # fmt: skip


def test_names_are_case_insensitive_and_aliases_resolve() -> None:
    assert alteration_library().get("her2:AMP").name == "ERBB2:amp"
    assert therapy_library().get("t-dxd").name == "trastuzumab deruxtecan"
    assert therapy_library().get("Kadcyla").name == "trastuzumab emtansine"


def test_unknown_names_suggest_close_ones() -> None:
    with pytest.raises(UnknownNameError, match="PIK3CA:H1047R"):
        alteration_library().get("PIK3CA:H1047")
    with pytest.raises(UnknownNameError, match="lapatinib"):
        therapy_library().get("lapatinb")


@pytest.mark.parametrize(
    ("context", "fragment"),
    [("PTEN:loss; ERBB2:amp; ERBB2:low", "alternatives"), ("ERBB2:amp; ERBB2:zero", "gained and lost")],
)
def test_contradictory_alterations_are_rejected(context: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        alteration_library().context(context)


def test_heterogeneous_context_expands_into_clones_that_keep_other_alterations() -> None:
    context = alteration_library().context("ERBB2:heterogeneous; PIK3CA:H1047R")
    assert [round(f, 2) for f, _ in context.clones] == [0.3, 0.4, 0.3]
    for _, clone in context.clones:
        assert clone.parameters["PIK3CA_gain"] == 0.5
    assert [clone.parameters["HER2_surface"] for _, clone in context.clones] == [1.0, 0.025, 0.0]


@pytest.mark.parametrize(
    ("text", "nM"),
    [("1uM", 1000.0), ("1 µM", 1000.0), ("250nM", 250.0), ("500 pM", 0.5), ("0 nM", 0.0), ("2mM", 2e6)],
)
def test_molar_doses(text: str, nM: float) -> None:
    assert parse_concentration(text) == pytest.approx(nM)


def test_mass_doses_use_the_molecular_weight() -> None:
    drug = therapy_library().get("trastuzumab")
    assert drug.dose("10ug/mL") == pytest.approx(10e-3 / 148_000 * 1e9)
    assert drug.dose("2x") == pytest.approx(2 * drug.dose(None))


@pytest.mark.parametrize("dose", ["5", "-1uM", "1 furlong", "abc", "nanx"])
def test_bad_doses_are_rejected(dose: str) -> None:
    with pytest.raises(ConfigError):
        therapy_library().regimen(f"lapatinib@{dose}")


def test_a_drug_twice_in_one_regimen_is_rejected() -> None:
    with pytest.raises(ConfigError, match="twice"):
        therapy_library().regimen("lapatinib+Tykerb@1uM")


def test_reversible_inhibitor_loses_potency_on_L755S_covalent_keeps_it() -> None:
    drugs, contexts = therapy_library(), alteration_library()
    wt, mutant = contexts.context("ERBB2:amp"), contexts.context("ERBB2:L755S")
    lap = drugs.regimen("lapatinib")
    ner = drugs.regimen("neratinib")
    site = "inh_HER2mut_kinase"
    assert drug_parameters(lap, mutant)[site] < 0.5 * drug_parameters(lap, wt)[site]
    assert drug_parameters(ner, mutant)[site] > 0.95 * drug_parameters(ner, wt)[site]


def test_a_mutants_potency_shift_spares_the_wild_type_copies() -> None:
    """Amplified wild-type HER2 beside a mutant keeps the drug's own potency."""
    drugs, contexts = therapy_library(), alteration_library()
    both = contexts.context("ERBB2:amp; ERBB2:L755S")
    lap = drug_parameters(drugs.regimen("lapatinib"), both)
    assert lap["inh_HER2_kinase"] > 0.9 > 0.3 > lap["inh_HER2mut_kinase"]


def test_a_gatekeeper_mutant_is_not_rescued_by_more_covalent_drug() -> None:
    """T798I slows neratinib's covalent step: even 100x the dose leaves the mutant mostly free."""
    drugs, contexts = therapy_library(), alteration_library()
    mutant = contexts.context("ERBB2:T798I")
    for dose in ("100nM", "10uM"):
        assert drug_parameters(drugs.regimen(f"neratinib@{dose}"), mutant)["inh_HER2mut_kinase"] < 0.1


def test_occupancy_grows_with_dose_and_saturates_below_emax() -> None:
    drugs, amp = therapy_library(), alteration_library().context("ERBB2:amp")
    values = [drug_parameters(drugs.regimen(f"everolimus@{d}nM"), amp)["inh_mTORC1"] for d in (0.1, 1, 10, 1000)]
    assert values == sorted(values) and values[-1] <= 0.9


def test_antibodies_on_one_epitope_compete() -> None:
    drugs, amp = therapy_library(), alteration_library().context("ERBB2:amp")
    alone = drug_parameters(drugs.regimen("T-DM1@0.1ug/mL"), amp)["adc_uptake"]
    with_trastuzumab = drug_parameters(drugs.regimen("T-DM1@0.1ug/mL+trastuzumab"), amp)["adc_uptake"]
    assert with_trastuzumab < 0.5 * alone


def test_only_membrane_permeable_payloads_reach_neighbours() -> None:
    from her2sim.her2.pharmacology import population_uptake

    drugs = therapy_library()
    clones = alteration_library().context("ERBB2:heterogeneous").clones
    defaults = load_model().parameter_values
    assert population_uptake(drugs.regimen("T-DM1"), clones, defaults) == 0.0
    assert population_uptake(drugs.regimen("T-DXd"), clones, defaults) > 0.0


def test_broken_library_files_give_located_errors(tmp_path: Path) -> None:
    bad = tmp_path / "alterations.yaml"
    bad.write_text("alterations:\n  - name: X:y\n    parameters: {HER2_surface: -1}\n")
    with pytest.raises(ModelFormatError, match=r"alterations.yaml:3: X:y: parameter values"):
        read_alterations(bad)
    bad.write_text("alterations: [\n")
    with pytest.raises(ModelFormatError, match=r"alterations.yaml:\d+: not valid YAML"):
        read_alterations(bad)
    drugs = tmp_path / "therapies.yaml"
    drugs.write_text("therapies:\n  - name: d\n    molecular_weight: 300 g/mol\n    standard_dose: 1 uM\n"
                     "    actions: [{type: bind, site: inh_MEK, potency: 5}]\n")  # fmt: skip
    with pytest.raises(ModelFormatError, match=r"therapies\.yaml:5: d: dose '5' has no unit"):
        read_therapies(drugs)


def test_library_sites_are_checked_against_the_model(tmp_path: Path) -> None:
    drugs = tmp_path / "therapies.yaml"
    drugs.write_text("therapies:\n  - name: d\n    molecular_weight: 300 g/mol\n    standard_dose: 1 uM\n"
                     "    actions: [{type: bind, site: inh_MOOSE, potency: 5 nM}]\n")  # fmt: skip
    with pytest.raises(ModelFormatError, match="unknown model site 'inh_MOOSE'"):
        read_therapies(drugs).check_against(load_model().parameter_values)


@pytest.mark.parametrize("suffix", [".bnet", ".sbml"])
def test_the_model_exports_its_logic_to_other_formats(tmp_path: Path, suffix: str) -> None:
    from her2sim.formats import read_model, write_model

    model = load_model()
    path = tmp_path / f"her2{suffix}"
    write_model(model, path, lossy=True)  # rates and parameters are MaBoSS-only
    back = read_model(path)
    assert back.names == model.names
    if suffix == ".sbml":  # SBML-qual carries annotations, BoolNet does not
        assert [n.genes for n in back.nodes] == [n.genes for n in model.nodes]
    for node in model.nodes:
        mirrored = back.node(node.name)
        assert mirrored.rule == node.rule or (node.rule == Var(node.name) and mirrored.is_input), node.name


def test_slc46a3_loss_traps_only_the_non_cleavable_conjugates_payload() -> None:
    from her2sim.her2.pharmacology import population_uptake

    drugs, library = therapy_library(), alteration_library()
    amp, trapped = library.context("ERBB2:amp"), library.context("ERBB2:amp; SLC46A3:loss")
    tdm1, tdxd = drugs.regimen("T-DM1"), drugs.regimen("T-DXd")
    assert drug_parameters(tdm1, trapped)["adc_uptake"] == pytest.approx(drug_parameters(tdm1, amp)["adc_uptake"] / 100)
    assert drug_parameters(tdxd, trapped) == drug_parameters(tdxd, amp)
    assert drug_parameters(tdm1, trapped)["occ_domainIV"] == drug_parameters(tdm1, amp)["occ_domainIV"]
    # what a clone releases to its neighbours has crossed membranes: not the lysosome's transporter
    defaults = load_model().parameter_values
    assert population_uptake(tdxd, [(1.0, trapped)], defaults) == population_uptake(tdxd, [(1.0, amp)], defaults)
