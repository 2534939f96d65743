"""Complex tensors: real/imag views, conj, angle, view_as_real/view_as_complex, polar, complex.

Gradients follow PyTorch's convention: for a real loss L and a complex tensor z, ``z.grad`` holds the
conjugate Wirtinger derivative ``dL/d(re z) + i dL/d(im z)``. So a linear map ``y = A z`` has
``grad_z = A^H grad_y``, and a real input of a complex op gets the real part of that gradient (the
autograd engine takes it when it casts a gradient to its input's dtype).
"""

from __future__ import annotations

from .. import dtypes
from ..autograd.function import Primitive
from ..tensor import Tensor
from ._common import bind, xp_of
from .shape import make_view
from .unary import scalar_type_name
from ..dtypes import np_kind as _np_kind


def _is_c(t) -> bool:
    return _np_kind(t._data.dtype) == "c"


def not_complex(name: str, t):
    """PyTorch's error for an op without a kernel for complex tensors."""
    return RuntimeError(f'"{name}" not implemented for \'{scalar_type_name(t._data.dtype)}\'')


class Real(Primitive):
    @staticmethod
    def forward(ctx, a):
        return a._data.real

    @staticmethod
    def backward(ctx, grad):
        return complex_(grad, grad.new_zeros(grad.shape))


class Imag(Primitive):
    @staticmethod
    def forward(ctx, a):
        return a._data.imag

    @staticmethod
    def backward(ctx, grad):
        return complex_(grad.new_zeros(grad.shape), grad)


class Conj(Primitive):
    @staticmethod
    def forward(ctx, a):
        return xp_of(a._data).conj(a._data)

    @staticmethod
    def backward(ctx, grad):
        return Conj.apply(grad)


class ViewAsReal(Primitive):
    @staticmethod
    def forward(ctx, a):
        arr = a._data
        if arr.ndim == 0:
            arr = arr.reshape(1)
        elif arr.strides[-1] != arr.itemsize or arr.shape[-1] == 0:
            return xp_of(arr).stack([arr.real, arr.imag], axis=-1)
        return arr.view(arr.real.dtype).reshape(a._data.shape + (2,))

    @staticmethod
    def backward(ctx, grad):
        return view_as_complex(grad.contiguous())


class ViewAsComplex(Primitive):
    @staticmethod
    def forward(ctx, a):
        arr = a._data
        c = dtypes.from_numpy_dtype(arr.dtype).to_complex().np
        out = arr.view(c)
        return out.reshape(arr.shape[:-1])

    @staticmethod
    def backward(ctx, grad):
        return view_as_real(grad)


class Angle(Primitive):
    @staticmethod
    def forward(ctx, a):
        arr = a._data
        ctx.save_for_backward(a)
        xp = xp_of(arr)
        if arr.dtype.kind in "iub":
            arr = arr.astype(dtypes.get_default_dtype().np)
        return xp.angle(arr).astype(arr.real.dtype, copy=False) if arr.dtype.kind == "c" else \
            xp.where(arr < 0, xp.asarray(3.141592653589793, arr.dtype), xp.where(arr != arr, arr, 0)).astype(arr.dtype)

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved_tensors
        if not _is_c(z):
            return grad * 0
        # d angle: (-im, re) / |z|^2, i.e. grad * i z / |z|^2 in the conjugate-Wirtinger convention
        mag2 = z.real * z.real + z.imag * z.imag
        return complex_(-grad * z.imag / mag2, grad * z.real / mag2)


class Complex(Primitive):
    @staticmethod
    def forward(ctx, re, im):
        x, y = re._data, im._data
        xp = xp_of(x)
        out = xp.empty(xp.broadcast_shapes(x.shape, y.shape), dtype=dtypes.from_numpy_dtype(x.dtype).to_complex().np)
        out.real, out.imag = x, y
        return out

    @staticmethod
    def backward(ctx, grad):
        return grad.real, grad.imag


def real(input):
    """The real part of ``input`` (a view for complex tensors; ``input`` itself for real ones)."""
    return make_view(Real.apply(input), input) if _is_c(input) else input


def imag(input):
    """The imaginary part of a complex tensor, as a view."""
    if not _is_c(input):
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return make_view(Imag.apply(input), input)


def conj(input):
    """The complex conjugate (``input`` itself for real tensors)."""
    return Conj.apply(input) if _is_c(input) else input


conj_physical = conj


def resolve_conj(input):
    return input


def resolve_neg(input):
    return input


def is_conj(input) -> bool:
    return False


def view_as_real(input):
    """A complex tensor ``[..]`` viewed as real ``[.., 2]`` (real and imaginary parts last)."""
    if not _is_c(input):
        raise RuntimeError("view_as_real is only supported for complex tensors")
    return make_view(ViewAsReal.apply(input), input)


def view_as_complex(input):
    """A real tensor ``[.., 2]`` viewed as complex ``[..]``."""
    arr = input._data
    if arr.dtype.kind != "f" or arr.dtype.itemsize == 2:
        raise RuntimeError(
            f"view_as_complex is only supported for float and double tensors, but got a tensor of scalar type: "
            f"{scalar_type_name(arr.dtype)}"
        )
    if arr.ndim == 0 or arr.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    if arr.strides[-1] != arr.itemsize:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if any(s % (2 * arr.itemsize) for s in arr.strides[:-1]):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
    return make_view(ViewAsComplex.apply(input), input)


def angle(input, *, out=None):
    """The argument (phase) of each element in radians; for real input, pi where negative, else 0."""
    from .elementwise import _maybe_out

    return _maybe_out(Angle.apply(input), out)


def complex_(real, imag, *, out=None):
    """``real + i * imag`` from two float tensors of the same dtype."""
    from .elementwise import _maybe_out

    for name, t in (("real", real), ("imag", imag)):
        if not isinstance(t, Tensor):
            raise TypeError(f"complex(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if real._data.dtype != imag._data.dtype:
        raise RuntimeError(
            f"Expected object of scalar type {scalar_type_name(real._data.dtype)} but got scalar type "
            f"{scalar_type_name(imag._data.dtype)} for second argument"
        )
    if _np_kind(real._data.dtype) != "f" or real._data.dtype.itemsize == 2:
        raise RuntimeError(
            f"Expected both inputs to be Half, Float or Double tensors but got {scalar_type_name(real._data.dtype)} "
            f"and {scalar_type_name(imag._data.dtype)}"
        )
    return _maybe_out(Complex.apply(real, imag), out)


def polar(abs, angle, *, out=None):
    """``abs * (cos(angle) + i sin(angle))``."""
    from .unary import cos, sin

    return complex_(abs * cos(angle), abs * sin(angle), out=out)


def _real_prop(self):
    return real(self)


def _set_real(self, value):
    real(self).copy_(value)


def _imag_prop(self):
    return imag(self)


def _set_imag(self, value):
    imag(self).copy_(value)


Tensor.real = property(_real_prop, _set_real)
Tensor.imag = property(_imag_prop, _set_imag)
bind(conj=conj, conj_physical=conj, resolve_conj=resolve_conj, resolve_neg=resolve_neg, is_conj=is_conj, angle=angle)

complex = complex_

__all__ = ["real", "imag", "conj", "conj_physical", "resolve_conj", "resolve_neg", "is_conj", "view_as_real",
           "view_as_complex", "angle", "complex", "polar"]
