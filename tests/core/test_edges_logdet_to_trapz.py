"""Disagreements with PyTorch found by the differential suite (tests/parity, issue 19) in logdet, ldexp,
linalg.slogdet, linalg.vector_norm, nanmedian, nextafter, scatter_reduce, take_along_dim, trapezoid/trapz,
adaptive_max_pool1d, group_norm, meshgrid and sum_to_size. Expected values are hand-computed or recorded from
PyTorch 2.13 (quoted in each test)."""

import math

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck


def _f64(values, grad=True):
    return ember.tensor(values, dtype=ember.float64, requires_grad=grad)


# ---- nextafter ------------------------------------------------------------------------------------


def test_nextafter_gradient_is_the_identity_except_where_input_equals_other():
    a, b = _f64([1.0, 2.0, -0.0]), _f64([3.0, 2.0, 0.0])
    ember.nextafter(a, b).backward(ember.tensor([0.5, 0.5, 0.5], dtype=ember.float64))
    assert a.grad.tolist() == [0.5, 0.0, 0.0]  # PyTorch 2.13: equal inputs (-0.0 == 0.0) get 0
    assert b.grad.tolist() == [0.0, 0.0, 0.0]


# ---- ldexp ----------------------------------------------------------------------------------------


def test_ldexp_with_an_integer_exponent_keeps_the_mantissa_dtype():
    assert ember.ldexp(ember.tensor(0.86, dtype=ember.float64), ember.tensor([0])).dtype == ember.float64
    h = ember.ldexp(ember.tensor([-1.0, 2.0], dtype=ember.float16), ember.tensor([-2, 3], dtype=ember.int16))
    assert h.dtype == ember.float16 and h.tolist() == [-0.25, 16.0]
    assert ember.ldexp(ember.tensor([1, 2]), ember.tensor([1, 2], dtype=ember.int16)).dtype == ember.float32


def test_ldexp_float_exponent_promotes_as_pytorch():
    # PyTorch: a float64 mantissa forms 2 ** e from a float64 0-d base, so two 0-d inputs compute in float64
    y = ember.ldexp(ember.tensor(1.0, dtype=ember.float64), ember.tensor(0.199951171875, dtype=ember.float16))
    assert y.dtype == ember.float64 and y.item() == pytest.approx(2 ** 0.199951171875, rel=1e-12)
    assert ember.ldexp(ember.tensor([1.0], dtype=ember.float16), ember.tensor([1.0], dtype=ember.float64)).dtype == ember.float64


def test_ldexp_takes_tensors_only():
    with pytest.raises(TypeError, match="argument 'other'"):
        ember.ldexp(ember.tensor([1.0]), 2)


def test_ldexp_gradients():
    x = _f64([1.5, 2.0])
    ember.ldexp(x, ember.tensor([-2, 3])).sum().backward()
    assert x.grad.tolist() == [0.0, 8.0]  # PyTorch: grad * 2 ** e in integers, 0 for a negative e
    assert gradcheck(ember.ldexp, (_f64([1.5, -2.0, 0.25]), _f64([[0.3], [1.2]])))
    # the exponent's gradient is formed elementwise before the broadcast sum: +inf and -inf terms give nan
    m, e = _f64([[-1.0], [2.0]]), _f64([math.inf])
    ember.ldexp(m, e).sum().backward()
    assert math.isnan(e.grad.item())


# ---- linalg.vector_norm ---------------------------------------------------------------------------


def test_vector_norm_inf_norms_of_empty_tensors_raise_only_over_an_empty_dim():
    with pytest.raises(RuntimeError, match="inf norm on an empty tensor"):
        ember.linalg.vector_norm(ember.empty(0, 3), ord=math.inf)
    with pytest.raises(RuntimeError, match="on the dimension -2because this dimension is empty"):
        ember.linalg.vector_norm(ember.empty(0, 2), ord=math.inf, dim=-2)
    # PyTorch: a non-empty reduced dim of an empty tensor is fine, even for -inf
    assert ember.linalg.vector_norm(ember.empty(0, 2, 3), ord=-math.inf, dim=-1, keepdim=True).shape == (0, 2, 1)


