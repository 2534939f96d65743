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
