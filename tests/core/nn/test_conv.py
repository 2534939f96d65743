"""Convolutions: conv1d/conv2d/conv_transpose1d/conv_transpose2d and the Conv modules.

Values and gradients are checked against torch results recorded in fixtures/conv_ref.npz (see
record_conv.py), plus float64 gradchecks, double backward, PyTorch's error messages, reprs,
state_dict keys, initialisation and padding modes; a parity test compares with an installed torch.
"""

from __future__ import annotations

import json
import math
import pathlib
import warnings

import ember
import ember.nn.functional as F
import numpy as np
import pytest
from ember import nn
from ember.autograd import gradcheck, gradgradcheck
from ember.ops import conv as conv_ops, conv_regions, winograd

REF = np.load(pathlib.Path(__file__).parent / "fixtures" / "conv_ref.npz")
FUNCTIONAL = sorted({k.split("/")[0] for k in REF.files if not k.startswith("m")})
MODULES = sorted({k.split("/")[0] for k in REF.files if k.startswith("m")})


def _t(key, device="cpu", requires_grad=False, dtype=np.float64):
    return ember.tensor(REF[key].astype(dtype), device=device, requires_grad=requires_grad)


def _np(t):
    return t.detach().cpu().numpy()


def _kw(kw):
    return {k: tuple(v) if isinstance(v, list) else v for k, v in kw.items()}


@pytest.fixture(params=["auto", "flat", "col", "blk", "blk-batch", "wino", "region"])
def algo(request, monkeypatch):
    """Run a test with the per-shape algorithm choice, and with flat-shift / im2col / per-image blocks /
    Winograd / per-tap regions forced wherever they apply. "blk": one image per block, the images shared out among the threads
    (the per-thread weight-gradient sums added); "blk-batch": the whole batch in one
    block. The input gradient of stride-1 convolutions is a convolution in "col", "blk" and "wino", the
    algorithm's own adjoint in "flat" and "blk-batch"."""
    if request.param == "region":  # every padded ungrouped conv, the channels shared out even when few
        monkeypatch.setattr(conv_ops, "_REGION_MAX_HW", 1 << 30)
        monkeypatch.setattr(conv_ops, "_REGION_MIN_C", 0)
        monkeypatch.setattr(conv_ops._fast, "_SHARE_MIN_FLOPS", 0)
        return request.param
    if request.param != "auto":
        monkeypatch.setattr(conv_ops, "_REGION_MAX_HW", -1)
    if request.param == "wino":  # every 3x3 stride-1 ungrouped conv, with one tile row per block
        monkeypatch.setattr(conv_ops, "_WINO_MIN_C", 0)
        monkeypatch.setattr(conv_ops, "_WINO_MIN_C_COMPILED", 0)
        monkeypatch.setattr(conv_ops, "_WINO_MIN_HW", 0)
        monkeypatch.setattr(conv_ops, "_WINO_THIN_MAX_HW", 1 << 30)
        monkeypatch.setattr(winograd, "_BLOCK_BYTES", 1)
        monkeypatch.setattr(winograd, "_MIN_ROWS", 1)
        monkeypatch.setattr(winograd, "_PLANE_BLOCK_BYTES", 1)
        return request.param
    monkeypatch.setattr(conv_ops, "_WINO_MIN_C", 1 << 30)
    monkeypatch.setattr(conv_ops, "_WINO_MIN_C_COMPILED", 1 << 30)
    if request.param in ("flat", "col"):
        monkeypatch.setattr(conv_ops, "_BLK_MIN_HW", 1 << 30)
        monkeypatch.setattr(conv_ops, "_BLK_OVER_COL_MIN_HW", 1 << 30)
    if request.param == "flat":  # with flat-shift's own input gradient
        monkeypatch.setattr(conv_ops, "_FLAT_CG", (1, 1 << 30))
        monkeypatch.setattr(conv_ops, "_FLAT_MAX_WASTE", 1e9)
        monkeypatch.setattr(conv_ops, "_GX_CONV_MIN_C", 1 << 30)
    elif request.param == "col":  # with the input gradient of stride-1 convolutions as a convolution
        monkeypatch.setattr(conv_ops, "_FLAT_MAX_WASTE", 0.0)
        monkeypatch.setattr(conv_ops, "_GX_CONV_MIN_C", 1)
        monkeypatch.setattr(conv_ops, "_GX_CONV_ALGOS", ("blk", "col"))
    elif request.param == "blk":  # the batch shared out among the threads even when small
        monkeypatch.setattr(conv_ops, "_BLK_MIN_HW", 0)
        monkeypatch.setattr(conv_ops, "_BLK_BYTES", 1)
        monkeypatch.setattr(conv_ops._fast, "_SHARE_MIN_FLOPS", 0)
        monkeypatch.setattr(conv_ops, "_GX_CONV_MIN_C", 1)
    elif request.param == "blk-batch":
        monkeypatch.setattr(conv_ops, "_BLK_MIN_HW", 0)
        monkeypatch.setattr(conv_ops, "_BLK_BYTES", 1 << 40)
        monkeypatch.setattr(conv_ops, "_GX_CONV_MIN_C", 1 << 30)
    return request.param


