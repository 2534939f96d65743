"""Pooling: max / average / adaptive / power-average pooling in 1-D and 2-D, and max unpooling.

The window geometry and the max / average / unpooling primitives work over any number of trailing
spatial axes; ``pooling3d`` builds the 3-D pools on them.

Every pool is one fused primitive on raw arrays; with ``create_graph=True`` its backward is itself an op
(a scatter-add onto the max winners, or the adjoint of a linear pool) so it can be differentiated again. Windows are
visited as k*k strided views of the input, one whole-array operation per window offset, each offset
restricted to the block of windows for which it falls inside the input (no padded copy is made);
nothing loops over pixels or planes. Adaptive average pooling uses a reshaped mean when the bins
tile the input, two GEMMs with bin-averaging matrices otherwise, and prefix sums for huge sizes.
Max pooling breaks ties as PyTorch does (the first maximum in window scan order wins, a NaN wins
over numbers and the last NaN wins over earlier ones) and returns int64 indices flattened per plane.
"""

from __future__ import annotations

import functools
import itertools
import math
import operator

import numpy as np

from .. import _fast
from ..autograd.function import Primitive
from ..autograd.grad_mode import STATE
from ..tensor import Tensor
from ._common import device_constant, drop_unit_height, kept_for_plain_args, unit_height, xp_of
from ..dtypes import np_kind as _np_kind

# ---------------------------------------------------------------------------------------------
# argument parsing and shape checks (PyTorch's messages)
# ---------------------------------------------------------------------------------------------

def _int_arg(v, fname, argname, position, pos=None):
    if isinstance(v, Tensor) and v.dim() == 0 and _np_kind(v._data.dtype) in "iu":
        return int(v.item())
    if isinstance(v, (bool, float)) or not hasattr(v, "__index__"):
        if pos is None:
            raise TypeError(
                f"{fname}(): argument '{argname}' (position {position}) must be tuple of ints, not {type(v).__name__}"
            )
        raise TypeError(
            f"{fname}(): argument '{argname}' failed to unpack the object at pos {position} with error "
            f'"type must be tuple of ints,but got {type(v).__name__}"'
        )
    return operator.index(v)


def _tuple_arg(value, n, fname, argname, position, what=None):
    """``value`` (an int or a sequence of 1 or n ints) as an n-tuple; None for an empty stride."""
    if not isinstance(value, (tuple, list)):
        return (_int_arg(value, fname, argname, position),) * n
    value = tuple(_int_arg(v, fname, argname, position, i) for i, v in enumerate(value))
    if argname == "stride" and len(value) == 0:
        return None
    if len(value) == 1:
        return value * n
    if len(value) != n:
        raise RuntimeError(what)
    return value


def _parse2d(fname, kernel_size, stride, padding, dilation=1):
    k = _tuple_arg(kernel_size, 2, fname, "kernel_size", 2, f"{fname}: kernel_size must either be a single int, or a tuple of two ints")
    s = None if stride is None else _tuple_arg(
        stride, 2, fname, "stride", 3, f"{fname}: stride must either be omitted, a single int, or a tuple of two ints"
    )
    p = _tuple_arg(padding, 2, fname, "padding", 4, f"{fname}: padding must either be a single int, or a tuple of two ints")
    d = _tuple_arg(dilation, 2, fname, "dilation", 5, f"{fname}: dilation must be either a single int, or a tuple of two ints")
    return k, (k if s is None else s), p, d


def _out_len(size, k, pad, stride, dilation, ceil_mode):
    """PyTorch's pooling_output_shape, with its checks."""
    if stride == 0:
        raise RuntimeError("stride should not be zero")
    if pad < 0:
        raise RuntimeError(f"pad must be non-negative, but got pad: {pad}")
    if pad > ((k - 1) * dilation + 1) // 2:
        raise RuntimeError(
            f"pad should be at most half of effective kernel size, but got pad={pad}, kernel_size={k} and dilation={dilation}"
        )
    out = (size + 2 * pad - dilation * (k - 1) - 1 + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def _pool2d_shape(x, k, s, p, d, ceil_mode, zero_dim_msg):
    """(Ho, Wo) after PyTorch's checks; ``x`` is a 3-D or 4-D array."""
    return _pool2d_out(x.shape, k, s, p, d, ceil_mode, zero_dim_msg)


@functools.lru_cache(maxsize=1024)
def _pool2d_out(shape, k, s, p, d, ceil_mode, zero_dim_msg):
    """``_pool2d_shape`` of an array of ``shape``, kept (the checks cost a small pooling a few microseconds a call;
    errors are raised again each time)."""
    H, W = shape[-2:]
    Ho = _out_len(H, k[0], p[0], s[0], d[0], ceil_mode)
    Wo = _out_len(W, k[1], p[1], s[1], d[1], ceil_mode)
    if k[0] <= 0 or k[1] <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {k[0]} kW: {k[1]}")
    if s[0] <= 0 or s[1] <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got dH: {s[0]} dW: {s[1]}")
    if d[0] <= 0 or d[1] <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilationH: {d[0]} dilationW: {d[1]}")
    if 0 in shape[-3:]:
        raise RuntimeError(zero_dim_msg + str(list(shape)))
    if k[1] // 2 < p[1] or k[0] // 2 < p[0]:
        raise RuntimeError(
            f"pad should be smaller than or equal to half of kernel size, but got padW = {p[1]}, padH = {p[0]}, "
            f"kW = {k[1]}, kH = {k[0]}"
        )
    if Ho < 1 or Wo < 1:
        C = shape[-3]
        raise RuntimeError(
            f"Given input size: ({C}x{H}x{W}). Calculated output size: ({C}x{Ho}x{Wo}). Output size is too small"
        )
    return Ho, Wo


_ZERO_DIM_MSG = "Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but got:"


def _type_name(arr):
    from .unary import scalar_type_name

    return scalar_type_name(arr.dtype)


def _check_float(arr, kernel):
    if _np_kind(arr.dtype) not in "f":
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_type_name(arr)}'")


def _check_real(arr, kernel):
    if _np_kind(arr.dtype) not in "fiu":
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_type_name(arr)}'")


def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


# ---------------------------------------------------------------------------------------------
# window geometry: for each window offset, the block of outputs it reaches inside the input
# ---------------------------------------------------------------------------------------------


