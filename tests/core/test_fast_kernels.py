"""The compiled float32 kernels (``ember._fast``, the optional numba extra) against the NumPy path and
float64 references; every case runs on both paths (the compiled one only when numba is importable)."""

import math

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import _fast

from ._numba import HAVE_NUMBA


def test_no_fast_env_turns_the_kernels_off(monkeypatch):
    monkeypatch.setenv("EMBER_NO_FAST", "1")
    assert not _fast.enabled()
    assert not _fast.usable(np.zeros((64, 128), np.float32))


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba (the ember[fast] extra) is not installed")
def test_first_use_from_two_threads_finds_the_kernels_in_both(monkeypatch):
    """The module is imported once, under a lock, and is marked tried only when it is there: a second thread
    asking during the first one's import gets it too (the per-thread convolutions' first call), not None."""
    import sys
    import threading

    monkeypatch.delenv("EMBER_NO_FAST", raising=False)
    monkeypatch.setattr(_fast, "_TRIED", False)
    monkeypatch.setattr(_fast, "_MODULE", None)
    monkeypatch.delitem(sys.modules, "ember._fast_kernels", raising=False)  # a fresh import: a window of ~0.1 s
    monkeypatch.delattr(ember, "_fast_kernels", raising=False)
    barrier, got = threading.Barrier(2), []

    def ask():
        barrier.wait()
        got.append(_fast.kernels())

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 2 and got[0] is not None and got[0] is got[1]


def test_kernels_apply_only_to_large_contiguous_float32_numpy_arrays(K):
    big = np.zeros((64, 128), np.float32)
    assert _fast.usable(big)
    assert not _fast.usable(big.astype(np.float64))
    assert not _fast.usable(big[:, ::2])
    assert not _fast.usable(np.zeros(100, np.float32))


@pytest.fixture
def K(monkeypatch):
    if not HAVE_NUMBA:
        pytest.skip("numba (the ember[fast] extra) is not installed")
    monkeypatch.delenv("EMBER_NO_FAST", raising=False)
    return _fast.kernels()


def test_erf_kernel_max_error_over_the_float32_range(K):
    x = np.concatenate([np.linspace(-6, 6, 2_000_001), [1e-30, -1e-20, 1e-8, 20.0, -1e30]]).astype(np.float32)
    out = np.empty_like(x)
    K.erf_block(x, out)
    ref = np.array([math.erf(v) for v in x[::97].astype(np.float64)] + [math.erf(v) for v in x[-5:].astype(np.float64)])
    got = np.concatenate([out[::97], out[-5:]])
    assert np.abs(got - ref).max() <= 3.5e-7
    small = np.abs(ref) < 0.1  # near 0 the error is relative too
    assert (np.abs(got - ref)[small] / np.maximum(np.abs(ref[small]), 1e-38)).max() <= 3.5e-7
    out = np.empty(4, np.float32)
    K.erf_block(np.array([np.nan, np.inf, -np.inf, -0.0], np.float32), out)
    assert np.isnan(out[0]) and out[1] == 1 and out[2] == -1 and out[3] == 0


def test_exp_kernel_relative_error_and_special_values(K):
    x = np.linspace(-87.3, 88.0, 1_000_001).astype(np.float32)
    out = np.empty_like(x)
    K.exp_block(x, out)
    ref = np.exp(x.astype(np.float64))
    assert (np.abs(out - ref) / ref).max() <= 3.5e-7
    special = np.array([np.nan, np.inf, -np.inf, -1e4, 0.0], np.float32)
    out = np.empty_like(special)
    K.exp_block(special, out)
    assert np.isnan(out[0]) and out[1] == np.inf and out[2] == 0 and out[3] == 0 and out[4] == 1


