"""Sigmoid, SiLU, LeakyReLU and Hardswish of large float32 arrays through the compiled one-pass kernels (the
optional numba extra): values and gradients (a full gradient and ``sum()``'s broadcast one) within float32
rounding of the float64 definitions, PyTorch's special values (nan, +-inf, -0.0, the saturated ends), and the
NumPy path (``EMBER_NO_FAST``) agreeing with them too."""

import numpy as np
import pytest

import ember
import ember.nn.functional as F


def _inputs():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(8192) * 6).astype(np.float32)
    x[:12] = [np.nan, np.inf, -np.inf, -0.0, 0.0, 3.0, -3.0, 100.0, -100.0, 88.5, -88.5, -1e-30]
    return x


def _sigmoid64(x):
    return 1.0 / (1.0 + np.exp(-x))


CASES = {
    "sigmoid": (ember.sigmoid, _sigmoid64, lambda x: _sigmoid64(x) * (1 - _sigmoid64(x))),
    "silu": (F.silu, lambda x: x * _sigmoid64(x), lambda x: _sigmoid64(x) * (1 + x * (1 - _sigmoid64(x)))),
    "leaky_relu": (lambda t: F.leaky_relu(t, 0.2), lambda x: np.where(x > 0, x, 0.2 * x), lambda x: np.where(x > 0, 1.0, 0.2)),
    "hardswish": (F.hardswish, lambda x: x * np.clip(x + 3, 0, 6) / 6,
                  lambda x: np.where(x <= -3, 0.0, np.where(x < 3, x / 3 + 0.5, 1.0))),
}


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("broadcast_grad", [False, True])
def test_values_and_gradients(name, broadcast_grad, kernel_path):
    fn, f64, d64 = CASES[name]
    x = _inputs()
    g = np.ones_like(x) if broadcast_grad else np.random.default_rng(1).standard_normal(x.shape).astype(np.float32)
    t = ember.tensor(x, requires_grad=True)
    y = fn(t)
    if broadcast_grad:
        y.sum().backward()
    else:
        y.backward(ember.tensor(g))
    with np.errstate(all="ignore"):
        want_y = f64(x.astype(np.float64))
        want_g = g * d64(x.astype(np.float64))
    got_y, got_g = y.detach().numpy(), t.grad.numpy()
    assert got_y.dtype == np.float32 and got_g.dtype == np.float32
    finite = np.isfinite(x)
    np.testing.assert_allclose(got_y[finite], want_y[finite], rtol=2e-6, atol=1e-30)
    np.testing.assert_allclose(got_g[finite], want_g[finite], rtol=2e-6, atol=1e-6)
    # nan stays nan; the infinite ends as PyTorch gives them
    assert np.isnan(got_y[0])
    np.testing.assert_array_equal(got_y[1:3], want_y[1:3].astype(np.float32))
    assert np.signbit(got_y[3]) == (name in ("silu", "leaky_relu", "hardswish"))  # -0.0 kept (sigmoid: 0.5)
