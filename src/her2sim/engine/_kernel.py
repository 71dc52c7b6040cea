"""The simulation loops: one Numba kernel for every model, compiled once and cached on disk.

A model reaches the kernel as data (see :mod:`her2sim.engine.tables`): for each node a table
of flip rates indexed by the states of its regulators, and the lists that say which nodes
read which. Everything that varies between scenarios (the tables' values, fixed nodes,
initial-state probabilities, seeds) is a runtime argument, so a screen of thousands of
scenarios runs through one compiled kernel.

Continuous-time semantics are MaBoSS's: in state ``x`` each node ``k`` flips at rate
``rate_up`` when off and ``rate_down`` when on; the time to the next flip is exponential
with the total rate; the node that flips is drawn in proportion to its rate; a state whose
total rate is zero is a fixed point, held until ``max_time``. The total is kept up to date
as rates change; the flipping node is drawn by rejection (a uniformly drawn active node kept
with probability rate / the largest rate) while that needs few draws, as with the equal rates of
most published models, and by a scan of the active nodes otherwise. After a flip only the table
indices of the nodes that read the flipped node change (one XOR each); a wide node (one
Shannon-expanded into tests and several tables, see :mod:`her2sim.engine.tables`) that reads
it has its tests walked again instead, in a loop of its own that models without wide nodes
never enter.

A stay in a state is appended, when it ends, to a per-thread buffer that is sorted into the
thread's statistics when full (:mod:`her2sim.engine._stays`): no hash probe per flip. Final
states and fixed points, one per trajectory, go to open-addressing hash tables keyed by
(state, column), grown inside the kernel; a trajectory that ends at a fixed point is counted
in the fixed-point table only, which stands for its final state when the threads' tables are
merged (:func:`her2sim.engine._merge.merge_final_counts`).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from her2sim.engine._intrinsics import as_bits, as_float, prefetch_row
from her2sim.engine._stays import STAY_ROWS, flush_stays, keep_stay, key_layout
from her2sim.engine._windows import spread

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_INV53 = 1.0 / 9007199254740992.0
_HASH_SEED = np.uint64(0x243F6A8885A308D3)
EMPTY = np.uint64(0xFFFFFFFFFFFFFFFF)
#: A row bound that never binds (merging keeps every row the threads kept).
UNBOUNDED = 1 << 62
#: Flips between two exact sums of the total rate (kept up to date by differences in between).
RESUM_FLIPS = 256
#: Selection by rejection while the rate bound times the active nodes is at most this many
#: times the total rate (so at most this many draws are expected); a scan of the active nodes else.
REJECTION_SPAN = 2.0
#: How many rows ahead bulk table loops prefetch (enough to cover a main-memory access).
PREFETCH_AHEAD = 16


class Rules(NamedTuple):
    """A compiled network as the kernel reads it; fixed per model (see
    :mod:`her2sim.engine.tables` for the tables, :mod:`her2sim.engine.compile` for the layout)."""

    tab_ptr: np.ndarray  #: node -> first entry of its rate table
    reg_ptr: np.ndarray  #: node -> first of its regulators in ``reg_idx``
    reg_idx: np.ndarray  #: regulators, node by node
    dep_ptr: np.ndarray  #: node -> first of its readers in ``dep_idx``
    dep_idx: np.ndarray  #: nodes whose table index changes when a node flips
    dep_bit: np.ndarray  #: the bit of that index the flip toggles
    wide_ptr: np.ndarray  #: node -> first of its wide readers in ``wide_idx``
    wide_idx: np.ndarray  #: wide nodes (Shannon-expanded) that read a node
    root: np.ndarray  #: ``~k`` for a one-table node, else the first test of its expansion
    tests: np.ndarray  #: the expansion tests of wide nodes
    word_of: np.ndarray  #: node -> word of the packed state
    bit_of: np.ndarray  #: node -> bit in that word
    state_mask: np.ndarray  #: the bits of the visible (non-internal) nodes


class Start(NamedTuple):
    """What one scenario changes: flip rates, fixed nodes and the initial-state distribution
    (built by :func:`her2sim.engine.scenario.runtime_arrays`)."""

    rate_table: np.ndarray
    fixed: np.ndarray
    p_init: np.ndarray
    grp_ptr: np.ndarray
    grp_nodes: np.ndarray
    out_ptr: np.ndarray
    out_cum: np.ndarray
    out_vals: np.ndarray


class Clock(NamedTuple):
    """How to run: the time span and its windows, and what to record."""

    max_time: float
    tick: float
    n_windows: int
    discrete: bool
    keep_states: bool
    max_rows: int  #: rows in use each state table may grow to
    late_from: float  #: start of the late-time averaging interval


class Sums(NamedTuple):
    """One thread's running sums that keep their size (the growing tables travel apart)."""

    node_acc: np.ndarray  #: node x window time on, plus difference columns
    overflow_acc: np.ndarray  #: time in stays that found no room, by window
    n_stays: np.ndarray  #: rows and stays in the stay buffer
    state_info: np.ndarray  #: rows in use of the aggregate, refusal flag
    final_used: np.ndarray  #: rows in use of the final-state table
    fixed_used: np.ndarray  #: rows in use of the fixed-point table
    late_acc: np.ndarray  #: node x (late fraction on, its square), summed over trajectories
    counters: np.ndarray  #: flips, then final states and fixed points that found no room


