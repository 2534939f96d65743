"""The BPE merge trainer shared by byte-level BPE and WordPiece (Hugging Face ``BpeTrainer``'s rules).

Each step merges the most frequent adjacent pair, ties going to the pair with the smaller ids; pair counts
are updated only in the words holding the merged pair, and a lazy heap finds the next best pair.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict

__all__ = ["train_bpe"]


def _alphabet(word_counts, initial_alphabet, limit_alphabet):
    counts = Counter()
    for word, n in word_counts.items():
        for ch in word:
            counts[ch] += n
    big = max(counts.values(), default=0) + 1
    for ch in initial_alphabet:
        counts[ch] = big + 1  # always kept
    if limit_alphabet is not None and len(counts) > limit_alphabet:
        kept = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit_alphabet]
        counts = dict(kept)
    return sorted(counts)


def train_bpe(word_counts: dict, vocab_size: int, min_frequency: int, special_tokens, initial_alphabet=(),
              limit_alphabet=None, prefix: str = ""):
    r"""Learn merges from ``word_counts`` (word string -> count).

    Returns ``(vocab, merges)``: ``vocab`` maps token -> id (specials first, then the alphabet sorted by
    code point, then ``prefix``-ed continuation characters, then merged tokens in merge order) and
    ``merges`` lists the merged pairs ``(left, right)`` in order.
    """
    itos: list[str] = []
    stoi: dict[str, int] = {}

    def add(token):
        if token not in stoi:
            stoi[token] = len(itos)
            itos.append(token)
        return stoi[token]

    for tok in special_tokens:
        add(tok)
    alphabet = _alphabet(word_counts, initial_alphabet, limit_alphabet)
    for ch in alphabet:
        add(ch)
    allowed = set(alphabet)

    words, counts = [], []
    for word, n in word_counts.items():
        ids = []
        for i, ch in enumerate(word):
            if ch in allowed:
                ids.append(add(prefix + ch if (prefix and i) else ch))
        words.append(ids)
        counts.append(n)

    pair_counts: dict[tuple[int, int], int] = defaultdict(int)
    where: dict[tuple[int, int], set] = defaultdict(set)
    for w, (ids, n) in enumerate(zip(words, counts)):
        for pair in zip(ids, ids[1:]):
            pair_counts[pair] += n
            where[pair].add(w)
    heap = [(-c, a, b) for (a, b), c in pair_counts.items() if c > 0]
    heapq.heapify(heap)
    merges: list[tuple[str, str]] = []
    strip = len(prefix)

    while len(itos) < vocab_size and heap:
        neg, a, b = heapq.heappop(heap)
        current = pair_counts.get((a, b), 0)
        if -neg != current:  # stale entry: re-queue with its current count
            if current > 0:
                heapq.heappush(heap, (-current, a, b))
            continue
        if current < 1 or current < min_frequency:
            break
        left, right = itos[a], itos[b]
        new = add(left + (right[strip:] if prefix and right.startswith(prefix) else right))
        merges.append((left, right))
        touched = set()
        for w in where.pop((a, b), ()):
            ids, n = words[w], counts[w]
            if len(ids) < 2:
                continue
            for pair in zip(ids, ids[1:]):
                pair_counts[pair] -= n
            out, i, m = [], 0, len(ids)
            while i < m:
                if i + 1 < m and ids[i] == a and ids[i + 1] == b:
                    out.append(new)
                    i += 2
                else:
                    out.append(ids[i])
                    i += 1
            words[w] = out
            for pair in zip(out, out[1:]):
                pair_counts[pair] += n
                if new in pair:
                    where[pair].add(w)
                    touched.add(pair)
        pair_counts.pop((a, b), None)
        for pair in touched:
            c = pair_counts[pair]
            if c > 0:
                heapq.heappush(heap, (-c, pair[0], pair[1]))
    return stoi, merges
