"""The one owner of Ember's CPU threads: NumPy's BLAS threads and Ember's own worker pool.

Thread count (``ember.get_num_threads``): ``ember.set_num_threads(n)``, else ``EMBER_NUM_THREADS``, else
``OMP_NUM_THREADS``, else ``OPENBLAS_NUM_THREADS``, else the CPUs this process may run on
(``os.sched_getaffinity``, capped by a cgroup CPU quota). BLAS (NumPy's OpenBLAS, reached through ctypes)
and the pool both use that many threads.

When the count was not chosen by the user, it adapts to a busy CPU: a sampling thread counts the runnable
threads of other processes (``/proc/loadavg`` minus this process's own) every 0.1 s and, while they take
cores, lowers the active count (down to 1), raising it again when they stop. A BLAS call split over two
threads must wait for both to be scheduled, so on a contended CPU each of the thousands of GEMMs of a
training step waited a scheduler time slice: 10-20x slower steps. ``EMBER_DYNAMIC_THREADS=0`` turns the
adaptation off.

The pool is created on first use and is forgotten in forked children (their copy of it has no threads).
"""

from __future__ import annotations

import ctypes
import math
import operator
import os
import threading
import time

_pool = None
_pool_lock = threading.Lock()

_SAMPLE_S = 0.1  # sampling period of the busy-CPU monitor
_WINDOW = 5  # samples averaged (0.5 s)


def _env_threads():
    """The thread count the environment asks for (None if unset), and which variable asked."""
    for var in ("EMBER_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        value = os.environ.get(var, "").strip().split(",")[0]
        if value:
            try:
                n = int(value)
            except ValueError:
                n = 0
            if n > 0:
                return n, var
    return None, None


def available_cpus() -> int:
    """CPUs this process may run on: its affinity mask, capped by a cgroup v2 CPU quota."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    try:
        with open("/sys/fs/cgroup/cpu.max") as f:
            quota, period = f.read().split()[:2]
        if quota != "max":
            n = min(n, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, n)


# ---- BLAS threads (NumPy's OpenBLAS through ctypes) ---------------------------------------------

_SET_NAMES = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads", "openblas_set_num_threads64_",
              "openblas_set_num_threads", "MKL_Set_Num_Threads")
_GET_NAMES = ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads", "openblas_get_num_threads64_",
              "openblas_get_num_threads", "MKL_Get_Max_Threads")
_blas = None  # list of (set, get) pairs, found on first use
_cdlls = None  # NumPy's (and SciPy's) BLAS libraries, opened with ctypes on first use


def blas_cdlls():
    """NumPy's (and SciPy's) BLAS libraries loaded in this process (OpenBLAS or MKL), as ctypes handles;
    never another framework's copy loaded in the same process."""
    global _cdlls
    if _cdlls is None:
        import numpy  # noqa: F401  (its BLAS must be loaded to be found)

        found = []
        try:
            with open("/proc/self/maps") as f:
                paths = {line.split(None, 5)[-1].strip() for line in f if ".so" in line}
        except OSError:
            paths = set()
        for path in sorted(paths, key=lambda p: ("numpy" not in p, p)):  # NumPy's own first
            name = os.path.basename(path).lower()
            if not ("openblas" in name or "mkl_rt" in name) or "torch" in path:
                continue
            try:
                found.append(ctypes.CDLL(path))
            except OSError:
                continue
        _cdlls = found
    return _cdlls


def blas_kernel():
    """The kernel family NumPy's OpenBLAS runs ("Haswell", "SkylakeX", ...: what it detected, or what
    OPENBLAS_CORETYPE forced), None where that is not known. On a CPU with AVX-512 a forced "Haswell" halves the
    GEMM rate (2 vCPUs of a Zen 5: 1024^3 float32 at 200 against 400 GFLOP/s), so every figure depends on it."""
    for lib in blas_cdlls():
        for name in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename", "openblas_get_corename64_",
                     "openblas_get_corename"):
            if hasattr(lib, name):
                fn = getattr(lib, name)
                fn.restype, fn.argtypes = ctypes.c_char_p, []
                return fn().decode(errors="replace")
    return None