@njit(cache=True, nogil=True, inline="always")
def _mix(z):
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@njit(cache=True, nogil=True, inline="always")
def _uniform(rng):
    """Next uniform double in [0, 1) of a splitmix64 stream held in ``rng[0]``."""
    rng[0] += _GOLDEN
    return float(_mix(rng[0]) >> np.uint64(11)) * _INV53


@njit(cache=True, nogil=True)
def _seed_stream(rng, seed, index):
    """Key the stream of trajectory ``index`` by (seed, index), independent of threads."""
    rng[0] = _mix(np.uint64(seed) ^ _mix(np.uint64(index) + _GOLDEN))


# ---------------------------------------------------------------- statistics tables
#
# Final states and fixed points live in open-addressing hash tables keyed by (state, column).
# A row is ``n_words`` key words (the packed state, masked), the column (``EMPTY`` marks a
# free row; it is 0 for these counts) and a float64 value stored in the last word's bits.
# Keeping the key, column and value in one row makes an update a single cache-line visit.


@njit(cache=True, nogil=True)
def empty_table(capacity, n_words):
    """A statistics table of ``capacity`` (a power of two) free rows, for states of
    ``n_words`` words (callable from Python and from the kernels alike)."""
    return np.full((capacity, n_words + 2), EMPTY, dtype=np.uint64)


@njit(cache=True, nogil=True, inline="always")
def _key_hash(words, mask, n_words, col):
    """Hash of the key (``words & mask``, ``col``)."""
    h = _mix(np.uint64(col) ^ _HASH_SEED)
    for w in range(n_words):
        h = _mix(h ^ (words[w] & mask[w]))
    return h


@njit(cache=True, nogil=True, inline="always")
def _home(table, words, mask, n_words, col):
    """First row probed for (``words & mask``, ``col``)."""
    return np.int64(_key_hash(words, mask, n_words, col) & np.uint64(table.shape[0] - 1))


@njit(cache=True, nogil=True, inline="always")
def _slot(table, words, mask, n_words, col):
    """Row holding (``words & mask``, ``col``), or the free row where it belongs.

    Tables are never more than half full, so the probe always ends.
    """
    last = table.shape[0] - 1
    slot = _home(table, words, mask, n_words, col)
    while True:
        c = table[slot, n_words]
        if c == EMPTY:
            return slot
        if c == np.uint64(col):
            same = True
            for w in range(n_words):
                if table[slot, w] != (words[w] & mask[w]):
                    same = False
                    break
            if same:
                return slot
        slot = (slot + 1) & last


