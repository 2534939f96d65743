"""The im2col copy of convolutions and its adjoint (col2im, for the input gradient) compiled by numba (the
optional ``fast`` extra; see ``_fast.py``).

NumPy copies each kernel offset's window as a strided block whose rows are a few dozen elements long,
paying a loop set-up per row; this loop moves the same elements in one pass (an MNIST-sized block of 96
planes 26x26 -> 3x3x24x24: 0.124 ms in NumPy, 0.060 ms here). Stride 2 is a loop of its own, whose constant
stride vectorises (ResNet's 3x3 s2 64->128 on 32x32, b32: im2col 4.1 -> 1.3 ms, the forward 12.5 -> 8.7 ms).
Imported only when numba is.
"""

from __future__ import annotations

from numba import njit, prange, uint64

from ._fast_rnn import sgemm_block
from ._fast_team import placed


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


# ---- whole-batch columns straight from NCHW (the "col" path of ops/conv.py) -----------------------------------


@njit(inline="always", nogil=True, boundscheck=False)
def _span(b0, j, dw, sw, W, Wo):
    """The outputs ow whose input column ow * sw + j * dw - b0 lies in [0, W): range(lo, hi)."""
    off = j * dw - b0
    lo = 0 if off >= 0 else (-off + sw - 1) // sw
    hi = 0 if W - off <= 0 else (W - off + sw - 1) // sw
    return min(lo, Wo), max(min(lo, Wo), min(hi, Wo)), off


def _cols_kernel(adjoint):
    """The loop below for one direction (``adjoint`` a constant there, as for ``_windows``)."""

    @njit(nogil=True, cache=True, boundscheck=False)
    def _cols(x, cols, sh, sw, dh, dw, a0, b0):
        """Plane by plane of x (N, C, H, W), each kept in cache while its kh x kw windows go to (or, adjoint,
        come back from) their rows of cols (kh, kw, C, N, Ho, Wo); positions in the zero padding are written
        as 0 (adjoint: skipped)."""
        N, C, H, W = x.shape
        kh, kw, Ho, Wo = cols.shape[0], cols.shape[1], cols.shape[4], cols.shape[5]
        for c in range(C):
            for n in range(N):
                src = x[n, c]
                if adjoint:
                    for r in range(H):
                        row = src[r]
                        for q in range(W):
                            row[q] = 0
                for i in range(kh):
                    for j in range(kw):
                        lo, hi, off = _span(b0, j, dw, sw, W, Wo)
                        dst = cols[i, j, c, n]
                        for oh in range(Ho):
                            r = oh * sh + i * dh - a0
                            d = dst[oh]
                            if r < 0 or r >= H:
                                if not adjoint:
                                    for ow in range(Wo):
                                        d[ow] = 0
                                continue
                            s = src[r]
                            if not adjoint:
                                for ow in range(lo):
                                    d[ow] = 0
                                for ow in range(hi, Wo):
                                    d[ow] = 0
                            base = uint64(lo * sw + off)
                            n_run = uint64(hi - lo)
                            if sw == 1:
                                if adjoint:
                                    for q in range(n_run):
                                        s[base + q] += d[uint64(lo) + q]
                                else:
                                    for q in range(n_run):
                                        d[uint64(lo) + q] = s[base + q]
                            elif sw == 2:
                                if adjoint:
                                    for q in range(n_run):
                                        s[base + uint64(2) * q] += d[uint64(lo) + q]
                                else:
                                    for q in range(n_run):
                                        d[uint64(lo) + q] = s[base + uint64(2) * q]
                            else:
                                for ow in range(lo, hi):
                                    if adjoint:
                                        s[ow * sw + off] += d[ow]
                                    else:
                                        d[ow] = s[ow * sw + off]

    return _cols


_COLS = (_cols_kernel(False), _cols_kernel(True))


def cols_nchw(x, cols, sh, sw, dh, dw, a0, b0, adjoint):
    """Between x (N, C, H, W) and its zero-padded (pads a0 before the rows, b0 before the columns) im2col columns
    cols (kh, kw, C, N, Ho, Wo), both C-contiguous: ``cols[i, j, c, n, oh, ow] = x[n, c, oh * sh + i * dh - a0,
    ow * sw + j * dw - b0]`` or 0 in the padding (``adjoint`` False), or x zeroed and the columns added back into
    it (True: col2im with the padding cropped)."""
    _COLS[bool(adjoint)](x, cols, sh, sw, dh, dw, a0, b0)


