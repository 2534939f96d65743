"""Devices and the array module behind each one.

This is the only module that imports CuPy. It imports nothing from ember, so every
other module may depend on it.
"""

from __future__ import annotations

import os
import sys

import numpy

from . import _meta  # a leaf like this module (NumPy only): the meta device's arrays

# PyTorch computes 1/0, 0/0 and overflows silently (inf/nan); NumPy would warn on each.
numpy.seterr(all="ignore")


def _tune_malloc():
    """Keep freed large blocks in the heap instead of returning them to the OS at once.

    On this kind of VM, touching freshly mapped pages costs far more than the arithmetic on them
    (see the performance notes): with glibc's default thresholds every large temporary of an op is
    mmap'ed and unmapped again. Raising the mmap and trim thresholds lets malloc reuse them.
    Set EMBER_NO_MALLOPT=1 to leave the allocator alone."""
    if os.environ.get("EMBER_NO_MALLOPT") or not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        libc.mallopt(m_mmap_threshold, 32 * 1024 * 1024)  # the largest value glibc accepts on 64-bit
        libc.mallopt(m_trim_threshold, 512 * 1024 * 1024)
    except (OSError, AttributeError):  # not glibc (e.g. musl): nothing to tune
        pass


_tune_malloc()


def _warm_sgemm():
    """Measured OpenBLAS quirk (Zen, 0.3.31): until the process has run one float32 GEMM with >= 512
    output columns, small transposed float32 GEMMs (e.g. a conv's weight gradient) run ~3x slower.
    Run one now (under a millisecond); it affects every float32 matmul of the process."""
    a = numpy.ones((64, 64), dtype=numpy.float32)
    numpy.matmul(a, numpy.ones((64, 1024), dtype=numpy.float32))


_warm_sgemm()

_cupy = None
_cupyx = None
_cupy_error: str | None = None
_cupy_checked = False


def _load_cupy():
    """Import CuPy once; remember why it is unusable if it is."""
    global _cupy, _cupy_error, _cupy_checked
    if not _cupy_checked:
        _cupy_checked = True
        try:
            import cupy

            if cupy.cuda.runtime.getDeviceCount() < 1:
                _cupy_error = "CuPy is installed but no CUDA GPU is visible"
            else:
                _cupy = cupy
        except ImportError:
            _cupy_error = ('CuPy is not installed (from the repository: pip install "./packages/core[cuda]"; '
                           'from a package index: pip install "ember[cuda]")')
        except Exception as exc:  # driver or runtime missing
            _cupy_error = f"CuPy could not reach a CUDA GPU ({type(exc).__name__}: {exc})"
    return _cupy


def _use_test_cuda_module(cupy_like, cupyx_like) -> None:
    """Test-suite hook (tests/conftest.py under EMBER_TEST_FAKE_CUDA=1): back the ``cuda`` device with a
    CuPy stand-in instead of CuPy. Private on purpose; nothing in ember calls it."""
    global _cupy, _cupyx, _cupy_error, _cupy_checked
    _cupy, _cupyx, _cupy_error, _cupy_checked = cupy_like, cupyx_like, None, True


def cupyx_module():
    """CuPy's companion ``cupyx`` (scatter_add & co) for the module ``cupy_module()`` returns."""
    global _cupyx
    cupy_module()
    if _cupyx is None:
        import cupyx

        _cupyx = cupyx
    return _cupyx


def cuda_available() -> bool:
    return _load_cupy() is not None


def cuda_device_count() -> int:
    cp = _load_cupy()
    return cp.cuda.runtime.getDeviceCount() if cp is not None else 0


def cupy_module():
    """The CuPy module, or a RuntimeError saying why CUDA cannot be used."""
    cp = _load_cupy()
    if cp is None:
        raise RuntimeError(f"CUDA is not available: {_cupy_error}")
    return cp


