"""Pooling: values, indices and gradients against PyTorch (recorded once in fixtures/pooling_ref.npz),
tie-breaking, ceil_mode shapes, float64 gradient checks, errors and module reprs."""

from __future__ import annotations

import json
import pathlib

import ember
import ember.nn.functional as F
import numpy as np
import pytest
from ember import nn
from ember.autograd import gradcheck, gradgradcheck

REF = np.load(pathlib.Path(__file__).parent / "fixtures" / "pooling_ref.npz")
CASES = json.loads(str(REF["cases"]))


def _args(args):
    return [tuple(a) if isinstance(a, list) else a for a in args]


def _kwargs(kwargs):
    return {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}


def _np(t):
    return t.detach().cpu().numpy()


# ------------------------------------------------------------------------------------------------
# values, indices and gradients recorded from torch
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_matches_torch_recording(case, device):
    name, fn, key, args, kwargs = case
    x = ember.tensor(REF[f"input/{key}"], device=device, requires_grad=True)
    res = getattr(F, fn)(x, *_args(args), **_kwargs(kwargs))
    values = res[0] if isinstance(res, tuple) else res
    ref = REF[f"{name}/out"]
    assert tuple(values.shape) == ref.shape
    assert values.dtype == ember.float32
    np.testing.assert_allclose(_np(values), ref, rtol=1e-5, atol=1e-5)
    if f"{name}/indices" in REF.files:
        assert res[1].dtype == ember.int64
        np.testing.assert_array_equal(_np(res[1]), REF[f"{name}/indices"])
    (values * ember.tensor(REF[f"{name}/g"], device=device)).sum().backward()
    np.testing.assert_allclose(_np(x.grad), REF[f"{name}/grad"], rtol=1e-5, atol=1e-5)


def test_max_unpool2d_matches_torch_recording():
    x = ember.tensor(REF["input/x"])
    v, i = F.max_pool2d(x, 2, return_indices=True)
    np.testing.assert_array_equal(_np(F.max_unpool2d(v, i, 2, output_size=(7, 9))), REF["max_unpool2d/out"])
    np.testing.assert_array_equal(_np(nn.MaxUnpool2d(2)(v, i, output_size=[1, 3, 7, 9])), REF["max_unpool2d/out"])
    v, i = F.max_pool2d(x[:, :, :6, :8], 2, return_indices=True)
    np.testing.assert_array_equal(_np(F.max_unpool2d(v, i, 2)), REF["max_unpool2d/default"])


def test_max_unpool_roundtrip_and_gradient():
    x = ember.tensor([[[1.0, 5.0, 2.0, 0.0, 7.0, 3.0]]])
    v, i = F.max_pool1d(x, 2, return_indices=True)
    v = v.detach().requires_grad_()
    u = F.max_unpool1d(v, i, 2)
    assert u.tolist() == [[[0.0, 5.0, 2.0, 0.0, 7.0, 0.0]]]
    (u * ember.arange(6.0)).sum().backward()
    assert v.grad.tolist() == [[[1.0, 2.0, 4.0]]]


# ------------------------------------------------------------------------------------------------
# ties, NaN and indices
# ------------------------------------------------------------------------------------------------


def test_ties_send_the_gradient_to_the_first_maximum_in_scan_order():
    x = ember.ones(1, 1, 4, 4, requires_grad=True)
    v, i = F.max_pool2d(x, 2, return_indices=True)
    assert i.tolist() == [[[[0, 2], [8, 10]]]]
    v.sum().backward()
    assert x.grad.tolist() == [[[[1, 0, 1, 0], [0, 0, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]]]]


def test_ties_with_overlapping_windows_accumulate_on_the_first_maximum():
    x = ember.tensor([[[3.0, 3.0, 1.0, 3.0, 3.0]]], requires_grad=True)
    v, i = F.max_pool1d(x, 3, stride=1, return_indices=True)
    assert i.tolist() == [[[0, 1, 3]]]
    v.sum().backward()
    assert x.grad.tolist() == [[[1.0, 1.0, 0.0, 1.0, 0.0]]]


