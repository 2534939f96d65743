"""Reparameterised gamma samples: ``x ~ Gamma(alpha, 1)`` with the implicit gradient
``dx/dalpha = -(dP(alpha, x)/dalpha) / p(x; alpha)`` (P: the regularised lower incomplete gamma function,
p: the density), as in Figurnov et al., "Implicit Reparameterization Gradients" (2018).

dP/dalpha comes from the power series of P (differentiated term by term) for x < alpha + 1 and from the
continued fraction of Q = 1 - P (Lentz's method; derivative by central differences) beyond."""

from __future__ import annotations

from .. import backend
from ..autograd.function import Primitive, once_differentiable
from ..ops.incomplete_gamma import _continued_fraction, _series_terms
from ..ops.unary import _polygamma
from ..tensor import Tensor

def standard_gamma_grad(alpha, x):
    """dx/dalpha for x ~ Gamma(alpha, 1), on float64 arrays of one shape."""
    xp = backend.array_module(alpha)
    use_series = x < alpha + 1.0
    log_x = xp.log(x)
    a_s, x_s = xp.where(use_series, alpha, 1.0), xp.where(use_series, x, 0.5)
    s, ds = _series_terms(xp, a_s, x_s)
    grad_series = -((xp.log(x_s) - _polygamma(xp, 0, a_s + 1.0)) * s + ds) * x_s / a_s
    out = grad_series
    if not bool(use_series.all()):
        a_c, x_c = xp.where(use_series, 2.0, alpha), xp.where(use_series, 4.0, x)
        h = 1e-5 * xp.maximum(a_c, 1.0)
        cf = _continued_fraction(xp, a_c, x_c)
        dcf = (_continued_fraction(xp, a_c + h, x_c) - _continued_fraction(xp, a_c - h, x_c)) / (2 * h)
        grad_cf = x_c * ((xp.log(x_c) - _polygamma(xp, 0, a_c)) * cf + dcf)
        out = xp.where(use_series, grad_series, grad_cf)
    del log_x
    return out


class StandardGammaRsample(Primitive):
    """Draws ``x ~ Gamma(alpha, 1)`` (array-module generator); backward uses the implicit gradient."""

    @staticmethod
    def forward(ctx, alpha, shape, rng):
        from .._compat import finfo

        arr = alpha._data
        xp = backend.array_module(arr)
        draws = rng.standard_gamma(xp.broadcast_to(arr, shape), size=shape).astype(arr.dtype, copy=False)
        draws = xp.maximum(draws, finfo(Tensor._make(arr).dtype).tiny)
        ctx.save_for_backward(alpha)
        ctx.x = draws
        return draws

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        (alpha,) = ctx.saved_tensors
        xp = backend.array_module(ctx.x)
        a = xp.broadcast_to(alpha._data, ctx.x.shape).astype("float64")
        g = standard_gamma_grad(a, ctx.x.astype("float64")).astype(ctx.x.dtype)
        return Tensor._make(grad._data * g), None, None
