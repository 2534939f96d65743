"""Spatial ops: padding, interpolation, im2col/col2im (unfold/fold) and pixel (un)shuffle.

Non-constant padding and interpolation are built from one separable primitive, ``_AxisTaps``: along one
axis, ``out[o] = sum_k w_k[o] * x[idx_k[o]]`` (one ``take`` per tap). Its adjoint (``_AxisTapsT``) sums
the gradient back onto the source positions with a few strided slice-adds (or, for irregular index
vectors, segment sums over monotone runs; an atomic scatter-add on CuPy), and the two primitives are each
other's backward, so every op here is twice differentiable.
"""

from __future__ import annotations

import itertools
import math
import numbers
import warnings

import numpy as np

from .. import _fast, backend
from ..autograd.function import TRACE_HOOK, Primitive
from ..tensor import Tensor
from ._common import check_scalar_fits, device_constant, xp_of
from ..dtypes import np_kind as _np_kind

__all__ = [
    "fold",
    "interpolate",
    "pad",
    "pixel_shuffle",
    "pixel_unshuffle",
    "unfold",
    "upsample",
    "upsample_bilinear",
    "upsample_nearest",
]


# ------------------------------------------------------------------------------------------------
# the separable gather primitive and its adjoint
# ------------------------------------------------------------------------------------------------
def _bshape(w, ndim, axis):
    """Reshape a 1-d weight vector so it broadcasts along ``axis`` of an ``ndim``-d array."""
    return w.reshape((-1,) + (1,) * (ndim - axis - 1))


def _dev(xp, a):
    return device_constant(xp, a)


def _axis_slice(ndim, axis, sl):
    return (slice(None),) * axis + (sl,)


_MAX_PIECES = 24


def _pieces(dst, src, limit):
    """Split paired index vectors into runs where both advance by constant steps:
    a list of (dst_start, dst_step, count, src_start, src_step), or None past ``limit`` runs."""
    m = dst.shape[0]
    if m == 1:
        return [(int(dst[0]), 1, 1, int(src[0]), 1)]
    d1, d2 = np.diff(dst), np.diff(src)
    change = np.flatnonzero((d1[1:] != d1[:-1]) | (d2[1:] != d2[:-1])) + 1
    if change.shape[0] + 1 > limit:
        return None
    bounds = np.concatenate(([0], change, [m - 1]))
    out = []
    for j in range(bounds.shape[0] - 1):
        a, b = int(bounds[j]), int(bounds[j + 1])
        first = a if j == 0 else a + 1
        out.append((int(dst[first]), int(d1[a]), b - first + 1, int(src[first]), int(d2[a])))
    return out


def _plan(idx):
    """Pairs of strided slices (dst, src) covering ``out[o] = x[idx[o]]``, so that its adjoint is a few
    slice-adds; None when that takes more than ``_MAX_PIECES`` pieces (segment sums are used then)."""
    n = idx.shape[0]
    rs = np.concatenate(([0], np.flatnonzero(np.diff(idx)) + 1))
    lens = np.diff(np.concatenate((rs, [n])))
    u = idx[rs]
    best = None
    if rs.shape[0] <= _MAX_PIECES:  # one piece per run of equal indices (replicate padding)
        best = [(int(r), 1, int(c), int(v), 0) for r, c, v in zip(rs, lens, u)]
    maxlen = int(lens.max())
    if maxlen <= _MAX_PIECES:  # the k-th element of every run, for each k (upsampling, reflection)
        plan = []
        for k in range(maxlen):
            sel = lens > k
            pieces = _pieces(rs[sel] + k, u[sel], _MAX_PIECES - len(plan))
            if pieces is None:
                plan = None
                break
            plan += pieces
        if plan is not None and (best is None or len(plan) < len(best)):
            best = plan
    return best


def _sl(start, step, count):
    if count == 1 or step == 0:
        return slice(start, start + 1)
    stop = start + step * (count - 1) + (1 if step > 0 else -1)
    return slice(start, stop if stop >= 0 else None, step)


def _gather(a, axis, taps):
    """``out[.., o, ..] = sum_k w_k[o] * a[.., idx_k[o], ..]``: one ``take`` per tap."""
    xp = xp_of(a)
    out = None
    for idx, w in taps:
        t = xp.take(a, _dev(xp, idx), axis=axis)
        if w is not None:
            t *= _dev(xp, _bshape(w.astype(a.dtype, copy=False), a.ndim, axis))
        out = t if out is None else out.__iadd__(t)
    return out


