"""ember.optim optimizers: trajectories equal PyTorch's (recorded once in fixtures/optim_ref.npz),
state-dict structure and round trips, param groups, closures, hooks, errors, LBFGS on Rosenbrock."""

from __future__ import annotations

import copy
import io
import json
import pathlib
import warnings

import ember
import numpy as np
import pytest
from ember import optim

REF = np.load(pathlib.Path(__file__).parent / "fixtures" / "optim_ref.npz")
CONFIGS = json.loads(str(REF["configs"]))
STEPS = REF["sgd/W"].shape[0]
SD_AT = 3
CONFIG_IDS = [c[0] for c in CONFIGS]


def _kwargs(kw):
    kw = dict(kw)
    for k in ("betas", "etas", "step_sizes"):
        if k in kw:
            kw[k] = tuple(kw[k])
    return kw


def _setup(cfg, device="cpu", values=None):
    _, cls, kwargs, groups = cfg
    values = values or {}
    params = {
        k: ember.nn.Parameter(ember.tensor(values.get(k, REF[k]), device=device)) for k in ("W", "b", "c")
    }
    if groups is None:
        spec = [params["W"], params["b"], params["c"]]
    else:
        spec = [
            {**{k: (tuple(v) if k == "betas" else v) for k, v in g.items() if k != "params"},
             "params": [params[n] for n in g["params"]]}
            for g in groups
        ]
    opt = getattr(optim, cls)(spec, **_kwargs(kwargs))
    return params, opt


def _train(params, opt, steps, device="cpu"):
    x, y = ember.tensor(REF["x"], device=device), ember.tensor(REF["y"], device=device)
    Ws, bs, losses = [], [], []
    for _ in range(steps):
        opt.zero_grad()
        loss = ((ember.tanh(x @ params["W"] + params["b"]) - y) ** 2).sum()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        Ws.append(params["W"].detach().cpu().numpy().copy())
        bs.append(params["b"].detach().cpu().numpy().copy())
    return np.stack(Ws), np.stack(bs), np.array(losses)


