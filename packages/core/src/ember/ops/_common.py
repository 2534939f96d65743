"""Helpers every op module shares: operand preparation, method binding and in-place updates."""

from __future__ import annotations

import functools

import numpy

from .. import backend, dtypes
from .._errors import check_broadcast
from ..autograd.grad_mode import STATE
from ..autograd.function import TRACE_HOOK
from ..tensor import Tensor
from ..dtypes import np_kind as _np_kind

xp_of = backend.array_module
_FROM_NP = dtypes._FROM_NP


_DEVICE_CONSTANTS: dict = {}  # (device, dtype, shape, bytes) -> device copy


def device_constant(xp, host):
    """``host`` (a small read-only table an op builds on the host from shapes: gather indices, bin
    matrices, divisors) as an array of module ``xp``. On a GPU the copy is made once per device and
    content and then reused, so a training step doesn't wait for a host-to-device copy on every call."""
    if xp is numpy:
        return host
    host = numpy.asarray(host)
    if host.nbytes > 1 << 20:
        return xp.asarray(host)
    key = (xp.cuda.Device().id, host.dtype.str, host.shape, host.tobytes())
    arr = _DEVICE_CONSTANTS.get(key)
    if arr is None:
        if len(_DEVICE_CONSTANTS) >= 4096:
            _DEVICE_CONSTANTS.clear()
        arr = _DEVICE_CONSTANTS[key] = xp.asarray(host)
    return arr


def checks_values(xp) -> bool:
    """Whether an op validates tensor *values* (index bounds, probabilities in [0, 1]) before computing:
    on the CPU, as PyTorch does; not on a GPU, where reading the answer would copy to the host and wait
    for the device on every call (PyTorch's CUDA kernels only assert asynchronously, inside the kernel)."""
    return xp is numpy


def numpy_aliases(fn):
    """Accept NumPy's ``axis=`` / ``keepdims=`` for ``dim=`` / ``keepdim=``, as PyTorch's argument parser
    does for every function with those parameters."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if kwargs and ("axis" in kwargs or "keepdims" in kwargs):
            for alias, name in (("axis", "dim"), ("keepdims", "keepdim")):
                if alias in kwargs:
                    if name in kwargs:
                        raise TypeError(f"{fn.__name__}() got multiple values for argument '{name}'")
                    kwargs[name] = kwargs.pop(alias)
        return fn(*args, **kwargs)

    return wrapper


def alias_globals(namespace: dict, names) -> None:
    """Wrap the module-level functions ``names`` of ``namespace`` with :func:`numpy_aliases`."""
    for name in names:
        namespace[name] = numpy_aliases(namespace[name])


def quiet_errors():
    """A fresh ``errstate`` that silences float warnings (PyTorch returns inf/nan silently). Fresh per use:
    one errstate object must not be entered from two threads at once."""
    return numpy.errstate(all="ignore")


def bind(**methods):
    """Attach functions to Tensor as methods/operators (``bind(exp=exp, __neg__=neg)``)."""
    for name, fn in methods.items():
        setattr(Tensor, name, fn)


def binary_dtype(a, b) -> dtypes.dtype:
    """PyTorch's result dtype for an elementwise op on ``a`` and ``b`` (tensors or Python scalars)."""
    ta, tb = type(a) is Tensor or isinstance(a, Tensor), type(b) is Tensor or isinstance(b, Tensor)
    if ta and tb:
        da, db = a._data.dtype, b._data.dtype
        if da is db or da == db:
            return _FROM_NP[da]
    elif ta and type(b) is float and _np_kind(a._data.dtype) == "f":
        return _FROM_NP[a._data.dtype]
    elif tb and type(a) is float and _np_kind(b._data.dtype) == "f":
        return _FROM_NP[b._data.dtype]
    return dtypes.result_type(a, b)


def _array(x, np_dtype, like):
    if isinstance(x, Tensor):
        arr = x._data
        if type(arr) is not type(like) and like is not None:
            if arr.ndim == 0:  # PyTorch lets 0-dim CPU tensors mix with CUDA tensors
                arr = backend.to_device(arr, backend.device_of(like))
            else:
                raise RuntimeError(
                    "Expected all tensors to be on the same device, but found at least two devices, "
                    f"{backend.device_of(like)} and {backend.device_of(arr)}!"
                )
        return arr if arr.dtype == np_dtype else arr.astype(np_dtype)
    if isinstance(x, (float, bool, complex)):
        return np_dtype.type(x)
    if isinstance(x, int):
        return _wrap_int(x, np_dtype) if np_dtype.kind in "iu" else np_dtype.type(x)
    raise TypeError(f"expected a Tensor or a Python number, but got {type(x).__name__}")


def _wrap_int(x: int, np_dtype):
    """A Python int wrapped into an integer dtype, as PyTorch does (int8 tensor + 300 adds 44)."""
    bits = 8 * np_dtype.itemsize
    x &= (1 << bits) - 1
    if np_dtype.kind == "i" and x >= 1 << (bits - 1):
        x -= 1 << bits
    return np_dtype.type(x)


