"""Waveform and masking transforms (torchaudio.transforms): Resample, masks, SpecAugment, Vol, Fade,
ComputeDeltas, mu-law, pre/de-emphasis."""

from __future__ import annotations

import math

import numpy as np

import ember
from ember import nn

from .. import functional as F
from ..functional.functional import _apply_sinc_resample_kernel, _get_sinc_resample_kernel

__all__ = ["Resample", "FrequencyMasking", "TimeMasking", "SpecAugment", "Vol", "Fade", "ComputeDeltas",
           "MuLawEncoding", "MuLawDecoding", "Preemphasis", "Deemphasis"]


class Resample(nn.Module):
    """Resample a waveform (..., time) from ``orig_freq`` to ``new_freq``: one strided conv1d with a precomputed
    polyphase windowed-sinc kernel (``sinc_interp_hann`` or ``sinc_interp_kaiser``)."""

    def __init__(self, orig_freq: int = 16000, new_freq: int = 16000, resampling_method: str = "sinc_interp_hann",
                 lowpass_filter_width: int = 6, rolloff: float = 0.99, beta=None, *, dtype=None) -> None:
        super().__init__()
        self.orig_freq, self.new_freq = orig_freq, new_freq
        self.gcd = math.gcd(int(orig_freq), int(new_freq))
        self.resampling_method, self.lowpass_filter_width, self.rolloff, self.beta = resampling_method, lowpass_filter_width, rolloff, beta
        if orig_freq != new_freq:
            np_dtype = None if dtype is None else (np.float64 if dtype == ember.float64 else np.float32)
            kernel, self.width = _get_sinc_resample_kernel(orig_freq, new_freq, self.gcd, lowpass_filter_width, rolloff,
                                                           resampling_method, beta, dtype=np_dtype)
            self.register_buffer("kernel", ember.from_numpy(np.ascontiguousarray(kernel)))

    def forward(self, waveform):
        if self.orig_freq == self.new_freq:
            return waveform
        kernel = self.kernel if self.kernel.dtype == waveform.dtype else self.kernel.to(waveform.dtype)
        return _apply_sinc_resample_kernel(waveform, self.orig_freq, self.new_freq, self.gcd, kernel, self.width)


class _AxisMasking(nn.Module):
    def __init__(self, mask_param: int, axis: int, iid_masks: bool, p: float = 1.0) -> None:
        super().__init__()
        self.mask_param, self.axis, self.iid_masks, self.p = mask_param, axis, iid_masks, p

    def forward(self, specgram, mask_value=0.0):
        if self.iid_masks:
            return F.mask_along_axis_iid(specgram, self.mask_param, mask_value, self.axis + specgram.dim() - 3, p=self.p)
        value = float(mask_value) if isinstance(mask_value, ember.Tensor) else mask_value
        return F.mask_along_axis(specgram, self.mask_param, value, self.axis + specgram.dim() - 3, p=self.p)


class FrequencyMasking(_AxisMasking):
    """Mask a random band of up to ``freq_mask_param`` frequency bins (SpecAugment)."""

    def __init__(self, freq_mask_param: int, iid_masks: bool = False) -> None:
        super().__init__(freq_mask_param, 1, iid_masks)


class TimeMasking(_AxisMasking):
    """Mask a random span of up to ``time_mask_param`` frames (at most a fraction ``p`` of them)."""

    def __init__(self, time_mask_param: int, iid_masks: bool = False, p: float = 1.0) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"The value of p must be between 0.0 and 1.0 ({p} given).")
        super().__init__(time_mask_param, 2, iid_masks, p=p)


class SpecAugment(nn.Module):
    """SpecAugment: ``n_time_masks`` time masks and ``n_freq_masks`` frequency masks (mean or zero fill)."""

    def __init__(self, n_time_masks: int, time_mask_param: int, n_freq_masks: int, freq_mask_param: int,
                 iid_masks: bool = True, p: float = 1.0, zero_masking: bool = False) -> None:
        super().__init__()
        self.n_time_masks, self.time_mask_param = n_time_masks, time_mask_param
        self.n_freq_masks, self.freq_mask_param = n_freq_masks, freq_mask_param
        self.iid_masks, self.p, self.zero_masking = iid_masks, p, zero_masking

    def forward(self, specgram):
        mask_value = 0.0 if self.zero_masking else specgram.mean()
        time_dim = specgram.dim() - 1
        freq_dim = time_dim - 1
        if specgram.dim() > 2 and self.iid_masks is True:
            mask = F.mask_along_axis_iid
        else:
            mask = F.mask_along_axis
            mask_value = float(mask_value) if isinstance(mask_value, ember.Tensor) else mask_value
        for _ in range(self.n_time_masks):
            specgram = mask(specgram, self.time_mask_param, mask_value, time_dim, p=self.p)
        for _ in range(self.n_freq_masks):
            specgram = mask(specgram, self.freq_mask_param, mask_value, freq_dim, p=self.p)
        return specgram


