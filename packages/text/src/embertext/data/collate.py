"""Collate text examples into padded id tensors with lengths and masks, ready for ``pack_padded_sequence``."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

import ember

from ..functional import _pad_ragged

__all__ = ["TextBatch", "PadCollate", "pad_collate"]


class TextBatch(NamedTuple):
    r"""A padded batch: ``ids`` ``(B, T)`` (``(T, B)`` unless ``batch_first``), int64 CPU ``lengths``
    ``(B,)``, bool ``mask`` shaped like ``ids`` (``True`` on real tokens), and ``labels`` ``(B,)`` or
    ``None``."""

    ids: ember.Tensor
    lengths: ember.Tensor
    mask: ember.Tensor
    labels: ember.Tensor | None


def _is_sequence(x) -> bool:
    return isinstance(x, (list, np.ndarray)) or (isinstance(x, ember.Tensor) and x.dim() == 1)


def _as_ids(x):
    if isinstance(x, ember.Tensor):
        return x.cpu().numpy()
    return x


def _split(item):
    if _is_sequence(item):
        return item, None
    if isinstance(item, tuple) and len(item) == 2:
        a, b = item
        if _is_sequence(a) and not _is_sequence(b):
            return a, b
        if _is_sequence(b) and not _is_sequence(a):
            return b, a
    raise TypeError(
        "pad_collate expects each example to be a sequence of ids, or a pair of (ids, label) / (label, ids) "
        f"with ids a list, 1-D array or 1-D tensor; got {type(item).__name__}"
        + (f" of ({', '.join(type(v).__name__ for v in item)})" if isinstance(item, tuple) else "")
    )


def pad_collate(batch, padding_value: int = 0, batch_first: bool = True, sort_by_length: bool = False,
                label_dtype=ember.long) -> TextBatch:
    r"""Pad a list of examples into a :class:`TextBatch`.

    Args:
        batch: examples, each ids (``list``, 1-D array or tensor) or a pair ``(ids, label)`` or
            ``(label, ids)`` (the torchtext dataset order).
        padding_value: id used for padding. Default: 0.
        batch_first: ``ids`` of shape ``(B, T)`` (``True``) or ``(T, B)``. Default: ``True``.
        sort_by_length: order the batch by decreasing length, so that
            ``pack_padded_sequence(..., enforce_sorted=True)`` accepts it (labels follow). Default: ``False``.
        label_dtype: dtype of ``labels``. Default: ``ember.long``.

    Empty sequences are kept with length 0 and an all-``False`` mask row; ``pack_padded_sequence`` refuses
    them, so make the tokenizer pipeline emit at least one token (e.g. an ``<unk>`` or BOS token).
    """
    if not batch:
        raise ValueError("pad_collate got an empty batch")
    pairs = [_split(item) for item in batch]
    seqs = [_as_ids(s) for s, _ in pairs]
    labels = [lab for _, lab in pairs]
    if all(isinstance(s, np.ndarray) for s in seqs):
        lengths = np.fromiter(map(len, seqs), dtype=np.int64, count=len(seqs))
        width = int(lengths.max())
        ids = np.full((len(seqs), width), padding_value, dtype=np.int64)
        ids[np.arange(width) < lengths[:, None]] = np.concatenate(seqs).astype(np.int64, copy=False)
    else:
        seqs = [s.tolist() if isinstance(s, np.ndarray) else s for s in seqs]
        ids, lengths = _pad_ragged(seqs, padding_value, np.int64)
    if sort_by_length:
        order = np.argsort(-lengths, kind="stable")
        ids, lengths = ids[order], lengths[order]
        labels = [labels[i] for i in order]
    mask = np.arange(ids.shape[1]) < lengths[:, None]
    if not batch_first:
        ids, mask = ids.T.copy(), mask.T.copy()
    if labels[0] is None:
        label_t = None
    else:
        labels = [lab.item() if isinstance(lab, ember.Tensor) else lab for lab in labels]
        bad = next((lab for lab in labels if not isinstance(lab, (int, float, np.integer, np.floating))), None)
        if bad is not None:
            raise TypeError(f"pad_collate: labels must be numbers, got {type(bad).__name__} {bad!r} "
                            "(map label names to ids first, e.g. with embertext.transforms.LabelToIndex)")
        label_t = ember.tensor(labels, dtype=label_dtype)
    return TextBatch(ember.from_numpy(ids), ember.from_numpy(lengths), ember.from_numpy(mask), label_t)


class PadCollate:
    r"""``collate_fn`` for a ``DataLoader``: :func:`pad_collate` with fixed options (picklable for workers)."""

    def __init__(self, padding_value: int = 0, batch_first: bool = True, sort_by_length: bool = False,
                 label_dtype=ember.long) -> None:
        self.padding_value = padding_value
        self.batch_first = batch_first
        self.sort_by_length = sort_by_length
        self.label_dtype = label_dtype

    def __call__(self, batch) -> TextBatch:
        return pad_collate(batch, self.padding_value, self.batch_first, self.sort_by_length, self.label_dtype)

    def __repr__(self) -> str:
        return (f"PadCollate(padding_value={self.padding_value}, batch_first={self.batch_first}, "
                f"sort_by_length={self.sort_by_length})")
