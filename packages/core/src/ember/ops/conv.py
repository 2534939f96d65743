"""Convolutions (conv1d/conv2d and their transposes) as fused primitives on raw arrays.

Everything runs through one 2-D core (1-D convolutions add a unit height). The three linear maps of a
convolution -- the forward pass, its adjoint in the input (= the transposed convolution) and its
adjoint in the weight -- are each a primitive whose backward is written with the other two, so
double backward works. When no graph of the backward is recorded, conv's backward takes a fused
path that prepares the input and gradient layouts once for both gradients.

Algorithms (chosen per shape, see ``_algo``), all as BLAS GEMMs:

* ``"1x1"``: 1x1 kernel, stride 1, no padding: one (batched) GEMM on the input as is.
* ``"wino"`` (3x3, stride 1, dilation 1, groups 1, float32/float64, at least 4x4 outputs and 128 input
  and output channels, or 64 on images of at most 16x16 outputs): Winograd F(2x2, 3x3), 16 GEMMs over
  tiles (``winograd.py``), 2.25x fewer multiplies; the weight gradient is its adjoint, the input gradient
  the convolution with the flipped kernel (also Winograd, reusing the forward's weight tiles). With few
  channels or large images its transforms and layout transposes cost more than the GEMM time it saves.
* ``"win"`` (1-D, stride > 1, groups 1, no height padding, kernel of at least ``_WIN_MIN_K`` taps, Cg*k >= O:
  M5's first layer): the input's windows, a zero-copy strided view, copied out in one call per block of
  images as (b*Wo, C*k) columns (runs of k contiguous samples), one GEMM columns @ W^T per block into a
  (b*Wo, O) buffer transposed into the output; the weight gradient is gy (O, b*Wo) @ columns, recomputed block
  by block; the input gradient is "blk"'s or "col"'s.
* ``"seq"`` (1-D, groups 1, the forward of a small conv when no backward follows: fewer than ``_BLK_MIN_HW``
  outputs per sequence and at most ``_SEQ_MAX_FLOPS``; M5's later layers in inference): on the calling
  thread, batched GEMMs straight into the output, one per tap on views of the input at stride 1, else one
  over columns copied from a strided view. Its gradients are the other paths'.
* ``"blk"`` (groups 1, at least ``_BLK_MIN_HW`` output positions per image): im2col of one image (or a
  few small ones) at a time in its own (C, H, W) layout into small reused buffers, one K = C*kh*kw GEMM
  per image written straight into the output; the backward recomputes the columns (nothing is kept) and,
  for stride 1, computes the input gradient as a convolution with the flipped kernel.
* ``"flat"`` (stride 1, mid-sized channel counts per group, large images; in practice grouped convs): the
  zero-padded input is laid out channels-last and flattened to (N*Hp*Wp, C); each kernel offset (i, j) is
  a constant row shift, so the output is a sum of kh*kw GEMMs on shifted row ranges (no im2col copy),
  done in row chunks that stay in cache. Rows whose window wraps around are computed and cropped away.
* ``"dw"`` (depthwise: groups = in channels = out channels, float32/float64 NumPy, ``ember[fast]``): each
  (image, channel) plane convolved with its own kernel by compiled loops (``_fast_depthwise``), forward and both
  gradients; one GEMM per group over im2col columns was 6x PyTorch's time.
* ``"region"`` (groups 1, a padded kernel, small outputs: at most ``_REGION_MAX_HW`` per image, at least
  ``_REGION_MIN_C`` channels; VGG's and ResNet's last stages on CIFAR, ResNet's 7x7 on ImageNet): one GEMM per
  kernel tap over the rectangle of outputs it reaches, channels-last, so no padding is multiplied; all three
  maps (``conv_regions.py``).
* ``"col"`` (everything else: small images, strided 1x1): im2col by kh*kw strided-slice copies of a
  channel-major (C, N, Hp, Wp) padded input into one buffer, then a single whole-batch GEMM; col2im for
  the input gradient is kh*kw strided slice-adds.

Memory: a prepared input is kept for the weight gradient only when it is about the input's size (a padded
copy, a strided 1x1 subsample) or small (``_KEEP_MAX_BYTES``); larger im2col columns and Winograd's
input grid and weight tiles are recomputed.

Measured (single-thread CPU time, float32, fwd+bwd, ResNet-18 CIFAR shapes at batch 32, OpenBLAS):
3x3 64->64 at 32x32 about 80-90 GFLOP/s, 128 ch at 16x16 85-98, 256 ch at 8x8 and 512 ch at 4x4 85-100
(PyTorch 2.13's oneDNN: 100-160; NumPy's plain GEMM here: 110-145). With Winograd, fwd+bwd vs PyTorch on
one thread each: 128 ch at 16x16 1.55x -> 1.15x, 256 ch at 8x8 1.55x -> 1.0x, 512 ch at 4x4 1.35x -> 0.95x.
3-D convolutions run through the 2-D paths (``conv3d.py``).
"""

from __future__ import annotations

import contextlib
import warnings

import numpy as _np

from ..autograd.function import Primitive
from ..autograd.grad_mode import STATE
from ..tensor import Tensor
from .. import _fast
from ._common import drop_unit_height, kept_for_plain_args, unit_height, xp_of
from . import conv_regions, winograd
from ..autograd.autocast import autocast_op


# ------------------------------------------------------------------------------------------------
# configuration: stride, padding ((top, bottom), (left, right)), dilation, groups -- all 2-D
# ------------------------------------------------------------------------------------------------


class _Cfg(tuple):
    """(stride, pads, dilation, groups) of a 2-D convolution, hashable."""

    __slots__ = ()

    def __new__(cls, stride, pads, dilation, groups):
        return tuple.__new__(cls, (tuple(stride), tuple(tuple(p) for p in pads), tuple(dilation), int(groups)))

    stride = property(lambda self: self[0])
    pads = property(lambda self: self[1])
    dilation = property(lambda self: self[2])
    groups = property(lambda self: self[3])


def _out_size(n, lo, hi, k, s, d):
    return (n + lo + hi - d * (k - 1) - 1) // s + 1


# flat-shift wins (measured on 2 cores, fwd+bwd, batch 32) only for mid-sized channel counts at large
# spatial sizes (64 ch at 32x32: 0.9x the time of im2col); its per-offset GEMMs have K = Cg (thin for few
# channels, less efficient than im2col's K = kh*kw*Cg for many) and it computes Hp*Wp positions for
# Ho*Wo outputs (64 ch at 16x16, waste 1.27: im2col is 15% faster).
_FLAT_MAX_WASTE = 1.2
_FLAT_CG = (32, 96)


_BLK_MIN_HW = 192  # "blk" needs this many output positions per image for its per-image GEMMs to run near BLAS speed
# ... but where "flat" does not apply, "blk" (blocks of several images, nothing kept) beats "col" from this many
# (2-vCPU Zen 5, b32 unless said, forward / fwd+bwd ms, blk vs col): 3x3 s2 128 -> 256 at 16x16 (64 positions)
# 6.1 / 21.4 vs 11.9 / 26.2 with the columns kept; 3x3 s2 64 -> 128 at 16x16 1.8 / 7.2 vs 2.9 / 9.8; 1x1 s2
# 128 -> 256 at 16x16 1.4 / 3.2 vs 1.9 / 4.1; b64 5x5 6 -> 16 at 14x14 (LeNet's, 100 positions) 0.6 / 1.9 vs
# 1.3 / 3.3; 3x3 16 -> 32 at 10x10 0.6 / 1.7 vs 0.9 / 2.0. At 36 positions (s2 128 ch at 12x12) neither wins.
_BLK_OVER_COL_MIN_HW = 64
_BLK_BYTES = 1 << 21  # target size of one block of im2col columns (several images when they are small)


# "win" (1-D, strided, groups 1): its one window copy replaces blk's kw strided copies. It pays where the
# windows are long runs of contiguous samples and the output is not larger than the columns (it is written
# twice: GEMM, then the copy into (N, O, Wo)). CPU time, b32 unless said, fwd+bwd (fwd) win vs old in ms:
# 1 -> 32 ch, k 80, s 16 (M5's conv1): 7.1 vs 8.6 (1.4 vs 6.1); 4 -> 32, k 40, s 8: 18.7 vs 28.3; b16 2 -> 64,
# k 64, s 8: 11.8 vs 15.7; 1 -> 16, k 20, s 10: 0.98 vs 0.98; 16 -> 32, k 8, s 4: 15.1 vs 13.9; 64 -> 64, k 4,
# s 2: 41 vs 30; b8 512 -> 512, k 3, s 2: 575 vs 376 (short runs from many channels copy slowly); b8 1 -> 512,
# k 10, s 5: 21 ms fwd vs 8.5 (output much larger than the columns: Cg*k < O)
_WIN_MIN_K = 16
_WIN_BYTES = 1 << 19  # target size of one block of columns or of GEMM output (in a core's L2)

# "seq" (small 1-D forwards, one thread): handing half of such a conv to a second thread costs more than it
# saves here, and "flat"'s layout passes cost more than the GEMMs. Forward, b32, ms, the path it replaced -> seq
# (PyTorch, 2 threads): M5's conv2 32 ch at L 124 (24 MFLOP) 0.32 "flat" -> 0.21 (0.12-0.14); conv3 32 -> 64 at
# 30 0.15 -> 0.13 (0.08-0.09); conv4 64 ch at 7 0.16 "col" -> 0.09 (0.06-0.08). Larger ones gain from two threads
# (64 ch at L 124, 96 MFLOP: 0.91 ms on two, 1.70 on one)
_SEQ_MAX_FLOPS = 1 << 25


# the input gradient as a convolution needs enough input channels (its GEMM's rows); below, GEMM + the compiled
# col2im fold is faster (fwd+bwd, b64 32 -> 64 at 26x26: 35.6 vs 41.3 ms; 48 -> 64 at 32x32 b32: 41.4 vs 43.5;
# 16 -> 32: 12.4 vs 14.1; but 64 -> 64 at 32x32: 53.8 vs 50.8 and 64 -> 32 at 26x26: 59 vs 48)
_GX_CONV_MIN_C = 64
# ... and pays where col2im's slice-adds are large (per-image blocks); on small images (the whole-batch "col"
# path) col2im is cheaper than the extra layout copies (VGG-11 step: 0.48 s vs 0.49 s, CPU time)
_GX_CONV_ALGOS = ("blk", "wino")

