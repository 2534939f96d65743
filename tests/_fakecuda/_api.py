"""The fake ``cupy`` / ``cupyx`` namespaces, built from explicit allowlists of CuPy's public names.

Each listed name forwards to NumPy's function of that name through ``_array.call`` (device arrays in,
device arrays out, host arrays refused). A name CuPy lacks is simply absent, so an op calling a
NumPy-only function fails here as it would on a GPU. The lists are CuPy's own (cupy/__init__.py,
cupy/linalg, cupy/fft, cupy/random, cupy/lib/stride_tricks, CuPy 14), limited to what NumPy 2 also has.
"""

from __future__ import annotations

import types

import numpy

from . import _array, _cuda
from ._array import _new, _unwrap, call, ndarray
from ._transfers import transfers

# cupy/__init__.py: functions (ufuncs are listed apart), constants and types.
_FUNCTIONS = """
all allclose amax amin angle any append apply_along_axis arange argmax argmin argpartition argsort argwhere
around array_equal array_equiv array_split ascontiguousarray asfortranarray atleast_1d atleast_2d atleast_3d
average bartlett bincount blackman broadcast_arrays broadcast_shapes broadcast_to can_cast choose clip
column_stack common_type compress concat concatenate convolve copy copyto corrcoef correlate count_nonzero cov
cross cumprod cumsum cumulative_prod cumulative_sum delete diag diag_indices diag_indices_from diagflat
diagonal diff digitize dot dsplit dstack ediff1d einsum empty empty_like expand_dims extract eye
fill_diagonal flatnonzero flip fliplr flipud full full_like gradient hamming hanning histogram histogram2d
histogramdd hsplit hstack i0 identity indices inner interp intersect1d isclose iscomplex iscomplexobj isdtype
isfortran isin isneginf isposinf isreal isrealobj isscalar issubdtype ix_ kaiser kron lexsort linspace logspace
mask_indices matrix_transpose max may_share_memory mean median meshgrid min min_scalar_type moveaxis
nan_to_num nanargmax nanargmin nancumprod nancumsum nanmax nanmean nanmedian nanmin nanprod nanstd nansum nanvar
ndim nonzero ones ones_like outer packbits pad partition percentile permute_dims piecewise place prod
promote_types ptp put put_along_axis putmask quantile ravel ravel_multi_index real_if_close repeat require
reshape resize result_type roll rollaxis rot90 round row_stack searchsorted select setdiff1d setxor1d shape
shares_memory size sort sort_complex split squeeze stack std sum swapaxes take take_along_axis tensordot tile
trace transpose trapezoid tri tril tril_indices tril_indices_from trim_zeros triu triu_indices triu_indices_from
fix union1d unique unique_all unique_counts unique_inverse unique_values unpackbits unravel_index unwrap vander var
vdot vsplit vstack where zeros zeros_like imag real
""".split()

_UFUNCS = """
abs absolute acos acosh add arccos arccosh arcsin arcsinh arctan arctan2 arctanh asin asinh atan atan2 atanh
bitwise_and bitwise_count bitwise_invert bitwise_left_shift bitwise_not bitwise_or bitwise_right_shift
bitwise_xor cbrt ceil conj conjugate copysign cos cosh deg2rad degrees divide divmod equal exp exp2 expm1 fabs
float_power floor floor_divide fmax fmin fmod frexp gcd greater greater_equal heaviside hypot invert isfinite
isinf isnan lcm ldexp left_shift less less_equal log log10 log1p log2 logaddexp logaddexp2 logical_and
logical_not logical_or logical_xor matmul maximum minimum mod modf multiply negative nextafter not_equal
positive pow power rad2deg radians reciprocal remainder right_shift rint sign signbit sin sinc sinh sqrt square
subtract tan tanh true_divide trunc fix
""".split()

_CONSTANTS_AND_TYPES = """
bool bool_ byte cdouble complex128 complex64 complexfloating csingle double dtype e euler_gamma finfo float16
float32 float64 floating generic half iinfo inexact inf int16 int32 int64 int8 int_ intc integer intp long
longlong nan newaxis number pi short signedinteger single ubyte uint uint16 uint32 uint64 uint8 uintc uintp
ulong ulonglong unsignedinteger ushort
""".split()

# CuPy's ufunc.at / reduce / accumulate / reduceat exist only for these (cupy/_core/_kernel.pyx).
_AT = {"add", "subtract", "maximum", "minimum", "bitwise_and", "bitwise_or", "bitwise_xor"}
_REDUCE = {"add", "multiply"}
_REDUCEAT = {"add"}

_LINALG = ("cholesky cond cross det eig eigh eigvals eigvalsh inv lstsq matmul matrix_power matrix_rank "
           "matrix_transpose norm pinv qr slogdet solve svd tensorinv tensorsolve").split()
_FFT = ("fft fft2 fftfreq fftn fftshift hfft ifft ifft2 ifftn ifftshift ihfft irfft irfft2 irfftn rfft rfft2 "
        "rfftfreq rfftn").split()
