"""Fit the HER2 model's uncertain factors to measurements: Bayesian optimisation or ABC-SMC.

The factors and their prior bounds are the declared uncertainty space
(``her2/data/uncertainty.yaml``, centred on ``her2.cfg``). Each candidate parameter set is a
:class:`~her2sim.her2.perturbation.Perturbation`; every measurement of the set is predicted
in one batch of the engine and scored by :func:`her2sim.calibration.objective.predict`.

* ``bo``: Bayesian optimisation with optuna's multivariate TPE sampler. The posterior is the
  best set and every evaluated set whose loss is close to it, weighted by the likelihood of
  its misses (``exp(-n * (loss - best) / 2)`` for ``n`` measurements). A search spends its
  time near the optimum, so this ensemble is narrower than a true posterior.
* ``abc``: ABC-SMC with pyabc; the distance is the loss, the final population (weighted
  particles) is the posterior.

A fit lives in a directory: the optimiser's store (SQLite), a manifest with the fingerprint
of the model, the space, the measurements and the settings, and the results. Running the same
command again resumes it; a directory that holds a fit of anything else is refused. Work is
local (the engine's threads) or on a Dask cluster (candidates evaluated on its workers).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from her2sim.calibration.measurements import Measurement
from her2sim.calibration.objective import loss, predict
from her2sim.errors import ConfigError
from her2sim.experiments.sensitivity import Space
from her2sim.files import atomic_write
from her2sim.her2.ensemble import weighted_quantiles
from her2sim.her2.model import data_path, load_config
from her2sim.her2.posterior import Posterior
from her2sim.her2.scenario import Her2Simulator

__all__ = ["METHODS", "FitSettings", "Fittable", "Problem", "calibrate", "ensemble_predictions", "factors_at_bounds"]

METHODS = ("bo", "abc")
_MANIFEST = "calibration.json"
#: Members kept in a BO posterior, and the smallest relative weight a member may have.
_MAX_MEMBERS = 200
#: Members of an earlier fit tried first when a fit starts from it.
_STARTS = 20
#: First step of the coordinate polish (a factor of it, for log-scaled factors).
_POLISH_STEP = 1.5
_MIN_WEIGHT = 1e-3
#: A value within this share of its factor's range from a bound (in log units for log-scaled
#: factors) is at that bound.
_AT_BOUND = 0.01
Progress = Callable[[int, int, float], None]


@dataclass(frozen=True)
class FitSettings:
    """How a fit runs: method, model evaluations, trajectories per scenario, seed, population."""

    method: str = "bo"
    budget: int = 1500
    samples: int = 300
    seed: int = 1
    population: int = 100
    startup: int = 60
    polish: int = 0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ConfigError(f"method must be one of {', '.join(METHODS)}, not {self.method!r}")
        for name in ("budget", "samples", "population", "startup", "polish"):
            value = getattr(self, name)
            if not (isinstance(value, int) and value >= (0 if name == "polish" else 1)):
                raise ConfigError(f"{name} must be a whole number >= {0 if name == 'polish' else 1}, got {value!r}")
        if self.method == "abc" and self.budget < 2 * self.population:
            raise ConfigError(f"ABC-SMC needs a budget of at least two populations ({2 * self.population}), "
                              f"got {self.budget}")  # fmt: skip


class Fittable(Protocol):
    """What :func:`calibrate` fits: factors in a space, and the scaled misses of ``size``
    measurements at a point (the loss is their mean square), with a fingerprint that tells two
    fits apart and the table of observed against predicted under a posterior."""

    @property
    def space(self) -> Space: ...

    @property
    def names(self) -> list[str]: ...

    @property
    def size(self) -> int: ...

    def misses(self, values: Sequence[float], threads: int | None = None) -> np.ndarray: ...

    def fingerprint(self) -> str: ...

    def predictions(self, posterior: Posterior, members: int) -> pd.DataFrame: ...


@dataclass(frozen=True)
class Problem:
    """What a fit of the cell model is about: the measurements and the space of factors, and how
    to simulate."""

    measurements: tuple[Measurement, ...]
    space: Space
    samples: int = 300
    seed: int = 1

    def __post_init__(self) -> None:
        if not self.measurements:
            raise ConfigError("a fit needs at least one measurement")
        if not self.space.factors:
            raise ConfigError("a fit needs at least one uncertain factor")
        degenerate = [f.name for f in self.space.factors if not f.low < f.high]
        if degenerate:
            raise ConfigError(f"factor {degenerate[0]} has no room to move (low >= high)")

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.space.factors]

    @property
    def size(self) -> int:
        return len(self.measurements)

    def predictions(self, posterior: Posterior, members: int) -> pd.DataFrame:
        return ensemble_predictions(self, posterior, members)

    def simulator(self, values: Sequence[float], threads: int | None = None) -> Her2Simulator:
        config = load_config(samples=self.samples, seed=self.seed, threads=threads)
        return Her2Simulator(config, self.space.perturbation(np.asarray(values, dtype=float)))

    def misses(self, values: Sequence[float], threads: int | None = None) -> np.ndarray:
        """Scaled misses of every measurement at ``values`` (natural units)."""
        return predict(self.measurements, self.simulator(values, threads))["miss"].to_numpy()

    def fingerprint(self) -> str:
        """What makes two fits comparable: the model's files, the space, the measurements, settings."""
        digest = hashlib.sha256()
        for name in ("her2.bnd", "her2.cfg", "alterations.yaml", "therapies.yaml"):
            digest.update(Path(data_path(name)).read_bytes())
        digest.update(repr([asdict(f) for f in self.space.factors]).encode())
        digest.update(
            repr(
                [
                    (
                        m.id,
                        m.origin,
                        m.kind,
                        m.value,
                        m.sd,
                        m.response,
                        m.context.label,
                        m.regimen.key,
                        m.compare_context.label if m.compare_context else "",
                        m.compare_regimen.key if m.compare_regimen else "",
                    )
                    for m in self.measurements
                ]
            ).encode()
        )
        digest.update(f"{self.samples}/{self.seed}".encode())
        return digest.hexdigest()[:16]


