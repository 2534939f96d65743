"""embervision: image datasets, transforms, models and utilities for Ember (torchvision's API)."""

from ._version import __version__
from . import datasets, io, models, transforms, utils

__all__ = ["__version__", "datasets", "io", "models", "transforms", "utils"]
