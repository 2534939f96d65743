import copy
import io
from collections import OrderedDict

import pytest

import ember
import ember.nn as nn
from embertext.vocab import Vocab, build_vocab_from_iterator, vocab


def test_vocab_factory_keeps_order_and_min_freq():
    od = OrderedDict([("c", 3), ("a", 1), ("b", 2), ("<unk>", 9)])
    v = vocab(od, min_freq=2, specials=["<unk>", "<pad>"])
    assert v.get_itos() == ["<unk>", "<pad>", "c", "b"]
    assert "<unk>" not in od  # specials are removed from the mapping, as torchtext does
    v = vocab(OrderedDict([("x", 1), ("y", 1)]), specials=["<s>"], special_first=False)
    assert v.get_itos() == ["x", "y", "<s>"]
    assert vocab(OrderedDict()).get_itos() == []


def test_build_vocab_order_tie_break_lexicographic():
    it = [["b", "a", "b", "c"], ["d", "c", "a", "b"], ["e"]]
    # counts: b3 a2 c2 d1 e1 -> by -count then token
    v = build_vocab_from_iterator(iter(it))
    assert v.get_itos() == ["b", "a", "c", "d", "e"]
    v = build_vocab_from_iterator(it, min_freq=2, specials=["<unk>", "<pad>"])
    assert v.get_itos() == ["<unk>", "<pad>", "b", "a", "c"]
    v = build_vocab_from_iterator(it, specials=["<unk>"], special_first=False, max_tokens=3)
    assert v.get_itos() == ["b", "a", "<unk>"]
    # a special present in the data takes a max_tokens slot and then moves, as torchtext does
    v = build_vocab_from_iterator([["<unk>"] * 5, ["a", "a", "b"]], specials=["<unk>"], max_tokens=3)
    assert v.get_itos() == ["<unk>", "a"]
    with pytest.raises(AssertionError, match="entirely special tokens"):
        build_vocab_from_iterator(it, specials=["<unk>"], max_tokens=1)
    with pytest.raises(TypeError, match="yielded a str"):
        build_vocab_from_iterator(["hello world"])


def test_lookups_and_default_index():
    v = build_vocab_from_iterator([["a", "b", "b"]], specials=["<unk>"])
    assert isinstance(v, nn.Module)
    assert len(v) == 3 and "b" in v and "z" not in v
    assert v["b"] == 1 and v["a"] == 2
    assert v.get_default_index() is None
    with pytest.raises(RuntimeError, match="Token zebra not found and default index is not set"):
        v["zebra"]
    with pytest.raises(RuntimeError, match="Token zebra not found"):
        v(["a", "zebra"])
    v.set_default_index(v["<unk>"])
    assert v.get_default_index() == 0
    assert v(["b", "zebra", "a"]) == [1, 0, 2] == v.lookup_indices(["b", "zebra", "a"])
    assert v.forward([]) == []
    v.set_default_index(-1)
    assert v["zebra"] == -1
    v.set_default_index(None)
    with pytest.raises(RuntimeError):
        v["zebra"]
    assert v.lookup_token(1) == "b"
    assert v.lookup_tokens([2, 0]) == ["a", "<unk>"]
    with pytest.raises(RuntimeError, match="Specified index 3 is out of bounds for vocab of size 3"):
        v.lookup_token(3)
    with pytest.raises(RuntimeError, match="Specified index -1 at position 1 is out of bounds"):
        v.lookup_tokens([0, -1])
    stoi = v.get_stoi()
    assert stoi == {"<unk>": 0, "b": 1, "a": 2}
    stoi["x"] = 5  # a copy
    itos = v.get_itos()
    itos.append("x")
    assert len(v) == 3 and "x" not in v