# ------------------------------------------------------------------------------------------------
# values vs recorded torch results
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FUNCTIONAL)
def test_functional_matches_recorded_torch(name, device, algo):
    meta = json.loads(str(REF[f"{name}/meta"]))
    x = _t(f"{name}/x", device, True)
    w = _t(f"{name}/w", device, True)
    b = _t(f"{name}/b", device, True) if f"{name}/b" in REF.files else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = getattr(F, meta["fn"])(x, w, b, **_kw(meta["kw"]))
    assert tuple(y.shape) == REF[f"{name}/y"].shape
    assert y.dtype == ember.float64
    np.testing.assert_allclose(_np(y), REF[f"{name}/y"], rtol=1e-5, atol=1e-5)
    y.backward(_t(f"{name}/g", device))
    np.testing.assert_allclose(_np(x.grad), REF[f"{name}/gx"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(_np(w.grad), REF[f"{name}/gw"], rtol=1e-5, atol=1e-5)
    if b is not None:
        np.testing.assert_allclose(_np(b.grad), REF[f"{name}/gb"], rtol=1e-5, atol=1e-5)
    with ember.no_grad(), warnings.catch_warnings():  # no backward to come: small 1-D ones take "seq"
        warnings.simplefilter("ignore")
        y = getattr(F, meta["fn"])(x, w, b, **_kw(meta["kw"]))
    np.testing.assert_allclose(_np(y), REF[f"{name}/y"], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", FUNCTIONAL)
def test_functional_float32(name):
    meta = json.loads(str(REF[f"{name}/meta"]))
    x, w = _t(f"{name}/x", dtype=np.float32), _t(f"{name}/w", dtype=np.float32)
    b = _t(f"{name}/b", dtype=np.float32) if f"{name}/b" in REF.files else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = getattr(F, meta["fn"])(x, w, b, **_kw(meta["kw"]))
    assert y.dtype == ember.float32
    np.testing.assert_allclose(_np(y), REF[f"{name}/y"], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", MODULES)
def test_module_matches_recorded_torch(name, device, algo):
    meta = json.loads(str(REF[f"{name}/meta"]))
    m = getattr(nn, meta["cls"])(**_kw(meta["ctor"])).double().to(device)
    assert repr(m) == meta["repr"]
    assert list(m.state_dict()) == meta["keys"]
    m.load_state_dict({k: ember.tensor(REF[f"{name}/w/{k}"]) for k in meta["keys"]})
    x = _t(f"{name}/x", device, True)
    y = m(x)
    np.testing.assert_allclose(_np(y), REF[f"{name}/y"], rtol=1e-5, atol=1e-5)
    y.backward(_t(f"{name}/g", device))
    np.testing.assert_allclose(_np(x.grad), REF[f"{name}/gx"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(_np(m.weight.grad), REF[f"{name}/gw"], rtol=1e-5, atol=1e-5)


def test_conv2d_hand_computed():
    x = ember.arange(16.0).reshape(1, 1, 4, 4)
    w = ember.ones(1, 1, 2, 2)
    y = F.conv2d(x, w, ember.tensor([1.0]), stride=2)
    assert y.tolist() == [[[[11.0, 19.0], [43.0, 51.0]]]]
    # transposed conv scatters each input pixel's kernel-weighted copy
    z = F.conv_transpose2d(ember.tensor([[[[1.0, 2.0]]]]), ember.tensor([[[[1.0, 10.0]]]]), stride=1)
    assert z.tolist() == [[[[1.0, 12.0, 20.0]]]]


# ------------------------------------------------------------------------------------------------
# gradients
# ------------------------------------------------------------------------------------------------

GRAD_CASES = [
    ("conv2d", (2, 4, 5, 6), (6, 4, 3, 3), {"padding": 1}),
    ("conv2d", (1, 2, 3, 16), (2, 1, 3, 3), {"padding": 1, "groups": 2}),  # W = 16: tiled channels-last copies
    ("conv2d", (2, 4, 6, 5), (4, 2, 2, 3), {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 2), "groups": 2}),
    ("conv2d", (1, 4, 5, 5), (4, 1, 3, 3), {"padding": 1, "groups": 4, "stride": 2}),
    ("conv2d", (2, 4, 3, 3), (3, 4, 1, 1), {}),
    ("conv2d", (2, 4, 5, 5), (3, 4, 3, 3), {"padding": 2, "dilation": 2}),
    ("conv2d", (3, 5, 4), (2, 3, 3, 1), {"padding": "same"}),
    ("conv1d", (2, 4, 7), (6, 2, 3), {"padding": 2, "stride": 2, "groups": 2, "dilation": 2}),
    ("conv_transpose2d", (2, 4, 3, 4), (4, 3, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}),
    ("conv_transpose2d", (2, 4, 3, 3), (4, 1, 2, 3), {"stride": (1, 2), "groups": 2, "dilation": (2, 1), "output_padding": (1, 0)}),
    ("conv_transpose1d", (4, 5), (4, 3, 3), {"stride": 3, "groups": 2}),
]


def _grad_inputs(rng, fn, xs, ws, kw):
    x = ember.tensor(rng.standard_normal(xs), requires_grad=True)
    w = ember.tensor(rng.standard_normal(ws), requires_grad=True)
    nb = ws[1] * kw.get("groups", 1) if "transpose" in fn else ws[0]
    b = ember.tensor(rng.standard_normal(nb), requires_grad=True)
    return x, w, b


@pytest.mark.parametrize("fn,xs,ws,kw", GRAD_CASES)
def test_gradcheck(rng, fn, xs, ws, kw, algo):
    x, w, b = _grad_inputs(rng, fn, xs, ws, kw)
    assert gradcheck(lambda x, w, b: getattr(F, fn)(x, w, b, **kw), (x, w, b))


@pytest.mark.parametrize("fn,xs,ws,kw", [GRAD_CASES[i] for i in (1, 2, 4, 7, 8)])
def test_gradgradcheck(rng, fn, xs, ws, kw, algo):
    x, w, b = _grad_inputs(rng, fn, xs, ws, kw)
    assert gradgradcheck(lambda x, w, b: getattr(F, fn)(x, w, b, **kw), (x, w, b))


def test_grad_of_input_only_and_weight_only(rng):
    x = ember.tensor(rng.standard_normal((2, 3, 5, 5)), requires_grad=True)
    w = ember.tensor(rng.standard_normal((4, 3, 3, 3)))
    F.conv2d(x, w, padding=1).sum().backward()
    assert x.grad is not None and w.grad is None
    x2 = x.detach()
    w.requires_grad_(True)
    F.conv2d(x2, w, stride=2).sum().backward()
    assert w.grad is not None and tuple(w.grad.shape) == (4, 3, 3, 3)
    # d/dw of sum(conv) = sum of the input windows
    xp = np.pad(x2.numpy(), ((0, 0), (0, 0), (0, 0), (0, 0)))
    expected = np.stack([xp[:, :, i:i + 3:2, j:j + 3:2].sum(axis=(0, 2, 3)) for i in range(3) for j in range(3)], -1)
    np.testing.assert_allclose(w.grad.numpy()[0], expected.reshape(3, 3, 3), rtol=1e-10)


def test_module_gradcheck_padding_mode(rng):
    m = nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect").double()
    x = ember.tensor(rng.standard_normal((1, 2, 4, 4)), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), w, b), (x, m.weight, m.bias))
    m(x).sum().backward()
    assert tuple(m.weight.grad.shape) == (3, 2, 3, 3) and tuple(m.bias.grad.shape) == (3,)


# ------------------------------------------------------------------------------------------------
# errors (PyTorch's types and messages)
# ------------------------------------------------------------------------------------------------

R = ember.randn


@pytest.mark.parametrize("call,exc,msg", [
    (lambda: F.conv2d(R(2, 4, 5, 5), R(6, 3, 3, 3)), RuntimeError,
     "Given groups=1, weight of size [6, 3, 3, 3], expected input[2, 4, 5, 5] to have 3 channels, but got 4 channels instead"),
    (lambda: F.conv2d(R(4, 5, 5), R(6, 3, 3, 3)), RuntimeError,
     "Given groups=1, weight of size [6, 3, 3, 3], expected input[1, 4, 5, 5] to have 3 channels, but got 4 channels instead"),
    (lambda: F.conv2d(R(2, 4, 5, 5), R(6, 2, 3, 3), groups=4), RuntimeError,
     "Given groups=4, expected weight to be divisible by 4 at dimension 0, but got weight of size [[6, 2, 3, 3]] instead"),
    (lambda: F.conv2d(R(2, 4, 5, 5), R(6, 4, 3, 3), bias=R(5)), RuntimeError,
     "Given weight of size [6, 4, 3, 3], expected bias to be 1-dimensional with 6 elements, but got bias of size [5] instead"),
    (lambda: F.conv2d(R(2, 4, 2, 2), R(6, 4, 3, 3)), RuntimeError,
     "Calculated padded input size per channel: (2 x 2). Kernel size: (3 x 3). Kernel size can't be greater than actual input size"),
    (lambda: F.conv2d(R(2, 4, 5, 5), R(6, 4, 3, 3), padding="same", stride=2), RuntimeError,
     "padding='same' is not supported for strided convolutions"),
    (lambda: F.conv2d(R(2, 4, 5, 5), R(6, 4, 3, 3), padding="foo"), RuntimeError, "Invalid padding string: 'foo'"),
    (lambda: F.conv2d(R(2, 4, 5, 5), R(6, 4, 3)), RuntimeError,
     "expected stride to be a single integer value or a list of 1 values to match the convolution dimensions, but got stride=[1, 1]"),
    (lambda: F.conv2d(R(2, 2, 4, 5, 5), R(6, 4, 3, 3)), RuntimeError,
     "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: [2, 2, 4, 5, 5]"),
    (lambda: F.conv1d(R(5), R(6, 4, 4)), RuntimeError,
     "Expected 2D (unbatched) or 3D (batched) input to conv1d, but got input of size: [5]"),
    (lambda: F.conv1d(R(2, 4, 5), R(6, 4, 3, 3)), RuntimeError,
     "Expected 4-dimensional input for 4-dimensional weight [6, 4, 3, 3], but got 3-dimensional input of size [2, 4, 5] instead"),
    (lambda: F.conv2d(R(2, 4, 5, 5), R(6, 4, 3, 3), stride=0), RuntimeError, "non-positive stride is not supported"),
    (lambda: F.conv2d(R(2, 4, 5, 5), R(6, 4, 3, 3), padding=-1), RuntimeError, "negative padding is not supported"),
    (lambda: F.conv2d(R(2, 4, 5, 5), R(6, 4, 3, 3), dilation=0), RuntimeError, "non-positive dilation is not supported"),
    (lambda: F.conv2d(R(2, 4, 5, 5), R(6, 4, 3, 3), groups=0), RuntimeError, "non-positive groups is not supported"),
    (lambda: F.conv2d(R(2, 4, 5, 5), R(6, 4, 3, 3), stride=(1, 1, 1)), RuntimeError,
     "expected stride to be a single integer value or a list of 2 values to match the convolution dimensions, but got stride=[1, 1, 1]"),
    (lambda: F.conv2d(R(2, 4, 5, 5), R(0, 4, 3, 3)), RuntimeError,
     "Given groups=1, expected weight to be at least 1 at dimension 0, but got weight of size [0, 4, 3, 3] instead"),
    (lambda: F.conv2d(R(2, 4, 5, 5), R(6, 4, 3, 3, dtype=ember.float64)), RuntimeError,
     "Input type (torch.FloatTensor) and weight type (torch.DoubleTensor) should be the same"),
    (lambda: F.conv2d(R(2, 4, 5, 5, dtype=ember.float64), R(6, 4, 3, 3, dtype=ember.float64), R(6)), RuntimeError,
     "Input type (double) and bias type (float) should be the same"),
    (lambda: F.conv_transpose2d(R(2, 4, 5, 5), R(3, 6, 3, 3)), RuntimeError,
     "Given transposed=1, weight of size [3, 6, 3, 3], expected input[2, 4, 5, 5] to have 3 channels, but got 4 channels instead"),
    (lambda: F.conv_transpose2d(R(2, 4, 5, 5), R(4, 6, 3, 3), bias=R(3)), RuntimeError,
     "Given transposed=1, weight of size [4, 6, 3, 3], expected bias to be 1-dimensional with 6 elements, but got bias of size [3] instead"),
    (lambda: F.conv_transpose2d(R(2, 4, 5, 5), R(4, 6, 3, 3), output_padding=1), RuntimeError,
     ("output padding must be smaller than either stride or dilation, but got output_padding_height: 1 "
      "output_padding_width: 1 stride_height: 1 stride_width: 1 dilation_height: 1 dilation_width: 1")),
    (lambda: F.conv_transpose1d(R(2, 4, 5), R(4, 6, 3), output_padding=1), RuntimeError,
     ("output padding must be smaller than either stride or dilation, but got output_padding_height: 0 "
      "output_padding_width: 1 stride_height: 1 stride_width: 1 dilation_height: 1 dilation_width: 1")),
    (lambda: F.conv_transpose1d(R(2, 4, 5), R(4, 6, 3), output_padding=-1), RuntimeError,
     "negative output_padding is not supported"),
    (lambda: F.conv_transpose2d(R(2, 4, 5, 5), R(4, 6, 3, 3), padding="same"), TypeError,
     "conv_transpose2d(): argument 'padding' must be tuple of ints, not str"),
    (lambda: F.conv_transpose2d(R(2, 4, 5, 5), R(4, 6, 3, 3), groups=3), RuntimeError,
     "Given groups=3, expected weight to be divisible by 3 at dimension 0, but got weight of size [[4, 6, 3, 3]] instead"),
    (lambda: nn.Conv2d(4, 6, 3, padding="same", stride=2), ValueError, "padding='same' is not supported for strided convolutions"),
    (lambda: nn.Conv2d(4, 6, 3, padding="foo"), ValueError, "Invalid padding string 'foo', should be one of"),
    (lambda: nn.Conv2d(4, 6, 3, padding_mode="foo"), ValueError, "padding_mode must be one of"),
    (lambda: nn.Conv2d(4, 6, 3, groups=4), ValueError, "out_channels must be divisible by groups"),
    (lambda: nn.Conv2d(4, 6, 3, groups=3), ValueError, "in_channels must be divisible by groups"),
    (lambda: nn.Conv2d(4, 6, 3, groups=0), ValueError, "groups must be a positive integer"),
    (lambda: nn.ConvTranspose2d(4, 6, 3, padding_mode="reflect"), ValueError,
     'Only "zeros" padding mode is supported for ConvTranspose2d'),
    (lambda: nn.ConvTranspose2d(4, 6, 3, stride=2)(R(1, 4, 5, 5), output_size=[13, 12]), ValueError,
     "requested an output size of [13, 12], but valid sizes range from [11, 11] to [12, 12]"),
    (lambda: nn.ConvTranspose2d(4, 6, 3, stride=2)(R(1, 4, 5, 5), output_size=[12]), ValueError,
     "ConvTranspose2D: for 4D input, output_size must have 2 or 4 elements (got 1)"),
])
def test_errors(call, exc, msg):
    with pytest.raises(exc) as info:
        call()
    assert msg in str(info.value)


def test_same_padding_even_kernel_warns_and_pads_right():
    x = ember.zeros(1, 1, 4)
    x[0, 0, 3] = 1.0
    with pytest.warns(UserWarning, match="padding='same' with even kernel lengths"):
        y = F.conv1d(x, ember.tensor([[[1.0, 2.0]]]), padding="same")
    # total padding 1 goes to the right: y[i] = x[i] + 2 x[i+1]
    assert y.tolist() == [[[0.0, 0.0, 2.0, 1.0]]]


# ------------------------------------------------------------------------------------------------
# shapes, dtypes, modules
# ------------------------------------------------------------------------------------------------


def test_shapes_and_empty_batches():
    assert tuple(F.conv2d(R(0, 4, 5, 5), R(6, 4, 3, 3)).shape) == (0, 6, 3, 3)
    assert tuple(F.conv2d(R(2, 4, 5, 5), R(6, 4, 3, 3), padding=(1, 2)).shape) == (2, 6, 5, 7)
    assert tuple(F.conv2d(R(2, 4, 5, 5), R(6, 4, 3, 3), stride=[2]).shape) == (2, 6, 2, 2)
    assert tuple(F.conv1d(R(4, 5), R(6, 4, 4)).shape) == (6, 2)
    assert tuple(F.conv_transpose2d(R(4, 5, 5), R(4, 6, 3, 3)).shape) == (6, 7, 7)
    assert tuple(F.conv_transpose2d(R(2, 4, 1, 1), R(4, 6, 3, 3), dilation=2, output_padding=1).shape) == (2, 6, 6, 6)


def test_integer_conv():
    x = ember.arange(16).reshape(1, 1, 4, 4)
    y = F.conv2d(x, ember.ones(1, 1, 2, 2, dtype=ember.int64))
    assert y.dtype == ember.int64 and y.tolist() == [[[[10, 14, 18], [26, 30, 34], [42, 46, 50]]]]


@pytest.mark.parametrize("k,pad", [(3, 1), (1, 0)])
def test_non_contiguous_input_and_weight(rng, k, pad, algo):
    x = rng.standard_normal((2, 40, 9, 10))
    w = rng.standard_normal((40, 40, k, k))
    ref = F.conv2d(ember.tensor(x), ember.tensor(w), padding=pad).numpy()
    xt = ember.tensor(np.ascontiguousarray(x.transpose(0, 1, 3, 2))).transpose(2, 3)
    wt = ember.tensor(np.ascontiguousarray(w.transpose(1, 0, 2, 3))).transpose(0, 1)
    assert not xt.is_contiguous() and not wt.is_contiguous()
    np.testing.assert_allclose(F.conv2d(xt, wt, padding=pad).numpy(), ref, rtol=1e-12, atol=1e-12)


def test_output_is_contiguous_and_viewable():
    y = F.conv2d(R(2, 3, 6, 6), R(4, 3, 3, 3), padding=1)
    assert y.is_contiguous()
    assert tuple(y.view(2, -1).shape) == (2, 144)


def test_module_repr_and_state_dict():
    assert repr(nn.Conv2d(3, 64, 3, padding=1, bias=False)) == \
        "Conv2d(3, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)"
    assert repr(nn.Conv2d(3, 64, 3, padding="same", padding_mode="reflect", dilation=2)) == \
        "Conv2d(3, 64, kernel_size=(3, 3), stride=(1, 1), padding=same, dilation=(2, 2), padding_mode=reflect)"
    assert repr(nn.ConvTranspose2d(4, 8, 3, stride=2, output_padding=1, groups=2)) == \
        "ConvTranspose2d(4, 8, kernel_size=(3, 3), stride=(2, 2), output_padding=(1, 1), groups=2)"
    assert repr(nn.Conv1d(4, 8, 3, padding="valid")) == "Conv1d(4, 8, kernel_size=(3,), stride=(1,), padding=valid)"
    assert repr(nn.ConvTranspose1d(4, 8, 3)) == "ConvTranspose1d(4, 8, kernel_size=(3,), stride=(1,))"
    m = nn.Conv2d(4, 6, (3, 2), groups=2)
    assert list(m.state_dict()) == ["weight", "bias"]
    assert tuple(m.weight.shape) == (6, 2, 3, 2) and tuple(m.bias.shape) == (6,)
    t = nn.ConvTranspose2d(4, 6, 3, groups=2, bias=False)
    assert list(m.state_dict()) == ["weight", "bias"] and list(t.state_dict()) == ["weight"]
    assert tuple(t.weight.shape) == (4, 3, 3, 3) and t.bias is None
    assert nn.Conv1d(2, 3, 5, dtype=ember.float64).weight.dtype == ember.float64
    assert m.kernel_size == (3, 2) and m.stride == (1, 1) and m.padding == (0, 0) and m.dilation == (1, 1)
    assert m.output_padding == (0, 0) and m.transposed is False and m.padding_mode == "zeros"


def test_module_init_bounds():
    m = nn.Conv2d(16, 32, 3)
    bound = 1 / math.sqrt(16 * 9)  # kaiming_uniform(a=sqrt(5)) and the bias both use 1/sqrt(fan_in)
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound
    t = nn.ConvTranspose2d(16, 8, 3)  # fan_in from weight.shape[1] = out_channels/groups
    assert np.abs(t.weight.detach().numpy()).max() <= 1 / math.sqrt(8 * 9)


def test_conv_transpose_module_output_size():
    t = nn.ConvTranspose2d(4, 6, 3, stride=2)
    x = R(1, 4, 5, 5)
    assert tuple(t(x, output_size=[12, 12]).shape) == (1, 6, 12, 12)
    assert tuple(t(x, output_size=(1, 6, 11, 12)).shape) == (1, 6, 11, 12)
    assert tuple(t(x).shape) == (1, 6, 11, 11)
    t1 = nn.ConvTranspose1d(4, 6, 3, stride=3)
    assert tuple(t1(R(4, 5), output_size=[17]).shape) == (6, 17)



def test_modules_in_namespaces():
    assert F.conv2d is conv_ops.conv2d and F.conv_transpose1d is conv_ops.conv_transpose1d
    for name in ("Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"):
        assert hasattr(nn, name)


def test_double_backward_through_module(rng):
    m = nn.Conv2d(2, 3, 3, padding=1, stride=2).double()
    x = ember.tensor(rng.standard_normal((2, 2, 5, 5)), requires_grad=True)
    (gx,) = ember.autograd.grad(m(x).pow(2).sum(), x, create_graph=True)
    gx.sum().backward()
    assert m.weight.grad is not None and tuple(m.weight.grad.shape) == (3, 2, 3, 3)


# ------------------------------------------------------------------------------------------------
# algorithm paths agree (flat-shift, im2col, 1x1) and parity with an installed torch
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("hw,pad,c", [(8, 1, 3), (3, 1, 3), (16, 0, 3), (32, 1, 40), (24, 1, 2)])
def test_algorithms_agree_with_direct_sum(rng, hw, pad, c, algo):
    x = rng.standard_normal((2, c, hw, hw))
    w = rng.standard_normal((4, c, 3, 3))
    g = rng.standard_normal((2, 4, hw + 2 * pad - 2, hw + 2 * pad - 2))
    xt, wt = ember.tensor(x, requires_grad=True), ember.tensor(w, requires_grad=True)
    y = F.conv2d(xt, wt, padding=pad)
    y.backward(ember.tensor(g))
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    ho = hw + 2 * pad - 2
    def win(i, j):
        return xp[:, :, i:i + ho, j:j + ho]

    ref = sum(np.einsum("nchw,oc->nohw", win(i, j), w[:, :, i, j]) for i in range(3) for j in range(3))
    np.testing.assert_allclose(y.detach().numpy(), ref, rtol=1e-10, atol=1e-10)
    gw = np.stack([np.einsum("nohw,nchw->oc", g, win(i, j)) for i in range(3) for j in range(3)], -1)
    np.testing.assert_allclose(wt.grad.numpy(), gw.reshape(4, c, 3, 3), rtol=1e-10, atol=1e-10)
    gxp = np.zeros_like(xp)
    for i in range(3):
        for j in range(3):
            gxp[:, :, i:i + ho, j:j + ho] += np.einsum("nohw,oc->nchw", g, w[:, :, i, j])
    np.testing.assert_allclose(xt.grad.numpy(), gxp[:, :, pad:pad + hw, pad:pad + hw], rtol=1e-10, atol=1e-10)


@pytest.mark.parity
@pytest.mark.parametrize("name", FUNCTIONAL)
def test_parity_with_torch_float32(name):
    torch = pytest.importorskip("torch")
    meta = json.loads(str(REF[f"{name}/meta"]))
    arrays = {k: REF[f"{name}/{k}"] for k in ("x", "w", "b", "g") if f"{name}/{k}" in REF.files}
    tt = {k: torch.tensor(v, requires_grad=k != "g") for k, v in arrays.items()}
    et = {k: ember.tensor(v, requires_grad=k != "g") for k, v in arrays.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ty = getattr(torch.nn.functional, meta["fn"])(tt["x"], tt["w"], tt.get("b"), **_kw(meta["kw"]))
        ey = getattr(F, meta["fn"])(et["x"], et["w"], et.get("b"), **_kw(meta["kw"]))
    ty.backward(tt["g"])
    ey.backward(et["g"])
    np.testing.assert_allclose(_np(ey), ty.detach().numpy(), rtol=1e-4, atol=1e-4)
    for k in ("x", "w", "b"):
        if k in tt:
            np.testing.assert_allclose(_np(et[k].grad), tt[k].grad.numpy(), rtol=1e-4, atol=1e-4)


def _direct_conv(x, w, stride, pads, dilation):
    """Reference conv2d (groups 1) in float64 by a sum over kernel offsets; pads ((top, bottom), (left, right))."""
    (sh, sw), (dh, dw) = stride, dilation
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple(pads))
    kh, kw = w.shape[2:]
    ho = (xp.shape[2] - dh * (kh - 1) - 1) // sh + 1
    wo = (xp.shape[3] - dw * (kw - 1) - 1) // sw + 1
    return sum(np.einsum("nchw,oc->nohw", xp[:, :, i * dh:i * dh + sh * (ho - 1) + 1:sh, j * dw:j * dw + sw * (wo - 1) + 1:sw],
                         w[:, :, i, j]) for i in range(kh) for j in range(kw))


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("blocks", [1, 2, 5])
@pytest.mark.parametrize("xs,ws,kw", [
    ((5, 3, 9, 11), (4, 3, 3, 3), {"padding": 1}),
    ((5, 3, 9, 11), (4, 3, 3, 2), {"padding": "same"}),  # asymmetric padding
    ((5, 2, 10, 9), (3, 2, 3, 3), {"stride": 2, "padding": 1}),
    ((5, 2, 10, 9), (3, 2, 2, 3), {"stride": (2, 1), "dilation": (1, 2), "padding": (2, 0)}),
    ((5, 2, 8, 8), (3, 2, 3, 3), {"padding": 3}),  # padding wider than the kernel reach
    ((5, 2, 8, 8), (3, 2, 3, 3), {"dilation": 2, "padding": 2}),
])
def test_blocked_im2col_matches_direct_sum(rng, monkeypatch, blocks, xs, ws, kw):
    """The per-image-block path, every block size (ragged last block included), against a float64 direct sum:
    output, weight gradient and input gradient (by col2im, and as a convolution for stride 1)."""
    monkeypatch.setattr(conv_ops, "_BLK_MIN_HW", 0)
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    xt, wt = ember.tensor(x, requires_grad=True), ember.tensor(w, requires_grad=True)
    out = F.conv2d(xt, wt, **kw)
    g = rng.standard_normal(tuple(out.shape))
    K, hw = ws[1] * ws[2] * ws[3], out.shape[2] * out.shape[3]
    monkeypatch.setattr(conv_ops, "_BLK_BYTES", blocks * K * hw * 8)
    stride = kw.get("stride", 1)
    stride = (stride, stride) if isinstance(stride, int) else stride
    dil = kw.get("dilation", 1)
    dil = (dil, dil) if isinstance(dil, int) else dil
    pad = kw.get("padding", 0)
    if pad == "same":
        pads = [(d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in zip(ws[2:], dil)]
    else:
        pad = (pad, pad) if isinstance(pad, int) else pad
        pads = [(p, p) for p in pad]

    def ref(x, w):
        return _direct_conv(x, w, stride, pads, dil)

    for gx_min_c in (1, 1 << 30):  # input gradient as a convolution / by col2im
        monkeypatch.setattr(conv_ops, "_GX_CONV_MIN_C", gx_min_c)
        xt.grad = wt.grad = None
        y = F.conv2d(xt, wt, **kw)
        assert conv_ops._algo(conv_ops._Cfg(stride, pads, dil, 1), *ws[2:], *xs[2:], *y.shape[2:], ws[1]) == "blk"
        y.backward(ember.tensor(g))
        np.testing.assert_allclose(y.detach().numpy(), ref(x, w), rtol=1e-10, atol=1e-10)
        # the gradients by finite linearity: <g, conv(x, e_k)> and <g, conv(e_k, w)> via the adjoint identity
        eps_w = rng.standard_normal(ws)
        np.testing.assert_allclose((wt.grad.numpy() * eps_w).sum(), (g * ref(x, eps_w)).sum(), rtol=1e-9)
        eps_x = rng.standard_normal(xs)
        np.testing.assert_allclose((xt.grad.numpy() * eps_x).sum(), (g * ref(eps_x, w)).sum(), rtol=1e-9)


@pytest.mark.parametrize("gx_min_c", [1, 1 << 30])
def test_blocked_path_gradcheck_and_transpose(rng, monkeypatch, gx_min_c):
    monkeypatch.setattr(conv_ops, "_BLK_MIN_HW", 0)
    monkeypatch.setattr(conv_ops, "_BLK_BYTES", 1)
    monkeypatch.setattr(conv_ops, "_GX_CONV_MIN_C", gx_min_c)
    x, w, b = _grad_inputs(rng, "conv2d", (3, 2, 6, 5), (3, 2, 3, 2), {})
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, padding=(1, 2), dilation=(1, 2)), (x, w, b))
    assert gradgradcheck(lambda x, w, b: F.conv2d(x, w, b, padding=1), (x, w, b))
    xt, wt, bt = _grad_inputs(rng, "conv_transpose2d", (2, 3, 4, 4), (3, 2, 3, 3), {})
    assert gradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1), (xt, wt, bt))
    # stride 1 with an output padding: the transposed convolution's forward is the input gradient as a convolution
    assert gradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, padding=1, dilation=2, output_padding=1), (xt, wt, bt))


