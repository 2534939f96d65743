"""index_put(_), Tensor.put(_), masked_scatter(_), index_reduce(_), Tensor.fill_diagonal_ and histogram at the
points where the differential suite (tests/parity/optable_writes.py) found them disagreeing with PyTorch 2.13.
Expected values are hand-computed or recorded from PyTorch 2.13 (quoted)."""

import math

import pytest

import ember
from ember.autograd import gradcheck


def _f64(values, grad=True):
    return ember.tensor(values, dtype=ember.float64, requires_grad=grad)


# ---- index_put ------------------------------------------------------------------------------------


def test_index_put_accumulate_is_differentiable_in_values():
    x, v = _f64([1.06, 0.41]), _f64([1.0, 2.0])
    y = ember.index_put(x, (ember.tensor([1, 1]),), v, accumulate=True)
    assert y.tolist() == pytest.approx([1.06, 3.41])
    y.backward(ember.tensor([0.5, -2.0], dtype=ember.float64))
    assert x.grad.tolist() == [0.5, -2.0] and v.grad.tolist() == [-2.0, -2.0]
    idx = (ember.tensor([0, 2, 0]), ember.tensor([1, 0, 1]))
    assert gradcheck(lambda a, b: ember.index_put(a, idx, b, accumulate=True),
                     (_f64([[0.5, 1.0], [2.0, -1.0], [0.25, 3.0]]), _f64([1.5])))


def test_index_put_dtype_rules():
    x = ember.zeros(2, 3, dtype=ember.float64)
    with pytest.raises(RuntimeError, match="Index put requires the source and destination dtypes match, got Double "
                                           "for the destination and Byte for the source."):
        ember.index_put(x, (ember.tensor([1]),), ember.tensor([1], dtype=ember.uint8))
    # PyTorch's masked_fill path: one boolean mask and a one-element value of another dtype is cast
    y = ember.index_put(x, (ember.tensor([True, False]),), ember.tensor([2], dtype=ember.uint8))
    assert y.dtype == ember.float64 and y.tolist() == [[2.0, 2.0, 2.0], [0.0, 0.0, 0.0]]
    with pytest.raises(RuntimeError, match="dtypes match"):
        ember.index_put(x, (ember.tensor([True, False]),), ember.tensor([2], dtype=ember.uint8), accumulate=True)


def test_index_put_errors():
    x = ember.zeros(2, 3)
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 0 with size 2"):
        ember.index_put(x, (ember.tensor([5]),), ember.tensor([1.0]))
    with pytest.raises(RuntimeError, match=r"shape mismatch: value tensor of shape \[2\] cannot be broadcast to "
                                           r"indexing result of shape \[1, 3\]"):
        ember.index_put(x, (ember.tensor([1]),), ember.tensor([1.0, 2.0]), accumulate=True)


# ---- put ------------------------------------------------------------------------------------------


def test_put_accumulate_is_differentiable_and_accepts_any_index_shape():
    x, s = _f64([[0.23, -2.17], [-1.03, -0.42]]), _f64([[-1.94, 0.81]])
    y = x.put(ember.tensor([[3, 3]]), s, accumulate=True)
    assert y[1, 1].item() == pytest.approx(-0.42 - 1.94 + 0.81)
    y.backward(ember.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=ember.float64))
    assert s.grad.tolist() == [[4.0, 4.0]]
    assert gradcheck(lambda a, b: a.put(ember.tensor([0, -1, 0]), b, accumulate=True),
                     (_f64([[0.5, 1.0], [2.0, -1.0]]), _f64([1.5, -0.5, 2.0])))


def test_put_on_a_0d_tensor_and_its_errors():
    assert ember.tensor(-2.18).put(ember.tensor([0]), ember.tensor([2.0])).tolist() == 2.0
    x = ember.zeros(2, 3)
    with pytest.raises(IndexError, match="out of range: tried to access index -7 on a tensor of 6 elements."):
        x.put(ember.tensor([-7]), ember.tensor([1.0]))
    with pytest.raises(IndexError, match="source.numel\\(\\) = 1, index.numel\\(\\) = 2"):
        x.put(ember.tensor([1, 2]), ember.tensor([1.0]))
    with pytest.raises(RuntimeError, match="self.dtype = Float and source.dtype = Double"):
        x.put(ember.tensor([1]), ember.tensor([1.0], dtype=ember.float64))
    with pytest.raises(RuntimeError, match="Expected a long tensor for index, but got Int"):
        x.put(ember.tensor([1], dtype=ember.int32), ember.tensor([1.0]))


# ---- masked_scatter -------------------------------------------------------------------------------


def test_masked_scatter_broadcasts_input_and_mask():
    x = ember.tensor([[1.0, 2.0]])
    mask = ember.tensor([[[False, True]], [[True, True]]])
    y = ember.masked_scatter(x, mask, ember.tensor([10.0, 20.0, 30.0, 40.0]))
    assert y.tolist() == [[[1.0, 10.0]], [[20.0, 30.0]]]  # PyTorch 2.13: shape [2, 1, 2]


def test_masked_scatter_errors():
    with pytest.raises(RuntimeError, match="expected self and source to have same dtypes but gotBool and Long"):
        ember.masked_scatter(ember.tensor([False]), ember.tensor([False]), ember.tensor([0]))
    with pytest.raises(RuntimeError, match="Number of elements of source < number of ones in mask"):
        ember.tensor([2, 1]).masked_scatter_(ember.tensor(True), ember.tensor([[3]]))


