"""Audio models and feature transforms on each device give the CPU's results, with no host copy in a
training step but the loss (fake CUDA)."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import emberaudio.transforms as T
from emberaudio import models

from _device_checks import check_training_step, transfer_log

MODELS = [
    ("m5", lambda: ember.nn.Sequential(models.M5(n_output=4, n_channel=4), ember.nn.Flatten(1)), (2, 1, 8000)),
    ("melcnn", lambda: models.MelCNN(n_mels=16, n_output=4, n_channel=4, dropout=0.0), (2, 1, 16, 24)),
]


@pytest.mark.parametrize("name, factory, shape", MODELS, ids=[m[0] for m in MODELS])
def test_training_step_matches_cpu(name, factory, shape, device):
    rng = np.random.default_rng(0)
    check_training_step(factory, [rng.standard_normal(shape).astype(np.float32)], np.array([1, 3]), device)


TRANSFORMS = [
    ("spectrogram", lambda: T.Spectrogram(n_fft=64, hop_length=16)),
    ("mel_spectrogram", lambda: T.MelSpectrogram(sample_rate=8000, n_fft=64, hop_length=16, n_mels=8)),
    ("mfcc", lambda: T.MFCC(sample_rate=8000, n_mfcc=6, melkwargs={"n_fft": 64, "hop_length": 16, "n_mels": 8})),
    ("amplitude_to_db", lambda: T.AmplitudeToDB()),
    ("resample", lambda: T.Resample(8000, 6000)),
]


@pytest.mark.parametrize("name, factory", TRANSFORMS, ids=[t[0] for t in TRANSFORMS])
def test_transform_matches_cpu(name, factory, device):
    if device == "cpu":
        pytest.skip("compares a device with the CPU")
    wave = np.abs(np.random.default_rng(0).standard_normal((2, 400))).astype(np.float32)
    ref = factory()(ember.tensor(wave))
    transform = factory().to(device)
    x = ember.tensor(wave, device=device)
    transform(x)  # the first call may build its tables
    log = transfer_log()
    if log is not None:
        log.reset()
    out = transform(x)
    if log is not None:
        assert (log.h2d, log.d2h) == (0, 0), f"{name}: {log}"
    assert out.device.type == device
    np.testing.assert_allclose(out.cpu().numpy(), ref.numpy(), rtol=1e-4, atol=1e-5)
