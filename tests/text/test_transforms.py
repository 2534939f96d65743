from collections import OrderedDict

import numpy as np
import pytest

import ember
import embertext.functional as F
import embertext.transforms as T
from embertext.vocab import vocab


def _vocab():
    return vocab(OrderedDict([("a", 1), ("b", 1), ("c", 1)]))


def test_vocab_transform():
    t = T.VocabTransform(_vocab())
    assert isinstance(t, ember.nn.Module)
    assert t(["a", "c"]) == [0, 2]
    assert t([["a", "b"], ["a", "b", "c"]]) == [[0, 1], [0, 1, 2]]
    with pytest.raises(TypeError, match="Input type not supported"):
        t("abc")
    with pytest.raises(RuntimeError, match="Token z not found"):
        t([["z"]])
    with pytest.raises(TypeError, match="expects an embertext.vocab.Vocab"):
        T.VocabTransform({"a": 0})


def test_to_tensor():
    x = F.to_tensor([1, 2, 3])
    assert x.dtype == ember.long and x.tolist() == [1, 2, 3]
    x = F.to_tensor([[1, 2], [3, 4]])
    assert x.shape == (2, 2)
    x = T.ToTensor(padding_value=0)([[1, 2, 3], [4], []])
    assert x.tolist() == [[1, 2, 3], [4, 0, 0], [0, 0, 0]] and x.dtype == ember.long
    x = T.ToTensor(padding_value=-1, dtype=ember.float32)([[1], [2, 3]])
    assert x.dtype == ember.float32 and x.tolist() == [[1.0, -1.0], [2.0, 3.0]]
    assert F.to_tensor([1], dtype=ember.int32).dtype == ember.int32
    assert F.to_tensor([]).shape == (0,)
    with pytest.raises(TypeError, match="Input type not supported"):
        F.to_tensor(["a"])
    with pytest.raises(TypeError, match="Input type not supported"):
        F.to_tensor([[1], ["a"]])
    with pytest.raises((ValueError, RuntimeError)):
        F.to_tensor([[1, 2], [3]])  # ragged without padding_value


def test_truncate():
    assert T.Truncate(2)([1, 2, 3]) == [1, 2]
    assert T.Truncate(2)(["a", "b", "c"]) == ["a", "b"]
    assert F.truncate([[1, 2, 3], [4]], 2) == [[1, 2], [4]]
    assert F.truncate([["a", "b", "c"], []], 1) == [["a"], []]
    with pytest.raises(TypeError, match="Input type not supported"):
        F.truncate("abc", 2)


def test_add_token():
    assert T.AddToken(0)([1, 2]) == [0, 1, 2]
    assert T.AddToken(9, begin=False)([[1], [2, 3]]) == [[1, 9], [2, 3, 9]]
    assert F.add_token(["a"], "<s>") == ["<s>", "a"]
    assert F.add_token([["a"], []], "</s>", begin=False) == [["a", "</s>"], ["</s>"]]
    with pytest.raises(TypeError, match="Input type not supported"):
        F.add_token([1, 2], "<s>")  # token type must match the items


def test_pad_transform():
    p = T.PadTransform(max_length=4, pad_value=7)
    assert p(ember.tensor([1, 2])).tolist() == [1, 2, 7, 7]
    assert p(ember.tensor([[1, 2, 3]])).tolist() == [[1, 2, 3, 7]]
    assert p(ember.tensor([1, 2, 3, 4, 5])).tolist() == [1, 2, 3, 4, 5]


def test_label_to_index(tmp_path):
    t = T.LabelToIndex(["pos", "neg"])
    assert t("neg") == 1 and t(["neg", "pos"]) == [1, 0]
    assert t.label_names == ["pos", "neg"]
    assert T.LabelToIndex(["pos", "neg"], sort_names=True).label_names == ["neg", "pos"]
    path = tmp_path / "labels.txt"
    path.write_text("b\n\na\n")
    assert T.LabelToIndex(label_path=str(path)).label_names == ["b", "a"]
    with pytest.raises(RuntimeError, match="Token neutral not found"):
        t("neutral")
    with pytest.raises(AssertionError, match="required"):
        T.LabelToIndex()
    with pytest.raises(AssertionError, match="mutually exclusive"):
        T.LabelToIndex(["a"], label_path=str(path))


def test_str_to_int():
    assert T.StrToIntTransform()(["1", "22"]) == [1, 22]
    assert F.str_to_int([["1"], ["2", "3"]]) == [[1], [2, 3]]
    with pytest.raises(TypeError, match="Input type not supported"):
        F.str_to_int([1])


def test_sequential_pipeline():
    pipe = T.Sequential(T.VocabTransform(_vocab()), T.Truncate(2), T.AddToken(3, begin=True),
                        T.ToTensor(padding_value=4))
    out = pipe([["a", "b", "c"], ["c"]])
    np.testing.assert_array_equal(out.numpy(), [[3, 0, 1], [3, 2, 4]])
    assert isinstance(pipe, ember.nn.Sequential) and len(pipe) == 4


def test_gpt2_bpe_tokenizer_transform(tmp_path):
    import json

    from embertext.tokenizers import BPETokenizer

    tok = BPETokenizer().train(["the film is a lovely film", "a lovely day"] * 3, vocab_size=280, min_frequency=1)
    (tmp_path / "encoder.json").write_text(json.dumps(tok._vocab), encoding="utf-8")
    (tmp_path / "vocab.bpe").write_text("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in tok.merges),
                                        encoding="utf-8")
    t = T.GPT2BPETokenizer(str(tmp_path / "encoder.json"), str(tmp_path / "vocab.bpe"))
    ids = [str(i) for i in tok.encode("a lovely film").ids]
    assert t("a lovely film") == ids and t(["a lovely film", "the"]) == [ids, [str(tok.token_to_id("the"))]]
    t = T.GPT2BPETokenizer(str(tmp_path / "encoder.json"), str(tmp_path / "vocab.bpe"), return_tokens=True)
    assert t("a lovely film") == ["a", "Ġlovely", "Ġfilm"]
    assert t.add_special_tokens({"eos_token": "<|endoftext|>"}) == 1
    assert t(" film<|endoftext|>") == ["Ġfilm", "<|endoftext|>"]
    with pytest.raises(AssertionError, match="not in the special token list"):
        t.add_special_tokens({"eos": "x"})
    with pytest.raises(TypeError, match="Input type not supported"):
        t(3)


def test_bert_tokenizer_transform(tmp_path):
    (tmp_path / "vocab.txt").write_text("\n".join(
        ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello", "world", ",", "how", "are", "you", "!", "hel", "##lo"]) + "\n",
        encoding="utf-8")
    t = T.BERTTokenizer(str(tmp_path / "vocab.txt"), return_tokens=True)
    assert t("  Hello World, How are you!  ") == ["hello", "world", ",", "how", "are", "you", "!"]
    assert t(["Hello World", "How are you!"]) == [["hello", "world"], ["how", "are", "you", "!"]]
    ids = T.BERTTokenizer(str(tmp_path / "vocab.txt"))("Hello you")
    assert ids == ["4", "9"]
    cased = T.BERTTokenizer(str(tmp_path / "vocab.txt"), do_lower_case=False, return_tokens=True)
    assert cased("Hello hello") == ["[UNK]", "hello"]
    with pytest.raises(NotImplementedError, match="never_split"):
        T.BERTTokenizer(str(tmp_path / "vocab.txt"), never_split=["[X]"])
