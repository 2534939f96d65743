"""Edge cases of block_diag, cartesian_prod, combinations (structure.py), cov (statistics.py) and
cummax/cummin (cumulative.py) where PyTorch 2.13 was found to differ (issue 19): dtypes, shapes,
requires_grad, warnings and errors as PyTorch gives them, gradients by float64 gradcheck."""


import numpy as np
import pytest

import ember

f32, f64 = ember.float32, ember.float64


def t64(a, grad=True):
    return ember.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


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
