"""Broadcasting as ops: expand / broadcast_to and their adjoint sum_to_size."""

from __future__ import annotations

from .._errors import broadcast_error
from ..autograd.function import Primitive
from ._common import bind, broadcast_view


def _expand_shape(shape, sizes):
    sizes = tuple(int(s) for s in sizes)
    if len(sizes) < len(shape):
        raise RuntimeError(
            f"expand(torch.FloatTensor{{{list(shape)}}}, size={list(sizes)}): the number of sizes provided "
            f"({len(sizes)}) must be greater or equal to the number of dimensions in the tensor ({len(shape)})"
        )
    lead = len(sizes) - len(shape)
    out = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension {i}")
            out.append(s)
            continue
        cur = shape[i - lead]
        if s == -1:
            s = cur
        elif cur != 1 and cur != s:
            raise RuntimeError(
                f"The expanded size of the tensor ({s}) must match the existing size ({cur}) at non-singleton "
                f"dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: {list(shape)}"
            )
        out.append(s)
    return tuple(out)


class Expand(Primitive):
    @staticmethod
    def forward(ctx, a, shape):
        return broadcast_view(a._data, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad  # the engine sums it back to the input's shape


class SumToSize(Primitive):
    @staticmethod
    def forward(ctx, a, shape):
        arr = a._data
        lead = arr.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape) if s == 1 and arr.shape[i + lead] != 1)
        if lead < 0 or any(s != 1 and s != arr.shape[i + lead] for i, s in enumerate(shape)):
            raise RuntimeError(f"size {{{list(shape)}}} is not expandable to size {{{list(arr.shape)}}}.")
        ctx.in_shape = arr.shape
        if not axes:
            return arr
        # a sum promotes integers and bool to int64 (torch.sum's rule), not NumPy's uint64 for unsigned ones
        out = arr.sum(axis=axes, keepdims=True, dtype="int64" if arr.dtype.kind in "biu" else None)
        return out.reshape(shape) if lead else out

    @staticmethod
    def backward(ctx, grad):
        return expand(grad, ctx.in_shape)


def expand(input, *sizes):
    """A broadcast view of ``input`` with the given sizes (-1 keeps a dimension)."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    shape = _expand_shape(input._data.shape, sizes)
    if shape == input._data.shape:
        return input if not input._requires_grad else Expand.apply(input, shape)
    out = Expand.apply(input, shape)
    out._version_counter = input._version_counter
    out._base = input._base if input._base is not None else input
    return out


def broadcast_to(input, size):
    return expand(input, tuple(size))


def expand_as(input, other):
    return expand(input, other._data.shape)


def sum_to_size(input, *size):
    """Sum ``input`` down to ``size`` (the adjoint of expand)."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    size = tuple(size)
    if input._data.shape == size:
        return input
    return SumToSize.apply(input, size)


def broadcast_shapes(*shapes):
    """The shape that ``shapes`` broadcast to; RuntimeError naming both shapes if they don't."""
    ndim = max((len(s) for s in shapes), default=0)
    out = [1] * ndim
    for shape in shapes:
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        for i, s in enumerate(shape):
            j = ndim - len(shape) + i
            if out[j] == 1:
                out[j] = s
            elif s != 1 and s != out[j]:
                raise RuntimeError(
                    f"shape mismatch: objects cannot be broadcast to a single shape. Mismatch is between "
                    f"{list(out)} and {list(shape)}"
                )
    from ..size import Size

    return Size(out)


def broadcast_tensors(*tensors):
    """Expand ``tensors`` to their common broadcast shape."""
    err = broadcast_error([t._data.shape for t in tensors])
    if err is not None:
        raise err
    shape = broadcast_shapes(*(t._data.shape for t in tensors))
    return tuple(expand(t, shape) for t in tensors)


bind(expand=expand, expand_as=expand_as, broadcast_to=broadcast_to, sum_to_size=sum_to_size)

__all__ = ["expand", "expand_as", "broadcast_to", "sum_to_size", "broadcast_shapes", "broadcast_tensors"]
