"""Ember's own checkpoint format: a zip archive (stored, not compressed) holding

* ``data.json``: the object tree (dicts, lists, numbers, strings, ... and tensor references), the tensor
  table (storage, byte offset, shape, element strides, dtype) and the storage table;
* ``data/<i>``: the raw bytes of storage ``i``, starting on a 64-byte boundary in the file.

No pickle is involved in either direction. Tensors that share memory when saved (views) share one storage
and keep sharing after loading.
"""

from __future__ import annotations

import collections
import json
import math
import sys
import zipfile

import numpy as np

from .. import backend, dtypes
from ..size import Size
from ..tensor import Tensor
from ._common import (
    ALIGNMENT,
    CheckpointError,
    Storage,
    link_views,
    make_tensor,
    read_member,
)

FORMAT_NAME = "ember"
FORMAT_VERSION = 1
HEADER_NAME = "data.json"
_DATE = (1980, 1, 1, 0, 0, 0)


# ---- saving -----------------------------------------------------------------------------------------

def _ptr(arr) -> int:
    return arr.__array_interface__["data"][0] if isinstance(arr, np.ndarray) else arr.data.ptr


def _flat_bytes(m):
    """A contiguous array's memory as a 1-D uint8 view."""
    if m.flags.c_contiguous:
        flat = m.reshape(-1)
    else:
        flat = m.T.reshape(-1)
    return flat.view(np.uint8)


class _Group:
    """Tensors whose arrays live in one allocation: saved as one storage covering all of them."""

    __slots__ = ("device", "hi", "index", "lo", "memory")

    def __init__(self, memory, lo, hi, device):
        self.memory, self.lo, self.hi, self.device, self.index = memory, lo, hi, device, None


class _Encoder:
    def __init__(self):
        self.tensor_index = {}  # id(tensor) -> index
        self.tensors = []  # (tensor, group, ptr)
        self.groups = {}  # id(memory array) -> _Group
        self.keep = []  # keep arrays alive while their ids are keys
        self.active = set()  # ids of containers being encoded (cycle check)
        self.lazy = {}  # index -> class name of uninitialized (lazy) tensors

    # -- tensors --
    def _tensor(self, t: Tensor) -> dict:
        k = self.tensor_index.get(id(t))
        if k is None:
            k = len(self.tensors)
            self.tensor_index[id(t)] = k
            self.keep.append(t)
            from ..nn.parameter import is_lazy

            if is_lazy(t):  # an uninitialized parameter/buffer: saved as its empty array plus its class
                self.lazy[k] = type(t).__name__
                t = Tensor._make(object.__getattribute__(t, "_data"), requires_grad=t.requires_grad)
            self.tensors.append(self._place(t))
        return {"type": "tensor", "index": k}

    def _place(self, t):
        arr = t._data
        if arr.size == 0:
            return t, None, 0
        xp = backend.array_module(arr)
        if not isinstance(arr, xp.ndarray):  # a stray NumPy scalar
            arr = xp.asarray(arr)
            self.keep.append(arr)
        isz = arr.itemsize
        m = arr
        while isinstance(m.base, xp.ndarray):
            m = m.base
        ptr = _ptr(arr)
        lo = ptr + sum(min(0, (n - 1) * s) for n, s in zip(arr.shape, arr.strides))
        hi = ptr + sum(max(0, (n - 1) * s) for n, s in zip(arr.shape, arr.strides)) + isz
        mptr = _ptr(m)
        usable = (
            sys.byteorder == "little"
            and (m.flags.c_contiguous or m.flags.f_contiguous)
            and all(s % isz == 0 for s in arr.strides)
            and mptr <= lo and hi <= mptr + m.nbytes
        )
        if not usable:  # odd memory layout (or big-endian host): save a compact copy of its own
            arr = xp.ascontiguousarray(arr)
            m, ptr, lo, hi = arr, _ptr(arr), _ptr(arr), _ptr(arr) + arr.nbytes
            self.keep.append(arr)
        g = self.groups.get(id(m))
        if g is None:
            g = self.groups[id(m)] = _Group(m, lo, hi, backend.device_of(m))
            self.keep.append(m)
        else:
            g.lo, g.hi = min(g.lo, lo), max(g.hi, hi)
        return t, g, ptr

    # -- objects --
    def encode(self, obj, path):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            return float(obj) if math.isfinite(obj) else {"type": "float", "value": repr(float(obj))}
        if isinstance(obj, Tensor):
            return self._tensor(obj)
        if isinstance(obj, np.generic) and obj.dtype.kind in "biufc":  # NumPy scalars: as Python numbers
            return self.encode(obj.item(), path)
        if isinstance(obj, complex):
            return {"type": "complex", "real": self.encode(obj.real, path), "imag": self.encode(obj.imag, path)}
        if isinstance(obj, dtypes.dtype):
            return {"type": "dtype", "name": obj.name}
        if isinstance(obj, backend.device):
            return {"type": "device", "value": str(obj)}
        if isinstance(obj, (bytes, bytearray)):
            return {"type": "bytearray" if isinstance(obj, bytearray) else "bytes", "hex": bytes(obj).hex()}
        if isinstance(obj, slice):
            return {"type": "slice", "items": [self.encode(v, f"{path}.{a}") for a, v in
                                               (("start", obj.start), ("stop", obj.stop), ("step", obj.step))]}
        kind = type(obj)
        if kind in (dict, collections.OrderedDict, list, tuple, Size, set, frozenset):
            if id(obj) in self.active:
                raise ValueError(f"ember.save: {path} contains itself (a reference cycle); it can't be saved")
            self.active.add(id(obj))
            try:
                return self._container(obj, kind, path)
            finally:
                self.active.discard(id(obj))
        raise TypeError(
            f"ember.save can't save an object of type {kind.__module__}.{kind.__qualname__} (at {path}): "
            "only tensors, dicts, OrderedDicts, lists, tuples, sets, numbers, strings, bytes, None, "
            "ember.dtype, ember.device and ember.Size are supported (save a module's state_dict(), not the module)"
        )

    def _container(self, obj, kind, path):
        if kind is list:
            return [self.encode(v, f"{path}[{i}]") for i, v in enumerate(obj)]
        if kind in (dict, collections.OrderedDict):
            items = [[self.encode(k, f"{path} key {k!r}"), self.encode(v, f"{path}[{k!r}]")] for k, v in obj.items()]
            node = {"type": "dict" if kind is dict else "odict", "items": items}
            meta = getattr(obj, "_metadata", None) if kind is collections.OrderedDict else None
            if meta is not None:  # Module.state_dict()'s per-module version info
                node["metadata"] = self.encode(meta, f"{path}._metadata")
            return node
        if kind in (set, frozenset):
            items = [self.encode(v, f"{path} item") for v in obj]
            return {"type": kind.__name__, "items": items}
        name = "size" if kind is Size else "tuple"
        return {"type": name, "items": [self.encode(v, f"{path}[{i}]") for i, v in enumerate(obj)]}


