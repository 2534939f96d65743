"""ember.functional (torch.functional), default devices, factory overloads, norm gradients at zero and
matmul dtype errors (expected values are PyTorch's, hand-copied from its output)."""

import warnings

import numpy as np
import pytest

import ember


def test_module_exports_torch_functional_names():
    for name in ["atleast_1d", "atleast_2d", "atleast_3d", "broadcast_shapes", "broadcast_tensors", "cartesian_prod",
                 "block_diag", "cdist", "chain_matmul", "einsum", "norm", "meshgrid", "split", "tensordot", "unique",
                 "unique_consecutive", "unravel_index"]:
        assert callable(getattr(ember.functional, name)), name
    assert ember.functional.einsum("ij,jk->ik", ember.ones(2, 3), ember.ones(3, 4)).shape == (2, 4)


def test_cartesian_prod_and_block_diag():
    got = ember.cartesian_prod(ember.tensor([1, 2]), ember.tensor([3, 4, 5]))
    np.testing.assert_array_equal(got.numpy(), [[1, 3], [1, 4], [1, 5], [2, 3], [2, 4], [2, 5]])
    one = ember.tensor([1, 2])
    assert ember.cartesian_prod(one) is one
    bd = ember.block_diag(ember.tensor([[1, 2]]), ember.tensor(3), ember.tensor([4.0, 5]))
    assert bd.dtype == ember.float32
    np.testing.assert_array_equal(bd.numpy(), [[1, 2, 0, 0, 0], [0, 0, 3, 0, 0], [0, 0, 0, 4, 5]])
    a = ember.randn(2, 2, dtype=ember.float64, requires_grad=True)
    b = ember.randn(1, 3, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda x, y: ember.block_diag(x, y), (a, b))
    with pytest.raises(RuntimeError, match="Input 0 has 3 dimensions"):
        ember.block_diag(ember.ones(1, 1, 1))


def test_chain_matmul_warns_as_deprecated():
    with pytest.warns(UserWarning, match="torch.chain_matmul is deprecated"):
        out = ember.chain_matmul(ember.ones(2, 3), ember.ones(3, 4), ember.ones(4, 1))
    np.testing.assert_array_equal(out.numpy(), np.full((2, 1), 12.0))


def test_unravel_index():
    rows, cols = ember.unravel_index(ember.tensor([4, 1, -1]), (2, 3))
    np.testing.assert_array_equal(rows.numpy(), [1, 0, 1])
    np.testing.assert_array_equal(cols.numpy(), [1, 1, 2])
    r, c = ember.unravel_index(ember.tensor(4), (2, 3))
    assert r.shape == () and (r.item(), c.item()) == (1, 1) and r.dtype == ember.int64
    with pytest.raises(TypeError, match="expected 'indices' to be integer dtype, but got torch.float32"):
        ember.unravel_index(ember.tensor([1.0]), (2, 3))
    with pytest.raises(ValueError, match="'shape' cannot have negative values"):
        ember.unravel_index(ember.tensor([1]), (2, -3))


def test_unique_consecutive():
    vals, inv, counts = ember.unique_consecutive(ember.tensor([1, 1, 2, 2, 3, 1, 1, 2]), return_inverse=True,
                                                 return_counts=True)
    np.testing.assert_array_equal(vals.numpy(), [1, 2, 3, 1, 2])
    np.testing.assert_array_equal(inv.numpy(), [0, 0, 1, 1, 2, 3, 3, 4])
    np.testing.assert_array_equal(counts.numpy(), [2, 2, 1, 2, 1])
    assert ember.unique_consecutive(ember.tensor([], dtype=ember.int64)).numel() == 0


def test_default_device_and_device_context():
    assert ember.get_default_device() == ember.device("cpu")
    with ember.device("cpu") as d:
        assert d == ember.device("cpu") and ember.zeros(2).device.type == "cpu"
        assert ember.get_default_device().type == "cpu"
    ember.set_default_device("cpu")
    try:
        assert ember.randn(2).device.type == "cpu" and ember.tensor([1]).device.type == "cpu"
    finally:
        ember.set_default_device(None)
    assert ember.get_default_device() == ember.device("cpu")


