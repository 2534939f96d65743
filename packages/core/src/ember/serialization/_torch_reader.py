"""Reading PyTorch checkpoints (``torch.save`` files) without PyTorch and without running their pickles.

The pickle inside a PyTorch file is read by an unpickler that only knows a short list of globals
(tensor rebuilders, OrderedDict, dtypes, Size, device, storage types); anything else, such as
``os.system`` in a crafted ``__reduce__``, is refused with ``pickle.UnpicklingError`` before it runs.

Two layouts are read: the zip format (PyTorch >= 1.6: ``<archive>/data.pkl``, ``<archive>/data/<key>``,
``<archive>/byteorder``) and the legacy stream (``_use_new_zipfile_serialization=False``: magic number,
protocol version, system info, pickle, storage keys, then each storage's element count and bytes).
"""

from __future__ import annotations

import _compat_pickle
import builtins
import collections
import io
import pickle
import sys

import numpy as np

from .. import backend, dtypes
from ..size import Size
from ..tensor import Tensor
from ._common import CheckpointError, Storage, link_views, make_tensor, read_member

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001

_STORAGE_DTYPES = {
    "FloatStorage": dtypes.float32,
    "DoubleStorage": dtypes.float64,
    "HalfStorage": dtypes.float16,
    "LongStorage": dtypes.int64,
    "IntStorage": dtypes.int32,
    "ShortStorage": dtypes.int16,
    "CharStorage": dtypes.int8,
    "ByteStorage": dtypes.uint8,
    "BoolStorage": dtypes.bool_,
    "ComplexFloatStorage": dtypes.complex64,
    "ComplexDoubleStorage": dtypes.complex128,
    "BFloat16Storage": dtypes.bfloat16,
}

_TORCH_DTYPES = {
    "float32": dtypes.float32, "float": dtypes.float32, "float64": dtypes.float64, "double": dtypes.float64,
    "float16": dtypes.float16, "half": dtypes.float16, "int64": dtypes.int64, "long": dtypes.int64,
    "int32": dtypes.int32, "int": dtypes.int32, "int16": dtypes.int16, "short": dtypes.int16,
    "int8": dtypes.int8, "uint8": dtypes.uint8, "bool": dtypes.bool_, "complex64": dtypes.complex64,
    "cfloat": dtypes.complex64, "complex128": dtypes.complex128, "cdouble": dtypes.complex128,
    "bfloat16": dtypes.bfloat16,
}
_UNSUPPORTED_DTYPES = ("uint16", "uint32", "uint64", "complex32", "chalf", "float8_e4m3fn",
                       "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu", "qint8", "quint8",
                       "qint32", "quint4x2", "bits8", "bits16")


class UnpicklingError(pickle.UnpicklingError):
    """A global that the restricted unpickler refuses."""


UNSAFE_MESSAGE = (
    "Re-running `ember.load` with `weights_only` set to `False` will likely succeed, but it can result in "
    "arbitrary code execution. Do it only if you got the file from a trusted source."
)


def _unsupported_global(module, name) -> UnpicklingError:
    """PyTorch's weights-only refusal, naming ember's allowlisting functions."""
    full_path = f"{module}.{name}"
    if module == "builtins":
        full_path = name
    return UnpicklingError(
        "Weights only load failed. This file can still be loaded, to do so you have two options, "
        "do those steps only if you trust the source of the checkpoint. "
        f"\n\t(1) {UNSAFE_MESSAGE}\n\t(2) Alternatively, to load with `weights_only=True` please check "
        "the recommended steps in the following error message.\n\tWeightsUnpickler error: "
        f"Unsupported global: GLOBAL {full_path} was not an allowed global by default. "
        f"Please use `ember.serialization.add_safe_globals([{full_path}])` or the "
        f"`ember.serialization.safe_globals([{full_path}])` context manager to allowlist this global "
        "if you trust this class/function."
    )


# globals the user marked safe (ember.serialization.add_safe_globals / safe_globals)
_marked_safe_globals: list = []

# functions of Ember's own packages that rebuild one of their objects from plain data (never listed by
# get_safe_globals: they are part of the format, as torch's tensor rebuilders are)
_library_globals: dict = {}


