"""Matrix products: matmul (@), mm, bmm, mv, dot, outer, einsum, tensordot, addmm and friends.

Every product goes to BLAS through one ``xp.matmul`` (or ``einsum``) call; gradients are products too.
"""

from __future__ import annotations

import math

from .. import _fast
from ..autograd.function import Primitive
from ..tensor import Tensor
from ._common import bind, binary_dtype, xp_of
from ..dtypes import np_kind as _np_kind
from ..autograd.autocast import autocast_op


def _shape_str(shape):
    return "x".join(str(s) for s in shape)


_C_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int", "int32": "int",
            "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool",
            "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}
_SCALAR_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
                 "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool", "complex64": "ComplexFloat",
                 "complex128": "ComplexDouble"}


def _dtype_mismatch(a, b) -> RuntimeError:
    """PyTorch's error for a matrix product of two dtypes, worded as its kernel for these shapes words it."""
    na, nb = a.dtype.name, b.dtype.name
    if a._data.ndim == 1 and b._data.ndim == 1:
        return RuntimeError(
            f"dot : expected both vectors to have same dtype, but found {_SCALAR_NAMES[na]} and {_SCALAR_NAMES[nb]}"
        )
    if a._data.ndim >= 3 or b._data.ndim >= 3:
        return RuntimeError(f"expected scalar type {_SCALAR_NAMES[na]} but found {_SCALAR_NAMES[nb]}")
    return RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_C_NAMES[na]} != {_C_NAMES[nb]}")


class MatMul(Primitive):
    @staticmethod
    def forward(ctx, a, b):
        x, y = a._data, b._data
        if x.dtype != y.dtype:
            raise _dtype_mismatch(a, b)
        ctx.save_for_backward(a, b)
        if x.ndim > 2 and y.ndim == 2:  # one 2-D GEMM: NumPy loops N-D @ 2-D over small GEMMs (10x slower)
            # (rows counted, not -1: reshape can't infer a dimension of an empty array with a 0-size last one)
            return _fast.matmul_2d(x.reshape(math.prod(x.shape[:-1]), x.shape[-1]), y).reshape(*x.shape[:-1], y.shape[-1])
        if x.ndim == 2 and y.ndim == 2:
            return _fast.matmul_2d(x, y)
        return xp_of(x).matmul(x, y)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        if _np_kind(a._data.dtype) == "c":  # grad_a = grad @ b^H, grad_b = a^H @ grad
            a, b = a.conj(), b.conj()
        ga = gb = None
        na, nb = a._data.ndim, b._data.ndim
        if na == 1 and nb == 1:
            ga = grad * b if ctx.needs_input_grad[0] else None
            gb = grad * a if ctx.needs_input_grad[1] else None
            return ga, gb
        if ctx.needs_input_grad[0]:
            if nb == 1:  # (..., n, k) @ (k,)
                ga = grad.unsqueeze(-1) @ b.unsqueeze(0)
            elif na == 1:  # (k,) @ (..., k, m)
                ga = (grad.unsqueeze(-2) @ b.mT).squeeze(-2)
            else:
                ga = grad @ b.mT
        if ctx.needs_input_grad[1]:
            if na == 1:
                gb = a.unsqueeze(-1) @ grad.unsqueeze(-2)
            elif nb == 2 and na > 2:  # the batch folded into one GEMM, not a (batch, k, m) product summed
                rows = math.prod(a.shape[:-1])
                gb = a.reshape(rows, a.shape[-1]).mT @ grad.reshape(rows, grad.shape[-1])
            elif nb == 1:
                gb = (a.mT @ grad.unsqueeze(-1)).squeeze(-1)
            else:
                gb = a.mT @ grad
        return ga, gb


