"""Compile CUDA C to PTX with NVRTC through ctypes (no GPU or driver needed), for tests.

NVRTC comes from the ``nvidia-cuda-nvrtc-cu12`` wheel (what ``cupy-cuda12x`` uses) or a CUDA toolkit on the
library path; ``load()`` returns None when neither is there.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os


def _candidates():
    try:
        import nvidia.cuda_nvrtc as pkg  # the pip wheel's namespace package

        for root in pkg.__path__:
            yield from sorted(glob.glob(os.path.join(root, "lib", "libnvrtc.so*")))
    except ImportError:
        pass
    found = ctypes.util.find_library("nvrtc")
    if found:
        yield found
    yield "libnvrtc.so.12"


def load():
    """The NVRTC library (a ctypes CDLL), or None when it isn't installed."""
    for path in _candidates():
        if "builtins" in os.path.basename(path) or ".alt." in os.path.basename(path):
            continue
        try:
            return ctypes.CDLL(path)
        except OSError:
            continue
    return None


def version(lib):
    major, minor = ctypes.c_int(), ctypes.c_int()
    _check(lib, lib.nvrtcVersion(ctypes.byref(major), ctypes.byref(minor)))
    return major.value, minor.value


def _check(lib, status, prog=None):
    if status != 0:
        lib.nvrtcGetErrorString.restype = ctypes.c_char_p
        msg = lib.nvrtcGetErrorString(status).decode()
        if prog is not None:
            msg += "\n" + program_log(lib, prog)
        raise RuntimeError(f"NVRTC: {msg}")


def program_log(lib, prog):
    size = ctypes.c_size_t()
    lib.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
    buf = ctypes.create_string_buffer(size.value)
    lib.nvrtcGetProgramLog(prog, buf)
    return buf.value.decode(errors="replace")


def compile_ptx(lib, source, options=(), name="ember_kernels.cu"):
    """``(ptx, log)``: ``source`` compiled with ``options`` (e.g. ``-arch=compute_80``); RuntimeError with the
    compiler's log when it fails."""
    prog = ctypes.c_void_p()
    _check(lib, lib.nvrtcCreateProgram(ctypes.byref(prog), source.encode(), name.encode(), 0, None, None))
    try:
        opts = (ctypes.c_char_p * len(options))(*[o.encode() for o in options])
        _check(lib, lib.nvrtcCompileProgram(prog, len(options), opts), prog)
        log = program_log(lib, prog)
        size = ctypes.c_size_t()
        _check(lib, lib.nvrtcGetPTXSize(prog, ctypes.byref(size)))
        buf = ctypes.create_string_buffer(size.value)
        _check(lib, lib.nvrtcGetPTX(prog, buf))
        return buf.value.decode(), log
    finally:
        lib.nvrtcDestroyProgram(ctypes.byref(prog))
