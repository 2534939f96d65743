"""Reductions over dimensions: sum, mean (more are added here by family)."""

from __future__ import annotations

import builtins
import functools

import numpy

from .. import _fast, dtypes
from ..autograd.function import TRACE_HOOK, Primitive
from ..tensor import Tensor
from ._common import as_1d_if_0d, bind, broadcast_view, check_reduce_dims, normalize_dims, quiet_errors
from ..dtypes import np_kind as _np_kind
from ..autograd.autocast import autocast_op


def _reduced_shape_keepdim(shape, axes):
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def grad_to_input_shape(grad, in_shape, axes, keepdim):
    """Broadcast a reduction's gradient back over the reduced axes (differentiably)."""
    arr = grad._data
    if not grad._requires_grad and type(arr) is numpy.ndarray and TRACE_HOOK[0] is None:
        # nothing to record (a plain backward): the same two views made on the array, without the two
        # autograd nodes (a third of a small op's backward)
        if arr.shape == in_shape:
            return grad
        if arr.size != 1 and not keepdim and axes:  # (one element broadcasts to any shape as it is)
            arr = arr.reshape(_reduced_shape_keepdim(in_shape, axes))
        if arr.shape != in_shape:
            arr = broadcast_view(arr, in_shape)
        return Tensor._make(arr, version=grad._version_counter, base=grad._base if grad._base is not None else grad)
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


_ROW_BLOCK = 128  # elements summed by einsum's vectorised loop before the pairwise level


def _row_sums(r, o):
    """o = r.sum(axis=1) for a C-contiguous 2-D float block in two levels: einsum's SIMD loop over runs of
    _ROW_BLOCK elements (short enough to stay accurate), then NumPy's pairwise sum over the run totals and
    the tail. Each row's result depends on that row only (not on how rows are split among threads); its
    error is at most the pairwise sum's order (einsum alone over a whole long row is not: ~1e-5 relative
    over 1M float32)."""
    n = r.shape[1]
    q = n // _ROW_BLOCK
    if q < 2:
        r.sum(axis=1, out=o)
        return
    parts = numpy.einsum("ijk->ij", r[:, :q * _ROW_BLOCK].reshape(r.shape[0], q, _ROW_BLOCK))
    parts.sum(axis=1, out=o)
    if q * _ROW_BLOCK < n:
        o += r[:, q * _ROW_BLOCK:].sum(axis=1)


_GEMV_ROW_MAX = 4096  # rows up to this long are summed as one BLAS matrix-vector product with ones


@functools.lru_cache(maxsize=16)
def _ones(n, dtype):
    return numpy.ones(n, dtype=dtype)


def _rows_sum_gemv(arr, keepdim):
    """Sum over the last dim of a large C-contiguous float32/float64 CPU array with rows of at most
    ``_GEMV_ROW_MAX`` elements as ``rows @ ones``: BLAS's gemv, threaded, reads the array once at memory
    speed (1024x1024 float32: 0.057 ms against 0.20 for NumPy's pairwise row sums). Each row is summed
    in a few interleaved partial sums of at most a few hundred terms, well inside float32 tolerance; like
    PyTorch's sum, a row of -0.0 sums to +0.0."""
    n = arr.shape[-1]
    out = arr.reshape(-1, n) @ _ones(n, arr.dtype)
    return out.reshape(arr.shape[:-1] + ((1,) if keepdim else ()))


def _rows_sum_threads(arr, keepdim):
    """Sum over the last dim of a large CPU array, its rows split over the threads (``_row_sums``:
    1024x1024 float32 0.19 -> 0.16 ms of one thread's CPU time against NumPy's pairwise row sums)."""
    rows = arr.reshape(-1, arr.shape[-1])
    out = xp_of(arr).empty(rows.shape[0], dtype=arr.dtype)
    fn = _row_sums if arr.dtype in (numpy.float32, numpy.float64) else (lambda r, o: r.sum(axis=1, out=o))
    _fast.run_rows(fn, (rows, out), (0, 1), size=arr.size)
    return out.reshape(arr.shape[:-1] + ((1,) if keepdim else ()))


_TOTAL_ROW = 1 << 16  # a whole-array sum is taken as row sums of this length (a multiple of _ROW_BLOCK)


