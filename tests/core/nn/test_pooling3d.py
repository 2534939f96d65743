"""3-D pooling (max / avg / adaptive / lp / unpool) and BatchNorm3d / InstanceNorm3d against values
recorded from PyTorch (fixtures/record_pooling3d.py), float64 gradient checks and PyTorch's errors."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F

REF = np.load(pathlib.Path(__file__).parent / "fixtures" / "pooling3d_ref.npz")
POOL_CASES = sorted({k.split("/")[0] for k in REF.files if "pool3d_" in k and not k.startswith("max_unpool3d")})
UNPOOL_CASES = sorted({k.split("/")[0] for k in REF.files if k.startswith("max_unpool3d")})


def _input(key):
    return REF["x"][0] if key == "x4" else REF[key]


@pytest.mark.parametrize("name", POOL_CASES)
def test_values_indices_and_gradients_match_pytorch(name):
    meta = json.loads(REF[f"{name}/meta"].tobytes())
    x = ember.tensor(_input(meta["input"]), requires_grad=True)
    res = getattr(F, meta["fn"])(x, **meta["kw"])
    y, idx = res if isinstance(res, tuple) else (res, None)
    np.testing.assert_allclose(y.detach().numpy(), REF[f"{name}/y"], rtol=1e-12, atol=1e-12)
    if idx is not None:
        assert idx.dtype == ember.int64
        np.testing.assert_array_equal(idx.numpy(), REF[f"{name}/idx"])
    (gx,) = ember.autograd.grad(y, [x], ember.tensor(REF[f"{name}/g"]))
    np.testing.assert_allclose(gx.numpy(), REF[f"{name}/gx"], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", UNPOOL_CASES)
def test_max_unpool3d_matches_pytorch(name):
    meta = json.loads(REF[f"{name}/meta"].tobytes())
    x = ember.tensor(REF[f"{name}/x"], requires_grad=True)
    u = F.max_unpool3d(x, ember.tensor(REF[f"{name}/idx"]), output_size=meta["output_size"], **meta["kw"])
    np.testing.assert_array_equal(u.detach().numpy(), REF[f"{name}/y"])
    (gx,) = ember.autograd.grad(u, [x], ember.tensor(REF[f"{name}/g"]))
    np.testing.assert_array_equal(gx.numpy(), REF[f"{name}/gx"])
    m = nn.MaxUnpool3d(**meta["kw"])
    np.testing.assert_array_equal(m(x, ember.tensor(REF[f"{name}/idx"]), meta["output_size"]).detach().numpy(), REF[f"{name}/y"])


def test_gradcheck_float64():
    rng = np.random.default_rng(1)
    # distinct values: max pooling is differentiable away from ties
    x = ember.tensor(rng.permutation(2 * 4 * 5 * 5).reshape(1, 2, 4, 5, 5) / 7.0, requires_grad=True)
    checks = [
        lambda a: F.max_pool3d(a, 2, stride=(1, 2, 2), padding=1, ceil_mode=True),
        lambda a: F.max_pool3d(a, (2, 3, 2), dilation=(1, 2, 1)),
        lambda a: F.avg_pool3d(a, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
        lambda a: F.avg_pool3d(a, (2, 2, 3), stride=1, divisor_override=4),
        lambda a: F.adaptive_avg_pool3d(a, (3, 2, 4)),
        lambda a: F.adaptive_max_pool3d(a, (3, 2, 4)),
        lambda a: F.adaptive_max_pool3d(a, (2, 5, 1)),
        lambda a: F.lp_pool3d(a + 0.5, 2.0, 2),
        lambda a: F.max_unpool3d(*F.max_pool3d(a, 2, return_indices=True), 2, output_size=(4, 5, 5)),
    ]
    for fn in checks:
        assert ember.autograd.gradcheck(fn, [x])


def test_modules_repr_and_shapes():
    x = ember.randn(2, 3, 6, 7, 8)
    assert repr(nn.MaxPool3d(2)) == "MaxPool3d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    assert repr(nn.AvgPool3d(2)) == "AvgPool3d(kernel_size=2, stride=2, padding=0)"
    assert repr(nn.AdaptiveAvgPool3d(2)) == "AdaptiveAvgPool3d(output_size=2)"
    assert repr(nn.AdaptiveMaxPool3d(2)) == "AdaptiveMaxPool3d(output_size=2)"
    assert repr(nn.MaxUnpool3d(2)) == "MaxUnpool3d(kernel_size=(2, 2, 2), stride=(2, 2, 2), padding=(0, 0, 0))"
    assert repr(nn.LPPool3d(2, 2)) == "LPPool3d(norm_type=2, kernel_size=2, stride=None, ceil_mode=False)"
    y, idx = nn.MaxPool3d(2, return_indices=True)(x)
    assert tuple(y.shape) == (2, 3, 3, 3, 4) and tuple(idx.shape) == (2, 3, 3, 3, 4)
    assert tuple(nn.MaxUnpool3d(2)(y, idx, output_size=x.shape).shape) == (2, 3, 6, 7, 8)
    assert tuple(nn.AvgPool3d(3, 2, 1, ceil_mode=True)(x).shape) == (2, 3, 4, 4, 5)
    assert tuple(nn.AdaptiveAvgPool3d((None, 2, 3))(x).shape) == (2, 3, 6, 2, 3)
    assert tuple(nn.AdaptiveMaxPool3d(1)(x[0]).shape) == (3, 1, 1, 1)
    assert tuple(nn.LPPool3d(2, (2, 3, 2))(x.abs()).shape) == (2, 3, 3, 2, 4)
    assert F.max_pool3d(x, 2).grad_fn is None and ember.max_pool3d is F.max_pool3d
    # an empty batch is allowed; integer max / average pooling keep the dtype
    assert tuple(F.max_pool3d(ember.randn(0, 3, 4, 5, 6), 2).shape) == (0, 3, 2, 2, 3)
    assert tuple(F.adaptive_max_pool3d(ember.randn(0, 3, 4, 5, 6), 2).shape) == (0, 3, 2, 2, 2)
    xi = ember.arange(16).reshape(1, 1, 2, 2, 4)
    assert F.max_pool3d(xi, 2).tolist() == [[[[[13, 15]]]]]
    assert F.avg_pool3d(xi, 2).dtype == ember.int64 and F.avg_pool3d(xi, 2).tolist() == [[[[[6, 8]]]]]


X = ember.randn(2, 3, 4, 5, 6)


@pytest.mark.parametrize("call, exc, msg", [
    (lambda: F.max_pool3d(ember.randn(3, 4, 5), 2), RuntimeError, "non-empty 4D or 5D (batch mode) tensor expected for input"),
    (lambda: F.max_pool3d(X, (2, 2)), RuntimeError, "max_pool3d: kernel_size must either be a single int, or a tuple of three ints"),
    (lambda: F.max_pool3d(X, 2, (2, 2)), RuntimeError, "max_pool3d: stride must either be omitted, a single int, or a tuple of three ints"),
    (lambda: F.max_pool3d(X, 2, 2, 0, (1, 1)), RuntimeError, "max_pool3d: dilation must be either a single int, or a tuple of three ints"),
    (lambda: F.max_pool3d(X, 0), RuntimeError, "stride should not be zero"),
    (lambda: F.max_pool3d(X, (2, 0, 2), 1), RuntimeError, "kernel size should be greater than zero, but got kT: 2 kH: 0 kW: 2"),
    (lambda: F.max_pool3d(X, 2, -1), RuntimeError, "stride should be greater than zero, but got dT: -1 dH: -1 dW: -1"),
    (lambda: F.max_pool3d(X, 2, 2, 0, (1, 0, 1)), RuntimeError, "dilation should be greater than zero, but got dilationT: 1 dilationH: 0 dilationW: 1"),
    (lambda: F.max_pool3d(X, 2, 2, 2), RuntimeError, "pad should be at most half of effective kernel size, but got pad=2, kernel_size=2 and dilation=1"),
    (lambda: F.max_pool3d(X, 5), RuntimeError, "Given input size: (3x4x5x6). Calculated output size: (3x0x1x1). Output size is too small"),
    (lambda: F.max_pool3d(ember.randn(2, 0, 4, 5, 6), 2), RuntimeError,
     "max_pool3d_with_indices_out_cpu_template(): Expected input's non-batch dimensions to have positive length, but input has a shape of [2, 0, 4, 5, 6] and non-batch dimension 0 has length zero!"),
    (lambda: F.max_pool3d(X, 2.0), TypeError, "max_pool3d(): argument 'kernel_size' (position 2) must be tuple of ints, not float"),
    (lambda: F.max_pool3d(ember.ones(1, 1, 2, 2, 2, dtype=ember.bool), 2), NotImplementedError, "\"max_pool3d\" not implemented for 'Bool'"),
    (lambda: F.avg_pool3d(X, (2, 2)), RuntimeError, "avg_pool3d: kernel_size must be a single int, or a tuple of three ints"),
    (lambda: F.avg_pool3d(X, 2, 2, (1, 1)), RuntimeError, "avg_pool3d: padding must be a single int, or a tuple of three ints"),
    (lambda: F.avg_pool3d(X, 5), RuntimeError, "input image (T: 4 H: 5 W: 6) smaller than kernel size (kT: 5 kH: 5 kW: 5)"),
    (lambda: F.avg_pool3d(X, 2, divisor_override=0), RuntimeError, "divisor must be not zero"),
    (lambda: F.avg_pool3d(ember.zeros(1, 1, 2, 2, 2, dtype=ember.complex64), 2), NotImplementedError,
     "\"avg_pool3d_out_frame\" not implemented for 'ComplexFloat'"),
    (lambda: F.avg_pool3d(ember.randn(2, 0, 4, 5, 6), 2), RuntimeError,
     "avg_pool3d(): Expected input's non-batch dimensions to have positive length, but input has a shape of [2, 0, 4, 5, 6] and non-batch dimension 0 has length zero!"),
    (lambda: F.adaptive_avg_pool3d(ember.randn(3, 4, 5), 2), RuntimeError, "adaptive_avg_pool3d(): Expected 4D or 5D tensor, but got [3, 4, 5]"),
    (lambda: F.adaptive_avg_pool3d(X, (2, 2)), RuntimeError, "adaptive_avg_pool3d: output_size must be 3"),
    (lambda: F.adaptive_avg_pool3d(X, (2, 2, -1)), RuntimeError,
     "adaptive_avg_pool3d: elements of output_size must be greater than or equal to 0 but received {2, 2,-1}"),
    (lambda: F.adaptive_avg_pool3d(ember.randn(2, 3, 0, 5, 6), 2), RuntimeError,
     "adaptive_avg_pool3d(): Expected input to have non-zero size for non-batch dimensions, but input has sizes [2, 3, 0, 5, 6] with dimension 2 being empty"),
    (lambda: F.adaptive_avg_pool3d(ember.ones(1, 1, 2, 2, 2, dtype=ember.int64), 2), NotImplementedError,
     "\"adaptive_avg_pool3d_cpu\" not implemented for 'Long'"),
    (lambda: F.adaptive_max_pool3d(ember.randn(3, 4, 5), 2), RuntimeError, "adaptive_max_pool3d(): Expected 4D or 5D tensor, but got: [3, 4, 5]"),
    (lambda: F.adaptive_max_pool3d(X, (2, 2)), RuntimeError, "adaptive_max_pool3d(): internal error: output_size.size() must be 3"),
    (lambda: F.adaptive_max_pool3d(X, (2, 2, -1)), RuntimeError, "Trying to create tensor with negative dimension -1: [2, 3, 2, 2, -1]"),
    (lambda: F.adaptive_max_pool3d(ember.randn(2, 0, 3, 5, 6), 2), RuntimeError,
     "adaptive_max_pool3d(): Expected input to have non-zero size for non-batch dimensions, but input has sizes [2, 0, 3, 5, 6] with dimension 1 being empty"),
    (lambda: F.max_unpool3d(ember.randn(3, 4, 5), ember.zeros(3, 4, 5, dtype=ember.int64), 2), RuntimeError,
     "Input to max_unpooling3d should be a 4d or 5d Tensor, but got a tensor with 3 dimensions."),
    (lambda: F.max_unpool3d(*F.max_pool3d(ember.arange(720.0).reshape(2, 3, 4, 5, 6).flip(-1), 2, return_indices=True), 2),
     RuntimeError, "Found an invalid max index: 112 (output volumes are of size 4x4x6)"),
    (lambda: F.max_unpool3d(ember.ones(1, 1, 2, 2, 2), ember.tensor([0, 0, -5, 0, 0, 0, 0, 100]).reshape(1, 1, 2, 2, 2), 2),
     RuntimeError, "Found an invalid max index: 100 (output volumes are of size 4x4x4)"),
    (lambda: F.max_unpool3d(F.max_pool3d(X, 2), ember.zeros(2, 3, 2, 2, 3, dtype=ember.int32), 2), RuntimeError,
     "elements in indices should be type int64"),
    (lambda: F.max_unpool3d(F.max_pool3d(X, 2), ember.zeros(2, 3, 1, 2, 3, dtype=ember.int64), 2), RuntimeError,
     "Expected shape of indices to be same as that of the input tensor ([2, 3, 2, 2, 3]) but got indices tensor with shape: [2, 3, 1, 2, 3]"),
    (lambda: F.max_unpool3d(*F.max_pool3d(X, 2, return_indices=True), 2, output_size=(9, 9, 9)), ValueError,
     'invalid output_size "(9, 9, 9)" (dim 0 must be between 2 and 6)'),
    (lambda: F.max_unpool3d(*F.max_pool3d(X, 2, return_indices=True), (2, 2)), RuntimeError,
     "There should be exactly three elements (depth, height, width) in output_size, but got 2 elements."),
    (lambda: F.lp_pool3d(X, 2, (2, 2)), ValueError, "not enough values to unpack (expected 3, got 2)"),
])
def test_errors_match_pytorch(call, exc, msg):
    with pytest.raises(exc) as info:
        call()
    assert str(info.value) == msg


@pytest.mark.parametrize("name, cls, kw", [
    ("batchnorm3d", nn.BatchNorm3d, {"momentum": 0.2}),
    ("instancenorm3d", nn.InstanceNorm3d, {"affine": True, "track_running_stats": True}),
])
def test_norm3d_end_to_end_matches_pytorch(name, cls, kw):
    m = cls(2, **kw).double()
    with ember.no_grad():
        m.weight.copy_(ember.tensor(REF[f"{name}/weight"]))
        m.bias.copy_(ember.tensor(REF[f"{name}/bias"]))
    x = ember.tensor(REF["x"], requires_grad=True)
    y = m(x)
    np.testing.assert_allclose(y.detach().numpy(), REF[f"{name}/y"], rtol=1e-10, atol=1e-10)
    gx, gw, gb = ember.autograd.grad(y, [x, m.weight, m.bias], ember.tensor(REF[f"{name}/g"]))
    for got, key in ((gx, "gx"), (gw, "gw"), (gb, "gb")):
        np.testing.assert_allclose(got.numpy(), REF[f"{name}/{key}"], rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(m.running_mean.numpy(), REF[f"{name}/running_mean"], rtol=1e-12)
    np.testing.assert_allclose(m.running_var.numpy(), REF[f"{name}/running_var"], rtol=1e-12)
    m.eval()
    np.testing.assert_allclose(m(ember.tensor(REF["xq"])).detach().numpy(), REF[f"{name}/y_eval"], rtol=1e-10, atol=1e-10)
