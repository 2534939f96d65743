"""Normalization: batch, instance, group, layer and RMS norm, each one fused primitive with a folded
backward (written with tensor ops instead when ``create_graph=True``, so it can be differentiated again),
plus local response norm (a composite of tensor ops)."""

from __future__ import annotations

import functools
import itertools
import numbers

import numpy as np

from .. import _fast, dtypes as _dtypes
from ..autograd.function import TRACE_HOOK, Primitive
from ..autograd.grad_mode import STATE
from ..tensor import Tensor
from . import _cuda_kernels as _cuda
from ._common import xp_of
from ..autograd.autocast import autocast_op

_LETTERS = "abcdefghij"


def _compute_dtype(arr):
    """float16 is normalized in float32, like PyTorch's opmath type."""
    return np.dtype(np.float32) if arr.dtype == np.float16 else arr.dtype


def _sum_prod(xp, a, b, keep, shape):
    """sum(a * b) over every axis not in ``keep``, without the product temporary; kept dims as size 1."""
    sub = _LETTERS[: a.ndim]
    out = xp.einsum(f"{sub},{sub}->" + "".join(sub[i] for i in keep), a, b)
    return out.reshape(shape)


_BLOCK = 1 << 16  # elements per cache block of the elementwise passes on the CPU (256 KiB of float32)


