"""Shared pieces of ``ember.save`` / ``ember.load``: device mapping, safe tensor views over raw storages,
and zip member access."""

from __future__ import annotations

import os
import struct
import zlib

import numpy as np

from .. import backend
from ..tensor import Tensor, _Version

ALIGNMENT = 64  # storage data inside a zip starts on this boundary (as PyTorch does), so mmap'ed arrays are aligned


class CheckpointError(RuntimeError):
    """A checkpoint file is truncated, corrupted or not a checkpoint at all."""


def describe(f) -> str:
    if isinstance(f, (str, bytes, os.PathLike)):
        return repr(os.fsdecode(f))
    name = getattr(f, "name", None)
    return repr(name) if isinstance(name, str) else f"<{type(f).__name__}>"


# ---- devices ---------------------------------------------------------------------------------------

def _as_device(spec, location):
    if isinstance(spec, backend.device):
        return spec
    if isinstance(spec, str):
        try:
            return backend.device(spec)
        except RuntimeError:
            raise RuntimeError(
                f"ember.load: can't restore a storage to device {spec!r} (saved on {location!r}); ember supports "
                "'cpu' and 'cuda' devices. Pass map_location='cpu' to load it on the CPU."
            ) from None
    if isinstance(spec, int) and not isinstance(spec, bool):
        return backend.device("cuda", spec)
    raise TypeError(f"map_location produced an unsupported device spec of type {type(spec).__name__}: {spec!r}")


def check_map_location(map_location):
    if map_location is None or callable(map_location) or isinstance(map_location, (str, dict, backend.device)):
        return
    if isinstance(map_location, int) and not isinstance(map_location, bool):
        return
    raise TypeError(
        "map_location should be either a callable, a string, a dict or an ember.device, "
        f"got {type(map_location).__name__}"
    )


def target_device(location: str, map_location, cpu_bytes) -> backend.device:
    """Where a storage saved on ``location`` goes, following PyTorch's ``map_location`` rules."""
    spec = location
    if map_location is None:
        pass
    elif isinstance(map_location, dict):
        spec = map_location.get(location, location)
    elif isinstance(map_location, (str, backend.device)) or (
        isinstance(map_location, int) and not isinstance(map_location, bool)
    ):
        spec = map_location
    else:  # callable(storage, location) -> storage or None
        res = map_location(Tensor._make(cpu_bytes), location)
        if res is not None:
            spec = res.device if isinstance(res, Tensor) else res
    dev = _as_device(spec, location)
    if dev.type == "cuda" and not backend.cuda_available():
        raise RuntimeError(
            "Attempting to deserialize object on a CUDA device but ember.cuda.is_available() is False. "
            "If you are running on a CPU-only machine, please use ember.load with "
            "map_location=ember.device('cpu') to map your storages to the CPU."
        )
    return backend.canonical_device(dev)


class Storage:
    """Raw bytes of one saved storage (a 1-D uint8 NumPy array) plus copies on the devices it is used on."""

    __slots__ = ("_on_device", "base", "cpu", "device", "location", "users", "version")

    def __init__(self, cpu_bytes, location: str, map_location):
        self.cpu = cpu_bytes
        self.location = location
        self.device = target_device(location, map_location, cpu_bytes)
        self._on_device = None
        self.base = None
        self.version = _Version()
        self.users = 0

    def on_device(self):
        if self._on_device is None:
            self._on_device = backend.to_device(self.cpu, self.device)
        return self._on_device


# ---- views ------------------------------------------------------------------------------------------

def _int(v, what):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise CheckpointError(f"corrupted checkpoint: {what} must be an integer, got {v!r}")
    return int(v)


