"""ember.linalg against values and gradients recorded from torch.linalg (fixtures/record_linalg.py), float64
gradient checks, and PyTorch's errors."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

import ember
from ember import linalg as LA
from ember.autograd import gradcheck

REF = np.load(pathlib.Path(__file__).parent / "fixtures" / "linalg_ref.npz")
INF = float("inf")

CASES = {
    "inv": LA.inv,
    "det": LA.det,
    "slogdet": lambda a: LA.slogdet(a)[1],
    "logdet": ember.logdet,
    "solve": LA.solve,
    "solve_vec": LA.solve,
    "solve_right": lambda a, b: LA.solve(a, b, left=False),
    "solve_tri_upper": lambda a, b: LA.solve_triangular(a, b, upper=True),
    "solve_tri_lower_unit_right": lambda a, b: LA.solve_triangular(a, b, upper=False, left=False, unitriangular=True),
    "cholesky": LA.cholesky,
    "cholesky_upper": lambda a: LA.cholesky(a, upper=True),
    "qr_tall": LA.qr,
    "qr_wide": LA.qr,
    "qr_complete": lambda a: LA.qr(a, mode="complete"),
    "qr_r": lambda a: LA.qr(a, mode="r")[1],
    "eigh": lambda a: (LA.eigh(a)[0], LA.eigh(a)[1] ** 2),
    "eigh_U": lambda a: (LA.eigh(a, UPLO="U")[0], LA.eigh(a, UPLO="U")[1] ** 2),
    "eigvalsh": LA.eigvalsh,
    "svd_tall": lambda a: (LA.svd(a, full_matrices=False)[0] ** 2, LA.svd(a, full_matrices=False)[1],
                           LA.svd(a, full_matrices=False)[2] ** 2),
    "svdvals": LA.svdvals,
    "pinv": LA.pinv,
    "pinv_rank_deficient": LA.pinv,
    "lstsq": lambda a, b: LA.lstsq(a, b).solution,
    "matrix_power3": lambda a: LA.matrix_power(a, 3),
    "matrix_power_m2": lambda a: LA.matrix_power(a, -2),
    "matrix_exp": LA.matrix_exp,
    "matrix_exp_big": LA.matrix_exp,
    "vector_norm_zero": LA.vector_norm,
    "norm_default": LA.norm,
    "vecdot": LA.vecdot,
    "cross": LA.cross,
    "multi_dot": lambda a, b, c, d: LA.multi_dot([a, b, c, d]),
    "lu": LA.lu,
    "lu_wide": LA.lu,
    "lu_tall": LA.lu,
    "householder_product": LA.householder_product,
    "tensorinv": lambda a: LA.tensorinv(a, ind=1),
    "tensorsolve": LA.tensorsolve,
    "cholesky_solve": ember.cholesky_solve,
    "cholesky_inverse": ember.cholesky_inverse,
    "triangular_solve": lambda b, a: ember.triangular_solve(b, a, upper=False, transpose=True)[0],
}
CASES["svd_wide"] = CASES["svd_tall"]
for _o in ("fro", "nuc", 1, -1, 2, -2, INF, -INF):
    CASES[f"matrix_norm_{_o}"] = lambda a, o=_o: LA.matrix_norm(a, o)
for _o in (2, 1, 3, 0.5, INF, -INF, 0):
    CASES[f"vector_norm_{_o}"] = lambda a, o=_o: LA.vector_norm(a, o, dim=-1)


def _inputs(name):
    n = 0
    while f"{name}/x{n}" in REF:
        n += 1
    return [REF[f"{name}/x{j}"] for j in range(n)]


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients_match_pytorch(name):
    xs = [ember.tensor(x, requires_grad=True) for x in _inputs(name)]
    res = CASES[name](*xs)
    res = tuple(res) if isinstance(res, tuple) else (res,)
    loss = None
    for i, r in enumerate(res):
        expected = REF[f"{name}/in{len(xs)}/out{i}"]
        np.testing.assert_allclose(r.detach().numpy(), expected, rtol=1e-7, atol=1e-9, err_msg=f"{name} output {i}")
        if f"{name}/w{i}" in REF:
            term = (r * ember.tensor(REF[f"{name}/w{i}"])).sum()
            loss = term if loss is None else loss + term
    if loss is None or not any(k.startswith(f"{name}/g") for k in REF.files):
        return
    grads = ember.autograd.grad(loss, xs, allow_unused=True)
    for j, g in enumerate(grads):
        key = f"{name}/g{j}"
        if key in REF:
            assert g is not None, f"{name}: no gradient for input {j}"
            np.testing.assert_allclose(g.numpy(), REF[key], rtol=1e-6, atol=1e-8, err_msg=f"{name} grad {j}")


def test_lu_factor_and_lu_solve_match_pytorch():
    A = ember.tensor(REF["inv/x0"])
    LU, piv = LA.lu_factor(A)
    np.testing.assert_allclose(LU.numpy(), REF["lu_factor/LU"], rtol=1e-12)
    np.testing.assert_array_equal(piv.numpy(), REF["lu_factor/pivots"])
    assert piv.dtype == ember.int32
    B = ember.tensor(REF["lu_solve/B"])
    np.testing.assert_allclose(LA.lu_solve(LU, piv, B).numpy(), REF["lu_solve/X"], rtol=1e-10)
    np.testing.assert_allclose(LA.lu_solve(LU, piv, B, adjoint=True).numpy(), REF["lu_solve/Xadj"], rtol=1e-10)
    np.testing.assert_allclose(LA.lu_solve(LU, piv, B.mT, left=False).numpy(), REF["lu_solve/Xright"], rtol=1e-10)
    P, L, U = ember.lu_unpack(LU, piv)
    np.testing.assert_allclose((P @ L @ U).numpy(), A.numpy(), atol=1e-12)


def _rand(*shape, seed=0):
    return ember.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


def _spd(x):
    return x @ x.mT + 3 * ember.eye(x.shape[-1], dtype=ember.float64)


GRADCHECKS = {
    "inv": (lambda a: LA.inv(a), [(2, 3, 3)]),
    "det": (lambda a: LA.det(a), [(2, 3, 3)]),
    "slogdet": (lambda a: LA.slogdet(a).logabsdet, [(3, 3)]),
    "solve": (lambda a, b: LA.solve(a, b), [(2, 3, 3), (3, 2)]),
    "solve_triangular": (lambda a, b: LA.solve_triangular(a, b, upper=True, left=False), [(3, 3), (2, 3)]),
    "cholesky": (lambda x: LA.cholesky(_spd(x)), [(2, 3, 3)]),
    "qr_tall": (lambda a: LA.qr(a), [(4, 3)]),
    "qr_wide": (lambda a: LA.qr(a), [(2, 4)]),
    "eigh": (lambda x: tuple(t if i == 0 else t ** 2 for i, t in enumerate(LA.eigh(x + x.mT))), [(3, 3)]),
    "svd": (lambda a: tuple(t ** 2 for t in LA.svd(a, full_matrices=False)), [(4, 3)]),
    "svd_wide": (lambda a: (LA.svd(a, full_matrices=False).U ** 2, LA.svd(a, full_matrices=False).Vh ** 2), [(2, 4)]),
    "pinv": (lambda a: LA.pinv(a), [(4, 3)]),
    "matrix_exp": (lambda a: LA.matrix_exp(a), [(3, 3)]),
    "matrix_power": (lambda a: LA.matrix_power(a, -3), [(3, 3)]),
    "lu": (lambda a: LA.lu(a)[1:], [(3, 3)]),
    "householder": (lambda a, t: LA.householder_product(a, t), [(4, 3), (2,)]),
    "vector_norm_3": (lambda a: LA.vector_norm(a, 3, dim=1), [(2, 4)]),
    "matrix_norm_nuc": (lambda a: LA.matrix_norm(a, "nuc"), [(3, 4)]),
}


@pytest.mark.parametrize("name", sorted(GRADCHECKS))
def test_gradcheck_float64(name):
    fn, shapes = GRADCHECKS[name]
    assert gradcheck(fn, [_rand(*s, seed=i + 7) for i, s in enumerate(shapes)])


@pytest.mark.parametrize("name", ["inv", "det", "solve", "matrix_exp", "pinv", "cholesky"])
def test_double_backward(name):
    fn, shapes = GRADCHECKS[name]
    assert ember.autograd.gradgradcheck(fn, [_rand(*s, seed=i + 3) for i, s in enumerate(shapes)])


def test_singular_and_non_positive_definite_inputs_raise_pytorchs_errors():
    A = ember.tensor([[[1.0, 2.0], [2.0, 4.0]], [[1.0, 0.0], [0.0, 1.0]]])
    assert issubclass(LA.LinAlgError, RuntimeError)
    # PyTorch's class hierarchy: torch.linalg.LinAlgError is torch._C._LinAlgError (so `except` names either)
    assert LA.LinAlgError is ember._C._LinAlgError and LA.LinAlgError.__mro__[1] is RuntimeError
    with pytest.raises(ember._C._LinAlgError, match="the input matrix is singular"):
        ember.inverse(ember.tensor([[0.0, 0.0], [2.0, 2.0]], dtype=ember.float64))
    with pytest.raises(LA.LinAlgError, match=r"linalg.inv: \(Batch element 0\): The diagonal element 2 is zero"):
        LA.inv(A)
    with pytest.raises(LA.LinAlgError, match="The solver failed because the input matrix is singular"):
        LA.solve(A, ember.ones(2, 2, 1))
    with pytest.raises(LA.LinAlgError, match=r"leading minor of order 2 is not positive-definite"):
        LA.cholesky(ember.tensor([[1.0, 2.0], [2.0, 1.0]]))
    inverse, info = LA.inv_ex(A)
    assert info.tolist() == [2, 0] and info.dtype == ember.int32
    L, info = LA.cholesky_ex(ember.tensor([[1.0, 2.0], [2.0, 1.0]]))
    assert int(info) == 2
    with pytest.raises(RuntimeError, match="A must be batches of square matrices, but they are 2 by 3 matrices"):
        LA.inv(ember.ones(2, 3))
    with pytest.raises(RuntimeError, match="Expected a floating point or complex tensor as input. Got Long"):
        LA.inv(ember.ones(2, 2, dtype=ember.int64))
    with pytest.raises(RuntimeError, match="deprecated since version 1.9"):
        ember.symeig(ember.eye(2))
    with pytest.raises(RuntimeError, match="mode='r'"):
        LA.qr(_rand(3, 2), mode="r")[1].sum().backward()


def test_determinant_of_a_singular_matrix_has_the_cofactor_gradient():
    A = ember.tensor([[1.0, 2.0], [2.0, 4.0]], dtype=ember.float64, requires_grad=True)
    LA.det(A).backward()
    np.testing.assert_allclose(A.grad.numpy(), [[4.0, -2.0], [-2.0, 1.0]], atol=1e-12)  # adj(A)^T


def test_old_names_and_tensor_methods():
    A = _rand(3, 3)
    np.testing.assert_allclose(ember.det(A).item(), np.linalg.det(A.detach().numpy()))
    np.testing.assert_allclose(A.inverse().detach().numpy(), np.linalg.inv(A.detach().numpy()), rtol=1e-10)
    U, S, V = ember.svd(A)
    np.testing.assert_allclose((U * S @ V.mT).detach().numpy(), A.detach().numpy(), atol=1e-12)
    Q, R = A.qr()
    np.testing.assert_allclose((Q @ R).detach().numpy(), A.detach().numpy(), atol=1e-12)
    assert ember.matrix_power(A, 2).shape == (3, 3) and A.pinverse().shape == (3, 3)
    LU, piv = A.lu()
    np.testing.assert_allclose(LU.detach().numpy(), LA.lu_factor(A)[0].detach().numpy())
    assert float(ember.logdet(-ember.eye(3, dtype=ember.float64))) != float(ember.logdet(-ember.eye(3, dtype=ember.float64)))


def test_batching_broadcasts_solve_and_matrix_power_zero():
    A = _rand(4, 1, 3, 3)
    B = _rand(5, 3, 2)
    assert LA.solve(A, B).shape == (4, 5, 3, 2)
    assert LA.matrix_power(_rand(2, 3, 3), 0).tolist() == np.broadcast_to(np.eye(3), (2, 3, 3)).tolist()
    assert LA.multi_dot([_rand(10, 100), _rand(100, 5), _rand(5, 50)]).shape == (10, 50)


def test_vector_norm_gradient_at_zero_is_zero():
    x = ember.zeros(3, dtype=ember.float64, requires_grad=True)
    LA.vector_norm(x).backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


def test_eig_values_and_gradient_match_pytorch():
    ref = np.load(pathlib.Path(__file__).parent / "fixtures" / "eig_ref.npz")
    A = ember.tensor(ref["A"], requires_grad=True)
    L, V = LA.eig(A)
    assert L.dtype == ember.complex128 and V.dtype == ember.complex128
    np.testing.assert_allclose(L.detach().numpy(), ref["L"], rtol=1e-10)
    np.testing.assert_allclose(np.abs(V.detach().numpy()), np.abs(ref["V"]), rtol=1e-10)
    weights = ember.arange(1.0, 5.0, dtype=ember.float64)
    loss = (L.real * weights).sum() + (L.abs() ** 2).sum() + (V.abs() ** 2 * ember.tensor(ref["W"])).sum()
    loss.backward()
    np.testing.assert_allclose(A.grad.numpy(), ref["gA"], rtol=1e-8, atol=1e-10)
    assert LA.eigvals(ember.eye(2)).dtype == ember.complex64


def test_eig_phase_dependent_loss_is_an_error():
    A = ember.tensor(np.random.default_rng(1).standard_normal((3, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match="specified up to multiplication by e\\^\\{i phi\\}"):
        LA.eig(A).eigenvectors.real.sum().backward()


def test_svdvals_without_grad_computes_no_vectors(monkeypatch):
    from ember.ops import linalg_api

    a = np.random.default_rng(0).standard_normal((2, 5, 3))
    with_grad = LA.svdvals(ember.tensor(a, requires_grad=True))
    monkeypatch.setattr(linalg_api.SVD, "apply", lambda *args: pytest.fail("vectors computed for svdvals"))
    for t in (ember.tensor(a), ember.tensor(a, requires_grad=True)):
        with ember.no_grad():
            s = LA.svdvals(t)
        np.testing.assert_allclose(s.numpy(), np.linalg.svd(a, compute_uv=False), rtol=1e-12)
        assert s.shape == (2, 3) and s.dtype == ember.float64 and not s.requires_grad
    np.testing.assert_allclose(with_grad.detach().numpy(), s.numpy(), rtol=1e-12)
    assert with_grad.requires_grad


def test_eigvalsh_without_grad_computes_no_vectors(monkeypatch):
    from ember.ops import linalg_api

    x = np.random.default_rng(1).standard_normal((2, 4, 4))
    a = x + np.swapaxes(x, -1, -2)
    low = np.tril(a) + np.triu(np.full_like(a, 9.0), 1)  # only the lower triangle is read (UPLO="L")
    with_grad = LA.eigvalsh(ember.tensor(low, requires_grad=True))
    monkeypatch.setattr(linalg_api.Eigh, "apply", lambda *args: pytest.fail("vectors computed for eigvalsh"))
    w = LA.eigvalsh(ember.tensor(low))
    np.testing.assert_allclose(w.numpy(), np.linalg.eigvalsh(a), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(LA.eigvalsh(ember.tensor(np.swapaxes(low, -1, -2)), UPLO="U").numpy(), w.numpy(), rtol=1e-12)
    np.testing.assert_allclose(with_grad.detach().numpy(), w.numpy(), rtol=1e-12, atol=1e-12)
    assert w.shape == (2, 4) and w.dtype == ember.float64 and with_grad.requires_grad
    with pytest.raises(RuntimeError, match="Expected UPLO argument to be 'L' or 'U', but got X"):
        LA.eigvalsh(ember.tensor(a), UPLO="X")
    with pytest.raises(RuntimeError, match="linalg.eigh: A must be batches of square matrices, but they are 2 by 3"):
        LA.eigvalsh(ember.ones(2, 3, dtype=ember.float64))
