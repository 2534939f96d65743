"""Disagreements with PyTorch 2.13 found by the differential suite (tests/parity), second round: gradients
at N <= correction, at (0, 0) and at 0 ** -1, nan through piecewise functions, the overflow check of a filled
Python number, the shape rules of the add*mm family and of soft_margin_loss. Expected values are
hand-computed from PyTorch's formulas (derivatives.yaml) and checked against PyTorch 2.13."""

import math

import numpy as np
import pytest

import ember
import ember.nn.functional as F

nan, inf = math.nan, math.inf


def _grad(fn, *xs, weight=None):
    leaves = [ember.tensor(x, dtype=ember.float64, requires_grad=True) for x in xs]
    out = fn(*leaves)
    if weight is not None:
        out = out * ember.tensor(weight, dtype=ember.float64)
    return [g.numpy() for g in ember.autograd.grad(out.sum(), leaves, allow_unused=True)]


# ---- reductions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "x, correction, expected",
    [
        ([2.58, 2.28], 2, [-inf, -inf]),  # N == correction: grad * inf, whatever the sign of x - mean
        ([2.58, 2.58], 3, [nan, nan]),  # an element equal to the mean: inf * 0
        ([inf, -2.85], 2, [nan, -inf]),  # inf == mean(inf, ...) counts as equal
        ([inf], 1, [nan]),
    ],
)
def test_var_gradient_over_all_elements_at_n_le_correction(x, correction, expected):
    (g,) = _grad(lambda t: ember.var(t, correction=correction), x, weight=-1.0)
    np.testing.assert_array_equal(g, expected)
    (g,) = _grad(lambda t: ember.var_mean(t, correction=correction)[0], x, weight=-1.0)
    np.testing.assert_array_equal(g, expected)


def test_var_gradient_of_a_0d_tensor_with_dim():
    (g,) = _grad(lambda t: ember.var(t, dim=-1, keepdim=True, correction=2), -1.96)
    assert math.isnan(g)


def test_var_gradient_over_a_dim_keeps_the_plain_formula():
    # with dim given PyTorch keeps 2 (x - mean) / (N - correction), negative N - correction included
    (g,) = _grad(lambda t: ember.var(t, dim=0, correction=3), [1.0, 3.0])
    np.testing.assert_allclose(g, [2.0, -2.0])


# ---- shapes -------------------------------------------------------------------------------------


def test_roll_of_an_empty_tensor_checks_no_dims():
    x = ember.empty(0, 0, 3, 1, dtype=ember.bool)
    y = ember.roll(x, shifts=-1, dims=4)  # PyTorch returns an empty input before looking at dims
    assert y.shape == (0, 0, 3, 1) and y.dtype == ember.bool
    with pytest.raises(IndexError):
        ember.roll(ember.zeros(2, 3), 1, dims=4)


# ---- subgradients -------------------------------------------------------------------------------


def test_atan2_gradient_at_the_origin_is_zero():
    ga, gb = _grad(ember.atan2, [0.0, -0.0, 1.0], [0.0, -0.0, 1.0])
    np.testing.assert_array_equal(ga, [0.0, 0.0, 0.5])
    np.testing.assert_array_equal(gb, [0.0, 0.0, -0.5])


def test_pow_with_false_exponent_differentiates_through_x_to_the_minus_one():
    # PyTorch zeroes the gradient for a numeric 0 exponent only: False gives 0 * x**-1, nan at 0
    (g,) = _grad(lambda t: ember.pow(t, False), [3.0, 0.0, -2.0])
    np.testing.assert_array_equal(g, [0.0, nan, 0.0])
    (g,) = _grad(lambda t: ember.pow(t, 0), [3.0, 0.0, -2.0])
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.0])


def test_pow_minus_half_is_rsqrt_at_negative_zero():
    x = ember.tensor([-0.0, 0.0, 4.0])
    np.testing.assert_array_equal(ember.pow(x, -0.5).numpy(), [-inf, inf, 0.5])
    (g,) = _grad(lambda t: ember.pow(t, 0.5), [-0.0, 4.0], weight=[0.5, 1.0])
    np.testing.assert_array_equal(g, [-inf, 0.25])


def test_softshrink_passes_nan_through():
    y = F.softshrink(ember.tensor([nan, 0.3, -2.0, 1.0], dtype=ember.float16))
    np.testing.assert_array_equal(y.numpy(), np.array([nan, 0.0, -1.5, 0.5], dtype=np.float16))


@pytest.mark.parametrize("loss", [F.smooth_l1_loss, F.huber_loss])
def test_smooth_losses_give_nan_gradients_at_nan(loss):
    gx, gt = _grad(loss, [1.69, nan, -1.77, 1.0], [1.52, -1.02, nan, inf])
    np.testing.assert_allclose(gx, [0.17 / 4, nan, nan, -0.25], equal_nan=True)
    np.testing.assert_allclose(gt, [-0.17 / 4, nan, nan, 0.25], equal_nan=True)


