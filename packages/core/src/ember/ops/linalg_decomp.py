"""Differentiable linear-algebra primitives (LAPACK through ``xp.linalg``): inverse, determinants, solve,
Cholesky, QR, symmetric eigendecomposition, SVD and the matrix exponential.

Gradients follow PyTorch's formulas. ``Inv``, ``Det``, ``Solve`` and ``MatrixExp`` write their backward
with tensor ops (double-differentiable); the decompositions' backwards work on the saved factors and are
once-differentiable.
"""

from __future__ import annotations

import math

import numpy as _np

from ..autograd.function import Primitive, once_differentiable
from ..autograd.grad_mode import STATE
from ..tensor import Tensor
from .. import _parallel
from . import _lapack, _lapack_native as _native
from ._common import quiet_errors, xp_of
from ._lapack import LinAlgError


def _t(arr) -> Tensor:
    return Tensor._make(arr)


def _eye_like(xp, n, dtype):
    return xp.eye(n, dtype=dtype)


def _lapack_call(fn, a, on_failure):
    """Run a LAPACK routine; when it reports a failure (NumPy raises, CuPy returns non-finite values), compute
    the failure's details for PyTorch's message with ``on_failure(a)``, which raises."""
    xp = xp_of(a)
    try:
        result = fn()
    except xp.linalg.LinAlgError:
        on_failure(a)
        raise
    if xp.__name__ != "numpy" and not bool(xp.isfinite(result if not isinstance(result, tuple) else result[0]).all()):
        on_failure(a)
    return result


def _raise_singular(a, name):
    _, _, info = _lapack.lu_factor(a)
    prefix, idx = _lapack.batch_prefix(info, name)
    raise LinAlgError(f"{name}: {prefix}The diagonal element {idx} is zero, the inversion could not be completed "
                      "because the input matrix is singular.")


# Smallest order inverted through ``_lapack_native`` (its LU, then the solve with the identity) rather than
# NumPy's inv, which works in float64 for float32 input: float32 512 12.1 -> 5.3 ms, 128 0.50 -> 0.26, b16 64
# 1.60 -> 0.91; float64 512 12.0 -> 10.0 ms (128: even).
_INV_NATIVE_MIN = {"float32": 96, "float64": 256}


def _native_from(a, minimum):
    """Whether NumPy matrices ``a`` are of an order from ``minimum[dtype]`` on, with ``_lapack_native``'s LU."""
    return (type(a) is _np.ndarray and a.shape[-1] >= minimum.get(a.dtype.name, 1 << 62)
            and _native.available(a.dtype))


class Inv(Primitive):
    save_output = True

    @staticmethod
    def forward(ctx, A):
        a = A._data
        _lapack.check_square(a, "linalg.inv")
        xp = xp_of(a)
        if a.shape[-1] == 0:
            return a.copy()
        if _native_from(a, _INV_NATIVE_MIN):
            lu, piv, info = _native.lu_factor(a)
            if info.any():
                _raise_singular(a, "linalg.inv")
            return _native.lu_solve(lu, piv, _np.broadcast_to(_np.eye(a.shape[-1], dtype=a.dtype), a.shape))
        return _lapack_call(lambda: xp.linalg.inv(a), a, lambda m: _raise_singular(m, "linalg.inv"))

    @staticmethod
    def backward(ctx, grad):
        inv = ctx.saved_output
        return -(inv.mT @ grad @ inv.mT)


