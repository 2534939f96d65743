"""Feature helpers of torchaudio.functional: filter banks, DCT, decibels, mu-law, deltas, masking, resampling."""

from __future__ import annotations

import math
import warnings

import numpy as np

import ember
import ember.nn.functional as F

__all__ = ["melscale_fbanks", "linear_fbanks", "create_dct", "amplitude_to_DB", "DB_to_amplitude",
           "mu_law_encoding", "mu_law_decoding", "compute_deltas", "mask_along_axis", "mask_along_axis_iid",
           "resample"]


def _hz_to_mel(freq: float, mel_scale: str = "htk") -> float:
    if mel_scale not in ("slaney", "htk"):
        raise ValueError('mel_scale should be one of "htk" or "slaney".')
    if mel_scale == "htk":
        return 2595.0 * math.log10(1.0 + freq / 700.0)
    f_sp = 200.0 / 3
    if freq >= 1000.0:
        return 1000.0 / f_sp + math.log(freq / 1000.0) / (math.log(6.4) / 27.0)
    return freq / f_sp


def _mel_to_hz(mels: np.ndarray, mel_scale: str = "htk") -> np.ndarray:
    if mel_scale not in ("slaney", "htk"):
        raise ValueError('mel_scale should be one of "htk" or "slaney".')
    if mel_scale == "htk":
        return 700.0 * (10.0 ** (mels / 2595.0) - 1.0)
    f_sp = 200.0 / 3
    min_log_mel = 1000.0 / f_sp
    logstep = np.float32(math.log(6.4) / 27.0)
    return np.where(mels >= min_log_mel, 1000.0 * np.exp(logstep * (mels - min_log_mel)), f_sp * mels).astype(mels.dtype)


def _triangular_filterbank(all_freqs: np.ndarray, f_pts: np.ndarray) -> np.ndarray:
    f_diff = f_pts[1:] - f_pts[:-1]
    slopes = f_pts[None, :] - all_freqs[:, None]
    down = (-1.0 * slopes[:, :-2]) / f_diff[:-1]
    up = slopes[:, 2:] / f_diff[1:]
    return np.maximum(np.float32(0), np.minimum(down, up))


def _linspace32(start, end, steps):
    # float32 like torch.linspace's default dtype
    return np.linspace(start, end, steps, dtype=np.float64).astype(np.float32)


