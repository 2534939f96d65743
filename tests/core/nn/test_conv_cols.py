"""The "col" path of ops/conv.py: the compiled im2col columns of whole batches straight from NCHW
(``_fast_conv.cols_nchw``) and their adjoint against the NumPy path (padded channel-major copies and slice-adds),
bit for bit: strides 1 to 3, dilation, asymmetric padding wider than the kernel reach, rows shorter than the
compiled forward's minimum and longer; and its forward by threads against the whole-batch GEMM."""

import importlib.util

import numpy as np
import pytest

from ember.ops import conv as conv_ops

needs_numba = pytest.mark.skipif(importlib.util.find_spec("numba") is None,
                                 reason="numba (the ember[fast] extra) is not installed")


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("H, W, k, stride, dilation, pads", [
    (16, 16, 3, (2, 2), (1, 1), ((1, 1), (1, 1))),
    (17, 19, 3, (1, 1), (1, 1), ((1, 1), (1, 1))),
    (12, 30, 5, (3, 2), (1, 1), ((2, 0), (0, 3))),
    (9, 21, 3, (1, 3), (2, 2), ((3, 1), (4, 2))),  # padding beyond the kernel's reach: whole rows of zeros
    (4, 4, 3, (1, 1), (1, 1), ((1, 1), (1, 1))),  # rows of 4: the NumPy copies in the forward
    (2, 2, 3, (1, 1), (1, 1), ((1, 1), (1, 1))),
])
def test_columns_and_their_adjoint_match_the_numpy_path(monkeypatch, dtype, H, W, k, stride, dilation, pads):
    monkeypatch.setattr(conv_ops, "_COLS_MIN_WO", 1)  # the compiled forward at every row length
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 5, H, W)).astype(dtype)
    cfg = conv_ops._Cfg(stride, pads, dilation, 1)
    Ho = conv_ops._out_size(H, *pads[0], k, stride[0], dilation[0])
    Wo = conv_ops._out_size(W, *pads[1], k, stride[1], dilation[1])
    cols = conv_ops._cols(x, cfg, k, k, Ho, Wo)
    ref = conv_ops._im2col(conv_ops._pad_cn(x, cfg), cfg, k, k, Ho, Wo)
    np.testing.assert_array_equal(cols, ref)
    d = rng.standard_normal(ref.shape).astype(dtype)
    gx = conv_ops._uncols(d, cfg, k, k, x.shape, Ho, Wo)
    (a0, a1), (b0, b1) = pads
    gref = conv_ops._crop_cn(conv_ops._col2im(d, cfg, k, k, 5, 3, H + a0 + a1, W + b0 + b1, Ho, Wo), cfg, H, W)
    np.testing.assert_allclose(gx, gref, rtol=1e-6 if dtype == np.float32 else 1e-14, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("N", [2, 5])
def test_forward_by_thread_matches_the_whole_batch_gemm(monkeypatch, dtype, N):
    """Without columns to keep, "col" runs each thread's share of the batch on its own (``_col_fwd_by_thread``);
    with them kept, one GEMM over the whole batch: the same values, bias included."""
    monkeypatch.setattr(conv_ops, "_BLK_MIN_HW", 1 << 30)  # "col" for this shape
    monkeypatch.setattr(conv_ops, "_BLK_OVER_COL_MIN_HW", 1 << 30)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((N, 6, 9, 11)).astype(dtype)
    w = rng.standard_normal((4, 6, 3, 3)).astype(dtype)
    b = rng.standard_normal(4).astype(dtype)
    cfg = conv_ops._Cfg((2, 1), ((1, 1), (1, 2)), (1, 1), 1)
    calls = []
    real = conv_ops._col_fwd_by_thread
    monkeypatch.setattr(conv_ops, "_col_fwd_by_thread", lambda *a: calls.append(1) or real(*a))
    y = conv_ops._fwd(x, w, cfg, bias=b)
    y_kept, prep = conv_ops._fwd(x, w, cfg, bias=b, keep=True)
    assert calls == [1] and prep[0] == "col"
    np.testing.assert_allclose(y, y_kept, rtol=1e-5 if dtype == np.float32 else 1e-13, atol=1e-5)
