"""``vocab`` and ``build_vocab_from_iterator``: torchtext's factories, same ordering and tie-breaking."""

from __future__ import annotations

from collections import Counter, OrderedDict

from .vocab import Vocab

__all__ = ["vocab", "build_vocab_from_iterator"]


def vocab(ordered_dict, min_freq: int = 1, specials=None, special_first: bool = True) -> Vocab:
    r"""A :class:`Vocab` from a mapping ``token -> frequency``, keeping its insertion order.

    Args:
        ordered_dict: tokens and their counts; tokens with a count below ``min_freq`` are left out.
            Special tokens are removed from it (in place, as torchtext does) and placed as ``specials`` says.
        min_freq: minimum count to keep a token. Default: 1.
        specials: special tokens, kept in the given order. Default: none.
        special_first: put the specials at the start (``True``) or at the end. Default: ``True``.
    """
    specials = list(specials or [])
    for token in specials:
        ordered_dict.pop(token, None)
    tokens = [token for token, freq in ordered_dict.items() if freq >= min_freq]
    tokens = specials + tokens if special_first else tokens + specials
    return Vocab(tokens)


def build_vocab_from_iterator(iterator, min_freq: int = 1, specials=None, special_first: bool = True,
                              max_tokens: int | None = None) -> Vocab:
    r"""A :class:`Vocab` from an iterator of token lists.

    Tokens are ordered by descending count, ties broken lexicographically (as torchtext does).

    Args:
        iterator: yields lists (or iterables) of tokens.
        min_freq: minimum count to keep a token. Default: 1.
        specials: special tokens, kept in the given order. Default: none.
        special_first: put the specials at the start (``True``) or at the end. Default: ``True``.
        max_tokens: keep only the ``max_tokens - len(specials)`` most frequent tokens. Default: all.

    Example:
        >>> v = build_vocab_from_iterator([["b", "a", "b"], ["c"]], specials=["<unk>"])
        >>> v.get_itos()
        ['<unk>', 'b', 'a', 'c']
    """
    counter = Counter()
    for tokens in iterator:
        if isinstance(tokens, str):
            raise TypeError(
                "build_vocab_from_iterator expects an iterator of token lists, but it yielded a str "
                f"({tokens[:30]!r}); tokenize each line first"
            )
        counter.update(tokens)
    specials = list(specials or [])
    ranked = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    if max_tokens is not None:
        if len(specials) >= max_tokens:
            raise AssertionError("len(specials) >= max_tokens, so the vocab will be entirely special tokens.")
        ranked = ranked[: max_tokens - len(specials)]
    return vocab(OrderedDict(ranked), min_freq=min_freq, specials=specials, special_first=special_first)