def test_vector_norm_below_one_has_a_zero_gradient_at_zero_elements():
    x = _f64([3.0, 0.0, 1.0])
    ember.linalg.vector_norm(x, ord=0.5).backward()
    norm = (math.sqrt(3) + 1) ** 2
    assert x.grad.tolist() == pytest.approx([3 ** -0.5 * norm ** 0.5, 0.0, norm ** 0.5])  # PyTorch: 0, not nan
    assert gradcheck(lambda t: ember.linalg.vector_norm(t, ord=0.5, dim=1), (_f64([[3.0, -1.5], [0.5, 2.0]]),))


# ---- nanmedian ------------------------------------------------------------------------------------


def test_nanmedian_over_an_empty_dim_raises_index_error():
    with pytest.raises(IndexError, match=r"median\(\): Expected reduction dim 1 to have non-zero size."):
        ember.nanmedian(ember.empty(3, 0, 0), dim=-2)
    assert ember.nanmedian(ember.empty(0, 3), dim=1).values.shape == (0,)


# ---- take_along_dim -------------------------------------------------------------------------------


def test_take_along_dim_reduces_indices_modulo_the_size():
    x = ember.arange(6.0).reshape(2, 3)
    # PyTorch 2.13: [[7, -7, 100, -100]] along a size-3 dim picks columns 1, 2, 1, 2
    assert ember.take_along_dim(x, ember.tensor([[7, -7, 100, -100]]), dim=1).tolist() == [[1, 2, 1, 2], [4, 5, 4, 5]]
    with pytest.raises(RuntimeError, match="index -1 is out of bounds"):
        ember.take_along_dim(x, ember.tensor([-1, 0]))  # flattened: no wrapping
    with pytest.raises(RuntimeError, match="dtype of indices should be Long but got Int"):
        ember.take_along_dim(x, ember.tensor([[1]], dtype=ember.int32), dim=1)
    with pytest.raises(RuntimeError, match="dtype of indices should be Long but got Float$"):
        ember.take_along_dim(x, ember.tensor([[1.0]]), dim=1)  # PyTorch's names: Float, not Float32
    x = _f64([[0.0, 1.0, 2.0]])
    ember.take_along_dim(x, ember.tensor([[-1, 2]]), dim=1).sum().backward()
    assert x.grad.tolist() == [[0.0, 0.0, 2.0]]


# ---- trapezoid / trapz ----------------------------------------------------------------------------


def test_trapezoid_with_uniform_spacing_follows_pytorchs_order_of_operations():
    assert math.isnan(ember.trapz(ember.tensor([-math.inf])).item())  # sum - (first + last) / 2: inf - inf
    y = ember.trapezoid(ember.tensor([[2.15, 0.0], [1.89, -math.inf]]))
    assert y[0].item() == pytest.approx(1.075) and math.isnan(y[1].item())
    assert ember.trapezoid(ember.tensor([1.0, 2.0, 4.0]), dx=0.5).item() == pytest.approx(2.25)
    assert gradcheck(lambda t: ember.trapezoid(t, dx=0.5), (_f64([[1.0, 2.0, -4.0], [0.5, 0.25, 3.0]]),))


# ---- top-level group_norm and adaptive_max_pool1d (ATen's forms) ----------------------------------


def test_torch_level_group_norm_accepts_one_value_per_group():
    assert ember.group_norm(ember.tensor([[[-2.7]]]), 1).tolist() == [[[0.0]]]  # PyTorch: var 0, value 0
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        ember.nn.functional.group_norm(ember.tensor([[[-2.7]]]), 1)


def test_torch_level_adaptive_max_pool1d_returns_values_and_indices():
    x = ember.tensor([[[-0.24, -1.46, -2.43, -2.69]]])
    values, indices = ember.adaptive_max_pool1d(x, 3)
    assert values[0, 0].tolist() == pytest.approx([-0.24, -1.46, -2.43]) and indices.tolist() == [[[0, 1, 2]]]
    assert ember.nn.functional.adaptive_max_pool1d(x, 3).shape == (1, 1, 3)  # F keeps return_indices=False


# ---- meshgrid, sum_to_size ------------------------------------------------------------------------


def test_meshgrid_refuses_mixed_dtypes_and_higher_ranks():
    with pytest.raises(RuntimeError, match="meshgrid expects all tensors to have the same dtype"):
        ember.meshgrid(ember.tensor([1.0, 2.0], dtype=ember.float64), ember.tensor([1.0]), indexing="ij")
    with pytest.raises(RuntimeError, match="Expected 0D or 1D tensor"):
        ember.meshgrid(ember.ones(2, 2), ember.ones(3), indexing="ij")
    with pytest.raises(RuntimeError, match="non-empty TensorList"):
        ember.meshgrid(indexing="ij")


