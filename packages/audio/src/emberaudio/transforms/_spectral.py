"""Spectrogram transforms (torchaudio.transforms): Spectrogram, InverseSpectrogram, GriffinLim, MelScale,
InverseMelScale, MelSpectrogram, MFCC, LFCC, AmplitudeToDB, TimeStretch, PitchShift."""

from __future__ import annotations

import math
import warnings

import numpy as np

import ember
from ember import nn

from .. import functional as F
from ..functional.functional import _apply_sinc_resample_kernel, _get_sinc_resample_kernel
from ..functional.spectral import _fix_waveform_shape, _stretch_waveform

__all__ = ["Spectrogram", "InverseSpectrogram", "GriffinLim", "AmplitudeToDB", "MelScale", "InverseMelScale",
           "MelSpectrogram", "MFCC", "LFCC", "TimeStretch", "PitchShift"]


def _window(window_fn, win_length, wkwargs):
    return window_fn(win_length) if wkwargs is None else window_fn(win_length, **wkwargs)


def _freq_matmul(specgram, matrix):
    """``(..., F, T)`` spectrogram times an ``(F, M)`` matrix along F -> ``(..., M, T)``.

    Written as one 2-D GEMM over (frames, F): a batched matmul of transposed views falls off NumPy's BLAS path
    and was ~10x slower (forward and backward).
    """
    shape = specgram.shape
    flat = specgram.transpose(-1, -2).reshape(-1, shape[-2])
    out = ember.matmul(flat, matrix)
    return out.reshape(tuple(shape[:-2]) + (shape[-1], matrix.shape[-1])).transpose(-1, -2)


class _STFTParams(nn.Module):
    def _init_stft(self, n_fft, win_length, hop_length, window_fn, wkwargs, hop_divisor=2):
        self.n_fft = n_fft
        self.win_length = win_length if win_length is not None else n_fft
        self.hop_length = hop_length if hop_length is not None else self.win_length // hop_divisor
        self.register_buffer("window", _window(window_fn or ember.hann_window, self.win_length, wkwargs))


class Spectrogram(_STFTParams):
    """Spectrogram of a waveform (..., time) -> (..., n_fft // 2 + 1, frames); complex when ``power=None``."""

    def __init__(self, n_fft: int = 400, win_length=None, hop_length=None, pad: int = 0, window_fn=None,
                 power: float | None = 2.0, normalized=False, wkwargs=None, center: bool = True,
                 pad_mode: str = "reflect", onesided: bool = True, return_complex=None) -> None:
        super().__init__()
        self._init_stft(n_fft, win_length, hop_length, window_fn, wkwargs)
        self.pad, self.power, self.normalized = pad, power, normalized
        self.center, self.pad_mode, self.onesided = center, pad_mode, onesided
        if return_complex is not None:
            warnings.warn("`return_complex` argument is now deprecated and is not effective."
                          "`torchaudio.transforms.Spectrogram(power=None)` always returns a tensor with complex dtype. "
                          "Please remove the argument in the function call.")

    def forward(self, waveform):
        return F.spectrogram(waveform, self.pad, self.window, self.n_fft, self.hop_length, self.win_length, self.power,
                             self.normalized, self.center, self.pad_mode, self.onesided)


class InverseSpectrogram(_STFTParams):
    """Waveform from a complex spectrogram (inverse of :class:`Spectrogram` with ``power=None``)."""

    def __init__(self, n_fft: int = 400, win_length=None, hop_length=None, pad: int = 0, window_fn=None,
                 normalized=False, wkwargs=None, center: bool = True, pad_mode: str = "reflect", onesided: bool = True) -> None:
        super().__init__()
        self._init_stft(n_fft, win_length, hop_length, window_fn, wkwargs)
        self.pad, self.normalized, self.center, self.pad_mode, self.onesided = pad, normalized, center, pad_mode, onesided

    def forward(self, spectrogram, length=None):
        return F.inverse_spectrogram(spectrogram, length, self.pad, self.window, self.n_fft, self.hop_length,
                                     self.win_length, self.normalized, self.center, self.pad_mode, self.onesided)


