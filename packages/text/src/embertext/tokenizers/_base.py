"""What byte-level BPE and WordPiece share: special tokens, the encode pipeline (added-token splitting,
per-word cache, special-token template, truncation, padding), decoding helpers and vocabulary access."""

from __future__ import annotations

import contextlib
import gc
import json
import os
import re

import numpy as np

from ._batch import WordTables, encode_pieces
from ._encoding import Encoding

__all__ = ["SubwordTokenizer"]


def _check_text(text, what="text") -> str:
    if isinstance(text, str):
        return text
    if isinstance(text, (bytes, bytearray)):
        raise TypeError(
            f"{what} must be a str, got bytes: decode it first, e.g. data.decode('utf-8', errors='replace')"
        )
    raise TypeError(f"{what} must be a str, got {type(text).__name__}")


@contextlib.contextmanager
def no_gc():
    """Pause the cyclic garbage collector: building millions of small lists (none of them cyclic) otherwise
    triggers collections that cost more than the tokenizing itself."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _added_token(content, id_, special=True) -> dict:
    return {"id": id_, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
            "normalized": not special, "special": special}


class SubwordTokenizer:
    r"""Base class of :class:`BPETokenizer` and :class:`WordPieceTokenizer` (not used directly).

    Subclasses provide ``_split(text)`` (pre-tokenized pieces tiling the normalized text, see
    :func:`._batch.encode_pieces`), ``_word(piece)`` (its ids, tokens, offsets and space counts),
    ``decode`` and ``train``.
    """

    _MODEL_TYPE = ""

    def __init__(self, vocab=None, special_tokens=(), pad_token=None):
        self._vocab: dict[str, int] = dict(vocab or {})
        self._added: list[dict] = []
        self._prefix: list[str] = []  # special tokens placed before / after the text by add_special_tokens
        self._suffix: list[str] = []
        self._post_processor = None  # JSON of the post-processor, saved back as read
        self.pad_token = pad_token
        self.max_length: int | None = None  # defaults for encode(), also read from a tokenizer.json
        self.padding: str | bool = False
        for tok in special_tokens:
            self.add_special_tokens([tok])
        self._rebuild()

    # -- vocabulary ---------------------------------------------------------------------------------
    def _rebuild(self) -> None:
        """Refresh the lookup tables after the vocabulary or the added tokens changed."""
        self._tables = WordTables(self._word)
        self._itos_arr = None
        self._itos = {i: t for t, i in self._vocab.items()}
        for a in self._added:
            self._itos.setdefault(a["id"], a["content"])
        self._special_ids = {a["id"] for a in self._added if a["special"]}
        contents = sorted((a["content"] for a in self._added), key=len, reverse=True)
        self._added_re = re.compile("|".join(map(re.escape, contents))) if contents else None
        self._added_ids = {a["content"]: a["id"] for a in self._added}

    def add_special_tokens(self, tokens) -> int:
        r"""Register ``tokens`` as special: matched whole in the input, skipped by ``decode``. Tokens not in
        the vocabulary get new ids at its end. Returns how many were new to the vocabulary."""
        added = 0
        for tok in tokens:
            tok = _check_text(tok, "a special token")
            if not tok:
                raise ValueError("a special token can't be the empty string")
            if tok in {a["content"] for a in self._added}:
                continue
            if tok not in self._vocab:
                self._vocab[tok] = self.get_vocab_size()
                added += 1
            self._added.append(_added_token(tok, self._vocab[tok]))
        self._rebuild()
        return added

    @property
    def special_tokens(self) -> list[str]:
        return [a["content"] for a in self._added if a["special"]]

    def get_vocab(self) -> dict[str, int]:
        r"""A new dict mapping every token (added tokens included) to its id."""
        out = dict(self._vocab)
        out.update(self._added_ids)
        return out

    def get_vocab_size(self) -> int:
        return len(self._itos) if self._itos else 0

    def __len__(self) -> int:
        return self.get_vocab_size()

    def token_to_id(self, token: str):
        r"""The id of ``token``, or ``None``."""
        i = self._added_ids.get(token)
        return self._vocab.get(token) if i is None else i

    def id_to_token(self, id_: int):
        r"""The token with id ``id_``, or ``None``."""
        return self._itos.get(int(id_))

    def to_vocab(self):
        r"""An :class:`embertext.vocab.Vocab` with the same token -> id table (ids must be ``0..n-1``)."""
        from ..vocab import Vocab

        n = self.get_vocab_size()
        if set(self._itos) != set(range(n)):
            raise ValueError("the tokenizer's ids are not contiguous (0..n-1); it can't become a Vocab")
        v = Vocab([self._itos[i] for i in range(n)])
        unk = getattr(self, "unk_token", None)
        if unk is not None and unk in v:
            v.set_default_index(v[unk])
        return v

    # -- encoding -----------------------------------------------------------------------------------
    def _special_id(self, token: str) -> int:
        i = self.token_to_id(token)
        if i is None:
            raise ValueError(f"special token {token!r} is not in the vocabulary")
        return i

    def num_special_tokens_to_add(self) -> int:
        return len(self._prefix) + len(self._suffix)

    def _itos_array(self):
        if self._itos_arr is None:
            arr = np.empty(max(self._itos, default=-1) + 1, dtype=object)
            for i, t in self._itos.items():
                arr[i] = t
            self._itos_arr = arr
        return self._itos_arr

    def _encode_texts(self, texts):
        """Each text as ``(ids, tokens, offsets)``, before special tokens, truncation and padding."""
        if self._added_re is None:
            return encode_pieces(self, texts)
        out, plain = [None] * len(texts), []
        for i, t in enumerate(texts):
            if self._added_re.search(t):
                out[i] = self._encode_with_added(t)
            else:
                plain.append(i)
        for i, r in zip(plain, encode_pieces(self, [texts[i] for i in plain])):
            out[i] = r
        return out

    def _encode_with_added(self, text):
        parts, pos = [], 0  # (segment, start) for plain text, (None, match) for an added token
        for m in self._added_re.finditer(text):
            if m.start() > pos:
                parts.append((text[pos:m.start()], pos))
            parts.append((None, m))
            pos = m.end()
        if pos < len(text):
            parts.append((text[pos:], pos))
        plain = [(seg, base) for seg, base in parts if seg is not None]
        encoded = iter(encode_pieces(self, [seg for seg, _ in plain], [base for _, base in plain]))
        ids, tokens, offsets = [], [], []
        for seg, where in parts:
            if seg is None:
                ids.append(self._added_ids[where.group()])
                tokens.append(where.group())
                offsets.append((where.start(), where.end()))
            else:
                s_ids, s_toks, s_offs = next(encoded)
                ids += s_ids
                tokens += s_toks
                offsets += s_offs
        return ids, tokens, offsets

    def tokenize(self, text: str) -> list[str]:
        r"""The token strings of ``text`` (no special tokens added, no truncation)."""
        return self._encode_texts([_check_text(text)])[0][1]

    __call__ = tokenize

    def encode(self, text: str, add_special_tokens: bool = True, max_length: int | None = None,
               padding=None) -> Encoding:
        r"""Encode one text.

        Args:
            text: the text (``str``; bytes must be decoded first).
            add_special_tokens: add the tokenizer's special tokens around the text (e.g. ``[CLS] ... [SEP]``).
            max_length: truncate to this many tokens, special tokens included (right side). Default: the
                tokenizer's ``max_length`` (``None``: no truncation).
            padding: ``"max_length"`` pads to ``max_length`` with ``pad_token``; ``False``/``"longest"``
                leave a single text as is. Default: the tokenizer's ``padding``.
        """
        text = _check_text(text)
        max_length = self.max_length if max_length is None else max_length
        padding = self.padding if padding is None else padding
        enc = self._finish(self._encode_texts([text])[0], add_special_tokens, max_length)
        if padding == "max_length":
            self._pad([enc], self._pad_length([enc], padding, max_length))
        elif padding not in (False, True, "longest", None):
            raise ValueError(f"padding must be False, True, 'longest' or 'max_length', got {padding!r}")
        return enc

    def encode_batch(self, texts, add_special_tokens: bool = True, max_length: int | None = None,
                     padding=None) -> list[Encoding]:
        r"""Encode a list of texts (see :meth:`encode`); ``padding=True`` or ``"longest"`` pads every
        encoding to the longest one, ``"max_length"`` to ``max_length``."""
        if isinstance(texts, (str, bytes)):
            raise TypeError("encode_batch expects a list of texts, got a single text: use encode()")
        max_length = self.max_length if max_length is None else max_length
        padding = self.padding if padding is None else padding
        texts = [_check_text(t, f"texts[{i}]") for i, t in enumerate(texts)]
        with no_gc():
            encs = [self._finish(r, add_special_tokens, max_length) for r in self._encode_texts(texts)]
        if padding:
            self._pad(encs, self._pad_length(encs, padding, max_length))
        return encs

    def _finish(self, encoded, add_special_tokens, max_length) -> Encoding:
        ids, tokens, offsets = encoded
        mask = [0] * len(ids)  # as in Hugging Face, only specials added around the text are marked
        pre = self._prefix if add_special_tokens else []
        post = self._suffix if add_special_tokens else []
        if max_length is not None:
            room = max_length - len(pre) - len(post)
            if room < 0:
                raise ValueError(f"max_length={max_length} leaves no room: {len(pre) + len(post)} special "
                                 "tokens are added to every text")
            del ids[room:], tokens[room:], offsets[room:], mask[room:]
        if pre or post:
            ids = [self._special_id(t) for t in pre] + ids + [self._special_id(t) for t in post]
            tokens = list(pre) + tokens + list(post)
            offsets = [(0, 0)] * len(pre) + offsets + [(0, 0)] * len(post)
            mask = [1] * len(pre) + mask + [1] * len(post)
        return Encoding(ids, tokens, offsets, mask)

    def _pad_length(self, encs, padding, max_length) -> int:
        if padding == "max_length":
            if max_length is None:
                raise ValueError("padding='max_length' needs max_length")
            return max_length
        if padding in (True, "longest"):
            return max((len(e) for e in encs), default=0)
        raise ValueError(f"padding must be False, True, 'longest' or 'max_length', got {padding!r}")

    def _pad(self, encs, length) -> None:
        if self.pad_token is None:
            raise ValueError("padding needs a pad token: set tokenizer.pad_token (e.g. '<pad>' or '[PAD]')")
        pad_id = self._special_id(self.pad_token)
        for e in encs:
            e.pad(length, pad_id, self.pad_token)

    # -- decoding -----------------------------------------------------------------------------------
    def _tokens_for_decode(self, ids, skip_special_tokens):
        if hasattr(ids, "tolist"):  # a tensor or an array
            ids = ids.tolist()
        out = []
        for i in ids:
            tok = self._itos.get(i)
            if tok is None:
                raise ValueError(f"id {i} is not in the vocabulary (size {self.get_vocab_size()})")
            if skip_special_tokens and i in self._special_ids:
                continue
            out.append(tok)
        return out

    def decode_batch(self, sequences, skip_special_tokens: bool = True) -> list[str]:
        return [self.decode(ids, skip_special_tokens) for ids in sequences]

    # -- saving -------------------------------------------------------------------------------------
    def to_json(self) -> dict:
        r"""The tokenizer in the Hugging Face ``tokenizer.json`` layout."""
        from .hf_json import to_json

        return to_json(self)

    def save(self, path, pretty: bool = True) -> None:
        r"""Write a Hugging Face-compatible ``tokenizer.json`` to ``path``."""
        with open(os.fspath(path), "w", encoding="utf-8") as f:
            json.dump(self.to_json(), f, ensure_ascii=False, indent=2 if pretty else None)

    @classmethod
    def from_file(cls, path):
        r"""Read a Hugging Face ``tokenizer.json`` holding this tokenizer type's model."""
        from .hf_json import load

        return load(path, expect=cls)

    load = from_file

    def __repr__(self) -> str:
        return f"{type(self).__name__}(vocab_size={self.get_vocab_size()}, special_tokens={self.special_tokens})"
