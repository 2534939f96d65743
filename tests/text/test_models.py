"""embertext.models: the classifiers, the GPT-style LM and RoBERTa (shapes, masks, keys, generate, gradients)."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

import ember
from ember import nn
from embertext import models
from embertext.models._masks import masked_pool
from embertext.models.gpt import _filter_logits

FIXTURES = pathlib.Path(__file__).with_name("fixtures")
TOKENS = [[5, 6, 7, 8, 0, 0], [3, 4, 5, 6, 7, 9], [2, 0, 0, 0, 0, 0]]

CLASSIFIERS = {
    "lstm-last": lambda: models.RNNClassifier(12, 3, embed_dim=8, hidden_size=6),
    "lstm-mean-2layers": lambda: models.RNNClassifier(12, 3, embed_dim=8, hidden_size=6, num_layers=2, pooling="mean"),
    "gru-max-uni": lambda: models.RNNClassifier(12, 3, embed_dim=8, hidden_size=6, rnn_type="gru", pooling="max",
                                                bidirectional=False),
    "cnn": lambda: models.CNNClassifier(12, 3, embed_dim=8, num_filters=5),
    "transformer-cls": lambda: models.TransformerClassifier(12, 3, d_model=8, nhead=2, num_layers=2, max_len=32),
    "transformer-mean": lambda: models.TransformerClassifier(12, 3, d_model=8, nhead=2, num_layers=1, max_len=32,
                                                             pooling="mean"),
    "transformer-max-unordered": lambda: models.TransformerClassifier(12, 3, d_model=8, nhead=2, num_layers=1,
                                                                      max_len=32, pooling="max", positions="none"),
}


@pytest.mark.parametrize("name", sorted(CLASSIFIERS))
def test_classifier_shapes_and_padding_invariance(name):
    model = CLASSIFIERS[name]().eval()
    tokens = ember.tensor(TOKENS)
    with ember.no_grad():
        logits = model(tokens)
        assert tuple(logits.shape) == (3, 3)
        # more trailing padding, or explicit lengths, give the same logits
        longer = model(nn.functional.pad(tokens, (0, 7), value=0))
        explicit = model(tokens, ember.tensor([4, 6, 1]))
        # each sentence alone (no padding at all) gives its row
        alone = ember.cat([model(ember.tensor([row[:n]])) for row, n in zip(TOKENS, (4, 6, 1))])
    for other in (longer, explicit, alone):
        np.testing.assert_allclose(other.numpy(), logits.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(CLASSIFIERS))
def test_classifier_gradients_reach_every_parameter(name):
    model = CLASSIFIERS[name]().train()
    loss = nn.functional.cross_entropy(model(ember.tensor(TOKENS)), ember.tensor([0, 1, 2]))
    loss.backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None, pname
        g = p.grad.numpy()
        assert np.isfinite(g).all() and np.abs(g).sum() > 0, pname
    # the padding embedding gets no gradient
    assert np.abs(model.embedding.weight.grad.numpy()[0]).sum() == 0


def test_classifier_state_dict_keys():
    rnn = models.RNNClassifier(12, 3, embed_dim=8, hidden_size=6)
    assert list(rnn.state_dict()) == [
        "embedding.weight", "rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0",
        "rnn.weight_ih_l0_reverse", "rnn.weight_hh_l0_reverse", "rnn.bias_ih_l0_reverse", "rnn.bias_hh_l0_reverse",
        "fc.weight", "fc.bias"]
    cnn = models.CNNClassifier(12, 3, embed_dim=8, num_filters=5, kernel_sizes=(2, 3))
    assert list(cnn.state_dict()) == ["embedding.weight", "convs.0.weight", "convs.0.bias", "convs.1.weight",
                                      "convs.1.bias", "fc.weight", "fc.bias"]
    tr = models.TransformerClassifier(12, 3, d_model=8, nhead=2, num_layers=1)
    layer = ["self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight", "self_attn.out_proj.bias",
             "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias", "norm1.weight", "norm1.bias",
             "norm2.weight", "norm2.bias"]
    assert list(tr.state_dict()) == (["cls_token", "embedding.weight"] + [f"encoder.layers.0.{k}" for k in layer]
                                     + ["encoder.norm.weight", "encoder.norm.bias", "fc.weight", "fc.bias"])


def test_bad_inputs_are_clear_errors():
    model = models.RNNClassifier(12, 2, embed_dim=4, hidden_size=3)
    with pytest.raises(ValueError, match=r"shape \(batch, seq_len\)"):
        model(ember.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match="lengths must have shape"):
        model(ember.tensor(TOKENS), ember.tensor([1, 2]))
    with pytest.raises(ValueError, match="exceeds the sequence length"):
        model(ember.tensor(TOKENS), ember.tensor([1, 2, 9]))
    with pytest.raises(ValueError, match="pooling"):
        models.TransformerClassifier(12, 2, pooling="last")
    with pytest.raises(ValueError, match="positions must be 'sinusoidal' or 'none'"):
        models.TransformerClassifier(12, 2, positions="learned")
    tr = models.TransformerClassifier(12, 2, d_model=8, nhead=2, num_layers=1, max_len=4)
    with pytest.raises(ValueError, match="max_len"):
        tr(ember.tensor(TOKENS))


def test_empty_sentence_is_one_padding_step():
    model = models.RNNClassifier(12, 2, embed_dim=4, hidden_size=3).eval()
    with ember.no_grad():
        out = model(ember.tensor([[0, 0], [3, 4]]))
    assert np.isfinite(out.numpy()).all()


def test_positional_encoding_values():
    pe = models.PositionalEncoding(4, dropout=0.0, max_len=3)
    assert "pe" not in pe.state_dict()
    t = np.arange(3)[:, None]
    expected = np.concatenate([np.sin(t / 10000 ** (0 / 4)), np.cos(t / 10000 ** (0 / 4)),
                               np.sin(t / 10000 ** (2 / 4)), np.cos(t / 10000 ** (2 / 4))], 1)[:, [0, 1, 2, 3]]
    np.testing.assert_allclose(pe.pe.numpy(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["mean", "max"])
def test_masked_pool_gradcheck(mode):
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.standard_normal((2, 4, 3)), dtype=ember.float64, requires_grad=True)
    valid = ember.tensor([[True, True, True, False], [True, False, False, False]])
    assert ember.autograd.gradcheck(lambda t: masked_pool(t, valid, mode), (x,))
    out = masked_pool(x, valid, mode).detach().numpy()
    ref = getattr(np, mode)
    np.testing.assert_allclose(out, np.stack([ref(x.detach().numpy()[0, :3], 0), x.detach().numpy()[1, 0]]))


# -- GPT-style language model -------------------------------------------------------------------------
def _gpt():
    ember.manual_seed(0)
    return models.GPTLanguageModel(20, d_model=16, nhead=2, num_layers=2, max_len=8, dropout=0.0).eval()


def test_gpt_is_causal_and_tied():
    model = _gpt()
    a = ember.tensor([[1, 2, 3, 4, 5]])
    b = ember.tensor([[1, 2, 3, 9, 9]])
    with ember.no_grad():
        la, lb = model(a), model(b)
    assert tuple(la.shape) == (1, 5, 20)
    np.testing.assert_allclose(la.numpy()[:, :3], lb.numpy()[:, :3], rtol=1e-5, atol=1e-6)
    assert not np.allclose(la.numpy()[:, 3], lb.numpy()[:, 3])
    assert model.lm_head.weight is model.token_embedding.weight
    assert list(model.state_dict())[:3] == ["token_embedding.weight", "position_embedding.weight",
                                            "blocks.layers.0.self_attn.in_proj_weight"]
    with pytest.raises(ValueError, match="max_len"):
        model(ember.zeros(1, 9, dtype=ember.int64))


def test_gpt_greedy_matches_a_manual_argmax_loop_and_crops_context():
    model = _gpt()
    start = ember.tensor([[1, 2, 3, 4, 5, 6, 7]])
    out = model.generate(start, max_new_tokens=4)
    assert tuple(out.shape) == (1, 11)
    seq = start
    with ember.no_grad():
        for _ in range(4):
            nxt = model(seq[:, -8:])[:, -1].argmax(-1, keepdim=True)
            seq = ember.cat([seq, nxt], 1)
    np.testing.assert_array_equal(out.numpy(), seq.numpy())


def test_gpt_sampling_filters():
    model = _gpt()
    start = ember.tensor([[1, 2], [3, 4]])
    greedy = model.generate(start, 5)
    # top-k 1 and a tiny nucleus leave only the most likely token: sampling equals greedy
    np.testing.assert_array_equal(model.generate(start, 5, do_sample=True, top_k=1).numpy(), greedy.numpy())
    np.testing.assert_array_equal(model.generate(start, 5, do_sample=True, top_p=1e-6).numpy(), greedy.numpy())
    g1, g2 = ember.Generator().manual_seed(3), ember.Generator().manual_seed(3)
    s1 = model.generate(start, 6, do_sample=True, temperature=2.0, generator=g1)
    s2 = model.generate(start, 6, do_sample=True, temperature=2.0, generator=g2)
    np.testing.assert_array_equal(s1.numpy(), s2.numpy())
    with pytest.raises(ValueError, match="temperature"):
        model.generate(start, 2, do_sample=True, temperature=0.0)
    assert model.training is False


def test_gpt_stops_at_eos():
    model = _gpt()
    start = ember.tensor([[1, 2]])
    first = int(model.generate(start, 1)[0, -1])
    out = model.generate(start, 6, eos_token_id=first)
    assert out.numpy().tolist() == [[1, 2, first]]


def test_filter_logits_known_values():
    logits = ember.tensor([[3.0, 2.0, 1.0, 0.0]])
    kept = lambda t: np.isfinite(t.numpy()[0]).tolist()  # noqa: E731
    assert kept(_filter_logits(logits, 2, None)) == [True, True, False, False]
    # probabilities 0.644, 0.237, 0.087, 0.032: the nucleus of 0.7 needs the first two
    assert kept(_filter_logits(logits, None, 0.7)) == [True, True, False, False]
    assert kept(_filter_logits(logits, None, 0.5)) == [True, False, False, False]
    assert kept(_filter_logits(logits, None, 1.0)) == [True, True, True, True]
    with pytest.raises(ValueError, match="top_p"):
        _filter_logits(logits, None, 0.0)


# -- RoBERTa -------------------------------------------------------------------------------------------
def _roberta(cfg):
    conf = models.RobertaEncoderConf(vocab_size=cfg["vocab_size"], embedding_dim=cfg["embedding_dim"],
                                     ffn_dimension=cfg["ffn_dimension"], padding_idx=cfg["padding_idx"],
                                     max_seq_len=cfg["max_seq_len"], num_attention_heads=cfg["num_attention_heads"],
                                     num_encoder_layers=cfg["num_encoder_layers"])
    head = models.RobertaClassificationHead(cfg["num_classes"], cfg["embedding_dim"])
    return models.RobertaModel(conf, head=head)


def test_roberta_state_dict_matches_torchtext_layout():
    ref = json.loads((FIXTURES / "roberta_keys.json").read_text())
    sd = _roberta(ref["config"]).state_dict()
    assert [[k, list(v.shape)] for k, v in sd.items()] == ref["keys"]


def test_roberta_loads_torch_weights_and_matches_outputs():
    ref = np.load(FIXTURES / "roberta_ref.npz")
    cfg = json.loads((FIXTURES / "roberta_keys.json").read_text())["config"]
    model = _roberta(cfg).eval()
    model.load_state_dict({k[2:]: ember.tensor(ref[k]) for k in ref.files if k.startswith("w:")})
    tokens = ember.tensor(ref["tokens"])
    with ember.no_grad():
        feats = model.encoder(tokens)
        logits = model(tokens)
    real = ref["tokens"] != cfg["padding_idx"]  # torch's fast path zeroes padded rows; compare real tokens
    np.testing.assert_allclose(feats.numpy()[real], ref["features"][real], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(logits.numpy(), ref["logits"], rtol=1e-4, atol=1e-5)
    assert tuple(model.encoder(tokens, masked_tokens=ember.tensor(real)).shape) == (int(real.sum()), cfg["embedding_dim"])


def test_roberta_reads_torchtext_old_layer_names():
    cfg = json.loads((FIXTURES / "roberta_keys.json").read_text())["config"]
    src, dst = _roberta(cfg), _roberta(cfg)
    old = {}
    renames = {"self_attn.in_proj_weight": "attention.input_projection.weight", "linear1.weight": "residual_mlp.mlp.0.weight",
               "norm2.bias": "final_layer_norm.bias"}
    for k, v in src.state_dict().items():
        for new, legacy in renames.items():
            if ".layers.layers." in k and k.endswith(new):
                k = k.replace("layers.layers.", "layers.").replace(new, legacy)
        old[k] = v
    assert any("input_projection" in k for k in old)
    dst.load_state_dict(old)
    for k, v in src.state_dict().items():
        np.testing.assert_array_equal(dst.state_dict()[k].numpy(), v.numpy())


def test_roberta_positions_and_freeze():
    pos = models.roberta.modules.PositionalEmbedding(10, 4, pad_index=1)
    tokens = ember.tensor([[0, 5, 7, 1, 1], [0, 5, 7, 8, 2]])
    keep = (tokens.numpy() != 1).astype(np.int64)
    expected = np.cumsum(keep, 1) * keep + 1
    np.testing.assert_array_equal(pos(tokens).detach().numpy(), pos.embedding.weight.detach().numpy()[expected])
    assert pos.max_positions() == 8
    conf = models.RobertaEncoderConf(vocab_size=20, embedding_dim=8, ffn_dimension=16, num_attention_heads=2,
                                     num_encoder_layers=1, max_seq_len=12)
    frozen = models.RobertaModel(conf, freeze_encoder=True)
    assert not any(p.requires_grad for p in frozen.parameters())
    with pytest.raises(TypeError, match="RobertaEncoderConf"):
        models.RobertaModel({"vocab_size": 3})
