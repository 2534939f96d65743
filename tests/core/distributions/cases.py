"""Distribution cases shared by ``fixtures/record_distributions.py`` (torch) and the tests (ember): each
builds a distribution from float64 parameters with the library ``T`` and a value inside its support."""

import numpy as np

rng = np.random.default_rng(7)
_loc = rng.standard_normal((2, 3))
_scale = rng.uniform(0.5, 2.0, (2, 3))
_pos = rng.uniform(0.5, 3.0, (2, 3))
_probs = rng.uniform(0.05, 0.95, (2, 3))
_cat = rng.uniform(0.1, 1.0, (2, 4))
_x = rng.standard_normal((2, 3))
_m = rng.standard_normal((2, 3, 3))
_cov = _m @ _m.transpose(0, 2, 1) + 0.5 * np.eye(3)
_m2 = rng.standard_normal((3, 3))
_cov2 = _m2 @ _m2.T + np.eye(3)
_simplex = _cat / _cat.sum(-1, keepdims=True)
_unit = rng.uniform(0.05, 0.95, (2, 3))


def _tf(T, D, parts):
    """A few transforms of a Normal, built by name so both libraries make the same chain."""
    base = D.Normal(_t(T, _loc), _t(T, _scale))
    return D.TransformedDistribution(base, parts(D))


def _t(T, a):
    return T.tensor(a, dtype=T.float64)


# name -> (make(T, D) -> distribution, value array, methods recorded)
DISTS = {
    "normal": (lambda T, D: D.Normal(_t(T, _loc), _t(T, _scale)), _x, ("cdf", "icdf")),
    "uniform": (lambda T, D: D.Uniform(_t(T, _loc), _t(T, _loc + _scale)), _loc + 0.3 * _scale, ("cdf", "icdf")),
    "exponential": (lambda T, D: D.Exponential(_t(T, _pos)), np.abs(_x), ("cdf", "icdf")),
    "laplace": (lambda T, D: D.Laplace(_t(T, _loc), _t(T, _scale)), _x, ("cdf", "icdf")),
    "cauchy": (lambda T, D: D.Cauchy(_t(T, _loc), _t(T, _scale)), _x, ("cdf", "icdf")),
    "gamma": (lambda T, D: D.Gamma(_t(T, _pos), _t(T, _scale)), np.abs(_x) + 0.1, ("cdf",)),
    "poisson": (lambda T, D: D.Poisson(_t(T, _pos)), np.array([[0.0, 1, 2], [5, 0, 3]]), ()),
    "bernoulli": (lambda T, D: D.Bernoulli(probs=_t(T, _probs)), np.array([[0.0, 1, 1], [1, 0, 0]]), ()),
    "bernoulli_logits": (lambda T, D: D.Bernoulli(logits=_t(T, _x)), np.array([[0.0, 1, 1], [1, 0, 0]]), ()),
    "categorical": (lambda T, D: D.Categorical(probs=_t(T, _cat)), np.array([3.0, 0.0]), ()),
    "categorical_logits": (lambda T, D: D.Categorical(logits=_t(T, _cat)), np.array([[1.0, 2.0], [0, 3]]), ()),
    "independent": (lambda T, D: D.Independent(D.Normal(_t(T, _loc), _t(T, _scale)), 1), _x, ()),
    "lognormal": (lambda T, D: D.LogNormal(_t(T, _loc), _t(T, _scale)), np.abs(_x) + 0.1, ("cdf", "icdf")),
    "beta": (lambda T, D: D.Beta(_t(T, _pos), _t(T, _scale)), _unit, ()),
    "dirichlet": (lambda T, D: D.Dirichlet(_t(T, _cat * 3)), _simplex, ()),
    "studentt": (lambda T, D: D.StudentT(_t(T, _pos + 2), _t(T, _loc), _t(T, _scale)), _x, ()),
    "binomial": (lambda T, D: D.Binomial(_t(T, np.array([[5.0, 3, 7], [2, 9, 4]])), probs=_t(T, _probs)),
                 np.array([[2.0, 3, 0], [1, 4, 4]]), ()),
    "binomial_logits": (lambda T, D: D.Binomial(6, logits=_t(T, _x)), np.array([[2.0, 3, 0], [1, 6, 4]]), ()),
    "multinomial": (lambda T, D: D.Multinomial(5, probs=_t(T, _cat)), np.array([[1.0, 2, 0, 2], [0, 0, 5, 0]]), ()),
    "onehot": (lambda T, D: D.OneHotCategorical(probs=_t(T, _cat)), np.array([[0.0, 0, 1, 0], [1, 0, 0, 0]]), ()),
    "mvn_cov": (lambda T, D: D.MultivariateNormal(_t(T, _x), _t(T, _cov)), _loc, ()),
    "mvn_tril": (lambda T, D: D.MultivariateNormal(_t(T, _x[0]), scale_tril=_t(T, np.linalg.cholesky(_cov2))),
                 _loc, ()),
    "mvn_prec": (lambda T, D: D.MultivariateNormal(_t(T, _x[1]), precision_matrix=_t(T, _cov2)), _loc, ()),
    "lowrank": (lambda T, D: D.LowRankMultivariateNormal(_t(T, _x), _t(T, _m[..., :2]), _t(T, _pos)), _loc, ()),
    "mixture": (lambda T, D: D.MixtureSameFamily(D.Categorical(probs=_t(T, _simplex[:, :3] / _simplex[:, :3].sum(-1, keepdims=True))),
                                                 D.Normal(_t(T, _loc), _t(T, _scale))), _x[:, 0], ("cdf",)),
    "mixture_mvn": (lambda T, D: D.MixtureSameFamily(D.Categorical(logits=_t(T, _x[0])),
                                                     D.MultivariateNormal(_t(T, _m[0]), _t(T, _cov2))), _loc, ()),
    "relaxed_bernoulli": (lambda T, D: D.RelaxedBernoulli(_t(T, 0.7), probs=_t(T, _probs)), _unit, ()),
    "relaxed_onehot": (lambda T, D: D.RelaxedOneHotCategorical(_t(T, 0.5), logits=_t(T, _cat)), _simplex, ()),
    "tf_affine_exp": (lambda T, D: _tf(T, D, lambda D: [D.AffineTransform(0.5, 2.0), D.ExpTransform()]),
                      np.abs(_x) + 0.7, ("cdf", "icdf")),
    "tf_sigmoid": (lambda T, D: _tf(T, D, lambda D: D.SigmoidTransform()), _unit, ("cdf", "icdf")),
    "tf_tanh_neg": (lambda T, D: _tf(T, D, lambda D: [D.TanhTransform(), D.AffineTransform(0.0, -1.0)]),
                    _unit - 0.5, ("cdf", "icdf")),
    "tf_power": (lambda T, D: D.TransformedDistribution(D.Exponential(_t(T, _pos)), D.PowerTransform(_t(T, 0.5))),
                 _unit + 0.2, ()),
    "tf_stick": (lambda T, D: D.TransformedDistribution(D.Normal(_t(T, _loc), _t(T, _scale)),
                                                        D.StickBreakingTransform()),
                 np.concatenate([_simplex[:, :3] * 0.5, 1 - 0.5 * _simplex[:, :3].sum(-1, keepdims=True)], -1), ()),
}

