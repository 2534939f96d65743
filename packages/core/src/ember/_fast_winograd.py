"""The tile transforms of Winograd F(2x2, 3x3) (``ops/winograd.py``) compiled by numba (the optional ``fast``
extra; see ``_fast.py``), straight between NCHW planes and the GEMM operands.

Layout: a transformed tile position ``pos`` (0..15, row-major in the 4x4 tile) of channel c is a row
``v[pos, c, :]`` over the tiles of a block of images (image-major, then tile row, then tile column), so each
of the 16 GEMMs is (out channels x in channels) @ (in channels x tiles) and the plane-by-plane transforms
read and write contiguous runs: no layout transpose of the activations either way (the NumPy path transposes
to channels-last and back, two thirds of its time at 64 channels 32x32).

The constants are 0, +-1 (and 1/2 in the kernel transform, done in ``ops/winograd.py``), so each transformed
value is a few additions, rounded one by one as in the NumPy path: no fused multiply-add or reassociation.
Imported only when numba is.
"""

from __future__ import annotations

import numpy as np
from numba import njit, uint64

_OPTS = dict(nogil=True, cache=True, boundscheck=False)


@njit(**_OPTS)
def input_tiles(x, a0, b0, th, tw, v, n0, n1, col0):
    """v[pos, c, col0 + (n - n0) * th * tw + ty * tw + tx] = (B^T d B)[pos] for images n0..n1 of x (N, C, H, W)
    (C-contiguous), d the 4x4 patch at rows 2 ty - a0, columns 2 tx - b0 of the zero-padded plane (a0, b0 >= 0;
    rows and columns past 2 th + 2 x 2 tw + 2 are dropped); v (16, C, K) C-contiguous."""
    C, H, W = x.shape[1], x.shape[2], x.shape[3]
    Hb, Wb = 2 * th + 2, 2 * tw + 2
    T = th * tw
    P = uint64(C * v.shape[2])
    hh, ww = max(0, min(H, Hb - a0)), max(0, min(W, Wb - b0))
    xf, vf = x.reshape(-1), v.reshape(-1)
    p = np.zeros(Hb * Wb, dtype=x.dtype)  # the padded plane; only its interior is rewritten
    t = np.empty(4 * Wb, dtype=x.dtype)
    W2, W3, Wu, H1 = uint64(2 * Wb), uint64(3 * Wb), uint64(Wb), uint64(tw + 1)
    for n in range(n0, n1):
        for c in range(C):
            s = uint64((n * C + c) * H * W)
            for i in range(hh):
                d0, s0 = uint64((a0 + i) * Wb + b0), s + uint64(i * W)
                for j in range(uint64(ww)):
                    p[d0 + j] = xf[s0 + j]
            for ty in range(th):
                r = uint64(2 * ty * Wb)
                # rows: B^T d = (d0 - d2, d1 + d2, d2 - d1, d1 - d3), even columns then odd ones in t's rows, so
                # that the column pass below reads unit-stride runs
                for k in range(uint64(tw + 1)):
                    for h in range(2):
                        j = uint64(2) * k + uint64(h)
                        d0, d1, d2, d3 = p[r + j], p[r + Wu + j], p[r + W2 + j], p[r + W3 + j]
                        e = uint64(h) * H1 + k
                        t[e] = d0 - d2
                        t[Wu + e] = d1 + d2
                        t[W2 + e] = d2 - d1
                        t[W3 + e] = d1 - d3
                o = uint64(c * v.shape[2] + col0 + (n - n0) * T + ty * tw)
                for a in range(4):
                    ta = uint64(a * Wb)
                    oa = o + uint64(4 * a) * P
                    for q in range(uint64(tw)):
                        e0, e1 = t[ta + q], t[ta + H1 + q]
                        e2, e3 = t[ta + q + uint64(1)], t[ta + H1 + q + uint64(1)]
                        vf[oa + q] = e0 - e2
                        vf[oa + P + q] = e1 + e2
                        vf[oa + uint64(2) * P + q] = e2 - e1
                        vf[oa + uint64(3) * P + q] = e1 - e3