def _blas_libs():
    global _blas
    if _blas is None:
        found = []
        for lib in blas_cdlls():
            setter = next((getattr(lib, s) for s in _SET_NAMES if hasattr(lib, s)), None)
            getter = next((getattr(lib, g) for g in _GET_NAMES if hasattr(lib, g)), None)
            if setter is not None and getter is not None:
                setter.argtypes, setter.restype, getter.restype = [ctypes.c_int], None, ctypes.c_int
                found.append((setter, getter))
        _blas = found
    return _blas


def blas_num_threads():
    """Threads NumPy's BLAS uses now (None if its library was not found)."""
    libs = _blas_libs()
    return libs[0][1]() if libs else None


_openblas = None  # per OpenBLAS library: its (blas_server_avail, blas_cpu_number, blas_num_threads) ints


def _openblas_vars():
    global _openblas
    if _openblas is None:
        found = []
        for lib in blas_cdlls():
            try:
                found.append(tuple(ctypes.c_int.in_dll(lib, name)
                                   for name in ("blas_server_avail", "blas_cpu_number", "blas_num_threads")))
            except ValueError:
                continue
        _openblas = found
    return _openblas


def _set_blas_threads(n):
    """BLAS's thread count. OpenBLAS's setter first starts its workers again when they are parked (from this
    thread: see ``park_blas_workers``), so up to the threads it has, its count is written directly."""
    vars_ = _openblas_vars()
    if vars_ and all(1 <= n <= max(1, nt.value) for _, _, nt in vars_):
        for _, cpus, _ in vars_:
            cpus.value = n
        return
    for setter, _ in _blas_libs():
        setter(n)


def park_blas_workers():
    """Stop NumPy's OpenBLAS workers now; its next threaded call starts them again.

    After a threaded call they spin for 2**28 cycles (~0.1 s) before they sleep, and meanwhile take a core
    from Ember's own threads: a 64-channel 32x32 Winograd forward run by two threads took 22 ms right after
    a threaded 512x512 GEMM, even 10 ms later, against 11 ms otherwise. Shortening the spin
    (OPENBLAS_THREAD_TIMEOUT) helped there but let the idle core sleep between the threaded calls of a
    blocked LU (a 512x512 solve after an idle spell: 2.3 -> 7 ms). Called from the main thread only; a
    threaded BLAS call that another thread of the program has running at that moment is not guarded against
    (Ember's own pool threads then run one-thread GEMMs).

    OpenBLAS starts them again from the thread that next asks for threads, which then spin-waits for them on
    its own core: after an idle spell the new thread shared that core for 4-8 ms in each of the next 2-3 calls
    (a 3966x32 @ 32x32 GEMM: 7-8 ms instead of 0.07). So Ember sets BLAS's thread count without starting them
    (``_set_blas_threads``) and keeps small work that comes between parks off BLAS's threads
    (``unparked_or_one_thread``)."""
    if threading.current_thread() is not threading.main_thread():
        return
    vars_ = _openblas_vars()
    if vars_ and all(avail.value == 0 for avail, _, _ in vars_):
        return  # parked already (the call below would return at once, after a ctypes call and OpenBLAS's lock)
    for lib in blas_cdlls():
        if hasattr(lib, "blas_thread_shutdown_"):
            lib.blas_thread_shutdown_()


_unpark_pending = False
_regions = 0  # parallel regions running now (``region``: BLAS's workers parked for them)


def unpark_soon():
    """Start BLAS's parked workers again from one of Ember's pool threads, soon, and return at once: from the
    thread that wants them, OpenBLAS would stall it (``park_blas_workers``). Skipped when a region of
    ``_fast.share_blocks`` has begun meanwhile (it wants them parked)."""
    global _unpark_pending
    if _unpark_pending:
        return
    libs = [lib for lib in blas_cdlls() if hasattr(lib, "blas_thread_init")]
    if not libs:
        return
    _unpark_pending = True

    def start():
        global _unpark_pending
        try:
            if not _regions:
                for lib in libs:
                    lib.blas_thread_init()
        finally:
            _unpark_pending = False

    submit(1, start)


def blas_workers_parked():
    """Whether NumPy's OpenBLAS has no workers now (stopped by ``park_blas_workers``, not yet started again by a
    threaded call); False where that cannot be read."""
    vars_ = _openblas_vars()
    return bool(vars_) and vars_[0][0].value == 0


# The context managers below run several times in each layer of a model (the compiled team's convolutions, the shared
# GEMMs): written as classes, as ``contextlib.contextmanager`` generators they cost ~2 us more each.