def test_blocked_unfold_shared_among_threads(rng, monkeypatch):
    """Large per-image column blocks are unfolded by several threads (kernel offsets split between them),
    on the NumPy path (without the compiled im2col of ``ember[fast]``)."""
    from ember import _fast

    monkeypatch.setenv("EMBER_NO_FAST", "1")
    monkeypatch.setattr(_fast, "_threads", lambda: 2)
    calls = []
    real = _fast.share
    monkeypatch.setattr(_fast, "share", lambda fn, n, chunk: calls.append((n, chunk)) or real(fn, n, chunk))
    x, w = rng.standard_normal((2, 32, 40, 40)), rng.standard_normal((8, 32, 3, 3))
    xt, wt = ember.tensor(x, requires_grad=True), ember.tensor(w, requires_grad=True)
    y = F.conv2d(xt, wt)
    np.testing.assert_allclose(y.detach().numpy(), _direct_conv(x, w, (1, 1), [(0, 0), (0, 0)], (1, 1)), rtol=1e-10, atol=1e-10)
    g = rng.standard_normal(tuple(y.shape))
    y.backward(ember.tensor(g))
    eps_w = rng.standard_normal(w.shape)
    np.testing.assert_allclose((wt.grad.numpy() * eps_w).sum(),
                               (g * _direct_conv(x, eps_w, (1, 1), [(0, 0), (0, 0)], (1, 1))).sum(), rtol=1e-9)
    assert calls.count((9, 5)) == 4  # each image (one per block), forward and weight gradient: 9 offsets, 2 chunks


