"""Winograd F(2x2, 3x3) for 3x3, stride-1, dilation-1, ungrouped convolutions (used by ``conv.py``).

The output is cut into 2x2 tiles; tile t reads a 4x4 patch d_t of the zero-padded input. With
V = B^T d B, U = G g G^T and y_t = A^T (U * V) A the 16 entries of a transformed tile are independent,
so the convolution becomes 16 GEMMs (tiles x C_in) @ (C_in x C_out): 16 multiplies per 2x2 outputs
instead of 36 (2.25x fewer FLOPs). The constants (0, +-1, 1/2) are exact in binary, so the map is the
convolution up to rounding (float32: about 1e-7 relative to the largest output; float64 passes
gradcheck).

Layout: the padded input is kept spatial-major, (Hb, Wb, N, C), so that every tile slice of the
transforms is a strided slice of the two outer axes with contiguous runs of N*C elements (the NumPy
ufuncs then run at memory speed), and a transformed position is a plain (tiles*N, C) matrix. The work
goes by blocks of tile rows, so that the transformed tiles and the GEMM products of a block stay in cache.

The weight gradient is the adjoint: dU = V^T @ dM with dM = A dY A^T per tile, then dw = G^T dU G.

With the compiled kernels (``ember[fast]``, ``_fast_winograd``) the tiles are made straight from NCHW planes
instead (``forward``, also for the input gradient with the flipped tiles, and ``weight_grad_nchw``): a
transformed position is a (C, tiles) matrix and the GEMMs run as U (O, C) @ V (C, tiles), so no layout
transpose is needed either way.
"""

from __future__ import annotations

import numpy

from .. import _fast
from ._common import device_constant, xp_of

_BLOCK_BYTES = 1 << 21  # target size of one block's transformed tiles (16 x tile rows x tw x N x C)
_MIN_ROWS = 256  # ... but at least this many GEMM rows (tiles x batch) per block
# the compiled path: images per block of each thread, about this many bytes of transformed tiles (16 x channels
# x tiles); b32, fwd, 2 threads, blocks of 1 / 2 / 4 / 8 / 16 images: 64 ch at 32x32 (1 MB each) 12.5 / 10.8 /
# 11.8 / 12.0 / 13.8 ms, 128 ch at 16x16 14.0 / 9.3 / 8.9 / 9.3 / 12.5, 512 ch at 4x4 26 / 15.6 / 10.4 / 8.6 / 8.6
_PLANE_BLOCK_BYTES = 1 << 21


