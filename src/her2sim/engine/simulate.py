"""Run the continuous-time stochastic simulation (MaBoSS semantics) on all cores.

Trajectories are split into contiguous ranges, one per thread; each thread runs the
compiled kernel (which releases the GIL) on its own accumulators, and the accumulators are
added up at the end. Trajectory *i* always draws from the random stream keyed by
(seed, i), so the result does not depend on the thread count. Memory is set by the number
of windows and of distinct states, never by the number of trajectories.
"""

from __future__ import annotations

import functools
import itertools
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from her2sim.engine._kernel import Clock, Sums, empty_table
from her2sim.engine._merge import merge_counts, merge_final_counts, merge_state_windows
from her2sim.engine._stays import flush_stays, kept_rows, key_layout, new_rows, new_stays
from her2sim.engine._windows import finish_spread
from her2sim.engine.compile import CompiledModel, compile_model
from her2sim.engine.memory import available_memory, default_max_states
from her2sim.engine.result import NOT_KEPT, SimulationResult
from her2sim.engine.scenario import RuntimeArrays, Scenario, runtime_arrays
from her2sim.engine.work import check_work, estimate_work
from her2sim.errors import ConfigError, Her2simWarning
from her2sim.model.config import SimulationConfig
from her2sim.model.network import Model

__all__ = ["simulate", "simulate_batch"]

_CHUNK = 2048  # trajectories between progress reports
_FIRST_CAPACITY = 4096  # rows of a state table at the start; tables double as they fill
#: Scenarios per thread from which a batch runs each scenario on one thread (see simulate_batch).
_SCENARIOS_PER_THREAD = 2
ProgressFn = Callable[[int], None]


@dataclass
class _Accumulators:
    """One thread's running sums.

    ``sums`` keep their size (see :class:`her2sim.engine._kernel.Sums`). Stays in states go
    to the buffer ``stays``, sorted into the aggregate ``state_rows`` by (state, window) when
    full (see :mod:`her2sim.engine._stays`); ``final_table`` (states at ``max_time``) and
    ``fixed_table`` (fixed points) are hash tables. The kernel grows the aggregate and tables
    as they fill (each up to ``max_states`` rows in use) and hands them back.
    """

    sums: Sums
    stays: np.ndarray
    state_rows: np.ndarray
    final_table: np.ndarray
    fixed_table: np.ndarray

    @classmethod
    def new(cls, n: int, n_words: int, n_key: int, n_windows: int, keep_states: bool) -> _Accumulators:
        sums = Sums(
            node_acc=np.zeros((n, 2 * n_windows + 1)),
            overflow_acc=np.zeros((1, 2 * n_windows + 1)),
            n_stays=np.zeros(2, dtype=np.int64),
            state_info=np.zeros(2, dtype=np.int64),
            final_used=np.zeros(1, dtype=np.int64),
            fixed_used=np.zeros(1, dtype=np.int64),
            late_acc=np.zeros((n, 2)),
            counters=np.zeros(3, dtype=np.int64),
        )
        return cls(
            sums=sums,
            stays=new_stays(n_key) if keep_states else new_stays(n_key, 0),
            state_rows=new_rows(n_key),
            final_table=empty_table(_FIRST_CAPACITY if keep_states else 2, n_words),
            fixed_table=empty_table(64, n_words),
        )


def _run_range(
    compiled: CompiledModel,
    arrays: RuntimeArrays,
    config: SimulationConfig,
    start: int,
    stop: int,
    keep_states: bool,
    late_from: float,
    progress: ProgressFn | None,
) -> _Accumulators:
    n_key, shift = key_layout(compiled.rules.state_mask, config.n_windows)
    acc = _Accumulators.new(len(compiled.model), compiled.n_words, n_key, config.n_windows, keep_states)
    kernel = compiled.kernel.run_trajectories
    assert config.max_states is not None, "sized by _with_state_bound before any run"
    clock = Clock(
        float(config.max_time), float(config.time_tick), config.n_windows, config.discrete_time, keep_states,
        config.max_states, float(late_from),
    )  # fmt: skip
    # an empty range still calls the kernel once, which loads (or compiles) it
    for position in range(start, stop, _CHUNK) or (start,):
        chunk_end = min(stop, position + _CHUNK)
        acc.state_rows, acc.final_table, acc.fixed_table = kernel(
            position, chunk_end, config.seed, compiled.rules, arrays.start, clock, acc.sums,
            acc.stays, acc.state_rows, acc.final_table, acc.fixed_table,
        )  # fmt: skip
        if progress is not None:
            progress(chunk_end - position)
    sums = acc.sums
    acc.state_rows = flush_stays(
        acc.stays, sums.n_stays, acc.state_rows, sums.state_info, config.max_states, shift, sums.overflow_acc
    )
    acc.stays = new_stays(n_key, 0)  # the buffer's pages go back now, in this thread
    for table in (sums.node_acc, sums.overflow_acc):
        finish_spread(table, float(config.time_tick), config.n_windows)
    return acc