@njit(nogil=True, cache=True, boundscheck=False)
def rows_to_channels(src, bias, dst):
    """dst (b, O, L) = src (b, L, O) transposed, plus ``bias`` (O) per channel: a GEMM's positions-by-channels
    output moved into NCL layout, a tile of 16 positions at a time: each output row gets a 16-element run read
    down a column of the tile, which stays in L1 (16 images of 496 x 32: 0.120 -> 0.065 ms, against 0.213 for
    NumPy's strided add)."""
    b, L, O = src.shape
    for n in range(b):
        s, d = src[n], dst[n]
        j0 = 0
        while j0 + 16 <= L:
            for o in range(O):
                v = bias[o]
                dr = d[o]
                for jj in range(16):
                    dr[j0 + jj] = s[j0 + jj, o] + v
            j0 += 16
        for j in range(j0, L):
            for o in range(O):
                d[o, j] = s[j, o] + bias[o]


@njit(nogil=True, cache=True, boundscheck=False)
def windows_1d(x, n0, stride, dilation, cols):
    """cols (b, Wo, C, k) = the windows of sequences n0:n0 + b of x (N, C, W), both C-contiguous: row (n, t, c)
    is x[n0 + n, c, t*stride + q*dilation] over the k taps q. Unsigned offsets let the copy of each row
    vectorise (3 images of M5's input, 496 windows of 80 samples: 0.0125 ms in NumPy's strided copy, 0.0044
    here)."""
    b, Wo, C, k = cols.shape
    W = x.shape[2]
    xf, cf = x.reshape(-1), cols.reshape(-1)
    uk, us, ud = uint64(k), uint64(stride), uint64(dilation)
    for n in range(b):
        for t in range(Wo):
            for c in range(C):
                src = uint64(((n0 + n) * C + c) * W) + uint64(t) * us
                dst = uint64(((n * Wo + t) * C + c) * k)
                if ud == 1:
                    for q in range(uk):
                        cf[dst + q] = xf[src + q]
                else:
                    for q in range(uk):
                        cf[dst + q] = xf[src + q * ud]


@njit(nogil=True, cache=True, boundscheck=False)
def win_forward(x, n0, n1, stride, dilation, wmt, bias, y, cols, out, gemm, ints, scal, small):
    """The "win" forward of sequences n0:n1 in one call without the GIL (a thread's share): per block of
    b = cols.shape[0] sequences, their windows copied into ``cols`` (b, Wo, C, k) (``windows_1d``), one BLAS sgemm
    cols (b*Wo, C*k) @ ``wmt`` (C*k, O) into ``out`` (b*Wo, O) (``gemm``: Fortran sgemm taking addresses, its
    integers of BLAS's type in ``ints`` (4), ``scal`` = (1, 0) float32; in column blocks of under ``small`` products,
    ``_fast_rnn.sgemm_block``: M5's conv1, 16 images on one thread, 465 -> 385 us), then moved with the bias into
    y (N, O, Wo) (``rows_to_channels``). The NumPy calls in between took the GIL back and forth with the other
    thread's."""
    nb, Wo, C, k = cols.shape
    O = wmt.shape[1]
    K = C * k
    ints[1] = O
    ints[3] = K
    p_t, p_m, p_k = ints.ctypes.data, ints[1:].ctypes.data, ints[3:].ctypes.data
    p_one, p_zero = scal.ctypes.data, scal[1:].ctypes.data
    colf, outf = cols.reshape(-1), out.reshape(-1)
    for a in range(n0, n1, nb):
        b = min(nb, n1 - a)
        windows_1d(x, a, stride, dilation, cols[:b])
        n = b * Wo
        block = sgemm_block(small, n, O * K)
        for c0 in range(0, n, block):
            ints[2] = min(block, n - c0)
            # column-major: out^T[:, c0:] (O, n) = wmt^T (O, K) @ cols^T[:, c0:] (K, n)
            gemm(p_t, p_t, p_m, ints[2:].ctypes.data, p_k, p_one, wmt.ctypes.data, p_m, colf[c0 * K:].ctypes.data, p_k,
                 p_zero, outf[c0 * O:].ctypes.data, p_m, 1, 1)
        rows_to_channels(out[:n].reshape(b, Wo, O), bias, y[a:a + b])


@njit(parallel=True, nogil=True, cache=True, boundscheck=False)
def win_forward_team(x, bounds, stride, dilation, wmt, bias, y, cols, out, gemm, ints, scal, small, place):
    """``win_forward`` on the team of threads (``_fast_team``): thread p takes sequences bounds[p]:bounds[p + 1] with
    its own buffers cols[p], out[p] and ints[p]."""
    for p in prange(bounds.shape[0] - 1):
        placed(place)
        win_forward(x, bounds[p], bounds[p + 1], stride, dilation, wmt, bias, y, cols[p], out[p], gemm, ints[p], scal,
                    small)


