"""emberaudio.functional against values recorded from torchaudio (fixtures/record_functional.py)."""

import pathlib

import numpy as np
import pytest

import ember
import emberaudio.functional as AF
from ember.autograd import gradcheck

REF = np.load(pathlib.Path(__file__).with_name("fixtures") / "functional_ref.npz")
WAVE = ember.from_numpy(REF["wave"])
SPEC = ember.from_numpy(REF["spec"])


def close(got, key, atol=1e-5, rtol=1e-5):
    np.testing.assert_allclose(got.detach().numpy(), REF[key], atol=atol, rtol=rtol)


def test_filter_banks_and_dct():
    close(AF.melscale_fbanks(201, 0.0, 8000.0, 40, 16000), "mel_htk", atol=1e-5)
    close(AF.melscale_fbanks(129, 20.0, 4000.0, 23, 8000, norm="slaney", mel_scale="slaney"), "mel_slaney", atol=1e-5)
    close(AF.linear_fbanks(129, 10.0, 3500.0, 12, 8000), "linear_fb", atol=1e-6)
    close(AF.create_dct(13, 40, None), "dct_none", atol=1e-6)
    close(AF.create_dct(20, 64, "ortho"), "dct_ortho", atol=1e-6)
    with pytest.raises(ValueError, match="norm must be"):
        AF.create_dct(13, 40, "slaney")
    with pytest.raises(ValueError, match="mel_scale should be"):
        AF.melscale_fbanks(201, 0.0, 8000.0, 40, 16000, mel_scale="bark")
    with pytest.warns(UserWarning, match="all zero values"):
        AF.melscale_fbanks(10, 0.0, 8000.0, 64, 16000)


def test_decibels_and_mu_law():
    close(AF.amplitude_to_DB(SPEC, 10.0, 1e-10, 0.0, top_db=30.0), "db_power", atol=1e-4)
    close(AF.amplitude_to_DB(SPEC[0], 20.0, 1e-5, 0.5, top_db=20.0), "db_amp3d", atol=1e-4)
    close(AF.amplitude_to_DB(SPEC, 10.0, 1e-10, 0.0), "db_notop", atol=1e-4)
    close(AF.DB_to_amplitude(ember.from_numpy(REF["db_notop"]), 1.0, 0.5), "db_to_amp", rtol=1e-4)
    enc = AF.mu_law_encoding(WAVE, 256)
    assert enc.dtype == ember.int64
    np.testing.assert_array_equal(enc.numpy(), REF["mu_enc"])
    close(AF.mu_law_decoding(enc, 256), "mu_dec", atol=1e-6)


def test_compute_deltas():
    close(AF.compute_deltas(SPEC), "deltas", atol=1e-5)
    close(AF.compute_deltas(SPEC[0, 0], win_length=7), "deltas7", atol=1e-5)
    with pytest.raises(ValueError, match="Window length should be greater than or equal to 3"):
        AF.compute_deltas(SPEC, win_length=2)


@pytest.mark.parametrize("key, args, kwargs", [
    ("resample_up", (8000, 16000), {}),
    ("resample_down", (16000, 11025), {}),
    ("resample_kaiser", (44100, 16000), dict(lowpass_filter_width=8, rolloff=0.9, resampling_method="sinc_interp_kaiser", beta=10.0)),
    ("resample_kaiser_default", (48000, 8000), dict(resampling_method="sinc_interp_kaiser")),
])
def test_resample_matches_torchaudio(key, args, kwargs):
    got = AF.resample(WAVE, *args, **kwargs)
    assert got.shape == REF[key].shape
    close(got, key, atol=2e-5)


def test_resample_errors_and_identity():
    assert AF.resample(WAVE, 8000, 8000) is WAVE
    with pytest.raises(ValueError, match="should be positive"):
        AF.resample(WAVE, 0, 8000)
    with pytest.raises(ValueError, match="Invalid resampling method"):
        AF.resample(WAVE, 8000, 16000, resampling_method="linear")
    with pytest.raises(TypeError, match="Expected floating point type"):
        AF.resample(ember.zeros(2, 10, dtype=ember.int64), 8000, 16000)


def test_resample_gradcheck():
    x = ember.randn(1, 40, dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda t: AF.resample(t, 3, 2), (x,))


def test_lfilter_matches_torchaudio():
    a = ember.tensor([1.0, -1.6, 0.8])
    b = ember.tensor([0.2, 0.1, 0.05])
    close(AF.lfilter(WAVE, a, b), "lfilter", atol=1e-5)
    close(AF.lfilter(WAVE * 3, a, b, clamp=False), "lfilter_noclamp", atol=1e-4)
    a2, b2 = ember.from_numpy(REF["a2"]), ember.from_numpy(REF["b2"])
    close(AF.lfilter(WAVE, a2, b2, clamp=False), "lfilter_batched", atol=1e-5)
    close(AF.lfilter(WAVE[0, 0], a2, b2, clamp=False, batching=False), "lfilter_unbatched", atol=1e-5)
    with pytest.raises(ValueError, match="same size"):
        AF.lfilter(WAVE, a, b[:2])
    with pytest.raises(ValueError, match="Expected number of batches"):
        AF.lfilter(WAVE[:, :2], a2, b2)


def test_lfilter_long_signal_matches_direct_recursion():
    # spans several internal blocks and a block shorter than the filter order
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 131 * 3 + 2))
    a = np.array([1.0, -0.9, 0.5, -0.2])
    b = np.array([0.3, 0.1, 0.0, 0.2])
    y_ref = np.zeros_like(x)
    for n in range(x.shape[1]):
        acc = sum(b[k] * x[:, n - k] for k in range(4) if n - k >= 0)
        acc -= sum(a[k] * y_ref[:, n - k] for k in range(1, 4) if n - k >= 0)
        y_ref[:, n] = acc
    got = AF.lfilter(ember.from_numpy(x), ember.from_numpy(a), ember.from_numpy(b), clamp=False)
    np.testing.assert_allclose(got.numpy(), y_ref, atol=1e-10)


def test_lfilter_gradcheck():
    x = ember.randn(2, 2, 30, dtype=ember.float64, requires_grad=True)
    a = ember.tensor([[1.2, -0.5, 0.2], [1.0, 0.3, -0.1]], dtype=ember.float64, requires_grad=True)
    b = ember.tensor([[0.5, 0.2, 0.1], [0.7, -0.3, 0.0]], dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda w, aa, bb: AF.lfilter(w, aa, bb, clamp=False), (x, a, b))


def test_biquads_and_emphasis():
    close(AF.biquad(WAVE, 0.4, 0.2, 0.1, 1.0, -0.3, 0.2), "biquad", atol=1e-5)
    close(AF.highpass_biquad(WAVE, 8000, 500.0), "highpass", atol=1e-5)
    close(AF.lowpass_biquad(WAVE, 16000, 1000.0, Q=0.5), "lowpass", atol=1e-5)
    close(AF.preemphasis(WAVE), "preemph", atol=1e-6)
    close(AF.deemphasis(WAVE, 0.9), "deemph", atol=1e-5)
    x = ember.randn(1, 20, dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda t: AF.deemphasis(AF.preemphasis(t) * 0.1), (x,))
