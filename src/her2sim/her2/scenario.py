"""Run the HER2 model for tumour contexts and therapy regimens, and read phenotypes.

A scenario is a context (alterations) and a regimen (drugs at doses). Both become runtime
parameters and fixed nodes of one compiled kernel, so any number of scenarios reuse it.
Treated and untreated runs share their random streams (same seed), so differences between
them are not blurred by independent noise.

Readouts (``READOUTS``) are node probabilities, defined in ``her2/data/roles.yaml``:
``proliferation`` (E2F in a living cell), ``apoptosis``, ``survival`` (1 - apoptosis), ``pAKT``
and ``pERK``. The steady-state value of a readout is its mean over the second half of the
simulated time, with a standard error from the spread of the per-trajectory averages. The effect
of a therapy is the fractional change it causes (:func:`effect`).

Examples
--------
>>> result = scenario(["ERBB2:amp"], {"lapatinib": "1uM"}, settings=RunSettings(samples=500, max_time=40))
>>> bool(result.summary.loc["proliferation", "effect"] > 0.5)
True
"""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from her2sim.engine.compile import CompiledModel, compile_model
from her2sim.engine.result import SimulationResult
from her2sim.engine.scenario import Scenario
from her2sim.engine.simulate import simulate_batch
from her2sim.errors import UnknownNameError
from her2sim.her2.alterations import Context, alteration_library
from her2sim.her2.model import load_config, load_model
from her2sim.her2.perturbation import Perturbation
from her2sim.her2.pharmacology import drug_parameters, population_uptake
from her2sim.her2.roles import Readout, roles
from her2sim.her2.settings import DEFAULT_SETTINGS, RunSettings
from her2sim.her2.therapies import Regimen, therapy_library
from her2sim.model.config import SimulationConfig

__all__ = [
    "READOUTS",
    "Her2Simulator",
    "ScenarioResult",
    "calibrated_default",
    "effect",
    "effect_se",
    "scenario",
    "still_on",
]

#: Readout name -> its node, whether it is 1 - the node's probability, and whether a therapy
#: works by raising it (``her2/data/roles.yaml``), in the order of every readout table.
READOUTS: dict[str, Readout] = roles().readouts


def calibrated_default() -> Perturbation:
    """The calibrated model: the best member of the shipped posterior (none: the model as written)."""
    from her2sim.her2.posterior import default_posterior

    posterior = default_posterior()
    return posterior.best() if posterior is not None else Perturbation()


def readout_name(name: str) -> str:
    """The canonical readout name (case-insensitive); unknown names suggest close ones."""
    for key in READOUTS:
        if key.lower() == name.strip().lower():
            return key
    raise UnknownNameError("readout", name, READOUTS)


def effect(readout: str, treated: float, untreated: float) -> float:
    """Fractional change a therapy causes: ``1 - r/r0``, or ``(r - r0)/(1 - r0)`` for a readout
    a therapy works by raising (apoptosis).

    >>> effect("proliferation", 0.2, 0.8), round(effect("apoptosis", 0.55, 0.1), 6)
    (0.75, 0.5)
    """
    if READOUTS[readout_name(readout)].rises:
        return 0.0 if untreated >= 1.0 else (treated - untreated) / (1.0 - untreated)
    return 0.0 if untreated <= 0.0 else 1.0 - treated / untreated


def effect_se(readout: str, treated: float, untreated: float, treated_se: float, untreated_se: float) -> float:
    """Standard error of :func:`effect` from the standard errors of its two values.

    First-order propagation with the two values taken as independent: treated and untreated
    runs share their random streams, which correlates them positively, so this is an upper bound.

    >>> round(effect_se("proliferation", 0.2, 0.8, 0.01, 0.01), 4), round(effect_se("apoptosis", 0.55, 0.1, 0.01, 0), 4)
    (0.0129, 0.0111)
    """
    if READOUTS[readout_name(readout)].rises:
        if untreated >= 1.0:
            return 0.0
        rest = 1.0 - untreated
        return math.hypot(treated_se / rest, (1.0 - treated) * untreated_se / rest**2)
    if untreated <= 0.0:
        return 0.0
    return math.hypot(treated_se / untreated, treated * untreated_se / untreated**2)


