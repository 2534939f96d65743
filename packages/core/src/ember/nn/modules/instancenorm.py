"""PyTorch's module path for the instance-norm layers (defined in ``normalization``)."""

from .normalization import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, _InstanceNorm  # noqa: F401

__all__ = []
