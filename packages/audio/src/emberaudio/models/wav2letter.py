"""Wav2Letter (Collobert et al. 2016), with torchaudio's layer layout and state_dict keys."""

from __future__ import annotations

from ember import nn

__all__ = ["Wav2Letter"]


def _conv(cin, cout, k, stride, pad):
    return [nn.Conv1d(in_channels=cin, out_channels=cout, kernel_size=k, stride=stride, padding=pad), nn.ReLU(inplace=True)]


class Wav2Letter(nn.Module):
    """Wav2Letter acoustic model: a stack of 1-D convolutions ending in per-frame class log-probabilities.

    Args:
        num_classes (int, optional): number of output classes. (Default: ``40``)
        input_type (str, optional): ``"waveform"``, ``"power_spectrum"`` or ``"mfcc"``. (Default: ``"waveform"``)
        num_features (int, optional): number of input channels. (Default: ``1``)
    """

    def __init__(self, num_classes: int = 40, input_type: str = "waveform", num_features: int = 1) -> None:
        super().__init__()
        acoustic_num_features = 250 if input_type == "waveform" else num_features
        layers = _conv(acoustic_num_features, 250, 48, 2, 23)
        for _ in range(7):
            layers += _conv(250, 250, 7, 1, 3)
        layers += _conv(250, 2000, 32, 1, 16) + _conv(2000, 2000, 1, 1, 0) + _conv(2000, num_classes, 1, 1, 0)
        acoustic_model = nn.Sequential(*layers)
        if input_type == "waveform":
            waveform_model = nn.Sequential(*_conv(num_features, 250, 250, 160, 45))
            self.acoustic_model = nn.Sequential(waveform_model, acoustic_model)
        elif input_type in ("power_spectrum", "mfcc"):
            self.acoustic_model = acoustic_model
        else:
            raise ValueError(f"input_type must be 'waveform', 'power_spectrum' or 'mfcc', got {input_type!r}")

    def forward(self, x):
        """(batch, num_features, length) -> (batch, num_classes, frames) log-probabilities."""
        return nn.functional.log_softmax(self.acoustic_model(x), dim=1)
