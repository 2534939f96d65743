"""Winograd F(2x2, 3x3) convolutions (ember/ops/winograd.py) against a float64 direct sum: outputs, both
gradients and gradchecks, odd sizes (tiles overhanging the edge), paddings 0 to 2, bias, batch 1, block
splits; float32 accuracy; and which shapes conv2d sends there. Each on the NumPy path (channels-last grids)
and on the compiled one (tiles straight from NCHW planes, ``_fast_winograd``)."""

from __future__ import annotations

import importlib.util

import ember
import ember.nn.functional as F
import numpy as np
import pytest
from ember.autograd import gradcheck, gradgradcheck
from ember.ops import conv as conv_ops, winograd

HAVE_NUMBA = importlib.util.find_spec("numba") is not None


def _direct(x, w, pad):
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    ho, wo = xp.shape[2] - 2, xp.shape[3] - 2
    return sum(np.einsum("nchw,oc->nohw", xp[:, :, i:i + ho, j:j + wo], w[:, :, i, j])
               for i in range(3) for j in range(3))


def _count_wino(monkeypatch):
    """Records every shape conv.py sends to Winograd (forward, input or weight gradient)."""
    calls = []
    real = conv_ops._algo

    def algo(*a, **k):
        choice = real(*a, **k)
        if choice == "wino":
            calls.append(a[3:5])
        return choice

    monkeypatch.setattr(conv_ops, "_algo", algo)
    return calls


@pytest.fixture
def wino(monkeypatch, kernel_path):
    """conv2d sends every 3x3 stride-1 ungrouped conv to Winograd, on the NumPy or the compiled path (the
    compiled weight gradient at every size); counts the calls."""
    monkeypatch.setattr(conv_ops, "_WINO_MIN_C", 0)
    monkeypatch.setattr(conv_ops, "_WINO_MIN_C_COMPILED", 0)
    monkeypatch.setattr(conv_ops, "_WINO_MIN_HW", 0)
    monkeypatch.setattr(conv_ops, "_WINO_THIN_MAX_HW", 1 << 30)
    monkeypatch.setattr(conv_ops, "_WINO_NCHW_WGRAD_MIN_HW", 0)
    monkeypatch.setattr(conv_ops, "_REGION_MAX_HW", -1)
    calls = _count_wino(monkeypatch)
    for name in ("forward", "weight_grad_nchw"):  # the compiled path's entry points
        real = getattr(winograd, name)
        monkeypatch.setattr(winograd, name, lambda *a, _real=real, _name=name, **k: calls.append(_name) or _real(*a, **k))
    return calls


@pytest.mark.parametrize("n,c,o,h,w,pad", [
    (2, 3, 4, 8, 8, 1),
    (1, 5, 3, 7, 9, 1),  # batch 1, odd sizes: the last tiles overhang the output
    (3, 4, 2, 5, 6, 0),
    (2, 2, 3, 3, 3, 0),  # one output pixel
    (2, 3, 2, 4, 7, 2),  # the widest padding whose input gradient is itself a Winograd conv
    (2, 2, 3, 4, 5, 3),  # wider: the input gradient by im2col's col2im
])
@pytest.mark.parametrize("block", [1, 1 << 30])  # one tile row per block / everything in one block
def test_matches_direct_sum_with_gradients(rng, monkeypatch, wino, kernel_path, n, c, o, h, w, pad, block):
    monkeypatch.setattr(winograd, "_BLOCK_BYTES", block)
    monkeypatch.setattr(winograd, "_MIN_ROWS", 1)
    monkeypatch.setattr(winograd, "_PLANE_BLOCK_BYTES", block)  # the compiled path: one image per block, or all
    x, k, b = rng.standard_normal((n, c, h, w)), rng.standard_normal((o, c, 3, 3)), rng.standard_normal(o)
    xt, kt, bt = (ember.tensor(a, requires_grad=True) for a in (x, k, b))
    y = F.conv2d(xt, kt, bt, padding=pad)
    assert wino, "Winograd was not used"
    ref = _direct(x, k, pad) + b[:, None, None]
    np.testing.assert_allclose(y.detach().numpy(), ref, rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(ref.shape)
    y.backward(ember.tensor(g))
    # adjoint identities: <g, conv(x, dk)> = <gk, dk>, <g, conv(dx, k)> = <gx, dx>
    dk, dx = rng.standard_normal(k.shape), rng.standard_normal(x.shape)
    np.testing.assert_allclose((kt.grad.numpy() * dk).sum(), (g * _direct(x, dk, pad)).sum(), rtol=1e-10)
    np.testing.assert_allclose((xt.grad.numpy() * dx).sum(), (g * _direct(dx, k, pad)).sum(), rtol=1e-10)
    np.testing.assert_allclose(bt.grad.numpy(), g.sum((0, 2, 3)), rtol=1e-12)
    compiled = {"forward", "weight_grad_nchw"} & set(wino)
    assert compiled == (set() if kernel_path == "numpy" else {"forward", "weight_grad_nchw"})


def test_gradcheck_and_double_backward(rng, wino):
    x = ember.tensor(rng.standard_normal((2, 3, 5, 6)), requires_grad=True)
    w = ember.tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    b = ember.tensor(rng.standard_normal(4), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, padding=1), (x, w, b))
    assert gradgradcheck(lambda x, w, b: F.conv2d(x, w, b), (x, w, b))
    assert wino


