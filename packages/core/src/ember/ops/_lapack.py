"""Array-level linear algebra shared by the linalg primitives: batched LU with partial pivoting (NumPy has
none), failure info for PyTorch's error messages, and the LinAlgError type."""

from __future__ import annotations

from . import _lapack_drivers
from ._common import fused_msub, quiet_errors, xp_of
from ..dtypes import np_kind as _np_kind
from .._C import _LinAlgError as LinAlgError  # noqa: F401  (re-exported; torch.linalg.LinAlgError is torch._C._LinAlgError)


def batch_flat(a):
    """``a`` (..., m, n) as (B, m, n) plus the batch shape."""
    return a.reshape((-1,) + a.shape[-2:]), a.shape[:-2]


def lu_factor(a, fused=False):
    """LU with partial pivoting of every matrix in ``a`` (..., m, n): (LU, pivots (1-based), info).

    ``info`` is 0, or the 1-based index of the first zero pivot (LAPACK's getrf convention). The loop runs
    over the columns; each step updates the whole batch at once. ``fused``: each update rounded once
    (:func:`fused_msub`), reproducing PyTorch's (MKL's) factors of near-singular matrices bit for bit.
    """
    xp = xp_of(a)
    flat, batch = batch_flat(a)
    lu = flat.astype(a.dtype, copy=True)
    nb, m, n = lu.shape
    k = min(m, n)
    rows = xp.arange(nb)
    piv = xp.zeros((nb, k), dtype=xp.int32)
    info = xp.zeros(nb, dtype=xp.int32)
    for j in range(k):
        p = xp.argmax(xp.abs(lu[:, j:, j]), axis=1) + j if m > j else xp.full(nb, j)
        piv[:, j] = p + 1
        top = lu[rows, j, :].copy()
        lu[rows, j, :] = lu[rows, p, :]
        lu[rows, p, :] = top
        pivot = lu[:, j, j]
        zero = pivot == 0
        info = xp.where((info == 0) & zero, j + 1, info)
        if j + 1 < m:
            lu[:, j + 1:, j] /= xp.where(zero, 1, pivot)[:, None]
            if j + 1 < n:
                if fused:
                    lu[:, j + 1:, j + 1:] = fused_msub(lu[:, j + 1:, j + 1:], lu[:, j + 1:, j, None],
                                                       lu[:, j, None, j + 1:])
                else:
                    lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j, None] * lu[:, j, None, j + 1:]
    return lu.reshape(batch + (m, n)), piv.reshape(batch + (k,)), info.reshape(batch)


def lu_solve_fused(lu, piv, b):
    """``X`` with ``A X = b`` from ``lu_factor(A, fused=True)`` as LAPACK's getrs forms it: the row swaps,
    then column-oriented unit-lower and upper substitutions, each update rounded once. Never raises: a zero
    pivot gives the infs and nans PyTorch's lu_solve gives. ``lu`` (B, n, n), ``piv`` (B, n), ``b`` (B, n, k)."""
    xp = xp_of(lu)
    x = b.copy()
    nb, n = lu.shape[0], lu.shape[-1]
    rows = xp.arange(nb)
    for j in range(n):
        p = piv[:, j] - 1
        top = x[rows, j, :].copy()
        x[rows, j, :] = x[rows, p, :]
        x[rows, p, :] = top
    for k in range(n - 1):
        x[:, k + 1:, :] = fused_msub(x[:, k + 1:, :], lu[:, k + 1:, k, None], x[:, k, None, :])
    for k in range(n - 1, -1, -1):
        x[:, k, :] = x[:, k, :] / lu[:, k, k, None]
        if k:
            x[:, :k, :] = fused_msub(x[:, :k, :], lu[:, :k, k, None], x[:, k, None, :])
    return x


def slogdet_fused(a):
    """``(sign, log|det|)`` of ``a`` (B, n, n) from the LU of its transpose, the factorization PyTorch's
    slogdet performs (``lu_factor(a.mT, fused=True)``), with those factors."""
    xp = xp_of(a)
    lu, piv, _ = lu_factor(xp.ascontiguousarray(xp.swapaxes(a, -1, -2)), fused=True)
    d = xp.diagonal(lu, axis1=-2, axis2=-1)
    swaps = (piv != xp.arange(1, a.shape[-1] + 1)).sum(-1)
    sign = xp.prod(xp.sign(d), axis=-1) * xp.where(swaps % 2 == 1, -1, 1).astype(a.dtype)
    with quiet_errors():
        logabs = xp.sum(xp.log(xp.abs(d)), axis=-1)
    return sign.astype(a.dtype), logabs.astype(a.dtype), lu, piv


def permutation_from_pivots(piv, m):
    """Row order ``perm`` with ``(P^T A)[i] = A[perm[i]]`` from LAPACK's sequential 1-based pivots."""
    xp = xp_of(piv)
    flat = piv.reshape(-1, piv.shape[-1]) - 1
    nb = flat.shape[0]
    rows = xp.arange(nb)
    perm = xp.broadcast_to(xp.arange(m), (nb, m)).copy()
    for j in range(flat.shape[1]):
        p = flat[:, j]
        a = perm[rows, j].copy()
        perm[rows, j] = perm[rows, p]
        perm[rows, p] = a
    return perm.reshape(piv.shape[:-1] + (m,))


