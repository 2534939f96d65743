"""ember.distributed on 2 MPI ranks (started by the launcher on this machine), and the single-process checks."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import ember
import ember.distributed as dist
import ember.nn as nn
from ember.distributed import run as launcher

SCRIPTS = pathlib.Path(__file__).parent / "scripts"
needs_mpi = pytest.mark.skipif(not dist.is_mpi_available(), reason="mpi4py / MPI is not installed (ember[mpi])")


def _launch(script, nproc=2, timeout=180):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    try:
        launcher.find_mpiexec()
    except SystemExit:
        pytest.skip("mpiexec is not installed (the mpich wheel of ember[mpi])")
    return subprocess.run([sys.executable, "-m", "ember.distributed.run", "--nproc-per-node", str(nproc),
                           str(SCRIPTS / script)], capture_output=True, text=True, timeout=timeout, env=env)


@needs_mpi
@pytest.mark.slow
def test_every_collective_matches_the_single_process_result():
    res = _launch("collectives.py")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "collectives OK rank 0" in res.stdout and "collectives OK rank 1" in res.stdout


@needs_mpi
@pytest.mark.slow
def test_ddp_on_two_halves_equals_one_process_on_the_whole_batch():
    res = _launch("ddp.py")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "ddp OK rank 0" in res.stdout and "ddp OK rank 1" in res.stdout


@needs_mpi
def test_launcher_sets_torchrun_environment():
    res = _launch("env.py")
    assert res.returncode == 0, res.stderr
    lines = sorted(line for line in res.stdout.splitlines() if line.startswith("env"))
    assert lines == ["env 0 0 2 127.0.0.1 29500", "env 1 1 2 127.0.0.1 29500"]


@needs_mpi
def test_a_failing_rank_stops_the_job_within_seconds():
    start = time.monotonic()
    res = _launch("crash.py", timeout=60)
    assert res.returncode != 0
    assert time.monotonic() - start < 45  # "within seconds" with margin for a loaded machine
    assert "rank 1 failed on purpose" in res.stderr and "[rank 1]" in res.stderr
    assert "a rank failed" in res.stderr


@needs_mpi
def test_a_rank_raising_mid_ddp_step_stops_the_job_within_seconds():
    start = time.monotonic()
    res = _launch("crash_ddp.py", timeout=60)
    assert res.returncode != 0
    assert time.monotonic() - start < 45, res.stderr
    assert "rank 1 failed on purpose mid-backward" in res.stderr and "a rank failed" in res.stderr


@needs_mpi
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_the_launcher_forwards_signals_and_leaves_no_orphans(tmp_path, signum):
    try:
        launcher.find_mpiexec()
    except SystemExit:
        pytest.skip("mpiexec is not installed (the mpich wheel of ember[mpi])")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.Popen([sys.executable, "-m", "ember.distributed.run", "--nproc-per-node", "2",
                             str(SCRIPTS / "sleeper.py"), str(tmp_path)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while len(list(tmp_path.glob("rank-*.pid"))) < 2:
            assert proc.poll() is None and time.monotonic() < deadline, "the ranks did not start"
            time.sleep(0.1)
        pids = [int(f.read_text()) for f in tmp_path.glob("rank-*.pid")]
        proc.send_signal(signum)
        proc.communicate(timeout=30)
        assert proc.returncode != 0
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in pids), "a rank outlived the launcher"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1][:1] not in ("Z", "X")  # a zombie is dead, only not reaped yet
    except FileNotFoundError:
        return False


@needs_mpi
def test_plain_mpiexec_gives_the_ranks_from_mpi():
    try:
        mpiexec = launcher.find_mpiexec()
    except SystemExit:
        pytest.skip("mpiexec is not installed (the mpich wheel of ember[mpi])")
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    res = subprocess.run([mpiexec, "-n", "2", sys.executable, str(SCRIPTS / "mpiexec_ranks.py")], capture_output=True,
                         text=True, timeout=120, env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    lines = sorted(line for line in res.stdout.splitlines() if line.startswith("mpiexec"))
    assert lines == ["mpiexec rank 0 of 2 sum 3 RANK=0", "mpiexec rank 1 of 2 sum 3 RANK=1"]


def test_a_missing_mpi4py_is_a_clear_error(monkeypatch):
    from ember.distributed import _mpi

    monkeypatch.setattr(_mpi, "_MPI", None)
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # import mpi4py now raises ImportError
    assert not dist.is_mpi_available()
    with pytest.raises(RuntimeError, match=r"needs mpi4py and an MPI library: pip install \"ember\[mpi\]\""):
        dist.init_process_group("mpi")
    assert not dist.is_initialized()


@needs_mpi
def test_a_rank_that_never_arrives_is_a_timeout_error():
    res = _launch("timeout.py", timeout=60)
    assert res.returncode == 3, res.stdout + res.stderr
    assert "[rank 0] all_reduce timed out after 1 s" in res.stdout


def test_collectives_before_init_process_group_raise():
    assert not dist.is_initialized()
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        dist.all_reduce(ember.ones(2))
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        dist.get_rank()
    with pytest.raises(RuntimeError, match="init_process_group"):
        nn.parallel.DistributedDataParallel(nn.Linear(2, 2))


def test_backend_names():
    assert dist.Backend("MPI") == "mpi" and dist.Backend("gloo") == "gloo"
    with pytest.raises(ValueError, match="Invalid backend: 'tcp'"):
        dist.Backend("tcp")
    assert dist.is_available()
    if not dist.is_nccl_available():  # CuPy / NCCL / a GPU missing: a clear error before anything starts
        with pytest.raises(RuntimeError, match="the 'nccl' backend needs CuPy with NCCL"):
            dist.init_process_group("nccl")
        assert not dist.is_initialized()
    assert repr(dist.ReduceOp.SUM) == "<ReduceOp.SUM: 0>"


def test_launcher_command_and_multi_node_check(monkeypatch):
    monkeypatch.setattr(launcher, "find_mpiexec", lambda: "/x/mpiexec")
    args = launcher._parser().parse_args(["--nproc-per-node", "3", "train.py", "--lr", "0.1"])
    cmd = launcher.command(args)
    assert cmd[:3] == ["/x/mpiexec", "-n", "3"]
    assert cmd[-4:] == ["--", "train.py", "--lr", "0.1"]
    assert "WORLD_SIZE" in cmd and cmd[cmd.index("WORLD_SIZE") + 1] == "3"
    with pytest.raises(SystemExit, match="--hostfile"):
        launcher.command(launcher._parser().parse_args(["--nnodes", "2", "train.py"]))


def test_distributed_sampler_set_epoch_shuffles_alike_on_every_rank():
    data = list(range(23))
    for epoch in (0, 1):
        shards = []
        for r in range(2):
            s = ember.utils.data.DistributedSampler(data, num_replicas=2, rank=r, shuffle=True, seed=5)
            s.set_epoch(epoch)
            shards.append(list(s))
        assert len(shards[0]) == len(shards[1]) == 12
        assert set(shards[0]) | set(shards[1]) == set(data)
        assert shards[0] + shards[1] != list(range(24))
    first = ember.utils.data.DistributedSampler(data, num_replicas=2, rank=0, seed=5)
    first.set_epoch(1)
    again = ember.utils.data.DistributedSampler(data, num_replicas=2, rank=0, seed=5)
    again.set_epoch(1)
    assert list(first) == list(again)


def test_sync_batchnorm_without_a_process_group_is_batchnorm():
    ember.manual_seed(0)
    bn = nn.BatchNorm2d(3)
    model = nn.Sequential(nn.Conv2d(2, 3, 1), bn)
    synced = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert isinstance(synced[1], nn.SyncBatchNorm) and synced[1].running_mean is bn.running_mean
    assert list(synced.state_dict()) == list(model.state_dict())
    x = ember.randn(4, 2, 5, 5)
    ref = nn.BatchNorm2d(3)
    ref.load_state_dict(bn.state_dict())
    np.testing.assert_allclose(synced[1](synced[0](x)).detach().numpy(),
                               ref(synced[0](x)).detach().numpy(), rtol=1e-6)


def test_post_accumulate_grad_hook_sees_the_accumulated_gradient():
    w = ember.ones(3, requires_grad=True)
    seen = []
    handle = w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.numpy().copy()))
    (w * 2).sum().backward()
    (w * 3).sum().backward()
    np.testing.assert_array_equal(seen[0], [2, 2, 2])
    np.testing.assert_array_equal(seen[1], [5, 5, 5])
    handle.remove()
    (w * 1).sum().backward()
    assert len(seen) == 2
    with pytest.raises(RuntimeError, match="non-leaf"):
        (w * 2).register_post_accumulate_grad_hook(lambda t: None)


def test_queue_callback_runs_once_after_backward():
    from ember.autograd import engine

    order = []
    w = ember.ones(2, requires_grad=True)
    w.register_hook(lambda g: engine.queue_callback(lambda: order.append(("callback", w.grad is not None))))
    (w * 2).sum().backward()
    assert order == [("callback", True)]
    with pytest.raises(RuntimeError, match="during the backward pass"):
        engine.queue_callback(lambda: None)


@needs_mpi
@pytest.mark.slow
def test_nccl_backend_on_the_fake_gpu_with_an_nccl_double():
    """The nccl backend's plumbing (unique id over MPI, NCCL's pointer/count/type/op/stream calls, every
    collective, DDP) on 2 ranks, without a GPU: fake CuPy plus a cupy.cuda.nccl double that moves the
    buffers through MPI (scripts/nccl.py)."""
    res = _launch("nccl.py")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "nccl OK rank 0" in res.stdout and "nccl OK rank 1" in res.stdout


@needs_mpi
def test_the_nccl_double_is_as_strict_as_nccl_about_point_to_point():
    """Grouped send/recv run together at groupEnd in any order, pairs must agree, and what hangs on NCCL
    (send then recv on both ranks outside a group) fails: the double cannot pass an ungrouped gather."""
    res = _launch("nccl_double_strict.py", timeout=90)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "strict OK rank 0" in res.stdout and "strict OK rank 1" in res.stdout


@needs_mpi
@pytest.mark.cuda
def test_nccl_backend_on_real_gpus(monkeypatch):
    """The same checks through CuPy's real NCCL, one rank per GPU (at most 2; a single GPU runs 1 rank)."""
    if not dist.is_nccl_available():
        pytest.skip("CuPy's NCCL is not installed")
    monkeypatch.setenv("EMBER_NCCL_REAL", "1")
    res = _launch("nccl.py", nproc=min(2, ember.cuda.device_count()))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "nccl OK rank 0" in res.stdout
