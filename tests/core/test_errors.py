"""NumPy errors escaping from ops surface as PyTorch's exception types and messages (ember/_errors.py)."""

import pytest

import ember
import ember.nn.functional as F

BCAST = r"The size of tensor a \(3\) must match the size of tensor b \(4\) at non-singleton dimension 1"


@pytest.mark.parametrize(
    "fn",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a * b,
        lambda a, b: a / b,
        lambda a, b: a // b,
        lambda a, b: a % b,
        lambda a, b: a**b,
        lambda a, b: a < b,
        lambda a, b: a == b,
        lambda a, b: ember.minimum(a, b),
        lambda a, b: ember.maximum(a, b),
        lambda a, b: ember.fmod(a, b),
        lambda a, b: ember.atan2(a, b),
        lambda a, b: ember.clamp(a, b),
        lambda a, b: ember.lerp(a, b, 0.5),
        lambda a, b: ember.where(a > 0, a, b),
        lambda a, b: a.long() & b.long(),
        lambda a, b: a.bool() | b.bool(),
        lambda a, b: ember.logical_and(a, b),
        pytest.param(lambda a, b: F.mse_loss(a, b), marks=pytest.mark.filterwarnings("ignore:Using a target size")),
        lambda a, b: a.add_(b),
        lambda a, b: ember.broadcast_tensors(a, b),
    ],
)
def test_broadcast_mismatch_is_runtime_error(fn):
    a, b = ember.ones(2, 3), ember.ones(4)
    with pytest.raises(RuntimeError, match=BCAST):
        fn(a, b)


def test_broadcast_mismatch_names_the_last_mismatching_dim():
    with pytest.raises(RuntimeError, match=r"tensor a \(3\) must match the size of tensor b \(4\) at non-singleton dimension 2"):
        ember.ones(2, 3) * ember.ones(5, 3, 4)


def test_broadcast_mismatch_with_grad_and_without():
    a = ember.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=BCAST):
        a + ember.ones(4)
    with ember.no_grad(), pytest.raises(RuntimeError, match=BCAST):
        ember.exp(a) * ember.ones(4)


def test_masked_fill_and_select_broadcast():
    with pytest.raises(RuntimeError, match="must match the size of tensor b"):
        ember.ones(2, 3).masked_fill(ember.ones(4, dtype=ember.bool), 0.0)
    with pytest.raises(RuntimeError, match="must match the size of tensor b"):
        ember.ones(2, 3).masked_select(ember.ones(4, dtype=ember.bool))


def test_matmul_vectors_of_different_length():
    with pytest.raises(RuntimeError, match=r"inconsistent tensor size, expected tensor \[3\] and src \[4\]"):
        ember.matmul(ember.ones(3), ember.ones(4))


def test_argmax_argmin_of_empty_without_dim_is_index_error():
    with pytest.raises(IndexError, match=r"argmax\(\): Expected reduction dim"):
        ember.argmax(ember.ones(0))
    with pytest.raises(IndexError, match=r"argmin\(\): Expected reduction dim"):
        ember.argmin(ember.ones(0, 2))


def test_translate_keeps_intended_errors_and_maps_numpy_ones():
    import numpy as np

    from ember import _errors

    try:
        np.ones(3).sum(axis=5)
    except Exception as exc:  # numpy's AxisError
        new = _errors.translate(exc)
    assert isinstance(new, IndexError) and "expected to be in range of [-1, 0], but got 5" in str(new)
    try:
        np.ones((2, 3)).reshape(5)
    except ValueError as exc:
        new = _errors.translate(exc)
    assert type(new) is RuntimeError
    try:
        np.bitwise_and(np.ones(2), np.ones(2))
    except TypeError as exc:
        new = _errors.translate(exc)
    assert type(new) is RuntimeError
    with pytest.raises(IndexError, match="Dimension out of range"):  # ember's own error passes unchanged
        ember.ones(2).sum(dim=3)
    with pytest.raises(TypeError):  # a plain argument TypeError stays a TypeError
        ember.ones(2) + "x"


def test_user_function_errors_pass_unchanged():
    class Bad(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            raise ValueError("mine")

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(ValueError, match="mine"):
        Bad.apply(ember.ones(2, requires_grad=True))


def test_boolean_mask_of_the_wrong_shape():
    with pytest.raises(IndexError, match=r"The shape of the mask \[3\] at index 0 does not match the shape of the indexed tensor \[2, 3\] at index 0"):
        ember.ones(2, 3)[ember.tensor([True, False, True])]
    with pytest.raises(IndexError, match=r"The shape of the mask \[2\] at index 0 does not match .* \[2, 3\] at index 1"):
        ember.ones(2, 3, requires_grad=True)[:, ember.tensor([True, False])]


def test_python_number_overflowing_the_dtype():
    with pytest.raises(RuntimeError, match="value cannot be converted to type uint8_t without overflow"):
        F.pad(ember.ones(2, dtype=ember.uint8), (1, 1), value=-1)