def make_tensor(storage: Storage, np_dtype, byte_offset, shape, strides, swap_bytes=False) -> Tensor:
    """A tensor viewing ``storage`` (``strides`` in elements), after checking it lies inside the storage.

    Tensors built on the same storage share memory, as they did when saved."""
    np_dtype = np.dtype(np_dtype)
    isz = np_dtype.itemsize
    byte_offset = _int(byte_offset, "storage offset")
    if not isinstance(shape, (list, tuple)) or not isinstance(strides, (list, tuple)) or len(shape) != len(strides):
        raise CheckpointError(f"corrupted checkpoint: bad tensor shape {shape!r} / stride {strides!r}")
    shape = tuple(_int(s, "size") for s in shape)
    strides = tuple(_int(s, "stride") for s in strides)
    if any(s < 0 for s in shape) or byte_offset < 0:
        raise CheckpointError(f"corrupted checkpoint: negative size or offset (size {list(shape)}, offset {byte_offset})")
    nbytes = storage.cpu.nbytes
    numel = 1
    for s in shape:
        numel *= s
    if numel:
        lo = byte_offset + sum(min(0, (n - 1) * st * isz) for n, st in zip(shape, strides))
        hi = byte_offset + sum(max(0, (n - 1) * st * isz) for n, st in zip(shape, strides)) + isz
        if lo < 0 or hi > nbytes:
            raise CheckpointError(
                f"corrupted checkpoint: a tensor of size {list(shape)}, stride {list(strides)} and offset "
                f"{byte_offset // isz} needs bytes [{lo}, {hi}) of a storage of only {nbytes} bytes"
            )
    else:  # empty tensors own nothing
        strides = tuple(0 for _ in shape)
        byte_offset = 0
    byte_strides = tuple(st * isz for st in strides)
    if swap_bytes:  # file written on a machine of the other byte order: convert (values, not memory, survive)
        arr = np.ndarray(shape, np_dtype.newbyteorder(), buffer=storage.cpu, offset=byte_offset if numel else 0,
                         strides=byte_strides) if numel else np.empty(shape, np_dtype)
        arr = backend.to_device(arr.astype(np_dtype), storage.device)
        return Tensor._make(arr)
    if not numel:
        with backend.device_guard(storage.device):
            return Tensor._make(backend.module_for(storage.device).empty(shape, np_dtype))
    buf = storage.on_device()
    if isinstance(buf, np.ndarray):
        arr = np.ndarray(shape, np_dtype, buffer=buf, offset=byte_offset, strides=byte_strides)
    else:
        cp = backend.cupy_module()
        arr = cp.ndarray(shape, np_dtype, memptr=buf.data + byte_offset, strides=byte_strides)
    storage.users += 1
    return Tensor._make(arr)


def link_views(tensors_and_storages):
    """Tensors that share a storage share a version counter and a (hidden) base, as views do in ember."""
    for t, st in tensors_and_storages:
        if st is None or st.users < 2 or not t._data.size:
            continue
        if st.base is None:
            st.base = Tensor._make(st.on_device(), version=st.version)
        t._version_counter = st.version
        t._base = st.base


# ---- zip members -------------------------------------------------------------------------------------

_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")


def member_data_offset(fp, zinfo) -> int:
    """Absolute file offset of a stored member's data (reads its local header)."""
    fp.seek(zinfo.header_offset)
    head = fp.read(_LOCAL_HEADER.size)
    if len(head) != _LOCAL_HEADER.size or head[:4] != b"PK\x03\x04":
        raise CheckpointError(f"corrupted zip archive: bad local header for {zinfo.filename!r}")
    fields = _LOCAL_HEADER.unpack(head)
    name_len, extra_len = fields[-2], fields[-1]
    return zinfo.header_offset + _LOCAL_HEADER.size + name_len + extra_len


def read_member(zf, name, expected_nbytes=None, mm=None, verify=True):
    """A stored (uncompressed) member as a 1-D uint8 array: read straight into the array, or an
    ``mmap`` view of the file when ``mm`` is given."""
    try:
        zinfo = zf.getinfo(name)
    except KeyError:
        raise CheckpointError(f"corrupted checkpoint: the archive has no record {name!r}") from None
    if expected_nbytes is not None and zinfo.file_size != expected_nbytes:
        raise CheckpointError(
            f"corrupted checkpoint: record {name!r} holds {zinfo.file_size} bytes, expected {expected_nbytes}"
        )
    if zinfo.compress_type != 0 or mm is None:
        if zinfo.compress_type != 0:
            data = zf.read(name)  # another tool compressed it: decompress (BadZipFile on corruption)
            return np.frombuffer(bytearray(data), np.uint8)
        out = np.empty(zinfo.file_size, np.uint8)
        fp = zf.fp
        fp.seek(member_data_offset(fp, zinfo))
        got = fp.readinto(memoryview(out)) if hasattr(fp, "readinto") else None
        if got is None:
            raw = fp.read(zinfo.file_size)
            got = len(raw)
            out[:got] = np.frombuffer(raw, np.uint8)
        if got != zinfo.file_size:
            raise CheckpointError(f"truncated checkpoint: record {name!r} is cut short ({got} of {zinfo.file_size} bytes)")
        if verify and zlib.crc32(out) != zinfo.CRC:
            raise CheckpointError(f"corrupted checkpoint: record {name!r} fails its CRC-32 check")
        return out
    start = member_data_offset(zf.fp, zinfo)
    if start + zinfo.file_size > len(mm):
        raise CheckpointError(f"truncated checkpoint: record {name!r} runs past the end of the file")
    arr = np.frombuffer(mm, np.uint8, zinfo.file_size, start)
    if zinfo.file_size and arr.ctypes.data % 16:
        arr = arr.copy()  # not aligned (written by another zip tool)
    return arr