@functools.lru_cache(maxsize=256)
def _block_keys(shape):
    """Index tuples that cover an array of ``shape`` in blocks of at most _BLOCK elements (None: one block)."""
    total = 1
    for s in shape:
        total *= s
    if total <= 2 * _BLOCK:
        return None
    k, inner = len(shape) - 1, 1
    while k > 0 and inner * shape[k] <= _BLOCK:
        inner *= shape[k]
        k -= 1
    step = max(1, _BLOCK // inner)
    keys = []
    for idx in itertools.product(*(range(s) for s in shape[:k])):
        head = tuple(slice(i, i + 1) for i in idx)
        keys.extend(head + (slice(j, j + step),) for j in range(0, shape[k], step))
    return tuple(keys)


def _sub(a, key):
    """The part of ``a`` (broadcastable, same ndim as the blocked array) that meets the block ``key``."""
    if key is None or not hasattr(a, "ndim") or a.ndim == 0:
        return a
    return a[tuple(slice(None) if a.shape[i] == 1 else k for i, k in enumerate(key))]


def _lincomb(xp, terms, const=None, out=None):
    """sum over terms of the product of their factors, plus ``const``; the first factor of each term is a
    full-size array, the others broadcast. On the CPU it runs block by block so that the temporaries and
    the second touch of each block stay in cache (a fused multiply-add loop, NumPy having none), the
    blocks shared out among Ember's threads (NumPy's ufuncs release the GIL)."""
    first = terms[0][0]
    if out is None:
        out = xp.empty(first.shape, first.dtype)
    keys = _block_keys(first.shape) if xp is np else None

    def run(k0, k1):
        part = keys[k0:k1] if keys else (None,)
        tmp_flat = xp.empty(min(first.size, _BLOCK) if keys else first.size, first.dtype) if len(terms) > 1 else None
        for key in part:
            o = out if key is None else out[key]
            tmp = None if tmp_flat is None else tmp_flat[: o.size].reshape(o.shape)
            for j, factors in enumerate(terms):
                dst = o if j == 0 else tmp
                f0 = _sub(factors[0], key)
                if len(factors) > 1:
                    xp.multiply(f0, _sub(factors[1], key), out=dst)
                else:
                    dst[...] = f0
                for extra in factors[2:]:
                    dst *= _sub(extra, key)
                if j:
                    o += tmp
            if const is not None:
                o += _sub(const, key)

    if keys and len(keys) >= 4:
        _fast.share(run, len(keys))
    else:
        run(0, len(keys) if keys else 1)
    return out


def _batch_sums(xp, a, b, raxes, keep, sshape):
    """(sum(a), sum(a * b)) over ``raxes`` (kept as size-1 dims): batch norm's statistics in one call. With
    the batch axis among ``raxes`` on a large CPU array, slices of the batch go to Ember's threads and
    their partial sums are added."""
    n0 = a.shape[0]
    if raxes == (0, 2) and a.ndim == 3 and _fast.usable(a, b) and b.flags.c_contiguous:
        return _channel_sums(a, b, sshape)  # one compiled pass (512 ch at 4x4, b32: 0.45 -> 0.12 ms)
    if xp is not np or 0 not in raxes or n0 < 2 or a.size < _fast.MAP_MIN or _fast._threads() < 2:
        return a.sum(axis=raxes, keepdims=True), _sum_prod(xp, a, b, keep, sshape)
    parts = []

    def run(i0, i1):
        parts.append((a[i0:i1].sum(axis=raxes, keepdims=True), _sum_prod(xp, a[i0:i1], b[i0:i1], keep, sshape)))

    _fast.share(run, n0)
    s1, s2 = parts[0]
    for p1, p2 in parts[1:]:
        s1 = s1 + p1
        s2 = s2 + p2
    return s1, s2


class _Spec:
    """How a normalization sees its input.

    ``vshape``: a view of the input (same memory order); statistics are taken over ``raxes`` of it and
    the affine parameters span ``waxes`` (broadcast as ``wshape``). ``center`` is False for RMS norm.
    ``stats``: (mean, var) arrays to use instead of the batch statistics (eval mode).
    ``running``: (running_mean, running_var, momentum, extra reduce axes of the stats) to update.
    ``groups``: (G, L) for group norm taken as rows (``vshape`` (N * G, C // G * L), ``waxes`` of the per-channel
    weight not describing it): the compiled row kernels, with ``general`` the 4-D spec of the same op (for
    the graph-built double backward).
    """

    __slots__ = ("vshape", "raxes", "waxes", "wshape", "eps", "center", "stats", "running", "folded", "groups",
                 "general")

    def __init__(self, vshape, raxes, waxes, eps, center=True, stats=None, running=None, groups=None, general=None):
        self.vshape, self.raxes, self.waxes = tuple(vshape), tuple(raxes), tuple(waxes)
        self.groups, self.general = groups, general
        self.wshape = tuple(s if i in self.waxes else 1 for i, s in enumerate(self.vshape))
        self.eps, self.center, self.stats, self.running = eps, center, stats, running
        # the affine parameters are constant inside each statistics group (batch / instance norm):
        # then y = x * s + t with small per-group s, t, and the backward folds the weight in too
        self.folded = not set(self.raxes) & set(self.waxes)


def _aten_batch_stats(xp, xv, axes, n, eps):
    """Batch / instance norm statistics as PyTorch's CPU kernel forms them: the mean as a float64 sum
    rounded to the input's dtype, the variance as a float64 sum of the squared (x - mean) rounded to that
    dtype, then divided by n in it; 1 / sqrt(var + eps) in float64, rounded. Returns (mean, var, invstd)."""
    dt = xv.dtype
    mean = (xv.sum(axis=axes, keepdims=True, dtype=np.float64) / n).astype(dt)
    xc = xv - mean
    xc *= xc
    var = xc.sum(axis=axes, keepdims=True, dtype=np.float64).astype(dt) / dt.type(n)
    invstd = (1.0 / xp.sqrt(var.astype(np.float64) + eps)).astype(dt)
    return mean, var, invstd


def _fused_fold(x, s, mean, b):
    """float32 ``x * s + (b - mean * s)`` with each of the two steps rounded once, as PyTorch's vectorised
    CPU kernel computes it (fused multiply-adds); a product of two float32 values is exact in float64."""
    s64 = s.astype(np.float64)
    t = -(mean * s64) if b is None else b - mean * s64
    y = x * s64
    y += t.astype(np.float32)
    return y.astype(np.float32)


def _channel_affine(x, s, t):
    """``x * s + t`` for x (N, C, L) and s, t (1 or N, C, 1) (t may be None) by the compiled kernel: one pass
    where the NumPy path takes two. On the calling thread: a batch norm follows a convolution, whose BLAS
    threads spin a while after it and slow a shared pass down (ResNet-18 inference: 230 ms shared, 224 not)."""
    s2, t2 = _channel_rows(x.shape[1], s, np.zeros_like(s) if t is None else t)
    out = np.empty_like(x)
    _fast.kernels().channel_affine(x, s2, t2, out)
    return out


def _channel_rows(C, *coefs):
    """Per-channel coefficients of shapes (1 or N, C, 1), broadcast to one shape, as C-contiguous float32
    (rows, C) arrays for the compiled channel kernels."""
    if all(c.shape == (1, C, 1) and c.dtype == np.float32 for c in coefs):  # the usual case, a third of a small
        return [c.reshape(1, C) for c in coefs]  # batch norm's time in broadcasting (M5's bn4 in eval: 28 -> 22 us)
    shape = np.broadcast_shapes(*(c.shape for c in coefs))
    return [np.ascontiguousarray(np.broadcast_to(c, shape), dtype=np.float32).reshape(-1, C) for c in coefs]


def _batch_norm_kernels(spec, g, x):
    """Whether batch norm's backward (statistics over batch and length, per-channel coefficients) takes the
    compiled channel kernels: float32 (N, C, L) NumPy arrays, x C-contiguous, ``ember[fast]`` (g may be
    strided: ``sum()``'s gradient is one value broadcast)."""
    return spec.raxes == (0, 2) and g.ndim == 3 and _fast.usable(x, g)


def _channel_sums(g, x, sshape):
    """(sum(g), sum(g * x)) per channel of (N, C, L) arrays, as (1, C, 1) float32 arrays: one compiled pass
    with float64 sums (NumPy's reductions take two passes, one of them a product temporary per block)."""
    C = g.shape[1]
    s1, s2 = np.empty(C), np.empty(C)
    kernel = _fast.kernels().channel_sums
    _fast.share_work(lambda c0, c1: kernel(g, x, s1, s2, c0, c1), C, g.size)
    return s1.astype(np.float32).reshape(sshape), s2.astype(np.float32).reshape(sshape)


def _channel_axpby(g, a, x, b, t):
    """``g * a + x * b + t`` for (N, C, L) arrays and (1, C, 1) coefficients: the compiled pass, the bits of
    ``_lincomb``'s block passes."""
    a1, b1, t1 = (c[0] for c in _channel_rows(g.shape[1], a, b, t))
    out = np.empty_like(g)
    kernel = _fast.kernels().channel_axpby
    _fast.share_work(lambda n0, n1: kernel(g[n0:n1], a1, x[n0:n1], b1, t1, out[n0:n1]), g.shape[0], g.size)
    return out


def _param(p, spec, cdt):
    if p is None:
        return None
    a = p._data.reshape(spec.wshape)
    return a if a.dtype == cdt else a.astype(cdt)


class _Normalize(Primitive):
    _bf16_follows_input = True  # a bfloat16 input with float32 weights/statistics gives bfloat16, as PyTorch
    """y = (x - mean) / sqrt(var + eps) * weight + bias, statistics and affine laid out by a _Spec."""

    @staticmethod
    def forward(ctx, x, weight, bias, spec):
        xa = x._data
        xp = xp_of(xa)
        if xa.size == 0:  # nothing to normalize; running statistics stay as they are (as in PyTorch)
            if ctx.needs_input_grad is not None:
                ctx.save_for_backward(x, weight, bias)
                ctx.arrays = None
            return xp.empty_like(xa)
        if ctx.needs_input_grad is None and spec.stats is not None:
            y = _eval_forward(xa, weight, bias, spec)
            if y is not None:
                return y
        if _cuda_rows(spec, xa, weight, bias):
            return _cuda_forward(ctx, x, weight, bias, spec)
        if _fast_rows(spec, xa, weight, bias):
            return _fast_forward(ctx, x, weight, bias, spec)
        cdt = _compute_dtype(xa)
        xv = xa.reshape(spec.vshape)
        if xv.dtype != cdt:
            xv = xv.astype(cdt)
        w, b = _param(weight, spec, cdt), _param(bias, spec, cdt)
        keep = tuple(i for i in range(xv.ndim) if i not in spec.raxes)
        sshape = tuple(1 if i in spec.raxes else s for i, s in enumerate(spec.vshape))
        n = 1
        for i in spec.raxes:
            n *= spec.vshape[i]
        xhat = xc = None
        fused = False
        if spec.stats is not None:  # given statistics (running estimates)
            mean, var = (a.astype(cdt, copy=False) for a in spec.stats)
            invstd = 1.0 / xp.sqrt(var + spec.eps)
        elif spec.folded:  # one pass: sum and sum of squares
            mean, var = _batch_sums(xp, xv, xv, spec.raxes, keep, sshape)
            mean /= n
            var /= n
            var -= mean * mean
            if xp is not np or bool((var * 100 < mean * mean).any()):  # a GPU always takes 2 passes (no sync)
                # E[x^2] - E[x]^2 cancels when the spread is small next to the mean: take PyTorch's
                # statistics exactly, since its output x * s + (b - mean * s) then cancels too and
                # amplifies any difference in mean or s to the 3rd digit
                mean, var, invstd = _aten_batch_stats(xp, xv, spec.raxes, n, spec.eps)
                fused = xp is np and cdt == np.float32
            else:
                xp.maximum(var, 0, out=var)
                invstd = 1.0 / xp.sqrt(var + spec.eps)
        else:  # centred second pass: x - mean is needed for xhat anyway
            if spec.center:
                mean = xv.sum(axis=spec.raxes, keepdims=True) / n
                xc = xv - mean
                var = _sum_prod(xp, xc, xc, keep, sshape) / n
                invstd = 1.0 / xp.sqrt(var + spec.eps)
                xhat = xp.multiply(xc, invstd, out=xc)
            else:
                mean = None
                var = _sum_prod(xp, xv, xv, keep, sshape) / n
                invstd = 1.0 / xp.sqrt(var + spec.eps)
                xhat = xv * invstd
        if spec.folded:
            s = invstd if w is None else invstd * w
            if fused:
                y = _fused_fold(xv, s, mean, b)
            else:
                t = b
                if mean is not None:
                    t = -mean * s if b is None else b - mean * s
                y = _channel_affine(xv, s, t) if xv.ndim == 3 and _fast.usable(xv, s) else _lincomb(xp, [(xv, s)], t)
        elif w is not None:
            y = _lincomb(xp, [(xhat, w)], b)
        else:
            y = xhat if b is None else xp.add(xhat, b, out=xhat)
        if spec.running is not None:
            _update_running(xp, spec.running, mean, var, n)
        if ctx.needs_input_grad is not None:
            ctx.save_for_backward(x, weight, bias)
            ctx.arrays = (xv, mean, invstd, w, xhat if w is not None else None)
            ctx.spec, ctx.n, ctx.keep, ctx.sshape = spec, n, keep, sshape
        y = y.reshape(xa.shape)
        return y if y.dtype == xa.dtype else y.astype(xa.dtype)

    @staticmethod
    def backward(ctx, dy):
        x, weight, bias = ctx.saved_tensors
        if STATE.enabled and ctx.arrays is not None:  # create_graph=True: a backward made of tensor ops
            return _normalize_backward_graph(ctx, x, weight, bias, dy)
        if ctx.arrays is None:  # empty input
            return tuple(None if t is None else Tensor._make(xp_of(t._data).zeros_like(t._data)) for t in (x, weight, bias)) + (None,)
        if isinstance(ctx.arrays[0], str):  # a kernel path's forward: "cuda" or the compiled CPU kernels
            if ctx.arrays[0] == "cuda":
                return _cuda_backward(ctx, weight, bias, dy)
            return _fast_backward(ctx, x, weight, bias, dy)
        xv, mean, invstd, w, xhat = ctx.arrays
        spec, n, keep, sshape = ctx.spec, ctx.n, ctx.keep, ctx.sshape
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        xp = xp_of(xv)
        g = dy._data.reshape(spec.vshape)
        if g.dtype != xv.dtype:
            g = g.astype(xv.dtype)
        wsum_axes = tuple(i for i in range(xv.ndim) if i not in spec.waxes)
        dx = dw = db = None
        if spec.folded:
            ws = 1.0 if w is None else w
            s1 = s2 = sxh = None
            compiled = _batch_norm_kernels(spec, g, xv)
            if need_w or (need_x and spec.stats is None):
                if compiled:
                    s1, s2 = _channel_sums(g, xv, sshape)
                else:
                    s1, s2 = _batch_sums(xp, g, xv, spec.raxes, keep, sshape)
                sxh = invstd * (s2 - mean * s1) if mean is not None else invstd * s2  # sum(dy * xhat)
            if need_x:
                a = invstd * ws
                if spec.stats is not None:
                    dx = _lincomb(xp, [(g, a)])
                elif mean is not None:
                    bcoef = a * invstd * (sxh / -n)
                    t = -a * (s1 / n) - bcoef * mean
                    dx = _channel_axpby(g, a, xv, bcoef, t) if compiled else _lincomb(xp, [(g, a), (xv, bcoef)], t)
                else:
                    dx = _lincomb(xp, [(g, a), (xv, a * invstd * invstd * (s2 / -n))])
            if need_w:
                dw = sxh.sum(axis=wsum_axes, keepdims=True) if wsum_axes else sxh
            if need_b:
                if s1 is not None and wsum_axes == spec.raxes:  # sum(dy) per channel: taken with the statistics
                    db = s1
                else:
                    db = g.sum(axis=wsum_axes, keepdims=True) if wsum_axes else g
        else:
            if need_x:
                gw = g if w is None else g * w
                s1 = gw.sum(axis=spec.raxes, keepdims=True) if spec.center else None
                s2 = _sum_prod(xp, gw, xv, keep, sshape)
                if spec.center:
                    sxh = invstd * (s2 - mean * s1)
                    bcoef = invstd * invstd * (sxh / -n)
                    c = -invstd * (s1 / n) - bcoef * mean
                else:
                    bcoef = invstd * invstd * invstd * (s2 / -n)
                    c = None
                dx = _lincomb(xp, [(gw, invstd), (xv, bcoef)], c, out=None if gw is g else gw)
            if need_w:
                dw = _sum_prod(xp, g, xhat, spec.waxes, spec.wshape)
            if need_b:
                db = g.sum(axis=wsum_axes, keepdims=True)
        out_dx = out_dw = out_db = None
        if dx is not None:
            dx = dx.reshape(x.shape)
            out_dx = Tensor._make(dx if dx.dtype == x._data.dtype else dx.astype(x._data.dtype))
        if dw is not None:
            out_dw = _param_grad(dw, weight)
        if db is not None:
            out_db = _param_grad(db, bias)
        return out_dx, out_dw, out_db, None


def _rows_spec(spec):
    """Whether the normalization is layer / RMS norm over the rows of a 2-D view, with batch statistics."""
    return spec.stats is None and spec.running is None and spec.raxes == (1,) and len(spec.vshape) == 2 and not spec.folded


_EMPTY = np.empty(0, np.float32)


def _eval_forward(xa, weight, bias, spec):
    """Batch / instance norm with given statistics, nothing recorded, in one compiled call (``batch_norm_eval``): a
    float32 C-contiguous NumPy input of (N, C, L) with per-channel statistics and parameters; else None. The NumPy
    path's half-dozen passes over the (C,) coefficients cost an M5 batch norm as much as the pass over its input
    (b32, 64 channels of length 6)."""
    if len(spec.vshape) != 3 or spec.waxes != (1,) or not _fast.usable(xa, min_size=1):
        return None
    mean, var = spec.stats
    C = spec.vshape[1]
    arrays = [mean, var] + [p._data for p in (weight, bias) if p is not None]
    for a in arrays:
        if type(a) is not np.ndarray or a.dtype != np.float32 or a.size != C:
            return None
    out = np.empty_like(xa)
    w = _EMPTY if weight is None else weight._data.reshape(C)
    b = _EMPTY if bias is None else bias._data.reshape(C)
    _fast.kernels().batch_norm_eval(xa.reshape(spec.vshape), mean.reshape(C), var.reshape(C), w, b,
                                    np.float32(spec.eps), out.reshape(spec.vshape))
    return out


def _cuda_rows(spec, xa, weight, bias):
    return _rows_spec(spec) and _cuda.usable(xa, *[p._data for p in (weight, bias) if p is not None])


def _cuda_forward(ctx, x, weight, bias, spec):
    xv = x._data.reshape(spec.vshape)
    w = None if weight is None else weight._data.reshape(-1)
    b = None if bias is None else bias._data.reshape(-1)
    out, mean, rstd = _cuda.norm_fwd(xv, w, b, spec.eps, spec.center)
    if ctx.needs_input_grad is not None:
        ctx.save_for_backward(x, weight, bias)
        ctx.arrays = ("cuda", xv, w, mean, rstd)
        ctx.spec = spec
    return out.reshape(x._data.shape)


def _cuda_backward(ctx, weight, bias, dy):
    _, xv, w, mean, rstd = ctx.arrays
    need_x, need_w, need_b = ctx.needs_input_grad[:3]
    g = dy._data.reshape(xv.shape) if dy._data.shape != xv.shape else dy._data
    if g.dtype != xv.dtype:
        g = g.astype(xv.dtype)
    dx, dw, db = _cuda.norm_bwd(g, xv, w, mean, rstd, ctx.spec.center, need_x, need_w, need_b)
    return (None if dx is None else Tensor._make(dx.reshape(dy._data.shape)),
            None if dw is None else _param_grad(dw, weight), None if db is None else _param_grad(db, bias), None)


def _fast_rows(spec, xa, weight, bias):
    """Whether layer / RMS norm over rows goes row block by row block: to the compiled kernels (float32,
    numba present) or to NumPy passes on cache-sized blocks over the threads (large float32/64 arrays)."""
    if not _rows_spec(spec):
        return False
    params = [p._data for p in (weight, bias) if p is not None]
    if _fast.usable(xa, *params):
        return True
    return (_fast.big_cpu(xa) and xa.dtype in (np.float32, np.float64)
            and all(type(p) is np.ndarray and p.dtype == xa.dtype for p in params))


_NONE = np.empty(0, np.float32)


def _np_norm_fwd(x, w, b, eps, center, out, mean, rstd):
    """NumPy twin of the compiled ``norm_fwd`` on a block of rows."""
    n = x.shape[1]
    mu = x.mean(axis=1) if center else np.zeros(x.shape[0], x.dtype)
    np.subtract(x, mu[:, None], out=out)
    inv = np.einsum("ij,ij->i", out, out) / x.dtype.type(n)
    inv += x.dtype.type(eps)
    np.sqrt(inv, out=inv)
    np.reciprocal(inv, out=inv)
    out *= inv[:, None]
    if w.size:
        out *= w
    if b.size:
        out += b
    mean[...] = mu
    rstd[...] = inv


def _np_norm_bwd(g, x, w, mean, rstd, center, dx, dw, db):
    """NumPy twin of the compiled ``norm_bwd`` on a block of rows (dw / db: partial sums added in)."""
    n = x.dtype.type(x.shape[1])
    g = np.broadcast_to(g, x.shape)
    xhat = x - mean[:, None]
    xhat *= rstd[:, None]
    if dx.size:
        gw = g * w if w.size else g
        s2 = np.einsum("ij,ij->i", gw, xhat) / n
        np.multiply(xhat, s2[:, None], out=dx)
        np.subtract(gw, dx, out=dx)
        if center:
            dx -= (gw.sum(axis=1) / n)[:, None]
        dx *= rstd[:, None]
    if dw.size:
        dw += np.einsum("ij,ij->j", g, xhat)
    if db.size:
        db += g.sum(axis=0)


def _row_params(spec, weight, bias, dt):
    """The affine parameters of the compiled kernels (size 0 when absent): layer / RMS norm's one row (1, C);
    group norm's (G, Cg), one value per channel."""
    none = _NONE.astype(dt).reshape(0, 0)
    G = spec.groups[0] if spec.groups else 1
    return [none if p is None else p._data.reshape(G, -1) for p in (weight, bias)]


def _kernel_grid(spec, xv):
    """The compiled kernels' view of the rows xv: (N, G, Cg, L) for group norm, else (rows, 1, C)."""
    if spec.groups:
        G, L = spec.groups
        return xv.reshape(xv.shape[0] // G, G, -1, L)
    return xv.reshape(xv.shape[0], 1, -1)


def _fast_forward(ctx, x, weight, bias, spec):
    xa = x._data
    xv = xa.reshape(spec.vshape)
    dt = xv.dtype
    out = np.empty_like(xv)
    rows = xv.shape[0]
    mean, rstd = np.empty(rows, dt), np.empty(rows, dt)
    with np.errstate(all="ignore"):
        if dt == np.float32 and _fast.kernels() is not None:
            w, b = _row_params(spec, weight, bias, dt)
            xk, ok = _kernel_grid(spec, xv), _kernel_grid(spec, out)
            grid = xk.shape[:2]
            mk, rk = mean.reshape(grid), rstd.reshape(grid)
            if spec.groups:
                _fast.run_rows(_fast.kernels().group_norm_fwd, (xk, w, b, dt.type(spec.eps), ok, mk, rk), (0, 4, 5, 6))
            else:
                _fast.run_rows(_fast.kernels().norm_fwd, (xk, w, b, dt.type(spec.eps), spec.center, ok, mk, rk),
                               (0, 5, 6, 7))
        else:
            none = _NONE.astype(dt)
            w = none if weight is None else weight._data.reshape(-1)
            b = none if bias is None else bias._data.reshape(-1)

            def block(xb, ob, mb, rb):
                _np_norm_fwd(xb, w, b, dt.type(spec.eps), spec.center, ob, mb, rb)

            _fast.map_blocks(block, xv, out, mean, rstd)
    if ctx.needs_input_grad is not None:
        ctx.save_for_backward(x, weight, bias)
        ctx.arrays = ("fast", xv, mean, rstd)
        ctx.spec = spec
    return out.reshape(xa.shape)


def _fast_backward(ctx, x, weight, bias, dy):
    _, xv, mean, rstd = ctx.arrays
    spec = ctx.spec
    need_x, need_w, need_b = ctx.needs_input_grad[:3]
    dt = xv.dtype
    g, bcast = _fast.as_grad(dy._data, xv.shape, dt)
    parts = []
    compiled = dt == np.float32 and _fast.kernels() is not None
    if compiled:
        w, _ = _row_params(spec, weight, None, dt)
        xv = _kernel_grid(spec, xv)
        grid = xv.shape[:2]
        mean, rstd = mean.reshape(grid), rstd.reshape(grid)
        g = g.reshape((1,) * xv.ndim if bcast else xv.shape)
        pshape = xv.shape[1:3] if spec.groups else (1, xv.shape[2])
    else:
        w = _NONE.astype(dt) if weight is None else weight._data.reshape(-1)
        pshape = (xv.shape[1],)
    none = _NONE.astype(dt).reshape((0,) * len(pshape))
    dx = np.empty_like(xv) if need_x else none.reshape((0,) * xv.ndim)

    def part(g, xv, mean, rstd, dx):
        dw = np.zeros(pshape, dt) if need_w else none
        db = np.zeros(pshape, dt) if need_b else none
        parts.append((dw, db))
        if compiled and spec.groups:
            _fast.kernels().group_norm_bwd(g, xv, w, mean, rstd, dx, dw, db)
        elif compiled:
            _fast.kernels().norm_bwd(g, xv, w, mean, rstd, spec.center, dx, dw, db)
        else:
            _np_norm_bwd(g, xv, w, mean, rstd, spec.center, dx, dw, db)

    with np.errstate(all="ignore"):
        if compiled:
            sliced = (1, 2, 3) + (() if bcast else (0,)) + ((4,) if need_x else ())
            _fast.run_rows(part, (g, xv, mean, rstd, dx), sliced, size=xv.size)
        else:
            row_args = [xv, mean, rstd] + ([] if bcast else [g]) + ([dx] if need_x else [])

            def block(xb, mb, rb, *rest):
                rest = list(rest)
                gb = g if bcast else rest.pop(0)
                part(gb, xb, mb, rb, rest.pop(0) if need_x else dx)

            _fast.map_blocks(block, *row_args)

    def param_grad(i, like):
        return _param_grad(sum(p[i] for p in parts[1:]) + parts[0][i], like)

    out_dx = Tensor._make(dx.reshape(x.shape)) if need_x else None
    out_dw = param_grad(0, weight) if need_w else None
    out_db = param_grad(1, bias) if need_b else None
    return out_dx, out_dw, out_db, None


def _normalize_backward_graph(ctx, x, weight, bias, dy):
    """The same gradients as the fused backward, written with differentiable tensor ops (for double
    backward: gradient penalties and the like)."""
    spec = ctx.spec.general or ctx.spec
    need_x, need_w, need_b = ctx.needs_input_grad[:3]
    cdt = _compute_dtype(x._data)
    xv, g = x.reshape(spec.vshape), dy.reshape(spec.vshape)
    if xv._data.dtype != cdt:
        xv, g = xv.to(_dtypes._FROM_NP[cdt]), g.to(_dtypes._FROM_NP[cdt])
    ra = spec.raxes
    if spec.stats is not None:  # running estimates: constants
        mean, var = (Tensor._make(a.astype(cdt, copy=False)) for a in spec.stats)
        invstd = (var + spec.eps).rsqrt()
        xhat = (xv - mean) * invstd
    elif spec.center:
        xc = xv - xv.mean(dim=ra, keepdim=True)
        invstd = ((xc * xc).mean(dim=ra, keepdim=True) + spec.eps).rsqrt()
        xhat = xc * invstd
    else:
        invstd = ((xv * xv).mean(dim=ra, keepdim=True) + spec.eps).rsqrt()
        xhat = xv * invstd
    dx = dw = db = None
    if need_x:
        gw = g if weight is None else g * weight.reshape(spec.wshape).to(xv.dtype)
        if spec.stats is not None:
            dx = gw * invstd
        else:
            proj = xhat * (gw * xhat).mean(dim=ra, keepdim=True)
            dx = invstd * ((gw - gw.mean(dim=ra, keepdim=True) - proj) if spec.center else (gw - proj))
        dx = dx.reshape(x.shape).to(x.dtype)
    wsum = tuple(i for i in range(len(spec.vshape)) if i not in spec.waxes)
    if need_w:
        dw = (g * xhat).sum(dim=wsum, keepdim=True).reshape(weight.shape).to(weight.dtype)
    if need_b:
        db = g.sum(dim=wsum, keepdim=True).reshape(bias.shape).to(bias.dtype)
    return dx, dw, db, None


def _param_grad(arr, like):
    return Tensor._make(arr.reshape(like.shape).astype(like._data.dtype, copy=False))


def _update_running(xp, running, mean, var, n):
    """running = (1 - momentum) * running + momentum * batch statistic (unbiased variance)."""
    rm, rv, momentum, axes = running
    m = float(momentum)
    for buf, stat in ((rm, mean), (rv, var * (n / (n - 1)) if n > 1 else var)):
        if buf is None:
            continue
        stat = stat.mean(axis=axes) if axes else stat
        stat = stat.reshape(buf._data.shape)
        data = buf._data
        data *= 1.0 - m
        data += (m * stat).astype(data.dtype, copy=False)
        buf._version_counter.value += 1


# -- argument checks ---------------------------------------------------------------------------------
def _check_float(input, name):
    if not input.dtype.is_floating_point:
        from .unary import scalar_type_name

        raise NotImplementedError(f'"{name}" not implemented for \'{scalar_type_name(input._data.dtype)}\'')


def _check_numel(t, what, c):
    if t is not None and t.numel() != c:
        raise RuntimeError(f"{what} should contain {c} elements not {t.numel()}")


def _verify_batch_size(size):
    prod = size[0]
    for s in size[2:]:
        prod *= s
    if prod == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {size}")


def _verify_spatial_size(size):
    prod = 1
    for s in size[2:]:
        prod *= s
    if prod == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {size}")


def _channel_view(input):
    shape = tuple(input.shape)
    length = 1
    for s in shape[2:]:
        length *= s
    return shape[0], shape[1], length


def _apply(input, weight, bias, spec):
    return _Normalize.apply(input, weight, bias, spec)


# -- functional API ----------------------------------------------------------------------------------
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-05):
    """Batch normalization over the channel dim 1: batch statistics in training (updating the running
    estimates in place, with the unbiased variance), the running estimates otherwise."""
    if training:
        _verify_batch_size(input.size())
    if training and eps <= 0.0:
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    if eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    _check_float(input, "batch_norm")
    if input.dim() < 2:
        raise ValueError(f"batch_norm expects an input of at least 2 dimensions (N, C, *), got {input.dim()}D input")
    N, C, L = _channel_view(input)
    _check_numel(running_mean, "running_mean", C)
    _check_numel(running_var, "running_var", C)
    _check_numel(weight, "weight", C)
    _check_numel(bias, "bias", C)
    stats = running = None
    if not training:
        if running_mean is None:
            raise RuntimeError("running_mean must be defined in evaluation mode")
        if running_var is None:
            raise RuntimeError("running_var must be defined in evaluation mode")
        stats = (running_mean._data.reshape(1, C, 1), running_var._data.reshape(1, C, 1))
    elif running_mean is not None or running_var is not None:
        running = (running_mean, running_var, momentum, ())
    return _apply(input, weight, bias, _Spec((N, C, L), (0, 2), (1,), eps, stats=stats, running=running))


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-05):
    """Normalizes each channel of each sample over its spatial dims."""
    if use_input_stats:
        _verify_spatial_size(input.size())
    _check_float(input, "batch_norm")
    N, C, L = _channel_view(input)
    _check_numel(weight, "weight", C)
    _check_numel(bias, "bias", C)
    for t, what in ((running_mean, "running_mean"), (running_var, "running_var")):
        if t is not None and t.numel() != C:
            raise RuntimeError(f"{what} should contain {N * C} elements not {N * t.numel()}")
    stats = running = None
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats is false")
        stats = (running_mean._data.reshape(1, C, 1), running_var._data.reshape(1, C, 1))
    elif running_mean is not None or running_var is not None:
        running = (running_mean, running_var, momentum, (0,))
    return _apply(input, weight, bias, _Spec((N, C, L), (2,), (1,), eps, stats=stats, running=running))


