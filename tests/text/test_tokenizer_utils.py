import pytest

from embertext.data import get_tokenizer, interleave_keys, ngrams_iterator
from embertext.data.utils import get_tokenizer as get_tokenizer_from_utils


def test_none_is_str_split():
    tok = get_tokenizer(None)
    assert tok("  a b\tc\n") == ["a", "b", "c"]
    assert tok("") == []


def test_basic_english_docstring_example():
    tok = get_tokenizer("basic_english")
    assert tok("You can now install TorchText using pip!") == [
        "you", "can", "now", "install", "torchtext", "using", "pip", "!"]


@pytest.mark.parametrize("text, tokens", [
    # apostrophe spaced out, double quote dropped
    ("Don't say \"hi\".", ["don", "'", "t", "say", "hi", "."]),
    # <br /> and ; and : become spaces
    ("one<br />two;three:four", ["one", "two", "three", "four"]),
    ("(a,b)!?", ["(", "a", ",", "b", ")", "!", "?"]),
    # other punctuation is left glued to the word
    ("it's 5-star & $10 ...", ["it", "'", "s", "5-star", "&", "$10", ".", ".", "."]),
    ("", []),
    ("   \t ", []),
    ("ÉCOLE Été", ["école", "été"]),
])
def test_basic_english_rules(text, tokens):
    assert get_tokenizer("basic_english")(text) == tokens


def test_basic_english_language_and_types():
    with pytest.raises(ValueError, match="only available for Enlish"):
        get_tokenizer("basic_english", language="fr")
    with pytest.raises(TypeError, match="expects a str, got bytes"):
        get_tokenizer("basic_english")(b"abc")


def test_callable_and_unknown():
    f = lambda s: list(s)  # noqa: E731
    assert get_tokenizer(f) is f
    assert get_tokenizer_from_utils is get_tokenizer
    with pytest.raises(ValueError, match="Requested tokenizer 'nope'"):
        get_tokenizer("nope")
    with pytest.raises(ValueError, match="'spacy' needs a third-party library"):
        get_tokenizer("spacy")


def test_ngrams_iterator_order():
    assert list(ngrams_iterator(["here", "we", "are"], 1)) == ["here", "we", "are"]
    assert list(ngrams_iterator(["here", "we", "are"], 2)) == ["here", "we", "are", "here we", "we are"]
    assert list(ngrams_iterator(["a", "b", "c"], 3)) == ["a", "b", "c", "a b", "b c", "a b c"]
    assert list(ngrams_iterator(["a"], 3)) == ["a"]
    assert list(ngrams_iterator([], 2)) == []


def test_interleave_keys():
    assert interleave_keys(0, 0) == 0
    assert interleave_keys(1, 0) == 2  # a's bit lands above b's
    assert interleave_keys(0, 1) == 1
    assert interleave_keys(3, 1) == 0b1011
