"""Running reductions and differences along a dimension: cummax, cummin, logcumsumexp, diff, trapezoid and
cumulative_trapezoid (cumsum/cumprod live in ``reduction.py``)."""

from __future__ import annotations

from .. import _fast
from ..autograd.function import Primitive
from ..tensor import Tensor
from ._common import as_1d_if_0d, bind, wrap_dim, xp_of
from .. import return_types
from .reduction import cumsum
from .reduction import sum as _sum
from .unary import _quiet, not_implemented


def _positions(xp, shape, dim):
    view = [1] * len(shape)
    view[dim] = shape[dim]
    return xp.arange(shape[dim], dtype="int64").reshape(view)


def _scan(xp, ufunc, arr, axis):
    """``ufunc.accumulate(arr, axis)``; where the array module has no accumulate (CuPy), a doubling scan:
    log2(n) whole-array passes, each combining every element with the one ``step`` before it."""
    if hasattr(ufunc, "accumulate") and xp.__name__ == "numpy":
        return ufunc.accumulate(arr, axis=axis)
    out = arr.copy()
    n = arr.shape[axis]
    step = 1
    while step < n:
        head = (slice(None),) * axis + (slice(step, None),)
        tail = (slice(None),) * axis + (slice(None, n - step),)
        out[head] = ufunc(out[tail], out[head])  # (the right side is evaluated before the write)
        step *= 2
    return out


def _running_extreme_index(arr, dim, largest):
    """Where each running max/min along ``dim`` came from (ties and nans move it forward, as in PyTorch)."""
    xp = xp_of(arr)
    vals = _scan(xp, xp.maximum if largest else xp.minimum, arr, dim)
    hit = arr == vals
    if arr.dtype.kind in "fc":
        hit |= xp.isnan(arr)
    return _scan(xp, xp.maximum, xp.where(hit, _positions(xp, arr.shape, dim), 0), dim)


def _cum_extreme(input, dim, largest, name):
    if input._data.size == 0:  # PyTorch returns before it looks at dim
        return getattr(return_types, name)(input.clone(), Tensor._make(xp_of(input._data).zeros(input._data.shape, "int64")))
    if input._data.ndim == 0:
        if dim not in (0, -1):
            raise IndexError(f"{name}(): Expected reduction dim -1 or 0 for scalar but got {dim}")
        vals, idx = _cum_extreme(input.reshape(1), 0, largest, name)
        return getattr(return_types, name)(vals.reshape(()), idx.reshape(()))
    d = wrap_dim(dim, input._data.ndim)
    from .sorting import Sort  # values picked at indices; the gradient scatters back

    arr = input._data
    if _fast.usable(arr) and arr.shape[d] > 1:
        vals, idx = _compiled_extreme(arr, d, largest)
        return getattr(return_types, name)(_Picked.apply(input, d, idx, vals), Tensor._make(idx))
    idx = _running_extreme_index(arr, d, largest)
    return getattr(return_types, name)(Sort.apply(input, d, idx), Tensor._make(idx))


def _compiled_extreme(arr, d, largest):
    """(values, indices) of the running extreme along ``d`` in one compiled pass over rows (float32; NumPy's
    accumulate, comparisons and an index accumulate took 10.8 ms on 1M elements, PyTorch 1.0-1.4)."""
    xp = xp_of(arr)
    rows = xp.ascontiguousarray(xp.moveaxis(arr, d, -1))
    flat = rows.reshape(-1, rows.shape[-1])
    vals, idx = xp.empty_like(rows), xp.empty(rows.shape, dtype="int64")
    _fast.kernels().cum_extreme_rows(flat, vals.reshape(flat.shape), idx.reshape(flat.shape), largest)
    if d != arr.ndim - 1:
        vals, idx = (xp.ascontiguousarray(xp.moveaxis(a, -1, d)) for a in (vals, idx))
    return vals, idx


class _Picked(Primitive):
    """Values already picked along ``dim`` at ``idx`` (``Sort``'s result, computed by a kernel): the gradient
    scatters back as Sort's."""

    @staticmethod
    def forward(ctx, a, dim, idx, values):
        ctx.shape, ctx.dim, ctx.idx = a._data.shape, dim, idx
        return values

    @staticmethod
    def backward(ctx, grad):
        from .sorting import Sort

        return Sort.backward(ctx, grad) + (None,)


def cummax(input, dim, *, out=None):
    """``(values, indices)``: the running maximum along ``dim`` and where each was attained."""
    return _cum_extreme(input, dim, True, "cummax")


