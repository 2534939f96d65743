"""ember.as_strided (ops/strided.py) is a view of the storage, as torch.as_strided: values and gradients against
torch are in test_tensor_ops.py (the as_strided* cases); here the view semantics and the errors."""

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck


def test_writes_through_the_view_reach_the_base_and_back():
    x = ember.arange(9.0).reshape(3, 3)
    v = x.as_strided((2, 2), (1, 3), 1)  # columns 1..2 of rows 0..1, read down the columns
    assert v.tolist() == [[1.0, 4.0], [2.0, 5.0]]
    assert v.stride() == (1, 3) and v.storage_offset() == 1 and v.data_ptr() == x.data_ptr() + x.element_size()
    v[1, 1] = -5.0
    assert x[1, 2].item() == -5.0
    x.add_(1.0)
    assert v.tolist() == [[2.0, 5.0], [3.0, -4.0]]
    assert v._version == x._version  # in-place changes to either are seen by autograd's saved-tensor checks


def test_storage_offset_defaults_to_the_inputs_and_indexes_the_whole_storage():
    base = ember.arange(6.0)
    tail = base[2:]
    assert tail.as_strided((2,), (1,)).tolist() == [2.0, 3.0]  # from tail's own offset 2
    assert tail.as_strided((2,), (1,), 0).tolist() == [0.0, 1.0]  # offset 0 is the storage's start
    t = base.reshape(2, 3).t()
    assert t.as_strided((3,), (1,)).tolist() == [0.0, 1.0, 2.0]  # memory order, not t's logical order


def test_overlapping_windows_accumulate_gradients():
    x = ember.arange(5.0, dtype=ember.float64, requires_grad=True)
    x.as_strided((3, 3), (1, 1)).sum().backward()  # x[2] is in all three windows
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 2.0, 3.0, 2.0, 1.0])


@pytest.mark.parametrize("fn", [
    lambda t: t.as_strided((3, 3), (1, 1)),
    lambda t: t[1:].as_strided((2, 3), (3, 1), 2),
    lambda t: t.reshape(2, 4).t().as_strided((2, 2), (2, 1), 1),
    lambda t: ember.as_strided(t.expand(2, 8), (3,), (2,)) ** 2,
])
def test_gradcheck_float64(fn):
    x = ember.tensor(np.random.default_rng(0).standard_normal(8), requires_grad=True)
    assert gradcheck(fn, (x,))


@pytest.mark.parametrize("args, msg", [
    (((2,), (-1,), 3), r"as_strided: Negative strides are not supported at the moment, got strides: \[-1\]"),
    (((2,), (1,), -1), "Tensor: invalid storage offset -1"),
    (((2, 3), (1,)), "mismatch in length of strides and shape"),
    (((3,), (2,)), "requiring a storage size of 20 are out of bounds for storage of size 16"),
])
def test_errors_are_torchs(args, msg):
    with pytest.raises(RuntimeError, match=msg):
        ember.as_strided(ember.ones(4), *args)
