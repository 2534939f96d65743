"""embervision.train under ember.distributed.run: two ranks with the same global batch learn as one process."""

from __future__ import annotations

import re

import pytest

import ember.distributed as dist
from embervision import train

ARGS = ["--limit-train", "512", "--limit-test", "256", "--epochs", "2", "--batch-size", "64", "--scheduler", "none",
        "--no-progress"]


@pytest.mark.slow
def test_two_ranks_reach_the_single_process_accuracy(tmp_path, launch_ranks):
    res = launch_ranks("embervision.train", [*ARGS, "--output-dir", str(tmp_path / "ddp")], timeout=900)
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