class unparked_or_one_thread:
    """BLAS on one thread for the body while its workers are parked (rather than started again from this
    thread: see ``park_blas_workers``), else as it is."""

    __slots__ = ("_blas",)

    def __enter__(self):
        self._blas = None
        if (threading.current_thread() is not threading.main_thread() or not blas_workers_parked()
                or blas_num_threads() == 1):
            return None  # (inside share_blocks, on any of its threads, BLAS is on one thread already)
        blas = blas_threads()
        blas.__enter__()
        self._blas = blas  # (set first: __exit__ restores the count and releases the lock)
        try:
            _set_blas_threads(1)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return None

    def __exit__(self, *exc):
        if self._blas is not None:
            self._blas.__exit__(*exc)
        return False


def _one_blas():
    _set_blas_threads(1)
    park_blas_workers()


class region:
    """A parallel region of Ember's threads for the body: counted in ``_regions`` (``unpark_soon`` leaves BLAS's
    workers parked meanwhile), the thread count held. Yields (threads, one_blas): ``one_blas()`` puts BLAS on one
    thread for the region and parks its workers (idle, not spinning on a core the region's threads need)."""

    __slots__ = ("_blas",)

    def __enter__(self):
        global _regions
        _regions += 1
        self._blas = blas_threads()
        try:
            threads, _ = self._blas.__enter__()
        except BaseException:
            _regions -= 1
            raise
        return threads, _one_blas

    def __exit__(self, *exc):
        global _regions
        try:
            self._blas.__exit__(*exc)
        finally:
            _regions -= 1
        return False


class blas_threads:
    """The thread count in use, BLAS's own count set by the body through the yielded setter and restored
    after; the busy-CPU monitor waits meanwhile (it would restore a stale count)."""

    __slots__ = ("_threads",)

    def __enter__(self):
        _state_lock.acquire()
        self._threads = _active
        return self._threads, _set_blas_threads

    def __exit__(self, *exc):
        try:
            _set_blas_threads(self._threads)
        finally:
            _state_lock.release()
        return False


# ---- the thread count ---------------------------------------------------------------------------

_cpus = available_cpus()
_env_n, _env_var = _env_threads()
_max = _env_n or _cpus  # get_num_threads()
_fixed = _env_n is not None  # chosen by the user: never adapted
_active = _max  # what BLAS and the pool use now (<= _max)
_interop = None  # set_num_interop_threads' value (None: never set)
_state_lock = threading.Lock()


def _check_count(name, n):
    if isinstance(n, bool) or not hasattr(n, "__index__"):
        raise RuntimeError(f"{name} expects an int, but got {type(n).__name__}")
    n = operator.index(n)
    if n <= 0:
        raise RuntimeError(f"{name} expects a positive integer")
    return n


def _activate(n):
    global _active
    with _state_lock:
        if n != _active or blas_num_threads() not in (None, n):
            _set_blas_threads(n)
        _active = n


def set_num_threads(n: int) -> None:
    """Set the number of threads used for intra-op parallelism on the CPU (NumPy's BLAS and Ember's
    worker pool). A count set here is kept as it is (it no longer adapts to a busy CPU)."""
    global _max, _fixed
    n = _check_count("set_num_threads", n)
    _max, _fixed = n, True
    _activate(n)


def get_num_threads() -> int:
    """The number of threads used for intra-op parallelism on the CPU."""
    return _max


def active_threads() -> int:
    """Threads BLAS and the pool use at this moment: ``get_num_threads()``, or fewer while other
    processes keep the CPU busy."""
    return _active


def set_num_interop_threads(n: int) -> None:
    """Set the number of threads used for inter-op parallelism (accepted once, as in PyTorch; Ember runs
    ops one after another, so the value is only reported back)."""
    global _interop
    n = _check_count("set_num_interop_threads", n)
    if _interop is not None:
        raise RuntimeError("Error: cannot set number of interop threads after parallel work has started or "
                           "set_num_interop_threads called")
    _interop = n


def get_num_interop_threads() -> int:
    """The number of threads used for inter-op parallelism."""
    return _interop if _interop is not None else _cpus


# ---- adapting to a busy CPU ---------------------------------------------------------------------

