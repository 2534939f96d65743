"""Page-locked ("pinned") host memory for ``Tensor.pin_memory`` (CuPy's pinned memory pool).

A pinned array is a NumPy array over memory from ``cupy.cuda.alloc_pinned_memory``; copies from it to a
GPU can run asynchronously, overlapping with computation (``DataLoader(pin_memory=True)``)."""

from __future__ import annotations

import numpy

from .. import backend
from . import _lazy

_NO_ACCELERATOR = "Cannot access accelerator device when none is available."


def pin(array: numpy.ndarray) -> numpy.ndarray:
    """A copy of host ``array`` in pinned memory (``array`` itself when it already is pinned)."""
    if not backend.cuda_available():
        raise RuntimeError(_NO_ACCELERATOR)
    if not isinstance(array, numpy.ndarray):
        raise RuntimeError(f"cannot pin '{type(array).__name__}' only dense CPU tensors can be pinned")
    if is_pinned(array):
        return array
    cp = _lazy.cupy()
    mem = cp.cuda.alloc_pinned_memory(max(array.nbytes, 1))
    out = numpy.frombuffer(mem, array.dtype, array.size).reshape(array.shape)
    out[...] = array
    return out


def is_pinned(array) -> bool:
    """Whether host ``array``'s memory comes from CuPy's pinned allocator (False without a GPU)."""
    if not isinstance(array, numpy.ndarray) or not backend.cuda_available():
        return False
    kind = backend.cupy_module().cuda.PinnedMemoryPointer
    base = array
    while base is not None:
        if isinstance(base, kind):
            return True
        base = getattr(base, "base", getattr(base, "obj", None))
    return False


def to_host_async(array):
    """A pinned host copy of device ``array``, queued on the current stream (the host does not wait)."""
    cp = _lazy.cupy()
    src = cp.ascontiguousarray(array)
    mem = cp.cuda.alloc_pinned_memory(max(src.nbytes, 1))
    out = numpy.frombuffer(mem, src.dtype, src.size).reshape(src.shape)
    return src.get(stream=cp.cuda.get_current_stream(), out=out, blocking=False)
