"""A transformer-encoder text classifier with sinusoidal positions and CLS, mean or max pooling."""

from __future__ import annotations

import math

import ember
from ember import nn

from ._masks import lengths_from, masked_pool, valid_mask

__all__ = ["PositionalEncoding", "TransformerClassifier"]


class PositionalEncoding(nn.Module):
    r"""Adds the sinusoidal position code of Vaswani et al. (2017) to (B, T, D) inputs, then dropout.

    ``pe[t, 2i] = sin(t / 10000^(2i/D))``, ``pe[t, 2i+1] = cos(t / 10000^(2i/D))``; the table is a
    non-persistent buffer (not in ``state_dict``).
    """

    def __init__(self, d_model: int, dropout: float = 0.1, max_len: int = 5000) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        position = ember.arange(max_len, dtype=ember.float32).unsqueeze(1)
        div_term = ember.exp(ember.arange(0, d_model, 2, dtype=ember.float32) * (-math.log(10000.0) / d_model))
        pe = ember.zeros(max_len, d_model)
        pe[:, 0::2] = ember.sin(position * div_term)
        pe[:, 1::2] = ember.cos(position * div_term[: d_model // 2])
        self.register_buffer("pe", pe, persistent=False)

    def forward(self, x):
        if x.shape[1] > self.pe.shape[0]:
            raise ValueError(f"sequence length {x.shape[1]} exceeds the positional table's max_len {self.pe.shape[0]}")
        return self.dropout(x + self.pe[: x.shape[1]])


class TransformerClassifier(nn.Module):
    r"""Embedding * sqrt(d_model) + positions -> pre-norm ``nn.TransformerEncoder`` with a padding mask ->
    CLS, masked-mean or masked-max pooling -> dropout -> linear.

    Args:
        vocab_size: number of token ids.
        num_classes: number of output classes.
        d_model: model width. Default: 128
        nhead: attention heads. Default: 4
        num_layers: encoder layers. Default: 2
        dim_feedforward: feed-forward width. Default: ``4 * d_model``
        dropout: dropout in the encoder and before the classifier. Default: 0.1
        max_len: longest sequence (plus the CLS token). Default: 512
        pooling: ``"cls"`` (a learned token prepended to every sentence), ``"mean"`` or ``"max"`` over the
            non-padding positions. Default: ``"cls"``
        padding_idx: the padding token id. Default: 0
        positions: ``"sinusoidal"`` position codes, or ``"none"`` (order-free: the encoder sees a bag of
            words in context, which generalises from short training phrases to long sentences). Default:
            ``"sinusoidal"``

    Shape:
        - tokens: (B, T) int64; lengths (optional): (B,); padding positions are masked with
          ``src_key_padding_mask``, so padding never changes the output.
        - output: (B, num_classes)

    ``state_dict`` keys: ``cls_token`` (pooling ``"cls"`` only), ``embedding.weight``,
    ``encoder.layers.{i}.self_attn.in_proj_weight`` / ``in_proj_bias`` / ``out_proj.weight`` / ``out_proj.bias``,
    ``encoder.layers.{i}.linear1.*``, ``linear2.*``, ``norm1.*``, ``norm2.*``, ``encoder.norm.weight``,
    ``encoder.norm.bias``, ``fc.weight``, ``fc.bias``.
    """

    def __init__(self, vocab_size: int, num_classes: int, d_model: int = 128, nhead: int = 4, num_layers: int = 2,
                 dim_feedforward: int | None = None, dropout: float = 0.1, max_len: int = 512, pooling: str = "cls",
                 padding_idx: int | None = 0, positions: str = "sinusoidal") -> None:
        super().__init__()
        if positions not in ("sinusoidal", "none"):
            raise ValueError(f"positions must be 'sinusoidal' or 'none', got {positions!r}")
        if pooling not in ("cls", "mean", "max"):
            raise ValueError(f"pooling must be 'cls', 'mean' or 'max', got {pooling!r}")
        self.pooling, self.padding_idx, self.d_model = pooling, padding_idx, d_model
        if pooling == "cls":
            self.cls_token = nn.Parameter(ember.randn(1, 1, d_model) * 0.02)
        self.embedding = nn.Embedding(vocab_size, d_model, padding_idx=padding_idx)
        nn.init.normal_(self.embedding.weight, std=d_model ** -0.5)
        if padding_idx is not None:
            with ember.no_grad():
                self.embedding.weight[padding_idx].fill_(0.0)
        self.positions = PositionalEncoding(d_model, dropout, max_len + 1) if positions == "sinusoidal" else nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward or 4 * d_model, dropout,
                                           activation="gelu", batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers, norm=nn.LayerNorm(d_model), enable_nested_tensor=False)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(d_model, num_classes)

    def forward(self, tokens, lengths=None):
        lengths = lengths_from(tokens, lengths, self.padding_idx, device=tokens.device)
        x = self.embedding(tokens) * math.sqrt(self.d_model)
        valid = valid_mask(lengths, tokens.shape[1], x.device)
        if self.pooling == "cls":
            x = ember.cat([self.cls_token.expand(x.shape[0], 1, self.d_model), x], dim=1)
            valid = ember.cat([ember.ones(x.shape[0], 1, dtype=ember.bool, device=x.device), valid], dim=1)
        x = self.encoder(self.positions(x), src_key_padding_mask=valid.logical_not())
        feats = x[:, 0] if self.pooling == "cls" else masked_pool(x, valid, self.pooling)
        return self.fc(self.dropout(feats))
