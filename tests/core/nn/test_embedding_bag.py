"""F.embedding_bag / nn.EmbeddingBag against values recorded from PyTorch."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F

REF = np.load(pathlib.Path(__file__).parent / "fixtures" / "embedding_bag_ref.npz")
NAMES = sorted({k.split("/")[0] for k in REF.files if "/" in k})


@pytest.mark.parametrize("name", NAMES)
def test_values_and_gradients_match_pytorch(name):
    kw = json.loads(REF[f"{name}/kw"].tobytes())
    w = ember.tensor(REF["W"], requires_grad=True)
    offsets = ember.tensor(REF[f"{name}/offsets"]) if f"{name}/offsets" in REF else None
    psw = ember.tensor(REF[f"{name}/psw"], requires_grad=True) if f"{name}/psw" in REF else None
    y = F.embedding_bag(ember.tensor(REF[f"{name}/input"]), w, offsets, per_sample_weights=psw, **kw)
    y.backward(ember.tensor(REF[f"{name}/g"]))
    np.testing.assert_allclose(y.detach().numpy(), REF[f"{name}/y"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), REF[f"{name}/gw"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(w.detach().numpy(), REF[f"{name}/w_after"], rtol=1e-6)
    if psw is not None:
        np.testing.assert_allclose(psw.grad.numpy(), REF[f"{name}/gpsw"], rtol=1e-12)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_gradcheck(mode):
    w = ember.randn(6, 3, dtype=ember.float64, requires_grad=True)
    idx = ember.tensor([0, 2, 2, 5, 1, 3])
    offsets = ember.tensor([0, 1, 4])
    assert ember.autograd.gradcheck(lambda t: F.embedding_bag(idx, t, offsets, mode=mode), [w])


def test_module_and_errors():
    bag = nn.EmbeddingBag(10, 3, mode="sum", padding_idx=2)
    assert list(bag.state_dict()) == ["weight"] and bag.weight[2].abs().sum().item() == 0
    assert repr(bag) == "EmbeddingBag(10, 3, mode='sum', padding_idx=2)"
    assert tuple(bag(ember.tensor([[1, 2], [3, 4]])).shape) == (2, 3)
    pre = nn.EmbeddingBag.from_pretrained(ember.ones(4, 2))
    assert not pre.weight.requires_grad
    with pytest.raises(ValueError, match="if input is 2D, then offsets has to be None"):
        F.embedding_bag(ember.tensor([[1, 2]]), ember.randn(4, 2), ember.tensor([0]))
    with pytest.raises(RuntimeError, match="offsets\\[0\\] has to be 0"):
        F.embedding_bag(ember.tensor([1, 2]), ember.randn(4, 2), ember.tensor([1]))
    with pytest.raises(NotImplementedError, match="per_sample_weights is only supported for mode='sum'"):
        F.embedding_bag(ember.tensor([1, 2]), ember.randn(4, 2), ember.tensor([0]), per_sample_weights=ember.ones(2))
