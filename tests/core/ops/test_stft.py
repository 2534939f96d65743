"""``ember.stft`` / ``ember.istft`` (ember/ops/spectral.py): values and gradients equal PyTorch's (recorded in
float64), float64 gradient checks, round trips, argument handling, warnings and errors."""

import warnings

import ember
import numpy as np
import pytest
from ember.autograd import gradcheck, gradgradcheck

from ._spectral_ref import REF

# The cases of fixtures/record_spectral.py, in order.
STFT_CASES = [
    dict(n_fft=16, hop_length=4, window="hann"),
    dict(n_fft=16, window="hann", normalized=True, pad_mode="constant"),
    dict(n_fft=15, hop_length=5, win_length=11, window="hamming", center=False),
    dict(n_fft=12, hop_length=3, win_length=8, window="hann", center=False, align_to_window=True),
    dict(n_fft=16, hop_length=4, window="hann", onesided=False),
    dict(n_fft=10, hop_length=7, win_length=9, window=None, pad_mode="replicate"),
    dict(n_fft=8, hop_length=2, window="blackman", batch=True),
]
ISTFT_CASES = [
    dict(n_fft=16, hop_length=4, window="hann", length=None),
    dict(n_fft=16, hop_length=4, window="hann", length=45, normalized=True),
    dict(n_fft=12, hop_length=3, window="hamming", center=False),
    dict(n_fft=8, hop_length=2, window="hamming", onesided=False, length=40),
    dict(n_fft=8, hop_length=3, window="hann", batch=True, length=70),
]


def _window(kw, device):
    kw = dict(kw)
    kw.pop("batch", None)
    name = kw.pop("window")
    win = kw.get("win_length", kw["n_fft"])
    w = getattr(ember, f"{name}_window")(win, dtype=ember.float64, device=device) if name else None
    return kw, w


