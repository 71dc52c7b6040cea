"""Small example models shipped with her2sim, for the README, tutorials and tests.

>>> sorted(p.name for p in example_paths())
['erbb_core.bnd']
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["example_path", "example_paths"]


def example_paths() -> list[Path]:
    """Network files of every shipped example."""
    root = Path(str(resources.files("her2sim.examples")))
    return sorted(root.glob("*.bnd")) + sorted(root.glob("*.bnet"))


def example_path(name: str) -> Path:
    """Path of the shipped example ``name`` (with or without suffix)."""
    from her2sim.errors import UnknownNameError

    for path in example_paths():
        if name in (path.name, path.stem):
            return path
    raise UnknownNameError("example model", name, [p.stem for p in example_paths()])
