"""conv3d / conv_transpose3d and Conv3d / ConvTranspose3d against values recorded from PyTorch."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F

REF = np.load(pathlib.Path(__file__).parent / "fixtures" / "conv3d_ref.npz")
NAMES = sorted({k.split("/")[0] for k in REF.files})


@pytest.mark.parametrize("name", NAMES)
def test_values_and_gradients_match_pytorch(name):
    meta = json.loads(REF[f"{name}/meta"].tobytes())
    x = ember.tensor(REF[f"{name}/x"], requires_grad=True)
    w = ember.tensor(REF[f"{name}/w"], requires_grad=True)
    b = ember.tensor(REF[f"{name}/b"], requires_grad=True) if f"{name}/b" in REF else None
    if meta["kw"].get("padding") == "same":  # even kernel: PyTorch warns about the padded copy, so do we
        with pytest.warns(UserWarning, match="padding='same' with even kernel lengths"):
            y = getattr(F, meta["fn"])(x, w, b, **meta["kw"])
    else:
        y = getattr(F, meta["fn"])(x, w, b, **meta["kw"])
    np.testing.assert_allclose(y.detach().numpy(), REF[f"{name}/y"], rtol=1e-10, atol=1e-10)
    inputs = [x, w] + ([b] if b is not None else [])
    grads = ember.autograd.grad(y, inputs, ember.tensor(REF[f"{name}/g"]))
    np.testing.assert_allclose(grads[0].numpy(), REF[f"{name}/gx"], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(grads[1].numpy(), REF[f"{name}/gw"], rtol=1e-10, atol=1e-10)
    if b is not None:
        np.testing.assert_allclose(grads[2].numpy(), REF[f"{name}/gb"], rtol=1e-10, atol=1e-10)


def test_gradcheck_and_gradgradcheck():
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.standard_normal((1, 2, 4, 3, 3)), requires_grad=True)
    w = ember.tensor(rng.standard_normal((2, 2, 2, 2, 2)), requires_grad=True)
    fn = lambda a, b: F.conv3d(a, b, stride=(2, 1, 1), padding=1)  # noqa: E731
    assert ember.autograd.gradcheck(fn, [x, w])
    assert ember.autograd.gradgradcheck(fn, [x, w])
    ft = lambda a, b: F.conv_transpose3d(a, b, stride=2, output_padding=1)  # noqa: E731
    assert ember.autograd.gradcheck(ft, [x, w])


def test_modules_shapes_state_dict_and_padding_modes():
    conv = nn.Conv3d(4, 8, 3, padding=1, padding_mode="circular")
    assert tuple(conv.weight.shape) == (8, 4, 3, 3, 3) and list(conv.state_dict()) == ["weight", "bias"]
    assert tuple(conv(ember.randn(2, 4, 5, 6, 7)).shape) == (2, 8, 5, 6, 7)
    assert repr(nn.Conv3d(4, 8, (1, 3, 3), stride=2)) == "Conv3d(4, 8, kernel_size=(1, 3, 3), stride=(2, 2, 2))"
    t = nn.ConvTranspose3d(8, 4, 3, stride=2, padding=1)
    assert tuple(t.weight.shape) == (8, 4, 3, 3, 3)
    assert tuple(t(ember.randn(1, 8, 3, 4, 5), output_size=[6, 8, 10]).shape) == (1, 4, 6, 8, 10)
    with pytest.raises(RuntimeError, match="Expected 4D \\(unbatched\\) or 5D \\(batched\\) input to conv3d"):
        F.conv3d(ember.randn(2, 3, 4), ember.randn(1, 3, 1, 1, 1))
    with pytest.raises(RuntimeError, match="Kernel size can't be greater than actual input size"):
        F.conv3d(ember.randn(1, 1, 2, 5, 5), ember.randn(1, 1, 3, 3, 3))
