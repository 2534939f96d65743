"""linalg.solve's two CPU paths: one LU through the LAPACK NumPy links (``ops/_lapack_native``, reused by the
backward) for large matrices, NumPy's gesv (its batch shared among threads) for small ones. Both must give
the same values, gradients, broadcasting and errors; the thresholds are lowered here so small inputs take
the native path."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import linalg as LA
from ember import _fast
from ember.autograd import gradcheck, gradgradcheck
from ember.ops import _lapack_native, linalg_decomp

from tests.core._numba import HAVE_NUMBA

pytestmark = pytest.mark.skipif(not _lapack_native.available(np.float64), reason="NumPy's LAPACK symbols not found")


@pytest.fixture(autouse=True)
def _lapack_only(monkeypatch):
    """LAPACK's getrf/getrs, unless a test asks for the compiled loops (:func:`compiled`)."""
    monkeypatch.setattr(_lapack_native, "_COMPILED_MAX", {})
    monkeypatch.setattr(_lapack_native, "_COMPILED_SOLVE_MAX", -1)


def _use_compiled(monkeypatch):
    if not HAVE_NUMBA:
        pytest.skip("numba (the ember[fast] extra) is not installed")
    monkeypatch.delenv("EMBER_NO_FAST", raising=False)
    monkeypatch.setattr(_lapack_native, "_COMPILED_MAX", {"float32": 10**9, "float64": 10**9})
    monkeypatch.setattr(_lapack_native, "_COMPILED_SOLVE_MAX", 10**9)
    monkeypatch.setattr(_lapack_native, "_COMPILED_SHARE_MIN", 0)  # every batch shared out
    monkeypatch.setattr(_fast, "_threads", lambda: 2)


@pytest.fixture
def compiled(monkeypatch):
    """The compiled LU loops of ``ember/_fast_lu.py`` (``ember[fast]``) at every order, batches shared out."""
    _use_compiled(monkeypatch)


@pytest.fixture(params=["native", "gesv", "compiled"])
def path(request, monkeypatch):
    if request.param == "compiled":
        _use_compiled(monkeypatch)
    if request.param in ("native", "compiled"):
        monkeypatch.setattr(linalg_decomp, "_NATIVE_MIN", {"float32": 1, "float64": 1})
        monkeypatch.setattr(linalg_decomp, "_NATIVE_MIN_GRAD", 1)
    else:
        monkeypatch.setattr(linalg_decomp, "_NATIVE_MIN", {"float32": 10**9, "float64": 10**9})
        monkeypatch.setattr(linalg_decomp, "_NATIVE_MIN_GRAD", 10**9)
        monkeypatch.setattr(_fast, "_threads", lambda: 2)  # the batch split, whatever the machine's load
    return request.param


def _well(shape, seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) + 3 * np.eye(shape[-1])).astype(dtype)


@pytest.mark.parametrize("a_shape,b_shape", [((5, 5), (5, 3)), ((6, 4, 4), (6, 4, 2)), ((4, 4), (3, 4, 2)),
                                             ((2, 1, 3, 3), (5, 3, 1)), ((7, 3, 3), (3,)), ((6, 4, 4), (6, 4, 0))])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_values_and_broadcasting_match_numpy(path, a_shape, b_shape, dtype):
    a = _well(a_shape, 0, dtype)
    b = np.random.default_rng(1).standard_normal(b_shape).astype(dtype)
    x = LA.solve(ember.tensor(a), ember.tensor(b))
    vec = len(b_shape) == 1
    batch = np.broadcast_shapes(a_shape[:-2], b_shape[:-2] if not vec else ())
    ref = np.linalg.solve(np.broadcast_to(a, batch + a_shape[-2:]).astype(np.float64),
                          np.broadcast_to(b[..., None] if vec else b, batch + (b_shape[0] if vec else b_shape[-2],
                                                                              1 if vec else b_shape[-1])))
    ref = ref[..., 0] if vec else ref
    assert x.shape == ref.shape and x.dtype == ember.tensor(a).dtype
    np.testing.assert_allclose(x.numpy(), ref, rtol=1e-4 if dtype == np.float32 else 1e-12, atol=1e-5 if dtype == np.float32 else 1e-12)


def test_left_false_and_solve_triangular(path):
    a, b = _well((3, 4, 4), 2), np.random.default_rng(3).standard_normal((3, 2, 4))
    x = LA.solve(ember.tensor(a), ember.tensor(b), left=False)
    np.testing.assert_allclose(x.numpy() @ a, b, atol=1e-12)
    u = np.triu(a)
    y = LA.solve_triangular(ember.tensor(a), ember.tensor(b.swapaxes(-1, -2)), upper=True)
    np.testing.assert_allclose(u @ y.numpy(), b.swapaxes(-1, -2), atol=1e-12)


