"""``index_reduce``: reduce slices of ``source`` into ``input`` at ``index`` along ``dim`` (prod, mean, amax,
amin), with PyTorch's gradients (ties in amax/amin share the gradient evenly)."""

from __future__ import annotations

from ._common import apply_inplace, bind, inplace_source, wrap_dim

_REDUCES = ("prod", "mean", "amax", "amin")


def _expanded_index(index, dim, shape):
    view = [1] * len(shape)
    view[dim] = shape[dim]
    return index.reshape(view).expand(tuple(shape))


def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """``input`` with the slices ``source.select(dim, i)`` reduced into ``input.select(dim, index[i])``."""
    from .indexing import index_add, scatter_reduce
    from .selection import where

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
    idx = _expanded_index(index, d, source._data.shape)
    if reduce == "mean":  # scatter_reduce's mean is built from differentiable scatter_adds
        return scatter_reduce(input, d, idx, source, "mean", include_self=include_self)
    result = scatter_reduce(input.detach(), d, idx, source.detach(), reduce, include_self=include_self)
    if not (input.requires_grad or source.requires_grad):
        return result
    # value-free terms carrying the gradient: d result / d x for each contributing element x
    dx_in, dx_src = input - input.detach(), source - source.detach()
    picked = result.index_select(d, index)
    touched = index_add(input.new_zeros(input.shape), d, index, source.new_ones(source.shape).to(input.dtype)) > 0
    if reduce == "prod":
        safe_in = where(input.detach() == 0, 1.0, input.detach())
        safe_src = where(source.detach() == 0, 1.0, source.detach())
        d_in = where(input.detach() == 0, 0.0, result / safe_in)
        d_src = where(source.detach() == 0, 0.0, picked / safe_src)
    else:
        hit_in = (input.detach() == result).to(input.dtype)
        if not include_self:
            hit_in = where(touched, 0.0, hit_in)
        hit_src = (source.detach() == picked).to(source.dtype)
        count = hit_in + index_add(input.new_zeros(input.shape), d, index, hit_src)
        count = where(count == 0, 1.0, count)
        d_in = hit_in / count
        d_src = hit_src / count.index_select(d, index)
    if not include_self and reduce == "prod":
        d_in = where(touched, 0.0, d_in)
    carry = d_in.detach() * dx_in
    return result + carry + index_add(input.new_zeros(input.shape), d, index, d_src.detach() * dx_src)


def _index_reduce_(self, dim, index, source, reduce, *, include_self=True):
    """In-place version of :meth:`index_reduce`."""
    return apply_inplace(self, index_reduce(inplace_source(self), dim, index, source, reduce,
                                            include_self=include_self))


bind(index_reduce=index_reduce, index_reduce_=_index_reduce_)

__all__ = ["index_reduce"]
