"""The image-classifier trainer (the README's main job) end to end, on small data."""

from __future__ import annotations

import json
import os
import re
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


def _tiny(tmp_path, *extra):
    """A run of a few seconds: 128 training images (2 batches), 32 test images, no bars."""
    return ["--limit-train", "128", "--limit-test", "32", "--no-progress", "--output-dir", str(tmp_path), *extra]


def _final_schedule(path):
    import ember

    state = ember.load(path)
    return state["scheduler"], [g["lr"] for g in state["optimizer"]["param_groups"]]


def test_resume_with_more_epochs_rebuilds_the_onecycle_schedule(tmp_path, capsys):
    first = train.main(_tiny(tmp_path / "a", "--epochs", "1"))
    resumed = train.main(_tiny(tmp_path / "a", "--epochs", "3", "--resume", first["checkpoint"]))
    text = capsys.readouterr().out
    assert "the checkpoint's onecycle schedule was built for 1 epoch: rebuilt the onecycle schedule" in text
    assert "for 3 epochs and moved it to epoch 1" in text
    assert len(resumed["history"]["test_acc"]) == 3
    # the rebuilt schedule ends where a 3-epoch run's ends: same length, same final learning rate
    straight = train.main(_tiny(tmp_path / "b", "--epochs", "3"))
    (sched_r, lr_r), (sched_s, lr_s) = _final_schedule(resumed["checkpoint"]), _final_schedule(straight["checkpoint"])
    assert sched_r["total_steps"] == sched_s["total_steps"] == 6 and sched_r["last_epoch"] == sched_s["last_epoch"] == 6
    np.testing.assert_allclose(lr_r, lr_s, rtol=1e-12)


def test_resume_with_a_longer_step_schedule_moves_it_to_the_resumed_epoch(tmp_path, capsys):
    first = train.main(_tiny(tmp_path, "--epochs", "3", "--scheduler", "step", "--optimizer", "sgd", "--lr", "0.1"))
    train.main(_tiny(tmp_path, "--epochs", "6", "--scheduler", "step", "--optimizer", "sgd", "--lr", "0.1",
                     "--resume", first["checkpoint"], "--limit-train", "64"))
    # step_size is now 6 // 3 = 2: after 3 epochs the rate is 0.1 * 0.1 ** (3 // 2), ending at 0.1 * 0.1 ** 3
    assert "moved it to epoch 3 (lr now 0.01)" in capsys.readouterr().out
    sched, lrs = _final_schedule(first["checkpoint"])
    assert sched["step_size"] == 2 and lrs == pytest.approx([1e-4])


def test_resume_with_nothing_left_to_train_claims_no_checkpoint(tmp_path, capsys):
    first = train.main(_tiny(tmp_path / "a", "--epochs", "1"))
    capsys.readouterr()
    again = train.main(_tiny(tmp_path / "b", "--epochs", "1", "--resume", first["checkpoint"]))
    text = capsys.readouterr().out
    assert again["checkpoint"] is None and not (tmp_path / "b" / "checkpoint.ember").exists()
    assert "(checkpoint:" not in text and str(tmp_path / "b") not in text.replace("history.json", "")
    assert "nothing left to train: the checkpoint has 1 epoch and --epochs is 1" in text
    assert again["test_acc"] == first["test_acc"]


def test_log_says_1_epoch_and_checkpoint_stores_the_config(tmp_path, capsys):
    out = train.main(_tiny(tmp_path, "--epochs", "1"))
    text = capsys.readouterr().out
    assert ", 1 epoch\n" in text and "1 epochs" not in text
    import ember

    config = ember.load(out["checkpoint"])["config"]
    assert config == {"model": "mnist_cnn", "num_classes": 10, "in_channels": 1, "image_size": 28, "resize": False,
                      "mean": [0.1307], "std": [0.3081], "classes": config["classes"], "dataset": "mnist-small"}
    assert config["classes"][3] == "3 - three"


def test_progress_bars_stay_off_when_stderr_is_not_a_terminal(tmp_path, capsys):
    train.main(["--limit-train", "128", "--limit-test", "32", "--epochs", "1", "--output-dir", str(tmp_path)])
    captured = capsys.readouterr()
    assert captured.err == ""  # no bars, no blank lines: only the summary lines on stdout
    assert "epoch 1/1: train loss" in captured.out


def test_help_gives_every_option_a_text_and_its_default(capsys):
    parser = train.build_parser()
    for action in parser._actions:
        assert action.help, f"{action.option_strings} has no help text"
    with pytest.raises(SystemExit) as exit_info:
        train.main(["--help"])
    assert exit_info.value.code == 0
    raw = capsys.readouterr().out
    text = " ".join(raw.split())  # undo the line wrapping
    assert "(default: None)" not in text and "(default: False)" not in text
    # one section per option: "--flag METAVAR help text (default: X)"
    sections = {part.split()[0]: " ".join(part.split()) for part in re.split(r"\n  (?=-)", raw.split("options:", 1)[1]) if part.strip()}
    for flag, default in (("--epochs", "4"), ("--batch-size", "64"), ("--optimizer", "adam"), ("--scheduler", "onecycle"),
                          ("--momentum", "0.9"), ("--test-batch-size", "256"), ("--seed", "1"), ("--workers", "0")):
        assert f"(default: {default})" in sections[flag], sections[flag]
    for action in parser._actions:  # one default per option, never two contradicting ones
        if action.option_strings and action.option_strings[0] != "-h":
            assert sections[action.option_strings[0]].count("default") <= 1, sections[action.option_strings[0]]
    assert "mnist_cnn, mobilenet_v2" in text and "resnet18" in text and "mnist, mnist-small, svhn" in text


@pytest.mark.parametrize("flag, value, listed", [("--model", "resnet9", "'resnet18'"), ("--dataset", "imagenet", "'mnist-small'")])
def test_unknown_model_or_dataset_is_a_usage_error(flag, value, listed, capsys):
    with pytest.raises(SystemExit) as exit_info:
        train.main([flag, value])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {flag}: invalid choice: '{value}'" in err and listed in err
