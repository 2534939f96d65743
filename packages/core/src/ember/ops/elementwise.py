"""Elementwise arithmetic: add, sub, mul, div, neg, pow, clone (+ operators and in-place forms).

Each primitive's forward works on arrays through the array module of its inputs; its backward is
written with Tensor ops, so it can be differentiated again. Broadcast gradients are reduced to
the input shapes by the autograd engine, not here.
"""

from __future__ import annotations

import numpy

from ..autograd.function import TRACE_HOOK, Primitive
from ..autograd.grad_mode import STATE
from ..tensor import Tensor
from ._common import apply_inplace, binary_arrays, bind, binary_dtype, inplace_source, xp_of
from .. import dtypes
from ..dtypes import np_kind as _np_kind
from ..autograd.autocast import autocast_op


_ndarray = numpy.ndarray
_make = Tensor._make
_PRIMITIVE = Primitive.__dict__
_APPLY = _PRIMITIVE["apply"]  # the ember.profiler swaps in a timed apply while it records


class Add(Primitive):
    @staticmethod
    def forward(ctx, a, b, alpha=1):
        if alpha == 1 and type(a) is Tensor and type(b) is Tensor:  # binary_arrays' fast case, inlined
            x, y = a._data, b._data
            if x.dtype is y.dtype and type(x) is type(y) and x.shape == y.shape:
                return x + y
        x, y = binary_arrays(a, b)
        if alpha == 1:
            return x + y
        ctx.alpha = alpha
        return x + y * alpha

    @staticmethod
    def backward(ctx, grad):
        alpha = ctx.__dict__.get("alpha", 1)
        return grad, grad if alpha == 1 else grad * alpha


class Sub(Primitive):
    @staticmethod
    def forward(ctx, a, b, alpha=1):
        x, y = binary_arrays(a, b)
        a_bool = x.dtype.kind == "b" or (a._data.dtype.kind == "b" if isinstance(a, Tensor) else isinstance(a, bool))
        b_bool = y.dtype.kind == "b" or (b._data.dtype.kind == "b" if isinstance(b, Tensor) else isinstance(b, bool))
        if a_bool and b_bool:
            raise RuntimeError(
                "Subtraction, the `-` operator, with two bool tensors is not supported. "
                "Use the `^` or `logical_xor()` operator instead."
            )
        if a_bool or b_bool:
            raise RuntimeError(
                "Subtraction, the `-` operator, with a bool tensor is not supported. "
                "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead."
            )
        if alpha != 1:
            y = y * alpha
            ctx.alpha = alpha
        return x - y

    @staticmethod
    def backward(ctx, grad):
        alpha = ctx.__dict__.get("alpha", 1)
        return grad, -grad if alpha == 1 else grad * (-alpha)


class Mul(Primitive):
    @staticmethod
    def forward(ctx, a, b):
        if type(a) is Tensor and type(b) is Tensor:  # binary_arrays' fast case, inlined
            x, y = a._data, b._data
            if not (x.dtype is y.dtype and type(x) is type(y) and x.shape == y.shape):
                x, y = binary_arrays(a, b)
        else:
            x, y = binary_arrays(a, b)
        if ctx.needs_input_grad is not None:  # a graph is recorded
            ctx.save_for_backward(a if isinstance(a, Tensor) else None, b if isinstance(b, Tensor) else None)
            if not isinstance(b, Tensor):
                ctx.scalar = b
            elif not isinstance(a, Tensor):
                ctx.scalar = a
        return x * y

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        scalar = ctx.__dict__.get("scalar")
        ga = (grad * _cj(b if b is not None else scalar)) if need_a else None
        gb = (grad * _cj(a if a is not None else scalar)) if need_b else None
        return ga, gb


class Div(Primitive):
    @staticmethod
    def forward(ctx, a, b):
        dt = binary_dtype(a, b)
        if not dt.is_floating_point and not dt.is_complex:
            dt = dtypes.get_default_dtype()
        x, y = binary_arrays(a, b, dt)
        if ctx.needs_input_grad is not None:
            ctx.save_for_backward(a if isinstance(a, Tensor) else None, b if isinstance(b, Tensor) else None)
            ctx.b_scalar = None if isinstance(b, Tensor) else b
            ctx.a_scalar = None if isinstance(a, Tensor) else a
        return x / y

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        denom = _cj(b if b is not None else ctx.b_scalar)
        ga = grad / denom if ctx.needs_input_grad[0] else None
        gb = None
        if ctx.needs_input_grad[1]:
            num = _cj(a if a is not None else ctx.a_scalar)
            gb = -grad * num / (denom * denom)
        return ga, gb


