"""linalg.svd's two CPU paths: gesdd's steps on two threads through the LAPACK NumPy links
(``ops/_lapack_drivers``) for square float32/float64 matrices of moderate order, NumPy's ``svd`` otherwise.
Both must give the same factors (float64: gesdd's own, signs included), gradients and errors; the
thresholds are lowered here so small inputs take the native path."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import _parallel
from ember import linalg as LA
from ember.autograd import gradcheck
from ember.ops import _lapack_drivers

pytestmark = pytest.mark.skipif(_lapack_drivers._routines(_lapack_drivers._SVD, np.float64) is None,
                                reason="NumPy's LAPACK gebrd/bdsdc/orgbr not found")


def _choose(request, monkeypatch, routine, thresholds):
    """Set ``_lapack_drivers``'s ``thresholds`` ({name: a number or a per-dtype dict}) as given for the
    native path and to NEVER for NumPy's (a NEVER given stays NEVER on both), count the calls of ``routine``,
    yield the path (``request.param``), then check that the native routine ran exactly when chosen."""
    native = request.param == "native"
    for name, value in thresholds.items():
        if isinstance(value, dict):
            value = {dtype: (low if native else NEVER) for dtype, low in value.items()}
        elif value != NEVER:
            value = value if native else NEVER
        monkeypatch.setattr(_lapack_drivers, name, value)
    calls = []
    original = getattr(_lapack_drivers, routine)
    monkeypatch.setattr(_lapack_drivers, routine, lambda a, *args: calls.append(a.shape) or original(a, *args))
    yield request.param
    assert bool(calls) == native


NEVER = 10**9
BOTH = {"float32": 1, "float64": 1}
ANY_SIZE = {"float32": NEVER, "float64": NEVER}  # as maxima


@pytest.fixture(params=["native", "numpy"])
def path(request, monkeypatch):
    yield from _choose(request, monkeypatch, "_svd_one", {"_SVD_MIN": BOTH})


@pytest.fixture(params=[1, 2], ids=["one-thread", "two-threads"])
def threads(request, monkeypatch):
    """The sequential branch and the one that shares the steps with the pool."""
    monkeypatch.setattr(_parallel, "_active", request.param)
    yield request.param
    monkeypatch.undo()
    _parallel._set_blas_threads(_parallel.active_threads())


def _matrix(shape, seed, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("shape", [(1, 1), (2, 2), (7, 7), (3, 6, 6), (2, 2, 5, 5), (130, 130)])
def test_float64_factors_are_gesdds(path, threads, shape):
    a = _matrix(shape, 0)
    U, S, Vh = LA.svd(ember.tensor(a))
    u, s, vh = np.linalg.svd(a)  # gesdd on A in column-major order: the same algorithm, the same signs
    assert U.shape == shape and S.shape == shape[:-1] and Vh.shape == shape
    assert U.dtype == S.dtype == Vh.dtype == ember.float64
    np.testing.assert_allclose(S.numpy(), s, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(U.numpy(), u, atol=1e-10)
    np.testing.assert_allclose(Vh.numpy(), vh, atol=1e-10)


@pytest.mark.parametrize("shape", [(5, 5), (2, 40, 40)])
def test_float32_factors(path, shape):
    a = _matrix(shape, 1, np.float32)
    U, S, Vh = LA.svd(ember.tensor(a))
    assert U.dtype == S.dtype == Vh.dtype == ember.float32
    u, s, vh = np.linalg.svd(a.astype(np.float64))
    np.testing.assert_allclose(S.numpy(), s, rtol=1e-5, atol=1e-5)
    sign = np.sign(np.sum(U.numpy() * u, axis=-2, keepdims=True))  # a column's sign is LAPACK's choice
    np.testing.assert_allclose(U.numpy() * sign, u, atol=2e-4)
    np.testing.assert_allclose(Vh.numpy() * np.swapaxes(sign, -1, -2), vh, atol=2e-4)
    eye = np.eye(shape[-1])
    np.testing.assert_allclose(np.swapaxes(U.numpy(), -1, -2) @ U.numpy(), np.broadcast_to(eye, shape), atol=1e-5)


def test_known_decomposition(path):
    # diag(3, 2) rotated by 90 degrees: [[0, -2], [3, 0]] = U diag(3, 2) Vh with U = [[0, 1], [1, 0]] up to signs
    U, S, Vh = LA.svd(ember.tensor([[0.0, -2.0], [3.0, 0.0]], dtype=ember.float64))
    assert S.tolist() == [3.0, 2.0]
    np.testing.assert_allclose(np.abs(U.numpy()), [[0.0, 1.0], [1.0, 0.0]], atol=1e-15)
    np.testing.assert_allclose((U.numpy() * S.numpy()) @ Vh.numpy(), [[0.0, -2.0], [3.0, 0.0]], atol=1e-15)


def test_strided_input_and_the_old_spellings(path):
    a = _matrix((6, 6), 2)
    t = ember.tensor(a).mT  # a transposed view
    U, S, Vh = LA.svd(t)
    np.testing.assert_allclose((U.numpy() * S.numpy()) @ Vh.numpy(), a.T, atol=1e-12)
    u, s, v = ember.svd(t)
    np.testing.assert_allclose(v.numpy(), Vh.numpy().T, atol=1e-14)
    np.testing.assert_allclose(LA.pinv(t).numpy(), np.linalg.pinv(a.T), atol=1e-10)


def test_gradients_float64(path):
    a = ember.tensor(_matrix((2, 4, 4), 3), requires_grad=True)

    def f(m):  # squares: independent of each singular vector's sign
        U, S, Vh = LA.svd(m)
        return U ** 2, S, Vh ** 2

    assert gradcheck(f, [a])


def _non_finite_raises(fn, a, element):
    """``fn(a)`` raises PyTorch's LinAlgError naming batch element ``element`` as non-finite."""
    with pytest.raises(LA.LinAlgError, match=rf"linalg.svd: \(Batch element {element}\): The algorithm failed to "
                                             r"converge because the input matrix contained non-finite values."):
        fn(ember.tensor(a))


