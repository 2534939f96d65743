"""PyTorch's module path for the instance-norm layers (defined in ``normalization``)."""

from .normalization import LazyInstanceNorm1d, LazyInstanceNorm2d, LazyInstanceNorm3d, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, _InstanceNorm  # noqa: F401

__all__ = []
