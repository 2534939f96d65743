"""Model zoo: state-dict layout equal to torchvision 0.28 and logits equal for fixed (seeded) weights.

Fixtures come from fixtures/record_zoo.py (torchvision on the oracle); weights are regenerated here from the same
seed (fixtures/zoo_weights.py) and go through a checkpoint file, as a converted torchvision .pth would.
"""

from __future__ import annotations

import json
import os
import lzma
import pathlib
import sys

import numpy as np
import pytest

import ember
from embervision import models

FIX = pathlib.Path(__file__).parent / "fixtures"
sys.path.insert(0, str(FIX))
from zoo_weights import LOGITS, seeded_arrays, seeded_input  # noqa: E402

sys.path.remove(str(FIX))

KEYS = json.loads(lzma.decompress((FIX / "zoo_keys.json.xz").read_bytes()))
REF = np.load(FIX / "zoo_logits.npz")
# builders of ~150M+ parameters need GBs and many seconds just to initialise: EMBER_ZOO_BIG=1 checks them too
BIG = {"regnet_y_128gf", "regnet_y_32gf", "regnet_y_16gf", "vit_l_16", "vit_h_14", "vit_l_32", "convnext_large"}
_big = pytest.mark.skipif(not os.environ.get("EMBER_ZOO_BIG"), reason="set EMBER_ZOO_BIG=1 for the largest models")
FAMILIES = ("mobilenet_v3", "efficientnet", "densenet", "shufflenet", "convnext", "regnet", "mnasnet", "googlenet",
            "inception", "vit_", "swin_t", "swin_s", "swin_b")
NAMES = sorted(n for n in KEYS if n.startswith(FAMILIES) and n in models.list_models())


@pytest.fixture(autouse=True)
def _skip_trunc_normal_init(monkeypatch):
    # layouts and seeded logits do not depend on the random init; ConvNeXt/ViT/Swin's trunc_normal_ init of tens of
    # millions of weights (an inverse-erf per element) would dominate these tests' runtime
    monkeypatch.setattr(ember.nn.init, "trunc_normal_", lambda tensor, *args, **kwargs: tensor)


@pytest.mark.parametrize("name", [pytest.param(n, marks=[pytest.mark.slow, _big]) if n in BIG else n for n in NAMES])
@pytest.mark.filterwarnings("ignore:The default weight initialization:FutureWarning")
def test_state_dict_layout_matches_torchvision(name):
    sd = models.get_model(name).state_dict()
    got = [[k, list(v.shape)] for k, v in sd.items()]
    assert got == KEYS[name]


@pytest.mark.parametrize("name", [n for n in LOGITS if n in REF])
def test_logits_match_torchvision_for_seeded_weights(name, tmp_path):
    kwargs, shape = LOGITS[name]
    model = getattr(models, name)(**kwargs)
    sd = model.state_dict()
    arrays = seeded_arrays([(k, v.shape, v.is_floating_point()) for k, v in sd.items()])
    path = tmp_path / f"{name}.pth"
    ember.save({k: ember.from_numpy(arrays[k]) if k in arrays else v for k, v in sd.items()}, path)
    model.load_state_dict(ember.load(path), strict=True)
    model.eval()
    with ember.no_grad():
        logits = model(ember.from_numpy(seeded_input(shape))).numpy()
    ref = REF[name]
    np.testing.assert_allclose(logits, ref, rtol=1e-4, atol=1e-4 * float(np.abs(ref).max()))


def test_densenet_loads_legacy_checkpoint_keys_and_memory_efficient_matches():
    ember.manual_seed(0)
    ref = models.densenet121(num_classes=3)
    legacy = {k.replace("norm1.", "norm.1.").replace("conv2.", "conv.2.") if "denselayer" in k else k: v
              for k, v in ref.state_dict().items() if not ("denselayer" in k and k.endswith("num_batches_tracked"))}
    assert "features.denseblock1.denselayer1.norm.1.weight" in legacy
    eff = models.densenet121(num_classes=3, memory_efficient=True, weights=legacy)
    x = ember.randn(2, 3, 32, 32)
    ya, yb = ref(x), eff(x)
    np.testing.assert_allclose(ya.detach().numpy(), yb.detach().numpy(), rtol=1e-5, atol=1e-6)
    ya.sum().backward()
    yb.sum().backward()
    np.testing.assert_allclose(ref.features.conv0.weight.grad.numpy(), eff.features.conv0.weight.grad.numpy(),
                               rtol=1e-4, atol=1e-6)


def test_shufflenet_rejects_bad_stage_lists():
    with pytest.raises(ValueError, match="expected stages_repeats as list of 3"):
        models.ShuffleNetV2([4, 8], [24, 48, 96, 192, 1024])


def test_googlenet_and_inception_checkpoint_defaults_and_aux_outputs():
    with pytest.warns(FutureWarning, match="default weight initialization of GoogleNet"):
        full = models.googlenet(num_classes=4)
    state = full.state_dict()  # has aux1/aux2, as torchvision's published checkpoint
    m = models.googlenet(num_classes=4, weights=state)
    assert m.transform_input and m.aux1 is None and not m.aux_logits
    with pytest.warns(UserWarning, match="auxiliary heads in the pretrained googlenet model are NOT pretrained"):
        m = models.googlenet(num_classes=4, weights=state, aux_logits=True, transform_input=False)
    assert m.aux1 is not None and not m.transform_input
    out = m.train()(ember.randn(2, 3, 64, 64))
    assert isinstance(out, models.GoogLeNetOutputs) and tuple(out.aux_logits1.shape) == (2, 4)
    # the aux head needs a 17x17 Mixed_6e map (a 299x299 input): check its wiring, and the eval path on 75x75
    inc = models.inception_v3(num_classes=4, init_weights=False)
    assert inc.AuxLogits.fc.out_features == 4
    inc = models.inception_v3(num_classes=4, weights=inc.state_dict()).eval()
    assert inc.AuxLogits is None and inc.transform_input
    assert tuple(inc(ember.randn(1, 3, 75, 75)).shape) == (1, 4)
