"""Every layer and loss on each device gives the CPU's outputs, input/parameter gradients and buffers, and (on
the GPU) makes no host<->device copy in forward and backward (tox -e fakecuda checks both on the fake)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import ember
import ember.nn as nn


def _ints(high, shape):
    return lambda rng: rng.integers(0, high, shape).astype(np.int64)


def _probs(shape):
    return lambda rng: rng.uniform(0.05, 0.95, shape)


class _Target(np.ndarray):
    """A floating input made without gradient: a loss target PyTorch refuses to differentiate."""


def _signs(shape):
    return lambda rng: rng.choice([-1.0, 1.0], shape).view(_Target)


def _const(a):
    return lambda rng: np.asarray(a)


# (id, module factory, inputs: a shape (standard normal float) or a function of the rng)
LAYERS = [
    ("linear", lambda: nn.Linear(5, 4), [(3, 5)]),
    ("bilinear", lambda: nn.Bilinear(3, 4, 2), [(2, 3), (2, 4)]),
    ("conv1d", lambda: nn.Conv1d(2, 3, 3, padding=1), [(2, 2, 7)]),
    ("conv1d_strided_long_kernel", lambda: nn.Conv1d(2, 4, 16, stride=4, padding=2), [(2, 2, 40)]),  # "win" path
    ("conv2d", lambda: nn.Conv2d(2, 3, 3, stride=2, padding=1), [(2, 2, 6, 6)]),
    ("conv2d_groups_dilation", lambda: nn.Conv2d(4, 4, 3, groups=2, dilation=2, padding="same"), [(1, 4, 6, 6)]),
    ("conv3d", lambda: nn.Conv3d(2, 2, 2), [(1, 2, 4, 4, 4)]),
    ("conv_transpose1d", lambda: nn.ConvTranspose1d(2, 3, 3, stride=2), [(2, 2, 5)]),
    ("conv_transpose2d", lambda: nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1), [(1, 2, 4, 4)]),
    ("conv_transpose3d", lambda: nn.ConvTranspose3d(2, 2, 2, stride=2), [(1, 2, 3, 3, 3)]),
    ("maxpool1d", lambda: nn.MaxPool1d(2), [(2, 3, 8)]),
    ("maxpool2d", lambda: nn.MaxPool2d(3, 2, 1), [(2, 2, 7, 7)]),
    ("maxpool3d", lambda: nn.MaxPool3d(2), [(1, 2, 4, 4, 4)]),
    ("avgpool1d", lambda: nn.AvgPool1d(3, 2, 1), [(2, 3, 8)]),
    ("avgpool2d", lambda: nn.AvgPool2d(2, ceil_mode=True, count_include_pad=False), [(2, 2, 5, 5)]),
    ("avgpool3d", lambda: nn.AvgPool3d(2), [(1, 2, 4, 4, 4)]),
    ("adaptive_avgpool1d", lambda: nn.AdaptiveAvgPool1d(3), [(2, 3, 7)]),
    ("adaptive_avgpool2d", lambda: nn.AdaptiveAvgPool2d((3, 2)), [(2, 2, 7, 5)]),
    ("adaptive_avgpool3d", lambda: nn.AdaptiveAvgPool3d(2), [(1, 2, 5, 4, 3)]),
    ("adaptive_maxpool1d", lambda: nn.AdaptiveMaxPool1d(3), [(2, 3, 7)]),
    ("adaptive_maxpool2d", lambda: nn.AdaptiveMaxPool2d(3), [(2, 2, 7, 5)]),
    ("adaptive_maxpool3d", lambda: nn.AdaptiveMaxPool3d(2), [(1, 2, 5, 4, 3)]),
    ("lppool1d", lambda: nn.LPPool1d(2, 2), [(2, 3, 8)]),
    ("lppool2d", lambda: nn.LPPool2d(2, 2), [(2, 2, 6, 6)]),
    ("batchnorm1d", lambda: nn.BatchNorm1d(3), [(4, 3)]),
    ("batchnorm2d", lambda: nn.BatchNorm2d(3), [(2, 3, 4, 4)]),
    ("batchnorm3d", lambda: nn.BatchNorm3d(2), [(2, 2, 3, 3, 3)]),
    ("instancenorm1d", lambda: nn.InstanceNorm1d(3, affine=True), [(2, 3, 6)]),
    ("instancenorm2d", lambda: nn.InstanceNorm2d(3, track_running_stats=True), [(2, 3, 4, 4)]),
    ("groupnorm", lambda: nn.GroupNorm(2, 4), [(2, 4, 3, 3)]),
    ("layernorm", lambda: nn.LayerNorm(5), [(3, 5)]),
    ("rmsnorm", lambda: nn.RMSNorm(5), [(3, 5)]),
    ("local_response_norm", lambda: nn.LocalResponseNorm(2), [(1, 4, 3, 3)]),
    ("embedding", lambda: nn.Embedding(10, 4, padding_idx=1), [_ints(10, (3, 5))]),
    ("embedding_max_norm", lambda: nn.Embedding(10, 4, max_norm=1.0), [_ints(10, (3, 5))]),
    ("embedding_bag", lambda: nn.EmbeddingBag(10, 4, mode="mean"), [_ints(10, (2, 3))]),
    ("embedding_bag_offsets", lambda: nn.EmbeddingBag(10, 4, mode="sum"), [_ints(10, (7,)), _const([0, 2, 2])]),
    ("rnn", lambda: nn.RNN(4, 5, num_layers=2), [(3, 2, 4)]),
    ("lstm", lambda: nn.LSTM(4, 5, bidirectional=True, batch_first=True), [(2, 3, 4)]),
    ("lstm_proj", lambda: nn.LSTM(4, 5, proj_size=3), [(3, 2, 4)]),
    ("gru", lambda: nn.GRU(4, 5), [(3, 2, 4)]),
    ("rnn_cell", lambda: nn.RNNCell(4, 5), [(2, 4)]),
    ("lstm_cell", lambda: nn.LSTMCell(4, 5), [(2, 4)]),
    ("gru_cell", lambda: nn.GRUCell(4, 5), [(2, 4)]),
    ("multihead_attention", lambda: nn.MultiheadAttention(8, 2), [(3, 2, 8), (4, 2, 8), (4, 2, 8)]),
    ("transformer_encoder_layer", lambda: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0), [(3, 2, 8)]),
    ("transformer_decoder_layer", lambda: nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, batch_first=True),
     [(2, 3, 8), (2, 4, 8)]),
    ("transformer", lambda: nn.Transformer(8, 2, 1, 1, 16, dropout=0.0), [(4, 2, 8), (3, 2, 8)]),
    ("prelu", lambda: nn.PReLU(3), [(2, 3, 4)]),
    ("rrelu_eval", lambda: nn.RReLU().eval(), [(3, 6)]),
    ("softmax2d", lambda: nn.Softmax2d(), [(1, 2, 3, 3)]),
    ("constant_pad2d", lambda: nn.ConstantPad2d((1, 2, 0, 1), 0.5), [(1, 2, 3, 3)]),
    ("reflection_pad1d", lambda: nn.ReflectionPad1d(2), [(1, 2, 5)]),
    ("reflection_pad2d", lambda: nn.ReflectionPad2d(1), [(1, 2, 3, 3)]),
    ("reflection_pad3d", lambda: nn.ReflectionPad3d(1), [(1, 1, 3, 3, 3)]),
    ("replication_pad1d", lambda: nn.ReplicationPad1d(2), [(1, 2, 5)]),
    ("replication_pad2d", lambda: nn.ReplicationPad2d(1), [(1, 2, 3, 3)]),
    ("replication_pad3d", lambda: nn.ReplicationPad3d(1), [(1, 1, 3, 3, 3)]),
    ("circular_pad2d", lambda: nn.CircularPad2d(1), [(1, 2, 3, 3)]),
    ("zero_pad2d", lambda: nn.ZeroPad2d(1), [(1, 2, 3, 3)]),
    ("upsample_nearest", lambda: nn.Upsample(scale_factor=2), [(1, 2, 3, 3)]),
    ("upsample_bilinear", lambda: nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False), [(1, 2, 3, 3)]),
    ("upsample_bicubic", lambda: nn.Upsample(size=(5, 4), mode="bicubic"), [(1, 2, 3, 3)]),
    ("upsample_trilinear", lambda: nn.Upsample(scale_factor=2, mode="trilinear"), [(1, 1, 2, 2, 2)]),
    ("upsampling_bilinear2d", lambda: nn.UpsamplingBilinear2d(scale_factor=2), [(1, 2, 3, 3)]),
    ("pixel_shuffle", lambda: nn.PixelShuffle(2), [(1, 4, 2, 2)]),
    ("pixel_unshuffle", lambda: nn.PixelUnshuffle(2), [(1, 1, 4, 4)]),
    ("unfold", lambda: nn.Unfold(2, padding=1, stride=2), [(1, 2, 4, 4)]),
    ("fold", lambda: nn.Fold((4, 4), 2, stride=2), [(1, 8, 4)]),
    ("flatten", lambda: nn.Flatten(), [(2, 3, 4)]),
    ("unflatten", lambda: nn.Unflatten(1, (2, 3)), [(2, 6)]),
    ("cosine_similarity", lambda: nn.CosineSimilarity(), [(3, 5), (3, 5)]),
    ("pairwise_distance", lambda: nn.PairwiseDistance(), [(3, 5), (3, 5)]),
] + [
    (name.lower(), getattr(nn, name), [(3, 6)])
    for name in ("ReLU", "ReLU6", "ELU", "SELU", "CELU", "GELU", "GLU", "SiLU", "Mish", "Hardswish", "Hardsigmoid",
                 "Hardtanh", "Hardshrink", "Softshrink", "Tanhshrink", "Softplus", "Softsign", "LogSigmoid", "Sigmoid",
                 "Tanh", "LeakyReLU", "Identity")
] + [
    (name.lower(), (lambda cls: lambda: cls(dim=1))(getattr(nn, name)), [(3, 6)])
    for name in ("Softmax", "LogSoftmax", "Softmin")
] + [
    (f"{name.lower()}_eval", (lambda cls: lambda: cls(0.5).eval())(getattr(nn, name)), [shape])
    for name, shape in (("Dropout", (2, 3)), ("Dropout1d", (2, 3, 4)), ("Dropout2d", (2, 3, 4, 4)),
                        ("Dropout3d", (2, 3, 4, 4, 4)), ("AlphaDropout", (2, 3)), ("FeatureAlphaDropout", (2, 3, 4)))
]

LOSSES = [
    ("l1", lambda: nn.L1Loss(), [(3, 4), (3, 4)]),
    ("mse", lambda: nn.MSELoss(reduction="sum"), [(3, 4), (3, 4)]),
    ("smooth_l1", lambda: nn.SmoothL1Loss(beta=0.5), [(3, 4), (3, 4)]),
    ("huber", lambda: nn.HuberLoss(delta=0.5), [(3, 4), (3, 4)]),
    ("bce", lambda: nn.BCELoss(), [_probs((3, 4)), _probs((3, 4))]),
    ("bce_with_logits", lambda: nn.BCEWithLogitsLoss(pos_weight=ember.tensor([1.0, 2.0, 0.5, 1.0])), [(3, 4), _probs((3, 4))]),
    ("cross_entropy", lambda: nn.CrossEntropyLoss(), [(4, 5), _ints(5, (4,))]),
    ("cross_entropy_ignore_smooth", lambda: nn.CrossEntropyLoss(ignore_index=2, label_smoothing=0.1), [(4, 5), _const([0, 2, 4, 1])]),
    ("cross_entropy_weight_2d", lambda: nn.CrossEntropyLoss(weight=ember.tensor([1.0, 2.0, 0.5])), [(2, 3, 2, 2), _ints(3, (2, 2, 2))]),
    ("cross_entropy_probs", lambda: nn.CrossEntropyLoss(), [(4, 5), _probs((4, 5))]),
    ("nll", lambda: nn.NLLLoss(reduction="sum"), [(4, 5), _ints(5, (4,))]),
    ("kl_div", lambda: nn.KLDivLoss(reduction="batchmean"), [(3, 4), _probs((3, 4))]),
    ("poisson_nll", lambda: nn.PoissonNLLLoss(), [(3, 4), _probs((3, 4))]),
    ("gaussian_nll", lambda: nn.GaussianNLLLoss(), [(3, 4), (3, 4), _probs((3, 4))]),
    ("cosine_embedding", lambda: nn.CosineEmbeddingLoss(margin=0.1), [(3, 5), (3, 5), _signs((3,))]),
    ("hinge_embedding", lambda: nn.HingeEmbeddingLoss(), [(3, 4), _signs((3, 4))]),
    ("margin_ranking", lambda: nn.MarginRankingLoss(margin=0.2), [(4,), (4,), _signs((4,))]),
    ("multilabel_margin", lambda: nn.MultiLabelMarginLoss(), [(2, 4), _const([[3, 0, -1, 1], [1, 2, 3, -1]])]),
    ("multilabel_soft_margin", lambda: nn.MultiLabelSoftMarginLoss(), [(2, 4), _ints(2, (2, 4))]),
    ("multi_margin", lambda: nn.MultiMarginLoss(p=1, margin=0.5), [(3, 4), _ints(4, (3,))]),
    ("soft_margin", lambda: nn.SoftMarginLoss(), [(3, 4), _signs((3, 4))]),
    ("triplet_margin", lambda: nn.TripletMarginLoss(), [(3, 5), (3, 5), (3, 5)]),
    ("triplet_margin_distance", lambda: nn.TripletMarginWithDistanceLoss(swap=True), [(3, 5), (3, 5), (3, 5)]),
    ("ctc", lambda: nn.CTCLoss(), [lambda rng: np.log(rng.dirichlet(np.ones(5), (6, 2))), _const([[1, 2, 2], [3, 4, 0]]),
                                   _const([6, 5]), _const([3, 2])]),
]


# the host copies PyTorch's CUDA path makes too
KNOWN_COPIES = {"ctc": "the length tensors decide the shapes: read on the host (PyTorch copies them to the CPU too)"}


def _inputs(specs, rng):
    return [rng.standard_normal(s) if isinstance(s, tuple) else s(rng) for s in specs]


def _tensors(arrays, device):
    out = []
    for a in arrays:
        floating = a.dtype.kind == "f" and not isinstance(a, _Target)
        a = np.asarray(a)
        t = ember.tensor(a.astype(np.float32) if a.dtype.kind == "f" else a, device=device)
        out.append(t.requires_grad_(True) if floating else t)
    weights = [ember.arange(64, dtype=ember.float32, device=device) % 3 + 1.0]  # made here: no copy in the step
    return out, weights


def _run(module, tensors, weights):
    """Forward, then backward of a weighted sum of every floating output."""
    out = module(*tensors)
    outs = [o for o in (out if isinstance(out, (tuple, list)) else [out]) for o in (o if isinstance(o, tuple) else [o])]
    outs = [o for o in outs if isinstance(o, ember.Tensor)]
    w = weights[0]
    total = None
    for o in outs:
        if o.is_floating_point() and o.requires_grad:
            part = (o.reshape(-1) * w[: o.numel()].repeat(o.numel() // 64 + 1)[: o.numel()]).sum()
            total = part if total is None else total + part
    if total is not None:
        total.backward()
    return outs, [t.grad for t in tensors if t.requires_grad]


def _host(t):
    return np.zeros(0) if t is None else t.detach().cpu().numpy()


def _check(case, device, fake_transfers):
    name, factory, specs = case
    ember.manual_seed(0)
    ref_module = factory()
    pristine = copy.deepcopy(ref_module)
    arrays = _inputs(specs, np.random.default_rng(0))
    ref_outs, ref_grads = _run(ref_module, *_tensors(arrays, "cpu"))
    if fake_transfers is not None:  # warm up first (lazily made buffers and caches)
        _run(copy.deepcopy(pristine).to(device), *_tensors(arrays, device))
    module = copy.deepcopy(pristine).to(device)
    tensors, weights = _tensors(arrays, device)
    if fake_transfers is None:
        outs, grads = _run(module, tensors, weights)
    else:
        with fake_transfers.counting() as log:
            outs, grads = _run(module, tensors, weights)
        if name not in KNOWN_COPIES:
            assert log.h2d == 0 and log.d2h == 0, f"{name}: host<->device copies in forward/backward: {log}"
    assert len(outs) == len(ref_outs)
    for o, r in zip(outs, ref_outs):
        assert o.device.type == ember.device(device).type
        np.testing.assert_allclose(_host(o), _host(r), rtol=1e-5, atol=1e-6, err_msg=f"{name}: output")
    for g, r in zip(grads, ref_grads):
        assert (g is None) == (r is None), f"{name}: input grad"
        np.testing.assert_allclose(_host(g), _host(r), rtol=1e-5, atol=1e-6, err_msg=f"{name}: input grad")
    for (k, p), (_, rp) in zip(module.named_parameters(), ref_module.named_parameters()):
        np.testing.assert_allclose(_host(p.grad), _host(rp.grad), rtol=1e-5, atol=1e-6, err_msg=f"{name}: {k}.grad")
    for (k, b), (_, rb) in zip(module.named_buffers(), ref_module.named_buffers()):
        np.testing.assert_allclose(_host(b), _host(rb), rtol=1e-5, atol=1e-6, err_msg=f"{name}: buffer {k}")


@pytest.fixture
def fake_transfers(device):
    """The fake CUDA's transfer log when the test runs on it, else None."""
    if device == "cpu":
        return None
    try:
        import _fakecuda
    except ImportError:
        return None
    return _fakecuda.transfers if ember.backend._cupy is _fakecuda.cupy else None


@pytest.mark.parametrize("case", LAYERS, ids=[c[0] for c in LAYERS])
def test_layer_matches_cpu(case, device, fake_transfers):
    _check(case, device, fake_transfers)


@pytest.mark.parametrize("case", LOSSES, ids=[c[0] for c in LOSSES])
def test_loss_matches_cpu(case, device, fake_transfers):
    _check(case, device, fake_transfers)
