"""Special functions beyond ``unary.py`` (Bessel, normal distribution, Hurwitz zeta, entropy, sinc, ...),
computed with the array module's basic operations so they need no SciPy and run unchanged on CuPy.

Methods (all evaluated in float64, then cast back):

- i0 / i1 (and the exponentially scaled i0e / i1e): the power series for |x| <= 30 (all terms positive,
  no cancellation) and Hankel's asymptotic expansion beyond;
- bessel_j0 / bessel_j1: the power series for |x| <= 14 and Hankel's asymptotic expansion beyond
  (absolute error about 1e-12 near the switch, float64 round-off elsewhere);
- erfcx: ``exp(x**2) * erfc(x)`` for x < 0.47, Cody's scaled rational forms above (no overflow);
- ndtri: P. J. Acklam's rational approximation, then one Halley step on log_ndtr (full float64 accuracy);
- log_ndtr: ``log1p(-ndtr(-x))`` above -1, ``log(erfcx(-x / sqrt 2) / 2) - x**2 / 2`` below;
- zeta (Hurwitz): Euler-Maclaurin summation with 9 direct terms and 12 Bernoulli corrections.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy

from ..autograd.function import Primitive
from ..tensor import Tensor
from ._common import _FROM_NP, apply_inplace, bind, inplace_source, xp_of
from .elementwise import _maybe_out
from .unary import (
    _ERF_C,
    _ERF_D,
    _ERF_P,
    _ERF_Q,
    _ERF_THRESH,
    _INV_SQRT_PI,
    _cody_rational,
    _erf,
    _float_binary_arrays,
    _float_np,
    _operands,
    _quiet,
    _save_operands,
    _unary,
    _inplace,
    check_tensor,
    exp,
    sigmoid,
)
from .selection import where

_SQRT2 = math.sqrt(2.0)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_LOG_HALF = math.log(0.5)


def _f64(xp, arr):
    return arr.astype(numpy.float64, copy=False)


# ---- modified Bessel functions I0, I1 -----------------------------------------------------------

_I_SWITCH = 30.0
_I_SERIES_TERMS = 48
_HANKEL_TERMS = 30


def _i_series(xp, ax, nu):
    """sum_k (x**2/4)**k / (k! (k+nu)!) for |x| <= 30 (times (x/2)**nu left to the caller)."""
    q = ax * ax * 0.25
    term = xp.full(ax.shape, 1.0 / math.factorial(nu))
    total = term.copy()
    for k in range(1, _I_SERIES_TERMS):
        term = term * q / (k * (k + nu))
        total += term
    return total


def _i_asymptotic_scaled(xp, ax, nu):
    """sqrt(2 pi x) e^-x I_nu(x) from Hankel's expansion (x > 30)."""
    mu = 4.0 * nu * nu
    inv8x = 1.0 / (8.0 * ax)
    term = xp.ones_like(ax)
    total = term.copy()
    for k in range(1, _HANKEL_TERMS):
        term = term * (-(mu - (2 * k - 1) ** 2) / k) * inv8x
        total += term
    return total


def _bessel_i(xp, x, nu, scaled):
    """I_nu(x) (nu in {0, 1}), or e^-|x| I_nu(x) when ``scaled``, for a float64 array."""
    ax = xp.abs(x)
    small = ax <= _I_SWITCH
    xs = xp.minimum(ax, _I_SWITCH)
    series = _i_series(xp, xs, nu) * (xs * 0.5) ** nu
    if scaled:
        series = series * xp.exp(-xs)
    out = series
    if not bool(small.all()):
        xl = xp.maximum(ax, _I_SWITCH)
        big = _i_asymptotic_scaled(xp, xl, nu) / xp.sqrt(2.0 * math.pi * xl)
        if not scaled:
            half = xp.exp(xl * 0.5)  # e^x in two halves: I_nu stays finite a little past exp's overflow
            big = big * half * half
        big = xp.where(xp.isinf(xl), 0.0 if scaled else math.nan, big)  # PyTorch: i0(inf) is nan
        out = xp.where(small, series, big)
    if nu == 1:
        out = xp.copysign(out, x)
    return out


def _i_kernel(nu, scaled):
    def compute(xp, arr):
        return _bessel_i(xp, _f64(xp, arr), nu, scaled).astype(arr.dtype, copy=False)

    return compute


