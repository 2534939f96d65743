"""WordPiece: encoding and tokenizer.json / vocab.txt reading checked against Hugging Face ``tokenizers``
(fixtures recorded by fixtures/record_tokenizers.py), training, hand-checked cases and bad input."""

import json
import pathlib

import pytest

from embertext.tokenizers import BertNormalizer, BPETokenizer, WordPieceTokenizer, load

FIX = pathlib.Path(__file__).parent / "fixtures"
REF = json.loads((FIX / "tokenizers_ref.json").read_text(encoding="utf-8"))


def _as_dict(e):
    return {"ids": e.ids, "tokens": e.tokens, "offsets": [list(o) for o in e.offsets],
            "attention_mask": e.attention_mask, "special_tokens_mask": e.special_tokens_mask}


def _hf():
    return WordPieceTokenizer.from_file(FIX / "hf_wordpiece.json")


def test_encode_and_decode_match_hugging_face():
    tok = _hf()
    for text, want in zip(REF["probes"], REF["wordpiece"]["encodings"]):
        assert _as_dict(tok.encode(text)) == want, text
    for text, want in zip(REF["probes"], REF["wordpiece"]["decoded"]):
        assert tok.decode(tok.encode(text).ids) == want, text
    assert [_as_dict(e) for e in tok.encode_batch(REF["probes"])] == REF["wordpiece"]["encodings"]


def test_truncation_and_padding_match_hugging_face():
    tok = _hf()
    encs = tok.encode_batch(["the film", REF["probes"][1], "a"], max_length=6, padding=True)
    got = [{"ids": e.ids, "tokens": e.tokens, "offsets": [list(o) for o in e.offsets],
            "attention_mask": e.attention_mask} for e in encs]
    assert got == REF["wordpiece"]["batch_truncated_padded"]
    with pytest.raises(ValueError, match="max_length=1 leaves no room: 2 special tokens"):
        tok.encode("the film", max_length=1)
    assert tok.encode("the film", max_length=1, add_special_tokens=False).tokens == ["the"]


def test_hand_checked_greedy_longest_match():
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##aff", "##able", "##a", "a", "runn", "##ing", ","]
    tok = WordPieceTokenizer(vocab)
    e = tok.encode("UnAffable, running")
    assert e.tokens == ["[CLS]", "un", "##aff", "##able", ",", "runn", "##ing", "[SEP]"]
    assert e.ids == [2, 4, 5, 6, 11, 9, 10, 3]
    assert e.offsets == [(0, 0), (0, 2), (2, 5), (5, 9), (9, 10), (11, 15), (15, 18), (0, 0)]
    assert e.special_tokens_mask == [1, 0, 0, 0, 0, 0, 0, 1]
    # a word with a piece missing from the vocab becomes one [UNK] spanning the whole word
    e = tok.encode("unx", add_special_tokens=False)
    assert e.tokens == ["[UNK]"] and e.offsets == [(0, 3)]
    # longer than max_input_chars_per_word -> [UNK]
    tok2 = WordPieceTokenizer(vocab, max_input_chars_per_word=3)
    assert tok2.tokenize("runn") == ["[UNK]"]
    assert tok.decode(tok.encode("unaffable, running").ids) == "unaffable, running"
    assert tok.decode([4, 5], skip_special_tokens=False) == "unaff"


