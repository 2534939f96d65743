"""Helpers shared by the distributions: broadcasting parameters, probs <-> logits, lazy properties."""

from __future__ import annotations

import numbers
from functools import update_wrapper

from .. import dtypes
from ..tensor import Tensor

__all__ = ["broadcast_all", "clamp_probs", "lazy_property", "logits_to_probs", "probs_to_logits"]


def broadcast_all(*values):
    """The tensors and numbers in ``values`` as tensors broadcast to one shape (numbers take the first
    tensor's dtype and device, or the default dtype)."""
    from ..ops.broadcast import broadcast_tensors
    from ..creation import tensor

    if not all(isinstance(v, (Tensor, numbers.Number)) for v in values):
        raise ValueError("Input arguments must all be instances of numbers.Number, torch.Tensor or objects "
                         "implementing __torch_function__.")
    if not all(isinstance(v, Tensor) for v in values):
        like = next((v for v in values if isinstance(v, Tensor)), None)
        dt = like.dtype if like is not None else dtypes.get_default_dtype()
        dev = like.device if like is not None else None
        values = [v if isinstance(v, Tensor) else tensor(v, dtype=dt, device=dev) for v in values]
    return broadcast_tensors(*values)


def clamp_probs(probs):
    """``probs`` clamped into the open interval (0, 1) by the dtype's machine epsilon."""
    from .._compat import finfo

    eps = finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def logits_to_probs(logits, is_binary=False):
    """Probabilities from logits: a sigmoid if ``is_binary``, else a softmax over the last dim."""
    if is_binary:
        return logits.sigmoid()
    from ..ops.activation import softmax

    return softmax(logits, -1)


def probs_to_logits(probs, is_binary=False):
    """Logits from probabilities (clamped away from 0 and 1 first)."""
    ps = clamp_probs(probs)
    if is_binary:
        return ps.log() - (-ps).log1p()
    return ps.log()


class lazy_property:
    """A property computed on first access and then stored on the instance."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        update_wrapper(self, wrapped)

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return self
        from ..autograd.grad_mode import enable_grad

        with enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


def _standard_normal(shape, like):
    from ..random import randn

    return randn(tuple(shape), dtype=like.dtype, device=like.device)


def _uniform(shape, like, low=0.0, high=1.0):
    """Uniform samples in the open interval (low, high) (the lowest float is excluded, so logs stay finite)."""
    from .._compat import finfo
    from ..random import rand

    u = rand(tuple(shape), dtype=like.dtype, device=like.device).clamp(min=finfo(like.dtype).tiny)
    return u if (low, high) == (0.0, 1.0) else low + u * (high - low)


def _generator(like):
    """The array-module random generator of ``like``'s device (for gamma / poisson / binomial draws)."""
    from ..random import _gen

    return _gen(None, like.device)


def _from_array(arr, like):
    return Tensor._make(arr.astype(like._data.dtype, copy=False))