def _others_running():
    """Runnable threads of other processes right now (None where the system does not tell)."""
    try:
        with open("/proc/loadavg", "rb") as f:
            running = int(f.read().split()[3].split(b"/")[0])
        ours = 0
        for tid in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{tid}/stat", "rb") as f:
                    stat = f.read()
            except OSError:  # the thread ended meanwhile
                continue
            ours += stat[stat.rindex(b")") + 2:stat.rindex(b")") + 3] == b"R"
    except (OSError, ValueError, IndexError):
        return None
    return max(0, running - ours)


def target_threads(cpus, max_threads, others):
    """Threads to use when ``others`` (recent samples) runnable threads of other processes compete for
    ``cpus`` CPUs: the CPUs they leave free, at least 1 and at most ``max_threads``."""
    busy = sum(others) / len(others) if others else 0.0
    return max(1, min(max_threads, cpus - int(busy + 0.5)))


def _dynamic_enabled():
    if os.environ.get("EMBER_DYNAMIC_THREADS", "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    # /proc/loadavg counts the whole machine: only meaningful when this process may use all of it
    return _cpus > 1 and (os.cpu_count() or 1) == _cpus and os.path.exists("/proc/loadavg")


_monitor = None


def _monitor_step(samples, sample=None):
    """One sample (``sample()``, default ``_others_running``) and decision of the monitor; returns the
    recent samples (None: stop monitoring)."""
    if _fixed:
        return []
    others = (sample or _others_running)()
    if others is None:
        return None
    samples = (samples + [others])[-_WINDOW:]
    want = target_threads(_cpus, _max, samples)
    if want != _active and not _fixed:
        _activate(want)
    return samples


_paused = False  # tests drive _monitor_step by hand meanwhile


def _monitor_loop():
    samples = []
    while samples is not None:
        time.sleep(_SAMPLE_S)
        if not _paused:
            samples = _monitor_step(samples)


def _start_monitor():
    global _monitor
    if _monitor is None and _dynamic_enabled():
        _monitor = threading.Thread(target=_monitor_loop, name="ember-threads", daemon=True)
        _monitor.start()


def _after_fork_in_child():
    global _pool, _pool_lock, _monitor, _state_lock, _unpark_pending, _regions
    _pool, _pool_lock, _state_lock = None, threading.Lock(), threading.Lock()
    _monitor = None  # a forked child (e.g. a DataLoader worker) keeps its current count, unmonitored
    _unpark_pending, _regions = False, 0
    _kept_off.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

if _fixed:
    _activate(_max)
_start_monitor()


# ---- the worker pool ----------------------------------------------------------------------------

try:
    _sched_getcpu = ctypes.CDLL(None, use_errno=True).sched_getcpu
    _sched_getcpu.restype, _sched_getcpu.argtypes = ctypes.c_int, []
except (OSError, AttributeError, TypeError):  # no C library to ask (Windows) or no sched_getcpu (macOS)
    _sched_getcpu = None


def current_cpu():
    """The CPU the calling thread runs on now (None where that is not known)."""
    if _sched_getcpu is None:
        return None
    cpu = _sched_getcpu()
    return cpu if cpu >= 0 else None


def move_off_cpu(cpu):
    """Move the calling thread to another of its CPUs if it runs on ``cpu`` now; its CPU mask is left as it was.

    A pool thread woken for a share of work is at times placed on the CPU of the thread that woke it, the other
    CPUs idle: on this VM after an idle spell, where the scheduler takes a sleeping virtual CPU as not available.
    Both then share one CPU until the load balancer moves one, a few milliseconds later: a Winograd forward (64
    images, 32 -> 64 channels at 26x26) run right after another took 12.4 ms instead of 6.4 after each 0.15 s
    pause, every time."""
    if cpu is None or current_cpu() != cpu:
        return
    try:
        allowed = os.sched_getaffinity(0)
        if len(allowed) > 1 and cpu in allowed:
            os.sched_setaffinity(0, allowed - {cpu})
            os.sched_setaffinity(0, allowed)
    except OSError:
        pass


class hold_cpu:
    """Keep the calling thread on the CPU it runs on now for the body (its mask given back after), for the threads
    of a parallel region: on this VM a thread that waits for the GIL and is woken by the other one is placed on the
    waker's CPU, the other CPU idle, and the two then take turns on one CPU (3x3 3 -> 64 at 32x32, b32, after
    each 0.15 s pause: 5.2-6.1 ms in 5 of 6 calls, the caller moved onto its worker's CPU half-way; 2.9-4.0 held).
    ``known``: (that CPU, the thread's CPU mask) where the caller has just read them."""

    __slots__ = ("_known", "_allowed")

    def __init__(self, known=None):
        self._known = known

    def __enter__(self):
        cpu, allowed = self._known if self._known is not None else (current_cpu(), None)
        self._allowed = None
        if cpu is not None:
            try:
                allowed = allowed if allowed is not None else os.sched_getaffinity(0)
                if len(allowed) > 1 and cpu in allowed:
                    os.sched_setaffinity(0, (cpu,))
                    self._allowed = allowed
            except OSError:
                pass
        return None

    def __exit__(self, *exc):
        if self._allowed is not None:
            try:
                os.sched_setaffinity(0, self._allowed)
            except OSError:
                pass
        return False


POOL_PREFIX = "ember-worker"  # the names of the pool's threads begin so
_kept_off = {}  # a pool thread's native id -> (the CPU its mask leaves out until it runs a job, the mask to restore)


def keep_pool_off(cpu):
    """Leave ``cpu`` (the calling thread's, about to hand work to the pool) out of the idle pool threads' CPU
    masks, so that the threads it wakes are placed on another CPU. Each job submitted through ``submit`` gives
    its thread the whole mask back as it starts (running, it stays where it was placed; threads it starts, such
    as OpenBLAS's workers, inherit the whole mask).

    ``move_off_cpu`` in the woken thread comes too late where the caller keeps its CPU busy: the woken thread is
    queued behind it, and on this VM after an idle spell it got to run only after the caller had done its own
    share and taken the other too (M5's conv1 after each 0.15 s pause: 2.6-3.6 ms in 6 of 8 calls, the two
    halves one after the other on one CPU; 1.1-1.2 ms with this)."""
    pool = _pool
    if cpu is None or pool is None:
        return
    allowed = None
    for t in list(pool._threads):
        tid = t.native_id
        if tid is None or _kept_off.get(tid, (None,))[0] == cpu:
            continue
        try:
            if allowed is None:
                allowed = os.sched_getaffinity(0)
            if len(allowed) < 2 or cpu not in allowed:
                return
            _kept_off[tid] = (cpu, allowed)
            os.sched_setaffinity(tid, allowed - {cpu})
        except OSError:  # the thread has ended, or masks cannot be set here
            _kept_off.pop(tid, None)


def _job(fn, args):
    kept = _kept_off.pop(threading.get_native_id(), None)
    if kept is not None:
        try:
            os.sched_setaffinity(0, kept[1])
        except OSError:
            pass
    return fn(*args)


def submit(n, fn, *args):
    """``fn(*args)`` on Ember's pool (grown to at least ``n`` threads); its future."""
    return _get_pool(n).submit(_job, fn, args)


def submit_all(fn, arg_lists, cpu):
    """``fn(*args)`` on Ember's pool for each ``args`` of ``arg_lists``, one pool thread each, woken off ``cpu`` (the
    caller's, which goes on with its own share: ``keep_pool_off``); their futures."""
    n = len(arg_lists)
    _get_pool(n)
    keep_pool_off(cpu)
    return [submit(n, fn, *args) for args in arg_lists]


def _get_pool(n):
    global _pool
    with _pool_lock:
        if _pool is None or _pool._max_workers < n:
            from concurrent.futures import ThreadPoolExecutor

            _pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix=POOL_PREFIX)
        return _pool


def _run_group(fn, group):
    for span in group:
        fn(*span)


def _held_group(fn, group):
    with hold_cpu():
        _run_group(fn, group)


def run_spans(fn, spans):
    """``fn(*span)`` for every span, on at most ``active_threads()`` threads (the calling thread
    included): the first group on the calling thread, the others on the pool; returns when all are done
    (re-raising the first error)."""
    n = min(len(spans), _active)
    if n <= 1:
        _run_group(fn, spans)
        return
    groups = [spans[i::n] for i in range(n)]
    futures = submit_all(_held_group, [(fn, g) for g in groups[1:]], current_cpu())
    with hold_cpu():
        _run_group(fn, groups[0])
        for f in futures:
            f.result()
