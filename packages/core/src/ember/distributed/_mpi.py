"""The MPI backend: collectives on NumPy buffers through mpi4py (the ``ember[mpi]`` extra)."""

from __future__ import annotations

import os
import time

import numpy as np

_MPI = None


def mpi():
    """The ``mpi4py.MPI`` module, imported on first use (a clear error when the extra is missing)."""
    global _MPI
    if _MPI is None:
        try:
            import mpi4py

            mpi4py.rc.initialize = True
            mpi4py.rc.threads = True
            from mpi4py import MPI
        except ImportError as exc:
            raise RuntimeError(
                "the 'mpi' backend needs mpi4py and an MPI library: pip install \"ember[mpi]\" (installs mpi4py "
                "and the mpich wheel), or pip install mpi4py against your cluster's MPI"
            ) from exc
        _MPI = MPI
    return _MPI


def available() -> bool:
    try:
        mpi()
    except RuntimeError:
        return False
    return True


def reduce_op(op):
    from .collectives import ReduceOp

    MPI = mpi()
    table = {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD, ReduceOp.MAX: MPI.MAX,
             ReduceOp.MIN: MPI.MIN, ReduceOp.BAND: MPI.BAND, ReduceOp.BOR: MPI.BOR, ReduceOp.BXOR: MPI.BXOR}
    if op not in table:
        raise ValueError(f"unsupported reduce op {op!r}")
    return table[op]


# MPI moves a nonblocking collective only inside MPI calls (no progress thread), so a wait must poll: for
# this long it polls back to back, yielding the core between polls (a large all-reduce advances in many small
# steps, each needing a poll from both ranks; sleeping between polls made DDP's bucketed all-reduces of
# ResNet-18's gradients ~40% slower than a blocking one), then it sleeps between polls, so that a rank waiting
# long for a slow peer leaves the CPU to it.
_SPIN_S = 0.25


def wait(request, timeout_s: float, what: str, rank: int, status=None):
    """Wait for ``request``, polling so that a rank that never arrives becomes an error, not a hang."""
    if request.Test(status):
        return
    start = time.monotonic()
    deadline, spin_until = start + timeout_s, start + _SPIN_S
    pause = 1e-4
    while not request.Test(status):
        now = time.monotonic()
        if now > deadline:
            raise RuntimeError(
                f"[rank {rank}] {what} timed out after {timeout_s:.0f} s: another rank never joined this collective "
                f"(it may have crashed, or be waiting in a different collective)")
        if now < spin_until:
            os.sched_yield()
        else:
            time.sleep(pause)
            pause = min(pause * 2, 2e-3)


def as_buffer(array):
    """A C-contiguous NumPy array MPI can read and write (MPI has no float16/bool reductions: widen those)."""
    if not isinstance(array, np.ndarray):
        raise TypeError("the mpi backend works on CPU tensors; use the 'nccl' backend for CUDA tensors")
    buf = np.ascontiguousarray(array)
    if buf.dtype == np.float16:
        buf = buf.astype(np.float32)
    elif buf.dtype == np.bool_:
        buf = buf.astype(np.uint8)
    return buf
