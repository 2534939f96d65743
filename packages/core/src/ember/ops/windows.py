"""Window functions for spectral analysis: hann, hamming, blackman, bartlett, kaiser (PyTorch's definitions).

A ``periodic`` window of length N is the symmetric window of length N + 1 without its last sample (what
an N-point DFT sees as one period). Values are computed in float64 and cast to ``dtype``.
"""

from __future__ import annotations

import math

from .. import backend
from ..creation import _device, _dtype, _finish


def _window(name, window_length, periodic, dtype, device, requires_grad, values):
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got window_length={window_length}")
    dt = _dtype(dtype)
    dev = _device(device)
    if not dt.is_floating_point:
        raise RuntimeError(
            f"{name} expects floating point dtypes, got: TensorOptions(dtype={_c_name(dt)}, device={dev}, "
            "layout=Strided (default), requires_grad=false (default), pinned_memory=false, memory_format=(nullopt))"
        )
    xp = backend.module_for(dev)
    with backend.device_guard(dev):
        if window_length <= 1:
            arr = xp.ones(window_length, dtype=dt.np)
        else:
            n = window_length + 1 if periodic else window_length
            arr = values(xp, xp.arange(n, dtype="float64"), n)[:window_length].astype(dt.np)
    return _finish(arr, requires_grad)


def _c_name(dt):
    return {"int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
            "bool": "bool"}.get(dt.name, dt.name)


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, layout=None, device=None,
                   requires_grad=False):
    """Hamming window: ``alpha - beta * cos(2 pi n / (N - 1))``."""
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad,
                   lambda xp, k, n: alpha - beta * xp.cos(2 * math.pi * k / (n - 1)))


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    """Hann window: ``0.5 - 0.5 * cos(2 pi n / (N - 1))``."""
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad,
                   lambda xp, k, n: 0.5 - 0.5 * xp.cos(2 * math.pi * k / (n - 1)))


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    """Blackman window: ``0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))``."""
    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad,
                   lambda xp, k, n: 0.42 - 0.5 * xp.cos(2 * math.pi * k / (n - 1)) + 0.08 * xp.cos(4 * math.pi * k / (n - 1)))


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    """Bartlett (triangular) window: ``1 - |2n / (N - 1) - 1|``."""
    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad,
                   lambda xp, k, n: 1 - xp.abs(2 * k / (n - 1) - 1))


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None, device=None, requires_grad=False):
    """Kaiser window: ``I0(beta * sqrt(1 - (2n / (N - 1) - 1) ** 2)) / I0(beta)``."""

    def values(xp, k, n):
        r = 2 * k / (n - 1) - 1
        return xp.i0(beta * xp.sqrt(xp.clip(1 - r * r, 0, None))) / xp.i0(xp.asarray(float(beta)))

    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad, values)


__all__ = ["hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window"]
