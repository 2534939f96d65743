"""A convolutional sentence classifier (Kim 2014): parallel 1-D convolutions, max-over-time pooling."""

from __future__ import annotations

import ember
from ember import nn

from ._masks import lengths_from

__all__ = ["CNNClassifier"]


class CNNClassifier(nn.Module):
    r"""Embedding -> Conv1d per kernel size -> ReLU -> max over the real time steps -> dropout -> linear.

    Windows that reach past a sentence's end are left out of the max (a sentence shorter than a kernel
    keeps its first window, which sees the zero padding embedding), so extra padding never changes the output.

    Args:
        vocab_size: number of token ids.
        num_classes: number of output classes.
        embed_dim: embedding size. Default: 128
        num_filters: output channels of each convolution. Default: 100
        kernel_sizes: the window widths. Default: ``(3, 4, 5)``
        dropout: dropout before the classifier. Default: 0.5
        padding_idx: the padding token id. Default: 0

    Shape:
        - tokens: (B, T) int64; lengths (optional): (B,)
        - output: (B, num_classes)

    ``state_dict`` keys: ``embedding.weight``, ``convs.{i}.weight``, ``convs.{i}.bias``, ``fc.weight``, ``fc.bias``.
    """

    def __init__(self, vocab_size: int, num_classes: int, embed_dim: int = 128, num_filters: int = 100,
                 kernel_sizes=(3, 4, 5), dropout: float = 0.5, padding_idx: int | None = 0) -> None:
        super().__init__()
        self.kernel_sizes, self.padding_idx = tuple(kernel_sizes), padding_idx
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=padding_idx)
        self.convs = nn.ModuleList([nn.Conv1d(embed_dim, num_filters, k) for k in self.kernel_sizes])
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(num_filters * len(self.kernel_sizes), num_classes)

    def forward(self, tokens, lengths=None):
        lengths = lengths_from(tokens, lengths, self.padding_idx, device=tokens.device)
        widest = max(self.kernel_sizes)
        if tokens.shape[1] < widest:
            pad = 0 if self.padding_idx is None else self.padding_idx
            tokens = nn.functional.pad(tokens, (0, widest - tokens.shape[1]), value=pad)
        x = self.embedding(tokens).transpose(1, 2)  # (B, E, T)
        positions = ember.arange(tokens.shape[1], device=tokens.device).unsqueeze(0)
        pooled = []
        for k, conv in zip(self.kernel_sizes, self.convs):
            y = ember.relu(conv(x))  # (B, F, T - k + 1)
            last = (lengths - k + 1).clamp(min=1).unsqueeze(1)
            valid = (positions[:, : y.shape[2]] < last).unsqueeze(1)
            pooled.append(y.masked_fill(valid.logical_not(), float("-inf")).amax(dim=2))
        return self.fc(self.dropout(ember.cat(pooled, dim=1)))
