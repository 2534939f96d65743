"""DLPack interop: Tensor.__dlpack__/__dlpack_device__, ember.from_dlpack and ember.utils.dlpack share
memory with NumPy (and PyTorch under tox -e parity) without copying."""

import numpy as np
import pytest

import ember
from ember.utils import dlpack


def test_numpy_reads_an_ember_tensor_without_copying():
    t = ember.arange(6.0).reshape(2, 3)
    a = np.from_dlpack(t)
    a[0, 0] = 7.0
    assert t[0, 0].item() == 7.0
    assert t.__dlpack_device__() == (dlpack.DLDeviceType.kDLCPU, 0)
    col = np.from_dlpack(t[:, 1])  # strided views export too
    np.testing.assert_array_equal(col, [1.0, 4.0])


def test_ember_reads_numpy_without_copying():
    n = np.arange(3)
    e = ember.from_dlpack(n)
    assert e.dtype == ember.int64
    e[0] = 4
    assert n[0] == 4
    assert ember.from_dlpack(n, copy=True).numpy() is not n
    assert ember.from_dlpack(e) is e


def test_legacy_capsule_round_trip():
    t = ember.arange(4, dtype=ember.float64)
    back = dlpack.from_dlpack(dlpack.to_dlpack(t))
    back[1] = 10.0
    assert t[1].item() == 10.0 and back.dtype == ember.float64


def test_tensor_requiring_grad_is_refused_as_pytorch():
    with pytest.raises(BufferError, match=r"Can't export tensors that require gradient, use tensor.detach\(\)"):
        ember.ones(2, requires_grad=True).__dlpack__()
    np.testing.assert_array_equal(np.from_dlpack(ember.ones(2, requires_grad=True).detach()), [1.0, 1.0])


def test_not_dlpack():
    with pytest.raises(TypeError, match="expected an object with __dlpack__"):
        ember.from_dlpack([1, 2])


@pytest.mark.gpu
def test_cupy_round_trip():
    cupy = pytest.importorskip("cupy", reason="DLPack exchange needs the real CuPy (not the fake CUDA)")

    t = ember.arange(4.0, device="cuda")
    c = cupy.from_dlpack(t)
    c[0] = 9.0
    assert t[0].item() == 9.0
    back = ember.from_dlpack(c)
    assert back.device.type == "cuda"


@pytest.mark.parity
def test_parity_zero_copy_with_pytorch():
    torch = pytest.importorskip("torch")
    t = ember.arange(6.0).reshape(2, 3)
    pt = torch.from_dlpack(t)
    pt[1, 2] = -1.0
    assert t[1, 2].item() == -1.0
    x = torch.arange(4.0)
    e = ember.from_dlpack(x)
    e[0] = 5.0
    assert x[0].item() == 5.0