def test_exp_op_kernel_over_the_whole_float32_range(K):
    """``torch.exp``'s own kernel (``exp_fwd``): within 1.5 ulp of float64's exp wherever the result is normal,
    within one subnormal step below, inf exactly where exp overflows float32 (x > 88.7228), and NaN, +-inf, -0
    as NumPy; ``ember.exp`` on a float32 array takes it and matches NumPy within that error."""
    x = np.linspace(-110, 90, 2_000_001).astype(np.float32)
    out = np.empty_like(x)
    K.exp_fwd(x, out)
    ref = np.exp(x.astype(np.float64))
    f32 = np.finfo(np.float32)
    normal = (ref >= f32.tiny) & (ref <= f32.max)
    assert (np.abs(out[normal] - ref[normal]) / ref[normal]).max() <= 1e-7
    assert np.abs(out[ref < f32.tiny] - ref[ref < f32.tiny]).max() <= 1.5e-45
    assert np.isinf(out[ref > f32.max]).all() and np.isfinite(out[ref <= f32.max]).all()
    special = np.array([np.nan, np.inf, -np.inf, -0.0, 88.7228, 88.7229, -103.9, -200.0], np.float32)
    out = np.empty_like(special)
    K.exp_fwd(special, out)
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(out, np.exp(special))
    big = (np.random.default_rng(0).standard_normal(50_000) * 15).astype(np.float32)  # inside float32's range
    np.testing.assert_allclose(ember.exp(ember.tensor(big)).numpy(), np.exp(big.astype(np.float64)), rtol=2e-7)


def test_tanh_op_kernel_accuracy_and_special_values(K):
    """``torch.tanh``'s kernel (``tanh_fwd``): within 1.5e-7 relative of float64's tanh over [-12, 12] and tiny
    arguments of both signs (the polynomial below |x| = 0.625, the exp form above), +-1 at +-inf, NaN and -0 kept;
    ``ember.tanh`` on a float32 array takes it."""
    x = np.concatenate([np.linspace(-12, 12, 1_000_001), np.geomspace(1e-30, 1, 20001),
                        -np.geomspace(1e-30, 1, 20001)]).astype(np.float32)
    out = np.empty_like(x)
    K.tanh_fwd(x, out)
    ref = np.tanh(x.astype(np.float64))
    nz = ref != 0
    assert (np.abs(out - ref)[nz] / np.abs(ref[nz])).max() <= 1.5e-7 and (out[~nz] == 0).all()
    special = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 50.0, -50.0], np.float32)
    out = np.empty_like(special)
    K.tanh_fwd(special, out)
    np.testing.assert_array_equal(out, np.tanh(special))
    assert np.signbit(out[3]) and not np.signbit(out[4])
    big = (np.random.default_rng(1).standard_normal(50_000) * 3).astype(np.float32)
    np.testing.assert_allclose(ember.tanh(ember.tensor(big)).numpy(), np.tanh(big.astype(np.float64)), rtol=1.5e-7)


def _check(fn, shape, kernel_path, rtol=2e-5, atol=2e-6, scale=1.0):
    """fn on a float32 input (forward, backward with a random gradient and with ``sum()``'s broadcast
    one) against the same ops in float64."""
    rng = np.random.default_rng(0)
    base = (rng.standard_normal(shape) * scale).astype(np.float32)
    g = rng.standard_normal(shape)
    results = {}
    for dt in (np.float32, np.float64):
        x = ember.tensor(base.astype(dt), requires_grad=True)
        y = fn(x)
        (y * ember.tensor(g.astype(dt))).sum().backward()
        grad = x.grad.numpy().copy()
        x.grad = None
        fn(x).sum().backward()
        results[dt] = (y.detach().numpy(), grad, x.grad.numpy())
    for got, ref in zip(results[np.float32], results[np.float64]):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, ref, rtol=rtol, atol=atol * max(1.0, np.abs(ref).max()))


