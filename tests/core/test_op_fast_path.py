"""The per-op fast paths (same dtype, same shape, no graph) give what the general path gives: dtype
promotion, broadcasting, scalars, Parameters, bfloat16, autograd; and tensors take user attributes."""

import numpy as np
import pytest

import ember


@pytest.mark.parametrize("op", ["add", "mul", "sub"])
def test_fast_and_general_paths_agree(op):
    f = getattr(ember, op)
    a = ember.tensor([1.5, -2.0, 3.0])
    b = ember.tensor([0.5, 4.0, -1.0])
    ref = getattr(np, {"add": "add", "mul": "multiply", "sub": "subtract"}[op])(a.numpy(), b.numpy())
    np.testing.assert_array_equal(f(a, b).numpy(), ref)  # same dtype and shape: the fast path
    assert f(a, ember.tensor([1, 2, 3])).dtype == ember.float32  # promotion
    assert f(ember.tensor([1, 2, 3]), ember.tensor([1, 2, 3])).dtype == ember.int64
    assert f(a, b.double()).dtype == ember.float64
    assert f(a, 2).dtype == ember.float32 and f(2.5, a).shape == (3,)  # scalars
    assert f(a.reshape(3, 1), b).shape == (3, 3)  # broadcasting
    p = ember.nn.Parameter(ember.tensor([1.0, 2.0, 3.0]))
    out = f(p, a)
    assert out.requires_grad and out.grad_fn is not None
    bf = f(a.bfloat16(), b.bfloat16())
    assert bf.dtype == ember.bfloat16


def test_fast_path_records_the_graph():
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    b = ember.tensor([3.0, 5.0], requires_grad=True)
    (a * b + a).sum().backward()
    assert a.grad.tolist() == [4.0, 6.0] and b.grad.tolist() == [1.0, 2.0]
    with ember.no_grad():
        assert (a * b).grad_fn is None and not (a + b).requires_grad


def test_shape_mismatch_error_kept():
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(3\) must match the size of tensor b \(2\)"):
        ember.ones(3) + ember.ones(2)


def test_tensor_attributes_and_defaults():
    t = ember.ones(2)
    assert t._base is None and t._hooks is None and t._retains_grad is False and t._grad_acc is None
    t.note = "user attribute"  # as PyTorch allows
    assert t.note == "user attribute"
    v = t.view(2)
    assert v._base is t and t._base is None


@pytest.mark.parametrize("shape, target", [
    ((1,), (100,)), ((), (2, 3)), ((1, 1), (0, 3)), ((2, 1, 3), (4, 2, 5, 3)), ((3,), (2, 3)), ((0, 1), (0, 4)),
])
def test_broadcast_view_is_numpys_broadcast(shape, target):
    from ember.ops._common import broadcast_view

    arr = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    view, ref = broadcast_view(arr, target), np.broadcast_to(arr, target)
    assert view.shape == ref.shape and view.strides == ref.strides
    np.testing.assert_array_equal(view, ref)
    assert not view.flags.writeable and np.shares_memory(view, arr) == (view.size > 0)
    strided = np.arange(2 * np.prod(shape), dtype=np.float32)[::2].reshape(shape)  # not contiguous: NumPy's path
    np.testing.assert_array_equal(broadcast_view(strided, target), np.broadcast_to(strided, target))


def test_broadcast_view_errors_as_numpy():
    from ember.ops._common import broadcast_view

    for arr, target in ((np.ones(3), (2, 4)), (np.ones(2), ())):
        with pytest.raises(ValueError) as ours:
            broadcast_view(arr, target)
        with pytest.raises(ValueError) as numpys:
            np.broadcast_to(arr, target)
        assert str(ours.value) == str(numpys.value)


def test_sum_and_mean_backward_broadcast_views():
    x = ember.arange(12.0).reshape(3, 4).requires_grad_()
    (x.sum() * 2 + x.sum(1).pow(2).sum() + x.mean(0, keepdim=True).sum()).backward()
    rows = np.arange(12.0).reshape(3, 4).sum(1, keepdims=True)
    np.testing.assert_allclose(x.grad.numpy(), 2 + 2 * np.broadcast_to(rows, (3, 4)) + 1 / 3)
    x.grad.add_(1)  # the accumulated gradient is the leaf's own, writable array


def test_no_fast_is_read_at_each_call(monkeypatch):
    """``EMBER_NO_FAST`` switches the compiled kernels off and on while the program runs ("" and "0" leave them on)."""
    from ember import _fast

    have = _fast.kernels() is not None
    for value, on in (("1", False), ("0", have), ("", have), ("yes", False)):
        monkeypatch.setenv("EMBER_NO_FAST", value)
        assert (_fast.kernels() is not None) is on
    monkeypatch.delenv("EMBER_NO_FAST")
    assert (_fast.kernels() is not None) is have


def test_unary_float_errors_are_silent_in_any_thread_and_under_any_errstate():
    """inf and nan come back without a warning or an error, as in PyTorch: in the thread that imported Ember (whose
    NumPy setting is read first), under a program's own ``np.errstate``, and in a new thread (NumPy's default)."""
    import math
    import threading
    import warnings

    x = ember.tensor([1000.0, -1.0])

    def check():
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            y, z = ember.exp(x).tolist(), ember.log(x).tolist()
        assert y[0] == math.inf and math.isnan(z[1])

    check()
    with np.errstate(all="raise"):
        check()
    failures = []
    thread = threading.Thread(target=lambda: failures.append(None) or check() or failures.pop())
    thread.start()
    thread.join()
    assert failures == []
