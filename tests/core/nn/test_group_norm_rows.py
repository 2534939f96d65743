"""Group norm taken as rows (the compiled row kernels of the optional numba extra): each (sample, group) is one
contiguous row, each channel's weight and bias applied as one scale and shift. Values and gradients equal the general
path's (the same op on float64 input, rounded) for every affine combination, a broadcast gradient and 2-5-D
inputs; the double backward still goes through the graph."""

import numpy as np
import pytest

import ember
from ember import _fast
from ember.ops import normalization

pytestmark = pytest.mark.skipif(_fast.kernels() is None, reason="numba (the ember[fast] extra) is not installed")


def _run(x, groups, w, b, grad, dtype):
    xt = ember.tensor(x.astype(dtype), requires_grad=True)
    wt = None if w is None else ember.tensor(w.astype(dtype), requires_grad=True)
    bt = None if b is None else ember.tensor(b.astype(dtype), requires_grad=True)
    y = ember.nn.functional.group_norm(xt, groups, wt, bt, eps=1e-5)
    if grad is None:
        y.sum().backward()  # a broadcast gradient
    else:
        y.backward(ember.tensor(grad.astype(dtype)))
    return [y.detach().numpy(), xt.grad.numpy()] + [t.grad.numpy() for t in (wt, bt) if t is not None]


@pytest.mark.parametrize("shape, groups", [((16, 32, 32, 32), 8), ((4, 6, 1000), 3), ((3, 12, 50, 4, 2), 4),
                                           ((2048, 8), 2), ((500, 4, 7), 1), ((500, 4, 7), 4)])
@pytest.mark.parametrize("affine", ["both", "weight", "bias", "none"])
@pytest.mark.parametrize("broadcast_grad", [False, True])
def test_rows_path_matches_float64(shape, groups, affine, broadcast_grad):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal(shape) * 3 + 1).astype(np.float32)
    assert x.size >= _fast.MIN_SIZE  # the rows path (test_rows_path_is_taken)
    C = shape[1]
    w = rng.standard_normal(C).astype(np.float32) if affine in ("both", "weight") else None
    b = rng.standard_normal(C).astype(np.float32) if affine in ("both", "bias") else None
    grad = None if broadcast_grad else rng.standard_normal(shape).astype(np.float32)
    got = _run(x, groups, w, b, grad, np.float32)
    want = _run(x, groups, w, b, grad, np.float64)
    assert all(g.dtype == np.float32 for g in got)
    per_channel = x.size // C  # terms of each parameter gradient's float32 sum
    for i, (g, r) in enumerate(zip(got, want)):
        atol = 2e-5 * max(1.0, float(np.abs(r).max()))
        if i >= 2:
            atol += 1e-7 * per_channel
        np.testing.assert_allclose(g, r, rtol=0, atol=atol)


@pytest.mark.parametrize("offset", [50.0, -200.0])
def test_rows_path_with_a_large_mean_matches_float64(offset):
    # the kernels take per-channel sums of g and g * x and subtract the mean's share after (as PyTorch's)
    rng = np.random.default_rng(2)
    x = (rng.standard_normal((8, 16, 24, 24)) + offset).astype(np.float32)
    w, b = rng.standard_normal(16).astype(np.float32), rng.standard_normal(16).astype(np.float32)
    grad = rng.standard_normal(x.shape).astype(np.float32)
    got = _run(x, 4, w, b, grad, np.float32)
    want = _run(x, 4, w, b, grad, np.float64)
    for g, r in zip(got, want):
        np.testing.assert_allclose(g, r, rtol=0, atol=1e-4 * max(1.0, float(np.abs(r).max())))


def test_rows_path_is_taken(monkeypatch):
    seen = []
    original = normalization._fast_forward

    def spy(ctx, x, weight, bias, spec):
        seen.append(spec.groups)
        return original(ctx, x, weight, bias, spec)

    monkeypatch.setattr(normalization, "_fast_forward", spy)
    ember.nn.functional.group_norm(ember.randn(2, 6, 1024), 3)  # from _fast.MIN_SIZE elements
    assert seen == [(3, 1024)]


def test_double_backward_through_the_graph():
    rng = np.random.default_rng(2)
    x = ember.tensor(rng.standard_normal((3, 6, 4)).astype(np.float32), requires_grad=True)
    w = ember.tensor(rng.standard_normal(6).astype(np.float32), requires_grad=True)
    y = ember.nn.functional.group_norm(x, 2, w)
    (gx,) = ember.autograd.grad((y * y.detach()).sum(), x, create_graph=True)
    gx.square().sum().backward()
    x64 = ember.tensor(x.detach().numpy().astype(np.float64), requires_grad=True)
    w64 = ember.tensor(w.detach().numpy().astype(np.float64), requires_grad=True)
    y64 = ember.nn.functional.group_norm(x64, 2, w64)
    (g64,) = ember.autograd.grad((y64 * y64.detach()).sum(), x64, create_graph=True)
    g64.square().sum().backward()
    np.testing.assert_allclose(gx.detach().numpy(), g64.detach().numpy(), atol=1e-4)
    np.testing.assert_allclose(x.grad.numpy(), x64.grad.numpy(), atol=1e-3)
    np.testing.assert_allclose(w.grad.numpy(), w64.grad.numpy(), atol=1e-3)
