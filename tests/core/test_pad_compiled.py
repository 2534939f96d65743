"""Reflect / replicate / circular padding of float32 arrays by the compiled pass (the optional numba extra):
the same values as the general path (``_AxisTaps`` gathers, taken here by float64 input) for 1-3 padded
dimensions and circular cropping; gradients by the compiled adjoint (``unpad_rows``) as by the axis-by-axis
scatter, for a full and a broadcast gradient, and second derivatives through both."""

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import _fast

pytestmark = pytest.mark.skipif(_fast.kernels() is None, reason="numba (the ember[fast] extra) is not installed")

CASES = [((4, 8, 200), (3, 5)), ((2, 8, 40, 33), (3, 3, 2, 1)), ((2, 3, 6, 20, 21), (1, 2, 3, 0, 2, 2)),
         ((8, 40, 33), (0, 4, 5, 0)), ((2, 8, 40, 33), (0, 0, 4, 4))]


def _pad(x, pads, mode, dtype, grad=None):
    xt = ember.tensor(x.astype(dtype), requires_grad=True)
    y = F.pad(xt, pads, mode=mode)
    y.backward(ember.tensor(grad.astype(dtype)))
    return y.detach().numpy(), xt.grad.numpy()


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape, pads", CASES)
def test_values_and_gradient_match_the_general_path(mode, shape, pads, monkeypatch):
    from ember import _fast_pad  # (numba: imported only where the test runs)

    calls, unpad_calls = [], []
    original, original_unpad = _fast_pad.pad_rows, _fast_pad.unpad_rows
    monkeypatch.setattr(_fast_pad, "pad_rows", lambda *a: (calls.append(1), original(*a)))
    monkeypatch.setattr(_fast_pad, "unpad_rows", lambda *a: (unpad_calls.append(1), original_unpad(*a)))
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    want_shape = list(shape)
    for i in range(len(pads) // 2):
        want_shape[-1 - i] += pads[2 * i] + pads[2 * i + 1]
    grad = rng.standard_normal(want_shape).astype(np.float32)
    y32, g32 = _pad(x, pads, mode, np.float32, grad)
    y64, g64 = _pad(x, pads, mode, np.float64, grad)
    assert calls == [1] and unpad_calls == [1] and y32.dtype == np.float32 and list(y32.shape) == want_shape
    np.testing.assert_array_equal(y32, y64.astype(np.float32))  # copies: exact
    np.testing.assert_allclose(g32, g64, rtol=1e-6, atol=1e-6)


def test_circular_cropping_pads_the_cropped_tensor():
    x = np.random.default_rng(1).standard_normal((2, 3, 50, 40)).astype(np.float32)
    got = F.pad(ember.tensor(x), (3, -2, -4, 5), mode="circular").numpy()
    want = F.pad(ember.tensor(x.astype(np.float64)), (3, -2, -4, 5), mode="circular").numpy()
    np.testing.assert_array_equal(got, want.astype(np.float32))


def test_second_derivative():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 4, 30, 40)).astype(np.float32)
    results = []
    for dtype in (np.float32, np.float64):
        xt = ember.tensor(x.astype(dtype), requires_grad=True)
        y = F.pad(xt, (2, 3, 1, 4), mode="reflect")
        (g,) = ember.autograd.grad((y * y).sum(), xt, create_graph=True)
        (g * g).sum().backward()
        results.append((g.detach().numpy(), xt.grad.numpy()))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_a_broadcast_gradient_folds_back_as_the_general_path(mode):
    x = np.random.default_rng(3).standard_normal((3, 5, 12, 14)).astype(np.float32)
    grads = []
    for dtype in (np.float32, np.float64):
        xt = ember.tensor(x.astype(dtype), requires_grad=True)
        (F.pad(xt, (3, 2, 4, 1), mode=mode) * 2).sum().backward()  # the gradient: a broadcast value
        grads.append(xt.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=0, atol=1e-6)
    assert grads[0].max() > 2  # padded positions counted more than once


def test_second_derivative_where_the_rows_are_cropped_takes_the_axis_by_axis_fold():
    x = np.random.default_rng(4).standard_normal((2, 3, 20, 16)).astype(np.float32)
    results = []
    for dtype in (np.float32, np.float64):
        xt = ember.tensor(x.astype(dtype), requires_grad=True)
        y = F.pad(xt, (2, 3, -3, 4), mode="replicate")
        (g,) = ember.autograd.grad((y * y).sum(), xt, create_graph=True)
        (g * g).sum().backward()
        results.append((y.detach().numpy(), g.detach().numpy(), xt.grad.numpy()))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-4)
