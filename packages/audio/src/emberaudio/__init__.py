"""emberaudio: audio I/O, transforms, datasets, models and a spoken-digit trainer for Ember (torchaudio's API)."""

from . import datasets, functional, models, transforms
from ._io import AudioMetaData, info, load, save
from ._version import __version__

__all__ = ["AudioMetaData", "__version__", "datasets", "functional", "info", "models", "load", "save", "transforms"]
