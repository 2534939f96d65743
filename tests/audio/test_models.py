"""emberaudio.models: torchaudio's state_dict keys/shapes and outputs for fixed weights (fixtures/record_models.py)."""

import pathlib

import numpy as np
import pytest

import ember
from emberaudio import models

REF = np.load(pathlib.Path(__file__).with_name("fixtures") / "models_ref.npz")


def fill(model):
    """The record script's deterministic weights: entry k = 0.1*sin(0.37*arange(numel) + k)."""
    sd = model.state_dict()
    new = {}
    for k, (name, t) in enumerate(sd.items()):
        if t.dtype == ember.int64:
            new[name] = t
            continue
        v = 0.1 * np.sin(0.37 * np.arange(t.numel()) + k)
        if name.endswith("running_var"):
            v = np.abs(v) + 0.5
        new[name] = ember.from_numpy(v.reshape(tuple(t.shape)).astype(np.float32))
    model.load_state_dict(new)
    return model.eval()


def check_keys(prefix, model):
    sd = model.state_dict()
    assert list(sd) == list(REF[f"{prefix}/keys"])
    assert [",".join(map(str, t.shape)) for t in sd.values()] == list(REF[f"{prefix}/shapes"])


@pytest.mark.parametrize("prefix, build, atol", [
    ("m5", lambda: models.M5(n_input=1, n_output=10), 1e-4),
    ("w2l_mfcc", lambda: models.Wav2Letter(num_classes=12, input_type="mfcc", num_features=13), 1e-3),
    ("w2l_wave", lambda: models.Wav2Letter(num_classes=5, input_type="waveform", num_features=1), 1e-3),
    ("tasnet_small", lambda: models.ConvTasNet(num_sources=3, enc_kernel_size=8, enc_num_feats=16, msk_kernel_size=3,
                                               msk_num_feats=8, msk_num_hidden_feats=12, msk_num_layers=3,
                                               msk_num_stacks=2, msk_activate="relu"), 1e-4),
])
def test_outputs_match_torchaudio(prefix, build, atol):
    model = build()
    check_keys(prefix, model)
    fill(model)
    with ember.no_grad():
        y = model(ember.from_numpy(REF[f"{prefix}/x"]))
    np.testing.assert_allclose(y.numpy(), REF[f"{prefix}/y"], atol=atol, rtol=1e-3)


def test_default_configurations_have_torchaudio_keys():
    check_keys("w2l_default", models.Wav2Letter())
    check_keys("tasnet_default", models.ConvTasNet())
    assert models.conv_tasnet_base().mask_generator.mask_activate.__class__.__name__ == "ReLU"


def test_errors():
    with pytest.raises(ValueError, match="Expected 3D tensor"):
        models.ConvTasNet(enc_num_feats=8, msk_num_feats=4, msk_num_hidden_feats=4, msk_num_layers=1, msk_num_stacks=1)(ember.zeros(2, 2, 10))
    with pytest.raises(ValueError, match="Unsupported activation"):
        models.ConvTasNet(msk_activate="tanh")
    with pytest.raises(ValueError, match="input_type"):
        models.Wav2Letter(input_type="spectrogram")


def test_mel_cnn_shapes_and_training_step():
    model = models.MelCNN(n_mels=20, n_output=4, n_channel=4)
    x = ember.randn(3, 20, 17)
    y = model(x)
    assert tuple(y.shape) == (3, 4)
    loss = ember.nn.functional.cross_entropy(y, ember.tensor([0, 1, 3]))
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())
