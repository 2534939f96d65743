"""``embedding_bag``: sums, means or maxima of bags of embeddings, without materialising the per-bag lists.

The rows are looked up once (``embedding``'s primitive, so max_norm and the weight gradient are shared),
then reduced per bag by one segment primitive: a sorted ``add.reduceat`` for sum/mean and a padded
(bags x longest bag x D) maximum for max.
"""

from __future__ import annotations

from .. import _fast
from ..autograd.function import Primitive, once_differentiable
from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor
from ._common import checks_values, xp_of
from .embedding import _check_indices, _rows_sum, embedding


class _SegmentSum(Primitive):
    @staticmethod
    def forward(ctx, values, bag_ids, num_bags):
        if ctx.needs_input_grad is not None:
            ctx.bag_ids = bag_ids
        return _rows_sum(xp_of(values._data), bag_ids._data, values._data, num_bags)

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.bag_ids], None, None


def _bag_starts(xp, bag_ids, num_bags, L):
    """The first element of each bag (elements are grouped by bag in order)."""
    return xp.searchsorted(bag_ids, xp.arange(num_bags), side="left")


class _SegmentMax(Primitive):
    @staticmethod
    def forward(ctx, values, bag_ids, positions, num_bags, longest, valid):
        v = values._data
        xp = xp_of(v)
        L, D = v.shape
        dense = xp.full((num_bags, max(longest, 1), D), -xp.inf, dtype=v.dtype)
        b, p, keep = bag_ids._data, positions._data, valid
        dense[b[keep], p[keep]] = v[keep]
        arg = dense.argmax(axis=1)  # first maximum, as PyTorch
        out = xp.take_along_axis(dense, arg[:, None, :], axis=1)[:, 0]
        empty = xp.isneginf(out)
        out = xp.where(empty, 0, out).astype(v.dtype)
        if ctx.needs_input_grad is not None:
            ctx.rows = xp.where(empty, -1, _bag_starts(xp, b, num_bags, L)[:, None] + arg)  # source element

            ctx.L = L
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        g = grad._data
        xp = xp_of(g)
        rows = ctx.rows
        gv = xp.zeros((ctx.L, g.shape[1]), dtype=g.dtype)
        hit = rows >= 0
        cols = xp.broadcast_to(xp.arange(g.shape[1]), rows.shape)
        gv[rows[hit], cols[hit]] = g[hit]
        return Tensor._make(gv), None, None, None, None, None


def _fused(flat, weight, per_sample_weights, mode, max_norm):
    """Whether the bags are summed straight from the weight (the compiled kernel, float32): no gradient to
    keep, sum or mean, no renormalisation, indices in range and not negative (the general path raises or
    wraps them)."""
    if mode == "max" or max_norm is not None or not _fast.usable(weight._data):
        return False
    if is_grad_enabled() and (weight.requires_grad or (per_sample_weights is not None
                                                       and per_sample_weights.requires_grad)):
        return False
    if per_sample_weights is not None and per_sample_weights._data.dtype != weight._data.dtype:
        return False
    idx = flat._data
    return type(idx) is type(weight._data) and (idx.size == 0 or (int(idx.min()) >= 0
                                                                   and int(idx.max()) < weight.shape[0]))


def _bag_sums(idx, w, starts, per_sample_weights, padding_idx, mean):
    """embedding_bag's sums or means in one compiled pass over the bags (no (L, D) rows in between)."""
    xp = xp_of(w)
    L = idx.shape[0]
    ends = xp.concatenate((starts[1:], xp.asarray([L], dtype=starts.dtype))) if starts.size else starts
    out = xp.empty((starts.shape[0], w.shape[1]), dtype=w.dtype)
    psw = w[:0, 0] if per_sample_weights is None else xp.ascontiguousarray(per_sample_weights._data.reshape(-1))
    pad = -1 if padding_idx is None else padding_idx
    _fast.kernels().bag_sums(w, xp.ascontiguousarray(idx.reshape(-1), dtype=xp.int64), starts,
                             xp.minimum(ends, L), psw, pad, mean, out)
    return Tensor._make(out)


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """Reduce (``'sum'``, ``'mean'`` or ``'max'``) bags of rows of ``weight``: each row of a 2-D ``input``
    is a bag, or a 1-D ``input`` is cut into bags starting at ``offsets``. Output (bags, embedding_dim)."""
    _check_indices(input)
    if weight.dim() != 2:
        raise RuntimeError(f"'weight' must be 2-D, but got a {weight.dim()}-D tensor of shape {list(weight.shape)}")
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if sparse:
        raise NotImplementedError("sparse embedding gradients are not supported by ember; use sparse=False")
    if per_sample_weights is not None:
        if mode != "sum":
            raise NotImplementedError(
                "embedding_bag: per_sample_weights was not None. per_sample_weights is only supported for "
                f"mode='sum' (got mode='{mode}'). Please open a feature request on GitHub.")
        if tuple(per_sample_weights.shape) != tuple(input.shape):
            raise ValueError(f"embedding_bag: If per_sample_weights ({tuple(per_sample_weights.shape)}) is not None, "
                             f"then it must have the same shape as the input ({tuple(input.shape)})")
    xp = xp_of(input._data)
    num = weight.shape[0]
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise AssertionError("padding_idx must be within the number of embeddings")
        padding_idx %= num
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             "fixed length sequences. However, found offsets of type Tensor")
        B, N = input.shape
        flat = input.reshape(-1)
        starts = xp.arange(0, B * N, N, dtype=xp.int64) if N else xp.zeros(B, dtype=xp.int64)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        flat = input
        starts = offsets._data.astype(xp.int64)
        if include_last_offset:
            starts = starts[:-1]
        if starts.size and checks_values(xp) and int(starts[0]) != 0:
            raise RuntimeError("offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from "
                               f"position 0. However, got {int(starts[0])}")
        if offsets.numel() and checks_values(xp) and int(offsets._data[-1]) > flat.shape[0]:
            raise RuntimeError(f"offsets[-1] can not be greater than input's length {flat.shape[0]}, but got "
                               f"offsets[-1] of {int(offsets._data[-1])}")
        B = starts.size
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")
    L = flat.shape[0]
    if _fused(flat, weight, per_sample_weights, mode, max_norm):
        return _bag_sums(flat._data, weight._data, starts, per_sample_weights, padding_idx, mode == "mean")
    bag_ids = (xp.searchsorted(starts, xp.arange(L), side="right") - 1).astype(xp.int64)
    rows = embedding(flat, weight, None, max_norm, norm_type, scale_grad_by_freq)
    valid = xp.ones(L, dtype=bool) if padding_idx is None else flat._data != padding_idx
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.unsqueeze(-1)
    bag_t = Tensor._make(bag_ids)
    if mode == "max":
        positions = xp.arange(L, dtype=xp.int64) - starts[bag_ids] if L else xp.zeros(0, dtype=xp.int64)
        longest = int(xp.bincount(bag_ids, minlength=B).max()) if L and B else 0
        return _SegmentMax.apply(rows, bag_t, Tensor._make(positions), B, longest, valid)
    if padding_idx is not None:
        rows = rows * Tensor._make(valid.astype(rows._data.dtype)).unsqueeze(-1)
    out = _SegmentSum.apply(rows, bag_t, B)
    if mode == "mean":
        counts = xp.bincount(bag_ids[valid], minlength=B).astype(out._data.dtype) if L else xp.zeros(B, out._data.dtype)
        out = out / Tensor._make(xp.maximum(counts, 1)).unsqueeze(-1)
    return out
