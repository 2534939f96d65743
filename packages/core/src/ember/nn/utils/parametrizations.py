"""``nn.utils.parametrizations``: ``weight_norm``, ``spectral_norm`` and ``orthogonal`` as parametrizations
(state_dict keys ``parametrizations.weight.original0/1``, ``parametrizations.weight.original`` and
``parametrizations.weight.0._u/_v``, as PyTorch)."""

from __future__ import annotations

from ... import linalg
from ...autograd.grad_mode import no_grad
from ...dtypes import int32 as ember_int
from ...ops._common import xp_of
from ...tensor import Tensor
from .. import functional as F
from ..module import Module
from . import parametrize

__all__ = ["weight_norm", "spectral_norm", "orthogonal"]


def norm_except_dim(v: Tensor, pow: float = 2, dim: int = 0) -> Tensor:
    """The ``pow``-norm of ``v`` over every dimension but ``dim`` (over all of them when ``dim == -1``)."""
    if dim == -1:
        return (v.abs() ** pow).sum() ** (1.0 / pow)
    dim = dim % v.dim()
    axes = [d for d in range(v.dim()) if d != dim]
    return (v.abs() ** pow).sum(axes, keepdim=True) ** (1.0 / pow) if axes else v.abs()


def _weight_norm(v: Tensor, g: Tensor, dim: int = 0) -> Tensor:
    return v * (g / norm_except_dim(v, 2, dim))