def _check_matmul(a, b):
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"matmul(): argument 'other' must be Tensor, not {type(b).__name__}")
    sa, sb = a._data.shape, b._data.shape
    if len(sa) == 0 or len(sb) == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {len(sa)}D and {len(sb)}D")
    k1 = sa[-1]
    k2 = sb[0] if len(sb) == 1 else sb[-2]
    if k1 != k2:
        if len(sa) == 1 and len(sb) == 1:
            raise RuntimeError(
                f"inconsistent tensor size, expected tensor [{k1}] and src [{k2}] to have the same number of "
                f"elements, but got {k1} and {k2} elements respectively"
            )
        if len(sa) <= 2 and len(sb) <= 2:
            if len(sb) == 1:
                raise RuntimeError(f"size mismatch, got input ({sa[0] if len(sa) > 1 else ''}), mat ({_shape_str(sa)}), vec ({sb[0]})")
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_shape_str(sa if len(sa) == 2 else (1,) + sa)} and {_shape_str(sb)})")
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{k1}] but got: [{k2}].")
    if a.device != b.device:
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, {a.device} and {b.device}!")


@autocast_op
def matmul(input, other, *, out=None):
    """Matrix product with NumPy/PyTorch broadcasting (1-D operands are vectors)."""
    _check_matmul(input, other)
    if input._data.dtype != other._data.dtype and _np_kind(input._data.dtype) == _np_kind(other._data.dtype) in "fc":
        dt = binary_dtype(input, other)
        input, other = input.to(dt), other.to(dt)
    res = MatMul.apply(input, other)
    if out is not None:
        from .elementwise import _maybe_out

        return _maybe_out(res, out)
    return res


@autocast_op
def mm(input, mat2, *, out=None):
    """2-D matrix product."""
    if input._data.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2._data.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    return matmul(input, mat2, out=out)


@autocast_op
def bmm(input, mat2, *, out=None):
    """Batched matrix product of two 3-D tensors."""
    if input._data.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2._data.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if input._data.shape[0] != mat2._data.shape[0]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{input._data.shape[0]}, {input._data.shape[2]}] but got: [{mat2._data.shape[0]}, {mat2._data.shape[1]}].")
    return matmul(input, mat2, out=out)


@autocast_op
def mv(input, vec, *, out=None):
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input._data.ndim}, {vec._data.ndim}")
    return matmul(input, vec, out=out)


@autocast_op
def dot(input, other, *, out=None):
    """Inner product of two 1-D tensors."""
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input._data.ndim}D and {other._data.ndim}D tensors")
    if input._data.shape[0] != other._data.shape[0]:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{input._data.shape[0]}] and src [{other._data.shape[0]}] to have the same number of elements, but got {input._data.shape[0]} and {other._data.shape[0]} elements respectively"
        )
    return matmul(input, other, out=out)


def vdot(input, other, *, out=None):
    return dot(input.conj() if input.is_complex() else input, other, out=out)


def inner(input, other, *, out=None):
    if input._data.ndim == 0 or other._data.ndim == 0:
        return input * other
    return matmul(input, other.mT if other._data.ndim > 1 else other) if input._data.ndim <= 2 and other._data.ndim <= 2 else tensordot(input, other, dims=([-1], [-1]))


def outer(input, vec2, *, out=None):
    """Outer product of two 1-D tensors."""
    return matmul(input.unsqueeze(-1), vec2.unsqueeze(0), out=out)


ger = outer


def _add_scaled(input, prod, beta, alpha):
    """``beta * input + alpha * prod`` of the add*mm family: ``input`` must expand to ``prod``'s shape (it does
    not widen it), and with ``beta == 0`` it is ignored (its nan and inf do not propagate; its gradient is 0)."""
    from .broadcast import _expand_shape

    _expand_shape(tuple(input._data.shape), tuple(prod._data.shape))
    p = prod if alpha == 1 else prod * alpha
    if beta == 0:
        return p + input.masked_fill(Tensor._make(xp_of(input._data).ones((), dtype=bool)), 0)
    return p + (input if beta == 1 else input * beta)