def test_nan_wins_and_the_last_nan_of_a_window_takes_the_index():
    nan = float("nan")
    x = ember.tensor([[[1.0, 3.0, 3.0, 2.0, nan, 1.0, nan, 0.0]]], requires_grad=True)
    v, i = F.max_pool1d(x, 4, return_indices=True)
    assert v[0, 0, 0].item() == 3.0 and np.isnan(v[0, 0, 1].item())
    assert i.tolist() == [[[1, 6]]]
    v.sum().backward()
    assert x.grad.tolist() == [[[0, 1, 0, 0, 0, 0, 1, 0]]]
    x = ember.tensor([[[nan, 1.0], [2.0, 0.0]]], requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    assert x.grad.tolist() == [[[1.0, 0.0], [0.0, 0.0]]]


def test_all_minus_inf_windows_pick_the_first_element_inside_the_input():
    x = ember.full((1, 1, 4), float("-inf"))
    _, i = F.max_pool1d(x, 3, stride=1, padding=1, return_indices=True)
    assert i.tolist() == [[[0, 0, 1, 2]]]


def test_indices_are_flat_per_plane_with_padding_and_dilation():
    x = ember.arange(30.0).reshape(1, 5, 6)
    v, i = F.max_pool2d(x, 3, stride=2, padding=1, return_indices=True)
    assert i.tolist() == [[[7, 9, 11], [19, 21, 23], [25, 27, 29]]]
    assert v.tolist() == [[[7.0, 9.0, 11.0], [19.0, 21.0, 23.0], [25.0, 27.0, 29.0]]]
    v, i = F.max_pool2d(-x, 2, dilation=2, return_indices=True)
    assert i.tolist() == [[[0, 2], [12, 14]]]
    assert i.dtype == ember.int64


def test_adaptive_max_indices_on_overlapping_bins():
    x = ember.tensor([[[1.0, 4.0, 4.0, 2.0, 5.0]]], requires_grad=True)
    v, i = F.adaptive_max_pool1d(x, 3, return_indices=True)  # bins [0,2) [1,4) [3,5)
    assert v.tolist() == [[[4.0, 4.0, 5.0]]] and i.tolist() == [[[1, 1, 4]]]
    v.sum().backward()
    assert x.grad.tolist() == [[[0.0, 2.0, 0.0, 0.0, 1.0]]]


def test_integer_inputs():
    x = ember.tensor([[[[-1, -2], [-2, -2]], [[5, 9], [9, 1]]]])
    assert F.avg_pool2d(x, 2).tolist() == [[[[-1]], [[6]]]]  # C++ division truncates toward zero
    v, i = F.max_pool2d(x, 2, return_indices=True)
    assert v.dtype == ember.int64 and v.tolist() == [[[[-1]], [[9]]]] and i.tolist() == [[[[0]], [[1]]]]


# ------------------------------------------------------------------------------------------------
# shapes: ceil_mode, unbatched, empty batches
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "size,k,s,p,ceil,expected",
    [
        (4, 2, 3, 0, True, 2), (5, 2, 2, 0, True, 3), (5, 2, 2, 0, False, 2), (5, 3, 2, 1, True, 3),
        (6, 3, 2, 1, True, 4), (6, 3, 2, 1, False, 3), (6, 3, 4, 1, True, 2), (7, 3, 3, 1, True, 3),
        (5, 3, 3, 0, True, 2), (4, 4, 3, 2, True, 2),
    ],
)
def test_ceil_mode_output_sizes(size, k, s, p, ceil, expected):
    x = ember.zeros(1, 1, size, size)
    assert tuple(F.max_pool2d(x, k, s, p, ceil_mode=ceil).shape) == (1, 1, expected, expected)
    assert tuple(F.avg_pool2d(x, k, s, p, ceil_mode=ceil).shape) == (1, 1, expected, expected)
    assert tuple(F.max_pool1d(x[0], k, s, p, ceil_mode=ceil).shape) == (1, size, expected)


