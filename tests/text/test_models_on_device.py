"""Text models train on each device as on the CPU, with no host copy in a step but the loss (fake CUDA)."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from embertext import models

from _device_checks import check_training_step


def _lm_loss(logits, y):
    return ember.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


TOKENS = np.array([[5, 9, 3, 17, 2, 0], [4, 8, 12, 0, 0, 0]])  # 0 pads
MODELS = [
    ("rnn_lstm", lambda: models.RNNClassifier(20, 3, embed_dim=8, hidden_size=6, dropout=0.0), None),
    ("rnn_gru_mean", lambda: models.RNNClassifier(20, 3, embed_dim=8, hidden_size=6, rnn_type="gru", pooling="mean",
                                                  dropout=0.0), None),
    ("cnn", lambda: models.CNNClassifier(20, 3, embed_dim=8, num_filters=4, kernel_sizes=(2, 3), dropout=0.0), None),
    ("transformer", lambda: models.TransformerClassifier(20, 3, d_model=8, nhead=2, num_layers=1, dropout=0.0,
                                                         max_len=16), None),
    ("gpt", lambda: models.GPTLanguageModel(20, d_model=8, nhead=2, num_layers=1, max_len=16, dropout=0.0), _lm_loss),
]


# the RNN classifiers count the padding per sentence on the host (embertext/models/_masks.lengths_from):
# packing needs the lengths there (PyTorch's pack_padded_sequence too); the CNN / transformer count it and
# build their masks on the device, so their steps copy only the loss
HOST_READS = {"rnn_lstm": "lengths for packing", "rnn_gru_mean": "lengths for packing"}


@pytest.mark.parametrize("name, factory, loss_fn", MODELS, ids=[m[0] for m in MODELS])
def test_training_step_matches_cpu(name, factory, loss_fn, device):
    target = np.roll(TOKENS, -1, axis=1) if name == "gpt" else np.array([2, 0])
    check_training_step(factory, [TOKENS], target, device, loss_fn=loss_fn, count_copies=name not in HOST_READS)
