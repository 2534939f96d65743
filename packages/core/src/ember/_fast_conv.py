"""The im2col copy of convolutions and its adjoint (col2im, for the input gradient) compiled by numba (the
optional ``fast`` extra; see ``_fast.py``).

NumPy copies each kernel offset's window as a strided block whose rows are a few dozen elements long,
paying a loop set-up per row; this loop moves the same elements in one pass (an MNIST-sized block of 96
planes 26x26 -> 3x3x24x24: 0.124 ms in NumPy, 0.060 ms here). Stride 2 is a loop of its own, whose constant
stride vectorises (ResNet's 3x3 s2 64->128 on 32x32, b32: im2col 4.1 -> 1.3 ms, the forward 12.5 -> 8.7 ms).
Imported only when numba is.
"""

from __future__ import annotations

from numba import njit, uint64


def _windows_kernel(adjoint):
    """The window loop below compiled for one direction: ``adjoint`` is a constant there. Tested at run time
    in the inner loops it cost 15-35% (the copies vectorised less well)."""

    @njit(nogil=True, cache=True, boundscheck=False)
    def _windows(x, cols, sh, sw, dh, dw):
        """:func:`windows` in one direction, plane by plane, so each plane stays in cache."""
        P, kh, kw, Ho, Wo = cols.shape
        Wp = x.shape[2]
        plane = x.shape[1] * Wp
        xf, cf = x.reshape(-1), cols.reshape(-1)
        d = 0
        for p in range(P):
            base = p * plane
            if adjoint:
                for q in range(uint64(plane)):
                    xf[uint64(base) + q] = 0
            for i in range(kh):
                for j in range(kw):
                    for oh in range(Ho):
                        s = base + (i * dh + oh * sh) * Wp + j * dw
                        # unsigned indices skip the negative-index wrap, so the contiguous runs vectorise, and a
                        # constant stride of 2 as an interleaved access
                        if sw == 1:
                            if adjoint:
                                for ow in range(uint64(Wo)):
                                    xf[uint64(s) + ow] += cf[uint64(d) + ow]
                            else:
                                for ow in range(uint64(Wo)):
                                    cf[uint64(d) + ow] = xf[uint64(s) + ow]
                        elif sw == 2:
                            if adjoint:
                                for ow in range(uint64(Wo)):
                                    xf[uint64(s) + uint64(2) * ow] += cf[uint64(d) + ow]
                            else:
                                for ow in range(uint64(Wo)):
                                    cf[uint64(d) + ow] = xf[uint64(s) + uint64(2) * ow]
                        elif adjoint:
                            for ow in range(Wo):
                                xf[s + ow * sw] += cf[d + ow]
                        else:
                            for ow in range(Wo):
                                cf[d + ow] = xf[s + ow * sw]
                        d += Wo

    return _windows


_WINDOWS = (_windows_kernel(False), _windows_kernel(True))


def windows(x, cols, sh, sw, dh, dw, adjoint):
    """Between planes ``x`` (P, Hp, Wp) and their windows ``cols`` (P, kh, kw, Ho, Wo), both C-contiguous:
    ``cols[p, i, j, oh, ow] = x[p, i * dh + oh * sh, j * dw + ow * sw]`` (``adjoint`` False), or ``x``
    zeroed and the windows added back into it (True)."""
    _WINDOWS[bool(adjoint)](x, cols, sh, sw, dh, dw)