def test_non_finite_batch_element_raises_pytorchs_error(path):
    a = np.stack([np.eye(4), np.eye(4), np.eye(4)])
    a[1, 2, 3] = np.nan
    _non_finite_raises(LA.svd, a, 1)


def test_no_convergence_names_bdsdcs_code(monkeypatch):
    monkeypatch.setattr(_lapack_drivers, "_SVD_MIN", {"float32": 1, "float64": 1})
    monkeypatch.setattr(_lapack_drivers, "_svd_one", lambda a, u, s, vh: 3)
    with pytest.raises(LA.LinAlgError, match=r"linalg.svd: The algorithm failed to converge because the input matrix "
                                             r"is ill-conditioned or has too many repeated singular values \(error "
                                             r"code: 3\)."):
        LA.svd(ember.tensor(np.eye(3)))


def test_path_choice():
    big = np.zeros((200, 200))
    assert _lapack_drivers.svd_usable(big) and _lapack_drivers.svd_usable(big.astype(np.float32))
    assert not _lapack_drivers.svd_usable(np.zeros((200, 201)))  # not square
    assert not _lapack_drivers.svd_usable(np.zeros((8, 8)))  # below the threshold
    assert not _lapack_drivers.svd_usable(np.zeros((1024, 1024)))  # float64 beyond: gesdd's threaded ormbr wins
    assert _lapack_drivers.svd_usable(np.zeros((1024, 1024), np.float32))
    assert not _lapack_drivers.svd_usable(np.zeros((200, 200), np.complex128))


# ---- eigh: the same steps for a symmetric matrix (sytrd, stedc beside orgtr), taken for float32 ----

@pytest.fixture(params=["native", "numpy"])
def eigh_path(request, monkeypatch):
    yield from _choose(request, monkeypatch, "_eigh_one", {"_EIGH_MIN": BOTH, "_EIGH_MAX": ANY_SIZE})


def _symmetric(shape, seed, dtype=np.float64):
    x = _matrix(shape, seed)
    return (x + np.swapaxes(x, -1, -2)).astype(dtype)