def register_library_global(fn):
    """Allow ``fn`` in ``weights_only=True`` loads: for Ember's packages, a function that rebuilds one of
    their objects from plain data (strings, numbers, lists, dicts, tensors) and runs nothing else."""
    _library_globals[f"{fn.__module__}.{fn.__qualname__}"] = fn
    return fn


def user_allowed_globals() -> dict:
    rc = {}
    for f in _marked_safe_globals:
        if isinstance(f, tuple):
            if len(f) != 2:
                raise ValueError(
                    f"Expected tuple of length 2 (global, str of callable full path), but got tuple of length: {len(f)}"
                )
            if type(f[1]) is not str:
                raise TypeError(f"Expected second item in tuple to be str of callable full path, but got: {type(f[1])}")
            rc[f[1]] = f[0]
        else:
            rc[f"{f.__module__}.{f.__qualname__}"] = f
    return rc


def _find_unsafe(module, name):
    """``weights_only=False``: any importable global; torch's names map to ember's where ember has them."""
    if module == "torch" or module.startswith("torch."):
        import importlib

        try:
            return getattr(importlib.import_module("ember" + module[len("torch"):]), name)
        except (ImportError, AttributeError):
            raise UnpicklingError(
                f"this checkpoint refers to {module}.{name}, which ember does not have; save a state_dict "
                "(model.state_dict()) in PyTorch and load it with model.load_state_dict(ember.load(path))"
            ) from None
    return None


class _Anything:
    """Stands for any class or function during the first pass over a legacy file loaded with
    ``weights_only=False`` (which only collects the storage records)."""

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        return _Anything()

    def __setstate__(self, state):
        pass

    def append(self, item):
        pass

    def extend(self, items):
        pass

    def __setitem__(self, key, value):
        pass


class _StorageType:
    """What ``torch.FloatStorage`` etc. unpickle to: the element type of a storage."""

    __slots__ = ("dtype", "name")

    def __init__(self, name, dt):
        self.name, self.dtype = name, dt

    def __repr__(self):
        return f"torch.{self.name}"


class _UnsupportedDtype:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"torch.{self.name}"


class _TorchStorage:
    """A storage met in the pickle: raw bytes (``storage``) seen as elements of ``np_dtype``."""

    __slots__ = ("elem_offset", "np_dtype", "numel", "storage")

    def __init__(self, storage, np_dtype, elem_offset=0, numel=None):
        self.storage, self.np_dtype, self.elem_offset, self.numel = storage, np_dtype, elem_offset, numel


def _codecs_encode(obj, encoding="utf-8", errors="strict"):
    """How protocol-2 pickles spell ``bytes``: ``_codecs.encode(str, 'latin1')``."""
    if not isinstance(obj, str) or encoding not in ("latin1", "latin-1", "utf-8", "utf8"):
        raise pickle.UnpicklingError("unsupported _codecs.encode call in the pickle")
    return obj.encode(encoding, errors)


def _torch_device(*args):
    if not args or len(args) > 2:
        raise CheckpointError(f"corrupted checkpoint: bad torch.device arguments {args!r}")
    return backend.device(*args)