def test_sum_to_size_of_integers_sums_in_int64():
    x = ember.full((3, 2), 200, dtype=ember.uint8)
    s = x.sum_to_size(1, 2)
    assert s.dtype == ember.int64 and s.tolist() == [[600, 600]]
    assert x.sum_to_size(3, 2).dtype == ember.uint8  # nothing summed: the input itself
    assert ember.ones(3, 2, dtype=ember.bool).sum_to_size(2).dtype == ember.int64


# ---- scatter_reduce -------------------------------------------------------------------------------


@pytest.mark.parametrize("reduce", ["prod", "amax", "amin"])
def test_scatter_reduce_prod_amax_amin_are_differentiable(reduce):
    x = _f64([[2.52], [-1.06], [2.54]])
    y = ember.scatter_reduce(x, 0, ember.tensor([[2], [0], [1]]), _f64([[0.2], [0.34], [0.77]]), reduce=reduce)
    assert y.requires_grad  # PyTorch: the result requires grad when an input does
    idx = ember.tensor([[0, 2], [2, 2], [0, 1]])
    for include_self in (True, False):
        assert gradcheck(lambda a, s: ember.scatter_reduce(a, 0, idx, s, reduce, include_self=include_self),
                         (_f64([[0.3, 1.2], [-0.7, 0.45], [1.1, -2.0]]), _f64([[0.8, -0.6], [1.7, 0.9], [-0.4, 2.2]])))


def test_scatter_reduce_gradients_at_ties_and_zeros_match_pytorch():
    # amax with a tie between self and src: PyTorch splits the gradient evenly (0.5 each)
    x, s = _f64([[1.0, 5.0]]), _f64([[1.0, 2.0]])
    ember.scatter_reduce(x, 0, ember.tensor([[0, 0]]), s, "amax").backward(ember.ones(1, 2, dtype=ember.float64))
    assert x.grad.tolist() == [[0.5, 1.0]] and s.grad.tolist() == [[0.5, 0.0]]
    # amax with include_self=False: PyTorch still counts self in the tie (its formula), then zeroes self's share
    x, s = _f64([[3.0]]), _f64([[3.0]])
    ember.scatter_reduce(x, 0, ember.tensor([[0]]), s, "amax", include_self=False).backward(ember.ones(1, 1, dtype=ember.float64))
    assert x.grad.tolist() == [[0.0]] and s.grad.tolist() == [[0.5]]
    # prod with one zero factor: that factor's gradient is the product of the others
    x, s = _f64([[2.0]]), _f64([[0.0], [3.0]])
    ember.scatter_reduce(x, 0, ember.tensor([[0], [0]]), s, "prod").backward(ember.ones(1, 1, dtype=ember.float64))
    assert x.grad.tolist() == [[0.0]] and s.grad.tolist() == [[6.0], [0.0]]


# ---- logdet / linalg.slogdet ----------------------------------------------------------------------


def test_slogdet_sign_requires_grad_and_gradchecks():
    A = _f64([[2.432, -0.421], [-0.818, 2.278]])
    sign, logabs = ember.linalg.slogdet(A)
    assert sign.requires_grad and logabs.requires_grad  # PyTorch: both outputs are differentiable
    assert gradcheck(lambda a: ember.linalg.slogdet(a)[1], (_f64([[[2.0, 0.5, -1.0], [0.3, -1.5, 0.2], [1.0, 0.0, 3.0]]]),))
    assert gradcheck(ember.logdet, (_f64([[2.0, 0.5], [0.3, 1.5]]),))


def test_logdet_of_a_near_singular_float32_matrix_is_pytorchs_rounding_not_minus_inf():
    # PyTorch factors A^T with fused updates: 3 * (-2 - (-2/3) * 3) leaves 2 ** -24 * 3, not 0
    y = ember.logdet(ember.tensor([[3.0, -2.0], [3.0, -2.0]]))
    assert y.item() == pytest.approx(-15.5369, abs=1e-4)  # PyTorch 2.13: -15.5369
    s, l = ember.linalg.slogdet(ember.tensor([[3.0, -2.0], [3.0, -2.0]], dtype=ember.float64))
    assert s.item() == -1.0 and l.item() == pytest.approx(-35.6382, abs=1e-4)  # PyTorch 2.13


