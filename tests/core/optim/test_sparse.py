"""Sparse gradients: Embedding(sparse=True) gradients and the SparseAdam / SGD / Adagrad trajectories they
drive, against values recorded from torch (fixtures/sparse_ref.npz, written by fixtures/record_sparse.py)."""

import json
import pathlib

import numpy as np
import pytest

import ember
from ember import nn, optim

REF = np.load(pathlib.Path(__file__).parent / "fixtures" / "sparse_ref.npz")
GRAD_CASES = json.loads(str(REF["grad_cases"]))
OPT_CASES = json.loads(str(REF["opt_cases"]))


def _embedding(**kw):
    emb = nn.Embedding(10, 3, sparse=True, **kw)
    with ember.no_grad():
        emb.weight.copy_(ember.tensor(REF["weight"]))
    return emb


def _loss(emb, step):
    return (emb(ember.tensor(REF["idx"][step])) * ember.tensor(REF["w"])).sum()


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_sparse_embedding_gradient_matches_torch(name):
    emb = _embedding(**GRAD_CASES[name])
    _loss(emb, 0).backward()
    g = emb.weight.grad
    assert g.is_sparse and not g.is_coalesced() and g.shape == (10, 3)
    np.testing.assert_array_equal(g._indices().numpy(), REF[f"grad/{name}/indices"])
    np.testing.assert_allclose(g._values().numpy(), REF[f"grad/{name}/values"], rtol=1e-6)
    np.testing.assert_allclose(g.to_dense().numpy(), REF[f"grad/{name}/dense"], rtol=1e-6, atol=1e-7)
    c = g.coalesce()
    assert c.is_coalesced() and c._nnz() == len(np.unique(REF[f"grad/{name}/indices"]))
    np.testing.assert_allclose(c.to_dense().numpy(), REF[f"grad/{name}/dense"], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("case", OPT_CASES, ids=[c[0] for c in OPT_CASES])
def test_optimizer_trajectories_with_sparse_gradients_match_torch(case):
    name, cls, kw = case
    emb = _embedding()
    kw = {k: tuple(v) if k == "betas" else v for k, v in kw.items()}
    opt = getattr(optim, cls)(emb.parameters(), **kw)
    traj = []
    for step in range(6):
        opt.zero_grad()
        _loss(emb, step).backward()
        opt.step()
        traj.append(emb.weight.detach().numpy().copy())
    np.testing.assert_allclose(np.stack(traj), REF[f"opt/{name}"], rtol=1e-5, atol=1e-6)
    assert sorted(opt.state_dict()["state"][0]) == json.loads(str(REF[f"opt/{name}/state_keys"]))


def test_sparse_gradients_accumulate_and_errors():
    emb = _embedding()
    _loss(emb, 0).backward()
    _loss(emb, 1).backward()
    assert emb.weight.grad._nnz() == 16  # two uncoalesced batches of 8 lookups
    with pytest.raises(RuntimeError, match="Adam does not support sparse gradients, please consider SparseAdam instead"):
        optim.Adam(emb.parameters()).step()
    with pytest.raises(RuntimeError, match="RMSprop does not support sparse gradients"):
        optim.RMSprop(emb.parameters()).step()
    dense = nn.Embedding(10, 3)
    _loss(dense, 0).backward()
    with pytest.raises(RuntimeError, match="SparseAdam does not support dense gradients, please consider Adam instead"):
        optim.SparseAdam(dense.parameters()).step()
    with pytest.raises(ValueError, match="Invalid learning rate: 0"):
        optim.SparseAdam(dense.parameters(), lr=0)
    with pytest.raises(ValueError, match="SparseAdam does not support complex parameters"):
        optim.SparseAdam([nn.Parameter(ember.zeros(2, dtype=ember.complex64))])
    assert repr(emb) == "Embedding(10, 3, sparse=True)"
    freq = _embedding(scale_grad_by_freq=True)
    with pytest.raises(RuntimeError, match="embedding_backward: scale_grad_by_freq not supported with sparse gradients"):
        _loss(freq, 0).backward()


def test_zero_grad_keeps_an_empty_sparse_gradient():
    emb = _embedding()
    opt = optim.SparseAdam(emb.parameters())
    _loss(emb, 0).backward()
    opt.zero_grad(set_to_none=False)
    g = emb.weight.grad
    assert g.is_sparse and g._nnz() == 0 and float(g.to_dense().abs().sum()) == 0.0
    _loss(emb, 1).backward()
    assert emb.weight.grad._nnz() == 8
    before = emb.weight.detach().numpy().copy()
    opt.step()
    touched = np.unique(REF["idx"][1])
    untouched = np.setdiff1d(np.arange(10), touched)
    np.testing.assert_array_equal(emb.weight.detach().numpy()[untouched], before[untouched])
    assert (emb.weight.detach().numpy()[touched] != before[touched]).all()
