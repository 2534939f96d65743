"""embertext: tokenizers, vocabularies, text datasets, models and a sentiment trainer for Ember (torchtext's API)."""

from ._version import __version__
from . import data, functional, tokenizers, transforms, vocab

__all__ = ["__version__", "data", "functional", "tokenizers", "transforms", "vocab"]
