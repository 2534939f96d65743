"""Joining and splitting: cat, stack, split, chunk, unbind and friends."""

from __future__ import annotations

from .. import dtypes
from ..autograd.function import Primitive
from ..tensor import Tensor
from ._common import alias_globals, bind, wrap_dim, xp_of
from ..autograd.autocast import autocast_op


class Cat(Primitive):
    @staticmethod
    def forward(ctx, dim, *tensors):
        # every tensor takes part in type promotion; legacy 1-D empty ones are then left out
        np_dtype = _common_dtype(tensors).np
        kept = [t for t in tensors if not _legacy_empty(t)] or tensors[:1]
        arrays = [t._data if t._data.dtype == np_dtype else t._data.astype(np_dtype) for t in kept]
        ctx.dim = dim
        ctx.sizes = [None if _legacy_empty(t) and len(kept) < len(tensors) else t._data.shape[dim] for t in tensors]
        return xp_of(arrays[0]).concatenate(arrays, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        out, start = [None], 0
        for size in ctx.sizes:
            if size is None:
                out.append(grad.new_zeros((0,)))
                continue
            out.append(grad[(slice(None),) * ctx.dim + (slice(start, start + size),)])
            start += size
        return tuple(out)


def _legacy_empty(t):
    return t._data.ndim == 1 and t._data.shape[0] == 0


def _common_dtype(tensors):
    dt = tensors[0].dtype
    for t in tensors[1:]:
        dt = dtypes.promote_types(dt, t.dtype)
    return dt


@autocast_op
def cat(tensors, dim=0, *, out=None):
    """Concatenate tensors along an existing dimension ``dim``."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    for i, t in enumerate(tensors):
        if t._data.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    # 1-D empty tensors are skipped in the shape checks, as in PyTorch's legacy behaviour
    kept = [t for t in tensors if not _legacy_empty(t)] or tensors[:1]
    ref = kept[0]
    if all(_legacy_empty(t) for t in tensors):  # nothing to join: PyTorch accepts any dim here
        return Cat.apply(0, *tensors)
    d = wrap_dim(dim, ref._data.ndim)
    for i, t in enumerate(kept):
        if t._data.ndim != ref._data.ndim:
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {ref._data.ndim} and {t._data.ndim}"
            )
        for k, (a, b) in enumerate(zip(ref._data.shape, t._data.shape)):
            if k != d and a != b:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size {a} but got size {b} "
                    f"for tensor number {i} in the list."
                )
        if t.device != ref.device:
            raise RuntimeError(
                f"Expected all tensors to be on the same device, but found at least two devices, {ref.device} and {t.device}!"
            )
    result = Cat.apply(d, *tensors)
    if out is not None:
        from .elementwise import _maybe_out

        return _maybe_out(result, out)
    return result


concat = concatenate = cat


@autocast_op
def stack(tensors, dim=0, *, out=None):
    """Join tensors of equal shape along a new dimension ``dim``."""
    from .shape import unsqueeze

    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape = tensors[0]._data.shape
    for i, t in enumerate(tensors):
        if t._data.shape != shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 and "
                f"{list(t._data.shape)} at entry {i}"
            )
    d = wrap_dim(dim, len(shape) + 1)
    return cat([unsqueeze(t, d) for t in tensors], d, out=out)


def hstack(tensors):
    from .shape import atleast_1d

    tensors = [atleast_1d(t) for t in tensors]
    return cat(tensors, 0 if tensors[0]._data.ndim == 1 else 1)


def vstack(tensors):
    from .shape import atleast_2d

    return cat([atleast_2d(t) for t in tensors], 0)


row_stack = vstack


def dstack(tensors):
    from .shape import atleast_3d

    return cat([atleast_3d(t) for t in tensors], 2)


def column_stack(tensors):
    from .shape import reshape

    return hstack([reshape(t, (-1, 1)) if t._data.ndim <= 1 else t for t in tensors])


def split(tensor, split_size_or_sections, dim=0):
    """Views of ``tensor`` split along ``dim`` into chunks of a size (or a list of sizes)."""
    d = wrap_dim(dim, tensor._data.ndim)
    size = tensor._data.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0 and size > 0:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}")
        sections = [min(step, size - s) for s in range(0, size, step)] if step > 0 and size else [0]
    else:
        sections = [int(s) for s in split_size_or_sections]
        if sum(sections) != size:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size at dimension "
                f"{d}), but got split_sizes={sections}"
            )
    out, start = [], 0
    for s in sections:
        out.append(tensor[(slice(None),) * d + (slice(start, start + s),)])
        start += s
    return tuple(out)


def chunk(input, chunks, dim=0):
    """Split into ``chunks`` views of (nearly) equal size along ``dim``."""
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    if input._data.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    size = input._data.shape[wrap_dim(dim, input._data.ndim)]
    if size == 0:  # PyTorch gives ``chunks`` empty pieces
        return split(input, [0] * chunks, dim)
    return split(input, -(-size // chunks), dim)


def tensor_split(input, indices_or_sections, dim=0):
    d = wrap_dim(dim, input._data.ndim)
    size = input._data.shape[d]
    if isinstance(indices_or_sections, int):
        n = indices_or_sections
        base, extra = divmod(size, n)
        sections = [base + 1] * extra + [base] * (n - extra)
    else:
        bounds = [0] + [min(max(int(i), 0), size) for i in indices_or_sections] + [size]
        sections = [max(b - a, 0) for a, b in zip(bounds[:-1], bounds[1:])]
    return split(input, sections, d)


def unbind(input, dim=0):
    """All slices along ``dim`` (that dimension removed), as views."""
    d = wrap_dim(dim, input._data.ndim)
    return tuple(input[(slice(None),) * d + (i,)] for i in range(input._data.shape[d]))


def meshgrid(*tensors, indexing="ij"):
    from .shape import reshape

    tensors = list(tensors[0]) if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else list(tensors)
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in tensors:
        if t.dim() > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t}")
        if t.dtype != tensors[0].dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
        if t.device != tensors[0].device:
            raise RuntimeError("meshgrid expects all tensors to have the same device")
    n = len(tensors)
    shape = [t.numel() for t in tensors]
    if indexing == "xy" and n >= 2:
        shape[0], shape[1] = shape[1], shape[0]
    out = []
    for i, t in enumerate(tensors):
        pos = i
        if indexing == "xy" and n >= 2 and i < 2:
            pos = 1 - i
        view_shape = [1] * n
        view_shape[pos] = -1
        out.append(reshape(t, view_shape).expand(*shape))
    return tuple(out)


alias_globals(globals(), ["cat", "stack", "split", "chunk", "unbind"])
bind(split=split, chunk=chunk, tensor_split=tensor_split, unbind=unbind)

__all__ = [
    "cat", "concat", "concatenate", "stack", "hstack", "vstack", "row_stack", "dstack", "column_stack", "split",
    "chunk", "tensor_split", "unbind", "meshgrid",
]
