"""``cupy.cuda`` of the fake: devices, streams, events, the runtime queries and the memory pools.

Work runs synchronously on the host, so streams and events only keep CuPy's bookkeeping (current
device and stream, recorded times) for the code that drives them."""

from __future__ import annotations

import os
import threading
import time
import types
import weakref

import numpy

DEVICE_COUNT = int(os.environ.get("EMBER_TEST_FAKE_CUDA_DEVICES", "2"))
TOTAL_MEMORY = 16 * 1024**3

_local = threading.local()


class CUDARuntimeError(RuntimeError):
    pass


def current_id() -> int:
    return getattr(_local, "device", 0)


def _set_current(i: int):
    _local.device = i


class Device:
    """``cupy.cuda.Device(id)``: ``use()``, ``synchronize()``, and a context that makes it current."""

    def __init__(self, device=None):
        if device is None:
            device = current_id()
        device = int(device)
        if not 0 <= device < DEVICE_COUNT:
            raise CUDARuntimeError("cudaErrorInvalidDevice: invalid device ordinal")
        self.id = device
        self._stack: list = []

    def use(self):
        _set_current(self.id)

    def synchronize(self):
        pass

    def __enter__(self):
        self._stack.append(current_id())
        _set_current(self.id)
        return self

    def __exit__(self, *exc):
        _set_current(self._stack.pop())
        return False

    @property
    def compute_capability(self) -> str:
        return "90"

    @property
    def attributes(self) -> dict:
        return {"MultiProcessorCount": 132, "ComputeCapabilityMajor": 9, "ComputeCapabilityMinor": 0,
                "MaxThreadsPerBlock": 1024, "WarpSize": 32}

    @property
    def mem_info(self):
        return runtime.memGetInfo()

    def __eq__(self, other):
        return isinstance(other, Device) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __int__(self):
        return self.id

    def __repr__(self):
        return f"<CUDA Device {self.id}>"


class Stream:
    """``cupy.cuda.Stream``: ``Stream.null``, ``use()``, a context that makes it current, ``synchronize()``."""

    null: "Stream"

    def __init__(self, null=False, non_blocking=False, ptr=0, priority=0):
        self.ptr = 0 if null else id(self)
        self.device_id = current_id()
        self.non_blocking = non_blocking
        self.priority = priority
        self._stack: list = []

    def use(self):
        _local.stream = self
        return self

    def synchronize(self):
        pass

    @property
    def done(self) -> bool:
        return True

    def record(self, event=None):
        event = Event() if event is None else event
        event.record(self)
        return event

    def wait_event(self, event):
        pass

    def __enter__(self):
        self._stack.append(get_current_stream())
        _local.stream = self
        return self

    def __exit__(self, *exc):
        _local.stream = self._stack.pop()
        return False

    def __eq__(self, other):
        return isinstance(other, Stream) and other.ptr == self.ptr

    def __hash__(self):
        return hash(self.ptr)

    def __repr__(self):
        return f"<fake cupy.cuda.Stream ptr={self.ptr}>"


Stream.null = Stream(null=True)


def get_current_stream(device_id=-1) -> Stream:
    return getattr(_local, "stream", Stream.null)


class Event:
    """``cupy.cuda.Event``: ``record``, ``synchronize``, ``done``; ``get_elapsed_time`` between two."""

    def __init__(self, block=False, disable_timing=False, interprocess=False):
        self.disable_timing = disable_timing
        self._time = None

    def record(self, stream=None):
        self._time = time.perf_counter()

    def synchronize(self):
        pass

    @property
    def done(self) -> bool:
        return True


def get_elapsed_time(start_event: Event, end_event: Event) -> float:
    """Milliseconds between two recorded events."""
    if start_event.disable_timing or end_event.disable_timing:
        raise CUDARuntimeError("cudaErrorInvalidResourceHandle: invalid resource handle")
    if start_event._time is None or end_event._time is None:
        raise CUDARuntimeError("cudaErrorInvalidResourceHandle: event not recorded")
    return (end_event._time - start_event._time) * 1000.0


