"""Edge cases found by the differential suite (tests/parity): 0-d and empty tensors, integer dtypes,
subgradients at special points. Expected values are hand-computed or recorded from PyTorch 2.13."""

import math

import numpy as np
import pytest

import ember
import ember.nn.functional as F


@pytest.mark.parametrize(
    "fn, grad",
    [
        (F.leaky_relu, 1.0),
        (F.hardswish, (2 * 0.5 + 3) / 6),
        (F.celu, 1.0),
        (F.silu, 1 / (1 + math.exp(-0.5)) * (1 + 0.5 * (1 - 1 / (1 + math.exp(-0.5))))),
        (F.gelu, 0.5 * (1 + math.erf(0.5 / math.sqrt(2))) + 0.5 * math.exp(-0.125) / math.sqrt(2 * math.pi)),
        (lambda x: x.masked_fill(ember.tensor(False), 0.0), 1.0),
        (ember.erf, 2 / math.sqrt(math.pi) * math.exp(-0.25)),
    ],
)
def test_backward_through_0d(fn, grad):
    x = ember.tensor(0.5, dtype=ember.float64, requires_grad=True)
    y = fn(x)
    assert y.shape == () and isinstance(y._data, np.ndarray)
    y.backward()
    assert x.grad.shape == () and isinstance(x.grad._data, np.ndarray)
    assert x.grad.item() == pytest.approx(grad, rel=1e-6)


# ---- reductions over 0-size dims and on 0-d tensors ---------------------------------------------


def test_reductions_over_a_nonempty_dim_of_an_empty_tensor():
    x = ember.empty(0, 3)
    assert ember.amax(x, dim=1).shape == (0,)
    assert ember.amin(ember.empty(1, 3, 0, 3), dim=-1).shape == (1, 3, 0)
    assert ember.max(x, dim=1).values.shape == (0,)
    assert ember.argmax(x, dim=1).shape == (0,)
    assert ember.kthvalue(x, 1, dim=1).values.shape == (0,)
    assert ember.topk(x, 1, dim=1).values.shape == (0, 1)
    assert ember.median(ember.empty(3, 0), dim=0).values.shape == (0,)
    assert ember.softmax(x, dim=0).shape == (0, 3)
    assert F.log_softmax(x, dim=0).shape == (0, 3)
    lse = ember.logsumexp(x, dim=0)
    assert lse.shape == (3,) and bool((lse == -math.inf).all())


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda x: ember.amax(x, dim=0), "amax"),
        (lambda x: ember.max(x, dim=0), "max"),
        (lambda x: ember.argmax(x, dim=0), "argmax"),
        (lambda x: ember.argmin(x, dim=0), "argmin"),
        (lambda x: ember.median(x, dim=0), "median"),
        (lambda x: ember.kthvalue(x, 1, dim=0), "kthvalue"),
    ],
)
def test_reducing_a_zero_size_dim_is_index_error(call, name):
    with pytest.raises(IndexError, match=rf"{name}\(\): Expected reduction dim 0 to have non-zero size"):
        call(ember.empty(0, 3))


def test_dim_ops_on_0d_tensors_keep_0d_results():
    x = ember.tensor(2.5)
    assert ember.cumsum(x, 0).shape == () and ember.cumsum(x, 0).item() == 2.5
    assert ember.cumprod(x, -1).shape == ()
    v, i = ember.topk(x, 1, dim=0)
    assert v.shape == () and i.shape == () and v.item() == 2.5
    v, i = ember.kthvalue(x, 1, dim=0)
    assert v.shape == () and i.item() == 0
    v, i = ember.median(x, dim=0)
    assert v.shape == () and i.item() == 0
    with pytest.raises(IndexError, match="Dimension out of range"):
        ember.cumsum(x, 1)


def test_kthvalue_k_out_of_range():
    with pytest.raises(RuntimeError, match="kthvalue\\(\\): selected number k out of range for dimension 1"):
        ember.kthvalue(ember.ones(2, 3), 4, dim=1)


