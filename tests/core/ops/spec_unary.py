"""Op-table rows for ``ember/ops/unary.py`` and ``ember/ops/rounding.py``.

Domains avoid kinks, poles and branch cuts so that central differences are valid. References are
NumPy, or the standard library (``math.erf``, ``math.lgamma``) vectorised; digamma/polygamma have no
NumPy reference and are checked against recorded values in ``test_unary.py`` (gradients here).
"""

import math

import ember
import numpy as np

from .opspec import OpSpec

_erf = np.vectorize(math.erf, otypes=[np.float64])
_erfc = np.vectorize(math.erfc, otypes=[np.float64])
_lgamma = np.vectorize(math.lgamma, otypes=[np.float64])


def _erfinv(p):
    """Bisection on math.erf: slow but independent of the implementation under test."""
    p = np.asarray(p, dtype=np.float64)
    lo, hi = np.full(p.shape, -6.0), np.full(p.shape, 6.0)
    for _ in range(80):
        mid = (lo + hi) / 2
        below = _erf(mid) < p
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return (lo + hi) / 2


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _away_from_integers(lo, hi, shape=(3, 4)):
    """Values in (lo, hi) at least 0.1 from any integer (rounding ops jump there)."""

    def make(rng):
        base = rng.integers(lo, hi, size=shape).astype(np.float64)
        return [base + rng.uniform(0.1, 0.9, size=shape)]

    return make


def _positive_divisor(rng):
    return [rng.uniform(-4, 4, (3, 4)), rng.choice([-1.0, 1.0], (3, 4)) * rng.uniform(0.6, 2.0, (3, 4))]


def _nonzero_pair(rng):
    return [rng.uniform(0.3, 2, (3, 4)) * rng.choice([-1.0, 1.0], (3, 4)), rng.uniform(-2, 2, (4,))]


POS = (0.5, 2.5)
UNIT = (-0.9, 0.9)

