"""A compiled max-pool backward for rows of non-overlapping 1-D windows (``MaxPool1d(k)``, stride k, no
padding: M5-style audio nets), the optional numba extra (see ``_fast.py``). NumPy needs k strided mask
passes with k strided writes; this is one pass over the input."""

from __future__ import annotations

from numba import njit


@njit(nogil=True, cache=True, boundscheck=False)
def maxpool_rows_bwd(x, out, gout, gin, k):
    """gin (R, W) = the gradient of each (R, Wo) output on the first offset of its window holding the
    maximum (PyTorch's winner; windows with NaN are not handled here), 0 elsewhere and past Wo * k."""
    R, W = x.shape
    Wo = out.shape[1]
    for r in range(R):
        xr, orow, grow, gr = x[r], out[r], gout[r], gin[r]
        for j in range(Wo):
            base = j * k
            o = orow[j]
            gv = grow[j]
            found = False
            for t in range(k):  # branch-free: the first offset equal to the maximum takes the gradient
                hit = (xr[base + t] == o) & (not found)
                gr[base + t] = gv if hit else 0
                found = found | hit
        for i in range(Wo * k, W):
            gr[i] = 0
