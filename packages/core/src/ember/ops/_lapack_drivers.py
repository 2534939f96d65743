"""SVD and symmetric eigendecomposition of float32/float64 NumPy matrices through the LAPACK NumPy links
(ctypes), where calling LAPACK's steps here beats ``numpy.linalg``.

Two threads. ``gesdd`` and ``syevd`` (the drivers of NumPy and of PyTorch) reduce A to a bidiagonal /
tridiagonal matrix (``gebrd`` / ``sytrd``), take its decomposition by divide and conquer (``bdsdc`` /
``stedc``), then apply the reduction's reflectors to the vectors (``ormbr`` / ``ormtr``). OpenBLAS threads
neither gebrd's matrix-vector work nor bdsdc below order ~640 (float64 512: gebrd 25.4 ms on one thread,
24.7 on two; bdsdc 19.2 / 18.3), so one core idles for most of gesdd. :func:`svd` and :func:`eigh` run the
same steps as: the reduction; the divide and conquer on one thread while the other forms the orthogonal
factors (``orgbr`` / ``orgtr``); then the products with them, split between the threads. The results are
the drivers' own up to rounding (the same reduction and divide and conquer; the factors multiplied in
instead of applied reflector by reflector). BLAS runs single-threaded from the reduction to the products:
OpenBLAS's idle workers spin for ~0.1 s after a threaded call and would take the CPU from the second thread.

float32. NumPy computes every float32 decomposition in float64 and rounds the results (twice the time, and
vectors that are not float32 LAPACK's, as PyTorch's are): float32 also takes :func:`gesdd` itself,
:func:`svd_values` (gebrd, bdsqr) and :func:`eigh_values` (sytrd, sterf) here.

A is factorised in column-major order, as NumPy and PyTorch call the drivers, so that the vectors come out
with the same signs; the products write the row-major results through transposed views.
"""

from __future__ import annotations

import ctypes

import numpy as np

from . import _lapack_native

# smallest order taken: below it the drivers alone (a hand-off to the second thread costs ~0.1 ms)
_SVD_MIN = {"float32": 96, "float64": 128}
# float64 beyond order 768 gesdd is as fast or faster (1024: 390 vs 440 ms): its threaded ormbr wins there.
# NumPy computes a float32 SVD in float64 (2.5x the time at 512), so float32 takes this path at every order.
_SVD_MAX = {"float32": 1 << 20, "float64": 768}
_GEBRD_THREADED_MIN = 1024  # from here OpenBLAS's threaded gebrd gains (float32 1024: 282 -> 266 ms in all)
# eigh: float32 only. NumPy's float32 eigh works in float64 (512: 23 ms, against 17 here, whose vectors are
# float32 LAPACK's, as PyTorch's); in float64 syevd's threaded sytrd and stedc were as fast as the two
# threads (512: 22.2 vs 22.1 ms) and faster from order 1024 (133 vs 159 ms).
_EIGH_MIN = {"float32": 128}
_EIGH_MAX = {"float32": 1 << 20}
_SVD = ("gebrd", "bdsdc", "orgbr")
_SVD_VALUES = ("gebrd", "bdsqr")
_VALUES_MIN = 96  # float32 singular values alone (NumPy's work in float64: 512 32 vs 15 ms here)
# other float32 SVDs (not square, or small): gesdd itself in float32, from this smaller dimension (below,
# NumPy's batched loop in C costs less than a ctypes call per matrix)
_GESDD = ("gesdd",)
_GESDD_MIN = 16
_EIGH = ("sytrd", "stedc", "orgtr")
_EIGH_VALUES = ("sytrd", "sterf")
_GELSY = ("gelsy",)
_GELSY_MIN = 32  # smaller dimension from which lstsq calls gelsy per matrix (below, the batched SVD route)


def _routines(names, dtype):
    return _lapack_native.routines(*names).get(np.dtype(dtype))


