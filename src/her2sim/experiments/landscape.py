"""The resistance landscape: which mechanism defeats which therapy, and what restores response.

The contexts and therapies are data (``data/landscape.yaml``). Each therapy is given at a
multiple of its standard dose (one column per multiple when ``doses > 1``; every grid holds
the standard dose, see :func:`dose_multiples`), every cell in one batch or on Dask.
:func:`rescues` reads the answer off the table at the standard dose: for each context, the
best single agent and the best combination; :func:`her2sim.report.plots.landscape_figure`
draws the table at the standard dose.

Examples
--------
>>> spec = landscape_spec()
>>> len(spec.contexts) >= 10 and len(spec.therapies) >= 30
True
>>> cells = landscape_cells(spec, doses=2)
>>> len(cells) == len(spec.contexts) * len(spec.therapies) * 2
True
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from her2sim.errors import ConfigError, Her2simError
from her2sim.experiments.cells import Cell
from her2sim.formats.records import Document, read_document

__all__ = ["LandscapeSpec", "dose_multiples", "landscape_cells", "landscape_spec", "rescues"]


@dataclass(frozen=True)
class LandscapeSpec:
    """Contexts as (label, alterations, figure panel) and therapies as regimen strings."""

    contexts: tuple[tuple[str, str, str], ...]
    therapies: tuple[str, ...]


def landscape_spec(path: str | os.PathLike[str] | None = None) -> LandscapeSpec:
    """Read a landscape file (default: the shipped ``data/landscape.yaml``), names checked; a
    problem names ``file:line``."""
    from her2sim.her2.alterations import alteration_library
    from her2sim.her2.therapies import therapy_library

    path = Path(path) if path else Path(str(resources.files("her2sim.experiments") / "data" / "landscape.yaml"))
    doc = read_document(path)
    contexts = []
    for i, raw in enumerate(_entries(doc, "contexts")):
        try:
            contexts.append((str(raw["label"]), str(raw["alterations"]), str(raw.get("figure", ""))))
        except (KeyError, TypeError, AttributeError) as exc:
            raise doc.located(("contexts", i), f"not a landscape file ({exc})") from None
        try:
            alteration_library().context(contexts[-1][1])
        except Her2simError as exc:
            raise doc.error(("contexts", i, "alterations"), str(exc)) from None
    therapies = tuple(str(t) for t in _entries(doc, "therapies"))
    for i, therapy in enumerate(therapies):
        try:
            therapy_library().regimen(therapy)
        except Her2simError as exc:
            raise doc.error(("therapies", i), str(exc)) from None
    if not contexts or not therapies:
        raise doc.located(("contexts",) if not contexts else ("therapies",), "a landscape needs contexts and therapies")
    return LandscapeSpec(tuple(contexts), therapies)


def _entries(doc: Document, key: str) -> list[Any]:
    """The list a landscape file holds under ``key``."""
    entries = doc.data.get(key) if isinstance(doc.data, dict) else None
    if not isinstance(entries, list):
        raise doc.located((key,), f"not a landscape file (no {key!r} list)")
    return entries


#: The dose grid's range, as multiples of each drug's standard dose.
_LOWEST, _HIGHEST = 1 / 30, 3.0


def dose_multiples(doses: int) -> list[float]:
    """Multiples of the standard dose: 1 alone, or ``doses`` log-spaced from 1/30 to 3 through 1.

    The standard dose (exactly 1) is always in the grid, because the summary table, the
    rescues and the heatmap are read off it. Below and above it the grid steps evenly in log
    dose, the steps shared between the two sides in proportion to their log widths (about 3:1),
    with at least one step on each side from three doses on; two doses are 1/30 and 1.

    >>> [round(x, 3) for x in dose_multiples(3)]
    [0.033, 1.0, 3.0]
    >>> [round(x, 3) for x in dose_multiples(5)]
    [0.033, 0.104, 0.322, 1.0, 3.0]
    """
    if doses < 1:
        raise ConfigError(f"the landscape needs at least one dose, got {doses}")
    share_below = math.log(1 / _LOWEST) / math.log(_HIGHEST / _LOWEST)
    below = max(1, min(doses - 2, round((doses - 1) * share_below))) if doses > 1 else 0
    above = doses - 1 - below
    return [
        *np.geomspace(_LOWEST, 1.0, below + 1)[:-1].tolist(),
        1.0,
        *np.geomspace(1.0, _HIGHEST, above + 1)[1:].tolist(),
    ]


def landscape_cells(spec: LandscapeSpec, doses: int = 1) -> list[Cell]:
    """Every context under every therapy at every dose multiple."""
    cells = []
    for label, alterations, figure in spec.contexts:
        for therapy in spec.therapies:
            for k in dose_multiples(doses):
                dosed = "+".join(f"{drug}@{k:g}x" for drug in therapy.split("+"))
                labels = {"mechanism": label, "figure": figure, "regimen": therapy, "dose_multiple": k}
                cells.append(Cell(alterations, dosed, labels))
    return cells


def rescues(table: pd.DataFrame, readout: str = "proliferation") -> pd.DataFrame:
    """Per mechanism at the standard dose: best single agent, best combination, and their effects."""
    part = table[(table["readout"] == readout) & np.isclose(table["dose_multiple"], 1.0)]
    rows = []
    for mechanism, group in part.groupby("mechanism", sort=False):
        single = group[~group["regimen"].str.contains(r"\+", regex=True)]
        combo = group[group["regimen"].str.contains(r"\+", regex=True)]
        best_single = single.loc[single["effect"].idxmax()] if len(single) else None
        best_combo = combo.loc[combo["effect"].idxmax()] if len(combo) else None
        rows.append(
            {
                "mechanism": mechanism,
                "resistant_to": ", ".join(group.loc[group["effect"] <= 0.2, "regimen"]),
                "best_single": None if best_single is None else best_single["regimen"],
                "best_single_effect": np.nan if best_single is None else best_single["effect"],
                "best_combination": None if best_combo is None else best_combo["regimen"],
                "best_combination_effect": np.nan if best_combo is None else best_combo["effect"],
            }
        )
    return pd.DataFrame.from_records(rows)
