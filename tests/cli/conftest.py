"""Fixtures of the command-line tests."""

from __future__ import annotations

from pathlib import Path

import pytest

BND = "Node A { logic = !B; }\nNode B { logic = A; }\nNode C { logic = A & !C; }\n"
#: Run settings stated in toy.cfg (no thread_count).
SETTINGS = "max_time = 6;\ntime_tick = 0.5;\nsample_count = 300;\nseed_pseudorandom = 9;\n"


@pytest.fixture
def toy(tmp_path: Path) -> Path:
    """A three-node MaBoSS pair whose .cfg states its run settings but no thread_count."""
    (tmp_path / "toy.bnd").write_text(BND)
    (tmp_path / "toy.cfg").write_text("A.istate = 1;\n" + SETTINGS)
    return tmp_path / "toy.bnd"