def _segments(idx):
    """Split an index vector into maximal monotone runs: a list of (start, stop, decreasing)."""
    n = idx.shape[0]
    if n <= 1:
        return [(0, n, False)]
    d = np.sign(np.diff(idx))
    nz = np.flatnonzero(d)
    if nz.size == 0:
        return [(0, n, False)]
    s = d[nz]
    flips = nz[1:][s[1:] != s[:-1]]  # diff k turns the direction: a new run starts at position k + 1
    bounds = [0] + [int(k) + 1 for k in flips] + [n]
    out = []
    for a, b in itertools.pairwise(bounds):
        seg = idx[a:b]
        out.append((a, b, bool(seg.shape[0] > 1 and seg[-1] < seg[0])))
    return out


def _index_add(res, axis, idx, src):
    """``res[.., idx[o], ..] += src[.., o, ..]`` along ``axis``: segment sums over monotone runs (NumPy)
    or one atomic scatter-add (CuPy)."""
    xp = xp_of(res)
    nd = res.ndim
    if xp is not np:
        backend.cupyx_module().scatter_add(res, _axis_slice(nd, axis, device_constant(xp, idx)), src)
        return res
    for a, b, dec in _segments(idx):
        seg = idx[a:b]
        part = src[_axis_slice(nd, axis, slice(a, b))]
        if dec:
            seg = seg[::-1]
            part = np.flip(part, axis=axis)
        starts = np.concatenate(([0], np.flatnonzero(np.diff(seg)) + 1))
        if starts.shape[0] != seg.shape[0]:
            part = np.add.reduceat(part, starts, axis=axis)
        u = seg[starts]
        lo = int(u[0])
        if int(u[-1]) - lo == u.shape[0] - 1:
            res[_axis_slice(nd, axis, slice(lo, lo + u.shape[0]))] += part
        else:  # indices are unique within the run: a fancy-index add is exact
            res[_axis_slice(nd, axis, u)] += part
    return res


def _scatter(g, axis, taps, in_size):
    """The adjoint of ``_gather``: ``res[.., idx_k[o], ..] += w_k[o] * g[.., o, ..]``."""
    xp = xp_of(g)
    nd = g.ndim
    shape = list(g.shape)
    shape[axis] = in_size
    res = xp.zeros(shape, dtype=g.dtype)
    for idx, w in taps:
        if idx.shape[0] == 0:  # an empty output: nothing flows back
            continue
        wb = None if w is None else _dev(xp, _bshape(w.astype(g.dtype, copy=False), nd, axis))
        plan = _plan(idx) if xp is np else None
        if plan is None:
            _index_add(res, axis, idx, g if wb is None else g * wb)
            continue
        for ds, dstep, cnt, ss, sstep in plan:
            dsl = _sl(ds, dstep, cnt)
            part = g[_axis_slice(nd, axis, dsl)]
            if wb is not None:
                part = part * wb[dsl]
            if sstep == 0 and cnt > 1:
                part = part.sum(axis=axis, keepdims=True)
            res[_axis_slice(nd, axis, _sl(ss, sstep, cnt))] += part
    return res


class _AxisTaps(Primitive):
    """``out[.., o, ..] = sum_k w_k[o] * x[.., idx_k[o], ..]`` along ``axis``."""

    @staticmethod
    def forward(ctx, x, axis, taps, in_size):
        ctx.axis, ctx.taps, ctx.in_size = axis, taps, in_size
        return _gather(x._data, axis, taps)

    @staticmethod
    def backward(ctx, g):
        return _AxisTapsT.apply(g, ctx.axis, ctx.taps, ctx.in_size), None, None, None


class _AxisTapsT(Primitive):
    """The adjoint of ``_AxisTaps``: scatter-add along ``axis`` onto ``in_size`` positions."""

    @staticmethod
    def forward(ctx, g, axis, taps, in_size):
        ctx.axis, ctx.taps, ctx.in_size = axis, taps, in_size
        return _scatter(g._data, axis, taps, in_size)

    @staticmethod
    def backward(ctx, gg):
        return _AxisTaps.apply(gg, ctx.axis, ctx.taps, ctx.in_size), None, None, None


def _taps(x, axis, taps):
    return _AxisTaps.apply(x, axis, taps, x.shape[axis])


