"""Readers and writers of the ecosystem's model formats, chosen by file suffix.

Each format module offers ``parse_<fmt>(text, source) -> Model`` (or bytes for XML),
``read_<fmt>(path) -> Model`` and ``write_<fmt>(model) -> str``. This module maps suffixes to
those functions so that callers, the command line among them, read and write any format
through :func:`read_model` and :func:`write_model` without knowing which one it is.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

from her2sim.errors import ModelFormatError
from her2sim.files import atomic_write
from her2sim.model.config import SimulationConfig
from her2sim.model.network import Model

__all__ = ["FORMATS", "Format", "format_for", "read_model", "write_model"]


@dataclass(frozen=True)
class Format:
    """One model format: its name, file suffixes, and where its reader and writer live.

    The format's module is imported only when a file of that format is read or written, so
    that reading a ``.bnet`` never loads libsbml.
    """

    name: str
    suffixes: tuple[str, ...]
    module: str
    reader: str
    writer: str
    #: The writer returns (network text, configuration text), written side by side.
    pair: bool = False

    def read(self, path: str | os.PathLike[str]) -> Model:
        """Read one model file (a MaBoSS network picks up the ``.cfg`` beside it)."""
        result = getattr(import_module(self.module), self.reader)(path)
        return result[0] if self.pair else result

    def write(
        self,
        model: Model,
        path: str | os.PathLike[str],
        *,
        lossy: bool = False,
        config: SimulationConfig | None = None,
    ) -> None:
        """Write ``model`` atomically; ``lossy`` drops what the format cannot hold."""
        writer = getattr(import_module(self.module), self.writer)
        if self.pair:
            network, settings = writer(model, config)
            atomic_write(Path(path).with_suffix(".cfg"), settings)
            atomic_write(path, network)
        else:
            atomic_write(path, writer(model, lossy=lossy))


FORMATS: list[Format] = [
    Format("bnet", (".bnet",), "her2sim.formats.bnet", "read_bnet", "write_bnet"),
    Format("MaBoSS", (".bnd",), "her2sim.formats.maboss", "read_maboss", "write_maboss", pair=True),
    Format("BooleanNet", (".booleannet",), "her2sim.formats.booleannet", "read_booleannet", "write_booleannet"),
    Format("SBML-qual", (".sbml", ".sbmlqual.xml"), "her2sim.formats.sbmlqual", "read_sbmlqual", "write_sbmlqual"),
]


def format_for(path: str | os.PathLike[str]) -> Format:
    """The format a file name's suffix selects."""
    name = Path(path).name.lower()
    for fmt in FORMATS:
        if any(name.endswith(s) for s in fmt.suffixes):
            return fmt
    known = ", ".join(s for f in FORMATS for s in f.suffixes)
    raise ModelFormatError("unknown model file type", str(path), hint=f"use one of {known}")


def read_model(path: str | os.PathLike[str]) -> Model:
    """Read a model in any supported format, chosen by suffix."""
    return format_for(path).read(path)


def write_model(model: Model, path: str | os.PathLike[str], *, lossy: bool = False) -> None:
    """Write ``model`` to ``path`` in the format its suffix selects, atomically."""
    format_for(path).write(model, path, lossy=lossy)