@autocast_op
def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * (mat1 @ mat2)``."""
    return _add_scaled(input, mm(mat1, mat2), beta, alpha)


@autocast_op
def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    return _add_scaled(input, mv(mat, vec), beta, alpha)


@autocast_op
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    return _add_scaled(input, bmm(batch1, batch2), beta, alpha)


@autocast_op
def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    return _add_scaled(input, bmm(batch1, batch2).sum(0), beta, alpha)


class Einsum(Primitive):
    @staticmethod
    def forward(ctx, equation, *operands):
        arrays = [o._data for o in operands]
        ctx.equation = equation
        ctx.save_for_backward(*operands)
        xp = xp_of(arrays[0])
        return xp.einsum(equation, *arrays, optimize=len(arrays) > 2)

    @staticmethod
    def backward(ctx, grad):
        operands = ctx.saved_tensors
        inputs, output = ctx.equation.split("->")
        in_specs = inputs.split(",")
        grads = [None]
        for i, spec in enumerate(in_specs):
            if not ctx.needs_input_grad[i + 1]:
                grads.append(None)
                continue
            others = [operands[j].conj() for j in range(len(operands)) if j != i]  # conj: complex operands
            other_specs = [in_specs[j] for j in range(len(operands)) if j != i]
            missing = [c for c in spec if c not in output and all(c not in s for s in other_specs)]
            eq = ",".join([output] + other_specs) + "->" + "".join(c for c in spec if c not in missing)
            g = einsum(eq, grad, *others)
            if missing:  # an index summed over in forward that only this operand has: broadcast back
                shape = [operands[i].shape[k] if c in missing else 1 for k, c in enumerate(spec)]
                kept = [k for k, c in enumerate(spec) if c not in missing]
                view = [1] * len(spec)
                for pos, k in enumerate(kept):
                    view[k] = g.shape[pos]
                g = g.reshape(view).expand(*[operands[i].shape[k] for k in range(len(spec))])
                del shape
            grads.append(g)
        return tuple(grads)


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _explicit_equation(equation, operands):
    """``equation`` with an explicit output, no ``...`` and distinct indices per operand, and the operands
    adjusted to it with differentiable ops: ellipsis dims named and broadcast, repeated indices of one
    operand taken as diagonals, size-1 dims expanded to the size the index has elsewhere."""
    eq = equation.replace(" ", "")
    lhs, arrow, out = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(operands):
        raise RuntimeError(
            "einsum(): more operands were provided than specified in the equation"
            if len(operands) > len(ins)
            else "einsum(): fewer operands were provided than specified in the equation"
        )
    operands = list(operands)
    free = [c for c in _LETTERS if c not in eq]
    n_ell = 0
    for i, (spec, op) in enumerate(zip(ins, operands)):
        explicit = len(spec.replace("...", ""))
        if "..." in spec:
            n_ell = max(n_ell, op._data.ndim - explicit)
            if op._data.ndim < explicit:
                raise RuntimeError(
                    f"einsum(): the number of subscripts in the equation ({explicit}) is more than the number of "
                    f"dimensions ({op._data.ndim}) for operand {i}"
                )
        elif explicit != op._data.ndim:
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({explicit}) does not match the number of "
                f"dimensions ({op._data.ndim}) for operand {i} and no ellipsis was given"
            )
    ell = "".join(free[:n_ell])
    for i, spec in enumerate(ins):
        if "..." in spec:
            k = operands[i]._data.ndim - len(spec.replace("...", ""))
            ins[i] = spec.replace("...", ell[n_ell - k :] if k else "")
    if not arrow:
        letters = "".join(ins)
        out = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ell))
    else:
        out = out.replace("...", ell)
    # repeated indices inside one operand: its diagonal over those dims
    for i, spec in enumerate(ins):
        while len(set(spec)) != len(spec):
            c = next(ch for ch in spec if spec.count(ch) > 1)
            d1, d2 = spec.index(c), spec.index(c, spec.index(c) + 1)
            operands[i] = diagonal(operands[i], 0, d1, d2)
            spec = "".join(ch for k, ch in enumerate(spec) if k not in (d1, d2)) + c
        ins[i] = spec
    # one size per index; size-1 dims broadcast (as ellipsis dims do in PyTorch)
    sizes = {}
    for i, spec in enumerate(ins):
        for c, n in zip(spec, operands[i]._data.shape):
            seen = sizes.get(c)
            if seen is None or seen == 1:
                sizes[c] = n
            elif n not in (1, seen):
                raise RuntimeError(
                    f"einsum(): subscript {c} has size {n} for operand {i} which does not broadcast with previously "
                    f"seen size {seen}"
                )
    for i, spec in enumerate(ins):
        target = tuple(sizes[c] for c in spec)
        if tuple(operands[i]._data.shape) != target:
            operands[i] = operands[i].expand(*target)
    for c in out:
        if c not in sizes:
            raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any input operand")
    return ",".join(ins) + "->" + out, operands


def einsum(equation, *operands):
    """Einstein summation (``einsum('bij,bjk->bik', a, b)``), with ``...`` and repeated indices (diagonals)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    eq, operands = _explicit_equation(equation, operands)
    return Einsum.apply(eq, *operands)


