"""A compiled max-pool backward for non-overlapping windows (``MaxPool2d(k)``, ``MaxPool1d(k)``: stride =
kernel, no padding or dilation), the optional numba extra (see ``_fast.py``). NumPy needs one strided mask
pass and one strided write per window offset; this is one pass over the input."""

from __future__ import annotations

from numba import njit


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
