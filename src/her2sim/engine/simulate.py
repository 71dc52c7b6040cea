"""Run the continuous-time stochastic simulation (MaBoSS semantics) on all cores.

Trajectories are split into contiguous ranges, one per thread; each thread runs the
compiled kernel (which releases the GIL) on its own accumulators, and the accumulators are
added up at the end. Trajectory *i* always draws from the random stream keyed by
(seed, i), so the result does not depend on the thread count. Memory is set by the number
of windows and of distinct states, never by the number of trajectories.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from her2sim.engine._kernel import ROW_EXTRA, empty_state_table
from her2sim.engine._merge import merge_counts, merge_state_windows
from her2sim.engine.compile import CompiledModel, compile_model
from her2sim.engine.result import SimulationResult
from her2sim.engine.scenario import RuntimeArrays, Scenario, runtime_arrays
from her2sim.errors import ConfigError
from her2sim.model.config import SimulationConfig
from her2sim.model.network import Model

__all__ = ["simulate", "simulate_batch"]

_NEED_GROW = 1
_CHUNK = 2048  # trajectories between progress reports
ProgressFn = Callable[[int], None]


@dataclass
class _Accumulators:
    """One thread's running sums.

    ``node_acc`` is dense (node x window, plus difference columns). States go to two
    open-addressing hash tables: ``state_keys`` gives each distinct state a slot, and the
    sparse ``pair_keys``/``pair_vals`` table holds the time per (slot, window) pair, since
    most states are visited in a few windows only. Final states and fixed points are counted
    in tables of their own. The thread grows every table when the kernel asks.
    """

    node_acc: np.ndarray
    state_keys: np.ndarray
    state_used: np.ndarray
    pair_keys: np.ndarray
    pair_vals: np.ndarray
    pair_used: np.ndarray
    overflow_acc: np.ndarray
    final_keys: np.ndarray
    final_count: np.ndarray
    final_used: np.ndarray
    fixed_keys: np.ndarray
    fixed_count: np.ndarray
    fixed_used: np.ndarray
    late_acc: np.ndarray
    flips: int = 0

    @classmethod
    def new(cls, n: int, n_words: int, n_windows: int, keep_states: bool) -> _Accumulators:
        cap = 4096 if keep_states else 2
        return cls(
            node_acc=np.zeros((n, 2 * n_windows + 1)),
            state_keys=empty_state_table(cap, n_words),
            state_used=np.zeros(1, dtype=np.int64),
            pair_keys=np.full(4 * cap, -1, dtype=np.int64),
            pair_vals=np.zeros(4 * cap),
            pair_used=np.zeros(1, dtype=np.int64),
            overflow_acc=np.zeros((1, 2 * n_windows + 1)),
            final_keys=empty_state_table(cap, n_words),
            final_count=np.zeros(cap, dtype=np.int64),
            final_used=np.zeros(1, dtype=np.int64),
            fixed_keys=empty_state_table(64, n_words),
            fixed_count=np.zeros(64, dtype=np.int64),
            fixed_used=np.zeros(1, dtype=np.int64),
            late_acc=np.zeros((n, 2)),
        )

    def grow(self, module: Any, state_limit: int) -> None:
        """Double every table that is half full (the state tables up to ``state_limit``)."""
        if 2 * self.state_used[0] > self.state_keys.shape[0] and self.state_keys.shape[0] < state_limit:
            self.state_keys = _rehash_states(module, self.state_keys)
        if 2 * self.pair_used[0] > self.pair_keys.shape[0] and self.pair_keys.shape[0] < 8 * state_limit:
            self.pair_keys, self.pair_vals = _rehash_pairs(module, self.pair_keys, self.pair_vals, self.pair_used)
        if 2 * self.final_used[0] > self.final_keys.shape[0]:
            self.final_keys = _rehash_states(module, self.final_keys)
            self.final_count = _grown(self.final_count, self.final_keys.shape[0])
        if 2 * self.fixed_used[0] > self.fixed_keys.shape[0]:
            self.fixed_keys = _rehash_states(module, self.fixed_keys)
            self.fixed_count = _grown(self.fixed_count, self.fixed_keys.shape[0])

    def flush(self, module: Any, n_windows: int) -> None:
        """Move the states' pending window times into the pair table, growing it first."""
        while 2 * (self.pair_used[0] + self.state_used[0]) > self.pair_keys.shape[0]:
            self.pair_keys, self.pair_vals = _rehash_pairs(module, self.pair_keys, self.pair_vals, self.pair_used)
        module.flush_pending(self.state_keys, self.state_keys.view(np.float64),
                             self.pair_keys, self.pair_vals, self.pair_used, n_windows)  # fmt: skip

    def can_grow(self, state_limit: int) -> bool:
        """Whether the state tables may still grow (else new states count as overflow)."""
        return self.state_keys.shape[0] < state_limit or self.pair_keys.shape[0] < 8 * state_limit


def _rehash_states(module: Any, keys: np.ndarray) -> np.ndarray:
    """A table twice as large holding the same states under the same ids."""
    new_keys = empty_state_table(2 * keys.shape[0], keys.shape[1] - ROW_EXTRA)
    module.rehash_states(keys, new_keys)
    return new_keys