# name -> (p, q) builders for kl_divergence
KL = {
    "normal": (DISTS["normal"][0], lambda T, D: D.Normal(_t(T, _x), _t(T, _pos))),
    "uniform": (DISTS["uniform"][0], lambda T, D: D.Uniform(_t(T, _loc - 1), _t(T, _loc + _scale + 1))),
    "exponential": (DISTS["exponential"][0], lambda T, D: D.Exponential(_t(T, _scale))),
    "laplace": (DISTS["laplace"][0], lambda T, D: D.Laplace(_t(T, _x), _t(T, _pos))),
    "gamma": (DISTS["gamma"][0], lambda T, D: D.Gamma(_t(T, _scale), _t(T, _pos))),
    "poisson": (DISTS["poisson"][0], lambda T, D: D.Poisson(_t(T, _scale))),
    "bernoulli": (DISTS["bernoulli"][0], lambda T, D: D.Bernoulli(logits=_t(T, _x))),
    "categorical": (DISTS["categorical"][0], lambda T, D: D.Categorical(logits=_t(T, _cat[::-1].copy()))),
    "uniform_normal": (DISTS["uniform"][0], DISTS["normal"][0]),
    "exponential_gamma": (DISTS["exponential"][0], DISTS["gamma"][0]),
    "independent": (DISTS["independent"][0],
                    lambda T, D: D.Independent(D.Normal(_t(T, _x), _t(T, _pos)), 1)),
    "beta": (DISTS["beta"][0], lambda T, D: D.Beta(_t(T, _scale), _t(T, _pos))),
    "dirichlet": (DISTS["dirichlet"][0], lambda T, D: D.Dirichlet(_t(T, _cat[::-1] + 0.5))),
    "onehot": (DISTS["onehot"][0], lambda T, D: D.OneHotCategorical(logits=_t(T, _cat[::-1].copy()))),
    "binomial": (lambda T, D: D.Binomial(6, probs=_t(T, _probs)), DISTS["binomial_logits"][0]),
    "mvn": (DISTS["mvn_cov"][0], DISTS["mvn_tril"][0]),
}