def _usable(a, low, high, names) -> bool:
    if not isinstance(a, np.ndarray) or a.ndim < 2 or a.dtype.name not in low or a.dtype.name not in high:
        return False
    n = a.shape[-1]
    return a.shape[-2] == n and low[a.dtype.name] <= n <= high[a.dtype.name] and _routines(names, a.dtype) is not None


def svd_usable(a) -> bool:
    """Whether :func:`svd` takes ``a``: a NumPy float32/float64 batch of square matrices of an order where
    the two threads pay, with the LAPACK routines found."""
    return _usable(a, _SVD_MIN, _SVD_MAX, _SVD)


def svd_values_usable(a) -> bool:
    """Whether :func:`svd_values` takes ``a``: float32 (..., m, n), both at least ``_VALUES_MIN``, the larger
    below 11/6 of the smaller (from there gesdd first takes a QR factorisation)."""
    if not isinstance(a, np.ndarray) or a.ndim < 2 or a.dtype != np.float32:
        return False
    k, big = min(a.shape[-2:]), max(a.shape[-2:])
    return k >= _VALUES_MIN and 6 * big < 11 * k and _routines(_SVD_VALUES, a.dtype) is not None


def eigh_values_usable(a) -> bool:
    """Whether :func:`eigh_values` takes ``a``: as :func:`eigh_usable` (NumPy's float32 eigvalsh works in
    float64 too: 512 10.8 ms against 6.7 here)."""
    return _usable(a, _EIGH_MIN, _EIGH_MAX, _EIGH_VALUES)


def gesdd_usable(a) -> bool:
    """Whether :func:`gesdd` takes ``a``: float32 (..., m, n), both at least ``_GESDD_MIN``. gesdd in float32
    is ~1.7x faster than NumPy's float64 work and gives PyTorch's vectors, signs included where MKL takes the
    reference algorithm's path (not for matrices over 11/6 times wider than tall)."""
    return (isinstance(a, np.ndarray) and a.ndim >= 2 and a.dtype == np.float32 and min(a.shape[-2:]) >= _GESDD_MIN
            and _routines(_GESDD, a.dtype) is not None)


def gelsy_usable(a, b) -> bool:
    """Whether :func:`gelsy` takes ``a`` (..., m, n) and ``b`` (..., m, k): NumPy float32/float64 arrays of one
    dtype, both dimensions of ``a`` at least ``_GELSY_MIN``."""
    return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype
            and a.dtype.name in ("float32", "float64") and min(a.shape[-2:]) >= _GELSY_MIN
            and _routines(_GELSY, a.dtype) is not None)


def gelsy(a, b, rcond):
    """``(x, rank)``: the minimum-norm least-squares solutions x (..., n, k) of ``a`` (..., m, n) x = ``b``
    (..., m, k), batch dimensions broadcast, by LAPACK's gelsy (a QR factorisation with column pivoting: the
    driver PyTorch uses on the CPU by default), and the effective ranks (int64) for ``rcond``."""
    (routine, itype), dtype = _routines(_GELSY, a.dtype), a.dtype
    m, n, k = a.shape[-2], a.shape[-1], b.shape[-1]
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    fa = np.broadcast_to(a, batch + (m, n)).reshape((-1, m, n))
    fb = np.broadcast_to(b, batch + (m, k)).reshape((-1, m, k))
    x = np.empty((len(fa), n, k), dtype)
    rank = np.zeros(len(fa), np.int64)
    ld = max(m, n, 1)
    ref, vp = ctypes.byref, ctypes.c_void_p
    scalar = ctypes.c_float if dtype == np.float32 else ctypes.c_double
    jpvt, r, flag = np.empty(n, np.dtype(itype)), itype(0), itype(0)
    for i in range(len(fa)):
        buf = _column_major(fa[i])
        rhs = np.zeros((k, ld), dtype)  # column-major (ld, k): b's columns, then room for the n solutions
        rhs[:, :m] = fb[i].T
        jpvt[:] = 0  # every column free to move

        def call(work, lwork):
            routine(ref(itype(m)), ref(itype(n)), ref(itype(k)), vp(buf.ctypes.data), ref(itype(m)),
                    vp(rhs.ctypes.data), ref(itype(ld)), vp(jpvt.ctypes.data), ref(scalar(rcond)), ref(r),
                    vp(work.ctypes.data), ref(itype(lwork)), ref(flag))

        _with_workspace(call, dtype)
        if flag.value:
            raise RuntimeError(f"LAPACK gelsy: argument {-flag.value} is invalid")
        x[i] = rhs[:, :n].T
        rank[i] = r.value
    return x.reshape(batch + (n, k)), rank.reshape(batch)


