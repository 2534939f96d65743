"""``bleu_score`` with torchtext's definition (corpus BLEU, clipped n-gram counts, brevity penalty)."""

from __future__ import annotations

import collections
import math

import numpy as np

from .utils import ngrams_iterator

__all__ = ["bleu_score"]


def _ngram_counter(tokens, max_n):
    return collections.Counter(tuple(x.split(" ")) for x in ngrams_iterator(tokens, max_n))


def bleu_score(candidate_corpus, references_corpus, max_n: int = 4, weights=(0.25,) * 4) -> float:
    r"""Corpus BLEU of candidate translations against their references (Papineni et al., 2002).

    Args:
        candidate_corpus: candidate translations, each a list of tokens.
        references_corpus: for each candidate, a list of reference translations (lists of tokens).
        max_n: the largest n-gram order. Default: 4.
        weights: one weight per order. Default: uniform.

    Returns 0.0 when some order has no matching n-gram. As in torchtext, the geometric mean of the
    precisions is a float32 number (then multiplied by the brevity penalty in float64).

    Example:
        >>> bleu_score([["My", "full", "pytorch", "test"], ["Another", "Sentence"]],
        ...            [[["My", "full", "pytorch", "test"], ["Completely", "Different"]], [["No", "Match"]]])
        0.8408964276313782
    """
    if max_n != len(weights):
        raise AssertionError('Length of the "weights" list has be equal to max_n')
    if len(candidate_corpus) != len(references_corpus):
        raise AssertionError("The length of candidate and reference corpus should be the same")
    clipped = np.zeros(max_n, dtype=np.float32)
    total = np.zeros(max_n, dtype=np.float32)
    cand_len = refs_len = 0.0
    for candidate, refs in zip(candidate_corpus, references_corpus):
        n = len(candidate)
        cand_len += n
        refs_len += min((float(len(r)) for r in refs), key=lambda x: abs(n - x))
        ref_counts = _ngram_counter(refs[0], max_n)
        for ref in refs[1:]:
            ref_counts |= _ngram_counter(ref, max_n)
        for gram, count in (_ngram_counter(candidate, max_n) & ref_counts).items():
            clipped[len(gram) - 1] += count
        total += np.maximum(n - np.arange(max_n), 0).astype(np.float32)
    if clipped.min() == 0:
        return 0.0
    p = (clipped / total).astype(np.float64)
    score = np.float32(np.exp(np.dot(np.asarray(weights, dtype=np.float64), np.log(p))))
    bp = math.exp(min(1 - refs_len / cand_len, 0))
    return bp * float(score)
