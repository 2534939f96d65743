"""Implicit reparameterisation gradients of gamma samples (Gamma, Beta, Dirichlet, StudentT rsample):
against SciPy's incomplete gamma by finite differences, against torch's recorded _standard_gamma_grad,
and through the mean identity d E[x] / d alpha."""

import pathlib

import numpy as np
import pytest

import ember
import ember.distributions as D
from ember.distributions._gamma_grad import standard_gamma_grad

sp = pytest.importorskip("scipy.special")  # the reference values (test-only dependency)

REF = np.load(pathlib.Path(__file__).parent / "fixtures" / "gamma_grad_ref.npz")


def _scipy_grad(a, x):
    h = 1e-6 * np.maximum(a, 1)
    dp = np.where(x < a + 1, (sp.gammainc(a + h, x) - sp.gammainc(a - h, x)) / (2 * h),
                  -(sp.gammaincc(a + h, x) - sp.gammaincc(a - h, x)) / (2 * h))  # no cancellation near P = 1
    pdf = np.exp((a - 1) * np.log(x) - x - sp.gammaln(a))
    return -dp / pdf


def test_implicit_gradient_against_scipy_and_torch():
    a, x = REF["alpha"], REF["x"]
    got = standard_gamma_grad(a, x)
    np.testing.assert_allclose(got, _scipy_grad(a, x), rtol=2e-6)
    np.testing.assert_allclose(got, REF["grad"], rtol=2e-3)  # torch's own formula is an approximation
    a2 = np.array([0.3, 2.0, 5.0, 0.5])
    x2 = np.array([3.0, 0.01, 30.0, 1e-8])  # deep tails on both sides
    np.testing.assert_allclose(standard_gamma_grad(a2, x2), _scipy_grad(a2, x2), rtol=1e-5)


def test_gamma_rsample_gradient_matches_mean_derivative():
    ember.manual_seed(0)
    conc = ember.tensor([0.4, 3.0], dtype=ember.float64, requires_grad=True)
    rate = ember.tensor([2.0, 0.5], dtype=ember.float64, requires_grad=True)
    n = 40000
    s = D.Gamma(conc, rate).rsample((n,))
    assert s.requires_grad and s.shape == (n, 2)
    (s.sum() / n).backward()
    # E[x] = conc / rate: d/dconc = 1 / rate, d/drate = -conc / rate**2
    np.testing.assert_allclose(conc.grad.numpy(), [0.5, 2.0], rtol=0.03)
    np.testing.assert_allclose(rate.grad.numpy(), [-0.1, -12.0], rtol=0.03)


def test_beta_dirichlet_studentt_rsample_gradients():
    ember.manual_seed(1)
    n = 40000
    a = ember.tensor([2.0], dtype=ember.float64, requires_grad=True)
    b = ember.tensor([3.0], dtype=ember.float64, requires_grad=True)
    (D.Beta(a, b).rsample((n,)).sum() / n).backward()
    # E = a / (a + b): d/da = b / (a+b)^2 = 0.12, d/db = -a / (a+b)^2 = -0.08
    np.testing.assert_allclose([a.grad.item(), b.grad.item()], [0.12, -0.08], rtol=0.05)
    c = ember.tensor([1.0, 2.0, 3.0], dtype=ember.float64, requires_grad=True)
    s = D.Dirichlet(c).rsample((n,))
    assert np.allclose(s.detach().sum(-1).numpy(), 1.0)
    (s[:, 0].sum() / n).backward()
    np.testing.assert_allclose(c.grad.numpy(), [5 / 36, -1 / 36, -1 / 36], atol=0.006)  # d(c0 / sum c)
    df = ember.tensor([6.0], dtype=ember.float64, requires_grad=True)
    scale = ember.tensor([2.0], dtype=ember.float64, requires_grad=True)
    y = D.StudentT(df, 0.0, scale).rsample((n,))
    (y.pow(2).sum() / n).backward()  # E[y^2] = scale^2 df / (df - 2)
    np.testing.assert_allclose(scale.grad.item(), 2 * 2.0 * 6 / 4, rtol=0.06)
    np.testing.assert_allclose(df.grad.item(), 4.0 * -2 / 16, rtol=0.25)