def test_normalizer_alignment():
    norm = BertNormalizer()
    assert norm("Héllo\tWORLD") == ("hello world", [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    assert norm("ABC") == ("abc", None)
    text, align = norm("a\x00中")
    assert text == "a 中 " and align == [0, 2, 2, 2]
    assert BertNormalizer(lowercase=False)("Héllo")[0] == "Héllo"
    assert BertNormalizer(lowercase=False, strip_accents=True)("Héllo")[0] == "Hello"
    tok = WordPieceTokenizer(["[UNK]", "cafe", "中"])
    e = tok.encode("Café中")
    assert e.tokens == ["cafe", "中"] and e.offsets == [(0, 4), (4, 5)]


def test_train_builds_a_usable_vocab():
    tok = WordPieceTokenizer().train(REF["corpus"], vocab_size=150, min_frequency=2)
    vocab = tok.get_vocab()
    assert [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])][:5] == [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    assert len(vocab) == 150
    assert any(t.startswith("##") for t in vocab) and "film" in vocab
    e = tok.encode("the film is charming")
    assert e.tokens[0] == "[CLS]" and e.tokens[-1] == "[SEP]" and "[UNK]" not in e.tokens
    assert tok.decode(e.ids) == "the film is charming"
    # deterministic
    again = WordPieceTokenizer().train(REF["corpus"], vocab_size=150, min_frequency=2)
    assert again.get_vocab() == vocab


def test_save_load_and_vocab_txt_round_trip(tmp_path):
    tok = WordPieceTokenizer().train(REF["corpus"], vocab_size=150)
    tok.save(tmp_path / "tokenizer.json")
    back = load(tmp_path / "tokenizer.json")
    assert isinstance(back, WordPieceTokenizer) and back.get_vocab() == tok.get_vocab()
    for text in REF["probes"]:
        assert back.encode(text) == tok.encode(text)
    tok.save_vocab(tmp_path / "vocab.txt")
    from_txt = WordPieceTokenizer.from_vocab_file(tmp_path / "vocab.txt")
    assert from_txt.encode("the film , it's").ids == tok.encode("the film , it's").ids
    v = tok.to_vocab()
    assert v.get_default_index() == tok.token_to_id("[UNK]") and v["no-such-token"] == 1


def test_bad_files(tmp_path):
    with pytest.raises(ValueError, match="holds a BPE model, not a WordPiece one"):
        WordPieceTokenizer.from_file(FIX / "hf_bpe.json")
    (tmp_path / "merges.txt").write_text("#version: 0.2\na b\n", encoding="utf-8")
    with pytest.raises(ValueError, match="looks like a BPE merges.txt"):
        WordPieceTokenizer.from_vocab_file(tmp_path / "merges.txt")
    with pytest.raises(ValueError, match="looks like JSON, not a WordPiece vocab.txt"):
        WordPieceTokenizer.from_vocab_file(FIX / "hf_bpe.json")
    (tmp_path / "dup.txt").write_text("a\nb\na\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 3: token 'a' already appeared on line 1"):
        WordPieceTokenizer.from_vocab_file(tmp_path / "dup.txt")
    text = (FIX / "hf_wordpiece.json").read_text(encoding="utf-8")
    (tmp_path / "cut.json").write_text(text[:-40], encoding="utf-8")
    with pytest.raises(ValueError, match="cut.json: not a valid tokenizer.json"):
        WordPieceTokenizer.from_file(tmp_path / "cut.json")
    data = json.loads(text)
    data["normalizer"] = {"type": "Precompiled"}
    (tmp_path / "pre.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(NotImplementedError, match="normalizer 'Precompiled'"):
        load(tmp_path / "pre.json")
    data = json.loads(text)
    data["model"]["vocab"] = ["not", "a", "dict"]
    (tmp_path / "v.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match="model.vocab must be a JSON object"):
        load(tmp_path / "v.json")
    assert isinstance(load(FIX / "hf_bpe.json"), BPETokenizer)


def test_bad_text_and_empty():
    tok = _hf()
    with pytest.raises(TypeError, match="got bytes"):
        tok.encode(b"abc")
    e = tok.encode("")
    assert e.tokens == ["[CLS]", "[SEP]"]
    assert tok.encode(" \t\n ").tokens == ["[CLS]", "[SEP]"]
    with pytest.raises(ValueError, match="unknown pre-tokenizer"):
        tok.set_pre_tokenizer("Spaces")


def test_template_processing_file(tmp_path):
    data = json.loads((FIX / "hf_wordpiece.json").read_text(encoding="utf-8"))
    data["post_processor"] = {  # as tokenizers 0.23 writes TemplateProcessing("[CLS] $A [SEP]", ...)
        "type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                   {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
        "pair": [],
        "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                           "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}}
    (tmp_path / "t.json").write_text(json.dumps(data), encoding="utf-8")
    tok = load(tmp_path / "t.json")
    e = tok.encode("Hello, World! It's 2024.")
    assert e.tokens == ["[CLS]", "hell", "##o", ",", "world", "!", "it", "'", "s", "2", "##0", "##2", "##4", ".",
                        "[SEP]"]
    assert e.offsets == [(0, 0), (0, 4), (4, 5), (5, 6), (7, 12), (12, 13), (14, 16), (16, 17), (17, 18), (19, 20),
                         (20, 21), (21, 22), (22, 23), (23, 24), (0, 0)]
    tok.save(tmp_path / "again.json")
    assert json.loads((tmp_path / "again.json").read_text(encoding="utf-8"))["post_processor"] == data["post_processor"]
