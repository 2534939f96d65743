"""Comparisons, logical and bitwise ops, and the floating-point class tests (isnan, isfinite, ...).

Every function here returns a tensor without a gradient: comparisons and tests give ``bool``, bitwise
ops keep the promoted integer (or bool) dtype. Operands are compared in their promoted dtype, as in
PyTorch (``int64_tensor == float32_tensor`` compares in float32).
"""

from __future__ import annotations

import numpy

from ..autograd.function import TRACE_HOOK, Primitive
from ..tensor import Tensor
from ._common import (
    apply_inplace,
    binary_arrays,
    binary_dtype,
    bind,
    check_inplace,
    xp_of,
)
from .elementwise import _maybe_out
from .unary import _quiet, check_tensor, not_implemented, scalar_type_name
from ..dtypes import np_kind as _np_kind

_NUMBER = (bool, int, float, complex)


def _xp2(x, y):
    return xp_of(x if not isinstance(x, numpy.generic) else y)


def _wrap(arr):
    """A result array as a tensor (NumPy gives scalars for 0-d results; tensors hold arrays)."""
    return Tensor._make(arr if not isinstance(arr, numpy.generic) else numpy.asarray(arr))


class Compare(Primitive):
    """A comparison, logical or bitwise op of one or two operands (a result without gradient). One
    primitive, so that traces (``ember.jit``, ``ember.onnx``) record masks computed from their inputs."""

    @staticmethod
    def forward(ctx, a, b, ufunc_name):
        if b is None:
            res = getattr(xp_of(a._data), ufunc_name)(a._data)
            return res if not isinstance(res, numpy.generic) else numpy.asarray(res)
        x, y = binary_arrays(a, b)
        res = getattr(_xp2(x, y), ufunc_name)(x, y)
        return res if not isinstance(res, numpy.generic) else numpy.asarray(res)

    @staticmethod
    def backward(ctx, grad):
        return None, None, None


def _apply(input, other, ufunc_name):
    """``ufunc_name`` of the operands (``other`` None: unary) as a tensor."""
    if TRACE_HOOK[0] is None:  # no graph node for a result without gradient: skip apply's bookkeeping
        return Tensor._make(Compare.forward(None, input, other, ufunc_name))
    return Compare.apply(input, other, ufunc_name)


def _refuse_complex(name, input, other):
    """Ordering and logical ops are not defined on complex numbers (PyTorch's error); eq/ne are."""
    if name in ("eq", "ne"):
        return
    for t in (input, other):
        arr = getattr(t, "_data", None)
        if arr is not None and arr.dtype.kind == "c":
            device = "cpu" if isinstance(arr, numpy.ndarray) else "cuda"
            raise NotImplementedError(f'"{name}_{device}" not implemented for \'{scalar_type_name(arr.dtype)}\'')


def _compare(name, ufunc_name):
    def fn(input, other, *, out=None):
        _refuse_complex(name, input, other)
        result = _apply(input, other, ufunc_name)
        return result if out is None else _maybe_out(result, out)

    fn.__name__ = fn.__qualname__ = name
    return fn


eq = _compare("eq", "equal")
eq.__doc__ = "``input == other`` elementwise (bool)."
ne = not_equal = _compare("ne", "not_equal")
ne.__doc__ = "``input != other`` elementwise (bool)."
lt = less = _compare("lt", "less")
lt.__doc__ = "``input < other`` elementwise (bool)."
le = less_equal = _compare("le", "less_equal")
le.__doc__ = "``input <= other`` elementwise (bool)."
gt = greater = _compare("gt", "greater")
gt.__doc__ = "``input > other`` elementwise (bool)."
ge = greater_equal = _compare("ge", "greater_equal")
ge.__doc__ = "``input >= other`` elementwise (bool)."


