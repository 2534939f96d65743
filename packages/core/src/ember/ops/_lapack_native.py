"""LU factorisation and solves, Cholesky factors and Linear's bias-folded GEMM through the LAPACK/BLAS that
NumPy itself links (its bundled OpenBLAS), called with ctypes, for float32/float64 NumPy arrays.

Why not ``numpy.linalg.solve``: it copies every matrix into Fortran order, calls ``gesv`` and keeps no
factorisation. Here a C-contiguous matrix is read as its transpose in column-major order, so ``getrf``
factorises ``A^T`` in a copy with A's own layout, and ``getrs`` solves ``A X = B`` (``trans='T'``) or
``A^T Y = G`` (``trans='N'``, a solve's backward) with that one factorisation, as PyTorch does for
row-major inputs. ``available(dtype)`` is False where the symbols are not found (another BLAS build, a
GPU array): callers keep their NumPy path then. Large matrices on more than one thread are factorised
blocked (``gemm``/``trsm``/``laswp`` around ``getrf`` panels), since OpenBLAS's getrf barely uses a second
thread.
"""

from __future__ import annotations

import ctypes
import functools
import math
import os

import numpy as np

from .. import _fast

_PREFIXES = ("scipy_", "")
_SUFFIXES = ("_64_", "_")  # OpenBLAS's ILP64 build (NumPy's wheels), then the plain Fortran name
_SINGLE_MAX = 10_000  # OpenBLAS factorises an m*n below this on one thread: share the batch out instead

_BLOCK = {"float32": 128, "float64": 64}  # columns per panel of the blocked LU (float32: 1.49 -> 1.35 ms at 512)
# order from which a matrix is factorised blocked; below it getrf alone was as fast on 2 threads (float64
# 192: 0.38 -> 0.33 ms blocked, float32 256: 0.36 both, 384: 0.95 -> 0.79)
_BLOCKED_MIN = {"float32": 320, "float64": 192}

# Largest order factorised by the compiled loop of ``_fast_lu`` (``ember[fast]``) rather than getrf, 2 threads:
# float64 b64 n 64: 0.96 vs 1.30 ms, b16 n 128: 1.53 vs 1.86, b256 n 16: 0.45 vs 1.13; float32 b64 n 64: 0.64 vs
# 0.94, b16 n 128: 1.39 vs 1.19 (getrf faster from there). Its solves with few right-hand sides beat getrs at
# every order measured (one thread, k 4: float64 n 512 0.15 vs 0.26 ms, n 1024 0.58 vs 0.77); with many,
# getrs's blocked level-3 loops win.
_COMPILED_MAX = {"float32": 64, "float64": 128}
_COMPILED_SOLVE_MAX = 1024
_COMPILED_SOLVE_MAX_RHS = 8
# Batch work (matrices * n^3) from which the compiled loops are shared out: ~2 ms of one thread. Less stays on
# the calling thread: right after an idle spell the woken pool thread often shares the caller's CPU for
# milliseconds (float64 b64 n 64, the first calls after 0.15 s idle: 1.32 ms on one thread, 1.57 shared; in
# a busy loop 1.15 vs 0.89).
_COMPILED_SHARE_MIN = 1 << 25

_routines = None  # {dtype: _Routines}, found on first use


class _Routines:
    """One precision's LAPACK/BLAS entry points (``gemm``, ``trsm``, ``laswp`` None where not found)."""

    def __init__(self, getrf, getrs, itype, gemm=None, trsm=None, laswp=None, scalar=None, potrf=None):
        self.getrf, self.getrs, self.itype = getrf, getrs, itype
        self.gemm, self.trsm, self.laswp, self.scalar = gemm, trsm, laswp, scalar
        self.potrf = potrf

    def __iter__(self):  # getrf, getrs, integer type
        return iter((self.getrf, self.getrs, self.itype))


def _find():
    global _routines
    if _routines is not None:
        return _routines
    found = {}
    for dtype, (getrf, getrs, itype) in routines("getrf", "getrs").items():
        # private typed copies (``routines``): the per-matrix loops pass plain addresses, ~10% less time per
        # call than building ctypes objects
        getrf.argtypes = [ctypes.c_void_p] * 6
        getrs.argtypes = [ctypes.c_char_p] + [ctypes.c_void_p] * 8 + [ctypes.c_size_t]
        blas3 = routines("gemm", "trsm", "laswp").get(dtype)
        blas3 = list(blas3[:3]) if blas3 is not None and blas3[3] is itype else [None] * 3
        potrf = routines("potrf").get(dtype)
        potrf = potrf[0] if potrf is not None and potrf[1] is itype else None
        if potrf is not None:
            potrf.argtypes = [ctypes.c_char_p] + [ctypes.c_void_p] * 4 + [ctypes.c_size_t]
        scalar = ctypes.c_float if dtype == np.float32 else ctypes.c_double
        found[dtype] = _Routines(getrf, getrs, itype, *blas3, scalar, potrf)
    _routines = found
    return found


