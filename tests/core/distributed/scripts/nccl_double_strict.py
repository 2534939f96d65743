"""The NCCL test double is as strict as NCCL about point-to-point calls (2 ranks): a group's sends and
receives run together at groupEnd whatever their order, a send buffer is read only then, pairs must agree
on count and type (both sides fail), and what would hang on NCCL fails after HANG_SECONDS."""

import os
import pathlib
import sys

import numpy as np
from mpi4py import MPI

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import nccl_double as nccl  # noqa: E402

world = MPI.COMM_WORLD
rank, peer = world.Get_rank(), 1 - world.Get_rank()
comm = nccl.NcclCommunicator(2, world.bcast(nccl.get_unique_id()), rank)
F32 = nccl.NCCL_FLOAT32


def fails(fn, message):
    try:
        fn()
    except nccl.NcclError as exc:
        assert message in str(exc), exc
    else:
        raise AssertionError(f"no NcclError: {message}")


fails(nccl.groupEnd, "groupEnd without a matching groupStart")

# inside a group the order cannot deadlock (each rank receives first), and nested groups run at the outermost end
out, got, mine = np.full(3, rank + 1.0, np.float32), np.zeros(3, np.float32), np.zeros(1, np.float32)
nccl.groupStart()
comm.recv(got.ctypes.data, 3, F32, peer, 0)
nccl.groupStart()
comm.send(out.ctypes.data, 3, F32, peer, 0)
comm.send(out.ctypes.data, 1, F32, rank, 0)  # to itself
comm.recv(mine.ctypes.data, 1, F32, rank, 0)
nccl.groupEnd()
assert not got.any() and not mine.any(), "the group ran before its outermost groupEnd"
out[:] = 10 * (rank + 1)  # the send buffer is read when the group runs, as on the GPU
nccl.groupEnd()
assert (got == 10 * (peer + 1)).all() and mine[0] == 10 * (rank + 1), (got, mine)

# the k-th send pairs with the k-th recv from the same peer
a, b = np.array([1.0, 2.0], np.float32), np.array([3.0, 4.0], np.float32)
ra, rb = np.zeros(2, np.float32), np.zeros(2, np.float32)
nccl.groupStart()
comm.send(a.ctypes.data, 2, F32, peer, 0)
comm.send(b.ctypes.data, 2, F32, peer, 0)
comm.recv(ra.ctypes.data, 2, F32, peer, 0)
comm.recv(rb.ctypes.data, 2, F32, peer, 0)
nccl.groupEnd()
assert list(ra) == [1, 2] and list(rb) == [3, 4], (ra, rb)

# count or type mismatches fail on both sides, before any data moves
buf = np.zeros(4, np.float64)


def mismatched():
    nccl.groupStart()
    if rank == 0:
        comm.send(buf.ctypes.data, 3, nccl.NCCL_FLOAT64, peer, 0)
    else:
        comm.recv(buf.ctypes.data, 2, nccl.NCCL_FLOAT64, peer, 0)
    nccl.groupEnd()


fails(mismatched, "whose matching call has")
fails(lambda: comm.send(buf.ctypes.data, 1, F32, 2, 0), "peer 2 is not a rank")

# collectives are not aggregated into groups by the double
nccl.groupStart()
fails(lambda: comm.allReduce(buf.ctypes.data, buf.ctypes.data, 1, nccl.NCCL_FLOAT64, nccl.NCCL_SUM, 0),
      "does not aggregate collectives")
nccl.groupEnd()
world.Barrier()

# last (it leaves unmatched messages behind): send-then-recv on both ranks outside a group deadlocks on NCCL,
# here it fails after HANG_SECONDS on both ranks
nccl.HANG_SECONDS = 1.0
fails(lambda: comm.send(out.ctypes.data, 3, F32, peer, 0), "on NCCL this hangs")
os.write(1, f"strict OK rank {rank}\n".encode())
sys.stdout.flush()
world.Barrier()  # neither rank leaves first: the launcher may stop a rank still running when another exits
os._exit(0)  # MPI_Finalize would wait for the abandoned synchronous send
