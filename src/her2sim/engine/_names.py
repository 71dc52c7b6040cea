"""MaBoSS names of packed states, written as one UTF-8 buffer by a Numba loop.

A run of a large model can visit millions of distinct states, each named by its active
nodes joined by `` -- `` (``<nil>`` when none is active): gigabytes of text. Building one
Python string per state, and having pandas hash each to check that the names are distinct,
took longer than the simulation. Here the names are written straight into an Arrow string
array (an offsets array and a byte buffer), which pandas and Parquet use without a copy.

A packed state is read a byte (8 nodes) at a time: for each byte of the state and each of
its 256 values, the piece of the name it contributes (`` -- A -- B`` for nodes A and B on)
is prepared once, so a state's name is the concatenation of its bytes' pieces, less the
first separator.
"""

from __future__ import annotations

import functools

import numpy as np
import pyarrow as pa
from numba import njit

from her2sim.engine._intrinsics import copy_bytes
from her2sim.engine.memory import USABLE_SHARE, available_memory
from her2sim.errors import ConfigError

__all__ = ["state_name_array"]

_SEPARATOR = b" -- "
_NIL = np.frombuffer(b"<nil>", dtype=np.uint8)


def state_name_array(keys: np.ndarray, names: tuple[str, ...], include: np.ndarray) -> pa.LargeStringArray:
    """Names of the packed states ``keys`` (one row of 64-bit words per state), counting
    only the nodes flagged in ``include``: node ``k`` is bit ``k % 64`` of word ``k // 64``.

    Raises
    ------
    ConfigError
        When the names would take more memory than is free, before any is written.
    """
    octets = np.ascontiguousarray(keys, dtype="<u8").view(np.uint8).reshape(len(keys), 8 * ((len(names) + 63) // 64))
    piece_ptr, piece_bytes = _pieces(names, np.asarray(include, dtype=bool).tobytes())
    offsets = _name_offsets(octets, piece_ptr, len(_SEPARATOR), len(_NIL))
    _check_room(int(offsets[-1]) + offsets.nbytes, len(keys))
    data = _write_names(octets, piece_ptr, piece_bytes, offsets, len(_SEPARATOR), _NIL)
    return pa.LargeStringArray.from_buffers(len(keys), pa.py_buffer(offsets), pa.py_buffer(data))


def _check_room(needed: int, n_states: int) -> None:
    """Refuse names that would not fit in the usable share of the memory free now."""
    available = available_memory()
    if available is not None and needed > USABLE_SHARE * available:
        raise ConfigError(
            f"the names of {n_states:,} states take {needed / 1e9:.1f} GB, more than the "
            f"{USABLE_SHARE * available / 1e9:.1f} GB this process may use; ask for fewer states "
            "(states(min_probability=...)) or write them in chunks (result.save_states(path), --states-output)"
        )


@functools.lru_cache(maxsize=16)
def _pieces(names: tuple[str, ...], include: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(piece_ptr, piece_bytes): piece ``i = 256 * b + v``, the part of a name that byte
    ``b`` of a packed state contributes when it holds value ``v``, is
    ``piece_bytes[piece_ptr[i]:piece_ptr[i + 1]]``: the separator and name of each included
    node (``include``: a byte per node) that is on among nodes ``8b .. 8b+7``. Kept per
    model: built in Python, they took 2 ms of a 16-node model's 8.5 ms call to simulate and
    name 10 trajectories' states, and a batch of scenarios names states again and again."""
    pieces: list[bytes] = []
    for byte in range((len(names) + 7) // 8):
        members = [(bit, name.encode("utf-8")) for bit, name in enumerate(names[8 * byte : 8 * byte + 8])]
        members = [(bit, name) for bit, name in members if include[8 * byte + bit]]
        pieces.extend(b"".join(_SEPARATOR + name for bit, name in members if value >> bit & 1) for value in range(256))
    piece_ptr = np.zeros(len(pieces) + 1, dtype=np.int64)
    piece_ptr[1:] = np.cumsum([len(piece) for piece in pieces])
    piece_ptr.flags.writeable = False  # shared by every call for this model
    return piece_ptr, np.frombuffer(b"".join(pieces), dtype=np.uint8)


@njit(cache=True, nogil=True)
def _name_offsets(octets, piece_ptr, separator_length, nil_length):
    """Where each state's name starts and ends in the byte buffer (its pieces joined, less
    the separator that starts the first of them; ``<nil>`` when no node is on)."""
    n_states, n_bytes = octets.shape[0], (piece_ptr.shape[0] - 1) // 256
    offsets = np.zeros(n_states + 1, dtype=np.int64)
    for i in range(n_states):
        length = 0
        for b in range(n_bytes):
            piece = 256 * b + np.int64(octets[i, b])
            length += piece_ptr[piece + 1] - piece_ptr[piece]
        offsets[i + 1] = offsets[i] + (length - separator_length if length else nil_length)
    return offsets


@njit(cache=True, nogil=True)
def _write_names(octets, piece_ptr, piece_bytes, offsets, separator_length, nil):
    """The bytes of every state's name, in place at ``offsets``."""
    n_states, n_bytes = octets.shape[0], (piece_ptr.shape[0] - 1) // 256
    data = np.empty(offsets[n_states], dtype=np.uint8)
    for i in range(n_states):
        at, skip = offsets[i], separator_length
        for b in range(n_bytes):
            piece = 256 * b + np.int64(octets[i, b])
            size = piece_ptr[piece + 1] - piece_ptr[piece] - skip
            if size > 0:
                # numba types an @intrinsic call with its typing context first; a call leaves it out
                copy_bytes(data, at, piece_bytes, piece_ptr[piece] + skip, size)  # type: ignore[call-arg]
                at += size
                skip = 0
        if at == offsets[i]:
            copy_bytes(data, at, nil, 0, nil.shape[0])  # type: ignore[call-arg]
    return data
