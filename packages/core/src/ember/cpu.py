"""``ember.cpu``: PyTorch's CPU device module (``ember.cpu.amp.autocast``, availability queries)."""

from .amp import cpu_amp as amp

__all__ = ["amp", "is_available", "device_count", "current_device", "synchronize"]


def is_available() -> bool:
    return True


def device_count() -> int:
    return 1


def current_device() -> str:
    return "cpu"


def synchronize(device=None) -> None:
    """CPU work is synchronous: nothing to wait for."""
