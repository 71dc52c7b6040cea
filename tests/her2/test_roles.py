"""The roles file: every name it gives exists in the model and its libraries, and a broken
file is refused with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from her2sim.errors import ModelFormatError
from her2sim.her2.alterations import alteration_library
from her2sim.her2.model import data_path, load_model
from her2sim.her2.roles import read_roles, roles
from her2sim.her2.therapies import therapy_library


def test_readout_and_phenotype_nodes_are_model_nodes() -> None:
    names = set(load_model().names)
    assert {r.node for r in roles().readouts.values()} <= names
    assert roles().phenotypes <= names
    assert [name for name, r in roles().readouts.items() if r.rises] == ["apoptosis"]


def test_pharmacology_names_are_model_parameters() -> None:
    names = roles().pharmacology
    parameters = set(load_model().parameter_values)
    masks = [name for mask in names.epitope_masks for name in (mask.level, mask.masking, mask.lowered_by)]
    payload = [names.payload_uptake, names.payload_max, names.payload_ec50, names.payload_bystander]
    assert {names.her2_density, names.conjugate_masking_share, *masks, *payload} <= parameters


def test_her2_levels_are_alternatives_of_the_her2_expression_group() -> None:
    library = alteration_library()
    groups = {library.get(name).group for name in roles().her2_levels.values()}
    assert groups == {"ERBB2 expression"} and len(set(roles().her2_levels.values())) == 4


def test_report_drugs_are_library_names() -> None:
    drugs, library = roles().report, therapy_library()
    for name in (drugs.synergy_first, *drugs.synergy_partners):  # compared with the regimen's drug names
        assert library.get(name).name == name
    library.get(drugs.next_line)


#: (text of roles.yaml, its broken replacement, the error, the text of the line the error names)
BROKEN = [
    ("    effect: rise\n", "    effect: up\n", r"readouts\.apoptosis\.effect: must be fall or rise", "effect: up"),
    ("    effect: rise\n", "    effect: [rise]\n", r"readouts\.apoptosis\.effect: must be fall or rise", "effect:"),
    ("  pERK:\n    node: ERK\n", "  pERK:\n    nodes: ERK\n", r"readouts\.pERK\.nodes: unknown field", "nodes: ERK"),
    ('    source: "doi:10.1056/NEJMoa2203690 (IHC 0)"\n', "", r"her2_levels\.0: missing field 'source'", '"0":'),
    ("[alpelisib, lapatinib]", "[alpelisib]", r"report\.synergy\.partners: name at least two drugs", "partners:"),
    (
        "      lowered_by: inh_MUC4\n",
        "",
        r"pharmacology\.epitope_masks\[0\]: missing field 'lowered_by'",
        "- level: MUC4",
    ),
]


@pytest.mark.parametrize(("old", "new", "message", "at"), BROKEN)
def test_a_broken_roles_file_names_its_line(tmp_path: Path, old: str, new: str, message: str, at: str) -> None:
    text = data_path("roles.yaml").read_text(encoding="utf-8")
    assert text.count(old) == 1
    path = tmp_path / "roles.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(ModelFormatError, match=rf"roles\.yaml:\d+: {message}") as info:
        read_roles(path)
    assert info.value.line is not None
    assert path.read_text(encoding="utf-8").splitlines()[info.value.line - 1].strip().startswith(at)
