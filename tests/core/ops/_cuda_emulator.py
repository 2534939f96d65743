"""Run ember's CUDA kernel source on the CPU, for tests: the same text, built as C++ with g++.

A small shim defines what the kernels use of CUDA (``threadIdx``/``blockIdx``/``blockDim``/``gridDim``,
``__syncthreads``, ``__shared__``, ``__int_as_float``); ``launch`` runs every block of a grid in turn, each
block's threads as real OS threads meeting at a ``std::barrier`` for ``__syncthreads`` (shared arrays are
function statics: one block at a time shares them). So the strided loops and the shared-memory reductions
really run with many threads, and a wrongly placed barrier deadlocks or gives wrong sums here as on a GPU.
What this cannot check: warp-level timing, memory coalescing, and CUDA's own libm (its ``expf``/``erff``/
``tanhf`` differ from glibc's by a few ulp).
"""

from __future__ import annotations

import ctypes
import re
import shutil
import subprocess

import numpy as np

_SHIM = r"""
#include <barrier>
#include <cmath>
#include <cstring>
#include <math.h>
#include <thread>
#include <type_traits>
#include <vector>

struct ember_dim3 { unsigned x, y, z; };
static thread_local ember_dim3 threadIdx, blockIdx;
static ember_dim3 blockDim, gridDim;
static std::barrier<>* ember_barrier;

#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static
static inline void __syncthreads() { ember_barrier->arrive_and_wait(); }
static inline float __int_as_float(unsigned v) { float f; std::memcpy(&f, &v, sizeof f); return f; }

template <typename... A>
static void ember_emulate(void (*kernel)(A...), unsigned grid, unsigned block, std::type_identity_t<A>... args) {
    std::barrier<> bar(block);
    ember_barrier = &bar;
    blockDim = {block, 1, 1};
    gridDim = {grid, 1, 1};
    for (unsigned b = 0; b < grid; ++b) {
        std::vector<std::thread> threads;
        threads.reserve(block);
        for (unsigned t = 0; t < block; ++t)
            threads.emplace_back([=] { threadIdx = {t, 0, 0}; blockIdx = {b, 0, 0}; kernel(args...); });
        for (auto& th : threads) th.join();
    }
}
"""

_KERNEL = re.compile(r'extern "C" __global__ void (\w+)\(([^)]*)\)', re.S)
_CTYPES = {"long long": ctypes.c_longlong, "int": ctypes.c_int, "float": ctypes.c_float}
_SCALARS = {"long long": np.int64, "int": np.int32, "float": np.float32}


def kernel_signatures(source):
    """``{name: [(c_type, arg_name), ...]}`` of every ``extern "C" __global__`` kernel in ``source``."""
    out = {}
    for name, params in _KERNEL.findall(source):
        args = []
        for p in params.split(","):
            p = " ".join(p.split())
            ctype, _, arg = p.rpartition(" ")
            if arg.startswith("*"):
                ctype, arg = ctype + "*", arg[1:]
            args.append((ctype.replace(" *", "*"), arg))
        out[name] = args
    return out


def compiler():
    """The C++ compiler to build with, or None."""
    return shutil.which("g++")


class Emulator:
    """A ``_cuda_kernels`` launcher over NumPy arrays, backed by ``source`` compiled into ``workdir``."""

    def __init__(self, source, workdir):
        self.signatures = kernel_signatures(source)
        wrappers = []
        for name, args in self.signatures.items():
            params = ", ".join(f"{t} {a}" for t, a in args)
            names = ", ".join(a for _, a in args)
            wrappers.append(f'extern "C" void run_{name}(unsigned grid, unsigned block, {params}) '
                            f"{{ ember_emulate({name}, grid, block, {names}); }}")
        cpp = workdir / "kernels_emulated.cpp"
        lib = workdir / "kernels_emulated.so"
        cpp.write_text(_SHIM + source + "\n" + "\n".join(wrappers) + "\n")
        subprocess.run([compiler(), "-std=c++20", "-O1", "-shared", "-fPIC", "-pthread", str(cpp), "-o", str(lib)],
                       check=True, capture_output=True, text=True)
        self.lib = ctypes.CDLL(str(lib))
        self.launches = []

    def accepts(self, arrays):
        return all(type(a) is np.ndarray for a in arrays)

    def null(self):
        return None

    def launch(self, name, grid, block, args):
        sig = self.signatures[name]
        assert len(args) == len(sig), f"{name}: {len(args)} arguments for {len(sig)} parameters"
        assert block & (block - 1) == 0 and block <= 256, f"{name}: block of {block} threads"
        converted = []
        for (ctype, pname), a in zip(sig, args):
            if ctype.endswith("*"):
                if a is None:
                    converted.append(None)
                    continue
                want = np.int64 if "long long" in ctype else np.float32
                assert isinstance(a, np.ndarray) and a.dtype == want and a.flags.c_contiguous, (name, pname, a)
                converted.append(ctypes.c_void_p(a.ctypes.data))
            else:
                # CuPy packs a scalar by its dtype: it must be the parameter's exact C type
                assert isinstance(a, np.generic) and a.dtype == _SCALARS[ctype], (name, pname, type(a))
                converted.append(_CTYPES[ctype](a.item()))
        self.launches.append(name)
        getattr(self.lib, "run_" + name)(ctypes.c_uint(grid), ctypes.c_uint(block), *converted)
