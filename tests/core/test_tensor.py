"""Tensor attributes, conversion and the legacy constructor."""

import copy
import pickle

import numpy as np
import pytest

import ember


def test_shape_size_dim_numel():
    t = ember.zeros(2, 3, 4)
    assert t.shape == (2, 3, 4) and isinstance(t.shape, ember.Size)
    assert t.size() == ember.Size([2, 3, 4]) and t.size(1) == 3 and t.size(-1) == 4
    assert t.dim() == t.ndim == 3 and t.numel() == 24 and len(t) == 2
    assert t.shape.numel() == 24
    assert repr(t.shape) == "ember.Size([2, 3, 4])"
    with pytest.raises(IndexError, match="Dimension out of range"):
        t.size(3)


def test_item_tolist_float_int_bool():
    t = ember.tensor([[1.5, 2.0]])
    assert t.tolist() == [[1.5, 2.0]]
    assert ember.tensor([7]).item() == 7 and isinstance(ember.tensor([7]).item(), int)
    assert float(ember.tensor(2.5)) == 2.5 and int(ember.tensor(3.7)) == 3
    with pytest.raises(RuntimeError, match="a Tensor with 2 elements cannot be converted to Scalar"):
        t.item()
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with more than one value is ambiguous"):
        bool(ember.ones(2))
    assert bool(ember.tensor([1]))


def test_numpy_shares_memory_and_refuses_grad():
    t = ember.zeros(3)
    t.numpy()[0] = 5
    assert t.tolist()[0] == 5.0
    with pytest.raises(RuntimeError, match=r"Can't call numpy\(\) on Tensor that requires grad"):
        ember.zeros(2, requires_grad=True).numpy()
    np.testing.assert_array_equal(np.asarray(ember.ones(2)), np.ones(2, dtype=np.float32))


def test_from_numpy_shares_memory():
    a = np.arange(4.0)
    t = ember.from_numpy(a)
    a[0] = 9
    assert t.tolist()[0] == 9.0 and t.dtype is ember.float64


def test_tensor_copies_and_infers_dtype():
    a = np.arange(3)
    t = ember.tensor(a)
    a[0] = 7
    assert t.tolist() == [0, 1, 2] and t.dtype is ember.int64
    assert ember.tensor([1, 2]).dtype is ember.int64
    assert ember.tensor([1.0, 2]).dtype is ember.float32
    assert ember.tensor(True).dtype is ember.bool
    assert ember.tensor([[1, 2], [3, 4]], dtype=ember.float64).dtype is ember.float64
    assert ember.tensor([ember.tensor(1.0), ember.tensor(2.0)]).tolist() == [1.0, 2.0]


def test_legacy_constructor():
    assert ember.Tensor(2, 3).shape == (2, 3)
    assert ember.Tensor([1, 2]).dtype is ember.float32


def test_requires_grad_rules():
    with pytest.raises(RuntimeError, match="only Tensors of floating point and complex dtype can require gradients"):
        ember.zeros(2, dtype=ember.int64).requires_grad_()
    x = ember.ones(2, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="you can only change requires_grad flags of leaf variables"):
        y.requires_grad = False
    d = y.detach()
    assert not d.requires_grad and d.is_leaf
    d.numpy()[0] = 100  # detach shares storage
    assert y.tolist()[0] == 100.0
    y.detach_()
    assert y.grad_fn is None and not y.requires_grad


def test_to_dtype_and_device():
    t = ember.tensor([1.7, -2.2])
    assert t.to(ember.int64).tolist() == [1, -2]
    assert t.long().dtype is ember.int64 and t.double().dtype is ember.float64 and t.half().dtype is ember.float16
    assert t.to("cpu") is t
    assert t.to(ember.float32) is t
    assert t.to(ember.float32, copy=True) is not t
    assert t.to(ember.zeros(1, dtype=ember.float64)).dtype is ember.float64
    assert t.device == ember.device("cpu") and not t.is_cuda


def test_to_is_differentiable():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x.to(ember.float64) * 3
    y.sum().backward()
    assert x.grad.dtype is ember.float32 and x.grad.tolist() == [3.0, 3.0]


@pytest.mark.skipif(ember.cuda.is_available(), reason="checks the error raised without a GPU")
def test_cuda_without_gpu_says_why():
    with pytest.raises(RuntimeError, match="CUDA is not available: "):
        ember.ones(2).cuda()
    assert not ember.cuda.is_available() and ember.cuda.device_count() == 0


def test_device_parsing():
    assert str(ember.device("cpu")) == "cpu"
    d = ember.device("cuda:1")
    assert d.type == "cuda" and d.index == 1 and repr(d) == "device(type='cuda', index=1)"
    assert ember.device("cuda", 0) == "cuda:0"
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda"):
        ember.device("tpu")


def test_pickle_and_deepcopy():
    t = ember.tensor([1.0, 2.0], requires_grad=True)
    u = pickle.loads(pickle.dumps(t))
    assert u.tolist() == [1.0, 2.0] and u.requires_grad
    v = copy.deepcopy(t)
    assert v.tolist() == [1.0, 2.0] and v is not t and v.requires_grad
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(t * 2)


def test_iteration_and_len():
    t = ember.tensor([[1, 2], [3, 4]])
    rows = [r.tolist() for r in t]
    assert rows == [[1, 2], [3, 4]]
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(ember.tensor(1.0))


def test_stride_and_contiguity():
    t = ember.zeros(2, 3)
    assert t.stride() == (3, 1) and t.is_contiguous()
    assert t.element_size() == 4 and t.nbytes == 24


def test_format():
    assert f"{ember.tensor(2.5):.2f}" == "2.50"
