"""Global sensitivity and robustness: does a conclusion hold when the model's assumptions move?

A :class:`Space` declares uncertain factors (baseline parameters, node time scales, drug
potencies, alteration strengths) with bounds, log-uniform by default; the HER2 model's own
space is data (``her2/data/uncertainty.yaml``). SALib draws the designs (Morris elementary
effects, Sobol with Saltelli sampling, Latin hypercubes) and computes the indices; every design
point is a :class:`~her2sim.her2.perturbation.Perturbation` run through the one compiled kernel.

Examples
--------
>>> space = her2_space(calibrated=False)  # centred on her2.cfg, the prior of a fit
>>> len(space.factors) >= 20, space.factors[0].name
(True, 'parameter:EGF')
>>> point = space.perturbation(space.nominal())
>>> point.parameters["EGF"], point.potency["lapatinib"]
(0.1, 1.0)
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from her2sim.errors import ConfigError, Her2simError, ModelFormatError
from her2sim.formats.records import Document, Path, dotted, read_document
from her2sim.her2.model import data_path, load_model
from her2sim.her2.perturbation import Perturbation
from her2sim.her2.posterior import default_posterior
from her2sim.her2.scenario import calibrated_default
from her2sim.her2.settings import RunSettings

__all__ = [
    "Factor",
    "Space",
    "Target",
    "evaluate",
    "factor_label",
    "her2_space",
    "morris",
    "read_space",
    "robust_validation",
    "sobol",
]

_KINDS = tuple(Perturbation.KINDS)
Progress = Callable[[int, int], None]
#: Trajectories per model run of an analysis unless its settings say otherwise.
_DESIGN_POINT = RunSettings(samples=1000)


@dataclass(frozen=True)
class Factor:
    """One uncertain assumption: its kind, what it moves, its nominal value and bounds."""

    kind: str
    target: str
    nominal: float
    low: float
    high: float
    log: bool = True
    cap: float = math.inf

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.target}"

    @property
    def label(self) -> str:
        """The factor in words, for a figure: see :func:`factor_label`."""
        return factor_label(self.name)

    def centred(self, value: float) -> Factor:
        """The factor with its nominal moved to ``value`` and its bounds moved with it (the same
        factor of spread on each side, still under ``cap``)."""
        if self.log:
            ratio = value / self.nominal
            low, high = self.low * ratio, min(self.high * ratio, self.cap)
        else:
            shift = value - self.nominal
            low, high = self.low + shift, min(self.high + shift, self.cap)
        return replace(self, nominal=value, low=min(low, value), high=max(high, value))


@dataclass(frozen=True)
class Space:
    """The uncertain factors, with SALib's problem description and the mapping to perturbations."""

    factors: tuple[Factor, ...]

    def problem(self) -> dict[str, Any]:
        """SALib's problem: names and bounds (log10 of the bounds for log-uniform factors)."""
        bounds = [[math.log10(f.low), math.log10(f.high)] if f.log else [f.low, f.high] for f in self.factors]
        return {"num_vars": len(self.factors), "names": [f.name for f in self.factors], "bounds": bounds}

    def natural(self, row: np.ndarray) -> np.ndarray:
        """A SALib sample row in the factors' own units."""
        return np.array([10.0**x if f.log else x for f, x in zip(self.factors, row, strict=True)])

    def nominal(self) -> np.ndarray:
        return np.array([f.nominal for f in self.factors])

    def centred(self, values: Mapping[str, float]) -> Space:
        """The space centred on ``values`` (factor name -> value); other factors unchanged."""
        return Space(tuple(f.centred(values[f.name]) if f.name in values else f for f in self.factors))

    def perturbation(self, values: np.ndarray) -> Perturbation:
        """The perturbation that sets each factor to its value (natural units)."""
        return Perturbation.from_factors({f.name: v for f, v in zip(self.factors, values, strict=True)})

    def for_target(self, target: Target) -> Space:
        """The factors that can move ``target``: a drug's potency only when the regimen gives
        it, an alteration's strength only when the context carries it (in any clone).

        The others leave the target exactly where it is, so they would only cost simulations
        and crowd a chart with zeros.

        >>> space = her2_space(calibrated=False)
        >>> kept = space.for_target(Target("ERBB2:amp", "lapatinib"))
        >>> [f.name for f in kept.factors if f.kind in ("potency", "alteration")]
        ['potency:lapatinib']
        """
        from her2sim.her2.alterations import alteration_library
        from her2sim.her2.therapies import therapy_library

        drugs = {drug.name for drug, _ in therapy_library().regimen(target.therapy or None).doses}
        pending, present = [alteration_library().context(target.context)], set()
        while pending:
            context = pending.pop()
            present |= {a.name for a in context.alterations}
            pending += [clone for _, clone in context.clones]
        keep = {"potency": drugs, "alteration": present}
        return Space(tuple(f for f in self.factors if f.kind not in keep or f.target in keep[f.kind]))