def test_median_of_empty_is_nan():
    assert math.isnan(ember.median(ember.empty(0)).item())


def test_argmax_of_bool_is_an_error():
    with pytest.raises(RuntimeError, match="does not support bool input"):
        ember.argmax(ember.tensor([True, False]))


# ---- integer inputs are promoted before arithmetic -----------------------------------------------


def test_topk_of_unsigned_values():
    x = ember.tensor([0, 4, 3, 1], dtype=ember.uint8)
    v, i = ember.topk(x, 2)
    assert v.tolist() == [4, 3] and i.tolist() == [1, 2]
    assert v.dtype is ember.uint8


def test_logsumexp_of_integers_is_float():
    out = ember.logsumexp(ember.tensor([0, 2], dtype=ember.uint8), dim=0)
    assert out.dtype is ember.float32
    assert out.item() == pytest.approx(math.log(1 + math.exp(2)), rel=1e-6)  # PyTorch: 2.126928


def test_cumprod_honours_dtype():
    x = ember.tensor([1.5, 2.0, 3.0])
    out = ember.cumprod(x, 0, dtype=ember.float64)
    assert out.dtype is ember.float64 and out.tolist() == [1.5, 3.0, 9.0]
    assert ember.cumprod(ember.tensor([1, 2, 3]), 0, dtype=ember.float64).dtype is ember.float64


@pytest.mark.parametrize(
    "fn, expected",
    [
        (F.relu6, [0, 0, 3, 6, 6]),
        (F.hardtanh, [-1, 0, 1, 1, 1]),
        (lambda x: F.threshold(x, 1, 20), [20, 20, 3, 6, 9]),
    ],
)
def test_piecewise_activations_on_integer_tensors(fn, expected):
    x = ember.tensor([-4, 0, 3, 6, 9], dtype=ember.int32)
    out = fn(x)
    assert out.dtype is ember.int32 and out.tolist() == expected


# ---- shapes and structures -----------------------------------------------------------------------


def test_nonzero_of_0d():
    assert ember.nonzero(ember.tensor(3)).shape == (1, 0)
    assert ember.nonzero(ember.tensor(0)).shape == (0, 0)


def test_chunk_and_split_of_empty():
    pieces = ember.chunk(ember.empty(0, 3), 3, dim=0)
    assert len(pieces) == 3 and all(p.shape == (0, 3) for p in pieces)
    pieces = ember.split(ember.empty(0, 2), 3, dim=0)
    assert len(pieces) == 1 and pieces[0].shape == (0, 2)
    with pytest.raises(RuntimeError, match="chunk expects at least a 1-dimensional tensor"):
        ember.chunk(ember.tensor(1.0), 2)


def test_diag_diagonal_keyword():
    out = ember.diag(ember.ones(3), diagonal=1)
    assert out.shape == (4, 4) and out[0, 1].item() == 1 and out[0, 0].item() == 0
    assert ember.diag(ember.eye(3), diagonal=-1).tolist() == [0.0, 0.0]


# ---- missing ops ---------------------------------------------------------------------------------


def test_logaddexp_values_and_gradient():
    a = ember.tensor([0.0, 1000.0, -math.inf, math.inf], dtype=ember.float64, requires_grad=True)
    b = ember.tensor([0.0, 1000.0, -math.inf, 1.0], dtype=ember.float64)
    out = ember.logaddexp(a, b)
    assert out[0].item() == pytest.approx(math.log(2))
    assert out[1].item() == pytest.approx(1000 + math.log(2))
    assert out[2].item() == -math.inf and out[3].item() == math.inf
    assert ember.logaddexp2(ember.tensor([1.0]), ember.tensor([1.0])).item() == pytest.approx(2.0)
    x = ember.tensor([0.3, -1.2], dtype=ember.float64, requires_grad=True)
    y = ember.tensor([1.1, 0.4], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(ember.logaddexp, (x, y))
    assert ember.autograd.gradcheck(ember.logaddexp2, (x, y))
    with pytest.raises(NotImplementedError, match="logaddexp"):
        ember.logaddexp(ember.tensor([1]), ember.tensor([2]))


def test_positive():
    x = ember.tensor([1.0, -2.0])
    assert ember.positive(x) is x and x.positive() is x
    with pytest.raises(RuntimeError, match="on a bool tensor is not supported"):
        ember.positive(ember.tensor([True]))


# ---- invalid calls PyTorch rejects -----------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: ember.sub(ember.tensor([1]), ember.tensor([True])),
        lambda: ember.sub(ember.tensor([1]), True),
        lambda: ember.tensor([True]) - 1,
        lambda: ember.tensor([True]) - ember.tensor([False]),
    ],
)
def test_subtracting_bools_is_an_error(call):
    with pytest.raises(RuntimeError, match="Subtraction, the `-` operator, with"):
        call()