@pytest.mark.parametrize("uplo", ["L", "U"])
@pytest.mark.parametrize("shape", [(1, 1), (6, 6), (3, 5, 5), (130, 130)])
def test_eigh_reads_one_triangle_and_gives_syevds_vectors(eigh_path, threads, shape, uplo):
    a = _symmetric(shape, 4)
    other = np.triu(np.full(shape, 7.0), 1) if uplo == "L" else np.tril(np.full(shape, 7.0), -1)
    L, V = LA.eigh(ember.tensor(a + other), UPLO=uplo)  # the other triangle is never read
    w, v = np.linalg.eigh(a, UPLO=uplo)  # syevd on A in column-major order: the same vectors and signs
    np.testing.assert_allclose(L.numpy(), w, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(V.numpy(), v, atol=1e-10)


def test_eigh_float32(eigh_path):
    a = _symmetric((2, 40, 40), 5, np.float32)
    L, V = LA.eigh(ember.tensor(a))
    assert L.dtype == V.dtype == ember.float32
    w, v = np.linalg.eigh(a.astype(np.float64))
    np.testing.assert_allclose(L.numpy(), w, rtol=1e-5, atol=2e-5)
    sign = np.sign(np.sum(V.numpy() * v, axis=-2, keepdims=True))
    np.testing.assert_allclose(V.numpy() * sign, v, atol=2e-4)


def test_eigh_known_decomposition(eigh_path):
    L, V = LA.eigh(ember.tensor([[2.0, 1.0], [1.0, 2.0]], dtype=ember.float64))
    np.testing.assert_allclose(L.numpy(), [1.0, 3.0], rtol=1e-15)
    np.testing.assert_allclose(np.abs(V.numpy()), np.full((2, 2), 0.5 ** 0.5), rtol=1e-15)


def test_eigh_gradients_float64(eigh_path):
    a = ember.tensor(_symmetric((2, 4, 4), 6), requires_grad=True)

    def f(m):
        L, V = LA.eigh(0.5 * (m + m.mT))
        return L, V ** 2

    assert gradcheck(f, [a])


def test_eigh_non_finite_gives_nans_as_pytorch(monkeypatch):
    monkeypatch.setattr(_lapack_drivers, "_EIGH_MIN", {"float32": 1, "float64": 1})
    monkeypatch.setattr(_lapack_drivers, "_EIGH_MAX", {"float32": 10**9, "float64": 10**9})
    monkeypatch.setattr(_lapack_drivers, "_eigh_one", lambda *args: pytest.fail("LAPACK called on NaNs"))
    a = np.stack([np.eye(4), np.eye(4)])
    a[1, 2, 1] = np.nan
    L, V = LA.eigh(ember.tensor(a))  # NumPy's eigh, as PyTorch: NaNs where they spread, no error
    assert np.isnan(L.numpy()[1]).any() and not np.isnan(L.numpy()[0]).any()


def test_eigh_no_convergence_names_stedcs_code(monkeypatch):
    monkeypatch.setattr(_lapack_drivers, "_EIGH_MIN", {"float32": 1})
    monkeypatch.setattr(_lapack_drivers, "_eigh_one", lambda a, uplo, w, v: 0 if a[0, 0] == 1 else 9)
    a = np.stack([np.eye(3), 2 * np.eye(3)]).astype(np.float32)
    with pytest.raises(LA.LinAlgError, match=r"linalg.eigh: \(Batch element 1\): The algorithm failed to converge "
                                             r"because the input matrix is ill-conditioned or has too many repeated "
                                             r"eigenvalues \(error code: 9\)."):
        LA.eigh(ember.tensor(a))


def test_eigh_path_choice():
    assert _lapack_drivers.eigh_usable(np.zeros((200, 200), np.float32))
    assert not _lapack_drivers.eigh_usable(np.zeros((200, 200)))  # float64: syevd as fast
    assert not _lapack_drivers.eigh_usable(np.zeros((8, 8), np.float32))


# ---- float32 singular values alone: gebrd and bdsqr (NumPy works in float64) ----

@pytest.fixture(params=["native", "numpy"])
def values_path(request, monkeypatch):
    yield from _choose(request, monkeypatch, "svd_values", {"_VALUES_MIN": 1})


@pytest.mark.parametrize("shape", [(1, 1), (5, 5), (6, 4), (4, 6), (2, 3, 7, 5), (40, 30)])
def test_float32_singular_values(values_path, shape):
    a = _matrix(shape, 7, np.float32)
    S = LA.svdvals(ember.tensor(a))
    assert S.dtype == ember.float32 and S.shape == shape[:-2] + (min(shape[-2:]),)
    np.testing.assert_allclose(S.numpy(), np.linalg.svd(a.astype(np.float64), compute_uv=False), rtol=1e-5,
                               atol=1e-5)
    rank = LA.matrix_rank(ember.tensor(np.ones(shape, np.float32)))
    assert (rank.numpy() == 1).all()


def test_float32_singular_values_non_finite_raise(values_path):
    a = np.stack([np.eye(4), np.eye(4)]).astype(np.float32)
    a[1, 0, 0] = np.nan
    _non_finite_raises(LA.svdvals, a, 1)


def test_values_path_choice():
    assert _lapack_drivers.svd_values_usable(np.zeros((200, 300), np.float32))
    assert not _lapack_drivers.svd_values_usable(np.zeros((200, 400), np.float32))  # gesdd takes a QR first
    assert not _lapack_drivers.svd_values_usable(np.zeros((200, 300)))  # float64: gesdd as fast
    assert not _lapack_drivers.svd_values_usable(np.zeros((50, 50), np.float32))


# ---- other float32 SVDs (not square, or small): gesdd itself in float32 ----

@pytest.fixture(params=["native", "numpy"])
def gesdd_path(request, monkeypatch):
    # not the two-thread path nor the values-alone one
    yield from _choose(request, monkeypatch, "gesdd", {"_GESDD_MIN": 1, "_SVD_MIN": ANY_SIZE, "_VALUES_MIN": NEVER})


@pytest.mark.parametrize("full", [True, False])
@pytest.mark.parametrize("shape", [(7, 4), (4, 7), (2, 9, 5), (12, 12), (30, 8)])
def test_float32_gesdd(gesdd_path, shape, full):
    a = _matrix(shape, 8, np.float32)
    U, S, Vh = LA.svd(ember.tensor(a), full_matrices=full)
    u, s, vh = np.linalg.svd(a.astype(np.float64), full_matrices=full)
    assert U.dtype == S.dtype == Vh.dtype == ember.float32
    assert U.shape == u.shape and S.shape == s.shape and Vh.shape == vh.shape
    np.testing.assert_allclose(S.numpy(), s, rtol=1e-5, atol=1e-5)
    k = s.shape[-1]
    # the first k columns: float64 gesdd's up to rounding, signs included (well separated singular values)
    np.testing.assert_allclose(U.numpy()[..., :k], u[..., :k], atol=1e-4)
    np.testing.assert_allclose(Vh.numpy()[..., :k, :], vh[..., :k, :], atol=1e-4)
    for q in (U.numpy(), np.swapaxes(Vh.numpy(), -1, -2)):  # orthonormal columns, the full factors' included
        gram = np.swapaxes(q, -1, -2) @ q
        np.testing.assert_allclose(gram, np.broadcast_to(np.eye(q.shape[-1]), gram.shape), atol=1e-5)
    values = LA.svdvals(ember.tensor(a))
    np.testing.assert_allclose(values.numpy(), s, rtol=1e-5, atol=1e-5)


def test_float32_gesdd_non_finite_raise(gesdd_path):
    a = _matrix((3, 6, 4), 9, np.float32)
    a[2, 1, 1] = np.nan
    _non_finite_raises(LA.svd, a, 2)


def test_gesdd_path_choice():
    assert _lapack_drivers.gesdd_usable(np.zeros((300, 40), np.float32))
    assert not _lapack_drivers.gesdd_usable(np.zeros((300, 40)))  # float64: NumPy's gesdd is the same
    assert not _lapack_drivers.gesdd_usable(np.zeros((300, 4), np.float32))  # NumPy's loop in C costs less


# ---- float32 eigenvalues alone: sytrd and sterf in float32 ----

@pytest.fixture(params=["native", "numpy"])
def eigvals_path(request, monkeypatch):
    yield from _choose(request, monkeypatch, "eigh_values", {"_EIGH_MIN": BOTH, "_EIGH_MAX": ANY_SIZE})


@pytest.mark.parametrize("uplo", ["L", "U"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1), (6, 6), (2, 3, 9, 9)])
def test_eigvalsh_reads_one_triangle(eigvals_path, shape, dtype, uplo):
    a = _symmetric(shape, 10, dtype)
    other = (np.triu if uplo == "L" else np.tril)(np.full(shape, 7.0, dtype), 1 if uplo == "L" else -1)
    w = LA.eigvalsh(ember.tensor(a + other), UPLO=uplo)
    assert w.dtype == ember.tensor(a).dtype and w.shape == shape[:-1]
    ref = np.linalg.eigvalsh(a.astype(np.float64))
    tol = 1e-5 * np.abs(ref).max() if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(w.numpy(), ref, atol=tol)


