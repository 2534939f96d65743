"""pad, interpolate, unfold/fold and pixel_(un)shuffle: values and input gradients against references
recorded once from torch (fixtures/spatial_ref.npz, see record_spatial.py), float64 gradchecks for every
op and mode, PyTorch's error messages, and the layers' reprs."""

from __future__ import annotations

import pathlib

import ember
import numpy as np
import pytest
from ember import nn
from ember.autograd import gradcheck, gradgradcheck
from ember.nn import functional as F

REF = np.load(pathlib.Path(__file__).parent / "fixtures" / "spatial_ref.npz")
CASES = sorted({k.split("/")[0] for k in REF.files})


def det_array(shape, seed, dtype=np.float32):
    """Same as record_spatial.det_array: the recorded input (seed 0) and upstream gradient (seed 1)."""
    n = int(np.prod(shape))
    return np.sin(np.arange(n) * 1.7 + seed * 0.37 + 0.3).reshape(shape).astype(dtype)


def _input(name):
    shape = tuple(int(s) for s in REF[f"{name}/shape"])
    if name == "interp_uint8_nearest":
        return ((np.arange(int(np.prod(shape))) * 37) % 256).reshape(shape).astype(np.uint8)
    return det_array(shape, 0)


@pytest.mark.parametrize("name", CASES)
def test_matches_recorded_torch(name, device):
    expr = str(REF[f"{name}/expr"])
    want = REF[f"{name}/out"]
    needs_grad = f"{name}/grad" in REF.files
    x = ember.tensor(_input(name), device=device, requires_grad=needs_grad)  # used by expr
    y = eval(expr)
    assert tuple(y.shape) == want.shape
    assert y.dtype == ember.tensor(want).dtype
    np.testing.assert_allclose(y.detach().cpu().numpy(), want, rtol=1e-5, atol=1e-5 if want.dtype.kind == "f" else 1)
    if needs_grad:
        y.backward(ember.tensor(det_array(want.shape, 1), device=device))
        np.testing.assert_allclose(x.grad.cpu().numpy(), REF[f"{name}/grad"], rtol=1e-5, atol=1e-5)


# -- gradients -------------------------------------------------------------------------------------
def _x(*shape, seed=0):
    rng = np.random.default_rng(seed)
    return ember.tensor(rng.standard_normal(shape), dtype=ember.float64, requires_grad=True)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_gradcheck(mode):
    x1, x2, x3 = _x(2, 5), _x(1, 2, 4, 3), _x(1, 1, 3, 4, 3)
    assert gradcheck(lambda t: F.pad(t, (2, 3), mode=mode), (x1,))
    assert gradcheck(lambda t: F.pad(t, (1, -1, 2, 2), mode=mode), (x2,))
    assert gradcheck(lambda t: F.pad(t, (1, 2, 0, 1, 2, 1), mode=mode), (x3,))
    assert gradgradcheck(lambda t: F.pad(t, (2, 3), mode=mode), (x1,))


@pytest.mark.parametrize(
    "mode,shape",
    [("nearest", (1, 2, 4)), ("nearest", (1, 1, 3, 4)), ("nearest-exact", (1, 1, 3, 4)), ("area", (1, 1, 5, 4)),
     ("linear", (1, 2, 5)), ("bilinear", (1, 1, 3, 4)), ("bicubic", (1, 1, 3, 4)), ("trilinear", (1, 1, 2, 3, 2)),
     ("nearest", (1, 1, 2, 3, 2))],
)
def test_interpolate_gradcheck(mode, shape):
    x = _x(*shape)
    sizes = [tuple((7, 5, 3)[: len(shape) - 2]), tuple((2, 3, 1)[: len(shape) - 2])]
    for ac in ([None] if mode in ("nearest", "nearest-exact", "area") else [False, True]):
        for s in sizes:
            assert gradcheck(lambda t, s=s, ac=ac: F.interpolate(t, size=s, mode=mode, align_corners=ac), (x,))
        assert gradcheck(lambda t, ac=ac: F.interpolate(t, scale_factor=1.6, mode=mode, align_corners=ac), (x,))
    assert gradgradcheck(lambda t: F.interpolate(t, size=sizes[0], mode=mode), (x,))


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_interpolate_antialias_gradcheck(mode):
    x = _x(1, 1, 6, 5)
    assert gradcheck(lambda t: F.interpolate(t, size=(3, 7), mode=mode, antialias=True), (x,))