SHAPE = (64, 300)  # above _fast.MIN_SIZE: the compiled path is taken when enabled


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu(kernel_path, approximate):
    _check(lambda t: F.gelu(t, approximate=approximate), SHAPE, kernel_path, scale=3.0)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_family_last_dim(kernel_path, name):
    _check(lambda t: getattr(F, name)(t, dim=-1), SHAPE, kernel_path, scale=4.0)
    _check(lambda t: getattr(F, name)(t, dim=-1), (8, 16, 37), kernel_path, scale=4.0)  # rows not a multiple of 16


def test_softmax_rows_with_nan_inf_and_masked_entries(kernel_path):
    x = np.random.default_rng(1).standard_normal((64, 128)).astype(np.float32)
    x[3, 5] = np.nan
    x[4, :64] = -np.inf
    x[5, 7] = np.inf
    y = F.softmax(ember.tensor(x), dim=-1).numpy()
    assert np.isnan(y[3]).all() and np.isnan(y[5]).all()
    assert (y[4, :64] == 0).all() and np.isclose(y[4].sum(), 1.0)
    lsm = F.log_softmax(ember.tensor(x), dim=-1).numpy()
    assert np.isneginf(lsm[4, :64]).all()


@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm(kernel_path, affine):
    rng = np.random.default_rng(2)
    w = ember.tensor(rng.standard_normal(300), requires_grad=True) if affine else None
    b = ember.tensor(rng.standard_normal(300), requires_grad=True) if affine else None

    def fn(t):
        return F.layer_norm(t, (300,), None if w is None else w.to(t.dtype), None if b is None else b.to(t.dtype))

    _check(fn, SHAPE, kernel_path, scale=2.0)


def test_layer_norm_parameter_grads(kernel_path):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 32, 96)).astype(np.float32) * 2 + 1
    g = rng.standard_normal(x.shape)
    grads = {}
    for dt in (np.float32, np.float64):
        ln = ember.nn.LayerNorm(96).to(ember.float32 if dt == np.float32 else ember.float64)
        with ember.no_grad():
            ln.weight.copy_(ember.tensor(rng.standard_normal(96) if dt == np.float32 else grads["w0"]))
            ln.bias.copy_(ember.tensor(rng.standard_normal(96) if dt == np.float32 else grads["b0"]))
        grads["w0"], grads["b0"] = ln.weight.detach().numpy().astype(np.float64), ln.bias.detach().numpy().astype(np.float64)
        (ln(ember.tensor(x.astype(dt))) * ember.tensor(g.astype(dt))).sum().backward()
        grads[dt] = (ln.weight.grad.numpy(), ln.bias.grad.numpy())
    for got, ref in zip(grads[np.float32], grads[np.float64]):
        np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)


def test_rms_norm(kernel_path):
    w = ember.tensor(np.random.default_rng(4).standard_normal(300))
    _check(lambda t: F.rms_norm(t, (300,), w.to(t.dtype)), SHAPE, kernel_path, scale=2.0)


def test_layer_norm_double_backward_uses_the_graph_formula(kernel_path):
    x = ember.randn(64, 80, dtype=ember.float32, requires_grad=True)
    (gx,) = ember.autograd.grad(F.layer_norm(x, (80,)).pow(3).sum(), x, create_graph=True)
    gx.sum().backward()
    assert x.grad is not None and np.isfinite(x.grad.numpy()).all()


