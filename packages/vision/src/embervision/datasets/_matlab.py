"""A small reader for MATLAB level-5 ``.mat`` files (numeric arrays only), enough for SVHN."""

from __future__ import annotations

import struct
import zlib

import numpy as np

_MI = {1: "i1", 2: "u1", 3: "i2", 4: "u2", 5: "i4", 6: "u4", 7: "f4", 9: "f8", 12: "i8", 13: "u8"}
_MX_CLASS = {6: "f8", 7: "f4", 8: "i1", 9: "u1", 10: "i2", 11: "u2", 12: "i4", 13: "u4", 14: "i8", 15: "u8"}
MI_MATRIX, MI_COMPRESSED = 14, 15


class MatFileError(RuntimeError):
    pass


def _elements(buf: bytes, endian: str, where: str):
    """Yield (type, payload bytes) for each data element in ``buf``."""
    pos = 0
    while pos + 8 <= len(buf):
        mtype, size = struct.unpack_from(endian + "II", buf, pos)
        if mtype >> 16:  # small data element: size in the upper half, data in the next 4 bytes
            size, mtype = mtype >> 16, mtype & 0xFFFF
            yield mtype, buf[pos + 4 : pos + 4 + size]
            pos += 8
            continue
        start, end = pos + 8, pos + 8 + size
        if end > len(buf):
            raise MatFileError(f"{where}: element of {size} bytes runs past the end of the data (truncated file)")
        yield mtype, buf[start:end]
        pos = end if mtype == MI_COMPRESSED else start + ((size + 7) // 8) * 8


def _matrix(payload: bytes, endian: str, where: str):
    parts = list(_elements(payload, endian, where))
    if len(parts) < 4:
        raise MatFileError(f"{where}: incomplete matrix element")
    flags = struct.unpack_from(endian + "I", parts[0][1])[0]
    mx_class = flags & 0xFF
    dims = np.frombuffer(parts[1][1], dtype=endian + "i4")
    name = parts[2][1].decode("ascii", "replace")
    if mx_class not in _MX_CLASS:
        return name, None  # cells, structs, chars, sparse: not needed here
    dtype_code, data = parts[3]
    if dtype_code not in _MI:
        raise MatFileError(f"{where}: unsupported data type {dtype_code} in variable {name!r}")
    arr = np.frombuffer(data, dtype=endian + _MI[dtype_code])
    if arr.size != int(np.prod(dims)):
        raise MatFileError(f"{where}: variable {name!r} has {arr.size} values for dims {tuple(dims)}")
    return name, arr.astype(_MX_CLASS[mx_class]).reshape(tuple(dims), order="F")


def loadmat(path: str) -> dict:
    """Read every numeric array of a level-5 MAT file into a dict of NumPy arrays."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 128:
        raise MatFileError(f"{path}: too short to be a MAT file")
    if raw[:6] == b"\x89HDF\r\n" or raw[128:136] == b"\x89HDF\r\n\x1a\n":
        raise MatFileError(f"{path} is a MATLAB v7.3 (HDF5) file, which this reader does not support")
    endian_mark = raw[126:128]
    if endian_mark == b"IM":
        endian = "<"
    elif endian_mark == b"MI":
        endian = ">"
    else:
        raise MatFileError(f"{path} is not a MATLAB level-5 file (no endian indicator)")
    out = {}
    for mtype, payload in _elements(raw[128:], endian, path):
        if mtype == MI_COMPRESSED:
            try:
                payload = zlib.decompress(payload)
            except zlib.error as exc:
                raise MatFileError(f"{path}: corrupt compressed element ({exc})") from exc
            inner = list(_elements(payload, endian, path))
            if not inner:
                continue
            mtype, payload = inner[0]
        if mtype == MI_MATRIX:
            name, arr = _matrix(payload, endian, path)
            if arr is not None:
                out[name] = arr
    return out


def savemat(path: str, arrays: dict, compress: bool = False) -> None:
    """Write numeric arrays as a level-5 MAT file (used to build small test fixtures)."""
    rev = {v: k for k, v in _MI.items()}
    cls = {v: k for k, v in _MX_CLASS.items()}

    def element(mtype, data):
        pad = (-len(data)) % 8
        return struct.pack("<II", mtype, len(data)) + data + b"\0" * pad

    body = b""
    for name, arr in arrays.items():
        arr = np.asarray(arr)
        code = arr.dtype.str[1:]
        matrix = (
            element(6, struct.pack("<II", cls[code], 0))
            + element(5, np.asarray(arr.shape if arr.ndim >= 2 else (1, arr.size), dtype="<i4").tobytes())
            + element(1, name.encode("ascii"))
            + element(rev[code], arr.astype(arr.dtype.newbyteorder("<")).tobytes(order="F"))
        )
        el = element(MI_MATRIX, matrix)
        body += struct.pack("<II", MI_COMPRESSED, len(zlib.compress(el))) + zlib.compress(el) if compress else el
    header = b"MATLAB 5.0 MAT-file, written by embervision".ljust(116, b" ") + b"\0" * 8 + struct.pack("<H", 0x0100) + b"IM"
    with open(path, "wb") as f:
        f.write(header + body)