_STRIDE_TRICKS = ("as_strided", "sliding_window_view")
# cupy.random.Generator's methods (cupy/random/_generator_api.pyx): no normal, permutation, choice, shuffle.
_GENERATOR_METHODS = ("random uniform integers beta chisquare dirichlet exponential f geometric hypergeometric "
                      "logseries standard_exponential poisson power standard_normal gamma standard_gamma "
                      "binomial").split()
_RANDOM_STATE_METHODS = (
    "beta binomial chisquare choice dirichlet exponential f gamma geometric gumbel hypergeometric laplace logistic "
    "lognormal logseries multivariate_normal negative_binomial noncentral_chisquare noncentral_f normal pareto "
    "permutation poisson power rand randint randn random_sample rayleigh shuffle standard_cauchy "
    "standard_exponential standard_gamma standard_normal standard_t triangular uniform vonmises wald weibull zipf"
).split()


_GEMMS = ("dot", "tensordot", "inner", "matmul")  # float16 products computed in float32, as cuBLAS (half_gemm)


def _function(name, fn):
    def forward(*args, **kwargs):
        return call(fn, args, kwargs)

    forward.__name__ = forward.__qualname__ = name
    forward.__doc__ = f"Device version of numpy.{name} (fake CuPy)."
    return forward


class ufunc:
    """A CuPy ufunc: call it; ``at``/``reduce``/``accumulate``/``reduceat`` only where CuPy has them."""

    def __init__(self, np_ufunc):
        self._uf = np_ufunc
        self._gemm = _array.half_gemm(np_ufunc)
        self.__name__ = np_ufunc.__name__
        self.nin, self.nout, self.nargs = np_ufunc.nin, np_ufunc.nout, np_ufunc.nargs

    def __call__(self, *args, **kwargs):
        return call(self._gemm if self._uf is numpy.matmul else self._uf, args, kwargs)

    def _need(self, method, allowed):
        if self.__name__ not in allowed:
            raise NotImplementedError(f"`cupy_{self.__name__}.{method}` is not supported yet")

    def at(self, a, indices, b=None):
        self._need("at", _AT)
        _array._scatter(self._uf, a, indices, b)

    def reduce(self, array, axis=0, dtype=None, out=None, keepdims=False):
        self._need("reduce", _REDUCE)
        return call(self._uf.reduce, (array,), dict(axis=axis, dtype=dtype, out=out, keepdims=keepdims))

    def accumulate(self, array, axis=0, dtype=None, out=None):
        self._need("accumulate", _REDUCE)
        return call(self._uf.accumulate, (array,), dict(axis=axis, dtype=dtype, out=out))

    def reduceat(self, array, indices, axis=0, dtype=None, out=None):
        self._need("reduceat", _REDUCEAT)
        return call(self._uf.reduceat, (array, indices), dict(axis=axis, dtype=dtype, out=out))

    def outer(self, A, B, **kwargs):
        return call(self._uf.outer, (A, B), kwargs)

    def __repr__(self):
        return f"<ufunc 'cupy_{self.__name__}'>"


def _contains_device(x) -> bool:
    t = type(x)
    if t is ndarray:
        return True
    return (t is list or t is tuple) and any(_contains_device(v) for v in x)


def asarray(a, dtype=None, order=None, *, blocking=False):
    """Device array from ``a``; host data (NumPy arrays, lists, scalars) is copied to the device."""
    if type(a) is ndarray:
        if a._dev != _cuda.current_id():  # a peer copy, not a host transfer
            return _new(numpy.array(a._a, dtype=dtype, order=order or "K", copy=True))
        if dtype is None or numpy.dtype(dtype) == a.dtype:
            return a
        return _new(a._a.astype(dtype))
    return array(a, dtype=dtype, copy=False, order=order or "K")


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0, *, blocking=False):
    if type(obj) is ndarray:
        _array._check_device(obj)
        res = numpy.array(obj._a, dtype=dtype, copy=copy or None, order=order, ndmin=ndmin)
        return obj if res is obj._a else _new(res)
    if _contains_device(obj):  # a nested list of device arrays and scalars: stacked on the device
        return _new(numpy.array(_unwrap(obj), dtype=dtype, order=order, ndmin=ndmin))
    host = numpy.array(obj, dtype=dtype, order=order, ndmin=ndmin, copy=True)
    transfers.record("h2d", host.nbytes)
    return _new(host)


def asnumpy(a, stream=None, order="C", out=None, *, blocking=True):
    """The host copy of a device array (a host array is returned as it is)."""
    if type(a) is ndarray:
        return a.get(stream=stream, order=order, out=out, blocking=blocking)
    return numpy.asarray(a, order=order)


def get_array_module(*args):
    return cupy if any(type(a) is ndarray for a in args) else numpy