@njit(**_OPTS)
def output_tiles(m, y, th, tw, n0, n1, col0, bias, has_bias):
    """y[n, o] for images n0..n1 (y (N, O, Ho, Wo), C-contiguous) = A^T M A of the GEMM products m (16, O, K)
    laid out as ``input_tiles`` writes (rows and columns past Ho x Wo dropped), plus bias[o] when ``has_bias``."""
    O, Ho, Wo = y.shape[1], y.shape[2], y.shape[3]
    T = th * tw
    P = uint64(O * m.shape[2])
    mf, yf = m.reshape(-1), y.reshape(-1)
    twu = uint64(tw)
    z = np.empty(8 * tw, dtype=y.dtype)
    row = np.empty(2 * tw, dtype=y.dtype)
    for n in range(n0, n1):
        for o in range(O):
            bo = bias[o] if has_bias else y.dtype.type(0)
            for ty in range(th):
                c = uint64(o * m.shape[2] + col0 + (n - n0) * T + ty * tw)
                for b in range(4):
                    cb = c + uint64(b) * P
                    zb = uint64(b * tw)
                    for q in range(twu):
                        m0, m1 = mf[cb + q], mf[cb + uint64(4) * P + q]
                        m2, m3 = mf[cb + uint64(8) * P + q], mf[cb + uint64(12) * P + q]
                        z[zb + q] = m0 + m1 + m2
                        z[zb + uint64(4) * twu + q] = m1 - m2 - m3
                for r in range(min(2, Ho - 2 * ty)):
                    zr = uint64(4 * r * tw)
                    for q in range(twu):
                        z0, z1, z2, z3 = z[zr + q], z[zr + twu + q], z[zr + uint64(2) * twu + q], z[zr + uint64(3) * twu + q]
                        row[uint64(2) * q] = z0 + z1 + z2
                        row[uint64(2) * q + uint64(1)] = z1 - z2 - z3
                    d = uint64(((n * O + o) * Ho + 2 * ty + r) * Wo)
                    if has_bias:
                        for j in range(uint64(Wo)):
                            yf[d + j] = row[j] + bo
                    else:
                        for j in range(uint64(Wo)):
                            yf[d + j] = row[j]


@njit(**_OPTS)
def grad_tiles(gy, th, tw, d, n0, n1, col0):
    """d[pos, o, tile] = (A dY A^T)[pos] of the 2x2 tiles of images n0..n1 of gy (N, O, Ho, Wo) (C-contiguous;
    zero past Ho x Wo), laid out as ``input_tiles`` writes: the weight gradient's operand."""
    O, Ho, Wo = gy.shape[1], gy.shape[2], gy.shape[3]
    T = th * tw
    P = uint64(O * d.shape[2])
    gf, df = gy.reshape(-1), d.reshape(-1)
    W2, H1 = uint64(2 * tw), uint64(tw)
    p = np.zeros(4 * th * tw, dtype=gy.dtype)
    s = np.empty(8 * tw, dtype=gy.dtype)
    for n in range(n0, n1):
        for o in range(O):
            src = uint64((n * O + o) * Ho * Wo)
            for i in range(Ho):
                d0, s0 = uint64(i) * W2, src + uint64(i * Wo)
                for j in range(uint64(Wo)):
                    p[d0 + j] = gf[s0 + j]
            for ty in range(th):
                r = uint64(2 * ty) * W2
                # rows: A (g0, g1) = (g0, g0 + g1, g0 - g1, -g1), even columns then odd ones
                for k in range(H1):
                    for h in range(2):
                        j = uint64(2) * k + uint64(h)
                        g0, g1 = p[r + j], p[r + W2 + j]
                        e = uint64(h) * H1 + k
                        s[e] = g0
                        s[W2 + e] = g0 + g1
                        s[uint64(2) * W2 + e] = g0 - g1
                        s[uint64(3) * W2 + e] = -g1
                c = uint64(o * d.shape[2] + col0 + (n - n0) * T + ty * tw)
                for a in range(4):
                    sa = uint64(a) * W2
                    ca = c + uint64(4 * a) * P
                    for q in range(H1):
                        h0, h1 = s[sa + q], s[sa + H1 + q]
                        df[ca + q] = h0
                        df[ca + P + q] = h0 + h1
                        df[ca + uint64(2) * P + q] = h0 - h1
                        df[ca + uint64(3) * P + q] = -h1
