"""The compiled max-pool forward and backward of MaxPool1d and MaxPool2d (non-overlapping windows, the optional
numba extra) against the NumPy path and hand-computed cases: ties go to the first offset (PyTorch), the tail past
the last window and every non-winner get 0, inf gradients pass unchanged; forward: a NaN in a window wins, and of
equal values (+0 and -0) the first is kept, as in PyTorch."""

import numpy as np
import pytest

import ember
import ember.nn.functional as F

try:
    import numba  # noqa: F401

    HAVE_NUMBA = True
except ImportError:
    HAVE_NUMBA = False


def _grad(x_np, g_np, k, **kw):
    x = ember.tensor(x_np, requires_grad=True)
    y = F.max_pool1d(x, k, **kw)
    y.backward(ember.tensor(g_np))
    return y.detach().numpy(), x.grad.numpy()


def _same_on_both_paths(monkeypatch, grad, x, g, k):
    """``grad(x, g, k)``'s output and input gradient: the compiled path equals the NumPy path exactly."""
    monkeypatch.setenv("EMBER_NO_FAST", "1")
    y_ref, gx_ref = grad(x, g, k)
    monkeypatch.setenv("EMBER_NO_FAST", "0")
    y, gx = grad(x, g, k)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(gx, gx_ref)


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba (the ember[fast] extra) is not installed")
@pytest.mark.parametrize("W, k", [(496, 4), (122, 4), (21, 4), (203, 3), (64, 2)])  # (1, 4) windows as one row, with a tail
def test_fast_backward_matches_the_numpy_path(W, k, monkeypatch):
    rng = np.random.default_rng(0)
    x = rng.integers(-3, 3, size=(4, 32, W)).astype(np.float32)  # many ties
    g = rng.standard_normal((4, 32, W // k)).astype(np.float32)
    g[0, 0, 0] = np.inf
    g[1, 2, 3] = -np.inf
    _same_on_both_paths(monkeypatch, _grad, x, g, k)


def test_hand_computed_gradient_with_ties_and_a_tail():
    x = np.zeros((1, 32, 130), np.float32)  # 4096+ elements: the compiled path applies when installed
    x[0, 0, :9] = [1, 5, 5, 2, 7, 7, 7, 0, 9]
    g = np.arange(1, 32 * 43 + 1, dtype=np.float32).reshape(1, 32, 43)
    y, gx = _grad(x, g, 3)
    assert y[0, 0, :3].tolist() == [5, 7, 9]
    assert gx[0, 0, :9].tolist() == [0, 1, 0, 0, 2, 0, 0, 0, 3]  # first maximum of each window
    assert gx[0, 0, 129] == 0  # past the last window
    assert gx[0, 1, :3].tolist() == [44, 0, 0]  # an all-zero window: its first element


def test_ceil_mode_partial_window_keeps_the_general_path():
    x = np.arange(4 * 32 * 130, dtype=np.float32).reshape(4, 32, 130)
    g = np.ones((4, 32, 44), np.float32)
    _, gx = _grad(x, g, 3, ceil_mode=True)
    assert gx[0, 0, 129] == 1 and gx[0, 0, 128] == 1 and gx[0, 0, 127] == 0  # the partial last window too


def _grad2d(x_np, g_np, k, **kw):
    x = ember.tensor(x_np, requires_grad=True)
    y = F.max_pool2d(x, k, **kw)
    y.backward(ember.tensor(g_np))
    return y.detach().numpy(), x.grad.numpy()


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba (the ember[fast] extra) is not installed")
@pytest.mark.parametrize("H, W, k", [(24, 24, 2), (2, 2, 2), (4, 6, 2), (13, 11, 2), (12, 9, 3), (8, 10, (2, 5))])
def test_fast_2d_backward_matches_the_numpy_path(H, W, k, monkeypatch):
    rng = np.random.default_rng(1)
    x = rng.integers(-2, 2, size=(3, 40, H, W)).astype(np.float32)  # many ties
    kh, kw = (k, k) if isinstance(k, int) else k
    g = rng.standard_normal((3, 40, H // kh, W // kw)).astype(np.float32)
    g[0, 0, 0, 0] = np.inf
    _same_on_both_paths(monkeypatch, _grad2d, x, g, k)


def test_hand_computed_2d_gradient_with_ties_and_a_tail():
    x = np.zeros((1, 64, 9, 9), np.float32)  # 4096+ elements: the compiled path applies when installed
    x[0, 0, :2, :2] = [[1, 4], [4, 2]]  # a tie: the first in row-major scan order wins
    x[0, 0, 2:4, 0:2] = [[0, 0], [0, 3]]
    g = np.arange(1, 64 * 16 + 1, dtype=np.float32).reshape(1, 64, 4, 4)
    y, gx = _grad2d(x, g, 2)
    assert y[0, 0, :2, :2].tolist() == [[4, 0], [3, 0]]
    assert gx[0, 0, :2, :2].tolist() == [[0, 1], [0, 0]]
    assert gx[0, 0, 2:4, :2].tolist() == [[0, 0], [0, 5]]
    assert gx[0, 0, :2, 2:4].tolist() == [[2, 0], [0, 0]]  # an all-zero window: its first element
    assert not gx[0, :, 8, :].any() and not gx[0, :, :, 8].any()  # past the last row and column of windows


@pytest.mark.parametrize("size", [8, 9])  # 2x2 windows tiling the plane (window rows), and with a tail
def test_hand_computed_2d_gradient_on_both_kernels(size):
    x = np.zeros((1, 64, size, size), np.float32)
    x[0, 0, :2, :2] = [[1, 4], [4, 2]]  # a tie: the first in row-major scan order wins
    x[0, 0, 2:4, 0:2] = [[0, 0], [0, 3]]
    x[0, 1, 6:8, 6:8] = [[1, 2], [3, 5]]
    g = np.arange(1, 64 * 16 + 1, dtype=np.float32).reshape(1, 64, 4, 4)
    y, gx = _grad2d(x, g, 2)
    assert y[0, 0, :2, :2].tolist() == [[4, 0], [3, 0]] and y[0, 1, 3, 3] == 5
    assert gx[0, 0, :4, :4].tolist() == [[0, 1, 2, 0], [0, 0, 0, 0], [0, 0, 6, 0], [0, 5, 0, 0]]
    assert gx[0, 1, 6:8, 6:8].tolist() == [[0, 0], [0, 32]]


def _forward(x_np, k, two_d=False):
    pool = F.max_pool2d if two_d else F.max_pool1d
    with ember.no_grad():
        return pool(ember.tensor(x_np), k).numpy()


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba (the ember[fast] extra) is not installed")
@pytest.mark.parametrize("shape, k", [((4, 32, 496), 4), ((4, 32, 203), 3), ((2, 64, 65), 2), ((2, 64, 77), 5),
                                      ((3, 40, 13, 11), 2), ((3, 40, 12, 9), 3), ((2, 50, 8, 10), (2, 5)),
                                      ((3, 40, 12, 10), 2), ((8, 300, 2, 2), 2),
                                      ((2, 50, 9, 12), (3, 1))])
def test_fast_forward_matches_the_numpy_path_with_nans(shape, k, monkeypatch):
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape).astype(np.float32)
    x.reshape(-1)[rng.integers(0, x.size, 40)] = np.nan
    monkeypatch.setenv("EMBER_NO_FAST", "1")
    ref = _forward(x, k, len(shape) == 4)
    monkeypatch.setenv("EMBER_NO_FAST", "0")
    np.testing.assert_array_equal(_forward(x, k, len(shape) == 4), ref)


def test_hand_computed_forward_nan_and_signed_zeros():
    x = np.zeros((1, 64, 130), np.float32)  # 4096+ elements: the compiled path applies when installed
    x[0, 0, :12] = [1, np.nan, 3, 2, -0.0, 0.0, 0.0, -0.0, 0.0, -0.0, -1, 4]
    y = _forward(x, 4)
    assert np.isnan(y[0, 0, 0]) and y[0, 0, 2] == 4
    if HAVE_NUMBA:  # PyTorch keeps the first of equal values: -0 here
        assert np.signbit(y[0, 0, 1])


def test_hand_computed_gradient_of_windows_of_four_with_ties_and_a_tail():
    """MaxPool1d(4)'s unrolled kernel: the winner at each of the four offsets, ties to the first, the tail 0."""
    x = np.zeros((1, 32, 130), np.float32)
    x[0, 0, :16] = [9, 1, 2, 3, 1, 9, 2, 3, 1, 2, 9, 3, 1, 2, 3, 9]
    x[0, 1, :8] = [4, 4, 4, 4, 1, 7, 7, 2]
    g = np.arange(1, 32 * 32 + 1, dtype=np.float32).reshape(1, 32, 32)
    y, gx = _grad(x, g, 4)
    assert gx[0, 0, :16].tolist() == [1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 3, 0, 0, 0, 0, 4]
    assert gx[0, 1, :8].tolist() == [33, 0, 0, 0, 0, 34, 0, 0]
    assert gx[0, 0, 128:].tolist() == [0, 0]
    assert y[0, 1, :2].tolist() == [4, 7]
