"""Reductions over dimensions: sum, mean (more are added here by family)."""

from __future__ import annotations

from .. import dtypes
from ..autograd.function import Primitive
from ._common import bind, normalize_dims


def _reduced_shape_keepdim(shape, axes):
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def grad_to_input_shape(grad, in_shape, axes, keepdim):
    """Broadcast a reduction's gradient back over the reduced axes (differentiably)."""
    from .broadcast import expand
    from .shape import reshape

    if not keepdim and axes:
        grad = reshape(grad, _reduced_shape_keepdim(in_shape, axes))
    return expand(grad, in_shape)


def _sum_dtype(arr, dtype):
    if dtype is not None:
        return dtypes.to_dtype(dtype).np
    if arr.dtype.kind in "biu":
        return dtypes.int64.np
    return None


class Sum(Primitive):
    @staticmethod
    def forward(ctx, a, axes, keepdim, np_dtype):
        ctx.in_shape, ctx.axes, ctx.keepdim = a._data.shape, axes, keepdim
        return a._data.sum(axis=axes, keepdims=keepdim, dtype=np_dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad_to_input_shape(grad, ctx.in_shape, ctx.axes, ctx.keepdim)


class Mean(Primitive):
    @staticmethod
    def forward(ctx, a, axes, keepdim, np_dtype):
        arr = a._data
        ctx.in_shape, ctx.axes, ctx.keepdim = arr.shape, axes, keepdim
        n = 1
        for ax in axes:
            n *= arr.shape[ax]
        ctx.count = n
        return arr.mean(axis=axes, keepdims=keepdim, dtype=np_dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad_to_input_shape(grad / ctx.count if ctx.count else grad * float("nan"), ctx.in_shape, ctx.axes, ctx.keepdim)


def sum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum of elements over ``dim`` (all dims when None); ints and bools sum as int64."""
    axes = normalize_dims(dim, input._data.ndim) if not (isinstance(dim, (tuple, list)) and len(dim) == 0) else tuple(range(input._data.ndim))
    return Sum.apply(input, axes, keepdim, _sum_dtype(input._data, dtype))


def mean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean over ``dim``; only floating-point (or complex) inputs, as in PyTorch."""
    np_dtype = dtypes.to_dtype(dtype).np if dtype is not None else None
    kind = (np_dtype or input._data.dtype).kind
    if kind not in "fc":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or complex "
            f"dtype. Got: {input.dtype.name.capitalize()}"
        )
    axes = normalize_dims(dim, input._data.ndim) if not (isinstance(dim, (tuple, list)) and len(dim) == 0) else tuple(range(input._data.ndim))
    return Mean.apply(input, axes, keepdim, np_dtype)


bind(sum=sum, mean=mean)

__all__ = ["sum", "mean"]
