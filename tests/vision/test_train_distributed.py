"""embervision.train under ember.distributed.run: two ranks with the same global batch learn as one process."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

import ember.distributed as dist
from embervision import train

ARGS = ["--limit-train", "512", "--limit-test", "256", "--epochs", "2", "--batch-size", "64", "--scheduler", "none",
        "--no-progress"]


@pytest.mark.slow
@pytest.mark.skipif(not dist.is_mpi_available(), reason="mpi4py / MPI is not installed (ember[mpi])")
def test_two_ranks_reach_the_single_process_accuracy(tmp_path):
    from ember.distributed.run import find_mpiexec

    try:
        find_mpiexec()
    except SystemExit:
        pytest.skip("mpiexec is not installed")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p), OMP_NUM_THREADS="1")
    res = subprocess.run([sys.executable, "-m", "ember.distributed.run", "--nproc-per-node", "2", "-m",
                          "embervision.train", *ARGS, "--output-dir", str(tmp_path / "ddp")],
                         capture_output=True, text=True, timeout=900, env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "x 2 ranks" in res.stdout and res.stdout.count("epoch 2/2:") == 1  # rank 0 alone reports
    ddp_acc = float(re.search(r"final test accuracy: ([\d.]+)%", res.stdout).group(1)) / 100
    assert (tmp_path / "ddp" / "checkpoint.ember").exists()
    single = train.main(ARGS + ["--output-dir", str(tmp_path / "one")])
    assert ddp_acc > 0.6 and single["test_acc"] > 0.6
    assert abs(ddp_acc - single["test_acc"]) < 0.08, (ddp_acc, single["test_acc"])


def test_global_batch_must_split_evenly(monkeypatch):
    monkeypatch.setattr(dist, "is_initialized", lambda: True)
    monkeypatch.setattr(dist, "get_rank", lambda group=None: 0)
    monkeypatch.setattr(dist, "get_world_size", lambda group=None: 3)
    args = train.build_parser().parse_args(["--distributed", "--batch-size", "64"])
    with pytest.raises(SystemExit, match="--batch-size 64 must be divisible by the 3 ranks"):
        train._setup_distributed(args, list(range(10)))
