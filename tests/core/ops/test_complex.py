"""Complex tensors (ember/ops/complex.py and the complex paths of the arithmetic): promotion, views,
conj/angle/abs/polar, and gradients in PyTorch's convention (grad = dL/d(re) + i dL/d(im)), checked in
float64 by building complex tensors from real ones."""

import math

import ember
import numpy as np
import pytest
from ember.autograd import gradcheck

F64 = ember.float64


def c(values, dtype=ember.complex64):
    return ember.tensor(values, dtype=dtype)


def test_default_complex_dtype_and_promotion():
    assert ember.tensor([1 + 2j]).dtype == ember.complex64
    z = c([1 + 2j])
    assert (z + ember.ones(1)).dtype == ember.complex64
    assert (z + ember.ones(1, dtype=F64)).dtype == ember.complex128
    assert (ember.ones(1) * 1j).dtype == ember.complex64
    assert ember.promote_types(ember.float64, ember.complex64) == ember.complex128
    assert z.is_complex() and ember.is_complex(z) and not ember.ones(1).is_complex()


def test_real_imag_are_views():
    z = c([1 + 2j, 3 - 4j])
    assert z.real.dtype == ember.float32
    np.testing.assert_array_equal(z.real.numpy(), [1, 3])
    np.testing.assert_array_equal(z.imag.numpy(), [2, -4])
    z.real.mul_(10)
    z.imag = ember.tensor([5.0, 6.0])
    np.testing.assert_array_equal(z.numpy(), [10 + 5j, 30 + 6j])
    x = ember.ones(2)
    assert x.real is x
    with pytest.raises(RuntimeError, match="imag is not implemented for tensors with non-complex dtypes"):
        x.imag


def test_view_as_real_and_complex_round_trip_and_share_memory():
    z = c([[1 + 2j, 3 - 4j]])
    r = ember.view_as_real(z)
    assert r.shape == (1, 2, 2) and r.dtype == ember.float32
    r[0, 0, 1] = 7.0
    assert z[0, 0].item() == 1 + 7j
    back = ember.view_as_complex(r)
    np.testing.assert_array_equal(back.numpy(), z.numpy())
    assert ember.view_as_real(c(1 + 2j)).shape == (2,)
    with pytest.raises(RuntimeError, match="view_as_real is only supported for complex tensors"):
        ember.view_as_real(ember.ones(2))
    with pytest.raises(RuntimeError, match="Tensor must have a last dimension of size 2"):
        ember.view_as_complex(ember.ones(3))


def test_abs_angle_conj_polar_complex():
    z = c([3 + 4j, -1 + 0j, 0j])
    np.testing.assert_allclose(z.abs().numpy(), [5, 1, 0])
    assert z.abs().dtype == ember.float32
    np.testing.assert_allclose(z.angle().numpy(), [math.atan2(4, 3), math.pi, 0], rtol=1e-6)
    np.testing.assert_allclose(ember.angle(ember.tensor([-2.0, 0.0, 3.0])).numpy(), [math.pi, 0, 0], rtol=1e-6)
    np.testing.assert_array_equal(z.conj().numpy(), [3 - 4j, -1, 0])
    p = ember.polar(ember.tensor([2.0]), ember.tensor([math.pi / 2]))
    np.testing.assert_allclose(p.numpy(), [2j], atol=1e-6)
    assert p.dtype == ember.complex64
    w = ember.complex(ember.tensor([1.0, 2.0]), ember.tensor([3.0, 4.0]))
    np.testing.assert_array_equal(w.numpy(), [1 + 3j, 2 + 4j])
    with pytest.raises(RuntimeError, match="Expected object of scalar type Float but got scalar type Double"):
        ember.complex(ember.ones(1), ember.ones(1, dtype=F64))


def test_gradient_convention_matches_pytorch():
    # L = sum |z|^2 has gradient 2 z in PyTorch's convention
    z = ember.tensor([1 + 2j, 3 - 1j], dtype=ember.complex128, requires_grad=True)
    (z * z.conj()).real.sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), [2 + 4j, 6 - 2j])
    z.grad = None
    (z * z).abs().sum().backward()  # |z^2| = |z|^2
    np.testing.assert_allclose(z.grad.numpy(), [2 + 4j, 6 - 2j])
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for real scalar outputs"):
        z.sum().backward()


def _pair(*shape):
    return (ember.randn(*shape, dtype=F64, requires_grad=True), ember.randn(*shape, dtype=F64, requires_grad=True))


OPS = {
    "add": lambda z, w: z + w, "sub": lambda z, w: z - 2.5 * w, "mul": lambda z, w: z * w,
    "div": lambda z, w: z / (w + 3), "exp": lambda z, w: (z * 0.3).exp() + w,
    "pow": lambda z, w: z**3 + w**0.5 * 0 + w, "matmul": lambda z, w: z @ w.mT,
    "sum_mean": lambda z, w: z.sum(0) + w.mean(1), "conj": lambda z, w: z.conj() * w,
    "scalar": lambda z, w: (1 - 2j) * z / (2 + 1j) + w,
    "prod": lambda z, w: z.prod(1) + w.prod(), "cumprod": lambda z, w: z.cumprod(0) * w,
    "pow_tensor": lambda z, w: (z + 3) ** (w * 0.5), "rpow": lambda z, w: 2 ** z + w,
    "einsum": lambda z, w: ember.einsum("ij,kj->ik", z, w), "sgn": lambda z, w: z.sgn() * w,
    "linear_ops": lambda z, w: ember.cat([z, w.flip(0)], 1).transpose(0, 1).roll(1, 0)[::2].cumsum(0),
}