@functools.lru_cache(maxsize=None)
def routines(*names):
    """NumPy's LAPACK/BLAS entry points for ``names`` (without the precision letter, e.g. ``"gebrd"``):
    ``{dtype: (functions in the order of names, integer type)}`` for float32/float64, where all are found.
    Fortran calling convention; restype None, argtypes left to the caller."""
    from .. import _parallel

    found = {}
    for lib in _parallel.blas_cdlls():
        for prefix in _PREFIXES:
            for suffix in _SUFFIXES:
                if suffix == "_" and "64" in os.path.basename(lib._name):
                    continue  # an ILP64 build without the suffix: the integer width is not certain
                itype = ctypes.c_int64 if suffix == "_64_" else ctypes.c_int32
                for t, dtype in (("s", np.float32), ("d", np.float64)):
                    symbols = [f"{prefix}{t}{name}{suffix}" for name in names]
                    if np.dtype(dtype) in found or not all(hasattr(lib, s) for s in symbols):
                        continue
                    fns = [lib[s] for s in symbols]  # private copies: argtypes set here stay here
                    for fn in fns:
                        fn.restype = None
                    found[np.dtype(dtype)] = (*fns, itype)
    return found


def available(dtype) -> bool:
    """Whether ``getrf``/``getrs`` were found for this NumPy dtype."""
    return np.dtype(dtype) in _find()


def compiled(dtype, n, limit=None):
    """The compiled LU kernels (``_fast_lu``) when numba is present and order ``n`` is at most ``limit``
    (default ``_COMPILED_MAX[dtype]``), else None."""
    if n > (_COMPILED_MAX.get(np.dtype(dtype).name, -1) if limit is None else limit):
        return None
    from .. import _fast

    if _fast.kernels() is None:
        return None
    from .. import _fast_lu

    return _fast_lu


def _over_batch(fn, nb, shared):
    """``fn(i0, i1)`` over the batch of ``nb`` matrices: shared out among the pool's threads when ``shared``
    (and there is more than one), else on this thread."""
    if shared and nb > 1:
        from .. import _fast

        _fast.share(fn, nb)
    else:
        fn(0, nb)


def _share_compiled(fn, nb, n):
    """The compiled loops over the batch: shared out from ``_COMPILED_SHARE_MIN`` of work."""
    _over_batch(fn, nb, nb * n ** 3 >= _COMPILED_SHARE_MIN)


def _share(fn, nb, n):
    """LAPACK calls over the batch: on the pool's threads for small matrices, else on this thread
    (OpenBLAS threads each large factorisation itself)."""
    _over_batch(fn, nb, n * n < _SINGLE_MAX)


def _blocked(r, base, n, piv, info):
    """LAPACK's right-looking blocked LU of one column-major (n, n) matrix at address ``base`` (``piv`` a
    NumPy row of n pivots, ``info`` a 1-element NumPy array): each panel of ``_BLOCK[dtype]`` columns by
    ``getrf`` on one thread, then its row swaps (``laswp``), the block row of U (``trsm``) and the trailing
    update (``gemm``), which OpenBLAS threads. OpenBLAS's own getrf barely gains from a second thread at
    n = 512 (3.20 -> 3.15 ms); this one went 2.80 -> 2.2-2.4 ms."""
    itype, it, ref, vp = r.itype, np.dtype(piv.dtype).itemsize, ctypes.byref, ctypes.c_void_p
    size = ctypes.sizeof(r.scalar)
    ld, one, minus, inc, flag = itype(n), r.scalar(1.0), r.scalar(-1.0), itype(1), itype(0)
    left, lower, no, unit = (ctypes.c_char(c) for c in (b"L", b"L", b"N", b"U"))
    length = ctypes.c_size_t(1)

    def at(i, j):
        return vp(base + (i + j * n) * size)

    pbase = piv.ctypes.data
    nb = _BLOCK[np.dtype(r.scalar).name]
    from .. import _parallel

    for k in range(0, n, nb):
        b = min(nb, n - k)
        # OpenBLAS's threaded getrf is slower on a panel (0.59 -> 0.54 ms for all panels at n = 512); the
        # lock keeps the busy-CPU monitor from changing the count meanwhile (it would be restored stale)
        with _parallel._state_lock:
            threads = _parallel.active_threads()
            if threads > 1:
                _parallel._set_blas_threads(1)
            r.getrf(ref(itype(n - k)), ref(itype(b)), at(k, k), ref(ld), vp(pbase + k * it), ref(flag))
            if threads > 1:
                _parallel._set_blas_threads(threads)
        if flag.value and not info[0]:
            info[0] = flag.value + k
        piv[k:k + b] += k
        k1, k2, rest = itype(k + 1), itype(k + b), n - k - b
        if k:
            r.laswp(ref(itype(k)), at(0, 0), ref(ld), ref(k1), ref(k2), vp(pbase), ref(inc))
        if rest:
            r.laswp(ref(itype(rest)), at(0, k + b), ref(ld), ref(k1), ref(k2), vp(pbase), ref(inc))
            r.trsm(ref(left), ref(lower), ref(no), ref(unit), ref(itype(b)), ref(itype(rest)), ref(one), at(k, k),
                   ref(ld), at(k, k + b), ref(ld), length, length, length, length)
            r.gemm(ref(no), ref(no), ref(itype(rest)), ref(itype(rest)), ref(itype(b)), ref(minus), at(k + b, k),
                   ref(ld), at(k, k + b), ref(ld), ref(one), at(k + b, k + b), ref(ld), length, length)


