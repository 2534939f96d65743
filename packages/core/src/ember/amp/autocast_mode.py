"""``ember.autocast``: regions where op entry points run in a lower precision by PyTorch's policy
(the table and the cast live in ``ember.autograd.autocast``)."""

from __future__ import annotations

import functools
import warnings

from .. import backend, dtypes
from ..autograd.autocast import STATE, _refresh

_SUPPORTED = {"cpu": (dtypes.bfloat16, dtypes.float16), "cuda": (dtypes.bfloat16, dtypes.float16)}


def _check_device(device_type):
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if device_type not in _SUPPORTED:
        raise RuntimeError(
            f"User specified an unsupported autocast device_type '{device_type}'")
    return device_type


class autocast:
    """Run the ops of a region in mixed precision: ``with ember.autocast("cpu"):`` (dtype bfloat16 on
    CPU, float16 on CUDA unless given). Matmul/conv/linear run in ``dtype``; losses and other
    precision-sensitive ops in float32; regions nest, and ``enabled=False`` turns autocast off inside.
    Also usable as a decorator."""

    def __init__(self, device_type: str, dtype=None, enabled: bool = True, cache_enabled=None):
        self.device = _check_device(device_type)
        self.fast_dtype = STATE.dtype[self.device] if dtype is None else dtypes.to_dtype(dtype)
        self._cache_enabled = STATE.cache_enabled if cache_enabled is None else bool(cache_enabled)
        enabled = bool(enabled)
        if enabled and self.fast_dtype not in _SUPPORTED[self.device]:
            name = "CPU" if self.device == "cpu" else "CUDA"
            warnings.warn(
                f"In {name} autocast, but the target dtype is not supported. Disabling autocast.\n"
                f"{name} Autocast only supports dtype of torch.bfloat16, torch.float16 currently.",
                UserWarning, stacklevel=2)
            enabled = False
        if enabled and self.device == "cuda" and not backend.cuda_available():
            warnings.warn("User provided device_type of 'cuda', but CUDA is not available. Disabling",
                          UserWarning, stacklevel=2)
            enabled = False
        self._enabled = enabled

    def __enter__(self):
        dev = self.device
        self._prev = (STATE.enabled[dev], STATE.dtype[dev], STATE.cache_enabled)
        STATE.enabled[dev], STATE.dtype[dev], STATE.cache_enabled = self._enabled, self.fast_dtype, self._cache_enabled
        STATE.depth += 1
        _refresh()
        return self

    def __exit__(self, *exc):
        dev = self.device
        STATE.enabled[dev], STATE.dtype[dev], STATE.cache_enabled = self._prev
        STATE.depth -= 1
        if STATE.depth == 0:
            STATE.cache.clear()  # casts of weights are kept for one outermost region only
        _refresh()
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with autocast(self.device, self.fast_dtype, self._enabled, self._cache_enabled):
                return fn(*args, **kwargs)

        return wrapper


def is_autocast_enabled(device_type: str = "cuda") -> bool:
    """Whether autocast is on for ``device_type`` (CUDA when not given, as in PyTorch)."""
    return STATE.enabled[_check_device(device_type)]


def set_autocast_enabled(device_type, enabled=None) -> None:
    if enabled is None:  # the one-argument legacy form sets CUDA's state
        device_type, enabled = "cuda", device_type
    STATE.enabled[_check_device(device_type)] = bool(enabled)
    _refresh()


def get_autocast_dtype(device_type: str):
    """The dtype autocast casts to on ``device_type`` (bfloat16 on CPU, float16 on CUDA by default)."""
    return STATE.dtype[_check_device(device_type)]


def set_autocast_dtype(device_type: str, dtype) -> None:
    STATE.dtype[_check_device(device_type)] = dtypes.to_dtype(dtype)


def is_autocast_cpu_enabled() -> bool:
    return STATE.enabled["cpu"]


def get_autocast_cpu_dtype():
    return STATE.dtype["cpu"]


def get_autocast_gpu_dtype():
    return STATE.dtype["cuda"]


def is_autocast_cache_enabled() -> bool:
    return STATE.cache_enabled


def set_autocast_cache_enabled(enabled: bool) -> None:
    STATE.cache_enabled = bool(enabled)


def clear_autocast_cache() -> None:
    STATE.cache.clear()


def is_autocast_available(device_type: str) -> bool:
    return device_type in _SUPPORTED