@functools.cache
def _worker_pool(threads: int) -> ThreadPoolExecutor:
    """One pool of worker threads per thread count, kept for the process: a batch of many
    small scenarios would otherwise spend a third of its time starting threads."""
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="her2sim-engine")


def _late_start(config: SimulationConfig, late_from: float | None) -> float:
    """Start of the late-time averaging interval: ``late_from``, or half of ``max_time``."""
    if late_from is None:
        return config.max_time / 2
    if not 0 <= late_from < config.max_time:
        raise ConfigError(f"late_from must be in [0, max_time = {config.max_time:g}), got {late_from}")
    return float(late_from)


def _check_memory(model: Model, config: SimulationConfig, threads: int) -> None:
    per_thread = 8 * config.n_windows * (len(model) + 2048)
    available = available_memory()
    if available is not None and per_thread * threads > available:
        raise ConfigError(
            f"{config.n_windows} windows x {len(model)} nodes x {threads} threads needs about "
            f"{per_thread * threads / 1e9:.1f} GB, more than the {available / 1e9:.1f} GB available; "
            "use a larger time_tick"
        )


def _with_state_bound(config: SimulationConfig, n_nodes: int, threads: int) -> SimulationConfig:
    """``config`` with ``max_states`` set: as given, or sized from the memory available now."""
    if config.max_states is not None:
        return config
    return config.with_(max_states=default_max_states(n_nodes, threads))


def _incomplete(result: SimulationResult, sized: bool) -> str:
    """One line on the state probability a run could not break down into states, and the fix."""
    lost = result.overflow_prob
    parts = []
    if lost.size and lost.max() > 0:
        worst = int(lost.argmax())
        parts.append(f"{np.count_nonzero(lost)} of {lost.size} windows lost up to {lost[worst]:.1%} of their "
                     f"probability (t={result.times[worst]:g})")  # fmt: skip
    for key, what in (("final_overflow", "final states"), ("fixed_point_overflow", "fixed points")):
        if result.meta[key] > 0:
            parts.append(f"{result.meta[key]:.1%} of the {what} were not kept")
    bound = f"max_states {result.meta['max_states']:,} per thread{', sized from the memory available' if sized else ''}"
    return (
        f"state statistics are incomplete ({bound}): {'; '.join(parts)}; what was lost is the row '{NOT_KEPT}' "
        "of the state tables. Raise max_states (--max-states) if memory allows, or use a larger time_tick "
        "or fewer trajectories"
    )


def _simulate_arrays(
    compiled: CompiledModel,
    arrays: RuntimeArrays,
    config: SimulationConfig,
    keep_states: bool,
    progress: ProgressFn | None,
    late_from: float | None,
    scenario: Scenario | None,
) -> SimulationResult:
    late_from = _late_start(config, late_from)
    threads = config.thread_count
    sized = config.max_states is None
    config = _with_state_bound(config, len(compiled.model), threads)
    _check_memory(compiled.model, config, threads)
    bounds = np.linspace(0, config.sample_count, threads + 1).astype(np.int64)
    started = time.perf_counter()
    if not compiled.kernel.run_trajectories.signatures:
        # the first call in a process loads (or compiles) the kernel: keep it out of the timing
        _run_range(compiled, arrays, config, 0, 0, keep_states, late_from, None)
    compile_s = time.perf_counter() - started

    def pilot(trial: SimulationConfig) -> int:
        return int(_run_range(compiled, arrays, trial, 0, trial.sample_count, False, 0.0, None).sums.counters[0])

    check_work(estimate_work(compiled, arrays, config, pilot), config)
    started = time.perf_counter()
    if threads == 1:
        parts = [_run_range(compiled, arrays, config, 0, config.sample_count, keep_states, late_from, progress)]
    else:
        pool = _worker_pool(threads)
        futures = [
            pool.submit(_run_range, compiled, arrays, config, int(a), int(b), keep_states, late_from, progress)
            for a, b in itertools.pairwise(bounds)
        ]
        parts = [f.result() for f in futures]
    elapsed = time.perf_counter() - started
    w = config.n_windows
    node_time = np.sum([p.sums.node_acc[:, :w] for p in parts], axis=0)
    states = None
    fixed_tables = [p.fixed_table for p in parts], [int(p.sums.fixed_used[0]) for p in parts]
    if keep_states:
        aggregates = [kept_rows(p.state_rows, p.sums.state_info) for p in parts]
        for p in parts:
            p.state_rows = new_rows(0)  # the aggregates are freed as they are merged
        windows = merge_state_windows(
            aggregates, w, config.time_tick, key_layout(compiled.rules.state_mask, w)[1], threads
        )
        final, fixed = merge_final_counts(
            [p.final_table for p in parts], [int(p.sums.final_used[0]) for p in parts], *fixed_tables,
            compiled.rules.state_mask,
        )  # fmt: skip
        states = (windows, final)
    else:
        fixed = merge_counts(*fixed_tables)
    overflow = np.sum([p.sums.overflow_acc[:, :w] for p in parts], axis=0)[0]
    counters = np.sum([p.sums.counters for p in parts], axis=0)
    result = SimulationResult.from_sums(
        compiled.model,
        config,
        node_time=node_time,
        states=states,
        overflow=overflow,
        fixed_points=fixed,
        late=(late_from, np.sum([p.sums.late_acc for p in parts], axis=0)),
        scenario=scenario,
        elapsed=elapsed,
        threads=threads,
        flips=int(counters[0]),
        refused=(int(counters[1]), int(counters[2])),
        compile_s=compile_s,
    )
    if result.state_overflow > 0:
        warnings.warn(_incomplete(result, sized), Her2simWarning, stacklevel=3)
    return result


