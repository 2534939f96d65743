"""Moving tensors between devices and dtypes (``Tensor.to``), differentiably."""

from __future__ import annotations

from .. import backend
from ..autograd.function import Primitive
from ..dtypes import BF16_NP as _BF16


class ToCopy(Primitive):
    @staticmethod
    def forward(ctx, a, device, np_dtype, non_blocking=False):
        arr = a._data
        ctx.src = (backend.device_of(arr), arr.dtype)
        if device is not None and device.type == "cuda" and _BF16 in (arr.dtype, np_dtype):
            raise TypeError("ember: bfloat16 tensors are CPU-only: CuPy has no bfloat16 dtype (ml_dtypes' "
                            "bfloat16 is NumPy's); use float16 on CUDA (autocast's CUDA default)")
        if non_blocking and device is not None and device.type == "cpu" and backend.device_of(arr).type == "cuda":
            from ..cuda import _pinned

            arr = _pinned.to_host_async(arr)  # into pinned memory, queued on the current stream
        elif device is not None:
            arr = backend.to_device(arr, device)
        if np_dtype is not None and arr.dtype != np_dtype:
            if arr.dtype.kind == "c" and np_dtype.kind != "c":
                arr = arr.real  # the imaginary part is discarded (and gradients keep only their real part)
            arr = arr.astype(np_dtype)
        return arr if arr is not a._data else arr.copy()

    @staticmethod
    def backward(ctx, grad):
        dev, np_dtype = ctx.src
        if grad.device != dev or grad._data.dtype != np_dtype:
            grad = ToCopy.apply(grad, dev, np_dtype)
        return grad


def to_device_dtype(t, device=None, dtype=None, copy=False, non_blocking=False):
    """``t`` on ``device`` with ``dtype``; ``t`` itself when nothing changes and ``copy`` is False.
    ``non_blocking``: a GPU-to-CPU copy lands in pinned memory without waiting for it (synchronize before
    reading it, as in PyTorch); copies to the GPU are queued on the current stream either way."""
    same_dev = device is None or device == t.device
    same_dt = dtype is None or dtype.np == t._data.dtype
    if same_dev and same_dt and not copy:
        return t
    return ToCopy.apply(t, None if same_dev else device, None if dtype is None else dtype.np, bool(non_blocking))