# The table update _add is left to LLVM's inliner: forcing Numba-level inlining of it made the
# kernel 10-25% slower (larger code), while the small helpers above it (hashing, probing) are
# inlined. _count, called once per trajectory (its final state and fixed point), is inlined:
# kernel CPU time with states, one thread, 300,000 trajectories of bbm_035 0.34-0.36 -> 0.32 s,
# 50,000 of bbm_096 0.127 -> 0.121 s, the HER2 model unchanged (1.86 s).
@njit(cache=True, nogil=True)
def _add(table, used, words, mask, n_words, col, value):
    """Add ``value`` to row (``words & mask``, ``col``), creating it when new."""
    slot = _slot(table, words, mask, n_words, col)
    if table[slot, n_words] == EMPTY:
        for w in range(n_words):
            table[slot, w] = words[w] & mask[w]
        table[slot, n_words] = np.uint64(col)
        table[slot, n_words + 1] = as_bits(value)
        used[0] += 1
    else:
        table[slot, n_words + 1] = as_bits(as_float(table[slot, n_words + 1]) + value)


@njit(cache=True, nogil=True, inline="always")
def _prefetch_key(table, keys, row, n_words, col, buffer):
    """Prefetch the first row of ``table`` probed for row ``row`` of ``keys`` (in ``col``)."""
    prefetch_row(table, np.int64(_row_hash(keys, row, buffer, n_words, col) & np.uint64(table.shape[0] - 1)))


@njit(cache=True, nogil=True)
def add_rows(dest, used, src):
    """Add every row of table ``src`` into ``dest`` (which must have room for them all)."""
    add_masked_rows(dest, used, src, np.full(src.shape[1] - 2, EMPTY, dtype=np.uint64))


@njit(cache=True, nogil=True)
def add_masked_rows(dest, used, src, mask):
    """Add every row of table ``src``, its key masked by ``mask``, into ``dest`` (which must
    have room for them all): rows whose keys differ only outside ``mask`` add up.

    The rows ``PREFETCH_AHEAD`` further on are fetched while the current one is added, so
    the cache misses of the random writes overlap instead of adding up (a masked key's
    prefetch may miss its row, which costs only the overlap).
    """
    n_words = src.shape[1] - 2
    key = np.empty(n_words, dtype=np.uint64)  # a copy, not a slice: slicing in the loop costs ~0.1 us
    ahead = np.empty(n_words, dtype=np.uint64)
    for row in range(src.shape[0]):
        later = row + PREFETCH_AHEAD
        if later < src.shape[0] and src[later, n_words] != EMPTY:
            _prefetch_key(dest, src, later, n_words, np.int64(src[later, n_words]), ahead)
        if src[row, n_words] != EMPTY:
            for w in range(n_words):
                key[w] = src[row, w]
            _add(dest, used, key, mask, n_words, np.int64(src[row, n_words]), as_float(src[row, n_words + 1]))


@njit(cache=True, nogil=True)
def _grown(table, used):
    """The same rows in a table twice as large."""
    bigger = empty_table(2 * table.shape[0], table.shape[1] - 2)
    moved = np.zeros(1, dtype=np.int64)
    add_rows(bigger, moved, table)
    used[0] = moved[0]
    return bigger


@njit(cache=True, nogil=True, inline="always")
def _crowded(table, used, rows):
    """Whether ``rows`` more rows would take ``table`` past half full."""
    return 2 * (used[0] + rows) > table.shape[0]


@njit(cache=True, nogil=True)
def with_room(table, used, rows, max_rows):
    """``table``, doubled as often as needed for ``rows`` more rows, unless that would take
    it past ``max_rows`` rows in use (then the caller refuses the rows)."""
    while _crowded(table, used, rows) and used[0] + rows <= max_rows:
        table = _grown(table, used)
    return table


@njit(cache=True, nogil=True, inline="always")
def _count(table, used, max_rows, words, mask, n_words, refused, which):
    """Count one visit of state ``words & mask``; ``refused[which] += 1`` when the table
    has ``max_rows`` rows in use."""
    if used[0] + 1 > max_rows:
        refused[which] += 1
    else:
        _add(table, used, words, mask, n_words, 0, 1.0)


