"""Collectives on tensors (in place, PyTorch's signatures), with ``async_op=True`` returning a :class:`Work`."""

from __future__ import annotations

import enum

import numpy as np

from . import _mpi, _nccl_collectives, _state
from ..tensor import Tensor

__all__ = ["ReduceOp", "Work", "all_reduce", "broadcast", "reduce", "all_gather", "all_gather_into_tensor",
           "reduce_scatter_tensor", "gather", "scatter", "all_to_all_single", "send", "recv", "isend", "irecv",
           "barrier"]


class ReduceOp(enum.Enum):
    """Reduction operations for :func:`all_reduce`, :func:`reduce` and :func:`reduce_scatter_tensor`."""

    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7

    def __repr__(self):
        return f"<ReduceOp.{self.name}: {self.value}>"


class Work:
    """The handle of an asynchronous collective: :meth:`wait` blocks until its result is in place."""

    def __init__(self, pg, what, requests, finish=None, status=None):
        self._pg, self._what, self._requests, self._finish = pg, what, requests, finish
        self._status = status
        self._done = False
        self._result = None

    def is_completed(self) -> bool:
        if not self._done and all(r.Test(self._status) for r in self._requests):
            self._complete()
        return self._done

    def is_success(self) -> bool:
        return self.is_completed()

    def wait(self, timeout=None) -> bool:
        if not self._done:
            seconds = _seconds(timeout) if timeout is not None else _seconds(self._pg.timeout)
            for r in self._requests:
                _mpi.wait(r, seconds, self._what, _state.world().rank(), self._status)
            self._complete()
        return True

    def result(self):
        self.wait()
        return self._result

    def _complete(self):
        if not self._done:
            self._done = True
            if self._finish is not None:
                self._result = self._finish()


def _seconds(timeout) -> float:
    return timeout.total_seconds() if hasattr(timeout, "total_seconds") else float(timeout)


# --- checks ------------------------------------------------------------------------------------------------

_OPS = ("all_reduce", "broadcast", "reduce", "all_gather", "all_gather_into_tensor", "reduce_scatter_tensor",
        "gather", "scatter", "all_to_all_single", "barrier", "broadcast_object_list", "all_gather_object")
_DTYPES = ("float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool")
_MAX_DIMS = 8


def _check_tensor(t, what, pg=None):
    if not isinstance(t, Tensor):
        raise TypeError(f"{what}: expected a Tensor, got {type(t).__name__}")
    if t._data.dtype.name not in _DTYPES:
        raise TypeError(f"{what}: unsupported dtype {t.dtype} for the {pg.name() if pg else 'mpi'} backend")
    if pg is not None and pg.nccl is not None:
        _nccl_collectives._check(pg, t, what)
    elif t.device.type != "cpu":
        raise TypeError(f"{what}: the mpi backend works on CPU tensors, got a tensor on {t.device} (use "
                        "init_process_group('nccl') for CUDA tensors)")


def _agree(pg, what, t=None, check_shape=True, extra=()):
    """Every rank states (collective, shape, dtype): a mismatch is an error naming the ranks, never a hang.
    ``extra`` integers travel in the same exchange without being compared; the table of every rank's extra
    values (one row per rank) is returned."""
    head = 3 + _MAX_DIMS
    sig = np.full(head + len(extra), -1, dtype=np.int64)
    sig[0] = _OPS.index(what)
    if t is not None:
        sig[1] = _DTYPES.index(t._data.dtype.name)
        if check_shape:
            shape = t._data.shape
            if len(shape) > _MAX_DIMS:
                shape = (int(np.prod(shape)),)
            sig[2] = len(shape)
            sig[3:3 + len(shape)] = shape
    sig[head:] = extra
    table = np.empty((pg.size(), sig.size), dtype=np.int64)
    MPI = _mpi.mpi()
    _mpi.wait(pg.comm.Iallgather(sig, [table, MPI.INT64_T]), _seconds(pg.timeout), what, _state.world().rank())
    if (table[:, :head] == sig[:head]).all():
        return table[:, head:]
    me = pg.rank()
    rows = [_describe(row) for row in table]
    listing = ", ".join(f"rank {pg.ranks[i]} called {r}" for i, r in enumerate(rows))
    raise RuntimeError(f"[rank {pg.ranks[me]}] {what}: the ranks disagree: {listing}")


def _describe(row) -> str:
    text = _OPS[row[0]]
    if row[1] >= 0:
        text += f" on {_DTYPES[row[1]]}"
    if row[2] >= 0:
        text += f" [{', '.join(str(int(d)) for d in row[3:3 + row[2]])}]"
    return text


def _group_rank(pg, rank, what) -> int:
    try:
        return pg.ranks.index(rank)
    except ValueError:
        raise ValueError(f"{what}: rank {rank} is not part of the group (ranks {pg.ranks})") from None


