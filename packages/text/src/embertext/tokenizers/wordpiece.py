"""WordPiece (BERT style), trainable, readable from a Hugging Face ``tokenizer.json`` or a ``vocab.txt``."""

from __future__ import annotations

import os
from collections import Counter

from ._base import SubwordTokenizer, _check_text, no_gc
from ._pretokenize import PRE_TOKENIZERS, BertNormalizer
from ._train import train_bpe

__all__ = ["WordPieceTokenizer"]

_CLEANUP = ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
            (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"))
DEFAULT_SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


class WordPieceTokenizer(SubwordTokenizer):
    r"""BERT's WordPiece tokenizer.

    The text is cleaned, lower-cased and accent-stripped (:class:`BertNormalizer` settings), split on
    whitespace and punctuation, and every word is cut greedily into the longest vocabulary pieces, pieces
    after the first carrying ``continuing_subword_prefix`` (``"##"``). A word that can't be cut, or that is
    longer than ``max_input_chars_per_word`` characters, becomes ``unk_token``. With ``cls_token`` and
    ``sep_token`` in the vocabulary, ``encode`` returns ``[CLS] ... [SEP]``.

    Args:
        vocab: token -> id (or a list of tokens in id order). Default: empty (call :meth:`train`).
        unk_token, cls_token, sep_token, pad_token, mask_token: BERT's special tokens.
        lowercase, strip_accents, clean_text, handle_chinese_chars: the normalizer's settings
            (``strip_accents=None`` follows ``lowercase``).
        continuing_subword_prefix: Default: ``"##"``.
        max_input_chars_per_word: Default: 100.
    """

    _MODEL_TYPE = "WordPiece"

    def __init__(self, vocab=None, unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]", pad_token="[PAD]",
                 mask_token="[MASK]", lowercase: bool = True, strip_accents=None, clean_text: bool = True,
                 handle_chinese_chars: bool = True, continuing_subword_prefix: str = "##",
                 max_input_chars_per_word: int = 100):
        if vocab is not None and not isinstance(vocab, dict):
            vocab = {t: i for i, t in enumerate(vocab)}
        self.unk_token = unk_token
        self.cls_token, self.sep_token, self.mask_token = cls_token, sep_token, mask_token
        self.continuing_subword_prefix = continuing_subword_prefix
        self.max_input_chars_per_word = max_input_chars_per_word
        self.normalizer = BertNormalizer(clean_text, handle_chinese_chars, strip_accents, lowercase)
        self.set_pre_tokenizer("BertPreTokenizer")
        self._cleanup = True
        specials = [t for t in (pad_token, unk_token, cls_token, sep_token, mask_token)
                    if t is not None and vocab is not None and t in vocab]
        super().__init__(vocab, specials, pad_token if pad_token in specials else None)
        self._bert_template()

    def set_pre_tokenizer(self, name: str) -> None:
        r"""``"BertPreTokenizer"`` (whitespace and punctuation, the default), ``"Whitespace"`` (``\w+|[^\w\s]+``)
        or ``"WhitespaceSplit"`` (whitespace only)."""
        if name not in PRE_TOKENIZERS:
            raise ValueError(f"unknown pre-tokenizer {name!r}; choose one of {sorted(PRE_TOKENIZERS)}")
        self.pre_tokenizer_type = name
        self._words, self._tiling = PRE_TOKENIZERS[name]
        if hasattr(self, "_tables"):
            self._rebuild()

    def _bert_template(self) -> None:
        if self.cls_token in self._vocab and self.sep_token in self._vocab:
            self._prefix, self._suffix = [self.cls_token], [self.sep_token]
            self._post_processor = {"type": "BertProcessing",
                                    "sep": [self.sep_token, self._vocab[self.sep_token]],
                                    "cls": [self.cls_token, self._vocab[self.cls_token]]}
        else:
            self._prefix, self._suffix, self._post_processor = [], [], None

    # -- training -----------------------------------------------------------------------------------
    def train(self, iterator, vocab_size: int = 30000, min_frequency: int = 2, special_tokens=DEFAULT_SPECIALS,
              limit_alphabet: int | None = 1000) -> "WordPieceTokenizer":
        r"""Learn a vocabulary from an iterable of texts (replacing any previous one).

        As Hugging Face's ``WordPieceTrainer`` does, this learns BPE merges over the normalized words with
        ``##``-prefixed continuation symbols and keeps the resulting tokens as the WordPiece vocabulary:
        special tokens first, then the alphabet (at most ``limit_alphabet`` most frequent characters),
        continuation symbols, and merged tokens. Returns ``self``. Unlike Hugging Face (which visits words
        in hash order), continuation symbols get ids in first-seen order, so training is deterministic.
        """
        words = Counter()
        norm = self.normalizer
        for i, text in enumerate(iterator):
            normalized, _ = norm(_check_text(text, f"training text {i}"))
            words.update(self._words.findall(normalized))
        special_tokens = list(special_tokens)
        with no_gc():
            vocab, _ = train_bpe(words, vocab_size, min_frequency, special_tokens, limit_alphabet=limit_alphabet,
                                 prefix=self.continuing_subword_prefix)
        self._vocab = vocab
        self._added = []
        self.add_special_tokens(special_tokens)
        if self.pad_token is None and "[PAD]" in special_tokens:
            self.pad_token = "[PAD]"
        self._bert_template()
        return self

    # -- encoding -----------------------------------------------------------------------------------
    def _word(self, word: str):
        """(ids, tokens, offsets relative to the word, space counts) for one normalized word."""
        if word.isspace():
            return [], [], [], []
        ids, toks, offs = self._word_pieces(word)
        return ids, toks, offs, [(0, 0)] * len(ids)

    def _word_pieces(self, word: str):
        vocab, prefix = self._vocab, self.continuing_subword_prefix
        unk = self.unk_token
        n = len(word)
        whole = None
        if unk is not None and unk in vocab:
            whole = ([vocab[unk]], [unk], [(0, n)])
        if n > self.max_input_chars_per_word:
            return whole or ([], [], [])
        ids, toks, offs = [], [], []
        start = 0
        while start < n:
            end = n
            while end > start:
                piece = word[start:end] if start == 0 else prefix + word[start:end]
                i = vocab.get(piece)
                if i is not None:
                    break
                end -= 1
            else:
                return whole or ([], [], [])
            ids.append(i)
            toks.append(piece)
            offs.append((start, end))
            start = end
        return ids, toks, offs

    def _split(self, text):
        normalized, align = self.normalizer(text)
        return self._tiling.findall(normalized), 0, align

    # -- decoding -----------------------------------------------------------------------------------
    def decode(self, ids, skip_special_tokens: bool = True, cleanup: bool | None = None) -> str:
        r"""Join the pieces of ``ids`` back into text: continuation pieces lose their ``##`` and attach
        to the previous piece, other pieces are separated by a space (``cleanup`` removes the space before
        ``. ? ! ,`` as Hugging Face's WordPiece decoder does)."""
        tokens = self._tokens_for_decode(ids, skip_special_tokens)
        prefix = self.continuing_subword_prefix
        cleanup = self._cleanup if cleanup is None else cleanup
        out = []
        for i, t in enumerate(tokens):
            if i:
                t = t[len(prefix):] if t.startswith(prefix) else " " + t
            if cleanup:
                for a, b in _CLEANUP:
                    t = t.replace(a, b)
            out.append(t)
        return "".join(out)

    # -- other formats ------------------------------------------------------------------------------
    @classmethod
    def from_vocab_file(cls, path, **kwargs) -> "WordPieceTokenizer":
        r"""Read BERT's ``vocab.txt`` (one token per line, the line number is the id)."""
        path = os.fspath(path)
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        if lines and lines[0].lstrip().startswith("{"):
            raise ValueError(f"{path} looks like JSON, not a WordPiece vocab.txt (one token per line): a BPE "
                             "vocab.json or a tokenizer.json? Use BPETokenizer.from_files or "
                             "embertext.tokenizers.load")
        if lines and lines[0].startswith("#version"):
            raise ValueError(f"{path} looks like a BPE merges.txt, not a WordPiece vocab.txt")
        vocab = {}
        for n, tok in enumerate(lines):
            tok = tok.rstrip("\r")
            if tok in vocab:
                raise ValueError(f"{path}, line {n + 1}: token {tok!r} already appeared on line {vocab[tok] + 1}")
            vocab[tok] = n
        return cls(vocab, **kwargs)

    def save_vocab(self, path) -> None:
        r"""Write ``vocab.txt`` (tokens in id order)."""
        n = self.get_vocab_size()
        with open(os.fspath(path), "w", encoding="utf-8") as f:
            f.writelines(self._itos[i] + "\n" for i in range(n))
