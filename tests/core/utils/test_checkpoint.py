"""ember.utils.checkpoint: equal gradients with recomputation, RNG replay for dropout, lower peak memory."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.utils.checkpoint import checkpoint, checkpoint_sequential


def _model():
    ember.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Dropout(0.5), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 2))


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_gradients_equal_the_plain_run_with_dropout(use_reentrant):
    x = ember.randn(4, 8, requires_grad=True)
    plain, ckpt = _model(), _model()
    ember.manual_seed(5)
    plain(x).sum().backward()
    gx = x.grad.clone()
    x.grad = None
    ember.manual_seed(5)
    out = checkpoint(ckpt, x, use_reentrant=use_reentrant)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), gx.numpy(), rtol=1e-6)
    for a, b in zip(plain.parameters(), ckpt.parameters()):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6)


def test_non_reentrant_reaches_parameters_when_inputs_need_no_grad():
    model = _model().eval()
    x = ember.randn(3, 8)
    checkpoint(model, x, use_reentrant=False).sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_missing_use_reentrant_warns_like_pytorch():
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed explicitly"):
        checkpoint(ember.sin, ember.ones(2, requires_grad=True))


def test_checkpoint_sequential_matches_and_gradcheck():
    model = _model().eval().double()
    x = ember.randn(3, 8, dtype=ember.float64, requires_grad=True)
    ref = model(x)
    out = checkpoint_sequential(model, 3, x, use_reentrant=False)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy())
    assert ember.autograd.gradcheck(lambda t: checkpoint(lambda u: (u.sin() * u).cumsum(0), t, use_reentrant=True),
                                    [ember.randn(4, dtype=ember.float64, requires_grad=True)])


def test_recomputation_keeps_fewer_activations_alive():
    import weakref

    kept = []

    def block(t):
        h = t * 2.0
        kept.append(weakref.ref(h))
        return h.tanh()

    x = ember.randn(64, 64, requires_grad=True)
    y = checkpoint(block, x, use_reentrant=True)
    assert kept[0]() is None  # the forward's intermediate was not saved for backward
    y.sum().backward()
    assert x.grad is not None