def binary_arrays(a, b, dt: dtypes.dtype | None = None):
    """The arrays of ``a`` and ``b`` cast to their common dtype (or ``dt``), on one device."""
    if dt is None and type(a) is Tensor and type(b) is Tensor:  # the common case, without promotion
        x, y = a._data, b._data
        if x.dtype is y.dtype and type(x) is type(y) and x.shape == y.shape:
            return x, y
    np_dtype = (dt or binary_dtype(a, b)).np
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a._data.shape != b._data.shape:
        check_broadcast(a._data.shape, b._data.shape)
    if isinstance(a, Tensor):
        like = a._data if not (a._data.ndim == 0 and isinstance(b, Tensor)) else b._data
    else:
        like = b._data
    return _array(a, np_dtype, like), _array(b, np_dtype, like)


def broadcast_view(arr, shape):
    """``xp.broadcast_to(arr, shape)``: a read-only view. A C-contiguous NumPy array is viewed directly (a
    one-element one in 0.5 µs against numpy.broadcast_to's 2 µs: a third of a small sum's backward)."""
    lead = len(shape) - arr.ndim
    if type(arr) is numpy.ndarray and lead >= 0 and arr.flags.c_contiguous:
        if arr.size == 1:
            strides = (0,) * len(shape)
        else:
            have = (1,) * lead + arr.shape
            if not all(h == w or h == 1 for h, w in zip(have, shape)):
                return numpy.broadcast_to(arr, shape)  # raises NumPy's error
            strides = tuple(0 if h != w else step for h, w, step in zip(have, shape, (0,) * lead + arr.strides))
        view = numpy.ndarray(shape, arr.dtype, arr, 0, strides)
        view.flags.writeable = False
        return view
    return backend.array_module(arr).broadcast_to(arr, shape)


def float_array(t: Tensor):
    """``t``'s array, promoted to the default float dtype if it is integral or bool (as exp(int) does)."""
    arr = t._data
    if arr.dtype.kind in "fc":
        return arr
    return arr.astype(dtypes.get_default_dtype().np)


def as_tensor_like(value, like: Tensor) -> Tensor:
    """A Python scalar or array-like as a tensor on ``like``'s device (tensors pass through)."""
    if isinstance(value, Tensor):
        return value
    xp = xp_of(like._data)
    dt = dtypes.result_type(value) if isinstance(value, (bool, int, float, complex)) else None
    return Tensor._make(xp.asarray(value, dtype=dt.np if dt is not None else None))


def check_inplace(t: Tensor):
    """Raise PyTorch's error for in-place ops that autograd cannot support."""
    if STATE.enabled and t._requires_grad and t.grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")


def apply_inplace(t: Tensor, result: Tensor) -> Tensor:
    """Write ``result`` into ``t``'s storage and make ``t`` carry ``result``'s history; returns ``t``.

    The op producing ``result`` must have read a clone of ``t`` (see ``inplace_source``) whenever a
    graph is recorded, so the values backward needs survive the overwrite.
    """
    if result._data.shape != t._data.shape:
        raise RuntimeError(
            f"output with shape {list(t._data.shape)} doesn't match the broadcast shape {list(result._data.shape)}"
        )
    src, dst = result._data.dtype, t._data.dtype
    if src != dst and not _can_cast(src, dst):
        from .unary import scalar_type_name

        raise RuntimeError(
            f"result type {scalar_type_name(src)} can't be cast to the desired output type {scalar_type_name(dst)}"
        )
    if result._data is not t._data:
        xp_of(t._data).copyto(t._data, result._data, casting="unsafe")
    if result.grad_fn is not None:
        if t._base is not None and t._base._requires_grad:
            raise NotImplementedError(
                "in-place operations on a view of a tensor that requires grad are not supported by ember "
                "yet; use the out-of-place op (e.g. y = x.add(1)) instead"
            )
        t.grad_fn, t._output_nr, t._requires_grad = result.grad_fn, result._output_nr, True
    t._version_counter.value += 1
    if TRACE_HOOK[0] is not None:
        TRACE_HOOK[0].inplace(t, result)
    return t


def _can_cast(src, dst) -> bool:
    order = "biufc"
    src, dst = _np_kind(src), _np_kind(dst)
    return order.index(src if src != "u" else "i") <= order.index(dst if dst != "u" else "i")


def inplace_source(t: Tensor) -> Tensor:
    """What an in-place op on ``t`` should read: ``t`` itself, or a differentiable clone of it when a
    graph is being recorded (backward may need ``t``'s old values after the overwrite)."""
    check_inplace(t)
    if STATE.enabled and t._requires_grad:
        from .elementwise import clone

        return clone(t)
    return t


def normalize_dims(dim, ndim: int) -> tuple:
    """``dim`` (None, int or sequence) as a sorted tuple of non-negative axes; PyTorch's IndexError when out of range."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, int):
        dim = (dim,)
    n = max(ndim, 1)
    out = []
    for d in dim:
        d = int(d)
        if not -n <= d < n:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})")
        d = d + n if d < 0 else d
        if d in out:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        out.append(d)
    return tuple(sorted(out)) if ndim > 0 else ()


def check_reduce_dims(name: str, shape, axes):
    """PyTorch's IndexError for reducing (max, median, kthvalue, ...) over a dimension of size 0."""
    for ax in axes:
        if shape and shape[ax] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {ax} to have non-zero size.")