def _i1_over_x(x):
    """i1(x) / x with its limit 1/2 at 0 (Tensor ops)."""
    safe = where(x == 0, 1.0, x)
    return where(x == 0, 0.5, i1(safe) / safe)


def _i1e_over_x(x):
    safe = where(x == 0, 1.0, x)
    return where(x == 0, 0.5, i1e(safe) / safe)


I0 = _unary("I0", _i_kernel(0, False), lambda g, x, y: g * i1(x))
I0e = _unary("I0e", _i_kernel(0, True), lambda g, x, y: g * (i1e(x) - x.sign() * i0e(x)))
I1 = _unary("I1", _i_kernel(1, False), lambda g, x, y: g * (i0(x) - _i1_over_x(x)))
I1e = _unary("I1e", _i_kernel(1, True), lambda g, x, y: g * (i0e(x) - x.sign() * i1e(x) - _i1e_over_x(x)))


# ---- Bessel functions of the first kind J0, J1 --------------------------------------------------

_J_SWITCH = 14.0
_J_SERIES_TERMS = 40
_J_HANKEL_TERMS = 26


def _bessel_j(xp, x, nu):
    ax = xp.abs(x)
    xs = xp.minimum(ax, _J_SWITCH)
    q = -xs * xs * 0.25
    term = xp.ones_like(xs)
    total = term.copy()
    for k in range(1, _J_SERIES_TERMS):
        term = term * q / (k * (k + nu))
        total += term
    out = total * (xs * 0.5) ** nu
    large = ax > _J_SWITCH
    if bool(large.any()):
        xl = xp.where(xp.isfinite(ax), xp.maximum(ax, _J_SWITCH), _J_SWITCH)
        mu = 4.0 * nu * nu
        inv8x = 1.0 / (8.0 * xl)
        term = xp.ones_like(xl)
        p, qs = term.copy(), xp.zeros_like(xl)
        for k in range(1, _J_HANKEL_TERMS):
            term = term * ((mu - (2 * k - 1) ** 2) / k) * inv8x
            if k % 2:
                qs += term if (k // 2) % 2 == 0 else -term
            else:
                p += term if (k // 2) % 2 == 0 else -term
        c, s = xp.cos(xl), xp.sin(xl)
        if nu == 0:  # chi = x - pi/4, expanded so that x itself is reduced exactly
            cos_chi, sin_chi = (c + s) / _SQRT2, (s - c) / _SQRT2
        else:  # chi = x - 3 pi/4
            cos_chi, sin_chi = (s - c) / _SQRT2, -(s + c) / _SQRT2
        big = xp.sqrt(2.0 / (math.pi * xl)) * (p * cos_chi - qs * sin_chi)
        big = xp.where(xp.isinf(ax), math.nan, big)  # as PyTorch
        out = xp.where(large, big, out)
    if nu == 1:
        out = xp.where(x < 0, -out, out)
    return xp.where(xp.isnan(x), math.nan, out)


def _j_kernel(nu):
    def compute(xp, arr):
        return _bessel_j(xp, _f64(xp, arr), nu).astype(arr.dtype, copy=False)

    return compute


BesselJ0 = _unary("BesselJ0", _j_kernel(0), None, "")  # no gradient: the public functions detach
BesselJ1 = _unary("BesselJ1", _j_kernel(1), None, "")


# ---- erfcx, the normal distribution --------------------------------------------------------------


def _erfcx64(xp, x):
    """exp(x**2) erfc(x) for a float64 array."""
    small = x < _ERF_THRESH
    xs = xp.minimum(x, _ERF_THRESH)
    direct = xp.exp(xs * xs) * _erf(xp, xs, True)
    y = xp.maximum(x, _ERF_THRESH)
    mid = _cody_rational(xp.minimum(y, 4.0), _ERF_C, _ERF_D)
    yt = xp.where(xp.isfinite(y), xp.maximum(y, 4.0), 4.0)
    z = 1.0 / (yt * yt)
    tail = (_INV_SQRT_PI - z * _cody_rational(z, _ERF_P, _ERF_Q)) / yt
    scaled = xp.where(y > 4.0, tail, mid)
    scaled = xp.where(xp.isinf(y), 0.0, scaled)
    return xp.where(small, direct, scaled)


def _erfcx_compute(xp, arr):
    return _erfcx64(xp, _f64(xp, arr)).astype(arr.dtype, copy=False)


def _ndtr64(xp, x):
    return 0.5 * _erf(xp, -x / _SQRT2, True)


def _log_ndtr64(xp, x):
    low = x < -1.0
    xh = xp.maximum(x, -1.0)
    high = xp.log1p(-0.5 * _erf(xp, xh / _SQRT2, True))
    xl = xp.minimum(x, -1.0)
    xl = xp.where(xp.isfinite(xl), xl, -1.0)
    lo = _LOG_HALF + xp.log(_erfcx64(xp, -xl / _SQRT2)) - xl * xl * 0.5
    out = xp.where(low, lo, high)
    return xp.where(x == -math.inf, -math.inf, out)


# P. J. Acklam's coefficients for the inverse normal CDF (relative error < 1.15e-9).
_ACK_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02, 1.383577518672690e02,
          -3.066479806614716e01, 2.506628277459239e00)
_ACK_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02, 6.680131188771972e01,
          -1.328068155288572e01, 1.0)
