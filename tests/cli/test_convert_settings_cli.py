"""``her2sim convert`` to MaBoSS keeps the source's run settings: those its .cfg states,
and no thread_count it did not state (``toy`` is in conftest.py)."""

from __future__ import annotations

from pathlib import Path

from her2sim.formats.maboss import read_maboss
from her2sim.model.config import MABOSS_DEFAULTS
from tests.cli.conftest import SETTINGS
from tests.cli.test_cli import run


def test_convert_to_bnd_keeps_the_run_settings_of_the_cfg(toy: Path, tmp_path: Path) -> None:
    unset_threads = MABOSS_DEFAULTS.with_(threads=None)
    _, source = read_maboss(toy, defaults=unset_threads)
    run("convert", toy, tmp_path / "copy" / "toy.bnd")
    text = (tmp_path / "copy" / "toy.cfg").read_text()
    assert "thread_count" not in text  # the source had none: not this machine's core count either
    _, copied = read_maboss(tmp_path / "copy" / "toy.bnd", defaults=unset_threads)
    assert (copied.max_time, copied.time_tick, copied.sample_count, copied.seed) == (6.0, 0.5, 300, 9)
    assert copied == source


def test_convert_to_bnd_keeps_a_stated_thread_count(toy: Path, tmp_path: Path) -> None:
    (tmp_path / "toy.cfg").write_text(SETTINGS + "thread_count = 3;\nstatdist_traj_count = 5;\n")
    run("convert", toy, tmp_path / "copy.bnd")
    _, copied = read_maboss(tmp_path / "copy.bnd", defaults=MABOSS_DEFAULTS.with_(threads=None))
    assert (copied.threads, copied.max_time, dict(copied.extra)) == (3, 6.0, {"statdist_traj_count": 5.0})
