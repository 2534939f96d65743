"""3-D convolutions as sums over the depth taps of 2-D convolutions: for each depth offset ``kd`` the
(strided) depth slices fold into the batch and meet ``weight[:, :, kd]`` in one ``conv2d`` (or
``conv_transpose2d``) call, so the work stays in the 2-D GEMM paths and gradients (including double
backward) come from the 2-D primitives. The Python loop runs over the kernel's depth only."""

from __future__ import annotations

from ..tensor import Tensor
from . import conv as _c


def _fold(x):
    """(N, C, D, H, W) -> (N*D, C, H, W)."""
    N, C, D, H, W = x.shape
    return x.movedim(2, 1).reshape(N * D, C, H, W)


def _unfold(y, N, D):
    """(N*D, C, H, W) -> (N, C, D, H, W) (D given: N may be 0)."""
    _, C, H, W = y.shape
    return y.reshape(N, D, C, H, W).movedim(1, 2)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution over (N, C_in, D, H, W) or (C_in, D, H, W) input with weight
    (C_out, C_in/groups, kD, kH, kW). ``padding`` is an int, a triple, ``'valid'`` or ``'same'``."""
    from .spatial import pad as _pad

    x, batched = _c._batchify(input, 3, "conv3d")
    if not isinstance(weight, Tensor):
        raise TypeError(f"conv3d(): argument 'weight' (position 2) must be Tensor, not {type(weight).__name__}")
    stride = _c._expand(stride, "stride", 3, 3)
    dilation = _c._expand(dilation, "dilation", 3, 3)
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise RuntimeError(f"Invalid padding string: '{padding}'")
        if padding == "same" and any(s != 1 for s in stride):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        pad_list = [0, 0, 0]
    else:
        pad_list = _c._expand(padding, "padding", 3, 3)
    _c._check_common(x, weight, bias, stride, pad_list, dilation, groups, 3, False)
    ks = list(weight.shape[2:])
    pads = _c._same_pads(ks, dilation, "conv3d") if padding == "same" else [(p, p) for p in pad_list]
    padded = [x.shape[2 + i] + pads[i][0] + pads[i][1] for i in range(3)]
    kern = [dilation[i] * (ks[i] - 1) + 1 for i in range(3)]
    if any(p < k for p, k in zip(padded, kern)):
        raise RuntimeError(f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). Kernel size: "
                           f"({' x '.join(map(str, kern))}). Kernel size can't be greater than actual input size")
    if any(lo or hi for lo, hi in pads):
        x = _pad(x, [pads[2][0], pads[2][1], pads[1][0], pads[1][1], pads[0][0], pads[0][1]])
    N = x.shape[0]
    sd, dd = stride[0], dilation[0]
    Do = (padded[0] - kern[0]) // sd + 1
    out = None
    for kd in range(ks[0]):
        start = kd * dd
        xs = x[:, :, start:start + sd * (Do - 1) + 1:sd]
        y = _c.conv2d(_fold(xs), weight[:, :, kd], None, stride[1:], 0, dilation[1:], groups)
        out = y if out is None else out + y
    out = _unfold(out, N, Do)
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1, 1)
    return out if batched else out.squeeze(0)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """3-D transposed convolution: the gradient of conv3d with respect to its input.
    weight is (C_in, C_out/groups, kD, kH, kW)."""
    from .joining import stack
    from .spatial import pad as _pad

    x, batched = _c._batchify(input, 3, "conv_transpose3d")
    if not isinstance(weight, Tensor):
        raise TypeError(f"conv_transpose3d(): argument 'weight' (position 2) must be Tensor, not "
                        f"{type(weight).__name__}")
    if isinstance(padding, str):
        raise TypeError("conv_transpose3d(): argument 'padding' must be tuple of ints, not str")
    stride = _c._expand(stride, "stride", 3, 3)
    padding = _c._expand(padding, "padding", 3, 3)
    dilation = _c._expand(dilation, "dilation", 3, 3)
    output_padding = _c._expand(output_padding, "output_padding", 3, 3)
    if any(p < 0 for p in output_padding):
        raise RuntimeError("negative output_padding is not supported")
    _c._check_common(x, weight, bias, stride, padding, dilation, groups, 3, True)
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        raise RuntimeError(
            "output padding must be smaller than either stride or dilation, but got "
            f"output_padding_depth: {output_padding[0]} output_padding_height: {output_padding[1]} "
            f"output_padding_width: {output_padding[2]} stride_depth: {stride[0]} stride_height: {stride[1]} "
            f"stride_width: {stride[2]} dilation_depth: {dilation[0]} dilation_height: {dilation[1]} "
            f"dilation_width: {dilation[2]}")
    ks = list(weight.shape[2:])
    out_sizes = [(x.shape[2 + i] - 1) * stride[i] - 2 * padding[i] + dilation[i] * (ks[i] - 1) + output_padding[i] + 1
                 for i in range(3)]
    if any(o <= 0 for o in out_sizes):
        raise RuntimeError(f"Given input size per channel: ({' x '.join(str(s) for s in x.shape[2:])}). Calculated "
                           f"output size per channel: ({' x '.join(map(str, out_sizes))}). Output size is too small")
    N, D = x.shape[0], x.shape[2]
    if N == 0:  # an empty batch: an empty result, still in the graph of weight (and bias)
        out = x.new_zeros((0, weight.shape[1] * groups, *out_sizes)) + weight.sum()
        out = out if bias is None else out + bias.reshape(1, -1, 1, 1, 1)
        return out if batched else out.squeeze(0)
    sd, dd, pd = stride[0], dilation[0], padding[0]
    full = (D - 1) * sd + dd * (ks[0] - 1) + 1 + output_padding[0]
    folded = _fold(x)
    out = None
    for kd in range(ks[0]):
        y = _c.conv_transpose2d(folded, weight[:, :, kd], None, stride[1:], padding[1:], output_padding[1:], groups,
                                dilation[1:])
        y = _unfold(y, N, D)  # (N, C_out, D, Ho, Wo) at depths d * sd + kd * dd
        if sd > 1:  # put sd - 1 zero planes between the depth planes
            y = stack([y] + [y.new_zeros(y.shape)] * (sd - 1), 3).flatten(2, 3)[:, :, :(D - 1) * sd + 1]
        before = kd * dd
        y = _pad(y, [0, 0, 0, 0, before, full - before - y.shape[2]])
        out = y if out is None else out + y
    out = out[:, :, pd:pd + out_sizes[0]]
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1, 1)
    return out if batched else out.squeeze(0)
