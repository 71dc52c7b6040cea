"""The HER2 model's mechanisms, run through scenarios: each figure panel changes what it should."""

from __future__ import annotations

import pytest

from her2sim.her2.model import load_config
from her2sim.her2.scenario import Her2Simulator, effect, scenario
from her2sim.her2.settings import RunSettings


@pytest.fixture(scope="module")
def sim() -> Her2Simulator:
    return Her2Simulator(load_config(samples=800, max_time=40, seed=7))


def e(sim: Her2Simulator, context: str, therapy: str, readout: str = "proliferation") -> float:
    return float(sim.run(context, therapy).summary.loc[readout, "effect"])


def test_scenario_returns_time_courses_summary_and_nodes() -> None:
    result = scenario(["ERBB2:amp"], {"lapatinib": "1uM"}, settings=RunSettings(samples=300, max_time=20, seed=3))
    assert set(result.timecourse.columns) == {"time", "readout", "condition", "probability"}
    assert set(result.timecourse["condition"]) == {"treated", "untreated"}
    assert list(result.summary.index) == ["proliferation", "apoptosis", "survival", "pAKT", "pERK"]
    assert 0 < result.growth_index < 1
    assert result.nodes.loc["HER2", "treated"] == pytest.approx(1.0)


def test_untreated_scenario_has_no_effect(sim: Her2Simulator) -> None:
    assert sim.run("ERBB2:amp", None).summary["effect"].abs().max() == 0.0


def test_effect_definitions() -> None:
    assert effect("proliferation", 0.25, 0.5) == 0.5
    assert effect("pERK", 0.5, 0.0) == 0.0
    assert effect("apoptosis", 0.6, 0.2) == pytest.approx(0.5)


def test_dose_response_is_monotone(sim: Her2Simulator) -> None:
    effects = [e(sim, "ERBB2:amp", f"lapatinib@{d}") for d in ("3nM", "30nM", "300nM", "3uM")]
    assert effects == sorted(effects) and effects[-1] - effects[0] > 0.4


def test_activating_her2_mutation_drives_both_branches(sim: Her2Simulator) -> None:  # panel 1
    nodes = sim.run("ERBB2:L755S", None).nodes["treated"]
    normal = sim.run("ERBB2:normal", None).nodes["treated"]
    assert nodes["AKT"] > normal["AKT"] + 0.2 and nodes["ERK"] > normal["ERK"] + 0.2


def test_her3_co_mutation_raises_pi3k_under_neratinib(sim: Her2Simulator) -> None:  # panel 2
    single = sim.run("ERBB2:L755S", "neratinib").nodes["treated"]["PI3K"]
    double = sim.run("ERBB2:L755S; ERBB3:E928G", "neratinib").nodes["treated"]["PI3K"]
    assert double > single


def test_p95her2_escapes_antibodies_not_kinase_inhibitors(sim: Her2Simulator) -> None:  # panel 3
    assert e(sim, "ERBB2:amp; p95HER2", "trastuzumab") < e(sim, "ERBB2:amp", "trastuzumab") - 0.2
    assert e(sim, "ERBB2:amp; p95HER2", "lapatinib") > 0.5


@pytest.mark.parametrize("mask", ["MUC4:high", "CD44-HA:high"])
def test_masking_blocks_trastuzumab_binding_but_adc_payload_still_kills(sim: Her2Simulator, mask: str) -> None:
    assert e(sim, f"ERBB2:amp; {mask}", "trastuzumab") < 0.2  # panel 4
    assert e(sim, f"ERBB2:amp; {mask}", "T-DM1", "apoptosis") > e(sim, f"ERBB2:amp; {mask}", "trastuzumab", "apoptosis")


#: (mask, the anti-masking drugs that lower it, a drug that lowers the other mask)
UNMASKING = [
    ("MUC4:high", ("etanercept", "infliximab"), "4-MU"),
    ("TNF:high", ("etanercept",), "hyaluronidase"),
    ("CD44-HA:high", ("4-methylumbelliferone", "hyaluronidase"), "etanercept"),
]


@pytest.mark.parametrize(("mask", "drugs", "other"), UNMASKING)
def test_anti_masking_drugs_give_trastuzumab_back_its_epitope(
    sim: Her2Simulator, mask: str, drugs: tuple[str, ...], other: str
) -> None:  # panel 4: TNF-alpha blockade lowers MUC4, 4-MU and hyaluronidase the hyaluronan coat
    masked = f"ERBB2:amp; {mask}"
    alone = e(sim, masked, "trastuzumab")
    for drug in drugs:
        assert e(sim, masked, f"trastuzumab+{drug}") > alone + 0.15, drug
        # 0.12: about three standard errors of an effect at 800 trajectories, once a changed rate
        # makes the treated and untreated runs' random streams part
        assert abs(e(sim, masked, drug)) < 0.12, drug  # no action of its own on the cells
        # unmasked cells (basal MUC4 and coat only) gain little
        assert abs(e(sim, "ERBB2:amp", f"trastuzumab+{drug}") - e(sim, "ERBB2:amp", "trastuzumab")) < 0.12
    assert abs(e(sim, masked, f"trastuzumab+{other}") - alone) < 0.12  # the other mask's drug does little here


