"""emberaudio.train --export-onnx: the trained classifier as ONNX, checked by onnx and run in ONNX Runtime."""

import numpy as np
import pytest

import ember
from emberaudio import _train_data, train

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


@pytest.mark.parametrize("feature", ["waveform", "mel"])
def test_export_onnx_after_training(tmp_path, capsys, feature):
    path = tmp_path / "model.onnx"
    argv = ["--feature", feature, "--epochs", "1", "--limit-train", "40", "--limit-test", "20", "--batch-size", "20",
            "--channels", "4", "--no-progress", "--output-dir", str(tmp_path), "--export-onnx", str(path)]
    out = train.main(argv)
    assert out["onnx"] == str(path) and path.exists()
    text = capsys.readouterr().out
    assert "InferenceSession" in text and "'features'" in text and "pip install onnxruntime" in text
    onnx.checker.check_model(onnx.load(str(path)))
    # the file holds the trained weights: it scores clips as the checkpoint's model does, at any batch size
    args = train.build_parser().parse_args(argv)
    _, model = train.build_model(args, 10)
    model.load_state_dict(ember.load(out["checkpoint"])["model"])
    model.eval()
    features = train.Features(feature, 8000, args.n_mels, args.n_mfcc)
    clips, _, _ = _train_data.load("fsdd-small", "", False, 8000, 8000)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for n in (1, 5):
        with ember.no_grad():
            x = features(clips[:n])
            expected = train._logits(model, x).numpy()
        (logits,) = session.run(["logits"], {"features": x.numpy()})
        assert logits.shape == (n, 10)
        np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4)
