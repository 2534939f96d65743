"""embertext: tokenizers, vocabularies, text datasets, models and a sentiment trainer for Ember (torchtext's API)."""

from ._version import __version__
from . import data, datasets, functional, models, tokenizers, transforms, vocab

__all__ = ["__version__", "data", "datasets", "functional", "models", "tokenizers", "transforms", "vocab"]