class device:
    """Where a tensor lives: ``device("cpu")``, ``device("cuda")``, ``device("cuda:1")``, ``device("cuda", 1)``."""

    __slots__ = ("type", "index")

    def __init__(self, type_or_spec, index=None):
        if isinstance(type_or_spec, device):
            self.type, self.index = type_or_spec.type, type_or_spec.index
            return
        if isinstance(type_or_spec, int) and not isinstance(type_or_spec, bool):
            type_or_spec, index = "cuda", type_or_spec
        if not isinstance(type_or_spec, str):
            raise TypeError(f"device() expected a string or int, but got {type(type_or_spec).__name__}")
        spec = type_or_spec.strip()
        if ":" in spec:
            if index is not None:
                raise RuntimeError(f"device string {spec!r} already has an index; got index={index} too")
            spec, _, idx = spec.partition(":")
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type_or_spec}'")
            index = int(idx)
        if spec not in ("cpu", "cuda", "meta"):
            raise RuntimeError(
                f"Expected one of cpu, cuda, meta device type at start of device string: {type_or_spec}"
            )
        if index is not None and index < 0:
            raise RuntimeError(f"Device index must not be negative, got {index}")
        self.type = spec
        self.index = index

    def __repr__(self):
        return f"device(type='{self.type}')" if self.index is None else f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (str(self),))

    def __enter__(self):
        """``with ember.device("cuda"):``: factories without a ``device=`` create tensors here."""
        global _default_device
        _device_stack.append(_default_device)
        _default_device = device(self)
        return self

    def __exit__(self, *exc):
        global _default_device
        _default_device = _device_stack.pop()


CPU = device("cpu")
META = device("meta")
_default_device = None  # None: the CPU; set by set_default_device and `with device(...)`
_device_stack: list = []


def default_device() -> device:
    """The device factories use when no ``device=`` is given (``set_default_device``)."""
    return CPU if _default_device is None else canonical_device(_default_device)


def set_default_device(spec) -> None:
    global _default_device
    _default_device = None if spec is None else device(spec)


def canonical_device(spec) -> device:
    """Turn a user's device spec into a concrete device (``cuda`` gets the current index)."""
    if spec is None:
        return CPU
    dev = spec if isinstance(spec, device) else device(spec)
    if dev.type == "meta":
        return META
    if dev.type == "cuda":
        cp = cupy_module()
        idx = cp.cuda.Device().id if dev.index is None else dev.index
        count = cp.cuda.runtime.getDeviceCount()
        if idx >= count:
            raise RuntimeError(f"CUDA error: invalid device ordinal (asked for cuda:{idx}, {count} visible)")
        return device("cuda", idx)
    return CPU if dev.index in (None, 0) else dev


def module_for(dev: device):
    """The array module (numpy or cupy) that holds arrays on ``dev``."""
    if dev.type == "cpu":
        return numpy
    return _meta.meta_module if dev.type == "meta" else cupy_module()


def array_module(array):
    """The array module that ``array`` belongs to."""
    if isinstance(array, numpy.ndarray):
        return _meta.meta_module if type(array) is _meta.MetaArray else numpy
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return _cupy
    return numpy


def device_of(array) -> device:
    if isinstance(array, numpy.ndarray) or _cupy is None or not isinstance(array, _cupy.ndarray):
        return META if isinstance(array, _meta.MetaArray) else CPU
    return device("cuda", array.device.id)


def to_device(array, dev: device):
    """Copy ``array`` to ``dev`` (no copy when it is already there)."""
    if dev.type == "meta":
        return array if isinstance(array, _meta.MetaArray) else _meta.empty(array.shape, array.dtype)
    if isinstance(array, _meta.MetaArray):
        raise NotImplementedError(
            "Cannot copy out of meta tensor; no data! Please use torch.nn.Module.to_empty() instead of "
            "torch.nn.Module.to() when moving module from meta to a different device."
        )
    if dev.type == "cpu":
        if isinstance(array, numpy.ndarray):
            return array
        return array.get()
    cp = cupy_module()
    with cp.cuda.Device(dev.index or 0):
        if isinstance(array, cp.ndarray) and array.device.id == (dev.index or 0):
            return array
        return cp.asarray(array)


def device_guard(dev: device):
    """A context that makes ``dev`` current for CuPy allocations (a no-op on the CPU)."""
    if dev.type == "cuda":
        return cupy_module().cuda.Device(dev.index or 0)
    return _NULL_GUARD


class _NullGuard:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


_NULL_GUARD = _NullGuard()
