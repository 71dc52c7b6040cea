"""MaBoSS's run statistics from her2sim simulations: what ``MaBoSS -o PREFIX`` reports.

:func:`run_maboss` simulates a model and returns a :class:`MabossRun` with the statistics
MaBoSS 2.6 writes: per time window, those of ``PREFIX_probtraj.csv`` (``TH``, ``ErrorTH``,
``H``, ``HD=k`` and each state's probability with its error), the fixed points of
``PREFIX_fp.csv``, and the per-trajectory stationary distributions and their clusters of
``PREFIX_statdist.csv``. :mod:`her2sim.formats.maboss_output` writes them in MaBoSS's formats.

How each statistic is obtained, and where it differs from MaBoSS:

- **State probabilities, H, fixed points**: as MaBoSS defines them. The model is simulated
  with its internal nodes kept in the state tables, which are then projected onto the
  output nodes, so that the full states are at hand for TH and HD.
- **TH** (transition entropy): exact. A state's TH is the entropy of its non-internal flip
  rates, a function of the full state, so a window's TH is the probability-weighted mean
  of TH over the window's full states.
- **HD=k**: exact: the probability of being ``k`` reference nodes (``refstate``) away from
  the reference state.
- **ErrorProba and ErrorTH are upper bounds** on MaBoSS's standard errors, which come from
  per-trajectory squared occupancies that the engine does not keep. A trajectory's share of
  a window spent in a state lies in [0, 1], so its variance is at most ``p(1-p)`` and
  ErrorProba is ``sqrt(p(1-p)/N)``; a trajectory's mean TH over a window lies between the
  smallest and the largest TH of the window's states, ``m`` and ``M``, so ErrorTH is
  ``sqrt((M-TH)(TH-m)/N)`` (Bhatia-Davis). Both are larger than MaBoSS's, never smaller.
- **Stationary distributions**: MaBoSS uses its first ``statdist_traj_count``
  trajectories; here as many further trajectories are simulated one by one, with seeds
  derived from the run's seed (the same law, other random numbers). As in MaBoSS 2.6,
  each distribution is over the reference nodes' states (every state is ``<nil>`` when no
  node has a ``refstate``), and clusters join trajectories whose similarity reaches
  ``statdist_cluster_threshold`` (within 1e-9, so that rounding does not split equal supports).
- **Bounded state tables**: a window's probability that found no room (``max_states``)
  is the state ``<not kept>``; TH, H and HD then cover the kept states only.

Nodes are in the model's order; MaBoSS numbers them by first mention in the ``.bnd`` file,
so its state names may list the same active nodes in another order.
"""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from her2sim.engine.compile import CompiledModel, compile_model, pack_flags
from her2sim.engine.result import NOT_KEPT, state_names
from her2sim.engine.scenario import runtime_arrays
from her2sim.engine.simulate import ProgressFn, simulate
from her2sim.model.config import SimulationConfig
from her2sim.model.network import Model

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Cluster", "MabossRun", "RunInfo", "cluster_distributions", "run_maboss", "transition_entropy"]

#: Similarities this close below the cluster threshold reach it (sums of probabilities round).
_SIMILARITY_SLACK = 1e-9


@dataclass(frozen=True)
class Cluster:
    """Trajectories whose stationary distributions are alike, and their mean distribution.

    ``members`` are trajectory numbers from 0; ``distribution`` maps each state to its
    mean probability over the members and that mean's standard error (0 for one member).
    """

    members: tuple[int, ...]
    distribution: dict[str, tuple[float, float]]


@dataclass(frozen=True)
class RunInfo:
    """When a run started and ended, where its time went (seconds), its threads and flips."""

    started: _dt.datetime
    ended: _dt.datetime
    core_elapsed_s: float
    core_cpu_s: float
    epilogue_s: float
    statdist_s: float
    threads: int
    flips: int


