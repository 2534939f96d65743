"""Scaled dot-product attention as one fused primitive (scores, softmax, dropout, weighted sum)."""

from __future__ import annotations

import math

from .. import _fast
from ..autograd.function import Primitive, once_differentiable
from ..tensor import Tensor
from ._common import xp_of
from ..autograd.autocast import autocast_op


def _softmax_(xp, s):
    """Softmax over the last dim: one compiled pass per row into a new array (``ember[fast]``, float32 CPU,
    rows shared out among threads; in place its loops would not vectorise), or NumPy's four in place."""
    if _fast.usable(s):
        return _fast.last_dim_rows("softmax_fwd", s)
    s -= s.max(axis=-1, keepdims=True)
    xp.exp(s, out=s)
    s /= s.sum(axis=-1, keepdims=True)
    return s


def _softmax_grad(dp, p):
    """p * (dp - sum(dp * p)) over the last dim: the scores' gradient from the probabilities'."""
    if _fast.usable(p, dp) and dp.shape == p.shape and dp.flags.c_contiguous:
        return _fast.last_dim_rows("softmax_bwd", dp, p)
    return p * (dp - (dp * p).sum(axis=-1, keepdims=True))


class SDPA(Primitive):
    """softmax(q k^T * scale + bias) v, with an optional dropout mask on the probabilities. ``bias`` (an
    additive mask, no gradient) is an array or a tensor; a tensor computed from the inputs (e.g. a padding
    mask) stays part of a traced graph."""

    @staticmethod
    def forward(ctx, q, k, v, bias, scale, keep_mask, keep_scale, return_weights):
        qa, ka, va = q._data, k._data, v._data
        xp = xp_of(qa)
        s = qa @ xp.swapaxes(ka, -1, -2)
        s *= scale
        if bias is not None:
            s = s + (bias._data if isinstance(bias, Tensor) else bias)
        p = _softmax_(xp, s)
        pd = p if keep_mask is None else p * keep_mask * keep_scale
        out = pd @ va
        if ctx.needs_input_grad is not None:
            ctx.saved = (qa, ka, va, p, pd, scale, keep_mask, keep_scale)
        return (out, pd) if return_weights else out

    @staticmethod
    @once_differentiable
    def backward(ctx, dout, dweights=None):
        qa, ka, va, p, pd, scale, keep_mask, keep_scale = ctx.saved
        xp = xp_of(qa)
        do = dout._data
        dv = xp.swapaxes(pd, -1, -2) @ do
        dp = do @ xp.swapaxes(va, -1, -2)
        if dweights is not None:  # the returned weights are the probabilities after dropout
            dp = dp + dweights._data
        if keep_mask is not None:
            dp = dp * keep_mask * keep_scale
        ds = _softmax_grad(dp, p)
        dbias = Tensor._make(ds.copy()) if ctx.needs_input_grad[3] else None  # a float mask that requires grad
        ds *= scale
        dq = ds @ ka
        dk = xp.swapaxes(ds, -1, -2) @ qa
        return Tensor._make(dq), Tensor._make(dk), Tensor._make(dv), dbias


def _attn_bias(attn_mask, is_causal, L, S, like):
    """Additive float bias from a bool mask (True = may attend) or float mask, plus causal masking."""
    xp = xp_of(like)
    bias = None
    if is_causal:
        bias = xp.where(xp.tril(xp.ones((L, S), dtype=bool)), 0.0, -xp.inf).astype(like.dtype)
    if attn_mask is not None:
        m = attn_mask._data if isinstance(attn_mask, Tensor) else attn_mask
        if m.dtype == bool:
            m = xp.where(m, 0.0, -xp.inf).astype(like.dtype)
        else:
            m = m.astype(like.dtype, copy=False)
        bias = m if bias is None else bias + m
    return bias


@autocast_op
def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False):
    """Attention over the last two dims: ``softmax(Q K^T / sqrt(E) + mask) V`` (PyTorch's semantics:
    a bool ``attn_mask`` is True where attention is allowed, a float one is added to the scores)."""
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")
    if query.shape[-1] != key.shape[-1]:
        raise RuntimeError(f"Expected query and key to have the same last dimension, got {tuple(query.shape)} and {tuple(key.shape)}")
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"Expected key and value to have the same sequence length, got {tuple(key.shape)} and {tuple(value.shape)}")
    if enable_gqa and query.dim() >= 3 and key.shape[-3] != query.shape[-3]:
        groups = query.shape[-3] // key.shape[-3]
        key = key.repeat_interleave(groups, dim=-3)
        value = value.repeat_interleave(groups, dim=-3)
    L, S = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    if isinstance(attn_mask, Tensor) and attn_mask.requires_grad and attn_mask.is_floating_point():
        bias = attn_mask.to(query.dtype)  # a learned additive mask gets its gradient, as in PyTorch
    else:
        bias = _attn_bias(attn_mask, is_causal, L, S, query._data)
    keep, keep_scale = _dropout_mask(query, key, dropout_p)
    return SDPA.apply(query, key, value, bias, scale, keep, keep_scale, False)


def _dropout_mask(query, key, dropout_p):
    if not dropout_p:
        return None, 1.0
    if dropout_p >= 1.0:
        keep_scale = 0.0
    else:
        keep_scale = 1.0 / (1.0 - dropout_p)
    from ..random import _gen, uniform_array

    shape = tuple(query.shape[:-1]) + (key.shape[-2],)
    u = uniform_array(_gen(None, query.device), shape, query._data.dtype)
    return (u >= dropout_p).astype(query._data.dtype), keep_scale


def attention_with_weights(query, key, value, bias, dropout_p=0.0, return_weights=True):
    """Like SDPA with an additive ``bias`` (array or tensor, no gradient), also returning the attention
    probabilities after dropout as PyTorch does (need_weights=True) unless ``return_weights`` is False."""
    scale = 1.0 / math.sqrt(query.shape[-1])
    keep, keep_scale = _dropout_mask(query, key, dropout_p)
    return SDPA.apply(query, key, value, bias, scale, keep, keep_scale, return_weights)


__all__ = ["scaled_dot_product_attention"]