@njit(cache=True, nogil=True, inline="always")
def _count_grown(table, used, max_rows, words, mask, n_words, refused, which):
    """:func:`_count` into ``table``, grown first when it is crowded; returns the table."""
    if _crowded(table, used, 1):
        table = with_room(table, used, 1, max_rows)
    _count(table, used, max_rows, words, mask, n_words, refused, which)
    return table


@njit(cache=True, nogil=True)
def read_rows(table, used, low, high):
    """(key words, column, value) of the rows of ``table`` whose column is in [low, high),
    in table order; ``used`` (rows in use) bounds their number. ``EMPTY`` marks free rows,
    so ``high = EMPTY`` reads every row in use from ``low`` on."""
    n_words = table.shape[1] - 2
    keys = np.empty((used, n_words), dtype=np.uint64)
    cols = np.empty(used, dtype=np.int64)
    values = np.empty(used, dtype=np.float64)
    count = 0
    for row in range(table.shape[0]):
        col = table[row, n_words]
        if low <= col < high:
            for w in range(n_words):
                keys[count, w] = table[row, w]
            cols[count] = np.int64(col)
            values[count] = as_float(table[row, n_words + 1])
            count += 1
    return keys[:count], cols[:count], values[:count]


@njit(cache=True, nogil=True, inline="always")
def _row_hash(keys, row, buffer, n_words, col):
    """:func:`_key_hash` of (row ``row`` of ``keys``, ``col``); the row is copied to
    ``buffer`` first (a slice in the loop would cost ~0.1 us) and serves as its own mask."""
    for w in range(n_words):
        buffer[w] = keys[row, w]
    return _key_hash(buffer, buffer, n_words, col)


@njit(cache=True, nogil=True)
def _initial_state(x, rng, p_init, fixed, grp_ptr, grp_nodes, out_ptr, out_cum, out_vals):
    n = x.shape[0]
    for k in range(n):
        x[k] = 1 if _uniform(rng) < p_init[k] else 0
    for g in range(grp_ptr.shape[0] - 1):
        u = _uniform(rng)
        first, last = out_ptr[g], out_ptr[g + 1]
        chosen = last - 1
        for o in range(first, last):
            if u < out_cum[o]:
                chosen = o
                break
        for j in range(grp_ptr[g + 1] - grp_ptr[g]):
            x[grp_nodes[grp_ptr[g] + j]] = out_vals[chosen, j]
    for k in range(n):
        if fixed[k] >= 0:
            x[k] = fixed[k]


@njit(cache=True, nogil=True, inline="always")
def _table_index(k, x, reg_ptr, reg_idx):
    """Index of segment ``k``'s current regulator states in its table."""
    idx = 0
    for b in range(reg_ptr[k + 1] - reg_ptr[k]):
        idx |= np.int64(x[reg_idx[reg_ptr[k] + b]]) << b
    return idx


@njit(cache=True, nogil=True, inline="always")
def _entry(k, x, root, tests, tab_ptr, reg_ptr, reg_idx):
    """Position of node ``k``'s entry for state ``x`` in the tables: in its own table, or for
    a wide node in the table its tests lead to (``tests`` rows are (node, ref if off, ref if
    on); a ref ``r < 0`` is segment ``~r``)."""
    r = root[k]
    while r >= 0:
        r = tests[r, 2] if x[tests[r, 0]] else tests[r, 1]
    s = ~r
    return tab_ptr[s] + _table_index(s, x, reg_ptr, reg_idx)


@njit(cache=True, nogil=True)
def _walk_wide_readers(
    k, x, wide_ptr, wide_idx, root, tests, tab_ptr, reg_ptr, reg_idx, rate_table, rates, where, active, n_active, total
):
    """After node ``k`` flipped, look up again the rate of every wide node that reads it
    (walking its tests), keeping the list of active nodes; returns its new length. Apart from
    the flip loop, whose code stays as small as it was for models without wide nodes.

    Two choices here are measured, not stylistic (CPU time of 4,000 trajectories of bbm_004,
    100,000 of bbm_033, one thread): the arrays come one by one, as a :class:`Rules` record
    passed at every flip made the wide model twice as slow; and the update of the list of
    active nodes is written out, here and twice in :func:`run_trajectories`, as an
    ``inline="always"`` helper for it cost 10-15% on both models."""
    for d in range(wide_ptr[k], wide_ptr[k + 1]):
        j = wide_idx[d]
        r = rate_table[_entry(j, x, root, tests, tab_ptr, reg_ptr, reg_idx)]
        total += r - rates[j]
        rates[j] = r
        if r > 0.0:
            if where[j] < 0:
                where[j] = n_active
                active[n_active] = j
                n_active += 1
        elif where[j] >= 0:
            last = active[n_active - 1]
            active[where[j]] = last
            where[last] = where[j]
            where[j] = -1
            n_active -= 1
    return n_active, total


