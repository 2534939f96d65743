"""ember.onnx.load: files exported by real PyTorch (recorded fixtures), round trips of ember's own exports,
fine-tuning, and clear errors for bad files."""

import io
import os
import warnings

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.onnx import OnnxImportError, OnnxModule

onnx = pytest.importorskip("onnx")

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


@pytest.fixture(scope="module")
def recorded():
    return np.load(os.path.join(FIXTURES, "torch_onnx_io.npz"))


@pytest.mark.parametrize("name", ["cnn", "lstm"])
def test_torch_exported_models_give_pytorchs_outputs(recorded, name):
    m = ember.onnx.load(os.path.join(FIXTURES, f"torch_{name}.onnx"))
    assert isinstance(m, OnnxModule) and isinstance(m, nn.Module)
    for n in (2, 3):  # exported with a dynamic batch
        y = m(ember.tensor(recorded[f"{name}_x{n}"]))
        np.testing.assert_allclose(y.detach().numpy(), recorded[f"{name}_y{n}"], rtol=1e-4, atol=1e-5)
    y = m(input=ember.tensor(recorded[f"{name}_x2"]))  # by name, too
    np.testing.assert_allclose(y.detach().numpy(), recorded[f"{name}_y2"], rtol=1e-4, atol=1e-5)


def test_initializers_are_parameters_and_fine_tunable(recorded):
    m = ember.onnx.load(os.path.join(FIXTURES, "torch_cnn.onnx"))
    names = dict(m.named_parameters())
    assert "classifier.1.weight" in names and names["classifier.1.weight"].shape == (5, 6)
    assert all(p.requires_grad for p in names.values())
    x = ember.tensor(recorded["cnn_x2"])
    target = ember.tensor([1, 3])
    opt = ember.optim.SGD(m.parameters(), lr=0.5)
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = nn.functional.nll_loss(m(x), target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert all(p.grad is not None for p in m.parameters())
    assert losses[-1] < losses[0]
    assert set(m.state_dict()) >= {"classifier.1.weight", "classifier.1.bias", "features.4.weight"}


def _export(model, x, **kwargs):
    buf = io.BytesIO()
    ember.onnx.export(model.eval(), x, buf, input_names=["x"], **kwargs)
    return buf.getvalue()


def test_round_trip_of_ember_exports():
    ember.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.Hardswish(), nn.AvgPool2d(2),
                          nn.Flatten(), nn.Linear(16, 6), nn.GELU(), nn.LayerNorm(6), nn.LogSoftmax(-1))
    x = ember.randn(3, 2, 4, 4)
    m = ember.onnx.load(io.BytesIO(_export(model, x, dynamic_axes={"x": [0]})))
    for batch in (3, 5):
        xb = ember.randn(batch, 2, 4, 4)
        np.testing.assert_allclose(m(xb).detach().numpy(), model(xb).detach().numpy(), rtol=1e-5, atol=1e-6)
    assert {"0.weight", "5.weight"} <= set(dict(m.named_parameters()))
    assert "1.running_mean" in dict(m.named_buffers())


def test_round_trip_of_recurrent_and_attention_models():
    ember.manual_seed(0)
    for model, x in ((nn.GRU(3, 4, bidirectional=True), ember.randn(5, 2, 3)),
                     (nn.TransformerEncoderLayer(8, 2, 16), ember.randn(4, 2, 8))):
        m = ember.onnx.load(io.BytesIO(_export(model, x, dynamic_axes={"x": [0, 1]})))
        xb = ember.randn(6, 3, x.shape[-1])
        expected, got = model(xb), m(xb)
        expected, got = (expected[0], got[0]) if isinstance(expected, tuple) else (expected, got)
        np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-6)


class _Pad(nn.Module):
    def __init__(self, mode):
        super().__init__()
        self.mode = mode

    def forward(self, x):
        return nn.functional.pad(x, (2, 1, 0, 0), self.mode)  # the last axis of 4-D input


class _FrontEnd(nn.Module):
    """A log-power filterbank front end: reflect-padded stft (Pad, framing Gather with a Range over the
    run-time frame count, rfft MatMul), |.|^2 (ReduceL2), a filter matrix, log, per-clip normalisation."""

    def __init__(self):
        super().__init__()
        self.register_buffer("window", ember.hann_window(64))
        self.fb = nn.Linear(33, 8, bias=False)

    def forward(self, x):
        spec = ember.stft(x, 64, 16, window=self.window, return_complex=True).abs().pow(2)
        f = self.fb(spec.transpose(1, 2)).clamp(min=1e-6).log()
        return (f - f.mean((1, 2), keepdim=True)) / f.std((1, 2), keepdim=True)