@dataclass(frozen=True)
class MabossRun:
    """What MaBoSS reports about one run (see the module notes for each statistic).

    Per window ``w`` (``times[w]`` is its start): ``th``, ``th_error``, ``entropy`` (H) and
    ``hamming[w, k]`` (HD=k). State rows are ordered by window and, within a window, by
    probability: row ``i`` says that state ``state_names[state[i]]`` has ``probability[i]``
    (with standard-error bound ``error[i]``) in window ``window[i]``.
    """

    model: Model
    config: SimulationConfig
    times: np.ndarray
    th: np.ndarray
    th_error: np.ndarray
    entropy: np.ndarray
    hamming: np.ndarray
    window: np.ndarray
    state: np.ndarray
    probability: np.ndarray
    error: np.ndarray
    state_names: tuple[str, ...]
    fixed_points: pd.DataFrame
    trajectories: tuple[dict[str, float], ...]
    clusters: tuple[Cluster, ...]
    info: RunInfo

    def window_rows(self, w: int) -> slice:
        """The state rows of window ``w``."""
        lo, hi = np.searchsorted(self.window, [w, w + 1])
        return slice(int(lo), int(hi))

    @property
    def max_states_per_window(self) -> int:
        """Most states listed in one window (MaBoSS's number of State/Proba column groups)."""
        return int(np.bincount(self.window, minlength=len(self.times)).max()) if len(self.window) else 0


def run_maboss(model: Model, config: SimulationConfig, progress: ProgressFn | None = None) -> MabossRun:
    """Simulate ``model`` and gather MaBoSS's statistics.

    ``config.extra`` may hold MaBoSS's ``statdist_traj_count`` (default 0: no stationary
    distributions) and ``statdist_cluster_threshold`` (default 1).
    """
    started, cpu = _dt.datetime.now(), time.process_time()
    full = compile_model(model.with_nodes(replace(n, internal=False) for n in model.nodes if n.internal))
    result = simulate(full, config, states=True, progress=progress)
    core_cpu = time.process_time() - cpu
    kept = result.require_states()

    clock = time.perf_counter()
    internal = np.array([n.internal for n in model.nodes], dtype=bool)
    keys = kept.keys
    bits = _unpack(keys, len(model))
    th_of_state = transition_entropy(_flip_rates(full, bits), internal)
    rows_state, rows_window, rows_prob = kept.index, kept.window, kept.probability
    n_windows, n = len(result.times), result.sample_count
    th = np.bincount(rows_window, weights=rows_prob * th_of_state[rows_state], minlength=n_windows)
    th_error = _th_error_bound(th, th_of_state[rows_state], rows_window, n_windows, n)
    hamming = _hamming(model, bits[rows_state], rows_window, rows_prob, n_windows)

    projected = keys & pack_flags(~internal)
    shown, code = np.unique(projected, axis=0, return_inverse=True)
    names = state_names(shown, model.names, ~internal)
    window, state, probability = _sum_by_window(rows_window, code.ravel()[rows_state], rows_prob, len(shown))
    entropy = np.bincount(window, weights=-probability * np.log2(probability), minlength=n_windows)
    lost = np.flatnonzero(result.overflow_prob > 0)
    if len(lost):
        names.append(NOT_KEPT)
        window = np.concatenate([window, lost])
        state = np.concatenate([state, np.full(len(lost), len(names) - 1)])
        probability = np.concatenate([probability, result.overflow_prob[lost]])
    order = np.lexsort((-probability, window))
    window, state, probability = window[order], state[order], probability[order]
    error = np.sqrt(np.clip(probability * (1 - probability), 0.0, None) / n)
    epilogue = time.perf_counter() - clock

    clock = time.perf_counter()
    extra = dict(config.extra)
    count = min(int(extra.get("statdist_traj_count", 0)), config.sample_count)
    trajectories = _stationary_distributions(full, model, config, count)
    clusters = cluster_distributions(trajectories, float(extra.get("statdist_cluster_threshold", 1.0)))
    info = RunInfo(
        started=started,
        ended=_dt.datetime.now(),
        core_elapsed_s=float(result.meta["elapsed_s"]),
        core_cpu_s=core_cpu,
        epilogue_s=epilogue,
        statdist_s=time.perf_counter() - clock,
        threads=int(result.meta["threads"]),
        flips=int(result.meta["flips"]),
    )
    return MabossRun(
        model=model,
        config=config,
        times=result.times,
        th=th,
        th_error=th_error,
        entropy=entropy,
        hamming=hamming,
        window=window,
        state=state,
        probability=probability,
        error=error,
        state_names=tuple(names),
        fixed_points=result.fixed_points(),
        trajectories=tuple(trajectories),
        clusters=tuple(clusters),
        info=info,
    )