class GriffinLim(_STFTParams):
    """Waveform from a magnitude/power spectrogram by the Griffin-Lim algorithm."""

    def __init__(self, n_fft: int = 400, n_iter: int = 32, win_length=None, hop_length=None, window_fn=None,
                 power: float = 2.0, wkwargs=None, momentum: float = 0.99, length=None, rand_init: bool = True) -> None:
        super().__init__()
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in the range [0, 1). Found: {momentum}")
        self._init_stft(n_fft, win_length, hop_length, window_fn, wkwargs)
        self.n_iter, self.length, self.power, self.momentum, self.rand_init = n_iter, length, power, momentum, rand_init

    def forward(self, specgram):
        return F.griffinlim(specgram, self.window, self.n_fft, self.hop_length, self.win_length, self.power,
                            self.n_iter, self.momentum, self.length, self.rand_init)


class AmplitudeToDB(nn.Module):
    """Power (``stype="power"``) or amplitude (``"magnitude"``) spectrogram to decibels, floored at ``max - top_db``."""

    def __init__(self, stype: str = "power", top_db: float | None = None) -> None:
        super().__init__()
        self.stype = stype
        if top_db is not None and top_db < 0:
            raise ValueError("top_db must be positive value")
        self.top_db = top_db
        self.multiplier = 10.0 if stype == "power" else 20.0
        self.amin = 1e-10
        self.ref_value = 1.0
        self.db_multiplier = math.log10(max(self.amin, self.ref_value))

    def forward(self, x):
        return F.amplitude_to_DB(x, self.multiplier, self.amin, self.db_multiplier, self.top_db)