def _operator(fn):
    """A comparison operator: NotImplemented for operands that are neither tensors nor numbers, so
    ``t == None`` is False and ``t < None`` raises TypeError, as in PyTorch."""

    def op(self, other):
        if isinstance(other, (Tensor,) + _NUMBER):
            return fn(self, other)
        return NotImplemented

    return op


# ---- logical ------------------------------------------------------------------------------------


def _logical(name, ufunc_name):
    def fn(input, other, *, out=None):
        check_tensor(input, name)
        check_tensor(other, name, "other", 2)
        _refuse_complex(name, input, other)
        result = _apply(input, other, ufunc_name)
        return result if out is None else _maybe_out(result, out)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise logical {name.split('_')[1].upper()} of the truth values (nonzero) of the inputs; bool."
    return fn


logical_and = _logical("logical_and", "logical_and")
logical_or = _logical("logical_or", "logical_or")
logical_xor = _logical("logical_xor", "logical_xor")


def logical_not(input, *, out=None):
    """Elementwise NOT of the truth values (nonzero) of ``input``; bool."""
    check_tensor(input, "logical_not")
    return _maybe_out(_apply(input, None, "logical_not"), out)


# ---- bitwise ------------------------------------------------------------------------------------


def _bitwise(name, ufunc_name, kernel):
    def fn(input, other, *, out=None):
        dt = binary_dtype(input, other)
        x, y = binary_arrays(input, other, dt)
        if dt.np.kind not in "biu":
            raise not_implemented(kernel, x if not isinstance(x, numpy.generic) else y)
        result = _apply(input, other, ufunc_name)
        return result if out is None else _maybe_out(result, out)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise {ufunc_name.replace('_', ' ')} of integer or bool inputs."
    return fn


bitwise_and = _bitwise("bitwise_and", "bitwise_and", "bitwise_and")
bitwise_or = _bitwise("bitwise_or", "bitwise_or", "bitwise_or")
bitwise_xor = _bitwise("bitwise_xor", "bitwise_xor", "bitwise_xor")
bitwise_left_shift = _bitwise("bitwise_left_shift", "left_shift", "lshift")
bitwise_right_shift = _bitwise("bitwise_right_shift", "right_shift", "rshift")


def bitwise_not(input, *, out=None):
    """Bitwise NOT of an integer tensor (logical NOT of a bool tensor)."""
    check_tensor(input, "bitwise_not")
    arr = input._data
    if arr.dtype.kind not in "biu":
        raise not_implemented("bitwise_not", arr)
    return _maybe_out(_apply(input, None, "invert"), out)


def _invert(self):
    if _np_kind(self._data.dtype) not in "biu":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    return bitwise_not(self)


def _bit_operator(fn):
    def op(self, other):
        if isinstance(other, (Tensor,) + _NUMBER):
            return fn(self, other)
        return NotImplemented

    def rop(self, other):
        if isinstance(other, (Tensor,) + _NUMBER):
            return fn(other, self)
        return NotImplemented

    return op, rop


# ---- floating-point class tests -----------------------------------------------------------------


def _test(name, ufunc_name, int_value, doc):
    def fn(input):
        check_tensor(input, name)
        arr = input._data
        xp = xp_of(arr)
        if arr.dtype.kind in "fc":
            return _wrap(getattr(xp, ufunc_name)(arr))
        return _wrap(xp.full(arr.shape, int_value, dtype=bool))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


isnan = _test("isnan", "isnan", False, "True where ``input`` is nan.")
isinf = _test("isinf", "isinf", False, "True where ``input`` is +inf or -inf.")
isfinite = _test("isfinite", "isfinite", True, "True where ``input`` is neither inf nor nan.")


def isposinf(input, *, out=None):
    """True where ``input`` is +inf."""
    check_tensor(input, "isposinf")
    arr = input._data
    if arr.dtype.kind != "f":
        return _maybe_out(_wrap(xp_of(arr).zeros(arr.shape, dtype=bool)), out)
    return _maybe_out(_wrap(arr == numpy.inf), out)


