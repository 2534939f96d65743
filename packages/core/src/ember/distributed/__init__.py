"""``ember.distributed``: process groups and collectives (PyTorch's ``torch.distributed`` API).

The ``mpi`` backend runs on CPU tensors through mpi4py (``pip install "ember[mpi]"`` brings mpi4py and the
MPICH wheel; a cluster's own MPI works too). Launch ranks with ``python -m ember.distributed.run
--nproc-per-node N script.py`` (or ``mpiexec -n N python script.py``). ``gloo`` is accepted as a name for the
CPU backend so scripts written for it run unchanged. The ``nccl`` backend runs the collectives on CUDA tensors
through NCCL (CuPy's ``cupy.cuda.nccl``), queued on the current CUDA stream; MPI still starts the ranks and
carries the communicator's unique id and the bookkeeping, so it needs both extras (``ember[cuda,mpi]``). As with
PyTorch, call ``ember.cuda.set_device(local_rank)`` before ``init_process_group("nccl")`` (or pass
``device_id``). On ``nccl``, ``gather``, ``scatter`` and ``all_to_all_single`` are grouped NCCL send/recv, as
PyTorch's NCCL backend builds them.
"""

from __future__ import annotations

import datetime
import os

from . import _mpi, _nccl, _state
from ._state import Backend, GroupMember, ProcessGroup, group
from .collectives import (ReduceOp, Work, all_gather, all_gather_into_tensor, all_reduce, all_to_all_single, barrier,
                          broadcast, gather, irecv, isend, recv, reduce, reduce_scatter_tensor, scatter, send)
from .objects import all_gather_object, broadcast_object_list

__all__ = ["Backend", "GroupMember", "ProcessGroup", "ReduceOp", "Work", "group", "is_available", "is_mpi_available",
           "is_nccl_available", "is_gloo_available", "is_initialized", "init_process_group", "destroy_process_group",
           "new_group", "get_rank", "get_world_size", "get_backend", "get_global_rank", "get_process_group_ranks",
           "barrier", "all_reduce", "broadcast", "reduce", "all_gather", "all_gather_into_tensor",
           "reduce_scatter_tensor", "gather", "scatter", "all_to_all_single", "send", "recv", "isend", "irecv",
           "broadcast_object_list", "all_gather_object"]


def is_available() -> bool:
    """True: the distributed package is part of ember (backends may still be missing, see ``is_mpi_available``)."""
    return True


def is_mpi_available() -> bool:
    """Whether mpi4py and an MPI library can be loaded."""
    return _mpi.available()


def is_nccl_available() -> bool:
    """Whether CuPy with NCCL and a CUDA GPU can be used (the ``nccl`` backend)."""
    return _nccl.available()


def is_gloo_available() -> bool:
    return False


def is_initialized() -> bool:
    """Whether :func:`init_process_group` has been called (and not destroyed)."""
    return _state._world is not None


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None) -> None:
    """Join the default process group.

    Ranks come from MPI (the launcher or ``mpiexec`` started them); ``RANK`` / ``WORLD_SIZE`` in the
    environment (set by ``ember.distributed.run``, as torchrun does) and the ``rank`` / ``world_size``
    arguments are checked against them.
    """
    if _state._world is not None:
        raise ValueError("trying to initialize the default process group twice!")
    name = Backend(backend or "mpi")
    if name == Backend.NCCL:
        _nccl.module()  # a clear error before anything starts when CuPy or NCCL is missing
    if init_method not in (None, "env://") and not str(init_method).startswith(("tcp://", "file://")):
        raise ValueError(f"unsupported init_method {init_method!r}")
    MPI = _mpi.mpi()
    comm = MPI.COMM_WORLD
    mpi_rank, mpi_size = comm.Get_rank(), comm.Get_size()
    want_size = world_size if world_size != -1 else _state.env_int("WORLD_SIZE", mpi_size)
    want_rank = rank if rank != -1 else _state.env_int("RANK", mpi_rank)
    if want_size != mpi_size:
        raise RuntimeError(
            f"world_size is {want_size} but MPI started {mpi_size} process(es): launch the ranks with "
            f"`python -m ember.distributed.run --nproc-per-node {want_size} script.py` or `mpiexec -n {want_size}`")
    if want_rank != mpi_rank:
        raise RuntimeError(f"rank is {want_rank} but MPI started this process as rank {mpi_rank} of {mpi_size}")
    if timeout is None:
        timeout = _state._DEFAULT_TIMEOUT
    elif not isinstance(timeout, datetime.timedelta):
        raise TypeError(f"Expected timeout argument to be of type datetime.timedelta, got {type(timeout).__name__}")
    if name == Backend.NCCL:
        _state._world = _nccl_group(comm.Dup(), range(mpi_size), timeout, device_id)
    else:
        _state._world = ProcessGroup(str(Backend.MPI), comm.Dup(), range(mpi_size), timeout)
    os.environ.setdefault("RANK", str(mpi_rank))
    os.environ.setdefault("WORLD_SIZE", str(mpi_size))


