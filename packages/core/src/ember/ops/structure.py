"""Tensors built from the structure of others: kron, block_diag, cartesian_prod, combinations, rot90, vander;
and set-like queries: isin, unique_consecutive."""

from __future__ import annotations

import itertools

from .. import dtypes
from ..tensor import Tensor
from ._common import bind, wrap_dim, xp_of


def _index(xp, values):
    return Tensor._make(xp.asarray(values, dtype="int64"))


def kron(input, other, *, out=None):
    """The Kronecker product of ``input`` and ``other`` (dimensions aligned from the right)."""
    nd = max(input._data.ndim, other._data.ndim)
    a = input.reshape((1,) * (nd - input._data.ndim) + tuple(input._data.shape))
    b = other.reshape((1,) * (nd - other._data.ndim) + tuple(other._data.shape))
    # a[i0, 1, i1, 1, ...] * b[1, j0, 1, j1, ...] -> shape (i0 * j0, i1 * j1, ...)
    a_shape, b_shape = [], []
    for sa, sb in zip(a._data.shape, b._data.shape):
        a_shape += [sa, 1]
        b_shape += [1, sb]
    prod = a.reshape(a_shape) * b.reshape(b_shape)
    return prod.reshape([sa * sb for sa, sb in zip(a._data.shape, b._data.shape)])


def block_diag(*tensors):
    """A block-diagonal matrix of the given 0-, 1- or 2-D tensors."""
    from .joining import cat

    mats = []
    for i, t in enumerate(tensors):
        if t._data.ndim > 2:
            raise RuntimeError(
                f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has "
                f"{t._data.ndim} dimensions"
            )
        mats.append(t.reshape(1, -1) if t._data.ndim < 2 else t)
    if not mats:
        from ..creation import empty

        return empty(1, 0)
    dt = dtypes.result_type(*tensors)  # PyTorch's result_type: a 0-d block ranks below the others
    cols = sum(m._data.shape[1] for m in mats)
    rows, left = [], 0
    for m in mats:
        r, c = m._data.shape
        parts = [m.new_zeros((r, left), dtype=dt), m.to(dt), m.new_zeros((r, cols - left - c), dtype=dt)]
        rows.append(cat(parts, 1))
        left += c
    return cat(rows, 0)


def _check_1d(tensors):
    for t in tensors:
        if t._data.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t._data.shape)}")


def cartesian_prod(*tensors):
    """All combinations of one element from each 1-D tensor, as rows (a 1-D tensor for one input)."""
    from .joining import meshgrid, stack

    _check_1d(tensors)
    if len(tensors) == 1:
        return tensors[0]
    if any(t.dtype is not tensors[0].dtype for t in tensors):  # PyTorch's meshgrid check (no promotion)
        raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    grids = meshgrid(*tensors, indexing="ij")
    return stack([g.reshape(-1) for g in grids], 1)


def combinations(input, r=2, with_replacement=False):
    """The length-``r`` combinations of the elements of the 1-D ``input``, as rows."""
    from .joining import stack

    _check_1d([input])
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    xp = xp_of(input._data)
    if r == 0:
        return input.new_empty((0,))
    n = input._data.shape[0]
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    idx = list(pick(range(n), r))
    # no combinations: r empty columns, still picked from input (the result requires grad when it does)
    cols = xp.asarray(idx, dtype="int64").T if idx else xp.zeros((r, 0), dtype="int64")
    return stack([input.index_select(0, Tensor._make(c)) for c in cols], 1)


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees ``k`` times in the plane of ``dims`` (from the first towards the second axis)."""
    from .shape import flip, transpose

    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    nd = input._data.ndim
    if nd < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {nd}")
    d0, d1 = wrap_dim(dims[0], nd), wrap_dim(dims[1], nd)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    k %= 4
    if k == 1:
        return transpose(flip(input, (d1,)), d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    if k == 3:
        return flip(transpose(input, d0, d1), (d1,))
    return input.clone()


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of the 1-D ``x``: columns ``x ** (N-1), ..., x ** 0`` (reversed if ``increasing``)."""
    from .reduction import cumprod
    from .joining import cat

    if x._data.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x._data.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    dt = dtypes.promote_types(x.dtype, dtypes.int64)
    col = x.to(dt).unsqueeze(1)
    if n == 0:
        return col.new_empty((x._data.shape[0], 0))
    ones = col.new_ones((x._data.shape[0], 1))
    out = ones if n == 1 else cat([ones, cumprod(col.expand(x._data.shape[0], n - 1), 1)], 1)
    return out if increasing else out.flip((1,))


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each of ``elements`` occurs in ``test_elements`` (a bool tensor shaped like ``elements``)."""
    like = elements if isinstance(elements, Tensor) else test_elements
    xp = xp_of(like._data)
    e = elements._data if isinstance(elements, Tensor) else xp.asarray(elements)
    t = test_elements._data if isinstance(test_elements, Tensor) else xp.asarray(test_elements)
    return Tensor._make(xp.asarray(xp.isin(e, t, assume_unique=assume_unique, invert=invert)))


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapse each run of equal consecutive elements (or slices along ``dim``) to one."""
    arr = input._data
    xp = xp_of(arr)
    if dim is None:
        flat = arr.reshape(-1)
        change = flat[1:] != flat[:-1]
        n = flat.shape[0]
    else:
        d = wrap_dim(dim, arr.ndim)
        moved = xp.moveaxis(arr, d, 0).reshape(arr.shape[d], -1)
        change = (moved[1:] != moved[:-1]).any(1)
        n = arr.shape[d]
    starts = xp.concatenate([xp.zeros(1 if n else 0, dtype=bool), change]) if n else xp.zeros(0, dtype=bool)
    group = xp.cumsum(starts).astype("int64")
    first = xp.flatnonzero(xp.concatenate([xp.ones(1, dtype=bool), change])) if n else xp.zeros(0, "int64")
    if dim is None:
        values = Tensor._make(flat[first])
    else:
        values = input.index_select(d, Tensor._make(first.astype("int64")))
    out = [values]
    if return_inverse:
        out.append(Tensor._make(group.reshape(arr.shape if dim is None else (-1,))))
    if return_counts:
        bounds = xp.concatenate([first, xp.asarray([n])]).astype("int64")
        out.append(Tensor._make(xp.diff(bounds)))
    return out[0] if len(out) == 1 else tuple(out)


def _put(self, index, source, accumulate=False):
    """Out-of-place version of :meth:`put_`."""
    return self.clone().put_(index, source, accumulate)


bind(kron=kron, rot90=rot90, isin=isin, unique_consecutive=unique_consecutive, put=_put)

__all__ = ["kron", "block_diag", "cartesian_prod", "combinations", "rot90", "vander", "isin",
           "unique_consecutive"]
