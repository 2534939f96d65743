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


@njit(**_OPTS)
def getrf(src, a, piv, info, copy):
    """Partial-pivoting LU of each ``src[b]`` (n, n) read column-major, into ``a[b]`` (``copy`` False: in
    place, ``src`` unused; a copy made here, matrix by matrix, is still in cache when factorised); ``piv[b]`` 1-based
    pivots, ``info[b]`` 0 or the 1-based index of the first exactly zero pivot (the factorisation goes on,
    as LAPACK's does). Left-looking: column j of M (row j of R, which stays in cache) takes the updates of
    the columns before it four at a time, one store per four multiply-adds."""
    nb, n = a.shape[0], a.shape[1]
    for b in range(nb):
        r = a[b]
        if copy:
            r[:, :] = src[b]
        info[b] = 0
        for j in range(n):
            v = r[j]  # column j of M, with the row swaps of columns 0..j-1 already applied
            k = 0
            while k + 4 <= j:
                r0, r1, r2, r3 = r[k], r[k + 1], r[k + 2], r[k + 3]
                c0 = v[k]
                v[k + 1] -= c0 * r0[k + 1]
                c1 = v[k + 1]
                v[k + 2] -= c0 * r0[k + 2] + c1 * r1[k + 2]
                c2 = v[k + 2]
                v[k + 3] -= c0 * r0[k + 3] + c1 * r1[k + 3] + c2 * r2[k + 3]
                c3 = v[k + 3]
                # slices from 0: indices provably non-negative, so the compiler vectorises the loop
                t, s0, s1, s2, s3 = v[k + 4:], r0[k + 4:], r1[k + 4:], r2[k + 4:], r3[k + 4:]
                for i in range(t.shape[0]):
                    t[i] -= c0 * s0[i] + c1 * s1[i] + c2 * s2[i] + c3 * s3[i]
                k += 4
            while k < j:
                c0 = v[k]
                t, s0 = v[k + 1:], r[k][k + 1:]
                for i in range(t.shape[0]):
                    t[i] -= c0 * s0[i]
                k += 1
            p = j
            best = abs(v[j])
            for i in range(j + 1, n):
                x = abs(v[i])
                if x > best:  # the first largest, as LAPACK's idamax
                    best, p = x, i
            piv[b, j] = p + 1
            pivot = v[p]
            if pivot != 0:
                if p != j:
                    for q in range(n):  # swap rows j and p of M: elements j and p of every row of R
                        row = r[q]
                        row[j], row[p] = row[p], row[j]
                below = v[j + 1:]
                for i in range(below.shape[0]):
                    below[i] /= pivot
            elif info[b] == 0:
                info[b] = j + 1


@njit(inline="always", **_SOLVE_OPTS)
def _swap(pv, i, v0, v1, v2, v3):
    """LAPACK's row interchange i (1-based pivot ``pv[i]``) on four right-hand sides."""
    p = pv[i] - 1
    if p != i:
        v0[i], v0[p] = v0[p], v0[i]
        v1[i], v1[p] = v1[p], v1[i]
        v2[i], v2[p] = v2[p], v2[i]
        v3[i], v3[p] = v3[p], v3[i]


@njit(**_SOLVE_OPTS)
def _solve_a(r, pv, v0, v1, v2, v3):
    """``A x = v`` for four right-hand sides at once (each element of R read once for the four), ``A = M^T``,
    ``M = P L U`` in ``r``: U^T y = v (row i of R holds column i of U), L^T z = y, then v = P z."""
    n = r.shape[0]
    for i in range(n):
        row = r[i]
        s0 = s1 = s2 = s3 = row[0] * 0
        for j in range(i):
            c = row[j]
            s0 += c * v0[j]
            s1 += c * v1[j]
            s2 += c * v2[j]
            s3 += c * v3[j]
        d = row[i]
        v0[i] = (v0[i] - s0) / d
        v1[i] = (v1[i] - s1) / d
        v2[i] = (v2[i] - s2) / d
        v3[i] = (v3[i] - s3) / d
    for i in range(n - 2, -1, -1):
        row, w0, w1, w2, w3 = r[i][i + 1:], v0[i + 1:], v1[i + 1:], v2[i + 1:], v3[i + 1:]
        s0 = s1 = s2 = s3 = row[0] * 0
        for j in range(row.shape[0]):
            c = row[j]
            s0 += c * w0[j]
            s1 += c * w1[j]
            s2 += c * w2[j]
            s3 += c * w3[j]
        v0[i] -= s0
        v1[i] -= s1
        v2[i] -= s2
        v3[i] -= s3
    for i in range(n - 1, -1, -1):
        _swap(pv, i, v0, v1, v2, v3)


@njit(**_SOLVE_OPTS)
def _solve_m(r, pv, v0, v1, v2, v3):
    """``M x = v`` (``A^T x = v``) for four right-hand sides at once: v = P^T v, L z = v (column j of L is
    row j of R), U x = z."""
    n = r.shape[0]
    for i in range(n):
        _swap(pv, i, v0, v1, v2, v3)
    for j in range(n):
        t0, t1, t2, t3 = v0[j], v1[j], v2[j], v3[j]
        row, w0, w1, w2, w3 = r[j][j + 1:], v0[j + 1:], v1[j + 1:], v2[j + 1:], v3[j + 1:]
        for i in range(row.shape[0]):
            c = row[i]
            w0[i] -= c * t0
            w1[i] -= c * t1
            w2[i] -= c * t2
            w3[i] -= c * t3
    for j in range(n - 1, -1, -1):
        row = r[j]
        d = row[j]
        t0, t1, t2, t3 = v0[j] / d, v1[j] / d, v2[j] / d, v3[j] / d
        v0[j], v1[j], v2[j], v3[j] = t0, t1, t2, t3
        for i in range(j):
            c = row[i]
            v0[i] -= c * t0
            v1[i] -= c * t1
            v2[i] -= c * t2
            v3[i] -= c * t3


@njit(**_SOLVE_OPTS)
def getrs(lu, piv, b, x, which, transpose):
    """Solve with the factors of :func:`getrf` (``lu`` (nl, n, n), ``piv`` (nl, n)) for the right-hand sides
    ``b`` (nb, n, k), into ``x`` (nb, n, k); ``which[b]`` names the factorisation of ``b[b]``.
    ``transpose=False`` solves ``A X = B`` for ``A = M^T`` (the row-major matrix itself), ``True`` solves
    ``M X = B`` (``A^T X = B``), as ``getrs`` with ``trans='T'`` / ``'N'`` on ``lu``. The right-hand sides
    are gathered four at a time into contiguous vectors (the last group padded with zeros), solved there
    and scattered back."""
    nb, n, k = b.shape[0], b.shape[1], b.shape[2]
    v = np.zeros((4, n), dtype=x.dtype)
    for bb in range(nb):
        r = lu[which[bb]]
        pv = piv[which[bb]]
        for c0 in range(0, k, 4):
            m = min(4, k - c0)
            for c in range(m):
                for i in range(n):
                    v[c, i] = b[bb, i, c0 + c]
            for c in range(m, 4):
                v[c, :] = 0
            if transpose:
                _solve_m(r, pv, v[0], v[1], v[2], v[3])
            else:
                _solve_a(r, pv, v[0], v[1], v[2], v[3])
            for c in range(m):
                for i in range(n):
                    x[bb, i, c0 + c] = v[c, i]
