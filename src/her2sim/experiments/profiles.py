"""Personal tumour profiles from cBioPortal exports, mapped to alterations and ranked therapies.

Two tables people download from cBioPortal are read:

* **mutations** (MAF-like, tab-separated): ``Hugo_Symbol`` and ``HGVSp_Short`` (``p.L755S``),
  optionally ``Tumor_Sample_Barcode`` (or ``Sample ID``) naming the sample;
* **copy number**: either cBioPortal's discrete ``data_CNA.txt`` (``Hugo_Symbol`` then one
  column per sample, GISTIC values -2..2) or a long table (``Sample ID``/``Tumor_Sample_Barcode``,
  ``Hugo_Symbol`` or ``Gene``, ``CNA`` or ``Alteration`` = ``AMP``/``HOMDEL``/``GAIN``/``HETLOSS``).

Each row becomes an alteration of the library (:meth:`AlterationLibrary.for_variant` for
mutations; amplification -> ``GENE:amp``, deep deletion -> ``GENE:loss``) or a report line
saying why it could not be used. Nothing is dropped silently.

Examples
--------
>>> import io
>>> maf = "Hugo_Symbol\\tHGVSp_Short\\nPIK3CA\\tp.H1047R\\nTP53\\tp.R175H\\nERBB2\\tL755\\n"
>>> profile = read_profiles(io.StringIO(maf))["sample"]
>>> profile.alterations
('PIK3CA:H1047R',)
>>> [line.split(": ", 1)[1] for line in profile.unmapped]
['TP53 p.R175H has no alteration in the library', 'ERBB2 L755: not a protein change (expected p.<ref><pos><alt>)']
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TextIO

import pandas as pd

from her2sim.errors import ConfigError, ModelFormatError
from her2sim.formats._io import read_text
from her2sim.her2.alterations import alteration_library

__all__ = ["Profile", "read_profiles", "samples_of"]

_SAMPLE_COLUMNS = ("Tumor_Sample_Barcode", "Sample ID", "Sample_ID", "SAMPLE_ID", "sample")
_PROTEIN = re.compile(r"^p\.(?:[A-Z*][0-9]+|[A-Z][0-9]+_[A-Z][0-9]+)\S*$")
_CNA_WORDS = {"AMP": 2, "GAIN": 1, "HETLOSS": -1, "HOMDEL": -2, "DIPLOID": 0}
_DEFAULT_SAMPLE = "sample"


@dataclass
class Profile:
    """One tumour: the alterations it maps to and every input row that could not be used."""

    sample: str
    alterations: tuple[str, ...] = ()
    unmapped: list[str] = field(default_factory=list)

    @property
    def context(self) -> str:
        return "; ".join(self.alterations)


def _table(source: str | os.PathLike[str] | TextIO, what: str) -> tuple[pd.DataFrame, str, list[int]]:
    """The table, its name, and the file line of each data row (comments and blanks skipped)."""
    if isinstance(source, (str, os.PathLike)):
        name, text = str(source), read_text(source)
    else:
        name, text = f"<{what}>", source.read()
    numbered = [
        (i, line) for i, line in enumerate(text.splitlines(), start=1) if line.strip() and not line.startswith("#")
    ]
    if not numbered:
        raise ModelFormatError(f"the {what} table is empty", name)
    try:
        frame = pd.read_csv(
            io.StringIO("\n".join(line for _, line in numbered)), sep="\t", dtype=str, keep_default_na=False
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise ModelFormatError(f"not a tab-separated {what} table ({exc})", name) from None
    return frame, name, [i for i, _ in numbered[1:]]


def _sample_column(frame: pd.DataFrame) -> str | None:
    return next((c for c in _SAMPLE_COLUMNS if c in frame.columns), None)


def _profile(profiles: dict[str, Profile], sample: str) -> Profile:
    return profiles.setdefault(sample, Profile(sample))


def _add(profile: Profile, name: str) -> None:
    if name not in profile.alterations:
        profile.alterations = (*profile.alterations, name)


def _read_mutations(source: str | os.PathLike[str] | TextIO, profiles: dict[str, Profile]) -> None:
    frame, name, lines = _table(source, "mutation")
    missing = [c for c in ("Hugo_Symbol", "HGVSp_Short") if c not in frame.columns]
    if missing:
        raise ModelFormatError(f"missing column(s) {', '.join(missing)}", name, 1, hint="a cBioPortal mutation table")
    library = alteration_library()
    sample_col = _sample_column(frame)
    for line, row in zip(lines, frame.itertuples(index=False, name=None), strict=True):
        values = dict(zip(frame.columns, row, strict=True))
        sample = values.get(sample_col) if sample_col else _DEFAULT_SAMPLE
        profile = _profile(profiles, str(sample or _DEFAULT_SAMPLE))
        gene, change = str(values["Hugo_Symbol"]).strip(), str(values["HGVSp_Short"]).strip()
        where = f"{name}:{line}"
        if not gene:
            profile.unmapped.append(f"{where}: a row without a gene symbol")
        elif not _PROTEIN.match(change):
            profile.unmapped.append(
                f"{where}: {gene} {change or '(empty)'}: not a protein change (expected p.<ref><pos><alt>)"
            )
        elif (alteration := library.for_variant(gene, change)) is None:
            profile.unmapped.append(f"{where}: {gene} {change} has no alteration in the library")
        else:
            _add(profile, alteration.name)


def _cna_value(text: str) -> int | None:
    text = text.strip().upper()
    if text in _CNA_WORDS:
        return _CNA_WORDS[text]
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value in (-2, -1, 0, 1, 2) else None


def _add_cna(profile: Profile, gene: str, value: int, where: str) -> None:
    if value in (-1, 0, 1):
        if value:
            kind = "gain" if value > 0 else "shallow loss"
            profile.unmapped.append(f"{where}: {gene} {kind} is not modelled (only amplification and deep deletion)")
        return
    suffix = "amp" if value == 2 else "loss"
    try:
        _add(profile, alteration_library().get(f"{gene}:{suffix}").name)
    except KeyError:
        profile.unmapped.append(
            f"{where}: {gene} {'amplification' if value == 2 else 'deep deletion'} has no alteration in the library"
        )


def _read_cna(source: str | os.PathLike[str] | TextIO, profiles: dict[str, Profile]) -> None:
    frame, name, lines = _table(source, "copy-number")
    gene_col = next((c for c in ("Hugo_Symbol", "Gene", "gene") if c in frame.columns), None)
    if gene_col is None:
        raise ModelFormatError("missing column Hugo_Symbol (or Gene)", name, 1, hint="a cBioPortal copy-number table")
    value_col = next((c for c in ("CNA", "Alteration", "cna") if c in frame.columns), None)
    sample_col = _sample_column(frame)
    if value_col is not None:  # long format
        for line, row in zip(lines, frame.itertuples(index=False, name=None), strict=True):
            values = dict(zip(frame.columns, row, strict=True))
            sample = str(values.get(sample_col) or _DEFAULT_SAMPLE) if sample_col else _DEFAULT_SAMPLE
            _cna_row(_profile(profiles, sample), str(values[gene_col]), str(values[value_col]), f"{name}:{line}")
        return
    samples = [c for c in frame.columns if c not in (gene_col, "Entrez_Gene_Id", "Cytoband")]
    if not samples:
        raise ModelFormatError("no sample columns", name, 1, hint="data_CNA.txt has one column per sample")
    for line, row in zip(lines, frame.itertuples(index=False, name=None), strict=True):
        values = dict(zip(frame.columns, row, strict=True))
        for sample in samples:
            _cna_row(_profile(profiles, sample), str(values[gene_col]), str(values[sample]), f"{name}:{line}")


def _cna_row(profile: Profile, gene: str, text: str, where: str) -> None:
    value = _cna_value(text)
    if value is None:
        profile.unmapped.append(f"{where}: {gene} copy number {text!r} is not one of -2..2 or AMP/GAIN/HETLOSS/HOMDEL")
    else:
        _add_cna(profile, gene.strip(), value, where)


def read_profiles(
    mutations: str | os.PathLike[str] | TextIO | None = None,
    copy_number: str | os.PathLike[str] | TextIO | None = None,
) -> dict[str, Profile]:
    """Profiles by sample from a mutation table and/or a copy-number table.

    Contradictory alterations in one sample (a gene both amplified and deleted) are reported
    in that sample's ``unmapped`` list and the sample keeps neither.
    """
    if mutations is None and copy_number is None:
        raise ConfigError("give a mutation table, a copy-number table, or both")
    profiles: dict[str, Profile] = {}
    if mutations is not None:
        _read_mutations(mutations, profiles)
    if copy_number is not None:
        _read_cna(copy_number, profiles)
    for profile in profiles.values():
        _resolve_conflicts(profile)
    return profiles


def _resolve_conflicts(profile: Profile) -> None:
    library = alteration_library()
    try:
        library.context(profile.alterations)
    except ConfigError as exc:
        genes = [library.get(a).gene for a in profile.alterations]
        clash = [a for a, gene in zip(profile.alterations, genes, strict=True) if genes.count(gene) > 1]
        profile.unmapped.append(f"{profile.sample}: {exc}; left out: {', '.join(clash)}")
        profile.alterations = tuple(a for a in profile.alterations if a not in clash)


def samples_of(profiles: dict[str, Profile], names: Sequence[str] | None) -> list[Profile]:
    """The profiles called ``names`` (all when None), unknown names rejected."""
    if not names:
        return list(profiles.values())
    missing = [n for n in names if n not in profiles]
    if missing:
        raise ConfigError(f"no sample {', '.join(missing)} in the tables (samples: {', '.join(profiles)})")
    return [profiles[n] for n in names]