# ------------------------------------------------------------------------------------------------
# pad
# ------------------------------------------------------------------------------------------------
class _ConstantPad(Primitive):
    """Constant padding; negative amounts crop. ``pads`` holds one (before, after) per dimension."""

    @staticmethod
    def forward(ctx, x, pads, value):
        a = x._data
        xp = xp_of(a)
        crop = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for (lo, hi), n in zip(pads, a.shape))
        a = a[crop]
        shape = tuple(n + max(lo, 0) + max(hi, 0) for (lo, hi), n in zip(pads, a.shape))
        if value == 0:
            out = xp.zeros(shape, dtype=a.dtype)
        else:
            out = xp.full(shape, value, dtype=a.dtype)
        out[tuple(slice(max(lo, 0), max(lo, 0) + n) for (lo, _), n in zip(pads, a.shape))] = a
        ctx.pads = pads
        return out

    @staticmethod
    def backward(ctx, g):
        return _ConstantPad.apply(g, tuple((-lo, -hi) for lo, hi in ctx.pads), 0), None, None


_PAD_SUPPORT = (
    "Supported combinations for non-constant padding:\n"
    "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
    "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
    "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"
)


def _pad_index(mode, n, lo, hi):
    """Source positions for padding a length-``n`` axis by (lo, hi); negative amounts crop."""
    o = np.arange(-lo, n + hi)
    if mode == "reflect":
        i = np.abs(o)
        return np.where(i > n - 1, 2 * (n - 1) - i, i)
    if mode == "replicate":
        return np.clip(o, 0, n - 1)
    return o % n  # circular


