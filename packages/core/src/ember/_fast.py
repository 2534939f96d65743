"""The optional compiled kernels (``pip install ember[fast]``: numba) and how ops reach them.

``kernels()`` gives the module of fused float32 CPU kernels (softmax, log-softmax, layer/RMS norm,
GELU, cross-entropy rows, embedding gradient) or None when numba is absent or ``EMBER_NO_FAST=1``;
then every op keeps its NumPy path. The kernels are compiled once and cached on disk (numba's
``cache=True``), so only the very first process pays the compile time. ``run_rows`` splits a kernel
call over row ranges on Ember's thread pool (the kernels release the GIL).
"""

from __future__ import annotations

import os

import numpy as np

_MODULE = None
_TRIED = False
_PARALLEL_MIN = 1 << 16  # elements: smaller calls stay on the calling thread
MIN_SIZE = 1 << 12  # elements: below this the NumPy path's few passes are as fast as a kernel call


def enabled() -> bool:
    """Whether the compiled kernels are in use (numba importable and ``EMBER_NO_FAST`` unset)."""
    return kernels() is not None


def kernels():
    """The compiled-kernel module, or None."""
    global _MODULE, _TRIED
    if os.environ.get("EMBER_NO_FAST", "") not in ("", "0"):
        return None
    if not _TRIED:
        _TRIED = True
        try:
            from . import _fast_kernels
        except ImportError:  # numba (the ``fast`` extra) not installed
            _fast_kernels = None
        _MODULE = _fast_kernels
    return _MODULE


def usable(*arrays) -> bool:
    """True when the kernels apply: numba present, and every array a float32 NumPy array (the first
    C-contiguous and at least MIN_SIZE elements)."""
    first = arrays[0]
    if type(first) is not np.ndarray or first.size < MIN_SIZE or not first.flags.c_contiguous:
        return False
    for a in arrays:
        if type(a) is not np.ndarray or a.dtype != np.float32:
            return False
    return kernels() is not None


def _threads():
    from . import get_num_threads

    return max(1, get_num_threads())


def run_rows(fn, args, sliced, size=None):
    """``fn(*args)`` with the arguments at positions ``sliced`` cut to row ranges that together cover
    their rows, on the thread pool when the work (``size`` elements, default the first sliced array's)
    is large enough. The kernels loop over whole arrays: slicing here keeps their indices provably
    non-negative, which lets the compiler vectorise them."""
    n_rows = args[sliced[0]].shape[0]
    if size is None:
        size = args[sliced[0]].size
    n = min(_threads(), n_rows) if size >= _PARALLEL_MIN else 1
    if n <= 1:
        fn(*args)
        return
    from ._parallel import run_spans

    step = -(-n_rows // n)

    def part(r0, r1):
        fn(*(a[r0:r1] if i in sliced else a for i, a in enumerate(args)))

    run_spans(part, [(r, min(r + step, n_rows)) for r in range(0, n_rows, step)])


def as_grad(g, shape):
    """An incoming gradient for a kernel: (array, True) when every element is one value (the gradient
    of ``sum()``: a broadcast view), else a C-contiguous float32 array of ``shape`` and False."""
    if g.ndim and not any(g.strides):
        return np.ascontiguousarray(g.reshape(-1)[:1], dtype=np.float32).reshape((1,) * len(shape)), True
    return np.ascontiguousarray(g.reshape(shape), dtype=np.float32), False
