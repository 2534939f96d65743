"""Collectives of the ``nccl`` backend: CUDA tensors, queued on the current CUDA stream.

As with PyTorch's NCCL backend, a collective returns once its work is queued: later GPU work on the same
stream sees its result, and the host sees it after a synchronize (``Work.wait()`` makes the current stream
wait; ``tensor.cpu()`` waits too). Every call first checks over MPI that the ranks agree on the collective,
dtype and shape (a clear error instead of a hang or corrupted data).
"""

from __future__ import annotations

from .. import backend
from . import _nccl


class NcclWork:
    """The handle of an asynchronous NCCL collective (``async_op=True``): an event recorded after it."""

    def __init__(self, pg, what, finish=None):
        cp = backend.cupy_module()
        self._pg, self._what = pg, what
        self._event = cp.cuda.get_current_stream().record()
        self._finish = finish
        self._result = None
        self._done = False

    def is_completed(self) -> bool:
        return self._done or bool(self._event.done)

    def is_success(self) -> bool:
        return self.is_completed()

    def wait(self, timeout=None) -> bool:
        """Make the current stream wait for the collective (the host does not block, as in PyTorch)."""
        backend.cupy_module().cuda.get_current_stream().wait_event(self._event)
        if not self._done:
            self._done = True
            if self._finish is not None:
                self._result = self._finish()
        return True

    def synchronize(self) -> None:
        self.wait()
        self._event.synchronize()

    def result(self):
        self.wait()
        return self._result


def _ret(pg, what, async_op, finish=None):
    work = NcclWork(pg, what, finish)
    if async_op:
        return work
    work.wait()
    return None


def _check(pg, t, what):
    if t.device.type != "cuda":
        raise TypeError(f"{what}: the nccl backend works on CUDA tensors, got a tensor on {t.device} (move it with "
                        f".cuda(), or use backend='mpi' for CPU tensors)")
    if t.device.index != pg.device_index:
        raise ValueError(f"{what}: tensor is on {t.device} but this rank's NCCL communicator is on "
                         f"cuda:{pg.device_index} (call ember.cuda.set_device(local_rank) before init_process_group)")
    _nccl.dtype_code(t._data.dtype)


def _contiguous(t):
    """A C-contiguous array holding ``t``'s data: its own array when possible, else a copy to write back."""
    arr = t._data
    return arr if arr.flags.c_contiguous else arr.copy()


def _done(t, buf):
    if buf is not t._data:
        t._data[...] = buf
    t._bump_version()


def _stream():
    return backend.cupy_module().cuda.get_current_stream().ptr


def all_reduce(pg, tensor, op, async_op):
    buf = _contiguous(tensor)
    pg.nccl.allReduce(buf.data.ptr, buf.data.ptr, buf.size, _nccl.dtype_code(buf.dtype), _nccl.op_code(op, buf.dtype),
                      _stream())
    _done(tensor, buf)
    return _ret(pg, "all_reduce", async_op)


def broadcast(pg, tensor, root, async_op):
    buf = _contiguous(tensor)
    pg.nccl.broadcast(buf.data.ptr, buf.data.ptr, buf.size, _nccl.dtype_code(buf.dtype), root, _stream())
    _done(tensor, buf)
    return _ret(pg, "broadcast", async_op)


def reduce(pg, tensor, root, op, async_op):
    buf = _contiguous(tensor)
    pg.nccl.reduce(buf.data.ptr, buf.data.ptr, buf.size, _nccl.dtype_code(buf.dtype), _nccl.op_code(op, buf.dtype),
                   root, _stream())
    if pg.rank() == root:
        _done(tensor, buf)
    return _ret(pg, "reduce", async_op)


def _gather_flat(pg, tensor):
    cp = backend.cupy_module()
    send = _contiguous(tensor)
    with cp.cuda.Device(pg.device_index):
        recv = cp.empty((pg.size(),) + send.shape, dtype=send.dtype)
    pg.nccl.allGather(send.data.ptr, recv.data.ptr, send.size, _nccl.dtype_code(send.dtype), _stream())
    return recv


def all_gather(pg, tensor_list, tensor, async_op):
    recv = _gather_flat(pg, tensor)
    for out, part in zip(tensor_list, recv):
        if tuple(out.shape) != part.shape:
            raise RuntimeError(f"all_gather: output tensor of shape {list(out.shape)} cannot hold an input of "
                               f"shape {list(part.shape)}")
        _check(pg, out, "all_gather")
        out._data[...] = part
        out._bump_version()
    return _ret(pg, "all_gather", async_op)


