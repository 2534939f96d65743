"""Automatic mixed precision: ``autocast`` regions and ``GradScaler`` (``ember.amp``)."""

import sys
import types
import warnings

from .. import cuda as _cuda
from .autocast_mode import autocast, get_autocast_dtype, is_autocast_available, is_autocast_enabled
from .grad_scaler import GradScaler

__all__ = ["autocast", "GradScaler", "is_autocast_available", "is_autocast_enabled", "get_autocast_dtype"]


def _deprecated_namespace(device_type):
    """``ember.cpu.amp`` / ``ember.cuda.amp``: PyTorch's deprecated per-device spellings."""
    mod = types.ModuleType(f"ember.{device_type}.amp")

    class _autocast(autocast):
        def __init__(self, *args, **kwargs):
            warnings.warn(
                f"`torch.{device_type}.amp.autocast(args...)` is deprecated. Please use "
                f"`torch.amp.autocast('{device_type}', args...)` instead.", FutureWarning, stacklevel=2)
            super().__init__(device_type, *args, **kwargs)

    _autocast.__name__ = _autocast.__qualname__ = "autocast"
    mod.autocast = _autocast
    if device_type == "cuda":
        class _GradScaler(GradScaler):
            def __init__(self, *args, **kwargs):
                warnings.warn(
                    "`torch.cuda.amp.GradScaler(args...)` is deprecated. Please use "
                    "`torch.amp.GradScaler('cuda', args...)` instead.", FutureWarning, stacklevel=2)
                super().__init__("cuda", *args, **kwargs)

        _GradScaler.__name__ = _GradScaler.__qualname__ = "GradScaler"
        mod.GradScaler = _GradScaler
    sys.modules[mod.__name__] = mod
    return mod


cpu_amp = _deprecated_namespace("cpu")
cuda_amp = _deprecated_namespace("cuda")
_cuda.amp = cuda_amp
