"""Process groups: the world group created by ``init_process_group`` and sub-groups from ``new_group``."""

from __future__ import annotations

import datetime
import os

_DEFAULT_TIMEOUT = datetime.timedelta(minutes=30)


class Backend(str):
    """Backend names, as ``torch.distributed.Backend``."""

    MPI = "mpi"
    NCCL = "nccl"
    GLOO = "gloo"
    UNDEFINED = "undefined"

    def __new__(cls, name: str):
        value = str(name).lower()
        if value not in (cls.MPI, cls.NCCL, cls.GLOO):
            raise ValueError(f"Invalid backend: '{name}'")
        return str.__new__(cls, value)


class ProcessGroup:
    """A set of ranks sharing one communicator; collectives on it go through its backend."""

    def __init__(self, backend, comm, ranks, timeout):
        self._backend = backend
        self.comm = comm
        self.ranks = list(ranks)  # global ranks, in group-rank order
        self.timeout = timeout
        self.nccl = None  # the NcclCommunicator of an 'nccl' group
        self.device_index = None  # the GPU of an 'nccl' group on this rank

    def rank(self) -> int:
        return self.comm.Get_rank()

    def size(self) -> int:
        return self.comm.Get_size()

    def name(self) -> str:
        return self._backend

    def __repr__(self):
        return f"ProcessGroup(backend={self._backend!r}, ranks={self.ranks})"


class _GroupMember:
    """``group.WORLD``: stands for the default group wherever a ``group=`` argument is accepted."""

    WORLD = None
    NON_GROUP_MEMBER = object()


group = _GroupMember
GroupMember = _GroupMember

_world: ProcessGroup | None = None


def world() -> ProcessGroup:
    if _world is None:
        raise ValueError("Default process group has not been initialized, please make sure to call "
                         "init_process_group.")
    return _world


def resolve(group) -> ProcessGroup:
    """The process group a ``group=`` argument names (None or ``group.WORLD``: the default one)."""
    if group is None or group is _GroupMember.WORLD:
        return world()
    if group is _GroupMember.NON_GROUP_MEMBER:
        raise RuntimeError(f"rank {world().rank()} is not a member of this process group")
    if not isinstance(group, ProcessGroup):
        raise TypeError(f"group must be a ProcessGroup, got {type(group).__name__}")
    world()
    return group


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"environment variable {name} must be an integer, got {value!r}") from None