@pytest.mark.parametrize("i", range(len(STFT_CASES)))
def test_stft_matches_pytorch(i, device):
    kw, w = _window(STFT_CASES[i], device)
    key = f"stft/{i}"
    x = ember.tensor(REF[f"{key}/x"], device=device, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore" if w is None else "error")
        y = ember.stft(x, window=w, return_complex=True, **kw)
    assert y.dtype == ember.complex128
    yr = ember.view_as_real(y)
    np.testing.assert_allclose(yr.detach().cpu().numpy(), REF[f"{key}/y"], rtol=1e-10, atol=1e-10)
    yr.backward(ember.tensor(REF[f"{key}/g"], device=device))
    np.testing.assert_allclose(x.grad.cpu().numpy(), REF[f"{key}/gx"], rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("i", range(len(ISTFT_CASES)))
def test_istft_matches_pytorch(i, device):
    kw, w = _window(ISTFT_CASES[i], device)
    key = f"istft/{i}"
    re = ember.tensor(REF[f"{key}/x"][..., 0], device=device, requires_grad=True)
    im = ember.tensor(REF[f"{key}/x"][..., 1], device=device, requires_grad=True)
    padded = kw.get("length") and kw["length"] > 48
    with warnings.catch_warnings():
        warnings.simplefilter("ignore" if padded else "error")
        y = ember.istft(ember.complex(re, im), window=w, **kw)
    np.testing.assert_allclose(y.detach().cpu().numpy(), REF[f"{key}/y"], rtol=1e-10, atol=1e-10)
    y.backward(ember.tensor(REF[f"{key}/g"], device=device))
    np.testing.assert_allclose(re.grad.cpu().numpy(), REF[f"{key}/gx"][..., 0], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(im.grad.cpu().numpy(), REF[f"{key}/gx"][..., 1], rtol=1e-10, atol=1e-10)


def test_round_trip_float32_batched():
    x = ember.randn(3, 400)
    w = ember.hann_window(64)
    spec = ember.stft(x, 64, hop_length=16, window=w, return_complex=True)
    assert spec.shape == (3, 33, 26) and spec.dtype == ember.complex64
    y = ember.istft(spec, 64, hop_length=16, window=w, length=400)
    assert y.dtype == ember.float32 and y.shape == (3, 400)
    np.testing.assert_allclose(y.numpy(), x.numpy(), atol=1e-5)
    np.testing.assert_allclose(x.stft(64, 16, window=w, return_complex=True).numpy(), spec.numpy())
    np.testing.assert_allclose(spec.istft(64, 16, window=w, length=400).numpy(), y.numpy())


def test_gradcheck_stft_wrt_input_and_window():
    x = ember.randn(30, dtype=ember.float64, requires_grad=True)
    w = ember.rand(6, dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda a, b: ember.view_as_real(
        ember.stft(a, 8, hop_length=3, win_length=6, window=b, return_complex=True)), (x, w))
    assert gradcheck(lambda a, b: ember.view_as_real(
        ember.stft(a, 8, hop_length=5, win_length=6, window=b, center=False, onesided=False, return_complex=True)), (x, w))


def test_gradcheck_istft_wrt_input_and_window():
    spec = ember.stft(ember.randn(32, dtype=ember.float64), 8, 2, window=ember.hann_window(8, dtype=ember.float64),
                      return_complex=True)
    re, im = spec.real.clone().requires_grad_(), spec.imag.clone().requires_grad_()
    w = (ember.rand(8, dtype=ember.float64) + 0.5).requires_grad_()
    assert gradcheck(lambda a, b, c: ember.istft(ember.complex(a, b), 8, 2, window=c, length=30), (re, im, w))
    assert gradgradcheck(lambda a: ember.istft(ember.complex(a, im.detach()), 8, 2, window=w.detach()), (re,))


def test_return_complex_false_gives_the_real_view_with_pytorchs_warning():
    x = ember.randn(40)
    w = ember.hann_window(8)
    with pytest.warns(UserWarning, match="stft with return_complex=False is deprecated"):
        r = ember.stft(x, 8, window=w, return_complex=False)
    np.testing.assert_array_equal(r.numpy(), ember.view_as_real(ember.stft(x, 8, window=w, return_complex=True)).numpy())


def test_complex_input_gives_the_twosided_transform():
    x = ember.randn(40, dtype=ember.complex128)
    spec = ember.stft(x, 8, window=ember.hann_window(8, dtype=ember.float64))
    assert spec.shape == (8, 21) and spec.dtype == ember.complex128
    with pytest.raises(RuntimeError, match="Cannot have onesided output if window or input is complex"):
        ember.stft(x, 8, window=ember.hann_window(8, dtype=ember.float64), onesided=True)
    back = ember.istft(spec, 8, window=ember.hann_window(8, dtype=ember.float64), return_complex=True, length=40)
    np.testing.assert_allclose(back.numpy(), x.numpy(), atol=1e-12)


def test_errors_match_pytorch():
    x = ember.randn(10)
    w = ember.hann_window(4)
    with pytest.raises(RuntimeError, match="stft requires the return_complex parameter be given for real inputs"):
        ember.stft(x, 4, window=w)
    with pytest.raises(RuntimeError, match="expected a 1D or 2D tensor"):
        ember.stft(ember.randn(2, 2, 10), 4, window=w, return_complex=True)
    with pytest.raises(RuntimeError, match=r"expected 0 < n_fft < 3, but got n_fft=8"):
        ember.stft(ember.randn(3), 8, window=ember.hann_window(8), return_complex=True, center=False)
    with pytest.raises(RuntimeError, match="expected a 1D window tensor of size equal to win_length=4"):
        ember.stft(x, 4, window=ember.hann_window(5), return_complex=True)
    with pytest.raises(RuntimeError, match="align_to_window should only be set when center = false"):
        ember.stft(x, 4, window=w, return_complex=True, align_to_window=True)
    with pytest.raises(RuntimeError, match="istft requires a complex-valued input tensor"):
        ember.istft(ember.randn(3, 4), 4, window=w)
    with pytest.raises(RuntimeError, match="window overlap add min"):
        ember.istft(ember.zeros(3, 4, dtype=ember.complex64), 4, window=ember.zeros(4))
    with pytest.raises(RuntimeError, match="to match n_fft / 2 \\+ 1 when onesided=True, but got 4"):
        ember.istft(ember.zeros(4, 5, dtype=ember.complex64), 8, window=ember.hann_window(8), onesided=True)
    with pytest.warns(UserWarning, match="A window was not provided"):
        ember.stft(x, 4, return_complex=True)
