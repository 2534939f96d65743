"""ember.optim.lr_scheduler: 50-step LR (and momentum) sequences equal PyTorch's exactly (recorded once in
fixtures/lr_scheduler_ref.npz), state dicts, warnings and errors."""

from __future__ import annotations

import json
import math
import pathlib
import warnings

import ember
import numpy as np
import pytest
from ember import optim
from ember.optim import lr_scheduler
from ember.optim.lr_scheduler import (
    ConstantLR,
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
)

REF = np.load(pathlib.Path(__file__).parent / "fixtures" / "lr_scheduler_ref.npz")
CASES = json.loads(str(REF["cases"]))
OPTIMIZERS = json.loads(str(REF["optimizers"]))
PLATEAU_CASES = json.loads(str(REF["plateau_cases"]))
SCOPE = {k: getattr(lr_scheduler, k) for k in lr_scheduler.__all__}


def _opt(cls="SGD", **kw):
    p, q = ember.nn.Parameter(ember.zeros(2)), ember.nn.Parameter(ember.zeros(2))
    return getattr(optim, cls)([{"params": [p]}, {"params": [q], "lr": 0.05}], lr=0.1, **kw)


def _make(case, cls="SGD", kw=None):
    o = _opt(cls, **(kw if kw is not None else OPTIMIZERS[cls]))
    return o, eval(CASES[case], dict(SCOPE, o=o))


@pytest.mark.parametrize("opt_name", list(OPTIMIZERS))
@pytest.mark.parametrize("case", list(CASES))
def test_lr_sequence_equals_torch(case, opt_name):
    o, s = _make(case, opt_name)
    lrs, moms = [], []
    for _ in range(50):
        lrs.append([g["lr"] for g in o.param_groups])
        moms.append([g["momentum"] if "momentum" in g else g["betas"][0] for g in o.param_groups])
        o.step()
        s.step()
    np.testing.assert_array_equal(np.array(lrs), REF[f"{opt_name}/{case}/lr"])
    np.testing.assert_array_equal(np.array(moms), REF[f"{opt_name}/{case}/momentum"])
    np.testing.assert_array_equal(np.array(s.get_last_lr()), REF[f"{opt_name}/{case}/last_lr"])


@pytest.mark.parametrize("case", list(PLATEAU_CASES))
def test_reduce_lr_on_plateau_equals_torch(case):
    o = _opt()
    s = eval(PLATEAU_CASES[case], dict(SCOPE, o=o))
    lrs = []
    for m in REF["plateau_metrics"]:
        s.step(ember.tensor(float(m)))  # tensors and numbers are accepted as metrics
        lrs.append([g["lr"] for g in o.param_groups])
    np.testing.assert_array_equal(np.array(lrs), REF[f"plateau/{case}/lr"])
    assert s.get_last_lr() == lrs[-1]


@pytest.mark.parametrize("case", ["StepLR", "CosineAnnealingLR", "OneCycleLR_cos", "CyclicLR_triangular2", "SequentialLR", "ChainedScheduler", "CosineAnnealingWarmRestarts"])
def test_state_dict_round_trip_resumes_sequence(case):
    o, s = _make(case)
    for _ in range(17):
        o.step()
        s.step()
    sd = s.state_dict()
    assert "optimizer" not in sd
    opt_sd = o.state_dict()
    o2, s2 = _make(case)
    o2.load_state_dict(opt_sd)
    s2.load_state_dict(sd)
    for _ in range(20):
        o.step(), o2.step()
        s.step(), s2.step()
        assert s.get_last_lr() == s2.get_last_lr()
        assert [g["lr"] for g in o.param_groups] == [g["lr"] for g in o2.param_groups]
    assert [g["lr"] for g in o.param_groups] == list(REF[f"SGD/{case}/lr"][37])


