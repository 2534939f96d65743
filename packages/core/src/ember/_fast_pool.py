"""A compiled max-pool forward and backward for non-overlapping windows (``MaxPool2d(k)``, ``MaxPool1d(k)``:
stride = kernel, no padding or dilation), the optional numba extra (see ``_fast.py``). NumPy needs one
strided pass per window offset (and a mask pass in the backward); these are one pass over the input."""

from __future__ import annotations

from numba import njit, uint64


@njit(inline="always", nogil=True, boundscheck=False)
def _nanmax(m, v):
    return v if (v > m) | (v != v) else m


@njit(inline="always", nogil=True, boundscheck=False)
def _row_max(orow, xr, kw, Wo, start):
    """orow[ow] = the maximum of xr[ow * kw:(ow + 1) * kw] (``start``: the first row of the windows, so
    orow is not read yet), NaN winning. All of a window's elements are read in one iteration with a literal
    stride for the common widths: the loads then vectorise as an interleaved group (a runtime stride, or one
    pass per offset, ran no faster than NumPy's strided passes)."""
    if kw == 2:
        for ow in range(uint64(Wo)):
            i = uint64(2) * ow
            m = _nanmax(xr[i], xr[i + uint64(1)])
            orow[ow] = m if start else _nanmax(orow[ow], m)
    elif kw == 4:
        for ow in range(uint64(Wo)):
            i = uint64(4) * ow
            m = _nanmax(_nanmax(_nanmax(xr[i], xr[i + uint64(1)]), xr[i + uint64(2)]), xr[i + uint64(3)])
            orow[ow] = m if start else _nanmax(orow[ow], m)
    else:
        for ow in range(uint64(Wo)):
            i = uint64(kw) * ow
            m = xr[i]
            for b in range(uint64(1), uint64(kw)):
                m = _nanmax(m, xr[i + b])
            orow[ow] = m if start else _nanmax(orow[ow], m)


@njit(nogil=True, cache=True, boundscheck=False)
def maxpool_fwd(x, out, kh, kw):
    """out (P, Ho, Wo) = the maximum of each kh x kw window of x (P, H, W), a NaN in a window winning (as
    PyTorch's ``val > max || isnan(val)``: among equal values the first in scan order is kept)."""
    P = x.shape[0]
    Ho, Wo = out.shape[1], out.shape[2]
    for p in range(P):
        xp, op = x[p], out[p]
        for oh in range(Ho):
            orow = op[oh]
            for a in range(kh):
                _row_max(orow, xp[oh * kh + a], kw, Wo, a == 0)


@njit(inline="always", nogil=True, boundscheck=False)
def _put_2x2(x0, x1, i0, i1, j0, j1, o, gv, zero):
    """A 2x2 window (x0[j0:j0 + 2] over x1[j1:j1 + 2]; its gradient at the same places of i0, i1): ``gv`` on its
    first element in scan order equal to its maximum ``o``, 0 on the others. Masks without a loop over the
    window, so that the rows' loops vectorise."""
    one = uint64(1)
    h00 = x0[j0] == o
    h01 = (x0[j0 + one] == o) & (not h00)
    t = h00 | h01
    h10 = (x1[j1] == o) & (not t)
    h11 = not (t | h10)  # without NaN the maximum is the last element when it is none of the first three
    i0[j0] = gv if h00 else zero
    i0[j0 + one] = gv if h01 else zero
    i1[j1] = gv if h10 else zero
    i1[j1 + one] = gv if h11 else zero


@njit(inline="always", nogil=True, boundscheck=False)
def _bwd_2x2(x0, x1, orow, grow, i0, i1, Wo):
    """One row of 2x2 windows (rows x0, x1 of the input, i0, i1 of its gradient), vectorised (64 planes of 32x32,
    b32: 3.1 -> 2.0 ms)."""
    zero = i0.dtype.type(0)
    for ow in range(uint64(Wo)):
        j = uint64(2) * ow
        _put_2x2(x0, x1, i0, i1, j, j, orow[ow], grow[ow], zero)


