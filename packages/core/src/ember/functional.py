"""``ember.functional``: PyTorch's ``torch.functional`` module (einsum, split, meshgrid, norm, ...).

Most names are ember's tensor functions re-exported; ``cartesian_prod``, ``block_diag``, ``chain_matmul``,
``unravel_index`` and ``unique_consecutive`` are composites defined here. ``stft``/``istft``, ``lu`` and
the low-rank decompositions are not provided.
"""

from __future__ import annotations

import itertools
import operator
import warnings

from . import dtypes
from .ops.broadcast import broadcast_shapes, broadcast_tensors
from .ops.distance import cdist
from .ops.joining import meshgrid, split
from .ops.linalg import einsum, matmul, tensordot
from .ops.reduction import norm
from .ops.shape import atleast_1d, atleast_2d, atleast_3d
from .ops.sorting import unique
from .ops.structure import block_diag, cartesian_prod, unique_consecutive
from .tensor import Tensor

__all__ = [
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "block_diag",
    "broadcast_shapes",
    "broadcast_tensors",
    "cartesian_prod",
    "cdist",
    "chain_matmul",
    "einsum",
    "meshgrid",
    "norm",
    "split",
    "tensordot",
    "unique",
    "unique_consecutive",
    "unravel_index",
]


def chain_matmul(*matrices, out=None):
    """The product of 2-D matrices (deprecated in PyTorch in favour of ``linalg.multi_dot``)."""
    warnings.warn(
        "torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use torch.linalg.multi_dot "
        "instead, which accepts a list of two or more tensors rather than multiple parameters.",
        UserWarning,
        stacklevel=2,
    )
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    result = matrices[0]
    for m in matrices[1:]:
        result = matmul(result, m)
    if out is not None:
        out.copy_(result)
        return out
    return result


def unravel_index(indices, shape):
    """The coordinates (a tuple of int64 tensors) of flat ``indices`` in an array of ``shape``."""
    from .creation import tensor

    if not isinstance(indices, Tensor):
        indices = tensor(indices)
    if indices.is_complex() or indices.is_floating_point() or indices.dtype is dtypes.bool_:
        raise TypeError(f"expected 'indices' to be integer dtype, but got {str(indices.dtype).replace('ember', 'torch')}")
    if isinstance(shape, int):
        shape = (shape,)
    for d in shape:
        if not isinstance(d, int):
            raise TypeError(f"expected 'shape' sequence to only contain ints, but got {type(d)}")
    shape = tuple(shape)
    if any(d < 0 for d in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {shape}")
    coefs = list(reversed(list(itertools.accumulate(reversed((*shape[1:], 1)), func=operator.mul))))
    dev = indices.device
    coords = indices.unsqueeze(-1).floor_divide(tensor(coefs, dtype=dtypes.int64, device=dev)) % tensor(
        shape, dtype=dtypes.int64, device=dev)
    return tuple(coords.unbind(-1))


