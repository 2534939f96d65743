"""Elementwise floating-point binary functions: logaddexp, logaddexp2, ldexp, nextafter; and frexp."""

from __future__ import annotations

import math

from ..autograd.function import Primitive
from ..tensor import Tensor
from ._common import bind, binary_arrays, binary_dtype, xp_of
from .elementwise import _maybe_out, mul, pow
from .unary import not_implemented

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
        return xp.nextafter(x, y)

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError("the derivative for 'nextafter' is not implemented.")


def nextafter(input, other, *, out=None):
    """The next floating-point value after ``input`` towards ``other``."""
    return _maybe_out(NextAfter.apply(input, other), out)


def ldexp(input, other, *, out=None):
    """``input * 2 ** other`` (integer inputs give the default float dtype)."""
    dt = binary_dtype(input, other)
    scale = pow(2.0, other) if isinstance(other, Tensor) else 2.0 ** other
    if not dt.is_floating_point and not dt.is_complex:
        input = input.float() if isinstance(input, Tensor) else float(input)
    return _maybe_out(mul(input, scale), out)


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