def test_unfold_fold_gradcheck_and_adjoint():
    x = _x(2, 2, 5, 6)
    geom = {"kernel_size": (2, 3), "dilation": (1, 2), "padding": 1, "stride": (2, 1)}
    assert gradcheck(lambda t: F.unfold(t, **geom), (x,))
    assert gradgradcheck(lambda t: F.unfold(t, **geom), (x,))
    cols = F.unfold(x, **geom).detach().requires_grad_()
    assert gradcheck(lambda c: F.fold(c, (5, 6), **geom), (cols,))
    assert gradgradcheck(lambda c: F.fold(c, (5, 6), **geom), (cols,))
    # <unfold(x), c> == <x, fold(c)>
    c = _x(*cols.shape, seed=1).detach()
    lhs = (F.unfold(x.detach(), **geom) * c).sum().item()
    rhs = (x.detach() * F.fold(c, (5, 6), **geom)).sum().item()
    assert abs(lhs - rhs) < 1e-9


def test_pixel_shuffle_gradcheck_and_inverse():
    x = _x(2, 8, 2, 3)
    assert gradcheck(lambda t: F.pixel_shuffle(t, 2), (x,))
    assert gradcheck(lambda t: F.pixel_unshuffle(t, 2), (_x(1, 2, 4, 6),))
    np.testing.assert_array_equal(F.pixel_unshuffle(F.pixel_shuffle(x, 2), 2).detach().numpy(), x.detach().numpy())


# -- hand-computed values --------------------------------------------------------------------------
def test_pad_hand_values():
    x = ember.arange(1.0, 5.0).reshape(1, 4)
    assert F.pad(x, (2, 1), mode="reflect").tolist() == [[3, 2, 1, 2, 3, 4, 3]]
    assert F.pad(x, (2, 1), mode="replicate").tolist() == [[1, 1, 1, 2, 3, 4, 4]]
    assert F.pad(x, (2, 1), mode="circular").tolist() == [[3, 4, 1, 2, 3, 4, 1]]
    assert F.pad(x, (1, -2), value=9).tolist() == [[9, 1, 2]]
    assert F.pad(x.long(), (1, 0), value=2.5).tolist() == [[2, 1, 2, 3, 4]]
    # reflect/replicate index the original tensor, circular wraps the cropped one (as PyTorch)
    assert F.pad(x, (-1, 2), mode="reflect").tolist() == [[2, 3, 4, 3, 2]]
    assert F.pad(x, (-1, 2), mode="circular").tolist() == [[2, 3, 4, 2, 3]]
    g = ember.ones(1, 4, requires_grad=True)
    F.pad(g, (2, 1), mode="replicate").sum().backward()
    assert g.grad.tolist() == [[3, 1, 1, 2]]


def test_interpolate_hand_values():
    x = ember.tensor([[[0.0, 1.0, 2.0, 3.0]]])
    assert F.interpolate(x, scale_factor=2).tolist() == [[[0, 0, 1, 1, 2, 2, 3, 3]]]
    assert F.interpolate(x, size=3, mode="linear", align_corners=True).tolist() == [[[0, 1.5, 3]]]
    np.testing.assert_allclose(F.interpolate(x, size=8, mode="linear").numpy()[0, 0],
                               [0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3])
    assert F.interpolate(x, size=2, mode="area").tolist() == [[[0.5, 2.5]]]
    # scale_factor is used as given for the source positions unless recompute_scale_factor=True
    a = F.interpolate(x, scale_factor=1.9, mode="linear").numpy()[0, 0]
    b = F.interpolate(x, scale_factor=1.9, mode="linear", recompute_scale_factor=True).numpy()[0, 0]
    np.testing.assert_allclose(a[1], (1 + 0.5) / 1.9 - 0.5, rtol=1e-6)
    np.testing.assert_allclose(b[1], (1 + 0.5) * 4 / 7 - 0.5, rtol=1e-6)