#: What a factor of each kind moves, in words.
_KIND_WORDS = {"parameter": "parameter", "rate": "rate", "potency": "potency", "alteration": "strength"}


def factor_label(name: str) -> str:
    """A factor's name (``kind:target``) in words: its target, then what is moved.

    >>> factor_label("parameter:IGF1R"), factor_label("potency:lapatinib"), factor_label("alteration:PIK3CA:H1047R")
    ('IGF1R parameter', 'lapatinib potency', 'PIK3CA:H1047R strength')
    >>> factor_label("rate:AKT"), factor_label("unknown")
    ('AKT rate', 'unknown')
    """
    kind, _, target = name.partition(":")
    return f"{target} {_KIND_WORDS[kind]}" if kind in _KIND_WORDS and target else name


def _factor(doc: Document, i: int, raw: Any, spread: float) -> Factor:
    at: Path = ("factors", i)
    where = dotted(at)
    if not isinstance(raw, dict):
        raise doc.error(at, "a factor is a mapping such as {parameter: EGF}")
    kinds = [k for k in _KINDS if k in raw]
    if len(kinds) != 1:
        raise doc.error(at, f"give exactly one of {', '.join(_KINDS)}")
    kind, target = kinds[0], str(raw[kinds[0]])
    model = load_model()
    if kind == "parameter":
        values = model.parameter_values
        if target not in values:
            from her2sim.errors import closest

            hint = ", ".join(closest(target, values)) or "see her2.cfg"
            raise doc.located((*at, kind), f"{where}: unknown model parameter {target!r} (did you mean {hint}?)")
        nominal = float(values[target])
    else:
        try:
            if kind == "rate":
                model.node(target)
            elif kind == "potency":
                from her2sim.her2.therapies import therapy_library

                target = therapy_library().get(target).name
            else:
                from her2sim.her2.alterations import alteration_library

                target = alteration_library().get(target).name
        except (Her2simError, KeyError) as exc:
            raise doc.located((*at, kind), f"{where}: {exc}") from None
        nominal = 1.0
    cap = float(raw.get("max", math.inf))
    if kind == "alteration":
        from her2sim.her2.alterations import alteration_library

        strongest = max(alteration_library().get(target).parameters.values(), default=1.0)
        cap = min(cap, 1.0 / strongest if strongest > 0 else math.inf)
    low = float(raw.get("low", nominal / spread))
    high = float(raw.get("high", min(nominal * spread, cap)))
    log = bool(raw.get("log", True))
    if not (math.isfinite(low) and math.isfinite(high) and low < high and (low > 0 or not log)):
        raise doc.located(at, f"{where} ({kind}: {target}): bounds must be finite with low < high"
                          + (" and low > 0 for log-uniform sampling" if log else ""))  # fmt: skip
    if nominal <= 0 and log:
        raise doc.located(at, f"{where} ({kind}: {target}): nominal value {nominal} cannot be log-sampled")
    return Factor(kind, target, nominal, low, high, log, cap)


