"""Reductions over dimensions: sum, mean (more are added here by family)."""

from __future__ import annotations

import builtins

from .. import dtypes
from ..autograd.function import Primitive
from ._common import bind, normalize_dims
from ..dtypes import np_kind as _np_kind
from ..autograd.autocast import autocast_op


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


@autocast_op
def sum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum of elements over ``dim`` (all dims when None); ints and bools sum as int64."""
    axes = normalize_dims(dim, input._data.ndim) if not (isinstance(dim, (tuple, list)) and len(dim) == 0) else tuple(range(input._data.ndim))
    return Sum.apply(input, axes, keepdim, _sum_dtype(input._data, dtype))


def mean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean over ``dim``; only floating-point (or complex) inputs, as in PyTorch."""
    np_dtype = dtypes.to_dtype(dtype).np if dtype is not None else None
    kind = _np_kind(np_dtype or input._data.dtype)
    if kind not in "fc":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or complex "
            f"dtype. Got: {input.dtype.name.capitalize()}"
        )
    axes = normalize_dims(dim, input._data.ndim) if not (isinstance(dim, (tuple, list)) and len(dim) == 0) else tuple(range(input._data.ndim))
    return Mean.apply(input, axes, keepdim, np_dtype)


def _axes(input, dim):
    if isinstance(dim, (tuple, list)) and len(dim) == 0:
        return tuple(range(input._data.ndim))
    return normalize_dims(dim, input._data.ndim)


class Prod(Primitive):
    @staticmethod
    def forward(ctx, a, axes, keepdim, np_dtype):
        ctx.save_for_backward(a)
        ctx.axes, ctx.keepdim = axes, keepdim
        return a._data.prod(axis=axes, keepdims=keepdim, dtype=np_dtype)

    @staticmethod
    def backward(ctx, grad):
        if _np_kind(grad._data.dtype) == "c":  # holomorphic: grad * conj(d prod / d a)
            return Prod._grad(ctx, grad.conj()).conj()
        return Prod._grad(ctx, grad)

    @staticmethod
    def _grad(ctx, grad):
        (a,) = ctx.saved_tensors
        # product of all other elements, without dividing by zero: exclusive cumulative products
        from .shape import reshape

        axes = ctx.axes
        g = grad_to_input_shape(grad, a._data.shape, axes, ctx.keepdim)
        if len(axes) == 1:
            d = axes[0]
            before = _exclusive_cumprod(a, d, reverse=False)
            after = _exclusive_cumprod(a, d, reverse=True)
            return g * before * after
        flat_shape = [s for i, s in enumerate(a._data.shape) if i not in axes] + [-1]
        from .shape import permute

        order = [i for i in range(a._data.ndim) if i not in axes] + list(axes)
        moved = reshape(permute(a, order), flat_shape)
        others = _exclusive_cumprod(moved, -1, False) * _exclusive_cumprod(moved, -1, True)
        inverse = [0] * len(order)
        for pos, k in enumerate(order):
            inverse[k] = pos
        perm_shape = [a._data.shape[k] for k in order]
        return g * permute(reshape(others, perm_shape), inverse)


def _exclusive_cumprod(a, dim, reverse):
    from .joining import cat
    from .shape import flip, narrow

    n = a._data.shape[dim]
    x = flip(a, (dim,)) if reverse else a
    shifted = cat([narrow(x, dim, 0, 1) * 0 + 1, narrow(x, dim, 0, n - 1)], dim) if n > 1 else x * 0 + 1
    out = cumprod(shifted, dim)
    return flip(out, (dim,)) if reverse else out


