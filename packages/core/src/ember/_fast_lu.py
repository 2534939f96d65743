"""LU factorisation and solves of small matrices compiled by numba (the optional ``fast`` extra; see
``_fast.py``), in LAPACK's own storage: the same results as ``getrf``/``getrs`` on the column-major
reading of C-contiguous matrices that ``ops/_lapack_native`` uses, so either may factorise and either may
solve. OpenBLAS's getrf costs ~20 us on a 64x64 matrix whatever the thread count (buffer set-up around a
few hundred flops per column); this loop keeps the matrix in cache and runs ~3x faster there.

Storage: matrix ``R`` (row-major, as given) holds ``M = R^T`` column-major, and ``M`` is what is
factorised: ``M = P L U``, row swaps recorded as LAPACK's 1-based pivots. Every inner loop runs along a
row of ``R`` (a column of ``M``), contiguous in memory.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_OPTS = dict(nogil=True, cache=True, fastmath={"contract"}, error_model="numpy", boundscheck=False)
# the substitutions' dot products vectorise only when their sums may be reassociated (as BLAS sums them)
_SOLVE_OPTS = dict(_OPTS, fastmath={"contract", "reassoc"})


@njit(inline="always", **_OPTS)
def _small_triangle(v, k, r0, r1, r2):
    """Rows k..k+3 of column ``v`` of M take the updates of columns k..k+2 (the 4x4 unit lower triangle
    of L at k); returns the four multipliers of columns k..k+3 for the rows below."""
    c0 = v[k]
    v[k + 1] -= c0 * r0[k + 1]
    c1 = v[k + 1]
    v[k + 2] -= c0 * r0[k + 2] + c1 * r1[k + 2]
    c2 = v[k + 2]
    v[k + 3] -= c0 * r0[k + 3] + c1 * r1[k + 3] + c2 * r2[k + 3]
    return c0, c1, c2, v[k + 3]


@njit(inline="always", **_OPTS)
def _pivot(r, v, j, pivots):
    """Column ``v`` (column j of M, updated): LAPACK's pivot (the first largest magnitude from row j),
    the row swap over all of M and the scaling of the multipliers below (by the reciprocal, as LAPACK
    does where it cannot overflow). False for an exactly zero pivot."""
    n = v.shape[0]
    p = j
    best = abs(v[j])
    for i in range(j + 1, n):
        x = abs(v[i])
        if x > best:
            best, p = x, i
    pivots[j] = p + 1
    pivot = v[p]
    if pivot == 0:
        return False
    if p != j:
        for q in range(n):  # swap rows j and p of M: elements j and p of every row of R
            row = r[q]
            row[j], row[p] = row[p], row[j]
    below = v[j + 1:]
    if best >= np.finfo(v.dtype).tiny:
        inverse = 1 / pivot
        for i in range(below.shape[0]):
            below[i] *= inverse
    else:
        for i in range(below.shape[0]):
            below[i] /= pivot
    return True


@njit(**_OPTS)
def getrf(src, a, piv, info, copy):
    """Partial-pivoting LU of each ``src[b]`` (n, n) read column-major, into ``a[b]`` (``copy`` False: in
    place, ``src`` unused; a copy made here, matrix by matrix, is still in cache when factorised); ``piv[b]``
    1-based pivots, ``info[b]`` 0 or the 1-based index of the first exactly zero pivot (the factorisation
    goes on, as LAPACK's does). Left-looking, four columns of M (rows of R, in cache) at a time: they take
    the updates of the finished columns before them four by four (sixteen multiply-adds per element loaded
    and stored), then are finished one by one (pivot, swap, scale)."""
    nb, n = a.shape[0], a.shape[1]
    top = n - n % 4
    for b in range(nb):
        r = a[b]
        if copy:
            r[:, :] = src[b]
        info[b] = 0
        for j0 in range(0, n, 4):
            if j0 < top:
                u0, u1, u2, u3 = r[j0], r[j0 + 1], r[j0 + 2], r[j0 + 3]
                for k in range(0, j0, 4):
                    r0, r1, r2, r3 = r[k], r[k + 1], r[k + 2], r[k + 3]
                    a0, a1, a2, a3 = _small_triangle(u0, k, r0, r1, r2)
                    b0, b1, b2, b3 = _small_triangle(u1, k, r0, r1, r2)
                    c0, c1, c2, c3 = _small_triangle(u2, k, r0, r1, r2)
                    d0, d1, d2, d3 = _small_triangle(u3, k, r0, r1, r2)
                    # slices from 0: indices provably non-negative, so the compiler vectorises the loop
                    t0, t1, t2, t3 = u0[k + 4:], u1[k + 4:], u2[k + 4:], u3[k + 4:]
                    s0, s1, s2, s3 = r0[k + 4:], r1[k + 4:], r2[k + 4:], r3[k + 4:]
                    for i in range(t0.shape[0]):
                        x0, x1, x2, x3 = s0[i], s1[i], s2[i], s3[i]
                        t0[i] -= a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3
                        t1[i] -= b0 * x0 + b1 * x1 + b2 * x2 + b3 * x3
                        t2[i] -= c0 * x0 + c1 * x1 + c2 * x2 + c3 * x3
                        t3[i] -= d0 * x0 + d1 * x1 + d2 * x2 + d3 * x3
                last = j0 + 4
            else:  # the last n % 4 columns, each on its own
                last = n
                for j in range(top, n):
                    v = r[j]
                    for k in range(0, top, 4):
                        r0, r1, r2, r3 = r[k], r[k + 1], r[k + 2], r[k + 3]
                        c0, c1, c2, c3 = _small_triangle(v, k, r0, r1, r2)
                        t, s0, s1, s2, s3 = v[k + 4:], r0[k + 4:], r1[k + 4:], r2[k + 4:], r3[k + 4:]
                        for i in range(t.shape[0]):
                            t[i] -= c0 * s0[i] + c1 * s1[i] + c2 * s2[i] + c3 * s3[i]
            for j in range(j0, last):  # within the group: the updates of its own finished columns
                v = r[j]
                for k in range(j0, j):
                    c0 = v[k]
                    t, s0 = v[k + 1:], r[k][k + 1:]
                    for i in range(t.shape[0]):
                        t[i] -= c0 * s0[i]
                if not _pivot(r, v, j, piv[b]) and info[b] == 0:
                    info[b] = j + 1


@njit(inline="always", **_SOLVE_OPTS)
def _store4(row, x0, x1, x2, x3):
    row[0], row[1], row[2], row[3] = x0, x1, x2, x3


@njit(inline="always", **_SOLVE_OPTS)
def _swap4(y, i, p):
    """LAPACK's row interchange of rows i and p of the four right-hand sides ``y`` (n, 4)."""
    if p != i:
        for c in range(4):
            y[i, c], y[p, c] = y[p, c], y[i, c]


@njit(inline="always", **_SOLVE_OPTS)
def _rows4_minus_dots(r, y, i0, j0, j1):
    """Rows i0..i0+3 of ``y`` (n, 4) minus their dot products with rows j0..j1-1 of ``y`` through
    ``r[i0 + q, j0:j1]``: sixteen values (row by row), each element of y loaded serving sixteen multiply-adds."""
    ra, rb, rc, rd = r[i0], r[i0 + 1], r[i0 + 2], r[i0 + 3]
    ya, yb, yc, yd = y[i0], y[i0 + 1], y[i0 + 2], y[i0 + 3]
    a0, a1, a2, a3 = ya[0], ya[1], ya[2], ya[3]
    b0, b1, b2, b3 = yb[0], yb[1], yb[2], yb[3]
    c0, c1, c2, c3 = yc[0], yc[1], yc[2], yc[3]
    d0, d1, d2, d3 = yd[0], yd[1], yd[2], yd[3]
    for j in range(j0, j1):
        w = y[j]
        w0, w1, w2, w3 = w[0], w[1], w[2], w[3]
        f = ra[j]
        a0, a1, a2, a3 = a0 - f * w0, a1 - f * w1, a2 - f * w2, a3 - f * w3
        f = rb[j]
        b0, b1, b2, b3 = b0 - f * w0, b1 - f * w1, b2 - f * w2, b3 - f * w3
        f = rc[j]
        c0, c1, c2, c3 = c0 - f * w0, c1 - f * w1, c2 - f * w2, c3 - f * w3
        f = rd[j]
        d0, d1, d2, d3 = d0 - f * w0, d1 - f * w1, d2 - f * w2, d3 - f * w3
    return a0, a1, a2, a3, b0, b1, b2, b3, c0, c1, c2, c3, d0, d1, d2, d3


@njit(inline="always", **_SOLVE_OPTS)
def _row_minus_dots(r, y, i, j0, j1):
    """Row i of ``y`` (n, 4) minus its dot products with rows j0..j1-1 of ``y`` through ``r[i, j0:j1]``."""
    ra, ya = r[i], y[i]
    a0, a1, a2, a3 = ya[0], ya[1], ya[2], ya[3]
    for j in range(j0, j1):
        w = y[j]
        f = ra[j]
        a0, a1, a2, a3 = a0 - f * w[0], a1 - f * w[1], a2 - f * w[2], a3 - f * w[3]
    return a0, a1, a2, a3


@njit(inline="always", **_SOLVE_OPTS)
def _solve_a4(r, pv, y):
    """``A x = y`` in place for four right-hand sides ``y`` (n, 4), ``A = M^T``, ``M = P L U`` in ``r``:
    U^T w = y (row i of R holds column i of U), L^T z = w, then y = P z. Dot-product form, four rows at a
    time: each element of y loaded serves sixteen multiply-adds kept in registers."""
    n = r.shape[0]
    top = n - n % 4
    # U^T w = y (lower triangular, row i of r: U^T's row i)
    for i0 in range(0, top, 4):
        ra, rb, rc, rd = r[i0], r[i0 + 1], r[i0 + 2], r[i0 + 3]
        ya, yb, yc, yd = y[i0], y[i0 + 1], y[i0 + 2], y[i0 + 3]
        a0, a1, a2, a3, b0, b1, b2, b3, c0, c1, c2, c3, d0, d1, d2, d3 = _rows4_minus_dots(r, y, i0, 0, i0)
        f = ra[i0]
        a0, a1, a2, a3 = a0 / f, a1 / f, a2 / f, a3 / f
        f = rb[i0]
        b0, b1, b2, b3 = b0 - f * a0, b1 - f * a1, b2 - f * a2, b3 - f * a3
        f = rb[i0 + 1]
        b0, b1, b2, b3 = b0 / f, b1 / f, b2 / f, b3 / f
        f, g = rc[i0], rc[i0 + 1]
        c0, c1, c2, c3 = c0 - (f * a0 + g * b0), c1 - (f * a1 + g * b1), c2 - (f * a2 + g * b2), c3 - (f * a3 + g * b3)
        f = rc[i0 + 2]
        c0, c1, c2, c3 = c0 / f, c1 / f, c2 / f, c3 / f
        f, g, h = rd[i0], rd[i0 + 1], rd[i0 + 2]
        d0, d1 = d0 - (f * a0 + g * b0 + h * c0), d1 - (f * a1 + g * b1 + h * c1)
        d2, d3 = d2 - (f * a2 + g * b2 + h * c2), d3 - (f * a3 + g * b3 + h * c3)
        f = rd[i0 + 3]
        d0, d1, d2, d3 = d0 / f, d1 / f, d2 / f, d3 / f
        _store4(ya, a0, a1, a2, a3)
        _store4(yb, b0, b1, b2, b3)
        _store4(yc, c0, c1, c2, c3)
        _store4(yd, d0, d1, d2, d3)
    for i in range(top, n):
        a0, a1, a2, a3 = _row_minus_dots(r, y, i, 0, i)
        f = r[i, i]
        _store4(y[i], a0 / f, a1 / f, a2 / f, a3 / f)
    # L^T z = w (unit upper triangular, row i of r beyond the diagonal: L^T's row i), from the bottom
    for i in range(n - 1, n - 1 - n % 4, -1):
        a0, a1, a2, a3 = _row_minus_dots(r, y, i, i + 1, n)
        _store4(y[i], a0, a1, a2, a3)
    for i0 in range(top - 4, -1, -4):
        ra, rb, rc, rd = r[i0], r[i0 + 1], r[i0 + 2], r[i0 + 3]
        ya, yb, yc, yd = y[i0], y[i0 + 1], y[i0 + 2], y[i0 + 3]
        a0, a1, a2, a3, b0, b1, b2, b3, c0, c1, c2, c3, d0, d1, d2, d3 = _rows4_minus_dots(r, y, i0, i0 + 4, n)
        f = rc[i0 + 3]
        c0, c1, c2, c3 = c0 - f * d0, c1 - f * d1, c2 - f * d2, c3 - f * d3
        f, g = rb[i0 + 2], rb[i0 + 3]
        b0, b1, b2, b3 = b0 - (f * c0 + g * d0), b1 - (f * c1 + g * d1), b2 - (f * c2 + g * d2), b3 - (f * c3 + g * d3)
        f, g, h = ra[i0 + 1], ra[i0 + 2], ra[i0 + 3]
        a0, a1 = a0 - (f * b0 + g * c0 + h * d0), a1 - (f * b1 + g * c1 + h * d1)
        a2, a3 = a2 - (f * b2 + g * c2 + h * d2), a3 - (f * b3 + g * c3 + h * d3)
        _store4(ya, a0, a1, a2, a3)
        _store4(yb, b0, b1, b2, b3)
        _store4(yc, c0, c1, c2, c3)
        _store4(yd, d0, d1, d2, d3)
    for i in range(n - 1, -1, -1):
        _swap4(y, i, pv[i] - 1)


@njit(inline="always", **_SOLVE_OPTS)
def _rows_minus_cols4(y, r, j0, i0, i1, a0, a1, a2, a3, b0, b1, b2, b3, c0, c1, c2, c3, d0, d1, d2, d3):
    """Rows i0..i1-1 of ``y`` (n, 4) minus columns j0..j0+3 of the triangle (rows j0..j0+3 of ``r``) times
    the four solved rows (a, b, c, d): one load and store of y per sixteen multiply-adds."""
    ra, rb, rc, rd = r[j0], r[j0 + 1], r[j0 + 2], r[j0 + 3]
    for i in range(i0, i1):
        w = y[i]
        e, f, g, h = ra[i], rb[i], rc[i], rd[i]
        w[0] -= e * a0 + f * b0 + g * c0 + h * d0
        w[1] -= e * a1 + f * b1 + g * c1 + h * d1
        w[2] -= e * a2 + f * b2 + g * c2 + h * d2
        w[3] -= e * a3 + f * b3 + g * c3 + h * d3


@njit(inline="always", **_SOLVE_OPTS)
def _rows_minus_col(y, ra, i0, i1, a0, a1, a2, a3):
    """Rows i0..i1-1 of ``y`` (n, 4) minus ``ra[i]`` times the solved row (a0..a3)."""
    for i in range(i0, i1):
        w, f = y[i], ra[i]
        w[0] -= f * a0
        w[1] -= f * a1
        w[2] -= f * a2
        w[3] -= f * a3


@njit(inline="always", **_SOLVE_OPTS)
def _solve_m4(r, pv, y):
    """``M x = y`` (``A^T x = y``) in place for y (n, 4): y = P^T y, L z = y (column j of L: row j of R),
    U x = z, four columns at a time (axpy form: row j of R is contiguous)."""
    n = r.shape[0]
    top = n - n % 4
    for i in range(n):
        _swap4(y, i, pv[i] - 1)
    for j0 in range(0, top, 4):
        ra, rb, rc, rd = r[j0], r[j0 + 1], r[j0 + 2], r[j0 + 3]
        ya, yb, yc, yd = y[j0], y[j0 + 1], y[j0 + 2], y[j0 + 3]
        a0, a1, a2, a3 = ya[0], ya[1], ya[2], ya[3]
        f = ra[j0 + 1]
        b0, b1, b2, b3 = yb[0] - f * a0, yb[1] - f * a1, yb[2] - f * a2, yb[3] - f * a3
        f, g = ra[j0 + 2], rb[j0 + 2]
        c0, c1, c2, c3 = yc[0] - (f * a0 + g * b0), yc[1] - (f * a1 + g * b1), yc[2] - (f * a2 + g * b2), \
            yc[3] - (f * a3 + g * b3)
        f, g, h = ra[j0 + 3], rb[j0 + 3], rc[j0 + 3]
        d0, d1 = yd[0] - (f * a0 + g * b0 + h * c0), yd[1] - (f * a1 + g * b1 + h * c1)
        d2, d3 = yd[2] - (f * a2 + g * b2 + h * c2), yd[3] - (f * a3 + g * b3 + h * c3)
        _store4(yb, b0, b1, b2, b3)
        _store4(yc, c0, c1, c2, c3)
        _store4(yd, d0, d1, d2, d3)
        _rows_minus_cols4(y, r, j0, j0 + 4, n, a0, a1, a2, a3, b0, b1, b2, b3, c0, c1, c2, c3, d0, d1, d2, d3)
    for j in range(top, n):
        ya = y[j]
        _rows_minus_col(y, r[j], j + 1, n, ya[0], ya[1], ya[2], ya[3])
    for j in range(n - 1, top - 1, -1):
        ya, f = y[j], r[j, j]
        a0, a1, a2, a3 = ya[0] / f, ya[1] / f, ya[2] / f, ya[3] / f
        _store4(ya, a0, a1, a2, a3)
        _rows_minus_col(y, r[j], 0, j, a0, a1, a2, a3)
    for j0 in range(top - 4, -1, -4):
        ra, rb, rc, rd = r[j0], r[j0 + 1], r[j0 + 2], r[j0 + 3]
        ya, yb, yc, yd = y[j0], y[j0 + 1], y[j0 + 2], y[j0 + 3]
        f = rd[j0 + 3]
        d0, d1, d2, d3 = yd[0] / f, yd[1] / f, yd[2] / f, yd[3] / f
        f, g = rd[j0 + 2], rc[j0 + 2]
        c0, c1, c2, c3 = (yc[0] - f * d0) / g, (yc[1] - f * d1) / g, (yc[2] - f * d2) / g, (yc[3] - f * d3) / g
        f, g, h = rd[j0 + 1], rc[j0 + 1], rb[j0 + 1]
        b0, b1 = (yb[0] - (f * d0 + g * c0)) / h, (yb[1] - (f * d1 + g * c1)) / h
        b2, b3 = (yb[2] - (f * d2 + g * c2)) / h, (yb[3] - (f * d3 + g * c3)) / h
        e, f, g, h = rd[j0], rc[j0], rb[j0], ra[j0]
        a0, a1 = (ya[0] - (e * d0 + f * c0 + g * b0)) / h, (ya[1] - (e * d1 + f * c1 + g * b1)) / h
        a2, a3 = (ya[2] - (e * d2 + f * c2 + g * b2)) / h, (ya[3] - (e * d3 + f * c3 + g * b3)) / h
        _store4(ya, a0, a1, a2, a3)
        _store4(yb, b0, b1, b2, b3)
        _store4(yc, c0, c1, c2, c3)
        _store4(yd, d0, d1, d2, d3)
        _rows_minus_cols4(y, r, j0, 0, j0, a0, a1, a2, a3, b0, b1, b2, b3, c0, c1, c2, c3, d0, d1, d2, d3)


@njit(**_SOLVE_OPTS)
def getrs(lu, piv, b, x, which, transpose):
    """Solve with the factors of :func:`getrf` (``lu`` (nl, n, n), ``piv`` (nl, n)) for the right-hand sides
    ``b`` (nb, n, k), into ``x`` (nb, n, k); ``which[b]`` names the factorisation of ``b[b]``.
    ``transpose=False`` solves ``A X = B`` for ``A = M^T`` (the row-major matrix itself), ``True`` solves
    ``M X = B`` (``A^T X = B``), as ``getrs`` with ``trans='T'`` / ``'N'`` on ``lu``. The right-hand sides
    are gathered four at a time into the rows of an (n, 4) block (the last group padded with zeros),
    solved there and scattered back."""
    nb, n, k = b.shape[0], b.shape[1], b.shape[2]
    y = np.zeros((n, 4), dtype=x.dtype)
    for bb in range(nb):
        r = lu[which[bb]]
        pv = piv[which[bb]]
        for c0 in range(0, k, 4):
            m = min(4, k - c0)
            for i in range(n):
                for c in range(m):
                    y[i, c] = b[bb, i, c0 + c]
                for c in range(m, 4):
                    y[i, c] = 0
            if transpose:
                _solve_m4(r, pv, y)
            else:
                _solve_a4(r, pv, y)
            for i in range(n):
                for c in range(m):
                    x[bb, i, c0 + c] = y[i, c]
