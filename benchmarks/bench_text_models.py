"""Training steps of embertext's BiLSTM and transformer classifiers on SST-2-shaped batches, side by side
with the same architectures written in PyTorch.

``python -m benchmarks --suite bench_text_models`` (or ``python -m benchmarks -k text-models``).

A batch is 64 sentences whose lengths are drawn from SST-2's training set (``../shared/datasets/SST2``
when present, else a gamma distribution of the same median), padded to the longest, over a 15,000-word
vocabulary; one step is forward, cross-entropy, backward and an Adam update (the trainer's defaults).
Ember runs ``embertext.models.RNNClassifier`` / ``TransformerClassifier``; PyTorch runs a module with
the same layers, parameter count and masking (packed sequences; ``src_key_padding_mask``).
"""

from __future__ import annotations

import math
import os
import pathlib

import numpy as np

from .harness import Case

VOCAB, BATCH, CLASSES = 15000, 64, 2
SST2 = pathlib.Path(os.environ.get("EMBER_SHARED_DATASETS", pathlib.Path(__file__).resolve().parents[2] / "shared"
                                   / "datasets")) / "SST2" / "train.tsv"


def _lengths(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if SST2.is_file():
        lines = SST2.read_text(encoding="utf-8").splitlines()[1:]
        pool = np.array([len(line.rsplit("\t", 1)[0].split()) for line in lines])
    else:
        pool = np.clip(rng.gamma(1.5, 6.0, size=67349).astype(int), 1, 52)
    return np.maximum(rng.choice(pool, BATCH), 1)


def _batch(lib, device):
    lengths = _lengths()
    rng = np.random.default_rng(1)
    ids = rng.integers(2, VOCAB, (BATCH, int(lengths.max())))
    ids[np.arange(ids.shape[1]) >= lengths[:, None]] = 0
    x = lib.tensor(ids, dtype=lib.int64).to(device)
    y = lib.tensor(rng.integers(0, CLASSES, BATCH), dtype=lib.int64).to(device)
    return x, lib.tensor(lengths, dtype=lib.int64), y


def _torch_bilstm(torch, embed=128, hidden=128):
    nn = torch.nn

    class BiLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(VOCAB, embed, padding_idx=0)
            self.rnn = nn.LSTM(embed, hidden, batch_first=True, bidirectional=True)
            self.dropout = nn.Dropout(0.5)
            self.fc = nn.Linear(2 * hidden, CLASSES)

        def forward(self, tokens, lengths):
            x = self.dropout(self.embedding(tokens))
            packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            _, (h, _) = self.rnn(packed)
            return self.fc(self.dropout(torch.cat([h[-2], h[-1]], dim=1)))

    return BiLSTM()


def _torch_transformer(torch, d_model=128, nhead=4, layers=2, max_len=256):
    nn = torch.nn

    class Transformer(nn.Module):
        def __init__(self):
            super().__init__()
            self.cls_token = nn.Parameter(torch.randn(1, 1, d_model) * 0.02)
            self.embedding = nn.Embedding(VOCAB, d_model, padding_idx=0)
            pos = torch.arange(max_len + 1, dtype=torch.float32).unsqueeze(1)
            div = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))
            pe = torch.zeros(max_len + 1, d_model)
            pe[:, 0::2], pe[:, 1::2] = torch.sin(pos * div), torch.cos(pos * div)
            self.register_buffer("pe", pe, persistent=False)
            self.drop = nn.Dropout(0.1)
            layer = nn.TransformerEncoderLayer(d_model, nhead, 4 * d_model, 0.1, activation="gelu", batch_first=True,
                                               norm_first=True)
            self.encoder = nn.TransformerEncoder(layer, layers, norm=nn.LayerNorm(d_model), enable_nested_tensor=False)
            self.dropout = nn.Dropout(0.1)
            self.fc = nn.Linear(d_model, CLASSES)

        def forward(self, tokens, lengths):
            x = self.embedding(tokens) * math.sqrt(d_model)
            x = torch.cat([self.cls_token.expand(x.shape[0], 1, d_model), x], dim=1)
            pad = torch.arange(x.shape[1] - 1).unsqueeze(0) >= lengths.unsqueeze(1)
            pad = torch.cat([torch.zeros(x.shape[0], 1, dtype=torch.bool), pad], dim=1)
            x = self.encoder(self.drop(x + self.pe[: x.shape[1]]), src_key_padding_mask=pad)
            return self.fc(self.dropout(x[:, 0]))

    return Transformer()


def _build(kind, lib):
    if lib.__name__ == "torch":
        return _torch_bilstm(lib) if kind == "bilstm" else _torch_transformer(lib)
    from embertext import models

    if kind == "bilstm":
        return models.RNNClassifier(VOCAB, CLASSES, embed_dim=128, hidden_size=128, dropout=0.5)
    return models.TransformerClassifier(VOCAB, CLASSES, d_model=128, nhead=4, num_layers=2, max_len=256)


def train_step(kind):
    def make(lib, device):
        lib.manual_seed(0)
        model = _build(kind, lib).to(device).train()
        opt = lib.optim.Adam(model.parameters(), lr=1e-3)
        x, lengths, y = _batch(lib, device)

        def step():
            opt.zero_grad()
            loss = lib.nn.functional.cross_entropy(model(x, lengths), y)
            loss.backward()
            opt.step()

        return step

    return make


CASES = [
    Case("BiLSTM classifier (emb 128, hidden 128x2, packed) SST-2 b64 step", "text-models", train_step("bilstm"),
         number=3, repeat=5),
    Case("Transformer classifier (d 128, 2 layers, CLS, padding mask) SST-2 b64 step", "text-models",
         train_step("transformer"), number=3, repeat=5),
]

