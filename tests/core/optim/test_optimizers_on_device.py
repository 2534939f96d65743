"""On the GPU an optimizer step reads nothing back to the host (checked on the fake CUDA, where copies
are counted); the trajectories themselves are checked on every device in test_optimizers.py."""

from __future__ import annotations

import pytest

import ember

from .test_optimizers import CONFIG_IDS, CONFIGS, REF, _setup

# the host reads PyTorch's own CUDA step makes too
KNOWN_COPIES = {"LBFGS": "the line search and the stopping tests compare loss values on the host"}


@pytest.fixture
def transfers(device):
    if device == "cpu":
        pytest.skip("counts host<->device copies: runs on the cuda device only")
    _fakecuda = pytest.importorskip("_fakecuda")
    if ember.backend._cupy is not _fakecuda.cupy:
        pytest.skip("copies are counted on the fake CUDA only")
    return _fakecuda.transfers


@pytest.mark.parametrize("cfg", CONFIGS, ids=CONFIG_IDS)
def test_step_copies_nothing_to_the_host(cfg, device, transfers):
    if cfg[1] in KNOWN_COPIES:
        pytest.skip(KNOWN_COPIES[cfg[1]])
    params, opt = _setup(cfg, device)
    x, y = ember.tensor(REF["x"], device=device), ember.tensor(REF["y"], device=device)

    def step():
        opt.zero_grad()
        loss = ((ember.tanh(x @ params["W"] + params["b"]) - y) ** 2).sum()
        loss.backward()
        opt.step()
        return loss

    step()
    step()  # lazily created state and the first-step branches are behind us
    with transfers.counting() as log:
        step()
    assert (log.h2d, log.d2h) == (0, 0), f"{cfg[0]}: {log}"