def tensordot(a, b, dims=2, out=None):
    """Sum over the last ``dims`` dims of ``a`` and the first of ``b`` (or explicit lists of dims)."""
    letters = _LETTERS
    na, nb = a._data.ndim, b._data.ndim
    if isinstance(dims, int):
        da, db = list(range(na - dims, na)), list(range(dims))
    else:
        da, db = [d % na for d in dims[0]], [d % nb for d in dims[1]]
    sa = list(letters[:na])
    sb = list(letters[na : na + nb])
    for x, y in zip(da, db):
        sb[y] = sa[x]
    out_spec = [c for i, c in enumerate(sa) if i not in da] + [c for i, c in enumerate(sb) if i not in db]
    return einsum("".join(sa) + "," + "".join(sb) + "->" + "".join(out_spec), a, b)


@autocast_op
def trace(input):
    if input._data.ndim != 2:
        raise RuntimeError("trace: expected a matrix")
    return diagonal(input).sum()


class Diagonal(Primitive):
    @staticmethod
    def forward(ctx, a, offset, dim1, dim2):
        ctx.shape, ctx.args = a._data.shape, (offset, dim1, dim2)
        return xp_of(a._data).diagonal(a._data, offset, dim1, dim2)

    @staticmethod
    def backward(ctx, grad):
        return DiagonalBackward.apply(grad, ctx.shape, *ctx.args), None, None, None


class DiagonalBackward(Primitive):
    """Write a diagonal's gradient back into zeros of the input's shape."""

    @staticmethod
    def forward(ctx, g, shape, offset, d1, d2):
        ctx.args = (offset, d1, d2)
        xp = xp_of(g._data)
        others = [k for k in range(len(shape)) if k not in (d1, d2)]
        perm = others + [d1, d2]
        out = xp.zeros(tuple(shape[k] for k in perm), dtype=g._data.dtype)
        n = g._data.shape[-1]
        i = xp.arange(n)
        out[..., i + max(-offset, 0), i + max(offset, 0)] = g._data
        inverse = [0] * len(perm)
        for pos, k in enumerate(perm):
            inverse[k] = pos
        return out.transpose(inverse)

    @staticmethod
    def backward(ctx, gg):
        return Diagonal.apply(gg, *ctx.args), None, None, None, None


def diagonal(input, offset=0, dim1=0, dim2=1):
    n = input._data.ndim
    return Diagonal.apply(input, offset, dim1 % n, dim2 % n)


_diagonal = diagonal


