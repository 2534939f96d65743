"""Byte-level BPE (GPT-2 / RoBERTa style), trainable, readable from a Hugging Face ``tokenizer.json``."""

from __future__ import annotations

import json
import os
import re
from collections import Counter

from ._base import SubwordTokenizer, _check_text, no_gc
from ._bytes import BYTE_TO_CHAR, CHAR_TO_BYTE
from ._pretokenize import BYTE_LEVEL_PATTERN
from ._train import train_bpe

__all__ = ["BPETokenizer"]

_SPACE = BYTE_TO_CHAR[ord(" ")]  # "Ġ"
_WHOLE = re.compile(r"(?s).+")


class BPETokenizer(SubwordTokenizer):
    r"""Byte-level byte-pair-encoding tokenizer.

    The text is split with GPT-2's pattern (words keep their leading space), each piece is written as
    UTF-8 bytes shown as printable characters, and learned merges join the bytes into subwords: any
    text, in any script, encodes without an unknown token.

    Args:
        vocab: token -> id. Default: empty (call :meth:`train`).
        merges: the merges, in order, as ``(left, right)`` pairs or ``"left right"`` strings.
        add_prefix_space: add a space before the text so its first word is encoded like the others.
            Default: ``False``.
        trim_offsets: leave the leading/trailing spaces of a token out of its offsets. Default: ``False``.
        special_tokens: tokens matched whole in the input and skipped by :meth:`decode`.
        pad_token: the token used by padding. Default: ``"<pad>"`` when it is a special token.

    Tokens missing from ``vocab`` are dropped (as Hugging Face's BPE does without an ``unk_token``).

    Example:
        >>> tok = BPETokenizer().train(sentences, vocab_size=8000, special_tokens=["<pad>", "<unk>"])
        >>> enc = tok.encode("a gripping film", max_length=64, padding="max_length")
        >>> enc.ids, enc.attention_mask
    """

    _MODEL_TYPE = "BPE"

    def __init__(self, vocab=None, merges=(), add_prefix_space: bool = False, trim_offsets: bool = False,
                 special_tokens=(), pad_token=None, unk_token=None, ignore_merges: bool = False):
        self.add_prefix_space = add_prefix_space
        self.trim_offsets = trim_offsets
        self.unk_token = unk_token
        self.ignore_merges = ignore_merges
        self.use_regex = True  # False (from some tokenizer.json files): each stretch of text is one word
        self._set_merges(merges)
        super().__init__(vocab, special_tokens, pad_token)
        if self.pad_token is None and "<pad>" in self.special_tokens:
            self.pad_token = "<pad>"

    def _set_merges(self, merges) -> None:
        pairs = []
        for i, m in enumerate(merges):
            if isinstance(m, str):
                parts = m.split(" ")
                if len(parts) != 2:
                    raise ValueError(f"merge {i} ({m!r}) is not two tokens separated by one space")
                m = parts
            if len(m) != 2 or not all(isinstance(p, str) for p in m):
                raise ValueError(f"merge {i} ({m!r}) is not a pair of tokens")
            pairs.append((m[0], m[1]))
        self.merges = pairs
        self._ranks = {p: i for i, p in enumerate(pairs)}

    # -- training -----------------------------------------------------------------------------------
    def train(self, iterator, vocab_size: int = 30000, min_frequency: int = 2, special_tokens=()) -> "BPETokenizer":
        r"""Learn the vocabulary and merges from an iterable of texts (replacing any previous ones).

        Args:
            iterator: texts (``str``).
            vocab_size: the largest vocabulary, special tokens and the 256 byte symbols included.
            min_frequency: a pair seen fewer times than this is never merged.
            special_tokens: tokens given the first ids.

        Returns ``self``. Ties between equally frequent pairs go to the pair of older tokens (smaller ids),
        as in Hugging Face's ``BpeTrainer``.
        """
        words = Counter()
        for i, text in enumerate(iterator):
            text = _check_text(text, f"training text {i}")
            if self.add_prefix_space and not text.startswith(" "):
                text = " " + text
            words.update(BYTE_LEVEL_PATTERN.findall(text))
        byte_words = {}
        for w, n in words.items():
            bw = "".join(BYTE_TO_CHAR[b] for b in w.encode("utf-8"))
            byte_words[bw] = byte_words.get(bw, 0) + n
        special_tokens = list(special_tokens)
        with no_gc():
            vocab, merges = train_bpe(byte_words, vocab_size, min_frequency, special_tokens,
                                      initial_alphabet=BYTE_TO_CHAR)
        self._vocab = vocab
        self._set_merges(merges)
        self._added = []
        self.add_special_tokens(special_tokens)
        if "<pad>" in special_tokens and self.pad_token is None:
            self.pad_token = "<pad>"
        return self

    # -- encoding -----------------------------------------------------------------------------------
    def _bpe(self, symbols: str) -> list[str]:
        if self.ignore_merges and symbols in self._vocab:
            return [symbols]
        parts = list(symbols)
        ranks = self._ranks
        while len(parts) > 1:
            best, best_rank = None, None
            for pair in zip(parts, parts[1:]):
                r = ranks.get(pair)
                if r is not None and (best_rank is None or r < best_rank):
                    best, best_rank = pair, r
            if best is None:
                break
            a, b = best
            merged, i, n = [], 0, len(parts)
            while i < n:
                if i + 1 < n and parts[i] == a and parts[i + 1] == b:
                    merged.append(a + b)
                    i += 2
                else:
                    merged.append(parts[i])
                    i += 1
            parts = merged
        return parts

    def _word_pieces(self, word: str):
        """(ids, tokens, offsets relative to the word, leading/trailing "Ġ" counts) for one pre-token."""
        data = word.encode("utf-8", errors="strict")
        symbols = "".join(BYTE_TO_CHAR[b] for b in data)
        pieces = self._bpe(symbols)
        if word.isascii():
            char_of_byte = None
        else:  # byte position -> index of the character it belongs to
            char_of_byte = []
            for ci, ch in enumerate(word):
                char_of_byte.extend([ci] * len(ch.encode("utf-8")))
        ids, toks, offs, spaces = [], [], [], []
        pos = 0
        vocab, unk = self._vocab, self.unk_token
        for p in pieces:
            start, end = pos, pos + len(p)
            pos = end
            if char_of_byte is not None:
                start, end = char_of_byte[start], char_of_byte[end - 1] + 1
            i = vocab.get(p)
            if i is None:
                if unk is None or unk not in vocab:
                    continue
                p, i = unk, vocab[unk]
            ids.append(i)
            toks.append(p)
            offs.append((start, end))
            spaces.append((len(p) - len(p.lstrip(_SPACE)), len(p) - len(p.rstrip(_SPACE))))
        return ids, toks, offs, spaces

    def _split(self, text):
        shift = 0
        if self.add_prefix_space and text and not text.startswith(" "):
            text, shift = " " + text, 1
        pieces = (BYTE_LEVEL_PATTERN if self.use_regex else _WHOLE).findall(text)
        return pieces, shift, None

    def _word(self, word: str):
        try:
            return self._word_pieces(word)
        except UnicodeEncodeError as e:
            raise ValueError(
                f"text holds a lone surrogate {word[e.start]!r}, which is not valid Unicode (was it decoded "
                "with errors='surrogateescape'?)"
            ) from None

    # -- decoding -----------------------------------------------------------------------------------
    def decode(self, ids, skip_special_tokens: bool = True) -> str:
        r"""The text of ``ids`` (invalid UTF-8 byte sequences become U+FFFD)."""
        tokens = self._tokens_for_decode(ids, skip_special_tokens)
        out, buf = [], bytearray()
        added = self._added_ids
        for t in tokens:
            if t in added:
                out.append(buf.decode("utf-8", errors="replace"))
                buf = bytearray()
                out.append(t)
                continue
            for ch in t:
                b = CHAR_TO_BYTE.get(ch)
                if b is None:
                    buf += ch.encode("utf-8")
                else:
                    buf.append(b)
        out.append(buf.decode("utf-8", errors="replace"))
        return "".join(out)

    # -- other formats ------------------------------------------------------------------------------
    @classmethod
    def from_files(cls, vocab_file, merges_file, **kwargs) -> "BPETokenizer":
        r"""Read GPT-2's ``vocab.json`` (token -> id) and ``merges.txt`` (one ``left right`` pair per line)."""
        vocab_file, merges_file = os.fspath(vocab_file), os.fspath(merges_file)
        with open(vocab_file, encoding="utf-8") as f:
            raw = f.read()
        try:
            vocab = json.loads(raw)
        except json.JSONDecodeError as e:
            hint = " (it looks like a one-token-per-line vocab.txt, e.g. WordPiece's)" if "\n" in raw[:200] else ""
            raise ValueError(f"{vocab_file} is not a BPE vocab.json: {e}{hint}") from None
        if not isinstance(vocab, dict) or "model" in vocab:
            hint = "; it is a tokenizer.json: use BPETokenizer.from_file" if isinstance(vocab, dict) else ""
            raise ValueError(f"{vocab_file} is not a BPE vocab.json (a JSON object token -> id){hint}")
        merges = []
        with open(merges_file, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                line = line.rstrip("\n")
                if (n == 1 and line.startswith("#version")) or not line:
                    continue
                parts = line.split(" ")
                if len(parts) != 2:
                    raise ValueError(f"{merges_file}, line {n}: expected 'left right', got {line[:60]!r}")
                merges.append((parts[0], parts[1]))
        return cls(vocab, merges, **kwargs)
