"""Tensor repr in PyTorch's format (expected strings recorded from torch 2.13, with torch -> ember)."""

import pytest

import ember

CASES = [
    (lambda: ember.tensor([1.5, 2.0, 3.25]), "tensor([1.5000, 2.0000, 3.2500])"),
    (lambda: ember.tensor([1.0, 2.0]), "tensor([1., 2.])"),
    (lambda: ember.tensor([[1, 2], [3, 4]]), "tensor([[1, 2],\n        [3, 4]])"),
    (lambda: ember.tensor([1e-5, 1.0]), "tensor([1.0000e-05, 1.0000e+00])"),
    (lambda: ember.tensor([1e10, 1.0]), "tensor([1.0000e+10, 1.0000e+00])"),
    (lambda: ember.tensor(3.0), "tensor(3.)"),
    (lambda: ember.tensor([True, False]), "tensor([ True, False])"),
    (lambda: ember.zeros(2, 0), "tensor([], size=(2, 0))"),
    (lambda: ember.tensor([], dtype=ember.long), "tensor([], dtype=ember.int64)"),
    (lambda: ember.tensor([1.0], requires_grad=True), "tensor([1.], requires_grad=True)"),
    (lambda: ember.tensor([1.0], dtype=ember.float64), "tensor([1.], dtype=ember.float64)"),
    (lambda: ember.tensor([float("nan"), float("inf"), -1.5]), "tensor([    nan,     inf, -1.5000])"),
    (lambda: ember.arange(2000.0), "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n        1.9990e+03])"),
    (lambda: ember.zeros(2, 3, 2), "tensor([[[0., 0.],\n         [0., 0.],\n         [0., 0.]],\n\n        [[0., 0.],\n         [0., 0.],\n         [0., 0.]]])"),
    (lambda: ember.tensor([1, 2], dtype=ember.int32), "tensor([1, 2], dtype=ember.int32)"),
    (lambda: ember.tensor([-1.5, 20.25, 300.125]), "tensor([ -1.5000,  20.2500, 300.1250])"),
    (lambda: ember.tensor([1.0], requires_grad=True) * 2, "tensor([2.], grad_fn=<MulBackward0>)"),
]


@pytest.mark.parametrize("make,expected", CASES, ids=[c[1][:30] for c in CASES])
def test_repr_matches_pytorch(make, expected):
    assert repr(make()) == expected


def test_only_nonzero_finite_values_set_the_width():
    # recorded from PyTorch 2.13
    nan, inf = float("nan"), float("inf")
    assert repr(ember.tensor([1.0, -0.0])) == "tensor([1., -0.])"
    assert repr(ember.tensor([1.0, nan])) == "tensor([1., nan])"
    assert repr(ember.tensor([1.5, nan])) == "tensor([1.5000,    nan])"
    assert repr(ember.tensor([inf, 2.0])) == "tensor([inf, 2.])"
    assert repr(ember.tensor([-inf, 2.5])) == "tensor([  -inf, 2.5000])"
    assert repr(ember.tensor([0.0, 1.0, -1.0])) == "tensor([ 0.,  1., -1.])"
