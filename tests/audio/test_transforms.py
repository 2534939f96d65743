"""emberaudio.transforms and the spectral functional ops against recorded torchaudio values
(fixtures/record_transforms.py), gradients, and the random masking transforms' behaviour."""

import pathlib

import numpy as np
import pytest

import ember
import emberaudio.functional as AF
import emberaudio.transforms as T
from ember.autograd import gradcheck

REF = np.load(pathlib.Path(__file__).with_name("fixtures") / "transforms_ref.npz")
WAVE = ember.from_numpy(REF["wave"])


def close(got, key, atol=1e-4, rtol=1e-4):
    got = got.detach()
    if got.is_complex():
        got = ember.view_as_real(got)
    np.testing.assert_allclose(got.numpy(), REF[key], atol=atol, rtol=rtol)


def test_spectrograms():
    close(T.Spectrogram(n_fft=256, hop_length=64)(WAVE), "spec_power", atol=1e-3)
    close(T.Spectrogram(n_fft=200, win_length=160, hop_length=80, pad=7, power=1.0, normalized=True,
                        window_fn=ember.hamming_window)(WAVE), "spec_mag_norm")
    close(T.Spectrogram(n_fft=128, hop_length=32, power=None, normalized="frame_length", center=False)(WAVE), "spec_complex")
    cc = T.Spectrogram(n_fft=128, hop_length=32, power=None)(WAVE)
    assert cc.dtype == ember.complex64
    close(cc, "spec_c")
    close(T.InverseSpectrogram(n_fft=128, hop_length=32)(cc, 800), "inv_spec", atol=1e-5)
    with pytest.raises(ValueError, match="Invalid normalized parameter"):
        AF.spectrogram(WAVE, 0, ember.hann_window(64), 64, 16, 64, 2.0, "both")
    with pytest.raises(ValueError, match="complex dtype"):
        AF.inverse_spectrogram(WAVE, None, 0, ember.hann_window(64), 64, 16, 64, False)


def test_mel_family():
    close(T.MelSpectrogram(8000, n_fft=256, hop_length=80, n_mels=32)(WAVE), "mel", atol=1e-3, rtol=1e-3)
    close(T.MelSpectrogram(8000, n_fft=200, n_mels=20, f_min=50.0, f_max=3800.0, norm="slaney", mel_scale="slaney",
                           power=1.0)(WAVE), "mel_slaney", atol=1e-4, rtol=1e-3)
    close(T.MFCC(8000, n_mfcc=13, melkwargs=dict(n_fft=256, hop_length=80, n_mels=32))(WAVE), "mfcc", atol=2e-3, rtol=1e-3)
    close(T.MFCC(8000, n_mfcc=10, log_mels=True, norm=None, melkwargs=dict(n_fft=200, n_mels=20))(WAVE), "mfcc_log", atol=2e-3, rtol=1e-3)
    close(T.LFCC(8000, n_filter=48, n_lfcc=20, speckwargs=dict(n_fft=256, hop_length=80))(WAVE), "lfcc", atol=2e-3, rtol=1e-3)
    close(T.AmplitudeToDB("magnitude", top_db=60.0)(ember.from_numpy(REF["spec_mag_norm"])), "db_mag", atol=1e-3)
    close(T.InverseMelScale(n_stft=129, n_mels=32, sample_rate=8000)(ember.from_numpy(REF["mel"])), "inv_mel", atol=1e-3, rtol=1e-2)
    with pytest.raises(ValueError, match="Cannot select more MFCC coefficients"):
        T.MFCC(n_mfcc=50, melkwargs=dict(n_mels=40))
    with pytest.raises(ValueError, match="Require f_min"):
        T.MelScale(f_min=9000.0, sample_rate=16000)
    with pytest.raises(ValueError, match="top_db must be positive"):
        T.AmplitudeToDB(top_db=-1.0)
    assert list(T.MFCC(melkwargs=dict(n_mels=40)).state_dict()) == ["dct_mat", "MelSpectrogram.spectrogram.window",
                                                                    "MelSpectrogram.mel_scale.fb"]
    with pytest.warns(UserWarning, match="all zero values"):  # torchaudio's defaults (128 mels, 201 bins) warn too
        assert list(T.InverseMelScale(201).state_dict()) == ["fb"]


def test_griffinlim_time_stretch_pitch_shift():
    spec = T.Spectrogram(n_fft=128, hop_length=32)(WAVE)
    close(T.GriffinLim(n_fft=128, n_iter=8, hop_length=32, rand_init=False, length=800)(spec), "griffinlim", atol=1e-3)
    close(T.GriffinLim(n_fft=128, n_iter=4, hop_length=32, momentum=0.0, power=1.0, rand_init=False)(
        T.Spectrogram(n_fft=128, hop_length=32, power=1.0)(WAVE)), "griffinlim_nomom", atol=1e-3)
    cc = T.Spectrogram(n_fft=128, hop_length=32, power=None)(WAVE)
    for key, out in (("stretch_fast", T.TimeStretch(hop_length=32, n_freq=65)(cc, 1.3)),
                     ("stretch_slow", T.TimeStretch(hop_length=32, n_freq=65, fixed_rate=0.8)(cc))):
        # magnitudes exactly; the accumulated phase of near-silent bins (ill-defined angle) may drift in float32
        np.testing.assert_allclose(out.abs().numpy(), np.hypot(REF[key][..., 0], REF[key][..., 1]), atol=1e-4, rtol=1e-4)
        close(out, key, atol=2e-2)
        assert float((ember.view_as_real(out) - ember.from_numpy(REF[key])).abs().mean()) < 1e-4
    close(T.PitchShift(8000, 12, n_fft=256)(WAVE), "pitch_up", atol=1e-3)
    close(AF.pitch_shift(WAVE, 8000, -6, bins_per_octave=6, n_fft=128, hop_length=16), "pitch_fn", atol=1e-3)
    with pytest.raises(ValueError, match="fixed_rate"):
        T.TimeStretch(n_freq=65)(cc)
    with pytest.raises(ValueError, match="momentum"):
        T.GriffinLim(momentum=1.0)


