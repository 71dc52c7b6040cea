"""Readers and writers of the ecosystem's model formats, chosen by file suffix.

Each format module offers ``parse_<fmt>(text, source) -> Model`` (or bytes for XML),
``read_<fmt>(path) -> Model`` and ``write_<fmt>(model) -> str``. This module maps suffixes to
those functions so that callers, the command line among them, read and write any format
through :func:`read_model` and :func:`write_model` without knowing which one it is.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from her2sim.errors import ModelFormatError
from her2sim.formats._io import atomic_write
from her2sim.model.network import Model

__all__ = ["FORMATS", "Format", "format_for", "read_model", "write_model"]


@dataclass(frozen=True)
class Format:
    """One model format: its name, file suffixes, and reader/writer functions."""

    name: str
    suffixes: tuple[str, ...]
    read: Callable[[str | os.PathLike[str]], Model]
    write: Callable[[Model, str | os.PathLike[str]], None] | None


def _bnet_format() -> Format:
    from her2sim.formats import bnet

    def write(model: Model, path: str | os.PathLike[str]) -> None:
        atomic_write(path, bnet.write_bnet(model))

    return Format("bnet", (".bnet",), bnet.read_bnet, write)


def _sbml_format() -> Format:
    from her2sim.formats import sbmlqual

    def write(model: Model, path: str | os.PathLike[str]) -> None:
        atomic_write(path, sbmlqual.write_sbmlqual(model))

    return Format("SBML-qual", (".sbml", ".sbmlqual.xml"), sbmlqual.read_sbmlqual, write)


def _booleannet_format() -> Format:
    from her2sim.formats import booleannet

    def write(model: Model, path: str | os.PathLike[str]) -> None:
        atomic_write(path, booleannet.write_booleannet(model))

    return Format("BooleanNet", (".booleannet",), booleannet.read_booleannet, write)


def _maboss_format() -> Format:
    from her2sim.formats import maboss

    def read(path: str | os.PathLike[str]) -> Model:
        return maboss.read_maboss(path)[0]

    def write(model: Model, path: str | os.PathLike[str]) -> None:
        bnd, cfg = maboss.write_maboss(model)
        atomic_write(Path(path).with_suffix(".cfg"), cfg)
        atomic_write(path, bnd)

    return Format("MaBoSS", (".bnd",), read, write)


def _registry() -> list[Format]:
    formats = [_bnet_format(), _maboss_format()]
    formats.append(_booleannet_format())
    formats.append(_sbml_format())
    return formats


FORMATS: list[Format] = _registry()


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


def write_model(model: Model, path: str | os.PathLike[str]) -> None:
    """Write ``model`` to ``path`` in the format its suffix selects, atomically."""
    fmt = format_for(path)
    if fmt.write is None:
        raise ModelFormatError(f"her2sim reads {fmt.name} files but cannot write them", str(path))
    fmt.write(model, path)
