"""``ember.cuda``: CUDA GPUs through CuPy, with PyTorch's ``torch.cuda`` names and semantics.

Without a usable GPU (CuPy missing, or no device visible) it behaves like PyTorch's CPU wheel:
``is_available()`` is False, ``device_count()`` 0, memory figures 0, ``manual_seed`` / ``empty_cache`` do
nothing, and calls that need a GPU (``current_device``, ``synchronize``, ``get_device_name``, ...) raise
``AssertionError("Torch not compiled with CUDA enabled")`` (CuPy not installed) or
``RuntimeError("No CUDA GPUs are available")`` (CuPy installed, no GPU visible).
"""

from __future__ import annotations

from .. import backend
from . import _lazy
from .memory import (empty_cache, max_memory_allocated, max_memory_cached, max_memory_reserved, mem_get_info,
                     memory_allocated, memory_cached, memory_reserved, memory_stats, reset_max_memory_allocated,
                     reset_peak_memory_stats)
from .streams import Event, ExternalStream, Stream, StreamContext, current_stream, default_stream, set_stream, stream

__all__ = ["is_available", "is_initialized", "init", "device_count", "current_device", "set_device", "device",
           "device_of", "synchronize", "Stream", "ExternalStream", "Event", "StreamContext", "stream",
           "current_stream", "default_stream", "set_stream", "memory_allocated", "max_memory_allocated",
           "memory_reserved", "max_memory_reserved", "reset_peak_memory_stats", "reset_max_memory_allocated",
           "empty_cache", "memory_stats", "mem_get_info", "memory_cached", "max_memory_cached", "get_device_name",
           "get_device_properties", "get_device_capability", "get_arch_list", "manual_seed", "manual_seed_all",
           "seed", "seed_all", "initial_seed", "is_bf16_supported"]


def is_available() -> bool:
    """True when CuPy is installed and sees at least one CUDA GPU."""
    if not backend.cuda_available():
        return False
    _lazy.cupy()  # starts the memory-peak tracking
    return True


def device_count() -> int:
    """The number of visible CUDA GPUs (0 without CuPy or a GPU)."""
    return backend.cuda_device_count()


def is_initialized() -> bool:
    """Whether ember has set up CUDA in this process (CuPy loaded and a GPU found)."""
    return backend._cupy is not None


def init() -> None:
    """Set up CUDA now instead of at its first use."""
    _lazy.cupy()


def current_device() -> int:
    """The index of the current GPU."""
    return _lazy.cupy().cuda.runtime.getDevice()


def set_device(device) -> None:
    """Make ``device`` (an index, ``"cuda:N"`` or an ``ember.device``) the current GPU; a negative index
    does nothing (as in PyTorch)."""
    idx = _lazy.device_index(device, optional=False) if device is not None else -1
    if idx >= 0:
        cp = _lazy.cupy()
        cp.cuda.runtime.setDevice(_lazy.check_index(cp, idx))


class device:
    """Context manager making GPU ``device`` current for its block (None or a negative index: no change)."""

    def __init__(self, device):
        self.idx = -1 if device is None else _lazy.device_index(device, optional=True)
        self.prev_idx = -1

    def __enter__(self):
        if self.idx < 0:
            return None
        if not backend.cuda_available():
            raise RuntimeError("PyTorch was compiled without CUDA support")
        cp = _lazy.cupy()
        self.prev_idx = cp.cuda.runtime.getDevice()
        if self.prev_idx != self.idx:
            cp.cuda.runtime.setDevice(_lazy.check_index(cp, self.idx))
        return None

    def __exit__(self, *exc):
        if self.idx >= 0 and self.prev_idx >= 0 and self.prev_idx != self.idx:
            _lazy.cupy().cuda.runtime.setDevice(self.prev_idx)
        return False


class device_of(device):
    """Context manager making the GPU of tensor ``obj`` current (no change for a CPU tensor)."""

    def __init__(self, obj):
        dev = obj.device
        super().__init__(dev.index if dev.type == "cuda" else -1)