@pytest.mark.parametrize("shapes", [[(2, 3, 3), (2, 3, 2)], [(3, 3), (4, 3, 2)], [(2, 1, 3, 3), (3, 3, 1)]])
def test_gradients_float64(path, shapes):
    a = ember.tensor(_well(shapes[0], 4), requires_grad=True)
    b = ember.tensor(np.random.default_rng(5).standard_normal(shapes[1]), requires_grad=True)
    assert gradcheck(LA.solve, [a, b])
    assert gradgradcheck(LA.solve, [a, b])  # create_graph: the backward as tensor ops


def test_only_one_grad_and_vector_rhs(path):
    a = ember.tensor(_well((4, 4), 6), requires_grad=True)
    b = ember.tensor(np.random.default_rng(7).standard_normal(4))
    assert gradcheck(lambda m: LA.solve(m, b), [a])
    b.requires_grad_(True)
    assert gradcheck(lambda v: LA.solve(a.detach(), v), [b])


def test_backward_reuses_the_forward_factorisation(monkeypatch):
    monkeypatch.setattr(linalg_decomp, "_NATIVE_MIN_GRAD", 1)
    calls = []
    factor = _lapack_native.lu_factor
    monkeypatch.setattr(_lapack_native, "lu_factor", lambda a: calls.append(a.shape) or factor(a))
    a = ember.tensor(_well((2, 5, 5), 8), requires_grad=True)
    b = ember.tensor(np.random.default_rng(9).standard_normal((2, 5, 3)), requires_grad=True)
    LA.solve(a, b).sum().backward()
    assert calls == [(2, 5, 5)]
    g = np.linalg.solve(np.swapaxes(a.detach().numpy(), -1, -2), np.ones((2, 5, 3)))
    np.testing.assert_allclose(b.grad.numpy(), g, atol=1e-12)
    np.testing.assert_allclose(a.grad.numpy(), -g @ np.swapaxes(LA.solve(a, b).detach().numpy(), -1, -2), atol=1e-12)


def test_singular_batch_raises_pytorchs_error(path):
    a = np.stack([np.eye(3), [[1.0, 2, 3], [2, 4, 6], [0, 0, 1]], np.eye(3)])
    with pytest.raises(LA.LinAlgError, match=r"torch.linalg.solve: \(Batch element 1\): The solver failed because "
                                             r"the input matrix is singular."):
        LA.solve(ember.tensor(a), ember.ones(3, 3, 2, dtype=ember.float64))
    info = LA.solve_ex(ember.tensor(a), ember.ones(3, 3, 2, dtype=ember.float64)).info
    assert info.tolist() == [0, 2, 0]


def test_numpy_gesv_when_the_symbols_are_missing(monkeypatch):
    monkeypatch.setattr(_lapack_native, "_routines", {})
    monkeypatch.setattr(linalg_decomp, "_NATIVE_MIN_GRAD", 1)
    assert not _lapack_native.available(np.float64)
    a = ember.tensor(_well((3, 3), 10), requires_grad=True)
    b = ember.tensor(np.ones((3, 2)), requires_grad=True)
    x = LA.solve(a, b)
    np.testing.assert_allclose(x.detach().numpy(), np.linalg.solve(a.detach().numpy(), np.ones((3, 2))), rtol=1e-12)
    assert gradcheck(LA.solve, [a, b])


def test_large_matrices_take_the_native_path_and_agree(monkeypatch):
    calls = []
    factor = _lapack_native.lu_factor
    monkeypatch.setattr(_lapack_native, "lu_factor", lambda a: calls.append(a.dtype) or factor(a))
    monkeypatch.setattr(linalg_decomp._parallel, "active_threads", lambda: 1)
    for dtype, n in ((np.float64, 128), (np.float32, 64)):
        a = _well((2, n, n), 11, dtype) + n * np.eye(n, dtype=dtype)
        b = np.random.default_rng(12).standard_normal((2, n, 4)).astype(dtype)
        x = LA.solve(ember.tensor(a), ember.tensor(b)).numpy()
        np.testing.assert_allclose(x, np.linalg.solve(a.astype(np.float64), b), rtol=1e-4 if dtype == np.float32 else 1e-10)
    assert calls == [np.float64, np.float32]


def _two_threads(monkeypatch):
    """The blocked LU runs with a second thread only: pretend two (without changing OpenBLAS's count)."""
    from ember import _parallel

    monkeypatch.setattr(_parallel, "active_threads", lambda: 2)
    monkeypatch.setattr(_parallel, "_set_blas_threads", lambda n: None)