def isneginf(input, *, out=None):
    """True where ``input`` is -inf."""
    check_tensor(input, "isneginf")
    arr = input._data
    if arr.dtype.kind != "f":
        return _maybe_out(_wrap(xp_of(arr).zeros(arr.shape, dtype=bool)), out)
    return _maybe_out(_wrap(arr == -numpy.inf), out)


def isreal(input):
    """True where ``input`` has no imaginary part (always, for real dtypes)."""
    check_tensor(input, "isreal")
    arr = input._data
    xp = xp_of(arr)
    if arr.dtype.kind == "c":
        return _wrap(arr.imag == 0)
    return _wrap(xp.ones(arr.shape, dtype=bool))


def signbit(input, *, out=None):
    """True where the sign bit is set (negative numbers and -0.0)."""
    check_tensor(input, "signbit")
    arr = input._data
    xp = xp_of(arr)
    if arr.dtype.kind == "f":
        return _maybe_out(_wrap(xp.signbit(arr)), out)
    if arr.dtype.kind == "c":
        raise RuntimeError("signbit is not implemented for complex tensors.")
    return _maybe_out(_wrap(arr < 0 if arr.dtype.kind == "i" else xp.zeros(arr.shape, dtype=bool)), out)


# ---- closeness ----------------------------------------------------------------------------------


@_quiet
def _isclose_array(x, y, rtol, atol, equal_nan):
    xp = _xp2(x, y)
    if x.dtype.kind in "biu":
        x, y = x.astype(numpy.float64), y.astype(numpy.float64)
    close = x == y
    finite = xp.isfinite(x) & xp.isfinite(y)
    close |= finite & (xp.abs(x - y) <= atol + rtol * xp.abs(y))
    if equal_nan:
        close |= xp.isnan(x) & xp.isnan(y)
    return close


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """``|input - other| <= atol + rtol * |other|`` elementwise (exact equality counts, nan only with
    ``equal_nan``); both tensors must have the same dtype."""
    check_tensor(input, "isclose")
    check_tensor(other, "isclose", "other", 2)
    if input._data.dtype != other._data.dtype:
        from .unary import scalar_type_name

        raise RuntimeError(f"{scalar_type_name(input._data.dtype)} did not match {scalar_type_name(other._data.dtype)}")
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol}")
    x, y = binary_arrays(input, other)
    return _wrap(_isclose_array(x, y, rtol, atol, equal_nan))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """True if ``isclose`` holds for every element (after broadcasting)."""
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def equal(input, other) -> bool:
    """True if both tensors have the same shape and the same values."""
    check_tensor(input, "equal")
    check_tensor(other, "equal", "other", 2)
    if input._data.shape != other._data.shape:
        return False
    x, y = binary_arrays(input, other)
    return bool((x == y).all())


def is_nonzero(input) -> bool:
    """True if the single element of ``input`` is not zero (``bool(input)`` with a Tensor check); a tensor
    with no values or with more than one value raises ``RuntimeError``."""
    check_tensor(input, "is_nonzero")
    return input.__bool__()


# ---- operators, methods, in-place forms ---------------------------------------------------------


def _inplace(fn):
    def method(self, *args, **kwargs):
        check_inplace(self)
        return apply_inplace(self, fn(self, *args, **kwargs))

    method.__name__ = method.__qualname__ = fn.__name__ + "_"
    method.__doc__ = f"In-place version of :func:`{fn.__name__}` (the result is stored in ``self``'s dtype)."
    return method


eq_ = _inplace(eq)
ne_ = not_equal_ = _inplace(ne)
lt_ = less_ = _inplace(lt)
le_ = less_equal_ = _inplace(le)
gt_ = greater_ = _inplace(gt)
ge_ = greater_equal_ = _inplace(ge)
logical_and_ = _inplace(logical_and)
logical_or_ = _inplace(logical_or)
logical_xor_ = _inplace(logical_xor)
logical_not_ = _inplace(logical_not)
bitwise_and_ = _inplace(bitwise_and)
bitwise_or_ = _inplace(bitwise_or)
bitwise_xor_ = _inplace(bitwise_xor)
bitwise_not_ = _inplace(bitwise_not)
bitwise_left_shift_ = _inplace(bitwise_left_shift)
bitwise_right_shift_ = _inplace(bitwise_right_shift)