class Det(Primitive):
    @staticmethod
    def forward(ctx, A):
        a = A._data
        _lapack.check_square(a, "linalg.det")
        if ctx.needs_input_grad is not None:
            ctx.save_for_backward(A)
        if _native_from(a, _DET_NATIVE_MIN):
            sign, d = _lu_sign_diagonal(a)
            return (sign * _np.prod(d, axis=-1)).astype(a.dtype)
        return xp_of(a).linalg.det(a)

    @staticmethod
    def backward(ctx, grad):
        (A,) = ctx.saved_tensors
        a = A._data
        xp = xp_of(a)
        if a.shape[-1] == 0:
            return grad[..., None, None] * 0 + A * 0
        if bool((xp.linalg.det(a) != 0).all()):
            det = Det.apply(A)
            return (grad * det)[..., None, None] * Inv.apply(A).mT
        # a singular matrix: the cofactor matrix from the SVD, A = U S Vh, adj(A)^T = det(U Vh) U diag(prod_{j!=i} s_j) Vh
        u, s, vh = xp.linalg.svd(a)
        n = s.shape[-1]
        others = xp.stack([xp.prod(xp.delete(s, i, axis=-1), axis=-1) for i in range(n)], axis=-1) if n > 1 else xp.ones_like(s)
        sign = xp.linalg.det(u) * xp.linalg.det(vh)
        cof = (u * (others * sign[..., None])[..., None, :]) @ vh
        return grad[..., None, None] * _t(cof)


# Smallest order whose determinant is the product of the native LU's pivots rather than NumPy's det (float64
# work for float32 input): float32 512 4.0 -> ~1.5 ms, float64 3.6 -> ~2.4 ms.
_DET_NATIVE_MIN = {"float32": 96, "float64": 96}


def _lu_sign_diagonal(a):
    """The LU of A^T from ``_lapack_native`` (the factorization PyTorch performs) of a NumPy float32/float64
    batch: the sign of its row permutation (batch shape) and its pivots (..., n)."""
    n = a.shape[-1]
    lu, piv, _ = _native.lu_factor(a)
    batch = a.shape[:-2]
    d = _np.diagonal(lu, axis1=-2, axis2=-1).reshape(batch + (n,))
    swaps = (piv != _np.arange(1, n + 1)).sum(-1).reshape(batch)
    return _np.where(swaps % 2 == 1, -1, 1).astype(a.dtype), d


def _slogdet_native(a):
    """``(sign, log|det|, near-singular)`` of a NumPy float32/float64 batch from the LU of A^T (the
    factorization PyTorch's slogdet performs; ``_lapack_native``). Near-singular: a pivot at the level of
    the elimination's rounding (below eps^(3/4) / n of the largest entry), where the rounding decides the
    result, so those are recomputed as PyTorch rounds. A random Gaussian matrix's smallest pivot stays above
    that (float32 512: 1e-6 of the largest entry against 1.3e-8), where the bound on |det| of
    :func:`_near_singular` flagged every matrix from order ~20 (float64 512: 835 ms through the exact path)."""
    n = a.shape[-1]
    permutation, d = _lu_sign_diagonal(a)
    sign = (_np.prod(_np.sign(d), axis=-1) * permutation).astype(a.dtype)
    with quiet_errors():
        logabs = _np.sum(_np.log(_np.abs(d)), axis=-1).astype(a.dtype)
    largest = _np.abs(a).max(axis=(-2, -1))
    eps = float(_np.finfo(a.dtype).eps)
    odd = _np.abs(d).min(axis=-1) <= largest * (eps ** 0.75 / n)
    return _np.asarray(sign), _np.asarray(logabs), _np.asarray(odd)  # 0-d arrays for one matrix


def _near_singular(a, logabs):
    """Matrices whose |det| is tiny beside the product of their row norms (Hadamard's bound): there LAPACK's
    rounding decides the result, so they are recomputed with PyTorch's own factorization."""
    xp = xp_of(a)
    with quiet_errors():
        bound = xp.sum(xp.log(xp.linalg.norm(a, axis=-1)), axis=-1)
    return ~(logabs > bound + 0.25 * math.log(float(xp.finfo(a.dtype).eps)))