@pytest.fixture
def small_blocks(monkeypatch):
    """The blocked LU (``_lapack_native._blocked``) on small matrices: panels of 8 columns from order 1."""
    monkeypatch.setattr(_lapack_native, "_BLOCK", {"float32": 8, "float64": 8})
    monkeypatch.setattr(_lapack_native, "_BLOCKED_MIN", {"float32": 1, "float64": 1})
    _two_threads(monkeypatch)


@pytest.mark.parametrize("n", [1, 7, 8, 9, 16, 17, 23])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_blocked_lu_equals_getrf(monkeypatch, n, dtype):
    a = np.random.default_rng(n).standard_normal((3, n, n)).astype(dtype)
    lu0, piv0, info0 = _lapack_native.lu_factor(a)  # getrf on each whole matrix
    monkeypatch.setattr(_lapack_native, "_BLOCK", {"float32": 8, "float64": 8})
    monkeypatch.setattr(_lapack_native, "_BLOCKED_MIN", {"float32": 1, "float64": 1})
    _two_threads(monkeypatch)
    lu, piv, info = _lapack_native.lu_factor(a)
    tol = 1e-4 if dtype == np.float32 else 1e-11
    np.testing.assert_array_equal(piv, piv0)
    np.testing.assert_allclose(lu, lu0, rtol=tol, atol=tol)
    assert info.tolist() == info0.tolist() == [0, 0, 0]
    b = np.random.default_rng(1).standard_normal((3, n, 2)).astype(dtype)
    for transpose in (False, True):
        x = _lapack_native.lu_solve(lu, piv, b, transpose)
        ref = np.linalg.solve(np.swapaxes(a, -1, -2) if transpose else a, b)
        np.testing.assert_allclose(x, ref, rtol=10 * tol, atol=10 * tol)


def test_blocked_lu_reports_the_first_zero_pivot_past_a_panel(small_blocks):
    # A^T (what LAPACK factorises) upper triangular with a zero column 13: L = I, the first zero pivot is 14
    m = np.triu(np.random.default_rng(2).standard_normal((20, 20)), 1) + np.eye(20)
    m[13, 13] = 0.0
    a = np.stack([np.eye(20), m.T, m.T])
    _, _, info = _lapack_native.lu_factor(a)
    assert info.tolist() == [0, 14, 14]


def test_blocked_lu_singular_batch_element_raises_pytorchs_error(small_blocks, monkeypatch):
    monkeypatch.setattr(linalg_decomp, "_NATIVE_MIN", {"float32": 1, "float64": 1})
    a = np.stack([_well((12, 12), 3), _well((12, 12), 4), _well((12, 12), 5)])
    a[1, 10] = 0.0  # A^T's column 10 stays exactly zero: a zero pivot in the second panel
    assert _lapack_native.lu_factor(a)[2].tolist() == [0, 11, 0]
    with pytest.raises(LA.LinAlgError, match=r"torch.linalg.solve: \(Batch element 1\): The solver failed because "
                                             r"the input matrix is singular."):
        LA.solve(ember.tensor(a), ember.ones(3, 12, 2, dtype=ember.float64))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_blocked_lu_at_the_default_block_size(monkeypatch, dtype):
    _two_threads(monkeypatch)
    calls = []
    blocked = _lapack_native._blocked
    monkeypatch.setattr(_lapack_native, "_blocked", lambda *args: calls.append(args[2]) or blocked(*args))
    name = np.dtype(dtype).name
    n = _lapack_native._BLOCKED_MIN[name] + _lapack_native._BLOCK[name] // 2 + 1  # a partial last panel
    a = (_well((n, n), 13) + np.sqrt(n) * np.eye(n)).astype(dtype)
    b = np.random.default_rng(14).standard_normal((n, 3)).astype(dtype)
    A, B = ember.tensor(a, requires_grad=True), ember.tensor(b, requires_grad=True)
    x = LA.solve(A, B)
    ref = np.linalg.solve(a.astype(np.float64), b.astype(np.float64))
    tol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(x.detach().numpy(), ref, rtol=tol, atol=tol)
    x.sum().backward()
    g = np.linalg.solve(a.T.astype(np.float64), np.ones((n, 3)))
    np.testing.assert_allclose(B.grad.numpy(), g, rtol=tol, atol=tol)
    np.testing.assert_allclose(A.grad.numpy(), -g @ ref.T, rtol=tol, atol=tol)
    assert calls == [n]  # one factorisation, reused by the backward


