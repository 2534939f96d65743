"""embertext: tokenizers, vocabularies, text datasets, models and a sentiment trainer for Ember (torchtext's API)."""

from ._version import __version__

__all__ = ["__version__"]
