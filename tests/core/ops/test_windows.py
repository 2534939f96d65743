"""``ember/ops/windows.py``: values equal PyTorch's (recorded), dtypes, devices and errors."""

import ember
import numpy as np
import pytest

from ._spectral_ref import REF

NAMES = ["hann", "hamming", "blackman", "bartlett", "kaiser"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("n", [0, 1, 2, 5, 8, 17])
@pytest.mark.parametrize("periodic", [True, False])
def test_windows_match_pytorch(name, n, periodic, device):
    w = getattr(ember, f"{name}_window")(n, periodic=periodic, device=device)
    assert w.dtype == ember.float32 and w.shape == (n,) and w.device.type == device
    np.testing.assert_allclose(w.cpu().numpy(), REF[f"win/{name}/{n}/{int(periodic)}"], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_float64_windows(name):
    w = getattr(ember, f"{name}_window")(9, dtype=ember.float64)
    assert w.dtype == ember.float64
    np.testing.assert_allclose(w.numpy(), REF[f"win/{name}/f64"], rtol=1e-12, atol=1e-14)


def test_kaiser_beta_and_hamming_coefficients():
    np.testing.assert_allclose(ember.kaiser_window(10, periodic=False, beta=5.0).numpy(), REF["win/kaiser_beta5"], rtol=1e-6)
    np.testing.assert_allclose(ember.hamming_window(10, True, 0.6, 0.3).numpy(), REF["win/hamming_ab"], rtol=1e-6)


def test_periodic_is_the_symmetric_window_one_longer_without_its_last_sample():
    np.testing.assert_allclose(ember.hann_window(8).numpy(), ember.hann_window(9, periodic=False).numpy()[:8])


def test_requires_grad_and_errors():
    assert ember.hann_window(4, requires_grad=True).requires_grad
    with pytest.raises(RuntimeError, match=r"hann_window requires non-negative window_length, got window_length=-1"):
        ember.hann_window(-1)
    with pytest.raises(RuntimeError, match=r"kaiser_window expects floating point dtypes, got: TensorOptions\(dtype=long int"):
        ember.kaiser_window(4, dtype=ember.int64)