def test_append_and_insert():
    v = Vocab(["a", "b", "c"])
    v.append_token("d")
    assert v.get_itos() == ["a", "b", "c", "d"] and v["d"] == 3
    with pytest.raises(RuntimeError, match="Token a already exists in the Vocab with index: 0"):
        v.append_token("a")
    v.insert_token("x", 1)
    assert v.get_itos() == ["a", "x", "b", "c", "d"]
    assert [v[t] for t in v.get_itos()] == [0, 1, 2, 3, 4]
    v.insert_token("end", 5)
    assert v["end"] == 5
    with pytest.raises(RuntimeError, match="Specified index 7 is out of bounds for vocab of size 6"):
        v.insert_token("y", 7)
    with pytest.raises(RuntimeError, match="Token b already exists"):
        v.insert_token("b", 0)
    with pytest.raises(RuntimeError, match="Duplicate token found in tokens list: a"):
        Vocab(["a", "a"])
    with pytest.raises(TypeError, match="iterable of tokens"):
        Vocab("abc")
    with pytest.raises(TypeError, match="default index must be an int"):
        v.set_default_index("0")


def test_copy_constructor():
    v = Vocab(["a", "b"])
    v.set_default_index(1)
    w = Vocab(v)
    w.append_token("c")
    assert w.get_default_index() == 1 and len(v) == 2 and len(w) == 3


def _roundtrip(obj):
    buf = io.BytesIO()
    ember.save(obj, buf)
    buf.seek(0)
    return ember.load(buf)


def test_save_load_with_ember_save():
    v = build_vocab_from_iterator([["héllo", "wörld", "wörld"]], specials=["<unk>", "<pad>"])
    v.set_default_index(0)
    sd = v.state_dict()
    assert list(sd) == ["_extra_state"]
    w = Vocab.from_state_dict(_roundtrip(sd))
    assert w.get_itos() == v.get_itos() and w.get_default_index() == 0
    assert w["missing"] == 0
    u = Vocab()
    u.load_state_dict(_roundtrip(v.state_dict()))
    assert u.get_stoi() == v.get_stoi()


def test_vocab_inside_a_model_state_dict():
    class M(nn.Module):
        def __init__(self, v):
            super().__init__()
            self.vocab = v
            self.emb = nn.Embedding(max(len(v), 1), 2)

    m = M(Vocab(["a", "b", "c"]))
    sd = m.state_dict()
    assert list(sd) == ["vocab._extra_state", "emb.weight"]
    m2 = M(Vocab(["a", "b", "c"]))
    m2.vocab = Vocab()
    m2.load_state_dict(_roundtrip(sd))
    assert m2.vocab.get_itos() == ["a", "b", "c"]
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "vocab._extra_state"'):
        m2.load_state_dict({"emb.weight": sd["emb.weight"]})
    with pytest.raises(RuntimeError, match="'itos' list"):
        Vocab().load_state_dict({"_extra_state": [1, 2]})


def test_ember_save_and_load_a_vocab_object_with_weights_only():
    v = build_vocab_from_iterator([["héllo", "wörld", "wörld"]], specials=["<unk>", "<pad>"])
    v.set_default_index(0)
    w = _roundtrip({"vocab": v, "epoch": 3})["vocab"]  # the default weights_only=True load
    assert isinstance(w, Vocab) and w is not v
    assert w.get_itos() == v.get_itos() and w.get_default_index() == 0 and w["missing"] == 0
    assert copy.deepcopy(v).get_stoi() == v.get_stoi()
    assert ember.serialization.get_safe_globals() == []  # the user's allowlist is untouched


def test_a_saved_vocab_is_checked_when_rebuilt():
    from embertext.vocab.vocab import _rebuild_vocab

    class Forged:
        def __reduce__(self):
            return _rebuild_vocab, (["a", "a"], None)

    with pytest.raises(RuntimeError, match="Duplicate token found in tokens list: a"):
        _roundtrip(Forged())
    with pytest.raises(TypeError, match="default index must be an int or None, got str"):
        _rebuild_vocab(["a"], "0")
