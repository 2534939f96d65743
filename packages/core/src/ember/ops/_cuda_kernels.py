"""Fused CUDA kernels for hot GPU paths, and the one place ops ask whether to use them.

Ops call ``usable(*arrays)``: True only when every array is a float32, C-contiguous array of real CuPy
(never NumPy, never the test suite's CUDA stand-in) and ``EMBER_NO_CUDA_KERNELS`` is unset; then they call
one of the functions below instead of their composed ``xp`` path, which stays the reference. The kernels
(``_cuda_sources.SOURCE``) are compiled once per process by CuPy's ``RawModule`` (which also caches the
binary on disk) on first use.

A launcher object does the launches; tests swap in one that runs the same CUDA source on the CPU
(``_use_launcher``), which is how the wrappers and the kernels' numerics are checked without a GPU.
"""

from __future__ import annotations

import os

import numpy as np

from .. import backend
from ._cuda_sources import SOURCE

_THREADS = 256  # threads per block for elementwise kernels
_MAX_GRID = 65535  # grid-stride / row-stride loops cover the rest
_NORM_CHUNK_ROWS = 64  # rows per partial sum of the norm's weight / bias gradients


class _CupyLauncher:
    """Launches the kernels with CuPy: one ``RawModule`` for the whole source, compiled on first use."""

    def __init__(self):
        self._module = None
        self._functions = {}

    def accepts(self, arrays) -> bool:
        cp = backend._cupy
        if cp is None or getattr(cp, "RawModule", None) is None:  # no CuPy, or a stand-in without kernels
            return False
        return all(type(a) is cp.ndarray for a in arrays)

    def launch(self, name, grid, block, args):
        fn = self._functions.get(name)
        if fn is None:
            if self._module is None:
                self._module = backend._cupy.RawModule(code=SOURCE, options=("--std=c++14",))
            fn = self._functions[name] = self._module.get_function(name)
        fn((grid,), (block,), args)

    def null(self):
        return np.uint64(0)  # a null device pointer


_LAUNCHER = _CupyLauncher()


def _use_launcher(launcher):
    """Test hook: run the kernels with ``launcher`` (None restores CuPy's). Returns the previous one."""
    global _LAUNCHER
    previous, _LAUNCHER = _LAUNCHER, launcher if launcher is not None else _CupyLauncher()
    return previous


def usable(*arrays) -> bool:
    """Whether the fused kernels apply to ``arrays`` (all float32 and C-contiguous, on a launcher's device)."""
    if not _LAUNCHER.accepts(arrays):  # first: on the CPU this is all an op pays
        return False
    if os.environ.get("EMBER_NO_CUDA_KERNELS", "") not in ("", "0"):
        return False
    return all(a.dtype == np.float32 and a.flags.c_contiguous for a in arrays)


def grad_ok(g, like) -> bool:
    """Whether an incoming gradient ``g`` (possibly a broadcast view) can go with ``like`` to a kernel."""
    return g.dtype == like.dtype and g.shape == like.shape and _LAUNCHER.accepts((g,))


def _xp(a):
    return backend.array_module(a)


