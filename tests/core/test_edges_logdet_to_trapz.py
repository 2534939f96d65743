"""Disagreements with PyTorch found by the differential suite (tests/parity, issue 19) in logdet, ldexp,
linalg.slogdet, linalg.vector_norm, nanmedian, nextafter, scatter_reduce, take_along_dim, trapezoid/trapz,
adaptive_max_pool1d, group_norm, meshgrid and sum_to_size. Expected values are hand-computed or recorded from
PyTorch 2.13 (quoted in each test)."""

import math

import pytest

import ember
from ember.autograd import gradcheck


def _f64(values, grad=True):
    return ember.tensor(values, dtype=ember.float64, requires_grad=grad)


# ---- nextafter ------------------------------------------------------------------------------------


def test_nextafter_gradient_is_the_identity_except_where_input_equals_other():
    a, b = _f64([1.0, 2.0, -0.0]), _f64([3.0, 2.0, 0.0])
    ember.nextafter(a, b).backward(ember.tensor([0.5, 0.5, 0.5], dtype=ember.float64))
    assert a.grad.tolist() == [0.5, 0.0, 0.0]  # PyTorch 2.13: equal inputs (-0.0 == 0.0) get 0
    assert b.grad.tolist() == [0.0, 0.0, 0.0]


# ---- ldexp ----------------------------------------------------------------------------------------


def test_ldexp_with_an_integer_exponent_keeps_the_mantissa_dtype():
    assert ember.ldexp(ember.tensor(0.86, dtype=ember.float64), ember.tensor([0])).dtype == ember.float64
    h = ember.ldexp(ember.tensor([-1.0, 2.0], dtype=ember.float16), ember.tensor([-2, 3], dtype=ember.int16))
    assert h.dtype == ember.float16 and h.tolist() == [-0.25, 16.0]
    assert ember.ldexp(ember.tensor([1, 2]), ember.tensor([1, 2], dtype=ember.int16)).dtype == ember.float32


def test_ldexp_float_exponent_promotes_as_pytorch():
    # PyTorch: a float64 mantissa forms 2 ** e from a float64 0-d base, so two 0-d inputs compute in float64
    y = ember.ldexp(ember.tensor(1.0, dtype=ember.float64), ember.tensor(0.199951171875, dtype=ember.float16))
    assert y.dtype == ember.float64 and y.item() == pytest.approx(2 ** 0.199951171875, rel=1e-12)
    assert ember.ldexp(ember.tensor([1.0], dtype=ember.float16), ember.tensor([1.0], dtype=ember.float64)).dtype == ember.float64


def test_ldexp_takes_tensors_only():
    with pytest.raises(TypeError, match="argument 'other'"):
        ember.ldexp(ember.tensor([1.0]), 2)


def test_ldexp_gradients():
    x = _f64([1.5, 2.0])
    ember.ldexp(x, ember.tensor([-2, 3])).sum().backward()
    assert x.grad.tolist() == [0.0, 8.0]  # PyTorch: grad * 2 ** e in integers, 0 for a negative e
    assert gradcheck(ember.ldexp, (_f64([1.5, -2.0, 0.25]), _f64([[0.3], [1.2]])))
    # the exponent's gradient is formed elementwise before the broadcast sum: +inf and -inf terms give nan
    m, e = _f64([[-1.0], [2.0]]), _f64([math.inf])
    ember.ldexp(m, e).sum().backward()
    assert math.isnan(e.grad.item())
