"""Argument helpers shared by the layer modules (as in PyTorch's ``torch.nn.modules.utils``)."""

from __future__ import annotations

import collections.abc
from itertools import repeat


def _ntuple(n):
    """A parser that turns a scalar into an ``n``-tuple of it and any iterable into a tuple."""

    def parse(x):
        if isinstance(x, collections.abc.Iterable):
            return tuple(x)
        return tuple(repeat(x, n))

    return parse


_single, _pair, _triple, _quadruple = _ntuple(1), _ntuple(2), _ntuple(3), _ntuple(4)