def eigh_usable(a) -> bool:
    """Whether :func:`eigh` takes ``a`` (as :func:`svd_usable`)."""
    return _usable(a, _EIGH_MIN, _EIGH_MAX, _EIGH)


def svd(a):
    """``(u, s, vh, info)`` of every matrix of ``a`` (..., n, n) for which :func:`svd_usable` holds: u and
    vh C-contiguous (..., n, n), s (..., n) descending; ``info`` (batch shape) 0, -1 for a matrix with
    non-finite values (not factorised), or bdsdc's positive code where it did not converge."""
    n = a.shape[-1]
    flat = a.reshape((-1, n, n))
    u, vh = np.empty(flat.shape, a.dtype), np.empty(flat.shape, a.dtype)
    s = np.empty(flat.shape[:-1], a.dtype)
    info = _finite_info(flat)
    for i in np.flatnonzero(info == 0):
        info[i] = _svd_one(flat[i], u[i], s[i], vh[i])
    bad = info == -1
    s[bad] = u[bad] = vh[bad] = np.nan
    return u.reshape(a.shape), s.reshape(a.shape[:-1]), vh.reshape(a.shape), info.reshape(a.shape[:-2])


def svd_values(a):
    """``(s, info)``: the singular values (..., k) of every matrix of ``a`` (:func:`svd_values_usable`),
    descending, from gebrd and bdsqr on one thread (both take little from a second); ``info`` as
    :func:`svd`'s."""
    gebrd, bdsqr, itype = _routines(_SVD_VALUES, a.dtype)
    m, n = a.shape[-2:]
    flat = a.reshape((-1, m, n))
    k = min(m, n)
    s = np.empty((len(flat), k), a.dtype)
    info = _finite_info(flat)
    ref, vp, one = ctypes.byref, ctypes.c_void_p, ctypes.c_size_t(1)
    rows, cols = ref(itype(n)), ref(itype(m))  # the C-contiguous matrix read column-major is A^T (n, m)
    e, tauq, taup = np.empty(max(k - 1, 1), a.dtype), np.empty(k, a.dtype), np.empty(k, a.dtype)
    flag = itype(0)
    with _blas_threads() as (_, set_blas):
        set_blas(1)
        for i in np.flatnonzero(info == 0):
            buf = flat[i].copy()

            def reduce(work, lwork):
                gebrd(rows, cols, vp(buf.ctypes.data), rows, vp(s[i].ctypes.data), vp(e.ctypes.data),
                      vp(tauq.ctypes.data), vp(taup.ctypes.data), vp(work.ctypes.data), ref(itype(lwork)), ref(flag))

            _with_workspace(reduce, a.dtype)
            work = np.empty(4 * k, a.dtype)
            # bidiagonal: upper where A^T has at least as many rows as columns
            bdsqr(b"U" if n >= m else b"L", ref(itype(k)), ref(itype(0)), ref(itype(0)), ref(itype(0)),
                  vp(s[i].ctypes.data), vp(e.ctypes.data), None, ref(itype(1)), None, ref(itype(1)), None,
                  ref(itype(1)), vp(work.ctypes.data), ref(flag), one)
            if flag.value < 0:
                raise RuntimeError(f"LAPACK bdsqr: argument {-flag.value} is invalid")
            info[i] = flag.value
    s[info == -1] = np.nan
    return s.reshape(a.shape[:-2] + (k,)), info.reshape(a.shape[:-2])


