"""Batch and instance norm with given statistics (eval mode), nothing recorded: one compiled call
(``_fast_kernels.batch_norm_eval``) that gives the NumPy path's bits, and is taken only where nothing is recorded."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import nn

pytest.importorskip("numba", reason="numba (the ember[fast] extra) is not installed")


def _module(kind, C, affine, rng):
    m = {"bn1d": nn.BatchNorm1d, "bn2d": nn.BatchNorm2d}[kind](C, affine=affine) if kind != "in1d" else \
        nn.InstanceNorm1d(C, affine=affine, track_running_stats=True)
    with ember.no_grad():
        m.running_mean.copy_(ember.tensor(rng.standard_normal(C).astype(np.float32)))
        m.running_var.copy_(ember.tensor(rng.uniform(0.1, 3.0, C).astype(np.float32)))
        if affine:
            m.weight.copy_(ember.tensor(rng.standard_normal(C).astype(np.float32)))
            m.bias.copy_(ember.tensor(rng.standard_normal(C).astype(np.float32)))
    return m.eval()


@pytest.mark.parametrize("kind, shape", [("bn1d", (32, 32, 496)), ("bn1d", (32, 64, 6)), ("bn1d", (1, 5, 3)),
                                         ("bn1d", (7, 5)), ("bn2d", (2, 3, 4, 5)), ("in1d", (3, 4, 9))])
@pytest.mark.parametrize("affine", [True, False])
def test_compiled_eval_gives_the_numpy_paths_bits(kind, shape, affine, monkeypatch):
    rng = np.random.default_rng(0)
    m = _module(kind, shape[1], affine, rng)
    x = rng.standard_normal(shape).astype(np.float32) * 3
    x.reshape(-1)[:4] = [0.0, -0.0, np.inf, np.nan]
    with ember.no_grad():
        compiled = m(ember.tensor(x)).numpy()
        monkeypatch.setenv("EMBER_NO_FAST", "1")
        reference = m(ember.tensor(x)).numpy()
    assert compiled.dtype == np.float32 and compiled.shape == shape
    np.testing.assert_array_equal(compiled, reference)
    np.testing.assert_array_equal(np.signbit(compiled), np.signbit(reference))


def test_compiled_eval_by_hand():
    m = nn.BatchNorm1d(2).eval()
    with ember.no_grad():
        m.running_mean.copy_(ember.tensor([1.0, -2.0]))
        m.running_var.copy_(ember.tensor([4.0 - 1e-5, 0.25 - 1e-5]))
        m.weight.copy_(ember.tensor([3.0, 1.0]))
        m.bias.copy_(ember.tensor([0.5, -1.0]))
        y = m(ember.tensor([[[3.0, 1.0], [-2.0, -1.5]]]))  # (x - mean) / sqrt(var + eps) * w + b
    np.testing.assert_allclose(y.numpy(), [[[3.5, 0.5], [-1.0, 0.0]]], rtol=1e-6, atol=1e-6)


def test_taken_only_where_nothing_is_recorded(monkeypatch):
    from ember import _fast

    calls = []
    kernel = _fast.kernels().batch_norm_eval
    monkeypatch.setattr(_fast.kernels(), "batch_norm_eval", lambda *a: (calls.append(1), kernel(*a))[1])
    m = nn.BatchNorm1d(4).eval()
    x = ember.randn(8, 4, 16)
    with ember.no_grad():
        expected = m(x)
    assert calls == [1]
    y = m(x)  # the parameters need gradients: the recorded path, which keeps what its backward reads
    assert calls == [1] and y.grad_fn is not None
    np.testing.assert_array_equal(y.detach().numpy(), expected.numpy())
    y.sum().backward()
    np.testing.assert_allclose(m.bias.grad.numpy(), np.full(4, 8 * 16.0))


def test_other_dtypes_and_shapes_take_the_numpy_path(monkeypatch):
    from ember import _fast

    calls = []
    monkeypatch.setattr(_fast.kernels(), "batch_norm_eval", lambda *a: calls.append(1))
    m64 = nn.BatchNorm1d(3).double().eval()
    with ember.no_grad():
        y = m64(ember.randn(4, 3, 5, dtype=ember.float64))
    assert calls == [] and y.dtype == ember.float64
    m = nn.BatchNorm1d(3).eval()
    with ember.no_grad():
        m(ember.randn(4, 3, 10)[:, :, ::2])  # not C-contiguous
    assert calls == []
