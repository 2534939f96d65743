"""The optional compiled kernels (``pip install ember[fast]``: numba) and how ops reach them.

``kernels()`` gives the module of fused float32 CPU kernels (softmax, log-softmax, layer/RMS/group norm,
GELU, cross-entropy rows, embedding gradient and bags, cummax/cummin, grid sampling taps) or None when
numba is absent or ``EMBER_NO_FAST=1``;
then every op keeps its NumPy path. The kernels are compiled once and cached on disk (numba's
``cache=True``), so only the very first process pays the compile time. ``run_rows`` splits a kernel
call over row ranges on Ember's thread pool (the kernels release the GIL); ``map_blocks`` does the same
for NumPy ufunc passes on cache-sized blocks (the path without numba).
"""

from __future__ import annotations

import os
import platform
import threading

import numpy as np

_MODULE = None
_TRIED = False
_IMPORT_LOCK = threading.Lock()
# elements from which the compiled row kernels are shared out among the threads. Waking a pool thread after an
# idle spell costs this 2-vCPU machine more than it saves below that (one untimed call after 0.15 s idle, then
# timed: 1M elements, GELU fwd+bwd 2.47 ms shared, 1.95 on one thread, softmax 0.94 vs 0.75; 4M: GELU 9.1 vs
# 11.7, softmax 3.9 vs 3.7; 16M: 47 vs 88 and 17 vs 30). No model step changed (MLP, MNIST CNN, M5, transformer).
_PARALLEL_MIN = 1 << 22
# elements from which the NumPy passes of ``ufunc`` / ``map_blocks`` are shared out: memory-bound, they gained
# nothing from a second thread in a busy loop at 1M elements and lost 17-50% after idle spells (tanh 1M: 0.58 vs
# 0.39 ms; 4M: 2.3 vs 2.0; 16M: equal)
_PASS_SHARE_MIN = 1 << 24
# floating-point operations below which ``share_blocks`` runs the work on the calling thread: handing out shares
# and parking BLAS's workers costs ~0.3 ms, more than such work gains from a second thread. Inference after idle
# spells, 2^27 -> 2^26 (VGG's and ResNet's first conv, 113 MFLOP, on two threads): VGG-11-BN 75 -> 66 ms,
# ResNet-18 222 -> 209, M5 4.6 -> 4.3. With each region's threads held on their CPUs (``_parallel.hold_cpu``), on a
# 2-vCPU Zen 3: 2^26 -> 2^24, MNIST's 3x3 1 -> 32 at 28x28, b64 (25 MFLOP) forward 2.66 -> 1.84 ms (PyTorch
# 1.24); M5 and the MNIST CNN unchanged within their spread
_SHARE_MIN_FLOPS = 1 << 24
# OpenBLAS runs a GEMM on its threads from m*n*k = 2**18 (SMP_THRESHOLD_MIN x GEMM_MULTITHREAD_THRESHOLD)
BLAS_THREADED_MIN_FLOPS = 1 << 19
MIN_SIZE = 1 << 12  # elements: below this the NumPy path's few passes are as fast as a kernel call
# ... except where the NumPy path is many passes: softmax and log-softmax rows took 8.5 us in NumPy, 4.7 in the
# kernel on 32 x 35 (M5's classifier output), 15 and 6.5 on 128 x 10
ROWS_MIN_SIZE = 1


def enabled() -> bool:
    """Whether the compiled kernels are in use (numba importable and ``EMBER_NO_FAST`` unset)."""
    return kernels() is not None


def _env_reader(name, off=("", "0")):
    """A function telling whether environment variable ``name`` is set to other than ``off``, read at each call
    (tests and programs set it at run time) from ``os.environ``'s own encoded mapping: ``os.environ.get`` took a
    couple of microseconds, and every op that may take a compiled kernel asks."""
    try:
        data, key = os.environ._data, os.environ.encodekey(name)
        off_values = tuple(os.environ.encodevalue(v) for v in off)
    except AttributeError:  # not CPython's os._Environ
        return lambda: os.environ.get(name, "") not in off
    return lambda: data.get(key, off_values[0]) not in off_values


