"""``ember.cuda``: PyTorch's CPU-wheel behaviour without a GPU, and (``pytest -m cuda``) the real thing on one."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import ember
import ember.cuda as cuda

no_gpu = pytest.mark.skipif(ember.cuda.is_available(), reason="behaviour without a GPU")
# PyTorch's CPU wheel raises AssertionError here; with CuPy installed but no GPU, PyTorch's CUDA build's error
NEEDS_GPU = (AssertionError, "Torch not compiled with CUDA enabled") if importlib.util.find_spec("cupy") is None \
    else (RuntimeError, "No CUDA GPUs are available")


@no_gpu
def test_without_a_gpu_the_queries_answer_as_pytorch_cpu_wheel():
    assert cuda.is_available() is False and cuda.device_count() == 0 and cuda.is_initialized() is False
    assert (cuda.memory_allocated(), cuda.max_memory_allocated(), cuda.memory_reserved(),
            cuda.max_memory_reserved()) == (0, 0, 0, 0)
    assert cuda.memory_stats() == {} and cuda.get_arch_list() == [] and cuda.is_bf16_supported() is False
    assert cuda.manual_seed(0) is None and cuda.manual_seed_all(0) is None and cuda.empty_cache() is None
    with cuda.stream(None), cuda.device(-1), cuda.device_of(ember.zeros(1)):
        pass  # no-ops on any machine
    cuda.set_device(-1)


@no_gpu
@pytest.mark.parametrize("call", [cuda.current_device, cuda.synchronize, cuda.current_stream, cuda.default_stream,
                                  cuda.get_device_name, cuda.get_device_properties, cuda.get_device_capability,
                                  cuda.init, cuda.mem_get_info, cuda.initial_seed, cuda.reset_peak_memory_stats,
                                  lambda: cuda.set_device(0), lambda: cuda.synchronize("cuda:0")])
def test_without_a_gpu_calls_that_need_one_raise_pytorchs_error(call):
    exc, message = NEEDS_GPU
    with pytest.raises(exc, match=message):
        call()


@no_gpu
def test_without_a_gpu_streams_events_devices_and_pinning_raise():
    with pytest.raises(RuntimeError, match="^torch.cuda.Stream requires CUDA support$"):
        cuda.Stream()
    with pytest.raises(RuntimeError, match="^Tried to instantiate dummy base class Event$"):
        cuda.Event(enable_timing=True)
    with pytest.raises(RuntimeError, match="^PyTorch was compiled without CUDA support$"):
        with cuda.device(0):
            pass
    with pytest.raises(RuntimeError, match="^Cannot access accelerator device when none is available.$"):
        ember.zeros(2).pin_memory()
    assert ember.zeros(2).is_pinned() is False


def test_device_index_arguments_are_checked():
    with pytest.raises(ValueError, match="Expected a cuda device, but got: cpu"):
        cuda.device("cpu")
    with pytest.raises(ValueError, match="Expected a torch.device with a specified index or an integer"):
        cuda.set_device("cuda")


def test_non_blocking_copies_on_the_cpu_are_plain_copies():
    a = ember.arange(4.0)
    b = ember.zeros(4)
    assert b.copy_(a, non_blocking=True) is b and b.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert a.to("cpu", non_blocking=True) is a
    assert a.to(ember.float64, non_blocking=True).dtype == ember.float64


def test_deprecated_memory_names_warn():
    with pytest.warns(FutureWarning, match="renamed to `torch.cuda.memory_reserved`"):
        cuda.memory_cached()
    with pytest.warns(FutureWarning, match="renamed to `torch.cuda.max_memory_reserved`"):
        cuda.max_memory_cached()


# --- on a real GPU (pytest -m cuda) ------------------------------------------------------------------------

@pytest.mark.cuda
def test_gpu_device_queries():
    n = cuda.device_count()
    assert cuda.is_available() and n >= 1 and cuda.is_initialized()
    assert 0 <= cuda.current_device() < n
    props = cuda.get_device_properties(0)
    assert props.total_memory > 2**30 and props.multi_processor_count > 0
    assert cuda.get_device_name(0) == props.name and props.name
    assert cuda.get_device_capability("cuda:0") == (props.major, props.minor) and props.major >= 3
    assert f"sm_{props.major}{props.minor}" in cuda.get_arch_list()
    free, total = cuda.mem_get_info()
    assert 0 < free <= total
    with cuda.device(n - 1):
        assert cuda.current_device() == n - 1
        assert ember.zeros(1, device="cuda").device == ember.device("cuda", n - 1)
    assert cuda.current_device() == 0
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        cuda.set_device(n)


@pytest.mark.cuda
def test_gpu_memory_figures_follow_allocations():
    cuda.synchronize()
    cuda.empty_cache()
    cuda.reset_peak_memory_stats()
    base = cuda.memory_allocated()
    x = ember.empty(64, 1024, 1024, device="cuda")  # 256 MiB
    assert cuda.memory_allocated() - base >= 2**28
    assert cuda.memory_reserved() >= cuda.memory_allocated()
    del x
    assert cuda.memory_allocated() == base  # back in the pool's cache
    assert cuda.max_memory_allocated() - base >= 2**28  # the peak remembers it
    assert cuda.memory_reserved() - base >= 2**28
    stats = cuda.memory_stats()
    assert stats["allocated_bytes.all.peak"] == cuda.max_memory_allocated()
    assert stats["reserved_bytes.all.current"] == cuda.memory_reserved()
    cuda.empty_cache()
    assert cuda.memory_reserved() < 2**28
    cuda.reset_peak_memory_stats()
    assert cuda.max_memory_allocated() == cuda.memory_allocated()


@pytest.mark.cuda
def test_gpu_streams_and_timing_events():
    s = cuda.Stream()
    assert s != cuda.default_stream() and cuda.current_stream() == cuda.default_stream()
    start, end = cuda.Event(enable_timing=True), cuda.Event(enable_timing=True)
    a = ember.randn(2048, 2048, device="cuda")
    with cuda.stream(s):
        assert cuda.current_stream() == s
        start.record()
        for _ in range(10):
            b = a @ a
        end.record()
    assert cuda.current_stream() == cuda.default_stream()
    cuda.current_stream().wait_stream(s)
    end.synchronize()
    assert end.query() and s.query()
    ms = start.elapsed_time(end)
    assert 0.0 < ms < 60_000.0
    np.testing.assert_allclose(b.cpu().numpy(), (a @ a).cpu().numpy(), rtol=1e-3, atol=1e-2)
    untimed = cuda.Event()
    untimed.record()
    with pytest.raises(RuntimeError, match="enable_timing=True"):
        start.elapsed_time(untimed)
    with pytest.raises(RuntimeError, match="must be recorded"):
        cuda.Event(enable_timing=True).elapsed_time(end)
    ev = s.record_event()
    ev.wait()  # the current stream waits for s
    cuda.synchronize()


@pytest.mark.cuda
def test_gpu_pinned_memory_and_non_blocking_copies():
    x = ember.arange(1_000_000, dtype=ember.float32)
    p = x.pin_memory()
    assert p.is_pinned() and not x.is_pinned() and p.pin_memory() is p
    g = p.to("cuda", non_blocking=True)
    h = ember.empty(1_000_000, device="cuda").copy_(p, non_blocking=True)
    cuda.synchronize()
    assert g.device.type == "cuda" and ember.equal(g.cpu(), x) and ember.equal(h.cpu(), x)
    with pytest.raises(RuntimeError, match="only dense CPU tensors can be pinned"):
        g.pin_memory()
    loader = ember.utils.data.DataLoader(ember.utils.data.TensorDataset(ember.arange(8.0)), batch_size=4,
                                         pin_memory=True)
    assert all(batch.is_pinned() for (batch,) in loader)


@pytest.mark.cuda
def test_gpu_seeding_is_per_device_and_repeatable():
    cuda.manual_seed(3)
    a = ember.randn(5, device="cuda")
    cuda.manual_seed_all(3)
    assert ember.equal(a, ember.randn(5, device="cuda"))
    assert cuda.initial_seed() == 3