def cholesky_info(a):
    """1-based order of the first leading minor that is not positive-definite (0 when all are)."""
    xp = xp_of(a)
    flat, batch = batch_flat(a)
    work = flat.astype(a.dtype, copy=True)
    nb, n, _ = work.shape
    info = xp.zeros(nb, dtype=xp.int32)
    for j in range(n):
        d = work[:, j, j]
        bad = ~(d > 0)
        info = xp.where((info == 0) & bad, j + 1, info)
        root = xp.sqrt(xp.where(bad, 1, d))
        col = work[:, j + 1:, j] / root[:, None]
        work[:, j + 1:, j + 1:] -= col[:, :, None] * col[:, None, :]
    return info.reshape(batch)


def batch_prefix(info, name):
    """PyTorch's "(Batch element i): " prefix naming the first failing matrix of a batch."""
    xp = xp_of(info)
    if info.ndim == 0:
        return "", int(info)
    flat = info.reshape(-1)
    first = int(xp.argmax(flat != 0))
    return f"(Batch element {first}): ", int(flat[first])


def svd(a, full_matrices=True, compute_uv=True):
    """``(u, s, vh)`` of every matrix of ``a`` (..., m, n) as ``xp.linalg.svd`` (``s`` alone without
    ``compute_uv``); square NumPy matrices of moderate order on two threads (:mod:`._lapack_drivers`). Raises
    PyTorch's LinAlgError where LAPACK fails: non-finite values, or no convergence."""
    xp = xp_of(a)
    if compute_uv and _lapack_drivers.svd_usable(a):
        u, s, vh, info = _lapack_drivers.svd(a)
        if not bool((info != 0).any()):
            return u, s, vh
    elif not compute_uv and _lapack_drivers.svd_values_usable(a):
        s, info = _lapack_drivers.svd_values(a)
        if not bool((info != 0).any()):
            return s
    elif _lapack_drivers.gesdd_usable(a):
        result = _lapack_drivers.gesdd(a, full_matrices, compute_uv)
        info = result[-1]
        if not bool((info != 0).any()):
            return result[:-1] if compute_uv else result[0]
    else:
        try:
            return xp.linalg.svd(a, full_matrices=full_matrices, compute_uv=compute_uv)
        except xp.linalg.LinAlgError:
            info = -(~xp.isfinite(a).all(axis=(-2, -1))).astype(xp.int64)
            if not bool((info != 0).any()):
                raise
    prefix, code = batch_prefix(info, "linalg.svd")
    if code < 0:
        raise LinAlgError(f"linalg.svd: {prefix}The algorithm failed to converge because the input matrix contained "
                          "non-finite values.")
    raise LinAlgError(f"linalg.svd: {prefix}The algorithm failed to converge because the input matrix is "
                      f"ill-conditioned or has too many repeated singular values (error code: {code}).")


def eigh(a, uplo="L"):
    """``(w, v)`` of every symmetric matrix of ``a`` (its ``uplo`` triangle) as ``xp.linalg.eigh``; finite
    square NumPy matrices of moderate order on two threads (:mod:`._lapack_drivers`). Raises PyTorch's
    LinAlgError where LAPACK does not converge."""
    xp = xp_of(a)
    if not _lapack_drivers.eigh_usable(a) or not bool(xp.isfinite(a).all()):
        return xp.linalg.eigh(a, UPLO=uplo)  # non-finite values give NaNs, as in PyTorch
    w, v, info = _lapack_drivers.eigh(a, uplo)
    _raise_eigh_failure(info)
    return w, v


def eigvalsh(a, uplo="L"):
    """The eigenvalues of every symmetric matrix of ``a`` as ``xp.linalg.eigvalsh``; finite float32 NumPy
    matrices of moderate order in float32 (:mod:`._lapack_drivers`)."""
    xp = xp_of(a)
    if not _lapack_drivers.eigh_values_usable(a) or not bool(xp.isfinite(a).all()):
        return xp.linalg.eigvalsh(a, UPLO=uplo)
    w, info = _lapack_drivers.eigh_values(a, uplo)
    _raise_eigh_failure(info)
    return w


def _raise_eigh_failure(info):
    if bool((info != 0).any()):
        prefix, code = batch_prefix(info, "linalg.eigh")
        raise LinAlgError(f"linalg.eigh: {prefix}The algorithm failed to converge because the input matrix is "
                          f"ill-conditioned or has too many repeated eigenvalues (error code: {code}).")


def check_square(a, name):
    if a.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are {a.shape[-2]} by "
                           f"{a.shape[-1]} matrices")


def check_float(t, name):
    if _np_kind(t._data.dtype) not in "fc":
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got {t.dtype.name.capitalize()}"
                           .replace("Int64", "Long").replace("Int32", "Int"))