_no_fast = _env_reader("EMBER_NO_FAST")


def kernels():
    """The compiled-kernel module, or None."""
    global _MODULE, _TRIED
    if _no_fast():
        return None
    if not _TRIED:
        # under a lock, and marked tried only once the import is done: a second thread asking meanwhile (the
        # per-thread convolutions' first call) would otherwise be told there are no kernels
        with _IMPORT_LOCK:
            if not _TRIED:
                try:
                    from . import _fast_kernels
                except ImportError:  # numba (the ``fast`` extra) not installed
                    _fast_kernels = None
                _MODULE = _fast_kernels
                _TRIED = True
    return _MODULE


def usable(*arrays, min_size=MIN_SIZE) -> bool:
    """True when the kernels apply: numba present, and every array a float32 NumPy array (the first
    C-contiguous and at least ``min_size`` elements)."""
    first = arrays[0]
    if type(first) is not np.ndarray or first.size < min_size or not first.flags.c_contiguous:
        return False
    for a in arrays:
        if type(a) is not np.ndarray or a.dtype != np.float32:
            return False
    return kernels() is not None


def _threads():
    from . import _parallel

    return max(1, _parallel.active_threads())  # the pool's owner: fewer than get_num_threads() on a busy CPU


def share(process, n, chunk=None):
    """``process(r0, r1)`` over ``range(n)`` in chunks of ``chunk`` (default: two per thread, few
    hand-overs of the GIL), taken one at a time by the calling thread and by the pool's threads as they
    get to run. The caller waits only for chunks a worker has started: on a busy CPU, where a worker
    may not be scheduled for milliseconds, the caller simply does all the work (a fixed split would
    wait for that worker). The first error is re-raised."""
    if chunk is None:
        chunk = max(1, -(-n // (2 * _threads())))
    chunks = [(r, min(r + chunk, n)) for r in range(0, n, chunk)]
    nt = min(_threads(), len(chunks))
    if nt <= 1:
        for c in chunks:
            process(*c)
        return
    import threading

    from . import _parallel

    it = iter(chunks)  # a list iterator's next() is atomic under the GIL
    lock, done, left, errors = threading.Lock(), threading.Event(), [len(chunks)], []
    caller_cpu = _parallel.current_cpu()

    def work(pooled=False):
        if pooled:  # not on the caller's CPU (see _parallel.move_off_cpu)
            _parallel.move_off_cpu(caller_cpu)
        with _parallel.hold_cpu():
            for c in it:
                try:
                    process(*c)
                except BaseException as e:  # noqa: BLE001  (handed to the caller)
                    errors.append(e)
                with lock:
                    left[0] -= 1
                    if not left[0]:
                        done.set()

    _parallel.submit_all(work, [(True,)] * (nt - 1), caller_cpu)
    with _parallel.hold_cpu():
        work()
        done.wait()
    if errors:
        raise errors[0]


def share_work(process, n, size):
    """``process(0, n)`` on this thread below ``_PARALLEL_MIN`` elements of work (``size``), else
    ``share(process, n)``."""
    if size < _PARALLEL_MIN or n < 2:
        process(0, n)
    else:
        share(process, n)


def share_blocks(process, n, block, flops=None):
    """``process(blocks)`` on each of Ember's threads, ``blocks`` its share of ``range(n)`` as (i0, i1) spans of
    at most ``block`` items, with BLAS on one thread meanwhile; returns the results in the order of the shares.

    For work that alternates its own passes with GEMMs (compiled Winograd, im2col convolutions): each thread
    runs its blocks start to end, one-thread GEMMs included. With the GEMMs on BLAS's threads between passes on
    Ember's, the two pools hand the cores back and forth at every block (64 ch at 32x32, b32, Winograd forward:
    21 ms that way, 10.8 this way; 512 ch at 4x4: 17 vs 8.6). OpenBLAS's workers are parked first
    (``_parallel.park_blas_workers``: ResNet-18 CIFAR step, b32, 1402 -> 912 ms).

    ``flops``: the work's size; below ``_SHARE_MIN_FLOPS`` all blocks run on the calling thread, BLAS's workers
    neither parked nor started again (``_parallel.unparked_or_one_thread``): M5's conv4 (2x64x5x192x32 flops)
    0.63 -> 0.25 ms; M5 inference after an idle spell, b32, 15.9 -> 4.6 ms."""
    from . import _parallel

    block = max(1, min(n, block))
    if flops is not None and flops < _SHARE_MIN_FLOPS:
        with _parallel.unparked_or_one_thread():
            return [process([(b0, min(n, b0 + block)) for b0 in range(0, n, block)])]
    results = {}

    def run(i0, i1):
        results[i0] = process([(b0, min(i1, b0 + block)) for b0 in range(i0, i1, block)])

    with _parallel.region() as (threads, one_blas):
        if threads > 1 and n > 1:
            one_blas()
        share(run, n, -(-n // max(1, threads)))
    return [results[k] for k in sorted(results)]


def together_threads(limit):
    """Threads ``run_together`` would get now, at most ``limit``: 1 (run single-threaded) on a busy CPU, inside
    another parallel region, on a thread of Ember's pool, or where the spin barrier's memory order (x86's) is not
    the machine's."""
    from . import _parallel

    if (limit < 2 or _parallel._regions or threading.current_thread().name.startswith(_parallel.POOL_PREFIX)
            or platform.machine().lower() not in ("x86_64", "amd64")):
        return 1
    return max(1, min(limit, _threads()))


def _held(process, part):
    """``process(part)`` held on the CPU its thread runs on (``_parallel.hold_cpu``): the LSTM's spin-barrier parts,
    two threads that wait on each other every step, had the same migrations as ``share``'s threads (LSTM classifier
    inference, b32 T200, 3 runs of 15 samples on a 2-vCPU Zen 5: 22.6 / 22.1 / 24.1 ms, held 16.5 / 22.1 / 19.1)."""
    from . import _parallel

    with _parallel.hold_cpu():
        process(part)


def run_together(process, parts):
    """``process(p)`` for each p in ``range(parts)``, each on its own thread and all at once (the calling thread runs
    part 0), for work whose parts wait on one another; BLAS on one thread meanwhile, its workers parked. A part
    that fails must tell the others to stop (they would wait for it). ``parts`` from ``together_threads``."""
    from . import _parallel

    with _parallel.region() as (_, one_blas):
        one_blas()
        futures = _parallel.submit_all(_held, [(process, p) for p in range(1, parts)], _parallel.current_cpu())
        try:
            _held(process, 0)
        finally:
            for f in futures:
                f.result()
    if not _parallel._regions:
        # BLAS's workers started again by a pool thread now: the GEMMs that follow (an LSTM's backward) would
        # start them from this thread, which stalls it (see _parallel.park_blas_workers)
        _parallel.unpark_soon()


# floating-point operations from which a kernel runs on the compiled team (``team_threads``): its hand-out costs
# ~25 us where the pool's cost ~0.3 ms (``_SHARE_MIN_FLOPS``). M5 inference, b32, its third and fourth convolutions
# (11 and 4 MFLOP) on it too: paired 0.97
TEAM_MIN_FLOPS = 1 << 21


def team_threads(n, flops):
    """Threads of the compiled team (``_fast_team``) for a kernel over ``n`` items of ``flops`` work in all: 1 (run
    it otherwise) below ``TEAM_MIN_FLOPS``, for one item, without the kernels, or where ``_fast_team.threads()``
    says so."""
    if n < 2 or flops < TEAM_MIN_FLOPS or kernels() is None:
        return 1
    from . import _fast_team

    return _fast_team.threads()


def share_by_thread(process, n, flops=None, xp=np):
    """``process(i0, i1)`` once on each of Ember's threads, over its share of ``range(n)``, with BLAS on one
    thread meanwhile (``share_blocks`` with one block per thread). ``xp``: the module of the arrays the work is on;
    on a GPU's (not NumPy) one call takes all of ``range(n)``."""
    if xp is not np:
        process(0, n)
        return
    share_blocks(lambda blocks: process(blocks[0][0], blocks[-1][1]), n, n, flops)


def rows_while_parked(gemm, m, flops, wake=True):
    """``gemm(r0, r1)``, a GEMM's output rows r0:r1 (of ``m``), over all of them, without starting BLAS's parked
    workers from this thread, which would stall it (``_parallel.park_blas_workers``): while they are parked, a
    large GEMM is shared out among Ember's threads (one-thread GEMMs) and a small one runs on one thread. A conv
    net's first linear layer after its convolutions, MNIST CNN's fc1 (64x9216 @ 9216x128), took 11.6-14.1 ms
    starting them after an idle spell, against 3.0-4.9 with them running."""
    from . import _parallel

    if not _parallel.blas_workers_parked():
        gemm(0, m)
        return
    if wake and not _parallel._regions and _parallel.blas_num_threads() > 1:
        _parallel.unpark_soon()  # for the GEMMs after this one (a linear layer's next call, say)
    if m < 2 or flops < _SHARE_MIN_FLOPS or _parallel.active_threads() < 2:
        with _parallel.unparked_or_one_thread():
            gemm(0, m)
    else:
        share_by_thread(gemm, m)


def matmul_2d(x, y, out=None, wake=True):
    """``x @ y`` of 2-D arrays (into ``out`` if given): ``rows_while_parked`` for the NumPy GEMMs OpenBLAS would
    run on its threads. ``wake=False``: leave BLAS's parked workers parked, for a GEMM that a parallel region of
    Ember's threads follows (which would park them again at once, or find them still starting)."""
    m, n = x.shape[0], y.shape[1]
    flops = 2 * m * n * x.shape[1]
    if type(x) is not np.ndarray or type(y) is not np.ndarray:  # CuPy (or meta): its own matmul, into out directly
        from .backend import array_module

        return x @ y if out is None else array_module(x).matmul(x, y, out=out)
    if flops < BLAS_THREADED_MIN_FLOPS:
        return x @ y if out is None else np.matmul(x, y, out=out)
    if out is None:
        out = np.empty((m, n), dtype=np.result_type(x, y))
    rows_while_parked(lambda r0, r1: np.matmul(x[r0:r1], y, out=out[r0:r1]), m, flops, wake)
    return out


def run_rows(fn, args, sliced, size=None):
    """``fn(*args)`` with the arguments at positions ``sliced`` cut to row ranges that together cover
    their rows, shared out among threads (``share``) when the work (``size`` elements, default the first
    sliced array's) is large enough. The kernels loop over whole arrays: slicing here keeps their
    indices provably non-negative, which lets the compiler vectorise them."""
    n_rows = args[sliced[0]].shape[0]
    if size is None:
        size = args[sliced[0]].size
    if size < _PARALLEL_MIN or n_rows < 2:
        fn(*args)
        return

    def part(r0, r1):
        fn(*(a[r0:r1] if i in sliced else a for i, a in enumerate(args)))

    share(part, n_rows)


def last_dim_rows(name, *arrays):
    """A new array like the last of ``arrays`` (C-contiguous, one shape): the compiled kernel ``name`` over
    their rows along the last dim, ``kernels().<name>(*rows, out_rows)``, rows shared out among threads."""
    out = np.empty_like(arrays[-1])
    rows = (-1, out.shape[-1])
    args = tuple(a.reshape(rows) for a in arrays) + (out.reshape(rows),)
    run_rows(getattr(kernels(), name), args, tuple(range(len(args))))
    return out


def as_grad(g, shape, dtype=np.float32):
    """An incoming gradient for a kernel: (array, True) when every element is one value (the gradient
    of ``sum()``: a broadcast view), else a C-contiguous array of ``shape`` and False."""
    if g.ndim and not any(g.strides):
        return np.ascontiguousarray(g.reshape(-1)[:1], dtype=dtype).reshape((1,) * len(shape)), True
    return np.ascontiguousarray(g.reshape(shape), dtype=dtype), False


BLOCK = 1 << 16  # elements per cache block of NumPy passes (256 KiB of float32)
MAP_MIN = 1 << 18  # elements: below this, one thread and whole-array passes


def big_cpu(arr) -> bool:
    """A real floating C-contiguous NumPy array large enough for ``map_blocks``."""
    return type(arr) is np.ndarray and arr.size >= MAP_MIN and arr.dtype.kind == "f" and arr.flags.c_contiguous


def map_blocks(fn, *arrays):
    """``fn(*blocks)`` over arrays of one length along axis 0 cut into cache-sized blocks (of rows, for 2-D
    arrays), shared out among threads from ``_PASS_SHARE_MIN`` elements (``share``; NumPy's ufuncs release the
    GIL). An array of length 1 is passed whole (a broadcast scalar). Floating-point error flags are ignored, as
    in the ops that use this."""
    n = max(a.shape[0] for a in arrays)
    size = max(a.size for a in arrays)
    step = max(1, BLOCK * n // max(1, size))

    def part(r0, r1):
        with np.errstate(all="ignore"):
            for s in range(r0, r1, step):
                e = min(s + step, r1)
                fn(*(a if a.shape[0] == 1 else a[s:e] for a in arrays))

    _pass(part, n, size)


def ufunc(f, arr):
    """``f(arr)`` for a NumPy ufunc on a ``big_cpu`` array, shared out among the threads in a few large chunks
    from ``_PASS_SHARE_MIN`` elements: one pass reuses nothing from cache, so cache-sized blocks would only add
    calls (8% here)."""
    out = np.empty_like(arr)
    a, o = arr.reshape(-1), out.reshape(-1)

    def part(r0, r1):
        with np.errstate(all="ignore"):
            f(a[r0:r1], out=o[r0:r1])

    _pass(part, a.shape[0], a.shape[0])
    return out


def _pass(part, n, size):
    """``part(0, n)`` on this thread for a NumPy pass over fewer than ``_PASS_SHARE_MIN`` elements (``size``),
    else ``share(part, n)``."""
    if size < _PASS_SHARE_MIN:
        part(0, n)
    else:
        share(part, n)


TRANSPOSED_MIN = 1 << 16  # elements from which a transposed view is copied in tiles
# ... when its rows lie a multiple of this many bytes apart: the strides at which NumPy's copy keeps evicting its
# own cache lines (1024^2 float32 7.8 ms, tiled 1.6; 4x4x256x512 with the last two axes swapped: 5.3 vs 2.0). At
# other strides, or with fewer than 128 rows or columns, NumPy's copy was as fast or faster (300x1000: 0.15 vs
# 0.26 ms; 8x64x1024: 0.43 vs 0.52)
ALIASING_STRIDE = 2048


def contiguous(arr):
    """A C-contiguous copy of a NumPy array; a large one whose last two axes are transposed (the next-to-last is
    the contiguous one) with rows ``ALIASING_STRIDE`` apart is copied in cache tiles by the compiled kernel
    (``copy_tiles``), matrix by matrix when its leading axes do not merge into one."""
    if (type(arr) is np.ndarray and arr.ndim >= 2 and arr.size >= TRANSPOSED_MIN and arr.strides[-2] == arr.itemsize
            and arr.strides[-1] % ALIASING_STRIDE == 0 and min(arr.shape[-2:]) >= 128 and kernels() is not None):
        out = np.empty(arr.shape, dtype=arr.dtype)
        mat = arr.shape[-2:]
        try:
            rows = arr.reshape((-1,) + mat, copy=False)  # (NumPy >= 2.1: raises rather than copy)
        except (ValueError, TypeError):
            rows = None
        if rows is not None:
            kernels().copy_tiles(rows, out.reshape(rows.shape))
        else:
            for lead in np.ndindex(*arr.shape[:-2]):
                kernels().copy_tiles(arr[lead][None], out[lead][None])
        return out
    return np.ascontiguousarray(arr)
