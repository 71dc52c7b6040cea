"""Out-of-sample checks of a fit: k-fold and leave-one-source-out cross-validation.

Each fold is fitted afresh on the other measurements (same space, method and settings, its
own directory under ``OUT/cv``, so a stopped cross-validation resumes), and its held-out
measurements are predicted by the fold's best parameter set. The table says, per measurement,
whether the held-out prediction was right; compared with the in-sample fit it shows how much
of the fit is learnt rather than memorised.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from her2sim.calibration.fit import FitSettings, Problem, calibrate
from her2sim.calibration.objective import predict
from her2sim.errors import ConfigError
from her2sim.her2.model import load_config
from her2sim.her2.scenario import Her2Simulator

__all__ = ["cross_validate", "folds"]


def folds(problem: Problem, scheme: str, seed: int = 0) -> list[tuple[str, list[int]]]:
    """(fold name, held-out measurement indices) for ``scheme``: a number of folds (``"5"``)
    or ``"source"``, one fold per file the measurements come from."""
    n = len(problem.measurements)
    if scheme == "source":
        files = sorted({m.origin.rsplit(":", 1)[0] for m in problem.measurements})
        if len(files) < 2:
            raise ConfigError("leave-one-source-out needs measurements from at least two files")
        return [(Path(f).name, [i for i, m in enumerate(problem.measurements) if m.origin.rsplit(":", 1)[0] == f])
                for f in files]  # fmt: skip
    try:
        k = int(scheme)
    except ValueError:
        raise ConfigError(f"cross-validation is a number of folds or 'source', not {scheme!r}") from None
    if not 2 <= k <= n:
        raise ConfigError(f"k-fold cross-validation needs 2 to {n} folds for {n} measurements, got {k}")
    order = np.random.default_rng(seed).permutation(n)
    return [(f"fold {j + 1}", sorted(int(i) for i in order[j::k])) for j in range(k)]


def cross_validate(
    problem: Problem,
    out_dir: str | os.PathLike[str],
    scheme: str,
    settings: FitSettings,
    *,
    progress: Callable[[str], None] | None = None,
    client: Any | None = None,
) -> pd.DataFrame:
    """One row per measurement: the fold that held it out and its held-out prediction."""
    out = Path(out_dir) / "cv"
    frames = []
    for name, held in folds(problem, scheme, settings.seed):
        training = tuple(m for i, m in enumerate(problem.measurements) if i not in set(held))
        testing = [problem.measurements[i] for i in held]
        if progress is not None:
            progress(f"{name}: fitting {len(training)} measurements, holding out {len(testing)}")
        fit = calibrate(replace(problem, measurements=training), out / name.replace(" ", "-"), settings,
                        client=client, ensemble=1)  # fmt: skip
        simulator = Her2Simulator(load_config(samples=problem.samples, seed=problem.seed), fit.posterior.best())
        table = predict(testing, simulator)
        table.insert(0, "fold", name)
        frames.append(table)
    return pd.concat(frames, ignore_index=True)