def test_avg_pool_divisor_rules_with_ceil_mode():
    x = ember.ones(1, 1, 4, 4)
    got = F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True)
    np.testing.assert_allclose(_np(got)[0, 0], [[4 / 9, 6 / 9, 3 / 9], [6 / 9, 1.0, 0.5], [3 / 9, 0.5, 0.25]], rtol=1e-6)
    got = F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
    np.testing.assert_allclose(_np(got), np.ones((1, 1, 3, 3)))
    assert F.avg_pool2d(x, 2, divisor_override=1).tolist() == [[[[4.0, 4.0], [4.0, 4.0]]]]


def test_unbatched_and_empty_batch_shapes():
    assert tuple(F.max_pool2d(ember.zeros(3, 6, 6), 2).shape) == (3, 3, 3)
    assert tuple(F.avg_pool1d(ember.zeros(3, 6), 2).shape) == (3, 3)
    assert tuple(F.adaptive_avg_pool2d(ember.zeros(3, 6, 5), (2, None)).shape) == (3, 2, 5)
    assert tuple(F.max_pool2d(ember.zeros(0, 2, 5, 5), 2).shape) == (0, 2, 2, 2)
    assert tuple(F.adaptive_avg_pool2d(ember.zeros(0, 3, 4, 4), 2).shape) == (0, 3, 2, 2)
    assert tuple(F.adaptive_max_pool2d(ember.zeros(0, 3, 4, 4), 2).shape) == (0, 3, 2, 2)
    assert tuple(F.adaptive_avg_pool2d(ember.zeros(2, 3, 5, 5), (0, 2)).shape) == (2, 3, 0, 2)


def test_global_average_pool_is_the_mean():
    x = ember.randn(4, 5, 6, 7, requires_grad=True)
    y = nn.AdaptiveAvgPool2d((1, 1))(x)
    np.testing.assert_allclose(_np(y), _np(x).mean(axis=(2, 3), keepdims=True), rtol=1e-5, atol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(_np(x.grad), np.full((4, 5, 6, 7), 1 / 42), rtol=1e-6)


def test_adaptive_avg_large_bins_use_prefix_sums():
    from ember.ops import pooling

    rng = np.random.default_rng(1)
    xa = rng.standard_normal((1, 2, 3, 300)).astype(np.float64)
    x = ember.tensor(xa, requires_grad=True)
    y = F.adaptive_avg_pool2d(x, (2, 299))  # 300 * 299 > the GEMM limit: integral-image path
    assert 300 * 299 > pooling._MATMUL_MAX
    start = (np.arange(299) * 300) // 299
    end = ((np.arange(299) + 1) * 300 + 298) // 299
    rows = [(0, 2), (1, 3)]
    want = np.stack([np.stack([xa[..., r0:r1, s:e].mean(axis=(-2, -1)) for s, e in zip(start, end)], -1) for r0, r1 in rows], -2)
    np.testing.assert_allclose(_np(y), want, rtol=1e-10, atol=1e-12)
    y32 = F.adaptive_avg_pool2d(ember.tensor(xa.astype(np.float32) + 1000), (2, 299))  # float64 accumulation
    np.testing.assert_allclose(_np(y32), want + 1000, rtol=1e-6)
    g = rng.standard_normal(y.shape)
    y.backward(ember.tensor(g))
    gw = np.zeros((299, 300))
    for o, (s, e) in enumerate(zip(start, end)):
        gw[o, s:e] = 1 / (e - s)
    gh = np.array([[0.5, 0.5, 0.0], [0.0, 0.5, 0.5]])
    want_grad = np.einsum("ncij,ih,jw->nchw", g, gh, gw)
    np.testing.assert_allclose(_np(x.grad), want_grad, rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------------------------------------
# float64 gradient checks (max pooling inputs are distinct values: no ties)
# ------------------------------------------------------------------------------------------------


def _distinct(shape, seed=0):
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    vals = rng.permutation(n).astype(np.float64) * 0.1 + rng.uniform(0, 0.01, n)
    return ember.tensor(vals.reshape(shape), requires_grad=True)


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: F.max_pool2d(x, 2),
        lambda x: F.max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True),
        lambda x: F.max_pool2d(x, (2, 3), stride=1, dilation=(2, 1), padding=(1, 1)),
        lambda x: F.max_pool2d(x, 2, return_indices=True)[0],
        lambda x: F.max_pool1d(x[0], 3, stride=2, padding=1),
        lambda x: F.adaptive_max_pool2d(x, (3, 4)),
        lambda x: F.adaptive_max_pool2d(x, (2, 3)),
        lambda x: F.adaptive_max_pool1d(x[0], 4),
    ],
    ids=["max2", "max3s2p1ceil", "max_dil", "max_idx", "max1d", "amax_uneven", "amax_even", "amax1d"],
)
def test_gradcheck_max_pools(fn):
    assert gradcheck(fn, (_distinct((1, 2, 5, 6)),))


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: F.avg_pool2d(x, 2),
        lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
        lambda x: F.avg_pool2d(x, (2, 3), stride=1, padding=1, divisor_override=5),
        lambda x: F.avg_pool1d(x[0], 3, stride=2, padding=1, ceil_mode=True),
        lambda x: F.adaptive_avg_pool2d(x, (3, 4)),
        lambda x: F.adaptive_avg_pool2d(x, (1, 1)),
        lambda x: F.adaptive_avg_pool2d(x, (5, 3)),
        lambda x: F.adaptive_avg_pool1d(x[0], 4),
        lambda x: F.lp_pool2d(x.abs() + 0.5, 2.0, 2),
        lambda x: F.lp_pool1d(x[0].abs() + 0.5, 3.0, 3, stride=2),
    ],
    ids=["avg2", "avg_ceil_nopad", "avg_div", "avg1d", "aavg_uneven", "aavg_global", "aavg_even", "aavg1d", "lp2", "lp1"],
)
def test_gradcheck_avg_pools(fn):
    x = ember.tensor(np.random.default_rng(3).standard_normal((1, 2, 5, 6)), requires_grad=True)
    assert gradcheck(fn, (x,))


