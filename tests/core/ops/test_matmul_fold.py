"""N-D @ 2-D products (matmul and Linear) run as one folded 2-D GEMM: values, gradients (float64
gradcheck) and non-contiguous inputs are unchanged."""

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck


@pytest.mark.parametrize("shape", [(3, 4, 5), (2, 3, 4, 5), (0, 4, 5)])
def test_matmul_nd_by_2d_values(shape, rng):
    a = rng.standard_normal(shape).astype(np.float32)
    b = rng.standard_normal((5, 6)).astype(np.float32)
    out = ember.from_numpy(a) @ ember.from_numpy(b)
    assert out.shape == (*shape[:-1], 6)
    np.testing.assert_allclose(out.numpy(), np.einsum("...k,km->...m", a, b), rtol=1e-5, atol=1e-5)


def test_matmul_nd_by_2d_non_contiguous(rng):
    a = rng.standard_normal((5, 4, 3)).astype(np.float32)
    b = rng.standard_normal((5, 6)).astype(np.float32)
    at = ember.from_numpy(a).permute(2, 1, 0)  # (3, 4, 5), not contiguous
    out = at @ ember.from_numpy(b)
    np.testing.assert_allclose(out.numpy(), a.transpose(2, 1, 0) @ b, rtol=1e-5, atol=1e-5)


def test_matmul_nd_by_2d_gradcheck():
    a = ember.randn(2, 3, 4, dtype=ember.float64, requires_grad=True)
    b = ember.randn(4, 5, dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda x, y: x @ y, (a, b))
    assert gradcheck(lambda x, y: x.transpose(0, 1) @ y, (a, b))


def test_linear_nd_gradcheck():
    x = ember.randn(2, 3, 4, dtype=ember.float64, requires_grad=True)
    w = ember.randn(5, 4, dtype=ember.float64, requires_grad=True)
    b = ember.randn(5, dtype=ember.float64, requires_grad=True)
    assert gradcheck(ember.nn.functional.linear, (x, w, b))
    assert gradcheck(lambda x, w: ember.nn.functional.linear(x.transpose(0, 1), w), (x, w))


def test_matmul_nd_by_2d_grad_values(rng):
    a = rng.standard_normal((3, 4, 5))
    b = rng.standard_normal((5, 6))
    g = rng.standard_normal((3, 4, 6))
    ta, tb = ember.tensor(a, requires_grad=True), ember.tensor(b, requires_grad=True)
    (ta @ tb).backward(ember.tensor(g))
    np.testing.assert_allclose(ta.grad.numpy(), g @ b.T, rtol=1e-10)
    np.testing.assert_allclose(tb.grad.numpy(), np.einsum("nik,nim->km", a, g), rtol=1e-10)


@pytest.mark.parametrize("a_shape,b_shape", [((2, 1, 1, 0), (0, 1)), ((2, 0, 0, 3), (3, 0)), ((2, 3, 0), (0, 4))])
def test_matmul_nd_by_2d_with_empty_dimensions(a_shape, b_shape):
    # the fold counts the rows: reshape(-1, 0) of an empty array can't infer them
    a = ember.ones(a_shape, dtype=ember.float64, requires_grad=True)
    b = ember.ones(b_shape, dtype=ember.float64, requires_grad=True)
    out = a @ b
    assert out.shape == (*a_shape[:-1], b_shape[-1])
    assert (out.detach().numpy() == 0).all()
    out.sum().backward()
    assert a.grad.shape == a_shape and b.grad.shape == b_shape
    assert (b.grad.numpy() == 0).all() and (a.grad.numpy() == b_shape[-1]).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("lead", [(300,), (3, 100), (2, 5, 30)])
def test_linear_bias_folded_into_the_gemm(monkeypatch, dtype, lead):
    """A large enough CPU linear with a bias is one GEMM onto the broadcast bias (``_lapack_native.linear_bias``):
    the same values and gradients as the product plus the bias, also for a non-contiguous input."""
    from ember.ops import _lapack_native

    calls = []
    fold = _lapack_native.linear_bias
    monkeypatch.setattr(_lapack_native, "linear_bias", lambda *a: calls.append(a[0].shape) or fold(*a))
    monkeypatch.setattr(_lapack_native, "_BIAS_GEMM_MIN", 1)
    rng = np.random.default_rng(0)
    x = rng.standard_normal(lead + (24,)).astype(dtype)
    w, b = rng.standard_normal((7, 24)).astype(dtype), rng.standard_normal(7).astype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for arr in (x, np.swapaxes(np.swapaxes(x, 0, -1).copy(), 0, -1)):  # contiguous and strided
        y = ember.nn.functional.linear(ember.tensor(arr), ember.tensor(w), ember.tensor(b))
        np.testing.assert_allclose(y.numpy(), arr @ w.T + b, rtol=tol, atol=tol)
        assert y.shape == lead + (7,) and y.dtype == ember.tensor(x).dtype
    assert len(calls) == 2 and calls[0] == (int(np.prod(lead)), 24)
    if dtype == np.float64:
        args = [ember.tensor(a, requires_grad=True) for a in (x[..., :3, :] if x.ndim > 2 else x[:5], w, b)]
        assert gradcheck(ember.nn.functional.linear, args)


def test_linear_bias_fold_declines_what_it_does_not_cover():
    from ember.ops import _lapack_native

    x, w = np.ones((512, 256), np.float32), np.ones((256, 256), np.float32)
    assert _lapack_native.linear_bias(x, w, np.ones(256, np.float64)) is None  # mixed dtypes
    assert _lapack_native.linear_bias(x, np.ones((256, 256), np.float32).T[::-1], np.ones(256, np.float32)) is None
    assert _lapack_native.linear_bias(np.asfortranarray(x), w, np.ones(256, np.float32)) is None  # not C-order
    assert _lapack_native.linear_bias(x[:2], w, np.ones(256, np.float32)) is None  # too small for the call's cost
    assert _lapack_native.linear_bias(x, w, np.ones((1, 256), np.float32)) is None  # a bias of another shape


def test_linear_without_input_features_is_the_bias():
    b = ember.tensor([1.0, -2.0, 3.0])
    y = ember.nn.functional.linear(ember.empty(4, 0), ember.empty(3, 0), b)
    assert y.shape == (4, 3) and y.tolist() == [[1.0, -2.0, 3.0]] * 4
