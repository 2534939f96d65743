"""Object collectives. Objects travel in ember's checkpoint format, so receiving one never runs code:
the same types as :func:`ember.save` / :func:`ember.load` (tensors, numbers, strings, containers)."""

from __future__ import annotations

import io

import numpy as np

from . import _mpi, _state
from .collectives import _agree, _group_rank, _seconds

__all__ = ["broadcast_object_list", "all_gather_object"]


def _encode(obj) -> np.ndarray:
    from .. import serialization

    buf = io.BytesIO()
    serialization.save(obj, buf)
    return np.frombuffer(buf.getvalue(), dtype=np.uint8)


def _decode(data: np.ndarray):
    from .. import serialization

    return serialization.load(io.BytesIO(data.tobytes()), weights_only=True)


def _wait(pg, req, what):
    _mpi.wait(req, _seconds(pg.timeout), what, _state.world().rank())


def broadcast_object_list(object_list, src=0, group=None, device=None) -> None:
    """Replace ``object_list``'s items on every rank with those of rank ``src`` (in place)."""
    pg = _state.resolve(group)
    root = _group_rank(pg, src, "broadcast_object_list")
    _agree(pg, "broadcast_object_list")
    payload = _encode(list(object_list)) if pg.rank() == root else None
    size = np.array([payload.size if payload is not None else 0], dtype=np.int64)
    _wait(pg, pg.comm.Ibcast(size, root=root), "broadcast_object_list")
    if payload is None:
        payload = np.empty(int(size[0]), dtype=np.uint8)
    _wait(pg, pg.comm.Ibcast(payload, root=root), "broadcast_object_list")
    if pg.rank() != root:
        received = _decode(payload)
        if len(received) != len(object_list):
            raise RuntimeError(f"broadcast_object_list: rank {src} sent {len(received)} objects, this rank's list "
                               f"has {len(object_list)} slots")
        object_list[:] = received


def all_gather_object(object_list, obj, group=None) -> None:
    """Fill ``object_list`` (one slot per rank) with ``obj`` from every rank."""
    pg = _state.resolve(group)
    if len(object_list) != pg.size():
        raise ValueError(f"all_gather_object: object_list has {len(object_list)} slots, the group has "
                         f"{pg.size()} ranks")
    _agree(pg, "all_gather_object")
    payload = _encode(obj)
    sizes = np.empty(pg.size(), dtype=np.int64)
    _wait(pg, pg.comm.Iallgather(np.array([payload.size], dtype=np.int64), sizes), "all_gather_object")
    recv = np.empty(int(sizes.sum()), dtype=np.uint8)
    displ = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    _wait(pg, pg.comm.Iallgatherv(payload, [recv, (sizes.tolist(), displ.tolist())]), "all_gather_object")
    for i in range(pg.size()):
        object_list[i] = _decode(recv[displ[i]:displ[i] + sizes[i]])