@pytest.mark.parametrize("stride,dilation,padding", [(1, 1, 0), (2, 1, 1), (1, 2, 2), ((3, 1), (1, 2), (0, 1)), ((1, 3), 1, 1)])
def test_unfold_paths_agree(kernel_path, monkeypatch, rng, stride, dilation, padding):
    """The im2col copy by the compiled loop (``ember[fast]``) and by NumPy's strided copies (shared out among
    threads): the same convolution values and gradients, against the direct sum."""
    from ember import _fast
    from ember.ops import conv

    monkeypatch.setattr(_fast, "_threads", lambda: 2)
    monkeypatch.setattr(_fast, "MAP_MIN", 1)  # every block shared out
    used, folded = [], []  # im2col and col2im calls of the compiled loop: whether each one applied
    real = conv._compiled_windows

    def record(*a, adjoint=False):
        (folded if adjoint else used).append(real(*a, adjoint=adjoint))
        return (folded if adjoint else used)[-1]

    monkeypatch.setattr(conv, "_compiled_windows", record)
    x, w = rng.standard_normal((3, 4, 30, 31)), rng.standard_normal((5, 4, 3, 2))  # >= _BLK_MIN_HW outputs per image
    xt, wt = ember.tensor(x, requires_grad=True), ember.tensor(w, requires_grad=True)
    y = F.conv2d(xt, wt, stride=stride, padding=padding, dilation=dilation)
    pair = lambda v: v if isinstance(v, tuple) else (v, v)  # noqa: E731
    pads = [(p, p) for p in pair(padding)]
    ref = _direct_conv(x, w, pair(stride), pads, pair(dilation))
    np.testing.assert_allclose(y.detach().numpy(), ref, rtol=1e-10, atol=1e-10)
    g = rng.standard_normal(tuple(y.shape))
    y.backward(ember.tensor(g))
    eps_w = rng.standard_normal(w.shape)
    np.testing.assert_allclose((wt.grad.numpy() * eps_w).sum(),
                               (g * _direct_conv(x, eps_w, pair(stride), pads, pair(dilation))).sum(), rtol=1e-9)
    eps_x = rng.standard_normal(x.shape)  # the input gradient (col2im: the compiled fold or NumPy's adds)
    np.testing.assert_allclose((xt.grad.numpy() * eps_x).sum(),
                               (g * _direct_conv(eps_x, w, pair(stride), pads, pair(dilation))).sum(), rtol=1e-9)
    assert used and all(used) == (kernel_path == "fast")
    assert folded and all(folded) == (kernel_path == "fast")


