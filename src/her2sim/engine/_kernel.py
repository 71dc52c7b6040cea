"""The simulation loops: one Numba kernel for every model, compiled once and cached on disk.

A model reaches the kernel as data (see :mod:`her2sim.engine.tables`): for each node a table
of flip rates indexed by the states of its regulators, and the lists that say which nodes
read which. Everything that varies between scenarios (the tables' values, fixed nodes,
initial-state probabilities, seeds) is a runtime argument, so a screen of thousands of
scenarios runs through one compiled kernel.

Continuous-time semantics are MaBoSS's: in state ``x`` each node ``k`` flips at rate
``rate_up`` when off and ``rate_down`` when on; the time to the next flip is exponential
with the total rate; the node that flips is drawn in proportion to its rate; a state whose
total rate is zero is a fixed point, held until ``max_time``. After a flip only the table
indices of the nodes that read the flipped node change (one XOR each).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

OK = 0
NEED_GROW = 1
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_INV53 = 1.0 / 9007199254740992.0
EMPTY = np.uint64(0xFFFFFFFFFFFFFFFF)
#: Columns after the key words in a state-table row: hash, id, pending window, pending time.
ROW_EXTRA = 4


def empty_state_table(capacity, n_words):
    """A state table of ``capacity`` empty rows (see :func:`_lookup_row` for the row layout)."""
    return np.full((capacity, n_words + ROW_EXTRA), EMPTY, dtype=np.uint64)


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


@njit(cache=True, nogil=True, inline="always")
def _hash_key(words, mask, n_words):
    h = np.uint64(0x243F6A8885A308D3)
    for w in range(n_words):
        h = _mix(h ^ (words[w] & mask[w]))
    return h


@njit(cache=True, nogil=True, inline="always")
def _find_slot(keys, h, words, mask, n_words):
    """Slot holding the state ``words & mask`` (hash ``h``), or the empty slot where it
    belongs; -1 when the table is full."""
    cap = keys.shape[0]
    slot = np.int64(h & np.uint64(cap - 1))
    for _ in range(cap):
        if keys[slot, n_words] == EMPTY:
            return slot
        if keys[slot, n_words] == h:
            same = True
            for w in range(n_words):
                if keys[slot, w] != (words[w] & mask[w]):
                    same = False
                    break
            if same:
                return slot
        slot = (slot + 1) & (cap - 1)
    return -1


@njit(cache=True, nogil=True, inline="always")
def _lookup_row(keys, used, words, mask, n_words):
    """Row of the state ``words & mask`` in an open-addressing table, added if new; -1 when full.

    A row holds ``n_words`` key words, the hash, the state's id (its rank of insertion,
    which survives growing the table), and the state's pending window and time (see
    :func:`_state_time`); ``used[0]`` counts the states.
    """
    h = _hash_key(words, mask, n_words)
    slot = _find_slot(keys, h, words, mask, n_words)
    if slot < 0:
        return -1
    if keys[slot, n_words] == EMPTY:
        if used[0] >= keys.shape[0] - 1:
            return -1
        for w in range(n_words):
            keys[slot, w] = words[w] & mask[w]
        keys[slot, n_words] = h
        keys[slot, n_words + 1] = np.uint64(used[0])
        used[0] += 1
    return slot


@njit(cache=True, nogil=True, inline="always")
def _lookup(keys, used, words, mask, n_words):
    """Id of the state ``words & mask`` (added if new); -1 when the table is full."""
    row = _lookup_row(keys, used, words, mask, n_words)
    return -1 if row < 0 else np.int64(keys[row, n_words + 1])


@njit(cache=True, nogil=True, inline="always")
def _split(t0, t1, tick, n_windows):
    """How [t0, t1) falls on the windows: (w0, time in w0, first whole window, end of the
    whole windows, w1, time in w1). Whole windows are recorded as a +1/-1 difference pair,
    so a long stay costs O(1) whatever the number of windows it covers."""
    w0 = int(t0 / tick)
    end0 = (w0 + 1) * tick
    if t1 <= end0:
        return w0, t1 - t0, 0, 0, n_windows, 0.0
    w1 = min(int(t1 / tick), n_windows)
    last = t1 - max(w1 * tick, end0) if w1 < n_windows else 0.0
    return w0, end0 - t0, w0 + 1, w1, w1, last


@njit(cache=True, nogil=True, inline="always")
def _spread(acc, row, t0, t1, tick, n_windows):
    """Add the time spent in [t0, t1) to the windows of the dense row ``acc[row]``.

    Columns ``0..n_windows-1`` hold times; columns ``n_windows..2*n_windows`` the
    difference counts of whole windows, folded in by :func:`finish_spread`.
    """
    if t1 <= t0 or t0 >= n_windows * tick:
        return
    w0, first, full0, full1, w1, last = _split(t0, t1, tick, n_windows)
    acc[row, w0] += first
    if full1 > full0:
        acc[row, n_windows + full0] += 1.0
        if full1 < n_windows:  # a stay that lasts to the end needs no closing -1
            acc[row, n_windows + full1] -= 1.0
    if w1 < n_windows:
        acc[row, w1] += last


@njit(cache=True, nogil=True, inline="always")
def _pair_add(keys, vals, used, key, value):
    """Add ``value`` at integer ``key`` of a sparse open-addressing table; False when full."""
    cap = keys.shape[0]
    slot = np.int64(_mix(np.uint64(key)) & np.uint64(cap - 1))
    for _ in range(cap):
        if keys[slot] == key:
            vals[slot] += value
            return True
        if keys[slot] == -1:
            if used[0] >= cap - 1:
                return False
            keys[slot] = key
            vals[slot] = value
            used[0] += 1
            return True
        slot = (slot + 1) & (cap - 1)
    return False


@njit(cache=True, nogil=True)
def rehash_states(keys, new_keys):
    """Move every state of a table, with its id and pending time, into a larger table."""
    n_words = keys.shape[1] - ROW_EXTRA
    full = np.full(n_words, EMPTY, dtype=np.uint64)
    for slot in range(keys.shape[0]):
        if keys[slot, n_words] != EMPTY:
            target = _find_slot(new_keys, keys[slot, n_words], keys[slot, :n_words], full, n_words)
            new_keys[target] = keys[slot]


@njit(cache=True, nogil=True)
def merge_states(src, dest, used, id_map):
    """Add every state of table ``src`` to table ``dest``; ``id_map[src id] = dest id``."""
    n_words = src.shape[1] - ROW_EXTRA
    full = np.full(n_words, EMPTY, dtype=np.uint64)
    for slot in range(src.shape[0]):
        if src[slot, n_words] != EMPTY:
            id_map[np.int64(src[slot, n_words + 1])] = _lookup(dest, used, src[slot, :n_words], full, n_words)


@njit(cache=True, nogil=True)
def rehash_pairs(keys, vals, new_keys, new_vals, used):
    """Move every entry of a sparse table into a larger one."""
    for i in range(keys.shape[0]):
        if keys[i] != -1:
            _pair_add(new_keys, new_vals, used, keys[i], vals[i])


@njit(cache=True, nogil=True, inline="always")
def _spread_pairs(keys, vals, used, state, t0, t1, tick, n_windows):
    """Sparse twin of :func:`_spread`: row ``state`` of a (state, column) table."""
    if t1 <= t0 or t0 >= n_windows * tick:
        return True
    width = 2 * n_windows + 1
    w0, first, full0, full1, w1, last = _split(t0, t1, tick, n_windows)
    ok = _pair_add(keys, vals, used, state * width + w0, first)
    if full1 > full0:
        ok &= _pair_add(keys, vals, used, state * width + n_windows + full0, 1.0)
        if full1 < n_windows:  # a stay that lasts to the end (a fixed point, say) needs no closing -1
            ok &= _pair_add(keys, vals, used, state * width + n_windows + full1, -1.0)
    if w1 < n_windows:
        ok &= _pair_add(keys, vals, used, state * width + w1, last)
    return ok


@njit(cache=True, nogil=True, inline="always")
def _state_time(keys, keys_f, n_words, pair_keys, pair_vals, pair_used, overflow_acc, row, t0, t1, tick, n_windows):
    """Record time ``[t0, t1)`` spent in the state of table row ``row``; False when no room.

    Time inside one window is first summed in the state's own row (pending window in
    column ``n_words + 2``, pending time in ``n_words + 3`` of the float view ``keys_f``),
    in the cache line the look-up has just read; it moves to the sparse pair table only when
    the state is seen in another window, or by :func:`flush_pending` at the end. Most states
    are visited in one window only and never touch the pair table.
    """
    if t1 <= t0 or t0 >= n_windows * tick:
        return True
    state = np.int64(keys[row, n_words + 1])
    w0 = int(t0 / tick)
    if t1 > (w0 + 1) * tick:
        return _spread_pairs(pair_keys, pair_vals, pair_used, state, t0, t1, tick, n_windows)
    pending = keys[row, n_words + 2]
    if pending == np.uint64(w0):
        keys_f[row, n_words + 3] += t1 - t0
        return True
    if pending != EMPTY:
        win = np.int64(pending)
        if not _pair_add(pair_keys, pair_vals, pair_used, state * (2 * n_windows + 1) + win, keys_f[row, n_words + 3]):
            overflow_acc[0, win] += keys_f[row, n_words + 3]
    keys[row, n_words + 2] = np.uint64(w0)
    keys_f[row, n_words + 3] = t1 - t0
    return True


@njit(cache=True, nogil=True)
def flush_pending(keys, keys_f, pair_keys, pair_vals, pair_used, n_windows):
    """Move every state's pending window time into the pair table (room must be there)."""
    n_words = keys.shape[1] - ROW_EXTRA
    for row in range(keys.shape[0]):
        if keys[row, n_words] != EMPTY and keys[row, n_words + 2] != EMPTY:
            key = np.int64(keys[row, n_words + 1]) * (2 * n_windows + 1) + np.int64(keys[row, n_words + 2])
            _pair_add(pair_keys, pair_vals, pair_used, key, keys_f[row, n_words + 3])
            keys[row, n_words + 2] = EMPTY


