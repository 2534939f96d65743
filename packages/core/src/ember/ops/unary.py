"""Elementwise math on one tensor (exp, log, trig, sigmoid, relu, abs, erf, lgamma, ...) and the
float-valued binary functions beside them (atan2, hypot, xlogy).

Integer and bool inputs of the floating-point functions promote to the default dtype, as in PyTorch.
Special functions (erf, erfc, erfinv, lgamma, digamma, polygamma) are computed here with the array
module's basic operations, so they need no SciPy and run unchanged on CuPy:

- erf / erfc: W. J. Cody's rational Chebyshev approximations (Math. Comp. 23, 1969), three ranges;
- erfinv: M. Giles' single-precision approximation, then Halley steps on erf (on log erfc in the tails);
- lgamma: the Lanczos approximation (g = 7, 9 terms) with the reflection formula below 1/2;
- digamma / polygamma: upward recurrence to z >= 10 and the asymptotic (Bernoulli) series, with the
  reflection formula for negative arguments.
"""

from __future__ import annotations

import functools
import math

import numpy

from .. import _fast, dtypes
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
from .elementwise import _maybe_out, mul, pow
from ..dtypes import np_kind as _np_kind
from ..autograd.autocast import autocast_op

# NumPy warns on overflow, division by zero and invalid values; PyTorch returns inf/nan silently. ``backend`` sets
# NumPy to ignore them for the thread that imports Ember; NumPy 2 keeps that setting per thread (a context variable),
# so other threads, and a program that changed it, get an ``errstate`` around each call. Read first, the setting
# spares the thread that has it the errstate's ~0.5 us (a unary op on 100 elements takes ~3 us).
_IGNORE_ALL = numpy.errstate(all="ignore")
try:
    from numpy._core._ufunc_config import _extobj_contextvar as _errors_now

    _ERRORS_IGNORED = _errors_now.get()
except ImportError:  # NumPy 1.x: no per-thread setting to read
    _errors_now = _ERRORS_IGNORED = None


def _quiet(fn):
    """``fn`` with NumPy's floating-point errors ignored (see above)."""
    quiet_fn = _IGNORE_ALL(fn)
    if _errors_now is None:
        return quiet_fn

    @functools.wraps(fn)
    def run(*args, **kwargs):
        if _errors_now.get() is _ERRORS_IGNORED:
            return fn(*args, **kwargs)
        return quiet_fn(*args, **kwargs)

    return run

_TORCH_NAMES = {
    "bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long",
    "float16": "Half", "bfloat16": "BFloat16", "float32": "Float", "float64": "Double", "complex64": "ComplexFloat",
    "complex128": "ComplexDouble",
}


def scalar_type_name(np_dtype) -> str:
    """PyTorch's name of a dtype in error messages ('Float', 'Long', 'Bool', ...)."""
    return _TORCH_NAMES.get(str(np_dtype), str(np_dtype))


def not_implemented(kernel: str, arr):
    """PyTorch's error for a dtype an op has no kernel for."""
    dev = "cpu" if isinstance(arr, numpy.ndarray) else "cuda"
    return NotImplementedError(f'"{kernel}_{dev}" not implemented for \'{scalar_type_name(arr.dtype)}\'')


def check_tensor(x, fname, argname="input", position=1):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument '{argname}' (position {position}) must be Tensor, not {type(x).__name__}")


def _float_np(arr):
    """The dtype a floating-point op computes in for ``arr``."""
    return arr.dtype if arr.dtype.kind in "fc" else dtypes.get_default_dtype().np


def _zeros(grad):
    return Tensor._make(xp_of(grad._data).zeros_like(grad._data))


# ---- primitives ---------------------------------------------------------------------------------


class _FloatUnary(Primitive):
    """A unary op computed in floating point. Subclasses set ``compute(xp, arr)``, ``grad(g, x, y)``
    (x: the input, y: the output; a Tensor-op formula) and ``saves`` ("x", "y" or "")."""

    saves = "x"
    holomorphic = False  # complex inputs allowed; the gradient is then conj(f'(z)) times the output's

    @classmethod
    @_quiet
    def forward(cls, ctx, a):
        arr = a._data
        if arr.dtype.kind == "c" and not cls.holomorphic:
            raise not_implemented(cls.__name__.lower(), arr)
        if arr.dtype.kind not in "fc":
            arr = arr.astype(dtypes.get_default_dtype().np)
        if cls.saves == "x":
            ctx.save_for_backward(a)
        if arr.ndim == 0:  # the kernels update arrays in place; NumPy returns scalars for 0-d results
            return cls.compute(xp_of(arr), arr.reshape(1)).reshape(())
        return cls.compute(xp_of(arr), arr)

    @classmethod
    def backward(cls, ctx, grad):
        if _np_kind(grad._data.dtype) == "c":  # g * conj(f'(z)) == conj(conj(g) * f'(z)) for the Tensor formula
            return cls._grad(ctx, grad.conj()).conj()
        return cls._grad(ctx, grad)

    @classmethod
    def _grad(cls, ctx, grad):
        if cls.saves == "y":
            return cls.grad(grad, None, ctx.saved_output)
        if cls.saves == "x":
            return cls.grad(grad, ctx.saved_tensors[0], None)
        return cls.grad(grad, None, None)


def _ufunc_pass(xp, arr, ufunc_name, kernel=None):
    """``xp.<ufunc_name>(arr)``: through the compiled flat kernel ``kernel`` (``ember[fast]``) on float32 CPU arrays
    when one is named (NumPy's float32 exp and tanh are scalar loops on AVX2 machines: 1M elements, exp 2.3 ->
    0.98 ms, tanh 2.8 -> 1.7 ms), else large CPU arrays in cache-sized blocks over the threads, else the ufunc."""
    if kernel is not None and _fast.usable(arr):
        out = numpy.empty_like(arr)
        _fast.run_rows(getattr(_fast.kernels(), kernel), (arr.reshape(-1), out.reshape(-1)), (0, 1))
        return out
    if _fast.big_cpu(arr):
        return _fast.ufunc(getattr(xp, ufunc_name), arr)
    return getattr(xp, ufunc_name)(arr)


def _unary(name, compute, grad, saves="x", kernel=None):
    """Define a ``_FloatUnary`` primitive; ``compute`` is an xp function name (``_ufunc_pass``, with its compiled
    float32 ``kernel`` if any) or ``f(xp, arr)``."""
    if isinstance(compute, str):
        ufunc_name = compute

        def compute(xp, arr):
            return _ufunc_pass(xp, arr, ufunc_name, kernel)

    attrs = {"compute": staticmethod(compute), "grad": staticmethod(grad), "saves": saves,
             "save_output": saves == "y"}
    return type(name, (_FloatUnary,), attrs)


