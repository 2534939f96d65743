"""Edge cases of block_diag, cartesian_prod, combinations (structure.py), cov (statistics.py) and
cummax/cummin (cumulative.py) where PyTorch 2.13 was found to differ (issue 19): dtypes, shapes,
requires_grad, warnings and errors as PyTorch gives them, gradients by float64 gradcheck."""

import warnings

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck

f32, f64 = ember.float32, ember.float64


def t64(a, grad=True):
    return ember.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


@pytest.mark.parametrize("blocks,want", [
    ((ember.ones(1, 3), ember.tensor(2.0, dtype=f64)), f32),  # a 0-d block ranks below a dimensioned one
    ((ember.tensor(2.0, dtype=f64), ember.ones(0)), f32),
    ((ember.tensor(2.0, dtype=f64), ember.tensor(1)), f64),
    ((ember.tensor(2, dtype=ember.uint8), ember.tensor([1], dtype=ember.int8)), ember.int8),
    ((ember.tensor([2], dtype=ember.uint8), ember.tensor([1], dtype=ember.int8)), ember.int16),
])
def test_block_diag_promotes_as_result_type(blocks, want):
    assert ember.block_diag(*blocks).dtype is want


def test_block_diag_gradients_with_empty_0d_and_1d_blocks():
    # an empty 1-D block is a (1, 0) block: one zero row (PyTorch's backward forgets that row; ember doesn't)
    out = ember.block_diag(ember.empty(0, dtype=f64), t64([[0.5, -1.5, 3.0]], grad=False))
    assert out.tolist() == [[0.0, 0.0, 0.0], [0.5, -1.5, 3.0]]
    for shapes in [((0,), (1, 3)), ((0,), ()), ((), (2,), (2, 1)), ((0, 2), (3,))]:
        rng = np.random.default_rng(len(shapes))
        args = tuple(t64(rng.standard_normal(s)) for s in shapes)
        assert gradcheck(lambda *xs: ember.block_diag(*xs), args)


def test_cartesian_prod_refuses_mixed_dtypes_as_meshgrid_does():
    with pytest.raises(RuntimeError, match="meshgrid expects all tensors to have the same dtype"):
        ember.cartesian_prod(ember.ones(2), ember.ones(2, dtype=f64))
    x = ember.ones(2, requires_grad=True)
    assert ember.cartesian_prod(x) is x
    assert ember.cartesian_prod(ember.ones(2), ember.ones(3)).shape == (6, 2)


def test_combinations_without_combinations_keep_the_graph():
    x = t64([1.5, -0.5])
    none = ember.combinations(x, r=3)
    assert none.shape == (0, 3) and none.requires_grad
    none.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]
    assert ember.combinations(t64([]), r=2).requires_grad
    assert not ember.combinations(x, r=0).requires_grad  # PyTorch: an empty (0,) tensor outside the graph
    assert gradcheck(lambda t: ember.combinations(t, r=2, with_replacement=True), (t64([0.3, -1.2, 2.0]),))


@pytest.mark.parametrize("shape,want", [((2, 3), (2, 2)), ((1, 3), ()), ((3,), ()), ((1, 1), ()), ((0, 3), (0, 0)),
                                        ((2, 1), (2, 2))])
def test_cov_of_one_variable_is_0d(shape, want):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the degrees-of-freedom warning, checked below
        assert ember.cov(ember.ones(shape)).shape == want
        assert ember.corrcoef(ember.ones(shape)).shape == want
    x = t64([[1.39, -1.39, -1.62]])
    assert ember.cov(x, correction=0).shape == ()
    assert gradcheck(lambda t: ember.cov(t, correction=0), (x,))


def test_cov_degrees_of_freedom_and_weights():
    msg = "cov\\(\\): degrees of freedom is <= 0. Correction should be strictly less than the number of observations."
    with pytest.warns(UserWarning, match=msg):
        out = ember.cov(ember.ones(3, 1))  # as PyTorch: 0 / 0
    assert out.shape == (3, 3) and np.isnan(out.numpy()).all()
    with pytest.warns(UserWarning, match=msg):
        assert ember.cov(ember.tensor([[1.0, 2.0]]), correction=2).item() == float("inf")  # norm clamped to 0
    with pytest.warns(UserWarning, match=msg):
        assert np.isnan(ember.cov(ember.ones(3, 0)).numpy()).all()  # no observations: nan, and no other warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ember.cov(ember.tensor([[1.0, 2.0], [3.0, 5.0]])).tolist() == [[0.5, 1.0], [1.0, 2.0]]
    with pytest.raises(RuntimeError, match="cov\\(\\): weights sum to zero, can't be normalized"):
        ember.cov(ember.ones(3, 2), fweights=ember.tensor([0, 0]))


@pytest.mark.parametrize("name", ["cummin", "cummax"])
def test_cumulative_extremes_of_empty_and_0d_inputs(name):
    fn = getattr(ember, name)
    x = ember.empty(3, 0, requires_grad=True)
    for dim in (2, 7, -9):  # PyTorch returns an empty result before it checks dim
        values, indices = fn(x, dim=dim)
        assert values.shape == indices.shape == (3, 0) and values.requires_grad and indices.dtype is ember.int64
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"):
        fn(ember.ones(3, 1), dim=2)
    with pytest.raises(IndexError, match=rf"{name}\(\): Expected reduction dim -1 or 0 for scalar but got 1"):
        fn(ember.tensor(1.0), dim=1)
    values, indices = fn(ember.tensor(1.5), dim=-1)
    assert values.shape == () and values.item() == 1.5 and indices.item() == 0
