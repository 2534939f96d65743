"""Small keyword/digit classifiers: M5 on raw waveforms (torchaudio's speech-command tutorial) and a mel CNN."""

from __future__ import annotations

import ember.nn.functional as F
from ember import nn

__all__ = ["M5", "MelCNN"]


class M5(nn.Module):
    """The M5 raw-waveform CNN (Dai et al. 2017) as in torchaudio's speech-command tutorial.

    Input ``(batch, n_input, time)``; output log-probabilities ``(batch, 1, n_output)`` as in the tutorial.
    """

    def __init__(self, n_input: int = 1, n_output: int = 35, stride: int = 16, n_channel: int = 32):
        super().__init__()
        self.conv1 = nn.Conv1d(n_input, n_channel, kernel_size=80, stride=stride)
        self.bn1 = nn.BatchNorm1d(n_channel)
        self.pool1 = nn.MaxPool1d(4)
        self.conv2 = nn.Conv1d(n_channel, n_channel, kernel_size=3)
        self.bn2 = nn.BatchNorm1d(n_channel)
        self.pool2 = nn.MaxPool1d(4)
        self.conv3 = nn.Conv1d(n_channel, 2 * n_channel, kernel_size=3)
        self.bn3 = nn.BatchNorm1d(2 * n_channel)
        self.pool3 = nn.MaxPool1d(4)
        self.conv4 = nn.Conv1d(2 * n_channel, 2 * n_channel, kernel_size=3)
        self.bn4 = nn.BatchNorm1d(2 * n_channel)
        self.pool4 = nn.MaxPool1d(4)
        self.fc1 = nn.Linear(2 * n_channel, n_output)

    def forward(self, x):
        x = self.pool1(F.relu(self.bn1(self.conv1(x))))
        x = self.pool2(F.relu(self.bn2(self.conv2(x))))
        x = self.pool3(F.relu(self.bn3(self.conv3(x))))
        x = self.pool4(F.relu(self.bn4(self.conv4(x))))
        # the tutorial's avg_pool1d(x, x.shape[-1]), as a pool that also traces (ONNX) for other lengths
        x = F.adaptive_avg_pool1d(x, 1).permute(0, 2, 1)
        return F.log_softmax(self.fc1(x), dim=2)


class MelCNN(nn.Module):
    """A small 2-D CNN over (log-)mel or MFCC features ``(batch, [1,] n_mels, frames)`` -> logits ``(batch, n_output)``.

    Three conv-BN-ReLU blocks (the first two max-pooled 2x2), a max over time that keeps the frequency axis,
    dropout and a linear head over (channels x n_mels // 4) features.
    """

    def __init__(self, n_mels: int = 40, n_output: int = 10, n_channel: int = 32, dropout: float = 0.2):
        super().__init__()
        c = n_channel
        self.features = nn.Sequential(
            nn.Conv2d(1, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(c, 2 * c, 3, padding=1), nn.BatchNorm2d(2 * c), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(2 * c, 4 * c, 3, padding=1), nn.BatchNorm2d(4 * c), nn.ReLU(inplace=True),
        )
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(4 * c * (n_mels // 4), n_output)
        self.n_mels = n_mels

    def forward(self, x):
        if x.dim() == 3:
            x = x.unsqueeze(1)
        if x.shape[-2] != self.n_mels:
            raise ValueError(f"MelCNN expects {self.n_mels} mel bins on axis -2, got input of shape {tuple(x.shape)}")
        x = self.features(x).amax(dim=3).flatten(1)
        return self.fc(self.dropout(x))
