"""Fuzzing every reader on mutated copies of real files: a reader answers with a model or with
one of the project's own errors, never another exception and never a signal.

Seeds are the files that ship with the package and the tests (always there, in CI too) and,
when the shared corpus is present, its published models. Mutations are the edits that broke
readers before: cut, duplicated and shuffled spans, stray bytes and encodings, operators and
nesting repeated hundreds of times. What parses is then written in every format, hashed and
compiled, since those walk the tree the reader built.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from her2sim.engine.tables import rate_structure
from her2sim.errors import Her2simError
from her2sim.examples import example_path
from her2sim.experiments.profiles import read_profiles
from her2sim.files import decode
from her2sim.formats.bnet import parse_bnet, write_bnet
from her2sim.formats.booleannet import parse_booleannet, write_booleannet
from her2sim.formats.figure import parse_figure_record
from her2sim.formats.maboss import parse_maboss, write_maboss
from her2sim.formats.sbmlqual import parse_sbmlqual, write_sbmlqual
from her2sim.model.network import Model
from tests.conftest import DATA, MODELS, SHARED

#: Published files larger than this are left out: mutating them costs time, not coverage.
_MAX_SEED_BYTES = 300_000
#: Text that broke or could break a reader when repeated or dropped in.
_TOKENS = [b"(", b")", b"!", b"&", b"|", b"^", b"not ", b" and ", b",", b";", b"{", b"}", b"=", b"$k", b"@logic",
           b"?", b":", b"1e308", b"-", b"\x00", b"\xff\xfe", b"\xe9", b"\r", b"\n", b"\t", b"#", b"//", b"/*",
           b"<apply><not/>", b"</apply>", b"<apply><or/>", b"<ci> A </ci>", b"]]>", b"<!--", b"&amp;",
           b"[A, B].istate = ", b"Node X {", b"rate_up = ", b"targets, factors\n"]  # fmt: skip


#: An operator and the operand after it, in any of the dialects (``& B``, ``or C``, ``<ci> A </ci>``).
_OPERAND = re.compile(
    rb"(?:\s*(?:&&?|\|\|?|\^|\band\b|\bor\b)\s*!?\s*[A-Za-z_][A-Za-z0-9_]*)|(?:<apply><eq/>.*?</apply>)"
)


def _published(*suffixes: str) -> list[Path]:
    if not MODELS.is_dir():
        return []
    return sorted(p for p in MODELS.iterdir() if p.suffix in suffixes and p.stat().st_size <= _MAX_SEED_BYTES)


def _readable(folder: str, suffix: str) -> list[Path]:
    return sorted(p for p in (DATA / folder).glob(f"*{suffix}") if "-error" not in p.name)


def _booleannet_seeds() -> list[bytes]:
    """BooleanNet text written from the small models (the test data has no BooleanNet file)."""
    models = [parse_bnet((DATA / "bnet" / name).read_text(encoding="utf-8")) for name in ("operator_binding.bnet",)]
    written = [write_booleannet(m, lossy=True).encode() for m in models]
    return written + [p.read_bytes() for p in _published(".booleannet")]


def _maboss_seeds() -> list[bytes]:
    """Network and configuration joined by a NUL line, so one mutation may land in either."""
    pairs = [(DATA / "maboss" / f"{n}.bnd", DATA / "maboss" / f"{n}.cfg") for n in ("small", "grammar")]
    pairs.append((example_path("erbb_core"), example_path("erbb_core").with_suffix(".cfg")))
    her2 = Path(__file__).resolve().parents[2] / "src" / "her2sim" / "her2" / "data" / "her2.bnd"
    pairs.append((her2, her2.with_suffix(".cfg")))
    return [bnd.read_bytes() + b"\n\x00SPLIT\x00\n" + cfg.read_bytes() for bnd, cfg in pairs]


def _figure_seeds() -> list[bytes]:
    record = SHARED / "seeds" / "000_f81eb7544f0d353b.txt"
    minimal = b"---\nfigid: PMC1__F1\ntitle: A figure\ngenes: [ERBB2, AKT1]\n---\nCaption text.\n"
    return [minimal] + ([record.read_bytes()] if record.is_file() else [])


def _read_maboss(data: bytes) -> Model:
    bnd, _, cfg = data.partition(b"\n\x00SPLIT\x00\n")
    return parse_maboss(decode(bnd, "fuzz.bnd"), decode(cfg, "fuzz.cfg") if cfg else None, "fuzz.bnd", "fuzz.cfg")[0]


def _read_profiles(data: bytes, tmp: Path) -> object:
    path = tmp / "fuzz.maf"
    path.write_bytes(data)
    return read_profiles(mutations=path)


READERS: dict[str, tuple[Callable[[], list[bytes]], Callable[[bytes], object]]] = {
    "bnet": (lambda: [p.read_bytes() for p in _readable("bnet", ".bnet") + _published(".bnet")],
             lambda data: parse_bnet(decode(data, "fuzz.bnet"), "fuzz.bnet")),
    "maboss": (_maboss_seeds, _read_maboss),
    "sbml": (lambda: [p.read_bytes() for p in _readable("sbml", ".sbml") + _published(".sbml", ".xml")],
             lambda data: parse_sbmlqual(data, "fuzz.sbml")),
    "booleannet": (_booleannet_seeds,
                   lambda data: parse_booleannet(decode(data, "fuzz.booleannet"), "fuzz.booleannet")),
    "figure": (_figure_seeds, lambda data: parse_figure_record(decode(data, "fuzz.md"), "fuzz.md")),
}  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    """A seed with one to five edits: spans cut, duplicated (up to 600 times) or moved,
    tokens and random bytes dropped in, the end cut off."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 5))):
        at = draw(st.integers(0, len(data)))
        span = draw(st.integers(0, 200))
        kind = draw(st.sampled_from(["cut", "repeat", "token", "bytes", "truncate", "move", "widen", "deepen"]))
        if kind == "widen":  # one operand of a rule repeated: a rule hundreds of operands wide
            operands = list(_OPERAND.finditer(data))
            if operands:
                hit = operands[draw(st.integers(0, len(operands) - 1))]
                data[hit.end() : hit.end()] = hit.group() * draw(st.integers(100, 3000))
        elif kind == "deepen":  # a span wrapped in hundreds of parentheses or negations
            opener, closer = draw(st.sampled_from([(b"(", b")"), (b"!(", b")"), (b"not (", b")"),
                                                   (b"<apply><not/>", b"</apply>")]))  # fmt: skip
            times = draw(st.integers(100, 6000))
            data[at + span : at + span] = closer * times
            data[at:at] = opener * times
        elif kind == "cut":
            del data[at : at + span]
        elif kind == "repeat":
            data[at:at] = bytes(data[at : at + min(span, 40)]) * draw(st.integers(2, 600))
        elif kind == "token":
            data[at:at] = draw(st.sampled_from(_TOKENS)) * draw(st.sampled_from([1, 2, 7, 300]))
        elif kind == "bytes":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "truncate":
            del data[at:]
        else:
            piece = bytes(data[at : at + span])
            del data[at : at + span]
            to = draw(st.integers(0, len(data)))
            data[to:to] = piece
    return bytes(data)