class _Wrapped:
    """A NumPy random generator behind an allowlist of methods (results are device arrays)."""

    _allowed: frozenset = frozenset()

    def __init__(self, rng):
        self._rng = rng

    def __getattr__(self, name):
        if name not in self._allowed:
            raise AttributeError(f"'{type(self).__name__}' object (fake CuPy) has no attribute '{name}'")
        fn = getattr(self._rng, name)

        def method(*args, **kwargs):
            res = call(fn, args, kwargs)
            return _new(numpy.asarray(res)) if isinstance(res, (int, float)) else res

        return method


class Generator(_Wrapped):
    _allowed = frozenset(_GENERATOR_METHODS)

    def __init__(self, bit_generator=None):
        super().__init__(numpy.random.default_rng(bit_generator))


class RandomState(_Wrapped):
    _allowed = frozenset(_RANDOM_STATE_METHODS + ["seed"])

    def __init__(self, seed=None, method=None):
        super().__init__(numpy.random.RandomState(None if seed is None else int(seed) % 2**32))


def default_rng(seed=None):
    return Generator(seed)


_random_state = [None]


def get_random_state():
    if _random_state[0] is None:
        _random_state[0] = RandomState()
    return _random_state[0]


def _module(name, doc, entries):
    mod = types.ModuleType(name, doc)
    for key, value in entries.items():
        setattr(mod, key, value)

    def missing(attr):
        hint = " (NumPy has it, CuPy does not)" if hasattr(numpy, attr) else ""
        raise AttributeError(f"module '{name}' (fake CuPy for tests) has no attribute '{attr}'{hint}")

    mod.__getattr__ = missing
    return mod


def _forwarded(names, np_namespace):
    return {n: _function(n, _array.half_gemm(getattr(np_namespace, n)) if n in _GEMMS else getattr(np_namespace, n))
            for n in names if hasattr(np_namespace, n)}


linalg = _module("cupy.linalg", "fake cupy.linalg", {**_forwarded(_LINALG, numpy.linalg),
                                                     "LinAlgError": numpy.linalg.LinAlgError})
fft = _module("cupy.fft", "fake cupy.fft", _forwarded(_FFT, numpy.fft))
stride_tricks = _module("cupy.lib.stride_tricks", "", _forwarded(_STRIDE_TRICKS, numpy.lib.stride_tricks))
lib = _module("cupy.lib", "", {"stride_tricks": stride_tricks})
random = _module("cupy.random", "fake cupy.random", {
    "Generator": Generator, "RandomState": RandomState, "default_rng": default_rng,
    "get_random_state": get_random_state, "seed": lambda seed=None: get_random_state().seed(seed),
    "reset_states": lambda: _random_state.__setitem__(0, None),
    **{n: (lambda n: lambda *a, **k: getattr(get_random_state(), n)(*a, **k))(n) for n in _RANDOM_STATE_METHODS},
})
cuda = _module("cupy.cuda", "fake cupy.cuda", {
    "Device": _cuda.Device, "Stream": _cuda.Stream, "Event": _cuda.Event,
    "get_elapsed_time": _cuda.get_elapsed_time, "get_current_stream": _cuda.get_current_stream,
    "runtime": _cuda.runtime, "MemoryPool": _cuda.MemoryPool, "PinnedMemoryPool": _cuda.PinnedMemoryPool,
    "MemoryPointer": _cuda.MemoryPointer, "PinnedMemoryPointer": _cuda.PinnedMemoryPointer,
    "alloc_pinned_memory": _cuda.alloc_pinned_memory, "is_available": _cuda.is_available,
    "get_allocator": _cuda.get_allocator, "set_allocator": _cuda.set_allocator,
})

cupy = _module("cupy", "A strict stand-in for CuPy (tests only; see tests/_fakecuda/__init__.py).", {
    **_forwarded(_FUNCTIONS, numpy),
    **{n: ufunc(getattr(numpy, n)) for n in _UFUNCS if isinstance(getattr(numpy, n, None), numpy.ufunc)},
    **{n: getattr(numpy, n) for n in _CONSTANTS_AND_TYPES if hasattr(numpy, n)},
    "ndarray": ndarray, "ufunc": ufunc, "asarray": asarray, "asanyarray": asarray, "array": array,
    "asnumpy": asnumpy, "get_array_module": get_array_module, "linalg": linalg, "fft": fft, "lib": lib,
    "random": random, "cuda": cuda, "get_default_memory_pool": _cuda.memory_pool,
    "get_default_pinned_memory_pool": _cuda.pinned_memory_pool, "is_available": _cuda.is_available,
})


def _scatter(method):
    def scatter(a, slices, value):
        getattr(a, method)(slices, value)

    scatter.__name__ = method
    return scatter


cupyx = _module("cupyx", "fake cupyx (tests only)", {
    "scatter_add": _scatter("scatter_add"), "scatter_max": _scatter("scatter_max"),
    "scatter_min": _scatter("scatter_min"),
    # host arrays in pinned memory: plain NumPy arrays here (the copies are what the fake counts)
    "empty_pinned": numpy.empty, "zeros_pinned": numpy.zeros, "empty_like_pinned": numpy.empty_like,
    "zeros_like_pinned": numpy.zeros_like,
})
