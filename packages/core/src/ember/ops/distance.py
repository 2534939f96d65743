"""Distances and similarities between vectors: ``normalize``, ``cosine_similarity``, ``pairwise_distance``, ``pdist``, ``cdist``."""

from __future__ import annotations

from ..autograd.autocast import autocast_op
from ..autograd.function import Primitive
from ._common import xp_of
from .broadcast import sum_to_size

_MODES = {"use_mm_for_euclid_dist_if_necessary": 0, "use_mm_for_euclid_dist": 1, "donot_use_mm_for_euclid_dist": 2}


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """``input / max(||input||_p, eps)`` along ``dim``."""
    denom = input.norm(p, dim, keepdim=True).clamp(min=eps).expand_as(input)
    result = input / denom
    if out is not None:
        out.copy_(result)
        return out
    return result


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """``x1 . x2 / (max(||x1||, eps) * max(||x2||, eps))`` along ``dim`` (inputs broadcast first)."""
    from .broadcast import broadcast_tensors

    if x1.shape != x2.shape:
        x1, x2 = broadcast_tensors(x1, x2)
    n1 = x1.norm(2, dim, keepdim=True).clamp(min=eps)
    n2 = x2.norm(2, dim, keepdim=True).clamp(min=eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """``||x1 - x2 + eps||_p`` along the last dimension."""
    diff = x1 - x2 + eps
    if diff.dim() == 0:
        return diff.abs()
    return diff.norm(p, -1, keepdim=keepdim)


def pdist(input, p=2.0):
    """Distances between all pairs of rows of a 2-D input (upper triangle, row-major)."""
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    n = input.shape[0]
    from ..creation import triu_indices

    i, j = triu_indices(n, n, 1, device=input.device)
    return (input[i] - input[j]).norm(p, -1)


@autocast_op
def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """p-norm distances between each row of ``x1`` (.., P, M) and each row of ``x2`` (.., R, M)."""
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(
            f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}"
        )
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    if compute_mode not in _MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    mode = _MODES[compute_mode]
    if p == 2 and (mode == 1 or (mode == 0 and (x1.shape[-2] > 25 or x2.shape[-2] > 25))):
        return _EuclideanDist.apply(x1, x2)
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    return diff.norm(p, -1)


class _EuclideanDist(Primitive):
    """Euclidean distances through one matrix product, as PyTorch's mm modes compute them: [-2 x1, |x1|^2, 1]
    times [x2, 1, |x2|^2]^T, clamped at 0, square-rooted (2000x64 rows: the broadcast differences took
    595 ms and a (P, R, M) temporary). The gradient is PyTorch's: 0 where a distance is 0."""

    save_output = True

    @staticmethod
    def forward(ctx, x1, x2):
        a, b = x1._data, x2._data
        xp = xp_of(a)
        if ctx.needs_input_grad is not None:
            ctx.save_for_backward(x1, x2)
        an, bn = (a * a).sum(-1, keepdims=True), (b * b).sum(-1, keepdims=True)
        left = xp.concatenate([a * -2, an, xp.ones_like(an)], axis=-1)
        right = xp.concatenate([b, xp.ones_like(bn), bn], axis=-1)
        res = xp.matmul(left, xp.swapaxes(right, -1, -2))
        xp.maximum(res, 0, out=res)
        return xp.sqrt(res, out=res)

    @staticmethod
    def backward(ctx, grad):
        res = ctx.saved_output
        ratio = grad / res
        ratio = ratio.masked_fill(res == 0, 0)
        x1, x2 = ctx.saved_tensors
        g1 = x1 * ratio.sum(-1, keepdim=True) - ratio @ x2
        g2 = x2 * ratio.sum(-2).unsqueeze(-1) - ratio.mT @ x1
        return sum_to_size(g1, x1.shape), sum_to_size(g2, x2.shape)  # a broadcast batch summed back


def dist(input, other, p=2):
    """The p-norm of ``input - other`` (broadcast); its gradient where they are equal is 0."""
    return (input - other).norm(p)


from ._common import bind  # noqa: E402

bind(dist=dist)

__all__ = ["normalize", "cosine_similarity", "pairwise_distance", "pdist", "cdist", "dist"]
