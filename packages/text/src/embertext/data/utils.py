"""Tokenizer helpers with torchtext's names: :func:`get_tokenizer` and :func:`ngrams_iterator`."""

from __future__ import annotations

import re

__all__ = ["get_tokenizer", "ngrams_iterator", "interleave_keys"]


def _split_tokenizer(x: str) -> list[str]:
    return x.split()


# torchtext's "basic_english" rules, applied in this order after lower-casing. Note the apostrophe becomes
# " '  " (two trailing spaces) and a double quote is dropped, exactly as upstream.
_RULES = [
    (re.compile(r"\'"), " '  "),
    (re.compile(r"\""), ""),
    (re.compile(r"\."), " . "),
    (re.compile(r"<br \/>"), " "),
    (re.compile(r","), " , "),
    (re.compile(r"\("), " ( "),
    (re.compile(r"\)"), " ) "),
    (re.compile(r"\!"), " ! "),
    (re.compile(r"\?"), " ? "),
    (re.compile(r"\;"), " "),
    (re.compile(r"\:"), " "),
    (re.compile(r"\s+"), " "),
]


def _basic_english_normalize(line: str) -> list[str]:
    """Lower-case ``line``, space out ``' . , ( ) ! ?``, drop ``"``, turn ``<br />``, ``;`` and ``:`` into
    spaces, and split on whitespace."""
    if not isinstance(line, str):
        raise TypeError(f"basic_english tokenizer expects a str, got {type(line).__name__}")
    line = line.lower()
    for pattern, repl in _RULES:
        line = pattern.sub(repl, line)
    return line.split()


_KNOWN = ("spacy", "moses", "toktok", "revtok", "subword")


def get_tokenizer(tokenizer, language: str = "en"):
    r"""Return a function that splits a sentence into tokens.

    Args:
        tokenizer: ``None`` for ``str.split``; ``"basic_english"`` for torchtext's normalising English
            tokenizer; or any callable taking a string, which is returned unchanged.
        language: only ``"en"`` is available for ``"basic_english"``. Default: ``"en"``.

    Example:
        >>> tokenizer = get_tokenizer("basic_english")
        >>> tokenizer("You can now install TorchText using pip!")
        ['you', 'can', 'now', 'install', 'torchtext', 'using', 'pip', '!']
    """
    if tokenizer is None:
        return _split_tokenizer
    if isinstance(tokenizer, str) and tokenizer == "basic_english":
        if language != "en":
            raise ValueError("Basic normalization is only available for Enlish(en)")
        return _basic_english_normalize
    if callable(tokenizer):
        return tokenizer
    if isinstance(tokenizer, str) and tokenizer in _KNOWN:
        raise ValueError(
            f"tokenizer {tokenizer!r} needs a third-party library that embertext does not use; pass a callable "
            "wrapping it instead (e.g. get_tokenizer(my_spacy_nlp_tokenize))"
        )
    raise ValueError(
        f"Requested tokenizer {tokenizer!r}, valid choices are None (str.split), \"basic_english\", "
        "or a callable that takes a single string as input"
    )


def ngrams_iterator(token_list, ngrams: int):
    """Yield the tokens of ``token_list``, then its 2-grams, ..., ``ngrams``-grams joined by a space.

    Example:
        >>> list(ngrams_iterator(['here', 'we', 'are'], 2))
        ['here', 'we', 'are', 'here we', 'we are']
    """
    yield from token_list
    for n in range(2, ngrams + 1):
        for gram in zip(*[token_list[i:] for i in range(n)]):
            yield " ".join(gram)


def interleave_keys(a: int, b: int) -> int:
    """Interleave the bits of two 16-bit sort keys into one key (examples close in both stay close)."""
    bits = "".join(x + y for x, y in zip(format(a, "016b"), format(b, "016b")))
    return int(bits, 2)
