"""Readers and writers of the ecosystem's model formats, chosen by file suffix.

Each format module offers ``parse_<fmt>(text, source) -> Model`` (or bytes for XML),
``read_<fmt>(path) -> Model`` and ``write_<fmt>(model) -> str``. This module maps suffixes to
those functions so that callers, the command line among them, read and write any format
through :func:`read_model` and :func:`write_model` without knowing which one it is.

A model travels with its run settings: :func:`read_model_and_config` returns both, for every
format (MaBoSS's ``.bnd`` with its ``.cfg``; the others, which hold no run settings, with
:class:`~her2sim.model.config.SimulationConfig`'s defaults), and :func:`write_model` writes
a configuration's explicit settings beside a format that holds them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

from her2sim.errors import ConfigError, ModelFormatError
from her2sim.files import atomic_write
from her2sim.model.config import SimulationConfig
from her2sim.model.network import Model

__all__ = ["FORMATS", "Format", "format_for", "read_model", "read_model_and_config", "write_model"]


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
    #: The run settings live in a file beside the network: the reader takes (network path,
    #: configuration path or None) and returns (model, configuration); the writer returns
    #: (network text, configuration text), written side by side.
    pair: bool = False

    def read(
        self, path: str | os.PathLike[str], cfg: str | os.PathLike[str] | None = None
    ) -> tuple[Model, SimulationConfig]:
        """Read one model file and its run settings.

        A paired format reads ``cfg``, or else the configuration beside ``path`` if there is
        one; the settings it leaves out are unset (see
        :func:`her2sim.formats.maboss.parse_cfg`). A format that holds no run settings gives
        :class:`SimulationConfig`'s defaults and refuses a ``cfg``.
        """
        reader = getattr(import_module(self.module), self.reader)
        if self.pair:
            model, config = reader(path, cfg)
            return model, config
        if cfg is not None:
            raise ConfigError(f"{cfg}: a .cfg goes with a MaBoSS .bnd network; {path} is a {self.name} file, "
                              "which holds no run settings")  # fmt: skip
        return reader(path), SimulationConfig()

    def write(
        self,
        model: Model,
        path: str | os.PathLike[str],
        *,
        lossy: bool = False,
        config: SimulationConfig | None = None,
    ) -> None:
        """Write ``model`` atomically; ``lossy`` drops what the format cannot hold.

        A paired format writes the explicit settings of ``config`` (none without one) beside
        the network; the other formats hold no run settings and leave them out.
        """
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
    """Read a model in any supported format, chosen by suffix (a ``.bnd`` with the ``.cfg``
    beside it); :func:`read_model_and_config` also returns its run settings."""
    return format_for(path).read(path)[0]


def read_model_and_config(
    path: str | os.PathLike[str], cfg: str | os.PathLike[str] | None = None
) -> tuple[Model, SimulationConfig]:
    """Read a model in any supported format, chosen by suffix, with its run settings.

    Parameters
    ----------
    path:
        The model file.
    cfg:
        A MaBoSS configuration for a ``.bnd`` network; by default the ``.cfg`` beside it,
        if any. Other formats hold no run settings and refuse one.

    Returns
    -------
    tuple[Model, SimulationConfig]
        The model and its run settings. Those a ``.cfg`` sets are
        :attr:`~SimulationConfig.explicit`, even when equal to a default, and those it
        leaves out are unset (see :func:`her2sim.formats.maboss.parse_cfg`); a format
        without run settings gives :class:`SimulationConfig`'s defaults. Simulating the
        pair runs the model as ``her2sim simulate`` does.

    Raises
    ------
    ConfigError
        For a ``cfg`` given with a format that holds no run settings.

    Examples
    --------
    >>> from her2sim.examples import example_path
    >>> model, config = read_model_and_config(example_path("erbb_core"))
    >>> config.max_time, config.threads, sorted(config.explicit)
    (20.0, None, ['max_time', 'sample_count', 'seed', 'time_tick'])
    """
    return format_for(path).read(path, cfg)


def write_model(
    model: Model,
    path: str | os.PathLike[str],
    *,
    lossy: bool = False,
    config: SimulationConfig | None = None,
) -> None:
    """Write ``model`` to ``path`` in the format its suffix selects, atomically.

    A ``.bnd`` gets a ``.cfg`` beside it with the model's parameters and initial states and
    the explicit settings of ``config``: a model and configuration read from one ``.bnd``
    are copied to another with the settings its ``.cfg`` states and no others.
    """
    format_for(path).write(model, path, lossy=lossy, config=config)
