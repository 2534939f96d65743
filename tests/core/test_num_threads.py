"""Thread control: ember.set_num_threads / get_num_threads (PyTorch's names, values and errors), the
environment variables, NumPy's BLAS and Ember's pool obeying the count, and the busy-CPU policy."""

import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import ember
from ember import _fast, _parallel


@pytest.fixture
def restore_threads():
    saved = (_parallel._max, _parallel._fixed, _parallel._active, _parallel._interop)
    yield
    _parallel._max, _parallel._fixed, _parallel._active, _parallel._interop = saved
    _parallel._activate(saved[2])


def test_default_is_the_cpus_this_process_may_use():
    assert _parallel.available_cpus() <= len(os.sched_getaffinity(0))
    if not _parallel._fixed:
        assert ember.get_num_threads() == _parallel.available_cpus()
    assert 1 <= _parallel.active_threads() <= ember.get_num_threads()


def test_set_num_threads_sets_blas_and_is_reported(restore_threads):
    for n in (1, 3, 2):
        ember.set_num_threads(n)
        assert ember.get_num_threads() == n and _parallel.active_threads() == n
        if _parallel.blas_num_threads() is not None:
            assert _parallel.blas_num_threads() == n
    ember.set_num_threads(np.int64(1))  # anything with __index__, as PyTorch
    assert ember.get_num_threads() == 1
    a = np.ones((64, 64), np.float32)
    assert float((ember.from_numpy(a) @ ember.from_numpy(a))[0, 0]) == 64.0


def test_blas_library_found():
    if "openblas" not in str(np.show_config(mode="dicts")).lower():
        pytest.skip("NumPy is not built on OpenBLAS here")
    assert _parallel.blas_num_threads() is not None


@pytest.mark.parametrize("bad, msg", [
    (0, "set_num_threads expects a positive integer"),
    (-1, "set_num_threads expects a positive integer"),
    (1.5, "set_num_threads expects an int, but got float"),
    ("2", "set_num_threads expects an int, but got str"),
    (True, "set_num_threads expects an int, but got bool"),
    (None, "set_num_threads expects an int, but got NoneType"),
])
def test_set_num_threads_errors_as_pytorch(bad, msg, restore_threads):
    before = ember.get_num_threads()
    with pytest.raises(RuntimeError, match=f"^{msg}$"):
        ember.set_num_threads(bad)
    assert ember.get_num_threads() == before


def test_interop_threads_set_once(restore_threads):
    _parallel._interop = None
    assert ember.get_num_interop_threads() == _parallel.available_cpus()
    with pytest.raises(RuntimeError, match="^set_num_interop_threads expects a positive integer$"):
        ember.set_num_interop_threads(0)
    ember.set_num_interop_threads(3)
    assert ember.get_num_interop_threads() == 3
    with pytest.raises(RuntimeError, match="cannot set number of interop threads after parallel work has started"):
        ember.set_num_interop_threads(2)


def test_pool_runs_on_at_most_the_set_threads(restore_threads):
    def record(i, out):
        out.append((i, threading.get_ident()))

    for n in (1, 2):
        ember.set_num_threads(n)
        seen = []
        _parallel.run_spans(lambda i: record(i, seen), [(i,) for i in range(6)])
        assert sorted(i for i, _ in seen) == list(range(6))  # every span ran once
        assert len({t for _, t in seen}) <= n
        if n == 1:
            assert {t for _, t in seen} == {threading.get_ident()}


def test_pool_reraises_errors(restore_threads):
    ember.set_num_threads(2)

    def fn(i):
        if i == 3:
            raise ValueError("span 3")

    with pytest.raises(ValueError, match="span 3"):
        _parallel.run_spans(fn, [(i,) for i in range(4)])


