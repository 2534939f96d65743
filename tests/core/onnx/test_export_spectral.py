"""ember.onnx.export of the signal-processing primitives: stft (framing, reflect padding, real and complex
DFTs as matrix products), complex values as a trailing pair, log10 / std, dynamic signal lengths."""

import io

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.onnx import OnnxExporterError, UnsupportedOperatorError

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


class Fn(nn.Module):
    def __init__(self, fn, **buffers):
        super().__init__()
        self.fn = fn
        for k, v in buffers.items():
            self.register_buffer(k, v)

    def forward(self, x):
        return self.fn(self, x)


def _real(t):
    t = t.detach()
    return (ember.view_as_real(t) if t.is_complex() else t).numpy()


def _export(model, x, axes=None, opset=17):
    buf = io.BytesIO()
    ember.onnx.export(model.eval(), (x,), buf, input_names=["x"], output_names=["y"], opset_version=opset,
                      dynamic_axes=None if axes is None else {"x": axes})
    proto = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(proto, full_check=True)
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    return proto, ort.InferenceSession(buf.getvalue(), opts, providers=["CPUExecutionProvider"])


def _check(model, x, feeds=(), axes=None, opset=17):
    proto, sess = _export(model, x, axes, opset)
    for feed in (x, *feeds):
        expected = _real(model(feed))
        (got,) = sess.run(None, {"x": feed.numpy()})
        assert got.shape == expected.shape, (got.shape, expected.shape)
        assert np.abs(got - expected).max() <= 1e-4 * np.abs(expected).max(), feed.shape
    return proto


