"""``embervision.train --amp``: mixed-precision training (ember.autocast) on the MNIST CNN."""

from __future__ import annotations

import os
import time

import pytest

import ember
from embervision import train


def _tiny(tmp_path, *extra):
    return ["--limit-train", "128", "--limit-test", "32", "--epochs", "1", "--no-progress", "--scheduler", "none",
            "--output-dir", str(tmp_path), *extra]


def test_amp_bfloat16_on_cpu_runs_the_convs_in_bfloat16(tmp_path, capsys, monkeypatch):
    seen = []
    forward = ember.nn.Conv2d.forward

    def spy(self, input):
        out = forward(self, input)
        seen.append(out.dtype)
        return out

    monkeypatch.setattr(ember.nn.Conv2d, "forward", spy)
    out = train.main(_tiny(tmp_path, "--amp"))
    assert "autocast ember.bfloat16" in capsys.readouterr().out
    assert seen and set(seen) == {ember.bfloat16}
    assert 0.0 <= out["test_acc"] <= 1.0 and all(v == v for v in out["history"]["train_loss"])  # finite, not NaN
    # the weights stay float32: autocast casts copies for the region only
    state = ember.load(out["checkpoint"])
    assert {v.dtype for v in state["model"].values() if v.is_floating_point()} == {ember.float32}


def test_amp_float16_uses_a_grad_scaler(tmp_path, monkeypatch):
    steps = []
    real_step = ember.amp.GradScaler.step

    def step(self, optimizer, *args, **kwargs):
        steps.append(self.get_scale())
        return real_step(self, optimizer, *args, **kwargs)

    monkeypatch.setattr(ember.amp.GradScaler, "step", step)
    train.main(_tiny(tmp_path, "--amp", "--amp-dtype", "float16"))
    assert steps and steps[0] == 2.0**16  # every training batch went through the scaler


@pytest.mark.slow
def test_full_mnist_bfloat16_autocast_matches_float32(shared_datasets, tmp_path):
    """Issue 18's bar: the MNIST CNN trained under ``autocast("cpu", bfloat16)`` reaches float32's test accuracy
    within 0.3 points (same seed, same batches). Opt in with EMBER_FULL_MNIST=1 (tens of minutes: two runs);
    EMBER_FULL_MNIST_LIMIT_TRAIN=N trains on the first N images only (the whole 10k test set is always used)."""
    if os.environ.get("EMBER_FULL_MNIST") != "1":
        pytest.skip("set EMBER_FULL_MNIST=1 to run the full-MNIST mixed-precision accuracy run")
    limit = os.environ.get("EMBER_FULL_MNIST_LIMIT_TRAIN")
    args = ["--dataset", "mnist", "--data-root", str(shared_datasets), "--epochs", "2", "--batch-size", "64",
            "--no-progress", *(["--limit-train", limit] if limit else [])]
    acc, seconds = {}, {}
    for name, extra in (("float32", []), ("bfloat16", ["--amp", "--amp-dtype", "bfloat16"])):
        t0 = time.time()
        out = train.main([*args, "--output-dir", str(tmp_path / name), *extra])
        acc[name], seconds[name] = out["test_acc"], time.time() - t0
    with open("/proc/loadavg") if os.path.exists("/proc/loadavg") else open(os.devnull) as f:
        load = f.read().strip()
    print(f"MNIST CNN, 2 epochs, {limit or 60000} train images: float32 {100 * acc['float32']:.2f}% in "
          f"{seconds['float32']:.0f}s, autocast bfloat16 {100 * acc['bfloat16']:.2f}% in {seconds['bfloat16']:.0f}s "
          f"(load average {load})")
    assert acc["float32"] >= (0.98 if not limit else 0.9)  # the runs learned (the whole set: MNIST-CNN level)
    assert abs(acc["bfloat16"] - acc["float32"]) <= 0.003


def _fp16_vs_fp32_on_cuda(shared_datasets, tmp_path, extra_args):
    args = ["--dataset", "mnist", "--data-root", str(shared_datasets), "--device", "cuda", "--no-progress", *extra_args]
    acc, seconds = {}, {}
    for name, extra in (("float32", []), ("float16", ["--amp", "--amp-dtype", "float16"])):
        t0 = time.time()
        out = train.main([*args, "--output-dir", str(tmp_path / name), *extra])
        acc[name], seconds[name] = out["test_acc"], time.time() - t0
        assert all(v == v for v in out["history"]["train_loss"]), name  # no NaN loss reached the log
    with open("/proc/loadavg") if os.path.exists("/proc/loadavg") else open(os.devnull) as f:
        load = f.read().strip()
    print(f"MNIST CNN on cuda ({' '.join(extra_args)}): float32 {100 * acc['float32']:.2f}% in {seconds['float32']:.0f}s, "
          f"float16 autocast + GradScaler {100 * acc['float16']:.2f}% in {seconds['float16']:.0f}s (load average {load})")
    return acc


@pytest.mark.gpu
@pytest.mark.slow
def test_mnist_subset_float16_grad_scaler_on_cuda_matches_float32(shared_datasets, tmp_path):
    """Issue 18's bar on the GPU path (the fake CUDA in CI, or a real GPU): the MNIST CNN trained with float16
    autocast + GradScaler reaches float32's test accuracy within 0.3 points, on a subset that runs in under a
    minute on the fake (2,048 training images, one epoch of the default Adam + one-cycle schedule; 2,000 test
    images). Measured on a loaded machine (load ~6): float32 78.60% in 16 s, float16 78.60% in 34 s. At 1,024
    training images (mid-training, 64% accuracy) the two runs differed by 1.25 points: the bar is met by models
    that have learned, not at every point of a trajectory."""
    acc = _fp16_vs_fp32_on_cuda(shared_datasets, tmp_path, ["--epochs", "1", "--limit-train", "2048", "--limit-test", "2000"])
    assert acc["float32"] >= 0.7  # it learned
    assert abs(acc["float16"] - acc["float32"]) <= 0.003


@pytest.mark.gpu
@pytest.mark.slow
def test_full_mnist_float16_grad_scaler_on_cuda_matches_float32(shared_datasets, tmp_path):
    """As above on all of MNIST for 2 epochs (opt in with EMBER_FULL_MNIST=1: long on the fake CUDA)."""
    if os.environ.get("EMBER_FULL_MNIST") != "1":
        pytest.skip("set EMBER_FULL_MNIST=1 to run the full-MNIST float16 accuracy run")
    acc = _fp16_vs_fp32_on_cuda(shared_datasets, tmp_path, ["--epochs", "2", "--batch-size", "64"])
    assert acc["float32"] >= 0.98
    assert abs(acc["float16"] - acc["float32"]) <= 0.003