class MelScale(nn.Module):
    """Linear-frequency spectrogram (..., n_stft, time) to mel scale (..., n_mels, time) with triangular filters."""

    def __init__(self, n_mels: int = 128, sample_rate: int = 16000, f_min: float = 0.0, f_max=None, n_stft: int = 201,
                 norm=None, mel_scale: str = "htk") -> None:
        super().__init__()
        self.n_mels, self.sample_rate, self.f_min, self.n_stft = n_mels, sample_rate, f_min, n_stft
        self.f_max = f_max if f_max is not None else float(sample_rate // 2)
        self.norm, self.mel_scale = norm, mel_scale
        if f_min > self.f_max:
            raise ValueError(f"Require f_min: {f_min} <= f_max: {self.f_max}")
        self.register_buffer("fb", F.melscale_fbanks(n_stft, self.f_min, self.f_max, n_mels, sample_rate, norm, mel_scale))

    def forward(self, specgram):
        return _freq_matmul(specgram, self.fb)


class InverseMelScale(nn.Module):
    """Mel spectrogram back to a linear-frequency one: the non-negative part of the least-squares solution
    (minimum-norm, as LAPACK's ``gels`` gives for this under-determined system)."""

    def __init__(self, n_stft: int, n_mels: int = 128, sample_rate: int = 16000, f_min: float = 0.0, f_max=None,
                 norm=None, mel_scale: str = "htk", driver: str = "gels") -> None:
        super().__init__()
        self.n_stft, self.n_mels, self.sample_rate, self.f_min = n_stft, n_mels, sample_rate, f_min
        self.f_max = f_max or float(sample_rate // 2)
        self.norm, self.mel_scale, self.driver = norm, mel_scale, driver
        if f_min > self.f_max:
            raise ValueError(f"Require f_min: {f_min} <= f_max: {self.f_max}")
        if driver not in ("gels", "gelsy", "gelsd", "gelss"):
            raise ValueError(f'driver must be one of ["gels", "gelsy", "gelsd", "gelss"]. Found {driver}.')
        fb = F.melscale_fbanks(n_stft, self.f_min, self.f_max, n_mels, sample_rate, norm, mel_scale)
        self.register_buffer("fb", fb)
        pinv = np.linalg.pinv(fb.numpy().T.astype(np.float64)).astype(np.float32)  # (freq, n_mels)
        self.register_buffer("_pinv", ember.from_numpy(np.ascontiguousarray(pinv)), persistent=False)

    def forward(self, melspec):
        shape = melspec.shape
        n_mels, time = shape[-2], shape[-1]
        if self.n_mels != n_mels:
            raise ValueError(f"Expected an input with {self.n_mels} mel bins. Found: {n_mels}")
        melspec = melspec.reshape(-1, n_mels, time)
        specgram = ember.relu(ember.matmul(self._pinv.to(melspec.dtype), melspec))
        return specgram.reshape(tuple(shape[:-2]) + (self.fb.shape[0], time))


class MelSpectrogram(nn.Module):
    """Mel spectrogram of a waveform: :class:`Spectrogram` then :class:`MelScale`."""

    def __init__(self, sample_rate: int = 16000, n_fft: int = 400, win_length=None, hop_length=None, f_min: float = 0.0,
                 f_max=None, pad: int = 0, n_mels: int = 128, window_fn=None, power: float = 2.0,
                 normalized: bool = False, wkwargs=None, center: bool = True, pad_mode: str = "reflect",
                 onesided=None, norm=None, mel_scale: str = "htk") -> None:
        super().__init__()
        if onesided is not None:
            warnings.warn("Argument 'onesided' has been deprecated and has no influence on the behavior of this module.")
        self.sample_rate, self.n_fft = sample_rate, n_fft
        self.win_length = win_length if win_length is not None else n_fft
        self.hop_length = hop_length if hop_length is not None else self.win_length // 2
        self.pad, self.power, self.normalized, self.n_mels, self.f_max, self.f_min = pad, power, normalized, n_mels, f_max, f_min
        self.spectrogram = Spectrogram(n_fft=n_fft, win_length=self.win_length, hop_length=self.hop_length, pad=pad,
                                       window_fn=window_fn, power=power, normalized=normalized, wkwargs=wkwargs,
                                       center=center, pad_mode=pad_mode, onesided=True)
        self.mel_scale = MelScale(n_mels, sample_rate, f_min, f_max, n_fft // 2 + 1, norm, mel_scale)

    def forward(self, waveform):
        return self.mel_scale(self.spectrogram(waveform))


class MFCC(nn.Module):
    """Mel-frequency cepstral coefficients: dB (or log) mel spectrogram then a DCT-II."""

    def __init__(self, sample_rate: int = 16000, n_mfcc: int = 40, dct_type: int = 2, norm: str = "ortho",
                 log_mels: bool = False, melkwargs=None) -> None:
        super().__init__()
        if dct_type != 2:
            raise ValueError(f"DCT type not supported: {dct_type}")
        self.sample_rate, self.n_mfcc, self.dct_type, self.norm = sample_rate, n_mfcc, dct_type, norm
        self.top_db = 80.0
        self.amplitude_to_DB = AmplitudeToDB("power", self.top_db)
        self.MelSpectrogram = MelSpectrogram(sample_rate=sample_rate, **(melkwargs or {}))
        if n_mfcc > self.MelSpectrogram.n_mels:
            raise ValueError("Cannot select more MFCC coefficients than # mel bins")
        self.register_buffer("dct_mat", F.create_dct(n_mfcc, self.MelSpectrogram.n_mels, norm))
        self.log_mels = log_mels

    def forward(self, waveform):
        mel = self.MelSpectrogram(waveform)
        mel = ember.log(mel + 1e-6) if self.log_mels else self.amplitude_to_DB(mel)
        return _freq_matmul(mel, self.dct_mat)


class LFCC(nn.Module):
    """Linear-frequency cepstral coefficients: linear triangular filter bank, dB (or log), DCT-II."""

    def __init__(self, sample_rate: int = 16000, n_filter: int = 128, f_min: float = 0.0, f_max=None, n_lfcc: int = 40,
                 dct_type: int = 2, norm: str = "ortho", log_lf: bool = False, speckwargs=None) -> None:
        super().__init__()
        if dct_type != 2:
            raise ValueError(f"DCT type not supported: {dct_type}")
        self.sample_rate, self.f_min = sample_rate, f_min
        self.f_max = f_max if f_max is not None else float(sample_rate // 2)
        self.n_filter, self.n_lfcc, self.dct_type, self.norm = n_filter, n_lfcc, dct_type, norm
        self.top_db = 80.0
        self.amplitude_to_DB = AmplitudeToDB("power", self.top_db)
        self.Spectrogram = Spectrogram(**(speckwargs or {}))
        if n_lfcc > self.Spectrogram.n_fft:
            raise ValueError("Cannot select more LFCC coefficients than # fft bins")
        self.register_buffer("filter_mat", F.linear_fbanks(self.Spectrogram.n_fft // 2 + 1, f_min, self.f_max, n_filter, sample_rate))
        self.register_buffer("dct_mat", F.create_dct(n_lfcc, n_filter, norm))
        self.log_lf = log_lf

    def forward(self, waveform):
        spec = _freq_matmul(self.Spectrogram(waveform), self.filter_mat)
        spec = ember.log(spec + 1e-6) if self.log_lf else self.amplitude_to_DB(spec)
        return _freq_matmul(spec, self.dct_mat)


class TimeStretch(nn.Module):
    """Stretch a complex spectrogram in time by ``rate`` (phase vocoder) without changing pitch."""

    def __init__(self, hop_length=None, n_freq: int = 201, fixed_rate=None) -> None:
        super().__init__()
        self.fixed_rate = fixed_rate
        n_fft = (n_freq - 1) * 2
        hop_length = hop_length if hop_length is not None else n_fft // 2
        self.register_buffer("phase_advance", ember.linspace(0, math.pi * hop_length, n_freq)[..., None])

    def forward(self, complex_specgrams, overriding_rate=None):
        if not ember.is_complex(complex_specgrams):
            warnings.warn("The input to TimeStretch must be complex type. Providing non-complex tensor produces invalid results.",
                          stacklevel=4)
        if overriding_rate is None:
            if self.fixed_rate is None:
                raise ValueError("If no fixed_rate is specified, must pass a valid rate to the forward method.")
            rate = self.fixed_rate
        else:
            rate = overriding_rate
        return F.phase_vocoder(complex_specgrams, rate, self.phase_advance)


class PitchShift(_STFTParams):
    """Shift the pitch of a waveform by ``n_steps`` (the resampling kernel is built once, at the first call)."""

    def __init__(self, sample_rate: int, n_steps: int, bins_per_octave: int = 12, n_fft: int = 512, win_length=None,
                 hop_length=None, window_fn=None, wkwargs=None) -> None:
        super().__init__()
        self.n_steps, self.bins_per_octave, self.sample_rate = n_steps, bins_per_octave, sample_rate
        self._init_stft(n_fft, win_length, hop_length, window_fn, wkwargs, hop_divisor=4)
        rate = 2.0 ** (-float(n_steps) / bins_per_octave)
        self.orig_freq = int(sample_rate / rate)
        self.gcd = math.gcd(int(self.orig_freq), int(sample_rate))
        self.kernel, self.width = None, -1

    def forward(self, waveform):
        shape = waveform.shape
        stretched = _stretch_waveform(waveform, self.n_steps, self.bins_per_octave, self.n_fft, self.win_length,
                                      self.hop_length, self.window)
        if self.orig_freq == self.sample_rate:
            return _fix_waveform_shape(stretched, shape)
        if self.kernel is None or self.kernel.dtype != waveform.dtype:
            np_dtype = np.float64 if waveform.dtype == ember.float64 else np.float32
            kernel, self.width = _get_sinc_resample_kernel(self.orig_freq, self.sample_rate, self.gcd, dtype=np_dtype)
            self.kernel = ember.from_numpy(kernel).to(waveform.device)
        shifted = _apply_sinc_resample_kernel(stretched, self.orig_freq, self.sample_rate, self.gcd,
                                              self.kernel.to(waveform.device), self.width)
        return _fix_waveform_shape(shifted, shape)