def gesdd(a, full_matrices=True, compute_uv=True):
    """gesdd of every matrix of ``a`` (:func:`gesdd_usable`), as ``numpy.linalg.svd``: ``(u, s, vh, info)``,
    or ``(s, info)`` without ``compute_uv``; ``info`` as :func:`svd`'s."""
    (routine, itype), dtype = _routines(_GESDD, a.dtype), a.dtype
    m, n = a.shape[-2:]
    k = min(m, n)
    flat = a.reshape((-1, m, n))
    job = (b"A" if full_matrices else b"S") if compute_uv else b"N"
    ucols, vrows = (m, n) if job == b"A" else (k, k)
    s = np.empty((len(flat), k), dtype)
    u = np.empty((len(flat), m, ucols), dtype) if compute_uv else None
    vh = np.empty((len(flat), vrows, n), dtype) if compute_uv else None
    ubuf, vbuf = (np.empty((ucols, m), dtype), np.empty((n, vrows), dtype)) if compute_uv else (None, None)
    info = _finite_info(flat)
    ref, vp, one = ctypes.byref, ctypes.c_void_p, ctypes.c_size_t(1)
    iwork, flag = np.empty(8 * k, np.dtype(itype)), itype(0)
    for i in np.flatnonzero(info == 0):
        buf = _column_major(flat[i])  # (n, m): A column-major, as NumPy and PyTorch call gesdd

        def call(work, lwork):
            routine(job, ref(itype(m)), ref(itype(n)), vp(buf.ctypes.data), ref(itype(m)), vp(s[i].ctypes.data),
                    vp(ubuf.ctypes.data) if compute_uv else None, ref(itype(m)),
                    vp(vbuf.ctypes.data) if compute_uv else None, ref(itype(max(vrows, 1))),
                    vp(work.ctypes.data), ref(itype(lwork)), vp(iwork.ctypes.data), ref(flag), one)

        _with_workspace(call, dtype)
        if flag.value < 0:
            raise RuntimeError(f"LAPACK gesdd: argument {-flag.value} is invalid")
        info[i] = flag.value
        if compute_uv:  # column-major results: the C-contiguous buffers hold their transposes
            np.copyto(u[i], ubuf.T)
            np.copyto(vh[i], vbuf.T)
    s[info == -1] = np.nan
    batch = a.shape[:-2]
    s, info = s.reshape(batch + (k,)), info.reshape(batch)
    if not compute_uv:
        return s, info
    return u.reshape(batch + u.shape[1:]), s, vh.reshape(batch + vh.shape[1:]), info


def eigh(a, uplo="L"):
    """``(w, v, info)`` of every symmetric matrix of ``a`` (..., n, n) for which :func:`eigh_usable` holds,
    reading its ``uplo`` triangle: w (..., n) ascending, v C-contiguous (..., n, n) with the eigenvectors
    in its columns; ``info`` (batch shape) 0, or stedc's positive code where it did not converge."""
    n = a.shape[-1]
    flat = a.reshape((-1, n, n))
    w, v = np.empty(flat.shape[:-1], a.dtype), np.empty(flat.shape, a.dtype)
    info = np.zeros(len(flat), dtype=np.int64)
    for i in range(len(flat)):
        info[i] = _eigh_one(flat[i], uplo.encode(), w[i], v[i])
    return w.reshape(a.shape[:-1]), v.reshape(a.shape), info.reshape(a.shape[:-2])


