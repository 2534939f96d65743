"""The image-classifier trainer (the README's main job) end to end, on small data."""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest
from PIL import Image

from embervision import train


@pytest.mark.slow
def test_trainer_defaults_learn_bundled_mnist(tmp_path, capsys):
    # 32 Adam steps: PyTorch itself reaches 81-85% here (seeds 1-3), ember 82-86%; chance is 10%
    out = train.main(["--epochs", "1", "--limit-train", "2000", "--limit-test", "500", "--no-progress", "--scheduler", "none",
                      "--output-dir", str(tmp_path), "--save-curves", "--save-predictions"])
    assert out["test_acc"] > 0.75
    text = capsys.readouterr().out
    assert "epoch 1/1: train loss" in text and "final test accuracy" in text
    with Image.open(tmp_path / "curves.png") as curves, Image.open(tmp_path / "predictions.png") as preds:
        assert curves.size == (720, 320) and preds.mode == "RGB"
    assert json.loads((tmp_path / "history.json").read_text())["test_acc"][0] == pytest.approx(out["test_acc"])


@pytest.mark.slow
def test_trainer_checkpoint_resume(tmp_path):
    args = ["--epochs", "2", "--limit-train", "256", "--limit-test", "128", "--no-progress", "--output-dir", str(tmp_path),
            "--optimizer", "sgd", "--scheduler", "step"]
    first = train.main(args[:1] + ["1"] + args[2:])
    resumed = train.main(args + ["--resume", first["checkpoint"]])
    assert len(resumed["history"]["test_acc"]) == 2
    straight = train.main(args + ["--output-dir", str(tmp_path / "straight")])
    np.testing.assert_allclose(resumed["history"]["train_loss"], straight["history"]["train_loss"], rtol=1e-5)


@pytest.mark.slow
def test_trainer_on_an_image_folder(tmp_path):
    rng = np.random.default_rng(0)
    for split, n in (("train", 24), ("val", 8)):
        for cls, base in (("dark", 40), ("light", 210)):
            (tmp_path / "data" / split / cls).mkdir(parents=True)
            for i in range(n):
                arr = np.clip(base + rng.integers(-30, 30, (16, 16, 3)), 0, 255).astype(np.uint8)
                Image.fromarray(arr).save(tmp_path / "data" / split / cls / f"{i}.png")
    out = train.main(["--dataset", "imagefolder", "--data-root", str(tmp_path / "data"), "--model", "resnet18",
                      "--image-size", "16", "--epochs", "2", "--batch-size", "8", "--no-progress", "--output-dir", str(tmp_path / "run")])
    assert out["test_acc"] >= 0.75


def test_missing_dataset_is_a_clear_exit(tmp_path):
    with pytest.raises(SystemExit, match="Dataset not found"):
        train.main(["--dataset", "mnist", "--data-root", str(tmp_path), "--no-progress"])


@pytest.mark.slow
def test_full_mnist_accuracy(shared_datasets, tmp_path):
    """The issue's bar: >= 99.0% on MNIST's test set with the default CNN (only with ../shared/datasets).

    Opt in with EMBER_FULL_MNIST=1: it trains for several minutes."""
    if os.environ.get("EMBER_FULL_MNIST") != "1":
        pytest.skip("set EMBER_FULL_MNIST=1 to run the full-MNIST accuracy run")
    t0 = time.time()
    out = train.main(["--dataset", "mnist", "--data-root", str(shared_datasets), "--epochs", "4", "--batch-size", "64",
                      "--no-progress", "--output-dir", str(tmp_path)])
    print(f"full MNIST: {100 * out['test_acc']:.2f}% in {time.time() - t0:.0f}s")
    assert out["test_acc"] >= 0.99


@pytest.mark.slow
def test_resnet18_trains_on_an_image_folder_of_mnist_pngs(shared_datasets, tmp_path):
    """MNIST digits exported as PNGs into class folders, read back through ImageFolder by ResNet-18."""
    from embervision import datasets

    for split, train_flag, n in (("train", True, 640), ("val", False, 200)):
        ds = datasets.MNIST(str(shared_datasets), train=train_flag)
        for i in range(n):
            img, label = ds[i]
            folder = tmp_path / "digits" / split / str(label)
            folder.mkdir(parents=True, exist_ok=True)
            img.save(folder / f"{i}.png")
    out = train.main(["--dataset", "imagefolder", "--data-root", str(tmp_path / "digits"), "--model", "resnet18",
                      "--image-size", "32", "--epochs", "1", "--batch-size", "32", "--optimizer", "adam",
                      "--scheduler", "none", "--no-progress", "--output-dir", str(tmp_path / "run")])
    losses = out["history"]["train_loss"]
    assert out["test_acc"] > 0.3, out  # chance is 0.1
    assert losses[-1] < 2.0  # the epoch's mean loss is well below chance level (ln 10 = 2.30)
