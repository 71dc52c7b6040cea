"""File handling shared by every format, and models carried through every format in turn."""

from __future__ import annotations

import os
import random
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from her2sim.errors import ModelFormatError
from her2sim.files import MAX_MODEL_BYTES, atomic_write, read_text
from her2sim.formats import read_model, write_model
from her2sim.formats.bnet import write_bnet
from her2sim.formats.booleannet import write_booleannet
from her2sim.formats.sbmlqual import write_sbmlqual
from her2sim.model.expr import Const, Var, evaluate, variables
from her2sim.model.network import Model, Node
from tests.conftest import model_params


@pytest.mark.parametrize(
    ("write", "format_name", "hint"),
    [
        (write_bnet, ".bnet", "write MaBoSS .bnd/.cfg, or pass lossy=True"),
        (write_booleannet, "BooleanNet", "write MaBoSS .bnd/.cfg, or pass lossy=True"),
        (write_sbmlqual, "SBML-qual", "write MaBoSS .bnd/.cfg, or pass lossy=True"),
    ],
)
def test_formats_without_rates_refuse_them_in_one_wording_with_their_own_hint(
    write: Callable[..., str], format_name: str, hint: str
) -> None:
    base = Model((Node("A", None), Node("B", Var("A"))), name="m")
    both = base.with_parameters({"k": 1.0, "d": 2.0}).with_rates("B", up=Const(2.0))
    with pytest.raises(ModelFormatError) as rates:
        write(both)  # the node is named before the parameters
    assert str(rates.value) == f"m: node B has custom rates or attributes, which {format_name} cannot hold ({hint})"
    with pytest.raises(ModelFormatError) as parameters:
        write(base.with_parameters({"k": 1.0, "d": 2.0}))
    assert parameters.value.message == f"the model has parameters ($k, $d), which {format_name} cannot hold"
    assert parameters.value.hint == hint
    assert write(both, lossy=True) == write(base)


def test_a_file_over_the_size_limit_is_refused_without_reading_it(tmp_path: Path) -> None:
    huge = tmp_path / "huge.bnet"
    with huge.open("wb") as fh:  # a sparse 50 MB file: nothing is read before the check
        fh.truncate(50 * 1024 * 1024)
    assert huge.stat().st_size > MAX_MODEL_BYTES
    with pytest.raises(ModelFormatError, match=r"huge\.bnet: file is 52\.4 MB, over the 32 MiB limit"):
        read_model(huge)


def test_binary_missing_and_directory_inputs(tmp_path: Path) -> None:
    binary = tmp_path / "model.bnet"
    binary.write_bytes(b"A, B\x00\x01\x02")
    with pytest.raises(ModelFormatError, match="binary file"):
        read_model(binary)
    with pytest.raises(ModelFormatError, match="no such file"):
        read_model(tmp_path / "absent.bnet")
    folder = tmp_path / "folder.bnet"
    folder.mkdir()
    with pytest.raises(ModelFormatError, match="directory"):
        read_model(folder)
    with pytest.raises(ModelFormatError, match="unknown model file type"):
        read_model(tmp_path / "model.txt")


def test_encodings(tmp_path: Path) -> None:
    bom = tmp_path / "bom.bnet"
    bom.write_bytes(b"\xef\xbb\xbfA, A\n")
    assert read_model(bom).names == ("A",)
    latin = tmp_path / "latin.bnd"
    latin.write_bytes('Node A { description = "r\xe9cepteur"; logic = A; }\n'.encode("latin-1"))
    assert read_model(latin).node("A").description == "récepteur"
    assert read_text(latin).startswith("Node A")


def test_atomic_write_leaves_nothing_behind_on_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.bnet"

    def fail(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("her2sim.files.os.replace", fail)
    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, "A, A\n")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_written_files_take_the_users_umask_not_a_private_mode(tmp_path: Path, umask: int) -> None:
    """mkstemp's 0o600 made every PNG, HTML and converted model private to its writer."""
    old = os.umask(umask)
    try:
        atomic_write(tmp_path / "out.bnet", "A, A\n")
        write_model(read_model(tmp_path / "out.bnet"), tmp_path / "out.bnd")
    finally:
        os.umask(old)
    for name in ("out.bnet", "out.bnd", "out.cfg"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o666 & ~umask, name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bnd", "out.bnet", "out.cfg"]


def _same_functions(a: Model, b: Model, samples: int = 300) -> None:
    assert a.names == b.names
    rng = random.Random(0)
    for node_a, node_b in zip(a.nodes, b.nodes, strict=True):
        rule_a = node_a.rule if node_a.rule is not None else None
        rule_b = node_b.rule if node_b.rule is not None else None
        if rule_a is None or rule_b is None:  # an input: no rule, or a rule equal to itself
            assert node_a.is_input and node_b.is_input, node_a.name
            continue
        names = sorted(variables(rule_a) | variables(rule_b))
        for _ in range(samples):
            state = {n: rng.randint(0, 1) for n in names}
            assert evaluate(rule_a, state) == evaluate(rule_b, state), (node_a.name, state)


@pytest.mark.parametrize("path", model_params("*.bnet"))
def test_every_published_model_survives_every_format_in_turn(path: Path, tmp_path: Path) -> None:
    original = read_model(path)
    current = original
    for suffix in (".bnd", ".sbml", ".booleannet", ".bnet"):
        target = tmp_path / f"step{suffix}"
        write_model(current, target)
        current = read_model(target)
        _same_functions(original, current)
