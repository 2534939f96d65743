"""``ember.accelerator``: the device-agnostic accelerator API (PyTorch's ``torch.accelerator``).

Ember's only accelerator is CUDA through CuPy. On a machine without one, ``is_available()`` is
False, ``current_accelerator()`` is None and ``device_count()`` is 0, as with PyTorch's CPU wheel;
the calls that need a device raise PyTorch's RuntimeError.
"""

from __future__ import annotations

from . import backend, cuda

__all__ = [
    "current_accelerator",
    "current_device_index",
    "device_count",
    "device_index",
    "empty_cache",
    "is_available",
    "max_memory_allocated",
    "memory_allocated",
    "set_device_index",
    "synchronize",
]

_NONE = "Cannot access accelerator device when none is available."


def device_count() -> int:
    """The number of accelerator devices (0 when none is available)."""
    return backend.cuda_device_count()


def is_available() -> bool:
    """True when an accelerator (a CUDA GPU through CuPy) can be used."""
    return backend.cuda_available()


def current_accelerator(check_available: bool = False):
    """The accelerator's device type as ``ember.device`` (index None), or None when there is none."""
    if backend.cuda_available():
        return backend.device("cuda")
    return None


def _require():
    if not backend.cuda_available():
        raise RuntimeError(_NONE)


def _index(device, optional: bool = True) -> int:
    if isinstance(device, int) and not isinstance(device, bool):
        return device
    if device is None:
        return current_device_index()
    dev = backend.device(device)
    acc = current_accelerator()
    if acc is None:
        raise RuntimeError("Accelerator expected")
    if dev.type != acc.type:
        raise ValueError(f"{dev.type} doesn't match the current accelerator {acc}.")
    if dev.index is None:
        if not optional:
            raise ValueError(f"Expected a torch.device with a specified index or an integer, but got:{dev}")
        return current_device_index()
    return dev.index


def current_device_index() -> int:
    """The index of the current accelerator device."""
    _require()
    return cuda.current_device()


def set_device_index(device, /) -> None:
    """Make ``device`` (an index, a device or a string) the current accelerator device."""
    _require()
    cuda.set_device(_index(device, optional=False))


current_device_idx = current_device_index
set_device_idx = set_device_index


def synchronize(device=None, /) -> None:
    """Wait for all queued work on the accelerator device to finish."""
    _require()
    cuda.synchronize(_index(device))


class device_index:
    """Context manager making device ``device`` (an int; None: no switch) current for its body."""

    def __init__(self, device, /) -> None:
        self.idx = device
        self.prev_idx = -1

    def __enter__(self) -> None:
        if self.idx is not None:
            self.prev_idx = current_device_index()
            set_device_index(self.idx)

    def __exit__(self, *exc_info) -> None:
        if self.idx is not None and self.prev_idx >= 0:
            set_device_index(self.prev_idx)


def empty_cache() -> None:
    """Release the cached blocks of the accelerator's memory pool (a no-op without one)."""
    cuda.empty_cache()


def memory_allocated(device_index=None, /) -> int:
    """Bytes currently held by tensors on the accelerator."""
    _require()
    return cuda.memory_allocated(device_index)


def max_memory_allocated(device_index=None, /) -> int:
    """The peak of ``memory_allocated`` since the start or ``ember.cuda.reset_peak_memory_stats``."""
    _require()
    return cuda.max_memory_allocated(device_index)