def pad(input: Tensor, pad, mode: str = "constant", value=None) -> Tensor:
    """Pad ``input``: ``pad`` lists (before, after) amounts starting from the last dimension.

    ``mode`` is ``'constant'`` (fill with ``value``; negative amounts crop), ``'reflect'``,
    ``'replicate'`` or ``'circular'`` (these pad the last 1-3 dimensions of a 2-5D input).
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"pad(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    pad = tuple(pad)
    for p in pad:
        if not isinstance(p, numbers.Integral) or isinstance(p, bool):
            raise TypeError(
                "pad(): argument 'pad' failed to unpack the object at pos 2 with error "
                f"\"type must be tuple of ints,but got {type(p).__name__}\""
            )
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 != 0:
        raise RuntimeError("Padding length must be divisible by 2")
    nd = input.dim()
    k = len(pad) // 2
    if k > nd:
        raise RuntimeError(
            "Padding length should be less than or equal to two times the input dimension but got padding "
            f"length {len(pad)} and input of dimension {nd}"
        )
    pairs = [(0, 0)] * (nd - k) + [(pad[2 * i], pad[2 * i + 1]) for i in reversed(range(k))]
    shape = input.shape
    if mode == "constant":
        # PyTorch crops first (narrow by each negative amount in turn), then fills
        for (lo, hi), n in zip(pairs, shape):
            if n + min(lo, 0) + min(hi, 0) < 0:
                raise RuntimeError("narrow(): length must be non-negative.")
        if all(lo <= 0 and hi <= 0 for lo, hi in pairs):
            if all(lo == 0 and hi == 0 for lo, hi in pairs) and not input._requires_grad:
                return input.clone()
            return _ConstantPad.apply(input, tuple(pairs), 0)
        v = 0 if value is None else value
        # PyTorch's pad takes the value as a float (an int -1 does not wrap into uint8)
        check_scalar_fits(float(v) if isinstance(v, int) and not isinstance(v, bool) else v, input._data.dtype)
        if _np_kind(input._data.dtype) in "iub" and isinstance(v, float) and _np_kind(input._data.dtype) != "b":
            v = int(v)
        return _ConstantPad.apply(input, tuple(pairs), v)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if k not in (1, 2, 3) or nd not in (k + 1, k + 2):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {nd}D input tensor.\n" + _PAD_SUPPORT
        )
    if mode != "circular" and any(n == 0 for n in shape[nd - k - 1:]):
        raise RuntimeError(
            f"Expected {k + 1}D or {k + 2}D (batch mode) tensor with possibly 0 batch size and other non-zero "
            f"dimensions for input, but got: {list(shape)}"
        )
    for axis in range(nd - k, nd):
        lo, hi = pairs[axis]
        n = shape[axis]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(
                f"Argument #{2 + 2 * k}: Padding size should be less than the corresponding input dimension, but got: "
                f"padding ({lo}, {hi}) at dimension {axis} of input {list(shape)}"
            )
        if mode == "circular" and (lo > n or hi > n):
            raise RuntimeError("Padding value causes wrapping around more than once.")
    if mode == "circular" and any(lo < 0 or hi < 0 for lo, hi in pairs):
        # circular padding wraps the cropped tensor (reflect/replicate index the original one)
        for (lo, hi), n in zip(pairs, shape):
            if n + min(lo, 0) + min(hi, 0) < 0:
                raise RuntimeError("narrow(): length must be non-negative.")
        input = _ConstantPad.apply(input, tuple((min(lo, 0), min(hi, 0)) for lo, hi in pairs), 0)
        pairs = [(max(lo, 0), max(hi, 0)) for lo, hi in pairs]
    for axis in range(nd - k, nd):
        if shape[axis] + pairs[axis][0] + pairs[axis][1] < 0:
            raise RuntimeError("narrow(): length must be non-negative.")
    out = input
    last = nd - 1
    if min(pairs[last]) >= 0 and _fast.usable(input._data) and TRACE_HOOK[0] is None:  # (traces keep _AxisTaps)
        size = input.shape  # (circular padding cropped it above)
        rows = rlo = None  # rlo None: the rows are cropped (the backward then folds axis by axis)
        if k == 1:
            rlo = 0
        else:
            rows = _pad_index(mode, size[last - 1], *pairs[last - 1])
            if min(pairs[last - 1]) >= 0:
                rlo = pairs[last - 1][0]
        out = _PadLast2.apply(input, rows, _pad_index(mode, size[last], *pairs[last]), pairs[last][0], rlo)
        last -= 2 if k > 1 else 1
    for axis in range(last, nd - k - 1, -1):
        lo, hi = pairs[axis]
        if lo == 0 and hi == 0:
            continue
        out = _taps(out, axis, ((_pad_index(mode, out.shape[axis], lo, hi), None),))
    return out if out is not input else input.clone()


class _PadLast2(Primitive):
    """Non-constant padding of the last dimension (columns ``cols`` of each source row, the source columns
    themselves from ``lo`` on) and of the one before (source rows ``rows``; None: unpadded) in one compiled pass.
    Its backward is the compiled adjoint (``_UnpadLast2``) where the rows are padded, not cropped (the source rows
    themselves from ``rlo`` on; None: cropped), else folds the gradient back axis by axis (``_AxisTapsT``); both
    stay twice differentiable."""

    @staticmethod
    def forward(ctx, x, rows, cols, lo, rlo):
        from .. import _fast_pad

        a = x._data
        H, W = a.shape[-2:]
        row_index = np.arange(H) if rows is None else rows
        out = np.empty(a.shape[:-2] + (row_index.shape[0], cols.shape[0]), dtype=a.dtype)
        _fast_pad.pad_rows(a.reshape(-1, H, W), out.reshape(-1, row_index.shape[0], cols.shape[0]), row_index, cols,
                           lo, W)
        ctx.rows, ctx.cols, ctx.H, ctx.W, ctx.lo, ctx.rlo = rows, cols, H, W, lo, rlo
        return out

    @staticmethod
    def backward(ctx, g):
        if ctx.rlo is not None and type(g._data) is np.ndarray and g._data.dtype == np.float32:  # (numba: forward)
            return _UnpadLast2.apply(g, ctx.rows, ctx.cols, ctx.lo, ctx.rlo, ctx.H, ctx.W), None, None, None, None
        nd = g.dim()
        g = _AxisTapsT.apply(g, nd - 1, ((ctx.cols, None),), ctx.W)
        if ctx.rows is not None:
            g = _AxisTapsT.apply(g, nd - 2, ((ctx.rows, None),), ctx.H)
        return g, None, None, None, None


class _UnpadLast2(Primitive):
    """The adjoint of ``_PadLast2`` (its gradient folded back onto the source, ``_fast_pad.unpad_rows``) in one
    compiled pass; its own backward pads again."""

    @staticmethod
    def forward(ctx, g, rows, cols, lo, rlo, H, W):
        from .. import _fast_pad

        a = np.ascontiguousarray(g._data)
        Ho, Wo = a.shape[-2:]
        row_index = np.arange(H) if rows is None else rows
        res = np.empty(a.shape[:-2] + (H, W), dtype=a.dtype)
        _fast_pad.unpad_rows(a.reshape(-1, Ho, Wo), res.reshape(-1, H, W), row_index, cols, rlo, lo, W)
        ctx.rows, ctx.cols, ctx.lo, ctx.rlo = rows, cols, lo, rlo
        return res

    @staticmethod
    def backward(ctx, gg):
        return _PadLast2.apply(gg, ctx.rows, ctx.cols, ctx.lo, ctx.rlo), None, None, None, None, None, None


# ------------------------------------------------------------------------------------------------
# interpolate
# ------------------------------------------------------------------------------------------------
def _scale_value(scale, n_in, n_out, ft):
    """PyTorch's compute_scales_value: 1/scale_factor when given, else in/out (in the compute dtype)."""
    if scale is not None and scale > 0:
        return ft(1.0 / scale)
    return ft(n_in) / ft(n_out)