@pytest.mark.parametrize("name", ["atan2", "hypot", "logical_and", "logical_or", "logical_xor", "logaddexp"])
def test_tensor_only_binary_ops_reject_python_scalars(name):
    with pytest.raises(TypeError, match=rf"{name}\(\): argument 'other' \(position 2\) must be Tensor, not float"):
        getattr(ember, name)(ember.ones(2), 1.5)


@pytest.mark.parametrize("fn", [ember.tril, ember.triu])
def test_tril_triu_need_two_dims(fn):
    with pytest.raises(RuntimeError, match="input tensor must have at least 2 dimensions"):
        fn(ember.ones(3))


# ---- gather / scatter with an index smaller than the input -----------------------------------------


def test_scatter_add_src_grad_with_smaller_index():
    # PyTorch: src.grad == [[2.]] (only the row the index addresses), not the sum over every row
    x = ember.zeros(3, 1, requires_grad=True)
    src = ember.ones(1, 1, requires_grad=True)
    out = ember.scatter_add(x, 1, ember.tensor([[0]]), src)
    (out * ember.tensor([[2.0], [3.0], [5.0]])).sum().backward()
    assert src.grad.tolist() == [[2.0]]
    assert x.grad.tolist() == [[2.0], [3.0], [5.0]]
    assert out.tolist() == [[1.0], [0.0], [0.0]]


def test_gather_with_smaller_index_and_its_gradient():
    x = ember.arange(12.0, dtype=ember.float64).reshape(3, 4).requires_grad_()
    idx = ember.tensor([[3, 0], [1, 1]])
    out = ember.gather(x, 1, idx)
    assert out.tolist() == [[3.0, 0.0], [5.0, 5.0]]
    out.sum().backward()
    assert x.grad.tolist() == [[1, 0, 0, 1], [0, 2, 0, 0], [0, 0, 0, 0]]
    assert ember.autograd.gradcheck(lambda t: ember.gather(t, 1, idx), (x,))


def test_scatter_src_larger_than_index_gets_a_padded_gradient():
    x = ember.zeros(2, 3, dtype=ember.float64, requires_grad=True)
    src = ember.ones(2, 3, dtype=ember.float64, requires_grad=True)
    idx = ember.tensor([[2]])
    out = ember.scatter(x, 1, idx, src)
    assert out.tolist() == [[0, 0, 1], [0, 0, 0]]
    out.sum().backward()
    assert src.grad.tolist() == [[1, 0, 0], [0, 0, 0]]
    assert x.grad.tolist() == [[1, 1, 0], [1, 1, 1]]
    assert ember.autograd.gradcheck(lambda s: ember.scatter_add(x.detach(), 1, idx, s), (src,))


def test_gather_scatter_of_0d():
    x = ember.tensor(0.7, dtype=ember.float64, requires_grad=True)
    out = ember.gather(x, 0, ember.tensor(0))
    assert out.shape == () and out.item() == pytest.approx(0.7)
    y = ember.scatter_add(ember.tensor(1.0), -1, ember.tensor(0), ember.tensor(2.0))
    assert y.shape == () and y.item() == 3.0


