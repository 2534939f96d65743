"""3-D pooling: max / average / adaptive / power-average pooling and max unpooling of (N, C, D, H, W).

Built on the N-D window geometry and primitives of ``pooling``: one whole-array operation per
kernel offset, ties and NaNs resolved as PyTorch does, indices flattened per plane as d*H*W + h*W + w.
Adaptive average pooling sums the bins axis by axis (a reshape when they tile the input, prefix sums
otherwise).
"""

from __future__ import annotations

import functools

import numpy as np

from ..autograd.function import Primitive
from ..autograd.grad_mode import STATE
from ..tensor import Tensor
from ._common import device_constant, xp_of
from .pooling import (
    AdaptiveMaxPool2dFn,
    AvgPool2dFn,
    MaxPool2dFn,
    MaxUnpoolFn,
    _adaptive_size,
    _bin_counts,
    _bin_sum,
    _bin_sum_t,
    _check_float,
    _check_real,
    geometry,
    _LinearGradFn,
    _out_len,
    _tuple_arg,
    _type_name,
    _unpool_output_size,
)


class MaxPool3dFn(MaxPool2dFn):
    """3-D max pooling over the last three axes; outputs (values, int64 flat indices) or values."""


class AvgPool3dFn(AvgPool2dFn):
    """3-D average pooling over the last three axes."""


class AdaptiveMaxPool3dFn(AdaptiveMaxPool2dFn):
    """Adaptive max pooling of the last three axes; outputs (values, int64 flat indices)."""


_MSGS = {
    "max_pool3d": (
        "max_pool3d: kernel_size must either be a single int, or a tuple of three ints",
        "max_pool3d: stride must either be omitted, a single int, or a tuple of three ints",
        "max_pool3d: padding must either be a single int, or a tuple of three ints",
    ),
    "avg_pool3d": (
        "avg_pool3d: kernel_size must be a single int, or a tuple of three ints",
        "avg_pool3d: stride must be omitted, a single int, or a tuple of three ints",
        "avg_pool3d: padding must be a single int, or a tuple of three ints",
    ),
}


def _parse3d(fname, kernel_size, stride, padding, dilation=1):
    km, sm, pm = _MSGS[fname]
    k = _tuple_arg(kernel_size, 3, fname, "kernel_size", 2, km)
    s = None if stride is None else _tuple_arg(stride, 3, fname, "stride", 3, sm)
    p = _tuple_arg(padding, 3, fname, "padding", 4, pm)
    d = _tuple_arg(dilation, 3, fname, "dilation", 5, "max_pool3d: dilation must be either a single int, or a tuple of three ints")
    return k, (k if s is None else s), p, d