# Winograd pays (1 thread, CPU time, batch 32, fwd+bwd vs the other paths) with many channels: 128 ch at
# 16x16 0.75x, 256 ch at 8x8 0.65x, 512 ch at 4x4 0.75x; with 64 channels only on small images (64 -> 128 at
# 16x16 0.77x, 64 ch at 16x16 0.85x, but 64 ch at 32x32 1.05x and MNIST's 32 -> 64 at 26x26 1.5x: the
# layout transposes of large arrays and the thin K = 64 GEMMs cost more than the FLOPs saved)
_WINO_MIN_C = 64
# compiled (tiles straight from NCHW planes: no transposes to pay for), Winograd pays from 32 channels, at every
# size (b32 unless said, ms, fwd / input grad / weight grad, Winograd vs the GEMM path "blk"): b64 32 -> 64 at
# 26x26 8.4 / 11.0 / 11.7 vs 14.9 / 16.3 / 14.9; 64 ch at 32x32 11.8 / 12.4 / 15.1 vs 25.7 / 27.3 / 24.2;
# 128 ch at 16x16 9.9 / 9.5 / 11.7 vs 18.4 / 16.6 / 19.3; 512 ch at 4x4 12.6 / 12.7 / 14.8 vs 24.0 / 29.9 / 76.6;
# but 3 -> 64 at 32x32 3.1 / 4.1 / 4.2 vs 2.2 / 1.7 / 2.5
_WINO_MIN_C_COMPILED = 32
# ... but its weight gradient only from this many output positions per image: on smaller images each thread's
# GEMMs have too few tiles and the per-thread (16, O, C) partial sums cost more than the NumPy path's one
# threaded GEMM (512 ch at 4x4, b32: 14.0-14.8 vs 9.6-10.1 ms; 256 ch at 8x8: 10.7-11.1 vs 14.9-15.5)
_WINO_NCHW_WGRAD_MIN_HW = 64
_WINO_WIDE_C = 128  # fewer channels than this: only up to _WINO_THIN_MAX_HW output positions per image
_WINO_THIN_MAX_HW = 256
_WINO_MIN_HW = 4  # 512 ch at 2x2 (one tile per image): 1.25x the time of im2col
_WINO_DTYPES = ("float32", "float64")

# "region" (groups 1, a padded kernel, at most this many output positions per image, at least _REGION_MIN_C input and
# output channels): im2col's columns and Winograd's tiles there are largely padding, which their GEMMs multiply.
# 2-vCPU Zen 5, b32 unless said, fwd / fwd+bwd ms, region vs the path it replaced (PyTorch): 3x3 512 ch at 2x2
# 3.2 / 11.3 vs "tap" + "col" 4.2 / 18-23 (3.0-3.3 / 11.8-12.7); 512 ch at 4x4 8.8 / 25-29 vs Winograd 14-16 /
# 38-44 (7.6-8.1 / 23-25); 256 -> 512 at 4x4 4.2 / 14 vs 8-9 / 28-32 (3.9-4.3 / 12.2); 256 ch at 5x5 2.9 / 8.6 vs
# 6.1 / 23 (2.7 / 7.1); at 7x7 4.9 / 16.6 vs 6.7 / 24 (4.6 / 16); 3x3 s2 256 -> 512 from 8x8 4.8 / 13.4 vs "col"
# 5.5 / 17; 32 ch at 4x4 0.24 / 0.52 vs 0.4 / 1.0. At 8x8 Winograd's 2.25x fewer multiplies win (256 ch: 6.0 /
# 18 vs 7.2 / 27); with 8-16 channels neither wins.
_REGION_MAX_HW = 49
_REGION_MIN_C = 32


def _gx_conv_cfg(cfg, kh, kw, C, H, W, Ho, Wo, min_c):
    """For a stride-1 convolution (groups 1) the input gradient is itself a convolution of the grad-output
    with the flipped, transposed kernel, padded by d*(k-1) - pad before and whatever reaches H x W after:
    im2col copies instead of col2im's slice-adds (about 3x less memory traffic). Its config, or None."""
    (sh, sw), ((a0, _), (b0, _)), (dh, dw) = cfg.stride, cfg.pads, cfg.dilation
    if (cfg.groups != 1 or sh != 1 or sw != 1 or C < min_c or kh * kw == 1 or a0 > dh * (kh - 1)
            or b0 > dw * (kw - 1) or H - Ho + a0 < 0 or W - Wo + b0 < 0):
        return None
    return _Cfg((1, 1), ((dh * (kh - 1) - a0, H - Ho + a0), (dw * (kw - 1) - b0, W - Wo + b0)), (dh, dw), 1)


def _algo(cfg, kh, kw, H, W, Ho, Wo, Cg, O=0, dtype=None, win=True, xp=None, N=None):
    """The algorithm for this shape (module docstring). ``win``: allow "win" (its input gradient is another
    path's); ``N``: the batch of a forward, which allows "seq"."""
    (sh, sw), ((a0, a1), (b0, b1)) = cfg.stride, cfg.pads
    if kh == kw == 1 and sh == sw == 1 and a0 == a1 == b0 == b1 == 0:
        return "1x1"
    if (Cg == 1 and O == cfg.groups > 1 and xp is _np and dtype is not None and dtype.name in _WINO_DTYPES
            and _fast.kernels() is not None):
        return "dw"
    if (cfg.groups == 1 and Ho * Wo <= _REGION_MAX_HW and kh * kw > 1 and (a0 or a1 or b0 or b1)
            and min(Cg, O) >= _REGION_MIN_C):
        return "region"
    if (N is not None and H == kh == 1 and a0 == a1 == 0 and cfg.groups == 1 and Wo < _BLK_MIN_HW
            and 2 * N * O * Cg * kw * Wo <= _SEQ_MAX_FLOPS):
        return "seq"
    if (win and H == kh == 1 and a0 == a1 == 0 and sw > 1 and cfg.groups == 1 and kw >= _WIN_MIN_K
            and Cg * kw >= O):
        return "win"
    if (kh == kw == 3 and cfg.groups == 1 and sh == sw == 1 and cfg.dilation == (1, 1)
            and min(Ho, Wo) >= _WINO_MIN_HW and dtype is not None and dtype.name in _WINO_DTYPES
            and (min(Cg, O) >= _WINO_MIN_C_COMPILED if _wino_compiled(xp) else
                 min(Cg, O) >= _WINO_MIN_C and (min(Cg, O) >= _WINO_WIDE_C or Ho * Wo <= _WINO_THIN_MAX_HW))):
        return "wino"
    if cfg.groups == 1 and Ho * Wo >= _BLK_MIN_HW:
        return "blk"
    if sh == sw == 1 and _FLAT_CG[0] <= Cg <= _FLAT_CG[1]:
        Hp, Wp = H + a0 + a1, W + b0 + b1
        if Hp * Wp <= _FLAT_MAX_WASTE * Ho * Wo:
            return "flat"
    if cfg.groups == 1 and Ho * Wo >= _BLK_OVER_COL_MIN_HW:
        return "blk"
    return "col"


def _wino_compiled(xp):
    """Whether Winograd runs compiled (straight from NCHW planes, no layout transposes) on arrays of xp."""
    return xp is _np and _fast.kernels() is not None


def _zero_border(buf, a0, a1, b0, b1, H, W, hax):
    """Zero the padding border of ``buf`` whose spatial axes are hax, hax + 1 (interior H x W at (a0, b0))."""
    lead = (slice(None),) * hax
    if a0:
        buf[lead + (slice(0, a0),)] = 0
    if a1:
        buf[lead + (slice(a0 + H, None),)] = 0
    if b0:
        buf[lead + (slice(a0, a0 + H), slice(0, b0))] = 0
    if b1:
        buf[lead + (slice(a0, a0 + H), slice(b0 + W, None))] = 0


def _per_image_gemm(wm, x):
    """wm (O, C) @ x[n] (C, L) for every n: (N, O, L); on the CPU the images shared out among Ember's threads,
    one-thread GEMMs (``_fast.share_by_thread``), as the other convolutions do, so that OpenBLAS's workers stay
    parked between them."""
    xp = xp_of(x)
    if xp is not _np:
        return xp.matmul(wm, x)
    N, _, L = x.shape
    y = _np.empty((N, wm.shape[0], L), dtype=_np.result_type(wm, x))
    _fast.share_by_thread(lambda i0, i1: _np.matmul(wm, x[i0:i1], out=y[i0:i1]), N, 2 * y.size * wm.shape[1])
    return y


def _mm(a, b, out=None):
    """matmul on (G, m, k) @ (G, k, n), dropping the group axis when G == 1 (one plain GEMM)."""
    xp = xp_of(a)
    if a.shape[0] == 1:
        if out is None:
            return _fast.matmul_2d(a[0], b[0])[None]
        _fast.matmul_2d(a[0], b[0], out[0])
        return out
    if a.shape[-1] == 1 and b.shape[-2] == 1:  # depthwise: an outer product per group
        return xp.multiply(a, b, out=out)
    return xp.matmul(a, b, out=out)


