"""Discrete Fourier transforms (``ember.fft``), differentiable, through the array module's ``fft``.

Three primitives carry every transform: complex-to-complex (``_C2C``), real-to-onesided-complex
(``_R2C``) and onesided-complex-to-real (``_C2R``); padding/trimming to ``n``/``s`` and the dtype
promotion happen around them with ordinary (differentiable) ops. Each backward is the adjoint
transform: the adjoint of a transform under norm ``m`` is the opposite-direction transform under the
swapped norm (``backward`` <-> ``forward``, ``ortho`` stays). Gradients follow PyTorch's complex
convention (see ``ops/complex.py``).
"""

from __future__ import annotations

from .. import dtypes
from ..autograd.function import Primitive
from ..tensor import Tensor
from ._common import normalize_dims, wrap_dim, xp_of
from .unary import scalar_type_name

_SWAP = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


def _norm(norm):
    if norm is None:
        return "backward"
    if norm not in _SWAP:
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    return norm


class _C2C(Primitive):
    @staticmethod
    def forward(ctx, x, axes, norm, forward):
        arr = x._data
        ctx.args = (axes, norm, forward)
        fft = xp_of(arr).fft
        out = (fft.fftn if forward else fft.ifftn)(arr, axes=axes, norm=norm)
        return out.astype(arr.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        axes, norm, forward = ctx.args
        return _C2C.apply(grad, axes, _SWAP[norm], not forward)


class _R2C(Primitive):
    """Real input -> onesided spectrum along ``axes[-1]`` (full along the others)."""

    @staticmethod
    def forward(ctx, x, axes, norm):
        arr = x._data
        ctx.args = (axes, norm, arr.shape[axes[-1]])
        out = xp_of(arr).fft.rfftn(arr, axes=axes, norm=norm)
        return out.astype(dtypes.from_numpy_dtype(arr.dtype).to_complex().np, copy=False)

    @staticmethod
    def backward(ctx, grad):
        # rfft = (keep the first n//2+1 bins) o fft, so its adjoint zero-fills the dropped bins first
        axes, norm, n = ctx.args
        full = _pad_axis(grad, axes[-1], n)
        return _C2C.apply(full, axes, _SWAP[norm], False).real


class _C2R(Primitive):
    """Onesided spectrum (``n//2+1`` bins along ``axes[-1]``) -> real signal of length ``n`` there."""

    @staticmethod
    def forward(ctx, x, axes, norm, n):
        arr = x._data
        ctx.args = (axes, norm, n, arr.shape[axes[-1]])
        s = [arr.shape[a] for a in axes[:-1]] + [n]
        out = xp_of(arr).fft.irfftn(arr, s=s, axes=axes, norm=norm)
        return out.astype(arr.real.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        # Bins 1..n-m stand for themselves and their mirrored conjugates, so they count twice; the
        # zero (and, for even n, the Nyquist) bin counts once. The imaginary part of those is ignored,
        # which the rfft of a real gradient reproduces (its imaginary part there is zero).
        axes, norm, n, m = ctx.args
        g = _R2C.apply(grad, axes, _SWAP[norm])
        doubled = n - m
        if doubled > 0:
            xp = xp_of(grad._data)
            w = xp.ones(m, dtype=grad._data.dtype)
            w[1 : 1 + doubled] = 2
            shape = [1] * g.ndim
            shape[axes[-1]] = m
            g = g * Tensor._make(w.reshape(shape))
        return g


def _pad_axis(x, axis, size):
    """``x`` trimmed or zero-padded to ``size`` along ``axis`` (differentiably)."""
    from .spatial import _ConstantPad

    cur = x._data.shape[axis]
    if cur == size:
        return x
    pairs = [(0, 0)] * x.ndim
    pairs[axis] = (0, size - cur)
    return _ConstantPad.apply(x, tuple(pairs), 0)


def _resize(x, axes, sizes):
    for a, s in zip(axes, sizes):
        if s != -1:
            x = _pad_axis(x, a, s)
    return x


def _promote(x, name, complex_out, real_only=False):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(x).__name__}")
    dt = x._data.dtype
    if dt.kind == "c":
        if real_only:
            raise RuntimeError(f"{name} expects a real input tensor, but got {scalar_type_name(dt)}")
        return x
    if dt.kind in "iub":
        x = x.to(dtypes.get_default_dtype())
    elif dt.itemsize == 2:
        raise RuntimeError(f"Unsupported dtype {scalar_type_name(dt)}")
    return x.to(x.dtype.to_complex()) if complex_out else x


def _check_n(n):
    if n is not None and n < 1:
        raise RuntimeError(f"Invalid number of data points ({n}) specified")


def _dims_sizes(x, s, dim):
    """PyTorch's canonical (dims, sizes) for the n-dimensional transforms."""
    if s is not None and dim is not None and len(s) != len(dim if not isinstance(dim, int) else (dim,)):
        raise RuntimeError("When given, dim and shape arguments must have the same length")
    if dim is None:
        dims = tuple(range(x.ndim - len(s), x.ndim)) if s is not None else tuple(range(x.ndim))
        if s is not None and len(s) > x.ndim:
            raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has {x.ndim} dimensions.")
    else:
        dim = (dim,) if isinstance(dim, int) else tuple(dim)
        dims = tuple(wrap_dim(int(d), x.ndim) for d in dim)
        if len(set(dims)) != len(dims):
            raise RuntimeError("FFT dims must be unique")
    sizes = tuple(int(v) for v in s) if s is not None else (-1,) * len(dims)
    for v in sizes:
        if v != -1:
            _check_n(v)
    return dims, sizes


# ---- one-dimensional ---------------------------------------------------------------------------


def fft(input, n=None, dim=-1, norm=None, *, out=None):
    """The one-dimensional discrete Fourier transform of ``input`` along ``dim``."""
    return fftn(input, None if n is None else (n,), (dim,), norm, out=out, _name="fft")


def ifft(input, n=None, dim=-1, norm=None, *, out=None):
    """The one-dimensional inverse discrete Fourier transform."""
    return ifftn(input, None if n is None else (n,), (dim,), norm, out=out, _name="ifft")


def rfft(input, n=None, dim=-1, norm=None, *, out=None):
    """The FFT of a real signal: only the ``n // 2 + 1`` non-negative frequencies."""
    return rfftn(input, None if n is None else (n,), (dim,), norm, out=out, _name="rfft")


def irfft(input, n=None, dim=-1, norm=None, *, out=None):
    """The inverse of :func:`rfft`: a real signal of length ``n`` (default ``2 * (m - 1)``)."""
    return irfftn(input, None if n is None else (n,), (dim,), norm, out=out, _name="irfft")


def hfft(input, n=None, dim=-1, norm=None, *, out=None):
    """The FFT of a Hermitian-symmetric signal given by its first half: a real spectrum of length ``n``."""
    x = _promote(input, "hfft", True)
    return irfftn(x.conj(), None if n is None else (n,), (dim,), _SWAP[_norm(norm)], out=out, _name="hfft")


def ihfft(input, n=None, dim=-1, norm=None, *, out=None):
    """The inverse of :func:`hfft`: the onesided Hermitian spectrum of a real signal."""
    _promote(input, "ihfft", False, real_only=True)
    return _out(rfftn(input, None if n is None else (n,), (dim,), _SWAP[_norm(norm)], _name="ihfft").conj(), out)


# ---- n-dimensional -----------------------------------------------------------------------------


def _c2c(input, s, dim, norm, out, forward, name):
    norm = _norm(norm)
    x = _promote(input, name, True)
    dims, sizes = _dims_sizes(x, s, dim)
    x = _resize(x, dims, sizes)
    return _out(_C2C.apply(x, dims, norm, forward) if dims else x.clone(), out)


def fftn(input, s=None, dim=None, norm=None, *, out=None, _name="fftn"):
    """The n-dimensional discrete Fourier transform over ``dim`` (all dimensions by default)."""
    return _c2c(input, s, dim, norm, out, True, _name)


def ifftn(input, s=None, dim=None, norm=None, *, out=None, _name="ifftn"):
    """The n-dimensional inverse discrete Fourier transform."""
    return _c2c(input, s, dim, norm, out, False, _name)


def fft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """The two-dimensional discrete Fourier transform."""
    return fftn(input, s, dim, norm, out=out, _name="fft2")


def ifft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """The two-dimensional inverse discrete Fourier transform."""
    return ifftn(input, s, dim, norm, out=out, _name="ifft2")


def rfftn(input, s=None, dim=None, norm=None, *, out=None, _name="rfftn"):
    """The n-dimensional FFT of a real signal, onesided along the last of ``dim``."""
    norm = _norm(norm)
    x = _promote(input, _name, False, real_only=True)
    dims, sizes = _dims_sizes(x, s, dim)
    if not dims:
        raise RuntimeError(f"{_name} must transform at least one axis")
    x = _resize(x, dims, sizes)
    return _out(_R2C.apply(x, dims, norm), out)


def irfftn(input, s=None, dim=None, norm=None, *, out=None, _name="irfftn"):
    """The inverse of :func:`rfftn`; the last of ``dim`` becomes ``s[-1]`` (default ``2 * (m - 1)``) long."""
    norm = _norm(norm)
    x = _promote(input, _name, True)
    dims, sizes = _dims_sizes(x, s, dim)
    if not dims:
        raise RuntimeError(f"{_name} must transform at least one axis")
    last = sizes[-1] if sizes[-1] != -1 else 2 * (x._data.shape[dims[-1]] - 1)
    _check_n(last)
    x = _resize(x, dims, sizes[:-1] + (last // 2 + 1,))
    return _out(_C2R.apply(x, dims, norm, last), out)


def rfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """The two-dimensional FFT of a real signal (onesided along the last dimension)."""
    return rfftn(input, s, dim, norm, out=out, _name="rfft2")


def irfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """The inverse of :func:`rfft2`."""
    return irfftn(input, s, dim, norm, out=out, _name="irfft2")


# ---- helpers -----------------------------------------------------------------------------------


def _freq_dtype(dtype):
    dt = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    return dt


def fftfreq(n, d=1.0, *, dtype=None, layout=None, device=None, requires_grad=False, out=None):
    """The sample frequencies of an ``n``-point FFT with sample spacing ``d``: ``[0, 1, ..., -1] / (d * n)``."""
    from ..creation import arange

    k = arange(n, dtype=_freq_dtype(dtype), device=device)
    k._data[(n + 1) // 2 :] -= n
    res = k * (1.0 / (n * d))
    return _out(res.requires_grad_(requires_grad) if requires_grad else res, out)


def rfftfreq(n, d=1.0, *, dtype=None, layout=None, device=None, requires_grad=False, out=None):
    """The non-negative sample frequencies of an ``n``-point real FFT: ``[0, ..., n // 2] / (d * n)``."""
    from ..creation import arange

    res = arange(n // 2 + 1, dtype=_freq_dtype(dtype), device=device) * (1.0 / (n * d))
    return _out(res.requires_grad_(requires_grad) if requires_grad else res, out)


def fftshift(input, dim=None):
    """Move the zero-frequency term to the centre of ``dim`` (all dimensions by default)."""
    from .shape import roll

    dims = normalize_dims(dim, input.ndim)
    return roll(input, [input._data.shape[d] // 2 for d in dims], list(dims)) if dims else input.clone()


def ifftshift(input, dim=None):
    """The inverse of :func:`fftshift`."""
    from .shape import roll

    dims = normalize_dims(dim, input.ndim)
    return roll(input, [(input._data.shape[d] + 1) // 2 for d in dims], list(dims)) if dims else input.clone()


def _out(result, out):
    if out is None:
        return result
    from .elementwise import _maybe_out

    return _maybe_out(result, out)


__all__ = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fftn", "ifftn", "fft2", "ifft2", "rfftn", "irfftn",
           "rfft2", "irfft2", "fftfreq", "rfftfreq", "fftshift", "ifftshift"]