def synchronize(device=None) -> None:
    """Wait until all work queued on every stream of ``device`` (the current GPU when None) has finished."""
    cp = _lazy.cupy()
    idx = _lazy.check_index(cp, _lazy.device_index(device))
    with cp.cuda.Device(idx) as dev:
        dev.synchronize()


class _CudaDeviceProperties:
    """What ``get_device_properties`` returns: ``name``, ``major``, ``minor``, ``total_memory`` (bytes),
    ``multi_processor_count``, ``warp_size``."""

    def __init__(self, props: dict):
        name = props.get("name", b"")
        self.name = name.decode(errors="replace").rstrip("\0") if isinstance(name, bytes) else str(name)
        self.major = int(props.get("major", 0))
        self.minor = int(props.get("minor", 0))
        self.total_memory = int(props.get("totalGlobalMem", 0))
        self.multi_processor_count = int(props.get("multiProcessorCount", 0))
        self.warp_size = int(props.get("warpSize", 32))
        self.is_integrated = int(props.get("integrated", 0))
        self.is_multi_gpu_board = int(props.get("isMultiGpuBoard", 0))

    def __repr__(self):
        return (f"_CudaDeviceProperties(name='{self.name}', major={self.major}, minor={self.minor}, "
                f"total_memory={self.total_memory // (1024 * 1024)}MB, "
                f"multi_processor_count={self.multi_processor_count})")


def get_device_properties(device=None) -> _CudaDeviceProperties:
    """The properties of ``device`` (the current GPU when None)."""
    cp = _lazy.cupy()
    idx = _lazy.check_index(cp, _lazy.device_index(device))
    return _CudaDeviceProperties(cp.cuda.runtime.getDeviceProperties(idx))


def get_device_name(device=None) -> str:
    """The name of ``device`` (the current GPU when None), e.g. ``"NVIDIA H100 80GB HBM3"``."""
    return get_device_properties(device).name


def get_device_capability(device=None) -> tuple:
    """(major, minor) CUDA compute capability of ``device`` (the current GPU when None)."""
    props = get_device_properties(device)
    return props.major, props.minor


def get_arch_list() -> list:
    """The ``sm_XY`` architectures kernels are built for: CuPy compiles for the present GPU at run time, so
    this lists the visible GPUs' own (empty without a GPU)."""
    if not is_available():
        return []
    return sorted({"sm_{}{}".format(*get_device_capability(i)) for i in range(device_count())})


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """False: ember's bfloat16 is ml_dtypes' NumPy dtype, which CuPy arrays cannot hold, so bfloat16 tensors
    are CPU-only (float16 is the GPU's low precision, and autocast's CUDA default)."""
    return False


def manual_seed(seed) -> None:
    """Seed the random generator of the current GPU (does nothing without a GPU, as in PyTorch)."""
    from ..random import default_generator_for

    if backend.cuda_available():
        default_generator_for(backend.device("cuda", current_device())).manual_seed(seed)


def manual_seed_all(seed) -> None:
    """Seed the random generators of every GPU (does nothing without a GPU)."""
    from ..random import default_generator_for

    for i in range(device_count()):
        default_generator_for(backend.device("cuda", i)).manual_seed(seed)


def seed() -> None:
    """Seed the current GPU's generator with a random number (does nothing without a GPU)."""
    from ..random import default_generator_for

    if backend.cuda_available():
        default_generator_for(backend.device("cuda", current_device())).seed()


def seed_all() -> None:
    """Seed every GPU's generator with a random number (does nothing without a GPU)."""
    from ..random import default_generator_for

    for i in range(device_count()):
        default_generator_for(backend.device("cuda", i)).seed()


def initial_seed() -> int:
    """The seed of the current GPU's generator."""
    from ..random import default_generator_for

    return default_generator_for(backend.device("cuda", current_device())).initial_seed()
