"""A model's training step on the device fixture's device equals the CPU's and, on the fake CUDA, copies
nothing between host and device but the loss's ``.item()`` (used by the vision, text and audio tests)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import ember


def transfer_log():
    """The fake CUDA's transfer log when it backs the ``cuda`` device in this run, else None."""
    try:
        import _fakecuda
    except ImportError:
        return None
    return _fakecuda.active_transfers()


def check_training_step(factory, inputs, target, device, loss_fn=None, rtol=1e-6, count_copies=True):
    """Two SGD steps of ``factory()``'s model (float64, no dropout) on the CPU and on ``device`` from the same
    weights: same losses, same weights after the first; on the fake CUDA the second step copies only the loss
    to the host."""
    if device == "cpu":
        pytest.skip("compares a device with the CPU")
    loss_fn = loss_fn or ember.nn.functional.cross_entropy
    ember.manual_seed(0)
    model = factory().double()  # float64: the CPU and GPU code paths may round differently, and a
    # batch-norm over a few values amplifies float32 rounding differences past any fair tolerance
    for sub in model.modules():
        if isinstance(sub, ember.nn.modules.dropout._DropoutNd):  # random streams differ per device
            sub.p = 0.0
    results = []
    for dev in ("cpu", device):
        m = copy.deepcopy(model).to(dev)
        opt = ember.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
        xs = [ember.tensor(a.astype(np.float64) if a.dtype.kind == "f" else a, device=dev) for a in inputs]
        y = ember.tensor(target, device=dev)

        def step():
            opt.zero_grad()
            loss = loss_fn(m(*xs), y)
            loss.backward()
            opt.step()
            return loss.item()

        losses = [step()]
        state = {k: v.detach().cpu().numpy().copy() for k, v in m.state_dict().items()}  # after one step: two
        # steps of an untrained net amplify rounding differences chaotically
        log = transfer_log() if dev != "cpu" and count_copies else None
        if log is None:
            losses.append(step())
        else:
            with log.counting():
                losses.append(step())
            assert (log.h2d, log.d2h) == (0, 1), f"copies in a training step beyond loss.item(): {log}"
        results.append((losses, state))
    (ref_losses, ref_state), (losses, state) = results
    np.testing.assert_allclose(losses, ref_losses, rtol=100 * rtol)
    for k, v in ref_state.items():  # relative to the tensor's scale: untrained nets have huge gradients
        scale = max(float(np.abs(v).max()), 1.0) if v.size and v.dtype.kind == "f" else 1.0
        np.testing.assert_allclose(state[k], v, rtol=rtol, atol=rtol * scale, err_msg=k)
