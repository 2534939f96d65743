"""SGD's compiled one-pass update (the optional numba extra) gives bit for bit the NumPy path's parameters
and momentum buffers, in every configuration."""

import numpy as np
import pytest

import ember

from .._numba import HAVE_NUMBA

CONFIGS = [
    dict(momentum=0.0),
    dict(momentum=0.9),
    dict(momentum=0.9, dampening=0.3),
    dict(momentum=0.9, nesterov=True, weight_decay=0.01),
    dict(momentum=0.5, weight_decay=0.1, maximize=True),
    dict(momentum=0.0, weight_decay=0.1),
]


def _run(config, monkeypatch, env):
    monkeypatch.setenv("EMBER_NO_FAST", env)
    rng = np.random.default_rng(0)
    p = ember.tensor(rng.standard_normal((64, 100)).astype(np.float32), requires_grad=True)  # 6400: big enough
    opt = ember.optim.SGD([p], lr=0.05, **config)
    for _ in range(3):
        p.grad = ember.tensor(rng.standard_normal((64, 100)).astype(np.float32))
        opt.step()
    buf = opt.state[p].get("momentum_buffer")
    return p.detach().numpy().copy(), None if buf is None else buf.numpy().copy()


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba (the ember[fast] extra) is not installed")
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()))
def test_fast_sgd_matches_the_numpy_path_exactly(config, monkeypatch):
    p_np, buf_np = _run(config, monkeypatch, "1")
    p_fast, buf_fast = _run(config, monkeypatch, "0")
    np.testing.assert_array_equal(p_fast, p_np)
    if buf_np is None:
        assert buf_fast is None
    else:
        np.testing.assert_array_equal(buf_fast, buf_np)


def test_sgd_step_against_a_hand_computed_update():
    p = ember.tensor(np.full(5000, 1.0, np.float32), requires_grad=True)
    opt = ember.optim.SGD([p], lr=0.5, momentum=0.9)
    for _ in range(2):
        p.grad = ember.tensor(np.full(5000, 2.0, np.float32))
        opt.step()
    # step 1: buf = 2, p = 1 - 1 = 0; step 2: buf = 0.9 * 2 + 2 = 3.8, p = 0 - 1.9 = -1.9
    np.testing.assert_allclose(p.detach().numpy(), -1.9, rtol=1e-6)
    np.testing.assert_allclose(opt.state[p]["momentum_buffer"].numpy(), 3.8, rtol=1e-6)
