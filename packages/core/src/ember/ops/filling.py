"""In-place writes of whole tensors: ``copy_``, ``fill_``, ``zero_``, ``fill_diagonal_``."""

from __future__ import annotations

from .. import backend
from ..autograd.function import Primitive
from ..autograd.grad_mode import STATE
from ..tensor import Tensor
from ._common import apply_inplace, bind, check_inplace, check_scalar_fits, xp_of


def _source_array(self, src):
    """``src`` as an array on ``self``'s device, broadcast to ``self``'s shape (dtype cast happens on write)."""
    dst = self._data
    if isinstance(src, Tensor):
        arr = src._data
        if type(arr) is not type(dst):
            arr = backend.to_device(arr, backend.device_of(dst))
    else:
        arr = xp_of(dst).asarray(src)
    try:
        return xp_of(dst).broadcast_to(arr, dst.shape)
    except ValueError:
        raise RuntimeError(
            f"The size of tensor a ({list(dst.shape)}) must match the size of tensor b ({list(arr.shape)}) "
            "at non-singleton dimension"
        ) from None


class CopyFrom(Primitive):
    """The value of ``self`` after ``self.copy_(src)``: its gradient flows to ``src`` only."""

    @staticmethod
    def forward(ctx, self, src):
        if ctx.needs_input_grad is not None:
            ctx.src_shape = tuple(src.shape)
            ctx.src_dtype = src.dtype
            ctx.src_device = src.device
        out = _source_array(self, src)
        return out.astype(self._data.dtype, copy=True)

    @staticmethod
    def backward(ctx, grad):
        need_self, need_src = ctx.needs_input_grad
        g_self = grad * 0 if need_self else None
        g_src = None
        if need_src:
            g_src = grad.sum_to_size(ctx.src_shape) if tuple(grad.shape) != ctx.src_shape else grad
            if g_src.dtype != ctx.src_dtype:
                g_src = g_src.to(ctx.src_dtype)
            if g_src.device != ctx.src_device:
                g_src = g_src.to(ctx.src_device)
        return g_self, g_src


def copy_(self, src, non_blocking=False):
    """Copy ``src`` (broadcast, cast, moved across devices) into ``self``; returns ``self``."""
    if STATE.enabled and (self._requires_grad or (isinstance(src, Tensor) and src._requires_grad)):
        check_inplace(self)
        return apply_inplace(self, CopyFrom.apply(self, src))
    xp_of(self._data).copyto(self._data, _source_array(self, src), casting="unsafe")
    self._version_counter.value += 1
    return self


def fill_(self, value):
    """Fill ``self`` with ``value`` (a number or a 0-dim tensor); returns ``self``."""
    if isinstance(value, Tensor) and value.dim() != 0:
        raise RuntimeError(
            f"fill_ only supports 0-dimension value tensor but got tensor with {value.dim()} dimensions."
        )
    if not isinstance(value, Tensor):
        check_scalar_fits(value, self._data.dtype)
    return copy_(self, value)


def zero_(self):
    """Fill ``self`` with zeros; returns ``self``."""
    return copy_(self, 0)


def fill_diagonal_(self, fill_value, wrap=False):
    """Fill the main diagonal of a 2-D (or all-equal-dims) tensor with ``fill_value``; with ``wrap``, a tall
    matrix's diagonal restarts every ``cols + 1`` rows. Recorded by autograd (the filled elements get no
    gradient)."""
    from .indexing import setitem

    arr = self._data
    if arr.ndim < 2:
        raise RuntimeError("dimensions must larger than 1")
    if arr.ndim > 2 and len(set(arr.shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    xp = xp_of(arr)
    if arr.ndim == 2:
        rows, cols = arr.shape
        if wrap and rows > cols:
            r = xp.arange(rows)
            r = r[(r % (cols + 1)) < cols]
            key = (r, r % (cols + 1))
        else:
            n = xp.arange(min(rows, cols))
            key = (n, n)
    else:
        key = (xp.arange(arr.shape[0]),) * arr.ndim
    check_scalar_fits(fill_value, arr.dtype)
    if key[0].size == 0:
        return self
    # (a negative int wraps into an unsigned dtype, as PyTorch's cast does)
    setitem(self, key, Tensor._make(xp.asarray(fill_value).astype(arr.dtype)))
    return self


bind(copy_=copy_, fill_=fill_, zero_=zero_, fill_diagonal_=fill_diagonal_)

__all__ = []
