"""Every public ``ember.*`` function that accepts one (or two) small float tensors on the CPU gives the same
result on the device (found automatically: a new function is covered without a new line here)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember

# setters and global switches would leak into other tests; factories/IO don't take a tensor as data
_SKIP_WORDS = ("set_", "seed", "save", "load", "use_", "compile", "autocast", "enable", "disable", "is_",
               "vmap", "manual", "default", "printoptions", "rng_state", "from_", "frombuffer", "empty",
               "Tensor", "scalar_tensor", "full_like", "bernoulli")  # CPU types; a Number argument; random


def _x(device):
    return ember.tensor(np.linspace(-1.7, 2.3, 12, dtype=np.float32).reshape(3, 4), device=device)


def _y(device):
    return ember.tensor(np.linspace(0.4, 1.9, 12, dtype=np.float32)[::-1].copy().reshape(3, 4), device=device)


def _flat(out):
    if isinstance(out, ember.Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return None


def _try(name, arity):
    fn = getattr(ember, name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            args = (_x("cpu"),) if arity == 1 else (_x("cpu"), _y("cpu"))
            first, second = _flat(fn(*args)), _flat(fn(*args))
    except Exception:
        return False
    if not first or len(first) != len(second):
        return False
    # deterministic results only (random sampling draws differ between devices)
    return all(a.shape == b.shape and np.array_equal(a.detach().numpy(), b.detach().numpy(), equal_nan=True)
               for a, b in zip(first, second))


def _names():
    out = []
    for name in sorted(dir(ember)):
        if name.startswith("_") or any(w in name for w in _SKIP_WORDS):
            continue
        try:
            fn = getattr(ember, name)
        except Exception:
            continue
        if not callable(fn) or isinstance(fn, type) or getattr(fn, "__module__", "").startswith("ember.nn"):
            continue
        for arity in (1, 2):
            if _try(name, arity):
                out.append((name, arity))
                break
    return out


FUNCTIONS = _names()


def test_the_sweep_finds_the_common_functions():
    names = {n for n, _ in FUNCTIONS}
    assert {"exp", "sum", "sort", "where", "add", "maximum", "std", "igamma", "tensor", "softmax"} <= names
    assert len(FUNCTIONS) > 150


@pytest.mark.parametrize("name, arity", FUNCTIONS, ids=[f[0] for f in FUNCTIONS])
def test_function_matches_cpu(name, arity, device):
    if device == "cpu":
        pytest.skip("compares a device with the CPU")
    fn = getattr(ember, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = _flat(fn(*((_x("cpu"),) if arity == 1 else (_x("cpu"), _y("cpu")))))
        got = _flat(fn(*((_x(device),) if arity == 1 else (_x(device), _y(device)))))
    assert len(got) == len(ref)
    for g, r in zip(got, ref):
        assert g.device.type == ember.device(device).type, f"{name}: result on {g.device}"
        assert g.dtype == r.dtype and g.shape == r.shape
        np.testing.assert_allclose(g.detach().cpu().numpy(), r.detach().numpy(), rtol=1e-5, atol=1e-6, equal_nan=True)