def _check_list(pg, tensors, like, what, name):
    """The tensors of a gather/scatter list: one per rank, each of ``like``'s shape and dtype."""
    me = pg.ranks[pg.rank()]
    if tensors is None or len(tensors) != pg.size():
        got = "none" if tensors is None else f"{len(tensors)} tensors"
        raise ValueError(f"[rank {me}] {what}: rank {me} needs a {name} of {pg.size()} tensors (one per rank of the "
                         f"group), got {got}")
    for i, t in enumerate(tensors):
        _check_tensor(t, f"{what}: {name}[{i}]", pg)
        if t.shape != like.shape or t.dtype != like.dtype:
            raise ValueError(f"[rank {me}] {what}: {name}[{i}] is {t.dtype} of shape {list(t.shape)}, the tensor "
                             f"{like.dtype} of shape {list(like.shape)}: they must match")


def _write_back(t, buf):
    if buf is not t._data:
        t._data[...] = buf.astype(t._data.dtype, copy=False)
    t._bump_version()


def _run(pg, what, requests, finish, async_op):
    work = Work(pg, what, requests, finish)
    if async_op:
        return work
    work.wait()
    return None


# --- collectives -------------------------------------------------------------------------------------------

def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``tensor`` across all ranks of ``group``, leaving the result on every rank (in place)."""
    pg = _state.resolve(group)
    _check_tensor(tensor, "all_reduce", pg)
    if op is ReduceOp.AVG and tensor._data.dtype.kind not in "fc":
        raise RuntimeError(f"all_reduce: ReduceOp.AVG needs a floating-point tensor, got {tensor.dtype}")
    _agree(pg, "all_reduce", tensor)
    if pg.nccl is not None:
        return _nccl_collectives.all_reduce(pg, tensor, op, async_op)
    buf = _mpi.as_buffer(tensor._data)
    req = pg.comm.Iallreduce(_mpi.mpi().IN_PLACE, buf, _mpi.reduce_op(op))

    def finish():
        if op is ReduceOp.AVG:
            buf[...] /= pg.size()
        _write_back(tensor, buf)

    return _run(pg, "all_reduce", [req], finish, async_op)


def broadcast(tensor, src, group=None, async_op=False):
    """Copy ``tensor`` from rank ``src`` to every rank of ``group`` (in place)."""
    pg = _state.resolve(group)
    _check_tensor(tensor, "broadcast", pg)
    root = _group_rank(pg, src, "broadcast")
    _agree(pg, "broadcast", tensor)
    if pg.nccl is not None:
        return _nccl_collectives.broadcast(pg, tensor, root, async_op)
    buf = _mpi.as_buffer(tensor._data)
    req = pg.comm.Ibcast(buf, root=root)
    return _run(pg, "broadcast", [req], lambda: _write_back(tensor, buf), async_op)


def reduce(tensor, dst, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``tensor`` across ranks into rank ``dst``'s tensor."""
    pg = _state.resolve(group)
    _check_tensor(tensor, "reduce", pg)
    root = _group_rank(pg, dst, "reduce")
    _agree(pg, "reduce", tensor)
    if pg.nccl is not None:
        return _nccl_collectives.reduce(pg, tensor, root, op, async_op)
    buf = _mpi.as_buffer(tensor._data)
    is_root = pg.rank() == root
    MPI = _mpi.mpi()
    req = pg.comm.Ireduce(MPI.IN_PLACE if is_root else buf, buf if is_root else None, _mpi.reduce_op(op), root=root)

    def finish():
        if is_root:
            if op is ReduceOp.AVG:
                buf[...] /= pg.size()
            _write_back(tensor, buf)

    return _run(pg, "reduce", [req], finish, async_op)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Gather ``tensor`` from every rank into ``tensor_list`` (one tensor per rank)."""
    pg = _state.resolve(group)
    _check_tensor(tensor, "all_gather", pg)
    if len(tensor_list) != pg.size():
        raise ValueError(f"all_gather: tensor_list has {len(tensor_list)} tensors, the group has {pg.size()} ranks")
    _agree(pg, "all_gather", tensor)
    if pg.nccl is not None:
        return _nccl_collectives.all_gather(pg, tensor_list, tensor, async_op)
    send = _mpi.as_buffer(tensor._data)
    recv = np.empty((pg.size(),) + send.shape, dtype=send.dtype)
    req = pg.comm.Iallgather(send, recv)

    def finish():
        for out, part in zip(tensor_list, recv):
            if tuple(out.shape) != part.shape:
                raise RuntimeError(f"all_gather: output tensor of shape {list(out.shape)} cannot hold an input of "
                                   f"shape {list(part.shape)}")
            _write_back(out, part)

    return _run(pg, "all_gather", [req], finish, async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Gather every rank's ``input_tensor`` into ``output_tensor`` (concatenated or stacked along dim 0)."""
    pg = _state.resolve(group)
    _check_tensor(input_tensor, "all_gather_into_tensor", pg)
    if output_tensor.numel() != input_tensor.numel() * pg.size():
        raise ValueError(f"all_gather_into_tensor: output tensor must have {pg.size()} times the input's "
                         f"{input_tensor.numel()} elements, got shape {list(output_tensor.shape)}")
    _agree(pg, "all_gather_into_tensor", input_tensor)
    if pg.nccl is not None:
        return _nccl_collectives.all_gather_into_tensor(pg, output_tensor, input_tensor, async_op)
    send = _mpi.as_buffer(input_tensor._data)
    recv = np.empty((pg.size(),) + send.shape, dtype=send.dtype)
    req = pg.comm.Iallgather(send, recv)
    return _run(pg, "all_gather_into_tensor", [req],
                lambda: _write_back(output_tensor, recv.reshape(output_tensor._data.shape)), async_op)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``input`` across ranks and give rank ``i`` the ``i``-th equal block of the result."""
    pg = _state.resolve(group)
    _check_tensor(input, "reduce_scatter_tensor", pg)
    if input.numel() != output.numel() * pg.size():
        raise ValueError(f"reduce_scatter_tensor: input must have {pg.size()} times the output's "
                         f"{output.numel()} elements, got shape {list(input.shape)}")
    _agree(pg, "reduce_scatter_tensor", input)
    if pg.nccl is not None:
        return _nccl_collectives.reduce_scatter_tensor(pg, output, input, op, async_op)
    send = _mpi.as_buffer(input._data)
    recv = np.empty(output._data.shape, dtype=send.dtype)
    req = pg.comm.Ireduce_scatter_block(send, recv, _mpi.reduce_op(op))

    def finish():
        if op is ReduceOp.AVG:
            recv[...] /= pg.size()
        _write_back(output, recv)

    return _run(pg, "reduce_scatter_tensor", [req], finish, async_op)


def gather(tensor, gather_list=None, dst=0, group=None, async_op=False):
    """Gather ``tensor`` from every rank into ``gather_list`` on rank ``dst``."""
    pg = _state.resolve(group)
    _check_tensor(tensor, "gather", pg)
    root = _group_rank(pg, dst, "gather")
    is_root = pg.rank() == root
    if is_root:
        _check_list(pg, gather_list, tensor, "gather", "gather_list")
    _agree(pg, "gather", tensor)
    if pg.nccl is not None:
        return _nccl_collectives.gather(pg, tensor, gather_list, root, async_op)
    send = _mpi.as_buffer(tensor._data)
    recv = np.empty((pg.size(),) + send.shape, dtype=send.dtype) if is_root else None
    req = pg.comm.Igather(send, recv, root=root)

    def finish():
        if is_root:
            for out, part in zip(gather_list, recv):
                _write_back(out, part)

    return _run(pg, "gather", [req], finish, async_op)


def scatter(tensor, scatter_list=None, src=0, group=None, async_op=False):
    """Send the ``i``-th tensor of ``scatter_list`` on rank ``src`` into ``tensor`` on rank ``i``."""
    pg = _state.resolve(group)
    _check_tensor(tensor, "scatter", pg)
    root = _group_rank(pg, src, "scatter")
    is_root = pg.rank() == root
    if is_root:
        _check_list(pg, scatter_list, tensor, "scatter", "scatter_list")
    _agree(pg, "scatter", tensor)
    if pg.nccl is not None:
        return _nccl_collectives.scatter(pg, tensor, scatter_list, root, async_op)
    send = np.stack([_mpi.as_buffer(t._data) for t in scatter_list]) if is_root else None
    recv = _mpi.as_buffer(np.empty_like(tensor._data))
    req = pg.comm.Iscatter(send, recv, root=root)
    return _run(pg, "scatter", [req], lambda: _write_back(tensor, recv), async_op)


def _split_counts(pg, sizes, t, name):
    """Element counts and offsets of the per-rank blocks of ``t`` along dim 0 (``sizes`` rows each, or equal)."""
    n, rows = pg.size(), t._data.shape[0] if t._data.ndim else 1
    if sizes is None or len(sizes) == 0:
        if rows % n:
            raise RuntimeError(f"all_to_all_single: Tensor's dim 0 does not divide equally across group size: "
                               f"{name} has shape {list(t.shape)}, the group {n} ranks")
        sizes = [rows // n] * n
    else:
        sizes = [int(s) for s in sizes]
        if len(sizes) != n:
            raise RuntimeError(f"all_to_all_single: Number of tensor splits not equal to group size: {name} split "
                               f"sizes {sizes} for {n} ranks")
        if min(sizes) < 0 or sum(sizes) != rows:
            raise RuntimeError(f"all_to_all_single: Split sizes doesn't match total dim 0 size: {name} split sizes "
                               f"{sizes} for shape {list(t.shape)}")
    row = int(np.prod(t._data.shape[1:], dtype=np.int64))
    counts = [s * row for s in sizes]
    return counts, np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(int).tolist()


def all_to_all_single(output, input, output_split_sizes=None, input_split_sizes=None, group=None, async_op=False):
    """Split ``input`` along dim 0 into one block per rank, send block ``i`` to rank ``i``, and concatenate
    the received blocks into ``output``."""
    pg = _state.resolve(group)
    _check_tensor(input, "all_to_all_single", pg)
    _check_tensor(output, "all_to_all_single", pg)
    if output.dtype != input.dtype:
        raise TypeError(f"all_to_all_single: output is {output.dtype}, input {input.dtype}: they must match")
    counts_in, displ_in = _split_counts(pg, input_split_sizes, input, "input")
    counts_out, displ_out = _split_counts(pg, output_split_sizes, output, "output")
    n = pg.size()
    table = _agree(pg, "all_to_all_single", input, check_shape=False, extra=counts_in + counts_out)
    for i in range(n):  # what rank i sends to rank j must be what rank j expects from rank i
        for j in range(n):
            if table[i, j] != table[j, n + i]:
                raise RuntimeError(f"[rank {pg.ranks[pg.rank()]}] all_to_all_single: rank {pg.ranks[i]} sends "
                                   f"{table[i, j]} elements to rank {pg.ranks[j]}, which expects {table[j, n + i]} "
                                   "from it (check input_split_sizes / output_split_sizes)")
    if pg.nccl is not None:
        return _nccl_collectives.all_to_all_single(pg, output, input, counts_in, displ_in, counts_out, displ_out,
                                                   async_op)
    send = _mpi.as_buffer(input._data)
    recv = np.empty(output._data.shape, dtype=send.dtype)
    req = pg.comm.Ialltoallv([send, (counts_in, displ_in)], [recv, (counts_out, displ_out)])
    return _run(pg, "all_to_all_single", [req], lambda: _write_back(output, recv), async_op)


def barrier(group=None, async_op=False, device_ids=None):
    """Wait until every rank of ``group`` has reached this call."""
    pg = _state.resolve(group)
    if pg.nccl is not None:
        return _nccl_collectives.barrier(pg, async_op)
    req = pg.comm.Ibarrier()
    return _run(pg, "barrier", [req], None, async_op)


# --- point to point ----------------------------------------------------------------------------------------

def isend(tensor, dst, group=None, tag=0):
    """Send ``tensor`` to rank ``dst`` without waiting; returns a :class:`Work`."""
    pg = _state.resolve(group)
    _check_tensor(tensor, "send", pg)
    peer = _group_rank(pg, dst, "send")
    if peer == pg.rank():
        raise ValueError("Invalid destination rank: should not be the same as the rank of the current process.")
    if pg.nccl is not None:
        return _nccl_collectives.send(pg, tensor, peer)
    buf = _mpi.as_buffer(tensor._data)
    return Work(pg, "send", [pg.comm.Isend(buf, dest=peer, tag=tag)], lambda: buf)


def irecv(tensor, src=None, group=None, tag=0):
    """Receive into ``tensor`` from rank ``src`` (any rank when None) without waiting; returns a :class:`Work`."""
    pg = _state.resolve(group)
    _check_tensor(tensor, "recv", pg)
    if pg.nccl is not None:
        if src is None:
            raise ValueError("recv: the nccl backend needs the source rank (src=None, any source, is MPI-only)")
        return _nccl_collectives.recv(pg, tensor, _group_rank(pg, src, "recv"), src)
    MPI = _mpi.mpi()
    peer = MPI.ANY_SOURCE if src is None else _group_rank(pg, src, "recv")
    buf = _mpi.as_buffer(np.empty_like(tensor._data))
    status = MPI.Status()
    req = pg.comm.Irecv(buf, source=peer, tag=tag)

    def finish():
        _write_back(tensor, buf)
        return pg.ranks[status.Get_source()]

    return Work(pg, "recv", [req], finish, status)


def send(tensor, dst, group=None, tag=0) -> None:
    """Send ``tensor`` to rank ``dst``."""
    isend(tensor, dst, group, tag).wait()


def recv(tensor, src=None, group=None, tag=0) -> int:
    """Receive ``tensor`` from rank ``src`` (any rank when None); returns the sender's rank."""
    return irecv(tensor, src, group, tag).result()