@autocast_op
def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Product of elements over ``dim`` (all when None)."""
    axes = _axes(input, dim) if dim is not None else tuple(range(input._data.ndim))
    return Prod.apply(input, axes, keepdim if dim is not None else False, _sum_dtype(input._data, dtype))


class Amax(Primitive):
    """amax/amin: the gradient is split evenly among ties, as PyTorch does."""

    @staticmethod
    def forward(ctx, a, axes, keepdim, is_max):
        xp = xp_of(a._data)
        _real_only(a, "max_values" if is_max else "min_values")
        fn = xp.max if is_max else xp.min
        if a._data.size == 0 and axes:
            raise RuntimeError(f"{'max' if is_max else 'min'}(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.")
        out = fn(a._data, axis=axes, keepdims=keepdim)
        ctx.save_for_backward(a)
        ctx.axes, ctx.keepdim = axes, keepdim
        ctx.out = out
        return out

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        from ..tensor import Tensor

        xp = xp_of(a._data)
        out = ctx.out if ctx.keepdim else xp.expand_dims(ctx.out, ctx.axes)
        mask = (a._data == out).astype(a._data.dtype)
        mask /= mask.sum(axis=ctx.axes, keepdims=True)
        return grad_to_input_shape(grad, a._data.shape, ctx.axes, ctx.keepdim) * Tensor._make(mask)


def amax(input, dim=(), keepdim=False):
    return Amax.apply(input, _axes(input, dim), keepdim, True)


def amin(input, dim=(), keepdim=False):
    return Amax.apply(input, _axes(input, dim), keepdim, False)


_ReturnTypes = {}


def _return_type(name, fields=("values", "indices")):
    if name not in _ReturnTypes:
        from collections import namedtuple

        cls = namedtuple(name, fields)
        cls.__module__ = "ember.return_types"
        _ReturnTypes[name] = cls
    return _ReturnTypes[name]


class Max(Primitive):
    @staticmethod
    def forward(ctx, a, dim, keepdim, is_max):
        xp = xp_of(a._data)
        _real_only(a, "max" if is_max else "min")
        idx = (xp.argmax if is_max else xp.argmin)(a._data, axis=dim)
        idx_k = xp.expand_dims(idx, dim)
        vals = xp.take_along_axis(a._data, idx_k, axis=dim)
        ctx.shape, ctx.dim, ctx.idx = a._data.shape, dim, idx_k
        if not keepdim:
            vals = vals.squeeze(dim)
        else:
            idx = idx_k
        idx = idx.astype("int64")
        ctx.mark_non_differentiable(idx)
        ctx.keepdim = keepdim
        return vals, idx

    @staticmethod
    def backward(ctx, grad, grad_idx=None):
        from ..tensor import Tensor
        from .indexing import scatter_add

        g = grad if ctx.keepdim else grad.unsqueeze(ctx.dim)
        return scatter_add(g.new_zeros(ctx.shape), ctx.dim, Tensor._make(ctx.idx.astype("int64")), g)


def _extremum(input, dim, keepdim, is_max, other=None, name="max"):
    from ..tensor import Tensor

    if other is not None or isinstance(dim, Tensor):
        from .selection import maximum, minimum

        return (maximum if is_max else minimum)(input, dim if other is None else other)
    if dim is None:
        if input._data.size == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.")
        return Amax.apply(input, tuple(range(input._data.ndim)), False, is_max)
    d = wrap_dim(dim, input._data.ndim)
    if input._data.ndim == 0:
        vals, idx = input, input.new_zeros((), dtype=dtypes.int64)
        return _return_type(name)(vals, idx)
    vals, idx = Max.apply(input, d, keepdim, is_max)
    return _return_type(name)(vals, idx)


def max(input, dim=None, keepdim=False, *, out=None):
    """Maximum of all elements, or ``(values, indices)`` along ``dim``, or elementwise with a tensor."""
    return _extremum(input, dim, keepdim, True, name="max")


def min(input, dim=None, keepdim=False, *, out=None):
    """Minimum of all elements, or ``(values, indices)`` along ``dim``, or elementwise with a tensor."""
    return _extremum(input, dim, keepdim, False, name="min")


def _arg(input, dim, keepdim, is_max):
    from ..tensor import Tensor

    xp = xp_of(input._data)
    fn = xp.argmax if is_max else xp.argmin
    if dim is None:
        if input._data.size == 0:
            raise RuntimeError("argmax(): Expected reduction dim to be specified for input.numel() == 0.")
        res = fn(input._data.reshape(-1))
        res = xp.asarray(res).astype("int64")
        return Tensor._make(res.reshape((1,) * input._data.ndim) if keepdim else res)
    d = wrap_dim(dim, input._data.ndim)
    res = fn(input._data, axis=d) if input._data.ndim else xp.asarray(0)
    if keepdim and input._data.ndim:
        res = xp.expand_dims(res, d)
    return Tensor._make(xp.asarray(res).astype("int64"))


def _real_only(t, kernel):
    if _np_kind(t._data.dtype) == "c":
        from .unary import not_implemented

        raise not_implemented(kernel, t._data)


def argmax(input, dim=None, keepdim=False):
    """Index of the maximum (of the flattened tensor when ``dim`` is None); int64."""
    if _np_kind(input._data.dtype) == "c":
        raise RuntimeError("argmax(): does not support complex input")
    return _arg(input, dim, keepdim, True)


def argmin(input, dim=None, keepdim=False):
    if _np_kind(input._data.dtype) == "c":
        raise RuntimeError("argmin(): does not support complex input")
    return _arg(input, dim, keepdim, False)


def aminmax(input, *, dim=None, keepdim=False):
    cls = _return_type("aminmax", ("min", "max"))
    return cls(amin(input, () if dim is None else dim, keepdim), amax(input, () if dim is None else dim, keepdim))


def var(input, dim=None, *, correction=1, keepdim=False, unbiased=None):
    """Variance over ``dim`` with Bessel's ``correction`` (``unbiased`` is the legacy spelling)."""
    if isinstance(correction, bool):  # var(x, True) legacy positional unbiased
        unbiased, correction = correction, 1
    if unbiased is not None:
        correction = 1 if unbiased else 0
    axes = _axes(input, dim) if dim is not None else tuple(range(input._data.ndim))
    n = 1
    for ax in axes:
        n *= input._data.shape[ax]
    m = mean(input, axes, keepdim=True)
    d = input - m
    return sum(d * d, axes, keepdim=keepdim) / builtins.max(n - correction, 0)