def simulate(
    model: Model | CompiledModel,
    config: SimulationConfig | None = None,
    scenario: Scenario | None = None,
    *,
    states: bool = True,
    progress: ProgressFn | None = None,
    late_from: float | None = None,
) -> SimulationResult:
    """Simulate ``model`` with MaBoSS semantics and return time-windowed statistics.

    Parameters
    ----------
    model:
        A model, or one already compiled (to skip the cache look-up).
    config:
        Run settings; the defaults of :class:`SimulationConfig` when omitted.
    scenario:
        Runtime changes (parameters, rate multipliers, fixed nodes, initial states), recorded
        as the result's ``scenario``.
    states:
        Also keep full-state probabilities, final states and entropy (the result's
        ``state_statistics``; costs a buffered record per flip, sorted in batches); node
        probabilities and fixed points are always kept.
    progress:
        Called with the number of trajectories just finished (from worker threads).
    late_from:
        Start of the late-time interval whose per-trajectory node averages give
        :meth:`SimulationResult.late_nodes` (mean and standard error); default ``max_time / 2``.

    Examples
    --------
    >>> from her2sim.formats.maboss import parse_maboss
    >>> model, _ = parse_maboss("Node A { rate_up = 1; rate_down = 0; }", "A.istate = 0;")
    >>> result = simulate(model, SimulationConfig(max_time=2, time_tick=1, sample_count=20000, seed=1))
    >>> round(float(result.nodes()["A"].iloc[1]), 1)  # mean of 1 - exp(-t) over [1, 2)
    0.8
    """
    compiled = model if isinstance(model, CompiledModel) else compile_model(model)
    config = config or SimulationConfig()
    arrays = runtime_arrays(compiled.structure, scenario)
    return _simulate_arrays(compiled, arrays, config, states, progress, late_from, scenario)


def simulate_batch(
    model: Model | CompiledModel,
    scenarios: Sequence[Scenario],
    config: SimulationConfig | None = None,
    *,
    states: bool = False,
    progress: ProgressFn | None = None,
    late_from: float | None = None,
) -> list[SimulationResult]:
    """Simulate many scenarios of one network with one compiled kernel.

    Every scenario is checked before any simulation starts, so a bad name in the last one
    fails at once rather than after the others ran.

    With at least :data:`_SCENARIOS_PER_THREAD` scenarios per thread, each scenario runs whole
    on one thread, ``threads`` of them at a time: a small scenario split over the threads
    spends much of its time waiting for the slower part. Trajectory *i* draws the same stream
    either way, so the results do not change (up to the order of floating-point sums), and
    ``max_states`` is sized for all the threads together.
    """
    compiled = model if isinstance(model, CompiledModel) else compile_model(model)
    config = config or SimulationConfig()
    arrays = [runtime_arrays(compiled.structure, s) for s in scenarios]
    threads = config.thread_count
    if len(scenarios) < _SCENARIOS_PER_THREAD * threads:
        return [
            _simulate_arrays(compiled, a, config, states, progress, late_from, s)
            for a, s in zip(arrays, scenarios, strict=True)
        ]
    alone = _with_state_bound(config, len(compiled.model), threads).with_(threads=1)
    _check_memory(compiled.model, alone, threads)  # each scenario checks one thread; `threads` run at once
    pool = _worker_pool(threads)
    futures = [
        pool.submit(_simulate_arrays, compiled, a, alone, states, progress, late_from, s)
        for a, s in zip(arrays, scenarios, strict=True)
    ]
    try:
        return [f.result() for f in futures]
    finally:  # after a failure, scenarios not yet started are not run
        for future in futures:
            future.cancel()
