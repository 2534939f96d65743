"""embertext.train --export-onnx: the trained classifier as ONNX run in ONNX Runtime, or a clear refusal when the
model's forward can't be traced faithfully."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import nn
from embertext import train
from embertext._classifier import build_model

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

SMALL = ["--limit-train", "96", "--limit-dev", "32", "--epochs", "1", "--embed-dim", "16", "--hidden-size", "16",
         "--heads", "2", "--num-layers", "1", "--no-progress"]


@pytest.mark.parametrize("model", ["lstm", "transformer"])
def test_export_onnx_runs_in_onnx_runtime(tmp_path, capsys, model):
    path = tmp_path / "model.onnx"
    try:
        out = train.main(SMALL + ["--model", model, "--output-dir", str(tmp_path), "--export-onnx", str(path)])
    except SystemExit as exc:  # until the classifiers' forward is traceable (lengths read as Python ints)
        assert "can't be exported to ONNX" in str(exc) and not path.exists()
        pytest.skip(str(exc))
    assert out["onnx"] == str(path)
    text = capsys.readouterr().out
    assert "InferenceSession" in text and "'ids'" in text and "'lengths'" in text
    onnx.checker.check_model(onnx.load(str(path)))
    state = ember.load(out["checkpoint"])
    net = build_model(state["model_name"], state["model"]["embedding.weight"].shape[0], 2, state["model_config"])
    net.load_state_dict(state["model"])
    net.eval()
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    gen = np.random.default_rng(0)
    for n, length in ((1, 5), (6, 11)):
        ids = gen.integers(2, 50, (n, length)).astype(np.int64)
        lengths = gen.integers(1, length + 1, n).astype(np.int64)
        lengths[0] = length
        ids[np.arange(length)[None, :] >= lengths[:, None]] = 0
        (logits,) = session.run(["logits"], {"ids": ids, "lengths": lengths})
        expected = net(ember.from_numpy(ids), ember.from_numpy(lengths)).detach().numpy()
        np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4)


class _PeeksAtLengths(nn.Module):
    """A classifier whose forward reads a tensor as a Python int: its trace only fits the example's shapes."""

    def __init__(self, vocab_size, num_classes):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, 8)
        self.fc = nn.Linear(8, num_classes)

    def forward(self, ids, lengths):
        return self.fc(self.embedding(ids[:, : int(lengths.max())]).mean(1))


def test_an_untraceable_forward_is_a_clear_exit(tmp_path, monkeypatch):
    monkeypatch.setattr(train, "build_model", lambda name, vocab, classes, config: _PeeksAtLengths(vocab, classes))
    path = tmp_path / "model.onnx"
    with pytest.raises(SystemExit, match=r"--export-onnx: _PeeksAtLengths can't be exported to ONNX yet: its forward "
                                         r"turns a tensor into a Python value.*test_train_export\.py"):
        train.main(SMALL + ["--output-dir", str(tmp_path), "--export-onnx", str(path)])
    assert (tmp_path / "checkpoint.ember").exists() and not path.exists()  # training itself was kept
