"""A small CNN trained with autocast bfloat16, and with float16 + GradScaler, follows the float32 loss
trajectory (CPU; a few seconds)."""

import numpy as np

import ember
import ember.nn as nn
import ember.nn.functional as F


def net():
    ember.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 4 * 4, 32), nn.ReLU(), nn.Linear(32, 4),
    )


def data():
    """Four classes of 16x16 images: a bright bar in one of four places, plus noise."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 64)
    x = rng.normal(0, 0.7, (64, 1, 16, 16)).astype(np.float32)
    for i, c in enumerate(y):
        x[i, 0, 4 * c:4 * c + 4, :] += 0.7
    return ember.tensor(x), ember.tensor(y)


def train(mode, steps=24):
    model, (x, y) = net(), data()
    opt = ember.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    scaler = ember.amp.GradScaler("cpu", init_scale=2.0**10, enabled=mode == "float16")
    losses = []
    for i in range(steps):
        xb, yb = x[(i % 4) * 16:(i % 4 + 1) * 16], y[(i % 4) * 16:(i % 4 + 1) * 16]
        opt.zero_grad()
        with ember.autocast("cpu", dtype=ember.float16 if mode == "float16" else ember.bfloat16,
                            enabled=mode != "float32"):
            out = model(xb)
            loss = F.cross_entropy(out, yb)
        assert out.dtype.name == mode and loss.dtype == ember.float32
        scaler.scale(loss).backward()
        assert all(p.grad.dtype == ember.float32 for p in model.parameters())
        scaler.step(opt)
        scaler.update()
        losses.append(loss.item())
    with ember.no_grad():
        acc = (model(x).argmax(1) == y).float().mean().item()
    return np.array(losses), acc, scaler.get_scale()


def test_autocast_bf16_and_fp16_with_grad_scaler_follow_float32():
    ref, acc32, _ = train("float32")
    assert ref[-4:].mean() < 0.05 * ref[:4].mean()  # it learns
    for mode, tol in (("bfloat16", 0.02), ("float16", 0.005)):
        losses, acc, scale = train(mode)
        np.testing.assert_allclose(losses, ref, atol=tol, rtol=0.05, err_msg=mode)
        assert abs(acc - acc32) <= 1 / 64, mode
    assert scale == 2.0**10  # no overflow: 24 clean steps < growth_interval (2000)
