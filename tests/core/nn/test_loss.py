"""Loss functions and modules: values and gradients recorded once from torch (fixtures/loss_ref.npz),
float64 gradient checks for every loss (inputs and targets), ignore_index / weights / label smoothing
semantics, K-dim targets, PyTorch's errors and warnings, and the module wrappers (buffers, repr)."""

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

REF = np.load(pathlib.Path(__file__).parent / "fixtures" / "loss_ref.npz")
CASES = json.loads(str(REF["__cases__"]))


def _t(a, device="cpu", grad=False):
    return ember.tensor(np.asarray(a), device=device, requires_grad=grad)


def _d(*shape, rng=None):
    return (rng or np.random.default_rng(1)).standard_normal(shape)


# ---- values and gradients against torch (recorded) ----------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_matches_torch_values_and_gradients(case, device):
    name = case["name"]
    args = [_t(REF[f"{name}/arg{i}"], device, grad=i in case["grads"]) for i in range(case["nargs"])]
    kw = {k: _t(REF[f"{name}/kw_{k}"], device) for k in case["tensor_kwargs"]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = getattr(F, case["fn"])(*args, **case["kwargs"], **kw)
    ref = REF[f"{name}/out"]
    tol = {"rtol": 2e-5, "atol": 2e-5} if case["dtype"] == "float32" else {"rtol": 1e-7, "atol": 1e-9}
    assert tuple(y.shape) == ref.shape
    assert str(y.dtype) == f"ember.{case['dtype']}"
    np.testing.assert_allclose(y.detach().cpu().numpy(), ref, **tol)
    if case["grads"]:
        (y * _t(REF[f"{name}/go"], device)).sum().backward()
        for i in case["grads"]:
            g = args[i].grad
            g = g.cpu().numpy() if g is not None else np.zeros_like(REF[f"{name}/arg{i}"])  # unused input (torch: None)
            np.testing.assert_allclose(g, REF[f"{name}/grad{i}"], err_msg=f"grad of arg {i}", **tol)


# ---- hand-checked semantics ---------------------------------------------------------------------


def test_cross_entropy_hand_computed_value():
    x = np.array([[1.0, 2.0, 3.0], [0.5, 0.5, -1.0]])
    t = np.array([2, 0])
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    expected = -(logp[0, 2] + logp[1, 0]) / 2
    y = F.cross_entropy(_t(x, grad=True), _t(t))
    assert math.isclose(y.item(), expected, rel_tol=1e-12)
    assert y.grad_fn.name() == "NllLossBackward0"  # as in PyTorch


def test_weighted_mean_divides_by_weights_of_non_ignored_targets():
    x = _d(4, 3)
    w = np.array([0.5, 2.0, 3.0])
    t = np.array([0, 2, -100, 1])
    nll = -(x - np.log(np.exp(x).sum(1, keepdims=True)))
    per = np.array([w[0] * nll[0, 0], w[2] * nll[1, 2], 0.0, w[1] * nll[3, 1]])
    got = F.cross_entropy(_t(x), _t(t), weight=_t(w), reduction="none")
    np.testing.assert_allclose(got.numpy(), per, rtol=1e-12)
    mean = F.cross_entropy(_t(x), _t(t), weight=_t(w))
    assert math.isclose(mean.item(), per.sum() / (w[0] + w[2] + w[1]), rel_tol=1e-12)
    # custom ignore_index, and nll_loss agrees on log-probabilities
    t2 = np.array([0, 2, 1, 1])
    got = F.nll_loss(_t(-nll), _t(t2), weight=_t(w), ignore_index=1)
    assert math.isclose(got.item(), (w[0] * nll[0, 0] + w[2] * nll[1, 2]) / (w[0] + w[2]), rel_tol=1e-12)


def test_label_smoothing_with_weight_formula():
    x, w, eps = _d(5, 4), np.array([1.0, 0.5, 2.0, 1.5]), 0.3
    t = np.array([1, 3, 0, -100, 2])
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    C = 4
    valid = t != -100
    tt = np.where(valid, t, 0)
    nll = -logp[np.arange(5), tt] * w[tt] * valid
    smooth = -(logp * w).sum(1) * valid
    W = (w[tt] * valid).sum()
    expected = (1 - eps) * nll.sum() / W + eps / C * smooth.sum() / W
    got = F.cross_entropy(_t(x), _t(t), weight=_t(w), label_smoothing=eps)
    assert math.isclose(got.item(), expected, rel_tol=1e-12)


def test_all_targets_ignored_gives_nan_mean_and_zero_sum():
    x = _t(_d(3, 4), grad=True)
    t = _t(np.array([-100, -100, -100]))
    assert math.isnan(F.cross_entropy(x, t).item())
    s = F.cross_entropy(x, t, reduction="sum")
    assert s.item() == 0.0
    s.backward()
    assert np.all(x.grad.numpy() == 0)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_zero_total_weight_mean_is_nan_with_nan_gradient(smoothing):
    # PyTorch: loss = sum / total_weight = 0/0 and grad = w[t] * (-g / 0) at each counted target;
    # cross_entropy's log-softmax backward spreads that nan over the row; ignored rows stay 0
    x = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0], [0.0, 1.0, -1.0]])
    w = _t(np.array([0.0, 1.0, 2.0]))
    t = _t(np.array([0, -100, 0]))
    a = _t(x, grad=True)
    loss = F.cross_entropy(a, t, weight=w, label_smoothing=smoothing)
    assert math.isnan(loss.item())  # not inf: the NLL and smoothing sums are each divided by 0
    loss.backward()
    g = a.grad.numpy()
    assert np.isnan(g[[0, 2]]).all() and np.all(g[1] == 0)
    b = _t(x, grad=True)
    loss = F.nll_loss(b, t, weight=w)
    assert math.isnan(loss.item())
    loss.backward()
    expected = np.zeros((3, 3))
    expected[[0, 2], 0] = np.nan
    np.testing.assert_array_equal(b.grad.numpy(), expected)
    # the same through a graph (create_graph=True takes the Tensor-op backward)
    c = _t(x, grad=True)
    (gc,) = ember.autograd.grad(F.nll_loss(c, t, weight=w), c, create_graph=True)
    np.testing.assert_array_equal(gc.detach().numpy(), expected)
    c = _t(x, grad=True)
    (gc,) = ember.autograd.grad(F.cross_entropy(c, t, weight=w, label_smoothing=smoothing), c, create_graph=True)
    assert np.isnan(gc.detach().numpy()[[0, 2]]).all() and np.all(gc.detach().numpy()[1] == 0)


