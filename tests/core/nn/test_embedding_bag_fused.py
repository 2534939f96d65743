"""embedding_bag without a gradient to keep (inference) sums its bags straight from the weight in one compiled
pass (float32, the optional numba extra): the same numbers as the general path (which keeps the looked-up rows
for the backward), for sum and mean, per-sample weights, padding_idx, empty bags, 2-D input and
include_last_offset."""

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import _fast
from ember.ops import embedding_bag as eb_module

pytestmark = pytest.mark.skipif(_fast.kernels() is None, reason="numba (the ember[fast] extra) is not installed")

CASES = [
    dict(mode="sum"), dict(mode="mean"), dict(mode="sum", per_sample_weights=True), dict(mode="mean", padding_idx=7),
    dict(mode="sum", padding_idx=0, per_sample_weights=True), dict(mode="mean", include_last_offset=True),
    dict(mode="sum", two_d=True), dict(mode="mean", two_d=True, padding_idx=3),
]


@pytest.mark.parametrize("case", CASES)
def test_fused_equals_general_path(case, monkeypatch):
    case = dict(case)
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((300, 48)).astype(np.float32)
    two_d = case.pop("two_d", False)
    if two_d:
        idx, offsets = rng.integers(0, 300, (40, 9)), None
        idx[::5, :] = 3  # whole bags of padding
    else:
        idx = rng.integers(0, 300, 500)
        idx[::7] = 7
        offsets = np.array([0, 0, 3, 3, 3, 40, 41, 200, 200, 499])  # empty bags, a bag of one, a long one
        if case.get("include_last_offset"):
            offsets = np.append(offsets, 500)
    psw = rng.standard_normal(idx.shape).astype(np.float32) if case.pop("per_sample_weights", False) else None
    calls = []
    original = eb_module._bag_sums
    monkeypatch.setattr(eb_module, "_bag_sums", lambda *a: (calls.append(1), original(*a))[1])

    def run(requires_grad):
        w = ember.tensor(weight, requires_grad=requires_grad)
        kw = dict(case, per_sample_weights=None if psw is None else ember.tensor(psw))
        return F.embedding_bag(ember.tensor(idx), w, None if offsets is None else ember.tensor(offsets), **kw)

    fused = run(False)
    assert calls == [1]
    general = run(True)  # keeps the rows for the weight gradient: the general path
    assert calls == [1]
    np.testing.assert_allclose(fused.numpy(), general.detach().numpy(), rtol=1e-6, atol=1e-6)
    assert fused.dtype == ember.float32 and tuple(fused.shape) == tuple(general.shape)


def test_out_of_range_index_still_raises():
    w = ember.randn(300, 48)
    with pytest.raises(IndexError, match="index out of range in self"):
        F.embedding_bag(ember.tensor([1, 300]), w, ember.tensor([0]))
