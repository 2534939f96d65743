"""embertext.train --distributed under ember.distributed.run: two ranks sharing each global batch end with the
parameters one process gets on the whole batch."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import ember
import ember.distributed as dist
from embertext import train

# no dropout (each rank draws its own masks) and SGD (Adam magnifies float32 rounding in near-zero gradients)
ARGS = ["--limit-train", "128", "--limit-dev", "64", "--batch-size", "32", "--epochs", "2", "--embed-dim", "16",
        "--hidden-size", "16", "--dropout", "0", "--scheduler", "none", "--optimizer", "sgd", "--no-progress"]


@pytest.mark.skipif(not dist.is_mpi_available(), reason="mpi4py / MPI is not installed (ember[mpi])")
@pytest.mark.parametrize("extra", [[], ["--bucketing"]], ids=["shuffled", "bucketing"])
def test_two_ranks_match_one_process_with_the_same_global_batch(tmp_path, extra):
    from ember.distributed.run import find_mpiexec

    try:
        find_mpiexec()
    except SystemExit:
        pytest.skip("mpiexec is not installed")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p), OMP_NUM_THREADS="1")
    res = subprocess.run([sys.executable, "-m", "ember.distributed.run", "--nproc-per-node", "2", "-m",
                          "embertext.train", *ARGS, *extra, "--output-dir", str(tmp_path / "ddp")],
                         capture_output=True, text=True, timeout=300, env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "x 2 ranks" in res.stdout and res.stdout.count("epoch 2/2:") == 1  # rank 0 alone reports
    single = train.main(ARGS + extra + ["--output-dir", str(tmp_path / "one")])
    ddp = ember.load(str(tmp_path / "ddp" / "checkpoint.ember"))
    for key in ("train_loss", "train_acc", "dev_loss", "dev_acc"):
        np.testing.assert_allclose(ddp["history"][key], single["history"][key], rtol=1e-5, err_msg=key)
    one = ember.load(single["checkpoint"])["model"]
    assert ddp["model"].keys() == one.keys()
    for key, value in one.items():
        np.testing.assert_allclose(ddp["model"][key].numpy(), value.numpy(), rtol=1e-4, atol=1e-5, err_msg=key)


def test_global_batch_must_split_evenly(monkeypatch, tmp_path):
    monkeypatch.setattr(dist, "is_initialized", lambda: True)
    monkeypatch.setattr(dist, "get_rank", lambda group=None: 0)
    monkeypatch.setattr(dist, "get_world_size", lambda group=None: 3)
    with pytest.raises(SystemExit, match="--batch-size 32 must be divisible by the 3 ranks"):
        train.main(ARGS + ["--distributed", "--output-dir", str(tmp_path)])