def _total_sum(arr, keepdim):
    """The sum of every element of a large C-contiguous float array: row sums over fixed 64K-element rows
    (shared among the threads), then the pairwise sum of those and the tail. The rows do not depend on the
    thread count, so neither does the result."""
    flat = arr.reshape(-1)
    q = flat.shape[0] // _TOTAL_ROW
    parts = _rows_sum_threads(flat[:q * _TOTAL_ROW].reshape(q, _TOTAL_ROW), False)
    total = parts.sum()
    if q * _TOTAL_ROW < flat.shape[0]:
        tail = flat[q * _TOTAL_ROW:]
        total = total + _rows_sum_threads(tail.reshape(1, -1), False)[0]
    return xp_of(arr).full((1,) * arr.ndim if keepdim else (), total, dtype=arr.dtype)


class Sum(Primitive):
    @staticmethod
    def forward(ctx, a, axes, keepdim, np_dtype):
        arr = a._data
        ctx.in_shape, ctx.axes, ctx.keepdim = arr.shape, axes, keepdim
        if np_dtype is None and arr.ndim and _fast.big_cpu(arr):
            if axes == (arr.ndim - 1,) and arr.ndim > 1:
                if arr.shape[-1] <= _GEMV_ROW_MAX and arr.dtype in (numpy.float32, numpy.float64):
                    return _rows_sum_gemv(arr, keepdim)
                return _rows_sum_threads(arr, keepdim)
            if len(axes) == arr.ndim and arr.dtype in (numpy.float32, numpy.float64):
                return _total_sum(arr, keepdim)
        return arr.sum(axis=axes, keepdims=keepdim, dtype=np_dtype)

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
    def forward(ctx, a, axes, keepdim, np_dtype, full=False):
        ctx.save_for_backward(a)
        ctx.axes, ctx.keepdim, ctx.full = axes, keepdim, full
        return a._data.prod(axis=axes, keepdims=keepdim, dtype=np_dtype)

    @staticmethod
    def backward(ctx, grad):
        if _np_kind(grad._data.dtype) == "c":  # holomorphic: grad * conj(d prod / d a)
            return Prod._grad(ctx, grad.conj()).conj()
        return Prod._grad(ctx, grad)

    @staticmethod
    def _grad(ctx, grad):
        from .product_grad import prod_grad

        (a,) = ctx.saved_tensors
        g = grad_to_input_shape(grad, a._data.shape, ctx.axes, ctx.keepdim)
        return prod_grad(a, g, Prod.apply(a, ctx.axes, True, None), ctx.axes, ctx.full)


