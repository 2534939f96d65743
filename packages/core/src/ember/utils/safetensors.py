"""Reading and writing the safetensors format (as ``safetensors.torch`` does), without the package.

A file is an 8-byte little-endian header length, a JSON header
``{name: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {str: str}}``
and the data buffer that the offsets point into.
"""

from __future__ import annotations

import itertools
import json
import os
import struct

import numpy as np

from .. import backend, dtypes
from ..tensor import Tensor

__all__ = ["SafetensorError", "load", "load_file", "save", "save_file"]

_MAX_HEADER = 100_000_000  # as the reference implementation

_TO_CODE = {
    "float64": "F64", "float32": "F32", "float16": "F16", "int64": "I64", "int32": "I32", "int16": "I16",
    "int8": "I8", "uint8": "U8", "bool": "BOOL", "complex64": "C64", "complex128": "C128", "bfloat16": "BF16",
}
_FROM_CODE = {code: dtypes._NAMES[name] for name, code in _TO_CODE.items()}
_UNSUPPORTED = {"U16": "uint16", "U32": "uint32", "U64": "uint64", "F8_E4M3": "float8_e4m3fn",
                "F8_E5M2": "float8_e5m2", "F8_E8M0": "float8_e8m0fnu", "F4": "float4", "F6_E2M3": "float6",
                "F6_E3M2": "float6"}


class SafetensorError(ValueError):
    """The file or the tensors to save break the safetensors format."""


# ---- writing ----------------------------------------------------------------------------------------

def _host_bytes(name, t):
    if not isinstance(t, Tensor):
        raise SafetensorError(f"Key `{name}` is invalid, expected ember.Tensor but received {type(t)}")
    if not t.is_contiguous():
        raise SafetensorError(
            f"You are trying to save a non contiguous tensor: `{name}` which is not allowed. It either means you "
            "are trying to save tensors which are reference of each other in which case it's recommended to save "
            "only the full tensors, and reslice at load time, or simply call `.contiguous()` on your tensor to "
            "pack it before saving."
        )
    arr = t._data if isinstance(t._data, np.ndarray) else t._data.get()
    return np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<"), copy=False).reshape(-1).view(np.uint8)


def _check_shared(tensors):
    spans = []
    for name, t in tensors.items():
        a = t._data
        if a.size == 0:
            continue
        ptr = a.__array_interface__["data"][0] if isinstance(a, np.ndarray) else a.data.ptr
        spans.append((str(t.device), ptr, ptr + a.nbytes, name))
    spans.sort()
    failing, group = [], []
    for sp in spans:
        if group and sp[0] == group[-1][0] and sp[1] < max(g[2] for g in group):
            group.append(sp)
        else:
            if len(group) > 1:
                failing.append({g[3] for g in group})
            group = [sp]
    if len(group) > 1:
        failing.append({g[3] for g in group})
    if failing:
        raise RuntimeError(
            "Some tensors share memory, this will lead to duplicate memory on disk and potential differences "
            f"when loading them again: {failing}. Save copies (t.clone()) of the tensors, or only one of them."
        )


def _prepare(tensors, metadata):
    if not isinstance(tensors, dict):
        raise SafetensorError(f"Expected a dict of [str, ember.Tensor] but received {type(tensors)}")
    for k in tensors:
        if not isinstance(k, str):
            raise SafetensorError(f"tensor names must be strings, got {k!r}")
        if k == "__metadata__":
            raise SafetensorError("'__metadata__' is reserved and can't be a tensor name")
    if metadata is not None and (
        not isinstance(metadata, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())
    ):
        raise SafetensorError(f"metadata must be a dict of str to str, got {metadata!r:.200}")
    _check_shared({k: v for k, v in tensors.items() if isinstance(v, Tensor)})
    blobs = {name: _host_bytes(name, t) for name, t in tensors.items()}
    # largest elements first, then by name: every tensor stays aligned to its element size
    order = sorted(tensors, key=lambda n: (-tensors[n]._data.itemsize, n))
    header = {} if not metadata else {"__metadata__": dict(metadata)}
    off = 0
    for name in order:
        t = tensors[name]
        code = _TO_CODE.get(t.dtype.name)
        if code is None:
            raise SafetensorError(f"can't save tensor `{name}` of dtype {t.dtype} in safetensors")
        n = blobs[name].nbytes
        header[name] = {"dtype": code, "shape": list(t._data.shape), "data_offsets": [off, off + n]}
        off += n
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((-len(text)) % 8)
    return struct.pack("<Q", len(text)) + text, [blobs[n] for n in order]


def save(tensors, metadata=None) -> bytes:
    """The safetensors bytes of ``tensors`` (a dict of name -> contiguous tensor)."""
    head, blobs = _prepare(tensors, metadata)
    return head + b"".join(b.tobytes() for b in blobs)


def save_file(tensors, filename, metadata=None) -> None:
    """Write ``tensors`` (a dict of name -> contiguous tensor) to ``filename`` in safetensors format."""
    head, blobs = _prepare(tensors, metadata)
    with open(os.fspath(filename), "wb") as fh:
        fh.write(head)
        fh.writelines(memoryview(b) for b in blobs)