def _transpose_tiles(dst, src):
    """dst[...] = src for (N, H, W, C) views where one of the two is channels-last (C contiguous) and the
    other channel-major (W contiguous). A plain strided copy walks the far axis of one side element by
    element; going through (W/b, C, b) tiles moves b-element runs of the channel-major side and transposes
    small tiles in cache."""
    xp = xp_of(dst)
    N, H, W, C = dst.shape
    b = 16 if W % 16 == 0 and W > 16 else 8 if W % 8 == 0 and W > 8 else 0
    if xp.__name__ != "numpy" or not b:
        dst[...] = src
        return

    def part(n0, n1):
        tmp = xp.empty((n1 - n0, H, W // b, C, b), dtype=dst.dtype)
        tmp[...] = src[n0:n1].reshape(n1 - n0, H, W // b, b, C).swapaxes(-1, -2)
        dst[n0:n1].reshape(n1 - n0, H, W // b, b, C)[...] = tmp.swapaxes(-1, -2)

    _fast.share(part, N)  # (NumPy arrays only: a GPU copy returned above)


def tiles(Ho, Wo):
    """(th, tw): the 2x2 output tiles covering Ho x Wo."""
    return -(-Ho // 2), -(-Wo // 2)


def grid(x, a0, b0, Ho, Wo):
    """x (N, C, H, W) at offset (a0, b0) in a zero grid (2*th + 2, 2*tw + 2, N, C) (rows and columns past
    the grid are dropped: they touch no output)."""
    xp = xp_of(x)
    N, C, H, W = x.shape
    th, tw = tiles(Ho, Wo)
    Hb, Wb = 2 * th + 2, 2 * tw + 2
    g = xp.empty((Hb, Wb, N, C), dtype=x.dtype)
    hh, ww = max(0, min(H, Hb - a0)), max(0, min(W, Wb - b0))
    g[:a0] = 0
    g[a0 + hh:] = 0
    g[a0:a0 + hh, :b0] = 0
    g[a0:a0 + hh, b0 + ww:] = 0
    _transpose_tiles(g[a0:a0 + hh, b0:b0 + ww].transpose(2, 0, 1, 3), x[:, :, :hh, :ww].transpose(0, 2, 3, 1))
    return g


def _block_rows(th, tw, N, C, itemsize):
    """Tile rows per block: about _BLOCK_BYTES of transformed tiles, but GEMMs of at least _MIN_ROWS rows."""
    n = max(_BLOCK_BYTES // max(1, 16 * tw * N * C * itemsize), -(-_MIN_ROWS // (tw * N)))
    return max(1, min(th, n))


def _input_block(g, r0, r1, tw, v, t):
    """v (4, 4, r1 - r0, tw, N, C): B^T d B of the tiles in tile rows r0..r1 of the grid g; t is scratch
    (4, r1 - r0, Wb, N, C)."""
    xp = xp_of(g)
    n = r1 - r0
    r = [g[2 * r0 + i:2 * r0 + i + 2 * n - 1:2] for i in range(4)]
    # rows: B^T d = (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
    xp.subtract(r[0], r[2], out=t[0])
    xp.add(r[1], r[2], out=t[1])
    xp.subtract(r[2], r[1], out=t[2])
    xp.subtract(r[1], r[3], out=t[3])
    c = [t[:, :, j:j + 2 * tw - 1:2] for j in range(4)]
    xp.subtract(c[0], c[2], out=v[:, 0])
    xp.add(c[1], c[2], out=v[:, 1])
    xp.subtract(c[2], c[1], out=v[:, 2])
    xp.subtract(c[1], c[3], out=v[:, 3])


def _kron():
    """(16, 9): vec(G g G^T) = K vec(g) for the 3x3 kernel g, row-major."""
    G = numpy.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])
    return numpy.kron(G, G)


_KRON = _kron()


def _kron_for(xp, dtype, flipped=False):
    return device_constant(xp, (_KRON[list(FLIPPED)] if flipped else _KRON).astype(dtype))


def weight_tiles(w, flipped=False):
    """U (16, O, C): G g G^T of the 3x3 kernels w (O, C, 3, 3), one K = 9 GEMM; ``flipped``: its positions in
    the order FLIPPED (U[FLIPPED[i]] at i: transposed, the tiles of the input gradient's kernel)."""
    xp = xp_of(w)
    O, C = w.shape[:2]
    # matmul_2d: on the CPU never BLAS's parked workers started from this thread (VGG-11's 64 -> 128 conv after an
    # idle spell: 7-9 ms against 0.1), its 16 rows shared out among Ember's threads when large (512 x 512: 2.3 ->
    # 1.65 ms); nor started soon from the pool (``wake``): the convolution's own threads follow
    return _fast.matmul_2d(_kron_for(xp, w.dtype, flipped), w.reshape(O * C, 9).T, wake=False).reshape(16, O, C)


def _output_block(m, yb, z):
    """yb (2n, 2tw, N, O) = A^T m A of the GEMM products m (4, 4, n, tw, N, O); z is scratch
    (2, 4, n, tw, N, O)."""
    xp = xp_of(m)
    # rows: A^T m = (m0 + m1 + m2, m1 - m2 - m3)
    xp.add(m[0], m[1], out=z[0])
    z[0] += m[2]
    xp.subtract(m[1], m[2], out=z[1])
    z[1] -= m[3]
    n, tw = m.shape[2:4]
    yv = yb.reshape((n, 2, tw, 2) + yb.shape[2:]).transpose((1, 3, 0, 2, 4, 5))  # (rp, cp, n, tw, N, O)
    xp.add(z[:, 0], z[:, 1], out=yv[:, 0])
    yv[:, 0] += z[:, 2]
    xp.subtract(z[:, 1], z[:, 2], out=yv[:, 1])
    yv[:, 1] -= z[:, 3]


# The input gradient is the convolution with the flipped, transposed kernel w'[c, o] = w[o, c, ::-1, ::-1].
# Reversing a kernel swaps rows 0 and 3 of G (rows 1 and 2 are symmetric), so its tiles are
# U'[a, b] = U[p(a), p(b)]^T with p = (3, 1, 2, 0): ``conv3x3(g, u, H, W, FLIPPED)`` with U (16, O, C) of w.
FLIPPED = tuple(4 * p + q for p in (3, 1, 2, 0) for q in (3, 1, 2, 0))


def _threads(xp):
    return _fast._threads() if xp is numpy else 1


def _share(xp, process, n, chunk):
    """``process(a, b)`` over ``range(n)`` in chunks, on Ember's CPU threads (NumPy's ufuncs release the
    GIL) or, on a GPU, in one call."""
    if xp is numpy and n > chunk:
        _fast.share(process, n, chunk)
    else:
        process(0, n)


def conv3x3(g, ut, Ho, Wo, order=None):
    """The convolution on the grid g (Hb, Wb, N, C) of ``grid``, with the GEMM operand ut (16, C, O) (the
    transposed ``weight_tiles`` of the kernel; position i uses ut[order[i]] when ``order`` is given):
    (2*th, 2*tw, N, O), whose rows and columns past Ho x Wo are not part of the output.

    By super-blocks of tile rows: each thread transforms a block, one GEMM per position covers the
    super-block (BLAS runs it on its threads), then each thread untiles a block."""
    xp = xp_of(g)
    _, Wb, N, C = g.shape
    O = ut.shape[2]
    th, tw = tiles(Ho, Wo)
    dt = g.dtype
    y = xp.empty((2 * th, 2 * tw, N, O), dtype=dt)
    nb = _block_rows(th, tw, N, max(C, O), dt.itemsize)
    sb = min(th, nb * _threads(xp))
    v = xp.empty((4, 4, sb, tw, N, C), dtype=dt)
    m = xp.empty((16, sb * tw * N, O), dtype=dt)
    for r0 in range(0, th, sb):
        n = min(th, r0 + sb) - r0

        def tile(a, b, r0=r0):
            _input_block(g, r0 + a, r0 + b, tw, v[:, :, a:b], xp.empty((4, b - a, Wb, N, C), dtype=dt))

        _share(xp, tile, n, nb)
        vf = v[:, :, :n].reshape(16, n * tw * N, C)
        mb = m[:, :n * tw * N]
        if order is None:
            xp.matmul(vf, ut, out=mb)
        else:
            for i in range(16):
                xp.matmul(vf[i], ut[order[i]], out=mb[i])
        m6 = mb.reshape(4, 4, n, tw, N, O)

        def untile(a, b, r0=r0, m6=m6):
            _output_block(m6[:, :, a:b], y[2 * (r0 + a):2 * (r0 + b)], xp.empty((2, 4, b - a, tw, N, O), dtype=dt))

        _share(xp, untile, n, nb)
    return y


def _grad_block(gg, r0, r1, d, s):
    """d (4, 4, n, tw, N, O) = A dY A^T of the grad-output tiles in tile rows r0..r1 of gg (2th, 2tw, N, O);
    s is scratch (4, n, 2tw, N, O)."""
    xp = xp_of(gg)
    n = r1 - r0
    blk = gg[2 * r0:2 * r1]
    g0, g1 = blk[0::2], blk[1::2]
    # rows: A (g0, g1) = (g0, g0 + g1, g0 - g1, -g1)
    s[0] = g0
    xp.add(g0, g1, out=s[1])
    xp.subtract(g0, g1, out=s[2])
    xp.negative(g1, out=s[3])
    h0, h1 = s[:, :, 0::2], s[:, :, 1::2]
    d[:, 0] = h0
    xp.add(h0, h1, out=d[:, 1])
    xp.subtract(h0, h1, out=d[:, 2])
    xp.negative(h1, out=d[:, 3])
    return n


def weight_untile(du):
    """dw (O, C, 3, 3) = G^T dU G from dU (16, O, C): the adjoint of ``weight_tiles``."""
    xp = xp_of(du)
    _, O, C = du.shape
    # matmul_2d, as in ``weight_tiles``: after the compiled weight gradient's threads, BLAS's workers started again
    # from this thread stalled it a scheduler tick (4 ms) or two (b32, the whole weight gradient: 64 -> 128 ch at
    # 16x16 12.0 -> 4.0 ms, 128 -> 256 at 8x8 8.2 -> 4.7)
    return _fast.matmul_2d(du.reshape(16, O * C).T, _kron_for(xp, du.dtype)).reshape(O, C, 3, 3)


def weight_grad(gg, g, Ho, Wo):
    """dw (O, C, 3, 3) from the grad-output gg (2*th, 2*tw, N, O) (zero past Ho x Wo) and the input grid g
    (super-blocks of tile rows as in ``conv3x3``; the 16 GEMMs accumulate over them)."""
    xp = xp_of(gg)
    _, Wb, N, C = g.shape
    O = gg.shape[3]
    th, tw = tiles(Ho, Wo)
    dt = g.dtype
    nb = _block_rows(th, tw, N, max(C, O), dt.itemsize)
    sb = min(th, nb * _threads(xp))
    v = xp.empty((4, 4, sb, tw, N, C), dtype=dt)
    d = xp.empty((4, 4, sb, tw, N, O), dtype=dt)
    du = xp.empty((16, O, C), dtype=dt)
    tmp = xp.empty((16, O, C), dtype=dt) if sb < th else None
    for r0 in range(0, th, sb):
        n = min(th, r0 + sb) - r0

        def tile(a, b, r0=r0):
            _input_block(g, r0 + a, r0 + b, tw, v[:, :, a:b], xp.empty((4, b - a, Wb, N, C), dtype=dt))
            _grad_block(gg, r0 + a, r0 + b, d[:, :, a:b], xp.empty((4, b - a, 2 * tw, N, O), dtype=dt))

        _share(xp, tile, n, nb)
        k = n * tw * N
        xp.matmul(d[:, :, :n].reshape(16, k, O).transpose(0, 2, 1), v[:, :, :n].reshape(16, k, C),
                  out=du if r0 == 0 else tmp)
        if r0:
            du += tmp
    return weight_untile(du)


def grad_grid(gy):
    """gy (N, O, Ho, Wo) as (2*th, 2*tw, N, O), zero past Ho x Wo (the layout ``weight_grad`` reads)."""
    xp = xp_of(gy)
    N, O, Ho, Wo = gy.shape
    th, tw = tiles(Ho, Wo)
    gg = xp.empty((2 * th, 2 * tw, N, O), dtype=gy.dtype)
    if Ho < 2 * th:
        gg[Ho:] = 0
    if Wo < 2 * tw:
        gg[:Ho, Wo:] = 0
    _transpose_tiles(gg[:Ho, :Wo].transpose(2, 0, 1, 3), gy.transpose(0, 2, 3, 1))
    return gg


def to_nchw(y, Ho, Wo, bias=None):
    """The (2*th, 2*tw, N, O) result of ``conv3x3`` as a contiguous (N, O, Ho, Wo) array, plus ``bias``."""
    xp = xp_of(y)
    N, O = y.shape[2:]
    out = xp.empty((N, O, Ho, Wo), dtype=y.dtype)
    _transpose_tiles(out.transpose(0, 2, 3, 1), y[:Ho, :Wo].transpose(2, 0, 1, 3))
    if bias is not None:
        out += bias.reshape(1, O, 1, 1).astype(y.dtype, copy=False)
    return out


# --- the compiled path: tiles straight from NCHW planes ---------------------------------------------------------


def compiled(x):
    """The compiled tile kernels, when they apply to the NumPy array x (float32/float64); else None."""
    if type(x) is not numpy.ndarray or x.dtype.name not in ("float32", "float64") or _fast.kernels() is None:
        return None
    from .. import _fast_winograd

    return _fast_winograd


def _per_thread(process, N, C, O, T, itemsize):
    """``_fast.share_blocks`` with blocks of about _PLANE_BLOCK_BYTES of transformed tiles."""
    return _fast.share_blocks(process, N, _PLANE_BLOCK_BYTES // max(1, 16 * max(C, O) * T * itemsize),
                              2 * 16 * N * C * O * T)


def forward(x, lhs, a0, b0, Ho, Wo, bias=None):
    """y (N, O, Ho, Wo): x (N, C, H, W) at offset (a0, b0) >= 0 in a zero grid, convolved through the tiles; lhs
    (16, O, C) is the GEMM's left operand per position (``weight_tiles`` of the kernel; for the input gradient the
    transposed view of its ``flipped`` tiles: BLAS takes the transpose as it is).
    The compiled path; ``compiled(x)`` must be true."""
    kern = compiled(x)
    x = numpy.ascontiguousarray(x)
    N, C = x.shape[:2]
    O = lhs.shape[1]
    dt = x.dtype
    th, tw = tiles(Ho, Wo)
    T = th * tw
    y = numpy.empty((N, O, Ho, Wo), dtype=dt)
    lhs = lhs.astype(dt, copy=False)
    has_bias = bias is not None
    b = numpy.ascontiguousarray(bias, dtype=dt) if has_bias else numpy.empty(0, dtype=dt)

    def process(blocks):
        k = max(n1 - n0 for n0, n1 in blocks) * T
        v = numpy.empty((16, C, k), dtype=dt)
        m = numpy.empty((16, O, k), dtype=dt)
        for n0, n1 in blocks:
            kern.input_tiles(x, a0, b0, th, tw, v, n0, n1, 0)
            j = (n1 - n0) * T
            numpy.matmul(lhs, v[:, :, :j], out=m[:, :, :j])
            kern.output_tiles(m, y, th, tw, n0, n1, 0, b, has_bias)

    _per_thread(process, N, C, O, T, dt.itemsize)
    return y


def weight_grad_nchw(gy, x, a0, b0):
    """dw (O, C, 3, 3) from the grad-output gy (N, O, Ho, Wo) and the input x (N, C, H, W) at offset (a0, b0):
    dU = dM @ V^T summed over blocks of images, then ``weight_untile``. The compiled path."""
    kern = compiled(x)
    x, gy = numpy.ascontiguousarray(x), numpy.ascontiguousarray(gy)
    N, O, Ho, Wo = gy.shape
    C = x.shape[1]
    dt = gy.dtype
    th, tw = tiles(Ho, Wo)
    T = th * tw

    def process(blocks):
        k = max(n1 - n0 for n0, n1 in blocks) * T
        v = numpy.empty((16, C, k), dtype=dt)
        d = numpy.empty((16, O, k), dtype=dt)
        du = tmp = None
        for n0, n1 in blocks:
            kern.input_tiles(x, a0, b0, th, tw, v, n0, n1, 0)
            kern.grad_tiles(gy, th, tw, d, n0, n1, 0)
            j = (n1 - n0) * T
            if du is None:
                du = numpy.matmul(d[:, :, :j], v[:, :, :j].transpose(0, 2, 1))
                tmp = numpy.empty_like(du) if len(blocks) > 1 else None
            else:
                numpy.matmul(d[:, :, :j], v[:, :, :j].transpose(0, 2, 1), out=tmp)
                du += tmp
        return du

    parts = _per_thread(process, N, C, O, T, dt.itemsize)
    du = parts[0]
    for part in parts[1:]:
        du += part
    return weight_untile(du)