# ---- Python numbers written into tensors -------------------------------------------------------


@pytest.mark.parametrize(
    "dtype, value, ok",
    [
        (ember.uint8, -0.75, False),
        (ember.uint8, 3.25, True),
        (ember.uint8, -3, True),  # negative ints wrap into unsigned types (two's complement)
        (ember.uint8, 300, False),
        (ember.int8, -1.5, True),
        (ember.int8, 300, False),
        (ember.int64, inf, False),
        (ember.int64, nan, False),
        (ember.float16, 70000.0, False),
        (ember.float16, inf, True),
        (ember.bool, 3.25, True),
    ],
)
def test_masked_fill_checks_the_value_fits_the_dtype(dtype, value, ok):
    x, mask = ember.tensor([0, 1], dtype=dtype), ember.tensor([True, False])
    if ok:
        assert x.masked_fill(mask, value).dtype == dtype
    else:
        with pytest.raises(RuntimeError, match="value cannot be converted to type .* without overflow"):
            x.masked_fill(mask, value)


# ---- shape and dtype rules ----------------------------------------------------------------------


def test_addmm_input_must_expand_to_the_product():
    m1, m2 = ember.ones(2, 0), ember.ones(0, 3)
    with pytest.raises(RuntimeError, match="number of sizes provided"):
        ember.addmm(ember.ones(1, 2, 3), m1, m2)
    with pytest.raises(RuntimeError, match="expanded size"):
        ember.addmm(ember.ones(2), ember.ones(1, 2), ember.ones(2, 1))
    with pytest.raises(RuntimeError):
        ember.baddbmm(ember.ones(2, 2, 2), ember.ones(1, 2, 3), ember.ones(1, 3, 2))
    assert ember.addmm(ember.ones(3), m1, m2).shape == (2, 3)


def test_addmm_with_beta_zero_ignores_input():
    x = ember.tensor([[nan]], requires_grad=True)
    y = ember.addmm(x, ember.ones(1, 1), ember.ones(1, 1), beta=0)
    assert y.item() == 1.0 and y.requires_grad
    y.sum().backward()
    assert x.grad.item() == 0.0
    assert ember.addmv(ember.tensor([nan]), ember.ones(1, 1), ember.ones(1), beta=0).item() == 1.0


def test_huber_and_soft_margin_compute_in_the_input_dtype():
    a, b = ember.randn(2, 3), ember.randn(2, 3, dtype=ember.float64)
    assert F.huber_loss(a, b).dtype == ember.float32
    assert F.soft_margin_loss(a, b).dtype == ember.float32
    assert F.huber_loss(b, a).dtype == ember.float64
    assert F.smooth_l1_loss(a, b).dtype == ember.float64  # smooth_l1 promotes


def test_soft_margin_loss_target_broadcasts_to_the_input_only():
    with pytest.raises(RuntimeError, match=r"output with shape \[1, 1\] doesn't match the broadcast shape \[1, 2\]"):
        F.soft_margin_loss(ember.ones(1, 1), ember.ones(1, 2))
    assert F.soft_margin_loss(ember.ones(3, 2), ember.ones(2), reduction="none").shape == (3, 2)


def test_soft_margin_loss_is_not_differentiable_in_target():
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'target'"):
        F.soft_margin_loss(ember.ones(2), ember.ones(2, requires_grad=True))
    with ember.no_grad():
        F.soft_margin_loss(ember.ones(2), ember.ones(2, requires_grad=True))


# ---- nn.functional: convolution, pooling, attention, activations ---------------------------------


def test_conv_refuses_a_zero_size_spatial_dim_with_nonzero_batch_and_channels():
    with pytest.raises(RuntimeError, match=r"Only zero batch or zero channel inputs are supported, but got input shape: \[1, 1, 3, 0\]"):
        F.conv2d(ember.empty(1, 1, 3, 0), ember.ones(1, 1, 1, 1), padding=1)
    assert F.conv2d(ember.empty(0, 1, 3, 2), ember.ones(2, 1, 1, 1)).shape == (0, 2, 3, 2)


def test_conv3d_and_conv_transpose3d_of_an_empty_batch():
    w = ember.ones(2, 1, 3, 1, 1, requires_grad=True)
    y = F.conv3d(ember.empty(0, 1, 5, 5, 2), w, padding="same")
    assert y.shape == (0, 2, 5, 5, 2)
    y = F.conv_transpose3d(ember.empty(0, 2, 2, 2, 2), w, stride=2)
    assert y.shape == (0, 1, 5, 3, 3)
    y.sum().backward()
    assert w.grad.shape == w.shape and not bool(w.grad.any())


def test_relu_gradient_is_zero_where_the_output_is_zero_even_for_an_infinite_incoming_gradient():
    # lp_pool's pow(1/p) gives an inf gradient at an all-zero window; relu must stop it (a select, not inf * 0)
    x = ember.tensor([[[3.0, 0.0, 1.0]]], dtype=ember.float64, requires_grad=True)
    F.lp_pool1d(x, 2, 1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[[1.0, 0.0, 1.0]]])