_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_2 = math.sqrt(math.pi) / 2.0

Exp = _unary("Exp", "exp", lambda g, x, y: g * y, "y", kernel="exp_fwd")
Exp2 = _unary("Exp2", "exp2", lambda g, x, y: g * y * _LN2, "y")
Expm1 = _unary("Expm1", "expm1", lambda g, x, y: g * (y + 1), "y")
Log = _unary("Log", "log", lambda g, x, y: g / x)
Log2 = _unary("Log2", "log2", lambda g, x, y: g / (x * _LN2))
Log10 = _unary("Log10", "log10", lambda g, x, y: g / (x * _LN10))
Log1p = _unary("Log1p", "log1p", lambda g, x, y: g / (x + 1))
Sqrt = _unary("Sqrt", "sqrt", lambda g, x, y: g / (2 * y), "y")
Rsqrt = _unary("Rsqrt", lambda xp, a: xp.reciprocal(xp.sqrt(a)), lambda g, x, y: g * (y * y * y) * -0.5, "y")
Reciprocal = _unary("Reciprocal", "reciprocal", lambda g, x, y: g * -(y * y), "y")
Sin = _unary("Sin", "sin", lambda g, x, y: g * cos(x))
Cos = _unary("Cos", "cos", lambda g, x, y: g * -sin(x))
Tan = _unary("Tan", "tan", lambda g, x, y: g * (y * y + 1), "y")
Asin = _unary("Asin", "arcsin", lambda g, x, y: g * rsqrt(1 - x * x))
Acos = _unary("Acos", "arccos", lambda g, x, y: g * -rsqrt(1 - x * x))
Atan = _unary("Atan", "arctan", lambda g, x, y: g / (x * x + 1))
Sinh = _unary("Sinh", "sinh", lambda g, x, y: g * cosh(x))
Cosh = _unary("Cosh", "cosh", lambda g, x, y: g * sinh(x))
Asinh = _unary("Asinh", "arcsinh", lambda g, x, y: g * rsqrt(x * x + 1))
Acosh = _unary("Acosh", "arccosh", lambda g, x, y: g * rsqrt(x * x - 1))
Atanh = _unary("Atanh", "arctanh", lambda g, x, y: g / (1 - x * x))
for _op in (Exp, Exp2, Expm1, Log, Log2, Log10, Log1p, Sqrt, Rsqrt, Reciprocal, Sin, Cos, Tan, Asin, Acos, Atan, Sinh,
            Cosh, Asinh, Acosh, Atanh):
    _op.holomorphic = True
Erf = _unary("Erf", lambda xp, a: _erf(xp, a, False), lambda g, x, y: g * (exp(-(x * x)) * _TWO_OVER_SQRT_PI))
Erfc = _unary("Erfc", lambda xp, a: _erf(xp, a, True), lambda g, x, y: g * (exp(-(x * x)) * -_TWO_OVER_SQRT_PI))
Erfinv = _unary("Erfinv", lambda xp, a: _erfinv(xp, a), lambda g, x, y: g * (exp(y * y) * _SQRT_PI_OVER_2), "y")
Lgamma = _unary("Lgamma", lambda xp, a: _lgamma(xp, a), lambda g, x, y: g * digamma(x))
Digamma = _unary("Digamma", lambda xp, a: _polygamma(xp, 0, a), lambda g, x, y: g * polygamma(1, x))


class Polygamma(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, n, a):
        ctx.save_for_backward(a)
        ctx.n = n
        arr = a._data
        return _polygamma(xp_of(arr), n, arr if arr.dtype.kind == "f" else arr.astype(_float_np(arr)))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return None, grad * polygamma(ctx.n + 1, x)


class Sigmoid(Primitive):
    save_output = True

    @staticmethod
    @_quiet
    def forward(ctx, a):
        arr = a._data
        xp = xp_of(arr)
        out = xp.empty(arr.shape, dtype=_float_np(arr))
        if _fast.usable(arr):  # one compiled pass (four NumPy passes: 1M 1.44 -> 0.63 ms)
            _fast.run_rows(_fast.kernels().sigmoid_fwd, (arr.reshape(-1), out.reshape(-1), False), (0, 1))
            return out
        xp.negative(arr, out=out, dtype=out.dtype)
        xp.exp(out, out=out)  # exp(-x) may overflow to inf: 1 / (1 + inf) = 0 is the right answer
        out += 1
        return xp.reciprocal(out, out=out)

    @staticmethod
    def backward(ctx, grad):
        if _np_kind(grad._data.dtype) == "c":  # holomorphic: grad * conj(y (1 - y))
            return SigmoidBackward.apply(grad.conj(), ctx.saved_output).conj()
        return SigmoidBackward.apply(grad, ctx.saved_output)


class SigmoidBackward(Primitive):
    """``grad * y * (1 - y)`` as one node (its own backward keeps double backward exact)."""

    @staticmethod
    def forward(ctx, g, y):
        ctx.save_for_backward(g, y)
        ya = y._data
        t = 1 - ya
        t *= ya
        t *= g._data
        return t

    @staticmethod
    def backward(ctx, gg):
        g, y = ctx.saved_tensors
        gg_g = SigmoidBackward.apply(gg, y) if ctx.needs_input_grad[0] else None
        gg_y = gg * g * (1 - 2 * y) if ctx.needs_input_grad[1] else None
        return gg_g, gg_y


class Tanh(Primitive):
    save_output = True

    @staticmethod
    def forward(ctx, a):
        arr = a._data
        if arr.dtype.kind not in "fc":
            arr = arr.astype(_float_np(arr))
        return _ufunc_pass(xp_of(arr), arr, "tanh", kernel="tanh_fwd")

    @staticmethod
    def backward(ctx, grad):
        if _np_kind(grad._data.dtype) == "c":  # holomorphic: grad * conj(1 - y^2)
            return TanhBackward.apply(grad.conj(), ctx.saved_output).conj()
        return TanhBackward.apply(grad, ctx.saved_output)


def _tanh_grad_block(g, y, t):
    """t = g * (1 - y * y) in three in-place passes."""
    xp = xp_of(y)
    xp.multiply(y, y, out=t)
    xp.subtract(1, t, out=t)
    xp.multiply(t, g, out=t)