@njit(cache=True, nogil=True, inline="always")
def _record_stay(
    stays, n_stays, state_rows, state_info, words, state_mask, n_words, shift, t0, t1, tick, n_windows, max_rows,
    overflow_acc,
):  # fmt: skip
    """Append the stay ``[t0, t1)`` in state ``words & state_mask`` to the buffer, sorting a
    full buffer into the aggregate first; returns the (possibly new) aggregate."""
    if n_stays[0] + STAY_ROWS > stays.shape[1]:
        state_rows = flush_stays(stays, n_stays, state_rows, state_info, max_rows, shift, overflow_acc)
    keep_stay(stays, n_stays, state_info, words, state_mask, n_words, shift, t0, t1, tick, n_windows, overflow_acc)
    return state_rows


@njit(cache=True, nogil=True)
def run_trajectories(
    traj_start, traj_end, seed, rules, start, clock, sums, stays, state_rows, final_table, fixed_table
):
    """Simulate trajectories ``traj_start`` to ``traj_end - 1`` into the accumulators.

    ``rules`` (:class:`Rules`) is the compiled network, ``start`` (:class:`Start`) the
    scenario, ``clock`` (:class:`Clock`) the run settings, ``sums`` (:class:`Sums`) the
    running sums. Node times go to the dense ``sums.node_acc``. With ``clock.keep_states``,
    every stay in a state (internal nodes masked out) is appended as rows to the buffer
    ``stays``, which is sorted into the aggregate ``state_rows`` when full (see
    :mod:`her2sim.engine._stays`), and the state at ``max_time`` goes to ``final_table``;
    fixed points reached go to ``fixed_table`` (all nodes), and then not to ``final_table``
    (one hash update a trajectory fewer: on a 16-node model whose trajectories end at fixed
    points, a tenth of the kernel's time). The buffer keeps its size; the
    aggregate and the tables grow as needed, each up to ``clock.max_rows`` rows in use, and
    are returned (they may be new arrays); stays that find no room go to
    ``sums.overflow_acc``. ``sums.late_acc[k]``
    gathers, over trajectories, the fraction of [late_from, max_time) node ``k`` spent on and
    its square, so the late-time mean of a node comes with its standard error.
    """
    # every field to a local once: a field read inside a loop costs a reference count each time
    tab_ptr, reg_ptr, reg_idx, root, tests = rules.tab_ptr, rules.reg_ptr, rules.reg_idx, rules.root, rules.tests
    dep_ptr, dep_idx, dep_bit = rules.dep_ptr, rules.dep_idx, rules.dep_bit
    wide_ptr, wide_idx = rules.wide_ptr, rules.wide_idx
    word_of, bit_of, state_mask = rules.word_of, rules.bit_of, rules.state_mask
    rate_table, fixed, p_init = start.rate_table, start.fixed, start.p_init
    grp_ptr, grp_nodes, out_ptr, out_cum, out_vals = (
        start.grp_ptr, start.grp_nodes, start.out_ptr, start.out_cum, start.out_vals
    )  # fmt: skip
    max_time, tick, n_windows, max_rows = clock.max_time, clock.tick, clock.n_windows, clock.max_rows
    keep_states, discrete, late_from = clock.keep_states, clock.discrete, clock.late_from
    node_acc, overflow_acc, late_acc, counters = sums.node_acc, sums.overflow_acc, sums.late_acc, sums.counters
    n_stays, state_info, final_used, fixed_used = sums.n_stays, sums.state_info, sums.final_used, sums.fixed_used
    n = p_init.shape[0]
    n_words = state_mask.shape[0]
    x = np.zeros(n, dtype=np.uint8)
    words = np.zeros(n_words, dtype=np.uint64)
    full_mask = np.full(n_words, EMPTY, dtype=np.uint64)
    rates = np.zeros(n, dtype=np.float64)
    index = np.zeros(n, dtype=np.int64)
    active = np.zeros(n, dtype=np.int64)
    where = np.full(n, -1, dtype=np.int64)
    on_since = np.zeros(n, dtype=np.float64)
    late_on = np.zeros(n, dtype=np.float64)
    late_span = max_time - late_from
    horizon = n_windows * tick  # stays that begin later fall in no window
    shift = key_layout(state_mask, n_windows)[1]  # how the stay buffer's rows are keyed
    rate_bound = rate_table.max() if rate_table.shape[0] > 0 else 0.0  # no node flips faster
    any_wide = wide_idx.shape[0] > 0  # else the loop over wide readers is skipped whole
    rng = np.zeros(1, dtype=np.uint64)
    for traj in range(traj_start, traj_end):
        _seed_stream(rng, seed, traj)
        _initial_state(x, rng, p_init, fixed, grp_ptr, grp_nodes, out_ptr, out_cum, out_vals)
        for w in range(n_words):
            words[w] = 0
        for k in range(n):
            if x[k]:
                words[word_of[k]] |= bit_of[k]
                on_since[k] = 0.0
        n_active = 0
        for k in range(n):
            index[k] = _table_index(k, x, reg_ptr, reg_idx)  # unused for a wide node
            if root[k] == ~k:  # one table
                r = rate_table[tab_ptr[k] + index[k]]
            else:
                r = rate_table[_entry(k, x, root, tests, tab_ptr, reg_ptr, reg_idx)]
            rates[k] = r
            if r > 0.0:
                where[k] = n_active
                active[n_active] = k
                n_active += 1
            else:
                where[k] = -1
        t = 0.0
        stay_from = 0.0
        at_fixed_point = False  # counted in the fixed-point table (which stands for the final state)
        since_sum = RESUM_FLIPS  # the total rate is summed afresh at the first flip
        total = 0.0
        while True:
            if since_sum >= RESUM_FLIPS:
                # kept up to date flip by flip; summed afresh now and then, so rounding cannot build up
                total = 0.0
                for a in range(n_active):
                    total += rates[active[a]]
                since_sum = 0
            since_sum += 1
            if n_active == 0:
                t_next = max_time
                refused = counters[2]
                fixed_table = _count_grown(fixed_table, fixed_used, max_rows, words, full_mask, n_words, counters, 2)
                at_fixed_point = counters[2] == refused
            elif discrete:
                t_next = t + tick
            else:
                t_next = t - math.log(1.0 - _uniform(rng)) / total
            if t_next >= max_time:
                t = max_time
                break
            # choose the node that flips, in proportion to its rate
            if rate_bound * n_active <= REJECTION_SPAN * total:
                # an active node drawn uniformly is kept with probability rate / rate_bound (the
                # draw's fractional part decides): at most REJECTION_SPAN draws are expected
                while True:
                    u = _uniform(rng) * n_active
                    a = min(int(u), n_active - 1)
                    k = active[a]
                    if (u - a) * rate_bound < rates[k]:
                        break
            else:
                target = total * _uniform(rng)
                k = active[n_active - 1]
                for a in range(n_active):
                    target -= rates[active[a]]
                    if target < 0.0:
                        k = active[a]
                        break
            t = t_next
            counters[0] += 1
            if x[k]:
                spread(node_acc, k, on_since[k], t, tick, n_windows)
                late_on[k] += max(0.0, t - max(on_since[k], late_from))
                x[k] = 0
            else:
                on_since[k] = t
                x[k] = 1
            if keep_states and (state_mask[word_of[k]] & bit_of[k]) != 0:
                # the visible state changes: its stay so far is complete
                if stay_from < horizon and t > stay_from:
                    state_rows = _record_stay(
                        stays, n_stays, state_rows, state_info, words, state_mask, n_words, shift, stay_from, t, tick,
                        n_windows, max_rows, overflow_acc,
                    )  # fmt: skip
                stay_from = t
            words[word_of[k]] ^= bit_of[k]
            # the nodes that read k (k itself included) move to another entry of their table
            for d in range(dep_ptr[k], dep_ptr[k + 1]):
                j = dep_idx[d]
                index[j] ^= dep_bit[d]
                r = rate_table[tab_ptr[j] + index[j]]
                total += r - rates[j]
                rates[j] = r
                if r > 0.0:
                    if where[j] < 0:
                        where[j] = n_active
                        active[n_active] = j
                        n_active += 1
                elif where[j] >= 0:
                    last = active[n_active - 1]
                    active[where[j]] = last
                    where[last] = where[j]
                    where[j] = -1
                    n_active -= 1
            if any_wide:
                n_active, total = _walk_wide_readers(
                    k, x, wide_ptr, wide_idx, root, tests, tab_ptr, reg_ptr, reg_idx,
                    rate_table, rates, where, active, n_active, total,
                )  # fmt: skip
        for k in range(n):
            if x[k]:
                spread(node_acc, k, on_since[k], t, tick, n_windows)
                late_on[k] += max(0.0, t - max(on_since[k], late_from))
            if late_span > 0.0:
                f = late_on[k] / late_span
                late_acc[k, 0] += f
                late_acc[k, 1] += f * f
            late_on[k] = 0.0
        if keep_states:
            if stay_from < horizon and t > stay_from:
                state_rows = _record_stay(
                    stays, n_stays, state_rows, state_info, words, state_mask, n_words, shift, stay_from, t, tick,
                    n_windows, max_rows, overflow_acc,
                )  # fmt: skip
            if not at_fixed_point:
                final_table = _count_grown(final_table, final_used, max_rows, words, state_mask, n_words, counters, 1)
    return state_rows, final_table, fixed_table


