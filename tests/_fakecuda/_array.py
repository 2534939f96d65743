"""The fake device array: a NumPy array held inside a type of its own, strict where CuPy is strict.

- ``numpy.asarray(x)`` / ``__array__`` raise ``TypeError`` (CuPy's message); NumPy functions and ufuncs
  called on it raise ``TypeError`` (``__array_function__`` raises, ``__array_ufunc__ = None``), so a bare
  ``numpy.`` call in an op fails here instead of silently computing on the host.
- an operation mixing it with a ``numpy.ndarray`` raises ``TypeError`` (Python and NumPy scalars are fine,
  as in CuPy); arrays on another device than the current one raise ``ValueError``.
- ``.get()`` / ``asnumpy`` copy to the host, ``asarray``/``array`` of host data copy to the device, and
  so do ``float()``/``int()``/``bool()``/``item()``/``tolist()``/``repr()`` and NumPy index arrays: each
  is counted in ``_transfers.transfers``.
- reductions and scalar indexing give 0-d device arrays (CuPy's), never NumPy scalars; there is no
  ``__index__`` (as in CuPy).
"""

from __future__ import annotations

import operator
import weakref

import numpy

from . import _cuda
from ._transfers import transfers

_SUPPORTED = {
    numpy.bool_, numpy.int8, numpy.int16, numpy.int32, numpy.int64, numpy.uint8, numpy.uint16, numpy.uint32,
    numpy.uint64, numpy.float16, numpy.float32, numpy.float64, numpy.complex64, numpy.complex128,
}
_SCALARS = (bool, int, float, complex, numpy.generic)
_OWNERS: weakref.WeakValueDictionary = weakref.WeakValueDictionary()  # id(NumPy owner) -> its device array


class ndarray:
    """A CUDA array of the fake CuPy: wraps a NumPy array that stands for device memory."""

    __slots__ = ("_a", "_dev", "__weakref__")
    __array_ufunc__ = None  # numpy.exp(x), numpy_array + x: TypeError / our reflected operator
    __hash__ = None

    def __init__(self, shape, dtype=float, memptr=None, strides=None, order="C"):
        if memptr is None:
            _init(self, numpy.empty(shape, dtype=dtype, order=order), _cuda.current_id())
            return
        buf = memptr._arr if memptr._arr.flags.c_contiguous else memptr._arr.copy()  # the memory it points into
        arr = numpy.ndarray(shape, dtype, buffer=buf.reshape(-1).view(numpy.uint8), offset=memptr._offset,
                            strides=strides, order=order)
        _init(self, arr, memptr.device_id)

    # -- the strict conversions ---------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            "Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct a NumPy "
            "array explicitly."
        )

    def __array_function__(self, func, types, args, kwargs):
        raise TypeError(
            f"numpy.{func.__name__}() was called with a CUDA array (fake CuPy): device code must call the "
            "array module of its inputs (xp), not numpy"
        )

    def get(self, stream=None, order="C", out=None, blocking=True):
        """Copy to the host: a new NumPy array (or into ``out``)."""
        transfers.record("d2h", self._a.nbytes)
        if out is not None:
            if not isinstance(out, numpy.ndarray):
                raise TypeError("`out` must be a numpy.ndarray")
            numpy.copyto(out, self._a)
            return out
        return numpy.array(self._a, order=order, copy=True)

    def set(self, arr, stream=None):
        """Copy the host array ``arr`` into this array."""
        if not isinstance(arr, numpy.ndarray):
            raise TypeError(f"Only numpy.ndarray can be set to cupy.ndarray, not {type(arr)}")
        if arr.shape != self._a.shape or arr.dtype != self._a.dtype:
            raise ValueError("Shape or dtype mismatch")
        transfers.record("h2d", arr.nbytes)
        self._a[...] = arr

    def item(self):
        transfers.record("d2h", self._a.itemsize)
        return self._a.item()

    def tolist(self):
        transfers.record("d2h", self._a.nbytes)
        return self._a.tolist()

    def tobytes(self, order="C"):
        transfers.record("d2h", self._a.nbytes)
        return self._a.tobytes(order)

    def __bool__(self):
        transfers.record("d2h", self._a.itemsize)
        return bool(self._a)

    def __int__(self):
        transfers.record("d2h", self._a.itemsize)
        return int(self._a)

    def __float__(self):
        transfers.record("d2h", self._a.itemsize)
        return float(self._a)

    def __complex__(self):
        transfers.record("d2h", self._a.itemsize)
        return complex(self._a)

    def __repr__(self):
        return repr(self.get())

    def __str__(self):
        return str(self.get())

    def __format__(self, spec):
        return format(self.get(), spec)

    def __reduce__(self):
        return _rebuild, (self.get(),)

    def __copy__(self):
        return _new(self._a.copy(), self._dev)

    def __deepcopy__(self, memo):
        return _new(self._a.copy(), self._dev)

    # -- container ----------------------------------------------------------------------------
    def __len__(self):
        if self._a.ndim == 0:
            raise TypeError("len() of unsized object")
        return len(self._a)

    def __iter__(self):
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(len(self._a)))

    def __getitem__(self, key):
        _check_device(self)
        return _wrap(self._a[_index(key)])

    def __setitem__(self, key, value):
        _check_device(self)
        self._a[_index(key)] = _value(value)

    # -- attributes ---------------------------------------------------------------------------
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    strides = property(lambda self: self._a.strides)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    flags = property(lambda self: self._a.flags)
    T = property(lambda self: _new(self._a.T, self._dev))
    mT = property(lambda self: _new(self._a.mT, self._dev))
    device = property(lambda self: _cuda.Device(self._dev))
    data = property(lambda self: _cuda.MemoryPointer(self._a, 0, self._dev))

    @property
    def base(self):
        """The array owning the memory of this view (one object per allocation, as in CuPy), or None."""
        root = self._a.base
        if not isinstance(root, numpy.ndarray):
            return None
        while isinstance(root.base, numpy.ndarray):
            root = root.base
        owner = _OWNERS.get(id(root))
        if owner is None or owner._a is not root:
            owner = _new(root, self._dev)
        return owner

    @property
    def real(self):
        return _new(self._a.real, self._dev)

    @real.setter
    def real(self, value):
        self._a.real = _value(value)

    @property
    def imag(self):
        return _new(self._a.imag, self._dev)

    @imag.setter
    def imag(self, value):
        self._a.imag = _value(value)

    def scatter_add(self, slices, value):
        _scatter(numpy.add, self, slices, value)

    def scatter_max(self, slices, value):
        _scatter(numpy.maximum, self, slices, value)

    def scatter_min(self, slices, value):
        _scatter(numpy.minimum, self, slices, value)