def test_waveform_transforms():
    close(T.Resample(8000, 11025)(WAVE), "resample_t", atol=2e-5)
    close(T.Resample(8000, 16000, resampling_method="sinc_interp_kaiser", lowpass_filter_width=4)(WAVE), "resample_t_kaiser", atol=2e-5)
    assert T.Resample(8000, 8000)(WAVE) is WAVE
    assert T.Resample(8000, 16000, dtype=ember.float64).kernel.dtype == ember.float64
    close(T.Vol(6.0, "db")(WAVE), "vol_db", atol=1e-6)
    close(T.Vol(0.5, "power")(WAVE), "vol_power", atol=1e-6)
    with pytest.raises(ValueError, match="gain must be positive"):
        T.Vol(-1.0)
    for shape in ["linear", "exponential", "logarithmic", "quarter_sine", "half_sine"]:
        close(T.Fade(300, 500, shape)(WAVE), f"fade_{shape}", atol=1e-6)
    x = ember.rand(2, 3, 10)
    np.testing.assert_allclose(T.ComputeDeltas()(x).numpy(), AF.compute_deltas(x).numpy())
    enc = T.MuLawEncoding()(WAVE)
    assert float((T.MuLawDecoding()(enc) - WAVE).abs().max()) < 0.02
    np.testing.assert_allclose(T.Deemphasis(0.5)(T.Preemphasis(0.5)(WAVE * 0.5)).numpy(), (WAVE * 0.5).numpy(), atol=1e-6)


def test_masking():
    spec = ember.ones(4, 2, 30, 50)
    ember.manual_seed(3)
    out = T.FrequencyMasking(10)(spec)
    masked_rows = (out == 0).all(dim=-1)  # (4, 2, 30): whole frequency rows zeroed
    assert (masked_rows == masked_rows[0, 0]).all()  # shared mask without iid_masks
    assert int(masked_rows[0, 0].sum()) < 10
    out = T.TimeMasking(20, iid_masks=True)(spec, mask_value=-1.0)
    cols = (out == -1).all(dim=-2)  # (4, 2, 50)
    assert int(cols.sum(-1).max()) < 20 and int(cols.sum()) > 0
    spans = cols.sum(-1).numpy()
    assert len({tuple(s) for s in spans}) > 1  # independent per example
    out = T.TimeMasking(40, p=0.1)(spec)
    assert int((out == 0).all(dim=-2).sum(-1).max()) <= 5
    with pytest.raises(ValueError, match="The value of p must be between"):
        T.TimeMasking(5, p=1.5)
    aug = T.SpecAugment(n_time_masks=2, time_mask_param=8, n_freq_masks=2, freq_mask_param=6)(ember.rand(3, 1, 20, 40) + 1)
    assert tuple(aug.shape) == (3, 1, 20, 40) and float(aug.min()) >= 1.0 - 1e-6  # mean fill of values in [1, 2)
    zero = T.SpecAugment(1, 8, 1, 6, zero_masking=True, iid_masks=False)(ember.rand(20, 40) + 1)
    assert float(zero.min()) == 0.0


def test_gradients_flow_through_features():
    x = ember.randn(1, 300, dtype=ember.float64, requires_grad=True)
    mel = T.MelSpectrogram(8000, n_fft=64, hop_length=32, n_mels=8).double()
    assert gradcheck(lambda w: mel(w), (x,), atol=1e-5)
    mfcc = T.MFCC(8000, n_mfcc=5, melkwargs=dict(n_fft=64, hop_length=32, n_mels=8)).double()
    out = mfcc(x.float().double())
    out.sum().backward()
    assert x.grad is not None and bool(ember.isfinite(x.grad).all())


def test_inverse_spectrogram_and_phase_vocoder_gradients():
    w = ember.hann_window(16, dtype=ember.float64)
    spec = AF.spectrogram(ember.randn(1, 64, dtype=ember.float64), 0, w, 16, 4, 16, None, False)
    re = ember.view_as_real(spec).detach().contiguous().clone().requires_grad_()
    assert gradcheck(lambda r: AF.inverse_spectrogram(ember.view_as_complex(r), 64, 0, w, 16, 4, 16, False), (re,))
    adv = ember.linspace(0, np.pi * 4, 9, dtype=ember.float64)[..., None]
    # magnitudes stay away from 0 so that the phase (angle) is differentiable
    mag = (ember.rand(1, 9, 6, dtype=ember.float64) + 0.5).requires_grad_()
    phase = ember.rand(1, 9, 6, dtype=ember.float64) * 3
    assert gradcheck(lambda m: AF.phase_vocoder(ember.polar(m, phase), 1.3, adv).abs(), (mag,))
