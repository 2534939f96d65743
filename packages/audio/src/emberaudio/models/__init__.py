"""torchaudio.models: M5 and a mel CNN for keyword spotting, Wav2Letter, Conv-TasNet."""

from .classifiers import M5, MelCNN
from .conv_tasnet import ConvTasNet, conv_tasnet_base
from .wav2letter import Wav2Letter

__all__ = ["ConvTasNet", "M5", "MelCNN", "Wav2Letter", "conv_tasnet_base"]