_and, _rand = _bit_operator(bitwise_and)
_or, _ror = _bit_operator(bitwise_or)
_xor, _rxor = _bit_operator(bitwise_xor)
_lshift, _rlshift = _bit_operator(bitwise_left_shift)
_rshift, _rrshift = _bit_operator(bitwise_right_shift)


def _ibit(fn_):
    def op(self, other):
        if isinstance(other, (Tensor,) + _NUMBER):
            return fn_(self, other)
        return NotImplemented

    return op


bind(
    eq=eq, ne=ne, not_equal=ne, lt=lt, less=lt, le=le, less_equal=le, gt=gt, greater=gt, ge=ge,
    greater_equal=ge,
    eq_=eq_, ne_=ne_, not_equal_=ne_, lt_=lt_, less_=lt_, le_=le_, less_equal_=le_, gt_=gt_, greater_=gt_,
    ge_=ge_, greater_equal_=ge_,
    logical_and=logical_and, logical_or=logical_or, logical_xor=logical_xor, logical_not=logical_not,
    logical_and_=logical_and_, logical_or_=logical_or_, logical_xor_=logical_xor_, logical_not_=logical_not_,
    bitwise_and=bitwise_and, bitwise_or=bitwise_or, bitwise_xor=bitwise_xor, bitwise_not=bitwise_not,
    bitwise_left_shift=bitwise_left_shift, bitwise_right_shift=bitwise_right_shift,
    bitwise_and_=bitwise_and_, bitwise_or_=bitwise_or_, bitwise_xor_=bitwise_xor_, bitwise_not_=bitwise_not_,
    bitwise_left_shift_=bitwise_left_shift_, bitwise_right_shift_=bitwise_right_shift_,
    isnan=isnan, isinf=isinf, isfinite=isfinite, isposinf=isposinf, isneginf=isneginf, isreal=isreal,
    signbit=signbit, isclose=isclose, allclose=allclose, equal=equal, is_nonzero=is_nonzero,
    __eq__=_operator(eq), __ne__=_operator(ne), __lt__=_operator(lt), __le__=_operator(le),
    __gt__=_operator(gt), __ge__=_operator(ge),
    __and__=_and, __rand__=_rand, __iand__=_ibit(bitwise_and_),
    __or__=_or, __ror__=_ror, __ior__=_ibit(bitwise_or_),
    __xor__=_xor, __rxor__=_rxor, __ixor__=_ibit(bitwise_xor_),
    __lshift__=_lshift, __rlshift__=_rlshift, __ilshift__=_ibit(bitwise_left_shift_),
    __rshift__=_rshift, __rrshift__=_rrshift, __irshift__=_ibit(bitwise_right_shift_),
    __invert__=_invert,
)
# Tensor defines __hash__ (by identity) in its class body, so binding __eq__ here keeps tensors hashable.

__all__ = [
    "allclose",
    "bitwise_and",
    "bitwise_left_shift",
    "bitwise_not",
    "bitwise_or",
    "bitwise_right_shift",
    "bitwise_xor",
    "eq",
    "equal",
    "ge",
    "greater",
    "greater_equal",
    "gt",
    "isclose",
    "is_nonzero",
    "isfinite",
    "isinf",
    "isnan",
    "isneginf",
    "isposinf",
    "isreal",
    "le",
    "less",
    "less_equal",
    "logical_and",
    "logical_not",
    "logical_or",
    "logical_xor",
    "lt",
    "ne",
    "not_equal",
    "signbit",
]
