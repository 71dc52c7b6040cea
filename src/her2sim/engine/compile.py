"""Compile a model into the data the simulation kernel runs on.

Compiling resolves every node's rates (``@logic`` and custom attributes replaced by their
trees, constants folded), lists regulators and dependents (:mod:`her2sim.engine.tables`),
and lays out the packed state words. The native kernel itself is one Numba function for every
model (:mod:`her2sim.engine._kernel`), compiled the first time it runs and cached on disk by
Numba, so neither a second run nor another model compiles machine code again. Compiled models
are also kept in memory, keyed by the model value, so scenarios of one network share one.

Examples
--------
>>> from her2sim.formats.bnet import parse_bnet
>>> compiled = compile_model(parse_bnet("A, B\\nB, !A"))
>>> compiled.dependents("A")
('A', 'B')
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType

import numpy as np

from her2sim.engine import _kernel
from her2sim.engine.tables import RateStructure, rate_structure
from her2sim.model.network import Model

__all__ = ["CompiledModel", "compile_model"]


@dataclass(frozen=True, eq=False)
class CompiledModel:
    """A model with its rate structure and state layout, ready for the kernel.

    Pickles as the model alone: a worker process compiles again, which is cheap (no machine
    code is generated per model).
    """

    model: Model
    structure: RateStructure
    #: The structure and the packed-state layout (``word_of``, ``bit_of``, ``state_mask``) as
    #: the kernel reads them, grouped once.
    rules: _kernel.Rules
    kernel: ModuleType = _kernel

    def __reduce__(self) -> tuple[object, tuple[Model]]:
        return compile_model, (self.model,)

    @property
    def n_words(self) -> int:
        """64-bit words per packed state: ``ceil(nodes / 64)``; there is no node cap."""
        return int(self.rules.state_mask.shape[0])

    def dependents(self, name: str) -> tuple[str, ...]:
        """Nodes whose rates must be looked up again after ``name`` flips."""
        s = self.structure
        k = self.model.index(name)
        narrow = s.dep_idx[s.dep_ptr[k] : s.dep_ptr[k + 1]]
        wide = s.wide_idx[s.wide_ptr[k] : s.wide_ptr[k + 1]]
        return tuple(self.model.names[j] for j in sorted({*narrow.tolist(), *wide.tolist()}))


@lru_cache(maxsize=64)
def compile_model(model: Model) -> CompiledModel:
    """Validate ``model`` and prepare it for simulation (cached per model value)."""
    structure = rate_structure(model)
    n = len(model)
    word_of = np.arange(n, dtype=np.int64) // 64
    bit_of = np.array([1 << (k % 64) for k in range(n)], dtype=np.uint64)
    state_mask = pack_flags(np.array([not node.internal for node in model.nodes], dtype=bool))
    s = structure
    rules = _kernel.Rules(
        s.tab_ptr, s.reg_ptr, s.reg_idx, s.dep_ptr, s.dep_idx, s.dep_bit, s.wide_ptr, s.wide_idx, s.root, s.tests,
        word_of, bit_of, state_mask,
    )  # fmt: skip
    return CompiledModel(model, structure, rules)


def pack_flags(flags: np.ndarray) -> np.ndarray:
    """One flag per node packed into 64-bit words, as the kernel packs states: node ``k``
    is bit ``k % 64`` of word ``k // 64``."""
    padded = np.zeros(64 * ((len(flags) + 63) // 64), dtype=bool)
    padded[: len(flags)] = flags
    return np.packbits(padded, bitorder="little").view("<u8").astype(np.uint64)
