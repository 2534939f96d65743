"""RoBERTa (Liu et al. 2019) with torchtext's ``RobertaModel`` layout, so its checkpoints load by name."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import ember
from ember import nn

from .modules import TransformerEncoder

__all__ = ["RobertaClassificationHead", "RobertaEncoder", "RobertaEncoderConf", "RobertaModel"]


@dataclass
class RobertaEncoderConf:
    """The encoder's hyper-parameters; the defaults are RoBERTa-base's."""

    vocab_size: int = 50265
    embedding_dim: int = 768
    ffn_dimension: int = 3072
    padding_idx: int = 1
    max_seq_len: int = 514
    num_attention_heads: int = 12
    num_encoder_layers: int = 12
    dropout: float = 0.1
    scaling: float | None = None
    normalize_before: bool = False


class RobertaEncoder(nn.Module):
    """The RoBERTa encoder: ``forward(tokens (B, T), masked_tokens=None)`` returns (B, T, C) features, or
    the features at the positions where ``masked_tokens`` is True. ``freeze`` stops its gradients.
    ``state_dict`` keys start with ``transformer.`` (see :class:`~embertext.models.roberta.modules.TransformerEncoder`)."""

    def __init__(self, vocab_size: int, embedding_dim: int, ffn_dimension: int, padding_idx: int, max_seq_len: int,
                 num_attention_heads: int, num_encoder_layers: int, dropout: float = 0.1, scaling: float | None = None,
                 normalize_before: bool = False, freeze: bool = False) -> None:
        super().__init__()
        if not scaling:
            scaling = 1.0 / math.sqrt(embedding_dim // num_attention_heads)
        self.transformer = TransformerEncoder(
            vocab_size=vocab_size, embedding_dim=embedding_dim, padding_idx=padding_idx, max_seq_len=max_seq_len,
            ffn_dimension=ffn_dimension, num_encoder_layers=num_encoder_layers,
            num_attention_heads=num_attention_heads, dropout=dropout, normalize_before=normalize_before,
            scaling=scaling, return_all_layers=False)
        if freeze:
            for p in self.parameters():
                p.requires_grad = False

    def forward(self, tokens, masked_tokens=None):
        output = self.transformer(tokens)
        if isinstance(output, list):
            output = output[-1]
        output = output.transpose(1, 0)
        if masked_tokens is not None:
            output = output[masked_tokens.to(ember.bool), :]
        return output


class RobertaClassificationHead(nn.Module):
    """Dropout -> dense -> activation -> dropout -> out_proj on the first token's features.
    ``state_dict`` keys: ``dense.weight``, ``dense.bias``, ``out_proj.weight``, ``out_proj.bias``."""

    def __init__(self, num_classes: int, input_dim: int, inner_dim: int | None = None, dropout: float = 0.1,
                 activation=nn.ReLU) -> None:
        super().__init__()
        inner_dim = inner_dim or input_dim
        self.dense = nn.Linear(input_dim, inner_dim)
        self.dropout = nn.Dropout(dropout)
        self.out_proj = nn.Linear(inner_dim, num_classes)
        self.activation_fn = activation()

    def forward(self, features):
        x = self.dropout(features[:, 0, :])
        x = self.dropout(self.activation_fn(self.dense(x)))
        return self.out_proj(x)


class RobertaModel(nn.Module):
    """RoBERTa encoder with an optional head, torchtext's layout.

    ``state_dict`` keys: ``encoder.transformer.token_embedding.weight``,
    ``encoder.transformer.layers.layers.{i}.self_attn.in_proj_weight`` / ``in_proj_bias`` /
    ``out_proj.weight`` / ``out_proj.bias``, ``...linear1.*``, ``...linear2.*``, ``...norm1.*``, ``...norm2.*``,
    ``encoder.transformer.positional_embedding.embedding.weight``,
    ``encoder.transformer.embedding_layer_norm.weight`` / ``bias``, then the head's keys under ``head.``.

    Example::

        >>> conf = RobertaEncoderConf(vocab_size=250002)
        >>> classifier = RobertaModel(conf, head=RobertaClassificationHead(num_classes=2, input_dim=768))
    """

    def __init__(self, encoder_conf: RobertaEncoderConf, head: nn.Module | None = None,
                 freeze_encoder: bool = False) -> None:
        super().__init__()
        if not isinstance(encoder_conf, RobertaEncoderConf):
            raise TypeError(f"encoder_conf must be a RobertaEncoderConf, got {type(encoder_conf).__name__}")
        self.encoder = RobertaEncoder(**asdict(encoder_conf), freeze=freeze_encoder)
        self.head = head

    def forward(self, tokens, masked_tokens=None):
        features = self.encoder(tokens, masked_tokens)
        return features if self.head is None else self.head(features)
