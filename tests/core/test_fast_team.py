"""The compiled team of threads (``ember._fast_team``: numba's ``prange`` on OpenMP) that runs the strided ("win") and
small stride-1 ("seq") 1-D convolution forwards: the same outputs as the one-thread kernels and a float64 reference,
and the places it must not be used (off the main thread, inside Ember's parallel regions, on a busy CPU, in a forked
child)."""

import multiprocessing
import os
import threading

import numpy as np
import pytest

import ember
from ember import _fast, _parallel

from ._numba import HAVE_NUMBA

pytestmark = pytest.mark.skipif(not HAVE_NUMBA, reason="numba (the ember[fast] extra) is not installed")


def _team():
    from ember import _fast_team

    return _fast_team


@pytest.fixture
def two_threads(monkeypatch):
    """Two active threads whatever the machine's load, the team's two threads there (else skip)."""
    monkeypatch.delenv("EMBER_NO_FAST", raising=False)
    monkeypatch.setattr(_parallel, "active_threads", lambda: 2)
    if _team().threads() < 2:
        pytest.skip("no team of two threads here (one CPU, or numba without an OpenMP or TBB layer)")


def _conv1d_reference(x, w, b, stride):
    """float64 conv1d of x (N, C, W) with w (O, C, k), no padding."""
    k = w.shape[2]
    win = np.lib.stride_tricks.sliding_window_view(x.astype(np.float64), k, axis=2)[:, :, ::stride]  # N C Wo k
    return np.einsum("nctk,ock->not", win, w.astype(np.float64)) + b.astype(np.float64)[:, None]


def _counting(monkeypatch, name):
    from ember import _fast_conv

    calls = []
    kernel = getattr(_fast_conv, name)

    def counted(*args):
        calls.append(args[0].shape)
        return kernel(*args)

    monkeypatch.setattr(_fast_conv, name, counted)
    return calls


@pytest.mark.parametrize("case", [
    # (N, C, W, O, k, stride, kernel): M5's first and second layers, and odd sizes that split unevenly
    (32, 1, 8000, 32, 80, 16, "win_forward_team"),
    (23, 2, 4003, 24, 40, 8, "win_forward_team"),
    (32, 32, 124, 32, 3, 1, "taps_forward_team"),
    (5, 24, 101, 40, 5, 1, "taps_forward_team"),
])
def test_team_forward_matches_one_thread_and_float64(two_threads, monkeypatch, case):
    N, C, W, O, k, stride, kernel = case
    ember.manual_seed(0)
    conv = ember.nn.Conv1d(C, O, k, stride=stride)
    x = ember.randn(N, C, W)
    monkeypatch.setattr(_fast, "TEAM_MIN_FLOPS", 1)  # the small cases too
    calls = _counting(monkeypatch, kernel)
    with ember.no_grad():
        y_team = conv(x).numpy()
    assert len(calls) == 1, "the team kernel did not run"
    monkeypatch.setattr(_fast, "team_threads", lambda n, flops: 1)
    with ember.no_grad():
        y_one = conv(x).numpy()
    assert len(calls) == 1
    np.testing.assert_allclose(y_team, y_one, rtol=1e-6, atol=1e-6)
    ref = _conv1d_reference(x.numpy(), conv.weight.detach().numpy(), conv.bias.detach().numpy(), stride)
    np.testing.assert_allclose(y_team, ref, rtol=1e-4, atol=1e-4)


def test_training_forward_runs_without_the_team(two_threads, monkeypatch):
    # the team's worker spins on after a region and would take a core from the backward's threads: only forwards that
    # no backward follows use it
    ember.manual_seed(0)
    conv = ember.nn.Conv1d(1, 16, 80, stride=16)
    x = ember.randn(8, 1, 3200, requires_grad=True)  # 196 outputs: "win", not "seq", in inference too
    monkeypatch.setattr(_fast, "TEAM_MIN_FLOPS", 1)
    calls = _counting(monkeypatch, "win_forward_team")
    y = conv(x)
    y.square().sum().backward()
    assert calls == []
    with ember.no_grad():
        y_team = conv(x)
    assert len(calls) == 1
    np.testing.assert_allclose(y_team.numpy(), y.detach().numpy(), rtol=1e-6, atol=1e-6)


def test_no_team_where_it_must_not_run(two_threads, monkeypatch):
    team = _team()
    assert team.threads() == 2
    with _parallel.region():
        assert team.threads() == 1  # inside Ember's own parallel region
    seen = []
    t = threading.Thread(target=lambda: seen.append(team.threads()))
    t.start()
    t.join()
    assert seen == [1]  # off the main thread
    monkeypatch.setattr(_parallel, "active_threads", lambda: 1)
    assert team.threads() == 1  # a busy CPU
    monkeypatch.setattr(_parallel, "active_threads", lambda: 2)
    assert team.threads() == 2
    assert _fast.team_threads(1, 10**9) == 1  # one item
    assert _fast.team_threads(64, _fast.TEAM_MIN_FLOPS - 1) == 1  # too little work


def _child_conv(queue):
    from ember import _fast_team

    ember.manual_seed(0)
    conv = ember.nn.Conv1d(1, 32, 80, stride=16)
    with ember.no_grad():
        y = conv(ember.randn(8, 1, 8000))
    queue.put((_fast_team.threads(), float(y.sum())))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork only")
def test_forked_child_runs_without_the_team(two_threads):
    # GNU OpenMP cannot run in a child forked after it started: there the one-thread kernels run
    ember.manual_seed(0)
    conv = ember.nn.Conv1d(1, 32, 80, stride=16)
    with ember.no_grad():
        conv(ember.randn(32, 1, 8000))  # the team has run in this process
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child_conv, args=(queue,))
    child.start()
    try:
        threads, total = queue.get(timeout=60)
    finally:
        child.join(timeout=60)
        if child.is_alive():
            child.kill()
    assert child.exitcode == 0
    assert threads == 1
    assert np.isfinite(total)


def test_place_keeps_workers_off_the_callers_cpu(two_threads):
    team = _team()
    cpu = _parallel.current_cpu()
    allowed = sorted(os.sched_getaffinity(0))
    (_, _, caller, off, whole), mask = team._place()
    bits = lambda m: {w * 64 + b for w in range(m.size) for b in range(64) if int(m[w]) >> b & 1}  # noqa: E731
    assert caller == cpu and list(mask) == allowed
    assert bits(whole) == set(allowed)
    assert bits(off) == set(allowed) - {cpu}
    with _parallel.hold_cpu():  # a thread held on one CPU: nowhere to move the workers to, so no moves
        assert team._place()[0][2] == -1
    with team.running(1) as place:  # the caller held on its CPU meanwhile, its mask given back after
        assert place[2] == cpu and sorted(os.sched_getaffinity(0)) == [cpu]
    assert sorted(os.sched_getaffinity(0)) == allowed


def test_launch_leaves_the_environment_as_it_was(two_threads):
    before = os.environ.get("GOMP_SPINCOUNT")
    _team().threads()
    assert os.environ.get("GOMP_SPINCOUNT") == before