@pytest.mark.parametrize("blocks", [1, 2, 5])
@pytest.mark.parametrize("xs,ws,kw", [
    ((5, 1, 60), (3, 1, 16), {"stride": 4}),
    ((5, 2, 50), (3, 2, 8), {"stride": 3, "padding": 2, "dilation": 2}),
    ((4, 3, 41), (5, 3, 6), {"stride": 5, "padding": 4}),
])
def test_strided_1d_windows_path(rng, monkeypatch, blocks, xs, ws, kw):
    """The strided 1-D "win" path (one window copy per block of images, the images shared out among the threads),
    every block size, against a float64 direct sum: output and weight gradient (the input gradient is the other
    paths'), gradcheck and gradgradcheck."""
    monkeypatch.setattr(conv_ops, "_WIN_MIN_K", 1)
    monkeypatch.setattr(conv_ops, "_SEQ_MAX_FLOPS", 0)  # "win" even for the no-grad forward of these small ones
    monkeypatch.setattr(conv_ops._fast, "_SHARE_MIN_FLOPS", 0)  # each thread its own images, even these few
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    Wo = (xs[2] + 2 * kw.get("padding", 0) - kw.get("dilation", 1) * (ws[2] - 1) - 1) // kw["stride"] + 1
    monkeypatch.setattr(conv_ops, "_WIN_BYTES", blocks * ws[1] * ws[2] * Wo * 8)
    cfg = conv_ops._Cfg((1, kw["stride"]), ((0, 0), (kw.get("padding", 0),) * 2), (1, kw.get("dilation", 1)), 1)
    assert conv_ops._algo(cfg, 1, ws[2], 1, xs[2], 1, Wo, ws[1], ws[0], np.dtype("float64")) == "win"
    xt, wt = ember.tensor(x, requires_grad=True), ember.tensor(w, requires_grad=True)
    b = rng.standard_normal(ws[0])
    y = F.conv1d(xt, wt, ember.tensor(b), **kw)
    pads = [(0, 0), (kw.get("padding", 0),) * 2]

    def ref(x, w):
        return _direct_conv(x[:, :, None], w[:, :, None], (1, kw["stride"]), pads, (1, kw.get("dilation", 1)))[:, :, 0]

    np.testing.assert_allclose(y.detach().numpy(), ref(x, w) + b[:, None], rtol=1e-10, atol=1e-10)
    with ember.no_grad():  # without a backward to come, the forward runs block by block (nothing kept)
        np.testing.assert_allclose(F.conv1d(xt, wt, ember.tensor(b), **kw).numpy(), ref(x, w) + b[:, None], rtol=1e-10, atol=1e-10)
    g = rng.standard_normal(tuple(y.shape))
    y.backward(ember.tensor(g))
    eps_w = rng.standard_normal(ws)
    np.testing.assert_allclose((wt.grad.numpy() * eps_w).sum(), (g * ref(x, eps_w)).sum(), rtol=1e-9)
    eps_x = rng.standard_normal(xs)
    np.testing.assert_allclose((xt.grad.numpy() * eps_x).sum(), (g * ref(eps_x, w)).sum(), rtol=1e-9)
    if blocks == 2:
        xg, wg, bg = _grad_inputs(rng, "conv1d", xs, ws, kw)
        assert gradcheck(lambda x, w, b: F.conv1d(x, w, b, **kw), (xg, wg, bg))
        assert gradgradcheck(lambda x, w, b: F.conv1d(x, w, b, **kw), (xg, wg, bg))


