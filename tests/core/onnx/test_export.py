"""ember.onnx.export: each family of the mapping table checked in ONNX Runtime, dynamic axes, errors."""

import io
import sys
import warnings

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.jit import TracerWarning
from ember.onnx import OnnxExporterError, UnsupportedOperatorError

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


class Fn(nn.Module):
    def __init__(self, fn, *mods):
        super().__init__()
        self.fn = fn
        self.mods = nn.ModuleList(mods)

    def forward(self, *xs):
        return self.fn(*self.mods, *xs) if len(self.mods) else self.fn(*xs)


def _run(model, inputs, dynamic_axes=None, feeds=None, opset=17, **kwargs):
    """Export ``model`` on ``inputs``; run it in ONNX Runtime on ``feeds`` (default: the inputs) and compare."""
    model.eval()
    inputs = inputs if isinstance(inputs, tuple) else (inputs,)
    names = [f"x{i}" for i in range(len(inputs))]
    buf = io.BytesIO()
    ember.onnx.export(model, inputs, buf, input_names=names, dynamic_axes=dynamic_axes, opset_version=opset, **kwargs)
    proto = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(proto, full_check=True)
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    sess = ort.InferenceSession(buf.getvalue(), opts, providers=["CPUExecutionProvider"])
    for feed in [inputs] if feeds is None else feeds:
        expected = _flat(model(*feed))
        got = sess.run(None, {n: t.numpy() for n, t in zip(names, feed)})
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            e = e.detach().numpy()
            assert g.shape == e.shape
            np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5)
    return proto


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [out]


def _ops(proto):
    return {n.op_type for n in proto.graph.node}


def _r(*shape, seed=0):
    return ember.tensor(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


def test_conv_family():
    ember.manual_seed(0)
    _run(nn.Sequential(nn.Conv1d(3, 4, 3, stride=2, padding=1), nn.ConvTranspose1d(4, 2, 3, stride=2, output_padding=1)),
         _r(2, 3, 9))
    m = nn.Sequential(nn.Conv2d(3, 4, 3, padding=(1, 2), dilation=(1, 2), groups=1), nn.ReLU(),
                      nn.Conv2d(4, 4, 3, groups=2, bias=False), nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1))
    proto = _run(m, _r(2, 3, 8, 8))
    assert {"Conv", "ConvTranspose"} <= _ops(proto)


def test_pooling_family():
    x = _r(2, 3, 9, 11)
    _run(Fn(lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True)), x)
    _run(Fn(lambda x: F.avg_pool2d(x, 2, count_include_pad=False, padding=1)), x)
    _run(nn.AdaptiveAvgPool2d((4, 3)), x)  # not a divisor of the input size
    _run(nn.AdaptiveAvgPool2d(1), x)
    _run(nn.AdaptiveMaxPool2d((3, 1)), _r(2, 3, 9, 11))
    _run(Fn(lambda x: F.max_pool1d(x, 2) + F.avg_pool1d(x, 2)), _r(2, 3, 10))


def test_normalization_family():
    ember.manual_seed(0)
    bn = nn.BatchNorm2d(3)
    bn.running_mean.copy_(ember.tensor([0.1, -0.2, 0.3]))
    bn.running_var.copy_(ember.tensor([1.5, 0.5, 2.0]))
    proto = _run(bn, _r(2, 3, 4, 4))
    assert "BatchNormalization" in _ops(proto)
    assert {"running_mean", "running_var"} <= {i.name for i in proto.graph.initializer}
    _run(nn.BatchNorm1d(3).eval(), _r(4, 3))
    _run(nn.LayerNorm([4, 5]), _r(2, 3, 4, 5), dynamic_axes={"x0": {0: "b", 1: "t"}}, feeds=[(_r(5, 2, 4, 5),)])
    _run(nn.GroupNorm(2, 4), _r(2, 4, 3, 3), dynamic_axes={"x0": {0: "b"}}, feeds=[(_r(3, 4, 3, 3),)])


