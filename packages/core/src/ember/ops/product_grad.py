"""Gradients of ``prod`` and ``cumprod``, following PyTorch's case split exactly so that zeros, infs
and nans give the same numbers: ``out / x`` when no element is zero, exclusive prefix-times-suffix
products (or a first-zero rule for cumprod) when some are."""

from __future__ import annotations

from ..autograd.grad_mode import STATE
from ..tensor import Tensor
from ._common import quiet_errors, xp_of


def _ones_slice(x, dim):
    shape = list(x._data.shape)
    shape[dim] = 1
    return Tensor._make(xp_of(x._data).ones(shape, dtype=x._data.dtype))


def _exclusive_products(x, dim):
    """prod of every element but one along ``dim``: exclusive prefix * exclusive suffix products."""
    from .joining import cat
    from .reduction import cumprod
    from .shape import flip

    n = x._data.shape[dim]
    ones = _ones_slice(x, dim)
    before = cumprod(cat([ones, x.narrow(dim, 0, n - 1)], dim), dim)
    after = flip(cumprod(cat([ones, flip(x.narrow(dim, 1, n - 1), (dim,))], dim), dim), (dim,))
    return before * after


def prod_grad(a, g, out, axes, full):
    """d prod / d a times ``g`` (already expanded to ``a``'s shape); ``out`` the product with kept dims.
    ``full``: a reduction over every element without ``dim`` (PyTorch's other overload)."""
    if a._data.ndim == 0:
        return g
    zeros = a._data == 0
    if not bool(zeros.any()):
        return g * (out / a)
    if len(axes) == 1 and not full:
        dim = axes[0]
        if a._data.size == 0:
            return g
        return g * _exclusive_products(a, dim)
    if full and not STATE.enabled and int(zeros.sum()) > 1:
        return Tensor._make(xp_of(g._data).zeros_like(g._data))
    # several axes (or all): their elements flattened into one trailing dim
    rest = [d for d in range(a._data.ndim) if d not in axes]
    perm = rest + list(axes)
    x = a.permute(*perm)
    lead = x._data.shape[: len(rest)]
    flat = x.reshape(*lead, -1)
    if flat._data.size == 0:
        return g
    excl = _exclusive_products(flat, len(rest)).reshape(*x._data.shape)
    inv = [perm.index(d) for d in range(a._data.ndim)]
    return g * excl.permute(*inv)


def cumprod_grad(a, grad, out, dim):
    """d cumprod / d a applied to ``grad``; ``out`` the forward result."""
    if a._data.size <= 1 or a._data.shape[dim] == 1:
        return grad
    from .reduction import cumsum
    from .shape import flip

    w = out * grad
    is_zero = a._data == 0
    if not bool(is_zero.any()):
        return flip(cumsum(flip(w, (dim,)), dim), (dim,)) / a
    if STATE.enabled:
        return _cumprod_grad_quadratic(a, grad, dim)
    return Tensor._make(_cumprod_grad_first_zero(a._data, grad._data, out._data, w._data, is_zero, dim))


def _cumprod_grad_first_zero(x, g, y, w, is_zero, dim):
    """PyTorch's O(n) rule with zeros: before the first zero z1 of a slice, reversed cumsum of
    ``out * grad`` over x; at z1, prod(x[:z1]) * sum_{z1<=j<z2} g_j prod(x[z1+1..j]); after it, 0."""
    xp = xp_of(x)
    count = xp.cumsum(is_zero, axis=dim)
    before = count == 0
    res = xp.zeros(x.shape, dtype=g.dtype)
    with quiet_errors():
        rev = xp.flip(xp.cumsum(xp.flip(xp.where(before, w, 0), dim), axis=dim), dim)
        res = xp.where(before, rev / x, res)
        span = count == 1
        first = xp.argmax(span, axis=dim)
        first_k = xp.expand_dims(first, dim)
        idx = xp.arange(x.shape[dim]).reshape([-1 if d == dim else 1 for d in range(x.ndim)])
        first_mask = (idx == first_k) & span
        inner = span & ~first_mask
        tail = xp.cumprod(xp.where(inner, x, 1), axis=dim) * xp.where(span, g, 0)
        tot = tail.sum(axis=dim, keepdims=True)
        prev = xp.take_along_axis(y, xp.maximum(first_k - 1, 0), axis=dim)
        prev = xp.where(first_k == 0, 1, prev)
        res = xp.where(first_mask, tot * prev, res)
    return res.astype(g.dtype, copy=False)


def _cumprod_grad_quadratic(a, grad, dim):
    """The exact cumprod gradient where ``a`` has zeros (dividing out a_k is impossible there):
    sum_{j>=k} g_j prod_{i<=j, i!=k} a_i, from an (n, n) table per row of cumprods with a_k set to 1.
    Differentiable (used under create_graph, as PyTorch's O(n^2) branch)."""
    from .reduction import cumprod
    from .selection import where
    from .shape import movedim

    x, g = movedim(a, dim, -1), movedim(grad, dim, -1)
    n = x._data.shape[-1]
    xp = xp_of(x._data)
    eye = Tensor._make(xp.eye(n, dtype=bool))
    rows = where(eye, 1.0, x.unsqueeze(-2).expand(*x._data.shape[:-1], n, n))  # row k: a with a_k = 1
    upper = Tensor._make(xp.triu(xp.ones((n, n), dtype=x._data.dtype)))  # j >= k
    gk = (cumprod(rows, -1) * upper * g.unsqueeze(-2)).sum(-1)
    return movedim(gk, -1, dim)
