"""The gamma distribution."""

from __future__ import annotations

import numbers

from ..size import Size
from . import constraints
from .distribution import Distribution
from .utils import _generator, broadcast_all

__all__ = ["Gamma"]


class Gamma(Distribution):
    """Gamma distribution with shape ``concentration`` and ``rate`` (mean ``concentration / rate``).

    ``rsample`` is reparameterised with implicit gradients (``_gamma_grad.py``)."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        scalars = isinstance(concentration, numbers.Number) and isinstance(rate, numbers.Number)
        super().__init__(Size() if scalars else self.concentration.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Gamma, _instance)
        batch_shape = Size(tuple(batch_shape))
        new.concentration, new.rate = self.concentration.expand(batch_shape), self.rate.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=Size()):
        from .._compat import finfo
        from ._gamma_grad import StandardGammaRsample

        shape = tuple(self._extended_shape(sample_shape))
        x = StandardGammaRsample.apply(self.concentration.expand(shape), shape, _generator(self.rate))
        out = x / self.rate
        return out.clamp(min=finfo(out.dtype).tiny)

    def log_prob(self, value):
        from ..ops.unary import xlogy

        if self._validate_args:
            self._validate_sample(value)
        value = value.to(self.rate.dtype) if hasattr(value, "to") else value
        return (xlogy(self.concentration, self.rate) + xlogy(self.concentration - 1, value) - self.rate * value
                - self.concentration.lgamma())

    def cdf(self, value):
        from ..ops.incomplete_gamma import gammainc

        if self._validate_args:
            self._validate_sample(value)
        return gammainc(self.concentration, self.rate * value)

    def entropy(self):
        c = self.concentration
        return c - self.rate.log() + c.lgamma() + (1.0 - c) * c.digamma()
