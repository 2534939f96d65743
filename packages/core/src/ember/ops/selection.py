"""Elementwise selection and blending: where, clamp/clip, maximum/minimum, fmax/fmin, lerp, addcmul,
addcdiv, copysign, heaviside.

Gradients follow PyTorch's formulas: ``maximum``/``minimum`` split the gradient half and half at ties,
``clamp`` passes it where ``min <= x <= max`` (bounds included), ``fmax``/``fmin`` give ties to ``input``.
"""

from __future__ import annotations

import math

import numpy

from .. import backend, dtypes
from ..autograd.function import Primitive
from ..tensor import Tensor
from .._errors import check_broadcast
from ._common import apply_inplace, binary_arrays, bind, inplace_source, quiet_errors, xp_of
from .elementwise import _maybe_out
from ..dtypes import np_kind as _np_kind
from .unary import (
    _CLIP_MIN_SIZE,
    _float_binary_arrays,
    _operands,
    _quiet,
    _save_operands,
    _zeros,
    check_tensor,
    not_implemented,
    scalar_type_name,
    select,
)


def _const(arr):
    """A raw array as a constant (non-differentiable) tensor."""
    return Tensor._make(numpy.asarray(arr) if isinstance(arr, numpy.generic) else arr)


def _on_device(arr, like):
    """``arr`` (a condition or bound) on ``like``'s device; a 0-dim CPU array may follow a GPU tensor."""
    if xp_of(arr) is xp_of(like):
        return arr
    if arr.ndim == 0:
        return backend.to_device(arr, backend.device_of(like))
    raise RuntimeError(
        "Expected all tensors to be on the same device, but found at least two devices, "
        f"{backend.device_of(like)} and {backend.device_of(arr)}!"
    )


# ---- where --------------------------------------------------------------------------------------


class Where(Primitive):
    @staticmethod
    def forward(ctx, cond, a, b):
        c = cond._data
        if c.dtype.kind != "b":
            if c.dtype != "uint8":
                raise RuntimeError(
                    f"where expected condition to be a boolean tensor, but got a tensor with dtype {scalar_type_name(c.dtype)}"
                )
            c = c.astype(bool)
        if isinstance(a, Tensor) or isinstance(b, Tensor):
            x, y = binary_arrays(a, b)
            like = x if isinstance(a, Tensor) else y
        else:
            dt = dtypes.result_type(a, b)
            x, y = dt.np.type(a), dt.np.type(b)
            like = c
        c = _on_device(c, like)
        ctx.save_for_backward(cond)
        return select(c, x, y)

    @staticmethod
    def backward(ctx, grad):
        (cond,) = ctx.saved_tensors
        ga = where(cond, grad, 0.0) if ctx.needs_input_grad[1] else None
        gb = where(cond, 0.0, grad) if ctx.needs_input_grad[2] else None
        return None, ga, gb


def where(condition, input=None, other=None, *, out=None):
    """``input`` where ``condition`` holds, else ``other`` (either may be a Python number);
    ``where(condition)`` is ``nonzero(condition, as_tuple=True)``."""
    if input is None and other is None:
        from .indexing import nonzero

        return nonzero(condition, as_tuple=True)
    if input is None or other is None:
        raise TypeError("where() takes a condition and both input and other (or only a condition)")
    check_tensor(condition, "where", "condition")
    return _maybe_out(Where.apply(condition, input, other), out)


# ---- clamp --------------------------------------------------------------------------------------


_PLAIN_BOUND = (float, int, type(None))


