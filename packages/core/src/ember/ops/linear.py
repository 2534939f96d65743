"""Affine maps: ``linear`` (``x @ W^T + b``) and ``bilinear`` (``x1^T A x2 + b``)."""

from __future__ import annotations

import math

from .. import _fast
from ..autograd.function import Primitive
from . import _lapack_native as _native
from ..tensor import Tensor
from ..autograd.autocast import autocast_op


def _shape_str(shape):
    return "x".join(str(s) for s in shape) if shape else ""


class Linear(Primitive):
    """``x @ W^T + b`` with the leading dims of ``x`` folded into one GEMM."""

    @staticmethod
    def forward(ctx, x, w, b):
        xa, wa = x._data, w._data
        if xa.ndim == 0 or wa.ndim not in (1, 2) or xa.shape[-1] != wa.shape[-1]:
            rows = 1 if xa.ndim < 2 else xa.size // max(xa.shape[-1], 1)
            first = (rows, xa.shape[-1] if xa.ndim else 1)
            raise RuntimeError(
                f"mat1 and mat2 shapes cannot be multiplied ({_shape_str(first)} and "
                f"{_shape_str(wa.shape[::-1])})"
            )
        if xa.dtype != wa.dtype:
            raise RuntimeError(
                f"mat1 and mat2 must have the same dtype, but got {_dt_name(xa)} and {_dt_name(wa)}"
            )
        if ctx.needs_input_grad is not None:
            ctx.save_for_backward(x, w)
        if b is not None and xa.ndim >= 2 and wa.ndim == 2:  # the bias folded into the GEMM where it can be
            out = _native.linear_bias(xa.reshape(math.prod(xa.shape[:-1]), xa.shape[-1]), wa, b._data)
            if out is not None:
                return out.reshape(*xa.shape[:-1], wa.shape[0])
        if xa.ndim > 2 and wa.ndim == 2:
            # one 2-D GEMM: N-D matmul of a non-contiguous view (e.g. a permuted NHWC tensor) skips BLAS
            out = _fast.matmul_2d(xa.reshape(-1, xa.shape[-1]), wa.T).reshape(*xa.shape[:-1], wa.shape[0])
        elif xa.ndim == 2 and wa.ndim == 2:
            out = _fast.matmul_2d(xa, wa.T)
        else:
            out = xa @ wa.T
        if b is not None:
            out += b._data
        return out

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        gx = gw = gb = None
        if w.dim() == 1:  # a vector weight gives an output without the feature dim
            if need_x:
                gx = grad.unsqueeze(-1) * w
            if need_w:
                gw = (grad.unsqueeze(-1) * x).reshape(-1, x.shape[-1]).sum(0)
            if need_b:
                gb = grad.sum() if grad.dim() else grad
            return gx, gw, gb
        out_f, in_f = w.shape
        rows = math.prod(x.shape[:-1])
        g2 = grad.reshape(rows, out_f)  # explicit sizes: -1 is ambiguous when a size is 0
        if need_x:  # one 2-D GEMM: NumPy runs an N-D @ 2-D product as a loop of small ones (10x slower)
            gx = g2.mm(w).reshape(*x.shape) if x.dim() > 2 else grad.matmul(w)
        if need_w:
            gw = g2.t().mm(x.reshape(rows, in_f))
        if need_b:
            gb = g2.sum(0)
        return gx, gw, gb


def _dt_name(arr):
    from .unary import scalar_type_name

    return scalar_type_name(arr.dtype)


@autocast_op
def linear(input, weight, bias=None):
    """``input @ weight.T + bias``: input (*, in_features), weight (out_features, in_features)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"linear(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    return Linear.apply(input, weight, bias)


def bilinear(input1, input2, weight, bias=None):
    """``y_k = x1^T A_k x2 + b_k``: input1 (*, in1), input2 (*, in2), weight (out, in1, in2)."""
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(
            f"bilinear(): input batch dimensions do not match: got {list(input1.shape[:-1])} and "
            f"{list(input2.shape[:-1])}"
        )
    if weight.dim() != 3 or weight.shape[1] != input1.shape[-1] or weight.shape[2] != input2.shape[-1]:
        raise RuntimeError(
            f"bilinear(): weight of shape {list(weight.shape)} does not match inputs of sizes "
            f"{input1.shape[-1]} and {input2.shape[-1]}"
        )
    lead = input1.shape[:-1]
    x1 = input1.reshape(-1, input1.shape[-1])
    x2 = input2.reshape(-1, input2.shape[-1])
    # (B, in1) @ (in1, out*in2) -> (B, out, in2), then contract with x2
    out_f, in1, in2 = weight.shape
    t = x1.mm(weight.permute(1, 0, 2).reshape(in1, out_f * in2)).reshape(-1, out_f, in2)
    y = (t * x2.unsqueeze(1)).sum(-1)
    if bias is not None:
        y = y + bias
    return y.reshape(tuple(lead) + (out_f,))


__all__ = ["linear", "bilinear"]
