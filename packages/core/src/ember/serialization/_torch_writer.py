"""Writing checkpoints in PyTorch's zip format, so ``torch.load`` reads what ``ember.save`` wrote.

The archive holds, under one top folder (the file's stem, or ``archive`` for a buffer), as PyTorch writes:
``data.pkl`` (the object pickled with protocol 2), ``.format_version``, ``.storage_alignment``, ``byteorder``,
``data/<key>`` (the raw bytes of each storage, 64-byte aligned), ``version`` and ``.data/serialization_id``.

Tensors are pickled as PyTorch pickles them: ``torch._utils._rebuild_tensor_v2`` called on a persistent
id ``('storage', torch.<Type>Storage, key, location, numel)``; parameters through
``torch._utils._rebuild_parameter``; dtypes, devices and sizes as ``torch.float32``, ``torch.device`` and
``torch.Size``. Torch names are written as plain references; ember never imports torch. Other objects
(NumPy arrays, ember modules, ...) are pickled by reference to their classes, as ``pickle`` does.
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import sys
import zipfile

import numpy as np

from .. import backend, dtypes
from ..size import Size
from ..tensor import Tensor
from . import _format

_STORAGE_NAMES = {
    dtypes.float32: "FloatStorage", dtypes.float64: "DoubleStorage", dtypes.float16: "HalfStorage",
    dtypes.int64: "LongStorage", dtypes.int32: "IntStorage", dtypes.int16: "ShortStorage", dtypes.int8: "CharStorage",
    dtypes.uint8: "ByteStorage", dtypes.bool_: "BoolStorage", dtypes.complex64: "ComplexFloatStorage",
    dtypes.complex128: "ComplexDoubleStorage", dtypes.bfloat16: "BFloat16Storage",
}


class _TorchGlobal:
    """A reference to a torch name (``torch._utils._rebuild_tensor_v2``), written as a pickle GLOBAL."""

    __slots__ = ("module", "name")

    def __init__(self, module, name):
        self.module, self.name = module, name


_GLOBALS: dict = {}


def _g(module, name):
    key = (module, name)
    ref = _GLOBALS.get(key)
    if ref is None:
        ref = _GLOBALS[key] = _TorchGlobal(module, name)
    return ref


class _Call:
    """``func(*args)`` in the pickle (a REDUCE of a torch global)."""

    __slots__ = ("args", "func")

    def __init__(self, func, args):
        self.func, self.args = func, args


class _StorageRef:
    __slots__ = ("pid",)

    def __init__(self, pid):
        self.pid = pid


class _Plan:
    """Where every tensor's array goes: a storage (key, dtype, group) and an element offset."""

    def __init__(self):
        self.encoder = _format._Encoder()
        self.placed = {}  # id(array) -> (array, group, ptr)
        self.keep = []
        self.storages = []  # (key, group_or_array, dtype, location, numel)
        self.assigned = {}  # id(group) -> (key, dtype)
        self.own = {}  # id(array) -> key of a storage of its own

    def collect(self, t):
        arr = t._data
        if id(arr) not in self.placed:
            self.keep.append(arr)
            _, g, ptr = self.encoder._place(Tensor._make(arr))
            self.placed[id(arr)] = (arr, g, ptr)

    def locate(self, t):
        """(persistent id, element offset, size, stride) of tensor ``t``."""
        arr = t._data
        entry = self.placed.get(id(arr))
        if entry is None:  # created while pickling (not seen by the first pass): give it a storage
            self.collect(t)
            entry = self.placed[id(arr)]
        _, g, ptr = entry
        dt = t.dtype
        isz = arr.itemsize
        if g is not None:
            have = self.assigned.get(id(g))
            fits = (ptr - g.lo) % isz == 0 and (g.hi - g.lo) % isz == 0 and (have is None or have[1] == dt)
            if fits:
                if have is None:
                    key = str(len(self.storages))
                    self.assigned[id(g)] = (key, dt)
                    self.storages.append((key, g, dt, _location(g.device), (g.hi - g.lo) // isz))
                key = self.assigned[id(g)][0]
                numel = (g.hi - g.lo) // isz
                return self._pid(key, dt, _location(g.device), numel), (ptr - g.lo) // isz, arr.shape, \
                    tuple(s // isz for s in arr.strides)
        # an empty tensor, or memory that can't be shared with its storage's dtype: a compact copy of its own
        key = self.own.get(id(arr))
        xp = backend.array_module(arr)
        compact = xp.ascontiguousarray(arr)
        if key is None:
            key = self.own[id(arr)] = str(len(self.storages))
            self.keep.append(compact)
            self.storages.append((key, compact, dt, _location(backend.device_of(arr)), compact.size))
        strides, step = [], 1
        for n in reversed(arr.shape):  # contiguous strides (an empty array's own may be zeros)
            strides.insert(0, step)
            step *= max(n, 1)
        strides = tuple(strides)
        return self._pid(key, dt, _location(backend.device_of(arr)), compact.size), 0, arr.shape, strides

    @staticmethod
    def _pid(key, dt, location, numel):
        name = _STORAGE_NAMES.get(dt)
        if name is None:
            raise TypeError(f"ember.save: can't save a tensor of dtype {dt}")
        return _StorageRef(("storage", _g("torch", name), key, location, numel))


def _location(dev) -> str:
    dev = backend.canonical_device(dev)
    return "cpu" if dev.type == "cpu" else f"cuda:{dev.index or 0}"


class _Pickler(pickle._Pickler):
    """The pure-Python pickler (whose ``save`` can be extended), writing torch's names for ember's objects."""

    def __init__(self, file, protocol, plan, collecting):
        super().__init__(file, protocol)
        self.plan, self.collecting = plan, collecting

    def persistent_id(self, obj):
        return obj.pid if type(obj) is _StorageRef else None

    def save(self, obj, save_persistent_id=True):
        kind = type(obj)
        if kind is _TorchGlobal:
            if not self._memo_hit(obj):
                self.write(pickle.GLOBAL + obj.module.encode() + b"\n" + obj.name.encode() + b"\n")
                self.memoize(obj)
            return
        if kind is _Call:
            self.save(obj.func)
            self.save(obj.args)
            self.write(pickle.REDUCE)
            return
        if isinstance(obj, Tensor):
            if not self._memo_hit(obj):
                self._save_tensor(obj)
                self.memoize(obj)
            return
        if kind is dtypes.dtype:
            self.save(_g("torch", "bool" if obj is dtypes.bool_ else obj.name))
            return
        if kind is backend.device:
            args = (obj.type,) if obj.index is None else (obj.type, obj.index)
            self.save(_Call(_g("torch", "device"), args))
            return
        if kind is Size:
            self.save(_Call(_g("torch", "Size"), (tuple(obj),)))
            return
        super().save(obj, save_persistent_id)

    def _memo_hit(self, obj) -> bool:
        x = self.memo.get(id(obj))
        if x is None:
            return False
        self.write(self.get(x[0]))
        return True

    def _save_tensor(self, t):
        from ..nn.parameter import Parameter, UninitializedBuffer, UninitializedParameter

        if isinstance(t, (UninitializedParameter, UninitializedBuffer)):  # no data: PyTorch pickles the class
            self.save(_Call(_g("torch.nn.parameter", type(t).__name__), (bool(t.requires_grad),)))
            return
        if t.device.type == "meta":
            raise NotImplementedError("ember.save can't save a tensor on the meta device (it has no data)")
        if self.collecting:
            self.plan.collect(t)
            self.write(pickle.NONE)
            return
        if isinstance(t, Parameter):
            inner = Tensor._make(t._data)
            self.save(_Call(_g("torch._utils", "_rebuild_parameter"),
                            (inner, bool(t.requires_grad), collections.OrderedDict())))
            return
        pid, offset, size, stride = self.plan.locate(t)
        self.save(_Call(_g("torch._utils", "_rebuild_tensor_v2"),
                        (pid, offset, tuple(size), tuple(stride), bool(t.requires_grad), collections.OrderedDict())))


def _serialization_id() -> str:
    return "".join(str(b % 10) for b in os.urandom(40))


def save(obj, f, archive_name: str = "archive", protocol: int = 2) -> None:
    """Write ``obj`` to the binary file ``f`` in PyTorch's zip format."""
    plan = _Plan()
    _Pickler(io.BytesIO(), protocol, plan, collecting=True).dump(obj)  # first pass: find every tensor
    buf = io.BytesIO()
    _Pickler(buf, protocol, plan, collecting=False).dump(obj)
    data = buf.getvalue()
    prefix = archive_name + "/"
    with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        _format._write_member(zf, prefix + "data.pkl", data, len(data))
        for name, text in ((".format_version", b"1"), (".storage_alignment", b"64"),
                           ("byteorder", sys.byteorder.encode())):
            _format._write_member(zf, prefix + name, text, len(text))
        for key, src, _, _, _ in plan.storages:
            if isinstance(src, _format._Group):
                flat = _format._flat_bytes(src.memory)
                mptr = _format._ptr(src.memory)
                part = flat[src.lo - mptr:src.hi - mptr]
            else:
                part = src.reshape(-1).view(np.uint8) if src.size else np.empty(0, np.uint8)
            if not isinstance(part, np.ndarray):
                part = part.get()  # CuPy: write from a host copy
            _format._write_member(zf, f"{prefix}data/{key}", memoryview(np.ascontiguousarray(part)), part.nbytes)
        _format._write_member(zf, prefix + "version", b"3\n", 2)
        sid = _serialization_id().encode()
        _format._write_member(zf, prefix + ".data/serialization_id", sid, len(sid))
