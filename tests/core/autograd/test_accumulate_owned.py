"""A leaf keeps a fresh gradient nobody else holds instead of copying it; it never shares memory with
another leaf's gradient or with a gradient a hook kept."""

import pathlib
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


def _copies_in_backward(y):
    """``y.backward()``, and the files of the graph nodes' ``apply`` that copied an array meanwhile (Ember's own: a
    kernel that numba compiles meanwhile runs ``apply`` methods of its own that copy)."""
    copies = []
    package = str(pathlib.Path(ember.__file__).parent)

    def watch(frame, event, arg):
        if (event == "c_call" and getattr(arg, "__name__", "") == "copy" and frame.f_code.co_name == "apply"
                and frame.f_code.co_filename.startswith(package)):
            copies.append(frame.f_code.co_filename)

    sys.setprofile(watch)
    try:
        y.backward()
    finally:
        sys.setprofile(None)
    return copies


@pytest.mark.skipif(not _function._STEAL_OWNED, reason="this Python's reference counts are not trusted for it")
def test_a_fresh_gradient_is_kept_without_a_copy():
    x = ember.randn(200, 50, requires_grad=True)
    assert _copies_in_backward((x * x).sum()) == []
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.detach().numpy(), rtol=1e-6)


class _ReshapedView(ember.autograd.Function):
    """A backward whose gradient is a reshaped view of a fresh array (kept: nothing else holds the array), or a view
    of part of one / of an array it also keeps (copied)."""

    kept = []

    @staticmethod
    def forward(ctx, p, mode):
        ctx.mode = mode
        return p * 1

    @staticmethod
    def backward(ctx, g):
        n = g.numel()
        if ctx.mode == "whole":
            return ember.from_numpy(np.full((n,), 2.0, np.float32).reshape(tuple(g.shape))), None
        if ctx.mode == "part":
            return ember.from_numpy(np.full((2 * n,), 2.0, np.float32)[:n].reshape(tuple(g.shape))), None
        base = np.full((n,), 2.0, np.float32)
        _ReshapedView.kept.append(base)
        return ember.from_numpy(base.reshape(tuple(g.shape))), None


@pytest.mark.skipif(not _function._STEAL_OWNED, reason="this Python's reference counts are not trusted for it")
def test_a_reshaped_view_of_a_fresh_array_is_kept_and_a_shared_one_copied():
    x = ember.randn(20, 30, requires_grad=True)
    _ReshapedView.apply(x, "whole").sum().backward()
    kept_whole = x.grad.numpy()
    assert kept_whole.base is not None and kept_whole.base.size == kept_whole.size  # the view itself, no copy
    for mode in ("part", "kept"):
        x.grad = None
        _ReshapedView.apply(x, mode).sum().backward()
        assert x.grad.numpy().flags.owndata, mode  # a copy
        np.testing.assert_array_equal(x.grad.numpy(), np.full((20, 30), 2.0, np.float32))
    assert not np.shares_memory(x.grad.numpy(), _ReshapedView.kept[-1])
    _ReshapedView.kept.clear()


@pytest.mark.skipif(not _function._STEAL_OWNED, reason="this Python's reference counts are not trusted for it")
def test_exclusive_tells_an_unshared_whole_view_from_the_rest():
    a = np.empty((4, 6))
    v = a.reshape(24)
    assert not _function._exclusive(v)  # `a` still holds the memory
    del a
    assert _function._exclusive(v)
    b = np.empty((4, 6))
    assert not _function._exclusive(b[:2].copy().reshape(12)[:6])
    assert not _function._exclusive(np.broadcast_to(np.empty(3), (4, 3)))
    assert not _function._exclusive(np.empty((4, 6)).T)


@pytest.mark.skipif(not _function._STEAL_OWNED, reason="this Python's reference counts are not trusted for it")
def test_group_norms_input_gradient_is_kept_without_a_copy():
    # its kernel writes (N, G, Cg, L); the gradient handed on is that array reshaped to the input's shape
    from ember import _fast

    if _fast.kernels() is None:
        pytest.skip("numba (the ember[fast] extra) is not installed")
    x = ember.randn(4, 8, 16, 16, requires_grad=True)
    assert _copies_in_backward(ember.nn.functional.group_norm(x, 2).sum()) == []
    assert x.grad.shape == x.shape