def test_eigvalsh_no_convergence_names_sterfs_code(monkeypatch):
    monkeypatch.setattr(_lapack_drivers, "eigh_values", lambda a, uplo: (np.zeros(a.shape[:-1], a.dtype),
                                                                         np.array(4)))
    with pytest.raises(LA.LinAlgError, match=r"linalg.eigh: The algorithm failed to converge because the input "
                                             r"matrix is ill-conditioned or has too many repeated eigenvalues \(error "
                                             r"code: 4\)."):
        LA.eigvalsh(ember.tensor(np.eye(200, dtype=np.float32)))


# ---- lstsq without a backward: gelsy, PyTorch's default CPU driver ----

@pytest.fixture(params=["native", "numpy"])
def gelsy_path(request, monkeypatch):
    yield from _choose(request, monkeypatch, "gelsy", {"_GELSY_MIN": 1})


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape_a, shape_b", [((9, 5), (9, 3)), ((5, 9), (5, 2)), ((2, 8, 6), (2, 8, 4)),
                                              ((7, 7), (7,))])
def test_lstsq_solution_and_rank(gelsy_path, shape_a, shape_b, dtype):
    rng = np.random.default_rng(11)
    a, b = rng.standard_normal(shape_a).astype(dtype), rng.standard_normal(shape_b).astype(dtype)
    result = LA.lstsq(ember.tensor(a), ember.tensor(b))
    rhs = b[..., None] if len(shape_b) == len(shape_a) - 1 else b
    want = np.linalg.pinv(a.astype(np.float64)) @ rhs.astype(np.float64)  # full rank: the least-squares solution
    want = want[..., 0] if len(shape_b) == len(shape_a) - 1 else want
    tol = 2e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(result.solution.numpy(), want, atol=tol, rtol=tol)
    assert result.solution.dtype == ember.tensor(a).dtype
    assert (result.rank.numpy() == min(shape_a[-2:])).all() and result.rank.dtype == ember.int64
    assert result.residuals.shape == (0,) and result.singular_values.shape == (0,)  # as PyTorch's gelsy