def melscale_fbanks(n_freqs: int, f_min: float, f_max: float, n_mels: int, sample_rate: int,
                    norm: str | None = None, mel_scale: str = "htk") -> ember.Tensor:
    """Create a frequency bin conversion matrix of size (``n_freqs``, ``n_mels``) (triangular mel filters)."""
    if norm is not None and norm != "slaney":
        raise ValueError('norm must be one of None or "slaney"')
    all_freqs = _linspace32(0, sample_rate // 2, n_freqs)
    m_pts = _linspace32(_hz_to_mel(f_min, mel_scale), _hz_to_mel(f_max, mel_scale), n_mels + 2)
    f_pts = _mel_to_hz(m_pts, mel_scale).astype(np.float32)
    fb = _triangular_filterbank(all_freqs, f_pts)
    if norm == "slaney":
        fb = fb * (2.0 / (f_pts[2:n_mels + 2] - f_pts[:n_mels]))[None, :]
    if (fb.max(axis=0) == 0.0).any():
        warnings.warn(f"At least one mel filterbank has all zero values. The value for `n_mels` ({n_mels}) may be set "
                      f"too high. Or, the value for `n_freqs` ({n_freqs}) may be set too low.")
    return ember.from_numpy(np.ascontiguousarray(fb, dtype=np.float32))


def linear_fbanks(n_freqs: int, f_min: float, f_max: float, n_filter: int, sample_rate: int) -> ember.Tensor:
    """Create a linear triangular filter bank of size (``n_freqs``, ``n_filter``)."""
    fb = _triangular_filterbank(_linspace32(0, sample_rate // 2, n_freqs), _linspace32(f_min, f_max, n_filter + 2))
    return ember.from_numpy(np.ascontiguousarray(fb, dtype=np.float32))


def create_dct(n_mfcc: int, n_mels: int, norm: str | None) -> ember.Tensor:
    """DCT-II matrix of shape (``n_mels``, ``n_mfcc``), ``norm`` None or ``"ortho"``."""
    if norm is not None and norm != "ortho":
        raise ValueError('norm must be either "ortho" or None')
    n = np.arange(n_mels, dtype=np.float32)
    k = np.arange(n_mfcc, dtype=np.float32)[:, None]
    dct = np.cos(np.float32(math.pi / n_mels) * (n + np.float32(0.5)) * k)
    if norm is None:
        dct = dct * 2.0
    else:
        dct[0] *= 1.0 / math.sqrt(2.0)
        dct = dct * math.sqrt(2.0 / n_mels)
    return ember.from_numpy(np.ascontiguousarray(dct.T, dtype=np.float32))


def amplitude_to_DB(x, multiplier: float, amin: float, db_multiplier: float, top_db: float | None = None):
    """Turn a spectrogram from the power/amplitude scale to the decibel scale."""
    x_db = multiplier * ember.log10(ember.clamp(x, min=amin))
    x_db = x_db - multiplier * db_multiplier
    if top_db is not None:
        shape = x_db.shape
        packed = shape[-3] if x_db.dim() > 2 else 1
        x_db = x_db.reshape(-1, packed, shape[-2], shape[-1])
        floor = (x_db.amax(dim=(-3, -2, -1)) - top_db).view(-1, 1, 1, 1)
        x_db = ember.max(x_db, floor).reshape(shape)
    return x_db


def DB_to_amplitude(x, ref: float, power: float):
    """Turn a tensor from the decibel scale to the power/amplitude scale."""
    return ref * ember.pow(ember.pow(10.0, 0.1 * x), power)


def mu_law_encoding(x, quantization_channels: int):
    """Encode a signal in [-1, 1] with mu-law companding into integers 0..quantization_channels-1."""
    mu = quantization_channels - 1.0
    if not x.is_floating_point():
        warnings.warn("The input Tensor must be of floating type. This will be an error in the v0.12 release.")
        x = x.to(ember.float32)
    mu_t = ember.tensor(mu, dtype=x.dtype, device=x.device)
    x_mu = ember.sign(x) * ember.log1p(mu_t * ember.abs(x)) / ember.log1p(mu_t)
    return ((x_mu + 1) / 2 * mu_t + 0.5).to(ember.int64)


def mu_law_decoding(x_mu, quantization_channels: int):
    """Decode a mu-law encoded signal back to [-1, 1]."""
    mu = quantization_channels - 1.0
    if not x_mu.is_floating_point():
        x_mu = x_mu.to(ember.float32)
    mu_t = ember.tensor(mu, dtype=x_mu.dtype, device=x_mu.device)
    x = (x_mu / mu_t) * 2 - 1.0
    return ember.sign(x) * (ember.exp(ember.abs(x) * ember.log1p(mu_t)) - 1.0) / mu_t


def compute_deltas(specgram, win_length: int = 5, mode: str = "replicate"):
    """Delta coefficients along the last (time) axis: ``sum_n n (c[t+n] - c[t-n]) / (2 sum_n n^2)``."""
    shape = specgram.shape
    if win_length < 3:
        raise ValueError(f"Window length should be greater than or equal to 3. Found win_length {win_length}")
    specgram = specgram.reshape(1, -1, shape[-1])
    n = (win_length - 1) // 2
    denom = n * (n + 1) * (2 * n + 1) / 3
    specgram = F.pad(specgram, (n, n), mode=mode)
    kernel = ember.arange(-n, n + 1, 1, device=specgram.device, dtype=specgram.dtype).repeat(specgram.shape[1], 1, 1)
    return (F.conv1d(specgram, kernel, groups=specgram.shape[1]) / denom).reshape(shape)


def _get_mask_param(mask_param: int, p: float, axis_length: int) -> int:
    return mask_param if p == 1.0 else min(mask_param, int(axis_length * p))


def _check_mask_args(dim, axis, p, min_dim, what):
    if dim < min_dim:
        raise ValueError(f"Spectrogram must have at least {what} dimensions ({dim} given).")
    if axis not in (dim - 2, dim - 1):
        raise ValueError(f"Only Frequency and Time masking are supported (axis {dim - 2} and axis {dim - 1} supported; {axis} given).")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"The value of p must be between 0.0 and 1.0 ({p} given).")


def mask_along_axis_iid(specgrams, mask_param: int, mask_value, axis: int, p: float = 1.0):
    """Mask ``[v_0, v_0 + v)`` along ``axis`` with an independent interval per example and channel."""
    dim = specgrams.dim()
    _check_mask_args(dim, axis, p, 3, "three")
    mask_param = _get_mask_param(mask_param, p, specgrams.shape[axis])
    if mask_param < 1:
        return specgrams
    lead = specgrams.shape[: dim - 2]
    value = ember.rand(lead, device=specgrams.device, dtype=specgrams.dtype) * mask_param
    min_value = ember.rand(lead, device=specgrams.device, dtype=specgrams.dtype) * (specgrams.size(axis) - value)
    start = min_value.long()[..., None, None]
    end = (min_value.long() + value.long())[..., None, None]
    pos = ember.arange(0, specgrams.size(axis), device=specgrams.device, dtype=specgrams.dtype)
    out = specgrams.transpose(axis, -1)
    mask = (pos >= start) & (pos < end)
    if isinstance(mask_value, ember.Tensor):
        out = ember.where(mask, mask_value.expand(out.shape), out)
    else:
        out = out.masked_fill(mask, mask_value)
    return out.transpose(axis, -1)


def mask_along_axis(specgram, mask_param: int, mask_value: float, axis: int, p: float = 1.0):
    """Mask ``[v_0, v_0 + v)`` along ``axis``; every example in the batch gets the same interval."""
    dim = specgram.dim()
    _check_mask_args(dim, axis, p, 2, "two")
    mask_param = _get_mask_param(mask_param, p, specgram.shape[axis])
    if mask_param < 1:
        return specgram
    shape = specgram.shape
    specgram = specgram.reshape([-1] + list(shape[-2:]))
    length = specgram.size(axis - dim + 3)
    value = float(ember.rand(1).item()) * mask_param
    min_value = float(ember.rand(1).item()) * (length - value)
    start, end = int(min_value), int(min_value) + int(value)
    pos = ember.arange(0, length, device=specgram.device, dtype=specgram.dtype)
    mask = (pos >= start) & (pos < end)
    if axis == dim - 2:
        mask = mask.unsqueeze(-1)
    specgram = specgram.masked_fill(mask, mask_value)
    return specgram.reshape(tuple(shape[:-2]) + tuple(specgram.shape[-2:]))


def _get_sinc_resample_kernel(orig_freq, new_freq, gcd, lowpass_filter_width=6, rolloff=0.99,
                              resampling_method="sinc_interp_hann", beta=None, dtype=None):
    """Polyphase windowed-sinc kernels (new_freq, 1, 2*width + orig_freq) as a float32/``dtype`` array."""
    if not (int(orig_freq) == orig_freq and int(new_freq) == new_freq):
        raise Exception("Frequencies must be of integer type to ensure quality resampling computation. To work around "
                        "this, manually convert both frequencies to integer values that maintain their resampling rate "
                        "ratio before passing them into the function.")
    if resampling_method in ("sinc_interpolation", "kaiser_window"):
        new = {"sinc_interpolation": "sinc_interp_hann", "kaiser_window": "sinc_interp_kaiser"}[resampling_method]
        warnings.warn(f'"{resampling_method}" resampling method name is being deprecated and replaced by "{new}" in the '
                      "next release. The default behavior remains unchanged.", stacklevel=3)
        resampling_method = new
    elif resampling_method not in ("sinc_interp_hann", "sinc_interp_kaiser"):
        raise ValueError(f"Invalid resampling method: {resampling_method}")
    orig_freq, new_freq = int(orig_freq) // gcd, int(new_freq) // gcd
    if lowpass_filter_width <= 0:
        raise ValueError("Low pass filter width should be positive.")
    base_freq = min(orig_freq, new_freq) * rolloff
    width = math.ceil(lowpass_filter_width * orig_freq / base_freq)
    np_dtype = np.float64 if dtype is None else dtype
    idx = (np.arange(-width, width + orig_freq, dtype=np_dtype) / np_dtype(orig_freq))[None, None]
    t = np.arange(0, -new_freq, -1, dtype=np.float32 if dtype is None else dtype)[:, None, None] / np_dtype(new_freq) + idx
    t = np.clip(t * base_freq, -lowpass_filter_width, lowpass_filter_width).astype(t.dtype)
    if resampling_method == "sinc_interp_hann":
        window = np.cos(t * math.pi / lowpass_filter_width / 2) ** 2
    else:
        beta = 14.769656459379492 if beta is None else beta
        b = np.float32(beta)
        window = np.i0(b * np.sqrt(1 - (t / lowpass_filter_width) ** 2)) / np.i0(b)
    t = t * math.pi
    with np.errstate(invalid="ignore", divide="ignore"):
        kernels = np.where(t == 0, 1.0, np.sin(t) / t).astype(t.dtype)
    kernels = kernels * (window * (base_freq / orig_freq)).astype(t.dtype)
    return kernels.astype(np.float32 if dtype is None else dtype), width


def _apply_sinc_resample_kernel(waveform, orig_freq, new_freq, gcd, kernel, width):
    if not waveform.is_floating_point():
        raise TypeError(f"Expected floating point type for waveform tensor, but received {waveform.dtype}.")
    orig_freq, new_freq = int(orig_freq) // gcd, int(new_freq) // gcd
    shape = waveform.shape
    waveform = waveform.reshape(-1, shape[-1])
    num_wavs, length = waveform.shape
    waveform = F.pad(waveform, (width, width + orig_freq))
    out = F.conv1d(waveform[:, None], kernel, stride=orig_freq)
    out = out.transpose(1, 2).reshape(num_wavs, -1)
    target = int(math.ceil(new_freq * length / orig_freq))
    return out[..., :target].reshape(tuple(shape[:-1]) + (min(target, out.shape[-1]),))


def resample(waveform, orig_freq: int, new_freq: int, lowpass_filter_width: int = 6, rolloff: float = 0.99,
             resampling_method: str = "sinc_interp_hann", beta: float | None = None):
    """Resample ``waveform`` (..., time) from ``orig_freq`` to ``new_freq`` by band-limited sinc interpolation."""
    if orig_freq <= 0.0 or new_freq <= 0.0:
        raise ValueError("Original frequency and desired frequecy should be positive")
    if orig_freq == new_freq:
        return waveform
    gcd = math.gcd(int(orig_freq), int(new_freq))
    np_dtype = np.float64 if waveform.dtype == ember.float64 else np.float32
    kernel, width = _get_sinc_resample_kernel(orig_freq, new_freq, gcd, lowpass_filter_width, rolloff,
                                              resampling_method, beta, np_dtype)
    kernel = ember.from_numpy(kernel).to(waveform.device)
    return _apply_sinc_resample_kernel(waveform, orig_freq, new_freq, gcd, kernel, width)