@pytest.mark.parametrize("kwargs", [{}, {"reduction": "sum", "ignore_index": 3}, {"reduction": "none", "weight": True}])
def test_cross_entropy(kernel_path, kwargs):
    rng = np.random.default_rng(5)
    logits = (rng.standard_normal((128, 100)) * 5).astype(np.float32)
    target = rng.integers(0, 100, 128)
    target[:10] = 3  # ignored under ignore_index=3
    upstream = rng.standard_normal(128)  # reduction="none": one gradient per sample
    weight = rng.uniform(0.5, 2.0, 100)
    res = {}
    for dt in (np.float32, np.float64):
        x = ember.tensor(logits.astype(dt), requires_grad=True)
        kw = dict(kwargs, weight=ember.tensor(weight.astype(dt))) if "weight" in kwargs else kwargs
        loss = F.cross_entropy(x, ember.tensor(target), **kw)
        (loss * ember.tensor(upstream.astype(dt)) if loss.ndim else loss).sum().backward()
        res[dt] = (loss.detach().numpy(), x.grad.numpy())
    np.testing.assert_allclose(res[np.float32][0], res[np.float64][0], rtol=1e-6)
    np.testing.assert_allclose(res[np.float32][1], res[np.float64][1], rtol=1e-4, atol=1e-7)
    with ember.no_grad():  # no backward to come: the row maxima and sums only, the same loss
        kw = dict(kwargs, weight=ember.tensor(weight.astype(np.float32))) if "weight" in kwargs else kwargs
        np.testing.assert_array_equal(F.cross_entropy(ember.tensor(logits), ember.tensor(target), **kw).numpy(),
                                      res[np.float32][0])
    if "ignore_index" in kwargs:
        assert not res[np.float32][1][:10].any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_embedding_gradient_accumulates_repeats_in_order(kernel_path, dtype):
    rng = np.random.default_rng(6)
    idx = rng.integers(0, 50, (40, 30))
    idx[0, :] = 7  # one index repeated 30+ times, the others a few times
    w = ember.tensor(rng.standard_normal((60, 16)).astype(dtype), requires_grad=True)
    g = rng.standard_normal((40, 30, 16)).astype(dtype)
    (F.embedding(ember.tensor(idx), w) * ember.tensor(g)).sum().backward()
    ref = np.zeros((60, 16))
    np.add.at(ref, idx.reshape(-1), g.reshape(-1, 16).astype(np.float64))
    assert w.grad.dtype == w.dtype
    np.testing.assert_allclose(w.grad.numpy(), ref, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-5)
    assert (w.grad.numpy()[50:] == 0).all()


def _share_from_any_size(monkeypatch):
    """Share every blocked pass and row kernel out among the threads, whatever its size."""
    monkeypatch.setattr(_fast, "_PARALLEL_MIN", 0)
    monkeypatch.setattr(_fast, "_PASS_SHARE_MIN", 0)


def test_blocks_over_threads_match_whole_array_passes(monkeypatch, kernel_path):
    """Large elementwise passes and their gradients, shared among threads (in blocks; tanh's gradient in one
    compiled pass with numba) give NumPy's own bits (float32 exp and tanh with numba: within their kernels' error)."""
    _share_from_any_size(monkeypatch)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((1024, 600)).astype(np.float32)  # above _fast.MAP_MIN: in blocks, split over threads
    assert _fast.big_cpu(x)
    t = ember.tensor(x, requires_grad=True)
    if kernel_path == "numpy":
        np.testing.assert_array_equal(ember.exp(t).detach().numpy(), np.exp(x))
    else:  # float32 exp has a compiled kernel of its own, its rows shared out: within its error of NumPy's
        np.testing.assert_allclose(ember.exp(t).detach().numpy(), np.exp(x), rtol=4e-7)
    np.testing.assert_array_equal(ember.sin(t).detach().numpy(), np.sin(x))
    s = t.sum(dim=-1).detach().numpy()
    np.testing.assert_array_equal(t.sum(dim=-1, keepdim=True).detach().numpy(), s[:, None])
    ref = x.astype(np.float64).sum(axis=-1)
    scale = np.abs(x).astype(np.float64).sum(axis=-1)
    assert s.dtype == np.float32 and np.max(np.abs(s - ref) / scale) < 2e-7
    y = ember.tanh(t)
    if kernel_path == "numpy":
        np.testing.assert_array_equal(y.detach().numpy(), np.tanh(x))
    else:  # float32 tanh has a compiled kernel of its own: within its error of NumPy's
        np.testing.assert_allclose(y.detach().numpy(), np.tanh(x), rtol=3e-7, atol=1e-37)
    g = rng.standard_normal(x.shape).astype(np.float32)
    (y * ember.tensor(g)).sum().backward()
    ty = y.detach().numpy()  # the gradients from the forward's own output, bit for bit
    np.testing.assert_array_equal(t.grad.numpy(), g * (1 - ty * ty))
    t.grad = None
    ember.tanh(t).sum().backward()  # a broadcast incoming gradient of ones: the two-pass 1 - y*y
    np.testing.assert_array_equal(t.grad.numpy(), 1 - ty * ty)
    t.grad = None
    (ember.tanh(t).sum() * 3).backward()  # a broadcast 3: three passes
    np.testing.assert_array_equal(t.grad.numpy(), (1 - ty * ty) * np.float32(3))