class Clamp(Primitive):
    @staticmethod
    def forward(ctx, a, lo, hi):
        arr = a._data
        if arr.dtype.kind == "c":
            raise NotImplementedError("clamp is not supported for complex types")
        if arr.dtype.kind == "f" and type(lo) in _PLAIN_BOUND and type(hi) in _PLAIN_BOUND:
            np_dtype = arr.dtype  # a Python int/float never changes a floating tensor's dtype
        else:
            np_dtype = dtypes.result_type(a, *[v for v in (lo, hi) if v is not None]).np
            if arr.dtype != np_dtype:
                arr = arr.astype(np_dtype)
        xp = xp_of(arr)
        if ctx.needs_input_grad is not None:
            ctx.save_for_backward(a, lo if isinstance(lo, Tensor) else None, hi if isinstance(hi, Tensor) else None)
            ctx.bounds = (None if isinstance(lo, Tensor) else lo, None if isinstance(hi, Tensor) else hi)
        if np_dtype.kind == "f" and arr.size >= _CLIP_MIN_SIZE:
            # one clip (vectorised in NumPy); min > max gives max everywhere and nan propagates, as in PyTorch
            return xp.clip(arr, -math.inf if lo is None else _bound(lo, np_dtype, arr),
                           math.inf if hi is None else _bound(hi, np_dtype, arr))
        out = arr
        if lo is not None:
            out = xp.maximum(out, _bound(lo, np_dtype, arr))
        if hi is not None:
            h = _bound(hi, np_dtype, arr)
            if out is arr or isinstance(out, numpy.generic) or getattr(h, "shape", ()) != out.shape:
                out = xp.minimum(out, h)
            else:
                xp.minimum(out, h, out=out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, lo_t, hi_t = ctx.saved_tensors
        lo, hi = ctx.bounds
        lo = lo_t if lo_t is not None else lo
        hi = hi_t if hi_t is not None else hi
        need = ctx.needs_input_grad
        ga = glo = ghi = None
        if lo is not None and hi is not None:
            if need[0]:
                ga = where((x >= lo) & (x <= hi), grad, 0.0)
            if need[1]:
                glo = where((x < lo) & (lo < hi), grad, 0.0)
            if need[2]:
                ghi = where((x > hi) | (hi < lo), grad, 0.0)
        elif lo is not None:
            ga = where(x >= lo, grad, 0.0) if need[0] else None
            glo = where(x < lo, grad, 0.0) if need[1] else None
        else:
            ga = where(x <= hi, grad, 0.0) if need[0] else None
            ghi = where(x > hi, grad, 0.0) if need[2] else None
        return ga, glo, ghi


def _bound(v, np_dtype, like):
    if isinstance(v, Tensor):
        arr = _on_device(v._data, like)
        return arr if arr.dtype == np_dtype else arr.astype(np_dtype)
    if isinstance(v, int) and not isinstance(v, bool) and np_dtype.kind in "iu":
        from ._common import _wrap_int

        return _wrap_int(v, np_dtype)  # PyTorch wraps an out-of-range int bound (-1 on uint8 is 255)
    return np_dtype.type(v)


def clamp(input, min=None, max=None, *, out=None):
    """Limit each element to ``[min, max]`` (bounds are numbers or tensors; either may be None).
    With ``min > max`` every element becomes ``max``."""
    check_tensor(input, "clamp")
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    return _maybe_out(Clamp.apply(input, min, max), out)


clip = clamp


def clamp_min(input, min, *, out=None):
    """``clamp(input, min=min)``."""
    return clamp(input, min, None, out=out)


def clamp_max(input, max, *, out=None):
    """``clamp(input, max=max)``."""
    return clamp(input, None, max, out=out)


# ---- maximum / minimum / fmax / fmin ------------------------------------------------------------


class _Extremum(Primitive):
    """Shared code of the elementwise max/min ops: ``pick`` is the xp function, ``weights(xp, x, y)``
    the share of the gradient each operand gets (a pair of float arrays or bool masks)."""

    pick = ""

    @classmethod
    def forward(cls, ctx, a, b):
        x, y = binary_arrays(a, b)
        if x.dtype.kind == "c":
            raise RuntimeError(f"{cls.pick} not implemented for complex tensors.")
        ctx.save_for_backward(a, b)
        return getattr(xp_of(x), cls.pick)(x, y)

    @classmethod
    def backward(cls, ctx, grad):
        a, b = ctx.saved_tensors
        x, y = binary_arrays(a, b)
        wa, wb = cls.weights(xp_of(x), x, y)
        np_dtype = grad._data.dtype
        ga = grad * _const(wa.astype(np_dtype)) if ctx.needs_input_grad[0] else None
        gb = grad * _const(wb.astype(np_dtype)) if ctx.needs_input_grad[1] else None
        return ga, gb


def _split_weights(mine_loses, theirs_loses, tie):
    """PyTorch's maximum/minimum gradient: 1 for the winner, 1/2 each at a tie, 0 for the loser (and 1
    for both where a nan makes every comparison false)."""
    half = tie * 0.5
    return (1.0 - mine_loses) - half, (1.0 - theirs_loses) - half


class Maximum(_Extremum):
    pick = "maximum"

    @staticmethod
    def weights(xp, x, y):
        return _split_weights(x < y, x > y, x == y)


class Minimum(_Extremum):
    pick = "minimum"

    @staticmethod
    def weights(xp, x, y):
        return _split_weights(x > y, x < y, x == y)


class Fmax(_Extremum):
    pick = "fmax"

    @staticmethod
    def weights(xp, x, y):
        mine = (x >= y) | xp.isnan(y) if x.dtype.kind in "fc" else x >= y
        return mine, ~mine


class Fmin(_Extremum):
    pick = "fmin"

    @staticmethod
    def weights(xp, x, y):
        mine = (x <= y) | xp.isnan(y) if x.dtype.kind in "fc" else x <= y
        return mine, ~mine


def _two_tensors(name, input, other):
    check_tensor(input, name)
    check_tensor(other, name, "other", 2)


def maximum(input, other, *, out=None):
    """The elementwise maximum (nan if either is nan)."""
    _two_tensors("maximum", input, other)
    return _maybe_out(Maximum.apply(input, other), out)


def minimum(input, other, *, out=None):
    """The elementwise minimum (nan if either is nan)."""
    _two_tensors("minimum", input, other)
    return _maybe_out(Minimum.apply(input, other), out)


def fmax(input, other, *, out=None):
    """The elementwise maximum, ignoring nan where the other operand is a number."""
    _two_tensors("fmax", input, other)
    return _maybe_out(Fmax.apply(input, other), out)


def fmin(input, other, *, out=None):
    """The elementwise minimum, ignoring nan where the other operand is a number."""
    _two_tensors("fmin", input, other)
    return _maybe_out(Fmin.apply(input, other), out)


# ---- lerp / addcmul / addcdiv -------------------------------------------------------------------

_CPP_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int", "int32": "int",
              "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool"}