def _tanh_grad_block_unit(y, t):
    """t = 1 - y * y: the gradient of ``tanh(x).sum()``, two passes instead of three."""
    xp = xp_of(y)
    xp.multiply(y, y, out=t)
    xp.subtract(1, t, out=t)


class TanhBackward(Primitive):
    """``grad * (1 - y**2)`` as one node."""

    @staticmethod
    def forward(ctx, g, y):
        ctx.save_for_backward(g, y)
        ya = y._data
        xp = xp_of(ya)
        t = xp.empty(ya.shape, dtype=ya.dtype)
        ga = g._data
        if _fast.big_cpu(ya) and ga.shape == ya.shape and ga.dtype == ya.dtype and (ga.flags.c_contiguous or not any(ga.strides)):
            kernels = _fast.kernels() if ya.dtype in (numpy.float32, numpy.float64) else None
            if kernels is not None:  # one compiled pass, NumPy's bits (1M float32 after sum(): 0.47 -> 0.15 ms)
                gf = ga.reshape(-1) if ga.flags.c_contiguous else ga.reshape(-1)[:1]
                _fast.run_rows(kernels.tanh_grad, (gf, ya.reshape(-1), t.reshape(-1), ya.dtype.type(1)),
                               (1, 2) if gf.shape[0] == 1 else (0, 1, 2))
                return t
            if not any(ga.strides) and ga.reshape(-1)[0] == 1:  # one value everywhere: sum()'s gradient
                _fast.map_blocks(_tanh_grad_block_unit, ya.reshape(-1), t.reshape(-1))
                return t
            _fast.map_blocks(_tanh_grad_block, ga.reshape(-1) if ga.flags.c_contiguous else ga.reshape(-1)[:1],
                             ya.reshape(-1), t.reshape(-1))
            return t
        _tanh_grad_block(ga, ya, t)
        return t

    @staticmethod
    def backward(ctx, gg):
        g, y = ctx.saved_tensors
        gg_g = TanhBackward.apply(gg, y) if ctx.needs_input_grad[0] else None
        gg_y = gg * g * (y * -2) if ctx.needs_input_grad[1] else None
        return gg_g, gg_y


_CLIP_MIN_SIZE = 4096  # below this NumPy's maximum has less call overhead than clip


def relu_array(arr, out=None):
    """max(arr, 0) of a float NumPy array (into ``out``, which may be ``arr``). NumPy's clip is vectorised,
    its maximum is not. One thread: shared among two, the pass was slower (0.07 -> 0.13 ms in place on 2 MB)."""
    return numpy.clip(arr, 0.0, math.inf, out=out)


class Relu(Primitive):
    save_output = True

    @staticmethod
    def forward(ctx, a, out=None):
        """``out``: a float NumPy array to write into (``a``'s own, for ``relu_``: the backward reads the output
        only, so the input needs no copy)."""
        arr = a._data
        kind = arr.dtype.kind
        if kind == "b":
            raise RuntimeError("Boolean inputs not supported for relu")
        if kind == "c":
            raise NotImplementedError("clamp is not supported for complex types")
        xp = xp_of(arr)
        if out is not None:
            return relu_array(arr, out=out)
        if kind == "f" and xp is numpy and arr.size >= _CLIP_MIN_SIZE:
            return relu_array(arr)
        return xp.maximum(arr, 0)

    @staticmethod
    def backward(ctx, grad):
        return ReluBackward.apply(grad, ctx.saved_output)


_SAME_SIZE_INT = {2: numpy.int16, 4: numpy.int32, 8: numpy.int64}


def _relu_grad_block(g, y, out):
    """out = g where y > 0 (or nan), else +0, as a bitwise AND of g's bits with an all-ones/zero mask
    (0 - 1 = -1 in int8, widened): bitwise the select below, ~3.5x faster than NumPy's where here."""
    it = _SAME_SIZE_INT[g.dtype.itemsize]
    mask = numpy.less_equal(y, 0).view(numpy.int8)
    mask -= 1
    numpy.bitwise_and(g.view(it), mask, out=out.view(it))


class ReluBackward(Primitive):
    """PyTorch's threshold_backward: the gradient where the output is positive, else 0."""

    @staticmethod
    def forward(ctx, g, y):
        ctx.save_for_backward(y)
        ga, ya = g._data, y._data
        if (type(ya) is numpy.ndarray and type(ga) is numpy.ndarray and ga.shape == ya.shape
                and ga.dtype == ya.dtype and ga.dtype in (numpy.float16, numpy.float32, numpy.float64)
                and ya.size >= _CLIP_MIN_SIZE):
            # the bitwise select at every size worth a few calls: NumPy's where with a data-dependent
            # mask is ~10x slower (0.25 ms on 128x512)
            out = numpy.empty(ya.shape, dtype=ga.dtype)
            if _fast.usable(ya, ga) and ga.flags.c_contiguous:
                _fast.kernels().relu_grad(ga.reshape(-1), ya.reshape(-1), out.reshape(-1))
            elif _fast.big_cpu(ya) and _fast.big_cpu(ga):
                _fast.map_blocks(_relu_grad_block, ga.reshape(-1), ya.reshape(-1), out.reshape(-1))
            else:
                _relu_grad_block(ga, ya, out)
            return out
        # a select, not a product: an inf gradient where the output is 0 gives 0 (not inf * 0); "<= 0" lets
        # the gradient pass at nan, as in PyTorch
        return xp_of(ga).where(ya <= 0, ga.dtype.type(0), ga)

    @staticmethod
    def backward(ctx, gg):
        (y,) = ctx.saved_tensors
        gg_g = ReluBackward.apply(gg, y) if ctx.needs_input_grad[0] else None
        return gg_g, (_zeros(gg) if ctx.needs_input_grad[1] else None)  # zero, but connected (as in PyTorch)


class Abs(Primitive):
    @staticmethod
    def forward(ctx, a):
        arr = a._data
        if arr.dtype.kind == "b":
            raise not_implemented("abs", arr)
        ctx.save_for_backward(a)
        return xp_of(arr).abs(arr)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * sgn(x)


