"""``ember.functional``: PyTorch's ``torch.functional`` module (einsum, split, meshgrid, norm, ...).

Most names are ember's tensor functions re-exported; ``cartesian_prod``, ``block_diag``, ``chain_matmul``,
``unravel_index`` and ``unique_consecutive`` are composites defined here. ``stft``/``istft``, ``lu`` and
the low-rank decompositions are not provided.
"""

from __future__ import annotations

import itertools
import operator
import warnings

from . import backend, dtypes
from .ops.broadcast import broadcast_shapes, broadcast_tensors
from .ops.distance import cdist
from .ops.joining import cat, meshgrid, split, stack
from .ops.linalg import einsum, matmul, tensordot
from .ops.reduction import norm
from .ops.shape import atleast_1d, atleast_2d, atleast_3d
from .ops.sorting import unique
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


def cartesian_prod(*tensors):
    """The Cartesian product of 1-D tensors, as rows of a 2-D tensor (one tensor: returned as is)."""
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([g.reshape(-1) for g in grids], dim=1)


def block_diag(*tensors):
    """A block-diagonal matrix of the given 0-, 1- or 2-D tensors (a 1-D tensor is one row)."""
    from .creation import zeros

    if not tensors:
        return zeros(1, 0)
    blocks = []
    for i, t in enumerate(tensors):
        if t.dim() > 2:
            raise RuntimeError(
                f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has {t.dim()} dimensions"
            )
        blocks.append(t.reshape(1, 1) if t.dim() == 0 else t.reshape(1, -1) if t.dim() == 1 else t)
    dt = blocks[0].dtype
    for b in blocks[1:]:
        dt = dtypes.promote_types(dt, b.dtype)
    device = blocks[0].device
    total = sum(b.shape[1] for b in blocks)
    rows, left = [], 0
    for b in blocks:
        r, c = b.shape
        parts = [zeros(r, left, dtype=dt, device=device), b.to(dt), zeros(r, total - left - c, dtype=dt, device=device)]
        rows.append(cat(parts, dim=1))
        left += c
    return cat(rows, dim=0)


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


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapse each run of equal consecutive elements (of the flattened tensor) to one element."""
    if dim is not None:
        raise NotImplementedError("ember's unique_consecutive supports dim=None only")
    flat = input.reshape(-1)
    arr = flat._data
    xp = backend.array_module(arr)
    if arr.size == 0:
        starts = xp.zeros(0, dtype=bool)
    else:
        starts = xp.concatenate([xp.ones(1, dtype=bool), arr[1:] != arr[:-1]])
    values = Tensor._make(arr[starts])
    out = [values]
    if return_inverse:
        out.append(Tensor._make((xp.cumsum(starts) - 1).astype("int64").reshape(input._data.shape)))
    if return_counts:
        pos = xp.flatnonzero(starts)
        ends = xp.concatenate([pos[1:], xp.asarray([arr.size])]) if arr.size else pos
        out.append(Tensor._make((ends - pos).astype("int64")))
    return out[0] if len(out) == 1 else tuple(out)
