"""dtypes, aliases, default dtype and PyTorch's type promotion (expected results recorded from torch)."""

import numpy as np
import pytest

import ember


def test_aliases():
    assert ember.float is ember.float32 and ember.double is ember.float64 and ember.half is ember.float16
    assert ember.long is ember.int64 and ember.int is ember.int32 and ember.short is ember.int16
    assert ember.bool.name == "bool" and repr(ember.float32) == "ember.float32"
    assert ember.float32.is_floating_point and not ember.int64.is_floating_point
    assert ember.float32.itemsize == 4


def test_default_dtype_roundtrip():
    assert ember.get_default_dtype() is ember.float32
    try:
        ember.set_default_dtype(ember.float64)
        assert ember.tensor([1.0]).dtype is ember.float64
        assert ember.zeros(1).dtype is ember.float64
    finally:
        ember.set_default_dtype(ember.float32)
    with pytest.raises(TypeError):
        ember.set_default_dtype(ember.int64)


@pytest.mark.parametrize(
    "dtype,scalar,expected",
    [
        (ember.int64, 2.5, ember.float32),
        (ember.int32, 2, ember.int32),
        (ember.uint8, 44, ember.uint8),
        (ember.bool, 1, ember.int64),
        (ember.float16, 2.0, ember.float16),
    ],
)
def test_tensor_scalar_promotion(dtype, scalar, expected):
    assert (ember.ones(2, dtype=dtype) + scalar).dtype is expected


@pytest.mark.parametrize(
    "a,b,expected",
    [
        (((2,), ember.int32), ((), ember.float64), ember.float64),
        (((2,), ember.int32), ((), ember.int64), ember.int32),
        (((2,), ember.float16), ((), ember.float64), ember.float16),
        (((2,), ember.uint8), ((2,), ember.int8), ember.int16),
        (((2,), ember.bool), ((2,), ember.bool), ember.bool),
        (((2,), ember.float32), ((2,), ember.float64), ember.float64),
        (((2,), ember.int64), ((2,), ember.float16), ember.float16),
    ],
)
def test_tensor_tensor_promotion(a, b, expected):
    x = ember.ones(*a[0], dtype=a[1])
    y = ember.ones(*b[0], dtype=b[1])
    assert (x + y).dtype is expected
    assert ember.result_type(x, y) is expected


def test_int_division_is_true_division():
    assert (ember.tensor([3]) / ember.tensor([2])).dtype is ember.float32
    assert (ember.tensor(3) / 2).item() == 1.5


def test_promote_types():
    assert ember.promote_types(ember.int32, ember.float32) is ember.float32
    assert ember.promote_types(ember.uint8, ember.int8) is ember.int16


def test_unsupported_numpy_dtype():
    with pytest.raises(TypeError, match="can't convert"):
        ember.from_numpy(np.array(["a"]))


def test_python_int_wraps_into_small_integer_dtypes():
    # recorded from torch: int8 [1] + 300 == 45, uint8 [1] + 300 == 45, int8 [1] - 200 == 57
    assert (ember.tensor([1], dtype=ember.int8) + 300).tolist() == [45]
    assert (ember.tensor([1], dtype=ember.uint8) + 300).tolist() == [45]
    assert (ember.tensor([1], dtype=ember.int8) - 200).tolist() == [57]


def test_division_by_zero_is_silent_inf():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert (ember.ones(2) / 0).tolist() == [float("inf")] * 2