@pytest.mark.parametrize("act", [nn.ReLU(), nn.ReLU6(), nn.Sigmoid(), nn.Tanh(), nn.GELU(), nn.GELU("tanh"),
                                 nn.SiLU(), nn.Hardswish(), nn.Hardsigmoid(), nn.LeakyReLU(0.2), nn.ELU(0.5),
                                 nn.SELU(), nn.Softplus(2.0), nn.Mish(), nn.Hardtanh(-0.5, 0.5), nn.CELU(),
                                 nn.LogSigmoid(), nn.Threshold(0.1, -1.0), nn.Softmax(1), nn.LogSoftmax(-1)],
                         ids=lambda m: type(m).__name__)
def test_activations(act):
    _run(act, _r(3, 5) * 3)


def test_dropout_is_identity_in_eval_and_refused_in_training():
    _run(nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5)), _r(2, 4))
    m = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5)).train()
    with pytest.raises(OnnxExporterError, match=r"model\.eval\(\)"):
        ember.onnx.export(m, _r(2, 4), io.BytesIO())


def test_elementwise_reductions_and_matmul():
    def f(a, b):
        y = (a * 2 - b / 3) ** 2 + (a.exp() + 1).log() * (a != b) - (a <= 0.5).float()
        y = ember.maximum(y, a.abs().sqrt()) + ember.where((a > 0) & ~(b > 1) | (a == b), a, b).clamp(-1, 1)
        return y.sum(1), y.mean((0, 1), keepdim=True), y.amax(-1), y.max(1).values, (a @ b.transpose(-1, -2)).softmax(-1)

    _run(Fn(f), (_r(2, 3, 4), _r(2, 3, 4, seed=1)), dynamic_axes={"x0": {0: "b"}, "x1": {0: "b"}},
         feeds=[(_r(5, 3, 4), _r(5, 3, 4, seed=2))])
    _run(Fn(lambda a, b: ember.bmm(a, b).cumsum(2)), (_r(2, 3, 4), _r(2, 4, 5)))


def test_shapes_indexing_and_joining_with_dynamic_axes():
    def f(x):
        n, t, c = x.shape
        y = x.permute(0, 2, 1).reshape(n, -1)  # (N, C*T): depends on both dynamic axes
        z = ember.cat([x[:, 1:], x[:, :1]], dim=1).flatten(1)
        w = x[..., ::2].unsqueeze(1).squeeze(1)[:, -1] + x[:, 0, None, ::2].sum(1)
        return y.sum(1, keepdim=True) * 1.0 + z.view(n, t * c)[:, :1], w.expand(2, n, -1).flip(0), x.transpose(0, 1).contiguous()

    _run(Fn(f), _r(2, 5, 4), dynamic_axes={"x0": {0: "batch", 1: "time"}}, feeds=[(_r(2, 5, 4),), (_r(3, 7, 4),)])


def test_embedding_and_index_select():
    emb = nn.Embedding(10, 3)
    _run(Fn(lambda e, i: e(i).index_select(1, ember.tensor([2, 0])), emb), ember.tensor([[1, 2, 3], [4, 5, 9]]),
         dynamic_axes={"x0": [0]}, feeds=[(ember.tensor([[1, 2, 3]]),)])


def test_recurrent_and_attention_layers():
    ember.manual_seed(0)
    _run(nn.LSTM(4, 5), _r(6, 2, 4), dynamic_axes={"x0": {0: "t", 1: "b"}}, feeds=[(_r(3, 4, 4),)])
    _run(nn.GRU(4, 5, batch_first=True, bidirectional=True), _r(2, 6, 4))
    _run(nn.RNN(4, 5, nonlinearity="relu"), _r(6, 2, 4))
    mha = nn.MultiheadAttention(8, 2)
    _run(Fn(lambda m, q: m(q, q, q), mha), _r(5, 2, 8), dynamic_axes={"x0": {0: "L", 1: "N"}}, feeds=[(_r(3, 4, 8),)])


def test_inputs_and_outputs_are_named_and_dynamic():
    proto = _run(nn.Linear(3, 2), _r(4, 3), dynamic_axes={"x0": {0: "batch"}, "output": {0: "batch"}},
                 output_names=["output"])
    assert [i.name for i in proto.graph.input] == ["x0"]
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert proto.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert {i.name for i in proto.graph.initializer} == {"weight", "bias"}
    proto = _run(nn.Linear(3, 2), _r(4, 3), export_params=False, feeds=[])
    assert [i.name for i in proto.graph.input] == ["x0", "weight", "bias"] and not proto.graph.initializer


