"""``ember.testing.assert_close``: compare tensors with dtype-aware tolerances, as PyTorch does."""

from __future__ import annotations

import numpy

from . import backend
from .tensor import Tensor

_TOLS = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7), "complex64": (1.3e-6, 1e-5), "complex128": (1e-7, 1e-7)}


def _host(x):
    if isinstance(x, Tensor):
        return backend.to_device(x._data, backend.CPU), x
    return numpy.asarray(x), None


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None, equal_nan=False,
                 check_device=True, check_dtype=True, check_layout=True, check_stride=False, msg=None):
    """Raise AssertionError unless ``actual`` and ``expected`` match in shape, dtype, device and values."""
    if isinstance(actual, (list, tuple)) and isinstance(expected, (list, tuple)):
        if len(actual) != len(expected):
            raise AssertionError(f"The length of the sequences mismatch: {len(actual)} != {len(expected)}")
        for a, e in zip(actual, expected):
            assert_close(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=check_device, check_dtype=check_dtype, msg=msg)
        return
    if isinstance(actual, dict) and isinstance(expected, dict):
        if actual.keys() != expected.keys():
            raise AssertionError(f"The keys of the mappings mismatch: {sorted(actual)} != {sorted(expected)}")
        for k in actual:
            assert_close(actual[k], expected[k], rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=check_device, check_dtype=check_dtype, msg=msg)
        return
    a, at = _host(actual)
    e, et = _host(expected)
    if isinstance(actual, (int, float, bool)) and isinstance(expected, (int, float, bool)):
        check_dtype = False
    if a.shape != e.shape:
        raise AssertionError(msg or f"The values for attribute 'shape' do not match: {a.shape} != {e.shape}.")
    if check_dtype and at is not None and et is not None and at.dtype != et.dtype:
        raise AssertionError(msg or f"The values for attribute 'dtype' do not match: {at.dtype} != {et.dtype}.")
    if check_device and at is not None and et is not None and at.device != et.device:
        raise AssertionError(msg or f"The values for attribute 'device' do not match: {at.device} != {et.device}.")
    if rtol is None or atol is None:
        dt = numpy.promote_types(a.dtype, e.dtype)
        rtol_d, atol_d = _TOLS.get(str(dt), (0.0, 0.0))
        rtol = rtol_d if rtol is None else rtol
        atol = atol_d if atol is None else atol
    if a.dtype.kind in "biu" and e.dtype.kind in "biu":
        ok = numpy.array_equal(a, e)
        bad = ~(a == e)
    else:
        a64, e64 = a.astype(numpy.complex128 if a.dtype.kind == "c" else numpy.float64), e.astype(numpy.complex128 if e.dtype.kind == "c" else numpy.float64)
        close = numpy.isclose(a64, e64, rtol=rtol, atol=atol, equal_nan=equal_nan)
        ok = bool(close.all())
        bad = ~close
    if not ok:
        n_bad = int(numpy.count_nonzero(bad))
        detail = ""
        if a.dtype.kind not in "b" and a.size:
            diff = numpy.abs(a.astype(numpy.float64) - e.astype(numpy.float64)) if a.dtype.kind != "c" else numpy.abs(a - e)
            idx = numpy.unravel_index(numpy.nanargmax(numpy.where(bad, diff, -1)), a.shape) if a.ndim else ()
            detail = f"\nGreatest absolute difference: {numpy.max(numpy.where(bad, diff, 0))} at index {tuple(int(i) for i in idx)} (up to {atol} allowed)"
        raise AssertionError(
            msg or f"Tensor-likes are not close!\n\nMismatched elements: {n_bad} / {a.size} ({100.0 * n_bad / max(a.size, 1):.1f}%){detail}"
        )


__all__ = ["assert_close"]
