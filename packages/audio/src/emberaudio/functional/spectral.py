"""Spectrogram family of torchaudio.functional on ``ember.stft`` / ``ember.istft``: spectrogram, its inverse,
Griffin-Lim, the phase vocoder, pitch shifting, gain."""

from __future__ import annotations

import math
import warnings

import ember
import ember.nn.functional as F

from .functional import resample

__all__ = ["spectrogram", "inverse_spectrogram", "griffinlim", "phase_vocoder", "pitch_shift", "gain"]


def _get_spec_norms(normalized):
    if isinstance(normalized, str):
        if normalized not in ("frame_length", "window"):
            raise ValueError(f"Invalid normalized parameter: {normalized}")
        return normalized == "frame_length", normalized == "window"
    if isinstance(normalized, bool):
        return False, normalized
    raise TypeError("Input type not supported")


def spectrogram(waveform, pad: int, window, n_fft: int, hop_length: int, win_length: int, power, normalized,
                center: bool = True, pad_mode: str = "reflect", onesided: bool = True, return_complex=None):
    """Spectrogram of ``waveform`` (..., time) -> (..., freq, frames); complex when ``power`` is None.

    ``normalized``: False, True / ``"window"`` (divide by the window's L2 norm) or ``"frame_length"``.
    """
    if return_complex is not None:
        warnings.warn("`return_complex` argument is now deprecated and is not effective."
                      "`torchaudio.functional.spectrogram(power=None)` always returns a tensor with complex dtype. "
                      "Please remove the argument in the function call.")
    if pad > 0:
        waveform = F.pad(waveform, (pad, pad), "constant")
    frame_length_norm, window_norm = _get_spec_norms(normalized)
    shape = waveform.shape
    waveform = waveform.reshape(-1, shape[-1])
    spec_f = ember.stft(waveform, n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window,
                        center=center, pad_mode=pad_mode, normalized=frame_length_norm, onesided=onesided,
                        return_complex=True)
    spec_f = spec_f.reshape(tuple(shape[:-1]) + tuple(spec_f.shape[-2:]))
    if window_norm:
        spec_f = spec_f / window.pow(2.0).sum().sqrt()
    if power is not None:
        if power == 1.0:
            return spec_f.abs()
        return spec_f.abs().pow(power)
    return spec_f


def inverse_spectrogram(spectrogram, length, pad: int, window, n_fft: int, hop_length: int, win_length: int, normalized,
                        center: bool = True, pad_mode: str = "reflect", onesided: bool = True):
    """Waveform (..., time) from a complex spectrogram (..., freq, frames) by inverse STFT."""
    frame_length_norm, window_norm = _get_spec_norms(normalized)
    if not spectrogram.is_complex():
        raise ValueError("Expected `spectrogram` to be complex dtype.")
    if window_norm:
        spectrogram = spectrogram * window.pow(2.0).sum().sqrt()
    shape = spectrogram.shape
    spectrogram = spectrogram.reshape(-1, shape[-2], shape[-1])
    waveform = ember.istft(spectrogram, n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window,
                           center=center, normalized=frame_length_norm, onesided=onesided,
                           length=length + 2 * pad if length is not None else None, return_complex=False)
    if length is not None and pad > 0:
        waveform = waveform[:, pad:-pad]
    return waveform.reshape(tuple(shape[:-2]) + (waveform.shape[-1],))


def _complex_dtype(real_dtype):
    return ember.complex128 if real_dtype == ember.float64 else ember.complex64


def griffinlim(specgram, window, n_fft: int, hop_length: int, win_length: int, power: float, n_iter: int,
               momentum: float, length, rand_init: bool):
    """Waveform from a magnitude spectrogram by the (fast) Griffin-Lim phase-retrieval iteration."""
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must be in range [0, 1). Found: {momentum}")
    momentum = momentum / (1 + momentum)
    shape = specgram.shape
    specgram = specgram.reshape([-1] + list(shape[-2:])).pow(1 / power)
    if rand_init:  # torch.rand on a complex dtype: uniform real and imaginary parts
        parts = ember.rand(tuple(specgram.shape) + (2,), dtype=specgram.dtype, device=specgram.device)
        angles = ember.view_as_complex(parts)
    else:
        angles = ember.ones(specgram.shape, dtype=_complex_dtype(specgram.dtype), device=specgram.device)
    tprev = None
    for _ in range(n_iter):
        inverse = ember.istft(specgram * angles, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                              window=window, length=length)
        rebuilt = ember.stft(inverse, n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window,
                             center=True, pad_mode="reflect", normalized=False, onesided=True, return_complex=True)
        angles = rebuilt
        if momentum and tprev is not None:
            angles = angles - tprev * momentum
        angles = angles / (angles.abs() + 1e-16)
        tprev = rebuilt
    waveform = ember.istft(specgram * angles, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                           window=window, length=length)
    return waveform.reshape(tuple(shape[:-2]) + (waveform.shape[-1],))


