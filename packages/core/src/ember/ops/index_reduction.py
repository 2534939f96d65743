"""``index_reduce``: reduce slices of ``source`` into ``input`` at ``index`` along ``dim`` (prod, mean, amax,
amin), with PyTorch's gradients (those of scatter_reduce: ties in amax/amin share the gradient evenly)."""

from __future__ import annotations

from ._common import apply_inplace, bind, inplace_source, wrap_dim

_REDUCES = ("prod", "mean", "amax", "amin")


def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """``input`` with the slices ``source.select(dim, i)`` reduced into ``input.select(dim, index[i])``."""
    from .indexing import expanded_index, scatter_reduce

    if reduce not in _REDUCES:
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}.")
    if index._data.dtype.kind not in "iu":
        from .unary import scalar_type_name

        raise RuntimeError(f"index_reduce_(): Expected dtype int32/int64 for index but got: "
                           f"{scalar_type_name(index._data.dtype)}")
    if index._data.ndim > 1:
        raise IndexError("index_reduce_(): Index is supposed to be a vector")
    d = wrap_dim(dim, max(input._data.ndim, 1))
    if (source._data.shape[d] if source._data.ndim else 1) != index._data.shape[0]:
        raise RuntimeError("index_reduce_(): Number of indices should be equal to source.size(dim)")
    # one scatter_reduce along the expanded index: PyTorch's index_reduce gradients are scatter_reduce's with
    # index_select/index_add in place of gather/scatter_add (the same numbers)
    return scatter_reduce(input, d, expanded_index(index, d, source._data.shape), source, reduce,
                          include_self=include_self)


def _index_reduce_(self, dim, index, source, reduce, *, include_self=True):
    """In-place version of :meth:`index_reduce`."""
    return apply_inplace(self, index_reduce(inplace_source(self), dim, index, source, reduce,
                                            include_self=include_self))


bind(index_reduce=index_reduce, index_reduce_=_index_reduce_)

__all__ = ["index_reduce"]