def lu_factor(a):
    """LU of every (n, n) matrix of ``a`` (..., n, n), read transposed: ``(lu, piv, info)`` where ``lu`` is
    a C-contiguous copy holding LAPACK's factors of each ``A^T`` in column-major order, ``piv`` LAPACK's
    pivots and ``info`` (batch shape) 0, or LAPACK's 1-based index of the first zero pivot. From order
    ``_BLOCKED_MIN[dtype]`` on, with more than one thread, each matrix is factorised blocked (:func:`_blocked`)."""
    r = _find()[a.dtype]
    getrf, itype = r.getrf, r.itype
    n = a.shape[-1]
    kernels = compiled(a.dtype, n)
    lu = np.empty(a.shape, dtype=a.dtype)
    src = a.reshape((-1, n, n)) if kernels is not None and a.flags.c_contiguous else None
    if src is None:
        np.copyto(lu, a)  # one copy, also of a broadcast batch
    lu = lu.reshape((-1, n, n))
    nb = lu.shape[0]
    piv = np.empty((nb, n), dtype=np.int64 if itype is ctypes.c_int64 else np.int32)
    info = np.zeros(nb, dtype=piv.dtype)
    size, base_a, base_p, base_i = n * n * lu.itemsize, lu.ctypes.data, piv.ctypes.data, info.ctypes.data
    from .. import _parallel

    if kernels is not None and n:
        copy, src = src is not None, lu if src is None else src

        def part(i0, i1):  # the copy of a C-contiguous input made matrix by matrix, in cache, on the threads
            kernels.getrf(src[i0:i1], lu[i0:i1], piv[i0:i1], info[i0:i1], copy)

        _share_compiled(part, nb, n)
    # blocked only with a second thread: on one, OpenBLAS's getrf was as fast (float32 512: 1.84 vs 1.95 ms)
    elif n >= _BLOCKED_MIN[a.dtype.name] and r.gemm is not None and _parallel.active_threads() > 1:
        for i in range(nb):
            _blocked(r, base_a + i * size, n, piv[i], info[i:i + 1])
    elif n:

        def run(i0, i1):
            dim = itype(n)
            d = ctypes.addressof(dim)
            for i in range(i0, i1):
                getrf(d, d, base_a + i * size, d, base_p + i * n * piv.itemsize, base_i + i * info.itemsize)

        _share(run, nb, n)
    return lu, piv, info.reshape(a.shape[:-2])


