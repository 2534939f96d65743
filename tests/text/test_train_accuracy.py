"""The issue's accuracy bar on the real GLUE SST-2 (train -> dev), only with ../shared/datasets.

Opt in with EMBER_TEXT_ACCURACY=1: each run trains for many minutes on a 2-core CPU."""

from __future__ import annotations

import os
import time

import pytest

import ember
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


def _checkpoint_accuracy(path, dev_file):
    """Dev accuracy of a saved checkpoint, loaded as a user would (``embertext.predict``)."""
    from embertext.predict import Classifier

    rows = train._read_labelled_file(dev_file)
    classifier = Classifier(path)
    probs = classifier.predict_proba([text for text, _ in rows])
    labels = ember.tensor([classifier.labels.index(label) for _, label in rows])
    return float((probs.argmax(1) == labels).float().mean())


@pytest.mark.slow
def test_bilstm_reaches_83_percent_on_sst2_dev(sst2_files, tmp_path):
    # measured on an idle 2-core machine: 80.85%, 84.06%, 84.17%, 84.40% after epochs 1-4 (85-320 s per epoch,
    # about 11 minutes); the default-size model with "last" pooling stops near 80%
    out = _run(sst2_files, tmp_path, ["--model", "lstm", "--pooling", "max", "--embed-dim", "300", "--hidden-size", "256",
                                      "--epochs", "4", "--bucketing", "--dropout", "0.5", "--scheduler", "cosine"])
    assert out["dev_acc"] >= 0.83


@pytest.mark.slow
def test_transformer_reaches_80_percent_on_sst2_dev(sst2_files, tmp_path):
    # this test on an idle 2-core machine: 81.19% after epoch 2 (39 s + 43 s per epoch, 84 s in all); on a
    # heavily loaded one (load 18-19): 79.01%, 81.19% after epochs 1-2 (539 s and 540 s per epoch). What got it past 80%: no position codes (with sinusoidal ones, the same run gives 77.41%,
    # 78.90%: dev sentences up to 55 tokens are longer than most training phrases, and accuracy on those
    # over 30 tokens drops to 68%), max pooling over the real tokens, dropout 0.5, AdamW with weight decay
    # 0.1, label smoothing 0.1, and a warm-up + linear decay schedule over 2 epochs (longer runs overfit:
    # train accuracy 90% after epoch 2). Earlier configurations (CLS/mean pooling, dropout 0.1-0.2, sinusoidal
    # positions) stopped at 78-79%. Same configuration with --seed 2: 80.73%, 81.31% (738 s, 555 s per
    # epoch); with --pooling mean instead of max: 80.39%, 80.62%.
    out = _run(sst2_files, tmp_path, ["--model", "transformer", "--positions", "none", "--pooling", "max",
                                      "--dropout", "0.5", "--epochs", "2", "--bucketing", "--optimizer", "adamw",
                                      "--lr", "1e-3", "--weight-decay", "0.1", "--label-smoothing", "0.1",
                                      "--scheduler", "linear"])
    assert out["best_dev_acc"] >= 0.80
    # the best checkpoint (what embertext.predict and deployment load) really has that accuracy
    assert abs(_checkpoint_accuracy(out["best"], sst2_files[1]) - out["best_dev_acc"]) < 1.5 / 872