def test_blocked_lu_runs_each_panel_on_one_blas_thread_and_restores_the_count(small_blocks, monkeypatch):
    from ember import _parallel

    calls = []
    monkeypatch.setattr(_parallel, "_set_blas_threads", calls.append)
    a = _well((20, 20), 15)
    lu, piv, info = _lapack_native.lu_factor(a)
    assert calls == [1, 2] * 3  # three panels of 8, 8 and 4 columns
    np.testing.assert_allclose(_lapack_native.lu_solve(lu, piv, np.eye(20)), np.linalg.inv(a), atol=1e-12)


def test_one_thread_keeps_getrf(small_blocks, monkeypatch):
    from ember import _parallel

    monkeypatch.setattr(_parallel, "active_threads", lambda: 1)
    monkeypatch.setattr(_lapack_native, "_blocked", lambda *args: pytest.fail("blocked LU on one thread"))
    a = _well((2, 20, 20), 16)
    lu, piv, info = _lapack_native.lu_factor(a)
    np.testing.assert_allclose(_lapack_native.lu_solve(lu, piv, np.ones((2, 20, 1))), np.linalg.solve(a, np.ones((2, 20, 1))),
                               atol=1e-12)


def test_a_batch_shared_among_threads_goes_to_numpy_without_a_backward(monkeypatch):
    """With two threads a forward-only batch of small matrices is solved by NumPy's gufunc, one share per
    thread; with a backward to come (it reuses the LU) or a single matrix, the native path stays."""
    calls = []
    factor = _lapack_native.lu_factor
    monkeypatch.setattr(_lapack_native, "lu_factor", lambda a: calls.append(a.shape) or factor(a))
    monkeypatch.setattr(linalg_decomp._parallel, "active_threads", lambda: 2)
    a = _well((4, 64, 64), 13, np.float32) + 64 * np.eye(64, dtype=np.float32)
    b = np.random.default_rng(14).standard_normal((4, 64, 3)).astype(np.float32)
    x = LA.solve(ember.tensor(a), ember.tensor(b)).numpy()
    np.testing.assert_allclose(x, np.linalg.solve(a.astype(np.float64), b), rtol=1e-4)
    assert calls == []
    LA.solve(ember.tensor(a[0]), ember.tensor(b[0]))
    ag = ember.tensor(a, requires_grad=True)
    LA.solve(ag, ember.tensor(b)).sum().backward()
    assert calls == [(64, 64), (4, 64, 64)]


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 13, 17, 64])  # every n % 4, one and several groups of 4
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_compiled_lu_equals_getrf(monkeypatch, n, dtype):
    a = np.random.default_rng(n).standard_normal((5, n, n)).astype(dtype)
    a[3] = a[3] + 4 * np.eye(n, dtype=dtype)
    lu0, piv0, info0 = _lapack_native.lu_factor(a)
    _use_compiled(monkeypatch)
    lu, piv, info = _lapack_native.lu_factor(a)
    tol = 2e-4 if dtype == np.float32 else 1e-11
    np.testing.assert_array_equal(piv, piv0)
    np.testing.assert_allclose(lu, lu0, rtol=tol, atol=tol)
    assert info.tolist() == info0.tolist() == [0] * 5
    well = (a + 2 * n * np.eye(n, dtype=dtype)).astype(dtype)  # the solves, on well-conditioned matrices
    lu, piv, _ = _lapack_native.lu_factor(well)
    for k in (1, 3, 4, 6):  # right-hand sides solved four at a time, the last group padded
        b = np.random.default_rng(k).standard_normal((7, 5, n, k)).astype(dtype)
        for transpose in (False, True):
            x = _lapack_native.lu_solve(lu, piv, b.reshape(35, n, k), transpose, np.tile(np.arange(5), 7))
            m = np.swapaxes(well, -1, -2) if transpose else well
            np.testing.assert_allclose(x.reshape(b.shape), np.linalg.solve(m.astype(np.float64), b),
                                       rtol=10 * tol, atol=10 * tol)


def test_compiled_lu_divides_by_a_subnormal_pivot(monkeypatch):
    # below the smallest normal number the reciprocal of the pivot overflows: the multipliers are divided
    # (OpenBLAS's getrf leaves such a column unreduced). M = A^T = [[3, 2], [1, 5]] 1e-310: no row swap,
    # L's multiplier 1/3, U = [[3, 2], [0, 5 - 2/3]] 1e-310; row i of the result holds column i of M's factors
    _use_compiled(monkeypatch)
    lu, piv, info = _lapack_native.lu_factor(np.array([[3e-310, 1e-310], [2e-310, 5e-310]]))
    np.testing.assert_allclose(lu[0], [[3e-310, 1 / 3], [2e-310, 13 / 3 * 1e-310]], rtol=1e-12, atol=0)
    assert piv.tolist() == [[1, 2]] and int(info) == 0


