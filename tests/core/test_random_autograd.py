"""Random ops with tensor parameters as PyTorch records them: the result joins the graph (zero gradient),
its dtype follows ``mean`` (or ``std``), and dtypes without a sampling kernel raise PyTorch's errors."""

import pytest

import ember


@pytest.mark.parametrize("make", [
    lambda m, s: ember.normal(m, s),
    lambda m, s: ember.normal(m, 0.5),
    lambda m, s: ember.normal(0.5, s),
])
def test_normal_with_tensor_parameters_requires_grad_with_zero_gradient(make):
    m = ember.tensor([0.5, -1.0, 2.0], dtype=ember.float64, requires_grad=True)
    s = ember.tensor([1.0, 0.5, 2.0], dtype=ember.float64, requires_grad=True)
    out = make(m, s)
    assert out.requires_grad and out.grad_fn is not None
    out.sum().backward()
    for p in (m, s):
        if p.grad is not None:
            assert p.grad.tolist() == [0.0, 0.0, 0.0]
    assert m.grad is not None or s.grad is not None


def test_normal_result_has_means_dtype_and_broadcast_shape():
    f32, f64 = ember.float32, ember.float64
    assert ember.normal(ember.zeros(2, 1, dtype=f32), ember.ones(3, dtype=f64)).dtype is f32
    assert ember.normal(ember.zeros(2, 1, dtype=f32), ember.ones(3, dtype=f64)).shape == (2, 3)
    assert ember.normal(ember.zeros(3, dtype=f64), ember.tensor(1.0)).dtype is f64
    assert ember.normal(ember.zeros(0, dtype=f32), ember.tensor(1.5, dtype=f64)).dtype is f32
    assert ember.normal(2.0, ember.ones(2, dtype=ember.float16)).dtype is ember.float16


def test_normal_refuses_what_pytorch_refuses():
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(2\) must match the size of tensor b \(3\)"):
        ember.normal(ember.ones(2), ember.ones(3))
    with pytest.raises(RuntimeError, match="normal expects all elements of std >= 0.0"):
        ember.normal(ember.zeros(2), ember.tensor([-1.0, 1.0]))
    with pytest.raises(RuntimeError, match="normal expects std >= 0.0, but found std -1"):
        ember.normal(ember.zeros(2), -1.0)
    with pytest.raises(NotImplementedError, match="\"normal_kernel_cpu\" not implemented for 'Long'"):
        ember.normal(ember.zeros(2, dtype=ember.int64), 1.0)


def test_no_graph_without_grad_mode_or_grad_inputs():
    m = ember.zeros(2, requires_grad=True)
    with ember.no_grad():
        assert not ember.normal(m, 1.0).requires_grad
        assert not ember.bernoulli(m).requires_grad
    assert not ember.normal(ember.zeros(2), ember.ones(2)).requires_grad


def test_bernoulli_requires_grad_when_probabilities_do():
    p = ember.tensor([[0.2, 0.9], [0.5, 0.0]], dtype=ember.float64, requires_grad=True)
    out = ember.bernoulli(p)
    assert out.requires_grad and out.dtype is ember.float64
    out.sum().backward()
    assert p.grad.tolist() == [[0.0, 0.0], [0.0, 0.0]]
    q = ember.bernoulli(p, 0.3)  # PyTorch records it but has no derivative
    assert q.requires_grad
    with pytest.raises(RuntimeError, match="derivative for aten::bernoulli is not implemented"):
        q.sum().backward()


def test_bernoulli_checks_probabilities_and_dtypes():
    with pytest.raises(RuntimeError, match=r"Expected p_in >= 0 && p_in <= 1"):
        ember.bernoulli(ember.tensor([0.5, 1.5]))
    with pytest.raises(RuntimeError, match=r"bernoulli_ expects p to be in \[0, 1\], but got p=1.5"):
        ember.bernoulli(ember.ones(2), 1.5)
    with pytest.raises(NotImplementedError, match="\"bernoulli_tensor_cpu_p_\" not implemented for 'Long'"):
        ember.bernoulli(ember.ones(2, dtype=ember.int64))
    assert ember.bernoulli(ember.ones(2, dtype=ember.int64), 0.5).dtype is ember.int64
    assert ember.bernoulli(ember.ones(0, dtype=ember.int64)).shape == (0,)


def test_integer_dtypes_of_random_factories():
    # PyTorch skips the normal kernel for an empty result, so an integer dtype is accepted there
    assert ember.randn((2, 0), dtype=ember.int64).dtype is ember.int64
    assert ember.randn_like(ember.zeros(0, dtype=ember.int8)).dtype is ember.int8
    assert ember.normal(0.0, 1.0, (0,), dtype=ember.int64).shape == (0,)
    with pytest.raises(NotImplementedError, match="\"normal_kernel_cpu\" not implemented for 'Long'"):
        ember.randn((2, 1), dtype=ember.int64)
    with pytest.raises(NotImplementedError, match="\"check_uniform_bounds\" not implemented for 'Long'"):
        ember.rand((2, 0), dtype=ember.int64)