@njit(inline="always", nogil=True, boundscheck=False)
def _bwd_1x4(x0, orow, grow, i0, Wo):
    """One row of 1x4 windows (MaxPool1d(4)), as ``_bwd_2x2`` (1024 rows of 496: 0.77 -> 0.34 ms)."""
    zero = i0.dtype.type(0)
    for ow in range(uint64(Wo)):  # unsigned offsets throughout, as in _bwd_2x2
        j = uint64(4) * ow
        o, gv = orow[ow], grow[ow]
        h0 = x0[j] == o
        h1 = (x0[j + uint64(1)] == o) & (not h0)
        t = h0 | h1
        h2 = (x0[j + uint64(2)] == o) & (not t)
        h3 = not (t | h2)
        i0[j] = gv if h0 else zero
        i0[j + uint64(1)] = gv if h1 else zero
        i0[j + uint64(2)] = gv if h2 else zero
        i0[j + uint64(3)] = gv if h3 else zero


@njit(nogil=True, cache=True, boundscheck=False)
def maxpool_bwd(x, out, gout, gin, kh, kw):
    """gin (P, H, W) = the gradient of each (P, Ho, Wo) output on the first offset (in row-major scan order)
    of its kh x kw window holding the maximum (PyTorch's winner; windows with NaN are not handled here), 0
    elsewhere, also past Ho * kh rows and Wo * kw columns."""
    P, H, W = x.shape
    Ho, Wo = out.shape[1], out.shape[2]
    for p in range(P):
        xp, op, gp, ip = x[p], out[p], gout[p], gin[p]
        for oh in range(Ho):
            if kh == 2 and kw == 2:
                _bwd_2x2(xp[2 * oh], xp[2 * oh + 1], op[oh], gp[oh], ip[2 * oh], ip[2 * oh + 1], Wo)
            elif kh == 1 and kw == 4:
                _bwd_1x4(xp[oh], op[oh], gp[oh], ip[oh], Wo)
            else:
                for ow in range(Wo):
                    o = op[oh, ow]
                    gv = gp[oh, ow]
                    found = False
                    for a in range(kh):
                        xr, ir = xp[oh * kh + a], ip[oh * kh + a]
                        base = ow * kw
                        for b in range(kw):  # branch-free: the first offset equal to the maximum takes the gradient
                            hit = (xr[base + b] == o) & (not found)
                            ir[base + b] = gv if hit else 0
                            found = found | hit
            for a in range(kh):
                ir = ip[oh * kh + a]
                for i in range(Wo * kw, W):
                    ir[i] = 0
        for r in range(Ho * kh, H):
            ir = ip[r]
            for i in range(W):
                ir[i] = 0


@njit(nogil=True, cache=True, boundscheck=False)
def maxpool2x2_rows_fwd(x, out):
    """``maxpool_fwd`` with 2x2 windows that tile the planes exactly, on window rows: x (R, 2 W) holds the two
    input rows of each of the R = planes x Ho output rows out (R, Wo), W = 2 Wo. One loop over all rows, no
    per-plane or per-row views: with small planes (512 ch at 2x2, b32) those cost 20x the arithmetic."""
    R, Wo = out.shape
    W = uint64(2 * Wo)
    for r in range(R):
        xr, orow = x[r], out[r]
        for ow in range(uint64(Wo)):
            j = uint64(2) * ow
            orow[ow] = _nanmax(_nanmax(_nanmax(xr[j], xr[j + uint64(1)]), xr[W + j]), xr[W + j + uint64(1)])


@njit(nogil=True, cache=True, boundscheck=False)
def maxpool2x2_rows_bwd(x, out, gout, gin):
    """``maxpool_bwd`` on the window rows of ``maxpool2x2_rows_fwd`` (gin laid out as x)."""
    R, Wo = out.shape
    W = uint64(2 * Wo)
    zero = gin.dtype.type(0)
    for r in range(R):
        xr, orow, grow, ir = x[r], out[r], gout[r], gin[r]
        for ow in range(uint64(Wo)):
            j = uint64(2) * ow
            _put_2x2(xr, xr, ir, ir, j, W + j, orow[ow], grow[ow], zero)
