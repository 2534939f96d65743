"""``ember.distributions``: PyTorch's ``torch.distributions`` (parameterised distributions, constraints, KL)."""

from . import constraints
from .bernoulli import Bernoulli
from .categorical import Categorical
from .cauchy import Cauchy
from .distribution import Distribution
from .exponential import Exponential
from .gamma import Gamma
from .independent import Independent
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .normal import Normal
from .poisson import Poisson
from .uniform import Uniform

__all__ = [
    "Bernoulli", "Categorical", "Cauchy", "Distribution", "Exponential", "Gamma", "Independent", "Laplace",
    "Normal", "Poisson", "Uniform", "constraints", "kl_divergence", "register_kl",
]
