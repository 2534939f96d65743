"""The vectorised encode path: every distinct word is tokenized once (cached in flat NumPy tables) and a
whole batch of texts is assembled with array gathers instead of a Python loop over its tokens."""

from __future__ import annotations

from itertools import chain

import numpy as np

__all__ = ["WordTables"]


class WordTables:
    r"""Cache of word -> pieces as flat arrays.

    Row ``r`` of the cache is one word; its pieces are ``tok_*[first[r]:first[r] + count[r]]``: the id,
    the offsets ``(a, b)`` relative to the word, and the leading/trailing space counts used by
    ``trim_offsets``.
    """

    def __init__(self, compute):
        self._compute = compute  # word -> (ids, tokens, offsets, spaces)
        self.index: dict[str, int] = {}
        self._first, self._count = [], []
        self._ids, self._a, self._b, self._lead, self._trail = [], [], [], [], []
        self._arrays = None

    def row(self, word: str) -> int:
        r = self.index.get(word)
        if r is None:
            ids, _toks, offs, spaces = self._compute(word)
            r = self.index[word] = len(self._first)
            self._first.append(len(self._ids))
            self._count.append(len(ids))
            self._ids.extend(ids)
            self._a.extend(a for a, _ in offs)
            self._b.extend(b for _, b in offs)
            self._lead.extend(s for s, _ in spaces)
            self._trail.extend(t for _, t in spaces)
            self._arrays = None
        return r

    def arrays(self):
        if self._arrays is None:
            self._arrays = tuple(np.asarray(x, dtype=np.int64) for x in (
                self._first, self._count, self._ids, self._a, self._b, self._lead, self._trail))
        return self._arrays


def encode_pieces(tok, texts, bases=None):
    r"""Encode texts holding no added token: a list of ``(ids, tokens, offsets)`` per text.

    ``tok._split(text)`` gives ``(pieces, shift, align)``: the pre-tokenized pieces tiling the (normalized)
    text, how many characters were prepended (a prefix space), and the normalized -> input character map
    (or ``None``). ``tok._tables`` is the :class:`WordTables` cache. ``bases``: where each text starts in
    a larger text it was cut from (between added tokens); offsets are then positions in the larger text.
    """
    tables = tok._tables
    splits = [tok._split(t) for t in texts]
    pieces = list(chain.from_iterable(s[0] for s in splits))
    rows = list(map(tables.index.get, pieces))
    if None in rows:  # words not seen before: tokenize them once
        rows = [tables.row(p) if r is None else r for r, p in zip(rows, pieces)]
    rows = np.array(rows, dtype=np.int64)
    first, count, t_ids, t_a, t_b, t_lead, t_trail = tables.arrays()

    n_pieces = np.fromiter((len(s[0]) for s in splits), dtype=np.int64, count=len(splits))
    text_chars = np.fromiter((sum(map(len, s[0])) for s in splits), dtype=np.int64, count=len(splits))
    piece_len = np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces))
    # start of every piece inside its own text (the pieces tile the text)
    text_base = np.cumsum(text_chars) - text_chars
    piece_start = np.cumsum(piece_len) - piece_len - np.repeat(text_base, n_pieces)

    k = count[rows]  # pieces -> number of tokens
    total = int(k.sum())
    tok_first = np.cumsum(k) - k
    gather = np.repeat(first[rows] - tok_first, k) + np.arange(total)
    ids = t_ids[gather]
    start = np.repeat(piece_start, k)
    a = t_a[gather] + start
    b = t_b[gather] + start

    text_of_piece = np.repeat(np.arange(len(texts)), n_pieces)
    per_text = np.bincount(text_of_piece, weights=k, minlength=len(texts)).astype(np.int64)
    bounds = np.cumsum(per_text) - per_text

    shifts = np.fromiter((s[1] for s in splits), dtype=np.int64, count=len(splits))
    if shifts.any():
        sh = np.repeat(shifts, per_text)
        a, b = np.maximum(a - sh, 0), np.maximum(b - sh, 0)
    for i, (_, _, align) in enumerate(splits):
        if align is not None and per_text[i]:  # normalized positions -> input positions
            al = np.asarray(align, dtype=np.int64)
            sl = slice(int(bounds[i]), int(bounds[i] + per_text[i]))
            a[sl], b[sl] = al[a[sl]], al[np.maximum(b[sl] - 1, 0)] + 1
    at_start = np.arange(total) == np.repeat(bounds, per_text)  # first token of its text
    if bases is not None:
        base = np.repeat(np.asarray(bases, dtype=np.int64), per_text)
        a, b = a + base, b + base
        at_start &= base == 0
    if getattr(tok, "trim_offsets", False):
        lead, trail = t_lead[gather], t_trail[gather]
        if tok.add_prefix_space:
            keep = (lead == 1) & (at_start | (a == 0))
            lead = np.where(keep, 0, lead)
        a = np.minimum(a + lead, b)
        b = np.where((trail > 0) & (b >= trail), np.maximum(b - trail, a), b)

    itos = tok._itos_array()
    ids_l, tok_l = ids.tolist(), itos[ids].tolist()
    a_l, b_l = a.tolist(), b.tolist()
    out = []
    for s, n in zip(bounds.tolist(), per_text.tolist()):
        e = s + n
        out.append((ids_l[s:e], tok_l[s:e], list(zip(a_l[s:e], b_l[s:e]))))
    return out
