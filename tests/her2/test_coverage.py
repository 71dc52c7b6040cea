"""Figure coverage: which genes of a figure record a model's node annotations stand for."""

from __future__ import annotations

import dataclasses
import math

import pytest

from her2sim.formats.figure import FigureRecord, parse_figure_record
from her2sim.formats.maboss import parse_maboss
from her2sim.her2.coverage import FigureCoverage, GeneCoverage, figure_coverage
from her2sim.model.network import Model

BND = """
Node NRG1 { genes = "NRG1"; }
Node HER2 { genes = "ERBB2"; logic = HER2; }
Node p95HER2 { genes = "erbb2"; logic = p95HER2; }
Node HER2_HER3 { genes = "ERBB2 ERBB3"; logic = HER2 & NRG1; }
Node RAS { genes = "KRAS HRAS NRAS"; logic = HER2 | p95HER2; }
Node RAF { genes = "ARAF BRAF RAF1"; logic = RAS; }
Node AKT { genes = "AKT1 AKT2 AKT3"; logic = HER2_HER3; }
Node MUC4 { genes = "HER2 MUC4"; logic = MUC4; }
Node Proliferation { logic = RAF & AKT; }
"""

RECORD = """---
figid: PMC7__F3
figtitle: A test figure
caption: HER2 and friends.
papertitle: A paper
reftext: A. Author, et al. J Test. 2020;1:1-2.
year: '2020'
doi: 10.1000/test
organisms:
- NA
organisms_ner:
- Homo sapiens
schema-jsonld:
  keywords: [her2, K/H/NRAS, KRAS, HRAS, NRAS, AKT1, AKT2, AKT3, ERBB2, her3, MTOR, CCNE1, tumour, HERZ]
---
"""


@pytest.fixture(scope="module")
def model() -> Model:
    return parse_maboss(BND)[0]


@pytest.fixture(scope="module")
def cov(model: Model) -> FigureCoverage:
    return figure_coverage(parse_figure_record(RECORD, "r.md"), model)


def test_every_figure_gene_once_in_record_order(cov: FigureCoverage) -> None:
    assert [g.gene for g in cov.genes] == [
        "ERBB2", "KRAS", "HRAS", "NRAS", "AKT1", "AKT2", "AKT3", "ERBB3", "MTOR", "CCNE1",
    ]  # fmt: skip
    assert cov.genes[0] == GeneCoverage("ERBB2", ("her2", "ERBB2"), ("HER2", "p95HER2", "HER2_HER3", "MUC4"))


def test_a_family_node_covers_each_member(cov: FigureCoverage) -> None:
    assert {g: cov.nodes_of(g) for g in ("KRAS", "HRAS", "NRAS", "AKT1", "AKT2", "AKT3")} == {
        "KRAS": ("RAS",), "HRAS": ("RAS",), "NRAS": ("RAS",), "AKT1": ("AKT",), "AKT2": ("AKT",), "AKT3": ("AKT",),
    }  # fmt: skip


def test_node_genes_compare_as_approved_symbols(cov: FigureCoverage) -> None:
    # p95HER2 says "erbb2" and MUC4 says "HER2" (an alias): both stand for ERBB2, in model order.
    assert cov.nodes_of("ERBB2") == ("HER2", "p95HER2", "HER2_HER3", "MUC4")
    assert cov.nodes_of("ERBB3") == ("HER2_HER3",)
    assert cov.nodes_of("PTEN") == ()  # not in the figure


def test_covered_uncovered_and_fraction(cov: FigureCoverage) -> None:
    assert cov.covered == ("ERBB2", "KRAS", "HRAS", "NRAS", "AKT1", "AKT2", "AKT3", "ERBB3")
    assert cov.uncovered == ("MTOR", "CCNE1")
    assert cov.fraction == pytest.approx(0.8)


def test_unresolved_keywords_are_reported_not_dropped(cov: FigureCoverage) -> None:
    assert cov.unresolved == ("K/H/NRAS", "tumour", "HERZ")


def test_model_genes_missing_from_the_figure(cov: FigureCoverage) -> None:
    assert cov.model_only == ("NRG1", "ARAF", "BRAF", "RAF1", "MUC4")


def test_record_fields_pass_through(cov: FigureCoverage) -> None:
    assert (cov.figid, cov.title, cov.caption, cov.year, cov.doi) == (
        "PMC7__F3", "A test figure", "HER2 and friends.", 2020, "10.1000/test",
    )  # fmt: skip
    assert (cov.paper_title, cov.reftext) == ("A paper", "A. Author, et al. J Test. 2020;1:1-2.")
    assert (cov.organisms, cov.organisms_ner) == ((), ("Homo sapiens",))  # PFOCR's NA left out


def test_table_is_one_row_per_figure_gene(cov: FigureCoverage) -> None:
    table = cov.table()
    assert list(table.columns) == ["gene", "keywords", "covered", "nodes"]
    assert list(table["gene"]) == [g.gene for g in cov.genes]
    assert table["covered"].dtype == bool
    rows = table.set_index("gene")
    assert rows.loc["ERBB2"].tolist() == ["her2 ERBB2", True, "HER2 p95HER2 HER2_HER3 MUC4"]
    assert rows.loc["MTOR"].tolist() == ["MTOR", False, ""]
    assert int(table["covered"].sum()) == len(cov.covered) == 8


def test_a_record_without_genes(model: Model) -> None:
    cov = figure_coverage(FigureRecord("f", "t", keywords=("tumour",)), model)
    assert cov.genes == () and cov.unresolved == ("tumour",)
    assert math.isnan(cov.fraction)
    assert cov.table().empty and list(cov.table().columns) == ["gene", "keywords", "covered", "nodes"]
    assert "ERBB2" in cov.model_only


def test_a_model_without_gene_annotations_covers_nothing() -> None:
    bare = parse_maboss("Node A { logic = A; }\n")[0]
    cov = figure_coverage(FigureRecord("f", "t", keywords=("ERBB2", "AKT1")), bare)
    assert (cov.covered, cov.uncovered, cov.fraction, cov.model_only) == ((), ("ERBB2", "AKT1"), 0.0, ())


def test_the_report_is_frozen(cov: FigureCoverage) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        cov.unresolved = ()  # type: ignore[misc]