@pytest.mark.parametrize("matrix, want", [
    # recorded from PyTorch 2.13: the gradient of logdet at a singular matrix (infs and nans, no error)
    ([[-0.0, -0.0], [1.0, -1.0]], [[-math.inf, -math.inf], [-0.0, -1.0]]),
    ([[1.0, 1.0], [-1.0, -1.0]], [[-math.inf, math.inf], [-math.inf, math.inf]]),
    ([[0.0, 1.0], [-0.0, 1.0]], [[math.inf, math.nan], [-math.inf, math.nan]]),
    ([[2.0, 0.0], [0.0, 0.0]], [[math.nan, math.nan], [math.nan, math.inf]]),
])
def test_logdet_gradient_at_a_singular_matrix_is_pytorchs(matrix, want):
    A = _f64(matrix)
    ember.logdet(A).backward()
    got = A.grad.numpy()
    np.testing.assert_array_equal(got, np.array(want))
    num = ~np.isnan(got)
    assert np.array_equal(np.signbit(got[num]), np.signbit(np.array(want)[num]))  # -0.0 included


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_slogdet_of_large_random_matrices_takes_lapack_not_the_exact_path(monkeypatch, dtype):
    # the exact (PyTorch-rounding) path is a Python loop over the columns: kept for rounding-level pivots only
    from ember.ops import _lapack

    monkeypatch.setattr(_lapack, "slogdet_fused", lambda a: pytest.fail("exact path taken for a regular matrix"))
    a = np.random.default_rng(0).standard_normal((2, 300, 300)).astype(dtype)
    sign, logabs = ember.linalg.slogdet(ember.tensor(a))
    want_sign, want = np.linalg.slogdet(a.astype(np.float64))
    assert sign.tolist() == want_sign.tolist()
    np.testing.assert_allclose(logabs.numpy(), want, rtol=1e-5 if dtype == np.float32 else 1e-12)


def test_slogdet_batch_mixing_singular_and_regular_matrices():
    A = _f64([[[1.0, 1.0], [-1.0, -1.0]], [[2.0, 1.0], [1.0, 3.0]]])
    sign, logabs = ember.linalg.slogdet(A)
    assert sign.tolist() == [0.0, 1.0] and logabs[1].item() == pytest.approx(math.log(5.0))
    logabs.backward(ember.ones(2, dtype=ember.float64))
    np.testing.assert_allclose(A.grad[1].numpy(), np.linalg.inv([[2.0, 1.0], [1.0, 3.0]]).T, rtol=1e-12)
    assert np.isinf(A.grad[0].numpy()).all()
    with pytest.raises(RuntimeError, match="second derivative"):
        B = _f64([[1.0, 1.0], [-1.0, -1.0]])
        (g,) = ember.autograd.grad(ember.logdet(B), B, create_graph=True)
        g.sum().backward()


# ---- torch.norm / vector_norm with inf and nan elements (seeds 1-4 x 300 of the norm entry) --------------


def test_norm_two_of_a_vector_with_an_inf_has_zero_gradient_at_its_finite_elements():
    x = _f64([[1.56, -math.inf], [3.0, 4.0]])
    ember.norm(x, dim=1, p=2).backward(ember.tensor([1.0, 1.0], dtype=ember.float64))
    g = x.grad.numpy()
    assert g[0, 0] == 0.0 and math.isnan(g[0, 1])  # PyTorch: x * g / norm, 1.56 / inf = 0 and inf / inf = nan
    assert g[1].tolist() == pytest.approx([0.6, 0.8])
    assert gradcheck(lambda t: ember.norm(t, dim=0, p=3), (_f64([[1.0, -2.0], [0.5, 3.0]]),))


def test_inf_norm_gradient_takes_a_nan_element_as_the_maximum():
    x = _f64([[-1.15, math.nan, 0.61], [1.0, 2.0, 2.0]])
    for norm in (lambda t: ember.norm(t, dim=1, p=math.inf), lambda t: ember.linalg.vector_norm(t, math.inf, dim=1)):
        (g,) = ember.autograd.grad(norm(x), x, ember.tensor([2.0, 3.0], dtype=ember.float64))
        g = g.numpy()
        assert g[0, 0] == 0.0 and g[0, 2] == 0.0  # PyTorch 2.13: 0, not nan, beside the nan
        assert g[1].tolist() == [0.0, 1.5, 1.5]
    with pytest.raises(RuntimeError, match="inf norm on an empty tensor"):
        ember.norm(ember.empty(0, 3), p=math.inf)