def test_unfold_hand_values():
    x = ember.arange(9.0).reshape(1, 1, 3, 3)
    cols = F.unfold(x, 2)
    assert cols.tolist() == [[[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]]]
    assert F.fold(cols, (3, 3), 2).tolist() == [[[[0, 2, 2], [6, 16, 10], [6, 14, 8]]]]
    ones = F.fold(F.unfold(ember.ones(1, 1, 3, 3), 2), (3, 3), 2)
    assert ones.tolist() == [[[[1, 2, 1], [2, 4, 2], [1, 2, 1]]]]


# -- errors ----------------------------------------------------------------------------------------
NONCONST = (
    "Padding size 4 is not supported for 2D input tensor.\nSupported combinations for non-constant padding:\n"
    "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
    "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
    "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"
)


@pytest.mark.parametrize(
    "fn,exc,msg",
    [
        (lambda x: F.pad(x, (1,)), RuntimeError, "Padding length must be divisible by 2"),
        (lambda x: F.pad(x, (1,) * 8), RuntimeError,
         ("Padding length should be less than or equal to two times the input dimension but got padding length 8 "
         "and input of dimension 3")),
        (lambda x: F.pad(x, (1, 1), mode="reflect", value=1.0), RuntimeError,
         'Padding mode "reflect" doesn\'t take in value argument'),
        (lambda x: F.pad(x, (6, 1), mode="reflect"), RuntimeError,
         ("Argument #4: Padding size should be less than the corresponding input dimension, but got: padding (6, 1) "
         "at dimension 2 of input [1, 2, 6]")),
        (lambda x: F.pad(x, (7, 1), mode="circular"), RuntimeError, "Padding value causes wrapping around more than once."),
        (lambda x: F.pad(x, (1, 1), mode="foo"), NotImplementedError, "Unrecognised padding mode foo"),
        (lambda x: F.pad(x[0], (1, 1, 1, 1), mode="replicate"), NotImplementedError, NONCONST),
        (lambda x: F.pad(x, (-7, 0)), RuntimeError, "narrow(): length must be non-negative."),
        (lambda x: F.pad(x[:, :0], (1, 1), mode="reflect"), RuntimeError,
         ("Expected 2D or 3D (batch mode) tensor with possibly 0 batch size and other non-zero dimensions for input, "
         "but got: [1, 0, 6]")),
        (lambda x: F.interpolate(x, size=3, scale_factor=2), ValueError, "only one of size or scale_factor should be defined"),
        (lambda x: F.interpolate(x), ValueError, "either size or scale_factor should be defined"),
        (lambda x: F.interpolate(x, size=3, align_corners=True), ValueError,
         "align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear"),
        (lambda x: F.interpolate(x, size=(3, 3)), ValueError,
         ("Input and output must have the same number of spatial dimensions, but got input with spatial dimensions "
         "of [6] and output size of (3, 3). Please provide input tensor in (N, C, d1, d2, ...,dK) format and output "
         "size in (o1, o2, ...,oK) format.")),
        (lambda x: F.interpolate(x, size=3, recompute_scale_factor=True), ValueError,
         "recompute_scale_factor is not meaningful with an explicit size."),
        (lambda x: F.interpolate(x, size=3, mode="bilinear"), NotImplementedError,
         "Got 3D input, but bilinear mode needs 4D input"),
        (lambda x: F.interpolate(x, size=3, mode="linear", antialias=True), ValueError,
         "Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a 4-D tensor as input"),
        (lambda x: F.interpolate(x, size=3, mode="foo"), NotImplementedError,
         ("Input Error: Only 3D, 4D and 5D input Tensors supported (got 3D) for the modes: nearest | linear | bilinear | "
         "bicubic | trilinear | lanczos | area | nearest-exact (got foo)")),
        (lambda x: F.interpolate(x, scale_factor=0.1), RuntimeError,
         "Input and output sizes should be greater than 0, but got input (W: 6) output (W: 0)"),
        (lambda x: F.interpolate(x.long(), size=3, mode="linear"), NotImplementedError,
         "\"compute_indices_weights_linear\" not implemented for 'Long'"),
        (lambda x: F.unfold(x[:, :0], 2), RuntimeError,
         ("Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero dimensions for input, "
         "but got: [1, 0, 6]")),
        (lambda x: F.unfold(x.reshape(1, 2, 6, 1), 2), RuntimeError,
         ("Given input with spatial size (6, 1), kernel_size=(2, 2), dilation=(1, 1), padding=(0, 0), calculated "
         "shape of the array of sliding blocks as (5, 0), but its components must be at least one.")),
        (lambda x: F.unfold(x.reshape(1, 1, 3, 4), 2, stride=0), RuntimeError,
         "stride should be greater than zero, but got stride_height: 0 stride_width: 0"),
        (lambda x: F.fold(x.reshape(1, 6, 2), (3, 3), 2), RuntimeError,
         ("Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got input.size(1)=6 "
         "and kernel_size=(2, 2).")),
        (lambda x: F.fold(x.reshape(1, 4, 3), (3, 3), 2), RuntimeError,
         ("Given output_size=(3, 3), kernel_size=(2, 2), dilation=(1, 1), padding=(0, 0), stride=(1, 1), expected size "
         "of input's dimension 2 to match the calculated number of sliding blocks 2 * 2 = 4, but got input.size(2)=3.")),
        (lambda x: F.fold(x.reshape(1, 1, 4, 3), (3, 3), 2), RuntimeError,
         ("Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero dimensions for input, "
         "but got: [1, 1, 4, 3]")),
        (lambda x: F.pixel_shuffle(x[0], 2), RuntimeError,
         "pixel_shuffle expects input to have at least 3 dimensions, but got input with 2 dimension(s)"),
        (lambda x: F.pixel_shuffle(x, 2), RuntimeError,
         ("pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of upscale_factor, but "
         "input.size(-3)=1 is not divisible by 4")),
        (lambda x: F.pixel_shuffle(x, 0), RuntimeError, "pixel_shuffle expects a positive upscale_factor, but got 0"),
        (lambda x: F.pixel_unshuffle(x, 4), RuntimeError,
         "pixel_unshuffle expects height to be divisible by downscale_factor, but input.size(-2)=2 is not divisible by 4"),
    ],
)
def test_errors(fn, exc, msg):
    x = ember.arange(12.0).reshape(1, 2, 6)
    with pytest.raises(exc) as info:
        fn(x)
    assert str(info.value) == msg


