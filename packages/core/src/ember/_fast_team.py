"""A team of threads for compiled kernels: numba's ``prange`` on OpenMP (or TBB), whose threads spin a while after
each parallel region instead of sleeping (the optional ``fast`` extra; see ``_fast.py``).

Ember's own pool (``_parallel``) runs Python callables, so each share of work is a hand-over through a queue and the
GIL, and a thread that slept must be woken: 30-150 us on a 2-vCPU VM, and the caller's wait for the last share as
much again. Kernels compiled from end to end can run on this team instead (M5 inference, b32, after an untimed call:
paired 0.90-0.95 against the pool with its four convolutions here, the team's hand-out ~25 us against the pool's
~0.3 ms). Used only for forwards that no backward
follows: in training the worker, spinning on after the layer, took a core from the pool and BLAS threads of the
layers after it (M5's step paired 1.29); and not for memory-bound passes (a batch norm right after the first
convolution: 0.41 ms on the team, 0.28 on one thread).

The spin is kept short (``GOMP_SPINCOUNT`` 30000, unless the user set it or ``OMP_WAIT_POLICY``; OpenMP's default spins
3-4 ms after each region, here long enough to take the core from the pool and BLAS threads that come next). The team
is used only from the main thread outside Ember's own parallel regions, never in a forked child of a process that
started it (GNU OpenMP cannot run there), and with as many threads as ``_parallel.active_threads()`` (fewer on a busy
CPU). Imported only when numba is.
"""

from __future__ import annotations

import ctypes
import os
import threading

import numpy as np
from numba import get_thread_id, njit, prange

from . import _parallel


SPINCOUNT = "30000"  # GOMP_SPINCOUNT for the team (the default, 300000, kept the worker spinning ~3.6 ms here)
_LAYERS = ("omp", "tbb")  # numba's threading layers whose threads spin between regions (not "workqueue")

_state = None  # None: not tried yet; False: no team here; else the team's most threads
_forked = False
_lock = threading.Lock()


@njit(parallel=True, cache=True)
def _start(a):
    for i in prange(a.shape[0]):
        a[i] = get_thread_id()


