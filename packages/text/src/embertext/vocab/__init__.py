"""Vocabularies and pretrained word vectors (torchtext.vocab's API)."""

from .vectors import CharNGram, FastText, GloVe, Vectors, pretrained_aliases
from .vocab import Vocab
from .vocab_factory import build_vocab_from_iterator, vocab

__all__ = ["Vocab", "vocab", "build_vocab_from_iterator", "Vectors", "GloVe", "FastText", "CharNGram",
           "pretrained_aliases"]