def _chunk(width, budget):
    """Rows per chunk of the flat-shift GEMMs, so that a chunk's operands stay in L2 across the offsets."""
    return max(128, min(4096, budget // max(width, 1)))


# -- "flat": channels-last flat grid, one GEMM per kernel offset on a shifted row range ---------------
#
# The zero-padded input is laid out as (G, N*Hp*Wp, Cg): row q is pixel q of the padded grid. The kernel
# offset (i, j) is the constant row shift s = i*dh*Wp + j*dw, so y[q] = sum_k x[q + s_k] @ W_k^T for
# every q whose window does not wrap (the others are computed and cropped away).


def _to_cl(dst, src):
    """dst[...] = src where dst is channels-last (..., H, W, C) and src a channel-major array viewed in that
    order. NumPy's strided copy is slow here (C is the far axis of src); going through (W/b, C, b) tiles
    moves b-element runs first and then transposes small tiles in cache (about 2x faster)."""
    xp = xp_of(dst)
    W = dst.shape[-2]
    b = 16 if W % 16 == 0 and W > 16 else 8 if W % 8 == 0 and W > 8 else 0
    if xp.__name__ != "numpy" or not b:
        dst[...] = src
        return
    lead, C = dst.shape[:-2], dst.shape[-1]
    ds = dst.reshape(lead + (W // b, b, C))  # splitting an axis is always a view
    tmp = xp.empty(lead + (W // b, C, b), dtype=dst.dtype)
    tmp[...] = src.reshape(lead + (W // b, b, C)).swapaxes(-1, -2)
    ds[...] = tmp.swapaxes(-1, -2)


def _pad_cl(x, cfg):
    """x (N, C, H, W) as the zero-padded grouped channels-last grid (G, N, Hp, Wp, Cg)."""
    xp = xp_of(x)
    N, C, H, W = x.shape
    G = cfg.groups
    (a0, a1), (b0, b1) = cfg.pads
    buf = xp.empty((G, N, H + a0 + a1, W + b0 + b1, C // G), dtype=x.dtype)
    _zero_border(buf, a0, a1, b0, b1, H, W, 2)
    _to_cl(buf[:, :, a0:a0 + H, b0:b0 + W, :], x.reshape(N, G, C // G, H, W).transpose(1, 0, 3, 4, 2))
    return buf


def _shifts(cfg, kh, kw, Wp):
    dh, dw = cfg.dilation
    return [i * dh * Wp + j * dw for i in range(kh) for j in range(kw)]


def _shift_gemm(src, mats, shifts, out, n):
    """out[:, q] = sum_k src[:, q + shifts[k]] @ mats[k] for q < n, chunk of rows by chunk of rows.

    src (G, >= n + max(shifts), D), mats (K, G, D, M), out (G, >= n, M).
    """
    xp = xp_of(src)
    G, M = out.shape[0], out.shape[2]
    ch = min(n, _chunk(src.shape[2] + M, 1 << 18))
    tmp = xp.empty((G, ch, M), dtype=out.dtype) if len(shifts) > 1 else None
    for a in range(0, n, ch):
        b = min(n, a + ch)
        dst = out[:, a:b]
        s0 = shifts[0]
        _mm(src[:, a + s0:b + s0], mats[0], out=dst)
        t = tmp[:, :b - a] if tmp is not None else None
        for k in range(1, len(shifts)):
            sk = shifts[k]
            _mm(src[:, a + sk:b + sk], mats[k], out=t)
            dst += t
    return out


def _flat_fwd(buf, w, cfg, Ho, Wo, bias):
    xp = xp_of(buf)
    G, N, Hp, Wp, Cg = buf.shape
    O, _, kh, kw = w.shape
    Og = O // G
    T = N * Hp * Wp
    shifts = _shifts(cfg, kh, kw, Wp)
    # W_k^T per offset: (kh*kw, G, Cg, Og)
    mats = xp.ascontiguousarray(w.reshape(G, Og, Cg, kh * kw).transpose(3, 0, 2, 1))
    out = xp.empty((G, T, Og), dtype=buf.dtype)
    _shift_gemm(buf.reshape(G, T, Cg), mats, shifts, out, T - max(shifts))
    y = xp.empty((N, O, Ho, Wo), dtype=buf.dtype)
    src = out.reshape(G, N, Hp, Wp, Og)[:, :, :Ho, :Wo].transpose(1, 0, 4, 2, 3)
    dst = y.reshape(N, G, Og, Ho, Wo)
    if bias is not None:
        xp.add(src, bias.reshape(G, Og, 1, 1).astype(y.dtype, copy=False), out=dst)
    else:
        dst[...] = src
    return y


def _flat_gy(gy, G, Hp, Wp, margin):
    """grad-output (N, O, Ho, Wo) on the flat grid: (G, margin + N*Hp*Wp, Og) with zeros in the ``margin``
    rows in front and at every grid position that is not an output. (The margin is whole zero images, so
    that every step is a slice or a contiguous reshape: views on NumPy and CuPy alike.)"""
    xp = xp_of(gy)
    N, O, Ho, Wo = gy.shape
    Og = O // G
    P = Hp * Wp
    extra = -(-margin // P)
    buf = xp.empty((G, extra + N, Hp, Wp, Og), dtype=gy.dtype)
    buf[:, :extra] = 0
    grid = buf[:, extra:]
    _zero_border(grid, 0, Hp - Ho, 0, Wp - Wo, Ho, Wo, 2)
    _to_cl(grid[:, :, :Ho, :Wo], gy.reshape(N, G, Og, Ho, Wo).transpose(1, 0, 3, 4, 2))
    return buf.reshape(G, (extra + N) * P, Og)[:, extra * P - margin:]


def _flat_bwd_input(gyp, w, cfg, in_shape, Hp, Wp):
    """gx[q] = sum_k gy[q - s_k] @ W_k: a shift-GEMM on the grad-output with a zero margin in front."""
    xp = xp_of(gyp)
    N, C, H, W = in_shape
    O, Cg, kh, kw = w.shape
    G = C // Cg
    T = N * Hp * Wp
    shifts = _shifts(cfg, kh, kw, Wp)
    m = max(shifts)
    mats = xp.ascontiguousarray(w.reshape(G, O // G, Cg, kh * kw).transpose(3, 0, 1, 2))  # (K, G, Og, Cg)
    gxf = xp.empty((G, T, Cg), dtype=gyp.dtype)
    _shift_gemm(gyp, mats, [m - s for s in shifts], gxf, T)
    (a0, _), (b0, _) = cfg.pads
    gx = xp.empty((N, C, H, W), dtype=gyp.dtype)
    gx.reshape(N, G, Cg, H, W)[...] = gxf.reshape(G, N, Hp, Wp, Cg)[:, :, a0:a0 + H, b0:b0 + W].transpose(1, 0, 4, 2, 3)
    return gx


def _flat_bwd_weight(gyp, buf, cfg, kh, kw, margin):
    """dW_k = sum_q x[q + s_k]^T gy[q], accumulated over row chunks."""
    xp = xp_of(gyp)
    G, N, Hp, Wp, Cg = buf.shape
    Og = gyp.shape[2]
    T = N * Hp * Wp
    xf = buf.reshape(G, T, Cg)
    g = gyp[:, margin:]
    shifts = _shifts(cfg, kh, kw, Wp)
    n = T - max(shifts)
    ch = min(n, _chunk(Og + Cg, 1 << 16))
    gw = xp.zeros((kh * kw, G, Cg, Og), dtype=gyp.dtype)
    tmp = xp.empty((G, Cg, Og), dtype=gyp.dtype)
    for a in range(0, n, ch):
        b = min(n, a + ch)
        ga = g[:, a:b]
        for k, s in enumerate(shifts):
            _mm(xf[:, a + s:b + s].transpose(0, 2, 1), ga, out=tmp)
            gw[k] += tmp
    return gw.reshape(kh, kw, G, Cg, Og).transpose(2, 4, 3, 0, 1).reshape(G * Og, Cg, kh, kw)


# -- "dw": depthwise, compiled per-plane loops -------------------------------------------------------


def _pad_nc(x, cfg):
    """x (N, C, H, W) zero-padded as cfg says (x itself when there is no padding and it is C-contiguous)."""
    xp = xp_of(x)
    N, C, H, W = x.shape
    (a0, a1), (b0, b1) = cfg.pads
    if a0 == a1 == b0 == b1 == 0:
        return xp.ascontiguousarray(x)
    buf = xp.empty((N, C, H + a0 + a1, W + b0 + b1), dtype=x.dtype)
    _zero_border(buf, a0, a1, b0, b1, H, W, 2)
    buf[:, :, a0:a0 + H, b0:b0 + W] = x
    return buf


def _depthwise():
    from .. import _fast_depthwise  # (numba: imported where "dw" is chosen, which needs it)

    return _fast_depthwise


# -- "col": im2col on a channel-major padded copy, one GEMM ------------------------------------------


def _pad_cn(x, cfg):
    """x (N, C, H, W) as a zero-padded channel-major (C, N, Hp, Wp) array."""
    xp = xp_of(x)
    N, C, H, W = x.shape
    (a0, a1), (b0, b1) = cfg.pads
    buf = xp.empty((C, N, H + a0 + a1, W + b0 + b1), dtype=x.dtype)
    _zero_border(buf, a0, a1, b0, b1, H, W, 2)
    buf[:, :, a0:a0 + H, b0:b0 + W] = x.transpose(1, 0, 2, 3)
    return buf


def _wm(w, G):
    """weight (O, Cg, kh, kw) as im2col matrices (G, Og, kh*kw*Cg)."""
    O, Cg, kh, kw = w.shape
    return w.reshape(G, O // G, Cg, kh, kw).transpose(0, 1, 3, 4, 2).reshape(G, O // G, kh * kw * Cg)


def _im2col(buf, cfg, kh, kw, Ho, Wo):
    """cols (G, kh*kw*Cg, N*Ho*Wo) from the padded channel-major input ``buf``: kh*kw strided copies."""
    xp = xp_of(buf)
    C, N, Hp, Wp = buf.shape
    G = cfg.groups
    Cg = C // G
    (sh, sw), (dh, dw) = cfg.stride, cfg.dilation
    bg = buf.reshape(G, Cg, N, Hp, Wp)
    cols = xp.empty((G, kh, kw, Cg, N, Ho, Wo), dtype=buf.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, i, j] = bg[:, :, :, i * dh:i * dh + sh * (Ho - 1) + 1:sh, j * dw:j * dw + sw * (Wo - 1) + 1:sw]
    return cols.reshape(G, kh * kw * Cg, N * Ho * Wo)


def _col2im(dcols, cfg, kh, kw, C, N, Hp, Wp, Ho, Wo):
    """The adjoint of ``_im2col``: (C, N, Hp, Wp) from (G, kh*kw*Cg, N*Ho*Wo) by kh*kw strided slice-adds."""
    xp = xp_of(dcols)
    G = cfg.groups
    Cg = C // G
    (sh, sw), (dh, dw) = cfg.stride, cfg.dilation
    d = dcols.reshape(G, kh, kw, Cg, N, Ho, Wo)
    gbuf = xp.zeros((G, Cg, N, Hp, Wp), dtype=dcols.dtype)
    for i in range(kh):
        for j in range(kw):
            gbuf[:, :, :, i * dh:i * dh + sh * (Ho - 1) + 1:sh, j * dw:j * dw + sw * (Wo - 1) + 1:sw] += d[:, i, j]
    return gbuf.reshape(C, N, Hp, Wp)


_COLS_MIN_WO = 8


def _compiled_float(a):
    """Whether the compiled loops of ``_fast_conv`` (``ember[fast]``) take ``a``: a float32/float64 NumPy array."""
    return type(a) is _np.ndarray and a.dtype.name in ("float32", "float64") and _fast.kernels() is not None


def _compiled_cols(a, cfg):
    """Whether the whole-batch columns of ``a`` (NCHW) go through ``_fast_conv.cols_nchw``."""
    return cfg.groups == 1 and _compiled_float(a)


def _cols(x, cfg, kh, kw, Ho, Wo):
    """The im2col columns (1 or G, kh*kw*Cg, N*Ho*Wo) of x (N, C, H, W): compiled straight from NCHW (one pass, the
    padding written as zeros: 3x3 s2 128->256 at 16x16, b32, 3.4 -> 2.7 ms) for rows of at least _COLS_MIN_WO
    outputs (its loop runs row by row: 4 outputs per row ran as fast as NumPy's copies, 2 at 0.6x their speed),
    else padded channel-major and copied."""
    if Wo < _COLS_MIN_WO or not _compiled_cols(x, cfg):
        return _im2col(_pad_cn(x, cfg), cfg, kh, kw, Ho, Wo)
    from .. import _fast_conv

    N, C = x.shape[:2]
    cols = _np.empty((kh, kw, C, N, Ho, Wo), dtype=x.dtype)
    (a0, _), (b0, _) = cfg.pads
    _fast_conv.cols_nchw(_np.ascontiguousarray(x), cols, *cfg.stride, *cfg.dilation, a0, b0, False)
    return cols.reshape(1, kh * kw * C, N * Ho * Wo)


def _col_fwd_by_thread(x, w, cfg, Ho, Wo, bias):
    """The "col" forward when its columns are not kept: each thread the columns and the GEMM (one BLAS thread) of
    its half of the batch (b32, 3x3 s2 128->256 at 16x16: 10.2 -> 8.0 ms; s2 256->512 at 8x8: 10.1 -> 8.9)."""
    N, O = x.shape[0], w.shape[0]
    kh, kw = w.shape[2:]
    wm = _wm(w, 1)[0]
    y = _np.empty((N, O, Ho, Wo), dtype=x.dtype)

    def images(i0, i1):
        out = _np.matmul(wm, _cols(x[i0:i1], cfg, kh, kw, Ho, Wo)[0]).reshape(O, i1 - i0, Ho, Wo)
        y[i0:i1] = out.transpose(1, 0, 2, 3)
        if bias is not None:
            y[i0:i1] += bias.reshape(1, O, 1, 1).astype(y.dtype, copy=False)

    _fast.share_by_thread(images, N, 2 * y.size * wm.shape[1])
    return y


def _uncols(dcols, cfg, kh, kw, in_shape, Ho, Wo):
    """The adjoint of ``_cols``: the input gradient (N, C, H, W) from column gradients (G, kh*kw*Cg, N*Ho*Wo),
    compiled at every size (b32, 3x3 s2 128->256 at 16x16 5.2 -> 1.8 ms; 512 ch at 2x2 3.4 -> 2.0)."""
    N, C, H, W = in_shape
    if not _compiled_cols(dcols, cfg):
        (a0, a1), (b0, b1) = cfg.pads
        return _crop_cn(_col2im(dcols, cfg, kh, kw, C, N, H + a0 + a1, W + b0 + b1, Ho, Wo), cfg, H, W)
    from .. import _fast_conv

    gx = _np.empty(in_shape, dtype=dcols.dtype)
    (a0, _), (b0, _) = cfg.pads
    _fast_conv.cols_nchw(gx, _np.ascontiguousarray(dcols).reshape(kh, kw, C, N, Ho, Wo), *cfg.stride, *cfg.dilation,
                         a0, b0, True)
    return gx


def _gy_cn(gy, G):
    """grad-output (N, O, Ho, Wo) as channel-major (G, Og, N*Ho*Wo)."""
    xp = xp_of(gy)
    N, O, Ho, Wo = gy.shape
    return xp.ascontiguousarray(gy.transpose(1, 0, 2, 3)).reshape(G, O // G, N * Ho * Wo)


def _finish_cn(out_cn, N, O, Ho, Wo, bias):
    """(O, N, Ho, Wo) channel-major result -> contiguous (N, O, Ho, Wo), adding ``bias``."""
    xp = xp_of(out_cn)
    y = xp.empty((N, O, Ho, Wo), dtype=out_cn.dtype)
    if bias is not None:
        xp.add(out_cn, bias.reshape(O, 1, 1, 1).astype(out_cn.dtype, copy=False), out=y.transpose(1, 0, 2, 3))
    else:
        y.transpose(1, 0, 2, 3)[...] = out_cn
    return y


def _crop_cn(gbuf, cfg, H, W):
    """(C, N, Hp, Wp) padded channel-major gradient -> contiguous (N, C, H, W)."""
    xp = xp_of(gbuf)
    (a0, _), (b0, _) = cfg.pads
    return xp.ascontiguousarray(gbuf[:, :, a0:a0 + H, b0:b0 + W].transpose(1, 0, 2, 3))


# -- "blk": im2col of a few images at a time in their own (N, C, H, W) layout, one GEMM per image -----
#
# A block of b images is padded into a small reused buffer and unfolded into columns (b, C*kh*kw, Ho*Wo)
# (kh*kw strided copies), so that y[n] = W (O, C*kh*kw) @ cols[n] lands straight in the output's memory:
# no layout change of the input or output, a K = C*kh*kw GEMM per image, and block buffers small enough to
# stay in cache and to be reused by malloc (no page faults). The backward recomputes the columns instead of
# keeping them (they are kh*kw times the input).


def _blk_size(N, K, HW, itemsize):
    return max(1, min(N, _BLK_BYTES // max(1, K * HW * itemsize)))


def _compiled_windows(planes, cols, sh, sw, dh, dw, adjoint=False):
    """The compiled loop (``ember[fast]``) between the padded block ``planes`` (b, C, Hp, Wp) and its columns
    ``cols`` (b, C, kh, kw, Ho, Wo), C-contiguous float32/float64 NumPy arrays of one dtype: im2col into
    ``cols``, or (``adjoint``) col2im, ``planes`` zeroed and the columns added into it. False where it does
    not apply (the caller's NumPy copies or adds then). It stays on the calling thread: handing each block's
    copy to the pool cost more than it saved (MNIST CNN step 75 -> 65 ms, ResNet-18 CIFAR 869 -> 814 ms)."""
    if (not _compiled_float(planes) or not planes.flags.c_contiguous or not cols.flags.c_contiguous
            or cols.dtype != planes.dtype):
        return False
    from .. import _fast_conv

    P = planes.shape[0] * planes.shape[1]
    _fast_conv.windows(planes.reshape((P,) + planes.shape[2:]), cols.reshape((P,) + cols.shape[2:]), sh, sw, dh, dw,
                       adjoint)
    return True


def _blk_unfold(xpad, cols, cfg, kh, kw, Ho, Wo):
    """cols (b, C, kh, kw, Ho, Wo) from the padded block xpad (b, C, Hp, Wp). Large blocks have their kernel
    offsets shared out among Ember's CPU threads: the GEMMs run on BLAS's threads, and these copies (a third
    of the single-thread time at 64 ch 32x32) would otherwise stay on one."""
    (sh, sw), (dh, dw) = cfg.stride, cfg.dilation
    # a strided 1x1 kernel's one window is a single strided slice, which NumPy copies faster than the compiled
    # loop's gathers (1x1 s2 64 -> 128 at 32x32, b32, forward: 2.5 -> 1.3 ms)
    if kh * kw > 1 and _compiled_windows(xpad, cols, sh, sw, dh, dw):
        return

    def part(k0, k1):
        for k in range(k0, k1):
            i, j = divmod(k, kw)
            cols[:, :, i, j] = xpad[:, :, i * dh:i * dh + sh * (Ho - 1) + 1:sh, j * dw:j * dw + sw * (Wo - 1) + 1:sw]

    nt = _fast._threads() if xp_of(xpad).__name__ == "numpy" and cols.size >= _fast.MAP_MIN else 1
    if nt < 2:
        part(0, kh * kw)
    else:
        _fast.share(part, kh * kw, -(-kh * kw // nt))


def _blk_blocks(x, cfg, kh, kw, Ho, Wo):
    """Yield (n0, n1, cols (b, C*kh*kw, Ho*Wo)) over the batch of x (N, C, H, W); the buffers are reused."""
    xp = xp_of(x)
    N, C, H, W = x.shape
    (a0, a1), (b0, b1) = cfg.pads
    K = C * kh * kw
    nb = _blk_size(N, K, Ho * Wo, x.dtype.itemsize)
    pad = bool(a0 or a1 or b0 or b1)
    xpad = xp.empty((nb, C, H + a0 + a1, W + b0 + b1), dtype=x.dtype) if pad else None
    if pad:
        _zero_border(xpad, a0, a1, b0, b1, H, W, 2)
    cols = xp.empty((nb, C, kh, kw, Ho, Wo), dtype=x.dtype)
    for n0 in range(0, N, nb):
        n1 = min(N, n0 + nb)
        b = n1 - n0
        if pad:
            xpad[:b, :, a0:a0 + H, b0:b0 + W] = x[n0:n1]
            src = xpad[:b]
        else:
            src = x[n0:n1]
        _blk_unfold(src, cols[:b], cfg, kh, kw, Ho, Wo)
        yield n0, n1, cols[:b].reshape(b, K, Ho * Wo)


def _summed_by_thread(images, N, flops, xp):
    """The sum of ``images(i0, i1)`` (a partial sum over those images) over the batch: on the CPU each of Ember's
    threads takes its own images (``_fast.share_blocks``), on a GPU one call takes them all."""
    if xp is not _np:
        return images(0, N)
    parts = _fast.share_blocks(lambda spans: images(spans[0][0], spans[-1][1]), N, N, flops)
    total = parts[0]
    for part in parts[1:]:
        total += part
    return total


def _blk_fwd(x, w, cfg, Ho, Wo, bias):
    """Per block of images, im2col columns and one GEMM W (O, C*kh*kw) @ cols; on the CPU each thread takes its
    own blocks with one-thread GEMMs (``_fast.share_by_thread``: 3x3 s2 64->128 at 32x32, b32: 11.1 -> 8.2 ms)."""
    xp = xp_of(x)
    N = x.shape[0]
    O = w.shape[0]
    kh, kw = w.shape[2:]
    wm = w.reshape(O, -1)
    y = xp.empty((N, O, Ho, Wo), dtype=x.dtype)
    yf = y.reshape(N, O, Ho * Wo)
    b = None if bias is None else bias.reshape(O, 1).astype(y.dtype, copy=False)

    def images(i0, i1):
        for n0, n1, cols in _blk_blocks(x[i0:i1], cfg, kh, kw, Ho, Wo):
            xp.matmul(wm, cols, out=yf[i0 + n0:i0 + n1])
            if b is not None:  # while the block is in cache (a pass over the whole output after: 3->64 32x32 b32 +20%)
                yf[i0 + n0:i0 + n1] += b

    _fast.share_by_thread(images, N, 2 * y.size * wm.shape[1], xp)
    return y


def _blk_bwd_weight(gy, x, cfg, w_shape):
    """dW = sum over images of gy[n] (O, Ho*Wo) @ cols[n]^T, the columns recomputed block by block (each
    GEMM is written as its transpose cols[n] @ gy[n]^T, the faster operand order for OpenBLAS); on the CPU each
    thread sums its own images (one-thread GEMMs), the partial sums added after."""
    xp = xp_of(gy)
    N, O, Ho, Wo = gy.shape
    kh, kw = w_shape[2:]
    gyf = gy.reshape(N, O, Ho * Wo)

    def images(i0, i1):
        acc = tmp = None
        for n0, n1, cols in _blk_blocks(x[i0:i1], cfg, kh, kw, Ho, Wo):
            for n in range(n0, n1):  # one GEMM per image (K = Ho*Wo), accumulated
                if acc is None:
                    acc = xp.matmul(cols[n - n0], gyf[i0 + n].T)
                    tmp = xp.empty_like(acc)
                else:
                    xp.matmul(cols[n - n0], gyf[i0 + n].T, out=tmp)
                    acc += tmp
        return acc

    return xp.ascontiguousarray(_summed_by_thread(images, N, 2 * gy.size * x.shape[1] * kh * kw, xp).T).reshape(w_shape)


def _blk_bwd_input(gy, w, cfg, in_shape):
    """gx: per image dcols = W^T @ gy[n], folded back block by block (col2im: the compiled fold, else kh*kw
    strided slice-adds; 3x3 s2 64->128 32x32 b32 fwd+bwd 33 -> 29.5 ms); on the CPU each thread its own blocks
    (one-thread GEMMs: from the calling thread, OpenBLAS's workers parked by a forward's threads would be started
    again, which stalls it; 3->64 at 32x32, b32, after 0.15 s pauses: 23 ms against 6 back to back)."""
    xp = xp_of(gy)
    N, C, H, W = in_shape
    O, _, kh, kw = w.shape
    Ho, Wo = gy.shape[2:]
    (a0, a1), (b0, b1) = cfg.pads
    (sh, sw), (dh, dw) = cfg.stride, cfg.dilation
    Hp, Wp = H + a0 + a1, W + b0 + b1
    K = C * kh * kw
    nb = _blk_size(N, K, Ho * Wo, gy.dtype.itemsize)
    wt = w.reshape(O, K).T
    gyf = gy.reshape(N, O, Ho * Wo)
    gx = xp.empty((N, C, H, W), dtype=gy.dtype)

    def images(i0, i1):
        dcols = xp.empty((nb, C, kh, kw, Ho, Wo), dtype=gy.dtype)
        gpad = xp.empty((nb, C, Hp, Wp), dtype=gy.dtype)
        for n0 in range(i0, i1, nb):
            n1 = min(i1, n0 + nb)
            b = n1 - n0
            xp.matmul(wt, gyf[n0:n1], out=dcols[:b].reshape(b, K, Ho * Wo))
            g = gpad[:b]
            if not _compiled_windows(g, dcols[:b], sh, sw, dh, dw, adjoint=True):
                g[...] = 0
                for i in range(kh):
                    for j in range(kw):
                        g[:, :, i * dh:i * dh + sh * (Ho - 1) + 1:sh, j * dw:j * dw + sw * (Wo - 1) + 1:sw] += \
                            dcols[:b, :, i, j]
            gx[n0:n1] = g[:, :, a0:a0 + H, b0:b0 + W]

    _fast.share_by_thread(images, N, 2 * gy.size * K, xp)
    return gx


def _seq_fwd(x, w, cfg, Wo, bias):
    """A small 1-D convolution's forward on the calling thread. Stride 1: one batched GEMM per tap,
    W[:, :, j] (O, C) @ x[:, :, j*d:j*d + Wo], on views of the input (no copy); otherwise the windows copied out
    of a strided view as columns (N, C*k, Wo) and one batched GEMM W (O, C*k) @ columns. Per-tap GEMMs were
    as fast or faster at stride 1 (b32, 64 ch at L 7: 0.05 vs 0.09 ms; 32 ch at L 124: 0.165 either way). In
    float32 with numba, stride 1 is one compiled call (``_fast_conv.taps_forward``), shared among the compiled team's
    threads from ``_fast.TEAM_MIN_FLOPS`` ("seq" is a forward that no backward follows: see ``_win_fwd``)."""
    xp = xp_of(x)
    N, C = x.shape[:2]
    O, _, _, kw = w.shape
    sw, dw = cfg.stride[1], cfg.dilation[1]
    x3 = _win_padded(x, cfg)
    y = xp.empty((N, O, 1, Wo), dtype=x.dtype)
    y3 = y.reshape(N, O, Wo)
    taps = xp.ascontiguousarray(w.reshape(O, C, kw).transpose(2, 0, 1)) if sw == 1 else None
    sgemm = _win_sgemm(x, w) if sw == 1 and _fast.usable(y3) else None
    if sgemm is not None:  # in one compiled call: accumulating GEMMs, the bias first
        from .. import _fast_conv

        x3, b1 = _np.ascontiguousarray(x3), _bias_row(bias, O, y.dtype)
        team = _fast.team_threads(N, 2 * y.size * C * kw)
        if team > 1:
            from .. import _fast_team

            gemm, bounds, ints, scal, _ = _team_args(N, team, sgemm)
            with _fast_team.running(team) as place:
                _fast_conv.taps_forward_team(x3, taps, b1, y3, dw, gemm, ints, scal, bounds, place)
            return y
        gemm, ints, scal = sgemm()[:3]
        if 2 * Wo * O * C < _fast.BLAS_THREADED_MIN_FLOPS:  # each GEMM on one thread in BLAS anyway
            _fast_conv.taps_forward(x3, taps, b1, y3, dw, gemm, ints, scal)
            return y
        with _unparked_or_one_thread(xp):
            _fast_conv.taps_forward(x3, taps, b1, y3, dw, gemm, ints, scal)
        return y
    with _unparked_or_one_thread(xp):
        if sw == 1:
            xp.matmul(taps[0], x3[:, :, :Wo], out=y3)
            tmp = xp.empty_like(y3) if kw > 1 else None
            for j in range(1, kw):
                xp.matmul(taps[j], x3[:, :, j * dw:j * dw + Wo], out=tmp)
                y3 += tmp
        else:
            cols = xp.empty((N, C, kw, Wo), dtype=x.dtype)
            cols[...] = _win_view(x3, cfg, kw, Wo).transpose(0, 2, 3, 1)
            xp.matmul(w.reshape(O, C * kw), cols.reshape(N, C * kw, Wo), out=y3)
    if bias is not None:
        y3 += bias.reshape(O, 1).astype(y.dtype, copy=False)
    return y


def _unparked_or_one_thread(xp):
    """BLAS on one thread while its workers are parked (``_parallel.unparked_or_one_thread``), on the CPU."""
    if xp is not _np:
        return contextlib.nullcontext()
    from .. import _parallel

    return _parallel.unparked_or_one_thread()


# -- "win": strided 1-D convolutions, windows copied in one go, one GEMM per block of images ---------
#
# The input's windows are a zero-copy strided view (N, Wo, C, k); a block of images is copied out of it in one
# call (runs of k contiguous samples) as columns (b*Wo, C*k). The forward is one GEMM cols @ W^T per block into a
# (b*Wo, O) buffer, transposed into the output (N, O, Wo); the weight gradient is gy (O, b*Wo) @ cols, accumulated
# over the blocks.


def _win_padded(x, cfg):
    """x (N, C, 1, W) as (N, C, Wp), zero-padded on the left and right as cfg says (a copy then)."""
    xp = xp_of(x)
    N, C, _, W = x.shape
    x3 = x.reshape(N, C, W)
    b0, b1 = cfg.pads[1]
    if b0 or b1:
        xpad = xp.zeros((N, C, W + b0 + b1), dtype=x.dtype)
        xpad[:, :, b0:b0 + W] = x3
        x3 = xpad
    return x3


def _win_view(x3, cfg, kw, Wo):
    """The windows of the padded x3 (N, C, Wp) as a strided view (N, Wo, C, kw)."""
    sN, sC, sW = x3.strides
    return xp_of(x3).lib.stride_tricks.as_strided(
        x3, (x3.shape[0], Wo, x3.shape[1], kw), (sN, cfg.stride[1] * sW, sC, cfg.dilation[1] * sW))


def _win_batch(N, K, O, Wo, itemsize):
    """Images per block of columns (b*Wo, K) and of GEMM output (b*Wo, O), so that both stay in cache."""
    return max(1, min(N, _WIN_BYTES // max(1, max(K, O) * Wo * itemsize)))


def _win_blocks(x, cfg, kw, Wo, O):
    """Yield (n0, n1, cols (b*Wo, C*kw)) over the batch of x (N, C, 1, W); the buffer is reused. The copy is
    compiled where it can be (``_fast_conv.windows_1d``), else NumPy's from a strided view."""
    xp = xp_of(x)
    N, C = x.shape[:2]
    nb = _win_batch(N, C * kw, O, Wo, x.dtype.itemsize)
    x3 = _win_padded(x, cfg)
    cols = xp.empty((nb, Wo, C, kw), dtype=x.dtype)
    if _compiled_float(x3):
        from .. import _fast_conv

        x3 = _np.ascontiguousarray(x3)

        def copy(n0, n1):
            _fast_conv.windows_1d(x3, n0, cfg.stride[1], cfg.dilation[1], cols[:n1 - n0])
    else:
        view = _win_view(x3, cfg, kw, Wo)

        def copy(n0, n1):
            cols[:n1 - n0] = view[n0:n1]
    for n0 in range(0, N, nb):
        n1 = min(N, n0 + nb)
        copy(n0, n1)
        yield n0, n1, cols[:n1 - n0].reshape((n1 - n0) * Wo, C * kw)


def _win_fwd(x, w, cfg, Wo, bias, no_backward=False):
    """Per block of images, cols @ W^T (b*Wo, O), the faster operand order for OpenBLAS (K = 80: 45 GFLOP/s
    against 29 for W @ cols^T), then transposed into the output while in cache; on the CPU each thread its own
    blocks with one-thread GEMMs (M5's conv1, b32: 2.26 -> 1.97 ms), in float32 as one compiled call per thread
    (``_fast_conv.win_forward``: the NumPy calls' hand-overs of the GIL between the two threads cost 0.51 -> 0.47
    ms). Nothing is kept for the weight gradient: recomputing the columns block by block there is cheaper than
    writing them all out here (M5's conv1 fwd+bwd after 0.15 s pauses: 7.5 ms, against 8.3 with the whole batch's
    columns kept). ``no_backward``: a forward that no backward follows, which runs on the compiled team where there is
    one (``_fast_team``; M5 inference paired 0.90-0.95 against Ember's pool). Not in training: the team's worker, still
    spinning after the layer, took a core from the pool and BLAS threads of the layers after it (M5's step paired
    1.29)."""
    xp = xp_of(x)
    N, C = x.shape[:2]
    O, _, _, kw = w.shape
    K = C * kw
    wmt = xp.ascontiguousarray(w.reshape(O, K).T)
    y = xp.empty((N, O, 1, Wo), dtype=x.dtype)
    y3 = y.reshape(N, O, Wo)
    b3 = None if bias is None else bias.reshape(1, O, 1).astype(y.dtype, copy=False)
    nb = _win_batch(N, K, O, Wo, x.dtype.itemsize)

    compiled = xp is _np and _fast.usable(y3, wmt)
    if compiled:
        from .. import _fast_conv

        b1 = _bias_row(bias, O, y.dtype)
        sgemm = _win_sgemm(x, y)
        if sgemm is not None:  # each thread's share in one compiled call, the GIL released throughout
            x3 = _np.ascontiguousarray(_win_padded(x, cfg))
            team = _fast.team_threads(N, 2 * y.size * K) if no_backward else 1
            if team > 1:
                from .. import _fast_team

                gemm, bounds, ints, scal, small = _team_args(N, team, sgemm)
                with _fast_team.running(team) as place:
                    _fast_conv.win_forward_team(
                        x3, bounds, cfg.stride[1], cfg.dilation[1], wmt, b1, y3,
                        _np.empty((team, nb, Wo, C, kw), dtype=y.dtype),
                        _np.empty((team, nb * Wo, O), dtype=y.dtype), gemm, ints, scal, small, place)
                return y

            def images(i0, i1):
                cols = _np.empty((nb, Wo, C, kw), dtype=y.dtype)
                out = _np.empty((nb * Wo, O), dtype=y.dtype)
                _fast_conv.win_forward(x3, i0, i1, cfg.stride[1], cfg.dilation[1], wmt, b1, y3, cols, out, *sgemm())

            _fast.share_by_thread(images, N, 2 * y.size * K, xp)
            return y

    def images(i0, i1):
        out = xp.empty((nb * Wo, O), dtype=x.dtype)
        for n0, n1, cols in _win_blocks(x[i0:i1], cfg, kw, Wo, O):
            o = out[:(n1 - n0) * Wo]
            xp.matmul(cols, wmt, out=o)
            if compiled:
                _fast_conv.rows_to_channels(o.reshape(n1 - n0, Wo, O), b1, y3[i0 + n0:i0 + n1])
                continue
            src = o.reshape(n1 - n0, Wo, O).transpose(0, 2, 1)
            if b3 is None:
                y3[i0 + n0:i0 + n1] = src
            else:
                xp.add(src, b3, out=y3[i0 + n0:i0 + n1])

    _fast.share_by_thread(images, N, 2 * y.size * K, xp)
    return y


def _bias_row(bias, O, dtype):
    """The bias of the compiled 1-D forwards (``_fast_conv``): (O,) C-contiguous in ``dtype``, zeros where absent."""
    return _np.zeros(O, dtype=dtype) if bias is None else _np.ascontiguousarray(bias, dtype=dtype)


_TEAM_ARGS = {}  # (items, threads) -> ``_team_args``


def _team_args(n, threads, sgemm):
    """(sgemm, the split of ``n`` items, per-thread integer buffers, (1, 0), small) for a team kernel calling BLAS
    (``_win_sgemm``'s parts), kept by (n, threads): team kernels run on the main thread one at a time (``_fast_team``),
    so the buffers serve every call; building them took ~40 of the ~250 us of Python before M5's first convolution
    after a pause."""
    key = (n, threads)
    hit = _TEAM_ARGS.get(key)
    if hit is None:
        from .. import _fast_team

        gemm, ints, scal, small = sgemm()
        hit = (gemm, _fast_team.split(n, threads), _fast_team.per_thread(ints, threads), scal, small)
        if len(_TEAM_ARGS) < 256:
            _TEAM_ARGS[key] = hit
    return hit


def _win_sgemm(x, y):
    """Where x and y are float32, numba is there and NumPy's BLAS sgemm was found (``_fast_rnn.native``), a
    function giving the last four arguments of ``_fast_conv.win_forward`` / ``win_weight_grad`` for one thread:
    (sgemm, its integers' buffer, (1, 0), the most products BLAS multiplies without packing); else None."""
    if x.dtype != _np.float32 or y.dtype != _np.float32 or _fast.kernels() is None:
        return None
    from .. import _fast_rnn

    native = _fast_rnn.native()
    if native is None:
        return None
    gemm, int_t, small = native[0], native[3], native[4]
    ints = [ord("N")] + [0] * 7
    return lambda: (gemm, _np.array(ints, dtype=int_t), _np.array([1.0, 0.0], dtype=_np.float32), small)


def _win_bwd_weight(gy, x, cfg, w_shape):
    """dW (O, C*kw) = sum over blocks of gy (O, b*Wo) @ cols, the columns recomputed block by block. On the CPU each
    thread sums its own images (one-thread GEMMs: from the calling thread, OpenBLAS's workers parked by the
    forward's threads would be started again, which stalls it: M5's conv1 after 0.15 s pauses, 4-16 ms against
    2.4 back to back), the partial sums added after."""
    xp = xp_of(gy)
    N, O, _, Wo = gy.shape
    kw = w_shape[3]
    K = w_shape[1] * kw
    flops = 2 * gy.size * K
    sgemm = _win_sgemm(x, gy) if xp is _np and _fast.usable(gy) else None
    if sgemm is not None:  # each thread's share in one compiled call, the GIL released throughout
        from .. import _fast_conv

        x3 = _np.ascontiguousarray(_win_padded(x, cfg))
        g3 = _np.ascontiguousarray(gy.reshape(N, O, Wo))
        nb = _win_batch(N, K, O, Wo, gy.dtype.itemsize)

        def shares(i0, i1):
            acc = _np.empty((O, K), dtype=_np.float32)
            cols = _np.empty((nb, Wo, x3.shape[1], kw), dtype=_np.float32)
            _fast_conv.win_weight_grad(x3, i0, i1, cfg.stride[1], cfg.dilation[1], g3, acc, cols, *sgemm())
            return acc

        return _summed_by_thread(shares, N, flops, xp).reshape(w_shape)
    gyt = gy.reshape(N, O, Wo).transpose(1, 0, 2)

    def images(i0, i1):
        acc = gb = None
        for n0, n1, block in _win_blocks(x[i0:i1], cfg, kw, Wo, O):
            n0, n1 = i0 + n0, i0 + n1
            b = n1 - n0
            if gb is None:
                gb = xp.empty((O, b, Wo), dtype=gy.dtype)
            g = gb[:, :b]
            g[...] = gyt[:, n0:n1]
            if acc is None:
                acc = xp.matmul(g.reshape(O, b * Wo), block)
            else:
                acc += xp.matmul(g.reshape(O, b * Wo), block)
        return acc

    return _summed_by_thread(images, N, flops, xp).reshape(w_shape)


# ------------------------------------------------------------------------------------------------
# raw kernels: the three linear maps of a convolution
# ------------------------------------------------------------------------------------------------


def _fwd(x, w, cfg, out_hw=None, bias=None, keep=False):
    """Convolution of arrays x (N, C, H, W), w (O, Cg, kh, kw) -> y (N, O, Ho, Wo) [, (algo, prepared x)]."""
    xp = xp_of(x)
    N, C, H, W = x.shape
    O, Cg, kh, kw = w.shape
    G = cfg.groups
    (a0, a1), (b0, b1) = cfg.pads
    Ho = _out_size(H, a0, a1, kh, cfg.stride[0], cfg.dilation[0])
    Wo = _out_size(W, b0, b1, kw, cfg.stride[1], cfg.dilation[1])
    if out_hw is not None:
        Ho, Wo = min(Ho, out_hw[0]), min(Wo, out_hw[1])
    w = w.astype(x.dtype, copy=False)
    if x.size == 0 or w.size == 0:  # empty batch or no channels: only the bias
        y = xp.zeros((N, O, Ho, Wo), dtype=x.dtype)
        if bias is not None:
            y += bias.reshape(1, O, 1, 1).astype(y.dtype, copy=False)
        return (y, None) if keep else y
    # "seq" only where nothing is kept: a training forward's "flat" layout serves its backward too (M5's conv2
    # fwd+bwd 1.13 ms, 1.22 with a "seq" forward)
    algo = _algo(cfg, kh, kw, H, W, Ho, Wo, Cg, O, x.dtype, xp=xp, N=None if keep else N)
    if algo == "dw":
        y = xp.empty((N, O, Ho, Wo), dtype=x.dtype)
        _depthwise().forward(_pad_nc(x, cfg), w[:, 0], y, *cfg.stride, *cfg.dilation)
        if bias is not None:
            y += bias.reshape(1, O, 1, 1).astype(y.dtype, copy=False)
        prep = None
    elif algo == "wino":
        u = winograd.weight_tiles(w)
        if winograd.compiled(x):
            y = winograd.forward(x, u, a0, b0, Ho, Wo, bias)
        else:
            g = winograd.grid(x, a0, b0, Ho, Wo)
            y = winograd.to_nchw(winograd.conv3x3(g, u.transpose(0, 2, 1), Ho, Wo), Ho, Wo, bias)
        # nothing kept: the backward recomputes the grid and tiles (ResNet-18 CIFAR step 443 -> 351 MB,
        # VGG-11-BN 211 -> 172 MB at the same time; reusing them in a fused backward had a 20 MB higher peak)
        prep = None
    elif algo == "1x1":
        if G > 1:
            y = xp.matmul(w.reshape(G, O // G, Cg), x.reshape(N, G, Cg, H * W))
        else:
            y = _per_image_gemm(w.reshape(O, Cg), x.reshape(N, C, H * W))
        y = y.reshape(N, O, H, W)
        if (Ho, Wo) != (H, W):
            y = xp.ascontiguousarray(y[:, :, :Ho, :Wo])
        if bias is not None:
            y += bias.reshape(1, O, 1, 1).astype(y.dtype, copy=False)
        prep = x
    elif algo == "region":
        y, prep = conv_regions.forward(x, w, cfg, Ho, Wo, bias), None
    elif algo == "blk":
        prep = None
        y = _blk_fwd(x, w, cfg, Ho, Wo, bias)
    elif algo == "win":
        y, prep = _win_fwd(x, w, cfg, Wo, bias, no_backward=not keep), None
    elif algo == "seq":
        y, prep = _seq_fwd(x, w, cfg, Wo, bias), None
    elif algo == "flat":
        prep = _pad_cl(x, cfg)
        y = _flat_fwd(prep, w, cfg, Ho, Wo, bias)
    elif not keep and G == 1 and xp is _np and N > 1:
        y, prep = _col_fwd_by_thread(x, w, cfg, Ho, Wo, bias), None
    else:
        prep = _cols(x, cfg, kh, kw, Ho, Wo)
        y = _finish_cn(_mm(_wm(w, G), prep).reshape(O, N, Ho, Wo), N, O, Ho, Wo, bias)
    return (y, None if prep is None else (algo, prep)) if keep else y


def _bwd_input(gy, w, cfg, in_shape, bias=None):
    """The adjoint of ``_fwd`` in x: (N, C, H, W) from grad-output gy (N, O, Ho, Wo) (+ ``bias`` per channel)."""
    xp = xp_of(gy)
    N, C, H, W = in_shape
    O, Cg, kh, kw = w.shape
    G = cfg.groups
    Ho, Wo = gy.shape[2:]
    w = w.astype(gy.dtype, copy=False)
    algo = _algo(cfg, kh, kw, H, W, Ho, Wo, Cg, O, gy.dtype, win=False, xp=xp)  # "win": no input gradient of its own
    (a0, a1), (b0, b1) = cfg.pads
    Hp, Wp = H + a0 + a1, W + b0 + b1
    min_c = _WINO_MIN_C_COMPILED if algo == "wino" and _wino_compiled(xp) else _GX_CONV_MIN_C
    cfg_t = _gx_conv_cfg(cfg, kh, kw, C, H, W, Ho, Wo, min_c) if algo in _GX_CONV_ALGOS else None
    if gy.size == 0 or w.size == 0 or N * C == 0:
        gx = xp.zeros((N, C, H, W), dtype=gy.dtype)
    elif algo == "dw":
        gxpad = xp.zeros((N, C, Hp, Wp), dtype=gy.dtype)
        _depthwise().input_grad(xp.ascontiguousarray(gy), w[:, 0], gxpad, *cfg.stride, *cfg.dilation)
        gx = xp.ascontiguousarray(gxpad[:, :, a0:a0 + H, b0:b0 + W]) if (a0, a1, b0, b1) != (0, 0, 0, 0) else gxpad
    elif algo == "wino" and cfg_t is not None:
        gx = _wino_bwd_input(gy, w, cfg_t, H, W)
    elif cfg_t is not None:
        gx = _fwd(gy, xp.ascontiguousarray(w.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1]), cfg_t)
    elif algo == "1x1":
        if G > 1:
            r = xp.matmul(w.reshape(G, O // G, Cg).transpose(0, 2, 1), gy.reshape(N, G, O // G, Ho * Wo))
        else:
            r = _per_image_gemm(w.reshape(O, Cg).T, gy.reshape(N, O, Ho * Wo))
        r = r.reshape(N, C, Ho, Wo)
        if (Ho, Wo) == (H, W):
            gx = r
        else:
            gx = xp.zeros((N, C, H, W), dtype=gy.dtype)
            gx[:, :, :Ho, :Wo] = r
    elif algo == "region":
        gx = conv_regions.input_grad(gy, w, cfg, in_shape)
    elif algo == "blk":
        gx = _blk_bwd_input(gy, w, cfg, in_shape)
    elif algo == "flat":
        m = max(_shifts(cfg, kh, kw, Wp))
        gx = _flat_bwd_input(_flat_gy(gy, G, Hp, Wp, m), w, cfg, in_shape, Hp, Wp)
    else:
        dcols = _mm(_wm(w, G).transpose(0, 2, 1), _gy_cn(gy, G))
        gx = _uncols(dcols, cfg, kh, kw, in_shape, Ho, Wo)
    if bias is not None:
        gx += bias.reshape(1, C, 1, 1).astype(gx.dtype, copy=False)
    return gx


def _bwd_weight(gy, x, cfg, w_shape, prep=None, in_shape=None):
    """The adjoint of ``_fwd`` in w: (O, Cg, kh, kw) from gy (N, O, Ho, Wo) and the input x (or what
    ``_fwd(keep=True)`` prepared from it, ``prep``, with the input's shape ``in_shape``)."""
    xp = xp_of(gy)
    O, Cg, kh, kw = w_shape
    G = cfg.groups
    N, C, H, W = x.shape if x is not None else in_shape
    Ho, Wo = gy.shape[2:]
    if gy.size == 0 or N * C == 0 or O * Cg == 0:
        return xp.zeros(w_shape, dtype=gy.dtype)
    algo = _algo(cfg, kh, kw, H, W, Ho, Wo, Cg, O, gy.dtype, xp=xp)
    if prep is not None and prep[0] != algo:
        prep = None
    if x is not None:
        x = x.astype(gy.dtype, copy=False)
    if algo == "dw":
        gw = xp.empty((O, kh, kw), dtype=gy.dtype)
        _depthwise().weight_grad(xp.ascontiguousarray(gy), _pad_nc(x, cfg), gw, *cfg.stride, *cfg.dilation)
        return gw.reshape(w_shape)
    if algo == "wino":
        (a0, _), (b0, _) = cfg.pads
        if winograd.compiled(gy) and Ho * Wo >= _WINO_NCHW_WGRAD_MIN_HW:
            return winograd.weight_grad_nchw(gy, x, a0, b0)
        return winograd.weight_grad(winograd.grad_grid(gy), winograd.grid(x, a0, b0, Ho, Wo), Ho, Wo)
    if algo == "1x1":
        xa = (x if prep is None else prep[1])[:, :, :Ho, :Wo]
        xs = xa.reshape(N, G, Cg, Ho * Wo).transpose(1, 2, 0, 3).reshape(G, Cg, N * Ho * Wo)
        return _mm(_gy_cn(gy, G), xs.transpose(0, 2, 1)).reshape(O, Cg, 1, 1)
    if algo == "region":
        return conv_regions.weight_grad(gy, x, cfg, w_shape)
    if algo == "blk":
        return _blk_bwd_weight(gy, x, cfg, w_shape)
    if algo == "win":
        return _win_bwd_weight(gy, x, cfg, w_shape)
    if algo == "flat":
        buf = prep[1] if prep is not None else _pad_cl(x, cfg)
        Hp, Wp = buf.shape[2:4]
        return _flat_bwd_weight(_flat_gy(gy, G, Hp, Wp, 0), buf, cfg, kh, kw, 0)
    cols = prep[1] if prep is not None else _cols(x, cfg, kh, kw, Ho, Wo)
    gw = _mm(_gy_cn(gy, G), cols.transpose(0, 2, 1))
    return gw.reshape(G, O // G, kh, kw, Cg).transpose(0, 1, 4, 2, 3).reshape(O, Cg, kh, kw)


def _wino_bwd_input(gy, w, cfg_t, H, W):
    """The input gradient (N, C, H, W) as the Winograd convolution of gy with the flipped kernel (config
    ``cfg_t`` of ``_gx_conv_cfg``)."""
    (a0, _), (b0, _) = cfg_t.pads
    if winograd.compiled(gy):
        return winograd.forward(gy, winograd.weight_tiles(w, flipped=True).transpose(0, 2, 1), a0, b0, H, W)
    g = winograd.grid(gy, a0, b0, H, W)
    return winograd.to_nchw(winograd.conv3x3(g, winograd.weight_tiles(w), H, W, winograd.FLIPPED), H, W)


def _bwd_both(gy, w, cfg, in_shape, prep, need_x, need_w):
    """conv's fused backward: (gx, gw), sharing the grad-output's layout (flat grid)."""
    kh, kw = w.shape[2:]
    if prep is not None and prep[0] == "flat" and gy.size and need_x and need_w:
        buf = prep[1]
        Hp, Wp = buf.shape[2:4]
        m = max(_shifts(cfg, kh, kw, Wp))
        gyp = _flat_gy(gy, cfg.groups, Hp, Wp, m)
        gx = _flat_bwd_input(gyp, w.astype(gy.dtype, copy=False), cfg, in_shape, Hp, Wp)
        gw = _flat_bwd_weight(gyp, buf, cfg, kh, kw, m)
        return gx, gw
    gx = _bwd_input(gy, w, cfg, in_shape) if need_x else None
    gw = _bwd_weight(gy, None, cfg, w.shape, prep, in_shape) if need_w else None
    return gx, gw


# ------------------------------------------------------------------------------------------------
# primitives
# ------------------------------------------------------------------------------------------------


_KEEP_MAX_RATIO = 1.5
_KEEP_MAX_BYTES = 10 << 20  # small im2col columns are kept anyway (VGG-11's 4x4 layers: recomputing costs more)


def _bias_grad(gy):
    return gy.sum((0,) + tuple(range(2, gy.dim())))


class Convolution(Primitive):
    """y = conv(x, w) + b on 4-D tensors (2-D spatial)."""

    @staticmethod
    def forward(ctx, x, w, b, cfg, out_hw):
        # a 1-D convolution's (N, C, L) input and (O, C, k) weight run as unit-height 2-D ones, as views here
        # rather than as view nodes of the graph (three per conv1d, forward and backward: M5 inference at b1
        # spent about a third of its time in such nodes)
        one_d = x._data.ndim == 3
        xa, wa = unit_height(x._data, one_d), unit_height(w._data, one_d)
        bias = None if b is None else b._data
        if ctx.needs_input_grad is None:
            return drop_unit_height(_fwd(xa, wa, cfg, out_hw, bias), one_d)
        y, prep = _fwd(xa, wa, cfg, out_hw, bias, keep=True)
        ctx.save_for_backward(x, w)
        ctx.cfg = cfg
        # the prepared input is kept for the weight gradient only when it is about the input's size (a padded
        # copy, a strided 1x1 subsample); im2col columns (kh*kw times larger) are recomputed in the backward
        keep = prep is not None and ctx.needs_input_grad[1] and (
            prep[1].size <= _KEEP_MAX_RATIO * xa.size or prep[1].nbytes <= _KEEP_MAX_BYTES)
        ctx.prep = prep if keep else None
        return drop_unit_height(y, one_d)

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        cfg = ctx.cfg
        nx, nw = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        nb = len(ctx.needs_input_grad) > 2 and ctx.needs_input_grad[2]
        gb = _bias_grad(gy) if nb else None
        if STATE.enabled:  # create_graph: a backward made of differentiable primitives
            one_d = x.dim() == 3
            x4, w4, g4 = (t.unsqueeze(2) for t in (x, w, gy)) if one_d else (x, w, gy)
            gx = ConvolutionBackwardInput.apply(g4, w4, None, cfg, tuple(x4.shape)) if nx else None
            gw = ConvolutionBackwardWeight.apply(g4, x4, cfg, tuple(w4.shape)) if nw else None
            if one_d:
                gx, gw = (None if t is None else t.squeeze(2) for t in (gx, gw))
            return gx, gw, gb
        prep = ctx.prep
        g, xa, wa = (unit_height(t._data, x.dim() == 3) for t in (gy, x, w))
        if prep is not None and nx and nw:
            gx, gw = _bwd_both(g, wa, cfg, xa.shape, prep, True, True)
        else:
            gx = _bwd_input(g, wa, cfg, xa.shape) if nx else None
            gw = _bwd_weight(g, xa, cfg, wa.shape, prep) if nw else None
        return (Tensor._make(gx.reshape(x._data.shape)) if gx is not None else None,
                Tensor._make(gw.reshape(w._data.shape)) if gw is not None else None, gb)


class ConvolutionBackwardInput(Primitive):
    """The adjoint of conv in its input (the transposed convolution): z (N, O, Ho, Wo) -> (N, C, H, W)."""

    @staticmethod
    def forward(ctx, z, w, b, cfg, in_shape):
        if ctx.needs_input_grad is not None:
            ctx.save_for_backward(z, w)
            ctx.cfg = cfg
        return _bwd_input(z._data, w._data, cfg, in_shape, None if b is None else b._data)

    @staticmethod
    def backward(ctx, g):
        z, w = ctx.saved_tensors
        cfg = ctx.cfg
        nz, nw = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        nb = len(ctx.needs_input_grad) > 2 and ctx.needs_input_grad[2]
        gz = Convolution.apply(g, w, None, cfg, tuple(z.shape[2:])) if nz else None
        gw = ConvolutionBackwardWeight.apply(z, g, cfg, tuple(w.shape)) if nw else None
        gb = _bias_grad(g) if nb else None
        return gz, gw, gb


class ConvolutionBackwardWeight(Primitive):
    """The adjoint of conv in its weight: (gy, x) -> (O, Cg, kh, kw)."""

    @staticmethod
    def forward(ctx, gy, x, cfg, w_shape):
        if ctx.needs_input_grad is not None:
            ctx.save_for_backward(gy, x)
            ctx.cfg = cfg
        return _bwd_weight(gy._data, x._data.astype(gy._data.dtype, copy=False), cfg, w_shape)

    @staticmethod
    def backward(ctx, ggw):
        gy, x = ctx.saved_tensors
        cfg = ctx.cfg
        ngy, nx = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        r_gy = Convolution.apply(x, ggw, None, cfg, tuple(gy.shape[2:])) if ngy else None
        r_x = ConvolutionBackwardInput.apply(gy, ggw, None, cfg, tuple(x.shape)) if nx else None
        return r_gy, r_x


# ------------------------------------------------------------------------------------------------
# argument handling (PyTorch's checks and messages)
# ------------------------------------------------------------------------------------------------


def _expand(value, name, k, nd):
    """PyTorch's expand_param_if_needed: an int (as the binding gives it: nd copies) or a list of 1 or k."""
    if isinstance(value, Tensor):
        value = value.tolist()
    if not isinstance(value, (tuple, list)):
        if isinstance(value, float) or not hasattr(value, "__index__"):
            raise TypeError(f"{name} must be an int or a tuple of ints, but got {type(value).__name__}")
        value = [int(value)] * nd
    value = [int(v) for v in value]
    if len(value) == 1:
        return value * k
    if len(value) != k:
        raise RuntimeError(
            f"expected {name} to be a single integer value or a list of {k} values to match the convolution "
            f"dimensions, but got {name}={value}"
        )
    return value


def _type_name(t):
    return t.type()


_CPP_NAMES = {"float64": "double", "float32": "float", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
              "int64": "long", "int32": "int", "int16": "short", "int8": "signed char", "uint8": "unsigned char"}


def _cpp_name(t):
    name = str(t.dtype).split(".")[-1]
    return _CPP_NAMES.get(name, name)


def _check_dtypes(x, w, b):
    xa, wa = x._data, w._data
    if (type(xa) is _np.ndarray and type(wa) is _np.ndarray and xa.dtype == wa.dtype
            and (b is None or (type(b._data) is _np.ndarray and b._data.dtype == xa.dtype))):
        return  # the usual case, without building dtype and device objects
    if x.dtype != w.dtype or x.device != w.device:
        raise RuntimeError(
            f"Input type ({_type_name(x)}) and weight type ({_type_name(w)}) should be the same or input should "
            "be a MKLDNN tensor and weight is a dense tensor"
        )
    if b is not None and (b.dtype != x.dtype or b.device != x.device):
        if b.device != x.device:
            raise RuntimeError(f"Input type ({_type_name(x)}) and bias type ({_type_name(b)}) should be the same")
        raise RuntimeError(
            f"Input type ({_cpp_name(x)}) and bias type ({_cpp_name(b)}) should be the same"
        )


def _same_pads(k, d, fname):
    """PyTorch's padding='same': total d*(k-1) per dim, the odd extra on the right/bottom."""
    pads = []
    for kk, dd in zip(k, d):
        total = dd * (kk - 1)
        pads.append((total // 2, total - total // 2))
    if any(lo != hi for lo, hi in pads):
        warnings.warn(
            "Using padding='same' with even kernel lengths and odd dilation may require a zero-padded copy of "
            "the input be created",
            UserWarning,
            stacklevel=4,
        )
    return pads


def _geometry_error(stride, padding, dilation):
    """PyTorch's message for a negative padding or a non-positive stride or dilation, or None."""
    if any(p < 0 for p in padding):
        return "negative padding is not supported"
    if any(s <= 0 for s in stride):
        return "non-positive stride is not supported"
    if any(d <= 0 for d in dilation):
        return "non-positive dilation is not supported"
    return None


def _check_groups(groups):
    if not isinstance(groups, int) or isinstance(groups, bool):
        raise TypeError(f"groups must be an int, but got {type(groups).__name__}")


def _check_common(input, weight, bias, stride, padding, dilation, groups, nd, transposed):
    _check_groups(groups)
    error = _geometry_error(stride, padding, dilation)
    if error is not None:
        raise RuntimeError(error)
    _check_shapes(input, weight, bias, groups, transposed)


def _check_shapes(input, weight, bias, groups, transposed):
    """PyTorch's checks of a convolution's groups, shapes, dtypes and devices (after those of its geometry)."""
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    ws, xs = weight._data.shape, input._data.shape
    wd, xd = len(ws), len(xs)
    if wd != xd:
        raise RuntimeError(
            f"Expected {wd}-dimensional input for {wd}-dimensional weight {list(ws)}, but got {xd}-dimensional input "
            f"of size {list(xs)} instead"
        )
    if ws[0] < groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, but got weight of "
            f"size {list(ws)} instead"
        )
    if ws[0] % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but got weight "
            f"of size [{list(ws)}] instead"
        )
    bs = None if bias is None else bias._data.shape
    if not transposed:
        if xs[1] != ws[1] * groups:
            raise RuntimeError(
                f"Given groups={groups}, weight of size {list(ws)}, expected input{list(xs)} to have "
                f"{ws[1] * groups} channels, but got {xs[1]} channels instead"
            )
        if bs is not None and (len(bs) != 1 or bs[0] != ws[0]):
            raise RuntimeError(
                f"Given weight of size {list(ws)}, expected bias to be 1-dimensional with {ws[0]} elements, but got "
                f"bias of size {list(bs)} instead"
            )
    else:
        if xs[1] != ws[0]:
            raise RuntimeError(
                f"Given transposed=1, weight of size {list(ws)}, expected input{list(xs)} to have {ws[0]} "
                f"channels, but got {xs[1]} channels instead"
            )
        if bs is not None and (len(bs) != 1 or bs[0] != ws[1] * groups):
            raise RuntimeError(
                f"Given transposed=1, weight of size {list(ws)}, expected bias to be 1-dimensional with "
                f"{ws[1] * groups} elements, but got bias of size {list(bs)} instead"
            )
    _check_dtypes(input, weight, bias)
    if xs[0] != 0 and xs[1] != 0 and 0 in xs:  # a 0-size spatial dim
        raise RuntimeError(f"Only zero batch or zero channel inputs are supported, but got input shape: {list(xs)}")


def _batchify(input, nd, fname):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fname}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    ndim = input._data.ndim
    if ndim != nd + 1 and ndim != nd + 2:
        raise RuntimeError(
            f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {fname}, but got input of size: "
            f"{list(input._data.shape)}"
        )
    batched = ndim == nd + 2
    return (input if batched else input.unsqueeze(0)), batched


def _to2d(t, nd):
    return t.unsqueeze(2) if nd == 1 else t


@kept_for_plain_args(4096)  # expanding and checking took a third of a small 1-D convolution's call (M5's conv4 at b1)
def _geometry(nd, k, stride, padding, dilation):
    """(stride, dilation, padding) as tuples of k ints (PyTorch's argument errors raised here), padding's string or
    None, and ``_geometry_error``'s message (raised by the caller after its check of ``groups``, in PyTorch's
    order)."""
    stride = _expand(stride, "stride", k, nd)
    dilation = _expand(dilation, "dilation", k, nd)
    mode = None
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise RuntimeError(f"Invalid padding string: '{padding}'")
        if padding == "same" and any(s != 1 for s in stride):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        mode, pad_list = padding, [0] * k
    else:
        pad_list = _expand(padding, "padding", k, nd)
    return tuple(stride), tuple(dilation), tuple(pad_list), mode, _geometry_error(stride, pad_list, dilation)


def _convnd(fname, nd, input, weight, bias, stride, padding, dilation, groups):
    x, batched = _batchify(input, nd, fname)
    if not isinstance(weight, Tensor):
        raise TypeError(f"{fname}(): argument 'weight' (position 2) must be Tensor, not {type(weight).__name__}")
    k = max(weight._data.ndim - 2, 1)
    stride, dilation, pad_list, mode, error = _geometry(nd, k, stride, padding, dilation)
    _check_groups(groups)
    if error is not None:
        raise RuntimeError(error)
    _check_shapes(x, weight, bias, groups, False)
    xs, ks = x._data.shape, weight._data.shape[2:]
    if mode == "same":
        pads = _same_pads(ks, dilation, fname)
    else:
        pads = [(p, p) for p in pad_list]
    padded = [xs[2 + i] + pads[i][0] + pads[i][1] for i in range(nd)]
    kern = [dilation[i] * (ks[i] - 1) + 1 for i in range(nd)]
    if any(p < kk for p, kk in zip(padded, kern)):
        raise RuntimeError(
            f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). Kernel size: "
            f"({' x '.join(map(str, kern))}). Kernel size can't be greater than actual input size"
        )
    if nd == 1:
        cfg = _Cfg((1, stride[0]), ((0, 0), pads[0]), (1, dilation[0]), groups)
    else:
        cfg = _Cfg(stride, pads, dilation, groups)
    y = Convolution.apply(x, weight, bias, cfg, None)  # 1-D: as a unit-height 2-D convolution, inside
    return y if batched else y.squeeze(0)


def _conv_transposend(fname, nd, input, weight, bias, stride, padding, output_padding, groups, dilation):
    x, batched = _batchify(input, nd, fname)
    if not isinstance(weight, Tensor):
        raise TypeError(f"{fname}(): argument 'weight' (position 2) must be Tensor, not {type(weight).__name__}")
    if isinstance(padding, str):
        raise TypeError(f"{fname}(): argument 'padding' must be tuple of ints, not str")
    k = max(weight.dim() - 2, 1)
    stride = _expand(stride, "stride", k, nd)
    padding = _expand(padding, "padding", k, nd)
    dilation = _expand(dilation, "dilation", k, nd)
    output_padding = _expand(output_padding, "output_padding", k, nd)
    if any(p < 0 for p in output_padding):
        raise RuntimeError("negative output_padding is not supported")
    _check_common(x, weight, bias, stride, padding, dilation, groups, nd, True)
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        if nd == 1:
            op2, s2, d2 = (0, output_padding[0]), (1, stride[0]), (1, dilation[0])
        else:
            op2, s2, d2 = output_padding, stride, dilation
        raise RuntimeError(
            "output padding must be smaller than either stride or dilation, but got "
            f"output_padding_height: {op2[0]} output_padding_width: {op2[1]} stride_height: {s2[0]} "
            f"stride_width: {s2[1]} dilation_height: {d2[0]} dilation_width: {d2[1]}"
        )
    ks = list(weight.shape[2:])
    out = [
        (x.shape[2 + i] - 1) * stride[i] - 2 * padding[i] + dilation[i] * (ks[i] - 1) + output_padding[i] + 1
        for i in range(nd)
    ]
    if any(o <= 0 for o in out):
        raise RuntimeError(
            f"Given input size per channel: ({' x '.join(str(s) for s in x.shape[2:])}). Calculated output size "
            f"per channel: ({' x '.join(map(str, out))}). Output size is too small"
        )
    N = x.shape[0]
    C_out = weight.shape[1] * groups
    if nd == 1:
        cfg = _Cfg((1, stride[0]), ((0, 0), (padding[0], padding[0])), (1, dilation[0]), groups)
        in_shape = (N, C_out, 1, out[0])
    else:
        cfg = _Cfg(stride, [(p, p) for p in padding], dilation, groups)
        in_shape = (N, C_out, out[0], out[1])
    y = ConvolutionBackwardInput.apply(_to2d(x, nd), _to2d(weight, nd), bias, cfg, in_shape)
    if nd == 1:
        y = y.squeeze(2)
    return y if batched else y.squeeze(0)


# ------------------------------------------------------------------------------------------------
# public functions
# ------------------------------------------------------------------------------------------------


@autocast_op
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution over (N, C_in, L) or (C_in, L) input with weight (C_out, C_in/groups, kL).

    ``padding`` is an int, a 1-tuple, ``'valid'`` (none) or ``'same'`` (output length = input length;
    stride must be 1).
    """
    return _convnd("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


@autocast_op
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution over (N, C_in, H, W) or (C_in, H, W) input with weight (C_out, C_in/groups, kH, kW).

    ``padding`` is an int, a pair, ``'valid'`` or ``'same'`` (stride must be 1).
    """
    return _convnd("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


@autocast_op
def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1-D transposed convolution ("deconvolution"): the gradient of conv1d with respect to its input.

    weight is (C_in, C_out/groups, kL); the output length is
    ``(L - 1) * stride - 2 * padding + dilation * (kL - 1) + output_padding + 1``.
    """
    return _conv_transposend("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups, dilation)


@autocast_op
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-D transposed convolution ("deconvolution"): the gradient of conv2d with respect to its input.

    weight is (C_in, C_out/groups, kH, kW).
    """
    return _conv_transposend("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups, dilation)


from .conv3d import conv3d, conv_transpose3d  # noqa: E402

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"]