class Neg(Primitive):
    @staticmethod
    def forward(ctx, a):
        if _np_kind(a._data.dtype) == "b":
            raise RuntimeError(
                "Negation, the `-` operator, on a bool tensor is not supported. "
                "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead."
            )
        return -a._data

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Pow(Primitive):
    @staticmethod
    def forward(ctx, a, b):
        dt = binary_dtype(a, b)
        x, y = binary_arrays(a, b, dt)
        if dt.np.kind in "iu" and type(b) is int and b < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        ctx.save_for_backward(a if isinstance(a, Tensor) else None, b if isinstance(b, Tensor) else None)
        ctx.a_scalar = None if isinstance(a, Tensor) else a
        ctx.b_scalar = None if isinstance(b, Tensor) else b
        if dt.np.kind == "i" and bool((y < 0).any()):
            # integer tensor exponents below 0: 1 for a base of 1, +-1 for -1, else 0 (PyTorch's result)
            xp = xp_of(x) if not isinstance(x, numpy.generic) else xp_of(y)
            pos = x ** xp.abs(y)
            neg = xp.where(x == 1, 1, xp.where(x == -1, xp.where(y % 2 == 0, 1, -1), 0)).astype(pos.dtype)
            return xp.where(y < 0, neg, pos)
        if type(b) is float and b == -0.5 and dt.np.kind == "f":
            with numpy.errstate(all="ignore"):  # PyTorch computes x ** -0.5 as rsqrt: -inf at -0.0
                return 1 / xp_of(x).sqrt(x)
        return x**y

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            if b is None:
                e = ctx.b_scalar
                # PyTorch zeroes the gradient for a numeric 0 exponent only: False goes through 0 * x**-1
                zero = e == 0 and not isinstance(e, bool)
                e = int(e) if isinstance(e, bool) else e
                ga = grad * _cj(e * a ** (e - 1)) if not zero else grad * 0
            else:
                # 0 ** (b - 1) is inf where b == 0, but the gradient there is 0
                ga = grad * _cj(b * where_scalar(b == 0, 1.0, a ** (b - 1)))
        if ctx.needs_input_grad[1]:
            base = a if a is not None else ctx.a_scalar
            out = pow(base, b)
            from .unary import log

            log_base = log(base) if isinstance(base, Tensor) else _log_scalar(base)
            # d/db a**b = a**b * log(a); defined as 0 where a == 0 and b >= 0
            if _np_kind(b._data.dtype) == "c":  # no 0 ** b special case for complex exponents
                gb = grad * _cj(out * log_base)
            elif isinstance(base, Tensor):
                gb = grad * where_scalar((base == 0) & (b >= 0), 0.0, out * log_base)
            elif base == 0:  # 0 ** b: the gradient is 0 for b >= 0 (not 0 * -inf), as in PyTorch
                gb = grad * where_scalar(b >= 0, 0.0, out * log_base)
            else:
                gb = grad * out * log_base
        return ga, gb


def _cj(x):
    """The conjugate of a complex tensor or number (gradients of products use it); others unchanged."""
    if isinstance(x, Tensor):
        return x.conj() if _np_kind(x._data.dtype) == "c" else x
    return x.conjugate() if isinstance(x, complex) else x


def _log_scalar(x):
    import math

    return math.log(x) if x > 0 else float("nan") if x < 0 else float("-inf")


def where_scalar(cond, value, other):
    from .selection import where

    return where(cond, value, other)


class Clone(Primitive):
    @staticmethod
    def forward(ctx, a):
        return a._data.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


def _plain(a, b, x, y):
    """True when ``a op b`` is nothing but the ufunc on their arrays: CPU float arrays of one dtype and
    shape, no graph to record and no tracer (the per-op cost of small tensors, ~0.4 us of ~2)."""
    return (type(x) is _ndarray and type(y) is _ndarray and x.dtype is y.dtype and x.shape == y.shape
            and x.dtype.kind == "f" and TRACE_HOOK[0] is None and _PRIMITIVE["apply"] is _APPLY  # (no profiler)
            and not ((a._requires_grad or b._requires_grad) and STATE.enabled))


def add(input, other, *, alpha=1, out=None):
    """``input + alpha * other`` with broadcasting and type promotion."""
    if alpha == 1 and out is None and type(input) is Tensor and type(other) is Tensor:
        x, y = input._data, other._data
        if _plain(input, other, x, y):
            return _make(x + y)
    res = Add.apply(input, other, alpha) if alpha != 1 else Add.apply(input, other)
    return res if out is None else _maybe_out(res, out)


