"""How tensors cross process boundaries: shared ones are rebuilt over the same memory, others copied."""

from __future__ import annotations

from multiprocessing.reduction import ForkingPickler

import numpy

from ..tensor import Tensor
from ._shared import open_shared, shared_base


def _rebuild_shared(cls, name, nbytes, offset, shape, strides, dtype, requires_grad):
    mm = open_shared(name, nbytes)
    arr = numpy.ndarray(shape, numpy.dtype(dtype), buffer=mm, offset=offset, strides=strides)
    if cls is Tensor:
        t = Tensor._make(arr)
        t._requires_grad = requires_grad
        return t
    return cls(Tensor._make(arr), requires_grad)


def reduce_tensor(t):
    arr = t._data
    found = shared_base(arr) if isinstance(arr, numpy.ndarray) else None
    if found is None:
        return t.__reduce_ex__(2)
    mm, name = found
    start = numpy.frombuffer(mm, numpy.uint8).__array_interface__["data"][0]
    offset = arr.__array_interface__["data"][0] - start
    return _rebuild_shared, (type(t), name, len(mm), offset, arr.shape, arr.strides, arr.dtype.str,
                             bool(t._requires_grad))


def init_reductions():
    from ..nn.parameter import Parameter

    ForkingPickler.register(Tensor, reduce_tensor)
    ForkingPickler.register(Parameter, reduce_tensor)
