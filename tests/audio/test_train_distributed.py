"""emberaudio.train --distributed under ember.distributed.run: two ranks sharing each global batch end with the
parameters one process gets on the whole batch."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.distributed as dist
from emberaudio import train

# M5 on raw waveforms (batch norm, no dropout): SGD keeps float32 rounding differences at rounding size
ARGS = ["--feature", "waveform", "--limit-train", "64", "--limit-test", "32", "--batch-size", "16", "--epochs", "2",
        "--channels", "4", "--scheduler", "none", "--optimizer", "sgd", "--lr", "0.05", "--no-progress"]


def test_two_ranks_match_one_process_with_the_same_global_batch(tmp_path, launch_ranks):
    res = launch_ranks("emberaudio.train", [*ARGS, "--distributed", "--output-dir", str(tmp_path / "ddp")])
    assert res.returncode == 0, res.stdout + res.stderr
    assert "x 2 ranks" in res.stdout and res.stdout.count("epoch 2/2:") == 1  # rank 0 alone reports
    single = train.main(ARGS + ["--output-dir", str(tmp_path / "one")])
    ddp = ember.load(str(tmp_path / "ddp" / "checkpoint.ember"))
    np.testing.assert_allclose(ddp["history"]["train_loss"], single["history"]["train_loss"], rtol=1e-5)
    np.testing.assert_allclose(ddp["history"]["test_loss"], single["history"]["test_loss"], rtol=1e-5)
    one = ember.load(single["checkpoint"])["model"]
    assert ddp["model"].keys() == one.keys()  # SyncBatchNorm keeps BatchNorm's keys
    for key, value in one.items():
        np.testing.assert_allclose(ddp["model"][key].numpy(), value.numpy(), rtol=1e-4, atol=1e-5, err_msg=key)


def test_global_batch_must_split_evenly(monkeypatch, tmp_path):
    monkeypatch.setattr(dist, "is_initialized", lambda: True)
    monkeypatch.setattr(dist, "get_rank", lambda group=None: 0)
    monkeypatch.setattr(dist, "get_world_size", lambda group=None: 3)
    with pytest.raises(SystemExit, match="--batch-size 16 must be divisible by the 3 ranks"):
        train.main(ARGS + ["--distributed", "--output-dir", str(tmp_path)])