class Slogdet(Primitive):
    """``(sign, log|det|)``. Well-conditioned matrices go to LAPACK; near-singular ones are factored as PyTorch
    does (the LU of A^T, fused updates), so a matrix PyTorch finds barely non-singular is not -inf here. The
    gradient of log|det| is ``g A^{-T}``; at a (near-)singular matrix it is solved from those factors, giving
    PyTorch's infs and nans instead of an error. ``sign`` is an output with a gradient, zero for real inputs."""

    @staticmethod
    def forward(ctx, A):
        a = A._data
        _lapack.check_square(a, "linalg.slogdet")
        xp = xp_of(a)
        if type(a) is _np.ndarray and a.shape[-1] and _native.available(a.dtype):
            sign, logabs, odd = _slogdet_native(a)
        else:
            sign, logabs = xp.linalg.slogdet(a)
            sign, logabs = xp.asarray(sign, dtype=a.dtype), xp.asarray(logabs, dtype=a.dtype)
            odd = _near_singular(a, logabs) if a.shape[-1] and a.dtype.kind == "f" else xp.zeros(logabs.shape, bool)
        if bool(odd.any()):
            with quiet_errors():
                s_odd, l_odd, _, _ = _lapack.slogdet_fused(a[odd])
            sign, logabs = sign.copy(), logabs.copy()
            sign[odd], logabs[odd] = s_odd, l_odd
        if ctx.needs_input_grad is not None:
            ctx.save_for_backward(A)
            ctx.odd = odd
            if a.dtype.kind == "c":  # (the phase's gradient is not implemented: no silent zero for it)
                ctx.mark_non_differentiable(sign)
        return sign, logabs

    @staticmethod
    def backward(ctx, g_sign, g_logabs):
        (A,) = ctx.saved_tensors
        if g_logabs is None:
            return None
        if not bool(ctx.odd.any()):
            return g_logabs[..., None, None] * Inv.apply(A).mT
        return _SingularLogdetGrad.apply(A, g_logabs)


class _SingularLogdetGrad(Primitive):
    """``g A^{-T}`` solved from the LU of A^T (PyTorch's slogdet backward), for batches with near-singular
    matrices; not differentiable again."""

    @staticmethod
    def forward(ctx, A, g):
        a, ga = A._data, g._data.astype(A._data.dtype)
        xp = xp_of(a)
        n = a.shape[-1]
        flat, batch = _lapack.batch_flat(a)
        with quiet_errors():
            lu, piv, _ = _lapack.lu_factor(xp.ascontiguousarray(xp.swapaxes(flat, -1, -2)), fused=True)
            rhs = ga.reshape(-1)[:, None, None] * xp.eye(n, dtype=a.dtype)
            x = _lapack.lu_solve_fused(lu, piv, rhs)
        return x.reshape(a.shape)

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("the second derivative of slogdet/logdet at a near-singular matrix is not implemented")


def _raise_solve_singular(a):
    _, _, info = _lapack.lu_factor(a)
    if bool((info != 0).any()):
        prefix, _ = _lapack.batch_prefix(info, "linalg.solve")
        raise LinAlgError(f"torch.linalg.solve: {prefix}The solver failed because the input matrix is singular.")


# Smallest order n solved through ``_lapack_native`` (one LU, getrs on it) rather than NumPy's gesv, by
# dtype and by whether a backward will reuse the factorisation. NumPy's gufunc has less overhead per
# matrix; OpenBLAS's getrs costs ~7 us per call. Thread-CPU time per solve, 1 BLAS thread, k = 4:
# float64 n 64: 1.87 ms vs 1.55 (b64), n 128: 1.83 vs 1.83 (b16), n 512: 3.21 vs 3.67; float32 n 64:
# 1.55 vs 1.90, n 512: 1.97 vs 4.18. With a backward, gesv would factorise A again: forward+backward float64
# b64 n 64: 3.28 vs 4.37 ms; at n 32 the two are about even (0.6 + 0.2 vs 2 x 0.41 ms), so 64 there too.
_NATIVE_MIN = {"float32": 64, "float64": 128}
_NATIVE_MIN_GRAD = 64


