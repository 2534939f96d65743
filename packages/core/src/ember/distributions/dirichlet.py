"""The Dirichlet distribution over the simplex."""

from __future__ import annotations

from ..size import Size
from . import constraints
from .distribution import Distribution
from .utils import _generator

__all__ = ["Dirichlet"]


class Dirichlet(Distribution):
    """Dirichlet distribution with ``concentration`` (last dim: the categories).

    ``rsample`` normalises reparameterised gamma draws (implicit gradients, ``_gamma_grad.py``)."""

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        shape = tuple(concentration.shape)
        super().__init__(shape[:-1], shape[-1:], validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Dirichlet, _instance)
        batch_shape = Size(tuple(batch_shape))
        new.concentration = self.concentration.expand(tuple(batch_shape) + tuple(self.event_shape))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape=Size()):
        from .._compat import finfo
        from ._gamma_grad import StandardGammaRsample

        shape = tuple(self._extended_shape(sample_shape))
        g = StandardGammaRsample.apply(self.concentration.expand(shape), shape, _generator(self.concentration))
        info = finfo(g.dtype)
        return (g / g.sum(-1, keepdim=True)).clamp(min=info.tiny, max=1 - info.eps)

    def log_prob(self, value):
        from ..ops.unary import xlogy

        if self._validate_args:
            self._validate_sample(value)
        c = self.concentration
        return xlogy(c - 1.0, value).sum(-1) + c.sum(-1).lgamma() - c.lgamma().sum(-1)

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self):
        from ..nn.functional import one_hot

        concentrationm1 = (self.concentration - 1).clamp(min=0.0)
        mode = concentrationm1 / concentrationm1.sum(-1, True)
        mask = (self.concentration < 1).all(dim=-1)
        hot = one_hot(concentrationm1.argmax(-1), concentrationm1.shape[-1]).to(mode.dtype)
        return mode.where(~mask.unsqueeze(-1), hot)

    @property
    def variance(self):
        con0 = self.concentration.sum(-1, True)
        return self.concentration * (con0 - self.concentration) / (con0.pow(2) * (con0 + 1))

    def entropy(self):
        c = self.concentration
        k = c.shape[-1]
        a0 = c.sum(-1)
        return c.lgamma().sum(-1) - a0.lgamma() - (k - a0) * a0.digamma() - ((c - 1.0) * c.digamma()).sum(-1)
