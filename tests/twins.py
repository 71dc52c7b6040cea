"""Broken-twin files: every ``*-error`` file of a folder fails where its test table says."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from her2sim.errors import ModelFormatError


def assert_every_twin_listed(folder: Path, pattern: str, expected: dict[str, Any]) -> None:
    """Each error file in ``folder`` has a row in ``expected``, and each row a file."""
    assert sorted(p.name for p in folder.glob(pattern)) == sorted(expected)


def assert_located_error(read: Callable[[Path], object], path: Path, line: int, col: int | None,
                         message: str) -> ModelFormatError:  # fmt: skip
    """``read(path)`` fails with one line at ``path:line:col`` saying ``message``."""
    with pytest.raises(ModelFormatError) as info:
        read(path)
    err = info.value
    assert (err.source, err.line, err.col, err.message) == (str(path), line, col, message)
    assert "\n" not in str(err)
    return err