def test_unsupported_op_names_the_op_and_opset():
    with pytest.raises(UnsupportedOperatorError, match=r"'Sort' to ONNX opset version 17 is not supported"):
        ember.onnx.export(Fn(lambda x: x.sort().values), _r(3), io.BytesIO())
    with pytest.raises(UnsupportedOperatorError, match=r"'Hardswish' to ONNX opset version 13.*version 14"):
        ember.onnx.export(nn.Hardswish(), _r(3), io.BytesIO(), opset_version=13)
    assert "Convolution" in ember.onnx.supported_ops()


def test_argument_errors():
    with pytest.raises(ValueError, match="opset_version 13 to 21, got 9"):
        ember.onnx.export(nn.ReLU(), _r(3), io.BytesIO(), opset_version=9)
    with pytest.raises(OnnxExporterError, match="'y', which is neither an input nor an output"):
        ember.onnx.export(nn.ReLU(), _r(3), io.BytesIO(), dynamic_axes={"y": [0]})
    with pytest.raises(OnnxExporterError, match="2 input_names given for a model with 1 inputs"):
        ember.onnx.export(nn.ReLU(), _r(3), io.BytesIO(), input_names=["a", "b"])
    with pytest.raises(OnnxExporterError, match="argument 0 must be a Tensor"):
        ember.onnx.export(nn.ReLU(), (3,), io.BytesIO())


def test_control_flow_on_dynamic_axes_is_refused():
    def f(x):
        return x * 2 if x.shape[0] % 2 == 0 else x.relu() + 1

    with pytest.raises(OnnxExporterError, match="changes when the dynamic axes change size"):
        ember.onnx.export(Fn(f), _r(2, 3), io.BytesIO(), dynamic_axes={"x": [0]}, input_names=["x"])


def test_missing_onnx_package_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r"pip install onnx.*ember\[onnx\]"):
        ember.onnx.export(nn.ReLU(), _r(3), io.BytesIO())


def test_export_to_path_and_verbose(tmp_path, capsys):
    path = tmp_path / "m.onnx"
    ember.onnx.export(nn.Linear(2, 2), _r(1, 2), path, verbose=True)
    assert "Gemm" in capsys.readouterr().out
    onnx.checker.check_model(str(path))


@pytest.mark.parametrize("opset", [13, 16, 18, 20, 21])
def test_other_opsets(opset):
    ember.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, 16, activation="gelu", batch_first=True)
    model = nn.Sequential(layer, nn.RMSNorm(8), nn.Hardsigmoid())
    proto = _run(model, _r(2, 5, 8), dynamic_axes={"x0": {0: "b", 1: "t"}}, feeds=[(_r(3, 4, 8),)], opset=opset)
    assert proto.opset_import[0].version == opset
    assert ("LayerNormalization" in _ops(proto)) == (opset >= 17) and ("Gelu" in _ops(proto)) == (opset >= 20)