def test_masked_scatter_gradcheck():
    mask = ember.tensor([[True, False], [True, True]])
    assert gradcheck(lambda a, s: ember.masked_scatter(a, mask, s),
                     (_f64([[0.5, 1.0], [2.0, -1.0]]), _f64([1.5, -0.5, 2.0, 7.0])))


# ---- index_reduce ---------------------------------------------------------------------------------


def test_index_reduce_keeps_infinite_inputs_out_of_nan():
    # amax without self over a column whose self is -inf: PyTorch 1.58 (ember's old gradient carrier made it nan)
    x = _f64([[0.11, -math.inf]])
    y = ember.index_reduce(x, 0, ember.tensor([0, 0]), _f64([[0.0, 1.58], [1.58, -0.28]]), "amax", include_self=False)
    assert y.tolist() == [[1.58, 1.58]]
    y = ember.index_reduce(_f64([[2.28, -math.inf]]), 1, ember.tensor([0]), _f64([[1.0]]), "amin")
    assert y.tolist() == [[1.0, -math.inf]]


def test_index_reduce_prod_gradient_at_a_zero_source_is_the_product_of_the_others():
    x, s = _f64([-0.06, -0.01]), _f64([-1.17, 0.0, 1.64])
    x.index_reduce(0, ember.tensor([0, 1, 0]), s, "prod", include_self=False).backward(
        ember.tensor([0.5, 2.0], dtype=ember.float64))
    assert s.grad.tolist() == pytest.approx([0.5 * 1.64, 2.0, 0.5 * -1.17])  # PyTorch 2.13: 2.0 at the zero
    assert x.grad.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
def test_index_reduce_gradcheck(reduce):
    idx = ember.tensor([1, 0, 1])
    for include_self in (True, False):
        assert gradcheck(lambda a, s: a.index_reduce(0, idx, s, reduce, include_self=include_self),
                         (_f64([[0.3, 1.2], [-0.7, 0.45]]), _f64([[0.8, -0.6], [1.7, 0.9], [-0.4, 2.2]])))


# ---- fill_diagonal_ -------------------------------------------------------------------------------


def test_fill_diagonal_is_recorded_by_autograd():
    x = _f64([[-1.61, 2.18, -1.08], [-0.7, -0.68, 1.28], [2.79, 2.09, -0.37], [-2.26, 2.19, 1.34]])
    y = x.clone().fill_diagonal_(1.0, wrap=True)
    y.backward(ember.ones(4, 3, dtype=ember.float64))
    assert x.grad.tolist() == [[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0], [1.0, 1.0, 1.0]]
    assert gradcheck(lambda a: a.clone().fill_diagonal_(0.5), (_f64([[0.5, 1.0, 2.0], [2.0, -1.0, 0.3]]),))


def test_fill_diagonal_value_range():
    # PyTorch: a negative int wraps into uint8 (also on an empty tensor); a negative float overflows
    assert ember.zeros(2, 2, dtype=ember.uint8).fill_diagonal_(-3).tolist() == [[253, 0], [0, 253]]
    assert ember.empty(0, 4, dtype=ember.uint8).fill_diagonal_(-3, wrap=True).shape == (0, 4)
    with pytest.raises(RuntimeError, match="value cannot be converted to type uint8_t without overflow"):
        ember.empty(0, 3, dtype=ember.uint8).fill_diagonal_(-0.75)
    with pytest.raises(RuntimeError, match="value cannot be converted to type uint8_t without overflow"):
        ember.zeros(1, 1, dtype=ember.uint8).fill_diagonal_(-0.75)


# ---- histogram ------------------------------------------------------------------------------------


def test_histogram_edges_are_pytorchs_linspace():
    assert ember.histogram(ember.empty(0), 2).bin_edges.tolist() == [0.0, 0.5, 1.0]  # PyTorch: [0, 1] when empty
    # the middle edge is PyTorch's float32 linspace value 0.06000000238..., so 0.0599999986... falls in bin 0
    hist, edges = ember.histogram(ember.tensor(0.05999999865889549), 2, density=True)
    assert hist.tolist() == [2.0, 0.0] and edges.tolist()[1] == pytest.approx(0.06000000238418579, abs=0)
    # PyTorch 2.13: 5 bins over [0.37, 2.5] in float32
    e = ember.histogram(ember.tensor([0.37, 1.11, 2.5]), 5).bin_edges
    assert e.tolist() == [0.3700000047683716, 0.7960000038146973, 1.2220001220703125, 1.6480000019073486,
                          2.0739998817443848, 2.5]
    with pytest.raises(RuntimeError, match="range \\[nan, nan\\] is not finite"):
        ember.histogram(ember.tensor([math.nan, 1.0]), 2)


def test_histc_bins_values_in_the_input_dtype():
    # float32 (-0.4 + 2) * 5 / 4 is just below 2: PyTorch 2.13 puts -0.4 in bin 1, float64 arithmetic in bin 2
    x = ember.tensor([-0.47, -2.03, -2.53, 2.49, -2.95, -0.4, 0.19, -0.63, -2.71])
    assert ember.histc(x, bins=5, min=-2, max=2).tolist() == [0.0, 2.0, 2.0, 0.0, 0.0]