def _launch():
    """Start numba's threading layer (once), with a short OpenMP spin unless the user chose one; the team's most
    threads, or False where its layer does not spin (numba's own "workqueue") or cannot start."""
    import numba

    chosen = any(os.environ.get(v) for v in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY"))
    if not chosen:  # read by GNU OpenMP once, as numba loads it below; put back at once
        os.environ["GOMP_SPINCOUNT"] = SPINCOUNT
    try:
        _start(np.zeros(2, dtype=np.int64))
        layer = numba.threading_layer()
    except Exception:  # noqa: BLE001  (no usable threading layer: the kernels run on one thread)
        return False
    finally:
        if not chosen:
            os.environ.pop("GOMP_SPINCOUNT", None)
    return int(numba.config.NUMBA_NUM_THREADS) if layer in _LAYERS else False


def threads():
    """Threads a team kernel gets now: 1 (run the one-thread kernel instead) where there is no team, off the main
    thread, inside one of Ember's parallel regions, in a forked child, or on a busy CPU."""
    global _state
    n = _parallel.active_threads()
    if (n < 2 or _forked or _parallel._regions or _state is False or not _libc_calls()
            or threading.current_thread() is not threading.main_thread()):
        return 1
    if _state is None:
        with _lock:
            if _state is None:
                _state = _launch()
        if _state is False:
            return 1
    return min(n, _state)


def _after_fork_in_child():
    global _forked
    _forked = _forked or bool(_state)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


# ---- keeping the team's threads off the caller's CPU ---------------------------------------------------------

_MASK_WORDS = 16  # cpu_set_t: 1024 CPUs
_libc = None


def _libc_calls():
    global _libc
    if _libc is None:
        try:
            from ._fast_rnn import c_function

            libc = ctypes.CDLL(None, use_errno=True)
            _libc = (c_function(libc.sched_getcpu, ctypes.c_int),
                     c_function(libc.sched_setaffinity, ctypes.c_int, ctypes.c_int, ctypes.c_size_t, ctypes.c_size_t))
        except (OSError, AttributeError, TypeError):
            _libc = False
    return _libc


def _mask(cpus):
    m = np.zeros(_MASK_WORDS, dtype=np.uint64)
    for c in cpus:
        if c < 64 * _MASK_WORDS:
            m[c // 64] |= np.uint64(1) << np.uint64(c % 64)
    return m


@njit(inline="always", nogil=True, cache=True)
def placed(place):
    """Called first in each iteration of a team kernel's ``prange``: a worker thread that finds itself on the
    caller's CPU moves to another one. On this VM a thread woken after an idle spell is at times placed on the CPU
    of the thread that woke it, the other idle, and the two then share one CPU until the load balancer moves one,
    milliseconds later (M5's first convolution: 4.6-8 ms in half of the calls, 0.7 otherwise). ``place``: from
    ``running``."""
    getcpu, setaff, caller, off, whole = place
    if caller >= 0 and get_thread_id() != 0 and getcpu() == caller:
        setaff(0, off.size * 8, off.ctypes.data)
        setaff(0, whole.size * 8, whole.ctypes.data)


_places = {}  # (caller's CPU, allowed CPUs) -> ``place``


def _place():
    """``placed``'s argument for a kernel the calling thread starts now, and the CPUs the thread may run on."""
    getcpu, setaff = _libc_calls()
    cpu = _parallel.current_cpu()
    try:
        allowed = tuple(sorted(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        allowed = ()
    if cpu is None or cpu not in allowed or len(allowed) < 2:
        cpu = -1
    key = (cpu, allowed)
    place = _places.get(key)
    if place is None:
        place = _places[key] = (getcpu, setaff, cpu, _mask(c for c in allowed if c != cpu and cpu >= 0),
                                _mask(allowed if cpu >= 0 else ()))
    return place, allowed


class running:
    """The body runs a team kernel on ``threads`` threads (``threads()``), which calls BLAS itself: BLAS on one thread
    meanwhile with its workers parked (``_parallel.region``), the caller held on the CPU it runs on
    (``_parallel.hold_cpu``: without it, M5's first convolution alone after 0.15 s pauses took 3.0-3.1 ms instead of
    0.77-0.80, the worker and the caller on one CPU), numba's thread count lowered for it where ``threads`` is fewer
    than the team's (and put back after: it is the program's own too); ``place``, the argument of ``placed``, yielded.
    A class rather than a generator: it runs before each of a model's team kernels."""

    __slots__ = ("_threads", "_before", "_region", "_hold")

    def __init__(self, threads):
        self._threads = threads

    def __enter__(self):
        place, allowed = _place()  # (read before the hold narrows this thread's mask)
        self._before = None
        if self._threads < _state:
            import numba

            self._before = numba.get_num_threads()
            numba.set_num_threads(self._threads)
        self._region, self._hold = _parallel.region(), _parallel.hold_cpu((place[2], allowed))
        try:
            _, one_blas = self._region.__enter__()
            try:
                self._hold.__enter__()
                one_blas()
            except BaseException:
                self._region.__exit__(None, None, None)
                raise
        except BaseException:
            self._restore()
            raise
        return place

    def __exit__(self, *exc):
        try:
            try:
                self._hold.__exit__(*exc)
            finally:
                self._region.__exit__(*exc)
        finally:
            self._restore()
        return False

    def _restore(self):
        if self._before is not None:
            import numba

            numba.set_num_threads(self._before)


def split(n, parts):
    """``parts + 1`` bounds cutting ``range(n)`` into ``parts`` near-equal spans (int64), for a team kernel."""
    return np.array([n * p // parts for p in range(parts + 1)], dtype=np.int64)


def per_thread(row, threads):
    """``row`` (a kernel's scratch integers, 1-D) repeated for each of ``threads`` threads, C-contiguous."""
    return np.repeat(row[None], threads, axis=0)
