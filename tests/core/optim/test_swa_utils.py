"""ember.optim.swa_utils: averaged models, SWALR and update_bn against values recorded from torch
(fixtures/swa_ref.npz, written by fixtures/record_swa.py)."""

import json
import pathlib
import warnings

import numpy as np
import pytest

import ember
from ember import nn, optim
from ember.optim import swa_utils

REF = np.load(pathlib.Path(__file__).parent / "fixtures" / "swa_ref.npz")
CASES = json.loads(str(REF["cases"]))
SWALR_CASES = json.loads(str(REF["swalr_cases"]))
SCOPE = {k: getattr(swa_utils, k) for k in swa_utils.__all__}
N = REF["seq/0.weight"].shape[0]


def make_model():
    m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    m.load_state_dict({k[len("init/"):]: ember.tensor(REF[k]) for k in REF.files if k.startswith("init/")})
    return m


@pytest.mark.parametrize("name", sorted(CASES))
def test_averaged_model_matches_torch(name):
    m = make_model()
    avg = eval(CASES[name], dict(SCOPE, m=m))
    for i in range(N):
        with ember.no_grad():
            for k, v in m.state_dict().items():
                if f"seq/{k}" in REF.files:
                    v.copy_(ember.tensor(REF[f"seq/{k}"][i]))
            m[1].num_batches_tracked.fill_(i + 1)
        avg.update_parameters(m)
    sd = avg.state_dict()
    assert list(sd) == json.loads(str(REF[f"{name}/keys"]))
    for k, v in sd.items():
        assert v.dtype == (ember.int64 if k.endswith(("n_averaged", "num_batches_tracked")) else ember.float32), k
        np.testing.assert_allclose(v.numpy(), REF[f"{name}/{k}"], rtol=1e-6, atol=1e-6, err_msg=k)
    x = ember.tensor(REF["bn/batches"][0])
    avg.eval()
    m.eval()
    assert avg(x).shape == (6, 4)


def test_first_update_copies_and_gradients_stay_out():
    m = make_model()
    avg = swa_utils.AveragedModel(m)
    assert int(avg.n_averaged) == 0 and avg.n_averaged.dtype == ember.int64
    avg.update_parameters(m)
    np.testing.assert_array_equal(avg.module[0].weight.detach().numpy(), m[0].weight.detach().numpy())
    assert avg.module[0].weight is not m[0].weight
    assert avg.module[0].weight.grad is None


def test_only_one_averaging_function():
    m = make_model()
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn should be provided"):
        swa_utils.AveragedModel(m, avg_fn=swa_utils.get_swa_avg_fn(), multi_avg_fn=swa_utils.get_swa_multi_avg_fn())
    with pytest.raises(ValueError, match=r"Invalid decay value 1.5 provided. Please provide a value in \[0,1\] range."):
        swa_utils.get_ema_multi_avg_fn(1.5)


@pytest.mark.parametrize("name", sorted(SWALR_CASES))
def test_swalr_matches_torch(name):
    p, q = nn.Parameter(ember.zeros(2)), nn.Parameter(ember.zeros(2))
    o = optim.SGD([{"params": [p]}, {"params": [q], "lr": 0.5}], lr=0.1)
    s = eval(SWALR_CASES[name], dict(SCOPE, o=o))
    lrs = []
    for _ in range(12):
        lrs.append([g["lr"] for g in o.param_groups])
        o.step()
        s.step()
    np.testing.assert_allclose(np.array(lrs), REF[f"swalr/{name}"], rtol=1e-12)
    assert sorted(s.state_dict()) == json.loads(str(REF[f"swalr/{name}/state_keys"]))
    s2 = swa_utils.SWALR(o, swa_lr=0.3)
    s2.load_state_dict(s.state_dict())
    assert s2.anneal_func is s.anneal_func or s2._anneal_strategy == s._anneal_strategy


def test_swalr_errors_and_get_lr_warning():
    o = optim.SGD([nn.Parameter(ember.zeros(2))], lr=0.1)
    with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear', instead got exp"):
        swa_utils.SWALR(o, 0.1, anneal_strategy="exp")
    with pytest.raises(ValueError, match="anneal_epochs must be equal or greater than 0, got -1"):
        swa_utils.SWALR(o, 0.1, anneal_epochs=-1)
    s = swa_utils.SWALR(o, 0.1)
    with pytest.warns(UserWarning, match="get_last_lr"):
        s.get_lr()


def test_update_bn_matches_torch():
    m = make_model()
    m.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        swa_utils.update_bn([(ember.tensor(b), 0) for b in REF["bn/batches"]], m)
    assert not m.training
    assert m[1].momentum == float(REF["bn/momentum"])
    for k, v in m[1].state_dict().items():
        np.testing.assert_allclose(v.numpy(), REF[f"bn/{k}"], rtol=1e-5, atol=1e-6, err_msg=k)
    swa_utils.update_bn([ember.ones(2, 3)], nn.Linear(3, 1))  # no batch norm: nothing to do