@pytest.mark.parametrize(
    "call, msg",
    [
        (lambda: ember.gather(ember.ones(2, 3), 1, ember.tensor([[0], [1], [1]])), "Size does not match at dimension 0"),
        (lambda: ember.scatter_add(ember.ones(2, 3), 0, ember.tensor([[0, 1]]), ember.ones(1, 1)), "to be no larger size than src"),
        (lambda: ember.scatter(ember.ones(2, 3), 0, ember.tensor([[4]]), 1.0), "index 4 is out of bounds for dimension 0 with size 2"),
        (lambda: ember.gather(ember.ones(2), 0, ember.tensor([0, -1])), "index -1 is out of bounds for dimension 0 with size 2"),
    ],
)
def test_gather_scatter_errors(call, msg):
    with pytest.raises(RuntimeError, match=msg):
        call()


def test_index_select_out_of_range_is_caught_as_either_error():
    with pytest.raises(IndexError, match="index out of range in self"):
        ember.index_select(ember.ones(3, 2), 0, ember.tensor([5]))
    with pytest.raises(RuntimeError, match="index out of range in self"):
        ember.index_select(ember.ones(3, 2), 1, ember.tensor([-1]))


def test_backward_through_empty_linear_and_embedding():
    x = ember.ones(2, 3, dtype=ember.float64, requires_grad=True)
    w = ember.ones(0, 3, dtype=ember.float64, requires_grad=True)
    F.linear(x, w).sum().backward()
    assert x.grad.tolist() == [[0.0] * 3] * 2 and w.grad.shape == (0, 3)
    w = ember.ones(3, 0, dtype=ember.float64, requires_grad=True)
    F.embedding(ember.empty(2, 0, dtype=ember.int64), w).sum().backward()
    assert w.grad.shape == (3, 0)


# ---- losses and normalisations -------------------------------------------------------------------


@pytest.mark.parametrize("fn", [F.cross_entropy, lambda x, t, **kw: F.nll_loss(F.log_softmax(x, 1), t, **kw)])
def test_all_targets_ignored_gives_zero_gradient(fn):
    x = ember.tensor([[2.55, -1.81], [0.3, 0.1]], dtype=ember.float64, requires_grad=True)
    loss = fn(x, ember.tensor([0, 0]), ignore_index=0)
    assert math.isnan(loss.item())  # 0 / 0, as in PyTorch
    loss.backward()
    assert x.grad.tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_cosine_similarity_broadcasts_before_the_norms():
    x1 = ember.tensor([[[1.48, 0.38], [2.21, 0.07]]], dtype=ember.float64)
    x2 = ember.tensor([[[2.28, 1.48]]], dtype=ember.float64)
    out = F.cosine_similarity(x1, x2, dim=1)
    # recorded from PyTorch 2.13
    np.testing.assert_allclose(out.numpy(), [[0.9809875437, 0.8235076010]], atol=1e-9)
    assert F.cosine_similarity(ember.tensor([[0.19, -2.99, -0.75]]), ember.tensor(0.99), dim=1).shape == (1,)
    a = ember.tensor([1.0, 2.0], dtype=ember.float64, requires_grad=True)
    b = ember.tensor([[0.5, -1.0], [2.0, 0.0]], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda u, v: F.cosine_similarity(u, v, dim=-1), (a, b))