@pytest.mark.parametrize("fn", [
    lambda x: F.avg_pool1d(x, 3, stride=2, padding=1, ceil_mode=True),
    lambda x: F.avg_pool2d(x[:, :, None], (1, 2)),
], ids=["avg1d", "avg2d"])
def test_gradgradcheck_avg_pools(fn):
    """The backward as an op of its own (create_graph=True), 1-D pooling run as unit-height 2-D included."""
    x = ember.tensor(np.random.default_rng(4).standard_normal((2, 3, 7)), requires_grad=True)
    assert gradgradcheck(fn, (x,))


def test_gradcheck_max_unpool():
    x = _distinct((1, 2, 4, 6))
    _, i = F.max_pool2d(x.detach(), 2, return_indices=True)
    v = ember.tensor(np.random.default_rng(4).standard_normal((1, 2, 2, 3)), requires_grad=True)
    assert gradcheck(lambda t: F.max_unpool2d(t, i, 2), (v,))


# ------------------------------------------------------------------------------------------------
# errors (PyTorch's types and messages)
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call,exc,msg",
    [
        (lambda x: F.max_pool2d(x, 3, padding=2), RuntimeError, "pad should be at most half of effective kernel size, but got pad=2, kernel_size=3 and dilation=1"),
        (lambda x: F.max_pool2d(x, 3, padding=-1), RuntimeError, "pad must be non-negative, but got pad: -1"),
        (lambda x: F.max_pool2d(x, 7), RuntimeError, r"Given input size: \(3x5x5\). Calculated output size: \(3x0x0\). Output size is too small"),
        (lambda x: F.max_pool2d(x, 0), RuntimeError, "stride should not be zero"),
        (lambda x: F.max_pool2d(x, 0, 1), RuntimeError, "kernel size should be greater than zero, but got kH: 0 kW: 0"),
        (lambda x: F.max_pool2d(x, 2, dilation=0), RuntimeError, "dilation should be greater than zero, but got dilationH: 0 dilationW: 0"),
        (lambda x: F.max_pool2d(x, (2, 2, 2)), RuntimeError, "max_pool2d: kernel_size must either be a single int, or a tuple of two ints"),
        (lambda x: F.max_pool2d(x, (3, 2), dilation=2, padding=(2, 1)), RuntimeError, "pad should be smaller than or equal to half of kernel size, but got padW = 1, padH = 2, kW = 2, kH = 3"),
        (lambda x: F.max_pool2d(x[0, 0], 2), RuntimeError, r"non-empty 3D or 4D \(batch mode\) tensor expected for input"),
        (lambda x: F.max_pool2d(x[:, :0], 2), RuntimeError, r"Expected 3D or 4D \(batch mode\) tensor with optional 0 dim batch size for input, but got:\[2, 0, 5, 5\]"),
        (lambda x: F.max_pool2d(x, 2.0), TypeError, r"max_pool2d\(\): argument 'kernel_size' \(position 2\) must be tuple of ints, not float"),
        (lambda x: F.avg_pool2d(x, 2, divisor_override=0), RuntimeError, "divisor must be not zero"),
        (lambda x: F.avg_pool2d(x, 2, stride=(1, 2, 3)), RuntimeError, "avg_pool2d: stride must either be omitted, a single int, or a tuple of two ints"),
        (lambda x: F.avg_pool1d(x, 3), RuntimeError, r"Expected 2 to 3 dimensions, but got 4-dimensional tensor for argument #1 'self' \(while checking arguments for avg_pool1d\)"),
        (lambda x: F.max_pool1d(x[0], 7), RuntimeError, r"max_pool1d\(\) Invalid computed output size: 0"),
        (lambda x: F.max_pool1d(x[0], 3, padding=2), RuntimeError, r"max_pool1d\(\) padding should be at most half of kernel size, but got padding=2 and kernel_size=3"),
        (lambda x: F.max_pool1d(x[0], (2, 2)), RuntimeError, r"max_pool1d\(\) kernel_size must be an int, list of ints or tuple of ints of size 1 but got size 2"),
        (lambda x: F.max_pool1d(x, 2), RuntimeError, r"max_pool1d: Expected 2D or 3D \(batch mode\) tensor with optional 0 dim batch size for input, but got:\[2, 3, 5, 5\]"),
        (lambda x: F.max_pool1d(x[0].long(), 2), NotImplementedError, "\"max_pool1d_impl\" not implemented for 'Long'"),
        (lambda x: F.adaptive_avg_pool2d(x, (-1, 2)), RuntimeError, r"adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0 but received \{-1, 2\}"),
        (lambda x: F.adaptive_avg_pool2d(x, (2, 2, 2)), RuntimeError, "adaptive_avg_pool2d: output_size must be 2"),
        (lambda x: F.adaptive_avg_pool2d(x[0, 0], 2), RuntimeError, r"adaptive_avg_pool2d\(\): Expected 3D or 4D tensor, but got \[5, 5\]"),
        (lambda x: F.adaptive_avg_pool2d(x.long(), 2), NotImplementedError, "\"adaptive_avg_pool2d\" not implemented for 'Long'"),
        (lambda x: F.adaptive_max_pool2d(x[:, :, :0], 2), RuntimeError, r"adaptive_max_pool2d\(\): Expected input to have non-zero size for non-batch dimensions, but input has sizes \[2, 3, 0, 5\] with dimension 2 being empty"),
        (lambda x: F.adaptive_max_pool1d(x[0], (2, 2)), RuntimeError, r"adaptive_max_pool1d\(\) argument 'output_size' should contain one int \(got 2\)"),
        (lambda x: F.max_unpool2d(x, x.long(), 2, output_size=(1, 1)), ValueError, r'invalid output_size "\(1, 1\)" \(dim 0 must be between 8 and 12\)'),
        (lambda x: F.max_unpool2d(x, x.long() * 0 + 100, 2), RuntimeError, r"Found an invalid max index: 100 \(output volumes are of size 10x10\)"),
    ],
)
def test_errors_match_pytorch(call, exc, msg):
    x = ember.randn(2, 3, 5, 5)
    with pytest.raises(exc, match=msg):
        call(x)