def _native_lu(a, grad):
    """Whether ``Solve`` factorises ``a`` with ``_lapack_native`` (NumPy float32/float64, large enough)."""
    if type(a) is not _np.ndarray or a.dtype.name not in _NATIVE_MIN:
        return False
    n = a.shape[-1]
    if _native.compiled(a.dtype, n) is not None:  # the compiled loops beat both LAPACK paths up to their limit
        return _native.available(a.dtype)
    if not grad and a.ndim > 2 and a.shape[0] > 1 and n * n < _native._SINGLE_MAX and _parallel.active_threads() > 1:
        # a batch shared among threads: NumPy's gufunc runs each share in C with the GIL released once,
        # where the per-matrix ctypes calls keep taking it back (float32 b64 n 64, 2 threads: 1.07 vs 1.31 ms)
        return False
    return n >= (_NATIVE_MIN_GRAD if grad else _NATIVE_MIN[a.dtype.name]) and _native.available(a.dtype)


def _batch_index(a_batch, batch):
    """For each matrix of the broadcast ``batch`` (flattened), the index of its matrix in ``a_batch``."""
    if tuple(a_batch) == tuple(batch):
        return None
    return _np.broadcast_to(_np.arange(math.prod(a_batch)).reshape(a_batch), batch).reshape(-1)


def _gesv(xp, a, b):
    """NumPy's/CuPy's batched gesv; a large NumPy batch of small matrices is shared among the pool's
    threads (the gufunc releases the GIL; OpenBLAS runs such small factorisations on one thread)."""
    if xp is not _np or a.ndim < 3 or a.shape[0] < 2 or a.shape[-1] ** 2 >= _native._SINGLE_MAX:
        return xp.linalg.solve(a, b)
    from .. import _fast

    out = _np.empty(b.shape, dtype=_np.result_type(a, b))

    def run(i0, i1):
        out[i0:i1] = _np.linalg.solve(a[i0:i1], b[i0:i1])

    _fast.share(run, a.shape[0])
    return out


class Solve(Primitive):
    """X with A X = B for (..., n, n) A and (..., n, k) B (batch dimensions broadcast)."""

    save_output = True

    @staticmethod
    def forward(ctx, A, B):
        a0, b = A._data, B._data
        xp = xp_of(a0)
        batch = xp.broadcast_shapes(a0.shape[:-2], b.shape[:-2])
        a = xp.broadcast_to(a0, batch + a0.shape[-2:])
        b = xp.broadcast_to(b, batch + b.shape[-2:])
        grad = ctx.needs_input_grad is not None
        if grad:
            ctx.save_for_backward(A)
            ctx.lu = None
        if a.shape[-1] == 0:
            return xp.zeros(b.shape, dtype=b.dtype)
        if not (_native_lu(a0, grad) and b.dtype == a0.dtype):
            return _lapack_call(lambda: _gesv(xp, a, b), a, _raise_solve_singular)
        # one LU of each of A's own matrices (not of their broadcast copies), kept for the backward
        lu, piv, info = _native.lu_factor(a0)
        if info.any():
            _raise_solve_singular(a)
            raise LinAlgError("torch.linalg.solve: The solver failed because the input matrix is singular.")
        index = _batch_index(a0.shape[:-2], batch)
        if grad:
            ctx.lu = (lu, piv, index)
        return _native.lu_solve(lu, piv, b, False, index)

    @staticmethod
    def backward(ctx, grad):
        (A,) = ctx.saved_tensors
        X = ctx.saved_output
        if ctx.lu is not None and not STATE.enabled:  # A^T gB = grad with the forward's factorisation
            lu, piv, index = ctx.lu
            xp = xp_of(lu)
            gB = _native.lu_solve(lu, piv, grad._data, True, index)
            gA = (-gB) @ xp.swapaxes(X._data, -1, -2) if ctx.needs_input_grad[0] else None  # negate the small factor
            return (_t(gA) if gA is not None else None), (_t(gB) if ctx.needs_input_grad[1] else None)
        gB = Solve.apply(A.mT, grad)
        gA = -(gB @ X.mT) if ctx.needs_input_grad[0] else None
        return gA, gB if ctx.needs_input_grad[1] else None


def _raise_not_pd(a):
    info = _lapack.cholesky_info(a)
    if bool((info != 0).any()):
        prefix, idx = _lapack.batch_prefix(info, "linalg.cholesky")
        raise LinAlgError(f"linalg.cholesky: {prefix}The factorization could not be completed because the input "
                          f"is not positive-definite (the leading minor of order {idx} is not positive-definite).")