def test_every_target_ignored_with_weight_gives_zero_gradient():
    x = _t(_d(2, 3), grad=True)
    t = _t(np.array([-100, -100]))
    loss = F.cross_entropy(x, t, weight=_t(np.array([0.0, 1.0, 2.0])), label_smoothing=0.1)
    assert math.isnan(loss.item())
    loss.backward()
    assert np.all(x.grad.numpy() == 0)


def test_ignored_targets_get_zero_gradient_and_kdim_shapes():
    x = _t(_d(2, 3, 4, 5), grad=True)
    t = np.random.default_rng(0).integers(0, 3, (2, 4, 5))
    t[0, 1, 2] = 7
    y = F.cross_entropy(x, _t(t), ignore_index=7, reduction="none")
    assert tuple(y.shape) == (2, 4, 5) and y[0, 1, 2].item() == 0.0
    y.sum().backward()
    assert np.all(x.grad.numpy()[0, :, 1, 2] == 0)
    np.testing.assert_allclose(x.grad.numpy().sum(1), 0.0, atol=1e-12)  # softmax - onehot sums to 0 over classes


@pytest.mark.parametrize("fn", [F.cross_entropy, F.nll_loss])
def test_non_contiguous_input(fn):
    x = _d(5, 4, 3)
    t = np.array([[0, 1, 2], [3, 3, 3], [1, 1, 0], [4, 4, 2]])
    a = _t(x, grad=True)
    fn(a.permute(1, 0, 2), _t(t), reduction="sum").backward()
    b = _t(np.ascontiguousarray(x.transpose(1, 0, 2)), grad=True)
    fn(b, _t(t), reduction="sum").backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy().transpose(1, 0, 2), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("shape", [(70, 1000), (9, 30, 300)])
