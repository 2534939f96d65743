"""emberaudio: audio I/O, transforms, datasets, models and a spoken-digit trainer for Ember (torchaudio's API)."""

from ._version import __version__

__all__ = ["__version__"]
