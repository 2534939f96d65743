"""Normalization layers and functions: values and gradients against PyTorch (recorded once in
fixtures/normalization_ref.npz), running statistics, eval mode, float64 gradchecks, errors, reprs."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import nn
from ember.autograd import gradcheck

REF = np.load(pathlib.Path(__file__).parent / "fixtures" / "normalization_ref.npz")


def _t(key, device="cpu", requires_grad=False):
    t = ember.from_numpy(REF[key].copy()).to(device)
    return t.requires_grad_() if requires_grad else t


def _close(t, expected, rtol=1e-5, atol=1e-5):
    np.testing.assert_allclose(t.detach().cpu().numpy(), expected, rtol=rtol, atol=atol)


# -- values and gradients against recorded PyTorch results ------------------------------------------
CASES = {
    "bn_train": (lambda x, w, b: F.batch_norm(x, None, None, w, b, True), ("w6", "b6")),
    "in": (lambda x, w, b: F.instance_norm(x, None, None, w, b), ("w6", "b6")),
    "gn": (lambda x, w, b: F.group_norm(x, 3, w, b), ("w6", "b6")),
    "ln": (lambda x, w, b: F.layer_norm(x, (5, 3), w, b), ("wl", "bl")),
    "rms": (lambda x, w: F.rms_norm(x, (5, 3), w), ("wl",)),
    "lrn3": (lambda x: F.local_response_norm(x, 3, alpha=0.1, beta=0.6, k=2.0), ()),
}


@pytest.mark.parametrize("name", list(CASES))
def test_forward_and_backward_match_torch(name, device):
    fn, pnames = CASES[name]
    x = _t("x", device, True)
    params = [_t(p, device, True) for p in pnames]
    y = fn(x, *params)
    assert y.dtype == ember.float32 and tuple(y.shape) == (4, 6, 5, 3)
    _close(y, REF[name + "/y"])
    y.backward(_t("g", device))
    _close(x.grad, REF[name + "/dx"], atol=1e-4)
    for p, letter in zip(params, "wb"):
        assert p.grad.shape == p.shape
        _close(p.grad, REF[f"{name}/d{letter}"], rtol=1e-4, atol=1e-4)


def test_local_response_norm_3d_input():
    _close(F.local_response_norm(_t("x").reshape(4, 6, 15), 4), REF["lrn4/y"])


def test_half_inputs_compute_in_float32():
    x = _t("x").half()
    y = F.batch_norm(x, None, None, None, None, True)
    assert y.dtype == ember.float16
    _close(y.float(), REF["half/bn"].astype(np.float32), rtol=2e-3, atol=2e-3)
    _close(F.layer_norm(x, (5, 3)).float(), REF["half/ln"].astype(np.float32), rtol=2e-3, atol=2e-3)


def _np_norm(x, axes, w, b, g, eps=1e-5):
    """float64 NumPy reference: y and dx of (x - mean) / sqrt(var + eps) * w + b, stats over ``axes``."""
    mean = x.mean(axis=axes, keepdims=True)
    xhat = (x - mean) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    gx = g * w
    n = np.prod([x.shape[a] for a in axes])
    dx = (n * gx - gx.sum(axis=axes, keepdims=True) - xhat * (gx * xhat).sum(axis=axes, keepdims=True))
    return xhat * w + b, dx / (n * np.sqrt(x.var(axis=axes, keepdims=True) + eps))


@pytest.mark.parametrize("shape", [(3, 5, 100, 100), (2, 3, 70000)])
def test_large_inputs_processed_in_cache_blocks(shape, rng):
    x = rng.standard_normal(shape) * 2 + 1
    g = rng.standard_normal(shape)
    c = shape[1]
    wb = rng.standard_normal((2, c))
    bshape = (1, c) + (1,) * (len(shape) - 2)
    axes = (0,) + tuple(range(2, len(shape)))
    xe = ember.from_numpy(x.astype(np.float32)).requires_grad_()
    y = F.batch_norm(xe, None, None, ember.from_numpy(wb[0].astype(np.float32)), ember.from_numpy(wb[1].astype(np.float32)), True)
    y.backward(ember.from_numpy(g.astype(np.float32)))
    y_ref, dx_ref = _np_norm(x, axes, wb[0].reshape(bshape), wb[1].reshape(bshape), g)
    np.testing.assert_allclose(y.detach().numpy(), y_ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(xe.grad.numpy(), dx_ref, rtol=1e-3, atol=1e-4)
    # layer norm over the last dim and instance norm (per-sample coefficients) on the same data
    xe.grad = None
    y = F.layer_norm(xe, shape[-1:])
    y.backward(ember.from_numpy(g.astype(np.float32)))
    y_ref, dx_ref = _np_norm(x, (len(shape) - 1,), 1.0, 0.0, g)
    np.testing.assert_allclose(y.detach().numpy(), y_ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(xe.grad.numpy(), dx_ref, rtol=1e-3, atol=1e-4)
    y_ref, _ = _np_norm(x, tuple(range(2, len(shape))), wb[0].reshape(bshape), 0.0, g)
    np.testing.assert_allclose(F.instance_norm(xe.detach(), weight=ember.from_numpy(wb[0].astype(np.float32))).numpy(),
                               y_ref, rtol=1e-4, atol=1e-4)


# -- running statistics ----------------------------------------------------------------------------
def _trained(module, device="cpu"):
    module = module.to(device)
    with ember.no_grad():
        module.weight.copy_(_t("w6", device))
        module.bias.copy_(_t("b6", device))
    for i in range(3):
        module(_t(f"x{i}", device))
    return module


@pytest.mark.parametrize("name,make", [
    ("bn", lambda: nn.BatchNorm2d(6)),
    ("bn_cma", lambda: nn.BatchNorm2d(6, momentum=None)),
    ("in_track", lambda: nn.InstanceNorm2d(6, affine=True, track_running_stats=True)),
])
def test_running_stats_after_three_steps_and_eval(name, make, device):
    m = _trained(make(), device)
    count = 0 if name.startswith("in") else 3  # as in PyTorch, instance norm does not count batches
    assert int(m.num_batches_tracked) == count and m.num_batches_tracked.dtype == ember.int64
    _close(m.running_mean, REF[name + "/running_mean"])
    _close(m.running_var, REF[name + "/running_var"])
    m.eval()
    _close(m(_t("x", device)), REF[name + "/eval_y"], atol=1e-4)
    before = m.running_mean.detach().cpu().numpy().copy()
    m(_t("x0", device))
    np.testing.assert_array_equal(m.running_mean.detach().cpu().numpy(), before)  # eval leaves them alone
    assert int(m.num_batches_tracked) == count


def test_running_stats_by_hand_unbiased_variance():
    rm, rv = ember.zeros(2), ember.ones(2)
    x = ember.tensor([[1.0, 2.0], [3.0, 6.0]])
    F.batch_norm(x, rm, rv, training=True, momentum=0.5)
    np.testing.assert_allclose(rm.numpy(), [1.0, 2.0])  # 0.5 * [2, 4]
    np.testing.assert_allclose(rv.numpy(), [1.5, 4.5])  # 0.5 * 1 + 0.5 * unbiased var [2, 8]


def test_momentum_none_is_cumulative_average():
    m = nn.BatchNorm1d(2, momentum=None)
    xs = [ember.tensor([[0.0, 1.0], [2.0, 5.0]]), ember.tensor([[4.0, 0.0], [6.0, 2.0]])]
    for x in xs:
        m(x)
    np.testing.assert_allclose(m.running_mean.numpy(), [3.0, 2.0])  # mean of the batch means [1, 3] and [5, 1]
    np.testing.assert_allclose(m.running_var.numpy(), [2.0, 5.0])  # mean of the unbiased vars [2, 8] and [2, 2]


def test_no_tracking_uses_batch_stats_in_eval():
    m = nn.BatchNorm2d(6, track_running_stats=False).eval()
    assert m.running_mean is None and list(m.state_dict()) == ["weight", "bias"]
    x = _t("x")
    _close(m(x), F.batch_norm(x, None, None, m.weight, m.bias, True).detach().numpy())


def test_eval_mode_normalizes_with_running_stats():
    m = nn.BatchNorm1d(3).eval()
    with ember.no_grad():
        m.running_mean.copy_(ember.tensor([1.0, 2.0, 3.0]))
        m.running_var.copy_(ember.tensor([4.0, 1.0, 0.25]))
        m.weight.copy_(ember.tensor([2.0, 1.0, 1.0]))
        m.bias.copy_(ember.tensor([0.0, 1.0, -1.0]))
    y = m(ember.tensor([[3.0, 2.0, 3.5]]))  # batch of one is fine in eval
    np.testing.assert_allclose(y.detach().numpy(), [[2.0, 1.0, 0.0]], atol=1e-4)


def test_batchnorm1d_3d_and_instance_norm_unbatched():
    x = ember.randn(4, 3, 7)
    y = nn.BatchNorm1d(3)(x)
    np.testing.assert_allclose(y.detach().numpy().mean(axis=(0, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(y.detach().numpy().var(axis=(0, 2)), 1, atol=1e-3)
    inorm = nn.InstanceNorm1d(3)
    np.testing.assert_allclose(inorm(x[0]).numpy(), inorm(x[:1])[0].numpy(), atol=1e-6)


def test_empty_batch():
    m = nn.BatchNorm2d(3)
    x = ember.randn(0, 3, 4, 4, requires_grad=True)
    y = m(x)
    assert tuple(y.shape) == (0, 3, 4, 4)
    np.testing.assert_array_equal(m.running_mean.numpy(), [0, 0, 0])
    y.sum().backward()
    assert tuple(x.grad.shape) == (0, 3, 4, 4) and m.weight.grad.tolist() == [0, 0, 0]
    assert tuple(F.layer_norm(ember.randn(0, 4), (4,)).shape) == (0, 4)


def test_layer_norm_variants_by_hand():
    x = ember.tensor([[1.0, 2.0, 3.0, 6.0]])
    mean, var = 3.0, np.var([1.0, 2.0, 3.0, 6.0])
    expected = (np.array([1.0, 2.0, 3.0, 6.0]) - mean) / np.sqrt(var + 1e-5)
    np.testing.assert_allclose(nn.LayerNorm(4)(x).detach().numpy()[0], expected, rtol=1e-5)
    np.testing.assert_allclose(F.layer_norm(x, [4]).numpy()[0], expected, rtol=1e-5)
    m = nn.LayerNorm(4, elementwise_affine=False)
    assert m.weight is None and m.bias is None and list(m.state_dict()) == []
    rms = nn.RMSNorm(4)(x).detach().numpy()[0]
    np.testing.assert_allclose(rms, np.array([1.0, 2.0, 3.0, 6.0]) / np.sqrt(12.5 + np.finfo(np.float32).eps), rtol=1e-6)


# -- float64 gradient checks -------------------------------------------------------------------------
def _r(*shape):
    return ember.randn(*shape, dtype=ember.float64, requires_grad=True)


def test_gradcheck_batch_norm():
    x, w, b = _r(4, 3, 5), _r(3), _r(3)
    rm, rv = ember.zeros(3, dtype=ember.float64), ember.rand(3, dtype=ember.float64) + 0.5
    assert gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, True), (x, w, b))
    assert gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, False), (x, w, b))
    assert gradcheck(lambda x: F.batch_norm(x, None, None, training=True), (_r(5, 2),))


def test_gradcheck_instance_and_group_norm():
    x, w, b = _r(2, 6, 4), _r(6), _r(6)
    rm, rv = ember.zeros(6, dtype=ember.float64), ember.rand(6, dtype=ember.float64) + 0.5
    assert gradcheck(lambda x, w, b: F.instance_norm(x, None, None, w, b), (x, w, b))
    assert gradcheck(lambda x, w, b: F.instance_norm(x, rm, rv, w, b, use_input_stats=False), (x, w, b))
    assert gradcheck(lambda x, w, b: F.group_norm(x, 2, w, b), (x, w, b))
    assert gradcheck(lambda x: F.group_norm(x, 3), (x,))


def test_gradcheck_layer_rms_and_lrn():
    x, w, b = _r(2, 3, 4), _r(3, 4), _r(3, 4)
    assert gradcheck(lambda x, w, b: F.layer_norm(x, (3, 4), w, b), (x, w, b))
    assert gradcheck(lambda x, b: F.layer_norm(x, (3, 4), None, b), (x, b))
    assert gradcheck(lambda x: F.layer_norm(x, (4,)), (x,))
    assert gradcheck(lambda x, w: F.rms_norm(x, (4,), w[0]), (x, w))
    assert gradcheck(lambda x: F.rms_norm(x, (3, 4)), (x,))
    assert gradcheck(lambda x: F.local_response_norm(x, 2, alpha=0.5), (_r(2, 5, 3, 2),))


def test_modules_backprop_into_parameters():
    m = nn.GroupNorm(2, 4)
    x = ember.randn(3, 4, 5, requires_grad=True)
    (m(x) * ember.randn(3, 4, 5)).sum().backward()
    assert m.weight.grad.shape == (4,) and m.bias.grad.shape == (4,) and x.grad.shape == (3, 4, 5)


# -- errors ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("module,shape,msg", [
    (nn.BatchNorm1d(3), (2, 3, 4, 5), "expected 2D or 3D input (got 4D input)"),
    (nn.BatchNorm2d(3), (2, 3, 4), "expected 4D input (got 3D input)"),
    (nn.BatchNorm3d(3), (2, 3, 4, 5), "expected 5D input (got 4D input)"),
    (nn.InstanceNorm2d(3), (2, 3), "expected 3D or 4D input (got 2D input)"),
    (nn.InstanceNorm1d(3, affine=True), (2, 4, 5), "expected input's size at dim=1 to match num_features (3), but got: 4."),
])
def test_module_input_checks(module, shape, msg):
    with pytest.raises(ValueError, match=msg.replace("(", r"\(").replace(")", r"\)")):
        module(ember.randn(*shape))


def test_functional_errors():
    x = ember.randn(4, 3, 5)
    with pytest.raises(RuntimeError, match="running_mean should contain 3 elements not 4"):
        F.batch_norm(x, ember.zeros(4), ember.ones(3))
    with pytest.raises(RuntimeError, match="weight should contain 3 elements not 4"):
        F.batch_norm(x, ember.zeros(3), ember.ones(3), ember.ones(4))
    with pytest.raises(RuntimeError, match="running_mean must be defined in evaluation mode"):
        F.batch_norm(x, None, None)
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when training, got input size .*\[1, 3\]"):
        F.batch_norm(ember.randn(1, 3), None, None, training=True)
    with pytest.raises(ValueError, match="Expected more than 1 spatial element when training"):
        F.instance_norm(ember.randn(4, 3, 1))
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[4\], expected input with shape \[\*, 4\], but got input of size\[4, 3, 5\]"):
        F.layer_norm(x, (4,))
    with pytest.raises(RuntimeError, match=r"Expected weight to be of same shape as normalized_shape, but got weight of shape \[4\] and normalized_shape = \[5\]"):
        F.layer_norm(x, (5,), ember.ones(4))
    with pytest.raises(RuntimeError, match=r"divisible by num_groups, but got input of shape \[4, 3, 5\] and num_groups=2"):
        F.group_norm(x, 2)
    with pytest.raises(RuntimeError, match="Expected at least 2 dimensions for input tensor but received 1"):
        F.group_norm(ember.randn(4), 2)
    with pytest.raises(ValueError, match=r"num_channels \(4\) must be divisible by num_groups \(3\)"):
        nn.GroupNorm(3, 4)
    with pytest.raises(ValueError, match="Expected 3D or higher dimensionality"):
        F.local_response_norm(ember.randn(3, 4), 2)
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        F.layer_norm(ember.ones(2, 3, dtype=ember.int64), (3,))


# -- reprs and state dicts ---------------------------------------------------------------------------
def test_reprs_match_pytorch():
    assert repr(nn.BatchNorm2d(64)) == "BatchNorm2d(64, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)"
    assert repr(nn.BatchNorm1d(3, momentum=None)) == "BatchNorm1d(3, eps=1e-05, momentum=None, affine=True, bias=True, track_running_stats=True)"
    assert repr(nn.LayerNorm(10)) == "LayerNorm((10,), eps=1e-05, elementwise_affine=True, bias=True)"
    assert repr(nn.LayerNorm([4, 5], bias=False)) == "LayerNorm((4, 5), eps=1e-05, elementwise_affine=True, bias=False)"
    assert repr(nn.GroupNorm(2, 4)) == "GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)"
    assert repr(nn.InstanceNorm2d(3)) == "InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=False, bias=False, track_running_stats=False)"
    assert repr(nn.RMSNorm(4)) == "RMSNorm((4,), eps=None, elementwise_affine=True)"
    assert repr(nn.LocalResponseNorm(2)) == "LocalResponseNorm(2, alpha=0.0001, beta=0.75, k=1.0)"


def test_state_dict_keys_and_old_checkpoint_without_num_batches_tracked():
    m = nn.BatchNorm2d(4)
    assert list(m.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert list(nn.InstanceNorm1d(4).state_dict()) == []
    trained = _trained(nn.BatchNorm2d(6))
    state = {k: v for k, v in trained.state_dict().items() if k != "num_batches_tracked"}
    fresh = nn.BatchNorm2d(6)
    fresh.load_state_dict(state)
    _close(fresh.running_mean, REF["bn/running_mean"])
    assert int(fresh.num_batches_tracked) == 0


def test_param_and_buffer_init():
    m = nn.BatchNorm1d(3, affine=False)
    assert m.weight is None and m.bias is None
    np.testing.assert_array_equal(m.running_var.numpy(), [1, 1, 1])
    m = nn.LayerNorm((2, 3), dtype=ember.float64)
    assert m.weight.dtype == ember.float64 and tuple(m.weight.shape) == (2, 3)
    np.testing.assert_array_equal(m.weight.detach().numpy(), np.ones((2, 3)))


# -- optional parity against an installed PyTorch --------------------------------------------------
@pytest.mark.parity
def test_parity_random_shapes_with_torch():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    rng = np.random.default_rng(1)
    xn = rng.standard_normal((3, 4, 7)).astype(np.float32) * 3 + 2
    x2 = xn[:, :, 0].copy()
    wn = rng.standard_normal(4).astype(np.float32)
    cases = [
        (lambda f, x, w: f.batch_norm(x, None, None, w, w, True), xn),
        (lambda f, x, w: f.batch_norm(x, None, None, w, None, True), x2),
        (lambda f, x, w: f.group_norm(x, 2, w, w), xn),
        (lambda f, x, w: f.instance_norm(x, None, None, w, w), xn),
        (lambda f, x, w: f.layer_norm(x, (7,)), xn),
        (lambda f, x, w: f.rms_norm(x, (4, 7)), xn),
        (lambda f, x, w: f.local_response_norm(x, 5), xn),
    ]
    for fn, arr in cases:
        ye = fn(F, ember.from_numpy(arr), ember.from_numpy(wn))
        yt = fn(tf, torch.from_numpy(arr), torch.from_numpy(wn))
        np.testing.assert_allclose(ye.numpy(), yt.numpy(), rtol=1e-4, atol=1e-5)


# -- near-constant inputs: PyTorch's folded output cancels, so its exact statistics matter -------------
CANCEL = np.load(pathlib.Path(__file__).parent / "fixtures" / "norm_cancellation_ref.npz")


@pytest.mark.parametrize("name, fn", [
    ("in", lambda x, w, b: F.instance_norm(x)),
    ("in_affine", lambda x, w, b: F.instance_norm(x, weight=w, bias=b)),
    ("bn", lambda x, w, b: F.batch_norm(x, None, None, training=True)),
    ("bn_affine", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True)),
])
def test_near_constant_float32_matches_torch(name, fn):
    x, w, b = (ember.from_numpy(CANCEL[k].copy()) for k in ("x", "w", "b"))
    y = fn(x, w, b)
    # PyTorch's own output is only good to ~1e-3 here; ember reproduces its rounding
    np.testing.assert_allclose(y.numpy(), CANCEL[name], rtol=1e-5, atol=1e-5)


def test_near_constant_running_stats_match_torch():
    rm, rv = ember.zeros(4), ember.ones(4)
    F.batch_norm(ember.from_numpy(CANCEL["x"].copy()), rm, rv, training=True, momentum=0.5)
    np.testing.assert_allclose(rm.numpy(), CANCEL["bn_running_mean"], rtol=1e-6)
    np.testing.assert_allclose(rv.numpy(), CANCEL["bn_running_var"], rtol=1e-4)


def test_gradcheck_near_constant_input():
    rng = np.random.default_rng(1)
    x = ember.tensor(5.0 + rng.uniform(-1e-3, 1e-3, (2, 3, 4)), requires_grad=True)
    w = ember.tensor(rng.uniform(0.5, 2, 3), requires_grad=True)
    b = ember.tensor(rng.uniform(-1, 1, 3), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), (x, w, b), eps=1e-8, atol=1e-4)
    assert gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), (x, w, b), eps=1e-8, atol=1e-4)