@njit(nogil=True, cache=True, boundscheck=False)
def win_weight_grad(x, n0, n1, stride, dilation, gy, acc, cols, gemm, ints, scal, small):
    """The "win" weight gradient of sequences n0:n1 in one call without the GIL (a thread's share): ``acc``
    (O, C*k) = the sum over them of gy[n] (O, Wo) @ columns (Wo, C*k), the columns copied per block of
    b = cols.shape[0] sequences into ``cols`` (b, Wo, C, k) (``windows_1d``), BLAS sgemms per sequence accumulating
    into ``acc`` (``gemm``, ``ints`` (8), ``scal`` = (1, 0) and ``small`` as in ``win_forward``; here the blocks
    are of positions). gy (N, O, Wo) C-contiguous."""
    nb, Wo, C, k = cols.shape
    O = acc.shape[0]
    K = C * k
    ints[1] = K
    ints[2] = O
    ints[3] = Wo
    p_t, p_K, p_O, p_W, p_k = (ints.ctypes.data, ints[1:].ctypes.data, ints[2:].ctypes.data, ints[3:].ctypes.data,
                               ints[4:].ctypes.data)
    p_one, p_zero = scal.ctypes.data, scal[1:].ctypes.data
    block = sgemm_block(small, Wo, K * O)
    first = True
    for a in range(n0, n1, nb):
        b = min(nb, n1 - a)
        windows_1d(x, a, stride, dilation, cols[:b])
        for j in range(b):
            cf, gf = cols[j].reshape(-1), gy[a + j].reshape(-1)
            for t0 in range(0, Wo, block):
                ints[4] = min(block, Wo - t0)
                # column-major: acc^T (K, O) (+)= cols[j]^T[:, t0:] (K, w) @ gy[a + j]^T[t0:] (w, O)
                gemm(p_t, p_t, p_K, p_O, p_k, p_one, cf[t0 * K:].ctypes.data, p_K, gf[t0:].ctypes.data, p_W,
                     p_zero if first else p_one, acc.ctypes.data, p_K, 1, 1)
                first = False


@njit(nogil=True, cache=True, boundscheck=False)
def taps_forward(x, taps, bias, y, dilation, gemm, ints, scal):
    """A stride-1 1-D convolution's forward in one call without the GIL: per sequence, y[n] (O, Wo) = bias +
    sum over the taps j of taps[j] (O, C) @ x[n, :, j*dilation:j*dilation + Wo], one accumulating BLAS sgemm per tap
    on the input as it lies (x (N, C, W) C-contiguous: the tap's columns are its rows, W apart), straight into the
    output (N, O, Wo). NumPy's batched GEMMs cannot accumulate: a temporary and a pass over the output per tap, then
    one for the bias (M5's conv2, b32, 32 ch at L 124: 0.40 -> 0.27 ms). ``gemm``, ``ints`` (8), ``scal`` = (1, 0)
    as in ``win_forward``."""
    N, C, W = x.shape
    kw, O = taps.shape[0], taps.shape[1]
    Wo = y.shape[2]
    ints[1] = Wo
    ints[2] = O
    ints[3] = C
    ints[4] = W
    p_n, p_wo, p_o, p_c, p_w = (ints.ctypes.data, ints[1:].ctypes.data, ints[2:].ctypes.data, ints[3:].ctypes.data,
                                ints[4:].ctypes.data)
    p_one = scal.ctypes.data
    for n in range(N):
        yn, xn = y[n], x[n].reshape(-1)
        for o in range(O):
            v = bias[o]
            for t in range(Wo):
                yn[o, t] = v
        for j in range(kw):
            # column-major: y[n]^T (Wo, O) += x[n, :, j*d:]^T (Wo, C; columns W apart) @ taps[j]^T (C, O)
            gemm(p_n, p_n, p_wo, p_o, p_c, p_one, xn[j * dilation:].ctypes.data, p_w, taps[j].ctypes.data, p_c, p_one,
                 yn.ctypes.data, p_wo, 1, 1)


@njit(parallel=True, nogil=True, cache=True, boundscheck=False)
def taps_forward_team(x, taps, bias, y, dilation, gemm, ints, scal, bounds, place):
    """``taps_forward`` on the team of threads (``_fast_team``): thread p takes sequences bounds[p]:bounds[p + 1],
    with its own integers' buffer ints[p]."""
    for p in prange(bounds.shape[0] - 1):
        placed(place)
        n0, n1 = bounds[p], bounds[p + 1]
        taps_forward(x[n0:n1], taps, bias, y[n0:n1], dilation, gemm, ints[p], scal)
