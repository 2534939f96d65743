"""Top-level names PyTorch scripts use: finfo/iinfo, backends flags, compile, legacy constructors,
functional aliases in the ``ember`` namespace and softmax methods."""

import numpy as np
import pytest

import ember


def test_finfo_and_iinfo():
    assert ember.finfo(ember.float32).eps == pytest.approx(1.1920928955078125e-07)
    assert ember.finfo(ember.float16).max == 65504.0
    assert ember.finfo().bits == 32
    assert ember.iinfo(ember.int64).max == 2**63 - 1 and ember.iinfo(ember.uint8).min == 0
    with pytest.raises(TypeError, match="finfo"):
        ember.finfo(ember.int32)
    with pytest.raises(TypeError, match="iinfo"):
        ember.iinfo(ember.float32)


def test_backends_flags_compile_and_precision():
    ember.backends.cudnn.benchmark = True
    assert ember.backends.cudnn.benchmark is True
    assert ember.backends.mps.is_available() is False
    model = ember.nn.Linear(2, 2)
    assert ember.compile(model) is model
    decorated = ember.compile()(len)
    assert decorated is len
    ember.set_float32_matmul_precision("high")
    assert ember.get_float32_matmul_precision() == "high"
    with pytest.raises(RuntimeError):
        ember.set_float32_matmul_precision("low")
    ember.set_float32_matmul_precision("highest")


def test_legacy_constructors_and_variable():
    t = ember.FloatTensor([1, 2])
    assert t.dtype == ember.float32 and t.tolist() == [1.0, 2.0]
    assert ember.LongTensor([1]).dtype == ember.int64
    assert ember.FloatTensor(2, 3).shape == (2, 3)
    v = ember.autograd.Variable(ember.ones(2), requires_grad=True)
    assert v.requires_grad


def test_namespace_aliases_and_softmax_methods():
    x = ember.tensor([[1.0, 2.0, 3.0]])
    expected = np.exp([1.0, 2.0, 3.0]) / np.exp([1.0, 2.0, 3.0]).sum()
    np.testing.assert_allclose(ember.softmax(x, 1).numpy()[0], expected, rtol=1e-6)
    np.testing.assert_allclose(x.softmax(-1).numpy()[0], expected, rtol=1e-6)
    np.testing.assert_allclose(x.log_softmax(1).numpy()[0], np.log(expected), rtol=1e-6)
    assert x.softmax(1, dtype=ember.float64).dtype == ember.float64
    assert ember.dropout(x, 0.5, False) is x
    assert ember.conv2d(ember.ones(1, 1, 3, 3), ember.ones(1, 1, 2, 2)).shape == (1, 1, 2, 2)
    assert ember.max_pool2d(ember.ones(1, 1, 4, 4), 2).shape == (1, 1, 2, 2)
    assert ember.layer_norm(ember.randn(2, 4), (4,)).shape == (2, 4)