def transition_entropy(rates: np.ndarray, internal: np.ndarray) -> np.ndarray:
    """MaBoSS's TH of each state: the entropy (bits) of which non-internal node flips next.

    ``rates`` is (states, nodes), each node's flip rate; internal nodes' flips are left out
    and the other rates renormalised. A state where no non-internal node can flip has TH 0,
    and so has every state of a one-node network, as in MaBoSS.

    Examples
    --------
    >>> transition_entropy(np.array([[1.0, 1.0, 5.0], [0.0, 0.0, 5.0]]), np.array([False, False, True]))
    array([1., 0.])
    """
    if rates.shape[1] == 1:
        return np.zeros(len(rates))
    visible = rates[:, ~internal]
    total = visible.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(total > 0, visible / total, 0.0)
        terms = np.where(p > 0, -p * np.log2(p), 0.0)
    return terms.sum(axis=1)


def cluster_distributions(distributions: Sequence[Mapping[str, float]], threshold: float) -> list[Cluster]:
    """Group stationary distributions as MaBoSS does, with each group's mean distribution.

    The similarity of two distributions is the product of the probabilities each gives to
    the states both visit; a cluster holds the trajectories linked by similarities at least
    ``threshold`` (single linkage), and clusters are numbered by their first trajectory.

    Examples
    --------
    >>> [c.members for c in cluster_distributions([{"A": 1.0}, {"B": 0.5, "A": 0.5}, {"A": 1.0}], 1.0)]
    [(0, 2), (1,)]
    """
    if not distributions:
        return []
    states = sorted(set().union(*distributions))
    column = {s: j for j, s in enumerate(states)}
    dense = np.zeros((len(distributions), len(states)))
    for i, dist in enumerate(distributions):
        for s, p in dist.items():
            dense[i, column[s]] = p
    shared = dense @ (dense > 0).T  # shared[i, j]: what distribution i gives to j's states
    linked = shared * shared.T >= threshold - _SIMILARITY_SLACK
    label = np.full(len(distributions), -1)
    clusters: list[Cluster] = []
    for first in range(len(distributions)):
        if label[first] >= 0:
            continue
        label[first], stack = len(clusters), [first]
        while stack:
            for j in np.flatnonzero(linked[stack.pop()] & (label < 0)):
                label[j] = len(clusters)
                stack.append(int(j))
        members = np.flatnonzero(label == len(clusters))
        clusters.append(Cluster(tuple(int(m) for m in members), _mean_distribution(dense[members], states)))
    return clusters


def _mean_distribution(dense: np.ndarray, states: Sequence[str]) -> dict[str, tuple[float, float]]:
    """Mean probability of each state over the rows, with its standard error."""
    size = len(dense)
    mean, mean_square = dense.mean(axis=0), (dense**2).mean(axis=0)
    variance = (mean_square - mean**2) / (size - 1) if size > 1 else np.zeros_like(mean)
    error = np.where(variance > np.finfo(float).tiny ** 2, np.sqrt(np.clip(variance, 0.0, None)), 0.0)
    order = np.argsort(-mean, kind="stable")
    return {states[j]: (float(mean[j]), float(error[j])) for j in order if mean[j] > 0}