def still_on(treated: pd.Series, untreated: pd.Series, threshold: float = 0.5) -> pd.Series:
    """Signalling nodes active (>= ``threshold``) both untreated and under treatment, most active first.

    This is the pathway a therapy fails to switch off. Nodes no other node regulates (ligand,
    expression and masking levels set by alterations and drugs) and the phenotypes are left out.
    """
    hidden = _not_signalling()
    keep = [n for n in treated.index if n not in hidden and treated[n] >= threshold and untreated[n] >= threshold]
    return treated[keep].sort_values(ascending=False)


@functools.cache
def _not_signalling() -> frozenset[str]:
    """The phenotypes, and the nodes no other node regulates (levels set from outside)."""
    model = load_model()
    return roles().phenotypes | {n for n in model.names if model.regulators(n) <= {n}}


@dataclass(frozen=True)
class ScenarioResult:
    """Phenotypes of one context under one therapy (a regimen), next to the same context untreated.

    ``context`` and ``therapy`` are the labels of the alterations and of the regimen (the
    ``therapy`` column of every table); ``timecourse`` is tidy (time, readout, condition,
    probability); ``summary`` has one row per readout with the steady-state ``untreated``
    and ``treated`` values, the ``effect`` and the values' standard errors;
    ``nodes`` gives every node's steady-state probability in both conditions, which shows
    the pathway that stays on under treatment; ``node_timecourse`` every node's probability
    over time, columns (condition, node).
    """

    context: str
    therapy: str
    timecourse: pd.DataFrame
    summary: pd.DataFrame
    nodes: pd.DataFrame
    node_timecourse: pd.DataFrame | None = None

    def trajectories(self, condition: str) -> pd.DataFrame:
        """One column per readout (``proliferation``, ...) and per node (``AKT``, ...), indexed
        by time, under ``condition`` (``treated`` or ``untreated``)."""
        if condition not in ("treated", "untreated"):
            raise UnknownNameError("condition", condition, ["treated", "untreated"])
        part = self.timecourse[self.timecourse["condition"] == condition]
        wide = part.pivot(index="time", columns="readout", values="probability")[list(READOUTS)]
        if self.node_timecourse is not None:
            wide = wide.join(self.node_timecourse[condition])
        wide.columns.name = None
        return wide

    def still_on(self) -> pd.Series:
        """Signalling nodes the regimen leaves on (see :func:`still_on`)."""
        return still_on(self.nodes["treated"], self.nodes["untreated"])

    @property
    def growth_index(self) -> float:
        """Treated over untreated proliferation (1: no effect, 0: arrest)."""
        row = self.summary.loc["proliferation"]
        return float(row["treated"] / row["untreated"]) if row["untreated"] > 0 else math.nan


@dataclass(frozen=True)
class _Run:
    """One pair's pooled results as arrays: node probabilities per window (windows x nodes),
    late-time means and their variances. Tables are built only when asked for: a response grid
    reads five numbers from each of thousands of runs."""

    names: tuple[str, ...]
    times: np.ndarray
    node_prob: np.ndarray
    mean: np.ndarray
    var: np.ndarray

    @classmethod
    def weighted(cls, result: SimulationResult, weight: float) -> _Run:
        """A clone's results times its share of the tumour."""
        mean, se = result.late_arrays()
        return cls(result.node_names, result.times, result.node_prob * weight, mean * weight, (se * weight) ** 2)

    def plus(self, other: _Run) -> _Run:
        """Pool with another clone's (already weighted) results."""
        return _Run(self.names, self.times, self.node_prob + other.node_prob, self.mean + other.mean,
                    self.var + other.var)  # fmt: skip

    def late(self, node: str) -> tuple[float, float]:
        """(late-time mean, its variance) of one node."""
        i = self.names.index(node)
        return float(self.mean[i]), float(self.var[i])

    @property
    def timecourse(self) -> pd.DataFrame:
        frame = pd.DataFrame(self.node_prob, index=pd.Index(self.times, name="time"), columns=list(self.names))
        frame.columns.name = "node"
        return frame

    @property
    def late_mean(self) -> pd.Series:
        return pd.Series(self.mean, index=pd.Index(self.names, name="node"), name="mean")