def test_instance_norm_with_a_small_spread_around_a_large_mean():
    base = np.array([[[-7.9e-4, -4.7e-4, 4.4e-4, 5.1e-4, 7.2e-4, -7.5e-4]]])
    x = ember.tensor((5.0 + base).astype(np.float32))
    x64 = (5.0 + base).astype(np.float32).astype(np.float64)
    ref = (x64 - x64.mean(-1, keepdims=True)) / np.sqrt(x64.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(F.instance_norm(x).numpy(), ref, atol=3e-5)


# ---- PyTorch's subgradients at special points ------------------------------------------------------


def _grad(fn, values):
    x = ember.tensor(values, dtype=ember.float64, requires_grad=True)
    fn(x).sum().backward()
    return x.grad.tolist()


NAN, INF = math.nan, math.inf


def test_relu_passes_the_gradient_at_nan():
    g = _grad(F.relu, [NAN, 1.0, -1.0, 0.0])
    assert g == [1.0, 1.0, 0.0, 0.0]


@pytest.mark.parametrize(
    "fn, expected",
    [
        (F.elu, [1.0, 1.0, 0.0, 1.0]),
        (F.celu, [1.0, 1.0, 0.0, 1.0]),
        (F.hardswish, [1.0, 1.0, 0.0, 0.5]),
    ],
)
def test_activation_gradients_at_nan_and_inf(fn, expected):
    assert _grad(fn, [NAN, INF, -INF, 0.0]) == expected  # recorded from PyTorch 2.13


def test_zero_to_a_tensor_power():
    assert _grad(lambda x: 0**x, [0.0, 2.0, INF, -1.0]) == [0.0, 0.0, 0.0, -INF]


def test_prod_gradient_rules():
    assert _grad(lambda x: x.prod(), [2.0, 3.0, 4.0]) == [12.0, 8.0, 6.0]
    assert _grad(lambda x: x.prod(), [0.0, 2.0, 3.0]) == [6.0, 0.0, 0.0]
    assert _grad(lambda x: x.prod(), [0.0, 0.0, NAN]) == [0.0, 0.0, 0.0]
    g = _grad(lambda x: x.prod(), [-0.12, INF])
    assert g[0] == INF and math.isnan(g[1])  # out / x, as in PyTorch
    x = ember.tensor([[0.5, 0.0, 2.0], [1.5, -1.0, 3.0]], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: t.prod(1), (x,))


def test_norm_and_std_at_zero_have_zero_gradient():
    assert _grad(lambda x: x.norm(), [0.0, 0.0]) == [0.0, 0.0]
    assert _grad(lambda x: x.std(correction=0), [1.88]) == [0.0]
    assert _grad(lambda x: x.std(0, correction=0), [[1.0, 2.0]]) == [[0.0, 0.0]]


# ---- type promotion, cat and einsum ----------------------------------------------------------------


@pytest.mark.parametrize("int_dtype", [ember.int8, ember.int16, ember.int32, ember.int64, ember.uint8, ember.bool])
def test_float16_with_any_integer_stays_float16(int_dtype):
    assert ember.promote_types(ember.float16, int_dtype) is ember.float16
    assert (ember.ones(2, dtype=ember.float16) + ember.ones(2, dtype=int_dtype)).dtype is ember.float16
    assert ember.promote_types(int_dtype, ember.float32) is ember.float32


def test_cat_promotes_over_empty_tensors_too():
    c = ember.empty(0, requires_grad=True)
    out = ember.cat([ember.tensor([1, 2, 3]), ember.empty(0, dtype=ember.int64), c])
    assert out.dtype is ember.float32 and out.requires_grad and out.tolist() == [1.0, 2.0, 3.0]
    out.sum().backward()
    assert c.grad.shape == (0,)
    with pytest.raises(RuntimeError, match=r"zero-dimensional tensor \(at position 0\) cannot be concatenated"):
        ember.cat([ember.tensor(1.0)])


def test_einsum_ellipsis_and_repeated_indices():
    rng = np.random.default_rng(0)
    m = rng.standard_normal((3, 3))
    a = ember.tensor(m, requires_grad=True)
    assert ember.einsum("ii", a).item() == pytest.approx(np.trace(m))
    np.testing.assert_allclose(ember.einsum("ii->i", a).detach().numpy(), np.diag(m))
    b, c = rng.standard_normal((2, 1, 3)), rng.standard_normal((3, 2))
    tb, tc = ember.tensor(b, requires_grad=True), ember.tensor(c, requires_grad=True)
    out = ember.einsum("...ij,...jk->...ik", tb, tc)
    np.testing.assert_allclose(out.detach().numpy(), np.einsum("...ij,...jk->...ik", b, c))
    assert ember.einsum("i...->...", ember.ones(2, 3, 1)).shape == (3, 1)
    assert ember.autograd.gradcheck(lambda x, y: ember.einsum("...ij,...jk->...ik", x, y), (tb, tc))
    assert ember.autograd.gradcheck(lambda x: ember.einsum("ii->i", x), (a,))
    with pytest.raises(RuntimeError, match="subscript j has size 4 for operand 1 which does not broadcast"):
        ember.einsum("ij,jk->ik", ember.ones(2, 3), ember.ones(4, 5))


def test_integer_division_by_zero_of_an_empty_result_is_no_error():
    out = ember.floor_divide(ember.empty(0, 2, dtype=ember.int16), ember.tensor([0, 1], dtype=ember.int16))
    assert out.shape == (0, 2)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        ember.floor_divide(ember.ones(2, dtype=ember.int16), ember.tensor([0, 1], dtype=ember.int16))


def test_hardtanh_and_hardshrink_at_nan():
    assert _grad(F.hardtanh, [NAN, 0.5, 2.0, -1.0]) == [1.0, 1.0, 0.0, 0.0]
    out = F.hardshrink(ember.tensor([NAN, 0.2, -1.0]))
    assert math.isnan(out[0].item()) and out[1:].tolist() == [0.0, -1.0]


def test_cumprod_gradient_with_zeros():
    x = ember.tensor([-0.0, -2.99], dtype=ember.float64, requires_grad=True)
    ember.cumprod(x, -1).backward(ember.tensor([0.5, 1.4025], dtype=ember.float64))
    assert x.grad.tolist() == pytest.approx([0.5 - 2.99 * 1.4025, 0.0])
    x = ember.tensor([[0.5, 0.0, 2.0, 0.0], [1.5, -1.0, 3.0, 2.0]], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: ember.cumprod(t, 1), (x,))
    assert ember.autograd.gradcheck(lambda t: ember.cumprod(t, 0), (x,))


def test_sort_and_topk_put_nan_first_when_descending():
    x = ember.tensor([1.0, NAN, 3.0, -INF])
    assert ember.sort(x, descending=True).indices.tolist() == [1, 2, 0, 3]
    assert ember.topk(x, 2).indices.tolist() == [1, 2]


def test_dim_checks_on_0d():
    with pytest.raises(IndexError, match="Dimension out of range"):
        ember.transpose(ember.tensor(1.0), 1, -1)
    with pytest.raises(IndexError, match="Dimension out of range"):
        ember.argsort(ember.tensor(1.0), dim=1)


def test_clamp_wraps_integer_bounds_like_pytorch():
    out = ember.clamp(ember.tensor([1, 3, 0, 2], dtype=ember.uint8), min=-1, max=1)
    assert out.tolist() == [1, 1, 1, 1] and out.dtype is ember.uint8  # -1 is 255 on uint8: min > max gives max


def test_integer_cumsum_of_a_tensor_requiring_grad():
    with pytest.raises(RuntimeError, match="Autograd not support dtype: Long"):
        ember.cumsum(ember.ones(2, requires_grad=True), 0, dtype=ember.int64)
    assert math.isnan(ember.median(ember.empty(0, requires_grad=True)).item())


def test_integer_powers():
    base = ember.tensor([2, 1, -1, -1, 3], dtype=ember.int64)
    exp = ember.tensor([-1, -2, -3, -2, 2], dtype=ember.int64)
    assert ember.pow(base, exp).tolist() == [0, 1, -1, 1, 9]  # recorded from PyTorch 2.13
    with pytest.raises(RuntimeError, match="Integers to negative integer powers are not allowed"):
        ember.pow(ember.tensor([1, 2], dtype=ember.uint8), -1)


def test_out_of_range_python_number_for_the_dtype_is_runtime_error():
    with pytest.raises(RuntimeError, match="value cannot be converted to type"):
        F.pad(ember.ones(2, 2, dtype=ember.uint8), (1, 1), value=-1)


# (huber_loss is computed in the input's dtype instead: see test_edges_parity.py)
@pytest.mark.parametrize("loss", [F.l1_loss, F.mse_loss, F.smooth_l1_loss])
@pytest.mark.filterwarnings("ignore:Using a target size")
def test_pointwise_losses_broadcast_before_promoting(loss):
    # PyTorch expands both operands first, so a 0-d float64 target makes the loss float64
    assert loss(ember.ones(3), ember.tensor(0.5, dtype=ember.float64)).dtype is ember.float64


def test_threshold_and_heaviside_edges():
    out = F.threshold(ember.tensor([NAN, 0.5, 2.0]), 1.0, 0.0)
    assert math.isnan(out[0].item()) and out[1:].tolist() == [0.0, 2.0]
    with pytest.raises(RuntimeError, match="must match the size of tensor b"):
        ember.heaviside(ember.ones(2, 3), ember.ones(4))


def test_reductions_without_identity_on_empty():
    with pytest.raises(RuntimeError, match="cannot compute aminmax over an empty dimension"):
        ember.aminmax(ember.empty(0, 2))
    with pytest.raises(IndexError, match="aminmax: Expected reduction dim 0 to have non-zero size"):
        ember.aminmax(ember.empty(0, 2), dim=0)
    assert ember.aminmax(ember.empty(0, 2), dim=1).min.shape == (0,)
    with pytest.raises(RuntimeError, match="cannot compute the inf norm"):
        ember.norm(ember.empty(2, 0), p=float("inf"), dim=1)


def test_cross_shape_errors():
    with pytest.raises(RuntimeError, match="inputs must have the same number of dimensions"):
        ember.cross(ember.ones(2, 3), ember.ones(3))
    with pytest.raises(RuntimeError, match="must have length 3"):
        ember.cross(ember.ones(2, 2), ember.ones(2, 2))


def test_var_gradient_is_pytorchs_formula():
    g = _grad(lambda x: x.var(correction=0), [-INF, 1.97])
    assert math.isnan(g[0]) and g[1] == INF  # recorded from PyTorch 2.13
    g = _grad(lambda x: x.var(-1, correction=2), [[1.89], [2.53]])  # N - correction = -1
    assert g == [[-0.0], [-0.0]]
    x = ember.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: ember.var(t, 1), (x,))
    assert ember.autograd.gradgradcheck(lambda t: ember.var(t, 1), (x,))


