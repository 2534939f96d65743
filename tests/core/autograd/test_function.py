"""User-defined ``ember.autograd.Function`` and ``once_differentiable``."""

import numpy as np
import pytest

import ember
from ember.autograd import Function, gradcheck, once_differentiable
from ember.testing import assert_close


class Cube(Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x * x * x * scale

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x * ctx.scale, None


class SplitSign(Function):
    @staticmethod
    def forward(ctx, x):
        mask = x._data > 0
        ctx.mark_non_differentiable(ember.tensor(mask))
        out = x * 2
        idx = ember.tensor(mask)
        ctx.mark_non_differentiable(idx)
        return out, idx

    @staticmethod
    def backward(ctx, grad_out, grad_idx):
        assert grad_idx is None or float(grad_idx.sum()) == 0
        return grad_out * 2


class RawSquare(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return ember.Tensor._make(2 * x._data * grad._data)


def test_custom_function_forward_backward_and_gradcheck():
    x = ember.tensor([1.0, -2.0], dtype=ember.float64, requires_grad=True)
    y = Cube.apply(x, 2.0)
    assert y.grad_fn.name() == "CubeBackward"
    y.sum().backward()
    assert_close(x.grad, ember.tensor([6.0, 24.0], dtype=ember.float64))
    assert gradcheck(lambda t: Cube.apply(t, 0.5), (ember.tensor(np.array([0.3, -1.2]), requires_grad=True),))


def test_needs_input_grad():
    seen = {}

    class Probe(Function):
        @staticmethod
        def forward(ctx, a, b):
            seen["needs"] = ctx.needs_input_grad
            return a * b

        @staticmethod
        def backward(ctx, grad):
            return grad, None

    Probe.apply(ember.ones(1, requires_grad=True), ember.ones(1))
    assert seen["needs"] == (True, False)


def test_mark_non_differentiable_outputs():
    x = ember.tensor([1.0, -1.0], requires_grad=True)
    out, idx = SplitSign.apply(x)
    assert out.requires_grad and not idx.requires_grad
    out.sum().backward()
    assert_close(x.grad, ember.tensor([2.0, 2.0]))


def test_once_differentiable_raises_on_double_backward():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    (g,) = ember.autograd.grad(RawSquare.apply(x).sum(), x, create_graph=True)
    assert_close(g.detach(), ember.tensor([2.0, 4.0]))
    with pytest.raises(RuntimeError, match="once_differentiable"):
        g.sum().backward()


def test_wrong_number_of_gradients():
    class Bad(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(RuntimeError, match="returned an incorrect number of gradients"):
        Bad.apply(ember.ones(1, requires_grad=True), ember.ones(1, requires_grad=True)).sum().backward()


def test_function_output_that_is_saved_does_not_leak_or_fail():
    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            out = ember.Tensor._make(np.exp(x._data))
            ctx.save_for_backward(out)
            return out

        @staticmethod
        def backward(ctx, grad):
            (out,) = ctx.saved_tensors
            return grad * out

    x = ember.tensor([0.0, 1.0], dtype=ember.float64, requires_grad=True)
    assert gradcheck(Exp.apply, (x,))
