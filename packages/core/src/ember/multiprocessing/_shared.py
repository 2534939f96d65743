"""Shared-memory arrays: a CPU tensor's memory moved into a file in /dev/shm mapped MAP_SHARED, so forked
children share it by inheritance and spawned ones by reopening the file by name (see ``reductions``)."""

from __future__ import annotations

import mmap
import os
import secrets
import tempfile
import weakref

import numpy

_DIR = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()
_NAMES: dict = {}  # id(mmap) -> file name, for the mmaps this process created or opened


def _map(path: str, nbytes: int, create: bool):
    flags = os.O_RDWR | (os.O_CREAT | os.O_EXCL if create else 0)
    fd = os.open(path, flags, 0o600)
    try:
        if create:
            os.ftruncate(fd, max(nbytes, 1))
        mm = mmap.mmap(fd, max(nbytes, 1), mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    finally:
        os.close(fd)
    _NAMES[id(mm)] = os.path.basename(path)
    weakref.finalize(mm, _NAMES.pop, id(mm), None)
    return mm


def _unlink(path, owner_pid):
    if os.getpid() != owner_pid:  # a forked child dropping its inherited copy: the file is its parent's
        return
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def share_array(arr):
    """A copy of NumPy array ``arr`` in a new shared-memory block (the file is removed with the block)."""
    name = f"ember_shm_{os.getpid()}_{secrets.token_hex(8)}"
    path = os.path.join(_DIR, name)
    mm = _map(path, arr.nbytes, create=True)
    weakref.finalize(mm, _unlink, path, os.getpid())
    out = numpy.frombuffer(mm, dtype=arr.dtype, count=arr.size).reshape(arr.shape)
    out[...] = arr
    return out


def open_shared(name: str, nbytes: int):
    """Map the shared block ``name`` created by another process."""
    return _map(os.path.join(_DIR, name), nbytes, create=False)


def shared_base(arr):
    """``(mmap, file name)`` when ``arr`` lives in a shared block, else None."""
    base = arr
    while base is not None and not isinstance(base, mmap.mmap):
        base = base.obj if isinstance(base, memoryview) else getattr(base, "base", None)
    if base is None:
        return None
    name = _NAMES.get(id(base))
    return None if name is None else (base, name)
