"""The fused CUDA kernels (ember/ops/_cuda_kernels.py, _cuda_sources.py), checked three ways:

- the source compiles with NVRTC to PTX for explicit architectures (no GPU needed; skips without NVRTC);
- the same source built for the CPU (``_cuda_emulator``: each block's threads as real threads) runs behind
  the real ops, whose results must match the composed NumPy path that stays the reference;
- ``cuda``-marked: on a real GPU, each fused kernel against the composed CuPy path (EMBER_NO_CUDA_KERNELS=1).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import backend
from ember.ops import _cuda_kernels
from ember.ops._cuda_sources import SOURCE

from . import _cuda_emulator, _nvrtc

KERNELS = sorted(_cuda_emulator.kernel_signatures(SOURCE))


def test_source_declares_the_kernels():
    assert KERNELS == sorted(["ember_adam_step", "ember_ce_bwd_rows", "ember_ce_exp_rows", "ember_dropout_scale",
                              "ember_gelu_bwd", "ember_gelu_fwd", "ember_norm_bwd_dx", "ember_norm_bwd_wb",
                              "ember_norm_fwd", "ember_sgd_step", "ember_softmax_bwd", "ember_softmax_fwd"])


@pytest.mark.parametrize("arch", ["compute_75", "compute_80", "compute_90"])
def test_source_compiles_with_nvrtc(arch):
    lib = _nvrtc.load()
    if lib is None:
        pytest.skip("NVRTC is not installed (pip install nvidia-cuda-nvrtc-cu12)")
    ptx, log = _nvrtc.compile_ptx(lib, SOURCE, (f"-arch={arch}", "--std=c++14"))
    assert "warning" not in log.lower(), log
    assert f".target sm_{arch.split('_')[1]}" in ptx
    assert sorted(re.findall(r"\.entry (\w+)", ptx)) == KERNELS


def test_not_used_on_numpy_or_the_test_stand_in(monkeypatch):
    assert not _cuda_kernels.usable(np.zeros(4, np.float32))
    _fakecuda = pytest.importorskip("_fakecuda")
    monkeypatch.setattr(backend, "_cupy", _fakecuda.cupy)  # the fake has no RawModule: no kernels
    assert not _cuda_kernels.usable(_fakecuda.cupy.zeros(4, dtype=np.float32))


# ---- the kernels' numerics on the CPU, through the ops --------------------------------------------


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    if _cuda_emulator.compiler() is None:
        pytest.skip("no C++ compiler (g++) to build the kernels for the CPU")
    return _cuda_emulator.Emulator(SOURCE, tmp_path_factory.mktemp("cuda_emulator"))


@pytest.fixture
def fused(emulator, monkeypatch):
    """``fused(fn)``: (fn() on the composed path, fn() through the emulated kernels, kernels launched)."""
    monkeypatch.setenv("EMBER_NO_FAST", "1")  # the reference is the composed NumPy path

    def run(fn, seed=0):
        ember.manual_seed(seed)
        ref = fn()
        emulator.launches.clear()
        previous = _cuda_kernels._use_launcher(emulator)
        try:
            ember.manual_seed(seed)
            out = fn()
        finally:
            _cuda_kernels._use_launcher(previous)
        return ref, out, set(emulator.launches)

    return run


def _close(ref, out, rtol=2e-6, atol=2e-6):
    for r, o in zip(ref, out):
        np.testing.assert_allclose(o, r, rtol=rtol, atol=atol)


def _fwd_bwd(f, *shapes, seed=1, scale=3.0):
    """A function computing (f's outputs, the inputs' gradients) for fresh float32 inputs of ``shapes``."""
    rng = np.random.default_rng(seed)
    data = [(rng.standard_normal(s) * scale).astype(np.float32) for s in shapes]

    def fn():
        xs = [ember.tensor(d, requires_grad=True) for d in data]
        y = f(*xs)
        w = ember.tensor(rng.standard_normal(tuple(y.shape)).astype(np.float32)) if y.dim() else ember.tensor(1.5)
        (y * w).sum().backward()
        return [y.detach().cpu().numpy()] + [x.grad.cpu().numpy() for x in xs if x.grad is not None]

    rng_state = rng.bit_generator.state

    def fresh():
        rng.bit_generator.state = rng_state
        return fn()

    return fresh


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu(fused, approximate):
    ref, out, launched = fused(_fwd_bwd(lambda x: F.gelu(x, approximate=approximate), (3, 1000)))
    assert launched == {"ember_gelu_fwd", "ember_gelu_bwd"}
    # tanh form: 1 + tanh(u) cancels for x << 0, so libm's last-ulp differences show up as ~1e-6 absolute
    _close(ref, out, rtol=1e-5, atol=1e-5 if approximate == "tanh" else 1e-6)


@pytest.mark.parametrize("cols", [1, 10, 300, 700])
@pytest.mark.parametrize("log", [False, True])
def test_softmax_last_dim(fused, cols, log):
    f = F.log_softmax if log else F.softmax
    ref, out, launched = fused(_fwd_bwd(lambda x: f(x, dim=-1), (4, 3, cols)))
    assert launched == {"ember_softmax_fwd", "ember_softmax_bwd"}
    _close(ref, out, rtol=1e-5, atol=1e-6)


def test_softmax_rows_with_inf_and_nan(fused):
    x = np.zeros((4, 40), np.float32)
    x[0, 3] = np.inf
    x[1, :] = -np.inf
    x[2, 5] = np.nan
    x[3, ::2] = -np.inf

    def fn():
        t = ember.tensor(x)
        return [F.softmax(t, dim=1).numpy(), F.log_softmax(t, dim=1).numpy()]

    ref, out, launched = fused(fn)
    assert launched == {"ember_softmax_fwd"}
    _close(ref, out)


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("rows, cols", [(30, 5), (30, 130), (30, 600), (150, 300)])  # 150: 3 chunks of rows
def test_layer_norm(fused, affine, rows, cols):
    def f(x, w, b):
        return F.layer_norm(x, (cols,), w if affine else None, b if affine else None, eps=1e-5)

    ref, out, launched = fused(_fwd_bwd(f, (rows // 5, 5, cols), (cols,), (cols,), scale=2.0))
    assert launched == {"ember_norm_fwd", "ember_norm_bwd_dx"} | ({"ember_norm_bwd_wb"} if affine else set())
    assert len(ref) == len(out) == (4 if affine else 2)
    _close(ref, out, rtol=2e-5, atol=2e-5)


def test_rms_norm(fused):
    ref, out, launched = fused(_fwd_bwd(lambda x, w: F.rms_norm(x, (200,), w, eps=1e-6), (9, 200), (200,)))
    assert launched == {"ember_norm_fwd", "ember_norm_bwd_dx", "ember_norm_bwd_wb"}
    _close(ref, out, rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_rows(fused, reduction, weighted):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((37, 11)) * 4).astype(np.float32)
    t = rng.integers(0, 11, 37)
    t[[2, 9]] = -100
    w = rng.uniform(0.5, 2.0, 11).astype(np.float32) if weighted else None

    def fn():
        xt = ember.tensor(x, requires_grad=True)
        loss = F.cross_entropy(xt, ember.tensor(t), weight=None if w is None else ember.tensor(w), reduction=reduction)
        (loss * 1.7).sum().backward()
        return [loss.detach().numpy(), xt.grad.numpy()]

    ref, out, launched = fused(fn)
    assert launched == {"ember_ce_exp_rows", "ember_ce_bwd_rows"}
    _close(ref, out, rtol=1e-5, atol=1e-6)


def test_cross_entropy_with_smoothing_keeps_the_composed_backward(fused):
    x = np.random.default_rng(4).standard_normal((8, 5)).astype(np.float32)

    def fn():
        xt = ember.tensor(x, requires_grad=True)
        F.cross_entropy(xt, ember.tensor(np.arange(8) % 5), label_smoothing=0.1).backward()
        return [xt.grad.numpy()]

    ref, out, launched = fused(fn)
    assert launched == set()
    _close(ref, out)


@pytest.mark.parametrize("p", [0.3, 1.0])
def test_dropout_same_samples_same_mask(fused, p):
    ref, out, launched = fused(_fwd_bwd(lambda x: F.dropout(x, p=p, training=True), (50, 40)))
    assert launched == {"ember_dropout_scale"}
    _close(ref, out, rtol=0, atol=0)
    assert (ref[0] == 0).mean() == pytest.approx(p, abs=0.05)


def _train(opt_factory, steps=3):
    def fn():
        rng = np.random.default_rng(5)
        params = [ember.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True) for s in [(7, 9), (300,)]]
        opt = opt_factory(params)
        for _ in range(steps):
            opt.zero_grad()
            loss = sum(((p * p * 0.5).sum() + (p * float(rng.standard_normal())).sum()) for p in params)
            loss.backward()
            opt.step()
        state = [a.cpu().numpy() for p in params for a in opt.state[p].values() if isinstance(a, ember.Tensor) and a.dim()]
        return [p.detach().cpu().numpy() for p in params] + state

    return fn


OPTIMIZERS = {
    "adam": lambda ps: ember.optim.Adam(ps, lr=0.01),
    "adam_wd_amsgrad_max": lambda ps: ember.optim.Adam(ps, lr=0.02, weight_decay=0.1, amsgrad=True, maximize=True),
    "adamw": lambda ps: ember.optim.AdamW(ps, lr=0.01, betas=(0.6, 0.95)),
    "sgd": lambda ps: ember.optim.SGD(ps, lr=0.1),
    "sgd_momentum": lambda ps: ember.optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.2, weight_decay=0.01),
    "sgd_nesterov_max": lambda ps: ember.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, maximize=True),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_steps(fused, name):
    ref, out, launched = fused(_train(OPTIMIZERS[name]))
    assert launched == {"ember_adam_step" if name.startswith("adam") else "ember_sgd_step"}
    assert len(ref) == len(out)
    _close(ref, out, rtol=1e-5, atol=1e-6)


# ---- on a real GPU: each fused kernel against the composed CuPy path -----------------------------

GPU_CASES = {
    "gelu": lambda: _fwd_bwd(lambda x: F.gelu(x), (64, 1000)),
    "gelu_tanh": lambda: _fwd_bwd(lambda x: F.gelu(x, approximate="tanh"), (64, 1000)),
    "softmax": lambda: _fwd_bwd(lambda x: F.softmax(x, dim=-1), (64, 1000)),
    "log_softmax": lambda: _fwd_bwd(lambda x: F.log_softmax(x, dim=-1), (64, 1000)),
    "layer_norm": lambda: _fwd_bwd(lambda x, w, b: F.layer_norm(x, (768,), w, b), (128, 768), (768,), (768,)),
    "cross_entropy": lambda: _fwd_bwd(lambda x: F.cross_entropy(x, ember.arange(64) % 10), (64, 10)),
    "dropout": lambda: _fwd_bwd(lambda x: F.dropout(x, 0.2), (64, 1000)),
}


@pytest.mark.cuda
@pytest.mark.parametrize("case", sorted(GPU_CASES) + sorted(OPTIMIZERS))
def test_fused_matches_composed_on_gpu(case, monkeypatch):
    if getattr(backend._cupy, "RawModule", None) is None:
        pytest.skip("needs real CuPy on a GPU")
    fn = GPU_CASES[case]() if case in GPU_CASES else _train(OPTIMIZERS[case])
    launched = []
    launch = _cuda_kernels._LAUNCHER.launch
    monkeypatch.setattr(_cuda_kernels._LAUNCHER, "launch", lambda name, *a: (launched.append(name), launch(name, *a)))
    with ember.device("cuda"):
        ember.manual_seed(0)
        out = fn()
        assert launched, "no fused kernel ran"
        monkeypatch.setenv("EMBER_NO_CUDA_KERNELS", "1")
        ember.manual_seed(0)
        ref = fn()
    _close(ref, out, rtol=1e-4, atol=1e-5)