# Smallest order factorised by ``_lapack_native.cholesky`` rather than NumPy's cholesky (float64 b16 n 128:
# 1.41 vs 2.04 ms, 512: 1.58 vs 3.17; float32 b64 n 64: 0.81 vs 1.09; below these NumPy's was as fast or faster)
_CHOLESKY_MIN = {"float32": 64, "float64": 128}


def _native_cholesky(a):
    return (type(a) is _np.ndarray and a.shape[-1] >= _CHOLESKY_MIN.get(a.dtype.name, 1 << 62)
            and _native.cholesky_available(a.dtype))


class Cholesky(Primitive):
    save_output = True  # backward reads the factor re-attached to the graph: double backward works

    @staticmethod
    def forward(ctx, A, upper):
        a = A._data
        _lapack.check_square(a, "linalg.cholesky")
        xp = xp_of(a)
        if _native_cholesky(a):
            low, info = _native.cholesky(a)
            if info.any():
                _raise_not_pd(a)
        else:
            low = _lapack_call(lambda: xp.linalg.cholesky(a), a, _raise_not_pd) if a.shape[-1] else a.copy()
        if xp is _np and _np.isnan(low.diagonal(0, -2, -1)).any():
            _raise_not_pd(a)  # OpenBLAS's potrf passes a NaN pivot on, where PyTorch's LAPACK stops
        if ctx.needs_input_grad is not None:
            ctx.upper = upper
        return xp.swapaxes(low, -1, -2).copy() if upper else low

    @staticmethod
    def backward(ctx, grad):
        L = ctx.saved_output.mT if ctx.upper else ctx.saved_output
        gL = grad.mT if ctx.upper else grad
        phi = (L.mT @ gL).tril()
        phi = phi - 0.5 * phi.diagonal(0, -2, -1).diag_embed()
        # gA = L^{-T} phi L^{-1}, then the symmetric part
        left = Solve.apply(L.mT, phi)
        gA = Solve.apply(L.mT, left.mT).mT
        return 0.5 * (gA + gA.mT), None


def _copyltu(M):
    low = M.tril(-1)
    return low + low.mT + M.diagonal(0, -2, -1).diag_embed()


def _qr_backward_tall(Q, R, gQ, gR):
    """The gradient of A = QR (m >= n, reduced) for the factors' gradients (either may be None)."""
    M = R @ gR.mT if gR is not None else None
    if gQ is not None:
        M = -(gQ.mT @ Q) if M is None else M - gQ.mT @ Q
    b = Q @ _copyltu(M)
    if gQ is not None:
        b = b + gQ
    return Solve.apply(R, b.mT).mT  # b R^{-T}


class QR(Primitive):
    @staticmethod
    def forward(ctx, A, mode):
        a = A._data
        if a.ndim < 2:
            raise RuntimeError("linalg.qr: The input tensor A must have at least 2 dimensions.")
        if mode not in ("reduced", "complete", "r"):
            raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), "
                               "'r', or 'complete'")
        xp = xp_of(a)
        q, r = xp.linalg.qr(a, mode="complete" if mode == "complete" else "reduced")
        if ctx.needs_input_grad is not None:
            ctx.q, ctx.r, ctx.mode = q, r, mode
        if mode == "r":
            return xp.zeros((0,), dtype=a.dtype), r
        return q, r

    @staticmethod
    @once_differentiable
    def backward(ctx, gQ, gR):
        m, n = ctx.q.shape[-2], ctx.r.shape[-1]
        if ctx.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                               "Please use linalg.qr(A, mode='reduced') if you are going to differentiate through "
                               "linalg.qr.")
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        Q, R = _t(ctx.q), _t(ctx.r)
        if m >= n:
            return _qr_backward_tall(Q, R, gQ, gR), None
        # wide: A = [X | Y], R = [U | V], X = Q U, Y = Q V
        U, V = R[..., :, :m], R[..., :, m:]
        gU = gR[..., :, :m] if gR is not None else None
        gV = gR[..., :, m:] if gR is not None else None
        Y = Q @ V
        gQx = gQ
        gY = None
        if gV is not None:
            gY = Q @ gV
            gQx = (gQ if gQ is not None else 0) + Y @ gV.mT
        gX = _qr_backward_tall(Q, U, gQx, gU)
        from .joining import cat

        gY = gY if gY is not None else gX.new_zeros(gX.shape[:-1] + (n - m,))
        return cat([gX, gY], -1), None