class _Loader:
    """State of one load: storages met so far, tensors built, and the allowed globals."""

    def __init__(self, map_location, swap, read_storage, dry=False, weights_only=True):
        self.map_location = map_location
        self.weights_only = weights_only
        self.user_allowed = user_allowed_globals()
        self.swap = swap
        self.read_storage = read_storage  # (key, nbytes) -> 1-D uint8 array
        self.dry = dry  # legacy first pass: only record which storages exist
        self.storages = {}  # key -> (Storage, np dtype)
        self.specs = {}  # legacy: key -> (_StorageType, location, numel)
        self.made = []
        from ..nn.parameter import Parameter

        self.Parameter = Parameter
        allowed = {
            ("collections", "OrderedDict"): collections.OrderedDict,
            ("collections", "Counter"): collections.Counter,
            ("torch._utils", "_rebuild_tensor"): self.rebuild_tensor,
            ("torch._utils", "_rebuild_tensor_v2"): self.rebuild_tensor_v2,
            ("torch._utils", "_rebuild_tensor_v3"): self.rebuild_tensor_v3,
            ("torch._utils", "_rebuild_parameter"): self.rebuild_parameter,
            ("torch._utils", "_rebuild_parameter_with_state"): self.rebuild_parameter_with_state,
            ("torch._tensor", "_rebuild_from_type_v2"): self.rebuild_from_type_v2,
            ("torch", "Tensor"): Tensor,
            ("torch._tensor", "Tensor"): Tensor,
            ("torch.nn.parameter", "Parameter"): Parameter,
            ("torch", "Size"): Size,
            ("torch", "device"): _torch_device,
            ("torch.storage", "UntypedStorage"): _StorageType("UntypedStorage", dtypes.uint8),
            ("torch", "UntypedStorage"): _StorageType("UntypedStorage", dtypes.uint8),
            ("builtins", "set"): builtins.set,
            ("builtins", "frozenset"): builtins.frozenset,
            ("builtins", "complex"): builtins.complex,
            ("builtins", "slice"): builtins.slice,
            ("builtins", "bytearray"): builtins.bytearray,
            ("_codecs", "encode"): _codecs_encode,
        }
        for name, dt in _STORAGE_DTYPES.items():
            allowed[("torch", name)] = _StorageType(name, dt)
        for name, dt in _TORCH_DTYPES.items():
            allowed[("torch", name)] = dt
        for name in _UNSUPPORTED_DTYPES:
            allowed[("torch", name)] = _UnsupportedDtype(name)
        self.allowed = allowed

    # -- unpickling --
    def unpickler(self, file):
        loader = self

        class _Unpickler(pickle.Unpickler):
            def find_class(self, module, name):
                if (module, name) in _compat_pickle.NAME_MAPPING:  # protocol-2 (Python 2) spellings
                    module, name = _compat_pickle.NAME_MAPPING[(module, name)]
                elif module in _compat_pickle.IMPORT_MAPPING:
                    module = _compat_pickle.IMPORT_MAPPING[module]
                obj = loader.allowed.get((module, name))
                if obj is not None:
                    return obj
                obj = loader.user_allowed.get(f"{module}.{name}") or _library_globals.get(f"{module}.{name}")
                if obj is not None:
                    return obj
                if loader.weights_only:
                    raise _unsupported_global(module, name)
                if loader.dry:  # legacy first pass: build nothing of the file's own classes
                    return _Anything
                return _find_unsafe(module, name) or super().find_class(module, name)

            def persistent_load(self, pid):
                return loader.persistent_load(pid)

        return _Unpickler(file, encoding="utf-8")

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or len(pid) not in (5, 6) or pid[0] != "storage":
            raise CheckpointError(f"corrupted checkpoint: unknown persistent id {pid!r:.200}")
        stype, key, location, numel = pid[1:5]
        view = pid[5] if len(pid) == 6 else None
        if not isinstance(stype, _StorageType):
            raise CheckpointError(f"corrupted checkpoint: {stype!r:.100} is not a storage type")
        if not isinstance(key, str) or not isinstance(location, str) or not isinstance(numel, int) or numel < 0:
            raise CheckpointError(f"corrupted checkpoint: bad storage record {pid!r:.200}")
        if self.dry:
            self.specs.setdefault(key, (stype, location, numel))
            return None
        entry = self.storages.get(key)
        if entry is None:
            entry = self.storages[key] = self._load_storage(stype, key, location, numel)
        storage, np_dtype = entry
        if view is None:
            return _TorchStorage(storage, np_dtype)
        if not isinstance(view, tuple) or len(view) != 3:
            raise CheckpointError(f"corrupted checkpoint: bad storage view {view!r:.200}")
        _, offset, size = view
        if not all(isinstance(v, int) and v >= 0 for v in (offset, size)) or offset + size > numel:
            raise CheckpointError(f"corrupted checkpoint: storage view {view!r:.200} is outside its storage")
        return _TorchStorage(storage, np_dtype, offset, size)

    def _load_storage(self, stype, key, location, numel):
        dt = stype.dtype
        raw = self.read_storage(key, numel * dt.itemsize)
        if dt is dtypes.bfloat16 and self.swap:  # byte-swapped as 16-bit words here: ml_dtypes has no byteswap
            raw = raw.view(np.uint16).byteswap().view(np.uint8)
        return Storage(raw, location, self.map_location), (dt.np, self.swap and dt is not dtypes.bfloat16)

    # -- tensor rebuilders (the only callables the pickle may reach) --
    def _view(self, storage, storage_offset, size, stride, np_dtype=None):
        if self.dry:
            return None
        if not isinstance(storage, _TorchStorage):
            raise CheckpointError(f"corrupted checkpoint: a tensor's storage is a {type(storage).__name__}")
        if not isinstance(storage_offset, int) or not isinstance(size, (tuple, list)) or not isinstance(stride, (tuple, list)):
            raise CheckpointError("corrupted checkpoint: bad tensor offset, size or stride")
        st_dtype, swap = storage.np_dtype
        if np_dtype is None:
            np_dtype = st_dtype
        offset = (storage.elem_offset * st_dtype.itemsize) + storage_offset * np.dtype(np_dtype).itemsize
        t = make_tensor(storage.storage, np_dtype, offset, list(size), list(stride), swap)
        self.made.append((t, storage.storage))
        return t

    def rebuild_tensor(self, storage, storage_offset, size, stride):
        return self._view(storage, storage_offset, size, stride)

    def rebuild_tensor_v2(self, storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                          metadata=None):
        t = self._view(storage, storage_offset, size, stride)
        if t is not None and requires_grad:
            t.requires_grad_(bool(requires_grad))
        return t

    def rebuild_tensor_v3(self, storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype,
                          metadata=None):
        if isinstance(dtype, _UnsupportedDtype):
            raise RuntimeError(  # noqa: TRY004  (a file PyTorch wrote fine; RuntimeError as PyTorch's load errors)
                f"this PyTorch checkpoint holds a {dtype!r} tensor; ember has no {dtype.name} dtype "
                "(convert it in PyTorch first, e.g. t.float())"
            )
        if not isinstance(dtype, dtypes.dtype):
            raise CheckpointError(f"corrupted checkpoint: {dtype!r:.100} is not a dtype")
        t = self._view(storage, storage_offset, size, stride, dtype.np)
        if t is not None and requires_grad:
            t.requires_grad_(bool(requires_grad))
        return t

    def rebuild_parameter(self, data, requires_grad, backward_hooks=None):
        if self.dry:
            return None
        if not isinstance(data, Tensor):
            raise CheckpointError("corrupted checkpoint: a Parameter's data is not a tensor")
        p = self.Parameter(data, bool(requires_grad))
        self.made.append((p, self.made[-1][1] if self.made and self.made[-1][0] is data else None))
        return p

    def rebuild_parameter_with_state(self, data, requires_grad, backward_hooks, state):
        return self.rebuild_parameter(data, requires_grad, backward_hooks)

    def rebuild_from_type_v2(self, func, new_type, args, state):
        if not callable(func) or not isinstance(args, tuple):
            raise CheckpointError("corrupted checkpoint: bad _rebuild_from_type_v2 call")
        ret = func(*args)
        if self.dry:
            return None
        if new_type is self.Parameter and isinstance(ret, Tensor) and not isinstance(ret, self.Parameter):
            ret = self.rebuild_parameter(ret, ret.requires_grad)
        elif new_type not in (Tensor, self.Parameter):
            raise CheckpointError(f"corrupted checkpoint: can't rebuild a tensor of type {new_type!r:.100}")
        return ret