class Sign(Primitive):
    """sign (and sgn for real inputs): -1, 0 or 1; 0 for nan and for +-0, as in PyTorch."""

    @staticmethod
    def forward(ctx, a):
        arr = a._data
        if arr.dtype.kind == "b":
            return arr.copy()
        if arr.dtype.kind == "c":
            raise RuntimeError(
                "Unlike NumPy, torch.sign is not intended to support complex numbers. Please use torch.sgn instead."
            )
        # (x > 0) - (x < 0) as int8 (bool subtraction is not allowed); nan and -0.0 give +0
        return ((arr > 0).view(numpy.int8) - (arr < 0).view(numpy.int8)).astype(arr.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        return _zeros(grad)


class Frac(Primitive):
    @staticmethod
    def forward(ctx, a):
        arr = a._data
        if arr.dtype.kind != "f":
            raise not_implemented("frac", arr)
        return arr - xp_of(arr).trunc(arr)

    @staticmethod
    def backward(ctx, grad):
        return grad


class Logit(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a, eps):
        arr = a._data
        if arr.dtype.kind not in "fc":
            arr = arr.astype(_float_np(arr))
        xp = xp_of(arr)
        ctx.save_for_backward(a)
        ctx.eps = eps
        if eps is not None:
            arr = xp.clip(arr, eps, 1 - eps)
        return xp.log(arr / (1 - arr))

    @staticmethod
    def backward(ctx, grad):
        from .comparison import logical_or
        from .selection import where

        (x,) = ctx.saved_tensors
        eps = ctx.eps
        g = grad / (x * (1 - x))
        if eps is None:
            return where(logical_or(x < 0, x > 1), float("nan"), g), None
        return where(logical_or(x < eps, x > 1 - eps), 0.0, g), None


class NanToNum(Primitive):
    @staticmethod
    def forward(ctx, a, nan, posinf, neginf):
        arr = a._data
        if arr.dtype.kind not in "fc":
            return arr.copy()
        ctx.save_for_backward(a)
        return xp_of(arr).nan_to_num(arr, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, grad):
        from .comparison import isfinite
        from .selection import where

        (x,) = ctx.saved_tensors
        return where(isfinite(x), grad, 0.0), None, None, None


def _float_binary_arrays(a, b):
    dt = binary_dtype(a, b)
    if not dt.is_floating_point and not dt.is_complex:
        dt = dtypes.get_default_dtype()
    return binary_arrays(a, b, dt)


def _save_operands(ctx, a, b):
    ctx.save_for_backward(a if isinstance(a, Tensor) else None, b if isinstance(b, Tensor) else None)
    ctx.scalars = (None if isinstance(a, Tensor) else a, None if isinstance(b, Tensor) else b)


def _operands(ctx):
    a, b = ctx.saved_tensors
    sa, sb = ctx.scalars
    return (a if a is not None else sa), (b if b is not None else sb)


class Atan2(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a, b):
        x, y = _float_binary_arrays(a, b)
        _save_operands(ctx, a, b)
        return xp_of(x if not isinstance(x, numpy.generic) else y).arctan2(x, y)

    @staticmethod
    def backward(ctx, grad):
        from .selection import where

        a, b = _operands(ctx)
        denom = a * a + b * b
        scale = where(denom == 0, 0.0, grad / denom)  # PyTorch's subgradient at (0, 0) is 0
        return (scale * b if ctx.needs_input_grad[0] else None), (scale * -a if ctx.needs_input_grad[1] else None)


class Hypot(Primitive):
    save_output = True

    @staticmethod
    @_quiet
    def forward(ctx, a, b):
        x, y = binary_arrays(a, b)
        if x.dtype.kind != "f":
            raise not_implemented("hypot", x)
        _save_operands(ctx, a, b)
        return xp_of(x if not isinstance(x, numpy.generic) else y).hypot(x, y)

    @staticmethod
    def backward(ctx, grad):
        a, b = _operands(ctx)
        scale = grad / ctx.saved_output
        return (scale * a if ctx.needs_input_grad[0] else None), (scale * b if ctx.needs_input_grad[1] else None)


class Xlogy(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a, b):
        x, y = _float_binary_arrays(a, b)
        _save_operands(ctx, a, b)
        xp = xp_of(x if not isinstance(x, numpy.generic) else y)
        out = x * xp.log(y)
        return xp.where((x == 0) & ~xp.isnan(y), 0, out).astype(out.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        from .comparison import logical_and
        from .selection import where

        a, b = _operands(ctx)
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = where(logical_and(a == 0, b <= 0) if isinstance(b, Tensor) else (a == 0) & (b <= 0), 0.0, xlogy(grad, b))
        if ctx.needs_input_grad[1]:
            gb = grad * a / b
        return ga, gb


# ---- special-function kernels (float arrays in, float arrays out) --------------------------------

# W. J. Cody's coefficients: erf on |x| <= 0.46875 ...
_ERF_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02, 3.20937758913846947e03,
          1.85777706184603153e-1)
_ERF_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03)
# ... erfc on 0.46875 < |x| <= 4 ...
_ERF_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01, 2.98635138197400131e02,
          8.81952221241769090e02, 1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03,
          2.15311535474403846e-8)
_ERF_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02, 1.62138957456669019e03,
          3.29079923573345963e03, 4.36261909014324716e03, 3.43936767414372164e03, 1.23033935480374942e03)
# ... and erfc on |x| > 4 (a rational function of 1/x**2).
_ERF_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1, 1.60837851487422766e-2,
          6.58749161529837803e-4, 1.63153871373020978e-2)
_ERF_Q = (2.56852019228982242e00, 1.87295284992346725e00, 5.27905102951428412e-1, 6.05183413124413191e-2,
          2.33520497626869185e-3)
_ERF_THRESH = 0.46875
_INV_SQRT_PI = 1.0 / math.sqrt(math.pi)


def _cody_rational(z, p, q):
    """Cody's form of P(z) / Q(z): ``p[-1]`` leads the numerator, the denominator is monic."""
    num = z * p[-1]
    den = z + q[0]
    for i in range(len(q) - 1):
        num += p[i]
        num *= z
        if i:
            den += q[i]
        den *= z
    num += p[len(q) - 1]
    den += q[-1]
    num /= den
    return num


def _erf_small(x):
    """erf(x) for |x| <= 0.46875."""
    return x * _cody_rational(x * x, _ERF_A, _ERF_B)