def _skew(X):
    return X - X.mT


def check_uplo(uplo):
    if uplo not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {uplo}")


class Eigh(Primitive):
    @staticmethod
    def forward(ctx, A, uplo):
        a = A._data
        _lapack.check_square(a, "linalg.eigh")
        check_uplo(uplo)
        w, v = _lapack.eigh(a, uplo)
        if ctx.needs_input_grad is not None:
            ctx.w, ctx.v = w, v
        return w, v

    @staticmethod
    @once_differentiable
    def backward(ctx, gL, gV):
        xp = xp_of(ctx.w)
        L, V = _t(ctx.w), _t(ctx.v)
        if gV is None:
            return (V * gL.unsqueeze(-2)) @ V.mT, None
        E = ctx.w[..., None, :] - ctx.w[..., :, None]  # E_ij = L_j - L_i
        n = E.shape[-1]
        idx = xp.arange(n)
        E[..., idx, idx] = 1
        inner = 0.5 * _skew(V.mT @ gV) / _t(E)
        diag = gL if gL is not None else L * 0
        inner = inner - inner.diagonal(0, -2, -1).diag_embed() + diag.diag_embed()
        return V @ inner @ V.mT, None


class Eig(Primitive):
    """Eigenvalues and eigenvectors of a general square matrix (complex results, LAPACK's geev)."""

    @staticmethod
    def forward(ctx, A):
        a = A._data
        _lapack.check_square(a, "linalg.eig")
        xp = xp_of(a)
        cdtype = xp.result_type(a.dtype, xp.complex64)
        if not xp.isfinite(a).all():
            raise LinAlgError("linalg.eig: input tensor should not contain infs or NaNs.")
        w, v = xp.linalg.eig(a)
        w, v = w.astype(cdtype), v.astype(cdtype)
        if ctx.needs_input_grad is not None:
            ctx.w, ctx.v, ctx.real_input = w, v, a.dtype.kind != "c"
        return w, v

    @staticmethod
    @once_differentiable
    def backward(ctx, gL, gV):
        w, v = ctx.w, ctx.v
        xp = xp_of(w)
        vh = xp.conj(xp.swapaxes(v, -1, -2))
        n = w.shape[-1]
        idx = xp.arange(n)
        if gV is None:
            inner = xp.zeros(v.shape, dtype=v.dtype)
        else:
            vhgv = vh @ gV._data
            diag = xp.diagonal(vhgv, axis1=-2, axis2=-1)
            if not bool((xp.abs(diag.imag) <= 1e-2).all()):
                raise RuntimeError("linalg_eig_backward: The eigenvectors in the complex case are specified up to "
                                   "multiplication by e^{i phi}. The specified loss function depends on this quantity, "
                                   "so it is ill-defined.")
            E = w[..., None, :] - w[..., :, None]
            E[..., idx, idx] = 1
            inner = (vhgv - (vh @ v) * diag.real[..., None, :]) / xp.conj(E)
        inner[..., idx, idx] = gL._data if gL is not None else 0
        gA = xp.linalg.solve(vh, inner @ vh)
        return Tensor._make(gA.real.copy() if ctx.real_input else gA)


