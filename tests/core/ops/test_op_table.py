"""Runs every OpSpec row from the ``spec_*.py`` files: forward vs NumPy, backward vs finite differences."""

from __future__ import annotations

import importlib
import pathlib

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck

from .opspec import OpSpec

_HERE = pathlib.Path(__file__).parent
SPECS: list[OpSpec] = []
for _path in sorted(_HERE.glob("spec_*.py")):
    SPECS.extend(importlib.import_module(f"{__package__}.{_path.stem}").SPECS)


def _to_tensors(arrays, device, float_dtype, requires_grad_idx=()):
    out = []
    for i, a in enumerate(arrays):
        if a.dtype.kind == "f":
            t = ember.tensor(a.astype(float_dtype), device=device)
            if i in requires_grad_idx:
                t.requires_grad_(True)
        else:
            t = ember.tensor(a, device=device)
        out.append(t)
    return out


def _flatten(result):
    if isinstance(result, (tuple, list)):
        return [x for r in result for x in _flatten(r)]
    return [result]


def _diff_idx(spec, arrays):
    if spec.differentiable is not None:
        return spec.differentiable
    return tuple(i for i, a in enumerate(arrays) if a.dtype.kind == "f")


@pytest.mark.parametrize("spec", [s for s in SPECS if s.ref is not None], ids=lambda s: s.test_id)
def test_forward_matches_numpy(spec, device):
    arrays = spec.inputs(np.random.default_rng(0))
    expected = _flatten(spec.ref(*[a.astype(np.float64) if a.dtype.kind == "f" else a for a in arrays], **spec.kwargs))
    actual = _flatten(spec.fn(*_to_tensors(arrays, device, np.float32), **spec.kwargs))
    assert len(actual) == len(expected), f"{spec.name}: {len(actual)} outputs, reference has {len(expected)}"
    for a, e in zip(actual, expected):
        e = np.asarray(e)
        got = a.cpu().numpy() if isinstance(a, ember.Tensor) else np.asarray(a)
        assert got.shape == e.shape, f"{spec.name}: shape {got.shape} != reference {e.shape}"
        if e.dtype.kind == "f":
            assert got.dtype.kind == "f", f"{spec.name}: dtype {got.dtype}, expected floating point"
            np.testing.assert_allclose(got, e, rtol=spec.rtol, atol=spec.atol * 10, err_msg=spec.name)
        else:
            np.testing.assert_array_equal(got, e, err_msg=spec.name)


@pytest.mark.parametrize("spec", [s for s in SPECS if s.gradcheck], ids=lambda s: s.test_id)
def test_gradcheck(spec, device):
    arrays = spec.inputs(np.random.default_rng(1))
    idx = _diff_idx(spec, arrays)
    tensors = _to_tensors(arrays, device, np.float64, idx)
    assert gradcheck(lambda *xs: spec.fn(*xs, **spec.kwargs), tuple(tensors), eps=1e-6, atol=spec.atol, rtol=spec.rtol)


@pytest.mark.parametrize("spec", [s for s in SPECS if s.gradgradcheck], ids=lambda s: s.test_id)
def test_gradgradcheck(spec, device):
    arrays = spec.inputs(np.random.default_rng(2))
    idx = _diff_idx(spec, arrays)
    tensors = _to_tensors(arrays, device, np.float64, idx)
    assert gradgradcheck(lambda *xs: spec.fn(*xs, **spec.kwargs), tuple(tensors), atol=spec.atol, rtol=spec.rtol)
