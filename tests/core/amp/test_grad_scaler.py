"""ember.amp.GradScaler on CPU: the scale trajectory, skipped steps and state_dict of a run with injected
inf gradients equal torch.amp.GradScaler("cpu")'s (fixtures/amp_ref.npz); errors as PyTorch's."""

import json
import pathlib

import numpy as np
import pytest

import ember

REF = np.load(pathlib.Path(__file__).parent / "fixtures" / "amp_ref.npz")


def make():
    p = ember.nn.Parameter(ember.ones(3))
    opt = ember.optim.SGD([p], lr=0.1)
    scaler = ember.amp.GradScaler("cpu", init_scale=16.0, growth_factor=2.0, backoff_factor=0.5, growth_interval=2)
    return p, opt, scaler


def test_scale_trajectory_skips_and_state_dict_match_torch():
    p, opt, scaler = make()
    scales, params, found = [], [], []
    for bad in REF["scaler/inject"]:
        opt.zero_grad()
        loss = (p * ember.tensor([1.0, 2.0, 3.0])).sum()
        scaler.scale(loss).backward()
        if bad:
            p.grad[1] = float("inf")
        scaler.step(opt)
        found.append(sum(scaler._found_inf_per_device(opt).values()))
        scaler.update()
        scales.append(scaler.get_scale())
        params.append(p.detach().numpy().copy())
    np.testing.assert_array_equal(scales, REF["scaler/scales"])
    np.testing.assert_array_equal(found, REF["scaler/found"])
    np.testing.assert_allclose(np.array(params), REF["scaler/params"], rtol=1e-6)
    assert scaler.state_dict() == json.loads(str(REF["scaler/state"]))


def test_unscale_then_clip_then_step():
    p, opt, scaler = make()
    scaler.scale((p * 3.0).sum()).backward()
    assert p.grad.tolist() == [48.0, 48.0, 48.0]
    scaler.unscale_(opt)
    assert p.grad.tolist() == [3.0, 3.0, 3.0]
    with pytest.raises(RuntimeError, match=r"unscale_\(\) has already been called on this optimizer"):
        scaler.unscale_(opt)
    ember.nn.utils.clip_grad_norm_([p], 1.0)
    scaler.step(opt)  # does not unscale again
    np.testing.assert_allclose(p.detach().numpy(), 1 - 0.1 / np.sqrt(3), rtol=1e-6)
    with pytest.raises(RuntimeError, match=r"step\(\) has already been called since the last update\(\)"):
        scaler.step(opt)
    with pytest.raises(RuntimeError, match=r"unscale_\(\) is being called after step\(\)"):
        scaler.unscale_(opt)
    scaler.update()
    assert scaler.get_scale() == 16.0 and scaler._get_growth_tracker() == 1


def test_nan_gradient_skips_step_and_backs_off():
    p, opt, scaler = make()
    scaler.scale((p * float("nan")).sum()).backward()
    assert scaler.step(opt) is None
    assert p.tolist() == [1.0, 1.0, 1.0]
    scaler.update()
    assert scaler.get_scale() == 8.0


def test_scale_nested_outputs_keeps_dtypes_and_bfloat16_grads_unscale():
    scaler = ember.amp.GradScaler("cpu", init_scale=4.0)
    a, b = scaler.scale([ember.tensor(1.0), (ember.tensor([2.0]).bfloat16(),)])
    assert a.item() == 4.0 and b[0].dtype == ember.bfloat16 and b[0].item() == 8.0
    p = ember.nn.Parameter(ember.ones(2, dtype=ember.bfloat16))
    opt = ember.optim.SGD([p], lr=1.0)
    scaler.scale(p.sum()).backward()
    scaler.step(opt)
    assert p.dtype == ember.bfloat16 and p.tolist() == [0.0, 0.0]


def test_update_with_new_scale_state_dict_round_trip_and_errors():
    p, opt, scaler = make()
    assert scaler.get_scale() == 16.0 and scaler.is_enabled()
    with pytest.raises(AssertionError, match="_scale is None"):
        scaler.update()
    scaler.scale(p.sum()).backward()
    scaler.step(opt)
    scaler.update(new_scale=3.0)
    assert scaler.get_scale() == 3.0
    other = ember.amp.GradScaler("cpu")
    other.load_state_dict(scaler.state_dict())
    assert other.state_dict() == scaler.state_dict()
    with pytest.raises(RuntimeError, match="source state dict is empty"):
        other.load_state_dict({})
    with pytest.raises(RuntimeError, match="Closure use is not currently supported"):
        scaler.step(opt, closure=lambda: 0)
    scaler.scale(p.sum()).backward()
    scaler.step(opt)
    with pytest.raises(AssertionError, match="No inf checks were recorded prior to update"):
        _update_without_step()


def _update_without_step():
    s = ember.amp.GradScaler("cpu")
    s.scale(ember.tensor(1.0))
    s.update()


def test_disabled_scaler_is_a_pass_through():
    p, opt, _ = make()
    s = ember.amp.GradScaler("cpu", enabled=False)
    loss = p.sum()
    assert s.scale(loss) is loss and s.get_scale() == 1.0 and s.state_dict() == {} and not s.is_enabled()
    loss.backward()
    s.step(opt)
    s.update()
    np.testing.assert_allclose(p.tolist(), 0.9)


def test_cuda_scaler_without_a_gpu_disables_itself_with_pytorchs_warning():
    with pytest.warns(UserWarning, match="CUDA is not available.  Disabling"):
        s = ember.amp.GradScaler()
    assert not s.is_enabled()
    with pytest.warns(FutureWarning, match="torch.cuda.amp.GradScaler"), pytest.warns(UserWarning):
        ember.cuda.amp.GradScaler()