class Her2Simulator:
    """Simulates many (context, regimen) pairs of the HER2 model with one compiled kernel.

    Results are cached by context and regimen, so a validation table or a screen that
    mentions a scenario twice simulates it once.
    """

    def __init__(
        self,
        config: SimulationConfig | None = None,
        perturbation: Perturbation | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        """``perturbation`` moves the model's assumptions; without one, the calibrated default
        applies (the best member of the shipped posterior, :mod:`her2sim.her2.posterior`).
        ``Perturbation()`` gives the model with ``her2.cfg``'s values, uncalibrated.
        ``progress`` is called with (trajectories done, trajectories in all) as each batch of
        scenarios runs."""
        self.progress = progress
        self.model = load_model()
        self.config = config or load_config()
        self.perturbation = perturbation if perturbation is not None else calibrated_default()
        self.alterations = alteration_library()
        self.therapies = therapy_library()
        self._compiled: CompiledModel = compile_model(self.model)
        self._cache: dict[tuple[object, ...], _Run] = {}

    def context(self, alterations: str | Iterable[str] | Context = ()) -> Context:
        return alterations if isinstance(alterations, Context) else self.alterations.context(alterations)

    def regimen(self, therapy: str | Mapping[str, str | float | None] | Iterable[str] | Regimen | None) -> Regimen:
        return therapy if isinstance(therapy, Regimen) else self.therapies.regimen(therapy)

    def engine_scenarios(
        self, context: Context, regimen: Regimen, bystander: float | None = None
    ) -> list[tuple[float, Scenario]]:
        """The engine scenarios of a pair: one per clone, with its share of the tumour.

        Alterations give parameters and fixed nodes; the regimen gives drug parameters, with
        the bystander payload released by the context's own clones
        (:func:`population_uptake`), or ``bystander`` when the surrounding tumour is given
        from outside (the tumour level does so as its composition changes).
        """
        moved = self.perturbation
        if bystander is None:
            bystander = self.bystander_release(context, regimen)
        context, regimen = moved.context(context), moved.regimen(regimen)
        clones = list(context.clones) or [(1.0, context)]
        rates = {node: (s, s) for node, s in moved.rate_scale.items()}
        out = []
        for fraction, clone in clones:
            parameters = {**moved.parameters, **clone.parameters, **drug_parameters(regimen, clone, bystander)}
            scenario = Scenario(f"{clone.label} | {regimen.label}", parameters, rates, clone.fixed)
            out.append((fraction, scenario))
        return out

    def bystander_release(self, context: Context, regimen: Regimen) -> float:
        """Membrane-permeable payload the context's clones release per cell under the regimen
        (:func:`population_uptake` with the simulator's parameters); 0 without such a payload."""
        moved = self.perturbation
        context, regimen = moved.context(context), moved.regimen(regimen)
        defaults = {**self.model.parameter_values, **moved.parameters}
        return population_uptake(regimen, list(context.clones) or [(1.0, context)], defaults)

    def _runs(self, pairs: Sequence[tuple[Context, Regimen]], bystander: Sequence[float] | None = None) -> list[_Run]:
        """Simulate the pairs not yet cached (one batch), pooling clones by their fractions."""
        given = list(bystander) if bystander is not None else [None] * len(pairs)
        keys: list[tuple[object, ...]] = [(c.label, r.key, b) for (c, r), b in zip(pairs, given, strict=True)]
        todo: dict[tuple[object, ...], tuple[Context, Regimen, float | None]] = {}
        for key, (c, r), b in zip(keys, pairs, given, strict=True):
            if key not in self._cache:
                todo.setdefault(key, (c, r, b))
        jobs = [(key, w, s) for key, (c, r, b) in todo.items() for w, s in self.engine_scenarios(c, r, b)]
        results = simulate_batch(self._compiled, [s for _, _, s in jobs], self.config,
                                 progress=self._counter(len(jobs))) if jobs else []  # fmt: skip
        pooled: dict[tuple[object, ...], _Run] = {}
        for (key, weight, _), result in zip(jobs, results, strict=True):
            run = _Run.weighted(result, weight)
            pooled[key] = run if key not in pooled else pooled[key].plus(run)
        self._cache.update(pooled)
        return [self._cache[key] for key in keys]

    def _counter(self, scenarios: int) -> Callable[[int], None] | None:
        """The engine's progress (trajectories finished, from any thread) as running totals
        over a batch of ``scenarios``, for :attr:`progress`."""
        report = self.progress
        if report is None:
            return None
        total, done, lock = scenarios * self.config.sample_count, 0, threading.Lock()
        report(0, total)

        def step(finished: int) -> None:
            nonlocal done
            with lock:
                done += finished
                report(done, total)

        return step

    def readouts_with_bystander(
        self, pairs: Sequence[tuple[Context, Regimen]], bystander: Sequence[float]
    ) -> list[dict[str, float]]:
        """Readouts when each cell receives the given payload from its neighbours."""
        return [_readouts(run) for run in self._runs(pairs, bystander)]

    def node_timecourses(self, pairs: Sequence[tuple[Context, Regimen]]) -> list[pd.DataFrame]:
        """Node probabilities per time window (pooled over clones) for each pair, batched."""
        return [run.timecourse for run in self._runs(pairs)]

    def steady_nodes(self, pairs: Sequence[tuple[Context, Regimen]]) -> list[pd.Series]:
        """Every node's steady-state probability: its mean over the second half of the run."""
        return [run.late_mean for run in self._runs(pairs)]

    def readouts(self, pairs: Sequence[tuple[Context, Regimen]]) -> list[dict[str, float]]:
        """Steady-state readouts for each pair."""
        return [_readouts(run) for run in self._runs(pairs)]

    def readout_errors(self, pairs: Sequence[tuple[Context, Regimen]]) -> list[dict[str, float]]:
        """Standard errors of the steady-state readouts (from the per-trajectory spread)."""
        return [{k: math.sqrt(run.late(r.node)[1]) for k, r in READOUTS.items()} for run in self._runs(pairs)]

    def run(
        self,
        alterations: str | Iterable[str] | Context = (),
        therapy: str | Mapping[str, str | float | None] | Iterable[str] | Regimen | None = None,
    ) -> ScenarioResult:
        """Simulate one context treated and untreated."""
        context, regimen = self.context(alterations), self.regimen(therapy)
        treated_run, untreated_run = self._runs([(context, regimen), (context, Regimen())])
        treated_tc, untreated_tc = treated_run.timecourse, untreated_run.timecourse
        treated, untreated = treated_run.late_mean, untreated_run.late_mean
        r1, r0 = _readouts(treated_run), _readouts(untreated_run)
        e1, e0 = self.readout_errors([(context, regimen), (context, Regimen())])
        summary = pd.DataFrame(
            {
                "untreated": pd.Series(r0),
                "treated": pd.Series(r1),
                "effect": pd.Series({k: effect(k, r1[k], r0[k]) for k in READOUTS}),
                "untreated_se": pd.Series(e0),
                "treated_se": pd.Series(e1),
            }
        )
        summary.index.name = "readout"
        frames = []
        for condition, tc in (("untreated", untreated_tc), ("treated", treated_tc)):
            wide = pd.DataFrame({name: _readout_series(tc, name) for name in READOUTS}, index=tc.index)
            long = wide.reset_index().melt(
                id_vars=wide.index.name or "time", var_name="readout", value_name="probability"
            )
            long.insert(2, "condition", condition)
            frames.append(long.rename(columns={wide.index.name or "index": "time"}))
        nodes = pd.DataFrame({"untreated": untreated, "treated": treated})
        nodes.index.name = "node"
        node_timecourse = pd.concat({"untreated": untreated_tc, "treated": treated_tc}, axis=1)
        return ScenarioResult(context.label, regimen.label, pd.concat(frames, ignore_index=True), summary, nodes,
                              node_timecourse)  # fmt: skip


def _readout_series(frame: pd.DataFrame, name: str) -> pd.Series:
    readout = READOUTS[name]
    return 1.0 - frame[readout.node] if readout.complement else frame[readout.node]


def _readouts(run: _Run) -> dict[str, float]:
    out = {}
    for name, readout in READOUTS.items():
        value = run.late(readout.node)[0]
        out[name] = 1.0 - value if readout.complement else value
    return out


def scenario(
    alterations: str | Iterable[str] = (),
    therapy: str | Mapping[str, str | float | None] | Iterable[str] | None = None,
    *,
    settings: RunSettings = DEFAULT_SETTINGS,
) -> ScenarioResult:
    """Simulate the HER2 model for ``alterations`` under ``therapy`` and untreated.

    Parameters
    ----------
    alterations:
        Names of the alteration library (``["ERBB2:amp", "PIK3CA:H1047R"]`` or
        ``"ERBB2:amp; PIK3CA:H1047R"``); none means a HER2-normal, unaltered cell.
    therapy:
        One regimen: ``{"trastuzumab": None, "lapatinib": "250nM"}`` (None: standard dose),
        ``"trastuzumab+pertuzumab"`` or a list of ``name[@dose]``.
    settings:
        How to simulate (:class:`~her2sim.her2.settings.RunSettings`; by default ``her2.cfg``'s).
    """
    return Her2Simulator(settings.config()).run(alterations, therapy)