def _init(obj, arr, dev):
    if arr.dtype.type not in _SUPPORTED:
        raise ValueError(f"Unsupported dtype {arr.dtype}")
    obj._a = arr
    obj._dev = dev
    if arr.base is None:
        _OWNERS[id(arr)] = obj
        if arr.nbytes:
            _cuda.memory_pool()._allocated(arr)


def _new(arr, dev=None):
    obj = object.__new__(ndarray)
    _init(obj, arr, _cuda.current_id() if dev is None else dev)
    return obj


def _rebuild(host):
    transfers.record("h2d", host.nbytes)
    return _new(numpy.array(host, copy=True))


def _check_device(x):
    cur = _cuda.current_id()
    if x._dev != cur:
        raise ValueError(f"Array device must be same as the current device: array device = {x._dev} while current = {cur}")


def _unwrap(x):
    """An argument of a device function: device arrays unwrapped, host arrays refused."""
    t = type(x)
    if t is ndarray:
        _check_device(x)
        return x._a
    if t is numpy.ndarray:
        raise TypeError(
            f"Unsupported type {t} (a NumPy array was passed where CuPy needs a device array; "
            "copy it with xp.asarray first)"
        )
    if t is list or t is tuple:
        return t(_unwrap(v) for v in x)
    return x


def _wrap(r):
    """A result: NumPy arrays and NumPy scalars become device arrays (CuPy returns 0-d arrays)."""
    t = type(r)
    if t is numpy.ndarray:
        return _new(r)
    if isinstance(r, numpy.generic):
        return _new(numpy.asarray(r))
    if t is tuple or t is list:
        return t(_wrap(v) for v in r)
    if isinstance(r, tuple) and hasattr(r, "_fields"):  # named results (svd, slogdet, unique_*)
        return t(*(_wrap(v) for v in r))
    return r


def _host_to_device(x):
    """An index or assigned value: CuPy copies NumPy arrays and lists to the device (counted)."""
    t = type(x)
    if t is numpy.ndarray:
        transfers.record("h2d", x.nbytes)
        return x
    if t is list:
        if any(type(v) is ndarray for v in x):
            return [_unwrap(v) for v in x]
        transfers.record("h2d", 8 * len(x))
        return x
    return _unwrap(x)


