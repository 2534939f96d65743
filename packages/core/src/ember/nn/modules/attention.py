"""MultiheadAttention with PyTorch's parameters (``in_proj_weight``, ``out_proj.weight``, ...) and masks."""

from __future__ import annotations

from ... import creation
from ...ops.attention import attention_with_weights
from .. import init
from ..module import Module
from ..parameter import Parameter
from .linear import Linear


class NonDynamicallyQuantizableLinear(Linear):
    """The Linear that MultiheadAttention uses for ``out_proj`` (same as Linear)."""


def _canonical_mask(mask, name, dtype):
    """A bool mask (True = masked out, as MultiheadAttention defines it) becomes an additive -inf mask."""
    if mask is None:
        return None
    if mask.dtype.name == "bool":
        zeros = creation.zeros(*mask.shape, dtype=dtype, device=mask.device)
        return zeros.masked_fill(mask, float("-inf"))
    if not mask.is_floating_point():
        raise AssertionError(f"only bool and floating types of {name} are supported")
    return mask


class MultiheadAttention(Module):
    """Attention from ``num_heads`` parallel heads (Vaswani et al. 2017)."""

    __constants__ = ["batch_first"]

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None):
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and num_heads={num_heads} instead")
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(creation.empty(embed_dim, embed_dim, **factory))
            self.k_proj_weight = Parameter(creation.empty(embed_dim, self.kdim, **factory))
            self.v_proj_weight = Parameter(creation.empty(embed_dim, self.vdim, **factory))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(creation.empty(3 * embed_dim, embed_dim, **factory))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(creation.empty(3 * embed_dim, **factory))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **factory)
        if add_bias_kv:
            self.bias_k = Parameter(creation.empty(1, 1, embed_dim, **factory))
            self.bias_v = Parameter(creation.empty(1, 1, embed_dim, **factory))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def _projections(self, query, key, value):
        from ...ops.linear import linear

        E = self.embed_dim
        b = self.in_proj_bias
        bq, bk, bv = (None, None, None) if b is None else (b[:E], b[E : 2 * E], b[2 * E :])
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            if query is key and key is value:
                qkv = linear(query, w, b)
                return qkv[..., :E], qkv[..., E : 2 * E], qkv[..., 2 * E :]
            wq, wk, wv = w[:E], w[E : 2 * E], w[2 * E :]
        else:
            wq, wk, wv = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        return linear(query, wq, bq), linear(key, wk, bk), linear(value, wv, bv)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        """Inputs (L, N, E) — or (N, L, E) with ``batch_first`` — or unbatched (L, E); returns
        ``(attn_output, attn_weights or None)``."""
        from ...ops.joining import cat
        from ...ops.spatial import pad

        batched = query.dim() == 3
        # batch-major (N, L, E) inside: batch_first inputs stay contiguous for the projections, and the heads
        # are views (N, H, L, hd) of them; the L-first shapes are the ones checked and named in errors
        if batched and not self.batch_first:  # keep "query is key is value" true for the fused projection
            if key is value:
                if query is key:
                    query = key = value = query.transpose(0, 1)
                else:
                    query, key = query.transpose(0, 1), key.transpose(0, 1)
                    value = key
            else:
                query, key, value = (x.transpose(0, 1) for x in (query, key, value))
        if not batched:
            query, key, value = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        bsz, tgt_len, embed_dim = query.shape
        if embed_dim != self.embed_dim:
            raise AssertionError(f"was expecting embedding dimension of {self.embed_dim}, but got {embed_dim}")
        if key.shape[:2] != value.shape[:2]:
            k_shape, v_shape = ((x.shape[1], x.shape[0]) + tuple(x.shape[2:]) for x in (key, value))
            raise AssertionError(f"key shape {k_shape} does not match value shape {v_shape}")
        if is_causal and attn_mask is None:
            raise RuntimeError(
                "Need attn_mask if specifying the is_causal hint. You may use the Transformer module method "
                "`generate_square_subsequent_mask` to create this mask."
            )
        key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", query.dtype)
        attn_mask = _canonical_mask(attn_mask, "attn_mask", query.dtype)
        q, k, v = self._projections(query, key, value)
        if self.bias_k is not None:
            k = cat([k, self.bias_k.reshape(1, 1, -1).expand(bsz, 1, self.embed_dim)], dim=1)
            v = cat([v, self.bias_v.reshape(1, 1, -1).expand(bsz, 1, self.embed_dim)], dim=1)
            attn_mask = pad(attn_mask, (0, 1)) if attn_mask is not None else None
            key_padding_mask = pad(key_padding_mask, (0, 1)) if key_padding_mask is not None else None
        H, hd = self.num_heads, self.head_dim
        q = q.reshape(bsz, tgt_len, H, hd).permute(0, 2, 1, 3)
        k = k.reshape(bsz, k.shape[1], H, hd).permute(0, 2, 1, 3)
        v = v.reshape(bsz, v.shape[1], H, hd).permute(0, 2, 1, 3)
        if self.add_zero_attn:
            k = cat([k, creation.zeros(bsz, H, 1, hd, dtype=k.dtype, device=k.device)], dim=2)
            v = cat([v, creation.zeros(bsz, H, 1, hd, dtype=v.dtype, device=v.device)], dim=2)
            attn_mask = pad(attn_mask, (0, 1)) if attn_mask is not None else None
            key_padding_mask = pad(key_padding_mask, (0, 1)) if key_padding_mask is not None else None
        src_len = k.shape[2]
        if attn_mask is not None:
            if attn_mask.dim() == 2:
                if tuple(attn_mask.shape) != (tgt_len, src_len):
                    raise RuntimeError(f"The shape of the 2D attn_mask is {tuple(attn_mask.shape)}, but should be {(tgt_len, src_len)}.")
            elif attn_mask.dim() == 3:
                if tuple(attn_mask.shape) != (bsz * H, tgt_len, src_len):
                    raise RuntimeError(f"The shape of the 3D attn_mask is {tuple(attn_mask.shape)}, but should be {(bsz * H, tgt_len, src_len)}.")
            else:
                raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")
        # the additive mask stays a tensor built with ember ops, so that a traced graph (ember.jit,
        # ember.onnx) computes it from a padding mask given as an input
        bias = attn_mask if attn_mask is None or attn_mask.dim() == 2 else attn_mask.reshape(bsz, H, tgt_len, src_len)
        if key_padding_mask is not None:
            if tuple(key_padding_mask.shape) != (bsz, src_len):
                raise AssertionError(f"expecting key_padding_mask shape of {(bsz, src_len)}, but got {tuple(key_padding_mask.shape)}")
            kpm = key_padding_mask.reshape(bsz, 1, 1, src_len)
            bias = kpm if bias is None else bias + kpm
        dropout_p = self.dropout if self.training else 0.0
        if need_weights:
            out, weights = attention_with_weights(q, k, v, bias, dropout_p)
        else:
            out = attention_with_weights(q, k, v, bias, dropout_p, return_weights=False)
            weights = None
        out = out.permute(0, 2, 1, 3).reshape(bsz * tgt_len, embed_dim)
        out = self.out_proj(out).reshape(bsz, tgt_len, embed_dim)
        if weights is not None:
            weights = weights.reshape(bsz, H, tgt_len, src_len)
            if average_attn_weights:
                weights = weights.mean(dim=1)
            if not batched:
                weights = weights.squeeze(0)
        if not batched:
            out = out.squeeze(0)
        elif not self.batch_first:
            out = out.transpose(0, 1)
        return out, weights

    def extra_repr(self):
        return ""

    def merge_masks(self, attn_mask, key_padding_mask, query):
        raise NotImplementedError("MultiheadAttention.merge_masks (fast-path helper) is not provided by ember")


__all__ = ["MultiheadAttention"]
