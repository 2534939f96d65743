"""add / mul of two plain float tensors skip the primitive dispatch (ops/elementwise._plain): the results,
graphs and profiler records must be those of the full path."""

import numpy as np
import pytest

import ember
from ember.autograd import function as F
from ember.profiler import profile


@pytest.mark.parametrize("op, ref", [(ember.add, np.add), (ember.mul, np.multiply)])
@pytest.mark.parametrize("dtype", [ember.float16, ember.float32, ember.float64])
def test_plain_results_match_numpy(op, ref, dtype):
    a, b = ember.randn(100).to(dtype), ember.randn(100).to(dtype)
    out = op(a, b)
    assert out.dtype == dtype and not out.requires_grad and out.grad_fn is None
    np.testing.assert_array_equal(out.numpy(), ref(a.numpy(), b.numpy()))
    assert out._version == 0 and out._data is not a._data


def test_graph_is_still_recorded_when_an_input_requires_grad():
    a = ember.randn(5, requires_grad=True)
    b = ember.randn(5)
    y = a * b + b
    assert y.grad_fn is not None and y.grad_fn.name() == "AddBackward0"
    y.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.numpy())
    with ember.no_grad():
        z = a * b
    assert z.grad_fn is None and not z.requires_grad


def test_other_cases_keep_the_full_path():
    a = ember.ones(3)
    assert ember.add(a, ember.ones(1)).shape == (3,)  # broadcasting
    assert ember.add(a, ember.ones(3, dtype=ember.float64)).dtype == ember.float64  # promotion
    assert ember.add(a, a, alpha=2).tolist() == [3.0, 3.0, 3.0]
    i = ember.ones(3, dtype=ember.int64)
    assert ember.mul(i, i).dtype == ember.int64
    with pytest.raises(RuntimeError, match="must match the size"):
        ember.add(ember.ones(3), ember.ones(4))


def test_profiler_still_records_add_and_mul():
    a, b = ember.randn(4), ember.randn(4)
    original = F.Primitive.__dict__["apply"]
    with profile() as prof:
        ember.add(a, b)
        ember.mul(a, b)
    assert F.Primitive.__dict__["apply"] is original
    names = {e.key for e in prof.key_averages()}
    assert {"Add", "Mul"} <= names