class SVD(Primitive):
    @staticmethod
    def forward(ctx, A, full_matrices):
        a = A._data
        if a.ndim < 2:
            raise RuntimeError("linalg.svd: The input tensor A must have at least 2 dimensions.")
        u, s, vh = _lapack.svd(a, full_matrices)
        if ctx.needs_input_grad is not None:
            ctx.u, ctx.s, ctx.vh, ctx.full = u, s, vh, full_matrices
        return u, s, vh

    @staticmethod
    @once_differentiable
    def backward(ctx, gU, gS, gVh):
        m, n = ctx.u.shape[-2], ctx.vh.shape[-1]
        k = ctx.s.shape[-1]
        if ctx.full and (gU is not None or gVh is not None) and m != n:
            raise RuntimeError("linalg_svd_backward: Setting full_matrices=True in forward is not supported in "
                               "backward. Use full_matrices=False")
        U, S, Vh = _t(ctx.u[..., :, :k]), _t(ctx.s), _t(ctx.vh[..., :k, :])
        if gU is not None:
            gU = gU[..., :, :k]
        if gVh is not None:
            gVh = gVh[..., :k, :]
        if gU is None and gVh is None:
            return (U * gS.unsqueeze(-2)) @ Vh, None
        xp = xp_of(ctx.s)
        s2 = ctx.s * ctx.s
        E = s2[..., None, :] - s2[..., :, None]  # s_j^2 - s_i^2
        idx = xp.arange(k)
        E[..., idx, idx] = 1
        E = _t(E)
        V = Vh.mT
        gV = gVh.mT if gVh is not None else None
        inner = S.new_zeros(S.shape + (k,))
        if gU is not None:
            UhgU = _skew(U.mT @ gU)
            inner = inner + UhgU * S.unsqueeze(-2) / E
        if gV is not None:
            VhgV = _skew(V.mT @ gV)
            inner = inner + S.unsqueeze(-1) * VhgV / E
        inner = inner - inner.diagonal(0, -2, -1).diag_embed()
        if gS is not None:
            inner = inner + gS.diag_embed()
        gA = U @ inner @ Vh
        if gU is not None and m > k:
            gA = gA + ((gU - U @ (U.mT @ gU)) / S.unsqueeze(-2)) @ Vh
        if gV is not None and n > k:
            gA = gA + U @ ((gV - V @ (V.mT @ gV)) / S.unsqueeze(-2)).mT
        return gA, None


def _expm(xp, a):
    """exp(A) by scaling and squaring with a degree-13 Padé approximant (Higham 2005), batched."""
    b = (64764752532480000., 32382376266240000., 7771770303897600., 1187353796428800., 129060195264000.,
         10559470521600., 670442572800., 33522128640., 1323241920., 40840800., 960960., 16380., 182., 1.)
    n = a.shape[-1]
    norm1 = xp.abs(a).sum(axis=-2).max(axis=-1) if a.size else xp.zeros(a.shape[:-2])
    theta13 = 5.371920351148152
    s = xp.maximum(0, xp.ceil(xp.log2(xp.maximum(norm1, 1e-300) / theta13))).astype(xp.int64)
    s = xp.where(norm1 > theta13, s, 0)
    a = a / (2.0 ** s)[..., None, None].astype(a.dtype)
    ident = xp.broadcast_to(xp.eye(n, dtype=a.dtype), a.shape)
    a2 = a @ a
    a4 = a2 @ a2
    a6 = a4 @ a2
    u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * ident)
    v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * ident
    r = xp.linalg.solve(v - u, v + u)
    for _ in range(int(s.max()) if s.size else 0):  # square each matrix s_i times
        r = xp.where((s > 0)[..., None, None], r @ r, r)
        s = s - 1
    return r


class MatrixExp(Primitive):
    @staticmethod
    def forward(ctx, A):
        a = A._data
        _lapack.check_square(a, "linalg.matrix_exp")
        if ctx.needs_input_grad is not None:
            ctx.save_for_backward(A)
        return _expm(xp_of(a), a) if a.shape[-1] else a.copy()

    @staticmethod
    def backward(ctx, grad):
        # d/dA <G, exp(A)> = the upper-right block of exp([[A^T, G], [0, A^T]])
        (A,) = ctx.saved_tensors
        from .joining import cat

        n = A.shape[-1]
        top = cat([A.mT, grad], -1)
        bottom = cat([A.new_zeros(A.shape), A.mT], -1)
        big = MatrixExp.apply(cat([top, bottom], -2))
        return big[..., :n, n:]


__all__ = ["LinAlgError"]