@njit(cache=True, nogil=True)
def finish_spread(acc, tick, n_windows):
    """Fold the difference columns of :func:`_spread` into the window times, in place."""
    for row in range(acc.shape[0]):
        running = 0.0
        for w in range(n_windows):
            running += acc[row, n_windows + w]
            acc[row, w] += running * tick
            acc[row, n_windows + w] = 0.0
        acc[row, 2 * n_windows] = 0.0


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
    """Index of node ``k``'s current regulator states in its table."""
    idx = 0
    for b in range(reg_ptr[k + 1] - reg_ptr[k]):
        idx |= np.int64(x[reg_idx[reg_ptr[k] + b]]) << b
    return idx


@njit(cache=True, nogil=True)
def run_trajectories(
    traj_start,
    traj_end,
    seed,
    rate_table,
    tab_ptr,
    reg_ptr,
    reg_idx,
    dep_ptr,
    dep_idx,
    dep_bit,
    fixed,
    p_init,
    grp_ptr,
    grp_nodes,
    out_ptr,
    out_cum,
    out_vals,
    word_of,
    bit_of,
    state_mask,
    max_time,
    tick,
    n_windows,
    discrete,
    keep_states,
    grow_states,
    node_acc,
    state_keys,
    state_used,
    pair_keys,
    pair_vals,
    pair_used,
    state_keys_f,
    overflow_acc,
    final_keys,
    final_count,
    final_used,
    fixed_keys,
    fixed_count,
    fixed_used,
    late_from,
    late_acc,
    status,
):
    """Simulate trajectories ``traj_start`` to ``traj_end - 1`` into the accumulators.

    Returns early with ``status[0] = NEED_GROW`` and ``status[1]`` = the next trajectory
    when a table is half full between trajectories, so the caller can grow it and resume.
    State times go to the sparse (state, window) table ``pair_keys``/``pair_vals``; time
    that finds no room (the state table at its size limit) goes to ``overflow_acc``.
    ``status[2]`` counts the flips. ``late_acc[k]`` gathers, over trajectories, the fraction
    of [late_from, max_time) node ``k`` spent on and its square, so the late-time mean of a
    node comes with its between-trajectory standard error.
    """
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
    rng = np.zeros(1, dtype=np.uint64)
    status[0] = OK
    for traj in range(traj_start, traj_end):
        states_full = grow_states and (2 * state_used[0] > state_keys.shape[0] or 2 * pair_used[0] > pair_keys.shape[0])
        if (keep_states and (states_full or 2 * final_used[0] > final_keys.shape[0])) or (
            2 * fixed_used[0] > fixed_keys.shape[0]
        ):
            status[0] = NEED_GROW
            status[1] = traj
            return
        _seed_stream(rng, seed, traj)
        _initial_state(x, rng, p_init, fixed, grp_ptr, grp_nodes, out_ptr, out_cum, out_vals)
        for w in range(n_words):
            words[w] = 0
        n_active = 0
        for k in range(n):
            if x[k]:
                words[word_of[k]] |= bit_of[k]
                on_since[k] = 0.0
            index[k] = _table_index(k, x, reg_ptr, reg_idx)
            r = rate_table[tab_ptr[k] + index[k]]
            rates[k] = r
            if r > 0.0:
                where[k] = n_active
                active[n_active] = k
                n_active += 1
            else:
                where[k] = -1
        t = 0.0
        row = -1
        if keep_states:
            row = _lookup_row(state_keys, state_used, words, state_mask, n_words)
        while True:
            total = 0.0
            for a in range(n_active):
                total += rates[active[a]]
            if total <= 0.0:
                t_next = max_time
                fixed_count[_lookup(fixed_keys, fixed_used, words, full_mask, n_words)] += 1
            elif discrete:
                t_next = t + tick
            else:
                t_next = t - math.log(1.0 - _uniform(rng)) / total
            if t_next >= max_time:
                t_next = max_time
            if keep_states and (
                row < 0
                or not _state_time(
                    state_keys,
                    state_keys_f,
                    n_words,
                    pair_keys,
                    pair_vals,
                    pair_used,
                    overflow_acc,
                    row,
                    t,
                    t_next,
                    tick,
                    n_windows,
                )
            ):
                _spread(overflow_acc, 0, t, t_next, tick, n_windows)
            if t_next >= max_time:
                t = max_time
                break
            # choose the node that flips, in proportion to its rate
            target = total * _uniform(rng)
            k = active[n_active - 1]
            for a in range(n_active):
                target -= rates[active[a]]
                if target < 0.0:
                    k = active[a]
                    break
            t = t_next
            status[2] += 1
            if x[k]:
                _spread(node_acc, k, on_since[k], t, tick, n_windows)
                late_on[k] += max(0.0, t - max(on_since[k], late_from))
                x[k] = 0
            else:
                on_since[k] = t
                x[k] = 1
            words[word_of[k]] ^= bit_of[k]
            if keep_states and (state_mask[word_of[k]] & bit_of[k]) != 0:
                row = _lookup_row(state_keys, state_used, words, state_mask, n_words)
            # the nodes that read k (k itself included) move to another entry of their table
            for d in range(dep_ptr[k], dep_ptr[k + 1]):
                j = dep_idx[d]
                index[j] ^= dep_bit[d]
                r = rate_table[tab_ptr[j] + index[j]]
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
        for k in range(n):
            if x[k]:
                _spread(node_acc, k, on_since[k], t, tick, n_windows)
                late_on[k] += max(0.0, t - max(on_since[k], late_from))
            if late_span > 0.0:
                f = late_on[k] / late_span
                late_acc[k, 0] += f
                late_acc[k, 1] += f * f
            late_on[k] = 0.0
        if keep_states:
            # the tables are grown between trajectories, so one more state always fits
            final_count[_lookup(final_keys, final_used, words, state_mask, n_words)] += 1
    status[0] = OK
    status[1] = traj_end


@njit(cache=True, nogil=True)
def synchronous_trajectories(x0, logic_table, tab_ptr, reg_ptr, reg_idx, fixed, steps, out):
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
                nxt[k] = fixed[k] if fixed[k] >= 0 else logic_table[tab_ptr[k] + _table_index(k, x, reg_ptr, reg_idx)]
            x[:] = nxt
            out[i, s + 1] = x


@njit(cache=True, nogil=True)
def asynchronous_trajectories(x0, logic_table, tab_ptr, reg_ptr, reg_idx, fixed, steps, seed, out):
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
                x[k] = logic_table[tab_ptr[k] + _table_index(k, x, reg_ptr, reg_idx)]
            out[i, s + 1] = x


@njit(cache=True, nogil=True)
def rates_of(x, rate_table, tab_ptr, reg_ptr, reg_idx, out):
    """Every node's flip rate in state ``x``, read from the tables (tested against the reference)."""
    for k in range(x.shape[0]):
        out[k] = rate_table[tab_ptr[k] + _table_index(k, x, reg_ptr, reg_idx)]