def _flat_grid(n):
    return max(1, min(-(-n // _THREADS), _MAX_GRID)), _THREADS


def _row_grid(rows, cols):
    block = 32
    while block < _THREADS and block < cols:
        block *= 2
    return max(1, min(rows, _MAX_GRID)), block


def _contig(xp, a):
    return a if a.flags.c_contiguous else xp.ascontiguousarray(a)


def _opt(a):
    return _LAUNCHER.null() if a is None else a


# ---- activations / normalisations -----------------------------------------------------------------


def gelu_fwd(x, approximate):
    y = _xp(x).empty_like(x)
    _LAUNCHER.launch("ember_gelu_fwd", *_flat_grid(x.size), (x, y, np.int64(x.size), np.int32(approximate == "tanh")))
    return y


def gelu_bwd(g, x, approximate):
    xp = _xp(x)
    g = _contig(xp, xp.broadcast_to(g, x.shape))
    dx = xp.empty_like(x)
    _LAUNCHER.launch("ember_gelu_bwd", *_flat_grid(x.size),
                     (g, x, dx, np.int64(x.size), np.int32(approximate == "tanh")))
    return dx


def softmax_fwd(x, log):
    """(Log-)softmax over the last dim of a C-contiguous float32 array."""
    cols = x.shape[-1]
    rows = x.size // cols
    y = _xp(x).empty_like(x)
    _LAUNCHER.launch("ember_softmax_fwd", *_row_grid(rows, cols), (x, y, np.int64(rows), np.int64(cols), np.int32(log)))
    return y


def softmax_bwd(g, y, log):
    xp = _xp(y)
    g = _contig(xp, xp.broadcast_to(g, y.shape))
    cols = y.shape[-1]
    rows = y.size // cols
    dx = xp.empty_like(y)
    _LAUNCHER.launch("ember_softmax_bwd", *_row_grid(rows, cols),
                     (g, y, dx, np.int64(rows), np.int64(cols), np.int32(log)))
    return dx


def norm_fwd(x2, w, b, eps, center):
    """Layer norm (``center``) or RMS norm over the rows of a 2-D array; returns (y, mean, rstd)."""
    xp = _xp(x2)
    rows, cols = x2.shape
    y = xp.empty_like(x2)
    mean, rstd = xp.empty(rows, np.float32), xp.empty(rows, np.float32)
    _LAUNCHER.launch("ember_norm_fwd", *_row_grid(rows, cols),
                     (x2, _opt(w), _opt(b), np.float32(eps), np.int32(center), y, mean, rstd,
                      np.int64(rows), np.int64(cols)))
    return y, mean, rstd


def norm_bwd(g, x2, w, mean, rstd, center, need_x, need_w, need_b):
    """(dx, dw, db) of ``norm_fwd`` (None where not needed)."""
    xp = _xp(x2)
    rows, cols = x2.shape
    g = _contig(xp, xp.broadcast_to(g, x2.shape))
    dx = dw = db = None
    if need_x:
        dx = xp.empty_like(x2)
        _LAUNCHER.launch("ember_norm_bwd_dx", *_row_grid(rows, cols),
                         (g, x2, _opt(w), mean, rstd, np.int32(center), dx, np.int64(rows), np.int64(cols)))
    if need_w or need_b:
        chunks = -(-rows // _NORM_CHUNK_ROWS)
        dw = xp.empty((chunks, cols), np.float32) if need_w else None
        db = xp.empty((chunks, cols), np.float32) if need_b else None
        tiles = -(-cols // _THREADS)
        _LAUNCHER.launch("ember_norm_bwd_wb", min(tiles * chunks, _MAX_GRID), _THREADS,
                         (g, x2, mean, rstd, _opt(dw), _opt(db), np.int64(rows), np.int64(cols),
                          np.int64(_NORM_CHUNK_ROWS)))
        dw, db = (None if a is None else (a[0] if chunks == 1 else a.sum(axis=0)) for a in (dw, db))
    return dx, dw, db


# ---- cross-entropy rows and dropout ------------------------------------------------------------------


def ce_exp_rows(x2):
    """For (N, C) ``x2``: (e = exp(x - max), max (N, 1), sum(e) (N, 1))."""
    xp = _xp(x2)
    rows, cols = x2.shape
    e = xp.empty_like(x2)
    m, s = xp.empty((rows, 1), np.float32), xp.empty((rows, 1), np.float32)
    _LAUNCHER.launch("ember_ce_exp_rows", *_row_grid(rows, cols), (x2, e, m, s, np.int64(rows), np.int64(cols)))
    return e, m, s


def ce_bwd_rows(e, coef, index, picked):
    """``e * coef`` (one per row) minus ``picked[r]`` at each row's target, whose flat position in ``e`` is
    ``index[r]`` ((N, C) float32 result)."""
    xp = _xp(e)
    rows, cols = e.shape
    coef = _contig(xp, xp.broadcast_to(coef.reshape(-1) if coef.ndim else coef, (rows,)).astype(np.float32, copy=False))
    picked = _contig(xp, xp.broadcast_to(picked, (rows,)).astype(np.float32, copy=False))
    index = _contig(xp, index.reshape(rows).astype(np.int64, copy=False))
    dx = xp.empty_like(e)
    _LAUNCHER.launch("ember_ce_bwd_rows", *_flat_grid(e.size), (e, coef, index, picked, dx, np.int64(rows), np.int64(cols)))
    return dx


def dropout_scale(u, p):
    """The dropout multiplier from uniform samples ``u``: ``1 / (1 - p)`` where ``u >= p``, else 0 (in place)."""
    scale = 1.0 / (1.0 - p) if p < 1.0 else 1.0
    _LAUNCHER.launch("ember_dropout_scale", *_flat_grid(u.size), (u, np.float32(p), np.float32(scale), u, np.int64(u.size)))
    return u


# ---- optimizer steps -----------------------------------------------------------------------------------


def adam_step(p, g, m, v, vmax, *, beta1, beta2, eps, wd, lr, decoupled, maximize, step_size, bc2_sqrt):
    """One Adam/AdamW update of ``p`` and its state, in place (``vmax`` None without amsgrad)."""
    f = np.float32
    w1 = 1 - beta1
    _LAUNCHER.launch("ember_adam_step", *_flat_grid(p.size),
                     (p, g, m, v, _opt(vmax), np.int64(p.size), f(w1), f(1.0 - w1), f(beta2), f(1 - beta2), f(eps),
                      f(wd), f(1 - lr * wd), f(-step_size), f(bc2_sqrt), np.int32(decoupled), np.int32(maximize)))


def sgd_step(p, g, buf, *, lr, momentum, dampening, wd, nesterov, maximize, first):
    """One SGD update of ``p`` (and its momentum buffer ``buf`` unless None), in place."""
    f = np.float32
    _LAUNCHER.launch("ember_sgd_step", *_flat_grid(p.size),
                     (p, g, _opt(buf), np.int64(p.size), f(-lr), f(momentum), f(1 - dampening), f(wd),
                      np.int32(nesterov), np.int32(maximize), np.int32(first)))