def eigh_values(a, uplo="L"):
    """``(w, info)``: the eigenvalues (..., n), ascending, of every symmetric matrix of ``a`` (its ``uplo``
    triangle; :func:`eigh_values_usable`), from sytrd (BLAS's threads) and sterf; ``info`` 0, or sterf's
    positive code where it did not converge."""
    sytrd, sterf, itype = _routines(_EIGH_VALUES, a.dtype)
    dtype, n = a.dtype, a.shape[-1]
    flat = a.reshape((-1, n, n))
    w = np.empty(flat.shape[:-1], dtype)
    info = np.zeros(len(flat), dtype=np.int64)
    ref, vp, one = ctypes.byref, ctypes.c_void_p, ctypes.c_size_t(1)
    dim, flag = ref(itype(n)), itype(0)
    e, tau = np.empty(max(n - 1, 1), dtype), np.empty(max(n - 1, 1), dtype)
    for i in range(len(flat)):
        m = _column_major(flat[i])

        def reduce(work, lwork):
            sytrd(uplo.encode(), dim, vp(m.ctypes.data), dim, vp(w[i].ctypes.data), vp(e.ctypes.data),
                  vp(tau.ctypes.data), vp(work.ctypes.data), ref(itype(lwork)), ref(flag), one)

        _with_workspace(reduce, dtype)
        sterf(dim, vp(w[i].ctypes.data), vp(e.ctypes.data), ref(flag))
        if flag.value < 0:
            raise RuntimeError(f"LAPACK sytrd/sterf: argument {-flag.value} is invalid")
        info[i] = flag.value
    return w.reshape(a.shape[:-1]), info.reshape(a.shape[:-2])


def _finite_info(flat):
    """Per matrix of ``flat`` (B, m, n): 0 where all its values are finite, else -1 (not factorised)."""
    return np.where(np.isfinite(flat).all(axis=(1, 2)), 0, -1).astype(np.int64)


def _with_workspace(call, dtype):
    """``call(work, lwork)`` with LAPACK's optimal workspace, asked first by a call with lwork = -1."""
    size = np.empty(1, dtype)
    call(size, -1)
    lwork = max(1, int(size[0]))
    call(np.empty(lwork, dtype), lwork)


def _column_major(a):
    """A copy of ``a`` (m, n) in column-major order, as a C-contiguous (n, m) array (A^T)."""
    m = np.empty(a.shape[::-1], a.dtype)
    np.copyto(m, a.T)
    return m


def _blas_threads():
    from .. import _parallel

    return _parallel.blas_threads()


def _side_by_side(threads, first, second):
    """``first()`` on the pool while ``second()`` runs here (one after the other on one thread)."""
    if threads > 1:
        from .. import _parallel

        job = _parallel.submit(1, first)
        second()
        job.result()
    else:
        first()
        second()


def _operands(names, a):
    """For one (n, n) matrix: the LAPACK routines ``names``, their integer type, its dtype and order, the
    order by reference, and a column-major copy of it (the reduction overwrites it)."""
    *routines, itype = _routines(names, a.dtype)
    n = a.shape[-1]
    return routines, itype, a.dtype, n, ctypes.byref(itype(n)), _column_major(a)


def _check(status, names):
    for name, flag in zip(names, status):
        if flag.value < 0:
            raise RuntimeError(f"LAPACK {name}: argument {-flag.value} is invalid")


