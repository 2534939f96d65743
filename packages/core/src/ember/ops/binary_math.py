"""Elementwise floating-point binary functions: logaddexp, logaddexp2, ldexp, nextafter; and frexp."""

from __future__ import annotations

import math

from .._errors import check_broadcast
from ..autograd.function import Primitive
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from ._common import bind, binary_arrays, xp_of
from .elementwise import _maybe_out, mul, pow
from .unary import exp2, not_implemented

_LN2 = math.log(2.0)


def _float_operands(a, b, kernel):
    x, y = binary_arrays(a, b)
    if x.dtype.kind != "f":
        raise not_implemented(kernel, x)
    return x, y, xp_of(x if isinstance(a, Tensor) else y)


class NextAfter(Primitive):
    @staticmethod
    def forward(ctx, a, b):
        x, y, xp = _float_operands(a, b, "nextafter")
        if ctx.needs_input_grad is not None:
            ctx.save_for_backward(*(t if isinstance(t, Tensor) else None for t in (a, b)))
            ctx.scalars = (a, b)
        return xp.nextafter(x, y)

    @staticmethod
    def backward(ctx, grad):
        # PyTorch's derivative: the identity for ``input`` (zero where it equals ``other``), zero for ``other``
        a, b = (s if t is None else t for t, s in zip(ctx.saved_tensors, ctx.scalars))
        g_a = grad * (a != b) if ctx.needs_input_grad[0] else None
        return g_a, (grad * 0 if ctx.needs_input_grad[1] else None)


def nextafter(input, other, *, out=None):
    """The next floating-point value after ``input`` towards ``other``."""
    return _maybe_out(NextAfter.apply(input, other), out)


_INT_KINDS = ("b", "i", "u")


def _pow2(a, e):
    """2 ** ``e`` as PyTorch's ldexp forms it: a Python-scalar base (default float for integer exponents) for
    integer and float32 inputs, else a 0-d base of ``a``'s dtype (so float64/float16 inputs promote)."""
    if a._data.dtype.kind in _INT_KINDS or a._data.dtype == "float32":
        return pow(2.0, e)
    return pow(Tensor._make(xp_of(a._data).asarray(2.0, dtype=a._data.dtype)), e)


class Ldexp(Primitive):
    """``a * 2 ** e``: exact in ``a``'s dtype for a floating ``a`` and an integer ``e`` (PyTorch's ldexp
    kernel), else ``a * _pow2(a, e)`` with its promotion; the gradients are PyTorch's elementwise formulas."""

    @staticmethod
    def forward(ctx, a, e):
        x, y = a._data, e._data
        if ctx.needs_input_grad is not None:
            ctx.save_for_backward(a, e)
        if x.dtype.kind == "f" and y.dtype.kind in _INT_KINDS:
            check_broadcast(x.shape, y.shape)
            xp = xp_of(x)
            big = 1 << 20  # far beyond any float's exponent range: saturates as the exact result does
            return xp.ldexp(x, xp.clip(y.astype("int64"), -big, big).astype("int32"))
        with no_grad():
            p = _pow2(a, e)
            if p._data.dtype != e._data.dtype or e._data.dtype.itemsize >= 8:
                return mul(a, p)._data
            # 2 ** e rounded once from float64: closer to PyTorch's float32/float16 pow than NumPy's own
            return mul(a, pow(2.0, e.double()).to(p.dtype))._data

    @staticmethod
    def backward(ctx, grad):
        a, e = ctx.saved_tensors
        if e._data.dtype.kind in _INT_KINDS:  # PyTorch's 2 ** e in integers: 0 for a negative exponent
            return grad * pow(2, e), None
        p = exp2(e)
        g_a = grad * p if ctx.needs_input_grad[0] else None
        g_e = grad * a * p * _LN2 if ctx.needs_input_grad[1] else None
        return g_a, g_e


def ldexp(input, other, *, out=None):
    """``input * 2 ** other`` (integer inputs give the default float dtype)."""
    for pos, (name, t) in enumerate((("input", input), ("other", other)), 1):
        if not isinstance(t, Tensor):
            raise TypeError(f"ldexp(): argument '{name}' (position {pos}) must be Tensor, not {type(t).__name__}")
    return _maybe_out(Ldexp.apply(input, other), out)


def frexp(input, *, out=None):
    """``(mantissa, exponent)`` with ``input == mantissa * 2 ** exponent`` and ``0.5 <= |mantissa| < 1``."""
    if input._data.dtype.kind != "f":
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    from .reduction import _return_type

    m, e = xp_of(input._data).frexp(input._data)
    result = _return_type("frexp", ("mantissa", "exponent"))(Tensor._make(m), Tensor._make(e.astype("int32")))
    if out is not None:
        out[0].copy_(result[0])
        out[1].copy_(result[1])
        return out
    return result


def _ldexp_(self, other):
    """In-place version of :meth:`ldexp`."""
    return self.mul_(pow(2.0, other) if isinstance(other, Tensor) else 2.0 ** other)


bind(nextafter=nextafter, ldexp=ldexp, frexp=frexp, ldexp_=_ldexp_,
     )

__all__ = ["nextafter", "ldexp", "frexp"]  # logaddexp/logaddexp2 live in unary.py
