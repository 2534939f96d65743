"""Sampling moments and gradients for the multivariate families and transformed distributions; the
private Cholesky / triangular-solve primitives; transform round trips (values are checked against torch
in test_distributions.py)."""

import numpy as np
import pytest

import ember
import ember.distributions as D
from ember.autograd import gradcheck, gradgradcheck
from ember.linalg import cholesky, solve_triangular

RNG = np.random.default_rng(11)
_M = RNG.standard_normal((3, 3))
COV = _M @ _M.T + np.eye(3)


def t64(a, grad=False):
    return ember.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def test_cholesky_and_triangular_solve_gradients():
    a = t64(COV, True)
    assert gradcheck(lambda x: cholesky((x + x.transpose(-2, -1)) / 2), (a,))
    assert gradgradcheck(lambda x: cholesky((x + x.transpose(-2, -1)) / 2), (a,))
    lower = t64(np.tril(_M) + 3 * np.eye(3), True)
    b = t64(RNG.standard_normal((2, 3, 2)), True)
    assert gradcheck(lambda l, r: solve_triangular(l, r, upper=False), (lower, b))
    assert gradcheck(lambda l, r: solve_triangular(l.transpose(-2, -1), r, upper=True, left=True), (lower, b))
    np.testing.assert_allclose(cholesky(t64(COV)).numpy(), np.linalg.cholesky(COV), rtol=1e-12)
    with pytest.raises(RuntimeError, match="not positive-definite"):
        cholesky(t64(-np.eye(2)))


def test_mvn_sampling_moments_and_gradients():
    ember.manual_seed(0)
    loc = t64([1.0, -2.0, 0.5])
    d = D.MultivariateNormal(loc, t64(COV))
    s = d.sample((50000,)).numpy()
    assert s.shape == (50000, 3)
    np.testing.assert_allclose(s.mean(0), loc.numpy(), atol=0.05)
    np.testing.assert_allclose(np.cov(s.T), COV, atol=0.1 * np.abs(COV).max())
    np.testing.assert_allclose(d.covariance_matrix.numpy(), COV, rtol=1e-12)
    np.testing.assert_allclose(d.precision_matrix.numpy(), np.linalg.inv(COV), rtol=1e-10)
    np.testing.assert_allclose(d.variance.numpy(), np.diag(COV), rtol=1e-12)
    x = t64(RNG.standard_normal((2, 3)))
    assert gradcheck(lambda m, c: D.MultivariateNormal(m, (c + c.transpose(-2, -1)) / 2).log_prob(x),
                     (t64([0.1, 0.2, -0.3], True), t64(COV, True)))
    assert gradcheck(lambda c: D.MultivariateNormal(t64([0.0, 0, 0]), precision_matrix=(c + c.transpose(-2, -1)) / 2
                                                    ).entropy(), (t64(COV, True),))
    tril = t64(np.linalg.cholesky(COV), True)
    s = D.MultivariateNormal(t64([0.0, 0, 0]), scale_tril=tril).rsample((4,))
    s.sum().backward()
    eps = np.linalg.solve(np.linalg.cholesky(COV), s.detach().numpy().T).T  # s = L eps
    np.testing.assert_allclose(tril.grad.numpy(), np.ones((3, 1)) * eps.sum(0), rtol=1e-10)  # d(L eps)/dL
    with pytest.raises(ValueError, match="Exactly one of covariance_matrix or precision_matrix or scale_tril"):
        D.MultivariateNormal(t64([0.0, 0.0]))
    with pytest.raises(ValueError, match="covariance_matrix must be at least two-dimensional"):
        D.MultivariateNormal(t64([0.0, 0.0]), t64([1.0, 1.0]))
    with pytest.raises(ValueError, match="to satisfy the constraint PositiveDefinite"):
        D.MultivariateNormal(t64([0.0, 0.0]), t64(-np.eye(2)))


def test_mvn_batching_and_expand():
    d = D.MultivariateNormal(t64(np.zeros((4, 1, 3))), t64(np.stack([COV, 2 * COV])))
    assert d.batch_shape == (4, 2) and d.event_shape == (3,)
    assert d.log_prob(t64(np.zeros(3))).shape == (4, 2)
    assert d.expand((5, 4, 2)).sample((2,)).shape == (2, 5, 4, 2, 3)


MOMENTS = [
    ("beta", lambda: D.Beta(t64([0.5, 3.0]), t64([2.0, 1.5]))),
    ("dirichlet", lambda: D.Dirichlet(t64([0.5, 2.0, 4.0]))),
    ("binomial", lambda: D.Binomial(t64([10.0, 3.0]), probs=t64([0.3, 0.8]))),
    ("multinomial", lambda: D.Multinomial(6, probs=t64([0.2, 0.5, 0.3]))),
    ("onehot", lambda: D.OneHotCategorical(probs=t64([0.2, 0.5, 0.3]))),
    ("studentt", lambda: D.StudentT(t64([5.0, 9.0]), t64([1.0, -1.0]), t64([2.0, 0.5]))),
    ("lognormal", lambda: D.LogNormal(t64([0.0, 0.5]), t64([0.25, 0.5]))),
]


@pytest.mark.parametrize("name,make", MOMENTS, ids=[m[0] for m in MOMENTS])
def test_sample_moments(name, make):
    ember.manual_seed(5)
    d = make()
    n = 40000
    s = d.sample((n,))
    assert tuple(s.shape) == (n,) + tuple(d.batch_shape) + tuple(d.event_shape)
    err = np.abs(s.numpy().mean(0) - d.mean.numpy())
    assert (err <= 5 * np.sqrt(d.variance.numpy() / n) + 1e-12).all(), err
    np.testing.assert_allclose(s.numpy().var(0), d.variance.numpy(), rtol=0.12)
    assert bool(d.support.check(s).all())


def test_transformed_rsample_gradients_and_round_trips():
    loc = t64([0.2, -0.4], True)
    scale = t64([0.5, 1.5], True)
    assert gradcheck(lambda m, s: D.LogNormal(m, s).log_prob(t64([0.7, 2.0])), (loc, scale))
    ember.manual_seed(3)
    s = D.LogNormal(loc, scale).rsample((3,))
    s.sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), s.detach().sum(0).numpy(), rtol=1e-12)  # d exp(m + s e)/dm
    x = t64(RNG.standard_normal((2, 4)))
    for t in [D.ExpTransform(), D.SigmoidTransform(), D.TanhTransform(), D.AffineTransform(1.0, -3.0),
              D.ComposeTransform([D.AffineTransform(0.5, 2.0), D.SigmoidTransform()]), D.StickBreakingTransform()]:
        y = t(x)
        np.testing.assert_allclose(t.inv(y).numpy(), x.numpy(), rtol=1e-6, atol=1e-7)
    # the log-det of exp/affine/tanh against the numerical derivative
    for t in [D.ExpTransform(), D.TanhTransform(), D.AffineTransform(1.0, -3.0), D.SigmoidTransform()]:
        h = 1e-6
        num = np.log(np.abs((t(x + h).numpy() - t(x - h).numpy()) / (2 * h)))
        np.testing.assert_allclose(t.log_abs_det_jacobian(x, t(x)).numpy(), num, rtol=1e-5, atol=1e-6)
    sb = D.StickBreakingTransform()
    y = sb(x)
    assert y.shape == (2, 5) and np.allclose(y.sum(-1).numpy(), 1.0)
    assert sb.forward_shape((2, 4)) == (2, 5) and sb.inverse_shape((2, 5)) == (2, 4)