# ---- reading ----------------------------------------------------------------------------------------

def _parse(buf, where):
    """Header dict and data start of a safetensors buffer (a 1-D uint8 array), after validating it."""
    size = buf.nbytes
    if size < 8:
        raise SafetensorError(f"{where}: file is too small ({size} bytes) to be a safetensors file (header too small)")
    n = int.from_bytes(buf[:8].tobytes(), "little")
    if n > _MAX_HEADER:
        raise SafetensorError(f"{where}: header length {n} is too large (corrupted or not a safetensors file)")
    if 8 + n > size:
        raise SafetensorError(f"{where}: header length {n} runs past the end of the file ({size} bytes): truncated?")
    raw = buf[8:8 + n].tobytes()
    if not raw.startswith(b"{"):
        raise SafetensorError(f"{where}: invalid header start (not a safetensors file)")
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise SafetensorError(f"{where}: invalid JSON in header: {exc}") from None
    if not isinstance(header, dict):
        raise SafetensorError(f"{where}: the header is not a JSON object")
    meta = header.pop("__metadata__", None)
    if meta is not None and (
        not isinstance(meta, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items())
    ):
        raise SafetensorError(f"{where}: __metadata__ must map strings to strings")
    data_len = size - 8 - n
    spans = []
    for name, info in header.items():
        if not isinstance(info, dict):
            raise SafetensorError(f"{where}: entry {name!r} is not an object")
        code, shape, offs = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if code in _UNSUPPORTED:
            raise SafetensorError(f"{where}: tensor {name!r} has dtype {code} ({_UNSUPPORTED[code]}), which ember lacks")
        if code not in _FROM_CODE:
            raise SafetensorError(f"{where}: tensor {name!r} has an unknown dtype {code!r}")
        if not isinstance(shape, list) or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape):
            raise SafetensorError(f"{where}: tensor {name!r} has an invalid shape {shape!r}")
        if (not isinstance(offs, list) or len(offs) != 2
                or not all(isinstance(o, int) and not isinstance(o, bool) for o in offs)):
            raise SafetensorError(f"{where}: tensor {name!r} has invalid data_offsets {offs!r}")
        begin, end = offs
        itemsize = _FROM_CODE[code].itemsize
        numel = 1
        for s in shape:
            numel *= s
        if not 0 <= begin <= end:
            raise SafetensorError(f"{where}: tensor {name!r} has invalid data_offsets [{begin}, {end}]")
        if end > data_len:
            raise SafetensorError(
                f"{where}: tensor {name!r} needs bytes [{begin}, {end}) but the data buffer holds only {data_len} "
                "bytes: truncated?"
            )
        if end - begin != numel * itemsize:
            raise SafetensorError(
                f"{where}: tensor {name!r} of shape {shape} and dtype {code} needs {numel * itemsize} bytes, "
                f"but its data_offsets span {end - begin}"
            )
        spans.append((begin, end, name))
    spans.sort()
    for (b0, e0, n0), (b1, e1, n1) in itertools.pairwise(spans):
        if b1 < e0:
            raise SafetensorError(f"{where}: tensors {n0!r} and {n1!r} overlap in the data buffer")
    if spans and spans[-1][1] != data_len:
        raise SafetensorError(
            f"{where}: the data buffer holds {data_len} bytes but the tensors use {spans[-1][1]} (incomplete metadata)"
        )
    return header, meta, 8 + n


def _build(buf, where, device="cpu"):
    header, _, start = _parse(buf, where)
    dev = backend.canonical_device(device if not isinstance(device, int) else backend.device("cuda", device))
    out = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        shape = tuple(info["shape"])
        seg = buf[start + begin:start + end]
        if info["dtype"] == "BF16":  # little-endian 16-bit words; ml_dtypes' bfloat16 has no byte order
            arr = np.frombuffer(seg.tobytes(), "<u2").astype(np.uint16).view(dtypes.bfloat16.np).reshape(shape)
        else:
            dt = _FROM_CODE[info["dtype"]].np
            little = dt.newbyteorder("<")
            if seg.ctypes.data % dt.alignment:
                seg = seg.copy()
            arr = seg.view(little).reshape(shape)
            if little != dt:  # big-endian host
                arr = arr.astype(dt)
        out[name] = Tensor._make(backend.to_device(arr, dev))
    return out


def load(data: bytes):
    """The tensors (on the CPU) of safetensors ``data``."""
    buf = np.frombuffer(bytearray(data), np.uint8)
    return _build(buf, "safetensors data")


def load_file(filename, device="cpu"):
    """The tensors in the safetensors file ``filename``, as a dict of name -> tensor on ``device``."""
    path = os.fspath(filename)
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        buf = np.empty(size, np.uint8)
        got = fh.readinto(memoryview(buf))
    if got != size:
        raise SafetensorError(f"{path!r}: short read ({got} of {size} bytes)")
    return _build(buf, repr(path), device)