def _area_scale(n_in, n_out, align_corners, scale, ft):
    if align_corners:
        return ft(n_in - 1) / ft(n_out - 1) if n_out > 1 else ft(0)
    return _scale_value(scale, n_in, n_out, ft)


def _source_index(scale, o, align_corners, cubic):
    if align_corners:
        return scale * o
    src = scale * (o + o.dtype.type(0.5)) - o.dtype.type(0.5)
    return src if cubic else np.maximum(src, o.dtype.type(0))


def _cubic_coeffs(t, A):
    def conv1(x):
        return ((A + 2) * x - (A + 3)) * x * x + 1

    def conv2(x):
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A

    return conv2(t + 1), conv1(t), conv1(1 - t), conv2(2 - t)


def _aa_taps(n_in, n_out, align_corners, scale, ft, cubic):
    """Anti-aliased (PIL-style) resampling taps, as PyTorch's ``_upsample_*_aa`` kernels."""
    s = _area_scale(n_in, n_out, align_corners, scale, ft)
    interp = 4 if cubic else 2
    support = ft(interp * 0.5) * s if s >= 1 else ft(interp * 0.5)
    invscale = ft(1) / s if s >= 1 else ft(1)
    o = np.arange(n_out, dtype=ft)
    center = s * (o + ft(0.5))
    xmin = np.maximum((center - support + ft(0.5)).astype(np.int64), 0)
    xsize = np.minimum((center + support + ft(0.5)).astype(np.int64), n_in) - xmin
    kmax = int(xsize.max()) if n_out else 0
    j = np.arange(kmax)[:, None]
    x = np.abs((j + xmin[None, :] - center[None, :] + ft(0.5)) * invscale).astype(ft)
    if cubic:
        a = ft(-0.5)
        w = np.where(x < 1, ((a + 2) * x - (a + 3)) * x * x + 1,
                     np.where(x < 2, (((x - 5) * x + 8) * x - 4) * a, ft(0)))
    else:
        w = np.where(x < 1, 1 - x, ft(0))
    w = np.where(j < xsize[None, :], w, ft(0)).astype(ft)
    total = w.sum(axis=0)
    w = w / np.where(total != 0, total, ft(1))
    idx = np.minimum(j + xmin[None, :], n_in - 1)
    return tuple((idx[k], w[k]) for k in range(kmax))


def _interp_taps(mode, n_in, n_out, align_corners, scale, ft, antialias, nd):
    """Index/weight vectors (one pair per tap) mapping ``n_in`` source positions to ``n_out``,
    or None where PyTorch copies the axis unchanged."""
    if mode in ("nearest", "nearest-exact"):
        o = np.arange(n_out, dtype=np.int64)
        if mode == "nearest" and nd == 4 and n_out in (n_in, 2 * n_in):  # upsample_nearest2d's fast paths
            return None if n_out == n_in else ((o >> 1, None),)
        sc = _scale_value(scale, n_in, n_out, np.float32)
        pos = o.astype(np.float32) if mode == "nearest" else (o + 0.5).astype(np.float32)
        idx = np.minimum(np.floor(pos * sc).astype(np.int64), n_in - 1)
        return ((idx, None),)
    if mode == "area":
        if n_out == 0:
            return ((np.zeros(0, np.int64), np.zeros(0, ft)),)
        o = np.arange(n_out, dtype=np.int64)
        start = (o * n_in) // n_out
        end = -((-(o + 1) * n_in) // n_out)
        kmax = int((end - start).max())
        taps = []
        for k in range(kmax):
            valid = start + k < end
            taps.append((np.minimum(start + k, end - 1), (valid / (end - start)).astype(ft)))
        return tuple(taps)
    if n_out == n_in and (antialias or mode != "bicubic"):
        return None
    if antialias:
        return _aa_taps(n_in, n_out, align_corners, scale, ft, mode == "bicubic")
    s = _area_scale(n_in, n_out, align_corners, scale, ft)
    o = np.arange(n_out, dtype=ft)
    cubic = mode == "bicubic"
    src = _source_index(s, o, align_corners, cubic).astype(ft)
    if cubic:
        i0 = np.floor(src).astype(np.int64)
        t = (src - i0).astype(ft)
        coeffs = _cubic_coeffs(t, ft(-0.75))
        return tuple((np.clip(i0 - 1 + k, 0, n_in - 1), coeffs[k].astype(ft)) for k in range(4))
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    lam = np.clip(src - i0, 0, 1).astype(ft)
    i1 = i0 + (i0 < n_in - 1)
    return ((i0, (1 - lam).astype(ft)), (i1, lam))


_INTERP_DIMS = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}
_MODES = "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact"


