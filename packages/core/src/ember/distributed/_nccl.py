"""The NCCL backend's plumbing: CuPy's ``cupy.cuda.nccl`` module, communicators, dtype and op codes.

A communicator is created from a unique id that the group's first rank makes (``nccl.get_unique_id``) and
shares with the others over the group's MPI communicator; MPI also carries the bookkeeping (ranks, the
shape checks before each collective, object collectives). The tensors' data moves through NCCL only.
"""

from __future__ import annotations

import numpy as np

from .. import backend

# Tests put a stand-in for ``cupy.cuda.nccl`` here (tests/core/distributed/nccl_double.py); never set otherwise.
_test_module = None

_MISSING = ("the 'nccl' backend needs CuPy with NCCL on a CUDA machine: pip install \"ember[cuda]\" (CuPy) and "
            "NCCL (pip install nvidia-nccl-cu12, or `python -m cupyx.tools.install_library --library nccl`); "
            "use backend='mpi' for CPU tensors")


def module():
    """``cupy.cuda.nccl`` (a RuntimeError saying what is missing when it cannot be used)."""
    if _test_module is not None:
        return _test_module
    try:
        backend.cupy_module()
    except RuntimeError as exc:
        raise RuntimeError(f"{_MISSING} ({exc})") from None
    try:
        from cupy.cuda import nccl
    except ImportError as exc:
        raise RuntimeError(f"{_MISSING} (importing cupy.cuda.nccl failed: {exc})") from None
    if not getattr(nccl, "available", True):
        raise RuntimeError(f"{_MISSING} (CuPy found no NCCL library)")
    return nccl


def available() -> bool:
    try:
        module()
    except RuntimeError:
        return False
    return True


def create_communicator(comm, device_index: int):
    """An ``NcclCommunicator`` over the ranks of MPI communicator ``comm``, bound to GPU ``device_index``."""
    nccl = module()
    cp = backend.cupy_module()
    buf = np.zeros(129, dtype=np.uint8)  # NCCL_UNIQUE_ID_BYTES, then 1 when CuPy gave a tuple of ints (CuPy < 14)
    if comm.Get_rank() == 0:
        uid = nccl.get_unique_id()
        if isinstance(uid, (bytes, bytearray)):
            buf[:128] = np.frombuffer(bytes(uid), dtype=np.uint8)
        else:
            buf[:128], buf[128] = np.array(uid, dtype=np.int64).astype(np.int8).view(np.uint8), 1
    comm.Bcast(buf, root=0)
    uid = bytes(buf[:128]) if buf[128] == 0 else tuple(int(v) for v in buf[:128].view(np.int8))
    with cp.cuda.Device(device_index):
        return nccl.NcclCommunicator(comm.Get_size(), uid, comm.Get_rank())


_DTYPES = {"float32": "NCCL_FLOAT32", "float64": "NCCL_FLOAT64", "float16": "NCCL_FLOAT16", "int64": "NCCL_INT64",
           "int32": "NCCL_INT32", "int8": "NCCL_INT8", "uint8": "NCCL_UINT8", "bool": "NCCL_UINT8"}


def dtype_code(np_dtype) -> int:
    name = np.dtype(np_dtype).name
    if name not in _DTYPES:
        raise TypeError(f"the nccl backend has no {name} type (supported: {', '.join(_DTYPES)})")
    return getattr(module(), _DTYPES[name])


def op_code(op, np_dtype) -> int:
    """NCCL's reduction for ``op``; on bool tensors SUM is a logical or (MAX) and PRODUCT a logical and (MIN),
    as PyTorch's NCCL backend does."""
    from .collectives import ReduceOp

    nccl = module()
    is_bool = np.dtype(np_dtype) == np.bool_
    if op is ReduceOp.SUM:
        return nccl.NCCL_MAX if is_bool else nccl.NCCL_SUM
    if op is ReduceOp.PRODUCT:
        return nccl.NCCL_MIN if is_bool else nccl.NCCL_PROD
    if op is ReduceOp.MAX:
        return nccl.NCCL_MAX
    if op is ReduceOp.MIN:
        return nccl.NCCL_MIN
    if op is ReduceOp.AVG:
        return nccl.NCCL_AVG
    raise ValueError(f"Cannot use {op!r} with NCCL")