def as_1d_if_0d(fn):
    """Run a dim-taking op on a 0-d tensor as on one element of a 1-d tensor, and give 0-d results back
    (PyTorch treats a scalar as having one dimension of size 1 for cumsum, topk, kthvalue, median, ...)."""
    import functools

    @functools.wraps(fn)
    def wrapper(input, *args, **kwargs):
        if not isinstance(input, Tensor) or input._data.ndim != 0:
            return fn(input, *args, **kwargs)
        from .shape import reshape

        out = fn(reshape(input, (1,)), *args, **kwargs)
        def back(o):
            return reshape(o, ()) if isinstance(o, Tensor) and o._data.shape == (1,) else o

        return type(out)(*(back(o) for o in out)) if isinstance(out, tuple) else back(out)

    return wrapper


def wrap_dim(dim: int, ndim: int) -> int:
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim + n if dim < 0 else dim


_C10_NAMES = {"float16": "c10::Half", "bfloat16": "c10::BFloat16", "float32": "float", "float64": "double"}


def check_scalar_fits(value, np_dtype) -> None:
    """PyTorch's ``value cannot be converted to type ... without overflow`` for a Python number written into
    a tensor of ``np_dtype`` (``masked_fill``, ``fill_``): floats must lie in the dtype's range (inf and nan
    only into floats); negative ints may wrap into unsigned types, as two's complement."""
    np_dtype = numpy.dtype(np_dtype)
    kind = np_dtype.kind
    if kind in "bc" or isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    if kind == "f" or np_dtype.name == "bfloat16":
        info = numpy.finfo(np_dtype) if kind == "f" else None
        hi = float(info.max) if info is not None else 3.3895313892515355e38
        bad = abs(value) > hi and not (isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))))
    else:
        info = numpy.iinfo(np_dtype)
        if isinstance(value, float):
            bad = not (info.min <= value <= info.max)  # nan fails both comparisons
        else:
            bad = value > info.max or (value < info.min and not (kind == "u" and -value <= info.max))
    if bad:
        name = _C10_NAMES.get(np_dtype.name, f"{np_dtype.name}_t")
        raise RuntimeError(f"value cannot be converted to type {name} without overflow")


def fused_msub(a, l, u):
    """``a - l * u`` rounded once, as PyTorch's CPU kernels (MKL's LU, linspace) compute it with fused
    multiply-adds: where a near-singular matrix cancels to a tiny remainder, not to 0, and where a bin edge
    lands. float32 goes through float64 (the product is exact there); float64 splits the product into its
    rounded value and exact error (Dekker), keeping the sign of a zero."""
    xp = xp_of(a)
    if a.dtype.itemsize < 8 and a.dtype.kind == "f":
        wide = a.astype(xp.float64) - l.astype(xp.float64) * u.astype(xp.float64)
        return wide.astype(a.dtype)
    if a.dtype != xp.float64:
        return a - l * u
    p = l * u
    split = 134217729.0  # 2 ** 27 + 1
    t = split * l
    lh = t - (t - l)
    t = split * u
    uh = t - (t - u)
    ll, ul = l - lh, u - uh
    e = ((lh * uh - p) + lh * ul + ll * uh) + ll * ul  # l * u == p + e exactly
    s = a - p
    bb = s - a
    t = (a - (s - bb)) + (-p - bb)  # a - p == s + t exactly
    return xp.where(e == 0, s, xp.where(xp.isfinite(e), s + (t - e), a - p))


def plain(*values):
    """Whether every value is an int, a string, None or a tuple of ints (a module's arguments): argument parsing
    whose result depends on nothing else can then be looked up by the values, which hash and compare exactly
    (not True for 1, nor 1.0)."""
    for value in values:
        kind = type(value)
        if kind is int or kind is str or value is None:
            continue
        if kind is not tuple:
            return False
        for v in value:
            if type(v) is not int:
                return False
    return True


def kept_for_plain_args(maxsize):
    """Decorator: a function of its positional arguments alone, its results kept by them where they are all
    ``plain`` (at most ``maxsize``; an error is raised again on every call, nothing kept for it). For argument
    parsing and checks that cost a small layer's call several microseconds (conv's geometry, pooling's parse)."""

    def wrap(fn):
        kept = {}

        @functools.wraps(fn)
        def lookup(*args):
            if not plain(*args):
                return fn(*args)
            hit = kept.get(args)
            if hit is None:
                hit = fn(*args)
                if len(kept) < maxsize:
                    kept[args] = hit
            return hit

        return lookup

    return wrap


def unit_height(a, one_d):
    """A 1-D convolution's or pooling's (..., L) array as (..., 1, L), a view, to run as a 2-D one; others (one_d
    False) as they are."""
    return a[..., None, :] if one_d else a


def drop_unit_height(a, one_d):
    """The inverse of ``unit_height``: a (..., 1, L) result as (..., L)."""
    return a[..., 0, :] if one_d else a
