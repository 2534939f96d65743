"""Sorting and selection: sort, argsort, topk, kthvalue, unique, searchsorted."""

from __future__ import annotations

from ..autograd.function import Primitive
from ..tensor import Tensor
from ._common import alias_globals, as_1d_if_0d, bind, check_reduce_dims, wrap_dim, xp_of
from .reduction import _return_type
from ..dtypes import np_kind as _np_kind


class Sort(Primitive):
    """Values picked along ``dim`` at ``idx`` (from a sort/topk); the gradient scatters back."""

    @staticmethod
    def forward(ctx, a, dim, idx):
        ctx.shape, ctx.dim, ctx.idx = a._data.shape, dim, idx
        return xp_of(a._data).take_along_axis(a._data, idx, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        from .indexing import scatter_add

        return scatter_add(grad.new_zeros(ctx.shape), ctx.dim, Tensor._make(ctx.idx), grad), None, None


def sort(input, dim=-1, descending=False, stable=False, *, out=None):
    """``(values, indices)`` sorted along ``dim`` (a stable sort: equal values keep their order)."""
    xp = xp_of(input._data)
    if _np_kind(input._data.dtype) == "c":
        raise RuntimeError(" Sort does not support complex dtypes on CPU")
    if input._data.ndim == 0:
        wrap_dim(dim, 0)
        return _return_type("sort")(input, Tensor._make(xp.zeros((), dtype="int64")))
    d = wrap_dim(dim, input._data.ndim)
    arr = input._data
    if descending:
        idx = xp.argsort(_descending_key(xp, arr), axis=d, kind="stable")
    else:
        idx = xp.argsort(arr, axis=d, kind="stable")
    idx = idx.astype("int64")
    return _return_type("sort")(Sort.apply(input, d, idx), Tensor._make(idx))


def _descending_key(xp, arr):
    """Keys whose ascending stable order is ``arr``'s descending order, NaN first (PyTorch's order)."""
    if arr.dtype.kind == "f":
        key = -arr
        return xp.where(xp.isnan(arr), -xp.inf, key) if bool(xp.isnan(arr).any()) else key
    if arr.dtype.kind == "b":
        return ~arr
    return -arr if arr.dtype.kind == "i" and arr.dtype.itemsize == 8 else -arr.astype("int64")


def argsort(input, dim=-1, descending=False, stable=False):
    return sort(input, dim, descending, stable).indices


def msort(input):
    return sort(input, 0).values


def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    """The ``k`` largest (or smallest) values along ``dim`` and their indices."""
    if isinstance(input, Tensor) and input._data.ndim == 0 and k == 0:  # PyTorch gives the scalar back
        wrap_dim(dim, 0)
        return _return_type("topk")(input, Tensor._make(xp_of(input._data).zeros((), dtype="int64")))
    return _topk(input, k, dim, largest, sorted)


# k at most n / this: the sorted top k from a partition and a sort of the k (1M elements, k 100: 113 -> ~10 ms)
_TOPK_PARTITION_RATIO = 8


def _rows_along(xp, arr, d):
    """``(rows, lead)``: a real NumPy array's lines along ``d`` as rows (-1, n) and the shape of the other
    axes; None for another array type, a complex dtype, or NaN (comparisons do not order it as the sort)."""
    if xp.__name__ != "numpy" or arr.dtype.kind not in "fiub":
        return None
    rows = xp.moveaxis(arr, d, -1)
    lead = rows.shape[:-1]
    rows = rows.reshape(-1, rows.shape[-1])
    if rows.dtype.kind == "f" and bool(xp.isnan(rows).any()):
        return None
    return rows, lead


def _first_k_stable(xp, key, k, d):
    """The indices of the k smallest keys along ``d`` in stable ascending order (the first k of a stable
    argsort, ties by index) in O(n) passes: the k-th key by a partition, the keys below it and the first of
    those equal to it, then a stable sort of those k. None where NaN keys are present (their order differs
    from comparisons') or for a non-NumPy array."""
    found = _rows_along(xp, key, d)
    if found is None:
        return None
    rows, lead = found
    kth = xp.partition(rows, k - 1, axis=-1)[:, k - 1:k]
    below, equal = rows < kth, rows == kth
    take = below | (equal & (xp.cumsum(equal, axis=-1) <= k - below.sum(-1, keepdims=True)))
    idx = xp.nonzero(take)[1].reshape(-1, k)  # each row's k positions, ascending
    idx = xp.take_along_axis(idx, xp.argsort(xp.take_along_axis(rows, idx, -1), axis=-1, kind="stable"), -1)
    return xp.moveaxis(idx.reshape(lead + (k,)), -1, d)


def kth_stable(xp, arr, k, d):
    """The index (size 1 along ``d``) of the element at position ``k`` of a stable ascending sort of ``arr``
    along ``d`` (of equal values the (k - smaller)-th in index order), in O(n) passes: the value by a
    partition, the index by counting. None where NaN is present or for a non-NumPy array (the sort then)."""
    found = _rows_along(xp, arr, d)
    if found is None:
        return None
    rows, lead = found
    value = xp.partition(rows, k, axis=-1)[:, k:k + 1]
    rank = k - (rows < value).sum(-1, keepdims=True)  # how many equal values precede it in the sort
    idx = xp.argmax(xp.cumsum(rows == value, axis=-1) > rank, axis=-1)
    return xp.moveaxis(idx.reshape(lead + (1,)), -1, d).astype("int64")


@as_1d_if_0d
def _topk(input, k, dim=-1, largest=True, sorted=True):
    xp = xp_of(input._data)
    if _np_kind(input._data.dtype) == "c":
        raise RuntimeError("topk does not support complex dtypes")
    d = wrap_dim(dim, max(input._data.ndim, 1))
    n = input._data.shape[d] if input._data.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError("selected index k out of range")
    arr = input._data
    key = _descending_key(xp, arr) if largest else arr
    if k < n and not sorted:
        idx = xp.argpartition(key, k - 1, axis=d)
        idx = xp.take(idx, xp.arange(k), axis=d)
    else:
        idx = _first_k_stable(xp, key, k, d) if 0 < k and k * _TOPK_PARTITION_RATIO <= n else None
        if idx is None:
            idx = xp.argsort(key, axis=d, kind="stable")
            idx = xp.take(idx, xp.arange(k), axis=d)
    idx = idx.astype("int64")
    return _return_type("topk")(Sort.apply(input, d, idx), Tensor._make(idx))


@as_1d_if_0d
def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    """The ``k``-th smallest value along ``dim`` (1-based) and its index."""
    d = wrap_dim(dim, input._data.ndim)
    check_reduce_dims("kthvalue", input._data.shape, (d,))
    if not 1 <= k <= input._data.shape[d]:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    vals, idx = sort(input, dim)
    from .shape import narrow, squeeze

    v, i = narrow(vals, d, k - 1, 1), narrow(idx, d, k - 1, 1)
    if not keepdim:
        v, i = squeeze(v, d), squeeze(i, d)
    return _return_type("kthvalue")(v, i)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """Unique elements (sorted), optionally with the inverse map and the counts."""
    xp = xp_of(input._data)
    if dim is not None:
        res = xp.unique(input._data, return_inverse=True, return_counts=True, axis=dim)
    else:
        res = xp.unique(input._data.reshape(-1), return_inverse=True, return_counts=True)
    values, inverse, counts = res
    out = [Tensor._make(values)]
    if return_inverse:
        out.append(Tensor._make(inverse.reshape(input._data.shape if dim is None else -1).astype("int64")))
    if return_counts:
        out.append(Tensor._make(counts.astype("int64")))
    return out[0] if len(out) == 1 else tuple(out)


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    xp = xp_of(sorted_sequence._data)
    side = side or ("right" if right else "left")
    seq, vals = sorted_sequence._data, input._data if isinstance(input, Tensor) else xp.asarray(input)
    if seq.ndim == 1:
        res = xp.searchsorted(seq, vals, side=side)
    else:
        res = xp.stack([xp.searchsorted(s, v, side=side) for s, v in zip(seq.reshape(-1, seq.shape[-1]), vals.reshape(-1, vals.shape[-1]))]).reshape(vals.shape)
    return Tensor._make(xp.asarray(res).astype("int32" if out_int32 else "int64"))


def bucketize(input, boundaries, *, out_int32=False, right=False):
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


alias_globals(globals(), ["sort", "argsort", "topk"])
bind(sort=sort, argsort=argsort, msort=msort, topk=topk, kthvalue=kthvalue, unique=unique)

__all__ = ["sort", "argsort", "msort", "topk", "kthvalue", "unique", "searchsorted", "bucketize"]
