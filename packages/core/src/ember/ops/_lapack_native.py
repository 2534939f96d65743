"""LU factorisation and solves through the LAPACK that NumPy itself links (its bundled OpenBLAS), called
with ctypes, for float32/float64 NumPy batches.

Why not ``numpy.linalg.solve``: it copies every matrix into Fortran order, calls ``gesv`` and keeps no
factorisation. Here a C-contiguous matrix is read as its transpose in column-major order, so ``getrf``
factorises ``A^T`` in a copy with A's own layout, and ``getrs`` solves ``A X = B`` (``trans='T'``) or
``A^T Y = G`` (``trans='N'``, a solve's backward) with that one factorisation, as PyTorch does for
row-major inputs. ``available(dtype)`` is False where the symbols are not found (another BLAS build, a
GPU array): callers keep their NumPy path then.
"""

from __future__ import annotations

import ctypes
import math
import os

import numpy as np

_PREFIXES = ("scipy_", "")
_SUFFIXES = ("_64_", "_")  # OpenBLAS's ILP64 build (NumPy's wheels), then the plain Fortran name
_SINGLE_MAX = 10_000  # OpenBLAS factorises an m*n below this on one thread: share the batch out instead

_routines = None  # {dtype: (getrf, getrs, int type)}, found on first use


def _find():
    global _routines
    if _routines is not None:
        return _routines
    from .. import _parallel

    found = {}
    for lib in _parallel.blas_cdlls():
        for prefix in _PREFIXES:
            for suffix in _SUFFIXES:
                names = {t: (f"{prefix}{t}getrf{suffix}", f"{prefix}{t}getrs{suffix}") for t in "sd"}
                if not all(hasattr(lib, n) for pair in names.values() for n in pair):
                    continue
                if suffix == "_" and "64" in os.path.basename(lib._name):
                    continue  # an ILP64 build without the suffix: the integer width is not certain
                itype = ctypes.c_int64 if suffix == "_64_" else ctypes.c_int32
                for t, dtype in (("s", np.float32), ("d", np.float64)):
                    getrf, getrs = (getattr(lib, n) for n in names[t])
                    getrf.restype = getrs.restype = None
                    found.setdefault(np.dtype(dtype), (getrf, getrs, itype))
    _routines = found
    return found


def available(dtype) -> bool:
    """Whether ``getrf``/``getrs`` were found for this NumPy dtype."""
    return np.dtype(dtype) in _find()


def _share(fn, nb, n):
    """``fn(i0, i1)`` over the batch: on the pool's threads for small matrices, else on this thread
    (OpenBLAS threads each large factorisation itself)."""
    if nb > 1 and n * n < _SINGLE_MAX:
        from .. import _fast

        _fast.share(fn, nb, max(1, -(-nb // (2 * _fast._threads()))))
    else:
        fn(0, nb)


def lu_factor(a):
    """LU of every (n, n) matrix of ``a`` (..., n, n), read transposed: ``(lu, piv, info)`` where ``lu`` is
    a C-contiguous copy holding LAPACK's factors of each ``A^T`` in column-major order, ``piv`` LAPACK's
    pivots and ``info`` (batch shape) 0, or LAPACK's 1-based index of a zero pivot."""
    getrf, _, itype = _find()[a.dtype]
    n = a.shape[-1]
    lu = np.empty(a.shape, dtype=a.dtype)
    np.copyto(lu, a)  # one copy, also of a broadcast batch
    lu = lu.reshape((-1, n, n))
    nb = lu.shape[0]
    piv = np.empty((nb, n), dtype=np.int64 if itype is ctypes.c_int64 else np.int32)
    info = np.zeros(nb, dtype=piv.dtype)
    if n:
        size, base_a, base_p, base_i = n * n * lu.itemsize, lu.ctypes.data, piv.ctypes.data, info.ctypes.data

        def run(i0, i1):
            dim, ref, vp = itype(n), ctypes.byref, ctypes.c_void_p
            for i in range(i0, i1):
                getrf(ref(dim), ref(dim), vp(base_a + i * size), ref(dim), vp(base_p + i * n * piv.itemsize),
                      vp(base_i + i * info.itemsize))

        _share(run, nb, n)
    return lu, piv, info.reshape(a.shape[:-2])


def lu_solve(lu, piv, b, transpose=False, index=None):
    """With ``lu, piv`` from :func:`lu_factor` of A: X with ``A X = b`` (``transpose=False``) or
    ``A^T X = b`` (``transpose=True``) for ``b`` (..., n, k) whose batch has ``nb`` matrices; ``index``
    (nb integers) names the factorisation each one uses (None: the i-th). A new array of b's shape."""
    _, getrs, itype = _find()[lu.dtype]
    n, k = b.shape[-2], b.shape[-1]
    # column-major right-hand sides: each (k, n) row-major block is the (n, k) Fortran matrix
    xt = np.empty(b.shape[:-2] + (k, n), dtype=lu.dtype)
    np.copyto(xt, np.swapaxes(b, -1, -2))
    nb = math.prod(b.shape[:-2])
    flat = xt.reshape((nb, k, n))
    if n and k and nb:
        trans = ctypes.c_char(b"N" if transpose else b"T")  # lu holds A^T's factors
        size, psize, bsize = n * n * lu.itemsize, n * piv.itemsize, n * k * flat.itemsize
        base_a, base_p, base_x = lu.ctypes.data, piv.ctypes.data, flat.ctypes.data
        which = range(nb) if index is None else [int(j) for j in index]

        def run(i0, i1):
            dim, nrhs, info, ref, vp = itype(n), itype(k), itype(0), ctypes.byref, ctypes.c_void_p
            for i in range(i0, i1):
                j = which[i]
                getrs(ref(trans), ref(dim), ref(nrhs), vp(base_a + j * size), ref(dim), vp(base_p + j * psize),
                      vp(base_x + i * bsize), ref(dim), ref(info), ctypes.c_size_t(1))

        _share(run, nb, n)
    return np.swapaxes(xt, -1, -2)