def read_space(path: str | os.PathLike[str], spread: float | None = None) -> Space:
    """Read a space file (the format of ``her2/data/uncertainty.yaml``), every entry checked;
    a problem names ``file:line``."""
    doc = read_document(path)
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("factors"), list) or not data["factors"]:
        raise doc.located(("factors",), "expected 'factors:' with at least one factor")
    default = float(spread if spread is not None else data.get("spread", 3.0))
    if not default > 1:
        line = doc.line(("spread",)) if spread is None else None  # a spread given by the caller is no line's
        raise ModelFormatError(f"spread must be > 1, got {default}", doc.source, line)
    factors = tuple(_factor(doc, i, raw, default) for i, raw in enumerate(data["factors"]))
    names = [f.name for f in factors]
    twice = next((i for i, n in enumerate(names) if n in names[:i]), None)
    if twice is not None:
        declared = sorted({n for n in names if names.count(n) > 1})
        raise doc.located(("factors", twice), f"a factor is declared twice: {declared}")
    return Space(factors)


def her2_space(spread: float | None = None, calibrated: bool = True) -> Space:
    """The HER2 model's declared space (``her2/data/uncertainty.yaml``).

    With ``calibrated`` (the default) the space is centred on the calibrated model, the
    shipped posterior's best member: the declared spread is the uncertainty around the model
    users run. ``calibrated=False`` centres it on ``her2.cfg``'s values: the prior of a fit.
    """
    space = read_space(data_path("uncertainty.yaml"), spread)
    posterior = default_posterior() if calibrated else None
    if posterior is None:
        return space
    best = int(np.argmin(posterior.loss))
    return space.centred(dict(zip(posterior.factors, posterior.values[best], strict=True)))


@dataclass(frozen=True)
class Target:
    """What is measured at each design point: a readout of a scenario, or a therapy's effect."""

    context: str
    therapy: str
    readout: str = "proliferation"
    effect: bool = True

    def measure(self, perturbation: Perturbation, settings: RunSettings = _DESIGN_POINT) -> float:
        """The target under ``perturbation``, simulated with ``settings``."""
        from her2sim.her2.scenario import Her2Simulator
        from her2sim.her2.scenario import effect as effect_of
        from her2sim.her2.therapies import Regimen

        sim = Her2Simulator(settings.config(), perturbation)
        context, regimen = sim.context(self.context), sim.regimen(self.therapy or None)
        if not self.effect:
            return sim.readouts([(context, regimen)])[0][self.readout]
        treated, base = sim.readouts([(context, regimen), (context, Regimen())])
        return effect_of(self.readout, treated[self.readout], base[self.readout])


def _evaluate_rows(space: Space, rows: np.ndarray, target: Target, settings: RunSettings) -> np.ndarray:
    """Worker side: the target at each row, one engine thread (the cluster gives parallelism)."""
    one_thread = settings.with_(threads=1)
    return np.array([target.measure(space.perturbation(space.natural(r)), one_thread) for r in rows])


def evaluate(
    space: Space,
    rows: np.ndarray,
    target: Target,
    settings: RunSettings = _DESIGN_POINT,
    progress: Progress | None = None,
    client: Any | None = None,
    chunk_size: int = 64,
) -> np.ndarray:
    """The target at every SALib sample row (one compiled kernel; each point its own perturbation).

    With a Dask ``client`` the rows are evaluated in chunks on its workers, as the screens are.
    """
    out = np.empty(len(rows))
    if client is None:
        for i, row in enumerate(rows):
            out[i] = target.measure(space.perturbation(space.natural(row)), settings)
            if progress:
                progress(i + 1, len(rows))
        return out
    from distributed import as_completed

    starts = range(0, len(rows), chunk_size)
    futures = {client.submit(_evaluate_rows, space, rows[a : a + chunk_size], target, settings, pure=False): a
               for a in starts}  # fmt: skip
    done = 0
    for future in as_completed(futures):
        a = futures[future]
        values = future.result()
        out[a : a + len(values)] = values
        done += len(values)
        if progress:
            progress(done, len(rows))
    return out


def morris(space: Space, target: Target, trajectories: int = 10, settings: RunSettings = _DESIGN_POINT,
           seed: int = 1, progress: Progress | None = None, client: Any | None = None) -> pd.DataFrame:  # fmt: skip
    """Morris elementary effects: mu*, its confidence interval and sigma per factor, most influential first.

    ``settings`` is how each design point is simulated; ``seed`` draws the design.
    """
    from SALib.analyze import morris as analyze
    from SALib.sample import morris as sample

    problem = space.problem()
    rows = sample.sample(problem, trajectories, num_levels=4, seed=seed)
    y = evaluate(space, rows, target, settings, progress, client)
    with np.errstate(divide="ignore", invalid="ignore"):  # a target no factor moves gives indices of 0
        result = analyze.analyze(problem, rows, y, num_levels=4, seed=seed)
    frame = pd.DataFrame({"factor": problem["names"], "mu_star": result["mu_star"],
                          "mu_star_conf": result["mu_star_conf"], "sigma": result["sigma"]})  # fmt: skip
    return frame.sort_values("mu_star", ascending=False, kind="stable").reset_index(drop=True)