@autocast_op
def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Product of elements over ``dim`` (all when None)."""
    axes = _axes(input, dim) if dim is not None else tuple(range(input._data.ndim))
    return Prod.apply(input, axes, keepdim if dim is not None else False, _sum_dtype(input._data, dtype), dim is None)


class Amax(Primitive):
    """amax/amin: the gradient is split evenly among ties, as PyTorch does."""

    @staticmethod
    def forward(ctx, a, axes, keepdim, is_max):
        xp = xp_of(a._data)
        _real_only(a, "max_values" if is_max else "min_values")
        fn = xp.max if is_max else xp.min
        if a._data.size == 0:
            check_reduce_dims("amax" if is_max else "amin", a._data.shape, axes)
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
    check_reduce_dims(name, input._data.shape, (d,))
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
    if input._data.dtype.kind == "b":
        raise RuntimeError(f"{'argmax' if is_max else 'argmin'}(): does not support bool input")
    if dim is None:
        if input._data.size == 0:
            raise IndexError(f"{'argmax' if is_max else 'argmin'}(): Expected reduction dim to be specified for input.numel() == 0.")
        res = fn(input._data.reshape(-1))
        res = xp.asarray(res).astype("int64")
        return Tensor._make(res.reshape((1,) * input._data.ndim) if keepdim else res)
    d = wrap_dim(dim, input._data.ndim)
    check_reduce_dims("argmax" if is_max else "argmin", input._data.shape, (d,))
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
    """``(amin, amax)`` over ``dim`` (all elements when None)."""
    cls = _return_type("aminmax", ("min", "max"))
    if input._data.size == 0:
        if dim is None:
            raise RuntimeError(
                "aminmax(): cannot compute aminmax over an empty dimension as the operation has no identity."
            )
        d = wrap_dim(dim, input._data.ndim)
        if input._data.ndim and input._data.shape[d] == 0:
            raise IndexError(f"aminmax: Expected reduction dim {d} to have non-zero size.")
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
    if input._data.dtype.kind != "f":
        m = mean(input, axes, keepdim=True)
        d = input - m
        return sum(d * d, axes, keepdim=keepdim) / builtins.max(n - correction, 0)
    whole = dim is None or input._data.ndim == 0  # PyTorch's gradient has its own rule for these at N <= correction
    return _Var.apply(input, axes, keepdim, n - correction, whole)


class _Var(Primitive):
    """Variance with PyTorch's gradient ``2 (x - mean) / (N - correction)`` (exact at inf and at N == correction).

    Over the whole tensor with ``N <= correction`` PyTorch's gradient is ``grad * inf``, or nan where an
    element equals the mean (``inf * 0``), whatever the sign of ``N - correction``.
    """

    @staticmethod
    def forward(ctx, a, axes, keepdim, denom, whole=False):
        x = a._data
        ctx.save_for_backward(a)
        ctx.axes, ctx.keepdim, ctx.denom, ctx.whole = axes, keepdim, denom, whole
        with quiet_errors():
            d = x - x.mean(axis=axes, keepdims=True) if x.size else x
            return (d * d).sum(axis=axes, keepdims=keepdim) / x.dtype.type(builtins.max(denom, 0))

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        g = grad_to_input_shape(grad, a._data.shape, ctx.axes, ctx.keepdim)
        m = mean(a, ctx.axes, keepdim=True)
        if ctx.whole and ctx.denom <= 0:
            from .selection import where

            return g * where(a == m, float("nan"), float("inf")), None, None, None, None
        centred = a - m
        scale = 2.0 / ctx.denom if ctx.denom else float("inf")  # N - correction, unclamped, as PyTorch
        return g * (centred * scale), None, None, None, None


class _NormSqrt(Primitive):
    """sqrt of a sum of squares (std, 2-norm) whose gradient is 0 where the result is 0: PyTorch's
    subgradient for a norm or std at zero (plain sqrt would give 0 * inf = nan)."""

    save_output = True

    @staticmethod
    def forward(ctx, a):
        return xp_of(a._data).sqrt(a._data)

    @staticmethod
    def backward(ctx, grad):
        from .selection import where

        y = ctx.saved_output
        return where(y == 0, 0.0, grad / (2 * y))


def std(input, dim=None, *, correction=1, keepdim=False, unbiased=None):
    """Standard deviation (square root of ``var``)."""
    sqrt = _NormSqrt.apply
    return sqrt(var(input, dim, correction=correction, keepdim=keepdim, unbiased=unbiased))


def var_mean(input, dim=None, *, correction=1, keepdim=False, unbiased=None):
    return var(input, dim, correction=correction, keepdim=keepdim, unbiased=unbiased), mean(input, dim, keepdim)


def std_mean(input, dim=None, *, correction=1, keepdim=False, unbiased=None):
    return std(input, dim, correction=correction, keepdim=keepdim, unbiased=unbiased), mean(input, dim, keepdim)


def logsumexp(input, dim, keepdim=False):
    """``log(sum(exp(x)))`` over ``dim``, computed stably."""
    from .unary import exp, log

    if input._data.dtype.kind in "biu":  # integers are promoted before exp (uint8 would overflow)
        input = input.to(dtypes.get_default_dtype())
    axes = _axes(input, dim)
    xp = xp_of(input._data)
    if input._data.size == 0:  # max over an empty dim has no value; the shift is 0 (the result is -inf)
        m = input.sum(axes, keepdim=True).detach() * 0
    else:
        m = amax(input, axes, keepdim=True).detach()
    m._data = xp.where(xp.isfinite(m._data), m._data, 0)
    out = log(sum(exp(input - m), axes, keepdim=True)) + m
    from .shape import squeeze

    return out if keepdim else squeeze(out, axes) if axes else out


class CumSum(Primitive):
    @staticmethod
    def forward(ctx, a, dim, np_dtype):
        ctx.dim, ctx.in_dtype = dim, a._data.dtype
        return _cum_in(a._data, dim, np_dtype, "cumsum")

    @staticmethod
    def backward(ctx, grad):
        from .shape import flip

        grad = _grad_in(grad, ctx.in_dtype)
        return flip(cumsum(flip(grad, (ctx.dim,)), ctx.dim), (ctx.dim,))


def _cum_in(arr, dim, np_dtype, name):
    """cumsum/cumprod of ``arr`` in ``np_dtype``. Converting one float type to another, PyTorch casts the
    input and then accumulates in double (its CPU accumulator for float), rounding each running value once."""
    xp = xp_of(arr)
    fn = getattr(xp, name)
    if (name == "cumsum" and np_dtype in (None, arr.dtype) and arr.dtype == numpy.float32 and _fast.big_cpu(arr)
            and _fast.kernels() is not None):
        return _cumsum_float32(arr, dim)
    if np_dtype is None or arr.dtype.kind != "f" or numpy.dtype(np_dtype).kind != "f" or arr.dtype == np_dtype:
        return fn(arr, axis=dim, dtype=np_dtype)
    wide = arr.astype(np_dtype).astype(xp.float64)
    return fn(wide, axis=dim).astype(np_dtype)


def _cumsum_float32(arr, dim):
    """A float32 cumsum as PyTorch's CPU one computes it (a double accumulator, each running value rounded
    once) in one compiled pass over rows along ``dim``: NumPy's float32 add.accumulate rounds every step and
    took 2.7 ms on 1M elements (now 0.72)."""
    out = _fast.last_dim_rows("cumsum_rows", numpy.ascontiguousarray(numpy.moveaxis(arr, dim, -1)))
    return out if dim in (-1, arr.ndim - 1) else numpy.ascontiguousarray(numpy.moveaxis(out, -1, dim))


def _grad_in(grad, np_dtype):
    """PyTorch's ``grad.to(self.scalar_type())``: a cumsum/cumprod run in another ``dtype`` is differentiated
    in the input's dtype (a float64 input summed in float32 gets a float64 reversed cumsum)."""
    if grad._data.dtype == np_dtype or _np_kind(np_dtype) not in "fc":
        return grad
    return grad.to(dtypes.from_numpy_dtype(np_dtype))


