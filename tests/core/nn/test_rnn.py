"""RNN / LSTM / GRU (+ cells and packing): PyTorch's parameter names, gate order and outputs
(recorded once from torch in fixtures/rnn_ref.npz), gradients, packing, errors."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

import ember
from ember import nn
from ember.autograd import gradcheck
from ember.nn.utils.rnn import pack_padded_sequence, pack_sequence, pad_packed_sequence, pad_sequence

REF = np.load(pathlib.Path(__file__).parent / "fixtures" / "rnn_ref.npz")
X = ember.from_numpy(REF["x"])
LENGTHS = ember.from_numpy(REF["lengths"])


def _load(module, prefix):
    state = {k.split("/w/", 1)[1]: ember.from_numpy(REF[k]) for k in REF.files if k.startswith(prefix + "/w/")}
    assert list(state) == list(module.state_dict()), "parameter names/order differ from PyTorch"
    module.load_state_dict(state)
    return module


def _close(t, key, atol=1e-5):
    np.testing.assert_allclose(t.detach().numpy(), REF[key], rtol=1e-5, atol=atol)


def test_bidirectional_two_layer_lstm_on_packed_input_matches_torch():
    m = _load(nn.LSTM(3, 4, num_layers=2, bidirectional=True), "lstm_bi2_packed")
    y, (h, c) = m(pack_padded_sequence(X, LENGTHS, enforce_sorted=False))
    y_pad, y_len = pad_packed_sequence(y)
    assert y_len.tolist() == [3, 5, 2]
    _close(y_pad, "lstm_bi2_packed/y")
    _close(h, "lstm_bi2_packed/h")
    _close(c, "lstm_bi2_packed/c")


def test_lstm_with_projection_matches_torch():
    m = _load(nn.LSTM(3, 5, proj_size=2), "lstm_proj")
    y, (h, c) = m(X)
    assert tuple(y.shape) == (5, 3, 2) and tuple(h.shape) == (1, 3, 2) and tuple(c.shape) == (1, 3, 5)
    _close(y, "lstm_proj/y")
    _close(h, "lstm_proj/h")
    _close(c, "lstm_proj/c")


def test_gru_batch_first_matches_torch():
    m = _load(nn.GRU(3, 4, num_layers=2, batch_first=True), "gru_bf")
    y, h = m(X.transpose(0, 1))
    _close(y, "gru_bf/y")
    _close(h, "gru_bf/h")


def test_bidirectional_gru_packed_matches_torch():
    m = _load(nn.GRU(3, 4, bidirectional=True), "gru_packed_bi")
    y, h = m(pack_padded_sequence(X, LENGTHS, enforce_sorted=False))
    _close(pad_packed_sequence(y)[0], "gru_packed_bi/y")
    _close(h, "gru_packed_bi/h")


def test_relu_rnn_matches_torch():
    m = _load(nn.RNN(3, 4, nonlinearity="relu", num_layers=2), "rnn_relu")
    y, h = m(X)
    _close(y, "rnn_relu/y")
    _close(h, "rnn_relu/h")


def test_cells_match_torch():
    h0 = ember.from_numpy(REF["h0"])
    h, c = _load(nn.LSTMCell(3, 4), "lstm_cell")(X[0], (h0, h0 * 0.5))
    _close(h, "lstm_cell/h")
    _close(c, "lstm_cell/c")
    _close(_load(nn.GRUCell(3, 4), "gru_cell")(X[0], h0), "gru_cell/h")
    _close(_load(nn.RNNCell(3, 4), "rnn_cell")(X[0], h0), "rnn_cell/h")


def test_parameter_names_and_repr():
    m = nn.LSTM(10, 20, num_layers=2, bidirectional=True, batch_first=True, proj_size=5)
    names = [n for n, _ in m.named_parameters()]
    assert names[:5] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_hr_l0"]
    assert "weight_hh_l1_reverse" in names and len(names) == 20
    assert tuple(m.weight_ih_l1.shape) == (80, 10) and tuple(m.weight_hh_l0.shape) == (80, 5)
    assert repr(m) == "LSTM(10, 20, proj_size=5, num_layers=2, batch_first=True, bidirectional=True)"
    assert repr(nn.GRU(3, 4, bias=False)) == "GRU(3, 4, bias=False)"
    assert repr(nn.RNN(3, 4, nonlinearity="relu")) == "RNN(3, 4, nonlinearity='relu')"
    bound = 1 / np.sqrt(20)
    assert all(float(p.abs().max()) <= bound for p in m.parameters())


def test_unbatched_input_and_hidden_shapes():
    m = nn.GRU(3, 4, num_layers=2)
    y, h = m(ember.randn(6, 3))
    assert tuple(y.shape) == (6, 4) and tuple(h.shape) == (2, 4)
    y, h = m(ember.randn(6, 2, 3), ember.zeros(2, 2, 4))
    assert tuple(y.shape) == (6, 2, 4)


def test_shape_errors():
    m = nn.LSTM(3, 4)
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size. Expected 3, got 5"):
        m(ember.randn(2, 1, 5))
    with pytest.raises(RuntimeError, match="Expected hidden size \\(1, 1, 4\\), got \\(1, 2, 4\\)"):
        m(ember.randn(2, 1, 3), (ember.zeros(1, 2, 4), ember.zeros(1, 1, 4)))
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        nn.LSTM(3, 4, proj_size=4)


def test_gradients_of_stacked_bidirectional_lstm_module():
    m = nn.LSTM(2, 3, num_layers=2, bidirectional=True).double()
    x = ember.randn(4, 2, 2, dtype=ember.float64, requires_grad=True)

    def f(x, *params):
        y, (h, c) = m(x)
        return y.sum() + h.sum() + c.sum()

    assert gradcheck(f, (x,))
    y, _ = m(x)
    y.sum().backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in m.parameters())


def test_packed_gradients_ignore_padding():
    m = nn.GRU(2, 3).double()
    x = ember.randn(4, 3, 2, dtype=ember.float64, requires_grad=True)
    y, h = m(pack_padded_sequence(x, [4, 2, 1]))
    (pad_packed_sequence(y)[0].sum() + h.sum()).backward()
    g = x.grad.numpy()
    assert np.all(g[2:, 1] == 0) and np.all(g[1:, 2] == 0) and np.any(g[:2, 1] != 0)


@pytest.mark.parametrize("layer", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("reverse", [False, True])
def test_layers_take_unsorted_lengths_like_a_packed_batch(layer, reverse):
    # batch_sizes given as a (B,) lengths tensor in batch order (how a traced PackedSequence runs): each
    # sequence runs alone over its own steps, outputs beyond its length are zero, gradients check out
    from ember.ops import rnn as F_rnn

    ember.manual_seed(0)
    T, B, I, H = 5, 4, 3, 2
    gates = {"lstm": 4, "gru": 3, "rnn": 1}[layer]
    r = lambda *s: ember.randn(*s, dtype=ember.float64, requires_grad=True)  # noqa: E731
    x, h0, c0 = r(T, B, I), r(B, H), r(B, H)
    weights = (r(gates * H, I), r(gates * H, H), r(gates * H), r(gates * H))
    lengths = ember.tensor([3, 5, 1, 4])

    def run(x, h0, c0, w_ih, w_hh, b_ih, b_hh, lens):
        if layer == "lstm":
            return F_rnn.lstm_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh, None, lens, reverse)
        if layer == "gru":
            return F_rnn.gru_layer(x, h0, w_ih, w_hh, b_ih, b_hh, lens, reverse)
        return F_rnn.rnn_layer(x, h0, w_ih, w_hh, b_ih, b_hh, lens, reverse)

    y, h = run(x, h0, c0, *weights, lengths)[:2]
    for b, n in enumerate(lengths.tolist()):
        yb, hb = run(x[:n, b : b + 1], h0[b : b + 1], c0[b : b + 1], *weights, None)[:2]
        np.testing.assert_allclose(y[:n, b].detach().numpy(), yb[:, 0].detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(h[b].detach().numpy(), hb[0].detach().numpy(), rtol=1e-12)
        assert np.all(y[n:, b].detach().numpy() == 0)
    assert gradcheck(lambda *a: run(*a, lengths), (x, h0, c0, *weights))


def test_pad_sequence_and_pack_sequence():
    a, b = ember.ones(3, 2), ember.full((1, 2), 2.0)
    p = pad_sequence([a, b], padding_value=-1.0)
    assert tuple(p.shape) == (3, 2, 2) and p[:, 1, 0].tolist() == [2.0, -1.0, -1.0]
    assert pad_sequence([a, b], batch_first=True, padding_side="left")[1, :, 0].tolist() == [0.0, 0.0, 2.0]
    packed = pack_sequence([a, b])
    assert packed.batch_sizes.tolist() == [2, 1, 1] and tuple(packed.data.shape) == (4, 2)
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        pack_sequence([b, a])
    unsorted = pack_sequence([b, a], enforce_sorted=False)
    padded, lengths = pad_packed_sequence(unsorted, batch_first=True)
    assert lengths.tolist() == [1, 3] and padded[0, 0].tolist() == [2.0, 2.0]


def test_lstm_learns_to_reverse_a_short_sequence():
    """A tiny sequence task learned in a test: output the input sequence reversed."""
    ember.manual_seed(0)
    rng = np.random.default_rng(0)
    T, vocab = 5, 4

    class Reverser(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(vocab, 16)
            self.lstm = nn.LSTM(16, 32, bidirectional=True, batch_first=True)
            self.out = nn.Linear(64, vocab)

        def forward(self, tokens):
            return self.out(self.lstm(self.emb(tokens))[0])

    model = Reverser()
    opt = ember.optim.Adam(model.parameters(), lr=0.02)
    for step in range(250):
        tokens = ember.from_numpy(rng.integers(0, vocab, (32, T)))
        target = tokens.flip(1)
        loss = nn.functional.cross_entropy(model(tokens).reshape(-1, vocab), target.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    tokens = ember.from_numpy(rng.integers(0, vocab, (64, T)))
    acc = (model(tokens).argmax(-1) == tokens.flip(1)).float().mean().item()
    assert acc > 0.95, f"accuracy {acc:.3f} after training (loss {loss.item():.4f})"