def test_epitope_access_counts_the_drugs_that_lower_a_mask() -> None:
    from her2sim.her2.alterations import alteration_library
    from her2sim.her2.model import load_model
    from her2sim.her2.pharmacology import drug_parameters, epitope_access
    from her2sim.her2.therapies import therapy_library

    defaults, drugs = load_model().parameter_values, therapy_library()
    masked = alteration_library().context("ERBB2:amp; MUC4:high")
    lowered = drug_parameters(drugs.regimen("trastuzumab+etanercept"), masked)["inh_MUC4"]
    bare = epitope_access(masked, defaults)
    with_drug = epitope_access(masked, defaults, drugs.regimen("trastuzumab+etanercept"))
    ha = 1 - defaults["masking_HA"] * defaults["CD44_HA"]
    assert bare == pytest.approx((1 - defaults["masking_MUC4"] * 0.95) * ha)
    assert with_drug == pytest.approx((1 - defaults["masking_MUC4"] * 0.95 * (1 - lowered)) * ha)
    assert epitope_access(masked, defaults, drugs.regimen("trastuzumab")) == pytest.approx(bare)


def test_drugs_added_for_the_figure_act_by_their_mechanism(sim: Her2Simulator) -> None:
    assert e(sim, "ERBB2:amp", "afatinib") > 0.5  # irreversible pan-HER inhibitor
    assert e(sim, "ERBB2:exon20ins", "afatinib") < 0.2 < e(sim, "ERBB2:exon20ins", "poziotinib")
    ccne1 = "ERBB2:amp; CCNE1:amp"
    for cdk2 in ("dinaciclib", "roscovitine"):
        assert e(sim, ccne1, f"trastuzumab+{cdk2}") > e(sim, ccne1, "trastuzumab") + 0.3, cdk2
    er = "ERBB2:amp; ESR1:high"
    for ai in ("anastrozole", "exemestane"):
        assert e(sim, er, f"{ai}+trastuzumab") > e(sim, er, ai) + 0.2, ai


def test_pik3ca_mutation_keeps_akt_on_under_her2_blockade(sim: Her2Simulator) -> None:  # panel 6
    assert sim.run("ERBB2:amp; PIK3CA:H1047R", "trastuzumab").nodes["treated"]["AKT"] > 0.7
    assert e(sim, "ERBB2:amp; PIK3CA:H1047R", "alpelisib+trastuzumab") > e(
        sim, "ERBB2:amp; PIK3CA:H1047R", "trastuzumab"
    )


def test_cyclin_d1_and_mek_cdk2_routes_bypass_her2_blockade(sim: Her2Simulator) -> None:  # panels 5, 7
    assert e(sim, "ERBB2:amp; CCND1:amp", "trastuzumab") < e(sim, "ERBB2:amp", "trastuzumab") - 0.2
    assert e(sim, "ERBB2:amp; NF1:loss", "lapatinib") < e(sim, "ERBB2:amp", "lapatinib") - 0.3
    cdk2 = sim.run("ERBB2:amp; NF1:loss", "lapatinib").nodes["treated"]["CDK2"]
    assert cdk2 > sim.run("ERBB2:amp", "lapatinib").nodes["treated"]["CDK2"]


def test_heterogeneous_her2_favours_the_bystander_payload(sim: Her2Simulator) -> None:  # panel d
    tdxd, tdm1 = e(sim, "ERBB2:heterogeneous", "T-DXd"), e(sim, "ERBB2:heterogeneous", "T-DM1")
    assert tdxd > tdm1 + 0.1
    assert e(sim, "ERBB2:heterogeneous", "trastuzumab") < e(sim, "ERBB2:amp", "trastuzumab") - 0.1
    assert e(sim, "ERBB2:low", "T-DXd") > e(sim, "ERBB2:low", "T-DM1")


def test_her2_er_crosstalk_turns_tamoxifen_into_an_agonist(sim: Her2Simulator) -> None:
    er_with_tam = sim.run("ERBB2:amp; ESR1:high", "tamoxifen").nodes["treated"]["ER"]
    er_with_tam_no_her2 = sim.run("ERBB2:zero; ESR1:high", "tamoxifen").nodes["treated"]["ER"]
    assert er_with_tam > er_with_tam_no_her2 + 0.1


def test_results_are_reproducible(sim: Her2Simulator) -> None:
    a = scenario(["ERBB2:amp"], "trastuzumab", settings=RunSettings(samples=200, max_time=10, seed=11)).summary
    b = scenario(["ERBB2:amp"], "trastuzumab", settings=RunSettings(samples=200, max_time=10, seed=11)).summary
    assert a.equals(b)