def test_circular_pad_module_checks_dim():
    with pytest.raises(ValueError, match=r"expected 3D or 4D input \(got 2D input\)"):
        nn.CircularPad2d(1)(ember.zeros(3, 3))


# -- modules ---------------------------------------------------------------------------------------
def test_module_reprs():
    seq = nn.Sequential(
        nn.ZeroPad2d(1), nn.ConstantPad1d((1, 2), 3.5), nn.ReflectionPad2d((1, 0, 2, 1)), nn.CircularPad3d(1),
        nn.ReplicationPad1d(2), nn.Upsample(scale_factor=2), nn.Upsample(size=(4, 5), mode="bilinear"),
        nn.UpsamplingBilinear2d(size=(3, 4)), nn.UpsamplingNearest2d(scale_factor=(2, 3)), nn.Fold((4, 5), 2),
        nn.Unfold(3, padding=1), nn.PixelShuffle(2), nn.PixelUnshuffle(3),
    )
    assert repr(seq) == """Sequential(
  (0): ZeroPad2d((1, 1, 1, 1))
  (1): ConstantPad1d(padding=(1, 2), value=3.5)
  (2): ReflectionPad2d((1, 0, 2, 1))
  (3): CircularPad3d((1, 1, 1, 1, 1, 1))
  (4): ReplicationPad1d((2, 2))
  (5): Upsample(scale_factor=2.0, mode='nearest')
  (6): Upsample(size=(4, 5), mode='bilinear')
  (7): UpsamplingBilinear2d(size=(3, 4), mode='bilinear')
  (8): UpsamplingNearest2d(scale_factor=(2.0, 3.0), mode='nearest')
  (9): Fold(output_size=(4, 5), kernel_size=2, dilation=1, padding=0, stride=1)
  (10): Unfold(kernel_size=3, dilation=1, padding=1, stride=1)
  (11): PixelShuffle(upscale_factor=2)
  (12): PixelUnshuffle(downscale_factor=3)
)"""