def _write_member(zf, name, data, nbytes):
    zinfo = zipfile.ZipInfo(name, _DATE)
    zinfo.compress_type = zipfile.ZIP_STORED
    zinfo.file_size = nbytes
    zip64 = nbytes * 1.05 > zipfile.ZIP64_LIMIT  # zipfile's own test when it opens a member for writing
    start = getattr(zf, "start_dir", None)
    if start is not None:  # pad the local header's extra field so the data starts on an aligned offset
        used = start + 30 + len(name.encode()) + 4 + (20 if zip64 else 0)
        pad = (-used) % ALIGNMENT
        zinfo.extra = b"EM" + pad.to_bytes(2, "little") + b"\0" * pad
    with zf.open(zinfo, "w", force_zip64=zip64) as out:
        if data is not None:
            out.write(data)


def save(obj, f) -> None:
    enc = _Encoder()
    root = enc.encode(obj, "obj")
    groups = sorted({g for _, g, _ in enc.tensors if g is not None}, key=lambda g: g.lo)
    for i, g in enumerate(groups):
        g.index = i
    tensors = []
    for t, g, ptr in enc.tensors:
        tensors.append({
            "storage": None if g is None else g.index,
            "offset": 0 if g is None else ptr - g.lo,
            "dtype": t.dtype.name,
            "shape": list(t._data.shape),
            "stride": [0] * t._data.ndim if g is None else [s // t._data.itemsize for s in t._data.strides],
            "requires_grad": bool(t._requires_grad),
            "parameter": type(t).__name__ == "Parameter",
        })
        if g is None:
            tensors[-1]["device"] = str(t.device)
        if len(tensors) - 1 in enc.lazy:
            tensors[-1]["uninitialized"] = enc.lazy[len(tensors) - 1]
    header = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "byteorder": sys.byteorder,
        "storages": [{"nbytes": g.hi - g.lo, "device": str(g.device)} for g in groups],
        "tensors": tensors,
        "root": root,
    }
    text = json.dumps(header, allow_nan=False, separators=(",", ":")).encode()
    with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        _write_member(zf, HEADER_NAME, text, len(text))
        for g in groups:
            flat = _flat_bytes(g.memory)
            mptr = _ptr(g.memory)
            part = flat[g.lo - mptr:g.hi - mptr]
            if not isinstance(part, np.ndarray):
                part = part.get()  # CuPy: save from a host copy
            _write_member(zf, f"data/{g.index}", memoryview(part), part.nbytes)


# ---- loading ----------------------------------------------------------------------------------------

