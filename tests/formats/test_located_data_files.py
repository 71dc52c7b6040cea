"""Every YAML data reader built on :mod:`her2sim.formats.records` names ``file:line`` for a
malformed file: the HER2 libraries, the uncertainty space, the landscape, tumours and the
clinical subgroup mapping. Each broken file below is wrong on one line, not the first."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from her2sim.calibration.clinical import measurement_table
from her2sim.errors import ModelFormatError
from her2sim.experiments.landscape import landscape_spec
from her2sim.experiments.sensitivity import read_space
from her2sim.her2.alterations import read_alterations
from her2sim.her2.therapies import read_therapies
from her2sim.tumour.spec import read_tumour

TRIALS = "id\ttrial\tarm\tsubgroup\tendpoint\tvalue\nA\tX\tTHP\tHR-positive\tpCR_breast_pct\t26\n"


def subgroup_mapping(path: Path) -> str:
    """The measurement table of a small trials table beside ``path``, by the mapping ``path``."""
    trials = path.with_name("trials.tsv")
    trials.write_text(TRIALS)
    return measurement_table(trials, path)


DRUG = "  - name: d\n    molecular_weight: 300 g/mol\n    standard_dose: 1 uM\n"
BIND = "    actions:\n      - {type: bind, site: inh_MEK, potency: 5 nM}\n"
Reader = Callable[[Path], object]
#: reader, file text, line of the error, its message
CASES: list[tuple[Reader, str, int, str]] = [
    (read_alterations, "alterations:\n  - name: X:amp\n  - gene: Y\n", 3,
     "alteration #2 is not a mapping with a name"),
    (read_alterations, "alterations:\n  - name: X:amp\n  - name: Y:loss\n    direction: sideways\n", 4,
     "Y:loss: direction must be one of gain, loss, level"),
    (read_alterations, "alterations:\n  - name: X:amp\n    parameters:\n      HER2_surface: 1\n      EGF: -1\n", 5,
     "X:amp: parameter values must be finite and >= 0"),
    (read_alterations, "alterations:\n  - name: X:amp\n  - name: Y:amp\n    clones: [{fraction: 1}]\n", 4,
     "Y:amp: malformed effect ('alterations')"),
    (read_alterations, "alterations:\n  - name: X:amp\n  - name: Y:amp\n    aliases: [x:AMP]\n", 3,
     "alteration name 'x:AMP' is used twice"),
    (read_alterations, "alterations:\n  - name: M\n    clones: [{fraction: 1, alterations: [N]}]\n"
     "  - name: N\n    clones: [{fraction: 1, alterations: [M]}]\n", 2,
     "M: a clone cannot be heterogeneous itself"),
    (read_therapies, "therapies:\n" + DRUG + BIND + "      - {type: bind, site: inh_MEK, potency: 5}\n", 7,
     "d: dose '5' has no unit (write a dose with a unit: 1uM, 100nM, 10ug/mL, or 2x for twice the standard dose)"),
    (read_therapies, "therapies:\n" + DRUG.replace("1 uM", "1") + BIND, 4,
     "d: dose '1' has no unit (write a dose with a unit: 1uM, 100nM, 10ug/mL, or 2x for twice the standard dose)"),
    (read_therapies, "therapies:\n" + DRUG + "    actions: [{type: adcc, strength: 1}]\n", 5,
     "d: ADCC and payloads need an epitope: give a bind action first"),
    (read_therapies, "therapies:\n" + DRUG + BIND + DRUG + BIND, 7, "therapy name 'd' is used twice"),
    (read_therapies, "therapies:\n" + DRUG + BIND + "  - 3\n", 7, "therapy #2 is not a mapping with a name"),
    (read_space, "spread: 3\nfactors:\n  - parameter: EGF\n  - parameter: EFG\n", 4,
     "factors[1]: unknown model parameter 'EFG' (did you mean EGF?)"),
    (read_space, "factors:\n  - parameter: EGF\n  - potency: lapatinib\n  - parameter: EGF\n", 4,
     "a factor is declared twice: ['parameter:EGF']"),
    (read_space, "factors:\n  - parameter: EGF\n  - parameter: EGF\n    rate: HER3\n", 3,
     "factors[1]: give exactly one of parameter, rate, potency, alteration"),
    (landscape_spec, "contexts:\n  - {label: a, alterations: ERBB2:amp}\n  - {label: b, alterations: ERBB2:ampp}\n"
     "therapies: [trastuzumab]\n", 3, "contexts[1].alterations: unknown alteration 'ERBB2:ampp'"),
    (landscape_spec, "contexts:\n  - {label: a, alterations: ERBB2:amp}\n  - {alterations: ERBB2:amp}\n"
     "therapies: [trastuzumab]\n", 3, "not a landscape file ('label')"),
    (landscape_spec, "contexts:\n  - {label: a, alterations: ERBB2:amp}\ntherapies:\n  - trastuzumab\n"
     "  - lapatinb\n", 5, "therapies[1]: unknown therapy 'lapatinb'"),
    (read_tumour, "name: t\nclones:\n  - name: a\n    fraction: 1\n    her2: 4+\n", 5,
     "clones[0].her2: must be one of 3+, 2+, 1+, 0, got '4+'"),
    (read_tumour, "name: t\nclones:\n  - {name: a, fraction: 1}\nschedule:\n  - {therapy: T-DM1, start: 10}\n"
     "  - {therapy: lapatinib, start: 5}\n", 6, "schedule[1].start: day 5 is not after the previous line's start"),
    (read_tumour, "name: t\ncells: many\nclones:\n  - {name: a, fraction: 1}\n", 2,
     "cells: must be a number, got 'many'"),
    (subgroup_mapping, "arms:\n  THP: trastuzumab+pertuzumab\nsubgroups:\n  HR-positive:\n    versus: HR-negative\n"
     "    contexts: ERBB2:amp\n", 6, "subgroups.HR-positive.contexts: contexts is a list of alteration contexts"),
    (subgroup_mapping, "arms:\n  THP: trastuzumab+pertuzumab\n  TH: [trastuzumab]\n", 3,
     "arms.TH: expected the arm's library therapies as text"),
    (subgroup_mapping, "arms: {}\nsubgroups:\n  HR-positive: {versus: HR-negative}\n", 3,
     "subgroups.HR-positive: a subgroup is a mapping with versus and contexts"),
    (subgroup_mapping, "arms: {}\ncontext: {}\n", 2, "context: unknown section (sections: arms, subgroups, contexts)"),
]  # fmt: skip


@pytest.mark.parametrize(("read", "text", "line", "message"), CASES,
                         ids=[f"{read.__name__}-{i}" for i, (read, *_) in enumerate(CASES)])  # fmt: skip
def test_a_malformed_data_file_names_its_file_and_line(
    read: Reader, text: str, line: int, message: str, tmp_path: Path
) -> None:
    path = tmp_path / "data.yaml"
    path.write_text(text)
    with pytest.raises(ModelFormatError) as info:
        read(path)
    assert (info.value.source, info.value.line) == (str(path), line), str(info.value)
    assert str(info.value).startswith(f"{path}:{line}: {message}"), str(info.value)


@pytest.mark.parametrize("read", [read_alterations, read_therapies, read_space, landscape_spec, read_tumour,
                                  subgroup_mapping])  # fmt: skip
def test_yaml_syntax_errors_are_located_in_every_reader(read: Reader, tmp_path: Path) -> None:
    path = tmp_path / "data.yaml"
    path.write_text("a: 1\nb: [1, 2\n")
    with pytest.raises(ModelFormatError, match="not valid YAML") as info:
        read(path)
    assert (info.value.source, info.value.line) == (str(path), 3)
