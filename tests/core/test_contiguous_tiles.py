"""``Tensor.contiguous()`` of large transposed views whose rows lie a multiple of 2 KiB apart (where NumPy's
element-order copy keeps evicting its own cache lines) goes through the compiled tiled copy (the optional
numba extra): the same array, C-contiguous, for merged and unmergeable leading axes and any dtype; other
layouts keep NumPy's copy; the gradient passes through."""

import numpy as np
import pytest

import ember
from ember import _fast

pytestmark = pytest.mark.skipif(_fast.kernels() is None, reason="numba (the ember[fast] extra) is not installed")

CASES = [((1024, 1024), (1, 0), np.float32, True), ((2, 512, 1024), (0, 2, 1), np.float32, True),
         ((4, 3, 256, 512), (1, 0, 3, 2), np.float64, True), ((512, 2048), (1, 0), np.int32, True),
         ((300, 1000), (1, 0), np.float32, False), ((8, 64, 1024), (0, 2, 1), np.float32, False),
         ((1024, 1024), (0, 1), np.float32, False)]


@pytest.mark.parametrize("shape, perm, dtype, tiled", CASES)
def test_copy_equals_numpy(shape, perm, dtype, tiled, monkeypatch):
    calls = []
    original = _fast.kernels().copy_tiles
    monkeypatch.setattr(_fast.kernels(), "copy_tiles", lambda *a: (calls.append(1), original(*a)))
    a = (np.random.default_rng(0).standard_normal(shape) * 100).astype(dtype)
    t = ember.from_numpy(a).permute(*perm)
    got = t.contiguous().numpy()
    assert got.flags.c_contiguous and got.dtype == dtype
    np.testing.assert_array_equal(got, a.transpose(perm))
    assert bool(calls) == tiled


def test_gradient_passes_through():
    x = ember.randn(512, 1024, requires_grad=True)
    g = ember.randn(1024, 512)
    x.t().contiguous().backward(g)
    np.testing.assert_array_equal(x.grad.numpy(), g.numpy().T)
