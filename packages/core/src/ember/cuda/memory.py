"""GPU memory statistics from CuPy's memory pool (``ember.cuda.memory_allocated`` & co).

"Allocated" is what live arrays hold (``MemoryPool.used_bytes``), "reserved" what the pool holds from the
driver, live or cached for reuse (``MemoryPool.total_bytes``). CuPy keeps no peaks, so ember wraps the
pool's allocator once, the first time ``ember.cuda`` is used, and records the peaks of both after every
allocation. Without a GPU every figure is 0, as on PyTorch's CPU wheel.
"""

from __future__ import annotations

import collections
import threading

from .. import backend
from . import _lazy

__all__ = ["memory_allocated", "max_memory_allocated", "memory_reserved", "max_memory_reserved",
           "reset_peak_memory_stats", "reset_max_memory_allocated", "empty_cache", "memory_stats", "mem_get_info",
           "memory_cached", "max_memory_cached"]

_peaks: dict = {}  # device index -> [peak allocated, peak reserved]
_tracked = None  # the CuPy module whose allocator is wrapped
_lock = threading.Lock()


def track_peaks(cp) -> None:
    """Wrap CuPy's current allocator so that every allocation updates the peaks (once per CuPy module)."""
    global _tracked
    if _tracked is cp:
        return
    with _lock:
        if _tracked is cp:
            return
        inner = cp.cuda.get_allocator()
        pool = cp.get_default_memory_pool()
        get_device = cp.cuda.runtime.getDevice

        def malloc(size):
            mem = inner(size)
            peak = _peaks.get(get_device())
            if peak is None:
                peak = _peaks.setdefault(get_device(), [0, 0])
            used, total = pool.used_bytes(), pool.total_bytes()
            if used > peak[0]:
                peak[0] = used
            if total > peak[1]:
                peak[1] = total
            return mem

        cp.cuda.set_allocator(malloc)
        _tracked = cp


def _pool_figures(device):
    """(allocated, reserved, cached-free) bytes on ``device``, or None without a GPU."""
    if not backend.cuda_available():
        return None
    cp = _lazy.cupy()
    idx = _lazy.check_index(cp, _lazy.device_index(device))
    pool = cp.get_default_memory_pool()
    with cp.cuda.Device(idx):  # the pool answers for the current device
        return idx, pool.used_bytes(), pool.total_bytes(), pool.free_bytes()


def _peak(idx, used, total):
    peak = _peaks.setdefault(idx, [0, 0])
    peak[0], peak[1] = max(peak[0], used), max(peak[1], total)
    return peak


def memory_allocated(device=None) -> int:
    """Bytes held by tensors on ``device`` (the current GPU when None); 0 without a GPU."""
    fig = _pool_figures(device)
    return 0 if fig is None else fig[1]


def max_memory_allocated(device=None) -> int:
    """The peak of :func:`memory_allocated` since the start (or :func:`reset_peak_memory_stats`)."""
    fig = _pool_figures(device)
    return 0 if fig is None else _peak(*fig[:3])[0]


def memory_reserved(device=None) -> int:
    """Bytes the memory pool holds on ``device``: in use plus cached for reuse."""
    fig = _pool_figures(device)
    return 0 if fig is None else fig[2]


def max_memory_reserved(device=None) -> int:
    """The peak of :func:`memory_reserved` since the start (or :func:`reset_peak_memory_stats`)."""
    fig = _pool_figures(device)
    return 0 if fig is None else _peak(*fig[:3])[1]


def reset_peak_memory_stats(device=None) -> None:
    """Restart the peaks of ``device`` from the current figures."""
    fig = _pool_figures(device)
    if fig is None:
        _lazy.cupy()  # PyTorch's CPU-build error
    idx, used, total, _ = fig
    _peaks[idx] = [used, total]


def reset_max_memory_allocated(device=None) -> None:
    """Deprecated spelling of :func:`reset_peak_memory_stats` (which resets every peak)."""
    import warnings

    warnings.warn("torch.cuda.reset_max_memory_allocated now calls torch.cuda.reset_peak_memory_stats, which "
                  "resets /all/ peak memory stats.", FutureWarning, stacklevel=2)
    reset_peak_memory_stats(device)


def memory_cached(device=None) -> int:
    """Deprecated name of :func:`memory_reserved`."""
    import warnings

    warnings.warn("`torch.cuda.memory_cached` has been renamed to `torch.cuda.memory_reserved`", FutureWarning,
                  stacklevel=2)
    return memory_reserved(device)


def max_memory_cached(device=None) -> int:
    """Deprecated name of :func:`max_memory_reserved`."""
    import warnings

    warnings.warn("`torch.cuda.max_memory_cached` has been renamed to `torch.cuda.max_memory_reserved`",
                  FutureWarning, stacklevel=2)
    return max_memory_reserved(device)


def empty_cache() -> None:
    """Give the memory pool's cached, unused blocks back to the driver (a no-op without a GPU)."""
    if backend.cuda_available():
        _lazy.cupy().get_default_memory_pool().free_all_blocks()


def memory_stats(device=None) -> collections.OrderedDict:
    """The figures CuPy's pool reports, under PyTorch's key names (``allocated_bytes.all.current``,
    ``.peak``, ``reserved_bytes.all.*``, ``inactive_split_bytes.all.current``); empty without a GPU."""
    fig = _pool_figures(device)
    if fig is None:
        return collections.OrderedDict()
    idx, used, total, free = fig
    peak = _peak(idx, used, total)
    return collections.OrderedDict(sorted({
        "allocated_bytes.all.current": used, "allocated_bytes.all.peak": peak[0],
        "reserved_bytes.all.current": total, "reserved_bytes.all.peak": peak[1],
        "inactive_split_bytes.all.current": free,
    }.items()))


def mem_get_info(device=None) -> tuple:
    """(free, total) bytes of the GPU's memory, as the driver reports them."""
    cp = _lazy.cupy()
    idx = _lazy.check_index(cp, _lazy.device_index(device))
    with cp.cuda.Device(idx):
        free, total = cp.cuda.runtime.memGetInfo()
    return int(free), int(total)