def _wrap_errors(fn):
    try:
        return fn()
    except (UnpicklingError, CheckpointError, NotImplementedError):
        raise
    except RecursionError:
        raise CheckpointError("corrupted checkpoint: the pickle is nested too deeply") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, KeyError, IndexError, AttributeError,
            OverflowError, UnicodeDecodeError, MemoryError) as exc:
        raise CheckpointError(f"corrupted or truncated PyTorch checkpoint: {type(exc).__name__}: {exc}") from None


# ---- zip format -------------------------------------------------------------------------------------

def find_pickle(names):
    """The ``<archive>/data.pkl`` record of a PyTorch zip, or None."""
    pkls = [n for n in names if n.endswith("data.pkl") and n.count("/") <= 1 and n.rsplit("/", 1)[-1] == "data.pkl"]
    return pkls[0] if pkls else None


def load_zip(zf, map_location, mm, weights_only=True):
    names = zf.namelist()
    pkl = find_pickle(names)
    prefix = pkl[: -len("data.pkl")]
    byteorder = "little"
    if prefix + "byteorder" in names:
        byteorder = read_member(zf, prefix + "byteorder").tobytes().decode("ascii", "replace").strip()
        if byteorder not in ("little", "big"):
            raise CheckpointError(f"corrupted checkpoint: unknown byte order {byteorder!r}")

    def read_storage(key, nbytes):
        if "/" in key or key in ("", ".", ".."):
            raise CheckpointError(f"corrupted checkpoint: bad storage key {key!r}")
        return read_member(zf, f"{prefix}data/{key}", nbytes, mm)

    loader = _Loader(map_location, byteorder != sys.byteorder, read_storage, weights_only=weights_only)
    data = read_member(zf, pkl).tobytes()
    obj = _wrap_errors(lambda: loader.unpickler(io.BytesIO(data)).load())
    link_views(loader.made)
    return obj


