"""A recurrent (LSTM/GRU) text classifier over packed sequences."""

from __future__ import annotations

import ember
from ember import nn
from ember.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ._masks import lengths_from, masked_pool, valid_mask

__all__ = ["RNNClassifier"]


class RNNClassifier(nn.Module):
    r"""Embedding -> (bi)LSTM/GRU over packed sequences -> pooling -> dropout -> linear.

    Args:
        vocab_size: number of token ids.
        num_classes: number of output classes.
        embed_dim: embedding size. Default: 128
        hidden_size: recurrent state size per direction. Default: 128
        num_layers: stacked recurrent layers. Default: 1
        rnn_type: ``"lstm"`` or ``"gru"``. Default: ``"lstm"``
        bidirectional: run a backward direction too. Default: ``True``
        dropout: dropout on the embeddings, between layers and before the classifier. Default: 0.3
        pooling: ``"last"`` (final hidden state of each direction), ``"mean"`` or ``"max"`` over the real
            (non-padding) time steps. Default: ``"last"``
        padding_idx: the padding token id (its embedding stays zero). Default: 0

    Shape:
        - tokens: (B, T) int64; lengths (optional): (B,) int, else counted as tokens != padding_idx
        - output: (B, num_classes) logits

    ``state_dict`` keys: ``embedding.weight``, ``rnn.weight_ih_l{k}[_reverse]``, ``rnn.weight_hh_l{k}[_reverse]``,
    ``rnn.bias_ih_l{k}[_reverse]``, ``rnn.bias_hh_l{k}[_reverse]``, ``fc.weight``, ``fc.bias``.
    """

    def __init__(self, vocab_size: int, num_classes: int, embed_dim: int = 128, hidden_size: int = 128,
                 num_layers: int = 1, rnn_type: str = "lstm", bidirectional: bool = True, dropout: float = 0.3,
                 pooling: str = "last", padding_idx: int | None = 0) -> None:
        super().__init__()
        if rnn_type not in ("lstm", "gru"):
            raise ValueError(f"rnn_type must be 'lstm' or 'gru', got {rnn_type!r}")
        if pooling not in ("last", "mean", "max"):
            raise ValueError(f"pooling must be 'last', 'mean' or 'max', got {pooling!r}")
        self.pooling, self.padding_idx, self.rnn_type = pooling, padding_idx, rnn_type
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=padding_idx)
        cls = nn.LSTM if rnn_type == "lstm" else nn.GRU
        self.rnn = cls(embed_dim, hidden_size, num_layers=num_layers, batch_first=True, bidirectional=bidirectional,
                       dropout=dropout if num_layers > 1 else 0.0)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(hidden_size * (2 if bidirectional else 1), num_classes)

    def forward(self, tokens, lengths=None):
        lengths = lengths_from(tokens, lengths, self.padding_idx)
        x = self.dropout(self.embedding(tokens))
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, hidden = self.rnn(packed)
        if self.pooling == "last":
            h_n = hidden[0] if self.rnn_type == "lstm" else hidden
            directions = 2 if self.rnn.bidirectional else 1
            feats = ember.cat(list(h_n[-directions:]), dim=1)
        else:
            padded, _ = pad_packed_sequence(out, batch_first=True, total_length=tokens.shape[1])
            feats = masked_pool(padded, valid_mask(lengths, tokens.shape[1], padded.device), self.pooling)
        return self.fc(self.dropout(feats))
