"""Text transforms as ``nn.Module``s (torchtext.transforms' API)."""

from __future__ import annotations

import ember
import ember.nn as nn

from . import functional as F
from .vocab import Vocab

__all__ = ["VocabTransform", "ToTensor", "LabelToIndex", "Truncate", "AddToken", "PadTransform",
           "StrToIntTransform", "GPT2BPETokenizer", "BERTTokenizer", "Sequential"]


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


def _local(path) -> str:
    """A local path for ``path``, downloading it (once, into ember's hub folder) when it is a URL."""
    import os

    path = os.fspath(path)
    if path.startswith(("http://", "https://")):
        from ember.hub import download_url_to_file, get_dir

        dst = os.path.join(get_dir(), "embertext_assets", os.path.basename(path.split("?")[0]))
        if not os.path.isfile(dst):
            download_url_to_file(path, dst)
        return dst
    return path


class _SubwordTransform(nn.Module):
    def __init__(self, tokenizer, return_tokens: bool) -> None:
        super().__init__()
        self._tokenizer = tokenizer
        self._return_tokens = return_tokens

    def _one(self, encoding):
        return encoding.tokens if self._return_tokens else [str(i) for i in encoding.ids]

    def forward(self, input):
        if isinstance(input, str):
            return self._one(self._tokenizer.encode(self._prepare(input), add_special_tokens=False))
        if F._is_flat(input, str):
            encs = self._tokenizer.encode_batch([self._prepare(t) for t in input], add_special_tokens=False)
            return [self._one(e) for e in encs]
        raise TypeError("Input type not supported")

    def _prepare(self, text: str) -> str:
        return text


class GPT2BPETokenizer(_SubwordTransform):
    r"""GPT-2's byte-level BPE as a transform: text -> token ids as strings (or the tokens with
    ``return_tokens=True``), for a ``str`` or a list of them.

    Args:
        encoder_json_path: GPT-2's ``encoder.json`` / ``vocab.json`` (token -> id), a path or URL.
        vocab_bpe_path: GPT-2's ``vocab.bpe`` / ``merges.txt``, a path or URL.
        return_tokens: return tokens instead of ids. Default: ``False``.
    """

    SPECIAL_TOKENS_ATTRIBUTES = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token",
                                 "mask_token", "additional_special_tokens"]

    def __init__(self, encoder_json_path, vocab_bpe_path, return_tokens: bool = False) -> None:
        from .tokenizers import BPETokenizer

        super().__init__(BPETokenizer.from_files(_local(encoder_json_path), _local(vocab_bpe_path)), return_tokens)

    def add_special_tokens(self, special_tokens_dict) -> int:
        r"""Add special tokens (keys among ``SPECIAL_TOKENS_ATTRIBUTES``); returns how many were new."""
        for key in special_tokens_dict:
            if key not in self.SPECIAL_TOKENS_ATTRIBUTES:
                raise AssertionError(f"Key '{key}' is not in the special token list: {self.SPECIAL_TOKENS_ATTRIBUTES}")
        tokens = [v for k, v in special_tokens_dict.items() if k != "additional_special_tokens"]
        tokens += list(special_tokens_dict.get("additional_special_tokens", []))
        return self._tokenizer.add_special_tokens(tokens)


class BERTTokenizer(_SubwordTransform):
    r"""BERT's WordPiece as a transform: text -> token ids as strings (or the tokens with
    ``return_tokens=True``), for a ``str`` or a list of them; no ``[CLS]``/``[SEP]`` are added.

    Args:
        vocab_path: BERT's ``vocab.txt``, a path or URL.
        do_lower_case: lower-case the text. Default: ``True``.
        strip_accents: strip accents (``None``: when lower-casing).
        return_tokens: return tokens instead of ids. Default: ``False``.
        never_split: not supported here (raises ``NotImplementedError`` when given).
    """

    def __init__(self, vocab_path, do_lower_case: bool = True, strip_accents=None, return_tokens: bool = False,
                 never_split=None) -> None:
        from .tokenizers import WordPieceTokenizer

        if never_split:
            raise NotImplementedError("BERTTokenizer(never_split=...) is not supported by embertext")
        tok = WordPieceTokenizer.from_vocab_file(_local(vocab_path), lowercase=do_lower_case,
                                                 strip_accents=strip_accents)
        super().__init__(tok, return_tokens)

    def _prepare(self, text: str) -> str:
        return text.strip()


class Sequential(nn.Sequential):
    r"""A container applying text transforms one after another."""

    def forward(self, input):
        for module in self:
            input = module(input)
        return input
