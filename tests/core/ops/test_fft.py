"""``ember.fft`` (ember/ops/fft.py): values and gradients equal PyTorch's (recorded in float64), float64
gradient checks of every transform, dtypes, ``n``/``s``/``dim``/``norm`` handling and errors."""

import ember
import numpy as np
import pytest
from ember.autograd import gradcheck

from ._spectral_ref import REF, cplx

# The cases of fixtures/record_spectral.py, in order: (name, kwargs, complex input?)
FFT_CASES = [
    ("fft", {}, False), ("fft", {"n": 5, "norm": "ortho"}, True), ("fft", {"n": 9, "dim": 0, "norm": "forward"}, True),
    ("ifft", {}, True), ("ifft", {"n": 4, "norm": "ortho"}, False),
    ("rfft", {}, False), ("rfft", {"n": 5, "norm": "forward"}, False), ("rfft", {"dim": 0, "norm": "ortho"}, False),
    ("irfft", {}, True), ("irfft", {"n": 7}, True), ("irfft", {"n": 4, "norm": "ortho"}, True),
    ("irfft", {"n": 12, "norm": "forward"}, True),
    ("hfft", {}, True), ("hfft", {"n": 7, "norm": "ortho"}, True),
    ("ihfft", {}, False), ("ihfft", {"n": 5, "norm": "forward"}, False),
    ("fft2", {}, True), ("ifft2", {"s": (3, 7)}, True), ("rfft2", {"norm": "ortho"}, False),
    ("irfft2", {"s": (4, 6)}, True), ("irfft2", {}, True),
    ("fftn", {"dim": (0, 2)}, False), ("ifftn", {"s": (2, 5), "norm": "forward"}, True),
    ("rfftn", {}, False), ("rfftn", {"dim": (2, 0)}, False), ("irfftn", {"s": (3, 4, 5)}, True),
    ("irfftn", {"dim": (1, 2), "norm": "ortho"}, True),
]


def _input(key, cplx_in, device="cpu"):
    x = REF[f"{key}/x"]
    return ember.tensor(cplx(x) if cplx_in else x, device=device, requires_grad=True)


def _real_view(y):
    return ember.view_as_real(y) if y.is_complex() else y


@pytest.mark.parametrize("i", range(len(FFT_CASES)))
def test_values_and_gradients_match_pytorch(i, device):
    name, kw, cplx_in = FFT_CASES[i]
    key = f"fft/{i}"
    x = _input(key, cplx_in, device)
    y = _real_view(getattr(ember.fft, name)(x, **kw))
    np.testing.assert_allclose(y.detach().cpu().numpy(), REF[f"{key}/y"], rtol=1e-10, atol=1e-10)
    y.backward(ember.tensor(REF[f"{key}/g"], device=device))
    gx = ember.view_as_real(x.grad) if cplx_in else x.grad
    np.testing.assert_allclose(gx.cpu().numpy(), REF[f"{key}/gx"], rtol=1e-10, atol=1e-10)


GRADCHECK = [
    ("fft", {"n": 6}), ("ifft", {"n": 3, "norm": "ortho"}), ("rfft", {"n": 7, "norm": "forward"}), ("rfft", {}),
    ("irfft", {}), ("irfft", {"n": 9, "norm": "ortho"}), ("irfft", {"n": 4, "norm": "forward"}),
    ("hfft", {"n": 5}), ("ihfft", {"norm": "ortho"}), ("fft2", {"s": (3, 3)}), ("ifft2", {"norm": "forward"}),
    ("rfft2", {"s": (2, 5)}), ("irfft2", {"s": (3, 6)}), ("fftn", {"dim": 0}), ("ifftn", {}), ("rfftn", {"dim": (1, 0)}),
    ("irfftn", {"s": (3, 5)}),
]


@pytest.mark.parametrize("name, kw", GRADCHECK)
def test_gradcheck_float64(name, kw):
    # complex inputs are built from two real tensors, so the check covers the real and imaginary parts
    fn = getattr(ember.fft, name)
    re = ember.randn(3, 4, dtype=ember.float64, requires_grad=True)
    im = ember.randn(3, 4, dtype=ember.float64, requires_grad=True)
    if name in ("rfft", "ihfft", "rfft2", "rfftn"):
        assert gradcheck(lambda a: _real_view(fn(a, **kw)), (re,))
    else:
        assert gradcheck(lambda a, b: _real_view(fn(ember.complex(a, b), **kw)), (re, im))
        assert gradcheck(lambda a: _real_view(fn(a, **kw)), (re,))  # a real input gets the real part