def _evaluate_batch(problem: Fittable, points: list[list[float]]) -> list[float]:
    """Worker side: the loss of each point, one engine thread (the cluster gives parallelism)."""
    return [loss(problem.misses(p, threads=1)) for p in points]


# ----------------------------------------------------------------------------- the directory
def _claim(out: Path, problem: Fittable, settings: FitSettings) -> None:
    """Make ``out`` this fit's directory, or check it already is (then the fit resumes)."""
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / _MANIFEST
    wanted = {"fingerprint": problem.fingerprint(), "method": settings.method, "factors": problem.names}
    if manifest.exists():
        try:
            recorded = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{manifest}: unreadable manifest ({exc}); give a new output directory") from None
        if not isinstance(recorded, dict) or recorded.get("fingerprint") != wanted["fingerprint"]:
            raise ConfigError(f"{out} holds a fit of another model, space or set of measurements; "
                              "give a new output directory")  # fmt: skip
        if recorded.get("method") != settings.method:
            raise ConfigError(f"{out} holds a {recorded.get('method')} fit; give a new directory for {settings.method}")
        return
    atomic_write(manifest, json.dumps(wanted, indent=2))


# ----------------------------------------------------------------------------- Bayesian optimisation
def _bo(
    problem: Fittable, settings: FitSettings, out: Path, progress: Progress | None, client: Any,
    start: Posterior | None = None,
) -> Posterior:  # fmt: skip
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = problem.space
    sampler = optuna.samplers.TPESampler(seed=settings.seed, multivariate=True, n_startup_trials=settings.startup,
                                         constant_liar=True)  # fmt: skip
    study = optuna.create_study(study_name="her2sim", storage=f"sqlite:///{out / 'bo.db'}", sampler=sampler,
                                direction="minimize", load_if_exists=True)  # fmt: skip
    batch = max(1, len(client.scheduler_info()["workers"])) * 2 if client is not None else 1
    done = len([t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE])
    if done == 0:  # the prior's centre first: the model as written is a candidate too
        study.enqueue_trial({f.name: f.nominal for f in space.factors}, skip_if_exists=True)
        for point in _starts(space, start):
            study.enqueue_trial(point, skip_if_exists=True)
    while done < settings.budget:
        trials = [study.ask() for _ in range(min(batch, settings.budget - done))]
        points = [[t.suggest_float(f.name, f.low, f.high, log=f.log) for f in space.factors] for t in trials]
        if client is None:
            losses = [loss(problem.misses(p)) for p in points]
        else:
            losses = client.submit(_evaluate_batch, problem, points, pure=False).result()
        for trial, value in zip(trials, losses, strict=True):
            study.tell(trial, value)
        done += len(trials)
        if progress is not None:
            progress(done, settings.budget, study.best_value)
    _polish(study, problem, settings.polish)
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    values = np.array([[t.params[f.name] for f in space.factors] for t in complete])
    final_losses = np.array([t.value for t in complete])
    return _likelihood_ensemble(problem, values, final_losses, {"method": "bo", "evaluations": str(len(complete))})


