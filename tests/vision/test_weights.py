"""embervision.models weight enums: torchvision's tables, presets, hub-cache loading and the offline error."""

from __future__ import annotations

import os
import urllib.error
import urllib.request

import numpy as np
import pytest

import ember
from embervision import models


def test_enum_members_meta_and_lookup():
    w = models.ResNet18_Weights.DEFAULT
    assert w is models.ResNet18_Weights.IMAGENET1K_V1
    assert w.url == "https://download.pytorch.org/models/resnet18-f37072fd.pth"
    assert len(w.meta["categories"]) == 1000 and w.meta["categories"][0] == "tench"
    assert w.meta["num_params"] == 11689512
    assert models.ResNet50_Weights.DEFAULT is models.ResNet50_Weights.IMAGENET1K_V2
    assert models.get_model_weights("resnet50") is models.ResNet50_Weights
    assert models.get_model_weights(models.mobilenet_v3_small) is models.MobileNet_V3_Small_Weights
    assert models.get_weight("ResNet50_Weights.IMAGENET1K_V1") is models.ResNet50_Weights.IMAGENET1K_V1
    assert models.ResNet18_Weights.verify("IMAGENET1K_V1") is w
    with pytest.raises(ValueError, match="Unknown model"):
        models.get_model_weights("nope")
    with pytest.raises(ValueError, match="Failed to find Weights"):
        models.ResNet18_Weights.verify("IMAGENET1K_V9")


def test_transforms_preset_resize_crop_normalize():
    t = models.ResNet50_Weights.IMAGENET1K_V2.transforms()  # resize 232, crop 224
    assert t.resize_size == [232] and t.crop_size == [224]
    img = ember.from_numpy(np.full((3, 300, 400), 255, dtype=np.uint8))
    out = t(img)
    assert tuple(out.shape) == (3, 224, 224) and out.dtype == ember.float32
    expected = (1.0 - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
    np.testing.assert_allclose(out.numpy()[:, 0, 0], expected, rtol=1e-5)


@pytest.fixture
def hub_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(ember.hub, "_hub_dir", str(tmp_path))
    return tmp_path


def test_loads_enum_weights_from_hub_cache(hub_dir):
    ember.manual_seed(0)
    src = models.resnet18()
    w = models.ResNet18_Weights.DEFAULT
    assert w.checkpoint_path() == os.path.join(str(hub_dir), "checkpoints", "resnet18-f37072fd.pth")
    os.makedirs(hub_dir / "checkpoints")
    ember.save(src.state_dict(), w.checkpoint_path())
    model = models.get_model("resnet18", weights=w)
    np.testing.assert_array_equal(model.fc.weight.detach().numpy(), src.fc.weight.detach().numpy())


def test_offline_error_names_url_and_destination(hub_dir, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    w = models.MobileNet_V3_Small_Weights.DEFAULT
    with pytest.raises(RuntimeError) as info:
        models.mobilenet_v3_small(weights=w)
    msg = str(info.value)
    assert w.url in msg and "checkpoints" in msg


def test_list_models_filters():
    import embervision.models as m

    names = models.list_models(module=m)
    assert "swin_t" in names and "efficientnet_v2_l" in names and "regnet_y_128gf" in names
    assert models.list_models(module=ember) == []
    assert models.list_models(include="convnext_*") == ["convnext_base", "convnext_large", "convnext_small",
                                                       "convnext_tiny"]
    assert "mnasnet0_5" not in models.list_models(include="mnasnet*", exclude="*0_5")