def test_modules_call_functional(rng):
    x = ember.tensor(rng.standard_normal((2, 4, 6, 6)).astype(np.float32))
    pairs = [
        (nn.ZeroPad2d((1, 2, 0, 1)), lambda t: F.pad(t, (1, 2, 0, 1))),
        (nn.ConstantPad3d(1, -2.0), lambda t: F.pad(t, (1,) * 6, value=-2.0)),
        (nn.ReflectionPad1d(2), lambda t: F.pad(t.reshape(8, 6, 6), (2, 2), mode="reflect")),
        (nn.ReplicationPad2d(1), lambda t: F.pad(t, (1, 1, 1, 1), mode="replicate")),
        (nn.CircularPad2d((1, 0, 2, 1)), lambda t: F.pad(t, (1, 0, 2, 1), mode="circular")),
        (nn.Upsample(scale_factor=1.5, mode="bilinear"), lambda t: F.interpolate(t, scale_factor=1.5, mode="bilinear",
                                                                                 align_corners=False)),
        (nn.UpsamplingBilinear2d(scale_factor=2), lambda t: F.interpolate(t, scale_factor=2, mode="bilinear",
                                                                         align_corners=True)),
        (nn.UpsamplingNearest2d(size=9), lambda t: F.interpolate(t, size=9)),
        (nn.Unfold(2, stride=2), lambda t: F.unfold(t, 2, stride=2)),
        (nn.PixelShuffle(2), lambda t: F.pixel_shuffle(t, 2)),
        (nn.PixelUnshuffle(3), lambda t: F.pixel_unshuffle(t, 3)),
    ]
    for module, fn in pairs:
        inp = x.reshape(8, 6, 6) if isinstance(module, nn.ReflectionPad1d) else x
        np.testing.assert_array_equal(module(inp).numpy(), fn(x).numpy())
    cols = F.unfold(x, 3)
    np.testing.assert_array_equal(nn.Fold((6, 6), 3)(cols).numpy(), F.fold(cols, (6, 6), 3).numpy())


def test_pad_keeps_dtype_and_does_not_alias():
    x = ember.arange(6).reshape(2, 3)
    y = F.pad(x, (0, 0))
    assert y.dtype == ember.int64 and y.tolist() == x.tolist()
    y[0, 0] = 100
    assert x[0, 0].item() == 0
    assert F.pad(ember.ones(2, 2, dtype=ember.bool), (1, 0)).tolist() == [[False, True, True], [False, True, True]]


# -- parity (needs torch) --------------------------------------------------------------------------
@pytest.mark.parity
def test_parity_random_configs():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    rng = np.random.default_rng(1)
    for nd, lin in ((3, "linear"), (4, "bilinear"), (5, "trilinear")):
        xn = rng.standard_normal((2, 2) + (5, 7, 4)[: nd - 2]).astype(np.float32)
        for mode in ("nearest", "nearest-exact", "area", lin) + (("bicubic",) if nd == 4 else ()):
            for ac in ([None] if mode in ("nearest", "nearest-exact", "area") else [False, True]):
                for kw in ({"scale_factor": 2.0001}, {"scale_factor": 0.999}, {"scale_factor": 2.3},
                           {"size": (9, 3, 5)[: nd - 2]}, {"scale_factor": 1.3, "recompute_scale_factor": True}):
                    a = F.interpolate(ember.tensor(xn), mode=mode, align_corners=ac, **kw).numpy()
                    b = tf.interpolate(torch.tensor(xn), mode=mode, align_corners=ac, **kw).numpy()
                    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5, err_msg=f"{nd} {mode} {ac} {kw}")
    xn = rng.standard_normal((2, 3, 6, 5, 4)).astype(np.float32)
    for mode in ("constant", "reflect", "replicate", "circular"):
        for p in ((1, 3, 2, 0, 3, 1), (-1, 2, 3, -2, 0, 1)):
            a = F.pad(ember.tensor(xn), p, mode=mode).numpy()
            b = tf.pad(torch.tensor(xn), p, mode=mode).numpy()
            np.testing.assert_array_equal(a, b, err_msg=f"{mode} {p}")


