"""The regularised incomplete gamma functions P(a, x) and Q(a, x) = 1 - P(a, x) (``special.gammainc`` /
``gammaincc``, ``igamma`` / ``igammac``): the power series of P for x < a + 1 and the continued fraction of Q
(modified Lentz) beyond, iterated on whole arrays until every element has converged."""

from __future__ import annotations

import math

import numpy

from ..autograd.function import Primitive
from ..tensor import Tensor
from ._common import bind, xp_of
from .elementwise import _maybe_out
from .unary import _float_binary_arrays, _lgamma, _operands, _quiet, _save_operands, exp

_EPS = 1e-16
_MAX_ITER = 5000


def _series_terms(xp, a, x):
    """S = sum_n x^n / ((a+1)...(a+n)) and dS/da, iterated until every element converged."""
    t = xp.ones_like(x)
    dt = xp.zeros_like(x)
    s, ds = t.copy(), dt.copy()
    for n in range(1, _MAX_ITER):
        r = x / (a + n)
        dt = r * (dt - t / (a + n))
        t = t * r
        s += t
        ds += dt
        if not bool((xp.abs(t) > _EPS * xp.abs(s)).any()):
            break
    return s, ds


def _continued_fraction(xp, a, x):
    """h with Q(a, x) = exp(-x) x^a / Gamma(a) * h (modified Lentz), for x >= a + 1."""
    tiny = 1e-300
    b = x + 1.0 - a
    c = xp.full_like(x, 1.0 / tiny)
    d = 1.0 / b
    h = d.copy()
    for i in range(1, _MAX_ITER):
        an = -i * (i - a)
        b = b + 2.0
        d = an * d + b
        d = xp.where(xp.abs(d) < tiny, tiny, d)
        c = b + an / c
        c = xp.where(xp.abs(c) < tiny, tiny, c)
        d = 1.0 / d
        delta = d * c
        h = h * delta
        if not bool((xp.abs(delta - 1.0) > 1e-15).any()):  # (rounding keeps |delta - 1| near 2e-16)
            break
    return h


def _gammainc64(xp, a, x, upper):
    """P(a, x) (or Q = 1 - P when ``upper``) on float64 arrays broadcast together."""
    a, x = xp.broadcast_arrays(a, x)
    series = x < a + 1.0
    ok = (a > 0) & (x > 0) & xp.isfinite(x) & xp.isfinite(a)
    a_s = xp.where(series & ok, a, 1.0)
    x_s = xp.where(series & ok, x, 0.5)
    s, _ = _series_terms(xp, a_s, x_s)
    p_series = xp.exp(-x_s + a_s * xp.log(x_s) - _lgamma(xp, a_s + 1.0)) * s
    out = (1.0 - p_series) if upper else p_series
    if bool((~series & ok).any()):
        a_c = xp.where(~series & ok, a, 2.0)
        x_c = xp.where(~series & ok, x, 4.0)
        q_cf = xp.exp(-x_c + a_c * xp.log(x_c) - _lgamma(xp, a_c)) * _continued_fraction(xp, a_c, x_c)
        out = xp.where(series, out, q_cf if upper else 1.0 - q_cf)
    # PyTorch's edge cases, in its order of precedence (the first that applies wins; nan elsewhere):
    # a < 0 or x < 0: nan; a == 0: the x -> inf limit if x > 0, else nan; x == 0: the x -> 0 limit;
    # a == inf: nan if x == inf, else the x -> 0 limit; x == inf: the x -> inf limit.
    at_zero, at_inf = (1.0, 0.0) if upper else (0.0, 1.0)
    out = xp.where(ok, out, math.nan)
    out = xp.where(xp.isinf(x), at_inf, out)
    out = xp.where(xp.isinf(a), xp.where(xp.isinf(x), math.nan, at_zero), out)
    out = xp.where(x == 0, at_zero, out)
    out = xp.where(a == 0, xp.where(x > 0, at_inf, math.nan), out)
    return xp.where((a < 0) | (x < 0), math.nan, out)


class GammaInc(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a, b, upper):
        x, y = _float_binary_arrays(a, b)
        _save_operands(ctx, a, b)
        ctx.upper = upper
        xp = xp_of(x if not isinstance(x, numpy.generic) else y)
        out = _gammainc64(xp, xp.asarray(x, dtype=numpy.float64), xp.asarray(y, dtype=numpy.float64), upper)
        return out.astype(xp.result_type(x, y), copy=False)

    @staticmethod
    def backward(ctx, grad):
        if ctx.needs_input_grad[0]:
            name = "igammac" if ctx.upper else "igamma"
            raise NotImplementedError(f"the derivative for '{name}: input' is not implemented.")
        a, x = _operands(ctx)
        density = exp(-x + (a - 1) * x.log() - (a.lgamma() if isinstance(a, Tensor) else math.lgamma(a)))
        return None, grad * (-density if ctx.upper else density), None


def gammainc(input, other, *, out=None):
    """The regularised lower incomplete gamma function ``P(input, other)``."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError("gammainc(): expected at least one of input and other to be a Tensor")
    return _maybe_out(GammaInc.apply(input, other, False), out)


def gammaincc(input, other, *, out=None):
    """The regularised upper incomplete gamma function ``Q(input, other) = 1 - P(input, other)``."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError("gammaincc(): expected at least one of input and other to be a Tensor")
    return _maybe_out(GammaInc.apply(input, other, True), out)


igamma, igammac = gammainc, gammaincc

bind(igamma=gammainc, igammac=gammaincc)

__all__ = ["igamma", "igammac"]
