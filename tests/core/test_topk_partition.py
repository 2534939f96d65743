"""topk's sorted top k from a partition (k at most n / 8): the same values and indices as the first k of a
stable sort (ties in index order, PyTorch's NaN-first order for the largest), on floats with ties, integers
and bools, along every dimension."""

import numpy as np
import pytest

import ember
from ember.ops import sorting


def _both_paths(monkeypatch, x, k, dim, largest):
    monkeypatch.setattr(sorting, "_TOPK_PARTITION_RATIO", 10**12)  # the full stable sort
    ref = ember.topk(ember.tensor(x), k, dim, largest)
    monkeypatch.setattr(sorting, "_TOPK_PARTITION_RATIO", 1)
    got = ember.topk(ember.tensor(x), k, dim, largest)
    np.testing.assert_array_equal(got.indices.numpy(), ref.indices.numpy())
    np.testing.assert_array_equal(got.values.numpy(), ref.values.numpy())
    return got


@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("kind", ["float-ties", "int", "bool"])
def test_partition_path_equals_the_stable_sort(monkeypatch, kind, largest):
    rng = np.random.default_rng(0)
    x = {"float-ties": rng.integers(-3, 3, (4, 50, 6)).astype(np.float32), "int": rng.integers(0, 9, (4, 50, 6)),
         "bool": rng.standard_normal((4, 50, 6)) > 0}[kind]
    for dim in range(3):
        for k in (1, 3, x.shape[dim] - 1):
            _both_paths(monkeypatch, x, k, dim, largest)


def test_hand_computed_ties_take_the_first_indices(monkeypatch):
    x = np.array([5.0, 1.0, 5.0, 7.0, 5.0, 0.0, 7.0, 2.0], np.float32)
    got = _both_paths(monkeypatch, x, 3, 0, True)
    assert got.values.tolist() == [7.0, 7.0, 5.0] and got.indices.tolist() == [3, 6, 0]


def test_nan_keeps_the_sort(monkeypatch):
    x = np.array([1.0, np.nan, 3.0, -np.inf, 2.0, np.nan, 0.5, 4.0], np.float64)
    got = _both_paths(monkeypatch, x, 2, 0, True)  # PyTorch: NaN is the largest
    assert np.isnan(got.values.numpy()).all() and got.indices.tolist() == [1, 5]
    assert _both_paths(monkeypatch, x, 2, 0, False).indices.tolist() == [3, 6]


# ---- median: the element a stable sort puts in the middle, found by a partition ----

@pytest.mark.parametrize("kind", ["float-ties", "int", "float"])
def test_median_partition_path_equals_the_stable_sort(monkeypatch, kind):
    rng = np.random.default_rng(1)
    x = {"float-ties": rng.integers(0, 5, (7, 9, 11)).astype(np.float32), "int": rng.integers(-3, 3, (4, 10, 3)),
         "float": rng.standard_normal((5, 6, 4))}[kind]
    kth = sorting.kth_stable
    for dim in [None, 0, 1, 2]:
        monkeypatch.setattr(sorting, "kth_stable", lambda *args: None)
        ref = ember.median(ember.tensor(x)) if dim is None else ember.median(ember.tensor(x), dim)
        monkeypatch.setattr(sorting, "kth_stable", kth)
        got = ember.median(ember.tensor(x)) if dim is None else ember.median(ember.tensor(x), dim)
        if dim is None:
            assert got.item() == ref.item()
        else:
            np.testing.assert_array_equal(got.values.numpy(), ref.values.numpy())
            np.testing.assert_array_equal(got.indices.numpy(), ref.indices.numpy())


def test_median_hand_computed_and_its_gradient():
    x = ember.tensor([[3.0, 1.0, 3.0, 2.0, 3.0], [4.0, 4.0, 0.0, 4.0, 1.0]], dtype=ember.float64, requires_grad=True)
    values, indices = ember.median(x, 1)
    assert values.tolist() == [3.0, 4.0] and indices.tolist() == [0, 0]  # the first of the equal middle values
    values.sum().backward()
    assert x.grad.tolist() == [[1.0, 0.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0, 0.0]]
    assert np.isnan(ember.median(ember.tensor([1.0, float("nan"), 2.0])).item())  # PyTorch: a NaN makes it NaN
    rows = ember.median(ember.tensor([[1.0, float("nan"), 2.0, float("nan")], [3.0, 1.0, 2.0, 0.0]]), 1)
    assert np.isnan(rows.values[0].item()) and rows.values[1].item() == 1.0
    assert rows.indices.tolist() == [1, 1]  # the first NaN (PyTorch 2.13)
