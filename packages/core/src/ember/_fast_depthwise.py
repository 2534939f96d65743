"""Depthwise convolution (groups = in channels = out channels) compiled by numba (the optional ``fast`` extra;
see ``_fast.py``): each (image, channel) plane convolved with its own small kernel in cache. The general path does
one GEMM per group, each 1 x (kh * kw) by (kh * kw) x positions, over im2col columns kh * kw times the input's size
(MobileNet's 3x3 on 16x32x32x32: 3.3 ms, PyTorch 0.45).

At stride 1 a plane is handled flat: on the padded width, output position p reads input p + a * Wp + b for kernel
offset (a, b), so each offset is one multiply-add pass over a whole plane (a few hundred elements) rather than
one per row (rows of 28 left the vector loops mostly remainder: 3x slower). Other strides go row by row.
Imported only when numba is."""

from __future__ import annotations

import numpy as np
from numba import njit

_OPTS = dict(nogil=True, cache=True, boundscheck=False, fastmath={"contract", "reassoc", "nsz"})


@njit(inline="always", **_OPTS)
def _span(Ho, Wo, Wp):
    """Positions of the flat output on the padded width, up to the last valid one."""
    return (Ho - 1) * Wp + Wo


@njit(**_OPTS)
def forward(xpad, w, out, sh, sw, dh, dw):
    """out[n, c] = the correlation of the zero-padded plane xpad[n, c] with w[c] (kh, kw), strided."""
    Ho, Wo = out.shape[2], out.shape[3]
    Wp = xpad.shape[3]
    flat_ok = sh == 1 and sw == 1
    L = _span(Ho, Wo, Wp)
    tmp = np.empty(L, dtype=out.dtype)
    for n in range(out.shape[0]):
        for c in range(out.shape[1]):
            plane, wc, o = xpad[n, c], w[c], out[n, c]
            if flat_ok:
                src = plane.reshape(-1)
                for p in range(L):
                    tmp[p] = 0.0
                for a in range(w.shape[1]):
                    for b in range(w.shape[2]):
                        wv = wc[a, b]
                        run = src[a * dh * Wp + b * dw:]
                        for p in range(L):
                            tmp[p] += wv * run[p]
                for i in range(Ho):
                    row = tmp[i * Wp:]
                    for j in range(Wo):
                        o[i, j] = row[j]
                continue
            for i in range(Ho):
                for j in range(Wo):
                    o[i, j] = 0.0
            for a in range(w.shape[1]):
                for b in range(w.shape[2]):
                    wv = wc[a, b]
                    for i in range(Ho):
                        row, orow = plane[i * sh + a * dh], o[i]
                        for j in range(Wo):
                            orow[j] += wv * row[j * sw + b * dw]


@njit(inline="always", **_OPTS)
def _spread(g, tmp, Wp):
    """tmp = the plane g (Ho, Wo) laid on the padded width, zeros in the columns beyond Wo."""
    Ho, Wo = g.shape
    for i in range(Ho):
        row = tmp[i * Wp:]
        for j in range(Wp):
            row[j] = g[i, j] if j < Wo else 0.0


@njit(**_OPTS)
def input_grad(gy, w, gxpad, sh, sw, dh, dw):
    """gxpad[n, c] += the scatter of gy[n, c] through w[c]: the adjoint of ``forward`` (gxpad zeroed, padded)."""
    Ho, Wo = gy.shape[2], gy.shape[3]
    Wp = gxpad.shape[3]
    flat_ok = sh == 1 and sw == 1
    L = _span(Ho, Wo, Wp)
    tmp = np.empty(Ho * Wp, dtype=gy.dtype)
    for n in range(gy.shape[0]):
        for c in range(gy.shape[1]):
            g, wc, plane = gy[n, c], w[c], gxpad[n, c]
            if flat_ok:
                _spread(g, tmp, Wp)
                dst = plane.reshape(-1)
                for a in range(w.shape[1]):
                    for b in range(w.shape[2]):
                        wv = wc[a, b]
                        run = dst[a * dh * Wp + b * dw:]
                        for p in range(L):
                            run[p] += wv * tmp[p]
                continue
            for a in range(w.shape[1]):
                for b in range(w.shape[2]):
                    wv = wc[a, b]
                    for i in range(Ho):
                        grow, prow = g[i], plane[i * sh + a * dh]
                        for j in range(Wo):
                            prow[j * sw + b * dw] += wv * grow[j]


@njit(**_OPTS)
def weight_grad(gy, xpad, gw, sh, sw, dh, dw):
    """gw[c, a, b] = the sum over images and positions of gy[n, c, i, j] * xpad[n, c, i*sh + a*dh, j*sw + b*dw]."""
    Ho, Wo = gy.shape[2], gy.shape[3]
    Wp = xpad.shape[3]
    flat_ok = sh == 1 and sw == 1
    L = _span(Ho, Wo, Wp)
    tmp = np.empty(Ho * Wp, dtype=gy.dtype)
    for c in range(gy.shape[1]):
        for a in range(gw.shape[1]):
            for b in range(gw.shape[2]):
                gw[c, a, b] = 0.0
        for n in range(gy.shape[0]):
            g, plane = gy[n, c], xpad[n, c]
            if flat_ok:
                _spread(g, tmp, Wp)
                src = plane.reshape(-1)
                for a in range(gw.shape[1]):
                    for b in range(gw.shape[2]):
                        run = src[a * dh * Wp + b * dw:]
                        acc = 0.0  # float64 sums
                        for p in range(L):
                            acc += tmp[p] * run[p]
                        gw[c, a, b] += acc
                continue
            for a in range(gw.shape[1]):
                for b in range(gw.shape[2]):
                    acc = 0.0  # float64 sums
                    for i in range(Ho):
                        grow, row = g[i], plane[i * sh + a * dh]
                        for j in range(Wo):
                            acc += grow[j] * row[j * sw + b * dw]
                    gw[c, a, b] += acc
