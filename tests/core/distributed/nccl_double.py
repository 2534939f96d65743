"""A test double of ``cupy.cuda.nccl`` for machines without GPUs (tests only).

Each rank runs on the fake CuPy (tests/_fakecuda), whose "device" memory is host memory: the double reads
and writes the buffers at the addresses NCCL would get (``x.data.ptr``) and moves them through MPI. It keeps
NCCL's calling convention strict (raw pointers, element counts, NCCL type and op codes, a stream handle) so
the backend's use of the real API is what is tested. Only the world communicator is supported (every rank
creates it, as ``init_process_group`` does).

Point to point behaves as NCCL's: ``send``/``recv`` between ``groupStart()`` and ``groupEnd()`` are queued and
run together at the outermost ``groupEnd`` (so their order inside a group cannot deadlock), reading the send
buffers only then; the k-th send from A to B pairs with the k-th recv on B from A, and each pair must agree on
count and type. A send or recv outside a group is a group of one and, like NCCL's, completes only when the
peer's matching call runs (a synchronous MPI send: no eager buffering that real NCCL would not give). What
would hang on NCCL (a send nobody receives, a group a peer never joins) raises :class:`NcclError` after
``HANG_SECONDS`` instead; a count/type mismatch raises at once. Collectives inside a group are refused (the
double does not aggregate them, and the backend never issues them there)."""

from __future__ import annotations

import ctypes
import os
import time

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
HANG_SECONDS = float(os.environ.get("EMBER_NCCL_DOUBLE_HANG_S", "30"))
_TAG_HEADER, _TAG_ACK, _TAG_DATA = 21, 22, 23
_depth = 0  # groupStart nesting
_queued: list = []  # the point-to-point calls of the open group: (communicator, kind, ptr, count, type, peer)


class NcclError(RuntimeError):
    """What CuPy raises for a failed NCCL call (here: invalid usage, or what would hang on NCCL)."""


def groupStart():
    global _depth
    _depth += 1


def groupEnd():
    global _depth
    if _depth == 0:
        raise NcclError("NCCL_ERROR_INVALID_USAGE: groupEnd without a matching groupStart")
    _depth -= 1
    if _depth == 0:
        ops, _queued[:] = list(_queued), []
        for comm in {id(op[0]): op[0] for op in ops}.values():
            comm._run_p2p([op[1:] for op in ops if op[0] is comm])


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
        assert datatype in _NP, f"unknown NCCL type code {datatype}"
        if what not in ("send", "recv") and _depth:
            raise NcclError(f"the NCCL double does not aggregate collectives in a group ({what} inside groupStart)")
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
        self._p2p("send", sendbuf, count, datatype, peer, stream)

    def recv(self, recvbuf, count, datatype, peer, stream):
        self._p2p("recv", recvbuf, count, datatype, peer, stream)

    def _p2p(self, kind, ptr, count, datatype, peer, stream):
        self._log(kind, count, datatype, stream)
        assert isinstance(ptr, int) and isinstance(count, int) and count >= 0, (ptr, count)
        if not (isinstance(peer, int) and 0 <= peer < self._size):
            raise NcclError(f"NCCL_ERROR_INVALID_ARGUMENT: {kind} peer {peer!r} is not a rank of this communicator "
                            f"(size {self._size})")
        if _depth:
            _queued.append((self, kind, ptr, count, datatype, peer))
        else:
            self._run_p2p([(kind, ptr, count, datatype, peer)])

    def _run_p2p(self, ops):
        """Run one group's sends and receives together; fail where NCCL would hang or corrupt data."""
        # rendezvous: each send states (count, type) with a synchronous send and each receive answers with
        # what it expects, so both sides of a pair see a mismatch (and nothing moves then)
        mine, theirs, requests = [], [], []
        for kind, _, count, datatype, peer in ops:
            mine.append(np.array([count, datatype], np.int64))
            theirs.append(np.empty(2, np.int64))
            ask, answer = (_TAG_HEADER, _TAG_ACK) if kind == "send" else (_TAG_ACK, _TAG_HEADER)
            requests += [self._comm.Issend(mine[-1], dest=peer, tag=ask),
                         self._comm.Irecv(theirs[-1], source=peer, tag=answer)]
        self._wait(requests, ops)
        for (kind, _, count, datatype, peer), (other_count, other_type) in zip(ops, theirs):
            if (other_count, other_type) != (count, datatype):
                raise NcclError(f"rank {self._rank} {kind}s {count} elements of NCCL type {datatype} "
                                f"{'to' if kind == 'send' else 'from'} rank {peer}, whose matching call has {other_count} "
                                f"of type {other_type} (NCCL would corrupt data or hang)")
        # the data: every send buffer is read when the group runs (not when send() was called), as on the GPU
        outgoing = [(_view(ptr, count, datatype).copy(), peer) for kind, ptr, count, datatype, peer in ops
                    if kind == "send"]
        incoming = [(np.empty(count, _NP[datatype]), ptr, datatype, peer) for kind, ptr, count, datatype, peer in ops
                    if kind == "recv"]
        requests = [self._comm.Isend(_mpi_buffer(data), dest=peer, tag=_TAG_DATA) for data, peer in outgoing]
        requests += [self._comm.Irecv(_mpi_buffer(work), source=peer, tag=_TAG_DATA) for work, _, _, peer in incoming]
        self._wait(requests, ops)
        for work, ptr, datatype, _ in incoming:
            _view(ptr, work.size, datatype)[...] = work

    def _wait(self, requests, ops):
        deadline = time.monotonic() + HANG_SECONDS
        while not MPI.Request.Testall(requests):
            if time.monotonic() > deadline:
                listing = ", ".join(f"{kind} {count} to/from rank {peer}" for kind, _, count, _, peer in ops)
                raise NcclError(f"rank {self._rank}: a point-to-point group ({listing}) found no matching calls on "
                                f"its peers in {HANG_SECONDS:.0f} s: on NCCL this hangs")
            time.sleep(1e-4)
