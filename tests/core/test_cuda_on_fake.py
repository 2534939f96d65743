"""``ember.cuda`` driving CuPy's API, on the strict fake CuPy (``EMBER_TEST_FAKE_CUDA=1``, ``tox -e fakecuda``):
the calls reach CuPy's names with CuPy's signatures. Real-GPU checks are in test_cuda.py (``pytest -m cuda``)."""

from __future__ import annotations

import os

import pytest

import ember
import ember.cuda as cuda

pytestmark = [pytest.mark.skipif(os.environ.get("EMBER_TEST_FAKE_CUDA") != "1",
                                 reason="runs on the fake CUDA backend (EMBER_TEST_FAKE_CUDA=1)"),
              pytest.mark.cuda_device]  # selected by `tox -e fakecuda` (-m cuda_device)


def test_device_control_and_properties():
    assert cuda.is_available() and cuda.device_count() == 2 and cuda.current_device() == 0
    props = cuda.get_device_properties("cuda:1")
    assert props.major == 9 and props.total_memory == 16 * 1024**3 and cuda.get_device_name(1) == props.name
    assert cuda.get_device_capability() == (9, 0) and cuda.get_arch_list() == ["sm_90"]
    with cuda.device(1):
        assert cuda.current_device() == 1 and ember.zeros(1, device="cuda").device == ember.device("cuda:1")
        with cuda.device_of(ember.zeros(1, device="cuda:0")):
            assert cuda.current_device() == 0
        assert cuda.current_device() == 1
    assert cuda.current_device() == 0
    cuda.set_device("cuda:1")
    try:
        assert cuda.current_device() == 1
    finally:
        cuda.set_device(0)
    with pytest.raises(RuntimeError, match=r"invalid device ordinal \(asked for cuda:2, 2 visible\)"):
        cuda.set_device(2)
    cuda.synchronize()
    cuda.synchronize("cuda:1")


def test_streams_events_and_the_stream_context():
    s = cuda.Stream(priority=-1)
    assert s.device == ember.device("cuda", 0) and s != cuda.default_stream() and s.cuda_stream != 0
    assert cuda.current_stream() == cuda.default_stream() and cuda.default_stream().cuda_stream == 0
    start, end = cuda.Event(enable_timing=True), cuda.Event(enable_timing=True)
    with cuda.stream(s):
        assert cuda.current_stream() == s
        start.record()
        y = ember.ones(3, device="cuda") * 2
        end.record()
    assert cuda.current_stream() == cuda.default_stream()
    end.synchronize()
    assert end.query() and s.query() and start.elapsed_time(end) >= 0.0
    assert y.tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(RuntimeError, match="Both events must be created with argument 'enable_timing=True'."):
        start.elapsed_time(cuda.Event())
    with pytest.raises(RuntimeError, match="Both events must be recorded before calculating elapsed time."):
        cuda.Event(enable_timing=True).elapsed_time(end)
    cuda.current_stream().wait_stream(s)
    s.record_event().wait()
    s.synchronize()
    other = cuda.Stream(device=1)
    with cuda.stream(other):  # a stream of another GPU makes that GPU current for the block
        assert cuda.current_device() == 1 and cuda.current_stream(1) == other
    assert cuda.current_device() == 0


def test_memory_figures():
    cuda.empty_cache()
    base = cuda.memory_allocated()
    x = ember.empty(1024, 1024, device="cuda")
    assert cuda.memory_allocated() - base == 4 * 1024 * 1024
    assert cuda.max_memory_allocated() >= cuda.memory_allocated() and cuda.memory_reserved() >= cuda.memory_allocated()
    del x
    assert cuda.memory_allocated() == base and cuda.max_memory_allocated() - base >= 4 * 1024 * 1024
    stats = cuda.memory_stats()
    assert stats["allocated_bytes.all.current"] == base and stats["reserved_bytes.all.current"] >= base
    cuda.reset_peak_memory_stats()
    assert cuda.max_memory_allocated() == cuda.memory_allocated()
    cuda.empty_cache()
    assert cuda.memory_reserved() == cuda.memory_allocated()
    free, total = cuda.mem_get_info()
    assert 0 < free <= total


def test_pinned_memory_and_the_data_loader():
    x = ember.arange(6.0).reshape(2, 3)
    p = x.pin_memory()
    assert p.is_pinned() and not x.is_pinned() and p.pin_memory() is p and ember.equal(p, x)
    assert p[0].is_pinned()  # a view of pinned memory is pinned
    g = p.to("cuda", non_blocking=True)
    assert g.device.type == "cuda" and g.cpu().tolist() == x.tolist()
    with pytest.raises(RuntimeError, match="cannot pin 'torch.cuda.FloatTensor' only dense CPU tensors can be pinned"):
        g.pin_memory()
    data = ember.utils.data.TensorDataset(ember.arange(8.0), ember.arange(8))
    batches = list(ember.utils.data.DataLoader(data, batch_size=4, pin_memory=True))
    assert all(t.is_pinned() for batch in batches for t in batch)
    assert not any(t.is_pinned() for batch in ember.utils.data.DataLoader(data, batch_size=4) for t in batch)


def test_seeding():
    cuda.manual_seed(5)
    a = ember.randn(4, device="cuda")
    cuda.manual_seed_all(5)
    assert ember.equal(a, ember.randn(4, device="cuda")) and cuda.initial_seed() == 5


def test_non_blocking_copies():
    g = ember.arange(6.0, device="cuda").reshape(2, 3)
    h = g.t().to("cpu", non_blocking=True)  # a non-contiguous view: one contiguous copy on the device first
    cuda.synchronize()
    assert h.is_pinned() and h.tolist() == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]
    assert not g.cpu().is_pinned() and not g.to("cpu", False).is_pinned()  # blocking copies: ordinary memory
    assert g.to("cpu", True).is_pinned()  # non_blocking given positionally, as PyTorch allows
    x = ember.ones(3, requires_grad=True)
    y = x.cuda(non_blocking=True)
    assert y.device.type == "cuda" and y.grad_fn is not None
    (y * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]
