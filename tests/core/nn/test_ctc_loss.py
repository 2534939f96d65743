"""``F.ctc_loss`` / ``nn.CTCLoss`` (ember/ops/ctc.py): losses and gradients equal PyTorch's (recorded in float64)
for padded and concatenated targets, every reduction and ``zero_infinity``; gradient checks through log_softmax;
errors."""

import pathlib

import ember
import ember.nn.functional as F
import numpy as np
import pytest
from ember import nn
from ember.autograd import gradcheck

REF = np.load(pathlib.Path(__file__).with_name("fixtures") / "ctc_ref.npz")
CASES = ["padded", "concat", "blank_last", "repeats", "unnormalised", "impossible"]


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("zero_infinity", [False, True])
def test_loss_and_gradient_match_pytorch(name, reduction, zero_infinity, device):
    lp = ember.tensor(REF[f"{name}/lp"], device=device, requires_grad=True)
    targets = ember.tensor(REF[f"{name}/targets"], device=device)
    il, tl = ember.tensor(REF[f"{name}/il"], device=device), ember.tensor(REF[f"{name}/tl"], device=device)
    loss = F.ctc_loss(lp, targets, il, tl, blank=int(REF[f"{name}/blank"]), reduction=reduction,
                      zero_infinity=zero_infinity)
    key = f"{name}/{reduction}/{int(zero_infinity)}"
    np.testing.assert_allclose(loss.detach().cpu().numpy(), REF[f"{key}/loss"], rtol=1e-10)
    n = lp.shape[1]
    g = ember.arange(1.0, n + 1, dtype=ember.float64, device=device) if reduction == "none" else None
    loss.backward(g)
    np.testing.assert_allclose(lp.grad.cpu().numpy(), REF[f"{key}/grad"], rtol=1e-9, atol=1e-12)


def test_lengths_as_tuples_module_and_unbatched():
    lp = ember.tensor(REF["padded/lp"])
    targets = ember.tensor(REF["padded/targets"])
    il, tl = tuple(int(v) for v in REF["padded/il"]), tuple(int(v) for v in REF["padded/tl"])
    loss = nn.CTCLoss(reduction="sum")(lp, targets, il, tl)
    np.testing.assert_allclose(loss.item(), REF["padded/sum/0/loss"], rtol=1e-10)
    assert nn.CTCLoss().blank == 0 and nn.CTCLoss().reduction == "mean" and not nn.CTCLoss().zero_infinity
    un = F.ctc_loss(ember.tensor(REF["unbatched/lp"]), ember.tensor([1, 2]), (6,), (2,))
    np.testing.assert_allclose(un.item(), REF["unbatched/loss"], rtol=1e-10)


def test_float32_and_gradcheck_through_log_softmax():
    logits = ember.randn(6, 2, 4, requires_grad=True)
    loss = F.ctc_loss(logits.log_softmax(2), ember.tensor([[1, 2], [3, 3]]), ember.tensor([6, 5]), ember.tensor([2, 2]))
    assert loss.dtype == ember.float32 and loss.shape == ()
    loss.backward()
    assert logits.grad.shape == (6, 2, 4)
    x = ember.randn(7, 3, 5, dtype=ember.float64, requires_grad=True)
    targets = ember.tensor([[1, 1, 2], [4, 3, 0], [2, 0, 0]])
    for reduction in ["none", "sum", "mean"]:
        assert gradcheck(lambda a: F.ctc_loss(a.log_softmax(2), targets, (7, 6, 4), (3, 2, 1), reduction=reduction), (x,))
    assert gradcheck(lambda a: F.ctc_loss(a.log_softmax(2), ember.tensor([1, 2, 3, 1]), (7, 7, 5), (2, 0, 2), blank=4), (x,))


def test_long_sequences_stay_finite():
    # log space: 2000 steps of probabilities ~1/30 would underflow in linear space
    logits = ember.randn(2000, 2, 30, dtype=ember.float64)
    loss = F.ctc_loss(logits.log_softmax(2), ember.randint(1, 30, (2, 100)), (2000, 1800), (100, 90), reduction="none")
    assert np.isfinite(loss.numpy()).all() and (loss.numpy() > 0).all()


def test_errors_match_pytorch():
    lp = ember.randn(5, 2, 4).log_softmax(2)
    t = ember.tensor([[1, 2], [3, 1]])
    with pytest.raises(RuntimeError, match="input_lengths must be of size batch_size"):
        F.ctc_loss(lp, t, [5], [2, 2])
    with pytest.raises(RuntimeError, match="target_lengths must be of size batch_size"):
        F.ctc_loss(lp, t, [5, 5], [2])
    with pytest.raises(RuntimeError, match="Expected input_lengths to have value at most 5, but got value 6"):
        F.ctc_loss(lp, t, [6, 5], [2, 2])
    with pytest.raises(RuntimeError, match="Expected tensor to have size at least 3 at dimension 1, but got size 2"):
        F.ctc_loss(lp, t, [5, 5], [3, 2])
    with pytest.raises(RuntimeError, match="blank must be in label range"):
        F.ctc_loss(lp, t, [5, 5], [2, 2], blank=4)
    with pytest.raises(NotImplementedError, match="\"ctc_loss_cpu\" not implemented for 'Long'"):
        F.ctc_loss(lp.long(), t, [5, 5], [2, 2])
    with pytest.raises(RuntimeError, match="Expected tensor to have size 4 at dimension 0, but got size 3"):
        F.ctc_loss(lp, ember.tensor([1, 2, 3]), [5, 5], [2, 2])
    with pytest.raises(RuntimeError, match="Expected target_lengths to have value at least 0, but got value -1"):
        F.ctc_loss(lp, t, [5, 5], [-1, 2])
