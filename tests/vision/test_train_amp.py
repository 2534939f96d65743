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
