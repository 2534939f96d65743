"""Mixed basic/advanced indexing with PyTorch's rule (integers are basic indexing), ``range`` indices, and
0-dim integer tensors: get, set and gradients against values recorded from torch (fixtures/indexing_ref.npz,
written by fixtures/record_indexing.py)."""

import json
import pathlib

import numpy as np
import pytest

import ember

REF = np.load(pathlib.Path(__file__).parent / "fixtures" / "indexing_ref.npz")
KEYS = json.loads(str(REF["keys"]))


class _Key:
    def __getitem__(self, k):
        return k


def _key(text, device):
    scope = {"I": _Key(), "T": lambda v: ember.tensor(v, device=device),
             "m": ember.tensor([True, False, True, True], device=device),
             "m2": ember.tensor([[True, False, True, True, False]] * 4, device=device)}
    return eval(f"I[{text}]", scope)


def _x(device):
    return ember.arange(3 * 4 * 5 * 6, dtype=ember.float64, device=device).reshape(3, 4, 5, 6)


@pytest.mark.parametrize("i", range(len(KEYS)), ids=KEYS)
def test_get_matches_torch(i, device):
    got = _x(device)[_key(KEYS[i], device)]
    ref = REF[f"{i}/get"]
    assert tuple(got.shape) == ref.shape
    np.testing.assert_array_equal(got.cpu().numpy(), ref)


@pytest.mark.parametrize("i", range(len(KEYS)), ids=KEYS)
def test_set_matches_torch(i, device):
    y = _x(device)
    shape = REF[f"{i}/get"].shape
    y[_key(KEYS[i], device)] = ember.arange(int(np.prod(shape)), dtype=ember.float64, device=device).reshape(shape) + 1000
    np.testing.assert_array_equal(y.cpu().numpy(), REF[f"{i}/set"])


@pytest.mark.parametrize("i", range(len(KEYS)), ids=KEYS)
def test_gradient_matches_torch(i, device):
    x = _x(device).requires_grad_(True)
    shape = REF[f"{i}/get"].shape
    w = ember.arange(int(np.prod(shape)), dtype=ember.float64, device=device).reshape(shape)
    (x[_key(KEYS[i], device)] * w).sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), REF[f"{i}/grad"])


def test_set_with_autograd_through_value():
    x = ember.zeros(3, 4, 5, dtype=ember.float64)
    v = ember.ones(4, 2, dtype=ember.float64, requires_grad=True)
    y = x.clone()
    y[0, :, [1, 2]] = v * 3
    assert y[0, :, [1, 2]].sum().item() == 24
    y.sum().backward()
    np.testing.assert_array_equal(v.grad.numpy(), np.full((4, 2), 3.0))


def test_gradcheck_mixed_index():
    x = ember.randn(3, 4, 5, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: t[1, :, [0, 2, 2]] * 2, (x,))
    assert ember.autograd.gradcheck(lambda t: t[range(2), 0], (x,))


def test_mixed_index_errors():
    x = ember.zeros(3, 4, 5)
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 0 with size 3"):
        x[3, :, [1]]
    with pytest.raises(IndexError, match="out of bounds"):
        x[0, :, [7]]
