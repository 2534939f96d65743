"""Op-table rows for ``ember/ops/elementwise.py``, ``broadcast.py``, ``reduction.py`` (sum/mean) and ``shape.py`` (reshape/view)."""

import numpy as np

import ember

from .opspec import OpSpec


def _positive(lo=0.5, hi=2.0):
    return (lo, hi)


SPECS = [
    OpSpec("add", ember.add, np.add, [(3, 4), (3, 4)], gradgradcheck=True),
    OpSpec("add_broadcast", ember.add, np.add, [(3, 1), (4,)], gradgradcheck=True),
    OpSpec("add_alpha", lambda a, b: ember.add(a, b, alpha=2.5), lambda a, b: a + 2.5 * b, [(2, 3), (2, 3)]),
    OpSpec("add_scalar", lambda a: a + 1.5, lambda a: a + 1.5, [(5,)]),
    OpSpec("radd_scalar", lambda a: 1.5 + a, lambda a: a + 1.5, [(5,)]),
    OpSpec("sub", ember.sub, np.subtract, [(2, 3, 4), (3, 1)], gradgradcheck=True),
    OpSpec("rsub_scalar", lambda a: 2.0 - a, lambda a: 2.0 - a, [(4,)]),
    OpSpec("mul", ember.mul, np.multiply, [(3, 4), (3, 4)], gradgradcheck=True),
    OpSpec("mul_broadcast", ember.mul, np.multiply, [(2, 1, 4), (3, 1)], gradgradcheck=True),
    OpSpec("mul_scalar", lambda a: a * 3.0, lambda a: a * 3.0, [(3,)], gradgradcheck=True),
    OpSpec("div", ember.div, np.divide, [(3, 4), (3, 4)], make_inputs=lambda r: [r.uniform(-2, 2, (3, 4)), r.uniform(0.5, 2, (3, 4))], gradgradcheck=True),
    OpSpec("rdiv_scalar", lambda a: 2.0 / a, lambda a: 2.0 / a, domain=_positive(), shapes=[(4,)], gradgradcheck=True),
    OpSpec("neg", ember.neg, np.negative, [(3, 2)], gradgradcheck=True),
    OpSpec("pow_scalar", lambda a: a ** 3, lambda a: a ** 3, [(3, 4)], gradgradcheck=True),
    OpSpec("pow_tensor", ember.pow, np.power, [(3, 4), (3, 4)], make_inputs=lambda r: [r.uniform(0.5, 2, (3, 4)), r.uniform(-1, 2, (3, 4))], gradgradcheck=True),
    OpSpec("rpow_scalar", lambda a: 2.0 ** a, lambda a: 2.0 ** a, [(4,)], gradgradcheck=True),
    OpSpec("clone", ember.clone, np.copy, [(2, 3)]),
    OpSpec("sum_all", ember.sum, np.sum, [(3, 4)], gradgradcheck=True),
    OpSpec("sum_dim", lambda a: ember.sum(a, dim=1), lambda a: a.sum(axis=1), [(3, 4, 2)]),
    OpSpec("sum_dims_keepdim", lambda a: a.sum((0, 2), keepdim=True), lambda a: a.sum(axis=(0, 2), keepdims=True), [(3, 4, 2)]),
    OpSpec("mean_all", ember.mean, np.mean, [(3, 4)], gradgradcheck=True),
    OpSpec("mean_dim", lambda a: a.mean(-1), lambda a: a.mean(axis=-1), [(3, 4)]),
    OpSpec("reshape", lambda a: a.reshape(4, -1), lambda a: a.reshape(4, -1), [(2, 3, 4)]),
    OpSpec("view", lambda a: a.view(6, 4), lambda a: a.reshape(6, 4), [(2, 3, 4)]),
    OpSpec("expand", lambda a: a.expand(3, 2, 4), lambda a: np.broadcast_to(a, (3, 2, 4)), [(2, 1)]),
    OpSpec("sum_to_size", lambda a: a.sum_to_size(1, 4), lambda a: a.sum(axis=0, keepdims=True), [(3, 4)]),
    # float32 round-trip: forward only (finite differences cannot resolve float32 rounding); its backward is tested in test_tensor.py
    OpSpec("to_float32_and_back", lambda a: a.float().double() * 2, lambda a: a.astype(np.float32).astype(np.float64) * 2, [(3,)], gradcheck=False),
]
