"""The "region" convolution for small images: one GEMM per kernel tap over the outputs it reaches.

Kernel tap (i, j) of a convolution (groups 1) reaches the outputs whose input pixel lies inside the image: a
rectangle of output rows and columns (its *region*). On channels-last arrays its contribution is one GEMM,
``y[:, region] += x[:, its input pixels] @ W_ij^T``, with M = images x region size, K = C and N = O. Where the
image is small and padded, im2col's columns are mostly padding (3x3 pad 1 at 4x4: 44 of 144 position-taps are
zeros, at 2x2: 20 of 36) and Winograd's tiles largely too; here nothing multiplies a zero.

The three linear maps share the regions: the forward, the input gradient (the adjoint: each region's
grad-output block @ W_ij, added onto its input pixels) and the weight gradient (W_ij's: the sum over its region
of gy_block^T @ x_block, one GEMM over the whole batch) each run on Ember's threads by channels: a thread takes
its share of the output channels (of the input channels for the input gradient) through every tap, with
one-thread GEMMs over the whole batch (M = images x region size: 32-128 rows at 2x2, where splitting the batch
would halve them), and lays out only its share of the weight (a (kh, kw, O, C) copy of all of it costs
about 1 ms at 512 x 512 x 3 x 3 on one thread).
"""

from __future__ import annotations

from typing import NamedTuple

from .. import _fast
from ._common import xp_of