def _check_autograd_dtype(input, dtype):
    from ..autograd.grad_mode import STATE
    from .unary import scalar_type_name

    if dtype is not None and input._requires_grad and STATE.enabled and not dtypes.to_dtype(dtype).is_floating_point:
        raise RuntimeError(f"Autograd not support dtype: {scalar_type_name(dtypes.to_dtype(dtype).np)}")


@autocast_op
@as_1d_if_0d
def cumsum(input, dim, *, dtype=None):
    """Cumulative sum along ``dim``."""
    d = wrap_dim(dim, input._data.ndim)
    _check_autograd_dtype(input, dtype)
    return CumSum.apply(input, d, _sum_dtype(input._data, dtype))


class CumProd(Primitive):
    save_output = True

    @staticmethod
    def forward(ctx, a, dim, np_dtype):
        ctx.dim = dim
        ctx.save_for_backward(a)
        return _cum_in(a._data, dim, np_dtype, "cumprod")

    @staticmethod
    def backward(ctx, grad):
        if _np_kind(grad._data.dtype) == "c":  # holomorphic: grad * conj(d out / d a)
            return CumProd._grad(ctx, grad.conj()).conj()
        return CumProd._grad(ctx, grad)

    @staticmethod
    def _grad(ctx, grad):
        from .product_grad import cumprod_grad

        (a,) = ctx.saved_tensors
        out = ctx.saved_output  # in the dtype it was computed in, as PyTorch's saved result
        return cumprod_grad(a, _grad_in(grad, a._data.dtype), out, ctx.dim)


