"""Functional forms of the list transforms (torchtext.functional's API)."""

from __future__ import annotations

from itertools import chain

import numpy as np

import ember

__all__ = ["to_tensor", "truncate", "add_token", "str_to_int"]

_INT = (int, np.integer)


def _all(items, kinds) -> bool:
    return all(isinstance(x, kinds) for x in items)


def _is_flat(x, kinds) -> bool:
    return isinstance(x, list) and _all(x, kinds)


def _is_batch(x, kinds) -> bool:
    return isinstance(x, list) and all(isinstance(row, list) and _all(row, kinds) for row in x)


def _pad_ragged(rows, padding_value, np_dtype):
    """Rows of ids -> (array ``(B, max_len)`` padded with ``padding_value``, int64 lengths), vectorised."""
    lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    width = int(lengths.max()) if len(rows) else 0
    out = np.full((len(rows), width), padding_value, dtype=np_dtype)
    flat = np.fromiter(chain.from_iterable(rows), dtype=np_dtype, count=int(lengths.sum()))
    out[np.arange(width) < lengths[:, None]] = flat
    return out, lengths


def to_tensor(input, padding_value: int | None = None, dtype=ember.long):
    r"""Convert a sequence (``List[int]``) or a batch (``List[List[int]]``) of ids to a tensor.

    Args:
        input: ids, or a batch of id lists.
        padding_value: pad the rows of a batch to the longest one with this value; ``None`` requires the
            rows to have equal lengths. Default: ``None``.
        dtype: the tensor's dtype. Default: ``ember.long``. (torchtext ignores ``dtype`` for a single
            sequence and always returns ``long``; here it is honoured in both cases.)
    """
    if _is_flat(input, _INT):
        return ember.tensor(input, dtype=dtype)
    if _is_batch(input, _INT):
        if padding_value is None:
            return ember.tensor(input, dtype=dtype)
        np_dtype = np.float64 if dtype.is_floating_point else np.int64
        padded, _ = _pad_ragged(input, padding_value, np_dtype)
        return ember.as_tensor(padded, dtype=dtype)
    raise TypeError("Input type not supported")


def truncate(input, max_seq_len: int):
    r"""Keep the first ``max_seq_len`` items of a sequence, or of each sequence of a batch."""
    if _is_flat(input, (str, *_INT)):
        return input[:max_seq_len]
    if _is_batch(input, (str, *_INT)):
        return [row[:max_seq_len] for row in input]
    raise TypeError("Input type not supported")


def add_token(input, token_id, begin: bool = True):
    r"""Add ``token_id`` at the start (``begin=True``) or end of a sequence, or of each sequence of a batch.

    The token's type (``int`` or ``str``) must match the sequence items.
    """
    kind = str if isinstance(token_id, str) else _INT if isinstance(token_id, _INT) else None
    if kind is not None and _is_flat(input, kind):
        return [token_id] + input if begin else input + [token_id]
    if kind is not None and _is_batch(input, kind):
        return [[token_id] + row for row in input] if begin else [row + [token_id] for row in input]
    raise TypeError("Input type not supported")


def str_to_int(input):
    r"""Convert string tokens to ints, for a sequence or a batch."""
    if _is_flat(input, str):
        return [int(x) for x in input]
    if _is_batch(input, str):
        return [[int(x) for x in row] for row in input]
    raise TypeError("Input type not supported")
