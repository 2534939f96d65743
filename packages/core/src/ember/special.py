"""``ember.special``: PyTorch's ``torch.special`` namespace (special functions, computed without SciPy)."""

from .ops.activation import log_softmax as _log_softmax
from .ops.activation import softmax as _softmax
from .ops.reduction import logsumexp
from .ops.rounding import round
from .ops.incomplete_gamma import gammainc, gammaincc
from .ops.special import (
    bessel_j0,
    bessel_j1,
    entr,
    erfcx,
    expit,
    i0,
    i0e,
    i1,
    i1e,
    log_ndtr,
    multigammaln,
    ndtr,
    ndtri,
    sinc,
    xlog1py,
    zeta,
)
from .ops.unary import digamma, erf, erfc, erfinv, exp2, expm1, lgamma, log1p, logit, polygamma, xlogy

gammaln = lgamma
psi = digamma


def softmax(input, dim, *, dtype=None):
    """Softmax over ``dim`` (optionally computed in ``dtype``)."""
    return _softmax(input, dim, dtype=dtype)


def log_softmax(input, dim, *, dtype=None):
    """Log-softmax over ``dim`` (optionally computed in ``dtype``)."""
    return _log_softmax(input, dim, dtype=dtype)


__all__ = [
    "bessel_j0", "bessel_j1", "digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1",
    "gammainc", "gammaincc", "gammaln", "i0", "i0e", "i1", "i1e", "log1p", "log_ndtr", "log_softmax", "logit", "logsumexp",
    "multigammaln", "ndtr", "ndtri", "polygamma", "psi", "round", "sinc", "softmax", "xlog1py", "xlogy",
    "zeta",
]
