"""How much memory a run may use, and the state-table bound that follows from it.

A run's full-state statistics live in one sorted aggregate per thread, which grows as
(state, window) pairs are visited (see :mod:`her2sim.engine._stays`). Bounding the table at a fixed size made
long runs drop most of their state probability: 300,000 trajectories of the 41-node HER2
model drop 97% of some windows at 1,048,576 entries per thread. The default bound is
therefore sized from the memory available when the run starts, so that a run keeps every
state unless the machine cannot hold them.

Examples
--------
>>> row_bytes(41), row_bytes(80)  # one word of state, or two, plus column and value
(24, 32)
>>> default_max_states(41, threads=2, available=8 * 2**30)
17895697
"""

from __future__ import annotations

import os

__all__ = ["PEAK_ROWS_PER_ENTRY", "USABLE_SHARE", "available_memory", "default_max_states", "row_bytes"]

#: Peak memory of a run, in table rows, per entry a thread keeps. The aggregate is one array
#: with room for a buffer's rows besides its own (it grows twofold), the stay buffer and its
#: sorting twin keep a fixed size, and merging adds the merged rows of all threads and the
#: arrays read out of them (the aggregates are freed as they are merged). Measured on the
#: HER2 model (41 nodes, 50 windows, 2 threads): 3.1 rows per entry read out at 30,000
#: trajectories (4.3 M entries; the fixed buffers weigh most), 2.3 at 300,000 (28 M); 5.3
#: with the aggregate in two halves and buffers grown with it, 6.5 with the hash tables
#: before. 6 leaves a margin.
PEAK_ROWS_PER_ENTRY = 6
#: Share of the available memory the state tables of a run may take.
USABLE_SHARE = 0.6
#: The smallest default bound, whatever the memory: the tables' first size.
_FLOOR = 4096


def row_bytes(n_nodes: int) -> int:
    """Bytes of one state-table row for a model of ``n_nodes`` nodes, at most: the packed
    state (64 nodes a word), the column (window) and the value (the column shares the
    state's last word when its bits are free, a word less)."""
    return 8 * ((n_nodes + 63) // 64 + 2)


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (``None`` when it cannot be told).

    psutil's figure counts reclaimable file cache, as the kernel's ``MemAvailable`` does;
    without psutil, the free pages (which do not) stand in, erring small.
    """
    try:
        import psutil
    except ImportError:
        try:
            return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            return None
    return int(psutil.virtual_memory().available)


def default_max_states(n_nodes: int, threads: int, available: int | None = None) -> int:
    """State-table entries each of ``threads`` threads may keep: :data:`USABLE_SHARE` of
    the ``available`` memory (now, by default) over the peak cost of an entry.

    When memory cannot be told, the bound is the one a 16 GB machine would get.
    """
    if available is None:
        available = available_memory() or 16 * 2**30
    per_entry = PEAK_ROWS_PER_ENTRY * row_bytes(n_nodes) * max(1, threads)
    return max(_FLOOR, int(USABLE_SHARE * available) // per_entry)
