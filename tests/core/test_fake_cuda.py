"""The strict CUDA stand-in (tests/_fakecuda): strict where CuPy is, counts transfers, and is never on for users."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import _fakecuda
import ember
from ember import backend

cp = _fakecuda.cupy


@pytest.fixture
def fake_cuda():
    """The fake as Ember's CuPy for one test (restored after, unless the whole run uses it)."""
    saved = (backend._cupy, backend._cupyx, backend._cupy_error, backend._cupy_checked)
    generators = dict(ember.random._default_generators)
    _fakecuda.install()
    yield _fakecuda
    backend._cupy, backend._cupyx, backend._cupy_error, backend._cupy_checked = saved
    ember.random._default_generators.clear()
    ember.random._default_generators.update(generators)


def test_implicit_conversions_to_numpy_raise():
    x = cp.arange(6.0).reshape(2, 3)
    assert not isinstance(x, np.ndarray)
    with pytest.raises(TypeError, match="Implicit conversion to a NumPy array is not allowed"):
        np.asarray(x)
    with pytest.raises(TypeError, match="Implicit conversion"):
        np.array([x, x])
    with pytest.raises(TypeError, match="does not support ufuncs"):
        np.exp(x)
    with pytest.raises(TypeError, match=r"numpy\.sum\(\) was called with a CUDA array"):
        np.sum(x)
    with pytest.raises(TypeError, match="numpy.concatenate"):
        np.concatenate([x, x])
    with pytest.raises(TypeError):  # size > 1: numpy's error, as CuPy gives
        float(x)
    with pytest.raises(TypeError):  # CuPy arrays have no __index__
        range(10)[cp.asarray(1)]


def test_mixing_with_numpy_arrays_raises_but_scalars_work():
    x = cp.ones(3, dtype=np.float32)
    for op in (lambda: x + np.ones(3), lambda: np.ones(3) + x, lambda: cp.maximum(x, np.zeros(3)),
               lambda: cp.concatenate([x, np.ones(3)]), lambda: cp.where(x > 0, x, np.zeros(3))):
        with pytest.raises(TypeError, match="Unsupported type <class 'numpy.ndarray'>"):
            op()
    y = np.float32(2.0) * x + 1
    assert type(y) is cp.ndarray and y.dtype == np.float32
    np.testing.assert_array_equal(y.get(), [3.0, 3.0, 3.0])


def test_results_stay_on_the_device():
    x = cp.arange(6.0).reshape(2, 3)
    total = x.sum()
    assert type(total) is cp.ndarray and total.shape == ()
    assert type(x[0, 1]) is cp.ndarray and x[0, 1].shape == ()
    rows = list(x)
    assert all(type(r) is cp.ndarray for r in rows) and rows[1].shape == (3,)
    assert type(cp.linalg.inv(cp.eye(2))) is cp.ndarray
    q, r = cp.linalg.qr(cp.eye(3))
    assert type(q) is cp.ndarray and type(r) is cp.ndarray
    assert float(total) == 15.0


def test_only_cupy_names_exist():
    # NumPy names CuPy lacks are absent here:
    for name in ("fromregex", "busday_count", "nditer", "savetxt"):
        assert not hasattr(cp, name), name
    with pytest.raises(AttributeError, match="NumPy has it, CuPy does not"):
        cp.busday_count
    with pytest.raises(NotImplementedError, match="cupy_multiply.at"):
        cp.multiply.at(cp.ones(3), cp.asarray([0]), 2.0)
    with pytest.raises(NotImplementedError, match="cupy_maximum.accumulate"):
        cp.maximum.accumulate(cp.ones(3))
    a = cp.zeros(3)
    cp.add.at(a, cp.asarray([0, 0, 2]), 1.0)
    np.testing.assert_array_equal(a.get(), [2.0, 0.0, 1.0])
    rng = cp.random.default_rng(0)
    assert type(rng.standard_normal((2,), dtype=np.float32)) is cp.ndarray
    assert not hasattr(rng, "permutation")  # cupy.random.Generator has no permutation/choice/normal


