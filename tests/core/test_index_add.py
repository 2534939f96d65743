"""index_add: PyTorch's checks and messages (recorded from torch 2.13), sums with repeated indices along any
dimension (the compiled rows in index order, or a stable sort of the indices: same sums), 0-d tensors, alpha,
in place, and float64 gradients."""

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck

ERRORS = [
    (lambda x: x.index_add(0, ember.tensor([[0, 1]]), ember.ones(2, 3)), IndexError,
     "index_add_(): Index is supposed to be a vector, but got dim: 2 with type: Long and size: [1, 2]"),
    (lambda x: x.index_add(0, ember.tensor([0.0, 1.0]), ember.ones(2, 3)), RuntimeError,
     "index_add_(): Expected dtype int32/int64 for index but got: Float"),
    (lambda x: x.index_add(0, ember.tensor([0, 1]), ember.ones(2, 3, dtype=ember.float64)), RuntimeError,
     "index_add_(): self (Float) and source (Double) must have the same scalar type"),
    (lambda x: x.index_add(0, ember.tensor([0, 1]), ember.ones(3, 3)), RuntimeError,
     "index_add_(): Number of indices (2) should be equal to source.size(dim): (3), for dim: 0"),
    (lambda x: x.index_add(0, ember.tensor([0, 1]), ember.ones(2, 4)), RuntimeError,
     "source tensor shape must match self tensor shape, excluding the specified dimension. Got self.shape = [5, 3] "
     "source.shape = [2, 4]"),
    (lambda x: x.index_add(0, ember.tensor([0, 1]), ember.ones(2)), RuntimeError,
     "source tensor shape must match self tensor shape, excluding the specified dimension. Got self.shape = [5, 3] "
     "source.shape = [2]"),
    (lambda x: x.index_add(0, ember.tensor([0, 7, -1]), ember.ones(3, 3)), RuntimeError,
     "index 7 is out of bounds for dimension 0 with size 5"),
    (lambda x: x.index_add(0, ember.tensor([0, -1, 7]), ember.ones(3, 3)), RuntimeError,
     "index -1 is out of bounds for dimension 0 with size 5"),
    (lambda x: x.index_add(2, ember.tensor([0, 1]), ember.ones(2, 3)), IndexError,
     "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    (lambda x: x.index_add(1, ember.tensor(1), ember.ones(5)), RuntimeError,
     "index_add_(): Indexing dim 1 is out of bounds of the source tensor with dim 1"),
    (lambda x: ember.zeros(()).index_add(0, ember.tensor([0]), ember.ones(1)), RuntimeError,
     "source tensor shape must match self tensor shape, excluding the specified dimension. Got self.shape = [] "
     "source.shape = [1]"),
]


@pytest.mark.parametrize("call, kind, message", ERRORS)
def test_errors_as_pytorch(call, kind, message):
    with pytest.raises(kind) as info:
        call(ember.zeros(5, 3))
    assert str(info.value) == message


def _reference(a, dim, idx, src, alpha):
    out = np.moveaxis(a.astype(np.float64), dim, 0).copy()
    np.add.at(out, idx, np.moveaxis(src.astype(np.float64), dim, 0) * alpha)
    return np.moveaxis(out, 0, dim)


@pytest.mark.parametrize("shape, dim, k", [((1000, 64), 0, 2000), ((64, 300), 1, 700), ((4, 5, 300), 2, 40),
                                           ((30, 7), 0, 5), ((3, 50, 40), 1, 120)])
@pytest.mark.parametrize("alpha", [1, 0.5])
def test_sums_with_repeats(kernel_path, shape, dim, k, alpha):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shape).astype(np.float32)
    sshape = list(shape)
    sshape[dim] = k
    src = rng.standard_normal(sshape).astype(np.float32)
    idx = rng.integers(0, shape[dim], k)
    got = ember.tensor(a).index_add(dim, ember.tensor(idx), ember.tensor(src), alpha=alpha)
    assert got.dtype == ember.float32 and tuple(got.shape) == shape
    np.testing.assert_allclose(got.numpy(), _reference(a, dim, idx, src, alpha), rtol=1e-5, atol=1e-5)


def test_int32_index_integers_and_zero_dim():
    x = ember.arange(6).reshape(2, 3)
    got = x.index_add(1, ember.tensor([2, 2, 0], dtype=ember.int32), ember.ones(2, 3, dtype=ember.int64), alpha=3)
    assert got.tolist() == [[3, 1, 8], [6, 4, 11]]
    assert ember.tensor(2.0).index_add(0, ember.tensor([0]), ember.tensor(3.0)).item() == 5.0


def test_in_place():
    x = ember.zeros(4, 2)
    y = x.index_add_(0, ember.tensor([3, 0, 3]), ember.ones(3, 2))
    assert y is x and x.tolist() == [[1, 1], [0, 0], [0, 0], [2, 2]]


def test_gradients_float64():
    rng = np.random.default_rng(1)
    a = ember.tensor(rng.standard_normal((5, 4)), requires_grad=True)
    src = ember.tensor(rng.standard_normal((5, 6)), requires_grad=True)
    idx = ember.tensor([3, 0, 3, 1, 3, 2])
    assert gradcheck(lambda x, s: x.index_add(1, idx, s, alpha=2.0), (a, src))
    y = a.index_add(1, idx, src, alpha=2.0)
    (gs,) = ember.autograd.grad(y.square().sum(), src, create_graph=True)
    gs.sum().backward()  # second order through index_select's graph
    assert src.grad is not None