def test_prelu_at_inf():
    x = ember.tensor([[[inf, -0.01]]], dtype=ember.float64, requires_grad=True)
    w = ember.tensor([-1.81], dtype=ember.float64, requires_grad=True)
    y = F.prelu(x, w)
    np.testing.assert_allclose(y.detach().numpy(), [[[inf, 0.0181]]])
    y.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [-0.01])  # inf takes no part in the slope's gradient
    np.testing.assert_allclose(x.grad.numpy(), [[[1.0, -1.81]]])


def test_sdpa_float_mask_that_requires_grad_gets_its_gradient():
    q = ember.tensor([[[-1.15]]], dtype=ember.float64)
    k = ember.tensor([[[-1.74], [2.33]]], dtype=ember.float64)
    v = ember.tensor([[[0.12, -0.74], [-2.41, -0.67]]], dtype=ember.float64)
    mask = ember.tensor([[-1.15, 3.0]], dtype=ember.float64, requires_grad=True)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=2.0)
    (g,) = ember.autograd.grad(out.sum(), [mask])
    # d out / d mask_j = p_j (v_j - out) summed over the value dims (softmax's Jacobian)
    s = np.array([-1.15 * -1.74 * 2.0 - 1.15, -1.15 * 2.33 * 2.0 + 3.0])
    p = np.exp(s - s.max()) / np.exp(s - s.max()).sum()
    vv = np.array([[0.12, -0.74], [-2.41, -0.67]])
    o = p @ vv
    np.testing.assert_allclose(g.numpy().ravel(), p * (vv - o).sum(-1), rtol=1e-10)


def test_margin_losses_count_a_term_only_where_it_is_positive():
    # 1 - x[y] + x[2] == 0 exactly: PyTorch's kernel skips it (z > 0), so the gradient is 0
    x = ember.tensor([[2.0, -1.0, 1.0]], dtype=ember.float64, requires_grad=True)
    F.multi_margin_loss(x, ember.tensor([0])).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 0.0, 0.0]])
    x = ember.tensor([[2.0, 3.0]], dtype=ember.float64, requires_grad=True)
    F.multilabel_margin_loss(x, ember.tensor([[1, -1]])).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 0.0]])


def test_hard_gumbel_softmax_over_an_empty_dim_raises_index_error():
    with pytest.raises(IndexError):
        F.gumbel_softmax(ember.empty(2, 1, 0, 3), dim=-2, hard=True)


# ---- tensor methods, linalg, special ------------------------------------------------------------


def test_fill_checks_the_value_fits_the_dtype():
    with pytest.raises(RuntimeError, match="value cannot be converted to type uint8_t without overflow"):
        ember.zeros(2, dtype=ember.uint8).fill_(-0.75)
    assert ember.zeros(2, dtype=ember.uint8).fill_(-3).tolist() == [253, 253]


def test_float32_pinv_lstsq_and_matrix_rank():
    a = ember.tensor([[2.494, -0.542], [0.361, 2.89]])
    np.testing.assert_allclose(ember.linalg.pinv(a).numpy() @ a.numpy(), np.eye(2), atol=1e-5)
    b = ember.tensor([[-0.497], [0.284]])
    np.testing.assert_allclose(ember.linalg.lstsq(a, b).solution.numpy(), np.linalg.solve(a.numpy(), b.numpy()), rtol=1e-5)
    assert ember.linalg.matrix_rank(ember.ones(1, 3)).item() == 1


def test_matrix_power_zero_stays_in_the_graph():
    a = ember.tensor([[2.0, 1.0], [0.0, 3.0]], dtype=ember.float64, requires_grad=True)
    y = ember.linalg.matrix_power(a, 0)
    assert y.requires_grad and y.tolist() == [[1.0, 0.0], [0.0, 1.0]]
    y.sum().backward()
    assert a.grad.tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_xlog1py_gradient_in_input_at_zero_is_log1p_other():
    gx, _ = _grad(ember.special.xlog1py, [0.0, 0.0, 1.0], [0.31, -1.0, 0.5])
    np.testing.assert_allclose(gx, [math.log1p(0.31), 0.0, math.log1p(0.5)])


def test_top_level_dropout_forms_take_aten_arguments():
    # torch.dropout / alpha_dropout / feature_alpha_dropout(input, p, train): both required, `train` by name
    x = ember.ones(4, 3, 5)
    for fn in (ember.dropout, ember.alpha_dropout, ember.feature_alpha_dropout):
        assert ember.equal(fn(x, p=0.5, train=False), x)
        with pytest.raises(TypeError):
            fn(x, 0.5, training=False)
        with pytest.raises(TypeError):
            fn(x)
    ember.manual_seed(0)
    y = ember.dropout(x, 0.5, train=True)
    assert set(np.unique(y.numpy()).tolist()) <= {0.0, 2.0} and (y.numpy() == 0).any()