def _reach(offset, stride, n_in, n_out):
    """The outputs o in [lo, hi) whose input o*stride + offset lies in [0, n_in)."""
    lo = max(0, -(offset // stride))
    hi = min(n_out, (n_in - 1 - offset) // stride + 1) if n_in - 1 - offset >= 0 else 0
    return lo, max(lo, hi)


class _Region(NamedTuple):
    """Kernel tap (i, j), the output rows oh0:oh1 and columns ow0:ow1 it reaches, and the input pixel (ih0, iw0)
    of output (oh0, ow0)."""

    i: int
    j: int
    oh0: int
    oh1: int
    ow0: int
    ow1: int
    ih0: int
    iw0: int

    @property
    def size(self):
        return (self.oh1 - self.oh0) * (self.ow1 - self.ow0)

    def outputs(self, a):
        """Its outputs in channels-last ``a`` (n, Ho, Wo, D): a view (n, h, w, D)."""
        return a[:, self.oh0:self.oh1, self.ow0:self.ow1]


def regions(cfg, kh, kw, H, W, Ho, Wo):
    """The ``_Region`` of each kernel tap that reaches an output, largest first."""
    (sh, sw), ((a0, _), (b0, _)), (dh, dw) = cfg.stride, cfg.pads, cfg.dilation
    out = []
    for i in range(kh):
        oh0, oh1 = _reach(i * dh - a0, sh, H, Ho)
        for j in range(kw):
            ow0, ow1 = _reach(j * dw - b0, sw, W, Wo)
            if oh0 < oh1 and ow0 < ow1:
                out.append(_Region(i, j, oh0, oh1, ow0, ow1, oh0 * sh + i * dh - a0, ow0 * sw + j * dw - b0))
    out.sort(key=lambda r: -r.size)
    return out


def _input_block(a, r, cfg):
    """The input pixels of region ``r`` in channels-last ``a`` (n, H, W, C): a strided view (n, h, w, C)."""
    sh, sw = cfg.stride
    return a[:, r.ih0:r.ih0 + (r.oh1 - r.oh0 - 1) * sh + 1:sh, r.iw0:r.iw0 + (r.ow1 - r.ow0 - 1) * sw + 1:sw]


def _covers(r, Ho, Wo):
    """Whether region ``r`` is every output."""
    return (r.oh0, r.oh1, r.ow0, r.ow1) == (0, Ho, 0, Wo)


def _covers_input(r, cfg, H, W):
    """Whether the input pixels of region ``r`` are the whole image, one output each."""
    sh, sw = cfg.stride
    return (r.ih0 == r.iw0 == 0 and (r.oh1 - r.oh0, r.ow1 - r.ow0) == (H, W) and (sh == 1 or H == 1)
            and (sw == 1 or W == 1))


def _flops(regs, N, C, O):
    return 2 * N * C * O * sum(r.size for r in regs)


def _rows(block, buf):
    """``block`` (n, h, w, D) as an (n*h*w, D) matrix: itself when contiguous, else copied into ``buf``."""
    if block.flags.c_contiguous:
        return block.reshape(-1, block.shape[-1])
    m = buf[:block.size].reshape(block.shape)
    m[...] = block
    return m.reshape(-1, block.shape[-1])


def _tap_major(w, c0, c1, out_channels):
    """The weight (O, C, kh, kw) as (kh, kw, O, C) matrices W_ij, of output channels c0:c1 (``out_channels``)
    or input channels c0:c1."""
    xp = xp_of(w)
    part = w[c0:c1] if out_channels else w[:, c0:c1]
    out = xp.empty(part.shape[2:] + part.shape[:2], dtype=w.dtype)
    out[...] = part.transpose(2, 3, 0, 1)
    return out


def _summed(src_cl, dst_cl, regs, product, src_block, dst_block, full):
    """dst_cl = the sum over regions r of ``product(r, rows)`` (rows: ``src_block(src_cl, r)`` as a matrix) placed
    at ``dst_block(dst_cl, r)``; the first region written straight into dst_cl when ``full(r)``, else dst_cl
    zeroed first. Channels-last arrays (n, ., ., D)."""
    xp = xp_of(src_cl)
    n, D, E = src_cl.shape[0], src_cl.shape[-1], dst_cl.shape[-1]
    biggest = regs[0].size * n  # (largest first)
    a_buf = xp.empty(biggest * D, dtype=src_cl.dtype)
    t_buf = xp.empty(biggest * E, dtype=dst_cl.dtype)
    start = 0
    if full(regs[0]):
        product(regs[0], _rows(src_block(src_cl, regs[0]), a_buf), dst_cl.reshape(-1, E))
        start = 1
    else:
        dst_cl[...] = 0
    for r in regs[start:]:
        a = _rows(src_block(src_cl, r), a_buf)
        t = t_buf[:a.shape[0] * E].reshape(a.shape[0], E)
        product(r, a, t)
        d = dst_block(dst_cl, r)
        d += t.reshape(d.shape)


def _channels_last(a):
    return xp_of(a).ascontiguousarray(a.transpose(0, 2, 3, 1))


def forward(x, w, cfg, Ho, Wo, bias):
    """y (N, O, Ho, Wo) of x (N, C, H, W) and w (O, C, kh, kw), groups 1."""
    xp = xp_of(x)
    N, C, H, W = x.shape
    O, _, kh, kw = w.shape
    y = xp.empty((N, O, Ho, Wo), dtype=x.dtype)
    regs = regions(cfg, kh, kw, H, W, Ho, Wo)
    if not regs:  # no tap reaches an output: all padding
        y[...] = 0 if bias is None else bias.reshape(1, O, 1, 1)
        return y
    b = None if bias is None else bias.reshape(1, O, 1, 1).astype(y.dtype, copy=False)
    xcl = _channels_last(x)  # one copy for all threads

    def channels(o0, o1):
        wt = _tap_major(w, o0, o1, True)
        ycl = xp.empty((N, Ho, Wo, o1 - o0), dtype=x.dtype)
        _summed(xcl, ycl, regs, lambda r, a, out: xp.matmul(a, wt[r.i, r.j].T, out=out),
                lambda a, r: _input_block(a, r, cfg), lambda d, r: r.outputs(d),
                lambda r: _covers(r, Ho, Wo))
        src = ycl.transpose(0, 3, 1, 2)
        if b is None:
            y[:, o0:o1] = src
        else:
            xp.add(src, b[:, o0:o1], out=y[:, o0:o1])

    _fast.share_by_thread(channels, O, _flops(regs, N, C, O), xp)
    return y


def input_grad(gy, w, cfg, in_shape):
    """gx (N, C, H, W), the adjoint of ``forward`` in x: each region's grad-output block @ W_ij added onto the
    input pixels it came from."""
    xp = xp_of(gy)
    N, C, H, W = in_shape
    O, _, kh, kw = w.shape
    Ho, Wo = gy.shape[2:]
    gx = xp.empty(in_shape, dtype=gy.dtype)
    regs = regions(cfg, kh, kw, H, W, Ho, Wo)
    if not regs:
        gx[...] = 0
        return gx

    gycl = _channels_last(gy)

    def channels(c0, c1):
        wt = _tap_major(w, c0, c1, False)
        gxcl = xp.empty((N, H, W, c1 - c0), dtype=gy.dtype)
        _summed(gycl, gxcl, regs, lambda r, g, out: xp.matmul(g, wt[r.i, r.j], out=out),
                lambda a, r: r.outputs(a), lambda d, r: _input_block(d, r, cfg),
                lambda r: _covers_input(r, cfg, H, W))
        gx[:, c0:c1] = gxcl.transpose(0, 3, 1, 2)

    _fast.share_by_thread(channels, C, _flops(regs, N, C, O), xp)
    return gx


def weight_grad(gy, x, cfg, w_shape):
    """gw (O, C, kh, kw), the adjoint of ``forward`` in w: W_ij's gradient is the sum over its region of
    gy_block^T @ x_block, one GEMM over the whole batch; a tap that reaches no output gets zeros."""
    xp = xp_of(gy)
    N, C, H, W = x.shape
    O, _, kh, kw = w_shape
    Ho, Wo = gy.shape[2:]
    gw = xp.empty(w_shape, dtype=gy.dtype)
    regs = regions(cfg, kh, kw, H, W, Ho, Wo)
    biggest = N * regs[0].size if regs else 0
    xcl = _channels_last(x) if regs else None

    def channels(o0, o1):
        part = xp.zeros((kh, kw, o1 - o0, C), dtype=gy.dtype) if len(regs) < kh * kw else \
            xp.empty((kh, kw, o1 - o0, C), dtype=gy.dtype)
        if regs:
            gcl = gy[:, o0:o1].transpose(0, 2, 3, 1)
            a_buf = xp.empty(biggest * C, dtype=x.dtype)
            g_buf = xp.empty(biggest * (o1 - o0), dtype=gy.dtype)
            for r in regs:
                g = _rows(r.outputs(gcl), g_buf)
                xp.matmul(g.T, _rows(_input_block(xcl, r, cfg), a_buf), out=part[r.i, r.j])
        gw[o0:o1] = part.transpose(2, 3, 0, 1)

    _fast.share_by_thread(channels, O, _flops(regs, N, C, O), xp)
    return gw
