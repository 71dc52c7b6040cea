"""How much memory a run may use, and the state-table bound that follows from it.

A run's full-state statistics live in one hash table per thread, which grows as states
are visited (see :mod:`her2sim.engine._kernel`). Bounding the table at a fixed size made
long runs drop most of their state probability: 300,000 trajectories of the 41-node HER2
model drop 97% of some windows at 1,048,576 entries per thread. The default bound is
therefore sized from the memory available when the run starts, so that a run keeps every
state unless the machine cannot hold them.

Examples
--------
>>> row_bytes(41), row_bytes(80)  # one word of state, or two, plus column and value
(24, 32)
>>> default_max_states(41, threads=2, available=8 * 2**30)
8947848
"""

from __future__ import annotations

import os

__all__ = ["PEAK_ROWS_PER_ENTRY", "USABLE_SHARE", "available_memory", "default_max_states", "row_bytes"]

#: Peak memory of a run, in table rows, per entry a thread keeps. A table is at most half
#: full (so 2-4 rows a kept entry), grows by doubling (old and new table side by side),
#: and merging adds a table for all threads plus the whole-window rows it unfolds and the
#: arrays read out of it. Measured at 300,000 trajectories: 9.6 rows per entry on the
#: HER2 model (41 nodes), 11.1 on Zañudo 2017 (80 nodes); 12 leaves a margin.
PEAK_ROWS_PER_ENTRY = 12
#: Share of the available memory the state tables of a run may take.
USABLE_SHARE = 0.6
#: The smallest default bound, whatever the memory: the tables' first size.
_FLOOR = 4096


def row_bytes(n_nodes: int) -> int:
    """Bytes of one state-table row for a model of ``n_nodes`` nodes: the packed state
    (64 nodes a word), the column (window) and the value."""
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
