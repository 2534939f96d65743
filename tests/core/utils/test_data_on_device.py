"""DataLoader(pin_memory=True) feeding a device: batches stay on the host (pinned where a GPU is), then one
copy per tensor reaches the device, with the values intact (on the fake CUDA the copies are counted)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from ember.utils.data import DataLoader, TensorDataset


def test_pin_memory_batches_reach_the_device(device):
    xs = ember.arange(24.0).reshape(6, 4)
    ys = ember.arange(6)
    loader = DataLoader(TensorDataset(xs, ys), batch_size=4, pin_memory=True)
    if device == "cpu" and not ember.cuda.is_available():
        with pytest.warns(UserWarning, match="no accelerator is found"):
            batches = list(loader)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            batches = list(loader)
    assert [b[0].device.type for b in batches] == ["cpu", "cpu"]
    try:
        import _fakecuda
        log = _fakecuda.transfers if ember.backend._cupy is _fakecuda.cupy else None
    except ImportError:
        log = None
    if log is not None:
        log.reset()
    moved = [(x.to(device, non_blocking=True), y.to(device, non_blocking=True)) for x, y in batches]
    if log is not None and device != "cpu":
        assert (log.h2d, log.d2h) == (4, 0), log
    assert all(x.device.type == device and y.device.type == device for x, y in moved)
    np.testing.assert_array_equal(np.concatenate([x.cpu().numpy() for x, _ in moved]), xs.numpy())
    np.testing.assert_array_equal(np.concatenate([y.cpu().numpy() for _, y in moved]), ys.numpy())
