"""Depthwise convolutions (groups = in channels = out channels) through the compiled per-plane loops (the
optional numba extra): output, input gradient and weight gradient equal the general path's (one GEMM per group,
taken with ``EMBER_NO_FAST``) for strides, padding, dilation and kernel sizes of MobileNet, EfficientNet and
ConvNeXt, in float32 and float64, for Conv2d, Conv1d and ConvTranspose2d, and twice differentiable."""

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import _fast

pytestmark = pytest.mark.skipif(_fast.kernels() is None, reason="numba (the ember[fast] extra) is not installed")

CASES = [dict(k=3, stride=1, padding=1), dict(k=3, stride=2, padding=1), dict(k=5, stride=1, padding=2),
         dict(k=7, stride=1, padding=3), dict(k=3, stride=1, padding=2, dilation=2), dict(k=3, stride=2, padding=0),
         dict(k=(3, 5), stride=(2, 1), padding=(1, 2))]


def _run(x, w, b, g, case, dtype):
    case = dict(case)
    case.pop("k")
    xt = ember.tensor(x.astype(dtype), requires_grad=True)
    wt = ember.tensor(w.astype(dtype), requires_grad=True)
    bt = ember.tensor(b.astype(dtype), requires_grad=True)
    y = F.conv2d(xt, wt, bt, groups=x.shape[1], **case)
    y.backward(ember.tensor(g.astype(dtype)))
    return [y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_equals_general_path(case, dtype, monkeypatch):
    rng = np.random.default_rng(0)
    k = case["k"] if isinstance(case["k"], tuple) else (case["k"], case["k"])
    x = rng.standard_normal((4, 12, 17, 19))
    w = rng.standard_normal((12, 1) + k)
    b = rng.standard_normal(12)
    y_shape = F.conv2d(ember.tensor(x), ember.tensor(w), groups=12,
                       **{key: v for key, v in case.items() if key != "k"}).shape
    g = rng.standard_normal(tuple(y_shape))
    got = _run(x, w, b, g, case, dtype)
    monkeypatch.setenv("EMBER_NO_FAST", "1")
    want = _run(x, w, b, g, case, dtype)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    for a, r in zip(got, want):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, r, rtol=tol, atol=tol * max(1.0, float(np.abs(r).max())))


def test_conv1d_and_transposed(monkeypatch):
    rng = np.random.default_rng(1)
    x1, w1 = rng.standard_normal((3, 8, 50)).astype(np.float32), rng.standard_normal((8, 1, 5)).astype(np.float32)
    x2, w2 = rng.standard_normal((2, 6, 9, 11)).astype(np.float32), rng.standard_normal((6, 1, 3, 3)).astype(np.float32)

    def both():
        a = F.conv1d(ember.tensor(x1), ember.tensor(w1), padding=2, groups=8).numpy()
        t = F.conv_transpose2d(ember.tensor(x2), ember.tensor(w2), stride=2, padding=1, output_padding=1, groups=6)
        return a, t.numpy()

    got = both()
    monkeypatch.setenv("EMBER_NO_FAST", "1")
    for a, r in zip(got, both()):
        np.testing.assert_allclose(a, r, rtol=1e-5, atol=1e-5)


def test_second_derivative():
    rng = np.random.default_rng(2)
    x = ember.tensor(rng.standard_normal((2, 4, 7, 8)), requires_grad=True)
    w = ember.tensor(rng.standard_normal((4, 1, 3, 3)), requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda a, b: F.conv2d(a, b, padding=1, stride=2, groups=4), (x, w))
