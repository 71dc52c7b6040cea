"""How much of a published figure a model covers: its genes against the model's node annotations.

A figure record (:mod:`her2sim.formats.figure`) lists the genes PFOCR found in the figure; a
model's nodes name the HGNC genes they stand for (:attr:`~her2sim.model.network.Node.genes`).
:func:`figure_coverage` matches the two: a figure gene is covered by every node annotated with
it, so a family node (``AKT`` with ``AKT1 AKT2 AKT3``) covers each member the figure lists
apart, and a gene may be covered by several nodes (``ERBB2`` by ``HER2`` and ``HER2_HER3``).
Keywords that are not gene symbols stay in the report as unresolved, never dropped.

Examples
--------
>>> from her2sim.formats.figure import parse_figure_record
>>> from her2sim.formats.maboss import parse_maboss
>>> model, _ = parse_maboss('''
... Node HER2 { genes = "ERBB2"; logic = HER2; }
... Node AKT { genes = "AKT1 AKT2 AKT3"; logic = HER2; }
... Node FOXO { genes = "FOXO3"; logic = !AKT; }
... ''')
>>> record = parse_figure_record('''---
... figid: PMC1__F1
... figtitle: HER2 signalling
... schema-jsonld:
...   keywords: [her2, AKT1, AKT2, MTOR, tumour]
... ---
... ''')
>>> cov = figure_coverage(record, model)
>>> cov.covered, cov.uncovered, cov.unresolved, cov.model_only
(('ERBB2', 'AKT1', 'AKT2'), ('MTOR',), ('tumour',), ('AKT3', 'FOXO3'))
>>> f"{cov.fraction:.0%}"
'75%'
>>> print(cov.table().to_csv(index=False), end="")
gene,keywords,covered,nodes
ERBB2,her2,True,HER2
AKT1,AKT1,True,AKT
AKT2,AKT2,True,AKT
MTOR,MTOR,False,
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from her2sim.formats.figure import FigureRecord, gene_aliases, gene_symbols

if TYPE_CHECKING:
    import pandas as pd

    from her2sim.model.network import Model

__all__ = ["FigureCoverage", "GeneCoverage", "figure_coverage"]


@dataclass(frozen=True, slots=True)
class GeneCoverage:
    """One figure gene and the model nodes that stand for it.

    Parameters
    ----------
    gene:
        HGNC approved symbol.
    keywords:
        The record's spellings of it (``her2`` and ``ERBB2``), in record order.
    nodes:
        Names of the nodes annotated with it, in model order; empty when not covered.
    """

    gene: str
    keywords: tuple[str, ...]
    nodes: tuple[str, ...]

    @property
    def covered(self) -> bool:
        """True when at least one node is annotated with the gene."""
        return bool(self.nodes)


@dataclass(frozen=True, slots=True)
class FigureCoverage:
    """What :func:`figure_coverage` found.

    Parameters
    ----------
    record:
        The figure record; its fields are also offered here (:attr:`title`, :attr:`figid`, ...).
    genes:
        Every distinct gene symbol of the figure, in record order, with its covering nodes.
    unresolved:
        Keywords of the record that are not gene symbols (see
        :func:`~her2sim.formats.figure.gene_symbols`), spelled as in the record.
    model_only:
        Genes annotated on the model's nodes that the figure does not list, in model order.
    model_name:
        The model's name, or ``""``.
    """

    record: FigureRecord
    genes: tuple[GeneCoverage, ...]
    unresolved: tuple[str, ...]
    model_only: tuple[str, ...]
    model_name: str = ""

    @property
    def covered(self) -> tuple[str, ...]:
        """Figure genes at least one node stands for."""
        return tuple(g.gene for g in self.genes if g.covered)

    @property
    def uncovered(self) -> tuple[str, ...]:
        """Figure genes no node stands for."""
        return tuple(g.gene for g in self.genes if not g.covered)

    @property
    def fraction(self) -> float:
        """Covered share of the figure's genes, from 0 to 1; NaN when the figure lists none."""
        return len(self.covered) / len(self.genes) if self.genes else math.nan

    def nodes_of(self, gene: str) -> tuple[str, ...]:
        """Nodes covering ``gene`` (an approved symbol); ``()`` when the figure does not list it."""
        return next((g.nodes for g in self.genes if g.gene == gene), ())

    def table(self) -> pd.DataFrame:
        """One row per figure gene: ``gene``, ``keywords`` and ``nodes`` (space-separated), ``covered``."""
        import pandas as pd

        rows = [(g.gene, " ".join(g.keywords), g.covered, " ".join(g.nodes)) for g in self.genes]
        return pd.DataFrame(rows, columns=["gene", "keywords", "covered", "nodes"])

    # The record's description of itself, for reports.
    @property
    def figid(self) -> str:
        return self.record.figid

    @property
    def title(self) -> str:
        return self.record.title

    @property
    def caption(self) -> str:
        return self.record.caption

    @property
    def paper_title(self) -> str:
        return self.record.paper_title

    @property
    def reftext(self) -> str:
        return self.record.reftext

    @property
    def year(self) -> int | None:
        return self.record.year

    @property
    def doi(self) -> str:
        return self.record.doi

    @property
    def organisms(self) -> tuple[str, ...]:
        """Organisms PFOCR assigned (its ``NA`` left out)."""
        return self.record.organisms

    @property
    def organisms_ner(self) -> tuple[str, ...]:
        """Organisms named in the paper's text (its ``NA`` left out)."""
        return self.record.organisms_ner


def figure_coverage(record: FigureRecord, model: Model) -> FigureCoverage:
    """Match the genes of a figure record against the gene annotations of a model's nodes.

    Node genes are compared as approved symbols: case-insensitively, and through the alias
    table when a node uses an alias (``HER2`` stands for ERBB2).

    Parameters
    ----------
    record:
        A figure record (:func:`~her2sim.formats.figure.read_figure_record`).
    model:
        A model whose nodes carry HGNC gene annotations.

    Returns
    -------
    FigureCoverage

    Examples
    --------
    >>> from her2sim.formats.bnet import parse_bnet
    >>> from dataclasses import replace
    >>> m = parse_bnet("targets, factors\\nRAS, RAS\\nRAF, RAS\\n")
    >>> m = m.with_nodes([replace(m.node("RAS"), genes=("KRAS", "HRAS", "NRAS")),
    ...                   replace(m.node("RAF"), genes=("ARAF", "BRAF", "RAF1"))])
    >>> r = FigureRecord("f", "t", keywords=("KRAS", "NRAS", "BRAF", "RAF1", "MAP2K1"))
    >>> c = figure_coverage(r, m)
    >>> c.nodes_of("NRAS"), c.nodes_of("RAF1"), c.uncovered
    (('RAS',), ('RAF',), ('MAP2K1',))
    """
    aliases = gene_aliases()
    by_gene: dict[str, list[str]] = {}
    for node in model.nodes:
        for gene in node.genes:
            nodes = by_gene.setdefault(aliases.get(gene.upper(), gene.upper()), [])
            if node.name not in nodes:
                nodes.append(node.name)
    found = gene_symbols(record)
    spellings: dict[str, list[str]] = {}
    for keyword, symbol in found.resolved:
        spellings.setdefault(symbol, []).append(keyword)
    genes = tuple(GeneCoverage(s, tuple(spellings[s]), tuple(by_gene.get(s, ()))) for s in found.symbols)
    model_only = tuple(g for g in by_gene if g not in spellings)
    return FigureCoverage(record, genes, found.unresolved, model_only, model.name)