# ------------------------------------------------------------------------------------------------
# modules
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "module,text",
    [
        (nn.MaxPool2d(2), "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"),
        (nn.MaxPool2d((2, 3), stride=1, padding=1, dilation=2, return_indices=True, ceil_mode=True),
         "MaxPool2d(kernel_size=(2, 3), stride=1, padding=1, dilation=2, ceil_mode=True)"),
        (nn.MaxPool1d(3), "MaxPool1d(kernel_size=3, stride=3, padding=0, dilation=1, ceil_mode=False)"),
        (nn.AvgPool1d(2), "AvgPool1d(kernel_size=(2,), stride=(2,), padding=(0,))"),
        (nn.AvgPool2d(2), "AvgPool2d(kernel_size=2, stride=2, padding=0)"),
        (nn.AvgPool2d(3, 2, 1, True, False, 2), "AvgPool2d(kernel_size=3, stride=2, padding=1)"),
        (nn.AdaptiveAvgPool2d((1, 1)), "AdaptiveAvgPool2d(output_size=(1, 1))"),
        (nn.AdaptiveAvgPool2d(1), "AdaptiveAvgPool2d(output_size=1)"),
        (nn.AdaptiveAvgPool2d((None, 3)), "AdaptiveAvgPool2d(output_size=(None, 3))"),
        (nn.AdaptiveMaxPool2d(3, True), "AdaptiveMaxPool2d(output_size=3)"),
        (nn.AdaptiveAvgPool1d(4), "AdaptiveAvgPool1d(output_size=4)"),
        (nn.AdaptiveMaxPool1d(4), "AdaptiveMaxPool1d(output_size=4)"),
        (nn.LPPool2d(2, 3), "LPPool2d(norm_type=2, kernel_size=3, stride=None, ceil_mode=False)"),
        (nn.LPPool1d(2.0, 3, 2), "LPPool1d(norm_type=2.0, kernel_size=3, stride=2, ceil_mode=False)"),
        (nn.MaxUnpool2d(2), "MaxUnpool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))"),
        (nn.MaxUnpool1d(3, 2, 1), "MaxUnpool1d(kernel_size=(3,), stride=(2,), padding=(1,))"),
    ],
)
def test_module_repr(module, text):
    assert repr(module) == text


