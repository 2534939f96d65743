"""Tensor factories: tensor, as_tensor, from_numpy, zeros, ones, full, empty, arange, linspace, eye, *_like."""

from __future__ import annotations

import math

import numpy

from . import backend, dtypes
from .tensor import Tensor


def _device(device):
    return backend.canonical_device(device) if device is not None else backend.default_device()


def _dtype(dtype, default=None):
    if dtype is not None:
        return dtypes.to_dtype(dtype)
    return default if default is not None else dtypes.get_default_dtype()


def _finish(arr, requires_grad):
    t = Tensor._make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _infer_dtype(data):
    """The dtype PyTorch infers for Python data: bool, int64, default float or complex."""
    arr = numpy.asarray(data)
    if arr.dtype.kind == "b":
        return dtypes.bool_
    if arr.dtype.kind in "iu":
        return dtypes.int64 if arr.dtype.kind == "i" or arr.dtype.itemsize < 8 else dtypes.int64
    if arr.dtype.kind == "c":
        return dtypes.complex64 if dtypes.get_default_dtype() is dtypes.float32 else dtypes.complex128
    if arr.dtype.kind == "f":
        return dtypes.get_default_dtype()
    raise TypeError(f"Could not infer dtype of {type(data).__name__}")


def _to_host_array(data):
    """Python data (possibly holding tensors) as a NumPy array."""
    if isinstance(data, (list, tuple)) and data and any(isinstance(x, Tensor) for x in data):
        return numpy.stack([_to_host_array(x) for x in data]) if data else numpy.zeros(0)
    if isinstance(data, Tensor):
        return backend.to_device(data._data, backend.CPU)
    if isinstance(data, (list, tuple)):
        return numpy.asarray([_to_host_array(x) if isinstance(x, (list, tuple, Tensor)) else x for x in data]) if data else numpy.asarray(data, dtype=numpy.float32)
    return numpy.asarray(data)


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of ``data`` (nested lists, numbers, NumPy arrays or tensors)."""
    if device is None and (isinstance(data, Tensor) or backend.array_module(data) is not numpy):
        src = data.device if isinstance(data, Tensor) else backend.device_of(data)
        if src.type != "cpu":  # a GPU (or meta) tensor stays where it is, as in PyTorch
            device = src
    dev = _device(device)
    if isinstance(data, Tensor):
        arr = data._data
        dt = _dtype(dtype, data.dtype)
        arr = backend.to_device(arr, dev).astype(dt.np, copy=True)
        return _finish(arr, requires_grad)
    if isinstance(data, numpy.ndarray):
        dt = _dtype(dtype, dtypes.from_numpy_dtype(data.dtype))
        host = data
    elif backend.array_module(data) is not numpy:  # a CuPy array
        dt = _dtype(dtype, dtypes.from_numpy_dtype(data.dtype))
        return _finish(backend.to_device(data, dev).astype(dt.np, copy=True), requires_grad)
    else:
        host = _to_host_array(data)
        if isinstance(data, (list, tuple)) and len(data) == 0:
            dt = _dtype(dtype)
        elif dtype is None and any(isinstance(x, Tensor) for x in (data if isinstance(data, (list, tuple)) else ())):
            dt = dtypes.from_numpy_dtype(host.dtype)
        else:
            dt = _dtype(dtype, _infer_dtype(host) if host.dtype.kind != "O" else None)
    if host.dtype.kind == "O":
        raise TypeError(f"can't convert {type(data).__name__} to a tensor: ragged or non-numeric data")
    arr = numpy.array(host, dtype=dt.np, copy=True)
    return _finish(backend.to_device(arr, dev), requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor`` but shares memory with a NumPy array or tensor when dtype and device allow."""
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype) if (device is not None or dtype is not None) else data
    if isinstance(data, numpy.ndarray) and (device is None or _device(device).type == "cpu"):
        dt = _dtype(dtype, dtypes.from_numpy_dtype(data.dtype))
        return Tensor._make(data if data.dtype == dt.np else data.astype(dt.np))
    return tensor(data, dtype=dtype, device=device)


asarray = as_tensor


