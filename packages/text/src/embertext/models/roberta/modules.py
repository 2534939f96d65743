"""The RoBERTa encoder's building blocks, with torchtext's module names (so its ``state_dict`` keys match)."""

from __future__ import annotations

import ember
from ember import nn

__all__ = ["PositionalEmbedding", "TransformerEncoder"]

# the per-layer names of torchtext's pre-0.13 checkpoints -> nn.TransformerEncoderLayer's names
_OLD_LAYER_NAMES = {
    "attention.input_projection.weight": "self_attn.in_proj_weight",
    "attention.input_projection.bias": "self_attn.in_proj_bias",
    "attention.output_projection.weight": "self_attn.out_proj.weight",
    "attention.output_projection.bias": "self_attn.out_proj.bias",
    "residual_mlp.mlp.0.weight": "linear1.weight",
    "residual_mlp.mlp.0.bias": "linear1.bias",
    "residual_mlp.mlp.3.weight": "linear2.weight",
    "residual_mlp.mlp.3.bias": "linear2.bias",
    "attention_layer_norm.weight": "norm1.weight",
    "attention_layer_norm.bias": "norm1.bias",
    "final_layer_norm.weight": "norm2.weight",
    "final_layer_norm.bias": "norm2.bias",
}


class PositionalEmbedding(nn.Module):
    """Learned positions counted over the non-padding tokens (fairseq's convention): the t-th real token
    gets position ``padding_idx + t`` (t from 1), padding gets ``padding_idx``. Key: ``embedding.weight``."""

    def __init__(self, num_embeddings: int, embedding_dim: int, pad_index: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(num_embeddings, embedding_dim, pad_index)
        self.pad_index = pad_index

    def forward(self, input):
        keep = input.ne(self.pad_index).long()
        positions = keep.cumsum(1) * keep + self.pad_index
        return self.embedding(positions)

    def max_positions(self) -> int:
        n = self.embedding.num_embeddings
        return n - self.pad_index - 1 if self.pad_index is not None else n


class TransformerEncoder(nn.Module):
    """Token + positional embeddings, LayerNorm, dropout and a stack of GELU ``nn.TransformerEncoderLayer``s
    (batch first) with the padding tokens masked.

    ``state_dict`` keys: ``token_embedding.weight``, ``layers.layers.{i}.self_attn.in_proj_weight``,
    ``...self_attn.in_proj_bias``, ``...self_attn.out_proj.weight``/``bias``, ``...linear1.weight``/``bias``,
    ``...linear2.weight``/``bias``, ``...norm1.weight``/``bias``, ``...norm2.weight``/``bias``,
    ``positional_embedding.embedding.weight``, ``embedding_layer_norm.weight``/``bias``. Checkpoints with
    torchtext's older per-layer names (``layers.{i}.attention.input_projection.weight``, ...) load too.

    ``forward(tokens)`` takes (B, T) ids and returns (T, B, C) features (or a list of them, one per layer
    plus the embeddings, with ``return_all_layers``), as torchtext does.
    """

    def __init__(self, vocab_size: int, embedding_dim: int, padding_idx: int, max_seq_len: int,
                 num_encoder_layers: int, num_attention_heads: int, ffn_dimension: int | None = None,
                 dropout: float = 0.1, normalize_before: bool = False, scaling: float | None = None,
                 return_all_layers: bool = False) -> None:
        super().__init__()
        self.padding_idx = padding_idx
        self.token_embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx)
        layer = nn.TransformerEncoderLayer(d_model=embedding_dim, nhead=num_attention_heads,
                                           dim_feedforward=ffn_dimension or 4 * embedding_dim, dropout=dropout,
                                           activation="gelu", batch_first=True, norm_first=normalize_before)
        self.layers = nn.TransformerEncoder(layer, num_encoder_layers, enable_nested_tensor=True, mask_check=False)
        self.positional_embedding = PositionalEmbedding(max_seq_len, embedding_dim, padding_idx)
        self.embedding_layer_norm = nn.LayerNorm(embedding_dim)
        self.dropout = nn.Dropout(dropout)
        self.normalize_before = normalize_before
        self.return_all_layers = return_all_layers

    def forward(self, tokens, attn_mask=None):
        if attn_mask is not None and not (attn_mask.is_floating_point() or attn_mask.dtype == ember.bool):
            raise RuntimeError(f"Only float or bool types are supported for attn_mask not {attn_mask.dtype}")
        padding_mask = tokens.eq(self.padding_idx)
        embedded = self.token_embedding(tokens) + self.positional_embedding(tokens)
        if not self.normalize_before:
            embedded = self.embedding_layer_norm(embedded)
        encoded = self.dropout(embedded)
        if self.return_all_layers:
            states = [encoded.transpose(1, 0)]
            for layer in self.layers.layers:
                encoded = layer(encoded, src_mask=attn_mask, src_key_padding_mask=padding_mask)
                states.append(encoded.transpose(1, 0))
            if self.normalize_before:
                states = [self.embedding_layer_norm(s) for s in states]
            return states
        encoded = self.layers(encoded, mask=attn_mask, src_key_padding_mask=padding_mask).transpose(1, 0)
        return self.embedding_layer_norm(encoded) if self.normalize_before else encoded

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        for i in range(self.layers.num_layers):
            for old, new in _OLD_LAYER_NAMES.items():
                old_key = f"{prefix}layers.{i}.{old}"
                if old_key in state_dict:
                    state_dict[f"{prefix}layers.layers.{i}.{new}"] = state_dict.pop(old_key)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)