@pytest.mark.parametrize("env, expected", [
    ({"EMBER_NUM_THREADS": "3"}, "3 3 True"),
    ({"OMP_NUM_THREADS": "1"}, "1 1 True"),
    ({"EMBER_NUM_THREADS": "2", "OMP_NUM_THREADS": "1"}, "2 2 True"),
    ({"OMP_NUM_THREADS": "junk"}, None),  # ignored: the default
])
def test_environment_variables(env, expected):
    clean = {k: v for k, v in os.environ.items() if k not in ("EMBER_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    code = ("import ember; from ember import _parallel as p; "
            "print(ember.get_num_threads(), p.blas_num_threads() or ember.get_num_threads(), p._fixed)")
    out = subprocess.run([sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True, check=True)
    if expected is None:
        expected = f"{_parallel.available_cpus()} "
        assert out.stdout.startswith(expected) and out.stdout.strip().endswith("False")
    else:
        assert out.stdout.strip() == expected


@pytest.mark.parametrize("cpus, max_threads, others, expected", [
    (2, 2, [], 2),  # nothing known: all
    (2, 2, [0, 0, 0], 2),  # idle machine
    (2, 2, [1, 1, 1], 1),  # one competing process takes a core
    (2, 2, [0, 1, 0, 0, 0], 2),  # a blip (mean 0.2) is ignored
    (2, 2, [9, 8, 10], 1),  # heavily loaded: never below 1
    (8, 8, [3, 3, 3], 5),
    (8, 4, [1, 1, 1], 4),  # never above get_num_threads()
])
def test_busy_cpu_policy(cpus, max_threads, others, expected):
    assert _parallel.target_threads(cpus, max_threads, others) == expected


def test_others_running_is_a_count():
    n = _parallel._others_running()
    assert n is None or (isinstance(n, int) and n >= 0)


def test_monitor_adapts_only_the_default_count(restore_threads, monkeypatch):
    monkeypatch.setattr(_parallel, "_paused", True)  # the real monitor must not interfere
    monkeypatch.setattr(_parallel, "_cpus", 2)
    monkeypatch.setattr(_parallel, "_max", 2)
    monkeypatch.setattr(_parallel, "_fixed", False)
    samples = _parallel._monitor_step([1, 1], lambda: 1)  # one competing process
    assert samples == [1, 1, 1] and _parallel.active_threads() == 1 and ember.get_num_threads() == 2
    if _parallel.blas_num_threads() is not None:
        assert _parallel.blas_num_threads() == 1
    for _ in range(_parallel._WINDOW):  # it stopped
        samples = _parallel._monitor_step(samples, lambda: 0)
    assert _parallel.active_threads() == 2
    ember.set_num_threads(2)  # the user's count is kept
    assert _parallel._monitor_step([5, 5], lambda: 5) == [] and _parallel.active_threads() == 2
    monkeypatch.setattr(_parallel, "_fixed", False)
    assert _parallel._monitor_step([], lambda: None) is None  # nothing to read: stop


def test_parked_blas_workers_start_again():
    """``park_blas_workers`` stops NumPy's OpenBLAS workers; its next threaded call starts them again."""
    import numpy as np

    a = np.arange(400 * 400, dtype=np.float64).reshape(400, 400) % 7
    ref = a @ a
    _parallel.park_blas_workers()
    np.testing.assert_array_equal(a @ a, ref)
    _parallel.park_blas_workers()
    _parallel.park_blas_workers()  # twice in a row: nothing to stop
    np.testing.assert_array_equal(a @ a, ref)


def test_setting_blas_threads_leaves_parked_workers_parked(restore_threads):
    """OpenBLAS's own setter starts parked workers again from the calling thread; Ember's count is written without
    that, and the next threaded call starts them (with the right result)."""
    if not _parallel._openblas_vars():
        pytest.skip("NumPy is not built on OpenBLAS here")
    ember.set_num_threads(2)
    a = np.arange(400 * 400, dtype=np.float64).reshape(400, 400) % 7
    ref = a @ a
    _parallel.park_blas_workers()
    assert _parallel.blas_workers_parked()
    for n in (1, 2):
        _parallel._set_blas_threads(n)
        assert _parallel.blas_num_threads() == n and _parallel.blas_workers_parked()
    np.testing.assert_array_equal(a @ a, ref)
    assert not _parallel.blas_workers_parked()


def test_share_blocks_small_work_stays_on_the_calling_thread(restore_threads, monkeypatch):
    """Below ``_SHARE_MIN_FLOPS`` the blocks run on the calling thread, BLAS's workers neither parked nor started
    again (M5's conv4: 0.63 -> 0.25 ms; inference after an idle spell 15.9 -> 4.6 ms): BLAS keeps its threads
    where it has workers and runs on one thread where they are parked. Above it every thread takes a share; the
    blocks cover ``range(n)`` either way."""
    from ember import _fast

    ember.set_num_threads(2)
    park = _parallel.park_blas_workers
    parked = []
    monkeypatch.setattr(_parallel, "park_blas_workers", lambda: parked.append(1))

    def run(flops, spans):
        seen = []

        def process(blocks):
            seen.append((threading.get_ident(), _parallel.blas_num_threads(), blocks))
            return blocks

        out = _fast.share_blocks(process, 10, 3, flops)
        assert [span for part in out for span in part] == spans
        return seen

    a = np.ones((512, 512))
    a @ a  # BLAS's workers running
    small = run(_fast._SHARE_MIN_FLOPS - 1, [(0, 3), (3, 6), (6, 9), (9, 10)])
    assert len(small) == 1 and small[0][0] == threading.get_ident() and not parked
    if _parallel._openblas_vars():
        assert small[0][1] == 2
        park()
        assert run(_fast._SHARE_MIN_FLOPS - 1, [(0, 3), (3, 6), (6, 9), (9, 10)])[0][1] == 1
        assert _parallel.blas_workers_parked() and _parallel.blas_num_threads() == 2
    large = run(_fast._SHARE_MIN_FLOPS, [(0, 3), (3, 5), (5, 8), (8, 10)])  # one share of 5 per thread
    assert len(large) == 2 and parked
    if _parallel.blas_num_threads() is not None:
        assert {s[1] for s in large} == {1}


def test_gemms_while_parked_stay_off_blas_threads(restore_threads, monkeypatch):
    """While OpenBLAS's workers are parked, Ember's large GEMMs (``matmul_2d``, the linear layer's bias GEMM) are
    shared among its own threads and small ones run on one thread: same results, the workers still parked. A
    GEMM that wanted them has them started again from a pool thread, for the next ones."""
    if not _parallel._openblas_vars():
        pytest.skip("NumPy is not built on OpenBLAS here")
    from ember import _fast
    from ember.ops import _lapack_native

    ember.set_num_threads(2)
    unparks = []
    monkeypatch.setattr(_parallel, "unpark_soon", lambda: unparks.append(1))
    rng = np.random.default_rng(0)
    for m, k, n in ((640, 512, 384), (128, 256, 128)):  # above and below _SHARE_MIN_FLOPS
        x, y, b = rng.standard_normal((m, k)), rng.standard_normal((k, n)), rng.standard_normal(n)
        ref = x @ y
        _parallel.park_blas_workers()
        np.testing.assert_allclose(_fast.matmul_2d(x, y), ref, rtol=1e-12, atol=1e-12)
        out = np.empty((m, n))
        assert _fast.matmul_2d(x, y, out) is out
        np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)
        lb = _lapack_native.linear_bias(x, np.ascontiguousarray(y.T), b)
        if lb is not None:
            np.testing.assert_allclose(lb, ref + b, rtol=1e-12, atol=1e-12)
        assert _parallel.blas_workers_parked() and _parallel.blas_num_threads() == 2
        assert unparks
        unparks.clear()
        # wake=False (a GEMM that a parallel region follows): same result, nothing started, not even soon
        np.testing.assert_allclose(_fast.matmul_2d(x, y, wake=False), ref, rtol=1e-12, atol=1e-12)
        assert _parallel.blas_workers_parked() and not unparks
    monkeypatch.undo()
    _parallel.unpark_soon()
    deadline = time.monotonic() + 10
    while _parallel._unpark_pending and time.monotonic() < deadline:  # the start runs on any pool thread
        time.sleep(0.001)
    assert not _parallel.blas_workers_parked()


def test_move_off_cpu():
    """A thread on the given CPU moves to another of its CPUs; its CPU mask is left as it was."""
    allowed = os.sched_getaffinity(0)
    if len(allowed) < 2 or _parallel.current_cpu() is None:
        pytest.skip("needs two CPUs and sched_getcpu")
    seen = []

    def body():
        cpu = _parallel.current_cpu()
        _parallel.move_off_cpu(cpu)
        seen.append((cpu, _parallel.current_cpu(), os.sched_getaffinity(0)))
        _parallel.move_off_cpu(None)  # unknown: nothing to do

    t = threading.Thread(target=body)
    t.start()
    t.join()
    before, after, mask = seen[0]
    assert before in allowed and after in allowed and after != before and mask == allowed


def test_keep_pool_off_leaves_the_callers_cpu_out_until_a_job_runs(restore_threads):
    """``keep_pool_off(cpu)`` takes ``cpu`` out of the idle pool threads' masks (so the threads a caller on that CPU
    wakes are placed elsewhere); a job submitted through ``submit`` gives its thread the whole mask back first."""
    allowed = os.sched_getaffinity(0)
    if len(allowed) < 2 or _parallel.current_cpu() is None:
        pytest.skip("needs two CPUs and sched_getcpu")
    _parallel.submit(1, lambda: None).result()  # a pool with a thread
    cpu = min(allowed)
    _parallel.keep_pool_off(cpu)
    tids = [t.native_id for t in _parallel._pool._threads]
    assert tids and all(os.sched_getaffinity(tid) == allowed - {cpu} for tid in tids)
    _parallel.keep_pool_off(cpu)  # already so: nothing to do
    masks = [_parallel.submit(1, os.sched_getaffinity, 0).result() for _ in tids]
    assert all(mask == allowed for mask in masks)
    _parallel.keep_pool_off(None)  # unknown CPU: nothing to do


def test_hold_cpu_keeps_the_thread_on_its_cpu_for_the_body_only(restore_threads):
    """``hold_cpu()`` narrows the calling thread's mask to the CPU it runs on for the body and gives the whole
    mask back after, also when the body raises; the work that ``_fast.share`` hands out runs so on each thread."""
    allowed = os.sched_getaffinity(0)
    if len(allowed) < 2 or _parallel.current_cpu() is None:
        pytest.skip("needs two CPUs and sched_getcpu")
    with _parallel.hold_cpu():
        held = os.sched_getaffinity(0)
        assert len(held) == 1 and held <= allowed and _parallel.current_cpu() in held
    assert os.sched_getaffinity(0) == allowed
    with pytest.raises(ValueError), _parallel.hold_cpu():
        raise ValueError("body failed")
    assert os.sched_getaffinity(0) == allowed

    masks = []
    _fast.share(lambda r0, r1: masks.append(len(os.sched_getaffinity(0))), 8, 1)
    shared = _fast._threads() > 1  # on a busy CPU (one active thread) the caller does it all, unheld
    assert len(masks) == 8 and all(n == (1 if shared else len(allowed)) for n in masks)
    assert os.sched_getaffinity(0) == allowed
    assert all(m == allowed for m in (_parallel.submit(1, os.sched_getaffinity, 0).result() for _ in range(2)))

    # and the parts of ``run_together`` (the LSTM's spin-barrier threads), each on its own CPU
    parts = {}
    _fast.run_together(lambda p: parts.update({p: os.sched_getaffinity(0)}), 2)
    assert sorted(parts) == [0, 1] and all(len(m) == 1 and m <= allowed for m in parts.values())
    assert os.sched_getaffinity(0) == allowed