def from_numpy(ndarray):
    """A CPU tensor that shares memory with ``ndarray``."""
    if not isinstance(ndarray, numpy.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    dtypes.from_numpy_dtype(ndarray.dtype)
    return Tensor._make(ndarray)


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    size = tuple(int(s) for s in size)
    for s in size:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
    return size


def _fill(fn, size, dtype, device, requires_grad, *args):
    dev = _device(device)
    xp = backend.module_for(dev)
    with backend.device_guard(dev):
        arr = getattr(xp, fn)(_size(size), *args, dtype=_dtype(dtype).np)
    return _finish(arr, requires_grad)


def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A tensor of zeros with the given shape."""
    return _fill("zeros", size, dtype, device, requires_grad)


def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A tensor of ones with the given shape."""
    return _fill("ones", size, dtype, device, requires_grad)


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False, memory_format=None):
    """An uninitialised tensor with the given shape."""
    return _fill("empty", size, dtype, device, requires_grad)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A tensor of the given shape filled with ``fill_value`` (dtype inferred from it)."""
    if dtype is None:
        dtype = dtypes.scalar_dtype(fill_value.item() if isinstance(fill_value, Tensor) else fill_value)
    dev = _device(device)
    xp = backend.module_for(dev)
    with backend.device_guard(dev):
        arr = xp.full(_size((size,) if isinstance(size, int) else (tuple(size),)), fill_value, dtype=_dtype(dtype).np)
    return _finish(arr, requires_grad)


def _like(fn, input, dtype, device, requires_grad, *args):
    dt = dtype if dtype is not None else input.dtype
    dev = device if device is not None else input.device
    return fn(input._data.shape, *args, dtype=dt, device=dev, requires_grad=requires_grad)


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return _like(zeros, input, dtype, device, requires_grad)


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return _like(ones, input, dtype, device, requires_grad)


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return _like(empty, input, dtype, device, requires_grad)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    dt = dtype if dtype is not None else input.dtype
    dev = device if device is not None else input.device
    return full(input._data.shape, fill_value, dtype=dt, device=dev, requires_grad=requires_grad)


def _scalar(x):
    return x.item() if isinstance(x, Tensor) else x


def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """Values from ``start`` to ``end`` (exclusive) spaced by ``step``; int64 unless a bound is a float."""
    start, end, step = _scalar(start), _scalar(end), _scalar(step)
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        dtype = dtypes.int64 if all(isinstance(v, int) for v in (start, end, step)) else dtypes.get_default_dtype()
    dt = _dtype(dtype)
    n = max(0, math.ceil((end - start) / step))
    dev = _device(device)
    xp = backend.module_for(dev)
    with backend.device_guard(dev):
        if dt.is_floating_point:
            arr = (start + xp.arange(n, dtype=numpy.float64) * step).astype(dt.np)
        else:
            arr = xp.arange(start, start + n * step, step, dtype=numpy.float64 if isinstance(start, float) else None)[:n].astype(dt.np)
    return _finish(arr, requires_grad)


def range_(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """Deprecated ``torch.range``: like arange but includes ``end``."""
    if end is None:
        start, end = 0, start
    n = int(math.floor((end - start) / step)) + 1
    return arange(0, n, dtype=dtypes.float64, device=device).mul(step).add(start).to(_dtype(dtype)).requires_grad_(requires_grad)


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    dev = _device(device)
    xp = backend.module_for(dev)
    with backend.device_guard(dev):
        arr = xp.linspace(_scalar(start), _scalar(end), int(steps), dtype=numpy.float64).astype(_dtype(dtype).np)
    return _finish(arr, requires_grad)


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    dev = _device(device)
    xp = backend.module_for(dev)
    with backend.device_guard(dev):
        arr = xp.logspace(_scalar(start), _scalar(end), int(steps), base=base, dtype=numpy.float64).astype(_dtype(dtype).np)
    return _finish(arr, requires_grad)


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A 2-D tensor with ones on the diagonal."""
    dev = _device(device)
    xp = backend.module_for(dev)
    with backend.device_guard(dev):
        arr = xp.eye(int(n), int(m) if m is not None else None, dtype=_dtype(dtype).np)
    return _finish(arr, requires_grad)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    return tensor(s, dtype=_dtype(dtype), device=device, requires_grad=requires_grad)


def _tri_indices(fn, row, col, offset, dtype, device):
    dev = _device(device)
    xp = backend.module_for(dev)
    with backend.device_guard(dev):
        r, c = fn(int(row), int(offset), int(col))
        arr = xp.stack([r, c]).astype(_dtype(dtype, int64_dtype()).np)
    return Tensor._make(arr)


def int64_dtype():
    return dtypes.int64


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (2, N) row/column indices of the lower triangle of a ``row x col`` matrix."""
    dev = _device(device)
    return _tri_indices(backend.module_for(dev).tril_indices, row, col, offset, dtype, device)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (2, N) row/column indices of the upper triangle of a ``row x col`` matrix."""
    dev = _device(device)
    return _tri_indices(backend.module_for(dev).triu_indices, row, col, offset, dtype, device)


def zeros_array_tensor(shape, np_dtype, device):
    """Zeros of a given array dtype (internal: used to fill in missing gradients)."""
    xp = backend.module_for(device)
    with backend.device_guard(device):
        return Tensor._make(xp.zeros(shape, dtype=np_dtype))


__all__ = [
    "tensor", "as_tensor", "asarray", "from_numpy", "zeros", "ones", "empty", "full", "zeros_like", "ones_like",
    "empty_like", "full_like", "arange", "linspace", "logspace", "eye", "scalar_tensor",
    "tril_indices", "triu_indices",
]