def diag(input, diagonal=0):
    """1-D -> a matrix with it on a diagonal; 2-D -> that diagonal."""
    if input._data.ndim == 2:
        return _diagonal(input, diagonal)
    if input._data.ndim != 1:
        raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " + str(input._data.ndim) + "D")
    return diag_embed(input, diagonal)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Batches of matrices with the last dim of ``input`` on their ``offset`` diagonal."""
    from .. import creation
    from .indexing import IndexPut

    nd = input._data.ndim + 1
    if (dim1 % nd, dim2 % nd) != (nd - 2, nd - 1):
        raise NotImplementedError("diag_embed with dim1/dim2 other than the last two dims is not supported by ember")
    k = input._data.shape[-1]
    n = k + abs(offset)
    out = creation.zeros(*input._data.shape[:-1], n, n, dtype=input.dtype, device=input.device)
    i = xp_of(input._data).arange(k)
    return IndexPut.apply(out, input, (Ellipsis, i + max(-offset, 0), i + max(offset, 0)))


def tril(input, diagonal=0):
    """Lower triangle (elements above ``diagonal`` zeroed)."""
    if input._data.ndim < 2:
        raise RuntimeError("tril: input tensor must have at least 2 dimensions")
    return _keep_triangle(input, _triangle_mask(input, diagonal, lower=True))


def triu(input, diagonal=0):
    """Upper triangle (elements below ``diagonal`` zeroed)."""
    if input._data.ndim < 2:
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    return _keep_triangle(input, _triangle_mask(input, diagonal, lower=False))


def _triangle_mask(input, diagonal, lower):
    """The (rows, cols) mask of the lower (on and below ``diagonal``) or upper (on and above) triangle, in
    one comparison pass (``tri``; masking a ``tril`` of ones took three: 1024² 2.1 -> 0.7 ms in all)."""
    xp = xp_of(input._data)
    rows, cols = input._data.shape[-2:]
    return xp.tri(rows, cols, diagonal, dtype=bool) if lower else ~xp.tri(rows, cols, diagonal - 1, dtype=bool)


def _keep_triangle(input, mask):
    from .selection import where

    if input._requires_grad:
        return where(Tensor._make(mask), input, 0)
    arr = input._data
    return Tensor._make(xp_of(arr).where(mask, arr, 0).astype(arr.dtype, copy=False))


def cross(input, other, dim=None):
    from .shape import select
    from .joining import stack

    if input._data.ndim != other._data.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    d = -1 if dim is None else dim
    if input._data.ndim == 0 or input._data.shape[d] != 3 or other._data.shape[d] != 3:
        n1 = input._data.shape[d] if input._data.ndim else 0
        n2 = other._data.shape[d] if other._data.ndim else 0
        raise RuntimeError(f"linalg.cross: inputs dimension {d} must have length 3. Got {n1} and {n2}")
    a = [select(input, d, i) for i in range(3)]
    b = [select(other, d, i) for i in range(3)]
    return stack([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]], d % input._data.ndim)


bind(
    matmul=matmul, mm=mm, bmm=bmm, mv=mv, dot=dot, vdot=vdot, inner=inner, outer=outer, ger=outer, addmm=addmm,
    addmv=addmv, baddbmm=baddbmm, addbmm=addbmm, trace=trace, diagonal=diagonal, diag=diag, diag_embed=diag_embed,
    tril=tril, triu=triu, cross=cross,
    __matmul__=matmul, __rmatmul__=lambda self, other: matmul(other, self),
    tril_=lambda self, diagonal=0: _set_(self, tril(self, diagonal)), triu_=lambda self, diagonal=0: _set_(self, triu(self, diagonal)),
)


def _set_(self, result):
    from ._common import apply_inplace

    return apply_inplace(self, result)


__all__ = [
    "matmul", "mm", "bmm", "mv", "dot", "vdot", "inner", "outer", "ger", "addmm", "addmv", "baddbmm", "addbmm",
    "einsum", "tensordot", "trace", "diagonal", "diag", "diag_embed", "tril", "triu", "cross",
]
