"""embertext.train --distributed under ember.distributed.run: two ranks sharing each global batch end with the
parameters one process gets on the whole batch."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.distributed as dist
from embertext import train

# no dropout (each rank draws its own masks) and SGD (Adam magnifies float32 rounding in near-zero gradients)
ARGS = ["--limit-train", "128", "--limit-dev", "64", "--batch-size", "32", "--epochs", "2", "--embed-dim", "16",
        "--hidden-size", "16", "--dropout", "0", "--scheduler", "none", "--optimizer", "sgd", "--no-progress"]


@pytest.mark.parametrize("extra", [[], ["--bucketing"]], ids=["shuffled", "bucketing"])
def test_two_ranks_match_one_process_with_the_same_global_batch(tmp_path, launch_ranks, extra):
    res = launch_ranks("embertext.train", [*ARGS, *extra, "--output-dir", str(tmp_path / "ddp")])
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
