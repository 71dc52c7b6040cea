"""The population-level parameters trials run with unless told otherwise.

``her2sim trial calibrate`` fits the tumour parameters marked ``fit: true`` and the
chemotherapies' kill rates to published trial results and writes a posterior
(``tumour:<parameter>`` and ``kmax:<chemotherapy>`` columns). The package ships the fit of the
published rows it carries (``trials/data/population_posterior.tsv``); its best member is the
default of every trial run. Without that file the data files' own values apply.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

from her2sim.her2.posterior import Posterior, read_posterior
from her2sim.trials.chemotherapy import kill_rates
from her2sim.trials.kinetics import Kinetics, kinetics

__all__ = ["KINDS", "fitted_parameters", "population_posterior", "split_values"]

#: Factor kinds of a population posterior: tumour parameters and chemotherapy kill rates.
KINDS = ("tumour", "kmax")


@functools.cache
def population_posterior() -> Posterior | None:
    """The shipped population fit, or None when the package has none."""
    path = Path(str(resources.files("her2sim.trials") / "data" / "population_posterior.tsv"))
    return read_posterior(path, KINDS) if path.is_file() else None


def split_values(names: tuple[str, ...] | list[str], values: list[float]) -> tuple[dict[str, float], dict[str, float]]:
    """(tumour parameters, kill rates) of factor values named ``tumour:x`` and ``kmax:y``."""
    tumour: dict[str, float] = {}
    kill: dict[str, float] = {}
    for name, value in zip(names, values, strict=True):
        kind, _, target = name.partition(":")
        (tumour if kind == "tumour" else kill)[target] = float(value)
    return tumour, kill


def fitted_parameters(posterior: Posterior | None = None) -> tuple[Kinetics, dict[str, float]]:
    """(kinetics, kill rate per chemotherapy) at the best member of ``posterior`` (default: the
    shipped fit), on top of the data files' values (:func:`~her2sim.trials.chemotherapy.kill_rates`)."""
    posterior = posterior if posterior is not None else population_posterior()
    if posterior is None:
        return kinetics(), kill_rates({})
    best = posterior.values[int(posterior.loss.argmin())]
    tumour, fitted_kill = split_values(list(posterior.factors), [float(v) for v in best])
    return kinetics().with_values(tumour), kill_rates(fitted_kill)
