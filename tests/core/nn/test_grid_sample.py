"""grid_sample / grid_sampler / affine_grid (ember/ops/grid_sample.py): values and gradients (input, grid,
theta) against references recorded once from torch (fixtures/grid_sample_ref.npz, see
record_grid_sample.py), float64 gradchecks for every mode, padding and align_corners, PyTorch's errors and
warnings, and a small spatial-transformer fit."""

from __future__ import annotations

import ast
import pathlib
import warnings

import ember
import numpy as np
import pytest
from ember import nn
from ember.autograd import gradcheck, gradgradcheck
from ember.nn import functional as F

REF = np.load(pathlib.Path(__file__).parent / "fixtures" / "grid_sample_ref.npz")
GRID_CASES = sorted({k.split("/")[0] for k in REF.files if k.startswith("gs")})
AFFINE_CASES = sorted({k.split("/")[0] for k in REF.files if k.startswith("ag")})


def det_array(shape, seed, dtype=np.float32):
    """Same as record_grid_sample.det_array."""
    n = int(np.prod(shape))
    return np.sin(np.arange(n) * 1.7 + seed * 0.37 + 0.3).reshape(shape).astype(dtype)


def det_grid(shape, dtype=np.float32):
    """Same as record_grid_sample.det_grid."""
    g = 1.3 * np.sin(np.arange(int(np.prod(shape))) * 2.3 + 0.1)
    g[::7] = np.round(g[::7])
    return g.reshape(shape).astype(dtype)


def _shape(name, key):
    return tuple(int(s) for s in REF[f"{name}/{key}"])