# ---- legacy stream ----------------------------------------------------------------------------------

def load_legacy(f, map_location, mmap, weights_only=True):
    if mmap:
        raise RuntimeError(
            "mmap can only be used with files saved with `torch.save(_use_new_zipfile_serialization=True)`, "
            "please torch.save your checkpoint with this option in order to use mmap."
        )
    probe = _Loader(map_location, False, None, dry=True)

    def header():
        magic = probe.unpickler(f).load()
        if magic != MAGIC_NUMBER:
            raise CheckpointError("Invalid magic number; corrupt file?")
        protocol = probe.unpickler(f).load()
        if protocol != PROTOCOL_VERSION:
            raise CheckpointError(f"Invalid protocol version: {protocol!r}")
        info = probe.unpickler(f).load()
        if not isinstance(info, dict):
            raise CheckpointError("corrupted checkpoint: bad system info record")
        return info

    info = _wrap_errors(header)
    little = info.get("little_endian", True)
    order = "little" if little else "big"
    start = f.tell()
    probe.weights_only = weights_only
    _wrap_errors(lambda: probe.unpickler(f).load())  # first pass: which storages exist
    keys = _wrap_errors(lambda: probe.unpickler(f).load())
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise CheckpointError("corrupted checkpoint: bad storage key list")
    raw = {}
    here = f.tell()
    f.seek(0, 2)
    end = f.tell()
    f.seek(here)
    for key in keys:
        if key not in probe.specs:
            raise CheckpointError(f"corrupted checkpoint: storage {key!r} is listed but never used")
        stype, _, numel = probe.specs[key]
        head = f.read(8)
        if len(head) != 8:
            raise CheckpointError(f"truncated checkpoint: storage {key!r} is missing")
        count = int.from_bytes(head, order, signed=True)
        if count != numel:
            raise CheckpointError(f"corrupted checkpoint: storage {key!r} holds {count} elements, expected {numel}")
        nbytes = numel * stype.dtype.itemsize
        if f.tell() + nbytes > end:
            raise CheckpointError(f"truncated checkpoint: storage {key!r} runs past the end of the file")
        buf = np.empty(nbytes, np.uint8)
        got = f.readinto(memoryview(buf)) if hasattr(f, "readinto") else None
        if got is None:
            data = f.read(nbytes)
            got = len(data)
            buf[:got] = np.frombuffer(data, np.uint8)
        if got != nbytes:
            raise CheckpointError(f"truncated checkpoint: storage {key!r} is cut short ({got} of {nbytes} bytes)")
        raw[key] = buf
    missing = set(probe.specs) - set(raw)
    if missing:
        raise CheckpointError(f"corrupted checkpoint: no data for storages {sorted(missing)}")

    def read_storage(key, nbytes):
        if raw[key].nbytes != nbytes:
            raise CheckpointError(f"corrupted checkpoint: storage {key!r} is used with two different sizes")
        return raw[key]

    loader = _Loader(map_location, order != sys.byteorder, read_storage, weights_only=weights_only)
    f.seek(start)
    obj = _wrap_errors(lambda: loader.unpickler(f).load())
    link_views(loader.made)
    return obj
