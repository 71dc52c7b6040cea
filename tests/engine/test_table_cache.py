"""Rate tables are reused across scenarios only where the parameters a node reads are unchanged."""

from __future__ import annotations

import numpy as np

from her2sim.engine.tables import fill_tables, rate_structure
from her2sim.formats.maboss import parse_maboss

BND = """
Node A { logic = !B; rate_up = @logic ? $ka : 0; rate_down = @logic ? 0 : 1; }
Node B { logic = A; rate_up = @logic ? $kb : 0; rate_down = @logic ? 0 : $kb; }
Node C { logic = A & B; }
"""


def tables(structure, ka: float, kb: float, fixed=(-1, -1, -1), scale=1.0):  # type: ignore[no-untyped-def]
    names = [n for n, _ in structure.model.parameters]
    params = np.array([{"ka": ka, "kb": kb}[n] for n in names])
    n = len(structure.model)
    return fill_tables(structure, params, np.full(n, scale), np.ones(n), np.array(fixed, dtype=np.int8))


def test_cached_tables_equal_fresh_ones_for_every_scenario() -> None:
    model, _ = parse_maboss(BND, "$ka = 1; $kb = 2;")
    shared = rate_structure(model)
    scenarios = [(1, 2), (3, 2), (1, 5), (1, 2), (3, 5)]
    for ka, kb in scenarios * 2:
        for fixed in ((-1, -1, -1), (1, -1, -1)):
            cached = tables(shared, ka, kb, fixed)
            fresh = tables(rate_structure(model), ka, kb, fixed)
            np.testing.assert_array_equal(cached[0], fresh[0])
            np.testing.assert_array_equal(cached[1], fresh[1])
    scaled, fresh_scaled = tables(shared, 1, 2, scale=2.0)[0], tables(rate_structure(model), 1, 2, scale=2.0)[0]
    np.testing.assert_array_equal(scaled, fresh_scaled)
    assert not np.array_equal(scaled, tables(shared, 1, 2)[0])


def test_a_node_that_reads_no_changed_parameter_is_not_recomputed() -> None:
    model, _ = parse_maboss(BND, "$ka = 1; $kb = 2;")
    structure = rate_structure(model)
    tables(structure, 1, 2)
    before = len(structure.table_cache)
    tables(structure, 7, 2)  # only A reads $ka
    assert len(structure.table_cache) == before + 1
