"""PyTorch's module path for the batch-norm layers (defined in ``normalization``)."""

from .normalization import LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d, BatchNorm1d, BatchNorm2d, BatchNorm3d, _BatchNorm, _NormBase  # noqa: F401
from .syncbatchnorm import SyncBatchNorm  # noqa: F401

__all__ = []