def _r(*shape, seed=0):
    return ember.tensor(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


def _ops(proto):
    return {n.op_type for n in proto.graph.node}


@pytest.mark.parametrize("n_fft,hop,win,normalized,onesided", [
    (64, 16, 64, False, True), (50, 12, 40, True, True), (32, 8, 32, False, False)])
def test_stft_complex_output_is_its_real_view(n_fft, hop, win, normalized, onesided):
    window = ember.hann_window(win)

    def f(m, x):
        return ember.stft(x, n_fft, hop, win, m.window, center=True, pad_mode="reflect", normalized=normalized,
                          onesided=onesided, return_complex=True)

    proto = _check(Fn(f, window=window), _r(2, 300), [_r(3, 300, seed=1)], axes={0: "b"})
    out = proto.graph.output[0].type.tensor_type.shape.dim
    assert out[-1].dim_value == 2  # (re, im) pairs: ONNX Runtime has no complex type
    assert {"Pad", "Gather", "MatMul"} <= _ops(proto) and not {"DFT", "STFT"} & _ops(proto)
    assert b"reflect" in [a.s for n in proto.graph.node if n.op_type == "Pad" for a in n.attribute if a.name == "mode"]


@pytest.mark.parametrize("power", [1.0, 2.0])
def test_stft_magnitude_and_power_with_a_dynamic_length(power):
    window = ember.hamming_window(48)

    def f(m, x):
        spec = ember.stft(x, 64, 20, 48, m.window, return_complex=True)
        return spec.abs().pow(power)

    feeds = [_r(3, 257, seed=1), _r(1, 1000, seed=2), _r(2, 64, seed=3)]
    proto = _check(Fn(f, window=window), _r(2, 300), feeds, axes={0: "b", 1: "t"})
    frames = proto.graph.output[0].type.tensor_type.shape.dim[-1]
    assert frames.dim_param  # the frame count follows the length


def test_fft_family():
    x = _r(2, 3, 12)
    _check(Fn(lambda m, x: ember.fft.rfft(x)), x)
    _check(Fn(lambda m, x: ember.fft.rfft(x, dim=1, norm="ortho")), x)
    _check(Fn(lambda m, x: ember.fft.fft(x, norm="forward")), x)
    _check(Fn(lambda m, x: ember.fft.ifft(ember.fft.fft(x, dim=0), dim=0).real), x)
    _check(Fn(lambda m, x: ember.fft.irfft(ember.fft.rfft(x) * 2.0, n=12)), x)
    _check(Fn(lambda m, x: ember.fft.irfft(ember.fft.rfft(x), n=9)), x)  # odd n: fewer bins are read
    _check(Fn(lambda m, x: ember.fft.fft(x).permute(2, 0, 1).reshape(12, 6)), x)
    _check(Fn(lambda m, x: ember.fft.fft(x)[:, 1:, :5].imag), x)


def test_non_constant_padding_modes_follow_a_dynamic_length():
    x = _r(2, 3, 10)
    for mode in ("reflect", "replicate"):
        _check(Fn(lambda m, x, mode=mode: F.pad(x, (3, 2), mode)), x, [_r(1, 3, 17, seed=1)], axes={0: "b", 2: "t"})
    proto = _check(Fn(lambda m, x: F.pad(x, (3, 2), "circular")), x, [_r(1, 3, 17, seed=1)], axes={0: "b", 2: "t"},
                   opset=19)
    assert "Pad" in _ops(proto)
    with pytest.raises(UnsupportedOperatorError, match="'_AxisTaps' to ONNX opset version 17.*version 19"):
        _export(Fn(lambda m, x: F.pad(x, (3, 2), "circular")), x, axes={2: "t"})
    _check(Fn(lambda m, x: F.interpolate(x, scale_factor=2, mode="linear")), x, [_r(4, 3, 10)], axes={0: "b"})


def test_log10_and_std_with_a_dynamic_count():
    def f(m, x):
        y = ember.log10(x.abs() + 1)
        return (y - y.mean(dim=(-2, -1), keepdim=True)) / y.std(dim=(-2, -1), keepdim=True)

    _check(Fn(f), _r(2, 4, 6), [_r(3, 4, 11, seed=1)], axes={0: "b", 2: "t"})


def test_complex_ops_without_a_mapping_are_named():
    with pytest.raises(UnsupportedOperatorError, match=r"'Angle \(on complex tensors\)' to ONNX opset version 17"):
        _export(Fn(lambda m, x: ember.fft.rfft(x).angle()), _r(2, 8))
    with pytest.raises(OnnxExporterError, match="two complex tensors"):
        _export(Fn(lambda m, x: ember.fft.rfft(x) * ember.fft.rfft(x)), _r(2, 8))
    with pytest.raises(OnnxExporterError, match="input 'x' is complex"):
        _export(Fn(lambda m, x: x.abs()), ember.fft.rfft(_r(2, 8)))


def test_a_pooling_window_read_from_a_dynamic_axis_is_refused():
    def f(m, x):
        return F.avg_pool1d(x, x.shape[-1])

    with pytest.raises(OnnxExporterError, match=r"window .* follows a dynamic axis.*adaptive_avg_pool1d"):
        _export(Fn(f), _r(2, 3, 8), axes={2: "t"})
    _check(Fn(f), _r(2, 3, 8), [_r(5, 3, 8)], axes={0: "b"})  # fine while the length is fixed


def test_frame_count_is_not_mistaken_for_a_multiple_of_the_batch():
    # example (1, 40): 5 frames of 8, 5 bins. Growing the batch 1 -> 3 and the length 40 -> 121 also triples the
    # frame count (15), so "bins x frames = 25 x batch" fits two traces; a third trace with other growths tells
    # the frame axis apart (the file must then run at lengths whose frame count is not 5 x the batch)
    def f(m, x):
        spec = ember.stft(x, 8, 8, window=m.window, center=False, return_complex=True).abs()
        return spec.reshape(x.shape[0], -1) * 2

    feeds = [_r(1, 80, seed=1), _r(4, 40, seed=2), _r(2, 203, seed=3)]
    proto = _check(Fn(f, window=ember.ones(8)), _r(1, 40), feeds, axes={0: "b", 1: "t"})
    assert proto.graph.output[0].type.tensor_type.shape.dim[1].dim_param


def test_frame_count_equal_to_the_batch_in_the_example_is_told_apart():
    # example (4, 32): 4 frames for 4 clips; (frames * batch, bins) is reshaped to (frames, batch * bins)
    def f(m, x):
        spec = ember.stft(x, 8, 8, window=m.window, center=False, return_complex=True).abs()
        rows = spec.permute(2, 0, 1).reshape(-1, 5)
        return rows.reshape(spec.shape[2], -1) + 1

    feeds = [_r(4, 80, seed=1), _r(7, 32, seed=2), _r(2, 56, seed=3), _r(1, 8, seed=4)]
    _check(Fn(f, window=ember.ones(8)), _r(4, 32), feeds, axes={0: "b", 1: "t"})


def test_a_model_that_refuses_larger_inputs_is_traced_with_small_steps():
    table = _r(12, 3)

    def f(m, x):  # a positional table of 12 rows: the second trace at ~3x the example's length would not fit
        if x.shape[1] > 12:
            raise ValueError("at most 12 positions")
        return x + m.table[: x.shape[1]]

    _check(Fn(f, table=table), _r(2, 5, 3), [_r(3, 8, 3, seed=1), _r(1, 2, 3, seed=2)], axes={0: "b", 1: "t"})


@pytest.mark.parametrize("fn", [lambda x: F.pad(x, (0, x.shape[1])), lambda x: x.repeat(x.shape[0], 1)],
                         ids=["pad-to-length", "repeat-by-batch"])
def test_sizes_read_from_a_dynamic_axis_are_refused_not_baked_in(fn):
    with pytest.raises(OnnxExporterError, match=r"(_ConstantPad|Repeat) at test_export_spectral.py:\d+: its recorded "
                                                r"arguments .* change with the dynamic axes"):
        _export(Fn(lambda m, x: fn(x)), _r(2, 5), axes={0: "b", 1: "t"})
    _check(Fn(lambda m, x: fn(x)), _r(2, 5), axes={})  # static shapes: fine