def _erfc_large(xp, y):
    """erfc(y) for y > 0.46875 (y may be inf or nan; smaller y give erfc of a clipped value)."""
    y = xp.clip(y, _ERF_THRESH, 40.0)  # erfc(40) underflows to 0 anyway; keeps inf out of the formulas
    r = _cody_rational(xp.minimum(y, 4.0), _ERF_C, _ERF_D)
    tail = y > 4.0
    if xp is not numpy or bool(tail.any()):  # a GPU computes both branches rather than wait to decide
        yt = xp.maximum(y, 4.0)
        z = 1.0 / (yt * yt)
        r = select(tail, (_INV_SQRT_PI - z * _cody_rational(z, _ERF_P, _ERF_Q)) / yt, r)
    # exp(-y*y) split in two so that the rounding error of y*y is not amplified
    ysq = xp.trunc(y * 16.0)
    ysq *= 0.0625
    r *= xp.exp(-(ysq * ysq))
    d = y - ysq  # a NumPy scalar when y is 0-d: no out= below
    d = d * (y + ysq)
    return r * xp.exp(-d)


# Single-precision erf: x * P(x**2) / Q(x**2) on [-4, 4] (beyond, erf rounds to +-1 in float32). A rational
# fit made for ember by iteratively reweighted least squares against 40-digit erf values (relative error
# 2.7e-8 in exact arithmetic, ~2.6e-7 evaluated in float32, like Cody's); highest power first.
_ERF32_P = (-1.1317656798085855e-08, 4.318824065421859e-06, 0.00036599568524783583, 0.0038142145165981417,
            0.054021416745218424, 0.18534065728985882, 1.1283791683420807)
_ERF32_Q = (5.9640073901025786e-05, 0.001282024021431861, 0.015344190051479958, 0.11373742772669088,
            0.4975872443697671, 1.0)


def _erf_float32(xp, x):
    """erf for float32 arrays in ~28 whole-array passes (Cody's three ranges take about twice as many)."""
    xc = xp.clip(x, -4.0, 4.0)
    z = xc * xc
    num = _horner(_ERF32_P, z)
    num *= xc
    num /= _horner(_ERF32_Q, z)
    return xp.clip(num, -1.0, 1.0, out=num)


def _erf(xp, x, complement):
    """erf(x), or erfc(x) when ``complement``, for a real floating array (every element goes through
    both of Cody's main ranges: whole-array passes beat gathering subsets)."""
    if x.ndim == 0:  # the in-place steps below need arrays, and NumPy turns 0-d results into scalars
        return _erf(xp, x.reshape(1), complement).reshape(())
    work = x.astype(numpy.float32) if x.dtype == numpy.float16 else x
    if work.dtype == numpy.float32 and not complement:
        return _erf_float32(xp, work).astype(x.dtype, copy=False)
    y = xp.abs(work)
    small = y <= _ERF_THRESH
    all_small = xp is numpy and bool(small.all())  # (a GPU takes the general path rather than wait)
    es = _erf_small(xp.minimum(work, _ERF_THRESH) if all_small else xp.clip(work, -_ERF_THRESH, _ERF_THRESH))
    if complement:
        xp.subtract(1, es, out=es)
    if all_small:
        return es.astype(x.dtype, copy=False)
    ec = _erfc_large(xp, y)
    if complement:
        large = select(work < 0, 2 - ec, ec)
    else:
        xp.subtract(1, ec, out=ec)
        large = xp.copysign(ec, work, out=ec)
    return select(small, es, large).astype(x.dtype, copy=False)


_SELECT_MIN_SIZE = 4096
_INT_OF_SIZE = {1: numpy.int8, 2: numpy.int16, 4: numpy.int32, 8: numpy.int64}


def select(cond, a, b):
    """``where(cond, a, b)`` on arrays (or NumPy scalars) of one dtype. NumPy's ``where`` is slow on
    unpredictable masks, so large CPU selections are done branch-free on the bits:
    ``b ^ ((a ^ b) * cond)``, exact for every value (nan, inf, -0.0)."""
    xp = xp_of(a) if not isinstance(a, numpy.generic) else xp_of(b)
    if xp is not numpy:
        return xp.where(cond, a, b)
    if max(a.size, b.size, cond.size) < _SELECT_MIN_SIZE or a.dtype != b.dtype:
        return numpy.where(cond, a, b)
    int_t = _INT_OF_SIZE.get(a.dtype.itemsize)
    if int_t is None:
        return numpy.where(cond, a, b)
    ai, bi = a.view(int_t), b.view(int_t)
    d = ai ^ bi
    if isinstance(d, numpy.generic) or d.shape != numpy.broadcast_shapes(d.shape, cond.shape):
        d = d * cond
    else:
        d *= cond
    d ^= bi
    return d.view(a.dtype)


# M. Giles, "Approximating the erfinv function" (GPU Computing Gems, 2011): single precision.
_GILES_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                  -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_GILES_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
               -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)


def _horner(coeffs, w):
    """The polynomial with ``coeffs`` (highest power first) at ``w``, with a single new array."""
    p = w * coeffs[0]
    p += coeffs[1]
    for c in coeffs[2:]:
        p *= w
        p += c
    return p


def _erfinv(xp, x):
    p = x.astype(numpy.float64)
    a = xp.abs(p)
    w = -xp.log1p(-(p * p))
    central = w < 5.0
    y = xp.where(central, _horner(_GILES_CENTRAL, w - 2.5), _horner(_GILES_TAIL, xp.sqrt(w) - 3.0)) * p
    far = w >= 16.0  # beyond single precision: start from the asymptotic erfc(y) ~ exp(-y*y) / (y sqrt(pi))
    if bool(far.any()):
        big = -xp.log1p(-a)
        yt = xp.sqrt(xp.maximum(big - 0.5 * xp.log(math.pi * big), 0.0))
        for _ in range(2):
            yt = xp.sqrt(xp.maximum(big - xp.log(xp.maximum(yt, 1.0) * math.sqrt(math.pi)), 0.0))
        y = xp.where(far, xp.copysign(yt, p), y)
    inner = a <= 0.5
    for _ in range(1 if x.dtype.itemsize <= 4 else 2):
        ya = xp.abs(y)
        deriv = _TWO_OVER_SQRT_PI * xp.exp(-(y * y))
        # |p| <= 1/2: Halley's step on erf(y) = p
        u = (_erf(xp, y, False) - p) / deriv
        y_inner = y - u / (1 + y * u)
        # |p| > 1/2: Halley's step on log(erfc(|y|)) = log(1 - |p|), accurate up to |p| -> 1
        ec = _erfc_large(xp, xp.maximum(ya, _ERF_THRESH))
        g = xp.log(ec) - xp.log1p(-a)
        h = deriv / ec
        y_outer = xp.copysign(ya + (g / h) / (1 + g * (h - 2 * ya) / (2 * h)), p)
        y = xp.where(inner, y_inner, y_outer)
    y = xp.where(a == 1, xp.copysign(math.inf, p), y)
    y = xp.where(a > 1, math.nan, y)
    return y.astype(x.dtype, copy=False)


