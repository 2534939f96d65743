"""embervision.train --export-onnx: the trained model as ONNX, run in ONNX Runtime."""

import numpy as np
import pytest

import ember
from embervision import datasets, models, train, transforms

pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def test_export_onnx_after_training(tmp_path, capsys):
    path = tmp_path / "mnist.onnx"
    out = train.main(["--epochs", "1", "--limit-train", "256", "--limit-test", "64", "--no-progress", "--scheduler",
                      "none", "--output-dir", str(tmp_path), "--export-onnx", str(path)])
    assert out["onnx"] == str(path) and path.exists()
    text = capsys.readouterr().out
    assert "onnxruntime" in text and "InferenceSession" in text and "'image'" in text
    # the file holds the trained weights: it predicts as the checkpoint does, at any batch size
    model = models.mnist_cnn()
    model.load_state_dict(ember.load(out["checkpoint"])["model"])
    model.eval()
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    test = datasets.mnist_small(train=False, transform=tf)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for n in (1, 7):
        images = ember.stack([test[i][0] for i in range(n)])
        (logits,) = session.run(["logits"], {"image": images.numpy()})
        expected = model(images).detach().numpy()
        np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4)