def exercise(model: Model) -> None:
    """What follows a read: every writer (dropping what a format cannot hold), the model's
    hash (the compile cache keys on it) and the rate structure (the compiler's walk)."""
    hash(model)
    writers: list[Callable[[Model], object]] = [
        lambda m: write_bnet(m, lossy=True),
        lambda m: write_booleannet(m, lossy=True),
        lambda m: write_sbmlqual(m, lossy=True),
        write_maboss,
    ]
    if len(model) <= 40:
        writers.append(rate_structure)
    for step in writers:
        # a format that cannot spell a name, or a model the engine refuses, says so: not a crash
        with contextlib.suppress(Her2simError):
            step(model)


@pytest.mark.parametrize("reader", sorted(READERS))
def test_a_mutated_file_is_read_or_refused_with_a_her2sim_error(reader: str) -> None:
    seeds_of, read = READERS[reader]
    seeds = seeds_of()
    assert seeds, f"no seed files for {reader}"

    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(mutated(seeds))
    def check(data: bytes) -> None:
        try:
            result = read(data)
        except Her2simError:
            return
        if isinstance(result, Model):
            exercise(result)

    check()


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(data=mutated([p.read_bytes() for p in sorted((DATA / "cbioportal").iterdir())]))
def test_a_mutated_cbioportal_table_is_read_or_refused_with_a_her2sim_error(data: bytes, tmp_path: Path) -> None:
    with contextlib.suppress(Her2simError):
        _read_profiles(data, tmp_path)
