"""quantile/nanquantile gradients with tied values: PyTorch sorts with an unstable introsort (rows over 16
elements), so the gradient reaches a particular one of the equal values; ``ember/ops/_std_sort.py`` replays
that order. Expected positions were recorded from PyTorch 2.13 (CPU)."""

import math

import ember
import numpy as np
import pytest
from ember.autograd import gradcheck
from ember.ops._std_sort import _introsort_order, torch_sort_indices

NAN = math.nan

TIES_A = [[[2.0, -0.0, 2.0], [-3.0, -1.0, -1.0], [2.0, -0.0, 1.0]],
          [[-0.0, -2.0, -1.0], [-1.0, 0.0, -0.0], [-2.0, -0.0, -1.0]]]
TIES_B = [[[[0.0, 1.0, 2.0]], [[-2.0, 1.0, -1.0]], [[1.0, 0.0, 3.0]]],
          [[[-1.0, -1.0, -2.0]], [[1.0, -2.0, 1.0]], [[-3.0, -1.0, -0.0]]]]


def _grad(fn, values):
    x = ember.tensor(values, dtype=ember.float64, requires_grad=True)
    fn(x).backward()
    return x.grad.numpy().reshape(-1)


def test_nanquantile_max_tie_goes_where_torch_puts_it():
    g = _grad(lambda x: ember.nanquantile(x, 1.0, interpolation="higher"), TIES_A)
    assert np.nonzero(g)[0].tolist() == [2] and g[2] == 1.0


def test_quantile_linear_ties():
    g = _grad(lambda x: ember.quantile(x, 0.25, interpolation="linear"), TIES_B)
    want = np.zeros(18)
    want[[5, 16]] = [0.25, 0.75]  # recorded from torch
    np.testing.assert_allclose(g, want, rtol=1e-12, atol=0)


# rows with many ties and torch.sort(row).indices (stable=False) for each, recorded from PyTorch 2.13 (CPU)
TORCH_ORDER = [
    ([2, 3, 0, 3, 1, 2, 2, 1, 3, 0, 1, 1, 2, 1, 0, 0, 0], [16, 2, 15, 9, 14, 4, 7, 10, 11, 13, 5, 6, 0, 12, 8, 3, 1]),
    ([0, 0, 3, 0, 2, 3, 0, 1, 1, 1, 3, 0, 3, 3, 3, 0, 1, 2, 1, 2, 2, 2, 0, 3],
     [1, 0, 3, 22, 6, 15, 11, 9, 16, 18, 8, 7, 21, 20, 19, 4, 17, 23, 14, 13, 12, 10, 5, 2]),
    ([2, 3, 1, NAN, 3, 0, 0, 1, 2, NAN, 3, 1, 0, 2, 3, 3, 3, 1, 0, 3, 2, 3, 0, 0, 2, 1, 1, 3, 0, 2, 1, 1, 3, 0, 1,
      0, 0, 1, 2, 2],
     [12, 23, 22, 28, 18, 33, 35, 36, 6, 5, 7, 34, 11, 31, 30, 17, 37, 26, 25, 2, 20, 29, 38, 39, 24, 0, 13, 8, 21,
      27, 19, 16, 15, 14, 32, 10, 4, 1, 9, 3]),
    ([1, 0, 3, 3, 0, 0, 1, 0, 3, 2, 2, 1, 2, 3, 0, 3, 0, 1, 3, 3, 0, 3, 3, 1, 1, 3, 3, 2, 1, 0, 3, 1, 2, 2, 0, 1, 2,
      0, 2, 3, 2, 2, 1, 3, 0, 1, 2, 2, 0, 0, 2, 3, 2, 3, 1, 1, 3, 0, 0, 0, 1, 0, 3, 3, 1, 0, 2, 0, 2, 0],
     [1, 69, 67, 65, 61, 59, 58, 57, 49, 48, 44, 37, 34, 29, 20, 16, 4, 14, 5, 7, 17, 0, 64, 60, 6, 55, 54, 45, 42,
      11, 35, 31, 23, 24, 28, 32, 68, 66, 52, 50, 9, 47, 46, 27, 10, 41, 40, 33, 38, 12, 36, 15, 2, 3, 18, 63, 62, 19,
      21, 22, 30, 56, 25, 26, 53, 13, 51, 8, 39, 43]),
]


@pytest.mark.parametrize("row, want", TORCH_ORDER)
def test_tie_order_matches_torch_sort(row, want):
    assert _introsort_order([float(v) for v in row]) == want
    assert torch_sort_indices(np.asarray([row], dtype=np.float64)).tolist() == [want]


def test_short_rows_and_no_ties_keep_the_stable_order():
    rng = np.random.default_rng(0)
    short = rng.integers(0, 3, (4, 16)).astype(np.float64)
    np.testing.assert_array_equal(torch_sort_indices(short), np.argsort(short, -1, kind="stable"))
    distinct = rng.permutation(40).astype(np.float64).reshape(2, 20)
    np.testing.assert_array_equal(torch_sort_indices(distinct), np.argsort(distinct, -1, kind="stable"))


def test_introsort_order_sorts():
    rng = np.random.default_rng(1)
    for n in (17, 33, 100, 257):
        keys = rng.integers(0, 5, n).astype(np.float64)
        keys[rng.integers(0, n, 3)] = NAN
        order = _introsort_order(keys.tolist())
        assert sorted(order) == list(range(n))
        got = keys[order]
        np.testing.assert_array_equal(got, np.sort(keys))  # nans last


@pytest.mark.parametrize("fn", [lambda x: ember.quantile(x, 0.3), lambda x: ember.nanquantile(x, 0.6, dim=1)])
def test_gradcheck(fn):
    x = ember.tensor(np.linspace(-2, 3, 24).reshape(2, 12) ** 2, dtype=ember.float64, requires_grad=True)
    assert gradcheck(fn, (x,))