def test_base_class_attributes():
    o = _opt()
    s = StepLR(o, step_size=2)
    assert s.last_epoch == 0 and s.base_lrs == [0.1, 0.05] and s.get_last_lr() == [0.1, 0.05]
    assert [g["initial_lr"] for g in o.param_groups] == [0.1, 0.05]
    sd = s.state_dict()
    assert sd["step_size"] == 2 and sd["last_epoch"] == 0 and "optimizer" not in sd
    with pytest.raises(TypeError, match="is not an Optimizer"):
        StepLR(object(), 2)
    with pytest.raises(KeyError, match="initial_lr"):
        StepLR(_opt(), 2, last_epoch=3)
    assert isinstance(s, lr_scheduler.LRScheduler)


def test_warns_when_scheduler_steps_before_optimizer():
    o = _opt()
    s = ExponentialLR(o, 0.9)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        s.step()
    o2 = _opt()
    s2 = ExponentialLR(o2, 0.9)
    o2.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s2.step()


def test_get_lr_outside_step_warns():
    o = _opt()
    s = ExponentialLR(o, 0.5)
    with pytest.warns(UserWarning, match="get_last_lr"):
        s.get_lr()


def test_epoch_argument_uses_closed_form():
    o = _opt()
    s = CosineAnnealingLR(o, T_max=10, eta_min=0.0)
    o.step()
    with pytest.warns(UserWarning, match="epoch parameter"):
        s.step(5)
    assert s.get_last_lr()[0] == pytest.approx(0.1 * (1 + math.cos(math.pi * 5 / 10)) / 2)


def test_lambda_lr_state_dict_keeps_callable_objects_state():
    class Fn:
        def __init__(self):
            self.k = 0.5

        def __call__(self, e):
            return self.k**e

    o = _opt()
    s = LambdaLR(o, [Fn(), lambda e: 1.0])
    sd = s.state_dict()
    assert sd["lr_lambdas"] == [{"k": 0.5}, None]
    sd["lr_lambdas"][0]["k"] = 0.25
    s.load_state_dict(sd)
    assert s.lr_lambdas[0].k == 0.25
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        LambdaLR(o, [lambda e: 1.0])


def test_constructor_errors():
    o = _opt()
    with pytest.raises(ValueError, match="Constant multiplicative factor expected to be between 0 and 1."):
        ConstantLR(o, factor=2)
    with pytest.raises(ValueError, match="Starting multiplicative factor"):
        LinearLR(o, start_factor=0)
    with pytest.raises(ValueError, match="Expected positive integer T_0, but got 0"):
        lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=0)
    with pytest.raises(ValueError, match="You must define either total_steps OR"):
        lr_scheduler.OneCycleLR(o, max_lr=0.1)
    with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear'"):
        lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=10, anneal_strategy="exp")
    with pytest.raises(ValueError, match="max_lr must have the same length as optimizer.param_groups"):
        lr_scheduler.OneCycleLR(o, max_lr=[0.1], total_steps=10)
    with pytest.raises(ValueError, match="Factor should be < 1.0."):
        ReduceLROnPlateau(o, factor=1.0)
    with pytest.raises(ValueError, match="mode foo is unknown!"):
        ReduceLROnPlateau(o, mode="foo")
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        lr_scheduler.CyclicLR(optim.Adagrad([ember.nn.Parameter(ember.zeros(1))]), 0.01, 0.1)
    with pytest.raises(ValueError, match="Sequential Schedulers expects number of schedulers provided to be one more"):
        SequentialLR(o, [StepLR(o, 2), StepLR(o, 3)], milestones=[])
    with pytest.raises(ValueError, match="does not support `ReduceLROnPlateau`"):
        lr_scheduler.ChainedScheduler([ReduceLROnPlateau(o)])
    o = _opt()
    s = lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=3)
    with pytest.raises(ValueError, match="Tried to step 4 times. The specified number of total steps is 3"):
        for _ in range(4):
            o.step()
            s.step()


def test_scheduler_drives_real_optimizer_updates():
    p = ember.nn.Parameter(ember.ones(1))
    o = optim.SGD([p], lr=1.0)
    s = StepLR(o, step_size=1, gamma=0.5)
    for _ in range(3):
        p.grad = ember.ones(1)
        o.step()
        s.step()
    np.testing.assert_allclose(p.detach().numpy(), [1 - 1 - 0.5 - 0.25])
