"""Byte-level BPE: training, encoding and tokenizer.json reading checked against Hugging Face ``tokenizers``
(fixtures recorded by fixtures/record_tokenizers.py), plus hand-checked cases and bad input."""

import json
import pathlib

import pytest

from embertext.tokenizers import BPETokenizer, Encoding, WordPieceTokenizer, load

FIX = pathlib.Path(__file__).parent / "fixtures"
REF = json.loads((FIX / "tokenizers_ref.json").read_text(encoding="utf-8"))


def _as_dict(e: Encoding):
    return {"ids": e.ids, "tokens": e.tokens, "offsets": [list(o) for o in e.offsets],
            "attention_mask": e.attention_mask, "special_tokens_mask": e.special_tokens_mask}


def _trained():
    return BPETokenizer().train(REF["corpus"], **REF["bpe"]["train"])


def test_training_matches_hugging_face_exactly():
    hf = json.loads((FIX / "hf_bpe.json").read_text(encoding="utf-8"))["model"]
    tok = _trained()
    assert tok.get_vocab() == hf["vocab"]
    assert [list(m) for m in tok.merges] == hf["merges"]
    assert tok.token_to_id("<pad>") == 0 and tok.token_to_id("<unk>") == 1


@pytest.mark.parametrize("source", ["trained", "file"])
def test_encode_matches_hugging_face(source):
    tok = _trained() if source == "trained" else BPETokenizer.from_file(FIX / "hf_bpe.json")
    for text, want in zip(REF["probes"], REF["bpe"]["encodings"]):
        assert _as_dict(tok.encode(text)) == want, text
    for text, want in zip(REF["probes"], REF["bpe"]["decoded"]):
        assert tok.decode(tok.encode(text).ids) == want


def test_roberta_style_file_prefix_space_trimmed_offsets_and_template():
    tok = load(FIX / "hf_roberta_style.json")
    assert isinstance(tok, BPETokenizer) and tok.add_prefix_space and tok.trim_offsets
    for text, want in zip(REF["probes"], REF["roberta_style"]["encodings"]):
        assert _as_dict(tok.encode(text)) == want, text
    e = tok.encode("the film", add_special_tokens=False)
    assert "<s>" not in e.tokens


def test_byte_level_round_trip_any_text():
    tok = _trained()
    for text in ["", "plain", "  spaces  ", "naïve 東京 🎉\n\t!", "\x00\x01 control", "a" * 500]:
        assert tok.decode(tok.encode(text).ids) == text
    e = tok.encode("🎉")  # one character, four bytes: every piece points at the whole character
    assert all(o == (0, 1) for o in e.offsets) and len(e.ids) >= 1


def test_hand_checked_small_training():
    # counts: "ab" x3 and "abc" x1 -> (a, b) merged first (4), then (ab, c) (1) if min_frequency allows
    tok = BPETokenizer().train(["ab ab ab", "abc"], vocab_size=256 + 2, min_frequency=1)
    assert tok.merges[0] == ("a", "b")
    assert tok.get_vocab_size() == 258
    assert tok.tokenize("ab") == ["ab"]
    tok = BPETokenizer().train(["ab ab ab", "abc"], vocab_size=1000, min_frequency=2)
    assert ("ab", "c") not in tok.merges  # seen once only


def test_truncation_padding_and_batch():
    tok = _trained()
    e = tok.encode("the film is a charming comedy", max_length=3)
    assert len(e) == 3
    encs = tok.encode_batch(["the film", "a", "an utterly forgettable movie"], padding=True)
    n = max(len(x) for x in encs)
    assert all(len(x) == n for x in encs)
    short = encs[1]
    assert short.attention_mask[-1] == 0 and short.ids[-1] == tok.token_to_id("<pad>")
    assert short.offsets[-1] == (0, 0) and short.special_tokens_mask[-1] == 1
    e = tok.encode("a", max_length=5, padding="max_length")
    assert len(e) == 5 and sum(e.attention_mask) == 1
    with pytest.raises(ValueError, match="padding='max_length' needs max_length"):
        tok.encode_batch(["a"], padding="max_length")
    with pytest.raises(ValueError, match="padding must be"):
        tok.encode("a", padding="sideways")
    with pytest.raises(TypeError, match="single text"):
        tok.encode_batch("not a list")


def test_special_tokens_in_text_and_decode():
    tok = _trained()
    e = tok.encode("the<pad>film")
    assert e.tokens[1] == "<pad>" and e.offsets[1] == (3, 8)
    assert tok.decode(e.ids) == "thefilm"
    assert tok.decode(e.ids, skip_special_tokens=False) == "the<pad>film"
    with pytest.raises(ValueError, match="id 99999 is not in the vocabulary"):
        tok.decode([99999])
    assert tok.add_special_tokens(["<mask>"]) == 1
    assert tok.token_to_id("<mask>") == 400 and tok.encode("x<mask>").tokens[-1] == "<mask>"


