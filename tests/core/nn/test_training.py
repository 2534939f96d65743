"""End-to-end: an MLP and a small CNN (conv, batch norm, pooling, dropout, cross-entropy, Adam/SGD)
fit a fixed batch to near-zero loss; a model and optimizer checkpoint resumes to the same trajectory."""

import io

import numpy as np

import ember
import ember.nn as nn
import ember.nn.functional as F


def _batch(n=32, shape=(1, 8, 8), classes=4, seed=0):
    rng = np.random.default_rng(seed)
    x = ember.tensor(rng.normal(size=(n,) + shape).astype(np.float32))
    y = ember.tensor(rng.integers(0, classes, size=n))
    return x, y


def _fit(model, opt, x, y, steps):
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_mlp_fits_a_fixed_batch():
    ember.manual_seed(0)
    x, y = _batch()
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 4))
    losses = _fit(model, ember.optim.Adam(model.parameters(), lr=1e-2), x, y, 150)
    assert losses[0] > 1.0 and losses[-1] < 0.01
    model.eval()
    assert (model(x).argmax(1) == y).all()


def test_cnn_with_batchnorm_and_pooling_fits_a_fixed_batch():
    ember.manual_seed(0)
    x, y = _batch()
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(),
        nn.Dropout(0.1), nn.Linear(64, 4),
    )
    losses = _fit(model, ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9), x, y, 150)
    assert losses[0] > 1.0 and losses[-1] < 0.05
    model.eval()
    assert (model(x).argmax(1) == y).float().mean().item() == 1.0


def test_checkpoint_resumes_bit_for_bit():
    def build():
        ember.manual_seed(1)
        m = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.Tanh(), nn.Linear(16, 4))
        return m, ember.optim.Adam(m.parameters(), lr=1e-2)

    x, y = _batch(seed=3)
    model, opt = build()
    _fit(model, opt, x, y, 5)
    buf = io.BytesIO()
    ember.save({"model": model.state_dict(), "optim": opt.state_dict()}, buf)
    expected = _fit(model, opt, x, y, 5)

    model2, opt2 = build()
    buf.seek(0)
    state = ember.load(buf)
    model2.load_state_dict(state["model"])
    opt2.load_state_dict(state["optim"])
    assert _fit(model2, opt2, x, y, 5) == expected