def _stationary_distributions(
    full: CompiledModel, model: Model, config: SimulationConfig, count: int
) -> list[dict[str, float]]:
    """Time spent in each reference-node state by ``count`` single trajectories, as fractions."""
    reference = pack_flags(np.array([n.refstate is not None for n in model.nodes], dtype=bool))
    out = []
    for k in range(count):
        seed = int(np.random.SeedSequence([config.seed, k]).generate_state(1, np.uint64)[0] >> np.uint64(1))
        one = simulate(full, config.with_(sample_count=1, threads=1, seed=seed), states=True)
        kept = one.require_states()
        shown, code = np.unique(kept.keys & reference, axis=0, return_inverse=True)
        time_in = np.bincount(code.ravel()[kept.index], weights=kept.probability, minlength=len(shown))
        names = state_names(shown, model.names)
        order = np.argsort(-time_in, kind="stable")
        out.append({names[j]: float(time_in[j] / time_in.sum()) for j in order if time_in[j] > 0})
    return out


def _unpack(keys: np.ndarray, n: int) -> np.ndarray:
    """(states, n) 0/1 matrix of packed states (node ``k`` is bit ``k % 64`` of word ``k // 64``)."""
    k = np.arange(n)
    return ((keys[:, k // 64] >> (k % 64).astype(np.uint64)) & np.uint64(1)).astype(np.uint8)


def _flip_rates(compiled: CompiledModel, bits: np.ndarray) -> np.ndarray:
    """(states, nodes) flip rate of every node in every state, read off the kernel's rate tables."""
    s = compiled.structure
    table = runtime_arrays(s).start.rate_table
    rates = np.empty(bits.shape)
    for k in range(bits.shape[1]):
        regulators = s.reg_idx[s.reg_ptr[k] : s.reg_ptr[k + 1]]
        index = bits[:, regulators].astype(np.int64) @ (np.int64(1) << np.arange(len(regulators), dtype=np.int64))
        rates[:, k] = table[s.tab_ptr[k] + index]
    return rates


def _th_error_bound(th: np.ndarray, row_th: np.ndarray, window: np.ndarray, n_windows: int, n: int) -> np.ndarray:
    """Per window, ``sqrt((M - TH)(TH - m) / N)`` with ``m``, ``M`` the extreme TH of its states."""
    low, high = np.full(n_windows, np.inf), np.full(n_windows, -np.inf)
    np.minimum.at(low, window, row_th)
    np.maximum.at(high, window, row_th)
    spread = np.where(np.isfinite(low), (high - th) * (th - low), 0.0)
    return np.sqrt(np.clip(spread, 0.0, None) / n)


def _hamming(model: Model, bits: np.ndarray, window: np.ndarray, probability: np.ndarray, n_windows: int) -> np.ndarray:
    """(windows, reference nodes + 1): probability of each distance to the reference state."""
    reference = [(k, node.refstate) for k, node in enumerate(model.nodes) if node.refstate is not None]
    width = len(reference) + 1
    if reference:
        nodes, values = zip(*reference, strict=True)
        distance = (bits[:, list(nodes)] != np.array(values, dtype=np.uint8)).sum(axis=1)
    else:
        distance = np.zeros(len(bits), dtype=np.int64)
    flat = np.bincount(window * width + distance, weights=probability, minlength=n_windows * width)
    return flat.reshape(n_windows, width)


def _sum_by_window(
    window: np.ndarray, state: np.ndarray, probability: np.ndarray, n_states: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Add up rows that share a (window, state) pair."""
    pair, where = np.unique(window.astype(np.int64) * n_states + state, return_inverse=True)
    return pair // n_states, pair % n_states, np.bincount(where.ravel(), weights=probability)
