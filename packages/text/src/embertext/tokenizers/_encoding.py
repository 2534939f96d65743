"""``Encoding``: what a subword tokenizer returns for one text."""

from __future__ import annotations

__all__ = ["Encoding"]


class Encoding:
    r"""The result of encoding one text.

    Attributes:
        ids: token ids.
        tokens: token strings.
        offsets: ``(start, end)`` character span of each token in the input text (``(0, 0)`` for added
            special and padding tokens).
        attention_mask: 1 for real tokens (specials included), 0 for padding.
        special_tokens_mask: 1 for special and padding tokens, 0 for tokens of the text.
        type_ids: segment ids (all 0 for a single text).
    """

    __slots__ = ("ids", "tokens", "offsets", "attention_mask", "special_tokens_mask", "type_ids")

    def __init__(self, ids, tokens, offsets, special_tokens_mask=None, attention_mask=None, type_ids=None):
        n = len(ids)
        self.ids = list(ids)
        self.tokens = list(tokens)
        self.offsets = list(offsets)
        self.special_tokens_mask = list(special_tokens_mask) if special_tokens_mask is not None else [0] * n
        self.attention_mask = list(attention_mask) if attention_mask is not None else [1] * n
        self.type_ids = list(type_ids) if type_ids is not None else [0] * n

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        return f"Encoding(num_tokens={len(self.ids)}, tokens={self.tokens[:8]}{'...' if len(self) > 8 else ''})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Encoding) and all(getattr(self, k) == getattr(other, k) for k in self.__slots__)

    def truncate(self, max_length: int) -> None:
        r"""Keep the first ``max_length`` tokens."""
        for k in self.__slots__:
            del getattr(self, k)[max_length:]

    def pad(self, length: int, pad_id: int, pad_token: str) -> None:
        r"""Append padding tokens up to ``length`` (right side)."""
        n = length - len(self.ids)
        if n <= 0:
            return
        self.ids += [pad_id] * n
        self.tokens += [pad_token] * n
        self.offsets += [(0, 0)] * n
        self.attention_mask += [0] * n
        self.special_tokens_mask += [1] * n
        self.type_ids += [0] * n