def _svd_one(a, u, s, vh):
    """The SVD of one (n, n) matrix into ``u``, ``s`` and ``vh`` (C-contiguous); returns bdsdc's info."""
    (gebrd, bdsdc, orgbr), itype, dtype, n, dim, m = _operands(_SVD, a)
    ref, vp, one = ctypes.byref, ctypes.c_void_p, ctypes.c_size_t(1)
    e, tauq, taup = np.empty(max(n - 1, 1), dtype), np.empty(n, dtype), np.empty(n, dtype)
    ubd, vtbd = np.empty((n, n), dtype), np.empty((n, n), dtype)  # bdsdc's column-major U and V^T
    q, p = np.empty((n, n), dtype), np.empty((n, n), dtype)
    status = [itype(0) for _ in range(4)]  # gebrd, bdsdc, orgbr Q, orgbr P

    def reduce(work, lwork):
        gebrd(dim, dim, vp(m.ctypes.data), dim, vp(s.ctypes.data), vp(e.ctypes.data), vp(tauq.ctypes.data),
              vp(taup.ctypes.data), vp(work.ctypes.data), ref(itype(lwork)), ref(status[0]))

    def bidiagonal_svd():
        work, iwork = np.empty(3 * n * n + 4 * n, dtype), np.empty(8 * n, np.dtype(itype))
        bdsdc(b"U", b"I", dim, vp(s.ctypes.data), vp(e.ctypes.data), vp(ubd.ctypes.data), dim,
              vp(vtbd.ctypes.data), dim, None, None, vp(work.ctypes.data), vp(iwork.ctypes.data), ref(status[1]),
              one, one)

    def factor(which, out, tau, flag):
        def call(work, lwork):
            orgbr(which, dim, dim, dim, vp(out.ctypes.data), dim, vp(tau.ctypes.data), vp(work.ctypes.data),
                  ref(itype(lwork)), ref(flag), one)

        np.copyto(out, m)
        _with_workspace(call, dtype)

    def factors():
        factor(b"Q", q, tauq, status[2])
        factor(b"P", p, taup, status[3])

    with _blas_threads() as (threads, set_blas):
        set_blas(threads if n >= _GEBRD_THREADED_MIN else 1)
        _with_workspace(reduce, dtype)
        set_blas(1)
        _side_by_side(threads, bidiagonal_svd, factors)
        # U = Q Ubd and Vh = VTbd P^T, the C-contiguous view of each column-major buffer its transpose
        _side_by_side(threads, lambda: np.matmul(q.T, ubd.T, out=u), lambda: np.matmul(vtbd.T, p.T, out=vh))
    _check(status, ("gebrd", "bdsdc", "orgbr", "orgbr"))
    return status[1].value


def _eigh_one(a, uplo, w, v):
    """The eigendecomposition of one symmetric (n, n) matrix into ``w`` and ``v``; returns stedc's info."""
    (sytrd, stedc, orgtr), itype, dtype, n, dim, m = _operands(_EIGH, a)
    ref, vp, one = ctypes.byref, ctypes.c_void_p, ctypes.c_size_t(1)
    e, tau = np.empty(max(n - 1, 1), dtype), np.empty(max(n - 1, 1), dtype)
    z, q = np.empty((n, n), dtype), np.empty((n, n), dtype)  # stedc's column-major vectors, the factor Q
    status = [itype(0) for _ in range(3)]  # sytrd, stedc, orgtr

    def reduce(work, lwork):
        sytrd(uplo, dim, vp(m.ctypes.data), dim, vp(w.ctypes.data), vp(e.ctypes.data), vp(tau.ctypes.data),
              vp(work.ctypes.data), ref(itype(lwork)), ref(status[0]), one)

    def tridiagonal_eigh():
        work, iwork = np.empty(1 + 4 * n + n * n, dtype), np.empty(3 + 5 * n, np.dtype(itype))
        stedc(b"I", dim, vp(w.ctypes.data), vp(e.ctypes.data), vp(z.ctypes.data), dim, vp(work.ctypes.data),
              ref(itype(work.size)), vp(iwork.ctypes.data), ref(itype(iwork.size)), ref(status[1]), one)

    def factor():
        def call(work, lwork):
            orgtr(uplo, dim, vp(q.ctypes.data), dim, vp(tau.ctypes.data), vp(work.ctypes.data),
                  ref(itype(lwork)), ref(status[2]), one)

        np.copyto(q, m)
        _with_workspace(call, dtype)

    with _blas_threads() as (threads, set_blas):
        set_blas(1)
        _with_workspace(reduce, dtype)
        _side_by_side(threads, tridiagonal_eigh, factor)
        half = n // 2  # V = Q Z, by halves of its rows
        _side_by_side(threads, lambda: np.matmul(q.T[:half], z.T, out=v[:half]),
                      lambda: np.matmul(q.T[half:], z.T, out=v[half:]))
    _check(status, ("sytrd", "stedc", "orgtr"))
    return status[1].value
