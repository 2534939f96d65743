"""Double backward (create_graph=True) through normalization and pooling: float64 gradgradchecks and
gradient-penalty values recorded from PyTorch (fixtures/record_double_backward.py)."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.autograd import gradcheck, gradgradcheck

REF = np.load(pathlib.Path(__file__).parent / "fixtures" / "double_backward_ref.npz")
RM, RV = ember.tensor(REF["rm"]), ember.tensor(REF["rv"])

CASES = {
    "batch_norm_train": ("x4", "w4", "b4", lambda x, w, b: F.batch_norm(x, None, None, w, b, True)),
    "batch_norm_eval": ("x4", "w4", "b4", lambda x, w, b: F.batch_norm(x, RM, RV, w, b, False)),
    "instance_norm": ("x4", "w4", "b4", lambda x, w, b: F.instance_norm(x, weight=w, bias=b)),
    "group_norm": ("x4", "w4", "b4", lambda x, w, b: F.group_norm(x, 2, w, b)),
    "layer_norm": ("x4", "w6", "b6", lambda x, w, b: F.layer_norm(x, (6,), w, b)),
    "rms_norm": ("x4", "w6", None, lambda x, w, b: F.rms_norm(x, (6,), w)),
    "max_pool2d": ("x4", None, None, lambda x, w, b: F.max_pool2d(x * x, 3, 2, 1, ceil_mode=True)),
    "avg_pool2d": ("x4", None, None, lambda x, w, b: F.avg_pool2d(x * x, 3, 2, 1, count_include_pad=False)),
    "adaptive_avg_pool2d": ("x4", None, None, lambda x, w, b: F.adaptive_avg_pool2d(x * x, (3, 4))),
    "adaptive_max_pool2d": ("x4", None, None, lambda x, w, b: F.adaptive_max_pool2d(x * x, (3, 4))),
    "max_pool3d": ("x5", None, None, lambda x, w, b: F.max_pool3d(x * x, 2, 1, 1)),
    "avg_pool3d": ("x5", None, None, lambda x, w, b: F.avg_pool3d(x * x, 2, (1, 2, 2), ceil_mode=True)),
    "adaptive_avg_pool3d": ("x5", None, None, lambda x, w, b: F.adaptive_avg_pool3d(x * x, (3, 2, 4))),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_penalty_matches_pytorch(name):
    xk, wk, bk, f = CASES[name]
    x = ember.tensor(REF[xk], requires_grad=True)
    w = None if wk is None else ember.tensor(REF[wk], requires_grad=True)
    b = None if bk is None else ember.tensor(REF[bk], requires_grad=True)
    y = f(x, w, b)
    (gx,) = ember.autograd.grad((y * ember.tensor(REF[f"{name}/c"])).sum(), [x], create_graph=True)
    p = (ember.tensor(REF[f"{name}/c2"]) * gx * gx).sum()
    np.testing.assert_allclose(p.item(), REF[f"{name}/p"], rtol=1e-10)
    leaves = [t for t in (x, w, b) if t is not None]
    grads = ember.autograd.grad(p, leaves, allow_unused=True)
    for key, g, t in zip(("gx", "gw", "gb"), grads, leaves):
        got = np.zeros(tuple(t.shape)) if g is None else g.numpy()
        np.testing.assert_allclose(got, REF[f"{name}/{key}"], rtol=1e-9, atol=1e-10, err_msg=key)


def _r(*shape, seed=0):
    return ember.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


@pytest.mark.parametrize("f, shapes", [
    (lambda x, w, b: F.batch_norm(x, None, None, w, b, True), [(3, 4, 5), (4,), (4,)]),
    (lambda x, w, b: F.batch_norm(x, ember.zeros(4, dtype=ember.float64), ember.ones(4, dtype=ember.float64) * 2, w, b, False),
     [(3, 4, 5), (4,), (4,)]),
    (lambda x, w, b: F.instance_norm(x, weight=w, bias=b), [(2, 4, 5), (4,), (4,)]),
    (lambda x, w, b: F.group_norm(x, 2, w, b), [(2, 4, 3), (4,), (4,)]),
    (lambda x, w, b: F.layer_norm(x, (5,), w, b), [(3, 4, 5), (5,), (5,)]),
    (lambda x, w: F.rms_norm(x, (5,), w), [(3, 4, 5), (5,)]),
    (lambda x: F.layer_norm(x, (4, 5)), [(3, 4, 5)]),
])
def test_gradgradcheck_normalization(f, shapes):
    inputs = [_r(*s, seed=i) for i, s in enumerate(shapes)]
    assert gradcheck(f, inputs)
    assert gradgradcheck(f, inputs)


_X4 = np.random.default_rng(1).permutation(2 * 5 * 6).reshape(1, 2, 5, 6) / 7.0  # distinct: no ties
_X5 = np.random.default_rng(2).permutation(2 * 4 * 5 * 5).reshape(1, 2, 4, 5, 5) / 7.0


@pytest.mark.parametrize("f, data", [
    (lambda a: F.max_pool2d(a, 3, 2, 1, ceil_mode=True), _X4),
    (lambda a: F.max_pool1d(a[0], 2), _X4),
    (lambda a: F.avg_pool2d(a, 3, 2, 1, count_include_pad=False), _X4),
    (lambda a: F.adaptive_avg_pool2d(a, (3, 4)), _X4),
    (lambda a: F.adaptive_max_pool2d(a, (3, 4)), _X4),
    (lambda a: F.max_unpool2d(*F.max_pool2d(a, 2, return_indices=True), 2, output_size=(5, 6)), _X4),
    (lambda a: F.max_pool3d(a, 2, 1, 1), _X5),
    (lambda a: F.avg_pool3d(a, 2, (1, 2, 2), ceil_mode=True, divisor_override=3), _X5),
    (lambda a: F.adaptive_avg_pool3d(a, (3, 2, 4)), _X5),
    (lambda a: F.adaptive_max_pool3d(a, (3, 2, 4)), _X5),
    (lambda a: F.max_unpool3d(*F.max_pool3d(a, 2, return_indices=True), 2, output_size=(4, 5, 5)), _X5),
])
def test_gradgradcheck_pooling(f, data):
    x = ember.tensor(data, requires_grad=True)
    assert gradgradcheck(f, [x])


def test_first_order_gradients_equal_with_and_without_create_graph():
    x = _r(2, 4, 5, 6)
    w = _r(4, seed=1)
    for f in (lambda: F.batch_norm(x, None, None, w, None, True), lambda: F.max_pool2d(x, 3, 2, 1),
              lambda: F.avg_pool2d(x, 2), lambda: F.group_norm(x, 2, w)):
        c = ember.tensor(np.random.default_rng(5).standard_normal(tuple(f().shape)))
        fast = ember.autograd.grad((f() * c).sum(), [x])[0]
        graph = ember.autograd.grad((f() * c).sum(), [x], create_graph=True)[0]
        assert fast.grad_fn is None
        np.testing.assert_allclose(graph.detach().numpy(), fast.numpy(), rtol=1e-10, atol=1e-12)