def test_float32_accuracy(rng, kernel_path):
    """float32 Winograd stays within a few float32 ulps of the exact (float64) convolution."""
    x = rng.standard_normal((2, 128, 9, 8)).astype(np.float32)
    w = (rng.standard_normal((128, 128, 3, 3)) * 0.05).astype(np.float32)
    y = F.conv2d(ember.tensor(x), ember.tensor(w), padding=1).numpy()
    assert y.dtype == np.float32
    ref = _direct(x.astype(np.float64), w.astype(np.float64), 1)
    assert np.abs(y - ref).max() <= 1e-5 * np.abs(ref).max()


@pytest.mark.parametrize("shape,w_shape,kw,expected", [
    ((2, 128, 8, 8), (128, 128, 3, 3), {"padding": 1}, "wino"),
    ((2, 256, 4, 4), (512, 256, 3, 3), {"padding": 1}, "other"),  # 4x4: per-tap regions (conv_regions)
    ((2, 64, 16, 16), (128, 64, 3, 3), {"padding": 1}, "wino"),  # 64 channels on a small image
    ((2, 64, 18, 18), (64, 64, 3, 3), {"padding": 1}, "other"),  # ... but not on a larger one
    ((2, 32, 8, 8), (128, 32, 3, 3), {"padding": 1}, "other"),  # too few input channels
    ((2, 128, 8, 8), (128, 128, 3, 3), {"padding": 1, "stride": 2}, "other"),
    ((2, 128, 8, 8), (128, 64, 3, 3), {"padding": 1, "groups": 2}, "other"),
    ((2, 128, 8, 8), (128, 128, 3, 3), {"padding": 2, "dilation": 2}, "other"),
    ((2, 128, 2, 2), (128, 128, 3, 3), {"padding": 1}, "other"),  # one tile per image
])
def test_selection(rng, monkeypatch, shape, w_shape, kw, expected):
    monkeypatch.setenv("EMBER_NO_FAST", "1")  # the NumPy path's choices (the compiled path's: below)
    calls = _count_wino(monkeypatch)
    x = ember.tensor(rng.standard_normal(shape).astype(np.float32))
    w = ember.tensor(rng.standard_normal(w_shape).astype(np.float32))
    F.conv2d(x, w, **kw)
    assert bool(calls) == (expected == "wino")
    calls.clear()  # float64 takes the same path
    F.conv2d(x.double(), w.double(), **kw)
    assert bool(calls) == (expected == "wino")


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba (the ember[fast] extra) is not installed")
def test_selection_compiled(rng, monkeypatch):
    """Compiled, Winograd takes 32 channels and more at every image size (no layout transposes to pay for)."""
    monkeypatch.delenv("EMBER_NO_FAST", raising=False)
    calls = _count_wino(monkeypatch)
    for c, o, kw, expected in ((64, 64, {"padding": 1}, True), (32, 64, {}, True), (16, 64, {}, False),
                               (64, 32, {}, True), (64, 16, {}, False), (64, 64, {"padding": 1, "stride": 2}, False)):
        x = ember.tensor(rng.standard_normal((2, c, 18, 18)).astype(np.float32))
        F.conv2d(x, ember.tensor(rng.standard_normal((o, c, 3, 3)).astype(np.float32)), **kw)
        assert bool(calls) == expected, (c, o, kw)
        calls.clear()