@pytest.mark.parametrize("xs, ws, kw", [
    ((3, 4, 9), (5, 4, 3), {}),
    ((1, 4, 9), (5, 4, 3), {"bias": False}),  # one sequence
    ((3, 4, 9), (5, 4, 1), {"stride": 2}),  # one tap (at stride 1, "1x1")
    ((3, 4, 11), (5, 4, 3), {"stride": 2}),  # columns copied from a strided view
    ((3, 4, 11), (5, 4, 3), {"dilation": 2, "padding": 1}),
    ((2, 3, 6), (4, 3, 4), {"padding": 3, "stride": 3, "dilation": 2}),
])
def test_small_1d_forward_seq_path_matches_direct_sum(rng, monkeypatch, device, xs, ws, kw):
    """A small 1-D convolution with no backward to come runs "seq" (batched GEMMs on the calling thread, per tap
    on views at stride 1): values, with and without a bias, against a float64 direct sum; a forward that keeps
    what its backward needs takes another path."""
    taken = []
    real = conv_ops._seq_fwd
    monkeypatch.setattr(conv_ops, "_seq_fwd", lambda *a: taken.append(1) or real(*a))
    kw = dict(kw)
    bias = kw.pop("bias", True)
    x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])
    xt, wt = ember.tensor(x, device=device), ember.tensor(w, device=device)
    bt = ember.tensor(b, device=device) if bias else None
    p, s, d = kw.get("padding", 0), kw.get("stride", 1), kw.get("dilation", 1)
    ref = _direct_conv(x[:, :, None], w[:, :, None], (1, s), ((0, 0), (p, p)), (1, d))[:, :, 0]
    if bias:
        ref = ref + b[:, None]
    with ember.no_grad():
        y = F.conv1d(xt, wt, bt, **kw)
    assert taken == [1]
    np.testing.assert_allclose(_np(y), ref, rtol=1e-10, atol=1e-10)
    xg = ember.tensor(x, device=device, requires_grad=True)
    np.testing.assert_allclose(_np(F.conv1d(xg, wt, bt, **kw)), ref, rtol=1e-10, atol=1e-10)
    assert taken == [1]


@pytest.mark.parametrize("xs, ws, kw", [
    ((6, 8, 130), (8, 8, 3), {}),
    ((5, 6, 150), (7, 6, 4), {"dilation": 2, "padding": 3, "bias": False}),
])
def test_small_1d_forward_seq_path_compiled_taps(rng, monkeypatch, xs, ws, kw):
    """In float32 with numba, "seq" at stride 1 is one compiled call (``_fast_conv.taps_forward``: the bias, then
    one accumulating sgemm per tap on the input as it lies): values against a float64 direct sum."""
    if not ember._fast.enabled() or conv_ops._win_sgemm(np.zeros(1, np.float32), np.zeros(1, np.float32)) is None:
        pytest.skip("needs numba and NumPy's BLAS sgemm")
    from ember import _fast_conv

    calls = []
    real = _fast_conv.taps_forward
    monkeypatch.setattr(_fast_conv, "taps_forward", lambda *a: calls.append(1) or real(*a))
    kw = dict(kw)
    bias = kw.pop("bias", True)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in (xs, ws, ws[:1]))
    p, d = kw.get("padding", 0), kw.get("dilation", 1)
    ref = _direct_conv(x[:, :, None].astype(np.float64), w[:, :, None].astype(np.float64), (1, 1), ((0, 0), (p, p)),
                       (1, d))[:, :, 0]
    if bias:
        ref = ref + b[:, None]
    with ember.no_grad():
        y = F.conv1d(ember.tensor(x), ember.tensor(w), ember.tensor(b) if bias else None, **kw)
    assert calls == [1]
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-5, atol=1e-5)


