"""Shape ops that return views where PyTorch does: view, reshape (more are added here by family)."""

from __future__ import annotations

from ..autograd.function import Primitive
from ._common import bind, xp_of


def make_view(result, base):
    """Mark ``result`` as a view of ``base``: it shares ``base``'s version counter (in-place ops on
    either are seen by autograd's saved-tensor checks of the other)."""
    if result._data is base._data or xp_of(base._data).may_share_memory(result._data, base._data):
        result._version_counter = base._version_counter
        result._base = base._base if base._base is not None else base
    return result


def infer_shape(shape, numel):
    """Resolve one -1 in ``shape``; PyTorch's errors for a bad shape."""
    shape = tuple(int(s) for s in shape)
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"invalid shape dimension {s}")
            known *= s
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return shape


class Reshape(Primitive):
    @staticmethod
    def forward(ctx, a, shape):
        ctx.in_shape = a._data.shape
        return a._data.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return reshape(grad, ctx.in_shape)


class View(Primitive):
    @staticmethod
    def forward(ctx, a, shape):
        arr = a._data
        ctx.in_shape = arr.shape
        out = arr.reshape(shape)
        if out.size and not xp_of(arr).may_share_memory(out, arr):
            raise RuntimeError(
                "view size is not compatible with input tensor's size and stride (at least one dimension "
                "spans across two contiguous subspaces). Use .reshape(...) instead."
            )
        return out

    @staticmethod
    def backward(ctx, grad):
        return reshape(grad, ctx.in_shape)


def reshape(input, *shape):
    """``input`` with a new shape; a view when possible, otherwise a copy."""
    shape = infer_shape(_shape_arg(shape), input._data.size)
    if shape == input._data.shape and not input._requires_grad:
        return _alias(input)
    return make_view(Reshape.apply(input, shape), input)


def view(input, *shape):
    """A view of ``input`` with a new shape; RuntimeError if the strides don't allow one."""
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int)):
        from .. import dtypes

        dt = dtypes.to_dtype(shape[0])
        return make_view(input._make(input._data.view(dt.np)), input)
    shape = infer_shape(_shape_arg(shape), input._data.size)
    return make_view(View.apply(input, shape), input)


def view_as(input, other):
    return view(input, other._data.shape)


def reshape_as(input, other):
    return reshape(input, other._data.shape)


def _alias(t):
    return make_view(t._make(t._data), t)


bind(reshape=reshape, view=view, view_as=view_as, reshape_as=reshape_as)

__all__ = ["reshape"]
