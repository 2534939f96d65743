"""nn.utils.prune: masks recorded from PyTorch for the deterministic methods, layout, remove and errors."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.nn.utils import prune

REF = np.load(pathlib.Path(__file__).parent / "fixtures" / "prune_ref.npz")


def _with(module, weight):
    with ember.no_grad():
        module.weight.copy_(ember.tensor(weight))
    return module


def test_l1_ln_and_iterative_masks_match_pytorch():
    conv = _with(nn.Conv2d(3, 6, 3), REF["conv_w"])
    prune.l1_unstructured(conv, "weight", amount=0.3)
    np.testing.assert_array_equal(conv.weight_mask.numpy(), REF["l1_mask"])
    prune.ln_structured(conv, "weight", amount=2, n=2, dim=0)
    np.testing.assert_array_equal(conv.weight_mask.numpy(), REF["l1_ln_mask"])
    prune.l1_unstructured(conv, "weight", amount=5)
    np.testing.assert_array_equal(conv.weight_mask.numpy(), REF["l1_ln_l1_mask"])
    assert list(conv.state_dict()) == list(REF["keys"])
    np.testing.assert_array_equal(conv.weight.detach().numpy(), REF["conv_w"] * REF["l1_ln_l1_mask"])
    lin = _with(nn.Linear(5, 4), REF["lin_w"])
    prune.ln_structured(lin, "weight", amount=0.5, n=1, dim=1)
    np.testing.assert_array_equal(lin.weight_mask.numpy(), REF["ln1_dim1_mask"])


def test_global_unstructured_matches_pytorch():
    a, b = _with(nn.Linear(5, 4), REF["ga_w"]), _with(nn.Linear(4, 3), REF["gb_w"])
    prune.global_unstructured([(a, "weight"), (b, "weight")], pruning_method=prune.L1Unstructured, amount=0.4)
    np.testing.assert_array_equal(a.weight_mask.numpy(), REF["ga_mask"])
    np.testing.assert_array_equal(b.weight_mask.numpy(), REF["gb_mask"])


def test_forward_uses_the_mask_gradients_reach_orig_and_remove_makes_it_permanent():
    lin = nn.Linear(4, 3)
    prune.random_unstructured(lin, "weight", amount=0.5)
    assert int((lin.weight_mask == 0).sum()) == 6 and prune.is_pruned(lin)
    with ember.no_grad():
        lin.weight_orig.add_(1.0)
    lin(ember.randn(2, 4)).sum().backward()
    np.testing.assert_array_equal((lin.weight.detach() == 0).numpy(), (lin.weight_mask == 0).numpy())
    np.testing.assert_array_equal((lin.weight_orig.grad == 0).numpy(), (lin.weight_mask == 0).numpy())
    prune.remove(lin, "weight")
    assert list(lin.state_dict()) == ["bias", "weight"] and not prune.is_pruned(lin)
    assert int((lin.weight == 0).sum()) == 6
    conv = nn.Conv2d(2, 4, 3)
    prune.random_structured(conv, "weight", amount=2, dim=0)
    zeroed = (conv.weight_mask.reshape(4, -1).sum(1) == 0).sum()
    assert int(zeroed) == 2


def test_errors():
    lin = nn.Linear(3, 2)
    with pytest.raises(ValueError, match="should either be a float in the range \\[0, 1\\] or a non-negative integer"):
        prune.l1_unstructured(lin, "weight", amount=1.5)
    with pytest.raises(ValueError, match="should be smaller than the number of parameters to prune"):
        prune.l1_unstructured(nn.Linear(3, 2), "weight", amount=10)
    with pytest.raises(ValueError, match="has to be pruned before pruning can be removed"):
        prune.remove(nn.Linear(3, 2), "weight")