def std(input, dim=None, *, correction=1, keepdim=False, unbiased=None):
    """Standard deviation (square root of ``var``)."""
    from .unary import sqrt

    return sqrt(var(input, dim, correction=correction, keepdim=keepdim, unbiased=unbiased))


def var_mean(input, dim=None, *, correction=1, keepdim=False, unbiased=None):
    return var(input, dim, correction=correction, keepdim=keepdim, unbiased=unbiased), mean(input, dim, keepdim)


def std_mean(input, dim=None, *, correction=1, keepdim=False, unbiased=None):
    return std(input, dim, correction=correction, keepdim=keepdim, unbiased=unbiased), mean(input, dim, keepdim)


def logsumexp(input, dim, keepdim=False):
    """``log(sum(exp(x)))`` over ``dim``, computed stably."""
    from .unary import exp, log

    axes = _axes(input, dim)
    m = amax(input, axes, keepdim=True).detach()
    xp = xp_of(m._data)
    m._data = xp.where(xp.isfinite(m._data), m._data, 0)
    out = log(sum(exp(input - m), axes, keepdim=True)) + m
    from .shape import squeeze

    return out if keepdim else squeeze(out, axes) if axes else out


class CumSum(Primitive):
    @staticmethod
    def forward(ctx, a, dim, np_dtype):
        ctx.dim = dim
        return xp_of(a._data).cumsum(a._data, axis=dim, dtype=np_dtype)

    @staticmethod
    def backward(ctx, grad):
        from .shape import flip

        return flip(cumsum(flip(grad, (ctx.dim,)), ctx.dim), (ctx.dim,))


@autocast_op
def cumsum(input, dim, *, dtype=None):
    """Cumulative sum along ``dim``."""
    d = wrap_dim(dim, input._data.ndim)
    return CumSum.apply(input, d, _sum_dtype(input._data, dtype))


class CumProd(Primitive):
    @staticmethod
    def forward(ctx, a, dim, np_dtype):
        ctx.dim = dim
        ctx.save_for_backward(a)
        return xp_of(a._data).cumprod(a._data, axis=dim, dtype=np_dtype)

    @staticmethod
    def backward(ctx, grad):
        if _np_kind(grad._data.dtype) == "c":  # holomorphic: grad * conj(d out / d a)
            return CumProd._grad(ctx, grad.conj()).conj()
        return CumProd._grad(ctx, grad)

    @staticmethod
    def _grad(ctx, grad):
        (a,) = ctx.saved_tensors
        from .shape import flip
        from .selection import where

        out = cumprod(a, ctx.dim)
        # d/da_k sum_j g_j prod_{i<=j} a_i = sum_{j>=k} g_j out_j / a_k  (inputs are assumed nonzero here)
        rev = flip(cumsum(flip(grad * out, (ctx.dim,)), ctx.dim), (ctx.dim,))
        safe = where(a == 0, 1.0, a)
        return rev / safe


def cumprod(input, dim, *, dtype=None):
    d = wrap_dim(dim, input._data.ndim)
    return CumProd.apply(input, d, _sum_dtype(input._data, dtype) if _np_kind(input._data.dtype) in "biu" else None)


def _bool_reduce(input, dim, keepdim, fn_name):
    from ..tensor import Tensor

    xp = xp_of(input._data)
    fn = getattr(xp, fn_name)
    if dim is None:
        res = fn(input._data)
    else:
        res = fn(input._data, axis=_axes(input, dim), keepdims=keepdim)
    res = xp.asarray(res)
    return Tensor._make(res if input._data.dtype != xp.uint8 else res.astype(xp.uint8))


def all(input, dim=None, keepdim=False):
    """True where every element (over ``dim``) is non-zero."""
    return _bool_reduce(input, dim, keepdim, "all")


