"""cummax / cummin of large float32 arrays in one compiled pass (the optional numba extra): the values and
indices of the NumPy path, which follows PyTorch (ties move the index forward, a NaN takes over and each
later NaN moves the index), along every dimension, and the gradient flowing to the picked elements; on a GPU
(CuPy has no ufunc accumulate) the same results from a doubling scan, logcumsumexp too."""

import numpy as np
import pytest

import ember
from ember import _fast


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((12, 1500)).astype(np.float32)  # most blocks of 256 below the running extreme
    x[:4] = rng.integers(-20, 20, (4, 1500))  # ties in every block
    x[4, 1000] = np.nan  # a NaN in a late block
    x[5, [300, 800, 1200]] = np.nan
    x[6] = np.sort(x[6])  # rising: the index moves every step
    x[7, 512], x[7, 767] = 50.0, 50.0  # a new extreme at a block's start, a tie at another's end
    x[8, 255], x[8, 256] = -50.0, -50.0
    return x


@pytest.mark.parametrize("name", ["cummax", "cummin"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_compiled_equals_numpy_path(name, dim, kernel_path, monkeypatch):
    x = _data()
    assert x.size >= _fast.MIN_SIZE  # the compiled path under kernel_path == "fast"
    got = getattr(ember, name)(ember.tensor(x), dim)
    if kernel_path == "fast":
        monkeypatch.setenv("EMBER_NO_FAST", "1")
        want = getattr(ember, name)(ember.tensor(x), dim)
        np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())
        np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())
    lines = [x[:, j] for j in (0, 3, 9)] if dim == 0 else list(x)
    found = [got.indices.numpy()[:, j] for j in (0, 3, 9)] if dim == 0 else list(got.indices.numpy())
    for row, idx in zip(lines, found):
        ref, at = row[0], 0
        for i, v in enumerate(row):  # PyTorch's rule, written out
            if np.isnan(v) or (not np.isnan(ref) and (v >= ref if name == "cummax" else v <= ref)):
                ref, at = v, i
            assert idx[i] == at


def test_gradient_goes_to_the_picked_elements(kernel_path):
    x = ember.tensor(np.arange(4096, dtype=np.float32).reshape(2, 2048)[:, ::-1].copy(), requires_grad=True)
    values, indices = ember.cummax(x, 1)
    assert indices[:, 5].tolist() == [0, 0]
    values.sum().backward()
    g = x.grad.numpy()
    assert g[:, 0].tolist() == [2048.0, 2048.0] and not g[:, 1:].any()


@pytest.mark.parametrize("name", ["cummax", "cummin", "logcumsumexp"])
def test_on_the_device(name, device):
    # CuPy's ufuncs have no accumulate: there the running extremes and logcumsumexp take a doubling scan
    x = np.random.default_rng(3).standard_normal((5, 37)).astype(np.float32)
    x[1, 9], x[3] = np.nan, np.round(x[3])
    for dim in (0, 1):
        got = getattr(ember, name)(ember.tensor(x, device=device), dim)
        want = getattr(ember, name)(ember.tensor(x), dim)
        if name == "logcumsumexp":
            np.testing.assert_allclose(got.cpu().numpy(), want.numpy(), rtol=1e-6)
        else:
            np.testing.assert_array_equal(got.values.cpu().numpy(), want.values.numpy())
            np.testing.assert_array_equal(got.indices.cpu().numpy(), want.indices.numpy())