def _polish(study: Any, problem: Fittable, rounds: int) -> None:
    """Coordinate search from the best set, after the Bayesian optimisation: each factor in turn
    is stepped down and up (log factors by a factor of :data:`_POLISH_STEP`, linear ones by a
    fifth of its excess over 1 times their range), a step is kept when the loss falls, and the
    step shrinks to its square root after a round without gain. TPE samples a 30-dimensional
    space broadly; this finishes the descent near its optimum. The candidates are trials of the
    study (so they join the posterior), and the rounds done are kept in it, so a resumed fit goes
    on where it stopped."""
    step = float(study.user_attrs.get("polish_step", _POLISH_STEP))
    for round_ in range(int(study.user_attrs.get("polish_rounds", 0)), rounds):
        best, best_loss, improved = dict(study.best_params), study.best_value, False
        for f in problem.space.factors:
            for direction in (-1, 1):
                if f.log:
                    value = best[f.name] * step**direction
                else:
                    value = best[f.name] + direction * (f.high - f.low) * (step - 1) / 5
                value = float(min(max(value, f.low), f.high))
                if value == best[f.name]:
                    continue
                study.enqueue_trial({**best, f.name: value})
                trial = study.ask()
                point = [trial.suggest_float(g.name, g.low, g.high, log=g.log) for g in problem.space.factors]
                value_loss = loss(problem.misses(point))
                study.tell(trial, value_loss)
                if value_loss < best_loss:
                    best, best_loss, improved = {**best, f.name: value}, value_loss, True
                    break
        if not improved:
            step = math.sqrt(step)
        study.set_user_attr("polish_rounds", round_ + 1)
        study.set_user_attr("polish_step", step)


def _starts(space: Space, start: Posterior | None) -> list[dict[str, float]]:
    """The best members of an earlier fit as first candidates (at most :data:`_STARTS`), each
    factor it lacks at its nominal value and every value clipped into the factor's bounds."""
    if start is None:
        return []
    order = np.argsort(start.loss)[:_STARTS]
    known = {name: j for j, name in enumerate(start.factors)}
    points = []
    for i in order:
        point = {}
        for f in space.factors:
            value = start.values[i, known[f.name]] if f.name in known else f.nominal
            point[f.name] = float(min(max(value, f.low), f.high))
        points.append(point)
    return points


def _likelihood_ensemble(problem: Fittable, values: np.ndarray, losses: np.ndarray, meta: dict[str, str]) -> Posterior:
    """The best sets, weighted by the likelihood of their misses relative to the best."""
    n = problem.size
    weights = np.exp(-0.5 * n * (losses - losses.min()))
    keep = np.argsort(-weights)[:_MAX_MEMBERS]
    keep = keep[weights[keep] >= _MIN_WEIGHT * weights.max()]
    return Posterior(tuple(problem.names), values[keep], weights[keep], losses[keep], meta)


# ----------------------------------------------------------------------------- ABC-SMC
def _abc(problem: Fittable, settings: FitSettings, out: Path, progress: Progress | None, client: Any) -> Posterior:
    import logging

    import pyabc

    logging.getLogger("ABC").setLevel(logging.WARNING)
    space = problem.space
    keys = [_safe(f.name) for f in space.factors]
    prior = pyabc.Distribution(**{
        key: pyabc.RV("loguniform", f.low, f.high) if f.log else pyabc.RV("uniform", f.low, f.high - f.low)
        for key, f in zip(keys, space.factors, strict=True)
    })  # fmt: skip

    def model(parameters: dict[str, float]) -> dict[str, float]:
        return {"loss": loss(problem.misses([parameters[k] for k in keys], threads=1))}

    def distance(simulated: dict[str, float], _observed: dict[str, float]) -> float:
        return math.sqrt(simulated["loss"])

    if client is not None:
        sampler = pyabc.sampler.DaskDistributedSampler(dask_client=client)
    else:
        sampler = pyabc.sampler.MulticoreEvalParallelSampler(n_procs=os.cpu_count() or 1)
    abc = pyabc.ABCSMC(model, prior, distance, population_size=settings.population, sampler=sampler,
                       eps=pyabc.epsilon.QuantileEpsilon(alpha=0.5))  # fmt: skip
    database = f"sqlite:///{out / 'abc.db'}"
    history = abc.load(database, 1) if (out / "abc.db").exists() else abc.new(database, {"loss": 0.0})
    while int(history.total_nr_simulations) < settings.budget:
        history = abc.run(max_nr_populations=1, max_total_nr_simulations=settings.budget)
        if progress is not None:
            epsilon = float(history.get_all_populations()["epsilon"].iloc[-1])
            progress(min(int(history.total_nr_simulations), settings.budget), settings.budget, epsilon**2)
    particles = history.get_population_extended(tidy=True)
    return Posterior(tuple(problem.names), particles[[f"par_{k}" for k in keys]].to_numpy(),
                     particles["w"].to_numpy(), particles["sumstat_loss"].to_numpy(),
                     {"method": "abc", "evaluations": str(int(history.total_nr_simulations)),
                      "populations": str(history.n_populations)})  # fmt: skip


