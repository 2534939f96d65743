"""Fused float32 optimizer updates compiled by numba (the optional ``fast`` extra; see ``_fast.py``).

One pass over a parameter, its gradient and its state instead of NumPy's four or more ufunc passes. No
fast-math: each element's arithmetic is the NumPy path's, operation for operation (same rounding).
"""

from __future__ import annotations

from numba import njit


@njit(nogil=True, cache=True, error_model="numpy", boundscheck=False)
def sgd(p, g, buf, lr, momentum, damp, wd, nesterov, maximize, first, has_buf):
    """PyTorch's SGD on flat arrays: ``buf = momentum * buf + damp * g`` (``buf = g`` on the first step),
    ``p -= lr * (g + momentum * buf if nesterov else buf)``; ``buf`` is unused without momentum."""
    neg_lr = -lr
    for j in range(p.shape[0]):
        gj = g[j]
        if maximize:
            gj = -gj
        if wd != 0:
            gj = gj + p[j] * wd
        if has_buf:
            if first:
                b = gj
            elif damp == 1:
                b = buf[j] * momentum + gj
            else:
                b = buf[j] * momentum + gj * damp
            buf[j] = b
            gj = gj + b * momentum if nesterov else b
        p[j] = p[j] + gj * neg_lr