def phase_vocoder(complex_specgrams, rate: float, phase_advance):
    """Speed a complex spectrogram (..., freq, frames) up by ``rate`` without changing its pitch."""
    if rate == 1.0:
        return complex_specgrams
    shape = complex_specgrams.shape
    complex_specgrams = complex_specgrams.reshape([-1] + list(shape[-2:]))
    real_dtype = ember.float64 if complex_specgrams.dtype == ember.complex128 else ember.float32
    time_steps = ember.arange(0, complex_specgrams.size(-1), rate, device=complex_specgrams.device, dtype=real_dtype)
    alphas = time_steps % 1.0
    phase_0 = complex_specgrams[..., :1].angle()
    complex_specgrams = F.pad(complex_specgrams, [0, 2])
    spec_0 = complex_specgrams.index_select(-1, time_steps.long())
    spec_1 = complex_specgrams.index_select(-1, (time_steps + 1).long())
    angle_0, angle_1 = spec_0.angle(), spec_1.angle()
    norm_0, norm_1 = spec_0.abs(), spec_1.abs()
    phase = angle_1 - angle_0 - phase_advance
    phase = phase - 2 * math.pi * ember.round(phase / (2 * math.pi))
    phase = phase + phase_advance
    phase = ember.cat([phase_0, phase[..., :-1]], dim=-1)
    phase_acc = ember.cumsum(phase, -1)
    mag = alphas * norm_1 + (1 - alphas) * norm_0
    out = ember.polar(mag, phase_acc)
    return out.reshape(tuple(shape[:-2]) + tuple(out.shape[1:]))


def _stretch_waveform(waveform, n_steps, bins_per_octave=12, n_fft=512, win_length=None, hop_length=None, window=None):
    hop_length = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    if window is None:
        window = ember.hann_window(win_length, device=waveform.device)
    shape = waveform.shape
    waveform = waveform.reshape(-1, shape[-1])
    rate = 2.0 ** (-float(n_steps) / bins_per_octave)
    spec_f = ember.stft(waveform, n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window, center=True,
                        pad_mode="reflect", normalized=False, onesided=True, return_complex=True)
    phase_advance = ember.linspace(0, math.pi * hop_length, spec_f.shape[-2], device=spec_f.device)[..., None]
    spec_stretch = phase_vocoder(spec_f, rate, phase_advance)
    return ember.istft(spec_stretch, n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window,
                       length=int(round(shape[-1] / rate)))


def _fix_waveform_shape(waveform_shift, shape):
    ori_len, shift_len = shape[-1], waveform_shift.shape[-1]
    if shift_len > ori_len:
        waveform_shift = waveform_shift[..., :ori_len]
    else:
        waveform_shift = F.pad(waveform_shift, [0, ori_len - shift_len])
    return waveform_shift.reshape(tuple(shape[:-1]) + (waveform_shift.shape[-1],))


def pitch_shift(waveform, sample_rate: int, n_steps: int, bins_per_octave: int = 12, n_fft: int = 512,
                win_length=None, hop_length=None, window=None):
    """Shift the pitch of ``waveform`` (..., time) by ``n_steps`` steps of ``1/bins_per_octave`` octave."""
    stretched = _stretch_waveform(waveform, n_steps, bins_per_octave, n_fft, win_length, hop_length, window)
    rate = 2.0 ** (-float(n_steps) / bins_per_octave)
    return _fix_waveform_shape(resample(stretched, int(sample_rate / rate), sample_rate), waveform.shape)


def gain(waveform, gain_db: float = 1.0):
    """Amplify ``waveform`` by ``gain_db`` decibels."""
    if gain_db == 0:
        return waveform
    return waveform * 10 ** (gain_db / 20)