class Vol(nn.Module):
    """Scale the volume (``gain_type`` ``"amplitude"``, ``"power"`` or ``"db"``) and clamp to [-1, 1]."""

    def __init__(self, gain: float, gain_type: str = "amplitude"):
        super().__init__()
        self.gain, self.gain_type = gain, gain_type
        if gain_type in ("amplitude", "power") and gain < 0:
            raise ValueError("If gain_type = amplitude or power, gain must be positive.")

    def forward(self, waveform):
        if self.gain_type == "amplitude":
            waveform = waveform * self.gain
        if self.gain_type == "db":
            waveform = F.gain(waveform, self.gain)
        if self.gain_type == "power":
            waveform = F.gain(waveform, 10 * math.log10(self.gain))
        return ember.clamp(waveform, -1, 1)


class Fade(nn.Module):
    """Fade in/out over ``fade_in_len`` / ``fade_out_len`` samples; shapes ``linear``, ``exponential``,
    ``logarithmic``, ``quarter_sine``, ``half_sine``."""

    def __init__(self, fade_in_len: int = 0, fade_out_len: int = 0, fade_shape: str = "linear") -> None:
        super().__init__()
        self.fade_in_len, self.fade_out_len, self.fade_shape = fade_in_len, fade_out_len, fade_shape

    def forward(self, waveform):
        n = waveform.shape[-1]
        return self._fade_in(n, waveform.device) * self._fade_out(n, waveform.device) * waveform

    def _fade_in(self, length, device):
        fade = ember.linspace(0, 1, self.fade_in_len, device=device)
        ones = ember.ones(length - self.fade_in_len, device=device)
        shape = self.fade_shape
        if shape == "exponential":
            fade = ember.pow(2, fade - 1) * fade
        elif shape == "logarithmic":
            fade = ember.log10(0.1 + fade) + 1
        elif shape == "quarter_sine":
            fade = ember.sin(fade * math.pi / 2)
        elif shape == "half_sine":
            fade = ember.sin(fade * math.pi - math.pi / 2) / 2 + 0.5
        return ember.cat((fade, ones)).clamp(0, 1)

    def _fade_out(self, length, device):
        fade = ember.linspace(0, 1, self.fade_out_len, device=device)
        ones = ember.ones(length - self.fade_out_len, device=device)
        shape = self.fade_shape
        if shape == "linear":
            fade = -fade + 1
        elif shape == "exponential":
            fade = ember.pow(2, -fade) * (1 - fade)
        elif shape == "logarithmic":
            fade = ember.log10(1.1 - fade) + 1
        elif shape == "quarter_sine":
            fade = ember.sin(fade * math.pi / 2 + math.pi / 2)
        elif shape == "half_sine":
            fade = ember.sin(fade * math.pi + math.pi / 2) / 2 + 0.5
        return ember.cat((ones, fade)).clamp(0, 1)


class ComputeDeltas(nn.Module):
    """Delta coefficients of a spectrogram along time (see :func:`emberaudio.functional.compute_deltas`)."""

    def __init__(self, win_length: int = 5, mode: str = "replicate") -> None:
        super().__init__()
        self.win_length, self.mode = win_length, mode

    def forward(self, specgram):
        return F.compute_deltas(specgram, win_length=self.win_length, mode=self.mode)


class MuLawEncoding(nn.Module):
    """Mu-law companding into ``quantization_channels`` integer levels."""

    def __init__(self, quantization_channels: int = 256) -> None:
        super().__init__()
        self.quantization_channels = quantization_channels

    def forward(self, x):
        return F.mu_law_encoding(x, self.quantization_channels)


class MuLawDecoding(nn.Module):
    """Inverse of :class:`MuLawEncoding`."""

    def __init__(self, quantization_channels: int = 256) -> None:
        super().__init__()
        self.quantization_channels = quantization_channels

    def forward(self, x_mu):
        return F.mu_law_decoding(x_mu, self.quantization_channels)


class Preemphasis(nn.Module):
    """``y[i] = x[i] - coeff * x[i - 1]``."""

    def __init__(self, coeff: float = 0.97) -> None:
        super().__init__()
        self.coeff = coeff

    def forward(self, waveform):
        return F.preemphasis(waveform, coeff=self.coeff)


class Deemphasis(nn.Module):
    """``y[i] = x[i] + coeff * y[i - 1]``."""

    def __init__(self, coeff: float = 0.97) -> None:
        super().__init__()
        self.coeff = coeff

    def forward(self, waveform):
        return F.deemphasis(waveform, coeff=self.coeff)
