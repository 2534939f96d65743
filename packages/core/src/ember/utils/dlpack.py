"""DLPack interop (PyTorch's ``torch.utils.dlpack``): share memory with NumPy, CuPy, PyTorch, JAX, ...
without copying."""

from __future__ import annotations

import enum

import numpy

from .. import backend
from ..tensor import Tensor

__all__ = ["DLDeviceType", "from_dlpack", "to_dlpack"]


class DLDeviceType(enum.IntEnum):
    """DLPack's device type numbers."""

    kDLCPU = 1
    kDLCUDA = 2
    kDLCUDAHost = 3
    kDLOpenCL = 4
    kDLVulkan = 7
    kDLMetal = 8
    kDLVPI = 9
    kDLROCM = 10
    kDLROCMHost = 11
    kDLExtDev = 12
    kDLCUDAManaged = 13
    kDLOneAPI = 14
    kDLWebGPU = 15
    kDLHexagon = 16
    kDLMAIA = 17


def to_dlpack(tensor):
    """A DLPack capsule viewing ``tensor``'s memory (legacy interface; prefer passing the tensor itself)."""
    return tensor.__dlpack__()


class _Capsule:
    """A bare capsule presented with the ``__dlpack__`` protocol NumPy's ``from_dlpack`` expects."""

    def __init__(self, capsule, device):
        self.capsule, self.device = capsule, device

    def __dlpack__(self, **kwargs):
        return self.capsule

    def __dlpack_device__(self):
        return self.device


class _WritableInterface:
    """The memory of a read-only array offered as writable (``__array_interface__``); keeps it alive."""

    def __init__(self, arr):
        self.owner = arr
        self.__array_interface__ = dict(arr.__array_interface__, data=(arr.__array_interface__["data"][0], False))


def _writable_view(arr):
    return numpy.asarray(_WritableInterface(arr))


def _array_from(ext):
    if hasattr(ext, "__dlpack__"):
        kind = int(ext.__dlpack_device__()[0])
        if kind in (DLDeviceType.kDLCPU, DLDeviceType.kDLCUDAHost):
            return numpy.from_dlpack(ext)
        if kind in (DLDeviceType.kDLCUDA, DLDeviceType.kDLCUDAManaged):
            return backend.cupy_module().from_dlpack(ext)
        raise RuntimeError(f"from_dlpack: unsupported DLPack device type {kind} (ember has CPU and CUDA tensors)")
    if type(ext).__name__ == "PyCapsule":  # the legacy interface: a capsule from to_dlpack
        try:
            arr = numpy.from_dlpack(_Capsule(ext, (DLDeviceType.kDLCPU, 0)))
            if not arr.flags.writeable:  # a legacy capsule carries no read-only flag: its memory is writable
                arr = _writable_view(arr)
            return arr
        except (BufferError, RuntimeError, TypeError, ValueError):
            if not backend.cuda_available():
                raise
            return backend.cupy_module().from_dlpack(ext)
    raise TypeError(f"from_dlpack: expected an object with __dlpack__ or a DLPack capsule, got {type(ext).__name__}")


def from_dlpack(ext_tensor, *, device=None, copy=None):
    """An ember tensor sharing memory with ``ext_tensor`` (any object with ``__dlpack__``, e.g. a NumPy
    array, a CuPy array or a PyTorch tensor, or a DLPack capsule). ``copy=True`` copies; ``device`` moves."""
    if isinstance(ext_tensor, Tensor):
        t = ext_tensor
    else:
        t = Tensor._make(_array_from(ext_tensor))
    if device is not None:
        t = t.to(device)
    if copy:
        t = t.clone()
    return t