def sub(input, other, *, alpha=1, out=None):
    """``input - alpha * other``."""
    res = Sub.apply(input, other, alpha) if alpha != 1 else Sub.apply(input, other)
    return res if out is None else _maybe_out(res, out)


subtract = sub


def rsub(input, other, *, alpha=1):
    """``other - alpha * input``."""
    return sub(other, input, alpha=alpha) if isinstance(other, Tensor) else Sub.apply(other, input * alpha if alpha != 1 else input)


def mul(input, other, *, out=None):
    """Elementwise product with broadcasting."""
    if out is None and type(input) is Tensor and type(other) is Tensor:
        x, y = input._data, other._data
        if _plain(input, other, x, y):
            return _make(x * y)
    res = Mul.apply(input, other)
    return res if out is None else _maybe_out(res, out)


multiply = mul


def div(input, other, *, rounding_mode=None, out=None):
    """Elementwise true division (``rounding_mode`` ``'trunc'`` or ``'floor'`` rounds the quotient)."""
    if rounding_mode is None:
        return _maybe_out(Div.apply(input, other), out)
    if rounding_mode == "floor":
        from .rounding import floor_divide

        return _maybe_out(floor_divide(input, other), out)
    if rounding_mode == "trunc":
        from .rounding import trunc_divide

        return _maybe_out(trunc_divide(input, other), out)
    raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'")


divide = div
true_divide = div


def neg(input, *, out=None):
    """``-input``."""
    return _maybe_out(Neg.apply(input), out)


negative = neg


@autocast_op
def pow(input, exponent, *, out=None):
    """``input ** exponent`` (either may be a Python number)."""
    if isinstance(exponent, (int, float)) and not isinstance(exponent, bool) and isinstance(input, Tensor):
        if exponent == 1:
            return _maybe_out(Clone.apply(input), out)
    return _maybe_out(Pow.apply(input, exponent), out)


def clone(input, *, memory_format=None):
    """A copy of ``input`` that stays in the graph (its gradient flows back to ``input``)."""
    return Clone.apply(input)


def _maybe_out(result, out):
    if out is None:
        return result
    if not isinstance(out, Tensor):
        raise TypeError(f"out must be a Tensor, got {type(out).__name__}")
    if out._data.shape != result._data.shape:
        xp_of(out._data)  # out= with another shape is resized, as in PyTorch
        out._data = result._data.astype(out._data.dtype, copy=True)
    else:
        xp_of(out._data).copyto(out._data, result._data, casting="unsafe")
    out._version_counter.value += 1
    return out


def _inplace(op):
    def method(self, other, **kwargs):
        return apply_inplace(self, op(inplace_source(self), other, **kwargs))

    method.__name__ = op.__name__ + "_"
    method.__doc__ = f"In-place version of :func:`{op.__name__}`."
    return method


add_ = _inplace(add)
sub_ = _inplace(sub)
mul_ = _inplace(mul)
div_ = _inplace(div)
pow_ = _inplace(pow)


def neg_(self):
    """In-place version of :func:`neg`."""
    return apply_inplace(self, neg(inplace_source(self)))


bind(
    add=add, sub=sub, subtract=sub, mul=mul, multiply=mul, div=div, divide=div, true_divide=div,
    neg=neg, negative=neg, pow=pow, clone=clone,
    add_=add_, sub_=sub_, subtract_=sub_, mul_=mul_, multiply_=mul_, div_=div_, divide_=div_,
    true_divide_=div_, pow_=pow_, neg_=neg_, negative_=neg_,
    __add__=add, __radd__=lambda self, other: add(other, self) if isinstance(other, Tensor) else Add.apply(self, other),
    __iadd__=add_,
    __sub__=sub, __rsub__=lambda self, other: Sub.apply(other, self), __isub__=sub_,
    __mul__=mul, __rmul__=lambda self, other: Mul.apply(self, other), __imul__=mul_,
    __truediv__=div, __rtruediv__=lambda self, other: Div.apply(other, self), __itruediv__=div_,
    __neg__=neg, __pos__=lambda self: self,
    __pow__=pow, __rpow__=lambda self, other: Pow.apply(other, self), __ipow__=pow_,
)

__all__ = [
    "add", "sub", "subtract", "rsub", "mul", "multiply", "div", "divide", "true_divide", "neg", "negative",
    "pow", "clone",
]