def test_not_for_half_or_integers(rng, monkeypatch, wino):
    calls = wino
    x = rng.integers(-3, 3, (1, 2, 5, 5))
    w = rng.integers(-3, 3, (2, 2, 3, 3))
    y = F.conv2d(ember.tensor(x), ember.tensor(w), padding=1)
    np.testing.assert_array_equal(y.numpy(), _direct(x, w, 1))
    F.conv2d(ember.tensor(x).half(), ember.tensor(w).half(), padding=1)
    assert not calls


def test_nothing_is_kept_for_the_backward_but_the_input(kernel_path):
    """A Winograd convolution keeps neither its input grid (4x the input) nor its weight tiles between the
    forward and the backward: both are recomputed there, and the gradients are still exact."""
    rng = np.random.default_rng(5)
    x = ember.tensor(rng.standard_normal((2, 128, 8, 8)), requires_grad=True)
    w = ember.tensor(rng.standard_normal((128, 128, 3, 3)) * 0.05, requires_grad=True)
    with pytest.MonkeyPatch.context() as mp:
        calls = _count_wino(mp)
        y = F.conv2d(x, w, padding=1)
        assert calls and y.grad_fn.prep is None
        g = rng.standard_normal(tuple(y.shape))
        y.backward(ember.tensor(g))
    ref = ember.tensor(x.detach().numpy(), requires_grad=True)
    ref_w = ember.tensor(w.detach().numpy(), requires_grad=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(conv_ops, "_WINO_MIN_C", 10**6)  # the same convolution by im2col
        mp.setattr(conv_ops, "_WINO_MIN_C_COMPILED", 10**6)
        F.conv2d(ref, ref_w, padding=1).backward(ember.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), ref.grad.numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(w.grad.numpy(), ref_w.grad.numpy(), rtol=1e-9, atol=1e-9)


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba (the ember[fast] extra) is not installed")
@pytest.mark.parametrize("size, compiled", [(4, False), (8, True)])
def test_compiled_weight_gradient_from_8x8(rng, monkeypatch, size, compiled):
    """The compiled weight gradient from 64 output positions per image; below, the NumPy path's."""
    monkeypatch.delenv("EMBER_NO_FAST", raising=False)
    calls = []
    real = winograd.weight_grad_nchw
    monkeypatch.setattr(winograd, "weight_grad_nchw", lambda *a: calls.append(1) or real(*a))
    x = ember.tensor(rng.standard_normal((2, 32, size, size)).astype(np.float32), requires_grad=True)
    w = ember.tensor(rng.standard_normal((32, 32, 3, 3)).astype(np.float32), requires_grad=True)
    F.conv2d(x, w, padding=1).sum().backward()
    assert bool(calls) == compiled


def test_weight_transforms_leave_parked_blas_workers_parked(rng, monkeypatch):
    """The kernel's tiles (``weight_tiles``, a K = 9 GEMM that the convolution's own threads follow) never start
    BLAS's parked workers, neither from this thread (which stalls it) nor soon from the pool; the weight
    gradient's ``weight_untile`` never starts them from this thread (a pool thread may, for the GEMMs after).
    Values against the NumPy GEMMs."""
    from ember import _parallel

    if not _parallel._openblas_vars():
        pytest.skip("NumPy is not built on OpenBLAS here")
    unparks = []
    monkeypatch.setattr(_parallel, "unpark_soon", lambda: unparks.append(1))
    w = rng.standard_normal((256, 128, 3, 3))
    kron = winograd._kron_for(np, w.dtype, False)
    ref_u = (kron @ w.reshape(-1, 9).T).reshape(16, 256, 128)  # (the references first: they start the workers)
    ref_dw = (ref_u.reshape(16, -1).T @ kron).reshape(256, 128, 3, 3)
    _parallel.park_blas_workers()
    u = winograd.weight_tiles(w)
    assert _parallel.blas_workers_parked() and not unparks
    dw = winograd.weight_untile(u)
    assert _parallel.blas_workers_parked()
    np.testing.assert_allclose(u, ref_u, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dw, ref_dw, rtol=1e-12, atol=1e-12)