class _WeightNorm(Module):
    def __init__(self, dim: int | None = 0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        return norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Reparametrize ``module.<name>`` as ``g * v / ||v||`` (norm over every dimension but ``dim``)."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


class _SpectralNorm(Module):
    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12):
        super().__init__()
        ndim = weight.dim()
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            mat = self._reshape_weight_to_matrix(weight)
            h, w = mat.shape
            u = F.normalize(weight.new_empty(h).normal_(0, 1), dim=0, eps=self.eps)
            v = F.normalize(weight.new_empty(w).normal_(0, 1), dim=0, eps=self.eps)
            self.register_buffer("_u", u)
            self.register_buffer("_v", v)
            self._power_method(mat, 15)

    def _reshape_weight_to_matrix(self, weight):
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.dim()) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, mat, n):
        with no_grad():
            for _ in range(n):
                self._u.copy_(F.normalize(mat @ self._v, dim=0, eps=self.eps))
                self._v.copy_(F.normalize(mat.mT @ self._u, dim=0, eps=self.eps))

    def forward(self, weight):
        if weight.dim() == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(mat.detach(), self.n_power_iterations)
        u = self._u.clone()
        v = self._v.clone()
        sigma = (u * (mat @ v)).sum()
        return weight / sigma

    def right_inverse(self, value):
        return value


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12,
                  dim: int | None = None) -> Module:
    """Reparametrize ``module.<name>`` divided by its largest singular value (estimated by power iteration)."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        from ..modules.conv import ConvTranspose1d, ConvTranspose2d

        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d)) else 0
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


_MAPS = ("matrix_exp", "cayley", "householder")


def _positive_qr_q(A):
    """The Q of A = QR (A tall) for the R whose diagonal is non-negative: a unique orthogonal completion."""
    xp = xp_of(A._data)
    q, r = xp.linalg.qr(A._data)
    signs = xp.sign(xp.diagonal(r, axis1=-2, axis2=-1))
    signs = xp.where(signs == 0, 1, signs)
    return Tensor._make(q * signs[..., None, :])


def _householder_factors(Q):
    """LAPACK's geqrf of Q (through NumPy's raw QR): the reflectors below the diagonal and R above, and tau."""
    xp = xp_of(Q._data)
    flat = Q._data.reshape((-1,) + Q._data.shape[-2:])
    hs, taus = zip(*(xp.linalg.qr(m, mode="raw") for m in flat)) if flat.shape[0] else ((), ())
    A = xp.stack([h.T for h in hs]).reshape(Q._data.shape)
    tau = xp.stack(taus).reshape(Q._data.shape[:-2] + (taus[0].shape[-1],))
    return A, tau


class _Orthogonal(Module):
    """Maps an unconstrained tall (or, transposed, wide) matrix to one with orthonormal columns."""

    def __init__(self, weight, orthogonal_map, *, use_trivialization=True):
        super().__init__()
        if weight.is_complex() and orthogonal_map == "householder":
            raise ValueError("The householder parametrization does not support complex tensors.")
        self.shape = tuple(weight.shape)
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X):
        n, k = X.shape[-2], X.shape[-1]
        wide = n < k
        if wide:
            X = X.mT
            n, k = k, n
        if self.orthogonal_map in ("matrix_exp", "cayley"):
            X = X.tril()
            if n != k:  # embed the tall matrix in a square one
                from ...ops.joining import cat

                X = cat([X, X.new_zeros(X.shape[:-2] + (n, n - k))], -1)
            A = X - X.mT  # skew-symmetric
            if self.orthogonal_map == "matrix_exp":
                Q = linalg.matrix_exp(A)
            else:  # Cayley: (I - A/2)^{-1} (I + A/2)
                eye = Tensor._make(xp_of(A._data).eye(n, dtype=A._data.dtype))
                Q = linalg.solve(eye - 0.5 * A, eye + 0.5 * A)
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(-1)
            tau = 2.0 / (1.0 + (A * A).sum(-2))
            Q = linalg.householder_product(A, tau)
            # the diagonal of X holds the signs (+-1) of the reflections, not a free parameter
            Q = Q * X.diagonal(0, -2, -1).detach().to(ember_int).to(X.dtype).unsqueeze(-2)
        if getattr(self, "base", None) is not None:
            Q = self.base @ Q
        return Q.mT if wide else Q

    def right_inverse(self, Q):
        if tuple(Q.shape) != self.shape:
            raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. Got a tensor of shape "
                             f"{tuple(Q.shape)}.")
        with no_grad():
            target = Q
            n, k = Q.shape[-2], Q.shape[-1]
            wide = n < k
            if wide:
                Q = Q.mT
                n, k = k, n
            if "base" not in self._buffers:
                if self.orthogonal_map != "householder":
                    raise NotImplementedError("It is not possible to assign to the matrix exponential or the Cayley "
                                              "parametrizations when use_trivialization=False.")
                A, tau = _householder_factors(Q)
                xp = xp_of(A)
                d = xp.sign(xp.diagonal(A, axis1=-2, axis2=-1)).copy()
                d = xp.where(tau == 0, -d, d)
                idx = xp.arange(k)
                A[..., idx, idx] = d
                out = Tensor._make(A)
                return out.mT if wide else out
            if n == k:
                eye = Tensor._make(xp_of(Q._data).eye(k, dtype=Q._data.dtype))
                eps = 10.0 * n * float(xp_of(Q._data).finfo(Q._data.dtype).eps)
                orthogonal = bool(((Q.mT @ Q - eye).abs() <= eps).all())
                base = Q.clone() if orthogonal else _positive_qr_q(Q)
            else:  # complete the columns with random ones, then orthogonalise
                from ... import random as _random
                from ...ops.joining import cat

                extra = _random.randn(*(tuple(Q.shape[:-2]) + (n, n - k)), dtype=Q.dtype)
                base = _positive_qr_q(cat([Q, extra], -1))
            self.base = base
            # with original = -I every map gives the identity, so the weight starts as base (restricted to k columns)
            xp = xp_of(target._data)
            eye = xp.eye(target.shape[-2], target.shape[-1], dtype=target._data.dtype)
            return Tensor._make(-xp.broadcast_to(eye, tuple(target.shape)).copy())


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """Constrain ``module.<name>`` to have orthonormal columns (or rows, when wide).

    ``orthogonal_map`` is ``'matrix_exp'`` (the default for square matrices), ``'cayley'`` or ``'householder'``
    (the default otherwise). With ``use_trivialization`` the map is applied around a stored base point
    (buffer ``parametrizations.<name>.0.base``), so assigning an orthogonal matrix to ``module.<name>`` works.
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.dim() < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of {weight.dim()} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[-2] == weight.shape[-1] or weight.is_complex() else "householder"
    if orthogonal_map not in _MAPS:
        raise ValueError(f'orthogonal_map has to be one of "matrix_exp", "cayley", "householder". Got: {orthogonal_map}')
    orth = _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module
