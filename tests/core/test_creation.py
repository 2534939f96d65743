"""Factories: zeros/ones/full/empty/arange/linspace/eye and *_like (values recorded from torch)."""

import pytest

import ember


def test_zeros_ones_full():
    assert ember.zeros(2, 3).tolist() == [[0.0] * 3] * 2
    assert ember.ones((2,)).dtype is ember.float32
    assert ember.full((2,), 7).dtype is ember.int64
    assert ember.full((2,), 7.0).dtype is ember.float32
    assert ember.full((2,), True).dtype is ember.bool
    assert ember.zeros(2, dtype=ember.int32).dtype is ember.int32
    with pytest.raises(RuntimeError, match="negative dimension"):
        ember.zeros(-1)


def test_like_factories():
    t = ember.zeros(2, 3, dtype=ember.float64)
    for fn in (ember.zeros_like, ember.ones_like, ember.empty_like, ember.rand_like, ember.randn_like):
        u = fn(t)
        assert u.shape == (2, 3) and u.dtype is ember.float64
    assert ember.full_like(t, 2).tolist() == [[2.0] * 3] * 2
    assert ember.zeros_like(t, dtype=ember.int64).dtype is ember.int64


def test_arange():
    assert ember.arange(5).tolist() == [0, 1, 2, 3, 4] and ember.arange(5).dtype is ember.int64
    assert ember.arange(1, 2.5, 0.5).tolist() == [1.0, 1.5, 2.0] and ember.arange(1, 2.5, 0.5).dtype is ember.float32
    assert ember.arange(10, 0, -3).tolist() == [10, 7, 4, 1]
    assert ember.arange(0, 1, 0.1).shape == (10,)
    with pytest.raises(RuntimeError, match="step must be nonzero"):
        ember.arange(0, 1, 0)


def test_linspace_logspace_eye():
    assert ember.linspace(0, 1, 5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert ember.logspace(0, 2, 3).tolist() == [1.0, 10.0, 100.0]
    assert ember.eye(2, 3).tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]


def test_as_tensor_shares_numpy_memory():
    import numpy as np

    a = np.zeros(3, dtype=np.float32)
    t = ember.as_tensor(a)
    a[1] = 4
    assert t.tolist() == [0.0, 4.0, 0.0]
    assert ember.as_tensor(a, dtype=ember.float64).dtype is ember.float64


def test_requires_grad_factory_flag():
    assert ember.zeros(2, requires_grad=True).requires_grad
    assert ember.randn(2, requires_grad=True).is_leaf
