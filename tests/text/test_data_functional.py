import math

import pytest

from ember.utils.data import DataLoader, Dataset
from embertext.data import (bleu_score, custom_replace, numericalize_tokens_from_iterator, simple_space_split,
                            to_map_style_dataset)
from embertext.vocab import Vocab


def test_bleu_torchtext_docstring_value():
    cand = [["My", "full", "pytorch", "test"], ["Another", "Sentence"]]
    refs = [[["My", "full", "pytorch", "test"], ["Completely", "Different"]], [["No", "Match"]]]
    assert bleu_score(cand, refs) == 0.8408964276313782  # the value torchtext documents (float32 score)


def test_bleu_hand_computed():
    # p1 = 3/3, candidate 3 tokens vs closest reference 6 -> brevity penalty exp(1 - 6/3)
    assert bleu_score([["a", "b", "c"]], [[list("abcdef")]], max_n=1, weights=[1.0]) == pytest.approx(
        math.exp(-1), rel=1e-7)
    # clipped unigrams 2/4, bigrams 1/3 -> sqrt(1/2 * 1/3); candidate longer than the reference: no penalty
    got = bleu_score([["the", "cat", "the", "cat"]], [[["the", "cat"]]], max_n=2, weights=[0.5, 0.5])
    assert got == pytest.approx(math.sqrt(1 / 6), rel=1e-7)
    assert bleu_score([["x", "y"]], [[["a", "b"]]]) == 0.0
    with pytest.raises(AssertionError, match="weights"):
        bleu_score([["a"]], [[["a"]]], max_n=2)
    with pytest.raises(AssertionError, match="same"):
        bleu_score([["a"]], [])


def test_custom_replace_and_space_split():
    f = custom_replace([(r"S", "s"), (r"\s+", " ")])
    assert list(f(["Sentencepiece  encode\tas", "Same"])) == ["sentencepiece encode as", "same"]
    assert list(simple_space_split(["a b  c", ""])) == [["a", "b", "c"], []]


def test_numericalize_tokens_from_iterator():
    v = Vocab(["<unk>", "a", "b"])
    v.set_default_index(0)
    out = [list(ids) for ids in numericalize_tokens_from_iterator(v, [["a", "b", "z"], ["b"]])]
    assert out == [[1, 2, 0], [2]]
    out = [list(ids) for ids in numericalize_tokens_from_iterator(v, [["a", "b", "z"]], removed_tokens=["b"])]
    assert out == [[1, 0]]


def test_to_map_style_dataset():
    ds = to_map_style_dataset(iter([(1, "good"), (0, "bad"), (1, "fine")]))
    assert isinstance(ds, Dataset) and len(ds) == 3 and ds[1] == (0, "bad")
    batches = list(DataLoader(ds, batch_size=2, collate_fn=list))
    assert batches == [[(1, "good"), (0, "bad")], [(1, "fine")]]
