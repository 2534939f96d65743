"""ember.distributions against values recorded from torch.distributions (fixtures/distributions_ref.npz,
cases in cases.py); sampling checked by moments with fixed seeds; reparameterised gradients; validation."""

import math
import pathlib

import numpy as np
import pytest

import ember
import ember.distributions as D
from ember.autograd import gradcheck

from .cases import DISTS, KL

REF = np.load(pathlib.Path(__file__).parent / "fixtures" / "distributions_ref.npz")


def close(t, key, rtol=1e-10):
    np.testing.assert_allclose(t.detach().numpy(), REF[key], rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("name", sorted(DISTS))
def test_values_match_torch(name):
    make, value, extra = DISTS[name]
    d = make(ember, D)
    v = ember.tensor(value, dtype=ember.float64)
    close(d.log_prob(v), f"{name}.log_prob")
    for attr in ("mean", "variance", "stddev", "entropy"):
        key = f"{name}.{attr}"
        if key in REF:
            close(getattr(d, attr)() if attr == "entropy" else getattr(d, attr), key)
    if "cdf" in extra:
        close(d.cdf(v), f"{name}.cdf")
    if "icdf" in extra:
        close(d.icdf(ember.linspace(0.05, 0.95, 6, dtype=ember.float64).reshape(2, 3)), f"{name}.icdf")


@pytest.mark.parametrize("name", sorted(KL))
def test_kl_matches_torch(name):
    mp, mq = KL[name]
    close(D.kl_divergence(mp(ember, D), mq(ember, D)), f"kl.{name}")


MOMENT_CASES = [
    ("normal", lambda: D.Normal(ember.tensor([0.5, -2.0]), ember.tensor([1.0, 3.0]))),
    ("uniform", lambda: D.Uniform(ember.tensor([0.0, -1.0]), ember.tensor([1.0, 4.0]))),
    ("exponential", lambda: D.Exponential(ember.tensor([0.5, 3.0]))),
    ("laplace", lambda: D.Laplace(ember.tensor([1.0, 0.0]), ember.tensor([0.5, 2.0]))),
    ("gamma", lambda: D.Gamma(ember.tensor([0.5, 4.0]), ember.tensor([1.0, 2.0]))),
    ("poisson", lambda: D.Poisson(ember.tensor([0.7, 12.0]))),
    ("bernoulli", lambda: D.Bernoulli(probs=ember.tensor([0.2, 0.9]))),
]


@pytest.mark.parametrize("name,make", MOMENT_CASES, ids=[c[0] for c in MOMENT_CASES])
def test_sample_moments(name, make):
    ember.manual_seed(0)
    d = make()
    n = 40000
    s = d.sample((n,))
    assert tuple(s.shape) == (n, 2)
    assert not s.requires_grad
    mean, var = d.mean.numpy(), d.variance.numpy()
    err = np.abs(s.numpy().mean(0) - mean)
    assert (err <= 5 * np.sqrt(var / n)).all(), (err, mean, var)
    np.testing.assert_allclose(s.numpy().var(0), var, rtol=0.1)
    assert bool(d.support.check(s).all())


def test_cauchy_and_categorical_samples():
    ember.manual_seed(1)
    c = D.Cauchy(ember.tensor([1.0]), ember.tensor([2.0])).sample((20000,)).numpy()
    np.testing.assert_allclose(np.median(c), 1.0, atol=0.1)  # the median is loc; the IQR is 2 * scale
    np.testing.assert_allclose(np.subtract(*np.percentile(c, [75, 25])), 4.0, rtol=0.06)
    p = ember.tensor([[0.2, 0.3, 0.5], [0.7, 0.1, 0.2]])
    s = D.Categorical(probs=p).sample((30000,))
    assert s.dtype == ember.int64 and tuple(s.shape) == (30000, 2)
    freq = np.stack([(s.numpy() == k).mean(0) for k in range(3)], 1)
    np.testing.assert_allclose(freq, p.numpy(), atol=0.015)


def test_rsample_gradients():
    ember.manual_seed(2)
    for cls in (D.Normal, D.Laplace, D.Cauchy):
        loc = ember.tensor([0.3, -1.0], dtype=ember.float64, requires_grad=True)
        scale = ember.tensor([0.5, 2.0], dtype=ember.float64, requires_grad=True)
        s = cls(loc, scale).rsample((5,))
        s.sum().backward()
        np.testing.assert_allclose(loc.grad.numpy(), [5.0, 5.0])  # d(loc + scale * eps)/d loc
        eps = (s.detach() - loc.detach()) / scale.detach()
        np.testing.assert_allclose(scale.grad.numpy(), eps.sum(0).numpy(), rtol=1e-10)
    rate = ember.tensor([2.0], dtype=ember.float64, requires_grad=True)
    s = D.Exponential(rate).rsample((4,))
    s.sum().backward()
    np.testing.assert_allclose(rate.grad.numpy(), [-(s.detach() / 2.0).sum().item()], rtol=1e-10)
    lo = ember.tensor([0.0], dtype=ember.float64, requires_grad=True)
    D.Uniform(lo, 3.0).rsample((3,)).sum().backward()
    assert lo.grad.item() > 0


def _p(*vals):
    return ember.tensor(list(vals), dtype=ember.float64, requires_grad=True)


def test_log_prob_entropy_kl_gradchecks():
    x = ember.tensor([0.3, 1.7], dtype=ember.float64)
    assert gradcheck(lambda m, s: D.Normal(m, s).log_prob(x), (_p(0.1, -0.5), _p(0.7, 2.0)))
    assert gradcheck(lambda c, r: D.Gamma(c, r).log_prob(x), (_p(1.5, 3.0), _p(0.7, 2.0)))
    assert gradcheck(lambda c, r: D.Gamma(c, r).entropy(), (_p(1.5, 3.0), _p(0.7, 2.0)))
    assert gradcheck(lambda lg: D.Categorical(logits=lg).log_prob(ember.tensor([2, 0])),
                     (ember.tensor([[0.1, 0.5, -1.0], [2.0, 0.0, 0.3]], dtype=ember.float64, requires_grad=True),))
    assert gradcheck(lambda lg: D.Bernoulli(logits=lg).entropy(), (_p(0.4, -2.0),))
    assert gradcheck(lambda p: D.Binomial(7, probs=p).entropy(), (_p(0.3, 0.9),))
    assert gradcheck(lambda m, s: D.kl_divergence(D.Normal(m, s), D.Normal(0.0, 1.0)), (_p(0.1, -0.5), _p(0.7, 2.0)))
    assert gradcheck(lambda r: D.Poisson(r).log_prob(ember.tensor([0.0, 3.0], dtype=ember.float64)), (_p(0.5, 2.0),))


def test_shapes_and_expand():
    d = D.Normal(ember.zeros(3), 1.0)
    assert d.batch_shape == (3,) and d.event_shape == ()
    assert d.sample((4, 2)).shape == (4, 2, 3)
    e = d.expand((5, 3))
    assert e.batch_shape == (5, 3) and e.sample().shape == (5, 3)
    assert D.Normal(0.0, 1.0).batch_shape == ()
    ind = D.Independent(D.Normal(ember.zeros(2, 3), ember.ones(2, 3)), 1)
    assert ind.batch_shape == (2,) and ind.event_shape == (3,)
    assert ind.log_prob(ember.zeros(2, 3)).shape == (2,)
    assert ind.expand((4, 2)).batch_shape == (4, 2)
    c = D.Categorical(logits=ember.zeros(2, 5))
    assert c.batch_shape == (2,) and c.expand((3, 2)).sample().shape == (3, 2)
    assert c.enumerate_support().shape == (5, 2)
    b = D.Bernoulli(probs=ember.tensor([0.5, 0.2]))
    assert b.expand((3, 2)).log_prob(ember.ones(3, 2)).shape == (3, 2)
    assert D.Exponential(ember.tensor([1.0])).expand((2, 1)).batch_shape == (2, 1)
    np.testing.assert_allclose(c.entropy().numpy(), [math.log(5)] * 2, rtol=1e-6)


def test_validation_errors():
    with pytest.raises(ValueError, match=r"Expected parameter scale \(Tensor of shape \(1,\)\) of distribution Normal"
                                         r"\(loc: tensor\(\[0\.\]\), scale: tensor\(\[-1\.\]\)\) to satisfy the "
                                         r"constraint GreaterThan\(lower_bound=0\.0\), but found invalid values"):
        D.Normal(ember.tensor([0.0]), ember.tensor([-1.0]))
    with pytest.raises(ValueError, match=r"to be within the support \(Boolean\(\)\) of the distribution Bernoulli"):
        D.Bernoulli(ember.tensor([0.5])).log_prob(ember.tensor([2.0]))
    with pytest.raises(ValueError, match=r"Value is not broadcastable with batch_shape\+event_shape"):
        D.Normal(ember.zeros(2), 1.0).log_prob(ember.ones(3))
    with pytest.raises(ValueError, match="Either `probs` or `logits` must be specified, but not both."):
        D.Categorical()
    with pytest.raises(ValueError, match="Uniform is not defined when low>= high"):
        D.Uniform(1.0, 0.0)
    D.Normal(ember.tensor([0.0]), ember.tensor([-1.0]), validate_args=False)  # no error
    D.Distribution.set_default_validate_args(False)
    try:
        D.Normal(ember.tensor([0.0]), ember.tensor([-1.0]))
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(NotImplementedError, match="No KL"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Poisson(1.0))


def test_register_kl_and_constraints():
    class MyNormal(D.Normal):
        pass

    @D.register_kl(MyNormal, D.Normal)
    def _kl(p, q):
        return p.loc * 0 + 42.0

    assert D.kl_divergence(MyNormal(0.0, 1.0), D.Normal(0.0, 1.0)).item() == 42.0
    assert D.kl_divergence(D.Normal(0.0, 1.0), MyNormal(0.0, 1.0)).item() == 0.0  # the parent's form
    C = D.constraints
    assert repr(C.positive) == "GreaterThan(lower_bound=0.0)" and repr(C.real_vector) == "IndependentConstraint(Real(), 1)"
    assert C.simplex.check(ember.tensor([[0.2, 0.8], [0.5, 0.6]])).tolist() == [True, False]
    assert C.integer_interval(0, 3).check(ember.tensor([0.0, 3.0, 1.5, 4.0])).tolist() == [True, True, False, False]
    assert C.is_dependent(D.Uniform(0.0, 1.0).arg_constraints["low"])


def test_binomial_entropy_sums_over_the_support():
    p = ember.tensor([0.2, 0.5], dtype=ember.float64)
    # one trial is a Bernoulli; two fair trials: -(1/4 log 1/4 * 2 + 1/2 log 1/2) = 1.5 log 2
    np.testing.assert_allclose(D.Binomial(1, probs=p).entropy().numpy(), D.Bernoulli(p).entropy().numpy(), rtol=1e-12)
    np.testing.assert_allclose(D.Binomial(2, probs=ember.tensor(0.5)).entropy().item(), 1.5 * math.log(2), rtol=1e-6)
    with pytest.raises(NotImplementedError, match="Inhomogeneous total count not supported by `entropy`"):
        D.Binomial(ember.tensor([2.0, 3.0]), probs=p).entropy()