class _Decoder:
    def __init__(self, zf, header, map_location, mm):
        self.zf, self.map_location, self.mm = zf, map_location, mm
        self.storage_recs = _field(header, "storages", list)
        self.tensor_recs = _field(header, "tensors", list)
        self.swap = _field(header, "byteorder", str) != sys.byteorder
        self.storages = {}
        self.tensors = {}
        self.made = []

    def storage(self, i):
        st = self.storages.get(i)
        if st is None:
            if not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < len(self.storage_recs):
                raise CheckpointError(f"corrupted checkpoint: a tensor refers to storage {i!r}, which does not exist")
            rec = self.storage_recs[i]
            nbytes = _field(rec, "nbytes", int)
            data = read_member(self.zf, f"data/{i}", nbytes, self.mm)
            st = self.storages[i] = Storage(data, _field(rec, "device", str), self.map_location)
        return st

    def tensor(self, k):
        t = self.tensors.get(k)
        if t is not None:
            return t
        if not isinstance(k, int) or isinstance(k, bool) or not 0 <= k < len(self.tensor_recs):
            raise CheckpointError(f"corrupted checkpoint: reference to tensor {k!r}, which does not exist")
        rec = self.tensor_recs[k]
        name = _field(rec, "dtype", str)
        dt = dtypes._NAMES.get(name)
        if dt is None:
            raise CheckpointError(f"corrupted checkpoint: unknown dtype {name!r}")
        si = rec.get("storage")
        if si is None:
            shape = _field(rec, "shape", list)
            st = Storage(np.empty(0, np.uint8), str(rec.get("device", "cpu")), self.map_location)
            t = make_tensor(st, dt.np, 0, shape, [0] * len(shape))
            st = None
        else:
            st = self.storage(si)
            t = make_tensor(st, dt.np, rec.get("offset"), rec.get("shape"), rec.get("stride"), self.swap)
        if rec.get("uninitialized") in ("UninitializedParameter", "UninitializedBuffer"):
            from ..nn import parameter

            cls = getattr(parameter, rec["uninitialized"])
            t = cls(requires_grad=bool(rec.get("requires_grad")), device=t.device, dtype=t.dtype)
        elif rec.get("parameter"):
            from ..nn.parameter import Parameter

            t = Parameter(t, bool(rec.get("requires_grad")))
        elif rec.get("requires_grad"):
            t._requires_grad = True
        self.made.append((t, st))
        self.tensors[k] = t
        return t

    def decode(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if not isinstance(node, dict):
            raise CheckpointError(f"corrupted checkpoint: unexpected {type(node).__name__} in data.json")
        kind = node.get("type")
        if kind == "tensor":
            return self.tensor(node.get("index"))
        if kind in ("dict", "odict"):
            out = {} if kind == "dict" else collections.OrderedDict()
            for pair in _field(node, "items", list):
                if not isinstance(pair, list) or len(pair) != 2:
                    raise CheckpointError("corrupted checkpoint: a dict item is not a [key, value] pair")
                out[self.decode(pair[0])] = self.decode(pair[1])
            if "metadata" in node and kind == "odict":
                out._metadata = self.decode(node["metadata"])
            return out
        if kind in ("tuple", "size", "set", "frozenset"):
            items = [self.decode(v) for v in _field(node, "items", list)]
            return {"tuple": tuple, "size": Size, "set": set, "frozenset": frozenset}[kind](items)
        if kind == "float":
            v = node.get("value")
            if v not in ("nan", "inf", "-inf"):
                raise CheckpointError(f"corrupted checkpoint: bad float {v!r}")
            return float(v)
        if kind == "complex":
            return complex(self.decode(node.get("real")), self.decode(node.get("imag")))
        if kind == "dtype":
            dt = dtypes._NAMES.get(node.get("name"))
            if dt is None:
                raise CheckpointError(f"corrupted checkpoint: unknown dtype {node.get('name')!r}")
            return dt
        if kind == "device":
            return backend.device(_field(node, "value", str))
        if kind in ("bytes", "bytearray"):
            try:
                data = bytes.fromhex(_field(node, "hex", str))
            except ValueError:
                raise CheckpointError("corrupted checkpoint: bad hex in a bytes value") from None
            return data if kind == "bytes" else bytearray(data)
        if kind == "slice":
            items = _field(node, "items", list)
            if len(items) != 3:
                raise CheckpointError("corrupted checkpoint: bad slice")
            return slice(*(self.decode(v) for v in items))
        raise CheckpointError(f"corrupted checkpoint: unknown node type {kind!r} in data.json")


def _field(rec, key, kind):
    if not isinstance(rec, dict) or key not in rec:
        raise CheckpointError(f"corrupted checkpoint: missing field {key!r} in data.json")
    v = rec[key]
    if not isinstance(v, kind) or (kind is int and isinstance(v, bool)):
        raise CheckpointError(f"corrupted checkpoint: field {key!r} should be {kind.__name__}, got {v!r}")
    return v


def load(zf, map_location, mm):
    raw = read_member(zf, HEADER_NAME)
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise CheckpointError(f"corrupted checkpoint: data.json is not valid JSON ({exc})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise CheckpointError("corrupted checkpoint: data.json does not describe an ember checkpoint")
    version = header.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise RuntimeError(
            f"this checkpoint uses ember format version {version!r}; this ember reads versions up to "
            f"{FORMAT_VERSION} (upgrade ember to load it)"
        )
    dec = _Decoder(zf, header, map_location, mm)
    try:
        obj = dec.decode(header.get("root"))
    except RecursionError:
        raise CheckpointError("corrupted checkpoint: data.json is nested too deeply") from None
    except TypeError as exc:  # e.g. an unhashable dict key
        raise CheckpointError(f"corrupted checkpoint: bad value in data.json ({exc})") from None
    link_views(dec.made)
    return obj
