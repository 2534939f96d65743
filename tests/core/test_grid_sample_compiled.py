"""Bilinear / trilinear grid_sample of float32 arrays through the compiled kernels (the optional numba extra):
the values and gradients of the NumPy path for every padding mode and corner alignment, in 2-D and 3-D, and
taps out of bounds never read the input (a NaN there does not leak)."""

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import _fast

pytestmark = pytest.mark.skipif(_fast.kernels() is None, reason="numba (the ember[fast] extra) is not installed")


def _run(x, grid, weights, **kw):
    xt = ember.tensor(x, requires_grad=True)
    gt = ember.tensor(grid, requires_grad=True)
    y = F.grid_sample(xt, gt, mode="bilinear", **kw)
    (y * ember.tensor(weights)).sum().backward()
    return y.detach().numpy(), xt.grad.numpy(), gt.grad.numpy()


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("shape, out", [((4, 8, 20, 24), (4, 13, 17)), ((2, 3, 6, 10, 12), (2, 5, 7, 9))])
def test_matches_the_numpy_path(padding_mode, align_corners, shape, out, monkeypatch):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    assert x.size >= _fast.MIN_SIZE
    grid = rng.uniform(-1.2, 1.2, out + (len(shape) - 2,)).astype(np.float32)
    weights = rng.standard_normal((shape[0], shape[1]) + out[1:]).astype(np.float32)
    kw = dict(padding_mode=padding_mode, align_corners=align_corners)
    got = _run(x, grid, weights, **kw)
    monkeypatch.setenv("EMBER_NO_FAST", "1")
    want = _run(x, grid, weights, **kw)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5 * max(1.0, float(np.abs(w).max())))


def test_taps_out_of_bounds_read_nothing():
    x = np.ones((2, 4, 32, 32), np.float32)
    x[:, :, 0, 0] = np.nan  # the pixel out-of-bounds taps would point at
    grid = np.full((2, 8, 8, 2), 1.02, np.float32)  # beyond the bottom-right corner: 3 of 4 taps outside
    y = F.grid_sample(ember.tensor(x), ember.tensor(grid), align_corners=True).numpy()
    inside = 1 - ((np.float32(1.02) + 1) / 2 * 31 - 31)  # the weight of pixel (31, 31) along each axis
    np.testing.assert_allclose(y, inside * inside, rtol=1e-5)