@pytest.mark.skipif(ember.cuda.is_available(), reason="CPU-only behaviour")
def test_cuda_default_device_without_cuda_fails_clearly():
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        with ember.device("cuda"):
            ember.zeros(1)
    assert ember.get_default_device() == ember.device("cpu")  # the context was left on the error


@pytest.mark.gpu
def test_cuda_default_device():
    with ember.device("cuda"):
        assert ember.zeros(2).device.type == "cuda" and ember.randn(2).device.type == "cuda"
        assert ember.arange(3).device.type == "cuda" and ember.randint(3, (2,)).device.type == "cuda"
    assert ember.zeros(2).device.type == "cpu"


def test_randint_overloads_generator_dtype_out():
    assert ember.randint(10, (3,)).shape == (3,)
    assert ember.randint(10, size=(3,)).shape == (3,)
    assert ember.randint(high=5, size=(2, 2)).shape == (2, 2)
    x = ember.randint(3, 10, (1000,))
    assert x.dtype == ember.int64 and x.min().item() >= 3 and x.max().item() <= 9
    assert ember.randint(0, 10, size=(2,), dtype=ember.int32).dtype == ember.int32
    g = ember.Generator().manual_seed(0)
    a = ember.randint(0, 100, (5,), generator=g)
    g.manual_seed(0)
    assert ember.equal(a, ember.randint(0, 100, (5,), generator=g))
    out = ember.empty(0, dtype=ember.int64)
    assert ember.randint(5, (4,), out=out) is out and out.shape == (4,)
    o = ember.empty(3, dtype=ember.float64)
    assert ember.randn(3, out=o) is o and o.dtype == ember.float64
    assert ember.rand(2, out=o) is o and o.shape == (2,)
    with pytest.raises(TypeError, match="randint"):
        ember.randint(5)
    with pytest.raises(TypeError, match="must be tuple of ints"):
        ember.randint(0, 5, 3)


@pytest.mark.parametrize("fn", [
    lambda x: x.norm(), lambda x: x.norm(dim=0), lambda x: x.norm(p=3), lambda x: ember.norm(x.reshape(1, 3), "fro"),
    lambda x: ember.dist(x, ember.zeros(3)), lambda x: ember.pdist(ember.stack([x, x])),
    lambda x: ember.cdist(x[None], x[None]), lambda x: x.dist(ember.zeros(3), p=1.5),
], ids=["norm", "norm-dim", "norm-p3", "fro", "dist", "pdist", "cdist", "dist-method"])
def test_norm_gradient_at_zero_is_zero(fn):
    x = ember.zeros(3, requires_grad=True)
    fn(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros(3))


def test_norm_gradients_away_from_zero_and_double_backward():
    x = ember.randn(4, 3, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: t.norm(dim=1), (x,))
    assert ember.autograd.gradcheck(lambda t: t.norm(p=3, dim=0), (x,))
    assert ember.autograd.gradgradcheck(lambda t: t.norm(dim=1), (x,))
    assert ember.autograd.gradcheck(lambda t: ember.dist(t, t.flip(0), p=2.5), (x,))
    assert abs(ember.dist(ember.tensor([3.0, 0.0]), ember.tensor([0.0, 4.0])).item() - 5.0) < 1e-6


def test_matmul_of_different_integer_dtypes_raises_as_pytorch():
    a, b = ember.tensor([1, 2], dtype=ember.int32), ember.tensor([1, 2])
    with pytest.raises(RuntimeError, match="dot : expected both vectors to have same dtype, but found Int and Long"):
        a @ b
    with pytest.raises(RuntimeError, match="expected m1 and m2 to have the same dtype, but got: int != long int"):
        ember.matmul(a[None], b[:, None])
    with pytest.raises(RuntimeError, match="expected scalar type Long but found Short"):
        ember.ones(1, 2, 3, dtype=ember.int64) @ ember.ones(1, 3, 4, dtype=ember.int16)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert (a @ a).item() == 5
