"""Personal tumour profiles from cBioPortal exports, mapped to alterations and ranked therapies.

The mutation and copy-number tables are read by :mod:`her2sim.formats.cbioportal` (its page
describes the columns and why a malformed table is a ``file:line`` error). Each row becomes an
alteration of the library (:meth:`AlterationLibrary.for_variant` for mutations; amplification
-> ``GENE:amp``, deep deletion -> ``GENE:loss``) or a report line saying why it could not be
used. Nothing is dropped silently.

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

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from her2sim.errors import ConfigError, ModelFormatError
from her2sim.formats.cbioportal import CopyNumber, TableSource, read_copy_number, read_mutations, table_name
from her2sim.her2.alterations import alteration_library

__all__ = ["Profile", "read_profiles", "samples_of", "with_alterations"]

_PROTEIN = re.compile(r"^p\.(?:[A-Z*][0-9]+|[A-Z][0-9]+_[A-Z][0-9]+)\S*$")


@dataclass
class Profile:
    """One tumour: the alterations it maps to and every input row that could not be used."""

    sample: str
    alterations: tuple[str, ...] = ()
    unmapped: list[str] = field(default_factory=list)

    @property
    def context(self) -> str:
        return "; ".join(self.alterations)


def _profile(profiles: dict[str, Profile], sample: str) -> Profile:
    return profiles.setdefault(sample, Profile(sample))


def _add(profile: Profile, name: str) -> None:
    if name not in profile.alterations:
        profile.alterations = (*profile.alterations, name)


def _read_mutations(source: TableSource, profiles: dict[str, Profile]) -> None:
    library = alteration_library()
    for row in read_mutations(source):
        profile = _profile(profiles, row.sample)
        if not row.gene:
            profile.unmapped.append(f"{row.where}: a row without a gene symbol")
        elif not _PROTEIN.match(row.change):
            profile.unmapped.append(
                f"{row.where}: {row.gene} {row.change or '(empty)'}: not a protein change (expected p.<ref><pos><alt>)"
            )
        elif (alteration := library.for_variant(row.gene, row.change)) is None:
            profile.unmapped.append(f"{row.where}: {row.gene} {row.change} has no alteration in the library")
        else:
            _add(profile, alteration.name)


def _read_cna(source: TableSource, profiles: dict[str, Profile]) -> None:
    for row in read_copy_number(source):
        _add_cna(_profile(profiles, row.sample), row)


def _add_cna(profile: Profile, row: CopyNumber) -> None:
    if row.value is None:
        profile.unmapped.append(
            f"{row.where}: {row.gene} copy number {row.text!r} is not one of -2..2 or AMP/GAIN/HETLOSS/HOMDEL"
        )
        return
    if row.value in (-1, 0, 1):
        if row.value:
            kind = "gain" if row.value > 0 else "shallow loss"
            profile.unmapped.append(
                f"{row.where}: {row.gene} {kind} is not modelled (only amplification and deep deletion)"
            )
        return
    suffix = "amp" if row.value == 2 else "loss"
    try:
        _add(profile, alteration_library().get(f"{row.gene}:{suffix}").name)
    except KeyError:
        change = "amplification" if row.value == 2 else "deep deletion"
        profile.unmapped.append(f"{row.where}: {row.gene} {change} has no alteration in the library")


def read_profiles(mutations: TableSource | None = None, copy_number: TableSource | None = None) -> dict[str, Profile]:
    """Profiles by sample from a mutation table and/or a copy-number table; never empty.

    The samples are those the rows name. A table with a header and no rows names none, and
    what that means depends on the other table. A MAF lists only the mutations found (a long
    copy-number table only the altered genes), so beside a table whose rows name the samples
    it says "none found": a legitimate cohort without mutations, read as such. When no table
    has a row there is no sample to rank; that is an error naming each table, not an empty
    result that ``predict`` would turn into an empty report and exit status 0.

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
    if not profiles:
        raise _header_only([(mutations, "mutation"), (copy_number, "copy-number")])
    for profile in profiles.values():
        _resolve_conflicts(profile)
    return profiles


def _header_only(tables: list[tuple[TableSource | None, str]]) -> ModelFormatError:
    """The error for tables none of which has a row: the first is the source, the other named."""
    (first, what), *others = [(table_name(source, what), what) for source, what in tables if source is not None]
    either = "".join(f", and {name} has no {kind} rows either" for name, kind in others)
    return ModelFormatError(f"no {what} rows (header only){either}", first, hint="no sample to rank")


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


def with_alterations(profiles: dict[str, Profile], names: Sequence[str]) -> dict[str, Profile]:
    """The profiles with the alterations ``names`` added to every one (each once), as when
    IHC shows HER2 amplification that the sequencing tables do not.

    Names are the alteration library's (close ones suggested for a typo). A sample whose
    alterations then contradict each other (a gene both amplified and deleted) is an error
    naming the clash, since the added alteration is the user's, not a row to leave out.

    >>> base = {"s1": Profile("s1", ("PIK3CA:H1047R",))}
    >>> with_alterations(base, ["ERBB2:amp"])["s1"].alterations
    ('PIK3CA:H1047R', 'ERBB2:amp')
    """
    library = alteration_library()
    added = [library.get(name).name for name in names]
    out = {}
    for sample, profile in profiles.items():
        alterations = profile.alterations + tuple(a for a in dict.fromkeys(added) if a not in profile.alterations)
        library.context(alterations)
        out[sample] = Profile(profile.sample, alterations, profile.unmapped)
    return out