def _nccl_group(comm, ranks, timeout, device_id=None):
    """A process group whose collectives run through an NCCL communicator on this rank's GPU."""
    from .. import backend, cuda

    if device_id is None:
        idx = cuda.current_device()
    elif isinstance(device_id, int) and not isinstance(device_id, bool):
        idx = device_id
    else:
        dev = backend.device(device_id)
        if dev.type != "cuda":
            raise ValueError(f"init_process_group: device_id must be a CUDA device for the nccl backend, got {dev}")
        idx = cuda.current_device() if dev.index is None else dev.index
    if device_id is not None:
        cuda.set_device(idx)
    pg = ProcessGroup(str(Backend.NCCL), comm, ranks, timeout)
    pg.device_index = idx
    pg.nccl = _nccl.create_communicator(comm, idx)
    return pg


def destroy_process_group(group=None) -> None:
    """Leave ``group`` (the default one: leave distributed mode altogether)."""
    pg = _state.resolve(group)
    if pg.nccl is not None:
        pg.nccl.destroy()
        pg.nccl = None
    pg.comm.Free()
    if pg is _state._world:
        _state._world = None


def new_group(ranks=None, timeout=None, backend=None, pg_options=None, use_local_synchronization=False):
    """A group of some ranks. Every rank of the default group must call it, with the same ``ranks``."""
    world = _state.world()
    ranks = sorted(range(world.size()) if ranks is None else {int(r) for r in ranks})
    for r in ranks:
        if not 0 <= r < world.size():
            raise ValueError(f"new_group: rank {r} is outside the world of {world.size()} ranks")
    me = world.rank()
    MPI = _mpi.mpi()
    comm = world.comm.Split(0 if me in ranks else MPI.UNDEFINED, key=me)
    if comm == MPI.COMM_NULL:
        return GroupMember.NON_GROUP_MEMBER
    if world.nccl is not None and (backend is None or Backend(backend) == Backend.NCCL):
        return _nccl_group(comm, ranks, timeout or world.timeout, world.device_index)
    name = str(Backend(backend)) if backend is not None else world.name()
    if name == Backend.NCCL:
        raise NotImplementedError("new_group(backend='nccl') needs a default group initialized with 'nccl'")
    return ProcessGroup(name if name != Backend.GLOO else str(Backend.MPI), comm, ranks, timeout or world.timeout)


def _member(group):
    return None if group is GroupMember.NON_GROUP_MEMBER else _state.resolve(group)


def get_rank(group=None) -> int:
    """This process's rank in ``group`` (-1 when it is not a member)."""
    pg = _member(group)
    return -1 if pg is None else pg.rank()


def get_world_size(group=None) -> int:
    """The number of ranks in ``group`` (-1 when this process is not a member)."""
    pg = _member(group)
    return -1 if pg is None else pg.size()


def get_backend(group=None) -> str:
    return _state.resolve(group).name()


def get_process_group_ranks(group) -> list:
    """The global ranks of ``group``'s members, in group-rank order."""
    return list(_state.resolve(group).ranks)


def get_global_rank(group, group_rank: int) -> int:
    return _state.resolve(group).ranks[group_rank]
