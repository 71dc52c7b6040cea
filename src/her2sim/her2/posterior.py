"""A calibrated model is an ensemble of parameter sets: the posterior a fit leaves behind.

A posterior file is tab-separated text: ``#`` lines with the fit's provenance (method, model
and space fingerprints, measurements, date), then one row per member with its ``weight``, its
``loss`` and one column per factor (``parameter:EGF``, ``potency:lapatinib``, ...) in natural
units. The member with the lowest loss is the calibrated default; ``sample`` draws members by
weight for predictions with credible intervals.

The HER2 model ships its posterior (``her2/data/posterior.tsv``); :func:`default_posterior`
reads it, and :class:`~her2sim.her2.scenario.Her2Simulator` applies its best member unless
told otherwise.

Examples
--------
>>> import numpy as np
>>> post = Posterior(("parameter:EGF",), np.array([[0.2], [0.1]]), np.array([0.5, 0.5]), np.array([1.0, 0.4]))
>>> post.best().parameters
{'EGF': 0.1}
>>> [p.parameters["EGF"] for _, p in post.sample(2, seed=0)]
[0.2, 0.1]
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from her2sim.errors import ConfigError, ModelFormatError
from her2sim.files import atomic_write, read_text
from her2sim.her2.perturbation import Perturbation

__all__ = ["Posterior", "default_posterior", "read_posterior"]


@dataclass(frozen=True)
class Posterior:
    """Weighted parameter sets (members x factors, natural units) and their losses."""

    factors: tuple[str, ...]
    values: np.ndarray
    weights: np.ndarray
    loss: np.ndarray
    meta: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        members = len(self.weights)
        if members == 0:
            raise ConfigError("a posterior needs at least one member")
        if self.values.shape != (members, len(self.factors)) or self.loss.shape != (members,):
            raise ConfigError("posterior values, weights and losses disagree in size")
        if not (np.all(np.isfinite(self.weights)) and np.all(self.weights >= 0) and self.weights.sum() > 0):
            raise ConfigError("posterior weights must be finite, >= 0 and not all 0")
        object.__setattr__(self, "weights", self.weights / self.weights.sum())

    def __len__(self) -> int:
        return len(self.weights)

    def member(self, index: int) -> Perturbation:
        """Member ``index`` as a perturbation of the model."""
        return Perturbation.from_factors(dict(zip(self.factors, self.values[index], strict=True)))

    def best(self) -> Perturbation:
        """The member with the lowest loss: the calibrated default."""
        return self.member(int(np.argmin(self.loss)))

    def draw(self, n: int, seed: int = 0) -> list[tuple[float, int]]:
        """(weight, member index) of ``n`` members for predictions: all of them, by weight, when
        there are no more than ``n``; otherwise ``n`` drawn by weight (equal weights then),
        reproducibly."""
        if n < 1:
            raise ConfigError(f"an ensemble needs at least one member, got {n}")
        if len(self) <= n:
            return [(float(w), i) for i, w in enumerate(self.weights)]
        picks = np.random.default_rng(seed).choice(len(self), size=n, replace=True, p=self.weights)
        return [(1.0 / n, int(i)) for i in picks]

    def sample(self, n: int, seed: int = 0) -> list[tuple[float, Perturbation]]:
        """``n`` members as perturbations of the model (see :meth:`draw`)."""
        return [(w, self.member(i)) for w, i in self.draw(n, seed)]

    def table(self) -> pd.DataFrame:
        """Members as rows: weight, loss and the factors' values."""
        frame = pd.DataFrame(self.values, columns=list(self.factors))
        frame.insert(0, "loss", self.loss)
        frame.insert(0, "weight", self.weights)
        return frame

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write the posterior file (see the module docstring), atomically."""
        header = "".join(f"# {key}: {value}\n" for key, value in self.meta.items())
        atomic_write(path, header + self.table().to_csv(sep="\t", index=False, float_format="%.6g"))

    def quantiles(self, q: tuple[float, ...] = (0.05, 0.5, 0.95)) -> pd.DataFrame:
        """Weighted quantiles of each factor (rows: factors, columns: the quantiles)."""
        order = np.argsort(self.values, axis=0)
        rows = {}
        for j, name in enumerate(self.factors):
            values, weights = self.values[order[:, j], j], self.weights[order[:, j]]
            cumulative = np.cumsum(weights) - 0.5 * weights
            rows[name] = np.interp(q, cumulative, values)
        return pd.DataFrame.from_dict(rows, orient="index", columns=[f"q{round(100 * x):02d}" for x in q])


def parse_posterior(text: str, source: str = "<posterior>", kinds: Collection[str] = Perturbation.KINDS) -> Posterior:
    """A posterior from the text of a posterior file; malformed files are ``file:line`` errors.
    Factor columns are ``kind:target`` with a kind of ``kinds`` (the model's perturbations by
    default; a trial's population fit has its own)."""
    meta: dict[str, str] = {}
    lines = text.splitlines()
    first = 0
    for first, line in enumerate(lines):  # noqa: B007 (the index of the header line is needed)
        if not line.startswith("#"):
            break
        key, _, value = line[1:].partition(":")
        meta[key.strip()] = value.strip()
    header = lines[first].split("\t") if first < len(lines) else []
    if header[:2] != ["weight", "loss"] or len(header) < 3:
        raise ModelFormatError("expected a header 'weight<TAB>loss<TAB>factor...'", source, first + 1)
    rows = []
    for number, line in enumerate(lines[first + 1 :], start=first + 2):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != len(header):
            raise ModelFormatError(f"{len(fields)} fields where the header has {len(header)}", source, number)
        try:
            row = [float(f) for f in fields]
        except ValueError:
            raise ModelFormatError("every field must be a number", source, number) from None
        if not all(math.isfinite(x) for x in row):
            raise ModelFormatError("every field must be a finite number", source, number)
        rows.append(row)
    if not rows:
        raise ModelFormatError("the posterior has no members", source, first + 1)
    data = np.array(rows)
    factors = tuple(header[2:])
    for name in factors:
        kind, _, target = name.partition(":")
        if kind not in kinds or not target:
            raise ModelFormatError(f"column {name!r} is not a factor (kind:target)", source, first + 1)
    try:
        return Posterior(factors, data[:, 2:], data[:, 0], data[:, 1], meta)
    except ConfigError as exc:
        raise ModelFormatError(str(exc), source) from None


def read_posterior(path: str | os.PathLike[str], kinds: Collection[str] = Perturbation.KINDS) -> Posterior:
    """Read a posterior file."""
    return parse_posterior(read_text(path), str(path), kinds)


@functools.cache
def default_posterior() -> Posterior | None:
    """The HER2 model's shipped posterior, or ``None`` when the package has none."""
    from her2sim.her2.model import data_path

    path = Path(data_path("posterior.tsv"))
    return read_posterior(path) if path.is_file() else None