def test_packed_sequences_export_their_lengths():
    from ember.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    class Packed(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(3, 4, batch_first=True, bidirectional=True)
            self.gru = nn.GRU(8, 2)
            self.register_buffer("lengths", ember.tensor([5, 2, 4]))

        def forward(self, x):
            out, (h, _) = self.lstm(pack_padded_sequence(x, self.lengths, batch_first=True, enforce_sorted=False))
            out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
            return out, h, self.gru(out.transpose(0, 1))[1]

    ember.manual_seed(0)
    proto = _run(Packed(), _r(3, 5, 3), feeds=[(_r(3, 5, 3),), (_r(3, 5, 3, seed=4),)])
    assert "LSTM" in _ops(proto)
    # the lengths reach ONNX's sequence_lens in batch order (the layer, not the graph, sorts)
    lens = [i for i in proto.graph.initializer if "sequence_lens" in i.name]
    assert [list(onnx.numpy_helper.to_array(i)) for i in lens] == [[5, 2, 4]]


@pytest.mark.parametrize("kind", [nn.LSTM, nn.GRU, nn.RNN])
def test_packed_sequences_with_lengths_computed_in_the_graph(kind):
    from ember.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    class Packed(nn.Module):
        """Lengths counted from the non-zero rows of the input: a graph value, not a constant."""

        def __init__(self):
            super().__init__()
            self.rnn = kind(3, 4, num_layers=2, batch_first=True, bidirectional=True)

        def forward(self, x):
            lengths = x.abs().sum(2).ne(0).sum(1).clamp(min=1)
            out, h = self.rnn(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
            out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1], padding_value=-1.0)
            return out, h[0] if kind is nn.LSTM else h

    def padded(batch, length, seed):
        x = _r(batch, length, 3, seed=seed)
        x[:, length - 1 :] = 0.0  # every sequence ends in padding, of different lengths
        x[0, length - 3 :] = 0.0
        return x

    with warnings.catch_warnings():
        warnings.simplefilter("error", TracerWarning)  # nothing baked in
        # (example sizes that no dimension of the two traces can confuse: 3 -> 4 rows, 7 -> 9 steps)
        proto = _run(Packed(), padded(3, 7, 0), dynamic_axes={"x0": {0: "batch", 1: "time"}},
                     feeds=[(padded(3, 6, 1),), (padded(5, 9, 2),), (padded(2, 4, 3),)])
    assert kind.__name__ in _ops(proto)
    rnn_nodes = [n for n in proto.graph.node if n.op_type in ("LSTM", "GRU", "RNN")]
    assert all(n.input[4] for n in rnn_nodes)  # sequence_lens is wired to every layer


def test_arange_sized_by_a_dynamic_axis_becomes_range():
    def f(x):  # positions and a prefix mask, as text models build them
        steps = ember.arange(x.shape[1])
        keep = steps.unsqueeze(0) < x.ne(0).sum(1, keepdim=True)
        return x.float().masked_fill(~keep, -1.0) + ember.arange(2, 2 + 3 * x.shape[1], 3).float()

    ints = ember.tensor([[3, 1, 4, 0, 0], [2, 0, 0, 0, 0]])
    proto = _run(Fn(f), ints, dynamic_axes={"x0": {0: "b", 1: "t"}},
                 feeds=[(ember.tensor([[1, 2, 3, 4, 5, 0, 0]] * 3),), (ember.tensor([[7, 0]]),)])
    assert "Range" in _ops(proto)


def test_static_tensor_cut_to_a_dynamic_length_plus_a_constant():
    table = _r(20, 4)

    def f(x):  # a CLS row prepended, then positions[: length + 1] added
        cls = ember.zeros(x.shape[0], 1, 4)
        h = ember.cat([cls, x], 1)
        return h + table[: h.shape[1]]

    _run(Fn(f), _r(2, 5, 4), dynamic_axes={"x0": {0: "b", 1: "t"}}, feeds=[(_r(3, 8, 4),), (_r(1, 2, 4),)])


def test_without_constant_folding():
    ember.manual_seed(0)
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    folded = _run(Fn(lambda m, q: m(q, q, q, need_weights=False)[0], mha), _r(2, 3, 8))
    plain = _run(Fn(lambda m, q: m(q, q, q, need_weights=False)[0], mha), _r(2, 3, 8), do_constant_folding=False)
    # without folding, the slices of the packed in-projection bias are computed at run time
    def slices(proto):
        return sum(n.op_type == "Slice" for n in proto.graph.node)

    assert slices(plain) > slices(folded)
    assert "mods.0.in_proj_weight" in {i.name for i in plain.graph.initializer}


def test_an_axis_that_is_a_multiple_of_another_is_told_apart():
    # with the example (2, 4), the length is twice the batch: the second trace must grow them so that a size
    # read from one axis is not taken for the other (the text classifiers' (2, 4) example exported wrongly)
    def f(x):
        return x.reshape(x.shape[1], x.shape[0]).sum(0)

    _run(Fn(f), _r(2, 4), dynamic_axes={"x0": {0: "b", 1: "t"}}, feeds=[(_r(3, 8),), (_r(1, 5),), (_r(4, 2),)])
