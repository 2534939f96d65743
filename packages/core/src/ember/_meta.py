"""The ``meta`` device's arrays: a shape and a dtype, no data (a leaf module: it imports only NumPy).

A meta array is a read-only zero-stride NumPy view of a single element, of class ``MetaArray``, so it takes
no memory whatever its shape. Ops on meta arrays work out their result's shape and dtype by running the
NumPy computation on those views and keep only the shape and dtype of what comes out (the transient
result is dropped); writes into a meta array (in-place ops, initializers) do nothing.
"""

from __future__ import annotations

import numpy


class MetaArray(numpy.ndarray):
    """An array on the meta device (see the module docstring)."""

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        if out is not None and any(isinstance(o, MetaArray) for o in out):
            return out[0] if len(out) == 1 else out  # in place on meta: nothing to write
        if method == "at":
            return None
        if method == "__call__" and ufunc.nout == 1 and not kwargs:
            return _shape_only(ufunc, inputs)
        result = getattr(ufunc, method)(*_unwrap(inputs), **_unwrap(kwargs))
        return _wrap(result)

    def __array_function__(self, func, types, args, kwargs):
        if func.__name__ in _WRITERS and isinstance(args[0] if args else None, MetaArray):
            return None  # writes into a meta array: nothing to write
        out = kwargs.get("out")
        if isinstance(out, MetaArray):
            return out
        return _wrap(func(*_unwrap(args), **_unwrap(kwargs)))

    def __setitem__(self, key, value):
        pass  # a meta array holds no data

    def fill(self, value):
        pass

    def astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True):
        return empty(self.shape, dtype)

    def copy(self, order="C"):
        return empty(self.shape, self.dtype)

    def __reduce__(self):
        return (empty, (self.shape, self.dtype.str))

    def __repr__(self):
        return f"MetaArray(shape={self.shape}, dtype={self.dtype})"


def empty(shape, dtype=numpy.float32):
    """A meta array of ``shape`` and ``dtype``."""
    if isinstance(shape, int):
        shape = (shape,)
    base = numpy.zeros((), dtype=dtype)
    return numpy.lib.stride_tricks.as_strided(base, tuple(int(s) for s in shape), (0,) * len(shape),
                                              writeable=False).view(MetaArray)


def like(arr):
    """A meta array with ``arr``'s shape and dtype."""
    return empty(arr.shape, arr.dtype)


def _shape_only(ufunc, inputs):
    """The meta result of an elementwise ufunc or matmul, from shapes and dtypes alone (no computation)."""
    arrays = [a for a in inputs if isinstance(a, numpy.ndarray)]
    probes = [numpy.zeros((1, 1) if ufunc is numpy.matmul else (), a.dtype) if isinstance(a, numpy.ndarray) else a
              for a in inputs]
    dtype = ufunc(*probes).dtype  # the result dtype (Python scalars stay weakly typed, as in the real call)
    if ufunc is numpy.matmul:
        a, b = (x.shape for x in inputs)
        a2, b2 = (a if len(a) > 1 else (1,) + a), (b if len(b) > 1 else b + (1,))
        if a2[-1] != b2[-2]:
            raise ValueError(f"matmul: Input operand 1 has a mismatch in its core dimension 0 (size {b2[-2]} is "
                             f"different from {a2[-1]})")
        shape = numpy.broadcast_shapes(a2[:-2], b2[:-2]) + (a2[-2], b2[-1])
        if len(a) == 1:
            shape = shape[:-2] + shape[-1:]
        if len(b) == 1:
            shape = shape[:-1]
        return empty(shape, dtype)
    return empty(numpy.broadcast_shapes(*(x.shape for x in arrays)), dtype)


def _unwrap(obj):
    if isinstance(obj, MetaArray):
        return obj.view(numpy.ndarray)
    if isinstance(obj, (list, tuple)):
        return type(obj)(_unwrap(o) for o in obj)
    if isinstance(obj, dict):
        return {k: _unwrap(v) for k, v in obj.items()}
    return obj


def _wrap(obj):
    if isinstance(obj, MetaArray) or obj is None:
        return obj
    if isinstance(obj, numpy.ndarray):
        return like(obj)
    if isinstance(obj, numpy.generic):
        return empty((), obj.dtype)
    if isinstance(obj, tuple):
        return tuple(_wrap(o) for o in obj)
    if isinstance(obj, list):
        return [_wrap(o) for o in obj]
    return obj


_WRITERS = {"copyto", "put", "place", "putmask", "fill_diagonal", "put_along_axis"}


class _MetaModule:
    """What ``backend.module_for(meta)`` returns: NumPy's functions (which dispatch to ``MetaArray`` for
    meta arguments), with array results made meta (factories such as ``zeros`` get no meta argument)."""

    def __getattr__(self, name):
        attr = getattr(numpy, name)
        if not callable(attr) or isinstance(attr, (type, numpy.ufunc)):
            return attr

        def fn(*args, **kwargs):
            return _wrap(attr(*args, **kwargs))

        fn.__name__ = name
        return fn


meta_module = _MetaModule()
