"""``ember.utils``: data loading and other helpers."""

from . import data

__all__ = ["data"]
from . import archive, checkpoint, dlpack, safetensors  # noqa: E402
