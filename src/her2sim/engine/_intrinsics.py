"""Four machine operations Numba does not expose, written as LLVM intrinsics.

The statistics tables of :mod:`her2sim.engine._kernel` store a float64 value in a uint64
row (reinterpreted, not converted) so that a row is one array, and they prefetch the row a
stay will update long before updating it. State names (:mod:`her2sim.engine._names`) are
assembled from short byte strings with ``memcpy``, which a byte loop or a slice copy (a
new array view each time) cannot match.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["as_bits", "as_float", "copy_bytes", "prefetch_row"]


@intrinsic
def as_float(typingctx, bits):
    """The float64 whose bit pattern is the uint64 ``bits`` (a free reinterpretation)."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.uint64), codegen


@intrinsic
def as_bits(typingctx, value):
    """The uint64 bit pattern of the float64 ``value``."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.uint64(types.float64), codegen


@intrinsic
def prefetch_row(typingctx, table, row):
    """Ask the CPU to bring row ``row`` of an array (1-D: element ``row``) into cache,
    without waiting for it."""

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        array = context.make_array(array_type)(context, builder, value=args[0])
        zero = context.get_constant(types.intp, 0)
        indices = [args[1]] + [zero] * (array_type.ndim - 1)
        address = cgutils.get_item_pointer(context, builder, array_type, array, indices)
        byte_ptr = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        prefetch = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte_ptr, i32, i32, i32]), "llvm.prefetch.p0i8"
        )
        # for writing (1), keep in all cache levels (3), data cache (1)
        builder.call(prefetch, [builder.bitcast(address, byte_ptr), i32(1), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.none(table, types.intp), codegen


@intrinsic
def copy_bytes(typingctx, dest, at, source, start, count):
    """Copy ``count`` bytes of the uint8 array ``source`` from ``start`` to ``dest`` from
    ``at`` (``memcpy``: the ranges must not overlap, and no bounds are checked)."""

    def codegen(context, builder, signature, args):
        dest_type, _, source_type, _, _ = signature.args
        dest_array = context.make_array(dest_type)(context, builder, value=args[0])
        source_array = context.make_array(source_type)(context, builder, value=args[2])
        to = cgutils.get_item_pointer(context, builder, dest_type, dest_array, [args[1]])
        origin = cgutils.get_item_pointer(context, builder, source_type, source_array, [args[3]])
        cgutils.raw_memcpy(builder, to, origin, args[4], 1)
        return context.get_dummy_value()

    return types.none(dest, types.intp, source, types.intp, types.intp), codegen