def test_compiled_lu_known_factors(compiled):
    # A = [[0, 1], [2, 3]]: LAPACK factorises M = A^T = [[0, 2], [1, 3]]; pivot row 2, L = [[1, 0], [0, 1]],
    # U = [[1, 3], [0, 2]] (rows swapped: M' = [[1, 3], [0, 2]])
    lu, piv, info = _lapack_native.lu_factor(np.array([[0.0, 1.0], [2.0, 3.0]]))
    np.testing.assert_array_equal(np.swapaxes(lu[0], -1, -2), [[1.0, 3.0], [0.0, 2.0]])  # the batch of one
    assert piv.tolist() == [[2, 2]] and int(info) == 0


def test_compiled_lu_reports_the_first_zero_pivot_and_goes_on(compiled):
    m = np.triu(np.random.default_rng(2).standard_normal((9, 9)), 1) + np.eye(9)
    m[4, 4] = 0.0
    m[6, 6] = 0.0
    lu, piv, info = _lapack_native.lu_factor(np.stack([np.eye(9), m.T]))
    assert info.tolist() == [0, 5]
    np.testing.assert_allclose(np.swapaxes(lu[1], -1, -2), m)  # nothing to eliminate: U is M itself


def test_compiled_path_off_without_numba_or_with_ember_no_fast(monkeypatch):
    monkeypatch.setattr(_lapack_native, "_COMPILED_MAX", {"float32": 64, "float64": 128})
    monkeypatch.setenv("EMBER_NO_FAST", "1")
    assert _lapack_native.compiled(np.float64, 8) is None
    monkeypatch.delenv("EMBER_NO_FAST")
    assert (_lapack_native.compiled(np.float64, 8) is not None) == HAVE_NUMBA
    assert _lapack_native.compiled(np.float64, 129) is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 3), (2, 5, 5)])
def test_inverse_through_the_native_lu(monkeypatch, shape, dtype):
    monkeypatch.setattr(linalg_decomp, "_INV_NATIVE_MIN", {"float32": 1, "float64": 1})
    calls = []
    factor = _lapack_native.lu_factor
    monkeypatch.setattr(_lapack_native, "lu_factor", lambda a: calls.append(a.shape) or factor(a))
    a = np.random.default_rng(3).standard_normal(shape).astype(dtype) + 3 * np.eye(shape[-1], dtype=dtype)
    inv = LA.inv(ember.tensor(a))
    assert calls and inv.dtype == ember.tensor(a).dtype and inv.shape == shape
    tol = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(inv.numpy(), np.linalg.inv(a.astype(np.float64)), rtol=tol, atol=tol)
    singular = np.stack([np.eye(3), np.diag([1.0, 0.0, 2.0])]).astype(dtype)
    with pytest.raises(LA.LinAlgError, match=r"linalg.inv: \(Batch element 1\): The diagonal element 2 is zero"):
        LA.inv(ember.tensor(singular))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_determinant_from_the_native_lu(monkeypatch, dtype):
    monkeypatch.setattr(linalg_decomp, "_DET_NATIVE_MIN", {"float32": 1, "float64": 1})
    calls = []
    factor = _lapack_native.lu_factor
    monkeypatch.setattr(_lapack_native, "lu_factor", lambda a: calls.append(a.shape) or factor(a))
    # a row swap (det -2), a regular matrix and a singular one
    a = np.array([[[0.0, 1.0], [2.0, 0.0]], [[2.0, 1.0], [1.0, 3.0]], [[1.0, 2.0], [2.0, 4.0]]], dtype=dtype)
    det = LA.det(ember.tensor(a))
    assert calls and det.dtype == ember.tensor(a).dtype
    np.testing.assert_allclose(det.numpy(), [-2.0, 5.0, 0.0], atol=1e-6)
    b = np.random.default_rng(4).standard_normal((3, 20, 20)).astype(dtype)
    np.testing.assert_allclose(LA.det(ember.tensor(b)).numpy(), np.linalg.det(b.astype(np.float64)),
                               rtol=1e-4 if dtype == np.float32 else 1e-11)
    sign, logabs = LA.slogdet(ember.tensor(b))  # slogdet shares the LU's sign and pivots
    np.testing.assert_allclose((sign * logabs.exp()).numpy(), LA.det(ember.tensor(b)).numpy(), rtol=1e-4)
