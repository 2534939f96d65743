"""Text transforms as ``nn.Module``s (torchtext.transforms' API)."""

from __future__ import annotations

import ember
import ember.nn as nn

from . import functional as F
from .vocab import Vocab

__all__ = ["VocabTransform", "ToTensor", "LabelToIndex", "Truncate", "AddToken", "PadTransform",
           "StrToIntTransform", "Sequential"]


class VocabTransform(nn.Module):
    r"""Look up the ids of a sequence (``List[str]``) or batch (``List[List[str]]``) of tokens in ``vocab``."""

    def __init__(self, vocab: Vocab) -> None:
        super().__init__()
        if not isinstance(vocab, Vocab):
            raise TypeError(f"VocabTransform expects an embertext.vocab.Vocab, got {type(vocab).__name__}")
        self.vocab = vocab

    def forward(self, input):
        if F._is_flat(input, str):
            return self.vocab.lookup_indices(input)
        if F._is_batch(input, str):
            return [self.vocab.lookup_indices(tokens) for tokens in input]
        raise TypeError("Input type not supported")


class ToTensor(nn.Module):
    r"""Convert ids to a tensor, padding a batch with ``padding_value`` (see :func:`functional.to_tensor`)."""

    def __init__(self, padding_value: int | None = None, dtype=ember.long) -> None:
        super().__init__()
        self.padding_value = padding_value
        self.dtype = dtype

    def forward(self, input):
        return F.to_tensor(input, padding_value=self.padding_value, dtype=self.dtype)


class LabelToIndex(nn.Module):
    r"""Map label names to ids.

    Args:
        label_names: the unique label names, in id order.
        label_path: a file with one label name per line (instead of ``label_names``).
        sort_names: sort the names first. Default: ``False``.

    An unknown label raises ``RuntimeError`` naming it.
    """

    def __init__(self, label_names=None, label_path=None, sort_names: bool = False) -> None:
        if not (label_names or label_path):
            raise AssertionError("label_names or label_path is required")
        if label_names and label_path:
            raise AssertionError("label_names and label_path are mutually exclusive")
        super().__init__()
        if label_path:
            with open(label_path, encoding="utf-8") as f:
                label_names = [line.strip() for line in f if line.strip()]
        label_names = list(label_names)
        if sort_names:
            label_names = sorted(label_names)
        self._label_vocab = Vocab(label_names)
        self._label_names = self._label_vocab.get_itos()

    def forward(self, input):
        if F._is_flat(input, str):
            return self._label_vocab.lookup_indices(input)
        if isinstance(input, str):
            return self._label_vocab[input]
        raise TypeError("Input type not supported")

    @property
    def label_names(self) -> list[str]:
        return self._label_names


class Truncate(nn.Module):
    r"""Keep at most ``max_seq_len`` items of a sequence or of each sequence of a batch."""

    def __init__(self, max_seq_len: int) -> None:
        super().__init__()
        self.max_seq_len = max_seq_len

    def forward(self, input):
        return F.truncate(input, self.max_seq_len)


class AddToken(nn.Module):
    r"""Add ``token`` (an ``int`` id or a ``str``) at the beginning (``begin=True``) or end of each sequence."""

    def __init__(self, token, begin: bool = True) -> None:
        super().__init__()
        self.token = token
        self.begin = begin

    def forward(self, input):
        return F.add_token(input, self.token, self.begin)


class PadTransform(nn.Module):
    r"""Pad the last dimension of a tensor with ``pad_value`` up to ``max_length`` (longer ones are kept)."""

    def __init__(self, max_length: int, pad_value: int) -> None:
        super().__init__()
        self.max_length = max_length
        self.pad_value = float(pad_value)

    def forward(self, x):
        n = x.size(-1)
        if n < self.max_length:
            x = nn.functional.pad(x, (0, self.max_length - n), value=self.pad_value)
        return x


class StrToIntTransform(nn.Module):
    r"""Convert string tokens to ints, for a sequence or a batch."""

    def forward(self, input):
        return F.str_to_int(input)


class Sequential(nn.Sequential):
    r"""A container applying text transforms one after another."""

    def forward(self, input):
        for module in self:
            input = module(input)
        return input
