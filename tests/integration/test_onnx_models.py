"""The reference models exported with ember.onnx.export and run in ONNX Runtime (CPU provider) on two
batch sizes (and two sequence lengths for the sequence and audio models): outputs match ember's eager ones.

Adding a model is one line in MODELS: (id, builder, example-input maker, dynamic axes of the input).
"""

import numpy as np
import pytest

import ember
import ember.nn as nn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
models = pytest.importorskip("embervision.models")


def _images(channels, size):
    return lambda n, _: ember.randn(n, channels, size, size)


def _tokens(vocab):
    return lambda n, length: ember.randint(0, vocab, (n, length))


class _RecurrentClassifier(nn.Module):
    """Embedding -> 2-layer bidirectional LSTM/GRU -> linear on the last step."""

    def __init__(self, kind):
        super().__init__()
        self.emb = nn.Embedding(50, 8)
        self.rnn = kind(8, 16, num_layers=2, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(32, 3)

    def forward(self, x):
        out, _ = self.rnn(self.emb(x))
        return self.fc(out[:, -1])


class _TransformerClassifier(nn.Module):
    """Embedding -> 2 TransformerEncoderLayers (batch_first) -> mean over time -> linear."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(50, 16)
        self.enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 4, 32, batch_first=True), 2)
        self.fc = nn.Linear(16, 3)

    def forward(self, x):
        return self.fc(self.enc(self.emb(x)).mean(1))


class _MaskedTransformerClassifier(_TransformerClassifier):
    """The transformer classifier with padding (token 0) masked out of attention and of the mean."""

    def forward(self, x):
        pad = x == 0
        h = self.enc(self.emb(x), src_key_padding_mask=pad)
        keep = (~pad).unsqueeze(-1).float()
        return self.fc((h * keep).sum(1) / keep.sum(1))


def _emberaudio():
    return pytest.importorskip("emberaudio")


def _padded_tokens(vocab):
    def make(n, length):
        x = ember.randint(1, vocab, (n, length))
        x[:, length - 2:] = 0  # padding at the end of every sequence
        return x

    return make


def _embertext():
    return pytest.importorskip("embertext")


def _ragged_tokens(vocab):
    """Token ids with 1, 2 or 3 padding ids (0) at the end of the rows: sentences of different lengths."""

    def make(n, length):
        x = ember.randint(1, vocab, (n, length))
        ends = length - 1 - ember.arange(n) % 3
        return x.masked_fill(ember.arange(length).unsqueeze(0) >= ends.unsqueeze(1), 0)

    return make


def _waves(n, length):
    return ember.randn(n, 100 * length + 3)  # 703 and 1103 samples: frame counts not multiples of each other


def _audio_front_end(name, **kwargs):
    return lambda: getattr(_emberaudio().transforms, name)(**kwargs)


def _audio_chain(*steps):
    return lambda: nn.Sequential(*(step() for step in steps))


def _audio_classifier(feature):
    """emberaudio.train's deployed model: waveform -> features -> per-clip normalisation -> MelCNN scores."""
    def build():
        train = pytest.importorskip("emberaudio.train")
        n_in = 40 if feature == "mel" else 20
        return train.Deployed(train.Features(feature, 8000, 40, 20), _emberaudio().models.MelCNN(n_in, 10, 8))

    return build


_MEL = dict(sample_rate=8000, n_fft=200, hop_length=80, n_mels=32)
BATCH = {0: "batch"}
SEQ = {0: "batch", 1: "sequence"}
MODELS = [
    ("mnist_cnn", lambda: models.mnist_cnn(), _images(1, 28), BATCH),
    ("resnet18", lambda: models.resnet18(num_classes=10), _images(3, 64), BATCH),
    ("mobilenet_v2", lambda: models.mobilenet_v2(num_classes=10), _images(3, 32), BATCH),
    ("vgg11_bn", lambda: models.vgg11_bn(num_classes=10), _images(3, 32), BATCH),
    ("lstm", lambda: _RecurrentClassifier(nn.LSTM), _tokens(50), SEQ),
    ("gru", lambda: _RecurrentClassifier(nn.GRU), _tokens(50), SEQ),
    ("transformer_encoder", _TransformerClassifier, _tokens(50), SEQ),
    ("transformer_padding_mask", _MaskedTransformerClassifier, _padded_tokens(50), SEQ),
    # embertext's classifiers: padding masks and (packed) lengths computed in the graph from the token ids
    ("text_bilstm_max", lambda: _embertext().models.RNNClassifier(50, 3, embed_dim=8, hidden_size=16, num_layers=2,
                                                                   pooling="max"), _ragged_tokens(50), SEQ),
    ("text_bigru_last", lambda: _embertext().models.RNNClassifier(50, 3, embed_dim=8, hidden_size=16, rnn_type="gru"),
     _ragged_tokens(50), SEQ),
    ("text_transformer_cls", lambda: _embertext().models.TransformerClassifier(50, 3, d_model=16, nhead=2, num_layers=2,
                                                                                max_len=32), _ragged_tokens(50), SEQ),
    ("text_transformer_max", lambda: _embertext().models.TransformerClassifier(50, 3, d_model=16, nhead=2, num_layers=1,
                                                                                max_len=32, pooling="max"),
     _ragged_tokens(50), SEQ),
    ("m5_audio", lambda: _emberaudio().models.M5(n_input=1, n_output=10), lambda n, _: ember.randn(n, 1, 8000), BATCH),
    # the audio front ends on waveforms of dynamic batch size and length: stft (reflect padding, framing, windowed
    # rfft as a matrix product), complex output as its (re, im) real view, magnitude/power, mel matrix, dB, DCT
    ("audio_spectrogram", _audio_front_end("Spectrogram", n_fft=128, hop_length=40), _waves, SEQ),
    ("audio_spectrogram_complex", _audio_front_end("Spectrogram", n_fft=100, win_length=80, power=None,
                                                   normalized=True), _waves, SEQ),
    ("audio_magnitude_db", _audio_chain(_audio_front_end("Spectrogram", n_fft=64, power=1.0, normalized="frame_length"),
                                        _audio_front_end("AmplitudeToDB", stype="magnitude", top_db=60.0)), _waves, SEQ),
    ("audio_mel_spectrogram", _audio_front_end("MelSpectrogram", **_MEL), _waves, SEQ),
    ("audio_log_mel_db", _audio_chain(_audio_front_end("MelSpectrogram", **_MEL),
                                      _audio_front_end("AmplitudeToDB", top_db=80.0)), _waves, SEQ),
    ("audio_mfcc", _audio_front_end("MFCC", sample_rate=8000, n_mfcc=13, melkwargs=dict(n_fft=200, hop_length=80,
                                                                                      n_mels=32)), _waves, SEQ),
    ("audio_mfcc_log_mels", _audio_front_end("MFCC", sample_rate=8000, n_mfcc=13, log_mels=True,
                                             melkwargs=dict(n_fft=256, n_mels=24)), _waves, SEQ),
    # emberaudio.train --export-onnx's model: waveform -> class scores, features and normalisation included
    ("audio_classifier_mel", _audio_classifier("mel"), _waves, SEQ),
    ("audio_classifier_mfcc", _audio_classifier("mfcc"), _waves, SEQ),
]


@pytest.mark.parametrize("name,build,make_input,axes", MODELS, ids=[m[0] for m in MODELS])
def test_exported_model_matches_eager_in_onnxruntime(tmp_path, name, build, make_input, axes):
    ember.manual_seed(0)
    model = build().eval()
    path = tmp_path / f"{name}.onnx"
    ember.onnx.export(model, (make_input(2, 7),), str(path), input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": axes, "output": {0: "batch"}})
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert [dims[k].dim_param for k in sorted(axes)] == [axes[k] for k in sorted(axes)]
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    for batch, length in ((2, 7), (3, 11)):  # the example's sizes and others
        x = make_input(batch, length)
        expected = model(x).detach()
        expected = (ember.view_as_real(expected) if expected.is_complex() else expected).numpy()  # (re, im) pairs
        (got,) = session.run(None, {"input": x.numpy()})
        assert got.shape == expected.shape
        scale = np.abs(expected).max()
        assert np.abs(got - expected).max() <= 1e-4 * scale, (name, batch, length)