def test_save_load_round_trip(tmp_path):
    tok = _trained()
    tok.add_special_tokens(["<s>"])
    path = tmp_path / "tokenizer.json"
    tok.save(path)
    back = BPETokenizer.from_file(path)
    assert back.get_vocab() == tok.get_vocab() and back.merges == tok.merges
    for text in REF["probes"]:
        assert back.encode(text) == tok.encode(text)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["model"]["type"] == "BPE" and data["pre_tokenizer"]["type"] == "ByteLevel"


def test_gpt2_style_vocab_and_merges_files(tmp_path):
    tok = _trained()
    (tmp_path / "vocab.json").write_text(json.dumps(tok._vocab), encoding="utf-8")
    (tmp_path / "merges.txt").write_text("#version: 0.2\n" + "\n".join(f"{a} {b}" for a, b in tok.merges) + "\n",
                                         encoding="utf-8")
    back = BPETokenizer.from_files(tmp_path / "vocab.json", tmp_path / "merges.txt")
    assert back.encode("the film is charming").ids == tok.encode("the film is charming").ids
    (tmp_path / "bad_merges.txt").write_text("a b c\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 1: expected 'left right'"):
        BPETokenizer.from_files(tmp_path / "vocab.json", tmp_path / "bad_merges.txt")
    (tmp_path / "vocab.txt").write_text("[PAD]\n[UNK]\nthe\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not a BPE vocab.json.*vocab.txt"):
        BPETokenizer.from_files(tmp_path / "vocab.txt", tmp_path / "merges.txt")


def test_legacy_string_merges(tmp_path):
    data = json.loads((FIX / "hf_bpe.json").read_text(encoding="utf-8"))
    data["model"]["merges"] = [" ".join(m) for m in data["model"]["merges"]]  # files of tokenizers < 0.20
    del data["model"]["type"]
    (tmp_path / "old.json").write_text(json.dumps(data), encoding="utf-8")
    tok = load(tmp_path / "old.json")
    assert isinstance(tok, BPETokenizer)
    for text, want in zip(REF["probes"], REF["bpe"]["encodings"]):
        assert _as_dict(tok.encode(text)) == want
    data["model"]["merges"][3] = "abc"
    (tmp_path / "bad.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match="bad.json: merge 3 \\('abc'\\) is not two tokens"):
        load(tmp_path / "bad.json")


def test_bad_files(tmp_path):
    text = (FIX / "hf_bpe.json").read_text(encoding="utf-8")
    (tmp_path / "trunc.json").write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(ValueError, match="trunc.json: not a valid tokenizer.json"):
        load(tmp_path / "trunc.json")
    (tmp_path / "vocab.json").write_text('{"a": 0, "b": 1}', encoding="utf-8")
    with pytest.raises(ValueError, match="this is a vocab.json"):
        BPETokenizer.from_file(tmp_path / "vocab.json")
    (tmp_path / "vocab.txt").write_text("[PAD]\n[UNK]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="WordPiece vocab.txt"):
        load(tmp_path / "vocab.txt")
    with pytest.raises(ValueError, match="holds a WordPiece model, not a BPE one"):
        BPETokenizer.from_file(FIX / "hf_wordpiece.json")
    data = json.loads(text)
    data["model"]["type"] = "Unigram"
    (tmp_path / "uni.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(NotImplementedError, match="model type 'Unigram' is not supported"):
        load(tmp_path / "uni.json")
    data["model"]["type"] = "BPE"
    data["pre_tokenizer"] = {"type": "Metaspace"}
    (tmp_path / "meta.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(NotImplementedError, match="'Metaspace'"):
        load(tmp_path / "meta.json")
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ValueError, match="not UTF-8"):
        load(tmp_path / "bin.json")
    assert isinstance(load(FIX / "hf_wordpiece.json"), WordPieceTokenizer)


def test_bad_text():
    tok = _trained()
    with pytest.raises(TypeError, match="got bytes: decode it first"):
        tok.encode(b"caf\xe9")
    with pytest.raises(TypeError, match=r"texts\[1\] must be a str, got int"):
        tok.encode_batch(["ok", 3])
    with pytest.raises(ValueError, match="lone surrogate"):
        tok.encode("bad \udce9 byte")
    assert tok.encode("").ids == []


def test_to_vocab_and_tokenize_callable():
    tok = _trained()
    v = tok.to_vocab()
    assert len(v) == tok.get_vocab_size() and v["<pad>"] == 0
    assert tok("the film") == tok.tokenize("the film") == tok.encode("the film").tokens


def test_sst2_dev_round_trip(shared_datasets):
    path = shared_datasets / "SST2" / "dev.tsv"
    if not path.exists():
        pytest.skip("SST2/dev.tsv missing")
    lines = [line.split("\t")[0] for line in path.read_text(encoding="utf-8").splitlines()[1:]]
    tok = BPETokenizer().train(lines, vocab_size=1000)
    encs = tok.encode_batch(lines)
    assert len(encs) == len(lines) == 872
    assert tok.decode_batch([e.ids for e in encs]) == lines
    # batch and one-by-one encodings agree, and offsets point at the text of each token
    for text, e in zip(lines[:50], encs[:50]):
        assert tok.encode(text) == e
        if text.isascii():  # (a character split over two tokens is the span of both)
            assert "".join(text[a:b] for a, b in e.offsets) == text
