"""A test double of ``cupy.cuda.nccl`` for machines without GPUs (tests only).

Each rank runs on the fake CuPy (tests/_fakecuda), whose "device" memory is host memory: the double reads
and writes the buffers at the addresses NCCL would get (``x.data.ptr``) and moves them through MPI. It keeps
NCCL's calling convention strict (raw pointers, element counts, NCCL type and op codes, a stream handle) so
the backend's use of the real API is what is tested. Only the world communicator is supported (every rank
creates it, as ``init_process_group`` does)."""

from __future__ import annotations

import ctypes
import os

import numpy as np
from mpi4py import MPI

available = True
NCCL_SUM, NCCL_PROD, NCCL_MAX, NCCL_MIN, NCCL_AVG = 0, 1, 2, 3, 4
NCCL_INT8, NCCL_UINT8, NCCL_INT32, NCCL_UINT32, NCCL_INT64, NCCL_UINT64 = 0, 1, 2, 3, 4, 5
NCCL_FLOAT16, NCCL_FLOAT32, NCCL_FLOAT64, NCCL_BFLOAT16 = 6, 7, 8, 9
_NP = {NCCL_INT8: np.int8, NCCL_UINT8: np.uint8, NCCL_INT32: np.int32, NCCL_UINT32: np.uint32,
       NCCL_INT64: np.int64, NCCL_UINT64: np.uint64, NCCL_FLOAT16: np.float16, NCCL_FLOAT32: np.float32,
       NCCL_FLOAT64: np.float64}
_OPS = {NCCL_SUM: MPI.SUM, NCCL_PROD: MPI.PROD, NCCL_MAX: MPI.MAX, NCCL_MIN: MPI.MIN, NCCL_AVG: MPI.SUM}
calls: list = []  # (operation, count, type code) of every call, for tests to inspect


def get_unique_id() -> bytes:
    return os.urandom(128)


def _view(ptr, count, datatype):
    assert isinstance(ptr, int) and isinstance(count, int) and count >= 0, (ptr, count)
    dt = np.dtype(_NP[datatype])
    if count == 0:
        return np.empty(0, dt)
    return np.frombuffer((ctypes.c_char * (count * dt.itemsize)).from_address(ptr), dtype=dt, count=count)


def _mpi_buffer(arr):
    return arr.view(np.uint16) if arr.dtype == np.float16 else arr  # MPI has no float16: only for copies


class NcclCommunicator:
    def __init__(self, ndev, commId, rank):
        assert isinstance(commId, bytes) and len(commId) == 128, "commId must be NCCL's 128-byte unique id"
        world = MPI.COMM_WORLD
        assert ndev == world.Get_size() and rank == world.Get_rank(), "the double only makes world communicators"
        ids = world.allgather(commId)
        assert len(set(ids)) == 1, "the ranks were given different unique ids"
        self._comm = world.Dup()
        self._rank, self._size = rank, ndev

    def rank_id(self):
        return self._rank

    def size(self):
        return self._size

    def destroy(self):
        if self._comm is not None:
            self._comm.Free()
            self._comm = None

    def _log(self, what, count, datatype, stream):
        assert isinstance(stream, int), "stream must be a cudaStream_t handle (an int)"
        calls.append((what, count, datatype))

    def _reduced(self, arr, op, datatype):
        if arr.dtype == np.float16:  # reduce in float32 like NCCL's accumulators, then round once
            return arr.astype(np.float32)
        return arr

    def allReduce(self, sendbuf, recvbuf, count, datatype, op, stream):
        self._log("allReduce", count, datatype, stream)
        send, recv = _view(sendbuf, count, datatype), _view(recvbuf, count, datatype)
        work = self._reduced(send, op, datatype).copy()
        self._comm.Allreduce(MPI.IN_PLACE, work, op=_OPS[op])
        if op == NCCL_AVG:
            work /= self._size
        recv[...] = work

    def reduce(self, sendbuf, recvbuf, count, datatype, op, root, stream):
        self._log("reduce", count, datatype, stream)
        send, recv = _view(sendbuf, count, datatype), _view(recvbuf, count, datatype)
        work = self._reduced(send, op, datatype).copy()
        out = np.empty_like(work) if self._rank == root else None
        self._comm.Reduce(work, out, op=_OPS[op], root=root)
        if self._rank == root:
            recv[...] = out / self._size if op == NCCL_AVG else out

    def broadcast(self, sendbuff, recvbuff, count, datatype, root, stream):
        self._log("broadcast", count, datatype, stream)
        send, recv = _view(sendbuff, count, datatype), _view(recvbuff, count, datatype)
        work = send.copy() if self._rank == root else np.empty_like(recv)
        self._comm.Bcast(_mpi_buffer(work), root=root)
        recv[...] = work

    def allGather(self, sendbuf, recvbuf, count, datatype, stream):
        self._log("allGather", count, datatype, stream)
        send, recv = _view(sendbuf, count, datatype), _view(recvbuf, count * self._size, datatype)
        work = np.empty_like(recv)
        self._comm.Allgather(_mpi_buffer(send.copy()), _mpi_buffer(work))
        recv[...] = work

    def reduceScatter(self, sendbuf, recvbuf, recvcount, datatype, op, stream):
        self._log("reduceScatter", recvcount, datatype, stream)
        send = _view(sendbuf, recvcount * self._size, datatype)
        recv = _view(recvbuf, recvcount, datatype)
        work = self._reduced(send, op, datatype).copy()
        out = np.empty(recvcount, dtype=work.dtype)
        self._comm.Reduce_scatter_block(work, out, op=_OPS[op])
        recv[...] = out / self._size if op == NCCL_AVG else out

    def send(self, sendbuf, count, datatype, peer, stream):
        self._log("send", count, datatype, stream)
        self._comm.Send(_mpi_buffer(_view(sendbuf, count, datatype).copy()), dest=peer, tag=11)

    def recv(self, recvbuf, count, datatype, peer, stream):
        self._log("recv", count, datatype, stream)
        recv = _view(recvbuf, count, datatype)
        work = np.empty_like(recv)
        self._comm.Recv(_mpi_buffer(work), source=peer, tag=11)
        recv[...] = work
