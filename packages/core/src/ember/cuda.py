"""``ember.cuda``: whether a CUDA GPU is usable (through CuPy), and basic device control."""

from __future__ import annotations

from . import backend


def is_available() -> bool:
    """True when CuPy is installed and sees at least one CUDA GPU."""
    return backend.cuda_available()


def device_count() -> int:
    return backend.cuda_device_count()


def current_device() -> int:
    return backend.cupy_module().cuda.Device().id


def set_device(device) -> None:
    dev = backend.device(device) if not isinstance(device, int) else backend.device("cuda", device)
    backend.cupy_module().cuda.Device(dev.index or 0).use()


def synchronize(device=None) -> None:
    """Wait for all queued GPU work to finish."""
    cp = backend.cupy_module()
    if device is None:
        cp.cuda.Device().synchronize()
    else:
        dev = backend.device(device) if not isinstance(device, int) else backend.device("cuda", device)
        cp.cuda.Device(dev.index or 0).synchronize()


def manual_seed(seed) -> None:
    from .random import default_generator_for

    if is_available():
        default_generator_for(backend.device("cuda", current_device())).manual_seed(seed)


def manual_seed_all(seed) -> None:
    from .random import default_generator_for

    for i in range(device_count()):
        default_generator_for(backend.device("cuda", i)).manual_seed(seed)


def empty_cache() -> None:
    if is_available():
        backend.cupy_module().get_default_memory_pool().free_all_blocks()


def memory_allocated(device=None) -> int:
    return backend.cupy_module().get_default_memory_pool().used_bytes() if is_available() else 0


def max_memory_allocated(device=None) -> int:
    return backend.cupy_module().get_default_memory_pool().total_bytes() if is_available() else 0


def get_device_name(device=None) -> str:
    cp = backend.cupy_module()
    idx = 0 if device is None else (device if isinstance(device, int) else backend.device(device).index or 0)
    return cp.cuda.runtime.getDeviceProperties(idx)["name"].decode()