_ACK_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00, -2.549732539343734e00,
          4.374664141464968e00, 2.938163982698783e00)
_ACK_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00, 1.0)
_ACK_LOW = 0.02425


def _poly(coeffs, w):
    out = coeffs[0] * w + coeffs[1]
    for c in coeffs[2:]:
        out = out * w + c
    return out


def _ndtri64(xp, p):
    s = xp.minimum(p, 1.0 - p)  # exact for p >= 1/2; ndtri(p) = -ndtri(1 - p)
    s_ok = xp.where((s > 0) & (s <= 0.5), s, 0.25)
    q = s_ok - 0.5
    r = q * q
    central = _poly(_ACK_A, r) * q / _poly(_ACK_B, r)
    t = xp.sqrt(-2.0 * xp.log(s_ok))
    tail = _poly(_ACK_C, t) / _poly(_ACK_D, t)
    x = xp.where(s_ok < _ACK_LOW, tail, central)
    # Halley's step on F(x) = s, with (F(x) - s) / F'(x) written through log F so deep tails stay finite
    log_s = xp.log(s_ok)
    u = xp.expm1(_log_ndtr64(xp, x) - log_s) * _SQRT_2PI * xp.exp(log_s + x * x * 0.5)
    x = x - u / (1.0 + x * u * 0.5)
    x = xp.where(p > 0.5, -x, x)
    x = xp.where(p == 0.5, 0.0, x)
    x = xp.where(p == 0, -math.inf, xp.where(p == 1, math.inf, x))
    return xp.where((p < 0) | (p > 1) | xp.isnan(p), math.nan, x)


def _via64(fn):
    def compute(xp, arr):
        return fn(xp, _f64(xp, arr)).astype(arr.dtype, copy=False)

    return compute


_INV_SQRT_2PI = 1.0 / _SQRT_2PI

Erfcx = _unary("Erfcx", _erfcx_compute, lambda g, x, y: g * (2.0 * x * erfcx(x) - 2.0 * _INV_SQRT_PI))
Ndtr = _unary("Ndtr", _via64(_ndtr64), lambda g, x, y: g * (exp(x * x * -0.5) * _INV_SQRT_2PI))
Ndtri = _unary("Ndtri", _via64(_ndtri64), lambda g, x, y: g * (exp(y * y * 0.5) * _SQRT_2PI), "y")
LogNdtr = _unary("LogNdtr", _via64(_log_ndtr64),
                 lambda g, x, y: g * (exp(x * x * -0.5 - log_ndtr(x)) * _INV_SQRT_2PI))


# ---- sinc, entr ------------------------------------------------------------------------------------


def _sinc_compute(xp, arr):
    px = arr * math.pi
    safe = xp.where(arr == 0, 1.0, px).astype(arr.dtype, copy=False)
    return xp.where(arr == 0, 1.0, xp.sin(safe) / safe).astype(arr.dtype, copy=False)


def _sinc_grad(g, x, y):
    px = x * math.pi
    safe = where(x == 0, 1.0, px)
    d = (safe.cos() * safe - safe.sin()) / (safe * safe) * math.pi
    return g * where(x == 0, 0.0, d)