def test_seq_selection():
    """"seq" takes the forward of small ungrouped 1-D convolutions when the batch is given (no backward to come):
    M5's conv2-4 at b32; not 2-D ones, height-padded, grouped ones, long outputs or large ones (M5's conv1 at b32)."""
    f32 = np.dtype("float32")
    one = conv_ops._Cfg((1, 1), ((0, 0), (0, 0)), (1, 1), 1)
    for L, c, o in ((124, 32, 32), (30, 32, 64), (7, 64, 64)):
        assert conv_ops._algo(one, 1, 3, 1, L, 1, L - 2, c, o, f32, N=32) == "seq"
        assert conv_ops._algo(one, 1, 3, 1, L, 1, L - 2, c, o, f32) != "seq"
    assert conv_ops._algo(one, 3, 3, 9, 9, 7, 7, 32, 32, f32, N=32) != "seq"
    assert conv_ops._algo(conv_ops._Cfg((1, 1), ((0, 0), (0, 0)), (1, 1), 2), 1, 3, 1, 30, 1, 28, 16, 32, f32, N=2) != "seq"
    assert conv_ops._algo(one, 1, 3, 1, 400, 1, 398, 4, 4, f32, N=2) != "seq"
    height_padded = conv_ops._Cfg((1, 1), ((1, 0), (0, 0)), (1, 1), 1)  # (a transposed conv's input gradient)
    assert conv_ops._algo(height_padded, 1, 3, 1, 30, 2, 28, 16, 32, f32, N=2) != "seq"
    m5_conv1 = conv_ops._Cfg((1, 16), ((0, 0), (0, 0)), (1, 1), 1)
    assert conv_ops._algo(m5_conv1, 1, 80, 1, 8000, 1, 496, 1, 32, f32, N=32) == "win"


@pytest.mark.parametrize("small", [None, 50000])
@pytest.mark.parametrize("xs, ws, kw", [
    ((5, 1, 1000), (32, 1, 80), {"stride": 16}),  # M5's first layer
    ((3, 2, 1200), (8, 2, 20), {"stride": 4, "padding": 7, "dilation": 2}),
])
def test_strided_1d_windows_compiled_calls(rng, monkeypatch, xs, ws, kw, small):
    """The float32 "win" forward and weight gradient run each thread's share in one compiled call
    (``_fast_conv.win_forward``: window copy, BLAS sgemm, move into NCL; ``win_weight_grad``: window copy, one
    accumulating sgemm per sequence) and match the NumPy-call path, blocks of one or two sequences, the batch
    shared out among the threads; the sgemms whole or as this machine's BLAS takes them (``small`` None), or in
    blocks with a shorter last one (50000 products: 16 of 58 positions, 144 of 294)."""
    if not ember._fast.enabled() or conv_ops._win_sgemm(np.zeros(1, np.float32), np.zeros(1, np.float32)) is None:
        pytest.skip("needs numba and NumPy's BLAS sgemm")
    from ember import _fast_conv

    if small is not None:
        found = conv_ops._win_sgemm
        monkeypatch.setattr(conv_ops, "_win_sgemm", lambda x, y: lambda: found(x, y)()[:3] + (small,))

    monkeypatch.setattr(conv_ops, "_SEQ_MAX_FLOPS", 0)
    monkeypatch.setattr(conv_ops._fast, "_SHARE_MIN_FLOPS", 0)
    monkeypatch.setattr(conv_ops._fast, "team_threads", lambda n, flops: 1)  # Ember's pool (the team: test_fast_team)
    x = rng.standard_normal(xs).astype(np.float32)
    w, b = (rng.standard_normal(ws) * 0.1).astype(np.float32), rng.standard_normal(ws[0]).astype(np.float32)
    calls = []
    real = _fast_conv.win_forward
    monkeypatch.setattr(_fast_conv, "win_forward", lambda *a: calls.append(a[1:3]) or real(*a))
    real_wg = _fast_conv.win_weight_grad
    monkeypatch.setattr(_fast_conv, "win_weight_grad", lambda *a: calls.append(("wgrad",) + a[1:3]) or real_wg(*a))

    p, s, d = kw.get("padding", 0), kw["stride"], kw.get("dilation", 1)
    cfg = conv_ops._Cfg((1, s), ((0, 0), (p, p)), (1, d), 1)
    Wo = (xs[2] + 2 * p - d * (ws[2] - 1) - 1) // s + 1

    def conv(blocks):  # blocks of this many sequences (_win_batch)
        monkeypatch.setattr(conv_ops, "_WIN_BYTES", blocks * max(ws[1] * ws[2], ws[0]) * Wo * 4)
        assert conv_ops._win_batch(xs[0], ws[1] * ws[2], ws[0], Wo, 4) == blocks
        with ember.no_grad():
            return F.conv1d(ember.tensor(x), ember.tensor(w), ember.tensor(b), **kw).numpy()

    def one_call_per_thread(spans):
        """Each thread's share of the batch in one call (two threads, or one on a busy machine)."""
        n = 0
        for n0, n1 in sorted(spans):
            assert n0 == n
            n = n1
        assert n == xs[0] and len(spans) <= ember.get_num_threads()

    ys = []
    for blocks in (1, 2):
        ys.append(conv(blocks))
        one_call_per_thread(calls)
        calls.clear()
    g = rng.standard_normal((xs[0], ws[0], 1, ys[0].shape[-1])).astype(np.float32)
    wgrad = conv_ops._win_bwd_weight(g, x[:, :, None], cfg, (ws[0], ws[1], 1, ws[2]))
    assert all(c[0] == "wgrad" for c in calls)
    one_call_per_thread([c[1:] for c in calls])
    calls.clear()
    monkeypatch.setattr(conv_ops, "_win_sgemm", lambda x, y: None)
    for blocks, y in zip((1, 2), ys):
        np.testing.assert_allclose(y, conv(blocks), rtol=1e-5, atol=1e-5)
    assert not calls
    ref = conv_ops._win_bwd_weight(g, x[:, :, None], cfg, (ws[0], ws[1], 1, ws[2]))
    assert wgrad.dtype == np.float32
    np.testing.assert_allclose(wgrad, ref, rtol=1e-4, atol=1e-3)


