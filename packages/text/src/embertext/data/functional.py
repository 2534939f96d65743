"""Small text-pipeline helpers with torchtext.data.functional's names."""

from __future__ import annotations

import re

from ember.utils.data import Dataset

__all__ = ["custom_replace", "simple_space_split", "numericalize_tokens_from_iterator", "to_map_style_dataset"]


def custom_replace(replace_pattern):
    r"""A transform applying ``(regex, replacement)`` pairs, in order, to each line of an iterator.

    Example:
        >>> f = custom_replace([(r"S", "s"), (r"\s+", " ")])
        >>> list(f(["Sentencepiece  encode"]))
        ['sentencepiece encode']
    """
    patterns = [(re.compile(p), r) for p, r in replace_pattern]

    def _apply(txt_iter):
        for line in txt_iter:
            for pattern, repl in patterns:
                line = pattern.sub(repl, line)
            yield line

    return _apply


def simple_space_split(iterator):
    r"""Yield each line of ``iterator`` split on whitespace."""
    for line in iterator:
        yield line.split()


def numericalize_tokens_from_iterator(vocab, iterator, removed_tokens=None):
    r"""Yield, for each token list of ``iterator``, an iterator over its ids in ``vocab`` (tokens in
    ``removed_tokens`` are left out)."""
    for tokens in iterator:
        if removed_tokens is None:
            yield iter(vocab[t] for t in tokens)
        else:
            yield iter(vocab[t] for t in tokens if t not in removed_tokens)


class _MapStyleDataset(Dataset):
    def __init__(self, iter_data) -> None:
        self._data = list(iter_data)

    def __len__(self) -> int:
        return len(self._data)

    def __getitem__(self, idx):
        return self._data[idx]


def to_map_style_dataset(iter_data):
    r"""Read an iterable (an iterable-style dataset, a list, a file, ...) into a map-style ``Dataset``."""
    return _MapStyleDataset(iter_data)
