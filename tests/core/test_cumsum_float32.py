"""A float32 cumsum as PyTorch's CPU one: a double accumulator, each running value rounded once (the compiled
pass for large arrays, the optional numba extra), along any dimension; its gradient unchanged."""

import numpy as np
import pytest

import ember
from ember import _fast

pytestmark = pytest.mark.skipif(_fast.kernels() is None, reason="numba (the ember[fast] extra) is not installed")


@pytest.mark.parametrize("shape, dim", [((1 << 18,), 0), ((64, 4096), 1), ((64, 4096), 0), ((4, 256, 256), 1),
                                        ((4, 256, 256), -1)])
def test_double_accumulator_rounded_once(shape, dim):
    x = (np.random.default_rng(0).standard_normal(shape) * 100).astype(np.float32)
    assert x.size >= _fast.MAP_MIN  # the compiled path
    got = ember.cumsum(ember.tensor(x), dim)
    want = np.cumsum(x.astype(np.float64), axis=dim).astype(np.float32)  # sequential float64 sums, one rounding
    assert got.dtype == ember.float32 and got.numpy().flags.c_contiguous
    np.testing.assert_array_equal(got.numpy(), want)


def test_gradient_is_the_reversed_cumsum():
    x = ember.tensor(np.ones((2, 1 << 17), np.float32), requires_grad=True)
    ember.cumsum(x, 1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[0], np.arange(1 << 17, 0, -1, dtype=np.float32))