SPECS = [
    OpSpec("exp", ember.exp, np.exp, gradgradcheck=True),
    OpSpec("exp2", ember.exp2, np.exp2, gradgradcheck=True),
    OpSpec("expm1", ember.expm1, np.expm1, gradgradcheck=True),
    OpSpec("log", ember.log, np.log, domain=POS, gradgradcheck=True),
    OpSpec("log2", ember.log2, np.log2, domain=POS, gradgradcheck=True),
    OpSpec("log10", ember.log10, np.log10, domain=POS, gradgradcheck=True),
    OpSpec("log1p", ember.log1p, np.log1p, domain=(-0.5, 2.0), gradgradcheck=True),
    OpSpec("sqrt", ember.sqrt, np.sqrt, domain=POS, gradgradcheck=True),
    OpSpec("rsqrt", ember.rsqrt, lambda a: 1 / np.sqrt(a), domain=POS, gradgradcheck=True),
    OpSpec("reciprocal", ember.reciprocal, np.reciprocal, domain=POS, gradgradcheck=True),
    OpSpec("square", ember.square, np.square, gradgradcheck=True),
    OpSpec("sin", ember.sin, np.sin, gradgradcheck=True),
    OpSpec("cos", ember.cos, np.cos, gradgradcheck=True),
    OpSpec("tan", ember.tan, np.tan, domain=(-1.2, 1.2), gradgradcheck=True),
    OpSpec("asin", ember.asin, np.arcsin, domain=UNIT, gradgradcheck=True),
    OpSpec("arccos", ember.arccos, np.arccos, domain=UNIT, gradgradcheck=True),
    OpSpec("atan", ember.atan, np.arctan, gradgradcheck=True),
    OpSpec("sinh", ember.sinh, np.sinh, gradgradcheck=True),
    OpSpec("cosh", ember.cosh, np.cosh, gradgradcheck=True),
    OpSpec("tanh", ember.tanh, np.tanh, domain=(-3, 3), gradgradcheck=True),
    OpSpec("asinh", ember.asinh, np.arcsinh, gradgradcheck=True),
    OpSpec("acosh", ember.acosh, np.arccosh, domain=(1.2, 3.0), gradgradcheck=True),
    OpSpec("atanh", ember.atanh, np.arctanh, domain=UNIT, gradgradcheck=True),
    OpSpec("sigmoid", ember.sigmoid, _sigmoid, domain=(-4, 4), gradgradcheck=True),
    OpSpec("sigmoid_method", lambda a: a.sigmoid(), _sigmoid, shapes=[(5,)]),
    OpSpec("relu", ember.relu, lambda a: np.maximum(a, 0), gradgradcheck=True),
    OpSpec("relu_large", ember.relu, lambda a: np.maximum(a, 0), shapes=[(80, 80)], gradcheck=False),
    OpSpec("abs", ember.abs, np.abs, gradgradcheck=True),
    OpSpec("abs_operator", lambda a: abs(a), np.abs, shapes=[(4,)]),
    OpSpec("sign", ember.sign, np.sign),
    OpSpec("sgn", ember.sgn, np.sign),
    OpSpec("erf", ember.erf, _erf, domain=(-3, 3), gradgradcheck=True),
    OpSpec("erf_large", ember.erf, _erf, shapes=[(70, 70)], domain=(-6, 6), gradcheck=False),
    OpSpec("erfc", ember.erfc, _erfc, domain=(-3, 3), gradgradcheck=True),
    OpSpec("erfc_tail", ember.erfc, _erfc, domain=(3.5, 8.0), gradcheck=False, atol=1e-20),
    OpSpec("erfinv", ember.erfinv, _erfinv, domain=UNIT, gradgradcheck=True),
    OpSpec("lgamma", ember.lgamma, _lgamma, domain=(0.2, 6.0), gradgradcheck=True),
    OpSpec("lgamma_negative", ember.lgamma, _lgamma, make_inputs=_away_from_integers(-5, 0)),
    OpSpec("digamma", ember.digamma, None, domain=(0.3, 5.0), gradgradcheck=True),
    OpSpec("digamma_negative", ember.digamma, None, make_inputs=_away_from_integers(-4, 0)),
    OpSpec("polygamma_1", lambda a: ember.polygamma(1, a), None, domain=(0.3, 5.0), gradgradcheck=True),
    OpSpec("polygamma_2_method", lambda a: a.polygamma(2), None, make_inputs=_away_from_integers(-3, 3)),
    OpSpec("logit", ember.logit, lambda a: np.log(a / (1 - a)), domain=(0.05, 0.95), gradgradcheck=True),
    OpSpec(
        "logit_eps", lambda a: ember.logit(a, eps=0.2), lambda a: np.log(np.clip(a, 0.2, 0.8) / (1 - np.clip(a, 0.2, 0.8))),
        make_inputs=lambda r: [np.array([0.05, 0.1, 0.3, 0.5, 0.7, 0.9, 0.95])], gradgradcheck=True,
    ),
    OpSpec("nan_to_num", ember.nan_to_num, np.nan_to_num, gradgradcheck=True),
    OpSpec("frac", ember.frac, lambda a: a - np.trunc(a), make_inputs=_away_from_integers(-3, 3)),
    OpSpec("deg2rad", ember.deg2rad, np.deg2rad, domain=(-180, 180), gradgradcheck=True),
    OpSpec("rad2deg", ember.rad2deg, np.rad2deg, gradgradcheck=True, rtol=1e-4, atol=1e-3),
    OpSpec("atan2", ember.atan2, np.arctan2, make_inputs=_nonzero_pair, gradgradcheck=True),
    OpSpec("atan2_0d_other", lambda a: ember.atan2(a, ember.tensor(2.0, dtype=a.dtype)), lambda a: np.arctan2(a, 2.0), gradgradcheck=True),
    OpSpec("hypot", ember.hypot, np.hypot, make_inputs=_nonzero_pair, gradgradcheck=True),
    OpSpec("xlogy", ember.xlogy, lambda a, b: a * np.log(b), make_inputs=lambda r: [r.uniform(-2, 2, (3, 4)), r.uniform(0.5, 3, (4,))], gradgradcheck=True),
    OpSpec("xlogy_scalar_self", lambda b: ember.xlogy(2.0, b), lambda b: 2.0 * np.log(b), domain=POS, gradgradcheck=True),
    # rounding.py
    OpSpec("floor", ember.floor, np.floor, make_inputs=_away_from_integers(-3, 3)),
    OpSpec("ceil", ember.ceil, np.ceil, make_inputs=_away_from_integers(-3, 3)),
    OpSpec("trunc", ember.trunc, np.trunc, make_inputs=_away_from_integers(-3, 3)),
    OpSpec("fix", ember.fix, np.fix, make_inputs=_away_from_integers(-3, 3)),
    OpSpec("round", ember.round, np.round, make_inputs=_away_from_integers(-3, 3)),
    OpSpec(
        "round_decimals", lambda a: ember.round(a, decimals=1), lambda a: np.round(a, 1),
        make_inputs=lambda r: [np.array([0.12, -1.37, 2.44, 3.01, -0.66])],
    ),
    OpSpec("remainder", ember.remainder, np.remainder, make_inputs=_positive_divisor, gradgradcheck=True),
    OpSpec("remainder_operator_scalar", lambda a: a % 1.5, lambda a: np.remainder(a, 1.5), make_inputs=_away_from_integers(-3, 3)),
    OpSpec("rmod_scalar", lambda b: 5.0 % b, lambda b: np.remainder(5.0, b), make_inputs=lambda r: _positive_divisor(r)[1:]),
    OpSpec("fmod", ember.fmod, np.fmod, make_inputs=_positive_divisor, gradgradcheck=True),
    OpSpec("floor_divide", ember.floor_divide, np.floor_divide, make_inputs=_positive_divisor),
    OpSpec("floordiv_operator", lambda a, b: a // b, np.floor_divide, make_inputs=_positive_divisor),
    OpSpec("div_trunc", lambda a, b: ember.div(a, b, rounding_mode="trunc"), lambda a, b: np.trunc(a / b), make_inputs=_positive_divisor),
    OpSpec("div_floor", lambda a, b: ember.div(a, b, rounding_mode="floor"), lambda a, b: np.floor(a / b), make_inputs=_positive_divisor),
]