# Lanczos approximation, g = 7, n = 9.
_LANCZOS_G = 7.0
_LANCZOS = (0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
            -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
            1.5056327351493116e-7)
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _lgamma(xp, x):
    v = x.astype(numpy.float64)
    reflect = v < 0.5
    z = xp.where(reflect, 1.0 - v, v) - 1.0  # Lanczos needs Re(z + 1) >= 1/2
    s = xp.full(z.shape, _LANCZOS[0])
    for i in range(1, len(_LANCZOS)):
        s += _LANCZOS[i] / (z + i)
    t = z + (_LANCZOS_G + 0.5)
    out = _HALF_LOG_2PI + (z + 0.5) * xp.log(t) - t + xp.log(s)
    if bool(reflect.any()):
        # lgamma(x) = log(pi / |sin(pi x)|) - lgamma(1 - x); reduce x first so sin stays exact
        r = v - xp.round(v)
        out = xp.where(reflect, math.log(math.pi) - xp.log(xp.abs(xp.sin(math.pi * r))) - out, out)
    out = xp.where(xp.isinf(v), math.inf, out)
    return out.astype(x.dtype, copy=False)


_DIGAMMA_SHIFT = 10
# Bernoulli numbers B_2 .. B_20 for the asymptotic series.
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510, 43867 / 798, -174611 / 330)


def _cot_derivative_poly(n):
    """Integer coefficients (lowest first) of P with d^n/du^n cot(u) = P(cot(u))."""
    p = [0, 1]
    for _ in range(n):
        dp = [i * p[i] for i in range(1, len(p))] or [0]
        # -(1 + c^2) * dp
        out = [0] * (len(dp) + 2)
        for i, c in enumerate(dp):
            out[i] -= c
            out[i + 2] -= c
        p = out
    return p


def _polygamma(xp, n, x):
    """The n-th derivative of digamma (n = 0: digamma) for a real floating array."""
    v = x.astype(numpy.float64)
    reflect = v < 0
    z = xp.where(reflect, 1.0 - v, v)
    shift = _DIGAMMA_SHIFT + 2 * n
    acc = 1.0 / z if n == 0 else z ** -(n + 1)  # k = 0 apart: z + 0 would turn -0.0 into +0.0
    for k in range(1, shift):
        acc += (z + k) ** -(n + 1) if n else 1.0 / (z + k)
    w = z + shift
    inv2 = 1.0 / (w * w)
    if n == 0:
        series = xp.zeros_like(w)
        for k in range(len(_BERNOULLI) - 1, -1, -1):
            series += _BERNOULLI[k] / (2 * k + 2)
            series *= inv2
        out = xp.log(w) - 0.5 / w - series - acc
    else:
        # (-1)^(n+1) [ (n-1)!/w^n + n!/(2 w^(n+1)) + sum_k B_2k (2k+n-1)!/(2k)! / w^(2k+n) ] + shifts
        series = xp.zeros_like(w)
        for k in range(len(_BERNOULLI), 0, -1):
            series += _BERNOULLI[k - 1] * math.factorial(2 * k + n - 1) / math.factorial(2 * k)
            series *= inv2
        wn = w ** -n
        out = wn * (math.factorial(n - 1) + math.factorial(n) * 0.5 / w + series) + math.factorial(n) * acc
        if n % 2 == 0:
            out = -out
    if bool(reflect.any()):
        r = v - xp.round(v)  # psi^(n)(x) = (-1)^n psi^(n)(1-x) - pi^(n+1) cot^(n)(pi x)
        c = 1.0 / xp.tan(math.pi * r)
        poly = _cot_derivative_poly(n)
        pc = xp.full(c.shape, float(poly[-1]))
        for coef in reversed(poly[:-1]):
            pc *= c
            pc += coef
        reflected = (out if n % 2 == 0 else -out) - math.pi ** (n + 1) * pc
        pole = reflect & (r == 0)
        out = xp.where(reflect, reflected, out)
        out = xp.where(pole, math.nan if n == 0 else (math.inf if n % 2 else -math.inf), out)
    if n:
        out = xp.where(v == 0, math.inf if n % 2 else -math.inf, out)
    return out.astype(x.dtype, copy=False)


# ---- public functions --------------------------------------------------------------------------


def _public(prim, name, doc):
    def fn(input, *, out=None):
        if not isinstance(input, Tensor):
            check_tensor(input, name)
        result = prim.apply(input)  # looked up per call: the profiler may wrap it
        return result if out is None else _maybe_out(result, out)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


def _inplace(fn):
    def method(self, *args, **kwargs):
        return apply_inplace(self, fn(inplace_source(self), *args, **kwargs))

    method.__name__ = method.__qualname__ = fn.__name__ + "_"
    method.__doc__ = f"In-place version of :func:`{fn.__name__}`."
    return method


exp = autocast_op(_public(Exp, "exp", "e raised to each element."))
exp2 = _public(Exp2, "exp2", "2 raised to each element.")
expm1 = _public(Expm1, "expm1", "``exp(x) - 1``, accurate for small x.")
log = autocast_op(_public(Log, "log", "Natural logarithm."))
log2 = _public(Log2, "log2", "Base-2 logarithm.")
log10 = _public(Log10, "log10", "Base-10 logarithm.")
log1p = _public(Log1p, "log1p", "``log(1 + x)``, accurate for small x.")
sqrt = _public(Sqrt, "sqrt", "Square root (nan for negative inputs).")
rsqrt = _public(Rsqrt, "rsqrt", "Reciprocal of the square root.")
reciprocal = _public(Reciprocal, "reciprocal", "``1 / x`` (integers promote to the default float dtype).")
sin = _public(Sin, "sin", "Sine.")
cos = _public(Cos, "cos", "Cosine.")
tan = _public(Tan, "tan", "Tangent.")
asin = arcsin = _public(Asin, "asin", "Inverse sine.")
acos = arccos = _public(Acos, "acos", "Inverse cosine.")
atan = arctan = _public(Atan, "atan", "Inverse tangent.")
sinh = _public(Sinh, "sinh", "Hyperbolic sine.")
cosh = _public(Cosh, "cosh", "Hyperbolic cosine.")
tanh = _public(Tanh, "tanh", "Hyperbolic tangent.")
asinh = arcsinh = _public(Asinh, "asinh", "Inverse hyperbolic sine.")
acosh = arccosh = _public(Acosh, "acosh", "Inverse hyperbolic cosine.")
atanh = arctanh = _public(Atanh, "atanh", "Inverse hyperbolic tangent.")
sigmoid = _public(Sigmoid, "sigmoid", "Logistic sigmoid ``1 / (1 + exp(-x))``.")
relu = _public(Relu, "relu", "``max(x, 0)`` elementwise (keeps integer dtypes).")
abs = absolute = _public(Abs, "abs", "Absolute value (keeps integer dtypes).")
sign = _public(Sign, "sign", "-1, 0 or 1 by the sign of each element (0 for nan).")
erf = _public(Erf, "erf", "The error function.")
erfc = _public(Erfc, "erfc", "The complementary error function ``1 - erf(x)``.")
erfinv = _public(Erfinv, "erfinv", "The inverse error function (+-inf at +-1, nan outside [-1, 1]).")
frac = _public(Frac, "frac", "The fractional part ``x - trunc(x)`` (floating-point inputs only).")
lgamma = _public(Lgamma, "lgamma", "Natural logarithm of the absolute value of the gamma function.")
digamma = _public(Digamma, "digamma", "The logarithmic derivative of the gamma function.")


