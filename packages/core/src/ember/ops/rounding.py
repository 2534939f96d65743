"""Rounding and integer-style division: floor, ceil, round, trunc/fix, floor_divide (``//``),
remainder (``%``, the sign of the divisor, as in Python), fmod (the sign of the dividend) and the
``trunc_divide`` helper behind ``div(rounding_mode='trunc')``.

Rounding has a zero gradient (PyTorch's choice); so do the rounded quotients. ``remainder`` and
``fmod`` pass the gradient to the dividend and ``-quotient * grad`` to the divisor. Integer division by
zero raises ``RuntimeError("ZeroDivisionError")`` as PyTorch does on the CPU; floating-point division by
zero gives inf/nan.
"""

from __future__ import annotations

from ..autograd.function import Primitive
from ..tensor import Tensor
from ._common import (
    apply_inplace,
    binary_arrays,
    binary_dtype,
    bind,
    inplace_source,
    xp_of,
)
from .elementwise import _maybe_out
from .unary import (
    _operands,
    _quiet,
    _save_operands,
    _zeros,
    check_tensor,
    not_implemented,
)


def _arrays(a, b, kernel):
    """The operands in their promoted dtype and the array module; PyTorch's errors for bool and for an
    integer division by zero."""
    dt = binary_dtype(a, b)
    x, y = binary_arrays(a, b, dt)
    kind = dt.np.kind
    if kind == "b":
        raise not_implemented(kernel, x if isinstance(a, Tensor) else y)
    if kind in "iu" and bool((y == 0).any()) and getattr(x, "size", 1) * getattr(y, "size", 1):
        raise RuntimeError("ZeroDivisionError")  # (not when the result is empty: nothing is divided)
    xp = xp_of(a._data if isinstance(a, Tensor) else b._data)
    return x, y, xp


# ---- rounding -----------------------------------------------------------------------------------


class _Round(Primitive):
    """Shared forward for floor/ceil/trunc: integers are returned unchanged (a copy), bool is an error."""

    ufunc = ""

    @classmethod
    def forward(cls, ctx, a):
        arr = a._data
        kind = arr.dtype.kind
        if kind in "iu":
            return arr.copy()
        if kind == "b" or kind == "c":
            raise not_implemented(cls.ufunc, arr)
        return getattr(xp_of(arr), cls.ufunc)(arr)

    @staticmethod
    def backward(ctx, grad):
        return _zeros(grad)


class Floor(_Round):
    ufunc = "floor"


class Ceil(_Round):
    ufunc = "ceil"


class Trunc(_Round):
    ufunc = "trunc"


class Round(Primitive):
    """Round half to even; with ``decimals``, to that many decimal places (negative: tens, hundreds)."""

    @staticmethod
    @_quiet
    def forward(ctx, a, decimals):
        arr = a._data
        kind = arr.dtype.kind
        if kind == "b" or kind == "c" or (kind in "iu" and decimals):
            raise not_implemented("round", arr)
        if kind in "iu":
            return arr.copy()
        xp = xp_of(arr)
        if decimals == 0:
            return xp.rint(arr)
        scale = 10.0 ** abs(decimals)
        if decimals > 0:
            out = xp.rint(arr * scale)
            out /= scale
        else:
            out = xp.rint(arr / scale)
            out *= scale
        return out

    @staticmethod
    def backward(ctx, grad):
        return _zeros(grad), None



# ---- division -----------------------------------------------------------------------------------


class FloorDivide(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a, b):
        x, y, xp = _arrays(a, b, "div_floor")
        return xp.floor_divide(x, y)

    @staticmethod
    def backward(ctx, grad):
        return _zeros(grad), _zeros(grad)


class TruncDivide(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a, b):
        x, y, xp = _arrays(a, b, "div_trunc")
        if x.dtype.kind in "iu":
            # x - fmod(x, y) is an exact multiple of y, so floor division of it truncates
            return xp.floor_divide(x - xp.fmod(x, y), y)
        return xp.trunc(x / y)

    @staticmethod
    def backward(ctx, grad):
        return _zeros(grad), _zeros(grad)