def test_gradgradcheck_rfft_irfft():
    x = ember.randn(6, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda a: ember.fft.irfft(ember.fft.rfft(a) * ember.fft.rfft(a), n=6), (x,))


def test_dtypes_follow_pytorch():
    x = ember.randn(8)
    assert ember.fft.fft(x).dtype == ember.complex64
    assert ember.fft.rfft(x).dtype == ember.complex64 and ember.fft.rfft(x).shape == (5,)
    assert ember.fft.irfft(ember.fft.rfft(x)).dtype == ember.float32
    assert ember.fft.fft(x.double()).dtype == ember.complex128
    assert ember.fft.fft(ember.arange(4)).dtype == ember.complex64
    assert ember.fft.hfft(ember.fft.ihfft(x)).dtype == ember.float32
    np.testing.assert_allclose(ember.fft.irfft(ember.fft.rfft(x), n=8).numpy(), x.numpy(), atol=1e-6)


def test_frequencies_and_shifts():
    np.testing.assert_allclose(ember.fft.fftfreq(7, 0.5).numpy(), REF["fftfreq"], rtol=1e-6)
    np.testing.assert_allclose(ember.fft.fftfreq(8).numpy(), REF["fftfreq8"], rtol=1e-6)
    np.testing.assert_allclose(ember.fft.rfftfreq(9, 2.0).numpy(), REF["rfftfreq"], rtol=1e-6)
    np.testing.assert_allclose(ember.fft.rfftfreq(8).numpy(), REF["rfftfreq8"], rtol=1e-6)
    assert ember.fft.fftfreq(4, dtype=ember.float64).dtype == ember.float64
    x = ember.arange(30.0).reshape(5, 6)
    np.testing.assert_array_equal(ember.fft.fftshift(x).numpy(), REF["fftshift"])
    np.testing.assert_array_equal(ember.fft.ifftshift(x).numpy(), REF["ifftshift"])
    np.testing.assert_array_equal(ember.fft.fftshift(x, dim=1).numpy(), REF["fftshift1"])
    np.testing.assert_array_equal(ember.fft.ifftshift(x, dim=(0,)).numpy(), REF["ifftshift0"])
    np.testing.assert_array_equal(ember.fft.ifftshift(ember.fft.fftshift(x)).numpy(), x.numpy())


def test_errors_match_pytorch():
    x = ember.randn(8)
    with pytest.raises(RuntimeError, match="rfft expects a real input tensor, but got ComplexFloat"):
        ember.fft.rfft(x.to(ember.complex64))
    with pytest.raises(RuntimeError, match="ihfft expects a real input tensor, but got ComplexFloat"):
        ember.fft.ihfft(x.to(ember.complex64))
    with pytest.raises(RuntimeError, match='Invalid normalization mode: "bad"'):
        ember.fft.fft(x, norm="bad")
    with pytest.raises(RuntimeError, match=r"Invalid number of data points \(0\) specified"):
        ember.fft.fft(x, n=0)
    with pytest.raises(RuntimeError, match=r"Invalid number of data points \(0\) specified"):
        ember.fft.irfft(ember.randn(1, dtype=ember.complex64))
    with pytest.raises(RuntimeError, match="When given, dim and shape arguments must have the same length"):
        ember.fft.fftn(x, s=(4, 4), dim=(0,))
    with pytest.raises(RuntimeError, match="Unsupported dtype Half"):
        ember.fft.fft(x.half())
    with pytest.raises(RuntimeError, match="FFT dims must be unique"):
        ember.fft.fftn(ember.randn(3, 3), dim=(0, 0))


def test_gradcheck_shifts():
    x = ember.randn(3, 5, dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda a: ember.fft.fftshift(a) * ember.arange(15.0, dtype=ember.float64).reshape(3, 5), (x,))
    assert gradcheck(lambda a: ember.fft.ifftshift(a, dim=1) * ember.arange(15.0, dtype=ember.float64).reshape(3, 5), (x,))