def _entr_compute(xp, arr):
    safe = xp.where(arr > 0, arr, 1.0).astype(arr.dtype, copy=False)
    out = -arr * xp.log(safe)
    out = xp.where(arr == 0, 0.0, out)
    out = xp.where(arr < 0, -math.inf, out)
    return out.astype(arr.dtype, copy=False)


Sinc = _unary("Sinc", _sinc_compute, _sinc_grad)
Entr = _unary("Entr", _entr_compute, lambda g, x, y: g * -(1 + x.log()))


# ---- binary: xlog1py, zeta ---------------------------------------------------------------------


class Xlog1py(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a, b):
        x, y = _float_binary_arrays(a, b)
        _save_operands(ctx, a, b)
        xp = xp_of(x if not isinstance(x, numpy.generic) else y)
        out = x * xp.log1p(y)
        return xp.where((x == 0) & ~xp.isnan(y), 0, out).astype(out.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        a, b = _operands(ctx)
        ga = gb = None
        if ctx.needs_input_grad[0]:
            from .selection import where

            # PyTorch's derivative: xlog1py(grad, other), 0 only where self == 0 and other <= -1
            mask = (a == 0) & (b <= -1)
            ga = where(mask if isinstance(mask, Tensor) else Tensor._make(numpy.asarray(mask)), 0.0, xlog1py(grad, b))
        if ctx.needs_input_grad[1]:
            gb = grad * a / (b + 1)
        return ga, gb


def _bernoulli_over_factorial():
    """B_2j / (2j)! for j = 1..12."""
    n = 26
    b = [Fraction(0)] * n
    b[0] = Fraction(1)
    for m in range(1, n):  # B_m = -1/(m+1) sum_{k<m} C(m+1, k) B_k
        b[m] = -sum(Fraction(math.comb(m + 1, k)) * b[k] for k in range(m)) / (m + 1)
    return [float(b[2 * j] / math.factorial(2 * j)) for j in range(1, 13)]


_ZETA_B = _bernoulli_over_factorial()
_ZETA_N = 9


def _zeta64(xp, s, q):
    """The Hurwitz zeta function sum_k (k + q)**-s on float64 arrays (broadcast together)."""
    s, q = xp.broadcast_arrays(s, q)
    total = xp.zeros(s.shape)
    for k in range(_ZETA_N):
        total += (q + k) ** -s
    w = q + _ZETA_N
    total += w ** (1.0 - s) / (s - 1.0) + 0.5 * w ** -s
    fac = s.copy()  # s (s+1) ... (s+2j-2)
    wpow = w ** (-s - 1.0)
    inv_w2 = 1.0 / (w * w)
    for j, coef in enumerate(_ZETA_B):
        total += coef * fac * wpow
        fac = fac * (s + 2 * j + 1) * (s + 2 * j + 2)
        wpow = wpow * inv_w2
    # PyTorch's (Cephes') edge rules, the first matching one winning: s == 1 -> inf; s < 1 -> nan;
    # q <= 0 an integer (or -inf) -> inf; q <= 0 and s not an integer -> nan; then the series,
    # which is nan at q = +inf and, at s = +inf, 1 for q == 1, inf for 0 < q < 1 and nan for q > 1
    total = xp.where(xp.isnan(s) | xp.isnan(q) | (q == math.inf), math.nan, total)
    s_inf = s == math.inf
    total = xp.where(s_inf & (q > 1), math.nan, total)
    total = xp.where(s_inf & (q == 1), 1.0, total)
    total = xp.where(s_inf & (q > 0) & (q < 1), math.inf, total)
    nonpos = q <= 0
    total = xp.where(nonpos & (s != xp.floor(s)), math.nan, total)
    total = xp.where(nonpos & (q == xp.floor(q)), math.inf, total)
    total = xp.where(s < 1, math.nan, total)
    return xp.where(s == 1, math.inf, total)


class Zeta(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a, b):
        x, q = _float_binary_arrays(a, b)
        _save_operands(ctx, a, b)
        xp = xp_of(x if not isinstance(x, numpy.generic) else q)
        out = _zeta64(xp, xp.asarray(x, dtype=numpy.float64), xp.asarray(q, dtype=numpy.float64))
        return out.astype(xp.result_type(x, q), copy=False)

    @staticmethod
    def backward(ctx, grad):
        if ctx.needs_input_grad[0]:
            raise NotImplementedError("the derivative for 'zeta' is not implemented.")
        a, b = _operands(ctx)
        return None, grad * -a * zeta(a + 1.0, b)


# ---- public functions --------------------------------------------------------------------------


def _public(prim, name, doc):
    apply = prim.apply

    def fn(input, *, out=None):
        check_tensor(input, name)
        return _maybe_out(apply(input), out)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


i0 = _public(I0, "i0", "The modified Bessel function of the first kind, order 0.")
i0e = _public(I0e, "i0e", "The exponentially scaled modified Bessel function ``exp(-|x|) * i0(x)``.")
i1 = _public(I1, "i1", "The modified Bessel function of the first kind, order 1.")
i1e = _public(I1e, "i1e", "The exponentially scaled modified Bessel function ``exp(-|x|) * i1(x)``.")


def _not_differentiable(prim, name, doc):
    fn = _public(prim, name, doc)
    wrapped = fn

    def fn(input, *, out=None):  # PyTorch gives these no gradient: the result never requires grad
        check_tensor(input, name)
        return wrapped(input.detach(), out=out)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


bessel_j0 = _not_differentiable(BesselJ0, "bessel_j0", "The Bessel function of the first kind, order 0.")
bessel_j1 = _not_differentiable(BesselJ1, "bessel_j1", "The Bessel function of the first kind, order 1.")
erfcx = _public(Erfcx, "erfcx", "The scaled complementary error function ``exp(x**2) * erfc(x)``.")
ndtr = _public(Ndtr, "ndtr", "The standard normal cumulative distribution function.")
ndtri = _public(Ndtri, "ndtri", "The inverse of :func:`ndtr` (the standard normal quantile function).")
log_ndtr = _public(LogNdtr, "log_ndtr", "``log(ndtr(x))``, accurate far into the lower tail.")
sinc = _public(Sinc, "sinc", "The normalised sinc function ``sin(pi x) / (pi x)`` (1 at 0).")
entr = _public(Entr, "entr", "Elementwise entropy ``-x * log(x)`` (0 at 0, -inf for x < 0).")


def xlog1py(input, other, *, out=None):
    """``input * log1p(other)``, defined as 0 where ``input == 0`` (unless ``other`` is nan)."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError("xlog1py(): expected at least one of input and other to be a Tensor")
    return _maybe_out(Xlog1py.apply(input, other), out)


def zeta(input, other, *, out=None):
    """The Hurwitz zeta function ``sum_k (k + other) ** -input``."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError("zeta(): expected at least one of input and other to be a Tensor")
    return _maybe_out(Zeta.apply(input, other), out)


def expit(input, *, out=None):
    """The logistic sigmoid ``1 / (1 + exp(-x))``."""
    check_tensor(input, "expit")
    return _maybe_out(sigmoid(input), out)


def multigammaln(input, p, *, out=None):
    """The multivariate log-gamma function of dimension ``p``."""
    check_tensor(input, "multigammaln")
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    if input._data.dtype.kind not in "fc":
        input = input.to(_FROM_NP[_float_np(input._data)])
    from .reduction import sum as _sum

    offsets = Tensor._make(xp_of(input._data).arange(p, dtype=input._data.dtype) * -0.5)
    terms = (input.unsqueeze(-1) + offsets).lgamma()
    result = _sum(terms, -1) + p * (p - 1) / 4 * math.log(math.pi)
    return _maybe_out(result, out)


mvlgamma = multigammaln


def _mvlgamma_method(self, p):
    """``mvlgamma(self, p)``."""
    return multigammaln(self, p)


i0_ = _inplace(i0)
sinc_ = _inplace(sinc)


def _mvlgamma_inplace(self, p):
    """In-place version of :meth:`mvlgamma`."""
    return apply_inplace(self, multigammaln(inplace_source(self), p))


bind(i0=i0, i0_=i0_, sinc=sinc, sinc_=sinc_, mvlgamma=_mvlgamma_method, mvlgamma_=_mvlgamma_inplace)

__all__ = ["i0", "i0_", "sinc", "sinc_", "mvlgamma"]