def test_unsupported_dtypes_raise():
    with pytest.raises(ValueError, match="Unsupported dtype"):
        cp.asarray(np.array(["a"]))
    with pytest.raises(ValueError, match="Unsupported dtype"):
        cp.zeros(2, dtype=object)


def test_half_matrix_products_compute_in_float32_like_cublas():
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal(s).astype(np.float16) for s in ((3, 40, 50), (50, 7)))
    want = (a.astype(np.float32) @ b.astype(np.float32)).astype(np.float16)  # one rounding, float32 sums
    da, db = cp.asarray(a), cp.asarray(b)
    for got in (da @ db, cp.matmul(da, db), cp.tensordot(da, db, axes=1)):
        assert got.dtype == np.float16
        np.testing.assert_array_equal(got.get(), want)
    out = cp.empty((3, 40, 7), dtype=np.float16)
    assert cp.matmul(da, db, out=out) is out
    np.testing.assert_array_equal(out.get(), want)
    np.testing.assert_array_equal(cp.matmul(da.astype(np.float32), db.astype(np.float32)).get(),
                                  a.astype(np.float32) @ b.astype(np.float32))  # other dtypes: NumPy's own


def test_transfers_are_counted():
    t = _fakecuda.transfers
    with t.counting():
        x = cp.asarray(np.ones(4))  # 1 h2d
        y = (x * 2).sum()
        assert t.h2d == 1 and t.d2h == 0
        y.item()
        x.get()
        cp.asnumpy(x)
        float(y)
        assert t.d2h == 4
        x[np.array([0, 1])] = 3.0  # a NumPy index is copied to the device (as CuPy does)
        assert t.h2d == 2
    assert "test_fake_cuda.py" in t.events[0][2]


def test_devices_streams_events_and_pools():
    cuda = cp.cuda
    assert cuda.runtime.getDeviceCount() >= 1 and cuda.Device().id == 0
    with cuda.Device(1):
        x = cp.ones(2)
        assert x.device.id == 1
    with pytest.raises(ValueError, match="Array device must be same as the current device"):
        x + 1
    s = cuda.Stream()
    with s:
        assert cuda.get_current_stream() is s
    assert cuda.get_current_stream() == cuda.Stream.null
    a, b = cuda.Event(), cuda.Event()
    a.record()
    b.record()
    b.synchronize()
    assert cuda.get_elapsed_time(a, b) >= 0.0
    pool = cp.get_default_memory_pool()
    before = pool.used_bytes()
    big = cp.zeros(1024, dtype=np.float64)
    assert pool.used_bytes() == before + 8192
    del big
    assert pool.used_bytes() == before and pool.total_bytes() >= before + 8192
    pool.free_all_blocks()
    assert pool.total_bytes() == pool.used_bytes()
    mem = cuda.alloc_pinned_memory(64)
    assert np.frombuffer(mem, np.float32, 16).shape == (16,)


def test_user_code_never_gets_the_fake():
    """The environment variable alone does nothing: only the test conftest installs the fake."""
    env = dict(os.environ, EMBER_TEST_FAKE_CUDA="1")
    code = "import ember; print(ember.cuda.is_available(), ember.backend._cupy is None or 'fake' not in repr(ember.backend._cupy))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    has_cupy = subprocess.run([sys.executable, "-c", "import cupy"], capture_output=True).returncode == 0
    assert out.stdout.split() == [str(has_cupy), "True"] if has_cupy else out.stdout.split() == ["False", "True"]


def test_a_training_step_copies_nothing_but_the_loss(fake_cuda):
    model = ember.nn.Sequential(ember.nn.Linear(8, 16), ember.nn.ReLU(), ember.nn.Linear(16, 3)).to("cuda")
    opt = ember.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = ember.nn.CrossEntropyLoss()
    x = ember.randn(4, 8, device="cuda")
    y = ember.randint(0, 3, (4,), device="cuda")

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    first = step()
    with fake_cuda.transfers.counting() as log:
        second = step()
    assert (log.h2d, log.d2h) == (0, 1), log
    assert second < first