def _safe(name: str) -> str:
    """A factor name as a Python identifier (pyabc's parameter names)."""
    return name.replace(":", "__").replace("-", "_")


# ----------------------------------------------------------------------------- the fit
@dataclass(frozen=True)
class Fit:
    """A finished fit: the posterior, the table of measurements observed vs predicted, and the
    factors whose best value lies at a bound of its prior (:func:`factors_at_bounds`)."""

    posterior: Posterior
    table: pd.DataFrame
    at_bounds: tuple[str, ...] = ()


def factors_at_bounds(space: Space, values: Sequence[float], share: float = _AT_BOUND) -> tuple[str, ...]:
    """The factors whose value lies at a bound of its prior, as ``name = value (lower bound)``.

    An optimum at a bound may lie beyond it: the data push the factor to where its prior stops,
    and either the prior is too narrow or the structure asks of that factor what another part
    of the model cannot give. A fit does not tell which; it says where to look."""
    out = []
    for f, value in zip(space.factors, values, strict=True):
        scale = math.log if f.log else float
        width = scale(f.high) - scale(f.low)
        for side, bound in (("lower", f.low), ("upper", f.high)):
            if abs(scale(value) - scale(bound)) <= share * width:
                out.append(f"{f.name} = {value:.4g} ({side} bound)")
    return tuple(out)


def calibrate(
    problem: Fittable,
    out_dir: str | os.PathLike[str],
    settings: FitSettings | None = None,
    *,
    progress: Progress | None = None,
    client: Any | None = None,
    ensemble: int = 30,
    start: Posterior | None = None,
) -> Fit:
    """Fit ``problem`` (see the module docstring); write ``posterior.tsv`` and ``fit.tsv`` in ``out_dir``.

    ``start``, an earlier fit's posterior, gives Bayesian optimisation its first candidates (its
    best members): a fit of changed measurements or weights need not search from scratch."""
    settings = settings or FitSettings()
    out = Path(out_dir)
    _claim(out, problem, settings)
    if settings.method == "bo":
        posterior = _bo(problem, settings, out, progress, client, start)
    else:
        posterior = _abc(problem, settings, out, progress, client)
    at_bounds = factors_at_bounds(problem.space, posterior.values[int(np.argmin(posterior.loss))])
    meta = {"her2sim posterior": f"{settings.method} fit of {problem.size} measurements",
            "fingerprint": problem.fingerprint(), **posterior.meta,
            "best set at a prior bound": "; ".join(at_bounds) or "none"}  # fmt: skip
    posterior = Posterior(posterior.factors, posterior.values, posterior.weights, posterior.loss, meta)
    posterior.write(out / "posterior.tsv")
    table = problem.predictions(posterior, ensemble)
    atomic_write(out / "fit.tsv", table.to_csv(sep="\t", index=False, float_format="%.4g"))
    return Fit(posterior, table, at_bounds)


def ensemble_predictions(problem: Problem, posterior: Posterior, members: int = 30, seed: int = 0) -> pd.DataFrame:
    """Each measurement observed against the prediction of the best member, with the median
    and the 5-95% interval over ``members`` members drawn from the posterior, and how often
    the prediction is right across them."""
    best = predict(problem.measurements, Her2Simulator(load_config(samples=problem.samples, seed=problem.seed),
                                                       posterior.best()))  # fmt: skip
    draws = posterior.sample(members, seed)
    runs = [predict(problem.measurements, Her2Simulator(load_config(samples=problem.samples, seed=problem.seed), p))
            for _, p in draws]  # fmt: skip
    weights = np.array([w for w, _ in draws])
    predicted = np.array([r["predicted"].to_numpy() for r in runs])
    correct = np.array([r["correct"].to_numpy() for r in runs], dtype=float)
    table = best[["id", "kind", "what", "readout", "observed", "sd", "predicted", "correct", "source"]].copy()
    table["low"], table["median"], table["high"] = weighted_quantiles(predicted, weights, (0.05, 0.5, 0.95))
    table["correct_share"] = weights @ correct / weights.sum()
    return table