def test_thread_share_reraises_a_worker_error():
    def boom(r0, r1):
        if r0 > 0:
            raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        _fast.share(boom, 100, 10)


def test_numpy_row_blocks_equal_whole_array_passes(monkeypatch):
    monkeypatch.setenv("EMBER_NO_FAST", "1")
    from ember.ops.activation import LogSoftmax, Softmax, _gelu

    x = np.random.default_rng(8).standard_normal((1024, 300)).astype(np.float32) * 3
    t = ember.tensor(x)
    np.testing.assert_array_equal(F.softmax(t, dim=-1).numpy(), Softmax.kernel(np, x, 1))
    np.testing.assert_array_equal(F.log_softmax(t, dim=-1).numpy(), LogSoftmax.kernel(np, x, 1))
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(F.gelu(t).numpy(), _gelu(np, x, "none", None))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("center", [True, False])
def test_numpy_row_block_norm_matches_the_whole_array_path(monkeypatch, dtype, center):
    """Large layer / RMS norm inputs take NumPy passes on row blocks (no numba): same values and
    gradients as the whole-array formulas (below the size threshold) row by row."""
    monkeypatch.setenv("EMBER_NO_FAST", "1")
    rng = np.random.default_rng(9)
    x = (rng.standard_normal((1200, 256)) * 2 + 1).astype(dtype)  # above _fast.MAP_MIN
    g = rng.standard_normal(x.shape).astype(dtype)
    w = ember.tensor(rng.standard_normal(256).astype(dtype), requires_grad=True)
    b = ember.tensor(rng.standard_normal(256).astype(dtype), requires_grad=True) if center else None

    def run(xs, gs):
        t = ember.tensor(xs, requires_grad=True)
        y = F.layer_norm(t, (256,), w, b) if center else F.rms_norm(t, (256,), w, 1e-5)
        (y * ember.tensor(gs)).sum().backward()
        res = (y.detach().numpy(), t.grad.numpy(), w.grad.numpy(), None if b is None else b.grad.numpy())
        w.grad = None
        if b is not None:
            b.grad = None
        return res

    whole = run(x, g)
    pieces = [run(x[i:i + 8], g[i:i + 8]) for i in range(0, 1200, 300)]  # each below the threshold
    tol = dict(rtol=2e-5, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(whole[0][:8], pieces[0][0], **tol)
    np.testing.assert_allclose(whole[1][300:308], pieces[1][1], **tol)
    wsum = sum(run(x[i:i + 300], g[i:i + 300])[2] for i in range(0, 1200, 300))
    np.testing.assert_allclose(whole[2], wsum, rtol=tol["rtol"] * 10, atol=tol["atol"] * 10)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_large_relu_backward_is_the_select_bitwise(dtype):
    """The block path's bit mask gives exactly where(y <= 0, 0, g): inf gradients at 0 outputs give 0, a nan
    output lets its gradient through."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((600, 512)).astype(dtype)
    x.reshape(-1)[:4] = [np.nan, -0.0, 0.0, np.inf]
    t = ember.tensor(x, requires_grad=True)
    y = ember.relu(t)
    assert _fast.big_cpu(y.detach().numpy())
    g = rng.standard_normal(x.shape).astype(dtype)
    g.reshape(-1)[4:8] = [np.inf, -np.inf, np.nan, -0.0]
    y.backward(ember.tensor(g))
    yn = y.detach().numpy()
    ref = np.where(yn <= 0, dtype(0), g)
    np.testing.assert_array_equal(t.grad.numpy().view(f"i{g.itemsize}"), ref.view(f"i{g.itemsize}"))
    t.grad = None
    ember.relu(t).sum().backward()  # a broadcast incoming gradient
    np.testing.assert_array_equal(t.grad.numpy(), np.where(yn <= 0, dtype(0), dtype(1)))


@pytest.mark.parametrize("n", [300, 1024, 4099, 1 << 18])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_row_sums_are_accurate_and_independent_of_the_thread_split(monkeypatch, n, dtype):
    """sum(dim=-1) of a large array: rows up to 4096 long as one gemv with ones, longer ones in runs of 128
    through einsum, then pairwise sums. Each row's value must not depend on how many threads share the rows,
    and its error must stay at the pairwise sum's order (einsum over a whole long row would not)."""
    _share_from_any_size(monkeypatch)
    rng = np.random.default_rng(n)
    x = (rng.random(((1 << 19) // n + 3, n)) + 1).astype(dtype)  # all positive: the worst case for the error
    t = ember.tensor(x)
    one = t.sum(dim=-1).numpy()
    monkeypatch.setattr(_fast, "_threads", lambda: 3)  # other row splits (chunks of a third as many rows)
    three = t.sum(dim=-1).numpy()
    np.testing.assert_array_equal(one, three)
    ref = x.astype(np.float64).sum(-1) if dtype == np.float32 else np.array([math.fsum(r) for r in x])
    pairwise = np.max(np.abs(x.sum(-1) - ref) / ref)
    ours = np.max(np.abs(one - ref) / ref)
    assert ours <= 2 * pairwise + 4 * np.finfo(dtype).eps, (ours, pairwise)


@pytest.mark.parametrize("shape", [(1024, 1024), (3, 100_003), (1 << 18,)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_total_sum_is_accurate_and_independent_of_the_thread_split(monkeypatch, shape, dtype):
    _share_from_any_size(monkeypatch)
    x = (np.random.default_rng(len(shape)).random(shape) + 1).astype(dtype)
    t = ember.tensor(x)
    one = t.sum().numpy()
    assert one.shape == () and one.dtype == dtype
    assert t.sum(dim=tuple(range(len(shape))), keepdim=True).shape == (1,) * len(shape)
    monkeypatch.setattr(_fast, "_threads", lambda: 3)
    assert t.sum().numpy() == one
    ref = math.fsum(x.reshape(-1).tolist())
    assert abs(float(one) - ref) / ref <= 2 * abs(float(x.sum()) - ref) / ref + 4 * np.finfo(dtype).eps


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_short_row_sums_special_values(dtype):
    """The gemv row sums keep PyTorch's special values: inf and NaN propagate, inf - inf is NaN, a row of
    -0.0 sums to +0.0, and keepdim keeps the summed dim."""
    x = np.ones((600, 512), dtype)
    x[0, 3], x[1, 7], x[2, :2], x[3] = np.inf, np.nan, (np.inf, -np.inf), -0.0
    s = ember.tensor(x).sum(dim=-1)
    got = s.numpy()
    assert np.isposinf(got[0]) and np.isnan(got[1]) and np.isnan(got[2])
    assert got[3] == 0 and not np.signbit(got[3])
    assert got[4:].tolist() == [512.0] * 596 and s.dtype == ember.tensor(x).dtype
    assert ember.tensor(x).sum(dim=-1, keepdim=True).shape == (600, 1)
    assert ember.tensor(x.reshape(20, 30, 512)).sum(dim=-1).shape == (20, 30)


@pytest.mark.parametrize("shape", [(4, 16, 100), (2, 8, 16, 20), (3, 32, 5, 4, 7)])
def test_batch_norm_inference_is_the_two_rounding_fold(kernel_path, shape):
    """Given statistics, y = x * s + (b - mean * s) with s = w / sqrt(var + eps), the product and the sum each
    rounded to float32 (PyTorch's kernel, and the NumPy path): the compiled pass gives the same bits."""
    rng = np.random.default_rng(7)
    C = shape[1]
    x = rng.standard_normal(shape).astype(np.float32) * 3
    mean, var = rng.standard_normal(C).astype(np.float32), rng.uniform(0.2, 3, C).astype(np.float32)
    w, b = rng.standard_normal(C).astype(np.float32), rng.standard_normal(C).astype(np.float32)
    y = F.batch_norm(ember.tensor(x), ember.tensor(mean), ember.tensor(var), ember.tensor(w), ember.tensor(b),
                     training=False, eps=1e-5).numpy()
    c = (1, C) + (1,) * (len(shape) - 2)
    s = (np.float32(1) / np.sqrt(var + np.float32(1e-5)) * w).reshape(c)
    np.testing.assert_array_equal(y, x * s + (b.reshape(c) - mean.reshape(c) * s))
    y = F.batch_norm(ember.tensor(x), ember.tensor(mean), ember.tensor(var), training=False, eps=1e-5).numpy()
    s = (np.float32(1) / np.sqrt(var + np.float32(1e-5))).reshape(c)
    np.testing.assert_array_equal(y, x * s + -(mean.reshape(c) * s))


def test_instance_norm_with_running_statistics_per_channel(kernel_path):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((4, 16, 300)).astype(np.float32)
    mean, var = rng.standard_normal(16).astype(np.float32), rng.uniform(0.5, 2, 16).astype(np.float32)
    y = F.instance_norm(ember.tensor(x), ember.tensor(mean), ember.tensor(var), use_input_stats=False).numpy()
    ref = (x.astype(np.float64) - mean[:, None]) / np.sqrt(var[:, None].astype(np.float64) + 1e-5)
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)


def test_inplace_relu_without_a_graph_writes_in_place():
    x = ember.tensor(np.random.default_rng(9).standard_normal((64, 300)).astype(np.float32))
    before, data, version = x.numpy().copy(), x._data, x._version
    with ember.no_grad():
        out = F.relu(x, inplace=True)
    assert out is x and x._data is data and x._version == version + 1
    np.testing.assert_array_equal(x.numpy(), np.maximum(before, 0))
    leaf = ember.ones(3, requires_grad=True)
    with ember.no_grad():  # allowed without a graph, as in PyTorch
        F.relu(leaf.mul_(-1), inplace=True)
    assert leaf.detach().tolist() == [0.0, 0.0, 0.0]


def test_inplace_relu_in_a_graph_needs_no_clone_of_its_input():
    x = ember.tensor(np.random.default_rng(10).standard_normal((64, 300)), requires_grad=True)
    h = x * 2
    F.relu(h, inplace=True)
    assert type(h.grad_fn).__name__ == "ReluBackward0"
    (h * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 6.0 * (x.detach().numpy() > 0))
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        F.relu(x, inplace=True)
    y = x.sigmoid()  # sigmoid's backward reads its output, which relu_ overwrites: PyTorch's error
    F.relu(y, inplace=True)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training_backward_against_float64(kernel_path, affine):
    """Batch norm's training backward (the compiled per-channel sums and input-gradient pass with numba, NumPy's
    block passes without) against the same module in float64."""
    rng = np.random.default_rng(11)
    x = (rng.standard_normal((6, 16, 10, 9)) * 3 + 2).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    grads = {}
    for dt in (np.float32, np.float64):
        bn = nn_bn = ember.nn.BatchNorm2d(16, affine=affine)
        if dt == np.float64:
            nn_bn = bn.double()
        if affine:
            with ember.no_grad():
                nn_bn.weight.copy_(ember.tensor(np.linspace(0.5, 2, 16)))
                nn_bn.bias.copy_(ember.tensor(np.linspace(-1, 1, 16)))
        t = ember.tensor(x.astype(dt), requires_grad=True)
        y = nn_bn(t)
        (y * ember.tensor(np.cos(x).astype(dt))).sum().backward(retain_graph=True)
        y.backward(ember.tensor(g.astype(dt)))  # a second gradient, accumulated
        grads[dt] = [t.grad.numpy()] + ([nn_bn.weight.grad.numpy(), nn_bn.bias.grad.numpy()] if affine else [])
    for got, ref in zip(grads[np.float32], grads[np.float64]):
        np.testing.assert_allclose(got, ref, rtol=2e-5, atol=2e-5 * max(1.0, np.abs(ref).max()))
    bn = ember.nn.BatchNorm1d(16)  # sum()'s gradient reaches batch norm as one value broadcast
    t = ember.tensor(x.reshape(6, 16, 90), requires_grad=True)
    bn(t).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), 0, atol=1e-5)
    np.testing.assert_allclose(bn.bias.grad.numpy(), 6 * 90)
    assert np.abs(bn.weight.grad.numpy()).max() < 1e-3


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba (the ember[fast] extra) is not installed")
@pytest.mark.parametrize("has_w, bcast, center", [(True, False, True), (False, False, True), (True, True, True),
                                                  (False, True, False), (True, False, False)])
@pytest.mark.parametrize("want", [(True, True, True), (True, False, False), (False, True, False),
                                  (False, False, True)])
def test_norm_backward_kernel_every_combination(has_w, bcast, center, want):
    """``norm_bwd`` with each of weight / broadcast gradient / centring present or not and each of dx / dw / db
    wanted or not (absent ones stand in as rows of ones, of the broadcast value or scratch rows), against the
    float64 formulas: dxhat = g * w, dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) (no first
    mean without centring), dw = sum g * xhat, db = sum g, per group position."""
    from ember import _fast_kernels as K

    rng = np.random.default_rng(11)
    N, G, C = 6, 3, 40
    x = (rng.standard_normal((N, G, C)) * 2 + 1).astype(np.float32)
    w = rng.standard_normal((G, C)).astype(np.float32) if has_w else np.zeros((0, 0), np.float32)
    g = np.full((1, 1, 1), 0.7, np.float32) if bcast else rng.standard_normal((N, G, C)).astype(np.float32)
    x64 = x.astype(np.float64)
    mu = x64.mean(axis=2) if center else np.zeros((N, G))
    rstd = 1.0 / np.sqrt(((x64 - mu[..., None]) ** 2).mean(axis=2) + 1e-5)
    want_dx, want_dw, want_db = want
    dx = np.empty_like(x) if want_dx else np.zeros((0, 0, 0), np.float32)
    dw = np.zeros((G, C), np.float32) if want_dw else np.zeros((0, 0), np.float32)
    db = np.zeros((G, C), np.float32) if want_db else np.zeros((0, 0), np.float32)
    K.norm_bwd(g, x, w, mu.astype(np.float32), rstd.astype(np.float32), center, dx, dw, db)
    g64 = np.broadcast_to(g, x.shape).astype(np.float64)
    xhat = (x64 - mu[..., None]) * rstd[..., None]
    dxhat = g64 * (w.astype(np.float64) if has_w else 1.0)
    m1 = dxhat.mean(axis=2, keepdims=True) if center else 0.0
    ref_dx = rstd[..., None] * (dxhat - m1 - xhat * (dxhat * xhat).mean(axis=2, keepdims=True))
    if want_dx:
        np.testing.assert_allclose(dx, ref_dx, rtol=1e-4, atol=1e-4)
    if want_dw:
        np.testing.assert_allclose(dw, (g64 * xhat).sum(axis=0), rtol=1e-4, atol=1e-4)
    if want_db:
        np.testing.assert_allclose(db, g64.sum(axis=0), rtol=1e-4, atol=1e-4)