def _index(key):
    if type(key) is tuple:
        return tuple(_host_to_device(k) for k in key)
    return _host_to_device(key)


def _value(value):
    return _host_to_device(value)


def _scatter(ufunc, a, slices, value):
    _check_device(a)
    ufunc.at(a._a, _index(slices), _value(value))


def half_gemm(fn):
    """``fn`` (a NumPy matrix product) with float16 x float16 computed in float32 and the result rounded once to
    float16, as CuPy's cuBLAS calls for half matrices compute (in float32). NumPy's own float16 product has no
    BLAS: minutes for one epoch of a small CNN under float16 autocast."""

    def gemm(a, b, *rest, out=None, **kwargs):
        if getattr(a, "dtype", None) == numpy.float16 and getattr(b, "dtype", None) == numpy.float16:
            res = fn(a.astype(numpy.float32), b.astype(numpy.float32), *rest, **kwargs).astype(numpy.float16)
            if out is None:
                return res
            out[...] = res
            return out
        return fn(a, b, *rest, **kwargs) if out is None else fn(a, b, *rest, out=out, **kwargs)

    gemm.__name__ = getattr(fn, "__name__", "gemm")
    return gemm


def call(fn, args, kwargs):
    """Call the NumPy function ``fn`` for a device function: unwrap, call, wrap (``out=`` kept)."""
    out = kwargs.get("out")
    res = fn(*[_unwrap(a) for a in args], **{k: _unwrap(v) for k, v in kwargs.items()})
    if type(out) is ndarray and type(res) is numpy.ndarray and res is out._a:
        return out
    return _wrap(res)


def _operand(x):
    t = type(x)
    if t is ndarray:
        _check_device(x)
        return x._a
    if t is numpy.ndarray:
        raise TypeError(f"Unsupported type {t} (an operator mixed a NumPy array with a CUDA array)")
    if isinstance(x, _SCALARS):
        return x
    return NotImplemented


def _binary(op, reflected=False):
    def method(self, other):
        o = _operand(other)
        if o is NotImplemented:
            return NotImplemented
        _check_device(self)
        return _wrap(op(o, self._a) if reflected else op(self._a, o))

    return method


def _inplace(op):
    def method(self, other):
        o = _operand(other)
        if o is NotImplemented:
            return NotImplemented
        _check_device(self)
        op(self._a, o)
        return self

    return method


def _unary(op):
    def method(self):
        _check_device(self)
        return _wrap(op(self._a))

    return method


def _forward_method(name):
    def method(self, *args, **kwargs):
        _check_device(self)
        return call(getattr(self._a, name), args, kwargs)

    method.__name__ = name
    return method


_OPERATORS = {
    "add": (operator.add, operator.iadd), "sub": (operator.sub, operator.isub), "mul": (operator.mul, operator.imul),
    "matmul": (half_gemm(operator.matmul), operator.imatmul), "truediv": (operator.truediv, operator.itruediv),
    "floordiv": (operator.floordiv, operator.ifloordiv), "mod": (operator.mod, operator.imod),
    "pow": (operator.pow, operator.ipow), "lshift": (operator.lshift, operator.ilshift),
    "rshift": (operator.rshift, operator.irshift), "and": (operator.and_, operator.iand),
    "or": (operator.or_, operator.ior), "xor": (operator.xor, operator.ixor), "divmod": (divmod, None),
}
for _name, (_op, _iop) in _OPERATORS.items():
    setattr(ndarray, f"__{_name}__", _binary(_op))
    setattr(ndarray, f"__r{_name}__", _binary(_op, reflected=True))
    if _iop is not None:
        setattr(ndarray, f"__i{_name}__", _inplace(_iop))
for _name in ("lt", "le", "eq", "ne", "gt", "ge"):
    setattr(ndarray, f"__{_name}__", _binary(getattr(operator, _name)))
for _name in ("neg", "pos", "abs", "invert"):
    setattr(ndarray, f"__{_name}__", _unary(getattr(operator, _name)))

# ndarray methods CuPy has (cupy/_core/core.pyx); conversions to the host are defined above.
_METHODS = (
    "all any argmax argmin argpartition argsort astype byteswap choose clip compress conj conjugate copy cumprod "
    "cumsum diagonal dot fill flatten max mean min nonzero partition prod put ravel repeat reshape round sort "
    "squeeze std sum swapaxes take trace transpose var view"
).split()
for _name in _METHODS:
    setattr(ndarray, _name, _forward_method(_name))
