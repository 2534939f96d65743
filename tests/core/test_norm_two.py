"""``Tensor.norm`` / ``torch.norm`` with p = 'fro', 2 or None on floating and complex tensors: vector_norm's
one pass over the squares. Values, shapes and gradients as the definition gives them (sqrt of the sum of
|x|^2), a zero gradient at a zero vector, a twice-differentiable result, and complex magnitudes."""

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck


@pytest.mark.parametrize("args", [(), ("fro",), (2, 1), ("fro", (0, 1), True), (None, -1, True), (2, (0, 2))])
def test_values_and_gradients(args):
    x = np.random.default_rng(0).standard_normal((4, 5, 3))
    t = ember.tensor(x, requires_grad=True)
    y = t.norm(*args)
    _, dim, keep = list(args) + ["fro", None, False][len(args):]
    axes = tuple(range(3)) if dim is None else dim
    want = np.sqrt((x * x).sum(axis=axes, keepdims=keep))
    np.testing.assert_allclose(y.detach().numpy(), want, rtol=1e-12)
    y.sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), x / np.sqrt((x * x).sum(axis=axes, keepdims=True)), rtol=1e-12)
    assert gradcheck(lambda a: a.norm(*args), (t,)) and gradgradcheck(lambda a: a.norm(*args), (t,))


def test_zero_vector_has_zero_gradient():
    t = ember.zeros(3, requires_grad=True)
    t.norm().backward()
    assert t.grad.tolist() == [0.0, 0.0, 0.0]


def test_complex_and_float32():
    assert ember.tensor([3 + 4j, 1j]).norm().item() == pytest.approx(np.sqrt(26))
    v = np.random.default_rng(1).standard_normal(1 << 20).astype(np.float32)
    got = ember.tensor(v).norm()
    assert got.dtype == ember.float32
    assert got.item() == pytest.approx(float(np.sqrt((v.astype(np.float64) ** 2).sum())), rel=1e-6)
