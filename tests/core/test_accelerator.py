"""ember.accelerator: PyTorch's device-agnostic API (CPU-only answers as PyTorch's CPU wheel gives)."""

import pytest

import ember


@pytest.mark.skipif(ember.cuda.is_available(), reason="CPU-only behaviour")
def test_cpu_only_answers():
    acc = ember.accelerator
    assert acc.is_available() is False
    assert acc.current_accelerator() is None
    assert acc.current_accelerator(check_available=True) is None
    assert acc.device_count() == 0
    for call in (acc.current_device_index, acc.synchronize, lambda: acc.set_device_index(0)):
        with pytest.raises(RuntimeError, match="Cannot access accelerator device when none is available."):
            call()
    with acc.device_index(None):  # no switch: allowed without a device
        pass


def test_example_device_pick():
    # the idiom of PyTorch's examples
    device = ember.accelerator.current_accelerator() if ember.accelerator.is_available() else ember.device("cpu")
    x = ember.ones(3, device=device)
    assert x.device.type == ("cuda" if ember.cuda.is_available() else "cpu")


@pytest.mark.gpu
def test_gpu_answers():
    acc = ember.accelerator
    assert acc.is_available() and acc.current_accelerator() == ember.device("cuda")
    assert acc.device_count() >= 1
    acc.set_device_index(0)
    assert acc.current_device_index() == 0
    acc.synchronize()
    acc.synchronize("cuda:0")
    with pytest.raises(ValueError, match="doesn't match the current accelerator"):
        acc.synchronize("cpu")
    with acc.device_index(0):
        assert acc.current_device_index() == 0
