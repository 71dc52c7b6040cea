"""Rank therapies for one tumour, with the pathway each leaves on; and for a cohort.

A tumour is a context (alterations). Every candidate regimen (by default the landscape's) is
simulated in that context, ranked by its effect on proliferation, and explained by the
signalling nodes it fails to switch off (:func:`her2sim.her2.scenario.still_on`).

Examples
--------
>>> ranking = rank_therapies("ERBB2:amp; PIK3CA:H1047R", ["trastuzumab", "alpelisib+trastuzumab"],
...                          settings=RunSettings(samples=300))
>>> ranking["therapy"].tolist()
['alpelisib + trastuzumab', 'trastuzumab']
>>> "AKT" in ranking.set_index("therapy").loc["trastuzumab", "still_on"]
True
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import pandas as pd

from her2sim.experiments.cells import Cell
from her2sim.experiments.landscape import landscape_spec
from her2sim.experiments.profiles import Profile
from her2sim.her2.scenario import Her2Simulator, effect, still_on
from her2sim.her2.settings import DEFAULT_SETTINGS, RunSettings
from her2sim.her2.therapies import Regimen
from her2sim.her2.validation import classify

__all__ = ["cohort", "rank_therapies"]


def rank_therapies(
    context: str,
    therapies: Sequence[str] | None = None,
    *,
    settings: RunSettings = DEFAULT_SETTINGS,
) -> pd.DataFrame:
    """Candidate regimens ranked by effect on proliferation in ``context``, best first.

    Columns: rank, therapy, proliferation effect, apoptosis effect, class, still_on (the
    pathway left active under the regimen).
    """
    sim = Her2Simulator(settings.config())
    ctx = sim.context(context)
    regimens = [sim.regimen(t) for t in (therapies or landscape_spec().therapies)]
    nodes = sim.steady_nodes([(ctx, r) for r in regimens] + [(ctx, Regimen())])
    base = nodes[-1]
    rows = []
    for regimen, treated in zip(regimens, nodes[:-1], strict=True):
        prolif = effect("proliferation", treated["Proliferation"], base["Proliferation"])
        rows.append(
            {
                "therapy": regimen.label,
                "proliferation_effect": prolif,
                "apoptosis_effect": effect("apoptosis", treated["Apoptosis"], base["Apoptosis"]),
                "class": classify(prolif),
                "still_on": ", ".join(still_on(treated, base).index),
            }
        )
    table = pd.DataFrame.from_records(rows).sort_values("proliferation_effect", ascending=False, kind="stable")
    table.insert(0, "rank", range(1, len(table) + 1))
    return table.reset_index(drop=True)


def cohort(
    profiles: Sequence[Profile],
    out_dir: str | os.PathLike[str],
    therapies: Sequence[str] | None = None,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    client: object | None = None,
    settings: RunSettings = DEFAULT_SETTINGS,
    progress: Callable[[int, int], None] | None = None,
    notice: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Every profile under every regimen on Dask (resumable); one row per sample and therapy, ranked.

    ``progress`` and ``notice`` are passed to :func:`~her2sim.experiments.runner.run_cells`.
    """
    from her2sim.experiments.runner import run_cells

    regimens = list(therapies or landscape_spec().therapies)
    cells = [Cell(p.context, t, {"sample": p.sample}) for p in profiles for t in regimens]
    table = run_cells(
        cells, out_dir, settings=settings, readouts=("proliferation",), scheduler=scheduler, workers=workers,
        client=client, progress=progress, notice=notice,
    )  # fmt: skip
    table = table.sort_values(["sample", "effect"], ascending=[True, False], kind="stable")
    table["rank"] = table.groupby("sample").cumcount() + 1
    table["class"] = table["effect"].map(classify)
    return table.reset_index(drop=True)