def _norm_shape(normalized_shape):
    if isinstance(normalized_shape, numbers.Integral):
        return (int(normalized_shape),)
    return tuple(int(s) for s in normalized_shape)


def _last_dims_spec(input, normalized_shape, weight, bias, eps, center, name):
    shape = _norm_shape(normalized_shape)
    if not shape:
        raise RuntimeError(
            "Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one element, but got "
            f"normalized_shape = {list(shape)}"
        )
    in_shape = tuple(input.shape)
    k = len(shape)
    if in_shape[len(in_shape) - k:] != shape or len(in_shape) < k:
        star = "[*, " if center else "[*"
        raise RuntimeError(
            f"Given normalized_shape={list(shape)}, expected input with shape {star}{', '.join(map(str, shape))}], but "
            f"got input of size{list(in_shape)}"
        )
    for t, what in ((weight, "weight"), (bias, "bias")):
        if t is not None and tuple(t.shape) != shape:
            raise RuntimeError(
                f"Expected {what} to be of same shape as normalized_shape, but got {what} of shape "
                f"{list(t.shape)} and normalized_shape = {list(shape)}"
            )
    _check_float(input, name)
    d = 1
    for s in shape:
        d *= s
    m = 1
    for s in in_shape[: len(in_shape) - k]:
        m *= s
    return _Spec((m, d), (1,), (1,), eps, center=center)


