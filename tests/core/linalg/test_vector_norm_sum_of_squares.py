"""The 2-norm of a real float32/float64 tensor over all its elements takes its sum of squares in one pass
(einsum): as accurate as NumPy's pairwise sum, keepdim's shape kept, other dims unchanged."""

import numpy as np
import pytest

import ember
from ember import linalg as LA


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_whole_tensor_two_norm(dtype):
    x = (np.random.default_rng(0).standard_normal((64, 33, 17)) * 3 + 1).astype(dtype)
    want = np.sqrt((x.astype(np.float64) ** 2).sum())
    got = LA.vector_norm(ember.tensor(x))
    assert got.shape == () and got.dtype == ember.tensor(x).dtype
    assert abs(got.item() - want) <= want * (1e-6 if dtype == np.float32 else 1e-13)
    kept = LA.vector_norm(ember.tensor(x), keepdim=True)
    assert kept.shape == (1, 1, 1) and kept.item() == got.item()
    assert LA.norm(ember.tensor(x[0])).item() == pytest.approx(np.linalg.norm(x[0].astype(np.float64)), rel=1e-6)
    rows = LA.vector_norm(ember.tensor(x), dim=(0, 2))
    np.testing.assert_allclose(rows.numpy(), np.sqrt((x.astype(np.float64) ** 2).sum((0, 2))), rtol=1e-6)


def test_gradient_and_zero_vector():
    x = ember.tensor([[3.0, 4.0], [0.0, 0.0]], dtype=ember.float64, requires_grad=True)
    LA.vector_norm(x).backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.6, 0.8], [0.0, 0.0]], rtol=1e-15)
    z = ember.zeros(3, dtype=ember.float64, requires_grad=True)
    LA.vector_norm(z).backward()
    assert z.grad.tolist() == [0.0, 0.0, 0.0]  # PyTorch's subgradient at 0