def test_logaddexp_gradient_with_an_infinite_operand():
    a = ember.tensor([INF, -2.45], dtype=ember.float64, requires_grad=True)
    b = ember.tensor([1.29, 2.67], dtype=ember.float64, requires_grad=True)
    ember.logaddexp2(a, b).sum().backward()
    assert a.grad[0].item() == 1.0 and b.grad[0].item() == 0.0
    assert a.grad[1].item() == pytest.approx(1 / (1 + 2 ** (2.67 + 2.45)))


def test_topk_k0_of_0d_gives_the_scalar_back():
    v, i = ember.topk(ember.tensor(0.5), 0, dim=0)
    assert v.shape == () and v.item() == 0.5 and i.item() == 0  # as PyTorch 2.13


@pytest.mark.parametrize("diagonal", [-3, -1, 0, 1, 4])
@pytest.mark.parametrize("shape", [(5, 5), (3, 4, 6), (6, 3)])
def test_tril_triu_masks_match_numpy(shape, diagonal):
    x = np.arange(np.prod(shape), dtype=np.float32).reshape(shape) + 1
    np.testing.assert_array_equal(ember.tril(ember.tensor(x), diagonal).numpy(), np.tril(x, diagonal))
    np.testing.assert_array_equal(ember.triu(ember.tensor(x), diagonal).numpy(), np.triu(x, diagonal))
    flags = x % 2 == 0
    assert ember.triu(ember.tensor(flags), diagonal).dtype == ember.bool
    np.testing.assert_array_equal(ember.triu(ember.tensor(flags), diagonal).numpy(), np.triu(flags, diagonal))
