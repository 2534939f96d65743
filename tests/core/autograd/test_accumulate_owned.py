"""A leaf keeps a fresh gradient nobody else holds instead of copying it; it never shares memory with
another leaf's gradient or with a gradient a hook kept."""

import sys

import numpy as np
import pytest

import ember
from ember.autograd import function as _function


def _shares(a, b):
    return np.shares_memory(a.grad.numpy(), b.grad.numpy())


class _SameTensorTwice(ember.autograd.Function):
    @staticmethod
    def forward(ctx, p, q):
        return p * q

    @staticmethod
    def backward(ctx, g):
        r = g * 2
        return r, r


class _SameArrayTwice(ember.autograd.Function):
    @staticmethod
    def forward(ctx, p, q):
        return p * q

    @staticmethod
    def backward(ctx, g):
        r = (g * 2).numpy()
        return ember.from_numpy(r), ember.from_numpy(r)


def test_leaves_never_share_gradient_memory():
    a = ember.randn(300, requires_grad=True)
    b = ember.randn(300, requires_grad=True)
    for make in (lambda: a * b, lambda: a + b, lambda: a * 2 + b, lambda: _SameTensorTwice.apply(a, b),
                 lambda: _SameArrayTwice.apply(a, b)):
        a.grad = b.grad = None
        make().sum().backward()
        assert not _shares(a, b)
        before = b.grad.numpy().copy()
        (a * 3).sum().backward()  # accumulates into a.grad in place: b.grad must not move
        np.testing.assert_array_equal(b.grad.numpy(), before)


def test_a_gradient_kept_by_a_hook_is_copied():
    a = ember.randn(300, requires_grad=True)
    kept = []
    a.register_hook(kept.append)
    (a * a).sum().backward()
    assert not np.shares_memory(a.grad.numpy(), kept[0].numpy())
    first = kept[0].numpy().copy()
    (a * 2).sum().backward()
    np.testing.assert_array_equal(kept[0].numpy(), first)
    np.testing.assert_allclose(a.grad.numpy(), 2 * a.detach().numpy() + 2, rtol=1e-6)


@pytest.mark.skipif(not _function._STEAL_OWNED, reason="this Python's reference counts are not trusted for it")
def test_a_fresh_gradient_is_kept_without_a_copy():
    x = ember.randn(200, 50, requires_grad=True)
    copies = []

    def watch(frame, event, arg):
        if event == "c_call" and getattr(arg, "__name__", "") == "copy" and frame.f_code.co_name == "apply":
            copies.append(frame.f_code.co_filename)

    y = (x * x).sum()
    sys.setprofile(watch)
    try:
        y.backward()
    finally:
        sys.setprofile(None)
    assert copies == []
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.detach().numpy(), rtol=1e-6)