def _axis_blocks(L, O, k, s, p, d):
    """Per offset i along one axis: (output slice, input slice) of the windows whose i-th element lies
    inside the input (padding and the ceil_mode overhang are simply never read), or None."""
    blocks = []
    for i in range(k):
        off = i * d - p  # input position of offset i in window 0
        lo = max(0, -(off // s) if off < 0 else 0)  # first o with o*s + off >= 0
        hi = min(O, (L - 1 - off) // s + 1) if L - 1 - off >= 0 else 0
        if lo >= hi:
            blocks.append(None)
            continue
        start = lo * s + off
        blocks.append((slice(lo, hi), slice(start, start + (hi - lo - 1) * s + 1, s), lo == 0 and hi == O))
    return blocks


class _Geom:
    """Geometry of an N-D pooling over the last N axes of an array of shape (..., *size)."""

    __slots__ = ("blocks", "d", "disjoint", "full", "k", "out", "p", "s", "size", "tiled")

    def __init__(self, size, out, k, s, p, d):
        self.size, self.out, self.k, self.s, self.p, self.d = tuple(size), tuple(out), tuple(k), tuple(s), tuple(p), tuple(d)
        axes = [list(enumerate(_axis_blocks(*a))) for a in zip(size, out, k, s, p, d)]
        axes = [[(i, r) for i, r in ax if r is not None] for ax in axes]
        # (offset number in window scan order, output index, input index, covers every output);
        # product() varies the last axis fastest, which is the window scan order
        self.blocks = []
        for combo in itertools.product(*axes):
            n = 0
            for kk, (i, _) in zip(k, combo):
                n = n * kk + i
            self.blocks.append((
                n,
                (Ellipsis,) + tuple(r[0] for _, r in combo),
                (Ellipsis,) + tuple(r[1] for _, r in combo),
                all(r[2] for _, r in combo),
            ))
        # windows never overlap: every input element lies in at most one (window, offset) pair
        self.disjoint = all(st >= dl * (kk - 1) + 1 for st, dl, kk in zip(s, d, k))
        # ... and they tile the input exactly: writing every block fills the whole gradient
        self.full = self.disjoint and all(
            pp == 0 and dl == 1 and st == kk and o * st == L for pp, dl, st, kk, o, L in zip(p, d, s, k, out, size)
        )
        # non-overlapping 2-D windows of stride = kernel, no padding or dilation, inside the input: the compiled
        # kernels' case (``_disjoint_pooling``)
        self.tiled = (len(self.k) == 2 and self.s == self.k and self.p == (0, 0) and self.d == (1, 1)
                      and k[0] * k[1] >= 2 and all(o * kk <= n for o, kk, n in zip(out, k, size)))

    def out_shape(self, lead):
        return tuple(lead[: len(lead) - len(self.size)]) + self.out

    def flat_index(self, xp, phase):
        """Per-plane flat input indices (int64) of the winning offsets in ``phase``."""
        nd = len(self.size)
        ph = phase.astype(np.int64)
        flat = 0
        for a in range(nd):
            inner = int(np.prod(self.k[a + 1 :], dtype=np.int64))
            pos = np.arange(self.out[a], dtype=np.int64) * self.s[a] - self.p[a]
            pos = device_constant(xp, pos.reshape((-1,) + (1,) * (nd - 1 - a)))
            flat = flat * self.size[a] + (pos + (ph // inner) % self.k[a] * self.d[a])
        return flat

    def grad_input(self, xp, shape, dtype):
        return xp.empty(shape, dtype=dtype) if self.full else xp.zeros(shape, dtype=dtype)


@functools.lru_cache(maxsize=256)
def geometry(size, out, k, s, p, d):
    """The :class:`_Geom` of these sizes, built once (its window blocks cost ~13 us a call) and shared: it is
    never modified."""
    return _Geom(tuple(size), tuple(out), tuple(k), tuple(s), tuple(p), tuple(d))


# ---------------------------------------------------------------------------------------------
# differentiable backward pieces (create_graph=True): the max-pool backward is a scatter-add of the
# output gradient onto the winners, whose own gradient is the gather at the same flat indices; the
# average-pool backward is the adjoint of the average pool itself
# ---------------------------------------------------------------------------------------------


def _plane_keys(xp, idx, nd):
    """Flat indices of ``idx`` (per plane over the last ``nd`` axes) into the whole array, and the plane count."""
    lead = idx.shape[: idx.ndim - nd]
    planes = int(np.prod(lead, dtype=np.int64))
    return idx.reshape(planes, -1), planes


class _ScatterAddFn(Primitive):
    """Zeros of ``shape`` plus ``g`` added at the per-plane flat indices ``idx`` (same shape as ``g``)."""

    @staticmethod
    def forward(ctx, g, idx, shape, nd):
        ga = g._data
        xp = xp_of(ga)
        keys, planes = _plane_keys(xp, idx, nd)
        plane = int(np.prod(shape[len(shape) - nd :], dtype=np.int64))
        keys = (xp.arange(planes, dtype=np.int64)[:, None] * plane + keys).ravel()
        out = xp.bincount(keys, weights=ga.ravel().astype(np.float64, copy=False), minlength=planes * plane)
        if ctx.needs_input_grad is not None:
            ctx.idx, ctx.nd = idx, nd
        return out.reshape(shape).astype(ga.dtype, copy=False)

    @staticmethod
    def backward(ctx, gg):
        return _GatherFn.apply(gg, ctx.idx, ctx.nd), None, None, None


class _GatherFn(Primitive):
    """``t`` read at the per-plane flat indices ``idx`` (over its last ``nd`` axes)."""

    @staticmethod
    def forward(ctx, t, idx, nd):
        ta = t._data
        xp = xp_of(ta)
        keys, planes = _plane_keys(xp, idx, nd)
        out = ta.reshape(planes, -1)[xp.arange(planes)[:, None], keys]
        if ctx.needs_input_grad is not None:
            ctx.idx, ctx.nd, ctx.shape = idx, nd, ta.shape
        return out.reshape(idx.shape)

    @staticmethod
    def backward(ctx, g):
        return _ScatterAddFn.apply(g, ctx.idx, ctx.shape, ctx.nd), None, None


# ---------------------------------------------------------------------------------------------
# max pooling
# ---------------------------------------------------------------------------------------------


def _max_forward(xp, x, g):
    fast = _disjoint_fwd(g, x)
    if fast is not None:
        return fast
    out = None
    for n, oi, ii, full in g.blocks:  # start from an offset every window sees inside the input
        if full:
            out = x[ii].copy()
            first = n
            break
    if out is None:
        out = xp.full(g.out_shape(x.shape), _lowest(x.dtype), dtype=x.dtype)
        first = -1
    for n, oi, ii, full in g.blocks:
        if n != first:
            o = out[oi]
            xp.maximum(o, x[ii], out=o)
    return out


def _max_phase(xp, g, x, out):
    """Number (in window scan order) of the offset each output took its value from."""
    kk = int(math.prod(g.k))
    phase = xp.zeros(out.shape, dtype=np.int16 if kk > 127 else np.int8)
    for n, oi, ii, _ in reversed(g.blocks):  # reverse scan: the first offset holding the maximum is written last
        xp.copyto(phase[oi], n, where=x[ii] == out[oi])
    if out.dtype.kind == "f" and (xp is not np or bool(xp.isnan(out).any())):  # a NaN wins; PyTorch keeps the window's last NaN
        for n, oi, ii, _ in g.blocks:
            xp.copyto(phase[oi], n, where=xp.isnan(x[ii]))
    return phase


def _disjoint_pooling(g, x):
    """Whether the compiled kernels take this pooling: non-overlapping windows over the last two axes
    (MaxPool2d, or MaxPool1d as 1 x k windows, with stride = kernel, no padding or dilation, windows inside
    the input) of a float32 CPU array."""
    return g.tiled and _fast.usable(x)


def _disjoint_fwd(g, x):
    """The compiled forward (``ember[fast]``) where :func:`_disjoint_pooling` holds, else None: one pass
    over the input (MaxPool1d(4) on 32x32x496: 0.43 -> 0.1 ms). Planes are shared out among threads when
    large."""
    if not _disjoint_pooling(g, x):
        return None
    from .. import _fast_pool

    (H, W), (Ho, Wo) = x.shape[-2:], g.out
    out = np.empty(x.shape[:-2] + (Ho, Wo), dtype=x.dtype)
    if _tiled_2x2(g, H, W):
        _fast.run_rows(_fast_pool.maxpool2x2_rows_fwd, (x.reshape(-1, 2 * W), out.reshape(-1, Wo)), (0, 1))
        return out
    _fast.run_rows(_fast_pool.maxpool_fwd, (x.reshape(-1, H, W), out.reshape(-1, Ho, Wo), g.k[0], g.k[1]), (0, 1))
    return out


def _tiled_2x2(g, H, W):
    """2x2 windows that tile the planes exactly: the compiled kernels then run over window rows, (planes x Ho,
    2 W) arrays (b32, fwd / bwd ms: 512 planes of 4x4 0.20 / 6.6 -> 0.07 / 0.17; 64 of 32x32 0.23 / 2.4 ->
    0.13 / 0.72-0.80, the fastest of 50 calls)."""
    return g.k == (2, 2) and H == 2 * g.out[0] and W == 2 * g.out[1]


def _disjoint_bwd(g, x, out, gout):
    """The compiled backward (``ember[fast]``) of non-overlapping windows over the last two axes (MaxPool2d,
    or MaxPool1d as 1 x k windows, with stride = kernel and no padding or dilation) on float32 CPU arrays
    without NaN, else None. Planes are shared out among threads when large."""
    if not _disjoint_pooling(g, x) or not _fast.usable(x, out, gout):
        return None
    from .. import _fast_pool

    (H, W), (Ho, Wo) = x.shape[-2:], out.shape[-2:]
    gin = np.empty(x.shape, dtype=x.dtype)
    gout = np.ascontiguousarray(gout)
    if _tiled_2x2(g, H, W):
        rows = (-1, 2 * W)
        _fast.run_rows(_fast_pool.maxpool2x2_rows_bwd, (x.reshape(rows), out.reshape(-1, Wo), gout.reshape(-1, Wo),
                                                        gin.reshape(rows)), (0, 1, 2, 3))
        return gin
    if g.k == (1, 4) and x.size < _fast._PARALLEL_MIN:
        # MaxPool1d(4): all rows' windows as one row, whose loop the compiler vectorises 32 windows at a time; row
        # by row, short rows ran in its scalar remainder (M5's 1024 rows of 122: 390 -> 90 us)
        used = 4 * Wo
        xs = x.reshape(-1, W)[:, :used]
        flat = gin if used == W else np.empty(xs.shape, dtype=x.dtype)
        _fast_pool.maxpool_bwd(np.ascontiguousarray(xs).reshape(1, 1, -1), out.reshape(1, 1, -1),
                               gout.reshape(1, 1, -1), flat.reshape(1, 1, -1), 1, 4)
        if used != W:
            g2 = gin.reshape(-1, W)
            g2[:, :used] = flat
            g2[:, used:] = 0
        return gin
    args = (x.reshape(-1, H, W), out.reshape(-1, Ho, Wo), gout.reshape(-1, Ho, Wo), gin.reshape(-1, H, W), g.k[0], g.k[1])
    _fast.run_rows(_fast_pool.maxpool_bwd, args, (0, 1, 2, 3))
    return gin


def _max_backward(xp, g, x, out, gout):
    """Each output's gradient goes to its window's winner: first-winner masks in scan order
    (NaN windows, where the last NaN wins, go through the explicit winner numbers)."""
    gin = g.grad_input(xp, x.shape, gout.dtype)
    add = not g.disjoint
    zero = gout.dtype.type(0)
    # a GPU always takes the winner-number path: the checks below would wait for the device
    if xp is not np or (out.dtype.kind == "f" and bool(xp.isnan(out).any())):
        phase = _max_phase(xp, g, x, out)
        for n, oi, ii, _ in g.blocks:
            contrib = xp.where(phase[oi] == n, gout[oi], zero)
            if add:
                gin[ii] += contrib
            else:
                gin[ii] = contrib
        return gin
    fast = _disjoint_bwd(g, x, out, gout)
    if fast is not None:
        return fast
    finite = bool(xp.isfinite(gout).all())  # else mask with where(): 0 * inf would leak NaNs
    taken = None
    last = len(g.blocks) - 1
    for b, (n, oi, ii, full) in enumerate(g.blocks):
        if b == last and taken is not None:
            win = ~taken[oi]  # every window left has its maximum here
        else:
            win = x[ii] == out[oi]
            if taken is None and full:
                taken = win
            else:
                if taken is None:
                    taken = xp.zeros(out.shape, dtype=bool)
                t = taken[oi]
                win &= ~t
                t |= win
        go = gout[oi]
        if add:
            gin[ii] += go * win if finite else xp.where(win, go, zero)
        elif finite:
            xp.multiply(go, win, out=gin[ii])
        else:
            gin[ii] = xp.where(win, go, zero)
    return gin


class MaxPool2dFn(Primitive):
    """2-D max pooling over the last two axes; outputs (values, int64 flat indices) or values."""

    save_output = True  # backward compares the input with it (recomputed if changed in place)

    @staticmethod
    def forward(ctx, x, geom, return_indices, one_d=False):
        # one_d: max_pool1d's (..., L) input pooled as (..., 1, L), a view here rather than two view nodes
        xa = unit_height(x._data, one_d)
        xp = xp_of(xa)
        out = _max_forward(xp, xa, geom)
        if ctx.needs_input_grad is not None:
            ctx.geom, ctx.one_d = geom, one_d
            ctx.save_for_backward(x)
        if return_indices:
            idx = drop_unit_height(geom.flat_index(xp, _max_phase(xp, geom, xa, out)), one_d)
            ctx.mark_non_differentiable(idx)
            return drop_unit_height(out, one_d), idx
        return drop_unit_height(out, one_d)

    @staticmethod
    def backward(ctx, gout, gidx=None):
        (x,) = ctx.saved_tensors
        one_d = ctx.one_d
        xa = unit_height(x._data, one_d)
        xp = xp_of(xa)
        saved = ctx.__dict__.get("_saved_out")
        if saved is not None and saved.version.value == saved.saved_version:
            out = unit_height(saved.data, one_d)
        else:  # the output was changed in place (PyTorch allows it): recompute the maxima
            out = _max_forward(xp, xa, ctx.geom)
        if STATE.enabled:  # create_graph=True: scatter onto the winners, differentiable in gout
            idx = ctx.geom.flat_index(xp, _max_phase(xp, ctx.geom, xa, out))
            g = gout.to(x.dtype)
            gin = _ScatterAddFn.apply(g.unsqueeze(-2) if one_d else g, idx, xa.shape, len(ctx.geom.size))
            return (gin.squeeze(-2) if one_d else gin), None, None, None
        ga = unit_height(gout._data, one_d)
        if ga.dtype != out.dtype:
            ga = ga.astype(out.dtype)
        return Tensor._make(_max_backward(xp, ctx.geom, xa, out, ga).reshape(x._data.shape)), None, None, None


def _check_input_dims(x, lo, hi, fname):
    if not lo <= x.dim() <= hi:
        raise RuntimeError(
            f"Expected {lo} to {hi} dimensions, but got {x.dim()}-dimensional tensor for argument #1 'self' "
            f"(while checking arguments for {fname})"
        )


def _max_pool2d_impl(x, k, s, p, d, ceil_mode, return_indices, one_d=False):
    xa = unit_height(x._data, one_d)
    Ho, Wo = _pool2d_shape(xa, k, s, p, d, ceil_mode, _ZERO_DIM_MSG)
    _check_real(xa, "max_pool2d")
    geom = geometry(tuple(xa.shape[-2:]), (Ho, Wo), k, s, p, d)
    return MaxPool2dFn.apply(x, geom, return_indices, one_d)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-D max pooling over an input of shape (N, C, H, W) or (C, H, W)."""
    k, s, p, d = _parse2d("max_pool2d", kernel_size, stride, padding, dilation)
    if input.dim() not in (3, 4):
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    return _max_pool2d_impl(input, k, s, p, d, ceil_mode, return_indices)


@kept_for_plain_args(1024)
def _parse1d(fname, kernel_size, stride, padding, dilation):
    def one(v, argname, position):
        if isinstance(v, (tuple, list)):
            if len(v) == 0 and argname == "stride":
                return None
            if len(v) != 1:
                if fname == "avg_pool1d":
                    raise RuntimeError(f"{fname}() argument '{argname}' should contain one int (got {len(v)})")
                raise RuntimeError(
                    f"{fname}() {argname} must be an int, list of ints or tuple of ints of size 1 but got size {len(v)}"
                )
            return _int_arg(v[0], fname, argname, position, 0)
        return _int_arg(v, fname, argname, position)

    k = one(kernel_size, "kernel_size", 2)
    s = None if stride is None else one(stride, "stride", 3)
    return k, (k if s is None else s), one(padding, "padding", 4), one(dilation, "dilation", 5)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1-D max pooling over an input of shape (N, C, L) or (C, L)."""
    k, s, p, d = _parse1d("max_pool1d", kernel_size, stride, padding, dilation)
    shape = input._data.shape
    if len(shape) not in (2, 3) or 0 in shape[len(shape) - 2:]:
        raise RuntimeError(
            f"max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for input, but got:{list(shape)}"
        )
    if not return_indices:
        if k <= 0:
            raise RuntimeError(f"max_pool1d() kernel_size must be greater than zero, but got {k}")
        if s <= 0:
            raise RuntimeError(f"max_pool1d() stride must be greater than zero, but got {s}")
        if p < 0:
            raise RuntimeError(f"max_pool1d() padding must be non-negative, but got {p}")
        if p > k // 2:
            raise RuntimeError(f"max_pool1d() padding should be at most half of kernel size, but got padding={p} and kernel_size={k}")
        if d <= 0:
            raise RuntimeError(f"max_pool1d() dilation must be greater than zero, but got {d}")
        Lo = _out_len(shape[-1], k, p, s, d, ceil_mode)
        if Lo <= 0:
            raise RuntimeError(f"max_pool1d() Invalid computed output size: {Lo}")
        _check_float(input._data, "max_pool1d_impl")
    return _max_pool2d_impl(input, (1, k), (1, s), (0, p), (1, d), ceil_mode, return_indices, one_d=True)


# ---------------------------------------------------------------------------------------------
# average pooling
# ---------------------------------------------------------------------------------------------


def _axis_counts(size, o, k, s, p):
    """Per output position: window length including padding (not the ceil overhang) and inside the input."""
    start = np.arange(o) * s - p
    end = np.minimum(start + k, size + p)
    with_pad = end - start
    inside = np.minimum(end, size) - np.maximum(start, 0)
    return with_pad, inside


def _avg_divisor(g, count_include_pad, divisor_override, dtype):
    """Scalar or per-output array of divisors (PyTorch's pool_size rules)."""
    if divisor_override:
        return divisor_override
    if not any(g.p) and all((o - 1) * st + kk <= L for o, st, kk, L in zip(g.out, g.s, g.k, g.size)):
        return int(math.prod(g.k))
    counts = [_axis_counts(L, o, kk, st, pp)[0 if count_include_pad else 1] for L, o, kk, st, pp in zip(g.size, g.out, g.k, g.s, g.p)]
    div = functools.reduce(np.multiply.outer, counts)
    return np.maximum(div, 1).astype(dtype if dtype.kind == "f" else np.int64)


class AvgPool2dFn(Primitive):
    """2-D average pooling over the last two axes."""

    @staticmethod
    def forward(ctx, x, geom, count_include_pad, divisor_override, one_d=False):
        # one_d: avg_pool1d's (..., L) input pooled as (..., 1, L), a view here rather than two view nodes
        xa = unit_height(x._data, one_d)
        xp = xp_of(xa)
        acc = xa.dtype if xa.dtype.kind == "f" else np.int64
        out = None
        for n, oi, ii, full in geom.blocks:
            if full:
                out = xa[ii].astype(acc, copy=True)
                first = n
                break
        if out is None:
            out = xp.zeros(geom.out_shape(xa.shape), dtype=acc)
            first = -1
        for n, oi, ii, _ in geom.blocks:
            if n != first:
                out[oi] += xa[ii]
        div = _avg_divisor(geom, count_include_pad, divisor_override, xa.dtype)
        if not isinstance(div, int):
            div = device_constant(xp, div)
        if xa.dtype.kind == "f":
            out /= div
        else:  # integer division truncating toward zero, as C++ does
            q = xp.abs(out) // div
            out = xp.where(out < 0, -q, q).astype(xa.dtype)
        if ctx.needs_input_grad is not None:
            ctx.geom, ctx.shape, ctx.div, ctx.one_d = geom, xa.shape, div, one_d
            ctx.count_include_pad, ctx.divisor_override = count_include_pad, divisor_override
        return drop_unit_height(out, one_d)

    @staticmethod
    def backward(ctx, gout):
        geom, div, shape, one_d = ctx.geom, ctx.div, ctx.shape, ctx.one_d

        def grad(ga):
            return drop_unit_height(_avg_backward(geom, div, shape, unit_height(ga, one_d)), one_d)

        if STATE.enabled:  # create_graph=True
            cip, dov = ctx.count_include_pad, ctx.divisor_override
            return _LinearGradFn.apply(gout, grad, lambda t: AvgPool2dFn.apply(t, geom, cip, dov, one_d)), None, None, \
                None, None
        return Tensor._make(grad(gout._data)), None, None, None, None


def _avg_backward(g, div, shape, ga):
    """Each output gradient over its divisor, added onto every input position of its window."""
    xp = xp_of(ga)
    gd = ga / div
    gin = g.grad_input(xp, shape, ga.dtype)
    for _, oi, ii, _ in g.blocks:
        if g.disjoint:
            gin[ii] = gd[oi]
        else:
            gin[ii] += gd[oi]
    return gin


class _LinearGradFn(Primitive):
    """The backward of a linear pool as an op of its own (create_graph=True): forward applies the raw
    backward ``grad`` to the output gradient; its gradient is the pool ``pool`` applied to ``gg``."""

    @staticmethod
    def forward(ctx, g, grad, pool):
        ctx.pool = pool
        return grad(g._data)

    @staticmethod
    def backward(ctx, gg):
        return ctx.pool(gg), None, None


def _avg_pool2d_impl(x, k, s, p, ceil_mode, count_include_pad, divisor_override, one_d=False):
    xa = unit_height(x._data, one_d)
    Ho, Wo = _pool2d_shape(xa, k, s, p, (1, 1), ceil_mode, _ZERO_DIM_MSG)
    _check_real(xa, "avg_pool2d")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    geom = geometry(tuple(xa.shape[-2:]), (Ho, Wo), k, s, p, (1, 1))
    return AvgPool2dFn.apply(x, geom, bool(count_include_pad), divisor_override, one_d)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
    """2-D average pooling over an input of shape (N, C, H, W) or (C, H, W)."""
    k, s, p, _ = _parse2d("avg_pool2d", kernel_size, stride, padding)
    if input.dim() not in (3, 4):
        if input.dim() < 3:
            n = max(input.dim(), 1)
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got -3)")
        raise RuntimeError(_ZERO_DIM_MSG + str(list(input.shape)))
    return _avg_pool2d_impl(input, k, s, p, ceil_mode, count_include_pad, divisor_override)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1-D average pooling over an input of shape (N, C, L) or (C, L)."""
    k, s, p, _ = _parse1d("avg_pool1d", kernel_size, stride, padding, 1)
    _check_input_dims(input, 2, 3, "avg_pool1d")
    return _avg_pool2d_impl(input, (1, k), (1, s), (0, p), ceil_mode, count_include_pad, None, one_d=True)


# ---------------------------------------------------------------------------------------------
# adaptive pooling
# ---------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _bins(I, O):
    """PyTorch's adaptive bins along one axis: start = floor(o*I/O), end = ceil((o+1)*I/O); plus, for the
    transpose, the range [lo, hi) of bins that contain each input position."""
    o = np.arange(O, dtype=np.int64)
    start = (o * I) // O
    end = ((o + 1) * I + O - 1) // O
    h = np.arange(I, dtype=np.int64)
    lo = np.searchsorted(end, h, side="right")
    hi = np.searchsorted(start, h, side="right")
    return start, end, lo, hi


def _bin_sum(xp, a, axis, I, O, acc):
    """Sums of ``a`` over the adaptive bins along ``axis`` (reshape when bins tile evenly, else prefix sums)."""
    if I % O == 0:
        shape = a.shape[:axis] + (O, I // O) + a.shape[axis + 1 :] if axis >= 0 else None
        return a.reshape(shape).sum(axis=axis + 1, dtype=acc)
    start, end, _, _ = _bins(I, O)
    c = xp.cumsum(a, axis=axis, dtype=acc)
    zshape = list(c.shape)
    zshape[axis] = 1
    c = xp.concatenate([xp.zeros(zshape, dtype=acc), c], axis=axis)
    return xp.take(c, device_constant(xp, end), axis=axis) - xp.take(c, device_constant(xp, start), axis=axis)


def _bin_sum_t(xp, g, axis, I, O, acc):
    """Transpose of ``_bin_sum``: each input position gets the sum of its bins' values."""
    if I % O == 0:
        return xp.repeat(g, I // O, axis=axis)
    _, _, lo, hi = _bins(I, O)
    c = xp.cumsum(g, axis=axis, dtype=acc)
    zshape = list(c.shape)
    zshape[axis] = 1
    c = xp.concatenate([xp.zeros(zshape, dtype=acc), c], axis=axis)
    return xp.take(c, device_constant(xp, hi), axis=axis) - xp.take(c, device_constant(xp, lo), axis=axis)


_MATMUL_MAX = 1 << 16  # adaptive average pooling uses GEMMs while the (O, I) bin matrices stay this small


@functools.lru_cache(maxsize=256)
def _bin_matrix_cached(I, O, dtype_str):
    start, end, _, _ = _bins(I, O)
    h = np.arange(I)
    member = (h[None, :] >= start[:, None]) & (h[None, :] < end[:, None])
    return (member / (end - start)[:, None]).astype(dtype_str)


def _bin_matrix(I, O, dtype):
    """(O, I) matrix averaging each adaptive bin: row o holds 1/len(bin o) on the bin's elements."""
    return _bin_matrix_cached(I, O, np.dtype(dtype).str)


def _bin_counts(I, O):
    start, end, _, _ = _bins(I, O)
    return end - start


class AdaptiveAvgPool2dFn(Primitive):
    """Adaptive average pooling of the last two axes to (Oh, Ow)."""

    @staticmethod
    def forward(ctx, x, Oh, Ow):
        xa = x._data
        xp = xp_of(xa)
        H, W = xa.shape[-2:]
        if ctx.needs_input_grad is not None:
            ctx.shape = xa.shape
        if Oh == 0 or Ow == 0 or xa.size == 0:
            return xp.zeros(xa.shape[:-2] + (Oh, Ow), dtype=xa.dtype)
        if Oh == 1 and Ow == 1:  # global average
            return xa.mean(axis=(-2, -1), keepdims=True)
        if H % Oh == 0 and W % Ow == 0:  # bins tile the input: one reshaped mean
            kh, kw = H // Oh, W // Ow
            return xa.reshape(xa.shape[:-2] + (Oh, kh, Ow, kw)).mean(axis=(-3, -1))
        if H * Oh <= _MATMUL_MAX and W * Ow <= _MATMUL_MAX:  # two GEMMs with the bin-averaging matrices
            lead = xa.shape[:-2]
            planes = int(np.prod(lead, dtype=np.int64))
            ah, aw = device_constant(xp, _bin_matrix(H, Oh, xa.dtype)), device_constant(xp, _bin_matrix(W, Ow, xa.dtype))
            y = xa.reshape(-1, W) @ aw.T  # (planes*H, Ow)
            y = y.reshape(planes, H, Ow).transpose(0, 2, 1).reshape(-1, H) @ ah.T  # (planes*Ow, Oh)
            return xp.ascontiguousarray(y.reshape(planes, Ow, Oh).transpose(0, 2, 1)).reshape(lead + (Oh, Ow))
        # large bins counts: prefix sums (an integral image) along each axis, in float64
        s = _bin_sum(xp, xa, xa.ndim - 1, W, Ow, np.float64)
        s = _bin_sum(xp, s, xa.ndim - 2, H, Oh, np.float64)
        s /= device_constant(xp, _bin_counts(H, Oh)[:, None] * _bin_counts(W, Ow)[None, :])
        return s.astype(xa.dtype, copy=False)

    @staticmethod
    def backward(ctx, gout):
        shape, sizes = ctx.shape, tuple(gout.shape[-2:])
        if STATE.enabled:  # create_graph=True
            return _LinearGradFn.apply(gout, lambda ga: _adaptive_avg_grad(shape, ga),
                                       lambda t: AdaptiveAvgPool2dFn.apply(t, *sizes)), None, None
        return Tensor._make(_adaptive_avg_grad(shape, gout._data)), None, None


def _adaptive_avg_grad(shape, ga):
    """Transpose of the adaptive average pool: each output gradient spread evenly over its bin."""
    xp = xp_of(ga)
    H, W = shape[-2:]
    Oh, Ow = ga.shape[-2:]
    if ga.size == 0 or int(np.prod(shape)) == 0:
        return xp.zeros(shape, dtype=ga.dtype)
    if H % Oh == 0 and W % Ow == 0:
        kh, kw = H // Oh, W // Ow
        gin = xp.empty(shape, dtype=ga.dtype)
        gv = gin.reshape(shape[:-2] + (Oh, kh, Ow, kw))
        xp.multiply(ga[..., :, None, :, None], ga.dtype.type(1.0 / (kh * kw)), out=gv)
        return gin
    if H * Oh <= _MATMUL_MAX and W * Ow <= _MATMUL_MAX:
        planes = int(np.prod(shape[:-2], dtype=np.int64))
        ah, aw = device_constant(xp, _bin_matrix(H, Oh, ga.dtype)), device_constant(xp, _bin_matrix(W, Ow, ga.dtype))
        t = ga.reshape(planes, Oh, Ow).transpose(0, 2, 1).reshape(-1, Oh) @ ah  # (planes*Ow, H)
        t = t.reshape(planes, Ow, H).transpose(0, 2, 1).reshape(-1, Ow) @ aw  # (planes*H, W)
        return t.reshape(shape)
    cnt = _bin_counts(H, Oh)[:, None] * _bin_counts(W, Ow)[None, :]
    gd = ga / device_constant(xp, cnt.astype(ga.dtype))
    t = _bin_sum_t(xp, gd, ga.ndim - 1, W, Ow, np.float64)
    t = _bin_sum_t(xp, t, ga.ndim - 2, H, Oh, np.float64)
    return t.astype(ga.dtype, copy=False)


def _adaptive_size(output_size, n, in_sizes):
    if output_size is None:
        raise TypeError("object of type 'NoneType' has no len()")
    if isinstance(output_size, (tuple, list)):
        sizes = tuple(output_size)
    else:
        sizes = (operator.index(output_size),) * n
    return tuple(in_sizes[i] if v is None else int(v) for i, v in enumerate(sizes))


def _nonempty(x, fname, dims):
    for d in dims:
        if x.shape[d] == 0:
            raise RuntimeError(
                f"{fname}(): Expected input to have non-zero size for non-batch dimensions, but input has sizes "
                f"{list(x.shape)} with dimension {d} being empty"
            )


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size (Oh, Ow); ``None`` keeps that input size."""
    sizes = _adaptive_size(output_size, 2, tuple(input.shape[-2:]))
    if len(sizes) != 2:
        raise RuntimeError("adaptive_avg_pool2d: output_size must be 2")
    if min(sizes) < 0:
        raise RuntimeError(
            f"adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0 but received {{{sizes[0]}, {sizes[1]}}}"
        )
    if input.dim() not in (3, 4):
        raise RuntimeError(f"adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got {list(input.shape)}")
    _nonempty(input, "adaptive_avg_pool2d", (input.dim() - 2, input.dim() - 1))
    _check_float(input._data, "adaptive_avg_pool2d")
    return AdaptiveAvgPool2dFn.apply(input, *sizes)


def adaptive_avg_pool1d(input, output_size):
    """Average pooling of (N, C, L) or (C, L) to a fixed output length."""
    if output_size is None:
        raise TypeError("adaptive_avg_pool1d(): argument 'output_size' (position 2) must be tuple of ints, not NoneType")
    sizes = tuple(output_size) if isinstance(output_size, (tuple, list)) else (operator.index(output_size),)
    if len(sizes) != 1:
        raise RuntimeError(f"adaptive_avg_pool1d() argument 'output_size' should contain one int (got {len(sizes)})")
    _check_input_dims(input, 2, 3, "adaptive_avg_pool1d")
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, sizes[0])).squeeze(-2)


class AdaptiveMaxPool2dFn(Primitive):
    """Adaptive max pooling of the last N = len(sizes) axes; outputs (values, int64 flat indices)."""

    @staticmethod
    def forward(ctx, x, *sizes):
        xa = x._data
        xp = xp_of(xa)
        nd = len(sizes)
        ins = xa.shape[-nd:]
        # max is separable: reduce the last axis first, then the next, carrying the winner's flat index
        # within the axes reduced so far. A later element wins only when strictly greater or NaN
        # (PyTorch's rule), so the first maximum in scan order and the last NaN win. Short bins repeat
        # their last element, which changes neither.
        out, idx = xa, None
        for a in range(nd - 1, -1, -1):
            axis = xa.ndim - nd + a
            start, end, _, _ = _bins(ins[a], sizes[a])
            stride = int(np.prod(ins[a + 1 :], dtype=np.int64))
            bshape = (-1,) + (1,) * (nd - 1 - a)
            best = bidx = None
            for i in range(int((end - start).max())):
                pos = np.minimum(start + i, end - 1)
                pa = device_constant(xp, pos)
                v = xp.take(out, pa, axis=axis)
                flat = device_constant(xp, pos.reshape(bshape) * stride)
                if idx is not None:
                    flat = flat + xp.take(idx, pa, axis=axis)
                if best is None:
                    best, bidx = v, xp.empty(v.shape, dtype=np.int64)
                    bidx[...] = flat
                    continue
                upd = xp.greater(v, best)
                if v.dtype.kind == "f":
                    upd |= xp.isnan(v)
                xp.copyto(bidx, flat, where=upd)
                xp.maximum(best, v, out=best)  # NaN propagates, as the NaN rule wants
            out, idx = best, bidx
        if ctx.needs_input_grad is not None:
            ctx.shape, ctx.idx, ctx.nd = xa.shape, idx, nd
        ctx.mark_non_differentiable(idx)
        return out, idx

    @staticmethod
    def backward(ctx, gout, gidx=None):
        shape, idx = ctx.shape, ctx.idx
        if STATE.enabled:  # create_graph=True
            return (_ScatterAddFn.apply(gout, idx, shape, ctx.nd),) + (None,) * ctx.nd
        ga = gout._data
        xp = xp_of(ga)
        plane = int(np.prod(shape[-ctx.nd :], dtype=np.int64))
        planes = int(np.prod(shape[: -ctx.nd], dtype=np.int64))
        keys = (xp.arange(planes, dtype=np.int64)[:, None] * plane + idx.reshape(planes, -1)).ravel()
        gin = xp.bincount(keys, weights=ga.ravel(), minlength=planes * plane)
        return (Tensor._make(gin.reshape(shape).astype(ga.dtype, copy=False)),) + (None,) * ctx.nd


def _adaptive_max(x, Oh, Ow, return_indices):
    H, W = x.shape[-2:]
    if Oh == 0 or Ow == 0 or x.numel() == 0:
        xp = xp_of(x._data)
        shape = tuple(x.shape[:-2]) + (Oh, Ow)
        out = Tensor._make(xp.zeros(shape, dtype=x._data.dtype))
        return (out, Tensor._make(xp.zeros(shape, dtype=np.int64))) if return_indices else out
    if H % Oh == 0 and W % Ow == 0:  # even bins: a plain max pool with kernel = stride = I / O
        k = (H // Oh, W // Ow)
        return MaxPool2dFn.apply(x, geometry((H, W), (Oh, Ow), k, k, (0, 0), (1, 1)), return_indices)
    out, idx = AdaptiveMaxPool2dFn.apply(x, Oh, Ow)
    return (out, idx) if return_indices else out


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to a fixed output size (Oh, Ow); ``None`` keeps that input size."""
    sizes = _adaptive_size(output_size, 2, tuple(input.shape[-2:]))
    if len(sizes) != 2:
        raise RuntimeError("adaptive_max_pool2d(): internal error: output_size.size() must be 2")
    if input.dim() not in (3, 4):
        raise RuntimeError(f"adaptive_max_pool2d(): Expected 3D or 4D tensor, but got: {list(input.shape)}")
    _nonempty(input, "adaptive_max_pool2d", range(1, input.dim()))
    if min(sizes) < 0:
        raise RuntimeError(
            f"Trying to create tensor with negative dimension {min(sizes)}: {list(input.shape[:-2]) + list(sizes)}"
        )
    _check_float(input._data, "adaptive_max_pool2d")
    return _adaptive_max(input, *sizes, return_indices)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling of (N, C, L) or (C, L) to a fixed output length."""
    if output_size is None:
        raise TypeError("adaptive_max_pool1d(): argument 'output_size' (position 2) must be tuple of ints, not NoneType")
    sizes = tuple(output_size) if isinstance(output_size, (tuple, list)) else (operator.index(output_size),)
    if len(sizes) != 1:
        raise RuntimeError(f"adaptive_max_pool1d() argument 'output_size' should contain one int (got {len(sizes)})")
    _check_input_dims(input, 2, 3, "adaptive_max_pool1d")
    _nonempty(input, "adaptive_max_pool1d", range(1, input.dim()))
    if sizes[0] < 0:
        raise RuntimeError(
            f"Trying to create tensor with negative dimension {sizes[0]}: {list(input.shape[:-1]) + [1, sizes[0]]}"
        )
    _check_float(input._data, "adaptive_max_pool2d")
    res = _adaptive_max(input.unsqueeze(-2), 1, sizes[0], return_indices)
    if return_indices:
        return res[0].squeeze(-2), res[1].squeeze(-2)
    return res.squeeze(-2)


def aten_adaptive_max_pool1d(input, output_size):
    """``torch.adaptive_max_pool1d``: ATen's form, which always returns ``(values, indices)``."""
    return adaptive_max_pool1d(input, output_size, return_indices=True)


# ---------------------------------------------------------------------------------------------
# power-average pooling
# ---------------------------------------------------------------------------------------------


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling: ``(sum over window of x**p) ** (1/p)``."""
    from .activation import relu

    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
    out = avg_pool2d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return (out.sign() * relu(out.abs())).mul(kw * kh).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """1-D power-average pooling: ``(sum over window of x**p) ** (1/p)``."""
    from .activation import relu

    k = kernel_size if isinstance(kernel_size, int) else next(iter(kernel_size))
    out = avg_pool1d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return (out.sign() * relu(out.abs())).mul(k).pow(1.0 / norm_type)


# ---------------------------------------------------------------------------------------------
# max unpooling
# ---------------------------------------------------------------------------------------------


class MaxUnpoolFn(Primitive):
    """Scatter the values into zeros of shape (..., *out_size) at their per-plane flat indices."""

    @staticmethod
    def forward(ctx, x, indices, out_size):
        xa, ia = x._data, indices._data
        xp = xp_of(xa)
        nd = len(out_size)
        lead = xa.shape[:-nd]
        planes = int(np.prod(lead, dtype=np.int64))
        n = int(np.prod(out_size, dtype=np.int64))
        idx = ia.reshape(planes, -1).astype(np.int64, copy=False)
        if idx.size:
            lo, hi = int(idx.min()), int(idx.max())
            if lo < 0 or hi >= n:  # PyTorch names the last invalid index in memory order
                flat = idx.ravel()
                invalid = (flat < 0) | (flat >= n)
                bad = int(flat[flat.size - 1 - int(xp.argmax(invalid[::-1]))])
                sizes = "x".join(str(v) for v in out_size)
                raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size {sizes})")
        out = xp.zeros((planes, n), dtype=xa.dtype)
        rows = xp.arange(planes)[:, None]
        out[rows, idx] = xa.reshape(planes, -1)
        if ctx.needs_input_grad is not None:
            ctx.idx, ctx.in_shape, ctx.nd = idx, xa.shape, nd
        return out.reshape(lead + tuple(out_size))

    @staticmethod
    def backward(ctx, gout):
        idx = ctx.idx
        if STATE.enabled:  # create_graph=True: the gather, differentiable in gout
            return _GatherFn.apply(gout, idx.reshape(ctx.in_shape), ctx.nd), None, None
        ga = gout._data
        xp = xp_of(ga)
        planes = idx.shape[0]
        g2 = ga.reshape(planes, -1)
        gin = g2[xp.arange(planes)[:, None], idx]
        return Tensor._make(gin.reshape(ctx.in_shape)), None, None


def _unpool_output_size(input, kernel_size, stride, padding, output_size):
    nd = len(kernel_size)
    in_size = tuple(input.shape)
    default = [(in_size[-nd + d] - 1) * stride[d] + kernel_size[d] - 2 * padding[d] for d in range(nd)]
    if output_size is None:
        return default
    if len(output_size) == nd + 2:
        output_size = output_size[2:]
    if len(output_size) != nd:
        raise ValueError(
            f"output_size should be a sequence containing {nd} or {nd + 2} elements, but it has a length of '{len(output_size)}'"
        )
    for d in range(nd):
        lo, hi = default[d] - stride[d], default[d] + stride[d]
        if not lo < output_size[d] < hi:
            raise ValueError(f'invalid output_size "{output_size}" (dim {d} must be between {lo} and {hi})')
    return [int(v) for v in output_size]


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool2d``: values go back to their indices, zeros elsewhere."""
    k = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
    s = k if stride is None else ((stride, stride) if isinstance(stride, int) else tuple(stride))
    p = (padding, padding) if isinstance(padding, int) else tuple(padding)
    if input.dim() not in (3, 4):
        raise RuntimeError(f"Input to max_unpooling2d should be a 3d or 4d Tensor, but got a tensor with {input.dim()} dimensions.")
    if tuple(input.shape) != tuple(indices.shape):
        raise RuntimeError(
            f"Expected shape of indices to be same as that of the input tensor ({list(input.shape)}) but got indices tensor with shape: {list(indices.shape)}"
        )
    if indices._data.dtype != np.int64:
        raise RuntimeError(f"elements in indices should be type int64 but got: {_type_name(indices._data)}")
    hw = _unpool_output_size(input, k, s, p, output_size)
    return MaxUnpoolFn.apply(input, indices, tuple(hw))


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool1d``: values go back to their indices, zeros elsewhere."""
    k = (kernel_size,) if isinstance(kernel_size, int) else tuple(kernel_size)
    s = k if stride is None else ((stride,) if isinstance(stride, int) else tuple(stride))
    p = (padding,) if isinstance(padding, int) else tuple(padding)
    if input.dim() not in (2, 3):
        raise RuntimeError(f"Input to max_unpooling1d should be a 2d or 3d Tensor, but got a tensor with {input.dim()} dimensions.")
    (L,) = _unpool_output_size(input, k, s, p, output_size)
    out = max_unpool2d(input.unsqueeze(-2), indices.unsqueeze(-2), (1, k[0]), (1, s[0]), (0, p[0]), (1, L))
    return out.squeeze(-2)


__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "lp_pool1d",
    "lp_pool2d",
    "max_pool1d",
    "max_pool2d",
    "max_unpool1d",
    "max_unpool2d",
]