@pytest.mark.parametrize("name", GRID_CASES)
def test_grid_sample_matches_recorded_torch(name, device):
    kw = ast.literal_eval(str(REF[f"{name}/kw"]))
    x = ember.tensor(det_array(_shape(name, "in_shape"), 0), device=device, requires_grad=True)
    g = ember.tensor(det_grid(_shape(name, "grid_shape")), device=device, requires_grad=True)
    y = F.grid_sample(x, g, **kw)
    want = REF[f"{name}/out"]
    assert tuple(y.shape) == want.shape and y.dtype == ember.float32
    np.testing.assert_allclose(y.detach().cpu().numpy(), want, rtol=1e-5, atol=1e-5)
    y.backward(ember.tensor(det_array(want.shape, 1), device=device))
    np.testing.assert_allclose(x.grad.cpu().numpy(), REF[f"{name}/grad_input"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(g.grad.cpu().numpy(), REF[f"{name}/grad_grid"], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", AFFINE_CASES)
def test_affine_grid_matches_recorded_torch(name, device):
    size = list(_shape(name, "size"))
    ac = bool(REF[f"{name}/align_corners"])
    nd = len(size) - 2
    theta = ember.tensor(det_array((size[0], nd, nd + 1), 2), device=device, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the unit-size warning of align_corners=True (tested below)
        y = F.affine_grid(theta, size, align_corners=ac)
    want = REF[f"{name}/out"]
    assert tuple(y.shape) == want.shape and y.dtype == ember.float32
    np.testing.assert_allclose(y.detach().cpu().numpy(), want, rtol=1e-5, atol=1e-6)
    y.backward(ember.tensor(det_array(want.shape, 1), device=device))
    np.testing.assert_allclose(theta.grad.cpu().numpy(), REF[f"{name}/grad_theta"], rtol=1e-5, atol=1e-5)


# -- gradients -------------------------------------------------------------------------------------
MODES = [(2, m) for m in ("bilinear", "nearest", "bicubic")] + [(3, m) for m in ("bilinear", "nearest")]


@pytest.mark.parametrize("nd,mode", MODES)
@pytest.mark.parametrize("padding", ["zeros", "border", "reflection"])
def test_grid_sample_gradcheck_input_and_grid(nd, mode, padding):
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.standard_normal((2, 2) + (3, 4, 3)[:nd]), requires_grad=True)
    # away from whole-pixel positions and borders, where the gradient is one-sided
    g = ember.tensor(rng.uniform(-1.4, 1.4, (2,) + (2, 3, 2)[:nd] + (nd,)), requires_grad=True)
    for ac in (False, True):
        assert gradcheck(lambda a, b, ac=ac: F.grid_sample(a, b, mode=mode, padding_mode=padding, align_corners=ac), (x, g))


def test_grid_sample_is_once_differentiable_as_in_pytorch():
    x = ember.randn(1, 1, 3, 3, dtype=ember.float64, requires_grad=True)
    g = (ember.rand(1, 2, 2, 2, dtype=ember.float64) * 2 - 1).requires_grad_()
    (gx,) = ember.autograd.grad(F.grid_sample(x, g, align_corners=False).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError):
        gx.sum().backward()


def test_affine_grid_gradcheck_and_gradgradcheck():
    rng = np.random.default_rng(1)
    for size, shape in (((2, 1, 3, 4), (2, 2, 3)), ((1, 2, 2, 3, 2), (1, 3, 4))):
        theta = ember.tensor(rng.standard_normal(shape), requires_grad=True)
        for ac in (False, True):
            assert gradcheck(lambda t, ac=ac, size=size: F.affine_grid(t, size, align_corners=ac), (theta,))
            assert gradgradcheck(lambda t, ac=ac, size=size: F.affine_grid(t, size, align_corners=ac), (theta,))


def test_affine_grid_then_grid_sample_gradcheck_in_theta():
    rng = np.random.default_rng(2)
    x = ember.tensor(rng.standard_normal((2, 2, 4, 5)))
    theta = ember.tensor(rng.standard_normal((2, 2, 3)) * 0.5, requires_grad=True)
    assert gradcheck(lambda t: F.grid_sample(x, F.affine_grid(t, (2, 2, 3, 3), align_corners=False), align_corners=False), (theta,))


# -- known values ------------------------------------------------------------------------------------
def test_identity_theta_reproduces_the_input(device):
    x = ember.arange(2 * 3 * 4 * 5, dtype=ember.float32, device=device).reshape(2, 3, 4, 5)
    eye = ember.tensor([[1.0, 0, 0], [0, 1.0, 0]], device=device).expand(2, 2, 3)
    for ac in (False, True):
        for mode in ("bilinear", "nearest", "bicubic"):
            y = F.grid_sample(x, F.affine_grid(eye, (2, 3, 4, 5), align_corners=ac), mode=mode, align_corners=ac)
            np.testing.assert_allclose(y.cpu().numpy(), x.cpu().numpy(), atol=1e-4)


def test_half_pixel_between_two_pixels(device):
    x = ember.tensor([[[[0.0, 10.0]]]], device=device)
    g = ember.tensor([[[[0.0, 0.0], [-1.0, 0.0], [1.0, 0.0], [2.0, 0.0]]]], device=device)  # centre, edges, outside
    # values recorded from torch 2.13
    assert F.grid_sample(x, g, align_corners=True).flatten().tolist() == [5.0, 0.0, 10.0, 5.0]
    assert F.grid_sample(x, g, align_corners=False).flatten().tolist() == [5.0, 0.0, 5.0, 0.0]
    assert F.grid_sample(x, g, padding_mode="border", align_corners=False).flatten().tolist() == [5.0, 0.0, 10.0, 10.0]
    assert F.grid_sample(x, g, padding_mode="reflection", align_corners=True).flatten().tolist() == [5.0, 0.0, 10.0, 5.0]


def test_empty_batch_channels_and_outputs(device):
    for x, g in ((ember.zeros(0, 2, 3, 3), ember.zeros(0, 2, 2, 2)), (ember.zeros(2, 0, 3, 3), ember.zeros(2, 2, 2, 2)),
                 (ember.zeros(2, 1, 3, 3, 3), ember.zeros(2, 0, 2, 2, 3))):
        x, g = x.to(device).requires_grad_(), g.to(device).requires_grad_()
        y = F.grid_sample(x, g, align_corners=False)
        assert tuple(y.shape) == tuple(x.shape[:2]) + tuple(g.shape[1:-1])
        y.sum().backward()
        assert tuple(x.grad.shape) == tuple(x.shape) and tuple(g.grad.shape) == tuple(g.shape)
        assert not g.grad.cpu().numpy().any()


def test_shapes_on_the_meta_device():
    theta = ember.randn(2, 2, 3, device="meta")
    grid = F.affine_grid(theta, (2, 3, 6, 7), align_corners=False)
    y = F.grid_sample(ember.randn(2, 3, 4, 5, device="meta"), grid, align_corners=False)
    assert tuple(grid.shape) == (2, 6, 7, 2) and tuple(y.shape) == (2, 3, 6, 7) and y.device.type == "meta"


def test_bfloat16_and_float16_keep_their_dtype():
    for dt in (ember.float16, ember.bfloat16):
        x = ember.randn(1, 2, 3, 4).to(dt).requires_grad_()
        g = (ember.rand(1, 2, 2, 2) * 2 - 1).to(dt).requires_grad_()
        y = F.grid_sample(x, g, mode="bicubic", align_corners=False)
        y.sum().backward()
        assert y.dtype == x.grad.dtype == g.grad.dtype == dt


# -- errors and warnings -------------------------------------------------------------------------------
def test_align_corners_default_warns_as_pytorch():
    x, g = ember.randn(1, 1, 2, 2), ember.zeros(1, 1, 1, 2)
    with pytest.warns(UserWarning, match="Default grid_sample and affine_grid behavior has changed to align_corners=False"):
        F.grid_sample(x, g)
    with pytest.warns(UserWarning, match="Default grid_sample and affine_grid behavior has changed"):
        F.affine_grid(ember.zeros(1, 2, 3), (1, 1, 2, 2))
    with pytest.warns(UserWarning, match="affine_grid behavior has changed for unit-size grids when align_corners=True"):
        F.affine_grid(ember.zeros(1, 2, 3), (1, 1, 1, 2), align_corners=True)


@pytest.mark.parametrize("call,exc,msg", [
    (lambda x, g: F.grid_sample(x, g, mode="trilinear", align_corners=False), ValueError,
     "expected mode to be 'bilinear', 'nearest' or 'bicubic', but got: 'trilinear'"),
    (lambda x, g: F.grid_sample(x, g, padding_mode="foo", align_corners=False), ValueError,
     "expected padding_mode to be 'zeros', 'border', or 'reflection', but got: 'foo'"),
    (lambda x, g: F.grid_sample(x, g[:1], align_corners=False), RuntimeError,
     r"expected grid and input to have same batch size, but got input with sizes \[2, 3, 4, 5\] and grid with sizes \[1, 6, 7, 2\]"),
    (lambda x, g: F.grid_sample(x, g[..., :1], align_corners=False), RuntimeError,
     r"expected grid to have size 2 in last dimension, but got grid with sizes \[2, 6, 7, 1\]"),
    (lambda x, g: F.grid_sample(x[:, :, :0], g, align_corners=False), RuntimeError,
     r"expected input to have non-empty spatial dimensions, but input has sizes \[2, 3, 0, 5\] with dimension 2 being empty"),
    (lambda x, g: F.grid_sample(x[:, :, None], ember.zeros(2, 1, 6, 7, 3), mode="bicubic", align_corners=False),
     RuntimeError, "bicubic interpolation only supports 4D input"),
    (lambda x, g: F.grid_sample(x[:, :, None], ember.zeros(2, 6, 7, 3), align_corners=False), RuntimeError,
     "expected 5D input and grid with same number of dimensions"),
    (lambda x, g: F.grid_sample(x, g.double(), align_corners=False), RuntimeError, "expected scalar type Float but found Double"),
    (lambda x, g: F.grid_sample(x.long(), g, align_corners=False), NotImplementedError,
     "\"grid_sampler_2d_cpu_kernel_impl\" not implemented for 'Long'"),
    (lambda x, g: F.grid_sample(ember.tensor(1.0), ember.tensor(1.0), align_corners=False), IndexError,
     "Dimension specified as 0 but tensor has no dimensions"),
    (lambda x, g: F.grid_sample(x, g, align_corners=1), TypeError, "argument 'align_corners' \\(position 5\\) must be bool, not int"),
    (lambda x, g: ember.grid_sampler_3d(x, g, 0, 0, False), RuntimeError, "expected 5D input and grid with same number of dimensions"),
])
def test_grid_sample_errors(call, exc, msg):
    x, g = ember.randn(2, 3, 4, 5), ember.zeros(2, 6, 7, 2)
    with pytest.raises(exc, match=msg):
        call(x, g)


@pytest.mark.parametrize("theta,size,exc,msg", [
    (ember.zeros(2, 2, 3, dtype=ember.int32), (2, 3, 3, 4), ValueError, "Expected theta to have floating point type"),
    (ember.zeros(2, 2, 3), (2, 3, 3, 4, 5), ValueError, r"Expected a batch of 3D affine matrices of shape Nx3x4 for size \(2, 3, 3, 4, 5\)"),
    (ember.zeros(2, 3), (2, 3, 3, 4), ValueError, "Expected a batch of 2D affine matrices of shape Nx2x3"),
    (ember.zeros(2, 2, 3), (2, 3, 3), NotImplementedError, "affine_grid only supports 4D and 5D sizes"),
    (ember.zeros(2, 2, 3), (2, 3, 0, 5), ValueError, r"Expected non-zero, positive output size. Got \(2, 3, 0, 5\)"),
    (ember.zeros(2, 2, 3), (3, 3, 4, 5), RuntimeError, r"batch2 tensor to be: \[3, 3\] but got: \[2, 3\]"),
])
def test_affine_grid_errors(theta, size, exc, msg):
    with pytest.raises(exc, match=msg):
        F.affine_grid(theta, size, align_corners=False)


# -- a spatial transformer learns a shift ---------------------------------------------------------------
def test_spatial_transformer_learns_a_translation():
    ember.manual_seed(0)
    yy, xx = np.meshgrid(np.linspace(-1, 1, 12), np.linspace(-1, 1, 12), indexing="ij")
    blob = np.exp(-((xx - 0.3) ** 2 + (yy + 0.2) ** 2) / 0.1).astype(np.float32)[None, None]
    target = np.exp(-(xx**2 + yy**2) / 0.1).astype(np.float32)[None, None]
    theta = nn.Parameter(ember.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]]))
    opt = ember.optim.Adam([theta], lr=0.05)
    x, t = ember.tensor(blob), ember.tensor(target)
    losses = []
    for _ in range(60):
        opt.zero_grad()
        y = F.grid_sample(x, F.affine_grid(theta, (1, 1, 12, 12), align_corners=False), align_corners=False)
        loss = F.mse_loss(y, t)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.1 * losses[0]
    np.testing.assert_allclose(theta.detach().numpy()[0, :, 2], [0.3, -0.2], atol=0.05)


def test_autocast_runs_grid_sampler_in_float32_on_the_cpu():
    # PyTorch's CPU autocast lists grid_sampler as fp32 (CUDA: promote); affine_grid's bmm runs in the lower dtype
    x, g = ember.randn(1, 1, 3, 3).bfloat16(), ember.rand(1, 2, 2, 2)
    with ember.autocast("cpu", dtype=ember.bfloat16):
        assert F.grid_sample(x, g, align_corners=False).dtype == ember.float32
        assert F.grid_sample(x.float(), g.bfloat16(), align_corners=False).dtype == ember.float32
        assert F.affine_grid(ember.randn(1, 2, 3), (1, 1, 2, 2), align_corners=False).dtype == ember.bfloat16
