"""The few linear-algebra primitives the distributions need (Cholesky, triangular solve), private until
``ember.linalg`` lands; switch these to ``ember.linalg.cholesky`` / ``solve_triangular`` then.

Both have Tensor-op backwards (so double backward works)."""

from __future__ import annotations

from ..autograd.function import Primitive
from ..tensor import Tensor
from .. import backend


def _xp(t):
    return backend.array_module(t._data)


class _Cholesky(Primitive):
    save_output = True

    @staticmethod
    def forward(ctx, a):
        xp = _xp(a)
        try:
            return xp.linalg.cholesky(a._data)
        except Exception as exc:  # numpy raises LinAlgError
            raise RuntimeError(f"cholesky: The factorization could not be completed because the input is not "
                               f"positive-definite ({exc}).") from None

    @staticmethod
    def backward(ctx, grad):
        # A = L L^T:  P = Phi(L^T G) (lower triangle, halved diagonal), S = L^-T P L^-1, dA = (S + S^T) / 2
        L = ctx.saved_output
        P = (L.transpose(-2, -1) @ grad).tril()
        P = P - 0.5 * P.diagonal(dim1=-2, dim2=-1).diag_embed()
        right = solve_triangular(L, P, upper=False, left=False)  # P L^-1
        S = solve_triangular(L.transpose(-2, -1), right, upper=True)  # L^-T P L^-1
        return 0.5 * (S + S.transpose(-2, -1))


class _TriangularSolve(Primitive):
    """``X`` with ``A X = B`` for triangular ``A`` (lower unless ``upper``)."""

    @staticmethod
    def forward(ctx, a, b, upper):
        xp = _xp(a)
        arr = xp.triu(a._data) if upper else xp.tril(a._data)
        x = xp.linalg.solve(arr, b._data)
        ctx.save_for_backward(a)
        ctx.upper = upper
        ctx.x = Tensor._make(x)
        return x

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        gb = solve_triangular(a.transpose(-2, -1), grad, upper=not ctx.upper)
        ga = -(gb @ ctx.x.transpose(-2, -1))
        ga = ga.triu() if ctx.upper else ga.tril()
        return ga, gb, None


def cholesky(a):
    """The lower Cholesky factor of the (batched) symmetric positive-definite ``a``."""
    return _Cholesky.apply(a)


def solve_triangular(a, b, *, upper, left=True):
    """Solve ``a X = b`` (or ``X a = b`` when not ``left``) for triangular ``a``, batched and broadcast."""
    if not left:
        return solve_triangular(a.transpose(-2, -1), b.transpose(-2, -1), upper=not upper).transpose(-2, -1)
    from ..ops.broadcast import broadcast_shapes

    batch = tuple(broadcast_shapes(tuple(a.shape[:-2]), tuple(b.shape[:-2])))
    a = a.expand(batch + tuple(a.shape[-2:]))
    b = b.expand(batch + tuple(b.shape[-2:]))
    return _TriangularSolve.apply(a, b, upper)
