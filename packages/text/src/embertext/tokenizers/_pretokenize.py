"""Normalizers and pre-tokenizers of the Hugging Face pipeline: BERT's normalizer (with an alignment back to
the input), BERT's punctuation splitting, whitespace splitting and GPT-2's byte-level pattern."""

from __future__ import annotations

import re
import unicodedata

from ._unicode import OTHER_NUMBERS, PUNCTUATION, char_class

__all__ = ["BertNormalizer", "BYTE_LEVEL_PATTERN", "BERT_PATTERN", "PRE_TOKENIZERS"]

_ASCII_PUNCT = re.escape("".join(chr(c) for c in range(33, 127) if not chr(c).isalnum()))
_PUNCT = _ASCII_PUNCT + char_class(PUNCTUATION)
_OTHER_NUM = char_class(OTHER_NUMBERS)

# GPT-2's pattern: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ written for
# Python's re: a letter is a word character that is neither a digit, "_" nor another numeric character.
_L = rf"[^\W\d_{_OTHER_NUM}]"
_N = rf"[\d{_OTHER_NUM}]"
BYTE_LEVEL_PATTERN = re.compile(
    rf"""'s|'t|'re|'ve|'m|'ll|'d| ?{_L}+| ?{_N}+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+"""
)
# BERT: whitespace separates words, every punctuation character is a word of its own.
BERT_PATTERN = re.compile(rf"[^\s{_PUNCT}]+|[{_PUNCT}]")
# Hugging Face "Whitespace": \w+|[^\w\s]+ ; "WhitespaceSplit": runs of non-space.
WHITESPACE_PATTERN = re.compile(r"\w+|[^\w\s]+")
WHITESPACE_SPLIT_PATTERN = re.compile(r"\S+")
# The same splits with the whitespace kept as pieces of its own, so the pieces tile the text.
PRE_TOKENIZERS = {
    "BertPreTokenizer": (BERT_PATTERN, re.compile(rf"\s+|[^\s{_PUNCT}]+|[{_PUNCT}]")),
    "Whitespace": (WHITESPACE_PATTERN, re.compile(r"\w+|[^\w\s]+|\s+")),
    "WhitespaceSplit": (WHITESPACE_SPLIT_PATTERN, re.compile(r"\S+|\s+")),
}

_CJK = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F), (0x2B740, 0x2B81F),
        (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F))
_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ASCII_WS = str.maketrans("\t\n\r", "   ")


def _is_cjk(cp: int) -> bool:
    return any(lo <= cp <= hi for lo, hi in _CJK)


class BertNormalizer:
    r"""BERT's text clean-up: drop control characters, map whitespace to " ", space out CJK ideographs,
    strip accents (NFD, drop combining marks) and lower-case.

    Calling it returns ``(normalized, align)`` where ``align[i]`` is the index in the input of the character
    that produced ``normalized[i]``, or ``align`` is ``None`` when the two strings line up one to one.
    """

    def __init__(self, clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True):
        self.clean_text = clean_text
        self.handle_chinese_chars = handle_chinese_chars
        self.strip_accents = lowercase if strip_accents is None else strip_accents
        self._strip_accents_setting = strip_accents
        self.lowercase = lowercase
        self._cache: dict[str, str] = {}

    def to_json(self) -> dict:
        return {"type": "BertNormalizer", "clean_text": self.clean_text,
                "handle_chinese_chars": self.handle_chinese_chars,
                "strip_accents": self._strip_accents_setting, "lowercase": self.lowercase}

    def _char(self, ch: str) -> str:
        if self.clean_text:
            if ch in "\t\n\r " or unicodedata.category(ch) == "Zs":
                return " "
            if ch in "\x00\ufffd" or unicodedata.category(ch).startswith("C"):
                return ""
        s = ch
        if self.handle_chinese_chars and _is_cjk(ord(ch)):
            s = " " + ch + " "
        if self.strip_accents:
            s = "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn")
        if self.lowercase:
            s = s.lower()
        return s

    def __call__(self, text: str):
        if text.isascii() and not (self.clean_text and _ASCII_CONTROL.search(text)):
            if self.clean_text:
                text = text.translate(_ASCII_WS)
            return (text.lower() if self.lowercase else text), None
        cache, out, align = self._cache, [], []
        for i, ch in enumerate(text):
            piece = cache.get(ch)
            if piece is None:
                piece = cache[ch] = self._char(ch)
            if piece:
                out.append(piece)
                align.extend([i] * len(piece))
        return "".join(out), align
