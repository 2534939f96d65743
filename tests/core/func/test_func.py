"""ember.func transforms and autograd.functional against analytic derivatives."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember import func
from ember.autograd import functional as AF

RNG = np.random.default_rng(0)
A = ember.tensor(RNG.standard_normal((4, 3)))
X = ember.tensor(RNG.standard_normal(3))


def f(x):
    return A @ x.tanh()


def jac_f(x):
    return A.numpy() * (1 - np.tanh(x.numpy()) ** 2)[None, :]


def test_grad_nests_and_returns_plain_tensors():
    cube = lambda t: (t ** 3).sum()  # noqa: E731
    g = func.grad(cube)(X)
    np.testing.assert_allclose(g.numpy(), 3 * X.numpy() ** 2)
    assert g.grad_fn is None and not g.requires_grad
    gg = func.grad(lambda t: func.grad(cube)(t).sum())(X)
    np.testing.assert_allclose(gg.numpy(), 6 * X.numpy())
    y = X.clone().requires_grad_()
    func.grad(cube)(y).sum().backward()  # composes with ordinary autograd
    np.testing.assert_allclose(y.grad.numpy(), 6 * X.numpy())


def test_grad_argnums_aux_and_value():
    h = lambda a, b: ((a * b).sum(), a.sum())  # noqa: E731
    (ga, gb), aux = func.grad(h, argnums=(0, 1), has_aux=True)(X, 2 * X)
    np.testing.assert_allclose(ga.numpy(), 2 * X.numpy())
    np.testing.assert_allclose(gb.numpy(), X.numpy())
    np.testing.assert_allclose(aux.item(), X.sum().item())
    g, value = func.grad_and_value(lambda t: (t * t).sum())(X)
    np.testing.assert_allclose(value.item(), (X * X).sum().item())
    with pytest.raises(RuntimeError, match="Expected f\\(\\*args\\) to return a scalar Tensor, got tensor with 1 dims"):
        func.grad(lambda t: t * 2)(X)


def test_vjp_jvp_jacrev_jacfwd():
    out, vjp_fn = func.vjp(f, X)
    u = ember.tensor(RNG.standard_normal(4))
    (g,) = vjp_fn(u)
    np.testing.assert_allclose(g.numpy(), u.numpy() @ jac_f(X), rtol=1e-12)
    v = ember.tensor(RNG.standard_normal(3))
    out2, jv = func.jvp(f, (X,), (v,))
    np.testing.assert_allclose(jv.numpy(), jac_f(X) @ v.numpy(), rtol=1e-12)
    np.testing.assert_allclose(out2.numpy(), out.detach().numpy())
    np.testing.assert_allclose(func.jacrev(f)(X).numpy(), jac_f(X), rtol=1e-12)
    np.testing.assert_allclose(func.jacfwd(f)(X).numpy(), jac_f(X), rtol=1e-12)


def test_hessians():
    M = ember.tensor(RNG.standard_normal((3, 3)))
    quad = lambda t: t @ M @ t  # noqa: E731
    expected = M.numpy() + M.numpy().T
    np.testing.assert_allclose(func.hessian(quad)(X).numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(AF.hessian(quad, X).numpy(), expected, rtol=1e-12)
    v = ember.tensor(RNG.standard_normal(3))
    _, hv = AF.hvp(quad, X, v)
    np.testing.assert_allclose(hv.numpy(), expected @ v.numpy(), rtol=1e-12)
    _, vh = AF.vhp(quad, X, v)
    np.testing.assert_allclose(vh.numpy(), v.numpy() @ expected, rtol=1e-12)


def test_autograd_functional_shapes_and_strict():
    J = AF.jacobian(f, X)
    np.testing.assert_allclose(J.numpy(), jac_f(X), rtol=1e-12)
    Jf = AF.jacobian(f, X, strategy="forward-mode")
    np.testing.assert_allclose(Jf.numpy(), jac_f(X), rtol=1e-12)
    two = AF.jacobian(lambda a, b: (a * b, a.sum()), (X, X))
    assert len(two) == 2 and len(two[0]) == 2 and tuple(two[0][0].shape) == (3, 3) and tuple(two[1][0].shape) == (3,)
    out, vjp = AF.vjp(f, X, ember.ones(4, dtype=ember.float64))
    np.testing.assert_allclose(vjp.numpy(), jac_f(X).sum(0), rtol=1e-12)
    out, jvp = AF.jvp(f, X, ember.ones(3, dtype=ember.float64))
    np.testing.assert_allclose(jvp.numpy(), jac_f(X).sum(1), rtol=1e-12)
    assert not jvp.requires_grad
    with pytest.raises(RuntimeError, match="independent of the input 1"):
        AF.vjp(lambda a, b: a * 2, (X, X), ember.ones(3, dtype=ember.float64), strict=True)
    with pytest.raises(RuntimeError, match="can only be None if the user-provided function returns a single"):
        AF.vjp(f, X)


def test_functional_call_leaves_the_module_unchanged():
    ember.manual_seed(0)
    m = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2)).double()
    before = {k: v.clone() for k, v in m.state_dict().items()}
    zeros = {"0.weight": ember.zeros(2, 3, dtype=ember.float64), "0.bias": ember.ones(2, dtype=ember.float64)}
    out = func.functional_call(m.eval(), zeros, (X.reshape(1, 3),))
    np.testing.assert_allclose(out.detach().numpy(), np.ones((1, 2)) / np.sqrt(1 + 1e-5), rtol=1e-6)
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k].numpy())
    params = dict(m.named_parameters())
    g = func.grad(lambda p: func.functional_call(m, p, (X.reshape(1, 3),)).sum())(params)
    assert set(g) == set(params) and tuple(g["0.weight"].shape) == (2, 3) 
    with pytest.raises(RuntimeError, match="Missing key\\(s\\)"):
        func.functional_call(m, zeros, (X.reshape(1, 3),), strict=True)
    assert nn.utils.stateless.functional_call is func.functional_call


def test_functional_call_gradients_through_given_parameters():
    lin = nn.Linear(3, 1).double()
    w = ember.tensor(RNG.standard_normal((1, 3)), requires_grad=True)
    b = ember.zeros(1, dtype=ember.float64, requires_grad=True)
    func.functional_call(lin, {"weight": w, "bias": b}, X).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), X.numpy()[None, :])
    assert lin.weight.grad is None


def test_vmap_is_a_clear_error():
    with pytest.raises(NotImplementedError, match="vmap is not implemented yet"):
        func.vmap(f)
