"""``her2sim convert`` to MaBoSS keeps the source's run settings: those its .cfg states and
no others, and no thread_count it did not state (``toy`` is in conftest.py)."""

from __future__ import annotations

from pathlib import Path

from her2sim.formats.maboss import read_maboss
from tests.cli.conftest import SETTINGS
from tests.cli.test_cli import run


def test_convert_to_bnd_keeps_the_run_settings_of_the_cfg(toy: Path, tmp_path: Path) -> None:
    _, source = read_maboss(toy)
    run("convert", toy, tmp_path / "copy" / "toy.bnd")
    text = (tmp_path / "copy" / "toy.cfg").read_text()
    assert "thread_count" not in text  # the source had none: not this machine's core count either
    _, copied = read_maboss(tmp_path / "copy" / "toy.bnd")
    assert (copied.max_time, copied.time_tick, copied.sample_count, copied.seed) == (6.0, 0.5, 300, 9)
    assert (copied, copied.explicit) == (source, source.explicit)


def test_convert_to_bnd_keeps_a_stated_thread_count(toy: Path, tmp_path: Path) -> None:
    (tmp_path / "toy.cfg").write_text(SETTINGS + "thread_count = 3;\nstatdist_traj_count = 5;\n")
    run("convert", toy, tmp_path / "copy.bnd")
    _, copied = read_maboss(tmp_path / "copy.bnd")
    assert (copied.threads, copied.max_time, dict(copied.extra)) == (3, 6.0, {"statdist_traj_count": 5.0})


def test_convert_bnd_to_bnd_writes_the_stated_settings_only(toy: Path, tmp_path: Path) -> None:
    """Settings the .cfg leaves out stay unset (MaBoSS's defaults are not written in), and
    those it states at a default value (thread_count = 1, seed 0) are kept."""
    (tmp_path / "toy.cfg").write_text("A.istate = 1;\nsample_count = 300;\nthread_count = 1;\nseed_pseudorandom = 0;\n")
    run("convert", toy, tmp_path / "copy.bnd")
    text = (tmp_path / "copy.cfg").read_text()
    assert text == "A.istate = 1;\nsample_count = 300;\nseed_pseudorandom = 0;\nthread_count = 1;\n"
    _, copied = read_maboss(tmp_path / "copy.bnd")
    assert copied.explicit == {"sample_count", "threads", "seed"}
    assert (copied.max_time, copied.threads) == (1000.0, 1)  # unset: MaBoSS's max_time; stated: one thread


def test_convert_of_a_cfg_that_sets_nothing_writes_no_setting(toy: Path, tmp_path: Path) -> None:
    (tmp_path / "toy.cfg").write_text("// nothing\n")
    run("convert", toy, tmp_path / "copy.bnd")
    _, copied = read_maboss(tmp_path / "copy.bnd")
    assert copied.explicit == frozenset()
    assert copied.threads is None