@autocast_op
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05):
    """Normalizes over the trailing ``normalized_shape`` dims, then an elementwise affine."""
    return _apply(input, weight, bias, _last_dims_spec(input, normalized_shape, weight, bias, eps, True, "LayerNormKernelImpl"))


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2 over the trailing dims) + eps) * weight; eps defaults to the float eps of the
    computation dtype (float32 for half inputs)."""
    if eps is None:
        eps = float(np.finfo(np.float64 if input._data.dtype == np.float64 else np.float32).eps)
    return _apply(input, weight, None, _last_dims_spec(input, normalized_shape, weight, None, eps, False, "rms_norm"))


@autocast_op
def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05):
    """Normalizes each group of ``C // num_groups`` channels of each sample, then a per-channel affine."""
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.dim()}")
    shape = list(input.shape)
    _verify_batch_size([shape[0] * shape[1] // num_groups, num_groups] + shape[2:])
    return _group_norm(input, num_groups, weight, bias, eps)


@autocast_op
def aten_group_norm(input, num_groups, weight=None, bias=None, eps=1e-05, cudnn_enabled=True):
    """``torch.group_norm``: ATen's kernel, which (unlike ``F.group_norm``) accepts one value per group."""
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.dim()}")
    return _group_norm(input, num_groups, weight, bias, eps)


def _group_norm(input, num_groups, weight, bias, eps):
    shape = list(input.shape)
    N, C, L = _channel_view(input)
    if C % num_groups:
        raise RuntimeError(
            "Expected number of channels in input to be divisible by num_groups, but got input of shape "
            f"{shape} and num_groups={num_groups}"
        )
    for t, what in ((weight, "weight"), (bias, "bias")):
        if t is not None and (t.dim() != 1 or t.numel() != C):
            raise RuntimeError(
                f"Expected {what} to be a vector of size equal to the number of channels in input, but got {what} "
                f"of shape {list(t.shape)} and input of shape {shape}"
            )
    _check_float(input, "group_norm")
    spec = _Spec((N, num_groups, C // num_groups, L), (2, 3), (1, 2), eps)
    params = [p._data for p in (weight, bias) if p is not None]
    if N and L and TRACE_HOOK[0] is None and _fast.usable(input._data, *params):  # (traces keep one spec)
        # each (sample, group) is one contiguous row: the compiled row kernels, one pass out
        spec = _Spec((N * num_groups, C // num_groups * L), (1,), (1,), eps, groups=(num_groups, L), general=spec)
    return _apply(input, weight, bias, spec)


def local_response_norm(input, size, alpha=0.0001, beta=0.75, k=1.0):
    """x / (k + alpha / size * sum of x^2 over ``size`` neighbouring channels) ** beta."""
    dim = input.dim()
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality                          input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    from .joining import cat

    sizes = tuple(input.shape)
    sq = (input * input).reshape(sizes[0], sizes[1], -1)
    before, after = size // 2, (size - 1) // 2
    parts = [sq]
    if before:
        parts.insert(0, sq.new_zeros((sizes[0], before, sq.shape[2])))
    if after:
        parts.append(sq.new_zeros((sizes[0], after, sq.shape[2])))
    padded = cat(parts, 1) if len(parts) > 1 else sq
    C = sizes[1]
    window = padded[:, 0:C]
    for i in range(1, size):  # a loop over the window offsets, each a whole-array slice
        window = window + padded[:, i:i + C]
    div = (window.reshape(sizes) * (alpha / size) + k) ** beta
    return input / div


__all__ = ["batch_norm", "instance_norm", "layer_norm", "group_norm", "rms_norm", "local_response_norm"]