def any(input, dim=None, keepdim=False):
    """True where any element (over ``dim``) is non-zero."""
    return _bool_reduce(input, dim, keepdim, "any")


def count_nonzero(input, dim=None):
    from ..tensor import Tensor

    xp = xp_of(input._data)
    res = xp.count_nonzero(input._data, axis=None if dim is None else _axes(input, dim))
    return Tensor._make(xp.asarray(res).astype("int64"))


class _NormRoot(Primitive):
    """``s ** (1 / p)`` for a sum of powers ``s >= 0``, whose gradient is 0 (not inf) where ``s == 0``:
    so the gradient of a p-norm at exactly zero is 0, as in PyTorch."""

    @staticmethod
    def forward(ctx, s, p):
        arr = s._data
        xp = xp_of(arr)
        out = xp.sqrt(arr) if p == 2 else arr ** (1.0 / p)
        ctx.p = p
        ctx.save_for_backward(s)
        return out

    @staticmethod
    def backward(ctx, grad):
        from .selection import where

        (s,) = ctx.saved_tensors
        zero = s == 0
        safe = where(zero, 1.0, s)  # finite everywhere, so double backward stays finite too
        root = _NormRoot.apply(safe, ctx.p)
        return where(zero, 0.0, grad * root / (ctx.p * safe)), None


def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """Vector p-norm over ``dim`` (all elements when None); 'fro' is the 2-norm of all elements.
    Its gradient at a zero vector is 0, as in PyTorch."""
    from .unary import abs as _abs

    if dtype is not None:
        input = input.to(dtype)
    axes = _axes(input, dim) if dim is not None else tuple(range(input._data.ndim))
    if p == "fro" or p == 2 or p is None:
        s = sum(input * input, axes, keepdim=keepdim)
        return _NormRoot.apply(s, 2) if input._data.size else s
    if p == "nuc":
        raise NotImplementedError("norm(p='nuc') needs an SVD: use ember.linalg.matrix_norm when it lands")
    a = _abs(input)
    if p == float("inf"):
        return amax(a, axes, keepdim)
    if p == float("-inf"):
        return amin(a, axes, keepdim)
    if p == 0:
        return sum((a != 0).to(input.dtype), axes, keepdim=keepdim)
    if p == 1:
        return sum(a, axes, keepdim=keepdim)
    return _NormRoot.apply(sum(a**p, axes, keepdim=keepdim), p)


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    from .selection import where
    from .comparison import isnan

    return sum(where(isnan(input), 0.0, input), dim, keepdim, dtype=dtype)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    from .comparison import isnan

    n = sum((~isnan(input)).to(input.dtype), dim, keepdim)
    return nansum(input, dim, keepdim, dtype=dtype) / n


def median(input, dim=None, keepdim=False):
    """Lower median (of all elements, or ``(values, indices)`` along ``dim``)."""
    from .sorting import sort

    if dim is None:
        flat = input.reshape(-1)
        k = (flat._data.size - 1) // 2
        return sort(flat).values[k]
    d = wrap_dim(dim, input._data.ndim)
    vals, idx = sort(input, d)
    k = (input._data.shape[d] - 1) // 2
    from .shape import narrow, squeeze

    v, i = narrow(vals, d, k, 1), narrow(idx, d, k, 1)
    if not keepdim:
        v, i = squeeze(v, d), squeeze(i, d)
    return _return_type("median")(v, i)


from ._common import alias_globals, wrap_dim, xp_of  # noqa: E402

alias_globals(globals(), [
    "sum", "mean", "prod", "amax", "amin", "max", "min", "argmax", "argmin", "aminmax", "var", "std", "var_mean",
    "std_mean", "logsumexp", "cumsum", "cumprod", "all", "any", "count_nonzero", "norm", "nansum", "nanmean", "median",
])

bind(
    sum=sum, mean=mean, prod=prod, amax=amax, amin=amin, max=max, min=min, argmax=argmax, argmin=argmin,
    aminmax=aminmax, var=var, std=std, logsumexp=logsumexp, cumsum=cumsum, cumprod=cumprod, all=all, any=any,
    count_nonzero=count_nonzero, norm=norm, nansum=nansum, nanmean=nanmean, median=median,
)

__all__ = [
    "sum", "mean", "prod", "amax", "amin", "max", "min", "argmax", "argmin", "aminmax", "var", "std", "var_mean",
    "std_mean", "logsumexp", "cumsum", "cumprod", "all", "any", "count_nonzero", "norm", "nansum", "nanmean", "median",
]