class Remainder(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a, b):
        x, y, xp = _arrays(a, b, "remainder")
        _save_operands(ctx, a, b)
        if x.dtype.kind in "iu":
            return xp.remainder(x, y)
        # fmod, moved into the divisor's sign when the signs differ (PyTorch keeps fmod's signed zero)
        m = xp.fmod(x, y)
        fix = (m != 0) & ((y < 0) != (m < 0))
        return xp.where(fix, m + y, m)

    @staticmethod
    def backward(ctx, grad):
        a, b = _operands(ctx)
        gb = grad * -floor_divide(a, b) if ctx.needs_input_grad[1] else None
        return grad, gb


class Fmod(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a, b):
        x, y, xp = _arrays(a, b, "fmod")
        _save_operands(ctx, a, b)
        return xp.fmod(x, y)

    @staticmethod
    def backward(ctx, grad):
        a, b = _operands(ctx)
        gb = grad * -trunc_divide(a, b) if ctx.needs_input_grad[1] else None
        return grad, gb


# ---- public functions --------------------------------------------------------------------------


def floor(input, *, out=None):
    """The largest integer not greater than each element (integer inputs are returned as they are)."""
    check_tensor(input, "floor")
    return _maybe_out(Floor.apply(input), out)


def ceil(input, *, out=None):
    """The smallest integer not less than each element."""
    check_tensor(input, "ceil")
    return _maybe_out(Ceil.apply(input), out)


def trunc(input, *, out=None):
    """Each element rounded toward zero."""
    check_tensor(input, "trunc")
    return _maybe_out(Trunc.apply(input), out)


fix = trunc


def round(input, *, decimals=0, out=None):
    """Round to the nearest integer, halves to even (``round(2.5) == 2``), or to ``decimals`` places."""
    check_tensor(input, "round")
    return _maybe_out(Round.apply(input, int(decimals)), out)


def floor_divide(input, other, *, out=None):
    """``input // other``: the quotient rounded down (Python's ``//``); integer division by zero raises."""
    return _maybe_out(FloorDivide.apply(input, other), out)


def trunc_divide(input, other):
    """The quotient rounded toward zero (C's integer division); ``div(rounding_mode='trunc')``."""
    return TruncDivide.apply(input, other)


def remainder(input, other, *, out=None):
    """``input % other`` with Python's sign convention: the result has the sign of ``other``."""
    return _maybe_out(Remainder.apply(input, other), out)


def fmod(input, other, *, out=None):
    """C's ``fmod``: the remainder of the truncated division, with the sign of ``input``."""
    return _maybe_out(Fmod.apply(input, other), out)


def _inplace(fn):
    def method(self, *args, **kwargs):
        return apply_inplace(self, fn(inplace_source(self), *args, **kwargs))

    method.__name__ = method.__qualname__ = fn.__name__ + "_"
    method.__doc__ = f"In-place version of :func:`{fn.__name__}`."
    return method


floor_ = _inplace(floor)
ceil_ = _inplace(ceil)
trunc_ = fix_ = _inplace(trunc)
round_ = _inplace(round)
floor_divide_ = _inplace(floor_divide)
remainder_ = _inplace(remainder)
fmod_ = _inplace(fmod)

_NUMBER = (bool, int, float)


def _reflected(fn):
    def op(self, other):
        if isinstance(other, (*_NUMBER, Tensor)):
            return fn(other, self)
        return NotImplemented

    return op


bind(
    floor=floor, ceil=ceil, trunc=trunc, fix=trunc, round=round, floor_divide=floor_divide,
    remainder=remainder, fmod=fmod,
    floor_=floor_, ceil_=ceil_, trunc_=trunc_, fix_=trunc_, round_=round_, floor_divide_=floor_divide_,
    remainder_=remainder_, fmod_=fmod_,
    __floordiv__=floor_divide, __rfloordiv__=_reflected(floor_divide), __ifloordiv__=floor_divide_,
    __mod__=remainder, __rmod__=_reflected(remainder), __imod__=remainder_,
)

__all__ = [
    "ceil",
    "ceil_",
    "fix",
    "fix_",
    "floor",
    "floor_",
    "floor_divide",
    "fmod",
    "remainder",
    "round",
    "round_",
    "trunc",
    "trunc_",
]