def sgn(input, *, out=None):
    """``x / |x|`` for complex inputs (0 at 0); ``sign`` for real ones."""
    check_tensor(input, "sgn")
    return _maybe_out(Sign.apply(input) if _np_kind(input._data.dtype) != "c" else _complex_sgn(input), out)


class ComplexSgn(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a):
        ctx.save_for_backward(a)
        arr = a._data
        xp = xp_of(arr)
        mag = xp.abs(arr)
        return xp.where(mag == 0, 0, arr / mag).astype(arr.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        # s = z/|z|: grad_z = (g - Re(conj(g) s) s) / |z|, and 0 where z == 0
        (z,) = ctx.saved_tensors
        from .selection import where

        mag = z.abs()
        s = ComplexSgn.apply(z)
        r = (grad.conj() * s).real
        return where(mag == 0, 0.0, (grad - r * s) / where(mag == 0, 1.0, mag))


def _complex_sgn(input):
    return ComplexSgn.apply(input)


def square(input, *, out=None):
    """``input ** 2`` (bool inputs give int64, as in PyTorch)."""
    check_tensor(input, "square")
    return _maybe_out(pow(input, 2), out)


def polygamma(n, input, *, out=None):
    """The n-th derivative of the digamma function (``polygamma(0, x) == digamma(x)``)."""
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    check_tensor(input, "polygamma", position=2)
    return _maybe_out(Polygamma.apply(int(n), input), out)


def logit(input, eps=None, *, out=None):
    """``log(p / (1 - p))``; with ``eps`` the input is first clamped to ``[eps, 1 - eps]``."""
    check_tensor(input, "logit")
    return _maybe_out(Logit.apply(input, None if eps is None else float(eps)), out)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    """Replace nan with ``nan`` and +-inf with ``posinf``/``neginf`` (default: the dtype's largest/lowest)."""
    check_tensor(input, "nan_to_num")
    return _maybe_out(NanToNum.apply(input, nan, posinf, neginf), out)


_DEG2RAD = math.pi / 180.0
_RAD2DEG = 180.0 / math.pi


def deg2rad(input, *, out=None):
    """Degrees to radians (integers promote to the default float dtype)."""
    check_tensor(input, "deg2rad")
    return _maybe_out(mul(input, _DEG2RAD), out)


def rad2deg(input, *, out=None):
    """Radians to degrees (integers promote to the default float dtype)."""
    check_tensor(input, "rad2deg")
    return _maybe_out(mul(input, _RAD2DEG), out)


def atan2(input, other, *, out=None):
    """The angle of the point ``(other, input)``: ``atan(input / other)`` with the quadrant."""
    check_tensor(input, "atan2")
    check_tensor(other, "atan2", "other", 2)
    return _maybe_out(Atan2.apply(input, other), out)


arctan2 = atan2


def hypot(input, other, *, out=None):
    """``sqrt(input**2 + other**2)`` without undue overflow (floating-point inputs only)."""
    check_tensor(input, "hypot")
    check_tensor(other, "hypot", "other", 2)
    return _maybe_out(Hypot.apply(input, other), out)


class _LogAddExp(Primitive):
    """log(exp(a) + exp(b)) (base 2 with ``base2``); PyTorch's gradient ``1 / (1 + exp(b - a))``, exact
    where one operand is infinite."""

    @staticmethod
    def forward(ctx, a, b, base2):
        x, y = a._data, b._data
        xp = xp_of(x)
        ctx.base2 = base2
        ctx.save_for_backward(a, b)
        with numpy.errstate(all="ignore"):
            m = xp.maximum(x, y)
            if base2:
                tail = xp.log1p(xp.exp2(-xp.abs(x - y))) / _LN2
            else:
                tail = xp.log1p(xp.exp(-xp.abs(x - y)))
            return xp.where(xp.isinf(x) & (x == y), x, m + tail)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        e = (lambda t: 2.0**t) if ctx.base2 else exp
        ga = grad / (e(b - a) + 1) if ctx.needs_input_grad[0] else None
        gb = grad / (e(a - b) + 1) if ctx.needs_input_grad[1] else None
        return ga, gb, None


def _logaddexp(name, input, other, base2):
    from ._common import binary_dtype

    check_tensor(input, name)
    check_tensor(other, name, "other", 2)
    dt = binary_dtype(input, other)
    if not dt.is_floating_point:
        raise not_implemented(name, input._data if input._data.dtype == dt.np else other._data)
    if input._data.shape != other._data.shape:
        from .._errors import check_broadcast

        check_broadcast(input._data.shape, other._data.shape)
    return _LogAddExp.apply(input.to(dt), other.to(dt), base2)




def logaddexp(input, other, *, out=None):
    """``log(exp(input) + exp(other))`` without overflow."""
    return _maybe_out(_logaddexp("logaddexp", input, other, False), out)


def logaddexp2(input, other, *, out=None):
    """``log2(2**input + 2**other)`` without overflow."""
    return _maybe_out(_logaddexp("logaddexp2", input, other, True), out)


def positive(input):
    """``input`` itself (``+input``); an error for bool tensors, as in PyTorch."""
    check_tensor(input, "positive")
    if input._data.dtype.kind == "b":
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def xlogy(input, other, *, out=None):
    """``input * log(other)``, defined as 0 where ``input == 0`` (unless ``other`` is nan)."""
    return _maybe_out(Xlogy.apply(input, other), out)


exp_ = _inplace(exp)
exp2_ = _inplace(exp2)
expm1_ = _inplace(expm1)
log_ = _inplace(log)
log2_ = _inplace(log2)
log10_ = _inplace(log10)
log1p_ = _inplace(log1p)
sqrt_ = _inplace(sqrt)
rsqrt_ = _inplace(rsqrt)
reciprocal_ = _inplace(reciprocal)
sin_ = _inplace(sin)
cos_ = _inplace(cos)
tan_ = _inplace(tan)
asin_ = arcsin_ = _inplace(asin)
acos_ = arccos_ = _inplace(acos)
atan_ = arctan_ = _inplace(atan)
sinh_ = _inplace(sinh)
cosh_ = _inplace(cosh)
tanh_ = _inplace(tanh)
asinh_ = arcsinh_ = _inplace(asinh)
acosh_ = arccosh_ = _inplace(acosh)
atanh_ = arctanh_ = _inplace(atanh)
sigmoid_ = _inplace(sigmoid)
relu_ = _inplace(relu)
abs_ = absolute_ = _inplace(abs)
sign_ = _inplace(sign)
sgn_ = _inplace(sgn)
erf_ = _inplace(erf)
erfc_ = _inplace(erfc)
erfinv_ = _inplace(erfinv)
frac_ = _inplace(frac)
lgamma_ = _inplace(lgamma)
digamma_ = _inplace(digamma)
square_ = _inplace(square)
logit_ = _inplace(logit)
nan_to_num_ = _inplace(nan_to_num)
deg2rad_ = _inplace(deg2rad)
rad2deg_ = _inplace(rad2deg)
atan2_ = arctan2_ = _inplace(atan2)
hypot_ = _inplace(hypot)
xlogy_ = _inplace(xlogy)


def _polygamma_method(self, n):
    """``polygamma(n, self)``."""
    return polygamma(n, self)


def _polygamma_inplace(self, n):
    """In-place version of :meth:`polygamma`."""
    return apply_inplace(self, polygamma(n, inplace_source(self)))


bind(
    exp=exp, exp2=exp2, expm1=expm1, log=log, log2=log2, log10=log10, log1p=log1p, sqrt=sqrt, rsqrt=rsqrt,
    reciprocal=reciprocal, sin=sin, cos=cos, tan=tan, asin=asin, arcsin=asin, acos=acos, arccos=acos,
    atan=atan, arctan=atan, sinh=sinh, cosh=cosh, tanh=tanh, asinh=asinh, arcsinh=asinh, acosh=acosh,
    arccosh=acosh, atanh=atanh, arctanh=atanh, sigmoid=sigmoid, relu=relu, abs=abs, absolute=abs,
    sign=sign, sgn=sgn, erf=erf, erfc=erfc, erfinv=erfinv, frac=frac, lgamma=lgamma, digamma=digamma,
    square=square, logit=logit, nan_to_num=nan_to_num, deg2rad=deg2rad, rad2deg=rad2deg, atan2=atan2,
    logaddexp=logaddexp, logaddexp2=logaddexp2, positive=positive,
    arctan2=atan2, hypot=hypot, xlogy=xlogy, polygamma=_polygamma_method,
    exp_=exp_, exp2_=exp2_, expm1_=expm1_, log_=log_, log2_=log2_, log10_=log10_, log1p_=log1p_,
    sqrt_=sqrt_, rsqrt_=rsqrt_, reciprocal_=reciprocal_, sin_=sin_, cos_=cos_, tan_=tan_, asin_=asin_,
    arcsin_=asin_, acos_=acos_, arccos_=acos_, atan_=atan_, arctan_=atan_, sinh_=sinh_, cosh_=cosh_,
    tanh_=tanh_, asinh_=asinh_, arcsinh_=asinh_, acosh_=acosh_, arccosh_=acosh_, atanh_=atanh_,
    arctanh_=atanh_, sigmoid_=sigmoid_, relu_=relu_, abs_=abs_, absolute_=abs_, sign_=sign_, sgn_=sgn_,
    erf_=erf_, erfc_=erfc_, erfinv_=erfinv_, frac_=frac_, lgamma_=lgamma_, digamma_=digamma_,
    square_=square_, logit_=logit_, nan_to_num_=nan_to_num_, deg2rad_=deg2rad_, rad2deg_=rad2deg_,
    atan2_=atan2_, arctan2_=atan2_, hypot_=hypot_, xlogy_=xlogy_, polygamma_=_polygamma_inplace,
    __abs__=abs,
)

__all__ = [
    "logaddexp",
    "logaddexp2",
    "positive",
    "abs",
    "abs_",
    "absolute",
    "acos",
    "acos_",
    "acosh",
    "acosh_",
    "arccos",
    "arccos_",
    "arccosh",
    "arccosh_",
    "arcsin",
    "arcsin_",
    "arcsinh",
    "arcsinh_",
    "arctan",
    "arctan2",
    "arctan_",
    "arctanh",
    "arctanh_",
    "asin",
    "asin_",
    "asinh",
    "asinh_",
    "atan",
    "atan2",
    "atan_",
    "atanh",
    "atanh_",
    "cos",
    "cos_",
    "cosh",
    "cosh_",
    "deg2rad",
    "deg2rad_",
    "digamma",
    "erf",
    "erf_",
    "erfc",
    "erfc_",
    "erfinv",
    "exp",
    "exp2",
    "exp2_",
    "exp_",
    "expm1",
    "expm1_",
    "frac",
    "frac_",
    "hypot",
    "lgamma",
    "log",
    "log1p",
    "log1p_",
    "log2",
    "log2_",
    "log10",
    "log10_",
    "log_",
    "logit",
    "logit_",
    "nan_to_num",
    "nan_to_num_",
    "polygamma",
    "rad2deg",
    "rad2deg_",
    "reciprocal",
    "reciprocal_",
    "relu",
    "relu_",
    "rsqrt",
    "rsqrt_",
    "sgn",
    "sigmoid",
    "sigmoid_",
    "sign",
    "sin",
    "sin_",
    "sinh",
    "sinh_",
    "sqrt",
    "sqrt_",
    "square",
    "square_",
    "tan",
    "tan_",
    "tanh",
    "tanh_",
    "xlogy",
    "xlogy_",
]