@pytest.mark.parametrize("cfg", CONFIGS, ids=CONFIG_IDS)
def test_trajectory_matches_torch(cfg, device):
    name = cfg[0]
    params, opt = _setup(cfg, device)
    W, b, losses = _train(params, opt, STEPS, device)
    np.testing.assert_allclose(losses, REF[f"{name}/loss"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(W, REF[f"{name}/W"], rtol=1e-5, atol=2e-6)
    np.testing.assert_allclose(b, REF[f"{name}/b"], rtol=1e-5, atol=2e-6)
    # a parameter without a gradient is left alone (and gets no state, except Adagrad's eager init)
    np.testing.assert_array_equal(params["c"].detach().cpu().numpy(), REF["c"])
    if cfg[1] != "Adagrad":
        assert params["c"] not in opt.state
    assert params["W"].dtype == ember.float32


@pytest.mark.parametrize("cfg", CONFIGS, ids=CONFIG_IDS)
def test_repr_and_state_dict_structure_match_torch(cfg):
    name = cfg[0]
    params, opt = _setup(cfg)
    assert repr(opt) == str(REF[f"{name}/repr"])
    _train(params, opt, SD_AT)
    sd = opt.state_dict()
    meta = json.loads(str(REF[f"{name}/sd_meta"]))
    assert set(sd) == {"state", "param_groups"}
    assert [sorted(g) for g in sd["param_groups"]] == [sorted(g) for g in meta["param_groups"]]
    for g, tg in zip(sd["param_groups"], meta["param_groups"]):
        assert g["params"] == tg["params"]
        for k, v in tg.items():
            if k not in ("params", "initial_lr"):
                assert (list(g[k]) if isinstance(g[k], tuple) else g[k]) == v, k
    assert {str(i): sorted(s) for i, s in sd["state"].items()} == meta["state_keys"]
    for i, s in sd["state"].items():
        for k, v in s.items():
            assert isinstance(v, ember.Tensor)
            assert str(v.dtype).replace("ember.", "") == meta["state_dtypes"][str(i)][k], (i, k)
            np.testing.assert_allclose(v.numpy(), REF[f"{name}/sd/{i}/{k}"], rtol=1e-5, atol=1e-6)
            if k == "step":
                assert v.dim() == 0 and v.dtype == ember.float32


@pytest.mark.parametrize("cfg", CONFIGS, ids=CONFIG_IDS)
def test_loading_torch_state_dict_resumes_torch_trajectory(cfg):
    """A state dict in torch's layout (values recorded from torch after 3 steps) continues torch's run."""
    name = cfg[0]
    params, opt = _setup(cfg, values={"W": REF[f"{name}/sd_W"], "b": REF[f"{name}/sd_b"]})
    meta = json.loads(str(REF[f"{name}/sd_meta"]))
    groups = []
    for g in meta["param_groups"]:
        g = dict(g)
        groups.append(_kwargs(g))
    state = {
        int(i): {k: ember.tensor(REF[f"{name}/sd/{i}/{k}"]) for k in keys} for i, keys in meta["state_keys"].items()
    }
    opt.load_state_dict({"state": state, "param_groups": groups})
    W, b, _ = _train(params, opt, STEPS - SD_AT)
    np.testing.assert_allclose(W, REF[f"{name}/W"][SD_AT:], rtol=1e-5, atol=2e-6)
    np.testing.assert_allclose(b, REF[f"{name}/b"][SD_AT:], rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize("cfg", CONFIGS, ids=CONFIG_IDS)
def test_state_dict_round_trip_resumes_bit_for_bit(cfg):
    params, opt = _setup(cfg)
    _train(params, opt, SD_AT)
    buf = io.BytesIO()
    ember.save(opt.state_dict(), buf)
    buf.seek(0)
    sd = ember.load(buf)
    values = {k: params[k].detach().numpy().copy() for k in ("W", "b")}
    params2, opt2 = _setup(cfg, values=values)
    opt2.load_state_dict(sd)
    # the loaded state is a copy: stepping the new optimizer leaves the saved dict alone
    saved = copy.deepcopy(sd)
    W1, b1, _ = _train(params, opt, 3)
    W2, b2, _ = _train(params2, opt2, 3)
    np.testing.assert_array_equal(W1, W2)
    np.testing.assert_array_equal(b1, b2)
    for i, s in sd["state"].items():
        for k, v in s.items():
            np.testing.assert_array_equal(v.numpy(), saved["state"][i][k].numpy())


def test_state_dict_references_live_state_and_load_copies():
    p = ember.nn.Parameter(ember.ones(3))
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = ember.ones(3)
    opt.step()
    sd = opt.state_dict()
    assert sd["state"][0]["momentum_buffer"] is opt.state[p]["momentum_buffer"]
    q = ember.nn.Parameter(ember.ones(3, dtype=ember.float64))
    opt2 = optim.SGD([q], lr=0.1, momentum=0.9)
    opt2.load_state_dict(sd)
    buf = opt2.state[q]["momentum_buffer"]
    assert buf is not sd["state"][0]["momentum_buffer"]
    assert buf.dtype == ember.float64  # cast to the parameter's dtype
    sd_adam = _adam_state_after_one_step()
    q2 = ember.nn.Parameter(ember.ones(3, dtype=ember.float64))
    opt3 = optim.Adam([q2])
    opt3.load_state_dict(sd_adam)
    assert opt3.state[q2]["step"].dtype == ember.float32  # 'step' keeps its dtype
    assert opt3.state[q2]["exp_avg"].dtype == ember.float64


def _adam_state_after_one_step():
    p = ember.nn.Parameter(ember.ones(3))
    opt = optim.Adam([p])
    p.grad = ember.ones(3)
    opt.step()
    return opt.state_dict()


def test_load_state_dict_validates_groups():
    p, q = ember.nn.Parameter(ember.ones(2)), ember.nn.Parameter(ember.ones(2))
    sd = optim.SGD([p, q], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.SGD([{"params": [p]}, {"params": [q]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="loaded state dict contains a parameter group that doesn't match the size of optimizer's group"):
        optim.SGD([p], lr=0.1).load_state_dict(sd)
    opt = optim.SGD([p, q], lr=0.5)
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[0]["params"][0] is p


def test_param_groups_defaults_and_add_param_group():
    a, b, c = (ember.nn.Parameter(ember.zeros(2)) for _ in range(3))
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[1]["params"] == [b] and opt.param_groups[1]["momentum"] == 0.9
    assert set(opt.param_groups[0]) == {
        "params", "lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize", "foreach", "differentiable", "fused"
    }
    opt.add_param_group({"params": [c], "weight_decay": 0.1})
    assert opt.param_groups[2]["lr"] == 0.1 and opt.param_groups[2]["weight_decay"] == 0.1
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(TypeError, match="ordered collections"):
        opt.add_param_group({"params": {ember.nn.Parameter(ember.zeros(1))}})
    with pytest.raises(TypeError, match="param_group must be a dict"):
        opt.add_param_group([c])
    # named parameters are accepted and recorded
    model = ember.nn.Linear(2, 3)
    named = optim.Adam(model.named_parameters())
    assert named.param_groups[0]["param_names"] == ["weight", "bias"]
    assert named.state_dict()["param_groups"][0]["param_names"] == ["weight", "bias"]


def test_constructor_errors():
    p = ember.nn.Parameter(ember.zeros(2))
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="should be an iterable of Tensors or dicts"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        optim.Adam(3)
    with pytest.raises(ValueError, match=r"^Invalid learning rate: -1$"):
        optim.SGD([p], lr=-1)
    with pytest.raises(ValueError, match="Invalid momentum value: -0.5"):
        optim.SGD([p], lr=0.1, momentum=-0.5)
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum and zero dampening"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 0: 1.0"):
        optim.Adam([p], betas=(1.0, 0.999))
    with pytest.raises(ValueError, match="Invalid epsilon value: -1"):
        optim.AdamW([p], eps=-1)
    with pytest.raises(ValueError, match="Invalid weight_decay value: -0.1"):
        optim.RMSprop([p], weight_decay=-0.1)
    with pytest.raises(ValueError, match="Invalid lr_decay value: -1"):
        optim.Adagrad([p], lr_decay=-1)
    with pytest.raises(ValueError, match="Invalid momentum_decay value: -1"):
        optim.NAdam([p], momentum_decay=-1)
    with pytest.raises(TypeError, match="optimizer can only optimize Tensors, but one of the params is int"):
        optim.SGD([p, 3], lr=0.1)
    x = ember.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([x * 2], lr=0.1)
    with pytest.raises(ValueError, match="LBFGS doesn't support per-parameter options"):
        optim.LBFGS([{"params": [p]}, {"params": [x]}])
    with pytest.raises(NotImplementedError, match="differentiable"):
        optim.Adam([p], differentiable=True)


def test_defaults_match_torch():
    p = [ember.nn.Parameter(ember.zeros(2))]
    assert optim.SGD(p).defaults["lr"] == 1e-3
    assert optim.Adam(p).defaults == {
        "lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-08, "weight_decay": 0, "amsgrad": False, "maximize": False,
        "foreach": None, "capturable": False, "differentiable": False, "fused": None, "decoupled_weight_decay": False,
    }
    assert optim.AdamW(p).defaults["weight_decay"] == 1e-2 and optim.AdamW(p).defaults["decoupled_weight_decay"]
    assert optim.RMSprop(p).defaults["lr"] == 1e-2 and optim.RMSprop(p).defaults["alpha"] == 0.99
    assert optim.Adagrad(p).defaults["eps"] == 1e-10
    assert optim.Adamax(p).defaults["lr"] == 2e-3
    assert optim.NAdam(p).defaults["momentum_decay"] == 4e-3
    assert optim.RAdam(p).defaults["lr"] == 1e-3
    assert optim.LBFGS(p).defaults == {
        "lr": 1, "max_iter": 20, "max_eval": 25, "tolerance_grad": 1e-07, "tolerance_change": 1e-09,
        "history_size": 100, "line_search_fn": None,
    }


def test_zero_grad_and_closure():
    p = ember.nn.Parameter(ember.tensor([1.0, -2.0]))
    opt = optim.SGD([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p**2).sum()
        loss.backward()
        return loss

    with ember.no_grad():  # step() enables grad for the closure
        loss = opt.step(closure)
    assert loss.item() == pytest.approx(5.0)
    np.testing.assert_allclose(p.detach().numpy(), [0.8, -1.6], rtol=1e-6)
    assert opt.step() is None
    opt.zero_grad(set_to_none=False)
    grad = p.grad
    np.testing.assert_array_equal(grad.numpy(), [0.0, 0.0])
    opt.zero_grad()
    assert p.grad is None


def test_step_bumps_version_and_works_under_grad_mode():
    p = ember.nn.Parameter(ember.ones(3))
    opt = optim.Adam([p], lr=0.1)
    p.grad = ember.ones(3)
    v = p._version
    opt.step()  # grad mode on: the update must not raise "leaf variable ... in-place"
    assert p._version > v
    assert p.grad_fn is None and p.requires_grad


def test_hooks():
    p = ember.nn.Parameter(ember.ones(2))
    opt = optim.SGD([p], lr=0.1)
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, a, k: calls.append("pre"))
    h2 = opt.register_step_post_hook(lambda o, a, k: calls.append("post"))
    hg = optim.register_optimizer_step_pre_hook(lambda o, a, k: calls.append("gpre"))
    p.grad = ember.ones(2)
    opt.step()
    assert calls == ["gpre", "pre", "post"]
    h1.remove(), h2.remove(), hg.remove()
    opt.step()
    assert calls == ["gpre", "pre", "post"]
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
    assert opt.state_dict()["extra"] == 1
    seen = []
    opt.register_load_state_dict_post_hook(lambda o: seen.append(True))
    opt.load_state_dict({"state": {}, "param_groups": [dict(opt.param_groups[0], params=[0])]})
    assert seen == [True]


def test_duplicate_params_warn():
    p = ember.nn.Parameter(ember.ones(2))
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([p, p], lr=0.1)


def test_sgd_large_tensor_blocked_path_matches_whole_array_formula(rng):
    """Tensors bigger than one block (threads + 64K blocks) give the same result as the plain formula."""
    n = 300_001
    w0 = rng.standard_normal(n).astype(np.float32)
    g = rng.standard_normal(n).astype(np.float32)
    p = ember.nn.Parameter(ember.tensor(w0))
    opt = optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01)
    p.grad = ember.tensor(g)
    opt.step()
    opt.step()
    d = g + np.float32(0.01) * w0
    w1 = w0 + np.float32(-0.1) * d
    d2 = g + np.float32(0.01) * w1
    buf = d * np.float32(0.9) + d2
    np.testing.assert_array_equal(p.detach().numpy(), w1 + np.float32(-0.1) * buf)

    q = ember.nn.Parameter(ember.tensor(w0))
    adam = optim.Adam([q], lr=0.01)
    q.grad = ember.tensor(g)
    adam.step()
    small = [ember.nn.Parameter(ember.tensor(w0[i : i + 1000])) for i in range(0, 5000, 1000)]
    adam2 = optim.Adam(small, lr=0.01)
    for i, s in enumerate(small):
        s.grad = ember.tensor(g[i * 1000 : (i + 1) * 1000])
    adam2.step()
    np.testing.assert_array_equal(q.detach().numpy()[:5000], np.concatenate([s.detach().numpy() for s in small]))


def test_non_contiguous_parameter_is_updated_in_place():
    base = ember.nn.Parameter(ember.zeros(4, 3))
    opt = optim.Adam([base], lr=0.1)
    base.grad = ember.ones(3, 4).t()  # a transposed (non-contiguous) gradient
    opt.step()
    np.testing.assert_allclose(base.detach().numpy(), -0.1 * np.ones((4, 3)), rtol=1e-6)


def test_float64_parameters_stay_float64():
    p = ember.nn.Parameter(ember.ones(3, dtype=ember.float64))
    for cls in (optim.SGD, optim.Adam, optim.RMSprop, optim.Adagrad, optim.Adamax, optim.NAdam, optim.RAdam):
        opt = cls([p], lr=0.01)
        p.grad = ember.ones(3, dtype=ember.float64)
        opt.step()
        assert p.dtype == ember.float64 and p._data.dtype == np.float64
        for k, v in opt.state[p].items():
            if isinstance(v, ember.Tensor) and k not in ("step", "mu_product"):
                assert v.dtype == ember.float64, (cls, k)


def test_lr_as_tensor_is_accepted():
    p = ember.nn.Parameter(ember.ones(2))
    opt = optim.SGD([p], lr=ember.tensor(0.5))
    p.grad = ember.ones(2)
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [0.5, 0.5])


def test_training_a_model_reduces_loss():
    ember.manual_seed(0)
    model = ember.nn.Sequential(ember.nn.Linear(3, 8), ember.nn.Tanh(), ember.nn.Linear(8, 1))
    x = ember.randn(32, 3)
    y = x.sum(1, keepdim=True)
    opt = optim.AdamW(model.parameters(), lr=0.05)
    first = None
    for _ in range(60):
        opt.zero_grad()
        loss = ember.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        first = first if first is not None else loss.item()
    assert loss.item() < 0.1 * first


# -- LBFGS -------------------------------------------------------------------------------------------------
LBFGS_CASES = json.loads(str(REF["lbfgs_cases"]))


@pytest.mark.parametrize("case", LBFGS_CASES, ids=[c[0] for c in LBFGS_CASES])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_lbfgs_rosenbrock_matches_torch(case, dtype, device):
    name, kwargs = case
    p = ember.nn.Parameter(ember.tensor(REF["lbfgs_x0"], dtype=getattr(ember, dtype), device=device))
    opt = optim.LBFGS([p], **kwargs)

    def closure():
        opt.zero_grad()
        loss = (100 * (p[1:] - p[:-1] ** 2) ** 2 + (1 - p[:-1]) ** 2).sum()
        loss.backward()
        return loss

    xs, losses, evals = [], [], []
    for _ in range(4):
        losses.append(float(opt.step(closure)))
        xs.append(p.detach().cpu().numpy().copy())
        evals.append([opt.state[p]["func_evals"], opt.state[p]["n_iter"]])
    ref = f"{name}/{dtype}"
    if dtype == "float64":  # same algorithm: same iterates and evaluation counts
        np.testing.assert_allclose(np.stack(xs), REF[f"{ref}/x"], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(losses, REF[f"{ref}/loss"], rtol=1e-9, atol=1e-12)
        np.testing.assert_array_equal(np.array(evals), REF[f"{ref}/evals"])
    else:  # float32 rounding may stop an inner loop an iteration earlier or later
        np.testing.assert_allclose(np.stack(xs), REF[f"{ref}/x"], rtol=1e-3, atol=2e-4)
        np.testing.assert_allclose(losses, REF[f"{ref}/loss"], rtol=1e-3, atol=1e-5)


def test_lbfgs_state_dict_round_trip_and_requires_closure():
    def make():
        p = ember.nn.Parameter(ember.tensor(REF["lbfgs_x0"]))
        return p, optim.LBFGS([p], history_size=5, max_iter=4)

    def closure_for(p, opt):
        def closure():
            opt.zero_grad()
            loss = (100 * (p[1:] - p[:-1] ** 2) ** 2 + (1 - p[:-1]) ** 2).sum()
            loss.backward()
            return loss

        return closure

    p, opt = make()
    for _ in range(2):
        opt.step(closure_for(p, opt))
    sd = opt.state_dict()
    assert {"d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad", "prev_loss", "func_evals", "n_iter"} <= set(sd["state"][0])
    q, opt2 = make()
    q.data = p.detach().clone()
    opt2.load_state_dict(sd)
    opt.step(closure_for(p, opt))
    opt2.step(closure_for(q, opt2))
    np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    with pytest.raises((TypeError, RuntimeError)):
        opt.step()


def test_optimizer_is_pickled_with_state():
    import pickle

    p = ember.nn.Parameter(ember.ones(2))
    opt = optim.Adam([p])
    p.grad = ember.ones(2)
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opt2 = pickle.loads(pickle.dumps(opt))
    assert repr(opt2) == repr(opt)
    assert len(opt2.state) == 1


@pytest.mark.parametrize("cls, key, value", [(optim.SGD, "nesterov", False), (optim.Adam, "amsgrad", False),
                                             (optim.RMSprop, "momentum", 0), (optim.AdamW, "decoupled_weight_decay", True)])
def test_unpickling_an_older_state_fills_missing_group_options(cls, key, value):
    opt = cls([ember.nn.Parameter(ember.ones(2))], lr=0.1)
    state = opt.__getstate__()
    del state["param_groups"][0][key]
    fresh = cls.__new__(cls)
    fresh.__setstate__(state)
    assert fresh.param_groups[0][key] == value


COMPLEX_CASES = json.loads(str(REF["complex_cases"]))


@pytest.mark.parametrize("case", COMPLEX_CASES, ids=[c[0] for c in COMPLEX_CASES])
def test_complex_parameters_match_torch(case, device):
    cls, kwargs = case
    p = ember.nn.Parameter(ember.tensor(REF["complex/x"], device=device))
    opt = getattr(optim, cls)([p], **kwargs)
    for i in range(5):
        p.grad = ember.tensor(REF["complex/g"] * (i + 1), device=device)
        opt.step()
    assert p.dtype == ember.complex64
    np.testing.assert_allclose(p.detach().cpu().numpy(), REF[f"complex/{cls}"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls", sorted(json.loads(str(REF["defaults"]))))
def test_every_optimizer_has_torchs_defaults(cls):
    """The default options (so every param group's keys, foreach/maximize/capturable/differentiable
    included) are PyTorch's."""
    opt = getattr(optim, cls)([ember.nn.Parameter(ember.zeros(2))])
    expected = json.loads(str(REF["defaults"]))[cls]
    got = {k: (list(v) if isinstance(v, tuple) else v) for k, v in opt.defaults.items()}
    assert got == expected
    assert sorted(opt.param_groups[0]) == sorted([*expected, "params"])


def test_new_optimizer_constructor_errors():
    p = [ember.nn.Parameter(ember.zeros(2))]
    with pytest.raises(ValueError, match="Invalid rho value: 1.5"):
        optim.Adadelta(p, rho=1.5)
    with pytest.raises(ValueError, match="Invalid epsilon value: -1"):
        optim.Adadelta(p, eps=-1)
    with pytest.raises(ValueError, match="Invalid weight_decay value: -0.1"):
        optim.ASGD(p, weight_decay=-0.1)
    with pytest.raises(ValueError, match="Invalid eta values: 1.2, 0.5"):
        optim.Rprop(p, etas=(1.2, 0.5))
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        optim.Rprop(p, lr=-1)
    optim.Adadelta(p, foreach=False, capturable=False, maximize=True)  # accepted as PyTorch does
