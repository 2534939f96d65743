"""torchaudio.functional: signal-processing functions on Tensors (differentiable where torchaudio's are)."""

from .filtering import biquad, deemphasis, highpass_biquad, lfilter, lowpass_biquad, preemphasis
from .spectral import gain, griffinlim, inverse_spectrogram, phase_vocoder, pitch_shift, spectrogram
from .functional import (
    DB_to_amplitude,
    amplitude_to_DB,
    compute_deltas,
    create_dct,
    linear_fbanks,
    mask_along_axis,
    mask_along_axis_iid,
    melscale_fbanks,
    mu_law_decoding,
    mu_law_encoding,
    resample,
)

__all__ = ["DB_to_amplitude", "amplitude_to_DB", "biquad", "compute_deltas", "create_dct", "deemphasis", "gain",
           "griffinlim", "inverse_spectrogram", "phase_vocoder", "pitch_shift", "spectrogram",
           "highpass_biquad", "lfilter", "linear_fbanks", "lowpass_biquad", "mask_along_axis", "mask_along_axis_iid",
           "melscale_fbanks", "mu_law_decoding", "mu_law_encoding", "preemphasis", "resample"]
