"""scaled_dot_product_attention, MultiheadAttention and the Transformer family against values
recorded once from torch (fixtures/attention_ref.npz), plus gradients and a small learned task."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

import ember
from ember import nn
from ember.autograd import gradcheck
from ember.nn import functional as F

REF = np.load(pathlib.Path(__file__).parent / "fixtures" / "attention_ref.npz")
T = lambda key: ember.from_numpy(REF[key])  # noqa: E731


def _load(module, prefix):
    state = {k.split("/w/", 1)[1]: ember.from_numpy(REF[k]) for k in REF.files if k.startswith(prefix + "/w/")}
    assert list(state) == list(module.state_dict()), "state_dict keys differ from PyTorch's"
    module.load_state_dict(state)
    return module.eval()


def _close(t, key):
    np.testing.assert_allclose(t.detach().numpy(), REF[key], rtol=1e-5, atol=2e-5)


def test_sdpa_matches_torch():
    q, k, v = T("sdpa_q"), T("sdpa_k"), T("sdpa_v")
    _close(F.scaled_dot_product_attention(q, k[:, :, :4], v[:, :, :4], is_causal=True), "sdpa/causal")
    _close(F.scaled_dot_product_attention(q, k, v, attn_mask=T("sdpa_bool_mask")), "sdpa/bool")
    _close(F.scaled_dot_product_attention(q, k, v, scale=0.3), "sdpa/scale")


def test_sdpa_gradcheck_with_mask():
    rng = np.random.default_rng(0)
    q, k, v = (ember.tensor(rng.standard_normal(s), requires_grad=True) for s in ((2, 3, 4), (2, 5, 4), (2, 5, 3)))
    mask = ember.tensor(rng.standard_normal((3, 5)))
    assert gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=mask), (q, k, v))
    assert gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k[:, :3], v[:, :3], is_causal=True), (q, k, v))


def test_sdpa_dropout_is_seeded_and_scaled():
    q = ember.ones(1, 2, 4)
    v = ember.ones(1, 3, 4)
    ember.manual_seed(0)
    a = F.scaled_dot_product_attention(q, v, v, dropout_p=0.5)
    ember.manual_seed(0)
    b = F.scaled_dot_product_attention(q, v, v, dropout_p=0.5)
    assert np.array_equal(a.numpy(), b.numpy())
    assert set(np.unique(np.round(a.numpy() * 3, 4))) <= {0.0, 2.0, 4.0, 6.0}


def test_mha_masks_match_torch():
    m = _load(nn.MultiheadAttention(8, 2), "mha")
    out, w = m(T("q"), T("kv"), T("kv"), key_padding_mask=T("kpm"), attn_mask=T("attn_mask"))
    _close(out, "mha/out")
    _close(w, "mha/w")


def test_mha_per_head_weights_match_torch():
    m = _load(nn.MultiheadAttention(8, 2), "mha_heads")
    out, w = m(T("q"), T("kv"), T("kv"), average_attn_weights=False)
    assert tuple(w.shape) == (2, 2, 4, 6)
    _close(out, "mha_heads/out")
    _close(w, "mha_heads/w")


def test_mha_kdim_vdim_bias_kv_zero_attn_batch_first_match_torch():
    m = _load(nn.MultiheadAttention(8, 4, kdim=5, vdim=3, add_bias_kv=True, add_zero_attn=True, batch_first=True), "mha_kdim_biaskv")
    kv = T("kv")
    out, w = m(T("q").transpose(0, 1), kv[..., :5].transpose(0, 1), kv[..., :3].transpose(0, 1))
    _close(out, "mha_kdim_biaskv/out")
    _close(w, "mha_kdim_biaskv/w")


def test_mha_parameter_names():
    assert list(nn.MultiheadAttention(8, 2).state_dict()) == ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    names = list(nn.MultiheadAttention(8, 2, kdim=3, vdim=3, bias=False).state_dict())
    assert names == ["q_proj_weight", "k_proj_weight", "v_proj_weight", "out_proj.weight"]


def test_mha_errors():
    m = nn.MultiheadAttention(8, 2)
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        m(T("q"), T("q"), T("q"), is_causal=True)
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(8, 3)
    with pytest.raises(RuntimeError, match="The shape of the 2D attn_mask is \\(3, 3\\), but should be \\(4, 4\\)"):
        m(T("q"), T("q"), T("q"), attn_mask=ember.zeros(3, 3))


def test_masked_transformer_encoder_matches_torch():
    m = _load(nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.1, batch_first=True), 2, enable_nested_tensor=False), "enc")
    src_kpm = ember.tensor([[False] * 4, [False, False, True, True]])
    _close(m(T("q").transpose(0, 1), mask=T("causal"), src_key_padding_mask=src_kpm), "enc/out")


def test_norm_first_gelu_encoder_layer_matches_torch():
    m = _load(nn.TransformerEncoderLayer(8, 2, 16, activation="gelu", norm_first=True), "enc_normfirst_gelu")
    _close(m(T("q")), "enc_normfirst_gelu/out")


def test_full_transformer_matches_torch():
    m = _load(nn.Transformer(8, 2, 1, 1, 16), "transformer")
    _close(m(T("kv"), T("q"), tgt_mask=T("causal")), "transformer/out")
    mask = nn.Transformer.generate_square_subsequent_mask(3)
    assert mask.tolist() == [[0.0, float("-inf"), float("-inf")], [0.0, 0.0, float("-inf")], [0.0, 0.0, 0.0]]


def test_encoder_layer_gradcheck():
    layer = nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0).double()
    x = ember.randn(3, 2, 4, dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda x: layer(x), (x,))


def test_transformer_learns_to_copy():
    """A tiny sequence task: copy the input tokens through a one-layer encoder."""
    ember.manual_seed(0)
    rng = np.random.default_rng(1)
    vocab, L = 6, 5

    class Copier(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(vocab, 16)
            self.pos = nn.Parameter(ember.randn(L, 16) * 0.1)
            self.enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True), 1, enable_nested_tensor=False)
            self.out = nn.Linear(16, vocab)

        def forward(self, tokens):
            return self.out(self.enc(self.emb(tokens) + self.pos))

    model = Copier()
    opt = ember.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(150):
        tokens = ember.from_numpy(rng.integers(0, vocab, (32, L)))
        loss = F.cross_entropy(model(tokens).reshape(-1, vocab), tokens.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    tokens = ember.from_numpy(rng.integers(0, vocab, (64, L)))
    acc = (model(tokens).argmax(-1) == tokens).float().mean().item()
    assert acc > 0.97, f"copy accuracy {acc:.3f}"


def test_sdpa_float32_softmax_paths_agree(kernel_path):
    """The scores' softmax and its gradient through the compiled row kernels (``ember[fast]``, from 4096
    scores on) and through NumPy give the same float32 values and gradients, with and without a mask."""
    rng = np.random.default_rng(3)
    q, k, v = (rng.standard_normal((2, 3, 40, 16)).astype(np.float32) for _ in range(3))
    mask = rng.random((40, 40)) > 0.2
    np.fill_diagonal(mask, True)
    for attn_mask in (None, ember.tensor(mask)):
        qt, kt, vt = (ember.tensor(a, requires_grad=True) for a in (q, k, v))
        out = F.scaled_dot_product_attention(qt, kt, vt, attn_mask=attn_mask)
        (out * ember.tensor(np.linspace(-1, 1, 16, dtype=np.float32))).sum().backward()
        s = q @ np.swapaxes(k, -1, -2) / 4.0
        if attn_mask is not None:
            s = np.where(mask, s, -np.inf)
        p = np.exp(s - s.max(-1, keepdims=True))
        p /= p.sum(-1, keepdims=True)
        np.testing.assert_allclose(out.detach().numpy(), p @ v, rtol=1e-5, atol=1e-5)
        g = np.broadcast_to(np.linspace(-1, 1, 16, dtype=np.float32), out.shape)
        dp = g @ np.swapaxes(v, -1, -2)
        ds = p * (dp - (dp * p).sum(-1, keepdims=True)) / 4.0
        np.testing.assert_allclose(qt.grad.numpy(), ds @ k, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(kt.grad.numpy(), np.swapaxes(ds, -1, -2) @ q, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(vt.grad.numpy(), np.swapaxes(p, -1, -2) @ g, rtol=1e-4, atol=1e-5)