def cummin(input, dim, *, out=None):
    """``(values, indices)``: the running minimum along ``dim`` and where each was attained."""
    return _cum_extreme(input, dim, False, "cummin")


class LogCumSumExp(Primitive):
    save_output = True

    @staticmethod
    @_quiet
    def forward(ctx, a, dim):
        arr = a._data
        if arr.dtype.kind not in "f":
            raise not_implemented("logcumsumexp_out", arr)
        ctx.save_for_backward(a)
        ctx.dim = dim
        xp = xp_of(arr)
        return _scan(xp, xp.logaddexp, arr, dim)

    @staticmethod
    def backward(ctx, grad):
        # d y_j / d x_k = exp(x_k - y_j) for j >= k. The sum over j is a reverse logcumsumexp, done apart for
        # the positive and negative parts of grad so that nothing overflows.
        from .elementwise import sub
        from .shape import flip
        from .unary import exp, log

        (x,) = ctx.saved_tensors
        y, d = ctx.saved_output, ctx.dim

        def rev_lcse(t):
            return flip(logcumsumexp(flip(t, (d,)), d), (d,))

        pos = rev_lcse(sub(log(grad.clamp(min=0)), y))
        neg = rev_lcse(sub(log((-grad).clamp(min=0)), y))
        return exp(x + pos) - exp(x + neg), None


@as_1d_if_0d
def logcumsumexp(input, dim, *, out=None):
    """``log(cumsum(exp(input), dim))`` computed without overflow."""
    return LogCumSumExp.apply(input, wrap_dim(dim, input._data.ndim))


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The n-th forward difference along ``dim`` (``prepend``/``append`` are joined on first)."""
    from .joining import cat
    from .shape import narrow

    if input._data.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    d = wrap_dim(dim, input._data.ndim)
    parts = [t for t in (prepend, input, append) if t is not None]
    x = cat(parts, d) if len(parts) > 1 else input
    for _ in range(n):
        length = x._data.shape[d]
        if length == 0:
            break
        hi, lo = narrow(x, d, 1, length - 1), narrow(x, d, 0, length - 1)
        x = hi.logical_xor(lo) if x._data.dtype.kind == "b" else hi - lo
    return x


def _trapezoid_terms(y, x, dx, dim):
    from .shape import narrow

    d = wrap_dim(dim, y._data.ndim)
    n = y._data.shape[d]
    if n == 0:
        return None, d
    pair = narrow(y, d, 1, n - 1) + narrow(y, d, 0, n - 1)
    if x is None:
        return pair * ((1.0 if dx is None else dx) / 2.0), d
    if not isinstance(x, Tensor):
        return pair * (x / 2.0), d
    if x._data.ndim == 1:
        if x._data.shape[0] != n:
            raise RuntimeError(
                f"trapezoid: There must be one `x` value for each sample point, but got {x._data.shape[0]} x "
                f"values and {n} sample points"
            )
        spacing = diff(x).reshape([-1 if i == d else 1 for i in range(y._data.ndim)])
    else:
        spacing = diff(x, dim=d)
    return pair * spacing / 2.0, d


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The integral of ``y`` along ``dim`` by the trapezoid rule (samples at ``x``, or spaced ``dx``)."""
    if x is not None and dx is not None:
        raise TypeError("trapezoid() received an invalid combination of arguments: give either x or dx")
    terms, d = _trapezoid_terms(y, x, dx, dim)
    if terms is None:
        shape = list(y._data.shape)
        del shape[d]
        return y.new_zeros(shape)
    if not isinstance(x, Tensor):
        from .shape import select

        # PyTorch's order of operations for uniform spacing: (sum - (first + last) / 2) * dx, so an inf sample
        # gives nan (inf - inf) where summing the pairs would give inf
        ends = select(y, d, 0) + select(y, d, -1)
        return (_sum(y, d) - ends * 0.5) * (1.0 if x is None and dx is None else (dx if x is None else x))
    return _sum(terms, d)


def trapz(y, x=None, *, dx=None, dim=-1):
    """Alias of :func:`trapezoid`."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running integral of ``y`` along ``dim`` by the trapezoid rule (one element shorter than ``y``)."""
    if x is not None and dx is not None:
        raise TypeError("cumulative_trapezoid() received an invalid combination of arguments: give either x or dx")
    terms, d = _trapezoid_terms(y, x, dx, dim)
    if terms is None:
        return y.clone()
    return cumsum(terms, d)


bind(cummax=cummax, cummin=cummin, logcumsumexp=logcumsumexp, diff=diff)

__all__ = ["cummax", "cummin", "logcumsumexp", "diff", "trapezoid", "trapz", "cumulative_trapezoid"]
