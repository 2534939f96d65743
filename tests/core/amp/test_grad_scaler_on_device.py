"""GradScaler on the (fake) GPU: a scaled training step reads one value back to the host (``step``'s inf check,
as PyTorch), ``unscale_`` and ``update`` none; the scale trajectory, skipped steps and weights equal the CPU's."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import backend


@pytest.fixture
def transfers():
    _fakecuda = pytest.importorskip("_fakecuda")
    if backend._cupy is not _fakecuda.cupy:
        pytest.skip("copies are counted on the fake CUDA only")
    return _fakecuda.transfers


def _setup(device):
    ember.manual_seed(0)
    model = ember.nn.Sequential(ember.nn.Linear(6, 8), ember.nn.Tanh(), ember.nn.Linear(8, 3)).to(device)
    opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scaler = ember.amp.GradScaler(device, init_scale=2.0**10, growth_interval=2)
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.standard_normal((5, 6)).astype(np.float32), device=device)
    y = ember.tensor(rng.integers(0, 3, 5), device=device)
    bad = ember.tensor([float("inf")], device=device)

    def step(inject_inf=False):
        opt.zero_grad()
        with ember.autocast(device, dtype=ember.float16):
            out = model(x * bad if inject_inf else x)
            loss = ember.nn.functional.cross_entropy(out, y)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()

    return model, scaler, step


PLAN = [False, False, True, False, False, False, True, False]


@pytest.mark.gpu
def test_step_and_update_read_back_one_value(transfers):
    model, scaler, step = _setup("cuda")
    step()  # lazily created scale / momentum buffers are behind us
    counts = []
    for inject in PLAN:
        with transfers.counting() as log:
            step(inject)
        counts.append((log.h2d, log.d2h))
    assert counts == [(0, 1)] * len(PLAN), log


@pytest.mark.gpu
def test_unscale_reads_nothing(transfers):
    model, scaler, step = _setup("cuda")
    step()
    opt = ember.optim.SGD(model.parameters(), lr=0.1)
    scaler.scale(model(ember.ones(2, 6, device="cuda")).sum()).backward()
    with transfers.counting() as log:
        scaler.unscale_(opt)
    assert (log.h2d, log.d2h) == (0, 0), log


@pytest.mark.gpu
def test_trajectory_equals_the_cpus(transfers):
    results = []
    for device in ("cpu", "cuda"):
        model, scaler, step = _setup(device)
        scales, trackers = [], []
        for inject in [False, *PLAN]:
            step(inject)
            scales.append(scaler.get_scale())
            trackers.append(scaler._get_growth_tracker())
        weights = [p.detach().cpu().numpy() for p in model.parameters()]
        results.append((scales, trackers, weights, scaler.state_dict()))
    (scales, trackers, weights, state), (dscales, dtrackers, dweights, dstate) = results
    assert scales == [1024.0, 2048.0, 2048.0, 1024.0, 1024.0, 2048.0, 2048.0, 1024.0, 1024.0]
    assert trackers == [1, 0, 1, 0, 1, 0, 1, 0, 1]
    assert (dscales, dtrackers, dstate) == (scales, trackers, state)
    for w, dw in zip(weights, dweights):
        np.testing.assert_allclose(dw, w, rtol=1e-5, atol=1e-6)