@pytest.mark.parametrize("name", OPS)
def test_gradcheck_complex_arithmetic(name):
    (a, b), (p, q) = _pair(3, 3), _pair(3, 3)
    assert gradcheck(lambda a, b, p, q: ember.view_as_real(OPS[name](ember.complex(a, b), ember.complex(p, q))),
                     (a, b, p, q))


@pytest.mark.parametrize("fn", [
    lambda z: z.abs(), lambda z: z.angle(), lambda z: z.real * z.imag, lambda z: ember.view_as_real(z * z),
])
def test_gradcheck_complex_to_real(fn):
    a, b = _pair(4)
    assert gradcheck(lambda a, b: fn(ember.complex(a, b) + (2 + 1j)), (a, b))


def test_gradgradcheck_abs():
    a, b = _pair(4)
    assert ember.autograd.gradgradcheck(lambda a, b: ember.complex(a, b).abs(), (a, b))


def test_gradcheck_polar_view_as_complex_and_real_times_complex():
    r, t = _pair(4)
    assert gradcheck(lambda r, t: ember.view_as_real(ember.polar(r.exp(), t)), (r, t))
    x = ember.randn(4, 2, dtype=F64, requires_grad=True)
    assert gradcheck(lambda x: ember.view_as_real(ember.view_as_complex(x) ** 2), (x,))
    assert gradcheck(lambda x, r: ember.view_as_real(r * ember.view_as_complex(x)), (x, r))


def test_printing():
    # recorded from PyTorch: real and imaginary parts are formatted separately
    assert repr(c([1 + 2j, 3j])) == "tensor([1.+2.j, 0.+3.j])"
    assert repr(c([1.5 + 2.25j, 100 - 3j])) == "tensor([  1.5000+2.2500j, 100.0000-3.0000j])"
    assert repr(c([[1e-5 + 2j, 1e5 - 3j]])) == "tensor([[1.0000e-05+2.j, 1.0000e+05-3.j]])"
    assert repr(c(1 + 2j)) == "tensor(1.+2.j)"
    assert repr(c([1 + 2j], ember.complex128)) == "tensor([1.+2.j], dtype=ember.complex128)"
    assert repr(c([1 + 2j, -0.5j])) == "tensor([1.+2.0000j, -0.-0.5000j])"
    assert repr(c([float("nan") + 1j, 2j])) == "tensor([nan+1.j, 0.+2.j])"


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "reciprocal", "asinh"])
def test_gradcheck_holomorphic_unary(name):
    a, b = _pair(4)
    fn = getattr(ember, name)
    assert gradcheck(lambda a, b: ember.view_as_real(fn(ember.complex(a, b) * 0.5 + (1 + 0.5j))), (a, b))


@pytest.mark.parametrize("fn, exc, msg", [
    (lambda z: ember.relu(z), NotImplementedError, "clamp is not supported for complex types"),
    (lambda z: z.clamp(0, 1), NotImplementedError, "clamp is not supported for complex types"),
    (lambda z: z < z, NotImplementedError, "\"lt_cpu\" not implemented for 'ComplexFloat'"),
    (lambda z: z.max(), NotImplementedError, "not implemented for 'ComplexFloat'"),
    (lambda z: z.max(0), NotImplementedError, "not implemented for 'ComplexFloat'"),
    (lambda z: z.sort(), RuntimeError, "Sort does not support complex dtypes"),
    (lambda z: z.argmax(), RuntimeError, "argmax\\(\\): does not support complex input"),
    (lambda z: ember.maximum(z, z), RuntimeError, "maximum not implemented for complex tensors"),
    (lambda z: ember.erf(z), NotImplementedError, "not implemented for 'ComplexFloat'"),
    (lambda z: z.floor(), NotImplementedError, "not implemented for 'ComplexFloat'"),
    (lambda z: z.softmax(0), NotImplementedError, "not implemented for 'ComplexFloat'"),
])
def test_ops_without_complex_support_raise(fn, exc, msg):
    with pytest.raises(exc, match=msg):
        fn(c([1 + 2j, 3j]))
    assert (c([1 + 2j]) == c([1 + 2j])).all()


def test_complex_random_tensors():
    u = ember.rand(2000, dtype=ember.complex64)
    assert u.dtype == ember.complex64
    assert 0 <= u.real.min().item() and u.real.max().item() < 1 and 0 <= u.imag.min().item() and u.imag.max().item() < 1
    n = ember.randn(4000, dtype=ember.complex128)
    assert n.dtype == ember.complex128
    # PyTorch's complex normal: E|z|^2 = 1 (each part has variance 1/2)
    assert abs((n.abs() ** 2).mean().item() - 1) < 0.1 and abs(n.real.var().item() - 0.5) < 0.05