def test_lstsq_rank_deficient_gives_the_minimum_norm_solution(gelsy_path):
    rng = np.random.default_rng(12)
    a = rng.standard_normal((10, 3)) @ rng.standard_normal((3, 6))  # rank 3
    b = rng.standard_normal((10, 2))
    result = LA.lstsq(ember.tensor(a), ember.tensor(b))
    assert result.rank.item() == 3
    np.testing.assert_allclose(result.solution.numpy(), np.linalg.pinv(a) @ b, atol=1e-10)


def test_lstsq_with_a_backward_keeps_the_differentiable_path(monkeypatch):
    monkeypatch.setattr(_lapack_drivers, "_GELSY_MIN", 1)
    calls = []
    gelsy = _lapack_drivers.gelsy
    monkeypatch.setattr(_lapack_drivers, "gelsy", lambda *args: calls.append(1) or gelsy(*args))
    a = ember.tensor(_matrix((6, 4), 13), requires_grad=True)
    b = ember.tensor(_matrix((6, 2), 14))
    LA.lstsq(a, b).solution.sum().backward()
    assert not calls and a.grad is not None  # gelsy has no backward: the SVD route
    assert gradcheck(lambda m: LA.lstsq(m, b).solution, [a])
    values = LA.lstsq(a.detach(), b, driver="gelsd").singular_values  # other drivers: the SVD route
    np.testing.assert_allclose(values.numpy(), np.linalg.svd(a.detach().numpy(), compute_uv=False), rtol=1e-12)