def test_strided_1d_windows_path_m5_conv1(rng, monkeypatch):
    """M5's first layer (1 -> 32 channels, kernel 80, stride 16) takes the "win" path and matches the per-image
    blocks path in float32 (forward and weight gradient), on a non-contiguous input."""
    monkeypatch.setattr(conv_ops, "_SEQ_MAX_FLOPS", 0)  # a batch of 6 would take "seq" in a no-grad forward
    x = rng.standard_normal((6, 2, 1000)).astype(np.float32)[:, 1:]  # every other channel block: strided input
    w = (rng.standard_normal((32, 1, 80)) * 0.1).astype(np.float32)
    cfg = conv_ops._Cfg((1, 16), ((0, 0), (0, 0)), (1, 1), 1)
    assert conv_ops._algo(cfg, 1, 80, 1, 1000, 1, 58, 1, 32, np.dtype("float32")) == "win"
    x4, w4 = x[:, :, None], w[:, :, None]
    y = conv_ops._fwd(x4, w4, cfg)
    np.testing.assert_allclose(y, conv_ops._blk_fwd(x4, w4, cfg, 1, 58, None), rtol=1e-5, atol=1e-5)
    g = rng.standard_normal(y.shape).astype(np.float32)
    gw = conv_ops._bwd_weight(g, x4, cfg, w4.shape)
    assert gw.dtype == np.float32
    np.testing.assert_allclose(gw, conv_ops._blk_bwd_weight(g, x4, cfg, w4.shape), rtol=1e-4, atol=1e-4)
    y2, prep = conv_ops._fwd(x4, w4, cfg, keep=True)  # nothing kept: the weight gradient recomputes the columns
    assert prep is None
    np.testing.assert_array_equal(y2, y)
    b = rng.standard_normal(32).astype(np.float32)  # with a bias, added as the GEMM's rows move into NCL layout
    np.testing.assert_allclose(conv_ops._fwd(x4, w4, cfg, bias=b), conv_ops._blk_fwd(x4, w4, cfg, 1, 58, b),
                               rtol=1e-5, atol=1e-5)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("xs,ws,kw", [
    ((3, 6, 2, 2), (5, 6, 3, 3), {"padding": 1}),  # VGG's 2x2 layers: every output misses some taps
    ((3, 6, 4, 4), (5, 6, 3, 3), {"padding": 1}),  # 4x4: corner, edge and centre regions
    ((3, 6, 1, 1), (5, 6, 3, 3), {"padding": 1}),  # only the centre tap
    ((2, 4, 2, 2), (3, 4, 3, 2), {"padding": "same"}),  # asymmetric padding, a 3x2 kernel
    ((2, 4, 2, 2), (3, 4, 5, 5), {"padding": 2}),  # taps beyond the image on both sides
    ((2, 4, 1, 4), (3, 4, 3, 3), {"padding": (1, 0)}),  # rows padded, columns not
    ((2, 4, 5, 6), (3, 4, 3, 3), {"padding": 1, "stride": 2}),  # strided: ResNet's downsampling conv
    ((2, 4, 5, 5), (3, 4, 3, 3), {"padding": 2, "dilation": 2}),
    ((2, 4, 1, 1), (3, 4, 1, 3), {"padding": (0, 3)}),  # no tap reaches the two outputs at either end
])
@pytest.mark.parametrize("shared", [False, True], ids=["one-thread", "per-thread"])
def test_small_image_region_path_matches_direct_sum(rng, monkeypatch, xs, ws, kw, shared):
    """Small padded images run all three maps per kernel tap over the outputs it reaches ("region",
    ``conv_regions``): values, with a bias, against a float64 direct sum over the zero-padded input; both
    gradients against the im2col path's. ``shared``: the channels shared out among the threads, even these few."""
    monkeypatch.setattr(conv_ops, "_REGION_MIN_C", 0)
    if shared:
        monkeypatch.setattr(conv_ops._fast, "_SHARE_MIN_FLOPS", 0)
    taken = []
    for name in ("forward", "input_grad", "weight_grad"):
        real = getattr(conv_regions, name)
        monkeypatch.setattr(conv_regions, name, lambda *a, real=real, name=name: taken.append(name) or real(*a))
    x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])
    xt, wt, bt = (ember.tensor(v, requires_grad=True) for v in (x, w, b))
    y = F.conv2d(xt, wt, bt, **kw)
    assert taken == ["forward"]
    kh, kwd = ws[2:]
    if kw["padding"] == "same":
        pads = ((kh - 1) // 2, kh - 1 - (kh - 1) // 2), ((kwd - 1) // 2, kwd - 1 - (kwd - 1) // 2)
    else:
        ph, pw = (kw["padding"],) * 2 if isinstance(kw["padding"], int) else kw["padding"]
        pads = ((ph, ph), (pw, pw))
    stride, dilation = (kw.get("stride", 1),) * 2, (kw.get("dilation", 1),) * 2
    ref = _direct_conv(x, w, stride, pads, dilation) + b[None, :, None, None]
    np.testing.assert_allclose(y.detach().numpy(), ref, rtol=1e-10, atol=1e-10)
    g = rng.standard_normal(ref.shape)
    y.backward(ember.tensor(g))
    assert sorted(taken) == ["forward", "input_grad", "weight_grad"]
    np.testing.assert_allclose(bt.grad.numpy(), g.sum(axis=(0, 2, 3)), rtol=1e-10, atol=1e-10)
    monkeypatch.setattr(conv_ops, "_REGION_MAX_HW", -1)
    xr, wr = ember.tensor(x, requires_grad=True), ember.tensor(w, requires_grad=True)
    F.conv2d(xr, wr, **kw).backward(ember.tensor(g))
    np.testing.assert_allclose(xt.grad.numpy(), xr.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(wt.grad.numpy(), wr.grad.numpy(), rtol=1e-10, atol=1e-10)


def test_region_selection():
    """"region" takes padded ungrouped convolutions of at most ``_REGION_MAX_HW`` outputs per image and
    ``_REGION_MIN_C`` channels (VGG's 2x2 and 4x4 layers, ResNet's stride-2 conv into 4x4, 7x7 at ImageNet size);
    Winograd keeps 8x8, and unpadded, grouped or few-channel convolutions keep their paths."""
    f32 = np.dtype("float32")
    pad1 = conv_ops._Cfg((1, 1), ((1, 1), (1, 1)), (1, 1), 1)
    for hw, c in ((2, 512), (4, 512), (4, 32), (7, 512)):
        assert conv_ops._algo(pad1, 3, 3, hw, hw, hw, hw, c, c, f32) == "region"
    assert conv_ops._algo(conv_ops._Cfg((2, 2), ((1, 1), (1, 1)), (1, 1), 1), 3, 3, 8, 8, 4, 4, 256, 512, f32) == "region"
    assert conv_ops._algo(pad1, 3, 3, 8, 8, 8, 8, 256, 256, f32) == "wino"
    assert conv_ops._algo(pad1, 3, 3, 4, 4, 4, 4, 16, 16, f32) != "region"
    valid = conv_ops._Cfg((1, 1), ((0, 0), (0, 0)), (1, 1), 1)
    assert conv_ops._algo(valid, 3, 3, 6, 6, 4, 4, 512, 512, f32) != "region"
    grouped = conv_ops._Cfg((1, 1), ((1, 1), (1, 1)), (1, 1), 2)
    assert conv_ops._algo(grouped, 3, 3, 4, 4, 4, 4, 256, 512, f32) != "region"


def test_blk_over_col_from_64_positions_where_flat_does_not_apply():
    """Below ``_BLK_MIN_HW`` output positions per image, "blk" still takes over from "col" where "flat" does not
    apply, from ``_BLK_OVER_COL_MIN_HW``: a stride-2 layer at 8x8 outputs, LeNet's 5x5 at 10x10; "flat" keeps
    its shapes (M5's conv2), and fewer positions keep "col"."""
    f32 = np.dtype("float32")
    s2 = conv_ops._Cfg((2, 2), ((1, 1), (1, 1)), (1, 1), 1)
    assert conv_ops._algo(s2, 3, 3, 16, 16, 8, 8, 128, 256, f32) == "blk"
    assert conv_ops._algo(s2, 1, 1, 16, 16, 8, 8, 128, 256, f32) == "blk"
    assert conv_ops._algo(conv_ops._Cfg((2, 2), ((0, 0), (0, 0)), (1, 1), 1), 3, 3, 13, 13, 6, 6, 128, 128, f32) == "col"
    valid = conv_ops._Cfg((1, 1), ((0, 0), (0, 0)), (1, 1), 1)
    assert conv_ops._algo(valid, 5, 5, 14, 14, 10, 10, 6, 16, f32) == "blk"
    assert conv_ops._algo(valid, 1, 3, 1, 124, 1, 122, 32, 32, f32) == "flat"
    assert conv_ops._algo(conv_ops._Cfg((1, 1), ((0, 0), (0, 0)), (1, 1), 2), 3, 3, 12, 12, 10, 10, 8, 16, f32) == "col"


def test_argument_lookup_gives_the_same_results_and_errors_on_every_call():
    """Stride, padding and dilation given as ints or tuples of ints are checked once and looked up after
    (``conv._geometry``): equal arguments of any form give the same output, an error is raised on every call, a float
    is never taken for the int it equals, and the groups check still comes first."""
    x, w = ember.randn(2, 3, 20), ember.randn(4, 3, 5)
    ref = F.conv1d(x, w, stride=2, padding=1).numpy()
    for _ in range(2):
        for args in (dict(stride=2, padding=1), dict(stride=(2,), padding=(1,)), dict(stride=[2], padding=[1])):
            np.testing.assert_array_equal(F.conv1d(x, w, **args).numpy(), ref)
        with pytest.raises(RuntimeError, match="negative padding is not supported"):
            F.conv1d(x, w, padding=-1)
        with pytest.raises(TypeError, match="stride must be an int or a tuple of ints, but got float"):
            F.conv1d(x, w, stride=2.0)
        with pytest.raises(TypeError, match="groups must be an int, but got float"):
            F.conv1d(x, w, padding=-1, groups=1.0)
        with pytest.raises(RuntimeError, match="Invalid padding string: 'full'"):
            F.conv1d(x, w, padding="full")
    assert F.conv1d(x, w, padding="same").shape == (2, 4, 20)
