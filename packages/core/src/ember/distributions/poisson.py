"""The Poisson distribution."""

from __future__ import annotations

import numbers

from ..size import Size
from . import constraints
from .distribution import Distribution
from .utils import _from_array, _generator, broadcast_all

__all__ = ["Poisson"]


class Poisson(Distribution):
    """Poisson distribution with rate ``rate``."""

    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        batch_shape = Size() if isinstance(rate, numbers.Number) else self.rate.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Poisson, _instance)
        batch_shape = Size(tuple(batch_shape))
        new.rate = self.rate.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.rate

    @property
    def mode(self):
        return self.rate.floor()

    @property
    def variance(self):
        return self.rate

    def sample(self, sample_shape=Size()):
        shape = tuple(self._extended_shape(sample_shape))
        lam = self.rate.detach().expand(shape)._data
        return _from_array(_generator(self.rate).poisson(lam, size=shape), self.rate)

    def log_prob(self, value):
        from ..ops.unary import xlogy

        if self._validate_args:
            self._validate_sample(value)
        value = value.to(self.rate.dtype)
        return xlogy(value, self.rate) - self.rate - (value + 1).lgamma()