@njit(cache=True, nogil=True)
def synchronous_trajectories(x0, logic_table, tab_ptr, reg_ptr, reg_idx, root, tests, fixed, steps, out):
    """BoolNet synchronous updates: every node takes its rule's value at once, ``steps`` times.

    ``x0`` is (trajectories, nodes); ``out`` receives (trajectories, steps + 1, nodes).
    """
    m, n = x0.shape
    nxt = np.zeros(n, dtype=np.uint8)
    for i in range(m):
        x = x0[i].copy()
        out[i, 0] = x
        for s in range(steps):
            for k in range(n):
                nxt[k] = (
                    fixed[k] if fixed[k] >= 0 else logic_table[_entry(k, x, root, tests, tab_ptr, reg_ptr, reg_idx)]
                )
            x[:] = nxt
            out[i, s + 1] = x


@njit(cache=True, nogil=True)
def asynchronous_trajectories(x0, logic_table, tab_ptr, reg_ptr, reg_idx, root, tests, fixed, steps, seed, out):
    """BoolNet asynchronous updates: at each step one node, drawn uniformly, takes its rule's value."""
    m, n = x0.shape
    rng = np.zeros(1, dtype=np.uint64)
    for i in range(m):
        _seed_stream(rng, seed, i)
        x = x0[i].copy()
        out[i, 0] = x
        for s in range(steps):
            k = min(int(_uniform(rng) * n), n - 1)
            if fixed[k] < 0:
                x[k] = logic_table[_entry(k, x, root, tests, tab_ptr, reg_ptr, reg_idx)]
            out[i, s + 1] = x


@njit(cache=True, nogil=True)
def rates_of(x, table, tab_ptr, reg_ptr, reg_idx, root, tests, out):
    """Every node's entry of ``table`` (flip rates or rule values) in state ``x`` (tested
    against the reference evaluator)."""
    for k in range(x.shape[0]):
        out[k] = table[_entry(k, x, root, tests, tab_ptr, reg_ptr, reg_idx)]