def test_round_trip_of_an_audio_front_end_and_padding_modes():
    ember.manual_seed(0)
    model = _FrontEnd()
    m = ember.onnx.load(io.BytesIO(_export(model, ember.randn(2, 300), dynamic_axes={"x": [0, 1]})))
    assert "fb.weight" in dict(m.named_parameters())
    for shape in ((2, 300), (3, 517)):
        xb = ember.randn(*shape)
        np.testing.assert_allclose(m(xb).detach().numpy(), model(xb).detach().numpy(), rtol=1e-4, atol=1e-4)
    x = ember.randn(2, 3, 4, 6)
    for mode in ("reflect", "replicate"):
        pad = _Pad(mode)
        m = ember.onnx.load(io.BytesIO(_export(pad, x, dynamic_axes={"x": [0, 3]})))
        xb = ember.randn(3, 3, 4, 9)
        np.testing.assert_array_equal(m(xb).numpy(), pad(xb).numpy())


def test_truncated_and_malformed_files(tmp_path):
    with open(os.path.join(FIXTURES, "torch_cnn.onnx"), "rb") as fh:
        data = fh.read()
    for bad in (data[: len(data) // 2], b"not an onnx file at all", b""):
        with pytest.raises(OnnxImportError, match="not a valid ONNX model|fails onnx.checker"):
            ember.onnx.load(io.BytesIO(bad))
    with pytest.raises(FileNotFoundError, match="no such file"):
        ember.onnx.load(str(tmp_path / "missing.onnx"))


def _model_with(op_type, opset=17, **attrs):
    h = onnx.helper
    node = h.make_node(op_type, ["x"], ["y"], **attrs)
    g = h.make_graph([node], "g", [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [2])],
                     [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [2])])
    m = h.make_model(g, opset_imports=[h.make_opsetid("", opset)])
    m.ir_version = 8
    return io.BytesIO(m.SerializeToString())


def test_unsupported_op_and_opset():
    with pytest.raises(OnnxImportError, match=r"operator\(s\) Hardmax \(opset 17\) are not supported"):
        ember.onnx.load(_model_with("Hardmax"))
    with pytest.raises(OnnxImportError, match="uses ONNX opset 11; ember.onnx.load supports opsets 13 to 21"):
        ember.onnx.load(_model_with("Relu", opset=11))
    m = ember.onnx.load(_model_with("Relu"))
    np.testing.assert_array_equal(m(ember.tensor([-1.0, 2.0])).numpy(), [0.0, 2.0])


def test_input_names_and_shapes_are_checked():
    m = ember.onnx.load(os.path.join(FIXTURES, "torch_cnn.onnx"))
    assert m.input_names == ["input"] and m.output_names == ["output"]
    with pytest.raises(TypeError, match=r"no input named 'x'; its inputs are \['input'\]"):
        m(x=ember.randn(2, 1, 8, 8))
    with pytest.raises(TypeError, match=r"missing ONNX graph input\(s\) \['input'\]"):
        m()
    with pytest.raises(ValueError, match=r"shape \[2, 3, 8, 8\], but the graph expects \['\?', 1, 8, 8\]"):
        m(ember.randn(2, 3, 8, 8))



def test_round_trip_of_packed_sequences():
    from ember.jit import TracerWarning
    from ember.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    class Packed(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(3, 4, bidirectional=True)
            self.register_buffer("lengths", ember.tensor([2, 5, 4]))

        def forward(self, x):
            out, _ = self.lstm(pack_padded_sequence(x, self.lengths, enforce_sorted=False))
            return pad_packed_sequence(out, total_length=x.shape[0])[0]

    ember.manual_seed(0)
    model = Packed()
    with warnings.catch_warnings():
        warnings.simplefilter("error", TracerWarning)  # the lengths are a graph value (sequence_lens), not baked in
        m = ember.onnx.load(io.BytesIO(_export(model, ember.randn(5, 3, 3))))
    x = ember.randn(5, 3, 3)
    np.testing.assert_allclose(m(x).detach().numpy(), model(x).detach().numpy(), rtol=1e-5, atol=1e-6)
