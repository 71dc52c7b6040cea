"""Figure records (Markdown with YAML front matter) and gene-symbol resolution of their keywords."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from her2sim.errors import ModelFormatError
from her2sim.formats.figure import (
    FigureRecord,
    gene_aliases,
    gene_symbols,
    parse_figure_record,
    read_figure_record,
)
from tests.conftest import SHARED

SEED = SHARED / "seeds" / "000_f81eb7544f0d353b.txt"


@pytest.fixture(scope="module")
def seed() -> FigureRecord:
    if not SEED.is_file():
        pytest.skip("../shared/seeds is not present")
    return read_figure_record(SEED)


# ----------------------------------------------------------------------------- the shared seed
def test_seed_record_fields(seed: FigureRecord) -> None:
    assert seed.figid == "PMC9640784__41573_2022_579_Fig2_HTML"
    assert seed.title == "Select mechanisms of HER2-targeted resistance"
    assert seed.caption.startswith("a, Mutations and/or alterations in the HER family of receptors")
    assert seed.caption.endswith("ER, oestrogen receptor.")
    assert seed.paper_title == "Targeting HER2-positive breast cancer: advances and future directions."
    assert seed.reftext.startswith("Sandra M. Swain, et al.")
    assert seed.year == 2023
    assert seed.doi == "10.1038/s41573-022-00579-0"
    assert seed.pmcid == "PMC9640784"
    assert seed.organisms == ()  # PFOCR's "NA"
    assert seed.organisms_ner == ("Danio rerio", "Homo sapiens")
    assert seed.keywords[:3] == ("rab1ab", "mtor", "cdk2")
    assert seed.raw["keywords"] == "Breast cancer"  # the paper's keywords, not the genes
    assert seed.source == str(SEED)
    assert seed.body == ""


def test_seed_gene_symbols(seed: FigureRecord) -> None:
    genes = gene_symbols(seed)
    expected = {"ERBB2", "ERBB3", "EGFR", "PIK3CA", "AKT1", "AKT2", "AKT3", "MTOR", "KRAS", "CDK2", "CCND1"}
    assert expected | {"MUC4", "CD44", "HRAS", "NRAS", "BRAF", "MAPK1", "MAPK3", "CCNE1"} <= set(genes.symbols)
    assert len(genes.symbols) == len(set(genes.symbols))
    assert genes.symbols[:6] == ("MTOR", "CDK2", "CDK4", "CDK6", "CCND1", "ERBB2")
    resolved = dict(genes.resolved)
    assert (resolved["her1"], resolved["her2"], resolved["her3"]) == ("EGFR", "ERBB2", "ERBB3")
    assert genes.unresolved == ("rab1ab", "cd4-1", "HERZ", "tumour")
    assert "TUMOUR" not in genes.symbols


# ----------------------------------------------------------------------------- small records
RECORD = """---
figid: PMC1__F1
figtitle: 'HER2: a test'
caption: >
  Two lines
  of caption.
year: 2021
organisms: Homo sapiens
schema-jsonld:
  keywords: [ErbB2, her2, HER-2, PRAS40, BIM, tumour, her2]
---
# Notes

Body text.
"""


def test_small_record() -> None:
    record = parse_figure_record(RECORD, "r.md")
    assert record.title == "HER2: a test"
    assert record.caption == "Two lines of caption."
    assert record.year == 2021
    assert record.organisms == ("Homo sapiens",)
    assert record.doi == ""
    assert record.body == "# Notes\n\nBody text."
    genes = gene_symbols(record)
    assert genes.symbols == ("ERBB2", "AKT1S1", "BCL2L11")
    assert [k for k, _ in genes.resolved] == ["ErbB2", "her2", "HER-2", "PRAS40", "BIM"]
    assert genes.unresolved == ("tumour",)


def test_record_is_a_hashable_value() -> None:
    a = parse_figure_record(RECORD, "a.md")
    b = parse_figure_record(RECORD, "b.md")
    assert a == b and hash(a) == hash(b)
    with pytest.raises(TypeError):
        a.raw["figid"] = "changed"  # type: ignore[index]


def test_record_without_genes() -> None:
    record = parse_figure_record("---\nfigid: x\nfigtitle: t\n---\n")
    assert record.keywords == ()
    assert gene_symbols(record).symbols == ()


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("text", "line", "match"),
    [
        ("figid: x\nfigtitle: t\n", 1, "no YAML front matter"),
        ("", 1, "no YAML front matter"),
        ("\n---\nfigid: x\n---\n", 1, "no YAML front matter"),
        ("---\nfigid: x\nfigtitle: t\n", 1, "never closed"),
        ("---\nfigid: x\nfigtitle: [unclosed\ncaption: c\n---\n", 4, "invalid YAML"),
        ("---\nfigid: x\n  bad: indent\n---\n", 3, "invalid YAML"),
        ("---\nfigid: x\nfigtitle: 'a\x07'\n---\n", 3, "unacceptable character U\\+0007"),
        ("---\n- a list\n---\n", 2, "must be a mapping"),
        ("---\n---\n", 2, "must be a mapping"),
        ("---\nfigid: x\ncaption: c\n---\n", 1, "required key 'figtitle' is missing"),
        ("---\nfigid: x\nfigtitle: ''\n---\n", 3, "required key 'figtitle' is empty"),
        ("---\nfigid: x\nfigtitle:\n  - a\n---\n", 3, "figtitle must be text"),
        ("---\nfigid: x\nfigtitle: t\nyear: soon\n---\n", 4, "whole year"),
        ("---\nfigid: x\nfigtitle: t\nschema-jsonld: [1]\n---\n", 4, "schema-jsonld must be a mapping"),
        ("---\nfigid: x\nfigtitle: t\nschema-jsonld:\n  keywords: [[a]]\n---\n", 4, "list of text"),
    ],
)
def test_errors_name_the_line(text: str, line: int, match: str) -> None:
    with pytest.raises(ModelFormatError, match=match) as err:
        parse_figure_record(text, "bad.md")
    assert (err.value.source, err.value.line) == ("bad.md", line)
    assert str(err.value).startswith(f"bad.md:{line}")


def test_read_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelFormatError, match="no such file"):
        read_figure_record(tmp_path / "absent.md")


# ----------------------------------------------------------------------------- the alias table
def test_alias_table_is_consistent() -> None:
    table = gene_aliases()
    symbols = set(table.values())
    assert all(table[s] == s for s in symbols), "every symbol needs its own approved-symbol row"
    assert all(re.fullmatch(r"[A-Z][A-Z0-9-]*", s) for s in symbols)
    assert all(alias == alias.upper() for alias in table)
    for ambiguous in ("ER", "PDK1", "HRG", "TUMOUR", "HERZ"):
        assert ambiguous not in table
    assert (table["HER1"], table["HER2"], table["HER3"]) == ("EGFR", "ERBB2", "ERBB3")