def _cpp_name(np_dtype):
    return _CPP_NAMES.get(str(np_dtype), str(np_dtype))


class Lerp(Primitive):
    @staticmethod
    def forward(ctx, a, b, w):
        s, e = a._data, b._data
        if s.dtype.kind not in "fc":
            raise not_implemented("lerp_kernel_tensor" if isinstance(w, Tensor) else "lerp_kernel_scalar", s)
        for arr, what in ((e, "end"), (w._data if isinstance(w, Tensor) else None, "weight")):
            if arr is not None and arr.dtype != s.dtype:
                raise RuntimeError(f"expected dtype {_cpp_name(s.dtype)} for `{what}` but got dtype {_cpp_name(arr.dtype)}")
        e = _on_device(e, s)
        xp = xp_of(s)
        ctx.save_for_backward(a, b, w if isinstance(w, Tensor) else None)
        ctx.weight = None if isinstance(w, Tensor) else w
        d = e - s
        if not isinstance(w, Tensor):
            # PyTorch's two-sided formula: exact at both ends (weight 0 gives start, 1 gives end)
            if -0.5 < w < 0.5:
                d *= w
                return s + d
            d *= 1 - w
            return e - d
        wv = _on_device(w._data, s)
        return xp.where(xp.abs(wv) < 0.5, s + wv * d, e - d * (1 - wv))

    @staticmethod
    def backward(ctx, grad):
        a, b, w_t = ctx.saved_tensors
        w = w_t if w_t is not None else ctx.weight
        need = ctx.needs_input_grad
        ga = grad * (1 - w) if need[0] else None
        gb = grad * w if need[1] else None
        gw = grad * (b - a) if need[2] else None
        return ga, gb, gw


def lerp(input, end, weight, *, out=None):
    """``input + weight * (end - input)`` (``weight`` a number or a tensor; all of one float dtype)."""
    _two_tensors("lerp", input, end)
    return _maybe_out(Lerp.apply(input, end, weight), out)


def _three_arrays(a, t1, t2):
    dt = dtypes.result_type(a, t1, t2)
    like = a._data
    xs = []
    for t in (a, t1, t2):
        arr = _on_device(t._data, like)
        xs.append(arr if arr.dtype == dt.np else arr.astype(dt.np))
    return dt, xs


def _scaled_value(value, dt):
    """``value`` in the op's dtype, or None when it is 1 (nothing to scale)."""
    return None if value == 1 else dt.np.type(value)


class Addcmul(Primitive):
    @staticmethod
    def forward(ctx, a, t1, t2, value):
        dt, (x, y1, y2) = _three_arrays(a, t1, t2)
        ctx.save_for_backward(t1, t2)
        ctx.value = value
        prod = y1 * y2
        v = _scaled_value(value, dt)
        if v is not None:
            prod *= v
        return x + prod

    @staticmethod
    def backward(ctx, grad):
        t1, t2 = ctx.saved_tensors
        v = ctx.value
        need = ctx.needs_input_grad
        g1 = (grad * t2 if v == 1 else grad * (t2 * v)) if need[1] else None
        g2 = (grad * t1 if v == 1 else grad * (t1 * v)) if need[2] else None
        return grad, g1, g2, None


class Addcdiv(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a, t1, t2, value):
        if _np_kind(t1._data.dtype) in "biu" and _np_kind(t2._data.dtype) in "biu":
            raise RuntimeError(
                "Integer division with addcdiv is no longer supported, and in a future  release addcdiv will "
                "perform a true division of tensor1 and tensor2. The historic addcdiv behavior can be "
                "implemented as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer "
                "inputs and as (input + value * tensor1 / tensor2) for float inputs. The future addcdiv "
                "behavior is just the latter implementation: (input + value * tensor1 / tensor2), for all dtypes."
            )
        dt, (x, y1, y2) = _three_arrays(a, t1, t2)
        ctx.save_for_backward(t1, t2)
        ctx.value = value
        q = y1 / y2
        v = _scaled_value(value, dt)
        if v is not None:
            q *= v
        return x + q

    @staticmethod
    def backward(ctx, grad):
        t1, t2 = ctx.saved_tensors
        v = ctx.value
        need = ctx.needs_input_grad
        g1 = grad * v / t2 if need[1] else None
        g2 = grad * (-v) * t1 / (t2 * t2) if need[2] else None
        return grad, g1, g2, None


