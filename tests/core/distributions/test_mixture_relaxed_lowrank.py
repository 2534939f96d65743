"""MixtureSameFamily, the relaxed distributions and LowRankMultivariateNormal: sampling statistics,
reparameterised gradients and consistency (values against torch are in test_distributions.py)."""

import numpy as np
import pytest

import ember
import ember.distributions as D
from ember.autograd import gradcheck

RNG = np.random.default_rng(21)


def t64(a, grad=False):
    return ember.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def test_mixture_sampling_and_errors():
    ember.manual_seed(0)
    mix = D.MixtureSameFamily(D.Categorical(probs=t64([0.3, 0.7])), D.Normal(t64([-2.0, 3.0]), t64([0.5, 1.0])))
    s = mix.sample((40000,))
    assert s.shape == (40000,)
    np.testing.assert_allclose(s.numpy().mean(), mix.mean.item(), atol=0.05)
    np.testing.assert_allclose(s.numpy().var(), mix.variance.item(), rtol=0.05)
    np.testing.assert_allclose(mix.mean.item(), 0.3 * -2 + 0.7 * 3, rtol=1e-12)
    m2 = D.MixtureSameFamily(D.Categorical(logits=t64(np.zeros((4, 3)))),
                             D.Independent(D.Normal(t64(RNG.standard_normal((4, 3, 2))), t64(np.ones((4, 3, 2)))), 1))
    assert m2.batch_shape == (4,) and m2.event_shape == (2,) and m2.sample((5,)).shape == (5, 4, 2)
    assert m2.log_prob(t64(np.zeros((4, 2)))).shape == (4,)
    with pytest.raises(ValueError, match="needs to be an  instance of torch.distributions.Categorical"):
        D.MixtureSameFamily(D.Normal(0.0, 1.0), D.Normal(t64([0.0]), t64([1.0])))
    with pytest.raises(ValueError, match=r"`mixture_distribution component` \(3\) does not equal"):
        D.MixtureSameFamily(D.Categorical(logits=t64([0.0, 0, 0])), D.Normal(t64([0.0, 1]), t64([1.0, 1])))
    assert gradcheck(lambda lg, mu: D.MixtureSameFamily(D.Categorical(logits=lg), D.Normal(mu, 1.0)).log_prob(
        t64([0.3, -1.0])), (t64([0.2, -0.1], True), t64([0.0, 1.5], True)))


def test_relaxed_distributions():
    ember.manual_seed(1)
    logits = t64([0.5, -1.0], True)
    rb = D.RelaxedBernoulli(t64(0.1), logits=logits)
    s = rb.rsample((20000,))
    assert bool(((s > 0) & (s < 1)).all())
    np.testing.assert_allclose((s.detach().numpy() > 0.5).mean(0), 1 / (1 + np.exp(-logits.detach().numpy())),
                               atol=0.015)  # at low temperature the sample rounds to a Bernoulli draw
    s.sum().backward()
    assert logits.grad is not None and (logits.grad.numpy() > 0).all()
    cat_logits = t64([[0.0, 1.0, -1.0]], True)
    ro = D.RelaxedOneHotCategorical(t64(0.2), logits=cat_logits)
    s = ro.rsample((20000,))
    assert s.shape == (20000, 1, 3)
    np.testing.assert_allclose(s.detach().numpy().sum(-1), 1.0, rtol=1e-9)
    p = np.exp(cat_logits.detach().numpy()) / np.exp(cat_logits.detach().numpy()).sum()
    freq = np.bincount(s.detach().numpy().argmax(-1).ravel(), minlength=3) / 20000
    np.testing.assert_allclose(freq, p.ravel(), atol=0.015)  # argmax of Gumbel-softmax is exact
    (s[..., 0]).sum().backward()
    assert cat_logits.grad is not None
    assert gradcheck(lambda lg: D.RelaxedBernoulli(t64(0.7), logits=lg).log_prob(t64([0.3, 0.9])),
                     (t64([0.5, -1.0], True),))
    assert gradcheck(lambda lg: D.RelaxedOneHotCategorical(t64(0.5), logits=lg).log_prob(t64([0.2, 0.5, 0.3])),
                     (t64([0.0, 1.0, -1.0], True),))


def test_lowrank_mvn():
    w = RNG.standard_normal((3, 2))
    d = RNG.uniform(0.5, 1.5, 3)
    cov = w @ w.T + np.diag(d)
    lr = D.LowRankMultivariateNormal(t64([1.0, 0.0, -1.0]), t64(w), t64(d))
    np.testing.assert_allclose(lr.covariance_matrix.numpy(), cov, rtol=1e-12)
    np.testing.assert_allclose(lr.precision_matrix.numpy(), np.linalg.inv(cov), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(lr.scale_tril.numpy(), np.linalg.cholesky(cov), rtol=1e-10)
    full = D.MultivariateNormal(t64([1.0, 0.0, -1.0]), t64(cov))
    x = t64(RNG.standard_normal((4, 3)))
    np.testing.assert_allclose(lr.log_prob(x).numpy(), full.log_prob(x).numpy(), rtol=1e-10)
    np.testing.assert_allclose(lr.entropy().item(), full.entropy().item(), rtol=1e-12)
    ember.manual_seed(2)
    s = lr.sample((50000,)).numpy()
    np.testing.assert_allclose(np.cov(s.T), cov, atol=0.08 * np.abs(cov).max())
    assert gradcheck(lambda f, g: D.LowRankMultivariateNormal(t64([0.0, 0, 0]), f, g).log_prob(x),
                     (t64(w, True), t64(d, True)))
    with pytest.raises(ValueError, match="cov_factor must be a batch of matrices with shape 3 x m"):
        D.LowRankMultivariateNormal(t64([0.0, 0, 0]), t64(np.ones((2, 2))), t64(d))
