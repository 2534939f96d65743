"""emberaudio.train --export-onnx: the trained model, waveform -> class scores (features included), as ONNX,
checked by onnx and run in ONNX Runtime at other batch sizes and lengths; the printed snippet scores a WAV."""

import re
import wave

import numpy as np
import pytest

import ember
from emberaudio import _train_data, train

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


@pytest.mark.parametrize("feature", ["waveform", "mel", "mfcc"])
def test_export_onnx_after_training(tmp_path, capsys, monkeypatch, feature):
    path = tmp_path / "model.onnx"
    argv = ["--feature", feature, "--epochs", "1", "--limit-train", "40", "--limit-test", "20", "--batch-size", "20",
            "--channels", "4", "--no-progress", "--output-dir", str(tmp_path), "--export-onnx", str(path)]
    out = train.main(argv)
    assert out["onnx"] == str(path) and path.exists()
    text = capsys.readouterr().out
    assert "InferenceSession" in text and "'waveform'" in text and "pip install onnxruntime" in text
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param for d in dims] == ["batch", "samples"]
    # the file holds the features and the trained weights: it scores raw clips as the checkpoint's model does
    args = train.build_parser().parse_args(argv)
    _, model = train.build_model(args, 10)
    model.load_state_dict(ember.load(out["checkpoint"])["model"])
    model.eval()
    deployed = train.Deployed(train.Features(feature, 8000, args.n_mels, args.n_mfcc), model).eval()
    clips, _, classes = _train_data.load("fsdd-small", "", False, 8000, 8000)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    sizes = ((1, 8000), (5, 8000), (2, 11000)) + (((3, 6500),) if feature != "waveform" else ())  # M5: >= ~7.7k
    for n, length in sizes:
        x = clips[:n, 0, :length] if length <= 8000 else ember.cat([clips[:n, 0], clips[:n, 0, : length - 8000]], 1)
        with ember.no_grad():
            expected = deployed(x).numpy()
        (logits,) = session.run(["logits"], {"waveform": x.numpy()})
        assert logits.shape == (n, 10)
        np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())

    # the printed snippet, run as printed on a 16-bit WAV, names the class the eager model predicts
    pcm = np.round(clips[7, 0, 500:7500].numpy() * 32767).astype("<i2")  # shorter than training's clips
    with wave.open(str(tmp_path / "clip.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(pcm.tobytes())
    snippet = "\n".join(line[4:] for line in text.splitlines() if line.startswith("    "))
    monkeypatch.chdir(tmp_path)
    printed = []
    exec(compile(snippet, "snippet", "exec"), {"print": printed.append})  # noqa: S102 (our own printed code)
    with ember.no_grad():
        centred = np.pad(pcm.astype(np.float32) / 32768.0, (500, 500))[None]
        expected = deployed(ember.from_numpy(centred)).argmax(1).item()
    assert printed == [classes[expected]]
    assert re.search(r"trained on 8000-sample clips", snippet)
