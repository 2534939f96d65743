"""``ember/ops/product_grad.py``: the gradients of prod and cumprod at zeros, infs and nans follow PyTorch's
case split (out / x without zeros, exclusive prefix * suffix products with them, cumprod's first-zero rule,
a size-1 dim passing the gradient through). Expected values were recorded from PyTorch 2.13 (CPU)."""

import math

import ember
import numpy as np
import pytest
from ember.autograd import gradcheck

INF, NAN = math.inf, math.nan


def f64(values, grad=True):
    return ember.tensor(values, dtype=ember.float64, requires_grad=grad)


def grad_of(fn, x, g=None):
    out = fn(x)
    out.backward(ember.ones_like(out) if g is None else g)
    return x.grad.numpy()


def same(got, want):
    np.testing.assert_allclose(got, np.asarray(want, dtype=np.float64), rtol=1e-12, atol=0, equal_nan=True)


@pytest.mark.parametrize(
    "values, dim, want",
    [
        # one zero, no dim: exclusive products over the flattened input (0 * inf gives nan)
        ([[-2.63, INF], [-0.0, 2.0]], None, [[NAN, 0.0], [-INF, NAN]]),
        # two zeros, no dim: plain zeros (PyTorch's shortcut outside create_graph), even beside an inf
        ([0.0, INF, 0.0], None, [0.0, 0.0, 0.0]),
        # with dim, any zero anywhere switches every slice to exclusive products
        ([[0.0, INF, 0.0]], 1, [[NAN, 0.0, NAN]]),
        ([[-INF, 1.64], [0.0, 2.0]], 1, [[1.64, -INF], [2.0, 0.0]]),
        # no zero: out / x, so an inf gives nan at itself
        ([[-INF, 1.64], [3.0, 2.0]], 1, [[NAN, -INF], [2.0, 3.0]]),
    ],
)
def test_prod_grad_at_zeros_and_infs(values, dim, want):
    fn = (lambda x: x.prod()) if dim is None else (lambda x: x.prod(dim))
    same(grad_of(fn, f64(values)), want)


def test_prod_grad_of_0d_is_the_incoming_gradient():
    same(grad_of(lambda x: x.prod(), f64(INF)), 1.0)


@pytest.mark.parametrize(
    "values, dim, want",
    [
        ([[INF], [2.0]], 1, [[1.0], [1.0]]),  # a size-1 dim passes the gradient through (no inf / inf)
        # first zero at the end: before it the reversed cumsum over x (inf / inf = nan), at it prod(x[:z1])
        ([[INF, 0.05, 0.0]], 1, [[NAN, INF, INF]]),
        # after the first zero only its own span counts; past the second zero, 0
        ([[2.0, 0.0, 3.0, 0.0, 5.0]], 1, [[1.0, 8.0, 0.0, 0.0, 0.0]]),
        ([[3.0, INF, -2.0]], 1, [[NAN, NAN, INF]]),
    ],
)
def test_cumprod_grad_at_zeros_and_infs(values, dim, want):
    same(grad_of(lambda x: x.cumprod(dim), f64(values)), want)


def test_cumprod_grad_with_zeros_matches_the_quadratic_rule_under_create_graph():
    x = f64([[2.0, 0.0, 3.0, 0.0, 5.0], [1.5, -2.0, 0.0, 4.0, 0.5]])
    (g_fast,) = ember.autograd.grad(x.cumprod(1).sum(), x)
    (g_slow,) = ember.autograd.grad(x.cumprod(1).sum(), x, create_graph=True)
    same(g_fast.numpy(), g_slow.detach().numpy())


@pytest.mark.parametrize("fn", [lambda x: x.prod(), lambda x: x.prod(1), lambda x: x.cumprod(1),
                                lambda x: x.cumprod(0)])
@pytest.mark.parametrize("values", [[[1.5, -0.7, 2.0], [0.3, 1.1, -1.3]], [[1.5, 0.0, 2.0], [0.3, 1.1, -1.3]]])
def test_gradcheck(fn, values):
    assert gradcheck(fn, (f64(values),))


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
def test_cum_with_dtype_is_differentiated_in_the_input_dtype(name):
    # PyTorch casts to dtype, accumulates in double and rounds each running value once; the gradient is
    # grad.to(input dtype) pushed through the float64 formula (recorded from PyTorch 2.13)
    x = f64([[2.87, -0.66, -1.97], [1.97, -0.29, 0.92]])
    g = ember.tensor([[0.1257302210933933, -0.1321048632913019, 0.6404226504432816],
                      [0.1049001394158635, -0.5356694237163559, 0.3615950554211753]], dtype=ember.float32)
    out = getattr(ember, name)(x, dim=1, dtype=ember.float32)
    assert out.dtype == ember.float32
    out.backward(g)
    want = {"cumsum": [[0.6340479999780655, 0.5083177834749222, 0.6404226422309875],
                       [-0.06917424499988556, -0.17407438158988953, 0.3615950644016266]],
            "cumprod": [[1.045596949257325, -4.000026571807853, -1.2130885879421984],
                        [0.16377070200270252, -0.39991383055792823, -0.20657926917762798]]}[name]
    same(x.grad.numpy(), want)