class MemoryPool:
    """``cupy.get_default_memory_pool()``: bytes held by live arrays, plus freed blocks kept for reuse."""

    def __init__(self):
        self._used = 0
        self._cached = 0
        self._limit = 0

    def _allocated(self, arr: numpy.ndarray):
        n = arr.nbytes
        self._used += n
        self._cached = max(0, self._cached - n)
        weakref.finalize(arr, self._freed, n)

    def _freed(self, n: int):
        self._used -= n
        self._cached += n

    def used_bytes(self) -> int:
        return self._used

    def free_bytes(self) -> int:
        return self._cached

    def total_bytes(self) -> int:
        return self._used + self._cached

    def free_all_blocks(self, stream=None):
        self._cached = 0

    def malloc(self, size):
        raise NotImplementedError("the fake's arrays hold NumPy memory; nothing allocates raw device memory")

    def n_free_blocks(self) -> int:
        return 1 if self._cached else 0

    def set_limit(self, size=None, fraction=None):
        self._limit = int(size or 0)

    def get_limit(self) -> int:
        return self._limit


class PinnedMemoryPool:
    def __init__(self):
        self._blocks = 0

    def free_all_blocks(self):
        self._blocks = 0

    def n_free_blocks(self) -> int:
        return self._blocks


class PinnedMemoryPointer(bytearray):
    """``cupy.cuda.alloc_pinned_memory(n)``: host memory usable as a buffer (``numpy.frombuffer``)."""

    @property
    def ptr(self) -> int:
        return numpy.frombuffer(self, dtype=numpy.uint8).ctypes.data if len(self) else 0

    @property
    def size(self) -> int:
        return len(self)


def alloc_pinned_memory(size: int) -> PinnedMemoryPointer:
    return PinnedMemoryPointer(int(size))


class MemoryPointer:
    """``x.data`` of a device array: an address (``ptr``) into the array's memory; ``+ n`` moves it by bytes
    (``cupy.ndarray(shape, dtype, memptr=x.data + offset, strides=...)`` views that memory)."""

    def __init__(self, arr, offset=0, device_id=None):
        self._arr = arr
        self._offset = offset
        self.device_id = current_id() if device_id is None else device_id

    @property
    def ptr(self) -> int:
        return self._arr.ctypes.data + self._offset

    def __add__(self, n):
        return MemoryPointer(self._arr, self._offset + int(n), self.device_id)

    @property
    def device(self):
        return Device(self.device_id)


_POOL = MemoryPool()
_PINNED_POOL = PinnedMemoryPool()


def memory_pool() -> MemoryPool:
    return _POOL


def pinned_memory_pool() -> PinnedMemoryPool:
    return _PINNED_POOL


def _get_device_count() -> int:
    return DEVICE_COUNT


def _get_device_properties(device: int) -> dict:
    Device(device)  # validates the ordinal
    return {"name": b"Fake CUDA device (tests)", "totalGlobalMem": TOTAL_MEMORY, "major": 9, "minor": 0,
            "multiProcessorCount": 132, "warpSize": 32, "maxThreadsPerBlock": 1024}


def _mem_get_info():
    return (TOTAL_MEMORY - _POOL.total_bytes(), TOTAL_MEMORY)


runtime = types.SimpleNamespace(
    getDeviceCount=_get_device_count,
    getDeviceProperties=_get_device_properties,
    memGetInfo=_mem_get_info,
    getDevice=current_id,
    setDevice=_set_current,
    deviceSynchronize=lambda: None,
    runtimeGetVersion=lambda: 12080,
    driverGetVersion=lambda: 12080,
    CUDARuntimeError=CUDARuntimeError,
)


_allocator = [None]


def get_allocator():
    """``cupy.cuda.get_allocator()``: the function that allocates device memory (the pool's ``malloc``)."""
    return _allocator[0] or _POOL.malloc


def set_allocator(allocator=None):
    """``cupy.cuda.set_allocator(f)``: kept for the code that wraps the allocator (the fake's arrays don't call it)."""
    _allocator[0] = allocator


def is_available() -> bool:
    return True
