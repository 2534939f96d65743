"""The issue's accuracy bar on the real GLUE SST-2 (train -> dev), only with ../shared/datasets.

Opt in with EMBER_TEXT_ACCURACY=1: each run trains for many minutes on a 2-core CPU."""

from __future__ import annotations

import os
import time

import pytest

from embertext import train


@pytest.fixture
def sst2_files(shared_datasets):
    if os.environ.get("EMBER_TEXT_ACCURACY") != "1":
        pytest.skip("set EMBER_TEXT_ACCURACY=1 to run the full SST-2 accuracy runs")
    folder = shared_datasets / "SST2"
    return str(folder / "train.tsv"), str(folder / "dev.tsv")


def _run(files, tmp_path, extra):
    t0 = time.time()
    out = train.main(["--train-file", files[0], "--dev-file", files[1], "--no-progress", "--output-dir", str(tmp_path)] + extra)
    print(f"SST-2 {' '.join(extra)}: dev accuracy {100 * out['dev_acc']:.2f}% (best {100 * out['best_dev_acc']:.2f}%) "
          f"in {time.time() - t0:.0f}s, epochs {[round(s) for s in out['history']['epoch_seconds']]}s")
    return out


@pytest.mark.slow
def test_bilstm_reaches_83_percent_on_sst2_dev(sst2_files, tmp_path):
    # measured on an idle 2-core machine: 80.85%, 84.06%, 84.17%, 84.40% after epochs 1-4 (85-320 s per epoch,
    # about 11 minutes); the default-size model with "last" pooling stops near 80%
    out = _run(sst2_files, tmp_path, ["--model", "lstm", "--pooling", "max", "--embed-dim", "300", "--hidden-size", "256",
                                      "--epochs", "4", "--bucketing", "--dropout", "0.5", "--scheduler", "cosine"])
    assert out["dev_acc"] >= 0.83


@pytest.mark.slow
def test_transformer_reaches_80_percent_on_sst2_dev(sst2_files, tmp_path):
    # measured on a loaded 2-core machine (the bar is not reached yet): 78.21%, 78.90%, 79.01% after epochs 1-3 (1929 s)
    out = _run(sst2_files, tmp_path, ["--model", "transformer", "--epochs", "3", "--bucketing", "--pooling", "mean",
                                      "--dropout", "0.2", "--optimizer", "adamw"])
    assert out["dev_acc"] >= 0.80
