"""Vision models train on each device as on the CPU, with no host copy in a step but the loss (fake CUDA)."""

from __future__ import annotations

import numpy as np
import pytest

from embervision import models
from embervision.models.resnet import BasicBlock

from _device_checks import check_training_step

MODELS = [
    ("mnistnet", lambda: models.MNISTNet(), (2, 1, 28, 28)),
    ("resnet", lambda: models.ResNet(BasicBlock, [1, 1, 1, 1], num_classes=10), (2, 3, 32, 32)),  # resnet18's
    # code paths at half its depth
    ("mobilenet_v2", lambda: models.mobilenet_v2(num_classes=10, dropout=0.0), (2, 3, 32, 32)),
    ("shufflenet_v2", lambda: models.shufflenet_v2_x0_5(num_classes=10), (2, 3, 32, 32)),
    ("squeezenet1_1", lambda: models.squeezenet1_1(num_classes=10, dropout=0.0), (2, 3, 64, 64)),
]


@pytest.mark.parametrize("name, factory, shape", MODELS, ids=[m[0] for m in MODELS])
def test_training_step_matches_cpu(name, factory, shape, device):
    rng = np.random.default_rng(0)
    check_training_step(factory, [rng.standard_normal(shape).astype(np.float32)], np.array([3, 7]), device)
