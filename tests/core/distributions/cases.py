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


def _t(T, a):
    return T.tensor(a, dtype=T.float64)


# name -> (make(T, D) -> distribution, value array, methods recorded)
DISTS = {
    "normal": (lambda T, D: D.Normal(_t(T, _loc), _t(T, _scale)), _x, ("cdf", "icdf")),
    "uniform": (lambda T, D: D.Uniform(_t(T, _loc), _t(T, _loc + _scale)), _loc + 0.3 * _scale, ("cdf", "icdf")),
    "exponential": (lambda T, D: D.Exponential(_t(T, _pos)), np.abs(_x), ("cdf", "icdf")),
    "laplace": (lambda T, D: D.Laplace(_t(T, _loc), _t(T, _scale)), _x, ("cdf", "icdf")),
    "cauchy": (lambda T, D: D.Cauchy(_t(T, _loc), _t(T, _scale)), _x, ("cdf", "icdf")),
    "gamma": (lambda T, D: D.Gamma(_t(T, _pos), _t(T, _scale)), np.abs(_x) + 0.1, ()),
    "poisson": (lambda T, D: D.Poisson(_t(T, _pos)), np.array([[0.0, 1, 2], [5, 0, 3]]), ()),
    "bernoulli": (lambda T, D: D.Bernoulli(probs=_t(T, _probs)), np.array([[0.0, 1, 1], [1, 0, 0]]), ()),
    "bernoulli_logits": (lambda T, D: D.Bernoulli(logits=_t(T, _x)), np.array([[0.0, 1, 1], [1, 0, 0]]), ()),
    "categorical": (lambda T, D: D.Categorical(probs=_t(T, _cat)), np.array([3.0, 0.0]), ()),
    "categorical_logits": (lambda T, D: D.Categorical(logits=_t(T, _cat)), np.array([[1.0, 2.0], [0, 3]]), ()),
    "independent": (lambda T, D: D.Independent(D.Normal(_t(T, _loc), _t(T, _scale)), 1), _x, ()),
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
}
