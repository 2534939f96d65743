"""Differentiable collectives: ``all_reduce`` whose backward all-reduces the gradient (SyncBatchNorm uses it)."""

from __future__ import annotations

from ...autograd.function import Function
from .. import collectives

__all__ = ["all_reduce"]


class _AllReduceSum(Function):
    @staticmethod
    def forward(ctx, tensor, group):
        ctx.group = group
        out = tensor.clone()
        collectives.all_reduce(out, collectives.ReduceOp.SUM, group)
        return out

    @staticmethod
    def backward(ctx, grad):
        grad = grad.clone()
        collectives.all_reduce(grad, collectives.ReduceOp.SUM, ctx.group)
        return grad, None


def all_reduce(tensor, op=collectives.ReduceOp.SUM, group=None):
    """All-reduce (sum) returning a new tensor, differentiable: the gradient is all-reduced as well."""
    if op is not collectives.ReduceOp.SUM:
        raise NotImplementedError(f"differentiable all_reduce supports ReduceOp.SUM only, got {op!r}")
    return _AllReduceSum.apply(tensor, group)