@as_1d_if_0d
def cumprod(input, dim, *, dtype=None):
    """Cumulative product along ``dim`` (computed in ``dtype`` when given)."""
    d = wrap_dim(dim, input._data.ndim)
    _check_autograd_dtype(input, dtype)
    if dtype is not None and dtypes.to_dtype(dtype).np != input._data.dtype:
        if not (input._data.dtype.kind == "f" and dtypes.to_dtype(dtype).is_floating_point):
            input = input.to(dtypes.to_dtype(dtype))
        else:  # computed in dtype, differentiated in the input's dtype (PyTorch's grad.to(self.scalar_type()))
            return CumProd.apply(input, d, dtypes.to_dtype(dtype).np)
    return CumProd.apply(input, d, _sum_dtype(input._data, None) if _np_kind(input._data.dtype) in "biu" else None)


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
        # d s^(1/p) / ds = 1 / (p * root^(p-1)), written so an infinite sum gives 0 (PyTorch's x * g / norm
        # is 0 for the finite elements of a vector with an inf), not inf / inf
        return where(zero, 0.0, grad / (ctx.p * (root if ctx.p == 2 else root ** (ctx.p - 1)))), None


def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """Vector p-norm over ``dim`` (all elements when None); 'fro' is the 2-norm of all elements.
    Its gradient at a zero vector is 0, as in PyTorch."""
    from .unary import abs as _abs

    if dtype is not None:
        input = input.to(dtype)
    if p == "nuc":
        from .linalg_api import matrix_norm

        return matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim)
    axes = _axes(input, dim) if dim is not None else tuple(range(input._data.ndim))
    if (p == "fro" or p == 2 or p is None) and _np_kind(input._data.dtype) in "fc":
        from .linalg_api import vector_norm  # one pass over the squares (the graph's product and sum took two)

        return vector_norm(input, 2, axes, keepdim)
    if p == "fro" or p == 2 or p is None:
        s = sum(input * input, axes, keepdim=keepdim)
        return _NormRoot.apply(s, 2) if input._data.size else s
    a = _abs(input)
    if p in (float("inf"), float("-inf")):  # (vector_norm's gradient: a nan element is the one taken)
        from .linalg_api import vector_norm

        return vector_norm(input, p, dim, keepdim)
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
    if dim is not None and input._data.ndim == 0:
        wrap_dim(dim, 0)
        return _return_type("median")(input, input.new_zeros((), dtype=dtypes.int64))
    return _median(input, dim, keepdim)


def _median(input, dim=None, keepdim=False):
    """Lower median (of all elements, or ``(values, indices)`` along ``dim``): the element a stable sort puts
    in the middle, or the first NaN where there is one (PyTorch: the median of values with a NaN is NaN)."""
    if dim is None:
        flat = input.reshape(-1)
        if flat._data.size == 0:  # PyTorch: nan, or the lowest value of an integer dtype
            if input._data.dtype.kind in "fc":
                return flat.sum() + float("nan")
            return input.new_full((), int(xp_of(flat._data).iinfo(flat._data.dtype).min))
        return _middle(flat, 0)[0][0]
    d = wrap_dim(dim, input._data.ndim)
    check_reduce_dims("median", input._data.shape, (d,))
    v, i = _middle(input, d)
    if not keepdim:
        from .shape import squeeze

        v, i = squeeze(v, d), squeeze(i, d)
    return _return_type("median")(v, i)


def _middle(input, d):
    """(values, indices), size 1 along ``d``: the lower median along ``d`` by a partition (1024x1024 by rows:
    56 -> ~8 ms against a stable sort), a stable sort where the partition does not apply."""
    from .sorting import Sort, kth_stable

    arr = input._data
    xp = xp_of(arr)
    k = (arr.shape[d] - 1) // 2
    nan = xp.isnan(arr) if arr.dtype.kind in "fc" else None
    has_nan = nan is not None and bool(nan.any())
    key = xp.where(nan, xp.inf, arr) if has_nan and arr.dtype.kind == "f" else arr
    at = kth_stable(xp, key, k, d)
    if at is None:
        at = xp.take(xp.argsort(key, axis=d, kind="stable"), xp.asarray([k]), axis=d).astype("int64")
    if has_nan:
        at = xp.where(nan.any(axis=d, keepdims=True), xp.argmax(nan, axis=d, keepdims=True), at)
    return Sort.apply(input, d, at), Tensor._make(at)


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
