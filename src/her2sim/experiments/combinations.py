"""Combination screens over dose matrices, scored for synergy.

Every pair (and any requested triple) of therapies is simulated over a dose matrix in each
context. Synergy is scored by the ``synergy`` package (Wooten & Albert) on the fraction of
untreated proliferation left, ``E = 1 - effect``: Bliss independence, highest single agent
(HSA), Loewe additivity (its delta form, with Hill models fitted to the single agents) and
zero-interaction potency (ZIP). Positive scores mean synergy, negative antagonism.

Examples
--------
>>> screen = combination_screen(["ERBB2:amp; PIK3CA:H1047R"], ["trastuzumab", "alpelisib"], doses=3,
...                             settings=RunSettings(samples=200))
>>> sorted(screen.scores.columns.intersection(["bliss", "hsa", "loewe", "zip"]))
['bliss', 'hsa', 'loewe', 'zip']
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from her2sim.errors import ConfigError
from her2sim.experiments.cells import Cell, evaluate_cells
from her2sim.her2.settings import DEFAULT_SETTINGS, RunSettings
from her2sim.her2.therapies import therapy_library

__all__ = [
    "ComboScreen",
    "bliss_excess",
    "combination_cells",
    "combination_screen",
    "higher_order_scores",
    "score_matrix",
    "synergy_scores",
]


@dataclass(frozen=True)
class ComboScreen:
    """``matrix``: one row per context, drug combination and dose pair; ``scores``: one row
    per context and combination with its mean synergy scores."""

    matrix: pd.DataFrame
    scores: pd.DataFrame


def _matrix_doses(standard_nM: float, doses: int) -> list[float]:
    """Zero plus ``doses`` log-spaced doses up to 3x the standard dose."""
    return [0.0, *np.geomspace(standard_nM / 30, standard_nM * 3, doses).tolist()]


def combination_cells(
    contexts: Sequence[str], therapies: Sequence[str], doses: int = 4, triples: Sequence[Sequence[str]] = ()
) -> list[Cell]:
    """The cells of a screen: each pair of ``therapies`` (and each triple) over a dose matrix."""
    if doses < 1:
        raise ConfigError(f"a screen needs at least one dose per drug, got {doses}")
    library = therapy_library()
    drugs = [library.get(t) for t in therapies]
    combos = [tuple(p) for p in itertools.combinations(drugs, 2)]
    combos += [tuple(library.get(t) for t in triple) for triple in triples]
    if not combos:
        raise ConfigError("a combination screen needs at least two therapies")
    cells = []
    for context in contexts:
        for combo in combos:
            if len({d.name for d in combo}) != len(combo):
                raise ConfigError(f"a combination names one drug twice: {' + '.join(d.name for d in combo)}")
            grids = [_matrix_doses(d.standard_dose, doses) for d in combo]
            for point in itertools.product(*grids):
                therapy = "+".join(f"{d.name}@{x:g}nM" for d, x in zip(combo, point, strict=True))
                labels: dict[str, object] = {"combination": " + ".join(d.name for d in combo)}
                for i, (d, x) in enumerate(zip(combo, point, strict=True)):
                    labels[f"drug_{i + 1}"], labels[f"dose_{i + 1}_nM"] = d.name, x
                cells.append(Cell(context, therapy, labels))
    return cells


def synergy_scores(d1: np.ndarray, d2: np.ndarray, effect: np.ndarray) -> dict[str, float]:
    """Mean Bliss, HSA, Loewe and ZIP synergy over the combination cells of one dose matrix."""
    from synergy.combination import HSA, ZIP, Bliss, Loewe
    from synergy.single import Hill

    response = 1.0 - np.asarray(effect, dtype=float)
    both = (np.asarray(d1) > 0) & (np.asarray(d2) > 0)
    models = {
        "bliss": Bliss(),
        "hsa": HSA(),
        "loewe": Loewe(mode="delta_HSA", drug1_model=Hill, drug2_model=Hill),
        "zip": ZIP(),
    }
    out = {}
    for name, model in models.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                values = np.asarray(model.fit(np.asarray(d1, float), np.asarray(d2, float), response), dtype=float)
            except (ValueError, RuntimeError, TypeError, np.linalg.LinAlgError):  # too few doses to fit
                values = np.full(len(response), np.nan)
        out[name] = float(np.nanmean(values[both])) if np.any(both & np.isfinite(values)) else float("nan")
    return out


def combination_screen(
    contexts: Sequence[str],
    therapies: Sequence[str],
    *,
    doses: int = 4,
    readout: str = "proliferation",
    triples: Sequence[Sequence[str]] = (),
    settings: RunSettings = DEFAULT_SETTINGS,
) -> ComboScreen:
    """Screen every pair of ``therapies`` (and each of ``triples``) in every context, scored for synergy."""
    cells = combination_cells(contexts, therapies, doses, triples)
    matrix = evaluate_cells(cells, settings=settings, readouts=(readout,))
    return ComboScreen(matrix, score_matrix(matrix))


def higher_order_scores(doses: np.ndarray, effect: np.ndarray) -> dict[str, float]:
    """Mean Bliss and HSA synergy of a combination of three or more drugs (``synergy.higher``)."""
    from synergy.higher import HSA, Bliss

    response = 1.0 - np.asarray(effect, dtype=float)
    every = np.all(doses > 0, axis=1)
    out = {}
    for name, model in (("bliss", Bliss()), ("hsa", HSA())):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = np.asarray(model.fit(np.asarray(doses, dtype=float), response), dtype=float)
        out[name] = float(np.nanmean(values[every])) if np.any(every) else float("nan")
    return out


def bliss_excess(matrix: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The effect and its excess over Bliss independence on the dose grid of one drug pair.

    ``matrix`` holds one context and one pair (rows of a screen table). Both grids are indexed
    by drug 1's dose (rows) and drug 2's (columns), in nM. The excess of a cell is its effect
    minus ``Ea + Eb - Ea Eb``, the effect two independent drugs would reach from the effects
    ``Ea`` and ``Eb`` each has alone at its dose in the cell: positive is synergy, negative
    antagonism. It is NaN where a drug is absent (no combination to judge).

    >>> table = pd.DataFrame({"context": "c", "combination": "a + b", "dose_1_nM": [0, 0, 1, 1],
    ...                       "dose_2_nM": [0, 1, 0, 1], "effect": [0.0, 0.5, 0.2, 0.7]})
    >>> effect, excess = bliss_excess(table)
    >>> round(float(excess.loc[1, 1]), 3), bool(excess.loc[0].isna().all())
    (0.1, True)
    """
    groups = matrix.groupby(["context", "combination"], sort=False).ngroups
    if groups != 1 or ("dose_3_nM" in matrix and matrix["dose_3_nM"].notna().any()):
        raise ConfigError(f"a synergy map shows one drug pair in one context; the table holds {groups} dose "
                          "matrices (or a triple): select one context and combination")  # fmt: skip
    effect = matrix.pivot_table(index="dose_1_nM", columns="dose_2_nM", values="effect", aggfunc="mean")
    alone_1 = effect[0.0] if 0.0 in effect.columns else pd.Series(np.nan, index=effect.index)
    alone_2 = effect.loc[0.0] if 0.0 in effect.index else pd.Series(np.nan, index=effect.columns)
    a, b = np.meshgrid(alone_1.to_numpy(), alone_2.to_numpy(), indexing="ij")
    excess = effect - (a + b - a * b)
    excess.loc[excess.index == 0.0, :] = np.nan
    excess.loc[:, excess.columns == 0.0] = np.nan
    return effect, excess


def score_matrix(matrix: pd.DataFrame) -> pd.DataFrame:
    """Synergy scores of every dose matrix in a screen table (pairs: four models; triples: Bliss, HSA)."""
    rows = []
    for (context, combination), part in matrix.groupby(["context", "combination"], sort=False):
        dose_columns = [
            c for c in part.columns if c.startswith("dose_") and c.endswith("_nM") and part[c].notna().all()
        ]
        doses = part[dose_columns].to_numpy(dtype=float)
        effect = part["effect"].to_numpy()
        if len(dose_columns) == 2:
            scores = synergy_scores(doses[:, 0], doses[:, 1], effect)
        else:
            scores = {"loewe": float("nan"), "zip": float("nan"), **higher_order_scores(doses, effect)}
        top = part.loc[part["effect"].idxmax()]
        rows.append(
            {
                "context": context,
                "combination": combination,
                **scores,
                "best_effect": float(top["effect"]),
                "best_doses": " + ".join(f"{top[c]:g} nM" for c in dose_columns),
            }
        )
    return pd.DataFrame.from_records(rows)
