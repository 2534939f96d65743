"""linalg.cholesky's two CPU paths: ``potrf`` through the LAPACK NumPy links (``ops/_lapack_native``) from
a moderate order, NumPy's cholesky below it. Both must read only the lower triangle and give the same
factors, gradients and errors; the threshold is lowered here so small inputs take the native path."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import linalg as LA
from ember.autograd import gradcheck, gradgradcheck
from ember.ops import _lapack_native, linalg_decomp

pytestmark = pytest.mark.skipif(not _lapack_native.cholesky_available(np.float64),
                                reason="NumPy's LAPACK potrf not found")


@pytest.fixture(params=["native", "numpy"])
def path(request, monkeypatch):
    low = 1 if request.param == "native" else 10**9
    monkeypatch.setattr(linalg_decomp, "_CHOLESKY_MIN", {"float32": low, "float64": low})
    calls = []
    factor = _lapack_native.cholesky
    monkeypatch.setattr(_lapack_native, "cholesky", lambda a: calls.append(a.shape) or factor(a))
    yield request.param
    assert bool(calls) == (request.param == "native")


def _spd(shape, seed, dtype=np.float64):
    x = np.random.default_rng(seed).standard_normal(shape)
    return (x @ np.swapaxes(x, -1, -2) + shape[-1] * np.eye(shape[-1])).astype(dtype)


@pytest.mark.parametrize("shape", [(1, 1), (5, 5), (3, 6, 6), (2, 2, 4, 4)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_factor_reads_the_lower_triangle_only(path, shape, dtype):
    a = _spd(shape, 0, dtype)
    garbage = a + np.triu(np.full(shape, 7.0, dtype=dtype), 1)  # the strict upper triangle is never read
    low = LA.cholesky(ember.tensor(garbage))
    tol = 1e-5 if dtype == np.float32 else 1e-13
    ref = np.linalg.cholesky(a.astype(np.float64))
    assert low.dtype == ember.tensor(a).dtype and low.shape == shape
    np.testing.assert_allclose(low.numpy(), ref, rtol=tol, atol=tol)
    assert not np.triu(low.numpy(), 1).any()
    up = LA.cholesky(ember.tensor(garbage), upper=True)
    np.testing.assert_allclose(up.numpy(), np.swapaxes(ref, -1, -2), rtol=tol, atol=tol)


def test_known_factor(path):
    # [[4, 2], [2, 5]] = L L^T with L = [[2, 0], [1, 2]]
    low = LA.cholesky(ember.tensor([[4.0, 2.0], [2.0, 5.0]], dtype=ember.float64))
    assert low.tolist() == [[2.0, 0.0], [1.0, 2.0]]


def test_gradients_float64(path):
    a = ember.tensor(_spd((2, 4, 4), 1), requires_grad=True)

    def f(m):  # the symmetric part, so the perturbed input stays symmetric positive-definite
        return LA.cholesky(0.5 * (m + m.mT))

    assert gradcheck(f, [a])
    assert gradgradcheck(f, [a])


def test_not_positive_definite_batch_element_raises_pytorchs_error(path):
    bad = np.diag([1.0, 2.0, -1.0, 4.0])
    a = np.stack([np.eye(4), np.eye(4), bad])
    with pytest.raises(LA.LinAlgError, match=r"linalg.cholesky: \(Batch element 2\): The factorization could not be "
                                             r"completed because the input is not positive-definite \(the leading "
                                             r"minor of order 3 is not positive-definite\)."):
        LA.cholesky(ember.tensor(a))


def test_nan_input_is_not_positive_definite(path):
    a = np.eye(3)
    a[1, 1] = np.nan
    with pytest.raises(LA.LinAlgError, match="leading minor of order 2"):
        LA.cholesky(ember.tensor(a))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_default_threshold_takes_the_native_path(monkeypatch, dtype):
    calls = []
    factor = _lapack_native.cholesky
    monkeypatch.setattr(_lapack_native, "cholesky", lambda a: calls.append(a.dtype) or factor(a))
    n = linalg_decomp._CHOLESKY_MIN[np.dtype(dtype).name]
    a = _spd((2, n, n), 2, dtype)
    low = LA.cholesky(ember.tensor(a)).numpy().astype(np.float64)
    tol = 1e-5 * n if dtype == np.float32 else 1e-12 * n
    np.testing.assert_allclose(low @ np.swapaxes(low, -1, -2), a, rtol=tol, atol=tol)
    small = _spd((n - 1, n - 1), 3, dtype)
    LA.cholesky(ember.tensor(small))
    assert calls == [np.dtype(dtype)]