def _is_int(x):
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners=None,
                recompute_scale_factor=None, antialias: bool = False) -> Tensor:
    """Resize ``input`` (N, C, d1[, d2[, d3]]) to ``size`` or by ``scale_factor``.

    Modes: ``'nearest'``, ``'nearest-exact'``, ``'linear'`` (3D), ``'bilinear'`` / ``'bicubic'`` (4D),
    ``'trilinear'`` (5D) and ``'area'``; source positions follow PyTorch's formulas exactly.
    """
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError(
                "align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear"
            )
    elif align_corners is None:
        align_corners = False
    nd = input.dim()
    dim = nd - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        scale_factors = None
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(
                    "Input and output must have the same number of spatial dimensions, but got "
                    f"input with spatial dimensions of {list(input.shape[2:])} and output size of {size}. "
                    "Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                    "output size in (o1, o2, ...,oK) format."
                )
            if not all(_is_int(x) for x in size):
                raise TypeError(
                    "expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                    f"Tuple[int, int, int], but got size with types {[type(x) for x in size]}"
                )
            output_size = [int(x) for x in size]
        else:
            if not _is_int(size):
                raise TypeError(f"expected size to be an int or a tuple of ints, but got {type(size).__name__}")
            output_size = [int(size)] * dim
    elif scale_factor is not None:
        output_size = None
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError(
                    "Input and scale_factor must have the same number of spatial dimensions, but "
                    f"got input with spatial dimensions of {list(input.shape[2:])} and "
                    f"scale_factor of shape {scale_factor}. "
                    "Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                    "scale_factor in (s1, s2, ...,sK) format."
                )
            scale_factors = [float(s) for s in scale_factor]
        else:
            scale_factors = [float(scale_factor)] * dim
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if mode == "area" and output_size is None:
        recompute_scale_factor = True
    if recompute_scale_factor:
        output_size = [math.floor(input.shape[i + 2] * scale_factors[i]) for i in range(dim)]
        scale_factors = None
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and nd == 4):
        raise ValueError(
            "Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a 4-D tensor as input"
        )
    if mode == "lanczos":
        raise NotImplementedError("interpolate: mode='lanczos' is not supported by ember")
    if mode in _INTERP_DIMS and nd in (3, 4, 5) and _INTERP_DIMS[mode] != nd:
        need = {3: "3D", 4: "4D", 5: "5D"}[_INTERP_DIMS[mode]]
        raise NotImplementedError(f"Got {nd}D input, but {mode} mode needs {need} input")
    if nd not in (3, 4, 5) or mode not in ("nearest", "nearest-exact", "area", *_INTERP_DIMS):
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {nd}D) for the modes: {_MODES} (got {mode})"
        )
    in_sizes = tuple(input.shape[2:])
    if output_size is None:
        output_size = [int(n * s) for n, s in zip(in_sizes, scale_factors)]
        scales = scale_factors
    else:
        scales = [None] * dim
    # 'area' is adaptive average pooling, which allows an empty output (PyTorch returns one)
    if any(n <= 0 for n in in_sizes) or any(n < 0 or (n == 0 and mode != "area") for n in output_size):
        names = ("D", "H", "W")[3 - dim:]
        ins = ", ".join(f"{k}: {n}" for k, n in zip(names, in_sizes))
        outs = ", ".join(f"{k}: {n}" for k, n in zip(names, output_size))
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input ({ins}) output ({outs})")
    kind = _np_kind(input._data.dtype)
    if kind != "f" and not (input._data.dtype == np.uint8 and mode in (
            "nearest", "nearest-exact", "bilinear", "bicubic")):
        raise NotImplementedError(f'"{_kernel_name(mode, nd)}" not implemented for \'{_type_name(input)}\'')
    ft = input._data.dtype.type if kind == "f" and input._data.itemsize >= 4 else np.float32
    src = input
    if kind == "u" and mode not in ("nearest", "nearest-exact"):
        src = input.float()
    out = src
    for i in range(dim):
        n_in, n_out = in_sizes[i], output_size[i]
        taps = _interp_taps(mode, n_in, n_out, align_corners, scales[i], ft, antialias, nd)
        if taps is not None:
            out = _taps(out, i + 2, taps)
    if out is input:
        return input.clone()
    if out.dtype != input.dtype:
        out = out.round().clamp(0, 255).to(input.dtype)
    return out


def _kernel_name(mode, nd):
    if mode in ("nearest", "nearest-exact"):
        return "upsample_nearest2d_channels_last" if nd == 4 else "compute_indices_weights_nearest"
    if mode == "area":
        return "adaptive_avg_pool3d_cpu" if nd == 5 else "adaptive_avg_pool2d"
    return {"bilinear": "upsample_bilinear2d_channels_last", "bicubic": "compute_indices_weights_cubic"}.get(
        mode, "compute_indices_weights_linear")