def test_large_inputs_row_parallel_path(shape):
    """Big inputs are split by rows over threads; check value and gradient against NumPy."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape)
    C = shape[1]
    t = rng.integers(0, C, shape[:1] + shape[2:])
    w = rng.uniform(0.5, 1.5, C)
    eps = 0.1
    a = _t(x, grad=True)
    y = F.cross_entropy(a, _t(t), weight=_t(w), label_smoothing=eps, reduction="sum")
    y.backward()
    logp = x - x.max(1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(1, keepdims=True))
    onehot = np.moveaxis(np.eye(C)[t], -1, 1)
    wb = w.reshape((1, C) + (1,) * (len(shape) - 2))
    q = (1 - eps) * onehot * wb + eps / C * wb
    np.testing.assert_allclose(y.item(), -(q * logp).sum(), rtol=1e-10)
    np.testing.assert_allclose(a.grad.numpy(), np.exp(logp) * q.sum(1, keepdims=True) - q, rtol=1e-9, atol=1e-12)


def test_cross_entropy_is_stable_for_huge_logits():
    x = _t(np.array([[1e4, 0.0, -1e4]], dtype=np.float32), grad=True)
    y = F.cross_entropy(x, _t(np.array([0])))
    y.backward()
    assert y.item() == 0.0 and np.all(np.isfinite(x.grad.numpy()))


def test_unbatched_and_single_target_shapes():
    x = _t(_d(5))
    assert F.cross_entropy(x, _t(np.array(2)), reduction="none").shape == ()
    assert tuple(F.cross_entropy(x, _t(np.array([2])), reduction="none").shape) == (1,)
    assert F.nll_loss(x, _t(np.array(2)), reduction="none").shape == ()
    probs = _t(np.full(5, 0.2))
    assert F.cross_entropy(x, probs, reduction="none").shape == ()


def test_uint8_targets_are_accepted():
    x, t = _t(_d(4, 5)), np.array([0, 1, 2, 3])
    a = F.cross_entropy(x, _t(t))
    b = F.cross_entropy(x, _t(t.astype(np.uint8)))
    assert math.isclose(a.item(), b.item())


def test_float32_stays_float32_and_empty_batch_is_nan():
    x = ember.randn(8, 10, requires_grad=True)
    y = F.cross_entropy(x, ember.randint(0, 10, (8,)))
    assert y.dtype == ember.float32
    y.backward()
    assert x.grad.dtype == ember.float32
    assert math.isnan(F.cross_entropy(ember.randn(0, 3), ember.zeros(0, dtype=ember.int64)).item())
    assert math.isnan(F.mse_loss(ember.randn(0, 3), ember.randn(0, 3)).item())


def test_bce_clamps_log_at_minus_100():
    y = F.binary_cross_entropy(_t(np.array([0.0, 1.0])), _t(np.array([1.0, 0.0])), reduction="none")
    np.testing.assert_array_equal(y.numpy(), [100.0, 100.0])


def test_kl_div_batchmean_and_mean_warning():
    inp, tgt = _t(np.log(np.full((4, 3), 1 / 3))), _t(np.full((4, 3), 0.25))
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        m = F.kl_div(inp, tgt)
    assert math.isclose(F.kl_div(inp, tgt, reduction="batchmean").item(), m.item() * 3)


def test_mse_with_weight_and_broadcast_warning():
    x, t, w = _d(3, 4), _d(3, 4), np.abs(_d(3, 4))
    got = F.mse_loss(_t(x), _t(t), weight=_t(w))
    assert math.isclose(got.item(), ((x - t) ** 2 * w).sum() / w.sum(), rel_tol=1e-12)
    with pytest.warns(UserWarning, match=r"Using a target size \(torch.Size\(\[4\]\)\) that is different to the input size"):
        F.mse_loss(_t(x), _t(t[0]))
    with pytest.raises(ValueError, match="Weights and input must have the same size."):
        F.l1_loss(_t(x), _t(t), weight=_t(w[0]))


def test_gaussian_nll_eps_clamps_value_but_passes_gradient():
    var = _t(np.array([1e-9, 2.0]), grad=True)
    y = F.gaussian_nll_loss(_t(np.zeros(2)), _t(np.ones(2)), var, eps=1e-3, reduction="sum")
    assert math.isclose(y.item(), 0.5 * (math.log(1e-3) + 1 / 1e-3 + math.log(2.0) + 0.5), rel_tol=1e-12)
    y.backward()
    np.testing.assert_allclose(var.grad.numpy(), 0.5 * (1 / np.array([1e-3, 2.0]) - 1 / np.array([1e-3, 2.0]) ** 2))


# ---- gradient checks (float64) ------------------------------------------------------------------


def _g(*shape, seed=0, positive=False, unit=False):
    a = np.random.default_rng(seed).standard_normal(shape)
    if positive:
        a = np.abs(a) + 0.2
    if unit:
        a = np.random.default_rng(seed).uniform(0.1, 0.9, shape)
    return _t(a, grad=True)


_LONG = lambda *a: _t(np.array(*a))
_T = np.array([0, 2, 1, 4])
_W = np.array([0.4, 1.0, 2.0, 0.7, 1.3])

GRADCHECKS = {
    "cross_entropy": (lambda x: F.cross_entropy(x, _LONG(_T)), [(4, 5)]),
    "cross_entropy_none_weight_ignore": (lambda x: F.cross_entropy(x, _LONG([0, -100, 1, 4]), weight=_t(_W), reduction="none"), [(4, 5)]),
    "cross_entropy_smooth_weight": (lambda x: F.cross_entropy(x, _LONG([0, 3, 1, 4]), weight=_t(_W), label_smoothing=0.2, ignore_index=3), [(4, 5)]),
    "cross_entropy_kdim_sum": (lambda x: F.cross_entropy(x, _LONG([[[0, 1], [2, 2]], [[1, 1], [0, 2]]]), reduction="sum", label_smoothing=0.1), [(2, 3, 2, 2)]),
    "cross_entropy_probs": (lambda x, p: F.cross_entropy(x, p, weight=_t(_W), label_smoothing=0.3), [(4, 5), (4, 5)]),
    "cross_entropy_probs_none_kdim": (lambda x, p: F.cross_entropy(x, p, reduction="none"), [(2, 5, 3), (2, 5, 3)]),
    "nll_loss": (lambda x: F.nll_loss(x, _LONG([0, -100, 1, 4]), weight=_t(_W)), [(4, 5)]),
    "nll_loss_kdim_none": (lambda x: F.nll_loss(x, _LONG([[0, 1, 2], [2, 2, 0]]), reduction="none"), [(2, 3, 3)]),
    "mse_loss": (lambda x, t: F.mse_loss(x, t), [(3, 4), (3, 4)]),
    "mse_loss_weight_none": (lambda x, t: F.mse_loss(x, t, weight=_t(np.ones((3, 4)) * 2), reduction="none"), [(3, 4), (3, 4)]),
    "l1_loss": (lambda x, t: F.l1_loss(x, t, reduction="sum"), [(3, 4), (3, 4)]),
    "smooth_l1_loss": (lambda x, t: F.smooth_l1_loss(x, t, beta=0.8), [(3, 4), (3, 4)]),
    "huber_loss": (lambda x, t: F.huber_loss(x, t, delta=0.6, reduction="none"), [(3, 4), (3, 4)]),
    "binary_cross_entropy": (lambda x, t: F.binary_cross_entropy(x, t, weight=_t(np.arange(1.0, 5.0))), [("unit", 3, 4), ("unit", 3, 4)]),
    "bce_with_logits": (lambda x, t, pw: F.binary_cross_entropy_with_logits(x, t, pos_weight=pw, weight=_t(np.ones((3, 1)) * 0.5)), [(3, 4), ("unit", 3, 4), ("pos", 4)]),
    "bce_with_logits_none": (lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction="none"), [(3, 4), ("unit", 3, 4)]),
    "kl_div": (lambda x, t: F.kl_div(x, t, reduction="batchmean"), [(3, 4), ("pos", 3, 4)]),
    "kl_div_log_target": (lambda x, t: F.kl_div(x, t, reduction="sum", log_target=True), [(3, 4), (3, 4)]),
    "poisson_nll_loss": (lambda x, t: F.poisson_nll_loss(x, t), [(3, 4), ("pos", 3, 4)]),
    "poisson_nll_loss_full": (lambda x, t: F.poisson_nll_loss(x, t * 3, log_input=False, full=True), [("pos", 3, 4), ("pos", 3, 4)]),
    "gaussian_nll_loss": (lambda x, t, v: F.gaussian_nll_loss(x, t, v, full=True), [(3, 4), (3, 4), ("pos", 3)]),
    "cosine_embedding_loss": (lambda a, b: F.cosine_embedding_loss(a, b, _t(np.array([1.0, -1.0, 1.0])), margin=-0.5), [(3, 4), (3, 4)]),
    "margin_ranking_loss": (lambda a, b: F.margin_ranking_loss(a, b, _t(np.array([1.0, -1.0, 1.0, -1.0])), margin=0.1), [(4,), (4,)]),
    "hinge_embedding_loss": (lambda x: F.hinge_embedding_loss(x, _t(np.array([[1.0, -1.0], [-1.0, 1.0]])), margin=3.0), [(2, 2)]),
    # (PyTorch's soft_margin_loss is not differentiable in target: a constant target)
    "soft_margin_loss": (lambda x: F.soft_margin_loss(x, _t(np.linspace(-1.5, 2.0, 12).reshape(3, 4))), [(3, 4)]),
    "multilabel_soft_margin_loss": (lambda x, t: F.multilabel_soft_margin_loss(x, t, weight=_t(np.arange(1.0, 5.0))), [(3, 4), ("unit", 3, 4)]),
    "multi_margin_loss": (lambda x: F.multi_margin_loss(x, _LONG(_T), p=2, margin=3.0, weight=_t(_W)), [(4, 5)]),
    "multilabel_margin_loss": (lambda x: F.multilabel_margin_loss(x, _LONG([[1, 3, -1, 0], [2, -1, 0, 0], [0, 1, 2, 3]]) * 1), [(3, 4)]),
    "triplet_margin_loss": (lambda a, p, n: F.triplet_margin_loss(a, p, n, margin=3.0, swap=True), [(3, 4), (3, 4), (3, 4)]),
    "triplet_margin_with_distance_loss": (lambda a, p, n: F.triplet_margin_with_distance_loss(a, p, n, margin=3.0, swap=True), [(3, 4), (3, 4), (3, 4)]),
    "triplet_margin_loss_p1": (lambda a, p, n: F.triplet_margin_loss(a, p, n, margin=3.0, p=1.0, reduction="none"), [(3, 4), (3, 4), (3, 4)]),
}


def _inputs(specs):
    out = []
    for i, s in enumerate(specs):
        kind = s[0] if isinstance(s[0], str) else None
        shape = s[1:] if kind else s
        out.append(_g(*shape, seed=i, positive=kind == "pos", unit=kind == "unit"))
    return out


@pytest.mark.parametrize("name", sorted(GRADCHECKS))
def test_gradcheck(name):
    fn, specs = GRADCHECKS[name]
    assert gradcheck(fn, tuple(_inputs(specs)))


@pytest.mark.parametrize("name", ["cross_entropy_smooth_weight", "cross_entropy_probs", "nll_loss", "bce_with_logits", "mse_loss"])
def test_double_backward(name):
    fn, specs = GRADCHECKS[name]
    assert gradgradcheck(fn, tuple(_inputs(specs)))


# ---- errors -------------------------------------------------------------------------------------


X = ember.randn(4, 5)
T = ember.tensor([0, 1, 2, 3])


@pytest.mark.parametrize("fn", [
    lambda r: F.cross_entropy(X, T, reduction=r), lambda r: F.nll_loss(X, T, reduction=r),
    lambda r: F.mse_loss(X, X, reduction=r), lambda r: F.l1_loss(X, X, reduction=r),
    lambda r: F.huber_loss(X, X, reduction=r), lambda r: F.binary_cross_entropy_with_logits(X, X, reduction=r),
    lambda r: F.triplet_margin_loss(X, X, X, reduction=r), lambda r: F.poisson_nll_loss(X, X, reduction=r),
    lambda r: nn.MSELoss(reduction=r)(X, X), lambda r: nn.CrossEntropyLoss(reduction=r)(X, T),
])
def test_invalid_reduction(fn):
    with pytest.raises(ValueError, match="foo is not a valid value for reduction"):
        fn("foo")


def test_deprecated_size_average_and_reduce():
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated, please use reduction='sum' instead."):
        s = F.cross_entropy(X, T, size_average=False)
    assert math.isclose(s.item(), F.cross_entropy(X, T, reduction="sum").item(), rel_tol=1e-6)
    with pytest.warns(UserWarning, match="reduction='none'"):
        assert tuple(F.mse_loss(X, X, reduce=False).shape) == (4, 5)
    with pytest.warns(UserWarning):
        assert nn.NLLLoss(size_average=False).reduction == "sum"


def test_class_target_errors():
    with pytest.raises(IndexError, match="Target 5 is out of bounds."):
        F.cross_entropy(X, ember.tensor([0, 1, 2, 5]))
    with pytest.raises(IndexError, match="Target -1 is out of bounds."):
        F.nll_loss(X, ember.tensor([0, 1, -1, 2]))
    with pytest.raises(IndexError, match="Target 7 is out of bounds."):
        F.cross_entropy(X, ember.tensor([0, 1, 2, 7]), label_smoothing=0.1)
    with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte, but got Float"):
        F.cross_entropy(X, ember.tensor([0.0, 1.0, 2.0, 3.0]))
    with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte, but got Int"):
        F.nll_loss(X, ember.tensor([0, 1, 2, 3], dtype=ember.int32))
    with pytest.raises(ValueError, match=r"Expected input batch_size \(4\) to match target batch_size \(3\)."):
        F.cross_entropy(X, ember.tensor([0, 1, 2]))
    with pytest.raises(RuntimeError, match="0D or 1D target tensor expected, multi-target not supported"):
        F.cross_entropy(X, ember.zeros(4, 1, dtype=ember.int64))
    with pytest.raises(RuntimeError, match=r"Expected target size \[2, 3\], got \[2, 2\]"):
        F.cross_entropy(ember.randn(2, 5, 3), ember.zeros(2, 2, dtype=ember.int64))
    with pytest.raises(RuntimeError, match="only batches of spatial targets supported"):
        F.nll_loss(ember.randn(2, 5, 3, 4), ember.zeros(2, 3, dtype=ember.int64))
    with pytest.raises(ValueError, match="For 1D input, 1D target must have size 1, but got target size: 2"):
        F.cross_entropy(ember.randn(5), ember.tensor([1, 2]))
    with pytest.raises(ValueError, match=r"Expected 1 or more dimensions \(got 0\)"):
        F.nll_loss(ember.tensor(1.0), ember.tensor(0))


def test_weight_and_option_errors():
    with pytest.raises(RuntimeError, match=r"weight tensor should be defined either for all 5 classes or no classes but got weight tensor of shape: \[4\]"):
        F.cross_entropy(X, T, weight=ember.ones(4))
    with pytest.raises(RuntimeError, match="cross_entropy: weight tensor should be defined either for all 5 classes"):
        F.cross_entropy(X, ember.full((4, 5), 0.2), weight=ember.ones(4))
    with pytest.raises(RuntimeError, match="expected scalar type Float but found Double"):
        F.nll_loss(X, T, weight=ember.ones(5, dtype=ember.float64))
    with pytest.raises(RuntimeError, match="is not differentiable with respect to argument 'weight'"):
        F.cross_entropy(X, T, weight=ember.ones(5, requires_grad=True))
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0. Got: 1.5"):
        F.cross_entropy(X, T, label_smoothing=1.5)
    with pytest.raises(RuntimeError, match="ignore_index is not supported for floating point target"):
        F.cross_entropy(X, X, ignore_index=1)
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        F.cross_entropy(ember.zeros(4, 5, dtype=ember.int64), T)


def test_pointwise_loss_errors():
    p = ember.rand(4, 5)
    with pytest.raises(ValueError, match=r"Using a target size \(torch.Size\(\[4, 3\]\)\) that is different to the input size \(torch.Size\(\[4, 5\]\)\) is deprecated"):
        F.binary_cross_entropy(p, p[:, :3])
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(p * 2 - 1.5, p)
    with pytest.raises(RuntimeError, match="all elements of target should be between 0 and 1"):
        F.binary_cross_entropy(p, p * 2 - 1.5)
    with pytest.raises(RuntimeError, match="Found dtype Double but expected Float"):
        F.binary_cross_entropy(p, p.double())
    with pytest.raises(ValueError, match=r"Target size \(torch.Size\(\[4, 3\]\)\) must be the same as input size \(torch.Size\(\[4, 5\]\)\)"):
        F.binary_cross_entropy_with_logits(p, p[:, :3])
    with pytest.raises(RuntimeError, match="smooth_l1_loss does not support negative values for beta."):
        F.smooth_l1_loss(p, p, beta=-1)
    with pytest.raises(RuntimeError, match="huber_loss does not support non-positive values for delta."):
        F.huber_loss(p, p, delta=0)
    with pytest.raises(NotImplementedError, match="\"mse_cpu\" not implemented for 'Long'"):
        F.mse_loss(ember.zeros(3, dtype=ember.int64), ember.zeros(3, dtype=ember.int64))
    with pytest.raises(ValueError, match="var is of incorrect size"):
        F.gaussian_nll_loss(p, p, ember.ones(3))
    with pytest.raises(ValueError, match="var has negative entry/entries"):
        F.gaussian_nll_loss(p, p, -ember.ones(4))
    with pytest.raises(ValueError, match="bad is not valid"):
        F.gaussian_nll_loss(p, p, 1.0, reduction="bad")


def test_margin_loss_errors():
    with pytest.raises(ValueError, match="only p == 1 and p == 2 supported"):
        F.multi_margin_loss(X, T, p=3)
    with pytest.raises(RuntimeError, match="target out of range"):
        F.multi_margin_loss(X, ember.tensor([0, 1, 2, 7]))
    with pytest.raises(RuntimeError, match=r"Expected target size \[4\], but got \[3\]"):
        F.multi_margin_loss(X, ember.tensor([0, 1, 2]))
    with pytest.raises(RuntimeError, match=r"inconsistent weight size, expected 5 but got \[4\]"):
        F.multi_margin_loss(X, T, weight=ember.ones(4))
    with pytest.raises(ValueError, match="margin must be greater than 0, got 0"):
        F.triplet_margin_loss(X, X, X, margin=0)
    with pytest.raises(RuntimeError, match="anchor 2D, positive 2D, and negative 1D inputs"):
        F.triplet_margin_loss(X, X, X[0])
    with pytest.raises(RuntimeError, match="1D target tensor expects 2D input tensors"):
        F.cosine_embedding_loss(X[0], X, ember.ones(4))
    with pytest.raises(RuntimeError, match="margin_ranking_loss : All input tensors should have same dimension"):
        F.margin_ranking_loss(X, X, ember.ones(5))


# ---- modules ------------------------------------------------------------------------------------

MODULES = ["L1Loss", "NLLLoss", "PoissonNLLLoss", "GaussianNLLLoss", "KLDivLoss", "MSELoss", "BCELoss", "BCEWithLogitsLoss",
           "HingeEmbeddingLoss", "MultiLabelMarginLoss", "SmoothL1Loss", "HuberLoss", "SoftMarginLoss", "CrossEntropyLoss",
           "MultiLabelSoftMarginLoss", "CosineEmbeddingLoss", "MarginRankingLoss", "MultiMarginLoss", "TripletMarginLoss",
           "TripletMarginWithDistanceLoss", "CTCLoss"]


@pytest.mark.parametrize("name", MODULES)
def test_module_repr_and_default_reduction(name):
    m = getattr(nn, name)()
    assert repr(m) == f"{name}()"
    assert m.reduction == "mean"
    assert list(m.state_dict()) == []


def test_weight_buffers_like_pytorch():
    w = ember.rand(5)
    m = nn.CrossEntropyLoss(weight=w, ignore_index=3, label_smoothing=0.1)
    assert list(m.state_dict()) == ["weight"] and m.weight is w
    assert list(dict(m.named_buffers())) == ["weight"] and list(m.parameters()) == []
    assert list(nn.BCEWithLogitsLoss(pos_weight=ember.ones(5)).state_dict()) == ["pos_weight"]
    assert list(nn.BCEWithLogitsLoss(weight=ember.ones(5), pos_weight=ember.ones(5)).state_dict()) == ["weight", "pos_weight"]
    assert list(nn.NLLLoss(weight=w).state_dict()) == ["weight"]
    assert nn.CrossEntropyLoss().weight is None
    m2 = nn.CrossEntropyLoss(weight=ember.ones(5))
    m2.load_state_dict(m.state_dict())
    np.testing.assert_array_equal(m2.weight.numpy(), w.numpy())


def test_modules_call_the_functional_forms():
    x, t = ember.randn(4, 5), ember.tensor([0, 4, 2, 1])
    w = ember.rand(5)
    m = nn.CrossEntropyLoss(weight=w, label_smoothing=0.2, reduction="sum")
    assert math.isclose(m(x, t).item(), F.cross_entropy(x, t, weight=w, label_smoothing=0.2, reduction="sum").item(), rel_tol=1e-6)
    assert math.isclose(nn.NLLLoss(ignore_index=4)(x, t).item(), F.nll_loss(x, t, ignore_index=4).item(), rel_tol=1e-6)
    y = ember.rand(4, 5)
    pw = ember.rand(5)
    assert math.isclose(nn.BCEWithLogitsLoss(pos_weight=pw)(x, y).item(), F.binary_cross_entropy_with_logits(x, y, pos_weight=pw).item(), rel_tol=1e-6)
    assert math.isclose(nn.HuberLoss(delta=0.5)(x, y).item(), F.huber_loss(x, y, delta=0.5).item(), rel_tol=1e-6)
    assert math.isclose(nn.SmoothL1Loss(beta=0.5)(x, y).item(), F.smooth_l1_loss(x, y, beta=0.5).item(), rel_tol=1e-6)
    assert tuple(nn.MSELoss(reduction="none")(x, y).shape) == (4, 5)
    assert math.isclose(nn.TripletMarginLoss(margin=2.0, p=1)(x, y, x * 2).item(), F.triplet_margin_loss(x, y, x * 2, margin=2.0, p=1).item(), rel_tol=1e-6)
    assert math.isclose(nn.GaussianNLLLoss(full=True)(x, y, 0.5).item(), F.gaussian_nll_loss(x, y, 0.5, full=True).item(), rel_tol=1e-6)
    with pytest.raises(TypeError, match="delta must be a float or int"):
        nn.HuberLoss(delta="a")
    with pytest.raises(ValueError, match="TripletMarginLoss: expected margin to be greater than 0, got 0 instead"):
        nn.TripletMarginLoss(margin=0)


def test_training_step_reduces_cross_entropy():
    ember.manual_seed(0)
    model = nn.Linear(8, 3)
    opt = ember.optim.SGD(model.parameters(), lr=0.5)
    x = ember.randn(32, 8)
    t = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()
    crit = nn.CrossEntropyLoss(label_smoothing=0.05)
    first = None
    for _ in range(30):
        opt.zero_grad()
        loss = crit(model(x), t)
        loss.backward()
        opt.step()
        first = first if first is not None else loss.item()
    assert loss.item() < 0.7 * first


# ---- optional parity against an installed torch -------------------------------------------------


@pytest.mark.parity
@pytest.mark.parametrize("smoothing", [0.0, 0.15])
def test_parity_cross_entropy_random_kdim(smoothing):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 6, 5, 4)).astype(np.float32)
    t = rng.integers(0, 6, (3, 5, 4))
    t[0, 0] = -100
    w = rng.uniform(0.2, 2.0, 6).astype(np.float32)
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.cross_entropy(tx, torch.tensor(t), weight=torch.tensor(w), label_smoothing=smoothing)
    ty.backward()
    ex = ember.tensor(x, requires_grad=True)
    ey = F.cross_entropy(ex, ember.tensor(t), weight=ember.tensor(w), label_smoothing=smoothing)
    ey.backward()
    np.testing.assert_allclose(ey.item(), ty.item(), rtol=1e-5)
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_multilabel_margin_sums_in_pytorch_order():
    # (1 - 0.42) + -0.58 = 1.1e-16 > 0 (PyTorch's 1 - x[j] + x[i]): the hinge is active and passes a gradient,
    # where 1 - (0.42 - -0.58) = 0 would not
    x = _t(np.array([[-0.58, 0.42]]), grad=True)
    F.multilabel_margin_loss(x, _t(np.array([[1, -1]])), reduction="sum").backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.5, -0.5]])