def _pool3d_shape(x, k, s, p, d, ceil_mode, fname, check_input_size=False):
    """(Do, Ho, Wo) after PyTorch's pool3d_shape_check; ``x`` is a 4-D or 5-D tensor."""
    if x.dim() not in (4, 5):
        raise RuntimeError("non-empty 4D or 5D (batch mode) tensor expected for input")
    sizes = tuple(x.shape[-3:])
    out = tuple(_out_len(n, *a, ceil_mode) for n, a in zip(sizes, zip(k, p, s, d)))
    if min(k) <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kT: {k[0]} kH: {k[1]} kW: {k[2]}")
    if min(s) <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got dT: {s[0]} dH: {s[1]} dW: {s[2]}")
    if min(d) <= 0:
        raise RuntimeError(
            f"dilation should be greater than zero, but got dilationT: {d[0]} dilationH: {d[1]} dilationW: {d[2]}"
        )
    first = x.dim() - 4
    for i in range(first, x.dim()):
        if x.shape[i] == 0:
            raise RuntimeError(
                f"{fname}: Expected input's non-batch dimensions to have positive length, but input has a shape of "
                f"{list(x.shape)} and non-batch dimension {i - first} has length zero!"
            )
    if any(kk // 2 < pp for kk, pp in zip(k, p)):
        raise RuntimeError(
            f"pad should be smaller than or equal to half of kernel size, but got kT: {k[0]} kW: {k[2]} kH: {k[1]} "
            f"padT: {p[0]} padW: {p[2]} padH: {p[1]}"
        )
    if check_input_size and any(n < kk for n, kk in zip(sizes, k)):
        raise RuntimeError(
            f"input image (T: {sizes[0]} H: {sizes[1]} W: {sizes[2]}) smaller than kernel size "
            f"(kT: {k[0]} kH: {k[1]} kW: {k[2]})"
        )
    if min(out) < 1:
        C = x.shape[-4]
        raise RuntimeError(
            f"Given input size: ({C}x{'x'.join(map(str, sizes))}). Calculated output size: "
            f"({C}x{'x'.join(map(str, out))}). Output size is too small"
        )
    return out


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """3-D max pooling over an input of shape (N, C, D, H, W) or (C, D, H, W)."""
    k, s, p, d = _parse3d("max_pool3d", kernel_size, stride, padding, dilation)
    out = _pool3d_shape(input, k, s, p, d, ceil_mode, "max_pool3d_with_indices_out_cpu_template()")
    _check_real(input._data, "max_pool3d")
    return MaxPool3dFn.apply(input, geometry(tuple(input.shape[-3:]), tuple(out), k, s, p, d), bool(return_indices))


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
    """3-D average pooling over an input of shape (N, C, D, H, W) or (C, D, H, W)."""
    k, s, p, _ = _parse3d("avg_pool3d", kernel_size, stride, padding)
    if input.dim() not in (4, 5):
        raise RuntimeError("non-empty 4D or 5D (batch mode) tensor expected for input")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    out = _pool3d_shape(input, k, s, p, (1, 1, 1), ceil_mode, "avg_pool3d()", check_input_size=True)
    if input._data.dtype.kind not in "fiu":
        raise NotImplementedError(f"\"avg_pool3d_out_frame\" not implemented for '{_type_name(input._data)}'")
    geom = geometry(tuple(input.shape[-3:]), tuple(out), k, s, p, (1, 1, 1))
    return AvgPool3dFn.apply(input, geom, bool(count_include_pad), divisor_override)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """3-D power-average pooling: ``(sum over window of x**p) ** (1/p)``."""
    from .activation import relu

    kd, kw, kh = (kernel_size,) * 3 if isinstance(kernel_size, int) else kernel_size
    out = avg_pool3d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return (out.sign() * relu(out.abs())).mul(kd * kw * kh).pow(1.0 / norm_type)


# ---------------------------------------------------------------------------------------------
# adaptive pooling
# ---------------------------------------------------------------------------------------------


def _counts(ins, outs):
    return functools.reduce(np.multiply.outer, [_bin_counts(I, O) for I, O in zip(ins, outs)])


class AdaptiveAvgPool3dFn(Primitive):
    """Adaptive average pooling of the last three axes: bin sums axis by axis over the bin sizes."""

    @staticmethod
    def forward(ctx, x, sizes):
        xa = x._data
        xp = xp_of(xa)
        nd = len(sizes)
        lead, ins = xa.shape[:-nd], xa.shape[-nd:]
        if ctx.needs_input_grad is not None:
            ctx.shape = xa.shape
        if 0 in sizes or xa.size == 0:
            return xp.zeros(lead + tuple(sizes), dtype=xa.dtype)
        if all(o == 1 for o in sizes):  # global average
            return xa.mean(axis=tuple(range(-nd, 0)), keepdims=True)
        s = xa
        for a, (I, O) in enumerate(zip(ins, sizes)):
            s = _bin_sum(xp, s, len(lead) + a, I, O, np.float64)
        s /= device_constant(xp, _counts(ins, sizes))
        return s.astype(xa.dtype, copy=False)

    @staticmethod
    def backward(ctx, gout):
        shape, sizes = ctx.shape, tuple(gout.shape[-3:])
        if STATE.enabled:  # create_graph=True: the transpose as an op whose gradient is this pool again
            return _LinearGradFn.apply(gout, lambda ga: _adaptive_avg3d_grad(shape, ga),
                                       lambda t: AdaptiveAvgPool3dFn.apply(t, sizes)), None
        return Tensor._make(_adaptive_avg3d_grad(shape, gout._data)), None


def _adaptive_avg3d_grad(shape, ga):
    """Transpose of the 3-D adaptive average pool: each output gradient spread evenly over its bin."""
    xp = xp_of(ga)
    sizes = ga.shape[len(shape) - 3 :]
    if ga.size == 0 or int(np.prod(shape)) == 0:
        return xp.zeros(shape, dtype=ga.dtype)
    t = ga / device_constant(xp, _counts(shape[-3:], sizes).astype(ga.dtype))
    for a, (I, O) in enumerate(zip(shape[-3:], sizes)):
        t = _bin_sum_t(xp, t, len(shape) - 3 + a, I, O, np.float64)
    return t.astype(ga.dtype, copy=False)


def _check_nonempty(x, fname):
    for d in range(1, x.dim()):
        if x.shape[d] == 0:
            raise RuntimeError(
                f"{fname}(): Expected input to have non-zero size for non-batch dimensions, but input has sizes "
                f"{list(x.shape)} with dimension {d} being empty"
            )


def adaptive_avg_pool3d(input, output_size):
    """Average pooling to a fixed output size (Od, Oh, Ow); ``None`` keeps that input size."""
    sizes = _adaptive_size(output_size, 3, tuple(input.shape[-3:]))
    if len(sizes) != 3:
        raise RuntimeError("adaptive_avg_pool3d: output_size must be 3")
    if min(sizes) < 0:
        raise RuntimeError(
            "adaptive_avg_pool3d: elements of output_size must be greater than or equal to 0 but received "
            f"{{{sizes[0]}, {sizes[1]},{sizes[2]}}}"
        )
    if input.dim() not in (4, 5):
        raise RuntimeError(f"adaptive_avg_pool3d(): Expected 4D or 5D tensor, but got {list(input.shape)}")
    _check_nonempty(input, "adaptive_avg_pool3d")
    _check_float(input._data, "adaptive_avg_pool3d_cpu")
    return AdaptiveAvgPool3dFn.apply(input, sizes)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max pooling to a fixed output size (Od, Oh, Ow); ``None`` keeps that input size."""
    sizes = _adaptive_size(output_size, 3, tuple(input.shape[-3:]))
    if len(sizes) != 3:
        raise RuntimeError("adaptive_max_pool3d(): internal error: output_size.size() must be 3")
    if input.dim() not in (4, 5):
        raise RuntimeError(f"adaptive_max_pool3d(): Expected 4D or 5D tensor, but got: {list(input.shape)}")
    _check_nonempty(input, "adaptive_max_pool3d")
    if min(sizes) < 0:
        raise RuntimeError(
            f"Trying to create tensor with negative dimension {min(sizes)}: {list(input.shape[:-3]) + list(sizes)}"
        )
    _check_float(input._data, "adaptive_max_pool3d_cpu")
    ins = tuple(input.shape[-3:])
    if 0 in sizes or input.numel() == 0:
        xp = xp_of(input._data)
        shape = tuple(input.shape[:-3]) + sizes
        out = Tensor._make(xp.zeros(shape, dtype=input._data.dtype))
        return (out, Tensor._make(xp.zeros(shape, dtype=np.int64))) if return_indices else out
    if all(I % O == 0 for I, O in zip(ins, sizes)):  # even bins: a plain max pool with kernel = stride = I / O
        k = tuple(I // O for I, O in zip(ins, sizes))
        return MaxPool3dFn.apply(input, geometry(tuple(ins), tuple(sizes), k, k, (0, 0, 0), (1, 1, 1)), bool(return_indices))
    out, idx = AdaptiveMaxPool3dFn.apply(input, *sizes)
    return (out, idx) if return_indices else out


# ---------------------------------------------------------------------------------------------
# max unpooling
# ---------------------------------------------------------------------------------------------


def _triple(v):
    return (v,) * 3 if isinstance(v, int) else tuple(v)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool3d``: values go back to their indices, zeros elsewhere."""
    k = _triple(kernel_size)
    s = k if stride is None else _triple(stride)
    p = _triple(padding)
    size = _unpool_output_size(input, k, s, p, output_size)
    if len(size) != 3:
        raise RuntimeError(
            f"There should be exactly three elements (depth, height, width) in output_size, but got {len(size)} elements."
        )
    if indices._data.dtype != np.int64:
        raise RuntimeError("elements in indices should be type int64")
    if input.dim() not in (4, 5):
        raise RuntimeError(f"Input to max_unpooling3d should be a 4d or 5d Tensor, but got a tensor with {input.dim()} dimensions.")
    if tuple(input.shape) != tuple(indices.shape):
        raise RuntimeError(
            f"Expected shape of indices to be same as that of the input tensor ({list(input.shape)}) but got indices "
            f"tensor with shape: {list(indices.shape)}"
        )
    return MaxUnpoolFn.apply(input, indices, tuple(size))


__all__ = ["adaptive_avg_pool3d", "adaptive_max_pool3d", "avg_pool3d", "lp_pool3d", "max_pool3d", "max_unpool3d"]
