"""nn.utils.parametrize, parametrizations.weight_norm/spectral_norm and the old hook-based versions."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.nn.utils import parametrizations as P
from ember.nn.utils import parametrize

REF = np.load(pathlib.Path(__file__).parent / "fixtures" / "parametrizations_ref.npz")


def _linear(prefix):
    lin = nn.Linear(4, 3).double()
    with ember.no_grad():
        lin.weight.copy_(ember.tensor(REF[f"{prefix}/weight"]))
        lin.bias.copy_(ember.tensor(REF[f"{prefix}/bias"]))
    return lin


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_matches_pytorch(dim):
    lin = _linear(f"wn{dim}")
    P.weight_norm(lin, dim=dim)
    assert list(lin.state_dict()) == ["bias", "parametrizations.weight.original0", "parametrizations.weight.original1"]
    y = lin(ember.tensor(REF["x"]))
    (y * ember.arange(15, dtype=ember.float64).reshape(5, 3)).sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), REF[f"wn{dim}/y"], rtol=1e-12)
    plist = lin.parametrizations.weight
    np.testing.assert_allclose(plist.original0.detach().numpy(), REF[f"wn{dim}/g"], rtol=1e-12)
    np.testing.assert_allclose(plist.original0.grad.numpy(), REF[f"wn{dim}/g_grad"], rtol=1e-10)
    np.testing.assert_allclose(plist.original1.grad.numpy(), REF[f"wn{dim}/v_grad"], rtol=1e-10)


def test_spectral_norm_matches_pytorch_given_its_power_iteration_vectors():
    conv = nn.Conv2d(2, 3, 3).double()
    with ember.no_grad():
        conv.weight.copy_(ember.tensor(REF["sn/weight"]))
        conv.bias.copy_(ember.tensor(REF["sn/bias"]))
    P.spectral_norm(conv)
    assert list(conv.state_dict()) == ["bias", "parametrizations.weight.original", "parametrizations.weight.0._u",
                                       "parametrizations.weight.0._v"]
    sn = conv.parametrizations.weight[0]
    with ember.no_grad():
        sn._u.copy_(ember.tensor(REF["sn/u0"]))
        sn._v.copy_(ember.tensor(REF["sn/v0"]))
    y = conv(ember.tensor(REF["sn/x"]))
    y.sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), REF["sn/y"], rtol=1e-10)
    np.testing.assert_allclose(sn._u.numpy(), REF["sn/u1"], rtol=1e-10)
    np.testing.assert_allclose(conv.parametrizations.weight.original.grad.numpy(), REF["sn/w_grad"], rtol=1e-8)
    # the power iteration converges to the largest singular value: the weight's is then 1
    for _ in range(30):
        conv(ember.tensor(REF["sn/x"]))
    assert abs(float(ember.linalg.svdvals(conv.weight.reshape(3, -1))[0]) - 1.0) < 1e-6


class Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).mT

    def right_inverse(self, A):
        return A.triu()


def test_register_cached_assign_and_remove():
    layer = nn.Linear(3, 3)
    parametrize.register_parametrization(layer, "weight", Symmetric())
    assert parametrize.is_parametrized(layer, "weight") and type(layer).__name__ == "ParametrizedLinear"
    assert parametrize.type_before_parametrizations(layer) is nn.Linear
    W = layer.weight
    np.testing.assert_allclose(W.detach().numpy(), W.detach().numpy().T)
    with parametrize.cached():
        assert layer.weight is layer.weight
    assert layer.weight is not layer.weight
    target = ember.tensor([[1.0, 2.0, 3.0], [2.0, 4.0, 5.0], [3.0, 5.0, 6.0]])
    layer.weight = target  # goes through right_inverse
    np.testing.assert_allclose(layer.weight.detach().numpy(), target.numpy())
    parametrize.remove_parametrizations(layer, "weight")
    assert type(layer) is nn.Linear and isinstance(layer.weight, nn.Parameter)
    np.testing.assert_allclose(layer.weight.detach().numpy(), target.numpy())
    with pytest.raises(ValueError, match="does not have a parameter, a buffer, or a parametrized element"):
        parametrize.register_parametrization(layer, "nope", Symmetric())


def test_old_weight_norm_and_spectral_norm_keys_and_values():
    lin = _linear("wn0")
    nn.utils.weight_norm(lin)
    assert list(lin.state_dict()) == ["bias", "weight_g", "weight_v"]
    np.testing.assert_allclose(lin(ember.tensor(REF["x"])).detach().numpy(), REF["wn0/y"], rtol=1e-12)
    nn.utils.remove_weight_norm(lin)
    assert list(lin.state_dict()) == ["bias", "weight"]
    np.testing.assert_allclose(lin.weight.detach().numpy(), REF["wn0/weight"], rtol=1e-12)
    sn = nn.Linear(4, 3)
    nn.utils.spectral_norm(sn)
    assert list(sn.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    for _ in range(30):
        sn(ember.randn(2, 4))
    assert abs(float(ember.linalg.svdvals(sn.weight)[0]) - 1.0) < 1e-4
    nn.utils.remove_spectral_norm(sn)
    assert list(sn.state_dict()) == ["bias", "weight"]


def test_weight_norm_gradcheck():
    lin = nn.Linear(3, 2).double()
    P.weight_norm(lin)
    x = ember.randn(4, 3, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: lin(t), [x])


ORTH = np.load(pathlib.Path(__file__).parent / "fixtures" / "orthogonal_ref.npz")
ORTH_CASES = [("exp_sq", "matrix_exp", True), ("cay_sq", "cayley", True), ("hh_sq", "householder", True),
              ("hh_tall_notriv", "householder", False), ("hh_wide_notriv", "householder", False)]


@pytest.mark.parametrize("name,orth_map,triv", ORTH_CASES)
def test_orthogonal_matches_pytorch(name, orth_map, triv):
    w0 = ORTH[f"{name}/w0"]
    lin = nn.Linear(w0.shape[1], w0.shape[0]).double()
    with ember.no_grad():
        lin.weight.copy_(ember.tensor(w0))
    P.orthogonal(lin, orthogonal_map=orth_map, use_trivialization=triv)
    np.testing.assert_allclose(lin.weight.detach().numpy(), ORTH[f"{name}/w_init"], atol=1e-12)
    plist = lin.parametrizations.weight
    np.testing.assert_allclose(plist.original.detach().numpy(), ORTH[f"{name}/orig_init"], atol=1e-12)
    with ember.no_grad():
        plist.original.copy_(ember.tensor(ORTH[f"{name}/X"]))
    W = lin.weight
    (W * ember.tensor(ORTH[f"{name}/G"])).sum().backward()
    np.testing.assert_allclose(W.detach().numpy(), ORTH[f"{name}/W"], atol=1e-10)
    np.testing.assert_allclose(plist.original.grad.numpy(), ORTH[f"{name}/grad"], atol=1e-9)


def test_orthogonal_assignment_and_errors():
    lin = nn.Linear(3, 5)
    P.orthogonal(lin)
    assert list(lin.state_dict()) == ["bias", "parametrizations.weight.original", "parametrizations.weight.0.base"]
    W = lin.weight
    np.testing.assert_allclose((W.mT @ W).detach().numpy(), np.eye(3), atol=1e-5)
    q = ember.linalg.qr(ember.randn(5, 3)).Q
    lin.weight = q
    np.testing.assert_allclose(lin.weight.detach().numpy(), q.numpy(), atol=1e-5)
    with pytest.raises(ValueError, match='orthogonal_map has to be one of "matrix_exp", "cayley", "householder"'):
        P.orthogonal(nn.Linear(3, 3), orthogonal_map="svd")
    with pytest.raises(ValueError, match="Expected a matrix or batch of matrices. Got a tensor of 1 dimensions"):
        P.orthogonal(nn.Linear(3, 3), "bias")