def _grown(values: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros(size, dtype=values.dtype)
    out[: len(values)] = values
    return out


def _rehash_pairs(module: Any, keys: np.ndarray, vals: np.ndarray, used: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    new_keys = np.full(2 * keys.shape[0], -1, dtype=np.int64)
    new_vals = np.zeros(2 * keys.shape[0])
    counter = np.zeros(1, dtype=np.int64)
    module.rehash_pairs(keys, vals, new_keys, new_vals, counter)
    used[0] = counter[0]
    return new_keys, new_vals


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
    acc = _Accumulators.new(len(compiled.model), compiled.n_words, config.n_windows, keep_states)
    status = np.zeros(3, dtype=np.int64)
    kernel = compiled.kernel.run_trajectories
    state_limit = 1
    while state_limit < 2 * config.max_states:
        state_limit *= 2
    structure = compiled.structure
    position = start
    while position < stop:
        chunk_end = min(stop, position + _CHUNK)
        kernel(
            position, chunk_end, config.seed,
            arrays.rate_table, structure.tab_ptr, structure.reg_ptr, structure.reg_idx,
            structure.dep_ptr, structure.dep_idx, structure.dep_bit,
            arrays.fixed, arrays.p_init,
            arrays.grp_ptr, arrays.grp_nodes, arrays.out_ptr, arrays.out_cum, arrays.out_vals,
            compiled.word_of, compiled.bit_of, compiled.state_mask,
            float(config.max_time), float(config.time_tick), config.n_windows, config.discrete_time,
            keep_states, acc.can_grow(state_limit),
            acc.node_acc, acc.state_keys, acc.state_used, acc.pair_keys, acc.pair_vals, acc.pair_used,
            acc.state_keys.view(np.float64), acc.overflow_acc,
            acc.final_keys, acc.final_count, acc.final_used,
            acc.fixed_keys, acc.fixed_count, acc.fixed_used,
            float(late_from), acc.late_acc,
            status,
        )  # fmt: skip
        if status[0] == _NEED_GROW:
            acc.grow(compiled.kernel, state_limit)
        if progress is not None and status[1] > position:
            progress(int(status[1] - position))
        position = int(status[1])
    acc.flips = int(status[2])
    if keep_states:
        acc.flush(compiled.kernel, config.n_windows)
    for table in (acc.node_acc, acc.overflow_acc):
        compiled.kernel.finish_spread(table, float(config.time_tick), config.n_windows)
    return acc


def _late_start(config: SimulationConfig, late_from: float | None) -> float:
    """Start of the late-time averaging interval: ``late_from``, or half of ``max_time``."""
    if late_from is None:
        return config.max_time / 2
    if not 0 <= late_from < config.max_time:
        raise ConfigError(f"late_from must be in [0, max_time = {config.max_time:g}), got {late_from}")
    return float(late_from)


def _check_memory(model: Model, config: SimulationConfig, threads: int) -> None:
    per_thread = 8 * config.n_windows * (len(model) + 2048)
    try:
        available = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return
    if per_thread * threads > available:
        raise ConfigError(
            f"{config.n_windows} windows x {len(model)} nodes x {threads} threads needs about "
            f"{per_thread * threads / 1e9:.1f} GB, more than the {available / 1e9:.1f} GB available; "
            "use a larger time_tick"
        )


def _simulate_arrays(
    compiled: CompiledModel,
    arrays: RuntimeArrays,
    config: SimulationConfig,
    keep_states: bool,
    progress: ProgressFn | None,
    late_from: float | None = None,
) -> SimulationResult:
    late_from = _late_start(config, late_from)
    threads = config.thread_count
    _check_memory(compiled.model, config, threads)
    bounds = np.linspace(0, config.sample_count, threads + 1).astype(np.int64)
    started = time.perf_counter()
    if not compiled.kernel.run_trajectories.signatures:
        # the first call in a process loads (or compiles) the kernel: keep it out of the timing
        _run_range(compiled, arrays, config.with_(sample_count=1), 0, 1, keep_states, late_from, None)
    compile_s = time.perf_counter() - started
    started = time.perf_counter()
    if threads == 1:
        parts = [_run_range(compiled, arrays, config, 0, config.sample_count, keep_states, late_from, progress)]
    else:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            futures = [
                pool.submit(_run_range, compiled, arrays, config, int(a), int(b), keep_states, late_from, progress)
                for a, b in itertools.pairwise(bounds)
            ]
            parts = [f.result() for f in futures]
    elapsed = time.perf_counter() - started
    w = config.n_windows
    node_time = sum(p.node_acc[:, :w] for p in parts)
    states = merge_state_windows([(p.state_keys, p.pair_keys, p.pair_vals) for p in parts], w, config.time_tick)
    finals = merge_counts([(p.final_keys, p.final_count) for p in parts])
    fixed = merge_counts([(p.fixed_keys, p.fixed_count) for p in parts])
    overflow = sum(p.overflow_acc[:, :w] for p in parts)[0]
    return SimulationResult.from_sums(
        compiled.model,
        config,
        node_time=node_time,
        states=states if keep_states else None,
        overflow=overflow,
        finals=finals if keep_states else None,
        fixed_points=fixed,
        elapsed=elapsed,
        threads=threads,
        flips=sum(p.flips for p in parts),
        compile_s=compile_s,
        late=(late_from, sum(p.late_acc for p in parts)),
    )


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
        Runtime changes (parameters, rate multipliers, fixed nodes, initial states).
    states:
        Also keep full-state probabilities, final states and entropy (costs a hash look-up
        per flip); node probabilities and fixed points are always kept.
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
    result = _simulate_arrays(compiled, arrays, config, states, progress, late_from)
    return result.with_scenario(scenario)


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
    """
    compiled = model if isinstance(model, CompiledModel) else compile_model(model)
    config = config or SimulationConfig()
    arrays = [runtime_arrays(compiled.structure, s) for s in scenarios]
    return [
        _simulate_arrays(compiled, a, config, states, progress, late_from).with_scenario(s)
        for a, s in zip(arrays, scenarios, strict=True)
    ]