def _type_name(t):
    return {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
            "float16": "Half", "bfloat16": "BFloat16", "complex64": "ComplexFloat",
            "complex128": "ComplexDouble"}.get(str(t._data.dtype), str(t._data.dtype))


def _deprecated(name):
    warnings.warn(f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=3)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of :func:`interpolate`."""
    _deprecated("upsample")
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(input, size, scale_factor, mode='nearest')``."""
    _deprecated("upsample_nearest")
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='bilinear', align_corners=True)``."""
    _deprecated("upsample_bilinear")
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ------------------------------------------------------------------------------------------------
# unfold / fold (im2col / col2im)
# ------------------------------------------------------------------------------------------------
def _pair(v, name):
    if isinstance(v, (list, tuple)):
        if len(v) == 1:
            return (int(v[0]), int(v[0]))
        if len(v) != 2:
            raise RuntimeError(f"It is expected {name} equals to 2, but got size {len(v)}")
        return (int(v[0]), int(v[1]))
    return (int(v), int(v))


def _check_geometry(k, d, p, s):
    if k[0] <= 0 or k[1] <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_height: {k[0]} kernel_width: {k[1]}")
    if d[0] <= 0 or d[1] <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilation_height: {d[0]} dilation_width: {d[1]}")
    if p[0] < 0 or p[1] < 0:
        raise RuntimeError(f"padding should be non-negative, but got pad_height: {p[0]} pad_width: {p[1]}")
    if s[0] <= 0 or s[1] <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got stride_height: {s[0]} stride_width: {s[1]}")


def _blocks(hw, k, d, p, s):
    return tuple((hw[i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(2))


def _im2col(a, k, d, p, s):
    """(N, C, H, W) array -> (N, C*kh*kw, L) array: one strided view, one copy."""
    xp = xp_of(a)
    n, c, h, w = a.shape
    oh, ow = _blocks((h, w), k, d, p, s)
    if p[0] or p[1]:
        ap = xp.zeros((n, c, h + 2 * p[0], w + 2 * p[1]), dtype=a.dtype)
        ap[:, :, p[0]:p[0] + h, p[1]:p[1] + w] = a
    else:
        ap = xp.ascontiguousarray(a)
    sn, sc, sh, sw = ap.strides
    view = xp.lib.stride_tricks.as_strided(
        ap, (n, c, k[0], k[1], oh, ow), (sn, sc, sh * d[0], sw * d[1], sh * s[0], sw * s[1]))
    return xp.ascontiguousarray(view).reshape(n, c * k[0] * k[1], oh * ow)


def _col2im(a, out_hw, k, d, p, s):
    """(N, C*kh*kw, L) array -> (N, C, H, W) array: slice-adds, one per kernel offset."""
    xp = xp_of(a)
    n = a.shape[0]
    c = a.shape[1] // (k[0] * k[1])
    oh, ow = _blocks(out_hw, k, d, p, s)
    cols = a.reshape(n, c, k[0], k[1], oh, ow)
    hp, wp = out_hw[0] + 2 * p[0], out_hw[1] + 2 * p[1]
    res = xp.zeros((n, c, hp, wp), dtype=a.dtype)
    for i in range(k[0]):
        for j in range(k[1]):
            r0, c0 = i * d[0], j * d[1]
            res[:, :, r0:r0 + s[0] * (oh - 1) + 1:s[0], c0:c0 + s[1] * (ow - 1) + 1:s[1]] += cols[:, :, i, j]
    return res[:, :, p[0]:p[0] + out_hw[0], p[1]:p[1] + out_hw[1]]


class _Im2Col(Primitive):
    @staticmethod
    def forward(ctx, x, k, d, p, s):
        ctx.geom = (tuple(x.shape[2:]), k, d, p, s)
        return _im2col(x._data, k, d, p, s)

    @staticmethod
    def backward(ctx, g):
        hw, k, d, p, s = ctx.geom
        return _Col2Im.apply(g, hw, k, d, p, s), None, None, None, None


class _Col2Im(Primitive):
    @staticmethod
    def forward(ctx, x, out_hw, k, d, p, s):
        ctx.geom = (k, d, p, s)
        return _col2im(x._data, out_hw, k, d, p, s)

    @staticmethod
    def backward(ctx, g):
        k, d, p, s = ctx.geom
        return _Im2Col.apply(g, k, d, p, s), None, None, None, None, None


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Extract sliding local blocks (im2col): (N, C, H, W) -> (N, C*kh*kw, L)."""
    k, d = _pair(kernel_size, "kernel_size"), _pair(dilation, "dilation")
    p, s = _pair(padding, "padding"), _pair(stride, "stride")
    _check_geometry(k, d, p, s)
    nd = input.dim()
    shape = list(input.shape)
    if nd not in (3, 4) or any(n == 0 for n in shape[nd - 3:]):
        if nd < 3:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-max(nd, 1)}, {max(nd, 1) - 1}], "
                             f"but got {nd})")
        raise RuntimeError(
            "Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero dimensions for input, "
            f"but got: {shape}")
    hw = tuple(shape[-2:])
    blocks = _blocks(hw, k, d, p, s)
    if blocks[0] < 1 or blocks[1] < 1:
        raise RuntimeError(
            f"Given input with spatial size {hw}, kernel_size={k}, dilation={d}, padding={p}, calculated shape of "
            f"the array of sliding blocks as {blocks}, but its components must be at least one.")
    x = input if nd == 4 else input.unsqueeze(0)
    out = _Im2Col.apply(x, k, d, p, s)
    return out if nd == 4 else out.squeeze(0)


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Combine sliding local blocks into a tensor (col2im): (N, C*kh*kw, L) -> (N, C, H, W); overlaps sum."""
    out_hw = _pair(output_size, "output_size")
    k, d = _pair(kernel_size, "kernel_size"), _pair(dilation, "dilation")
    p, s = _pair(padding, "padding"), _pair(stride, "stride")
    _check_geometry(k, d, p, s)
    nd = input.dim()
    shape = list(input.shape)
    if nd not in (2, 3) or any(n == 0 for n in shape[nd - 2:]):
        raise RuntimeError(
            "Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero dimensions "
            f"for input, but got: {shape}")
    c_k, length = shape[-2], shape[-1]
    if c_k % (k[0] * k[1]) != 0:
        raise RuntimeError(
            "Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got "
            f"input.size(1)={c_k} and kernel_size={k}.")
    blocks = _blocks(out_hw, k, d, p, s)
    if blocks[0] < 1 or blocks[1] < 1 or blocks[0] * blocks[1] != length:
        bh, bw = max(blocks[0], 0), max(blocks[1], 0)
        raise RuntimeError(
            f"Given output_size={out_hw}, kernel_size={k}, dilation={d}, padding={p}, stride={s}, expected size of "
            f"input's dimension 2 to match the calculated number of sliding blocks {bh} * {bw} = {bh * bw}, but got "
            f"input.size(2)={length}.")
    x = input if nd == 3 else input.unsqueeze(0)
    out = _Col2Im.apply(x, out_hw, k, d, p, s)
    return out if nd == 3 else out.squeeze(0)


# ------------------------------------------------------------------------------------------------
# pixel shuffle
# ------------------------------------------------------------------------------------------------
def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """Rearrange (*, C*r^2, H, W) into (*, C, H*r, W*r)."""
    r = int(upscale_factor)
    nd = input.dim()
    if nd < 3:
        raise RuntimeError(
            f"pixel_shuffle expects input to have at least 3 dimensions, but got input with {nd} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    *batch, c, h, w = input.shape
    if c % (r * r) != 0:
        raise RuntimeError(
            "pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of upscale_factor, "
            f"but input.size(-3)={c} is not divisible by {r * r}")
    oc = c // (r * r)
    b = len(batch)
    x = input.reshape(*batch, oc, r, r, h, w)
    x = x.permute(*range(b), b, b + 3, b + 1, b + 4, b + 2)
    return x.reshape(*batch, oc, h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """Rearrange (*, C, H*r, W*r) into (*, C*r^2, H, W) (the inverse of :func:`pixel_shuffle`)."""
    r = int(downscale_factor)
    nd = input.dim()
    if nd < 3:
        raise RuntimeError(
            f"pixel_unshuffle expects input to have at least 3 dimensions, but got input with {nd} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    *batch, c, h, w = input.shape
    if h % r != 0:
        raise RuntimeError(
            f"pixel_unshuffle expects height to be divisible by downscale_factor, but input.size(-2)={h} is not "
            f"divisible by {r}")
    if w % r != 0:
        raise RuntimeError(
            f"pixel_unshuffle expects width to be divisible by downscale_factor, but input.size(-1)={w} is not "
            f"divisible by {r}")
    b = len(batch)
    x = input.reshape(*batch, c, h // r, r, w // r, r)
    x = x.permute(*range(b), b, b + 2, b + 4, b + 1, b + 3)
    return x.reshape(*batch, c * r * r, h // r, w // r)
