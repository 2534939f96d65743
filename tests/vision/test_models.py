"""embervision.models: torchvision's state_dict keys and numerics (a torchvision-written checkpoint)."""

from __future__ import annotations

import lzma
import pathlib

import numpy as np
import pytest

import ember
from embervision import models

FIX = pathlib.Path(__file__).parent / "fixtures"


def test_resnet18_loads_torchvision_checkpoint_and_matches_logits(tmp_path):
    path = tmp_path / "resnet18.pth"
    path.write_bytes(lzma.decompress((FIX / "resnet18_random.pth.xz").read_bytes()))
    model = models.resnet18(num_classes=10, weights=str(path))
    model.eval()
    ref = np.load(FIX / "resnet18_logits.npz")
    with ember.no_grad():
        logits = model(ember.from_numpy(ref["input"])).numpy()
    np.testing.assert_allclose(logits, ref["logits"], rtol=1e-4, atol=1e-4)


def _keys(model):
    return list(model.state_dict().keys())


def test_resnet18_state_dict_keys():
    keys = _keys(models.resnet18())
    assert len(keys) == 122
    assert keys[:6] == ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked"]
    assert "layer2.0.downsample.0.weight" in keys and "layer4.1.bn2.running_var" in keys
    assert keys[-2:] == ["fc.weight", "fc.bias"]


@pytest.mark.parametrize(
    "builder,n_params,n_keys",
    [
        # parameter and state_dict-entry counts recorded from torchvision 0.28
        (models.resnet18, 11689512, 122),
        (models.resnet50, 25557032, 320),
        (models.vgg11, 132863336, 22),
        (models.vgg11_bn, 132868840, 62),
        (models.alexnet, 61100840, 16),
        (models.mobilenet_v2, 3504872, 314),
        (models.squeezenet1_0, 1248424, 52),
        (models.resnext50_32x4d, 25028904, 320),
        (models.wide_resnet50_2, 68883240, 320),
    ],
)
def test_parameter_counts_match_torchvision(builder, n_params, n_keys):
    model = builder()
    assert sum(p.numel() for p in model.parameters()) == n_params
    assert len(model.state_dict()) == n_keys


def test_forward_shapes_and_num_classes():
    x = ember.randn(2, 3, 64, 64)
    for builder in (models.resnet18, models.mobilenet_v2, models.squeezenet1_1):
        m = builder(num_classes=7).eval()
        with ember.no_grad():
            assert tuple(m(x).shape) == (2, 7)
    m = models.mnist_cnn().eval()
    with ember.no_grad():
        assert tuple(m(ember.randn(3, 1, 28, 28)).shape) == (3, 10)


def test_registry():
    assert "resnet18" in models.list_models() and "vgg16_bn" in models.list_models()
    assert isinstance(models.get_model("resnet18", num_classes=3), models.ResNet)
    with pytest.raises(ValueError, match="Unknown model"):
        models.get_model("nope")


def test_weights_enum_style_is_not_silently_ignored():
    with pytest.raises(NotImplementedError, match=r"expected a \*_Weights enum member"):
        models.resnet18(weights=object())
