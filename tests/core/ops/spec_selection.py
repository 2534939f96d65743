"""Op-table rows for ``ember/ops/selection.py``.

Inputs keep clear of ties and clamp bounds (gradients jump there); ties and bounds are checked with
exact values in ``test_selection.py``.
"""

import ember
import numpy as np

from .opspec import OpSpec


def _cond_pair(rng):
    return [rng.uniform(-1, 1, (3, 4)), rng.uniform(-2, 2, (3, 4)), rng.uniform(-2, 2, (4,))]


def _where(c, a, b):
    return ember.where(c > 0, a, b)


def _np_where(c, a, b):
    return np.where(c > 0, a, b)


def _away_from(values, lo=-3.0, hi=3.0, gap=0.05, shape=(3, 4)):
    """Uniform inputs that stay ``gap`` away from each of ``values`` (clamp bounds)."""

    def make(rng):
        x = rng.uniform(lo, hi, size=shape)
        for v in values:
            close = np.abs(x - v) < gap
            x[close] += 2 * gap
        return [x]

    return make


def _distinct(rng):
    a = rng.uniform(-2, 2, (3, 4))
    b = rng.uniform(-2, 2, (3, 4))
    b[np.abs(a - b) < 0.05] += 0.2
    return [a, b]


def _bounds(rng):
    x = rng.uniform(-3, 3, (3, 4))
    lo = rng.uniform(-1.5, -0.5, (4,))
    hi = rng.uniform(0.5, 1.5, (3, 1))
    x[np.abs(x - lo) < 0.05] += 0.2
    x[np.abs(x - hi) < 0.05] += 0.2
    return [x, lo, hi]


def _clip(x, lo, hi):
    return np.minimum(np.maximum(x, lo), hi)


SPECS = [
    OpSpec("where", _where, _np_where, make_inputs=_cond_pair, differentiable=(1, 2), gradgradcheck=True),
    OpSpec("where_scalar_other", lambda c, a: ember.where(c > 0, a, 0.5), lambda c, a: np.where(c > 0, a, 0.5),
           make_inputs=lambda r: _cond_pair(r)[:2], differentiable=(1,), gradgradcheck=True),
    OpSpec("where_scalar_input", lambda c, b: ember.where(c > 0, -1.0, b), lambda c, b: np.where(c > 0, -1.0, b),
           make_inputs=lambda r: _cond_pair(r)[:2], differentiable=(1,)),
    OpSpec("where_method", lambda c, a, b: a.where(c > 0, b), _np_where, make_inputs=_cond_pair, differentiable=(1, 2)),
    OpSpec("where_large", _where, _np_where, make_inputs=lambda r: [r.uniform(-1, 1, (70, 70)), r.uniform(-2, 2, (70, 70)), r.uniform(-2, 2, (70,))],
           gradcheck=False),
    OpSpec("clamp", lambda a: ember.clamp(a, -1.0, 1.0), lambda a: np.clip(a, -1, 1), make_inputs=_away_from((-1, 1)), gradgradcheck=True),
    OpSpec("clamp_large", lambda a: ember.clamp(a, -1.0, 1.0), lambda a: np.clip(a, -1, 1), shapes=[(70, 70)], gradcheck=False),
    OpSpec("clamp_min", lambda a: ember.clamp(a, min=0.5), lambda a: np.maximum(a, 0.5), make_inputs=_away_from((0.5,))),
    OpSpec("clamp_max_method", lambda a: a.clamp(max=0.5), lambda a: np.minimum(a, 0.5), make_inputs=_away_from((0.5,))),
    OpSpec("clip", lambda a: ember.clip(a, -0.5, 2), lambda a: np.clip(a, -0.5, 2), make_inputs=_away_from((-0.5, 2))),
    OpSpec("clamp_min_fn", lambda a: ember.clamp_min(a, 0.0), lambda a: np.maximum(a, 0), make_inputs=_away_from((0,))),
    OpSpec("clamp_max_fn", lambda a: ember.clamp_max(a, 0.0), lambda a: np.minimum(a, 0), make_inputs=_away_from((0,))),
    OpSpec("clamp_tensor_bounds", ember.clamp, _clip, make_inputs=_bounds, gradgradcheck=True),
    OpSpec("clamp_tensor_min", lambda x, lo: ember.clamp(x, min=lo), np.maximum, make_inputs=lambda r: _bounds(r)[:2]),
    OpSpec("clamp_tensor_max", lambda x, hi: ember.clamp(x, max=hi), np.minimum, make_inputs=lambda r: [_bounds(r)[0], _bounds(r)[2]]),
    OpSpec("maximum", ember.maximum, np.maximum, make_inputs=_distinct, gradgradcheck=True),
    OpSpec("minimum", ember.minimum, np.minimum, make_inputs=_distinct, gradgradcheck=True),
    OpSpec("maximum_broadcast", ember.maximum, np.maximum, make_inputs=lambda r: [r.uniform(-2, 2, (3, 4)), r.uniform(-2, 2, (4,)) + 0.01]),
    OpSpec("fmax", ember.fmax, np.fmax, make_inputs=_distinct, gradgradcheck=True),
    OpSpec("fmin", ember.fmin, np.fmin, make_inputs=_distinct, gradgradcheck=True),
    OpSpec("lerp_scalar_low", lambda a, b: ember.lerp(a, b, 0.3), lambda a, b: a + 0.3 * (b - a), [(3, 4), (3, 4)], gradgradcheck=True),
    OpSpec("lerp_scalar_high", lambda a, b: ember.lerp(a, b, 0.8), lambda a, b: a + 0.8 * (b - a), [(3, 4), (4,)], gradgradcheck=True),
    OpSpec("lerp_tensor_weight", ember.lerp, lambda a, b, w: a + w * (b - a), [(3, 4), (3, 4), (3, 4)], domain=(-1.0, 1.5), gradgradcheck=True),
    OpSpec("addcmul", lambda a, b, c: ember.addcmul(a, b, c, value=0.5), lambda a, b, c: a + 0.5 * b * c, [(3, 4), (4,), (3, 1)], gradgradcheck=True),
    OpSpec("addcmul_method", lambda a, b, c: a.addcmul(b, c), lambda a, b, c: a + b * c, [(2, 3), (2, 3), (2, 3)]),
    OpSpec("addcdiv", lambda a, b, c: ember.addcdiv(a, b, c, value=-2), lambda a, b, c: a - 2 * b / c,
           make_inputs=lambda r: [r.uniform(-2, 2, (3, 4)), r.uniform(-2, 2, (3, 4)), r.uniform(0.5, 2, (4,))], gradgradcheck=True),
    OpSpec("copysign", ember.copysign, np.copysign, make_inputs=lambda r: [r.uniform(0.2, 2, (3, 4)) * r.choice([-1.0, 1.0], (3, 4)), r.uniform(-2, 2, (3, 4))],
           gradgradcheck=True),
    OpSpec("copysign_scalar", lambda a: ember.copysign(a, -1.0), lambda a: np.copysign(a, -1.0), gradgradcheck=True),
]