def all_gather_into_tensor(pg, output, input, async_op):
    _check(pg, output, "all_gather_into_tensor")
    out = output._data
    if out.flags.c_contiguous and out.dtype == input._data.dtype:
        send = _contiguous(input)
        pg.nccl.allGather(send.data.ptr, out.data.ptr, send.size, _nccl.dtype_code(send.dtype), _stream())
        output._bump_version()
    else:
        _done(output, _gather_flat(pg, input).reshape(out.shape).astype(out.dtype, copy=False))
    return _ret(pg, "all_gather_into_tensor", async_op)


def reduce_scatter_tensor(pg, output, input, op, async_op):
    _check(pg, output, "reduce_scatter_tensor")
    send = _contiguous(input)
    out = _contiguous(output)
    if out.dtype != send.dtype:
        raise TypeError(f"reduce_scatter_tensor: output is {output.dtype}, input {input.dtype}: they must match")
    pg.nccl.reduceScatter(send.data.ptr, out.data.ptr, out.size, _nccl.dtype_code(send.dtype),
                          _nccl.op_code(op, send.dtype), _stream())
    _done(output, out)
    return _ret(pg, "reduce_scatter_tensor", async_op)


def barrier(pg, async_op):
    """An all-reduce of one element on the group's GPU, then the host waits for it (as PyTorch's NCCL barrier)."""
    cp = backend.cupy_module()
    with cp.cuda.Device(pg.device_index):
        one = cp.zeros(1, dtype="float32")
        pg.nccl.allReduce(one.data.ptr, one.data.ptr, 1, _nccl.dtype_code(one.dtype), _nccl.module().NCCL_SUM,
                          _stream())
        work = NcclWork(pg, "barrier")
    if async_op:
        return work
    work.synchronize()
    return None


def send(pg, tensor, peer):
    buf = _contiguous(tensor)
    pg.nccl.send(buf.data.ptr, buf.size, _nccl.dtype_code(buf.dtype), peer, _stream())
    return NcclWork(pg, "send", lambda: buf)  # keeps the buffer alive until waited on


def recv(pg, tensor, peer, sender):
    buf = _contiguous(tensor)
    pg.nccl.recv(buf.data.ptr, buf.size, _nccl.dtype_code(buf.dtype), peer, _stream())
    _done(tensor, buf)
    return NcclWork(pg, "recv", lambda: sender)


def _p2p_group(pg, sends, recvs):
    """One NCCL group of point-to-point calls, ``(array, element offset, count, peer)`` each. NCCL runs a
    group's calls together at ``groupEnd`` (their order cannot deadlock): PyTorch's NCCL backend builds gather,
    scatter and all_to_all this way."""
    nccl, stream = _nccl.module(), _stream()
    nccl.groupStart()
    try:
        for call, ops in ((pg.nccl.send, sends), (pg.nccl.recv, recvs)):
            for arr, offset, count, peer in ops:
                if count:  # both sides skip an empty block (their counts were checked to agree)
                    call(arr.data.ptr + offset * arr.itemsize, count, _nccl.dtype_code(arr.dtype), peer, stream)
    finally:
        nccl.groupEnd()


def gather(pg, tensor, gather_list, root, async_op):
    send = _contiguous(tensor)
    if pg.rank() != root:
        _p2p_group(pg, [(send, 0, send.size, root)], [])
        return _ret(pg, "gather", async_op, lambda: send)
    bufs = [_contiguous(out) for out in gather_list]
    _p2p_group(pg, [], [(buf, 0, buf.size, r) for r, buf in enumerate(bufs) if r != root])
    bufs[root][...] = send.reshape(bufs[root].shape)
    for out, buf in zip(gather_list, bufs):
        _done(out, buf)
    return _ret(pg, "gather", async_op, lambda: bufs)


def scatter(pg, tensor, scatter_list, root, async_op):
    out = _contiguous(tensor)
    if pg.rank() != root:
        _p2p_group(pg, [], [(out, 0, out.size, root)])
    else:
        bufs = [_contiguous(t) for t in scatter_list]
        _p2p_group(pg, [(buf, 0, buf.size, r) for r, buf in enumerate(bufs) if r != root], [])
        out[...] = bufs[root].reshape(out.shape)
    _done(tensor, out)
    return _ret(pg, "scatter", async_op, lambda: (out, scatter_list))


def all_to_all_single(pg, output, input, counts_in, displ_in, counts_out, displ_out, async_op):
    """Block ``r`` of ``input`` (``counts_in[r]`` elements from ``displ_in[r]``) to rank ``r``, and rank ``r``'s
    block into ``output`` at ``displ_out[r]``: one send and one receive per rank, itself included
    (NCCL copies a rank's block to itself), in one group."""
    send, recv = _contiguous(input), _contiguous(output)
    peers = range(pg.size())
    _p2p_group(pg, [(send, displ_in[r], counts_in[r], r) for r in peers],
               [(recv, displ_out[r], counts_out[r], r) for r in peers])
    _done(output, recv)
    return _ret(pg, "all_to_all_single", async_op, lambda: (send, recv))