def test_modules_forward_like_the_functions():
    x = ember.tensor(REF["input/x"])
    v, i = nn.MaxPool2d(3, 2, 1, return_indices=True)(x)
    np.testing.assert_array_equal(_np(v), REF["max_pool2d_x_1/out"])
    np.testing.assert_array_equal(_np(i), REF["max_pool2d_x_1/indices"])
    np.testing.assert_allclose(_np(nn.AvgPool2d(3, 2, 1)(x)), REF["avg_pool2d_x_1/out"], rtol=1e-6)
    np.testing.assert_allclose(_np(nn.AdaptiveAvgPool2d((3, 4))(x)), REF["adaptive_avg_pool2d_x_3_4/out"], rtol=1e-5, atol=1e-6)
    v, i = nn.AdaptiveMaxPool2d((3, 4), return_indices=True)(x)
    np.testing.assert_array_equal(_np(i), REF["adaptive_max_pool2d_x_3_4/indices"])
    x3 = ember.tensor(REF["input/x3"])
    np.testing.assert_array_equal(_np(nn.MaxPool1d(2)(x3)), REF["max_pool1d_x3_0/out"])
    np.testing.assert_allclose(_np(nn.AvgPool1d(2)(x3)), REF["avg_pool1d_x3_0/out"], rtol=1e-6)
    np.testing.assert_allclose(_np(nn.AdaptiveAvgPool1d(4)(x3)), REF["adaptive_avg_pool1d_x3_4/out"], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(_np(nn.AdaptiveMaxPool1d(4)(x3)), REF["adaptive_max_pool1d_x3_4/out"])
    np.testing.assert_allclose(_np(nn.LPPool1d(3, 2)(x3)), REF["lp_pool1d/out"], rtol=1e-5, atol=1e-6)


def test_no_graph_without_requires_grad():
    y = F.max_pool2d(ember.randn(1, 1, 4, 4), 2)
    assert y.grad_fn is None and not y.requires_grad
    x = ember.randn(1, 1, 4, 4, requires_grad=True)
    assert F.max_pool2d(x, 2).grad_fn.name() == "MaxPool2dFnBackward0"


# ------------------------------------------------------------------------------------------------
# optional live comparison with an installed PyTorch
# ------------------------------------------------------------------------------------------------


@pytest.mark.parity
@pytest.mark.parametrize("seed", range(6))
def test_random_configurations_match_torch(seed):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    rng = np.random.default_rng(seed)
    k = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    s = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    d = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
    p = (int(rng.integers(0, k[0] // 2 + 1)), int(rng.integers(0, k[1] // 2 + 1)))
    ceil = bool(rng.integers(0, 2))
    xa = np.round(rng.standard_normal((2, 3, int(rng.integers(8, 13)), int(rng.integers(8, 13)))) * 2).astype(np.float32) / 2
    g_shape = None
    for fn, kw in [("max_pool2d", {"kernel_size": k, "stride": s, "padding": p, "dilation": d, "ceil_mode": ceil, "return_indices": True}),
                   ("avg_pool2d", {"kernel_size": k, "stride": s, "padding": p, "ceil_mode": ceil, "count_include_pad": bool(seed % 2)}),
                   ("adaptive_avg_pool2d", {"output_size": (int(rng.integers(1, 9)), int(rng.integers(1, 9)))}),
                   ("adaptive_max_pool2d", {"output_size": (int(rng.integers(1, 9)), int(rng.integers(1, 9))), "return_indices": True})]:
        xe, xt = ember.tensor(xa, requires_grad=True), torch.tensor(xa, requires_grad=True)
        re_, rt = getattr(F, fn)(xe, **kw), getattr(tf, fn)(xt, **kw)
        ve, vt = (re_[0], rt[0]) if isinstance(rt, tuple) else (re_, rt)
        np.testing.assert_allclose(_np(ve), vt.detach().numpy(), rtol=1e-5, atol=1e-6, err_msg=fn)
        if isinstance(rt, tuple):
            np.testing.assert_array_equal(_np(re_[1]), rt[1].numpy(), err_msg=fn)
        g_shape = vt.shape
        g = rng.standard_normal(g_shape).astype(np.float32)
        ve.backward(ember.tensor(g))
        vt.backward(torch.tensor(g))
        np.testing.assert_allclose(_np(xe.grad), xt.grad.numpy(), rtol=1e-5, atol=1e-5, err_msg=fn)


def test_output_changed_in_place_still_gives_the_right_gradient():
    x = ember.tensor([[[[1.0, -2.0], [0.5, 0.2]], [[-1.0, -3.0], [-0.5, -2.0]]]], requires_grad=True)
    y = F.max_pool2d(x, 2)
    y.mul_(2)  # PyTorch's max-pool backward does not read the output, so this is allowed
    y.sum().backward()
    assert x.grad.tolist() == [[[[2.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [2.0, 0.0]]]]


def test_input_changed_in_place_is_detected():
    x = ember.randn(1, 1, 4, 4, requires_grad=True)
    h = x * 1
    y = F.max_pool2d(h, 2)
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_max_pool1d_argument_lookup_gives_the_same_results_and_errors_on_every_call():
    """Pooling arguments given as ints or tuples of ints are parsed once and looked up after (``_parse1d``)."""
    x = ember.randn(2, 3, 16)
    ref = F.max_pool1d(x, 4).numpy()
    for _ in range(2):
        np.testing.assert_array_equal(F.max_pool1d(x, (4,)).numpy(), ref)
        np.testing.assert_array_equal(F.max_pool1d(x, [4], [4]).numpy(), ref)
        with pytest.raises(TypeError, match=r"argument 'kernel_size' \(position 2\) must be tuple of ints, not float"):
            F.max_pool1d(x, 4.0)
        with pytest.raises(RuntimeError, match="kernel_size must be greater than zero"):
            F.max_pool1d(x, 0)
        with pytest.raises(RuntimeError, match="Invalid computed output size"):
            F.max_pool1d(ember.randn(2, 3, 3), 4)