def sobol(space: Space, target: Target, base: int = 64, settings: RunSettings = _DESIGN_POINT, seed: int = 1,
          progress: Progress | None = None, client: Any | None = None) -> pd.DataFrame:  # fmt: skip
    """Sobol first-order and total indices with 95% confidence intervals, most influential first.

    ``settings`` is how each design point is simulated; ``seed`` draws the design.
    """
    from SALib.analyze import sobol as analyze
    from SALib.sample import sobol as sample

    problem = space.problem()
    rows = sample.sample(problem, base, calc_second_order=False, seed=seed)
    y = evaluate(space, rows, target, settings, progress, client)
    with np.errstate(divide="ignore", invalid="ignore"):  # SALib normalises by the spread, 0 for a flat target
        result = analyze.analyze(problem, y, calc_second_order=False, seed=seed)
    frame = pd.DataFrame({"factor": problem["names"], "S1": result["S1"], "S1_conf": result["S1_conf"],
                          "ST": result["ST"], "ST_conf": result["ST_conf"]})  # fmt: skip
    return frame.sort_values("ST", ascending=False, kind="stable").reset_index(drop=True)


def robust_validation(
    rows: Sequence[Any],
    space: Space,
    sets: int = 20,
    trajectories: int = 4,
    settings: RunSettings = _DESIGN_POINT,
    seed: int = 1,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Each expectation row under ``sets`` parameter sets (Latin hypercube over ``space``).

    Returns one row per expectation: passed at the nominal parameters, the fraction of sets in
    which it passes, ``robust`` (at least 90%), and the three factors that move its effect most
    (Morris mu* over ``trajectories`` trajectories). ``settings`` is how each parameter set
    is simulated; ``seed`` draws the designs.
    """
    from SALib.analyze import morris as analyze_morris
    from SALib.sample import latin
    from SALib.sample import morris as sample_morris

    from her2sim.her2.scenario import Her2Simulator
    from her2sim.her2.validation import validate

    if sets < 1 or trajectories < 1:
        raise ConfigError("robustness needs at least one parameter set and one Morris trajectory")
    problem = space.problem()
    config = settings.config()
    hypercube = latin.sample(problem, sets, seed=seed)
    design = sample_morris.sample(problem, trajectories, num_levels=4, seed=seed)
    total, done = 1 + len(hypercube) + len(design), 0

    def run(perturbation: Perturbation) -> pd.DataFrame:
        nonlocal done
        table = validate(rows, Her2Simulator(config, perturbation))
        done += 1
        if progress:
            progress(done, total)
        return table

    nominal = run(calibrated_default())
    passes = np.array([run(space.perturbation(space.natural(r)))["passed"].to_numpy() for r in hypercube])
    effects = np.array([run(space.perturbation(space.natural(r)))["effect"].to_numpy() for r in design])
    records = []
    for k, row in enumerate(nominal.itertuples(index=False)):
        with np.errstate(divide="ignore", invalid="ignore"):  # a row no factor moves gives mu* of 0
            mu = analyze_morris.analyze(problem, design, effects[:, k], num_levels=4, seed=seed)["mu_star"]
        order = np.argsort(mu)[::-1][:3]
        fraction = float(passes[:, k].mean())
        records.append({"id": row.id, "context": row.context, "therapy": row.therapy, "expected": row.expected,
                        "nominal_effect": row.effect, "nominal_passed": bool(row.passed),
                        "pass_fraction": fraction, "robust": fraction >= 0.9,
                        "deciding": ", ".join(f"{problem['names'][j]} ({mu[j]:.3f})" for j in order)})  # fmt: skip
    return pd.DataFrame.from_records(records)
