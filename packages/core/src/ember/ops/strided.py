"""``as_strided``: a view of a tensor's storage with any sizes, strides (in elements) and storage offset."""

from __future__ import annotations

from ..autograd.function import Primitive
from ..tensor import Tensor
from ._common import bind, xp_of
from .shape import make_view


def _positions(xp, size, stride, offset):
    """The storage index of every element of a (size, stride, offset) geometry, shaped ``size``."""
    pos = xp.full(size, offset, dtype="int64")
    for k, (n, s) in enumerate(zip(size, stride)):
        view = [1] * len(size)
        view[k] = n
        pos = pos + xp.arange(n, dtype="int64").reshape(view) * s
    return pos


def _storage(input):
    """(the storage as a flat array in memory order, ``input``'s offset and strides in it).

    The storage is the memory of ``input``'s base tensor. When that is not one dense block (an array an op
    made with gaps), ``input``'s elements copied in row-major order stand in for it, and the result is a copy."""
    root = input._base if input._base is not None else input
    arr = root._data
    if arr.flags.c_contiguous or arr.flags.f_contiguous:
        flat = arr.reshape(-1) if arr.flags.c_contiguous else arr.T.reshape(-1)
        return flat, input.storage_offset(), input.stride()
    contiguous = xp_of(input._data).ascontiguousarray(input._data)
    strides = tuple(s // contiguous.itemsize for s in contiguous.strides)
    return contiguous.reshape(-1), 0, strides


class AsStrided(Primitive):
    @staticmethod
    def forward(ctx, a, flat, size, stride, offset, in_geometry):
        xp = xp_of(flat)
        ctx.geometry = (flat.size, size, stride, offset, tuple(a._data.shape)) + in_geometry
        if 0 in size:
            return xp.empty(size, dtype=flat.dtype)
        return xp.lib.stride_tricks.as_strided(flat[offset:], size, tuple(s * flat.itemsize for s in stride))

    @staticmethod
    def backward(ctx, grad):
        # PyTorch's as_strided backward: scatter-add the gradient into a zero storage (overlapping output
        # windows accumulate), then read the input's elements back out of it
        n, size, stride, offset, in_size, in_stride, in_offset = ctx.geometry
        xp = xp_of(grad._data)
        out_pos = Tensor._make(_positions(xp, size, stride, offset).reshape(-1))
        in_pos = _positions(xp, in_size, in_stride, in_offset)
        storage = grad.new_zeros(n).index_add(0, out_pos, grad.reshape(-1))
        result = storage.take(Tensor._make(in_pos))
        flat_in = in_pos.reshape(-1)
        if xp.unique(flat_in).size < flat_in.size:  # the input itself overlaps: share the gradient among copies
            count = xp.bincount(flat_in, minlength=n)[in_pos].astype(grad._data.dtype)
            result = result / Tensor._make(count)
        return result


def as_strided(input, size, stride, storage_offset=None):
    """A view of ``input``'s storage with the given ``size``, ``stride`` (in elements) and ``storage_offset``
    (default: ``input.storage_offset()``), as ``torch.as_strided``: writes through it reach ``input``; its
    gradient adds up where windows overlap."""
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in size):
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(size)} and strides={list(stride)}")
    if any(s < 0 for s in stride):
        raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, got strides: {list(stride)}")
    flat, in_offset, in_stride = _storage(input)
    offset = in_offset if storage_offset is None else int(storage_offset)
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    item = flat.dtype.itemsize
    need = 0 if 0 in size else offset + 1 + sum((n - 1) * s for n, s in zip(size, stride))
    if need > flat.size:
        raise RuntimeError(
            f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, and itemsize {item} "
            f"requiring a storage size of {need * item} are out of bounds for storage of size {flat.size * item}")
    return make_view(AsStrided.apply(input, flat, size, stride, offset, (in_stride, in_offset)), input)


bind(as_strided=as_strided)

__all__ = ["as_strided"]