def test_deprecated_upsample_aliases_warn():
    x = ember.arange(4.0).reshape(1, 1, 2, 2)
    with pytest.warns(UserWarning, match="`nn.functional.upsample` is deprecated"):
        assert F.upsample(x, scale_factor=2).tolist() == F.interpolate(x, scale_factor=2).tolist()
    with pytest.warns(UserWarning, match="upsample_nearest` is deprecated"):
        assert F.upsample_nearest(x, size=3).tolist() == F.interpolate(x, size=3).tolist()
    want = F.interpolate(x, size=3, mode="bilinear", align_corners=True).tolist()
    assert want[0][0][1] == [1.0, 1.5, 2.0]
    with pytest.warns(UserWarning, match="upsample_bilinear` is deprecated"):
        got = F.upsample_bilinear(x, size=3).tolist()
    assert got == want


@pytest.mark.parametrize(
    "shape, pad",
    [([2, 0], (-1, 1)), ([3, 0, 2], (0, 0, -1, 2, 1, 0)), ([3, 1, 0], (-1, 2, 0, 1)), ([0, 1], (1, -1, -1, 1))],
)
def test_constant_pad_crops_each_side_in_turn(shape, pad):
    # PyTorch narrows by each negative amount before padding: a 0-size dim can't lose one element even when
    # the other side would add one back
    with pytest.raises(RuntimeError, match=r"^narrow\(\): length must be non-negative\.$"):
        F.pad(ember.zeros(shape, dtype=ember.float64), pad)


def test_constant_pad_value_must_fit_the_dtype():
    x = ember.tensor([[0, 1], [1, 2]], dtype=ember.uint8)
    with pytest.raises(RuntimeError, match="value cannot be converted to type uint8_t without overflow"):
        F.pad(x, (2, 1, 0, 1), value=-0.75)
    with pytest.raises(RuntimeError, match="value cannot be converted to type uint8_t without overflow"):
        F.pad(x, (1, 0), value=-1)  # a float in PyTorch's signature: no two's-complement wrap
    assert F.pad(x, (-1, 0), value=-0.75).tolist() == [[1], [2]]  # nothing filled: no check, as in PyTorch
    assert F.pad(x, (1, 0), value=1.5).tolist() == [[1, 0, 1], [1, 1, 2]]


@pytest.mark.parametrize("shape, kw, out", [
    ((1, 1, 4, 1), {"scale_factor": 0.5}, (1, 1, 2, 0)),
    ((2, 1, 1), {"scale_factor": 0.5}, (2, 1, 0)),
    ((1, 2, 1, 3, 2), {"size": (1, 0, 1)}, (1, 2, 1, 0, 1)),
])
def test_area_allows_an_empty_output(shape, kw, out):
    # mode='area' is adaptive average pooling in PyTorch, which returns an empty result
    x = ember.tensor(np.arange(np.prod(shape), dtype=np.float64).reshape(shape), requires_grad=True)
    y = F.interpolate(x, mode="area", **kw)
    assert tuple(y.shape) == out and y.dtype == x.dtype and y.requires_grad
    # (PyTorch's adaptive_avg_pool backward refuses the empty gradient; nothing flows back here)
    y.sum().backward()
    assert tuple(x.grad.shape) == shape and np.all(x.grad.numpy() == 0)


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "linear"])
def test_other_modes_refuse_an_empty_output(mode):
    with pytest.raises(RuntimeError, match="Input and output sizes should be greater than 0"):
        F.interpolate(ember.ones(1, 1, 1), scale_factor=0.5, mode=mode)