def lu_solve(lu, piv, b, transpose=False, index=None):
    """With ``lu, piv`` from :func:`lu_factor` of A: X with ``A X = b`` (``transpose=False``) or
    ``A^T X = b`` (``transpose=True``) for ``b`` (..., n, k) whose batch has ``nb`` matrices; ``index``
    (nb integers) names the factorisation each one uses (None: the i-th). A new array of b's shape."""
    _, getrs, itype = _find()[lu.dtype]
    n, k = b.shape[-2], b.shape[-1]
    nb = math.prod(b.shape[:-2])
    kernels = compiled(lu.dtype, n, _COMPILED_SOLVE_MAX) if k <= _COMPILED_SOLVE_MAX_RHS else None
    if kernels is not None and n and k and nb:
        x = np.empty(b.shape, dtype=lu.dtype)
        src, dst = b.astype(lu.dtype, copy=False).reshape((nb, n, k)), x.reshape((nb, n, k))
        which = np.arange(nb, dtype=np.int64) if index is None else np.asarray(index, dtype=np.int64)

        def part(i0, i1):
            kernels.getrs(lu, piv, src[i0:i1], dst[i0:i1], which[i0:i1], transpose)

        _share_compiled(part, nb, n // 2)  # a solve has ~1/8 of a factorisation's work per right-hand side
        return x
    # column-major right-hand sides: each (k, n) row-major block is the (n, k) Fortran matrix
    xt = np.empty(b.shape[:-2] + (k, n), dtype=lu.dtype)
    np.copyto(xt, np.swapaxes(b, -1, -2))
    flat = xt.reshape((nb, k, n))
    if n and k and nb:
        trans = b"N" if transpose else b"T"  # lu holds A^T's factors
        size, psize, bsize = n * n * lu.itemsize, n * piv.itemsize, n * k * flat.itemsize
        base_a, base_p, base_x = lu.ctypes.data, piv.ctypes.data, flat.ctypes.data
        which = range(nb) if index is None else [int(j) for j in index]

        def run(i0, i1):
            dim, nrhs, info = itype(n), itype(k), itype(0)
            d, r, f = ctypes.addressof(dim), ctypes.addressof(nrhs), ctypes.addressof(info)
            for i in range(i0, i1):
                j = which[i]
                getrs(trans, d, r, base_a + j * size, d, base_p + j * psize, base_x + i * bsize, d, f, 1)

        _share(run, nb, n)
    return np.swapaxes(xt, -1, -2)


@functools.lru_cache(maxsize=8)
def _strict_upper(n):
    return np.triu(np.ones((n, n), dtype=bool), 1)


def cholesky_available(dtype) -> bool:
    """Whether ``potrf`` was found for this NumPy dtype."""
    r = _find().get(np.dtype(dtype))
    return r is not None and r.potrf is not None


def cholesky(a):
    """Lower Cholesky factor of every (n, n) matrix of ``a`` (..., n, n), from its lower triangle: ``(low,
    info)`` with ``info`` (batch shape) 0, or the order of the first leading minor that is not
    positive-definite. ``potrf('U')`` on the column-major reading of a C-contiguous copy (A^T, whose upper
    triangle is A's lower one) leaves L itself in row-major order; NumPy's cholesky would copy into Fortran
    order and back (float64 512: 3.1 ms against 1.4 ms here, where OpenBLAS threads the factorisation)."""
    r = _find()[a.dtype]
    itype = r.itype
    n = a.shape[-1]
    low = np.empty(a.shape, dtype=a.dtype)
    np.copyto(low, a)
    flat = low.reshape((-1, n, n))
    nb = flat.shape[0]
    info = np.zeros(nb, dtype=np.int64 if itype is ctypes.c_int64 else np.int32)
    size, base_a, base_i = n * n * low.itemsize, flat.ctypes.data, info.ctypes.data
    if n and nb:
        potrf = r.potrf

        def run(i0, i1):
            dim = itype(n)
            d = ctypes.addressof(dim)
            for i in range(i0, i1):
                potrf(b"U", d, base_a + i * size, d, base_i + i * info.itemsize, 1)

        _share(run, nb, n)
        np.copyto(flat, 0, where=_strict_upper(n))
    return low, info.reshape(a.shape[:-2])


_BIAS_GEMM_MIN = 1 << 16  # output elements from which the bias is folded into the GEMM (ctypes costs ~5 us)


def linear_bias(x, w, b):
    """``x @ w.T + b`` for C-contiguous NumPy ``x`` (M, K), ``w`` (N, K) and ``b`` (N,) of one float dtype as
    one ``gemm`` with beta = 1 onto the broadcast bias (PyTorch's addmm): no second pass over the output to
    add the bias. None where it does not apply (the caller adds the bias itself)."""
    if not (type(x) is np.ndarray and type(w) is np.ndarray and type(b) is np.ndarray and x.ndim == 2):
        return None
    r = _find().get(x.dtype)
    M, K = x.shape
    N = w.shape[0]
    if (r is None or r.gemm is None or M * N < _BIAS_GEMM_MIN or not K or w.dtype != x.dtype or b.dtype != x.dtype
            or b.shape != (N,) or not (x.flags.c_contiguous and w.flags.c_contiguous)):
        return None
    out = np.empty((M, N), dtype=x.dtype)
    out[...] = b
    itype, ref, vp = r.itype, ctypes.byref, ctypes.c_void_p
    size = x.dtype.itemsize

    def rows(r0, r1):
        # column-major: out^T (N, M) = W (read as the (K, N) matrix W^T, transposed) @ x^T (K, M)
        r.gemm(ref(ctypes.c_char(b"T")), ref(ctypes.c_char(b"N")), ref(itype(N)), ref(itype(r1 - r0)), ref(itype(K)),
               ref(r.scalar(1.0)), vp(w.ctypes.data), ref(itype(K)), vp(x.ctypes.data + r0 * K * size), ref(itype(K)),
               ref(r.scalar(1.0)), vp(out.ctypes.data + r0 * N * size), ref(itype(N)), ctypes.c_size_t(1),
               ctypes.c_size_t(1))

    _fast.rows_while_parked(rows, M, 2 * M * N * K)
    return out
