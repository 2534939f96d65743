"""What every ``ember.cuda`` call needs first: CuPy (or PyTorch's CPU-build error) and a device index."""

from __future__ import annotations

import importlib.util

from .. import backend

NOT_COMPILED = "Torch not compiled with CUDA enabled"


def cupy():
    """The CuPy module; without a usable GPU, the error PyTorch raises in the same place.

    PyTorch's CPU wheel raises ``AssertionError("Torch not compiled with CUDA enabled")``: that is what ember
    raises when CuPy is not installed. With CuPy but no visible GPU, PyTorch's CUDA build raises
    ``RuntimeError("No CUDA GPUs are available")``; so does ember."""
    if backend.cuda_available():
        cp = backend.cupy_module()
        from . import memory

        memory.track_peaks(cp)
        return cp
    try:
        backend.cupy_module()
    except RuntimeError as exc:
        reason = str(exc).removeprefix("CUDA is not available: ")
    if importlib.util.find_spec("cupy") is None:
        raise AssertionError(f"{NOT_COMPILED} (ember: {reason})")
    raise RuntimeError(f"No CUDA GPUs are available (ember: {reason})")


def device_index(device, optional: bool = True) -> int:
    """The GPU index ``device`` names: an int, ``"cuda:1"``, ``ember.device("cuda", 1)``; None or an index-less
    ``"cuda"`` give the current device when ``optional``."""
    if isinstance(device, str):
        device = backend.device(device)
    if isinstance(device, backend.device):
        if device.type != "cuda":
            raise ValueError(f"Expected a cuda device, but got: {device}")
        device = device.index
    if device is None:
        if not optional:
            raise ValueError(f"Expected a torch.device with a specified index or an integer, but got:{device}")
        return cupy().cuda.runtime.getDevice()
    if isinstance(device, bool) or not isinstance(device, int):
        raise ValueError(f"Expected a torch.device with a specified index or an integer, but got:{device!r}")
    return device


def check_index(cp, index: int) -> int:
    count = cp.cuda.runtime.getDeviceCount()
    if not 0 <= index < count:
        raise RuntimeError(f"CUDA error: invalid device ordinal (asked for cuda:{index}, {count} visible)")
    return index