def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    """``input + value * tensor1 * tensor2``."""
    check_tensor(input, "addcmul")
    check_tensor(tensor1, "addcmul", "tensor1", 2)
    check_tensor(tensor2, "addcmul", "tensor2", 3)
    return _maybe_out(Addcmul.apply(input, tensor1, tensor2, value), out)


def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    """``input + value * tensor1 / tensor2`` (not for two integer tensors)."""
    check_tensor(input, "addcdiv")
    check_tensor(tensor1, "addcdiv", "tensor1", 2)
    check_tensor(tensor2, "addcdiv", "tensor2", 3)
    return _maybe_out(Addcdiv.apply(input, tensor1, tensor2, value), out)


# ---- copysign / heaviside -----------------------------------------------------------------------


class Copysign(Primitive):
    save_output = True

    @staticmethod
    def forward(ctx, a, b):
        x, y = _float_binary_arrays(a, b)
        _save_operands(ctx, a, b)
        return xp_of(x if isinstance(a, Tensor) else y).copysign(x, y)

    @staticmethod
    def backward(ctx, grad):
        a, _ = _operands(ctx)
        ga = gb = None
        if ctx.needs_input_grad[0]:
            # PyTorch's grad * (result / input), 0 where input == 0: +-1, nan at an infinite input
            # (inf / inf) or a nan one; locally constant, so a constant for double backward
            x, y = a._data, ctx.saved_output._data
            with quiet_errors():
                ratio = y / x
            ga = grad * _const(select(x == 0, xp_of(ratio).zeros_like(ratio), ratio))
        if ctx.needs_input_grad[1]:
            gb = _zeros(grad)
        return ga, gb


def copysign(input, other, *, out=None):
    """The magnitude of ``input`` with the sign of ``other`` (integers promote to the default float)."""
    return _maybe_out(Copysign.apply(input, other), out)


def heaviside(input, values, *, out=None):
    """The Heaviside step: 0 for negative (and nan) inputs, 1 for positive ones, ``values`` at 0."""
    _two_tensors("heaviside", input, values)
    x, v = input._data, values._data
    if x.dtype != v.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    if x.dtype.kind == "c":
        raise RuntimeError("heaviside is not yet implemented for complex tensors.")
    v = _on_device(v, x)
    if x.shape != v.shape:
        check_broadcast(x.shape, v.shape)
    xp = xp_of(x)
    return _maybe_out(Tensor._make(xp.where(x == 0, v, x > 0).astype(x.dtype, copy=False)), out)


# ---- in-place forms and methods -----------------------------------------------------------------


def _inplace(fn):
    def method(self, *args, **kwargs):
        return apply_inplace(self, fn(inplace_source(self), *args, **kwargs))

    method.__name__ = method.__qualname__ = fn.__name__ + "_"
    method.__doc__ = f"In-place version of :func:`{fn.__name__}`."
    return method


clamp_ = clip_ = _inplace(clamp)
clamp_min_ = _inplace(clamp_min)
clamp_max_ = _inplace(clamp_max)
lerp_ = _inplace(lerp)
addcmul_ = _inplace(addcmul)
addcdiv_ = _inplace(addcdiv)
copysign_ = _inplace(copysign)
heaviside_ = _inplace(heaviside)


def _where_method(self, condition, other):
    """``where(condition, self, other)``."""
    return where(condition, self, other)


bind(
    where=_where_method, clamp=clamp, clip=clamp, clamp_min=clamp_min, clamp_max=clamp_max,
    maximum=maximum, minimum=minimum, fmax=fmax, fmin=fmin, lerp=lerp, addcmul=addcmul, addcdiv=addcdiv,
    copysign=copysign, heaviside=heaviside,
    clamp_=clamp_, clip_=clamp_, clamp_min_=clamp_min_, clamp_max_=clamp_max_, lerp_=lerp_,
    addcmul_=addcmul_, addcdiv_=addcdiv_, copysign_=copysign_, heaviside_=heaviside_,
)

__all__ = [
    "addcdiv",
    "addcmul",
    "clamp",
    "clamp_",
    "clamp_max",
    "clamp_max_",
    "clamp_min",
    "clamp_min_",
    "clip",
    "clip_",
    "copysign",
    "fmax",
    "fmin",
    "heaviside",
    "lerp",
    "maximum",
    "minimum",
    "where",
]
