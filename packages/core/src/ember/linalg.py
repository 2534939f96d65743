"""``ember.linalg``: PyTorch's ``torch.linalg`` (batched over leading dimensions, with gradients)."""

from .ops._lapack import LinAlgError
from .ops.linalg import matmul
from .ops.linalg_api import (cholesky, cholesky_ex, cross, det, diagonal, eig, eigh, eigvals, eigvalsh,
                             householder_product, inv, inv_ex, lstsq, lu, lu_factor, lu_factor_ex, lu_solve, matrix_exp,
                             matrix_norm, matrix_power, matrix_rank, multi_dot, norm, pinv, qr, slogdet, solve,
                             solve_ex, solve_triangular, svd, svdvals, tensorinv, tensorsolve, vecdot, vector_norm)

__all__ = ["LinAlgError", "cholesky", "cholesky_ex", "cross", "det", "diagonal", "eig", "eigh", "eigvals", "eigvalsh",
           "householder_product", "inv", "inv_ex", "lstsq", "lu", "lu_factor", "lu_factor_ex", "lu_solve", "matmul",
           "matrix_exp", "matrix_norm", "matrix_power", "matrix_rank", "multi_dot", "norm", "pinv", "qr", "slogdet",
           "solve", "solve_ex", "solve_triangular", "svd", "svdvals", "tensorinv", "tensorsolve", "vecdot",
           "vector_norm"]
