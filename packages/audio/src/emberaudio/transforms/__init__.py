"""torchaudio.transforms: nn.Module wrappers of emberaudio.functional."""

from ._augment import (
    ComputeDeltas,
    Deemphasis,
    Fade,
    FrequencyMasking,
    MuLawDecoding,
    MuLawEncoding,
    Preemphasis,
    Resample,
    SpecAugment,
    TimeMasking,
    Vol,
)
from ._spectral import (
    MFCC,
    LFCC,
    AmplitudeToDB,
    GriffinLim,
    InverseMelScale,
    InverseSpectrogram,
    MelScale,
    MelSpectrogram,
    PitchShift,
    Spectrogram,
    TimeStretch,
)

__all__ = ["AmplitudeToDB", "ComputeDeltas", "Deemphasis", "Fade", "FrequencyMasking", "GriffinLim",
           "InverseMelScale", "InverseSpectrogram", "LFCC", "MFCC", "MelScale", "MelSpectrogram", "MuLawDecoding",
           "MuLawEncoding", "PitchShift", "Preemphasis", "Resample", "SpecAugment", "Spectrogram", "TimeMasking",
           "TimeStretch", "Vol"]
