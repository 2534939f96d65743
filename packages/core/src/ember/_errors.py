"""PyTorch's exception types and messages for errors NumPy raises inside ops.

Code written for PyTorch catches ``RuntimeError`` (and ``IndexError`` for dimensions); NumPy raises
``ValueError``, ``AxisError`` or ufunc ``TypeError``\\ s. ``Function.apply``/``Primitive.apply`` (the
op-dispatch layer) and ``binary_arrays`` hand every escaping error to ``translate``, so the mapping lives
here only. Errors ember raises on purpose (a ``raise`` statement in ember's own code) pass unchanged.
"""

from __future__ import annotations

import linecache
import os

import numpy

_EMBER_DIR = os.path.dirname(os.path.abspath(__file__))
_AxisError = getattr(numpy, "exceptions", numpy).AxisError


class IndexOutOfRange(IndexError, RuntimeError):
    """An index outside a dimension where PyTorch raises IndexError on some kernels and RuntimeError on
    others (index_select, embedding): both ``except`` clauses catch it."""


def broadcast_error(shapes) -> RuntimeError | None:
    """PyTorch's error for the first pair of ``shapes`` that does not broadcast (None if they all do).

    The running broadcast shape of the earlier operands is "tensor a", the next operand "tensor b", and
    the dimension is counted in the broadcast result, as in PyTorch's ``infer_size``.
    """
    shapes = [tuple(s) for s in shapes]
    if not shapes:
        return None
    acc = shapes[0]
    for shape in shapes[1:]:
        ndim = max(len(acc), len(shape))
        out = [1] * ndim
        for i in range(ndim - 1, -1, -1):  # PyTorch reports the last mismatching dimension
            a = acc[i - ndim + len(acc)] if i >= ndim - len(acc) else 1
            b = shape[i - ndim + len(shape)] if i >= ndim - len(shape) else 1
            if a != b and a != 1 and b != 1:
                return RuntimeError(
                    f"The size of tensor a ({a}) must match the size of tensor b ({b}) at non-singleton dimension {i}"
                )
            out[i] = a if b == 1 else b
        acc = tuple(out)
    return None


def check_broadcast(shape_a, shape_b):
    """Raise PyTorch's RuntimeError if two shapes do not broadcast (callers test ``shape_a != shape_b`` first)."""
    err = broadcast_error((shape_a, shape_b))
    if err is not None:
        raise err


def _raised_by_ember(exc) -> bool:
    """True when the innermost frame is a ``raise`` statement in ember's code (an intended error)."""
    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code
    if not os.path.abspath(code.co_filename).startswith(_EMBER_DIR):
        return False
    return linecache.getline(code.co_filename, tb.tb_lineno).lstrip().startswith("raise")


def _shapes_of(args):
    from .tensor import Tensor

    out = []
    for a in args:
        if isinstance(a, Tensor):
            out.append(a._data.shape)
        elif isinstance(a, (list, tuple)):
            out.extend(x._data.shape for x in a if isinstance(x, Tensor))
    return out


def translate(exc: BaseException, args=()) -> BaseException | None:
    """The PyTorch-typed replacement for a NumPy error ``exc`` raised while running an op on ``args``,
    or None when ``exc`` should propagate unchanged."""
    if not isinstance(exc, (ValueError, IndexError, TypeError, OverflowError)) or _raised_by_ember(exc):
        return None
    msg = str(exc)
    if isinstance(exc, OverflowError):  # a Python number that does not fit the tensor's dtype
        dt = msg.rsplit(" ", 1)[-1] if " out of bounds for " in msg else "the dtype"
        return RuntimeError(f"value cannot be converted to type {dt}_t without overflow ({msg})")
    if isinstance(exc, _AxisError):
        axis, ndim = getattr(exc, "axis", None), getattr(exc, "ndim", None)
        if axis is None or ndim is None:
            return IndexError(f"Dimension out of range ({msg})")
        n = max(ndim, 1)
        return IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {axis})")
    if isinstance(exc, TypeError):
        # ufunc loop/casting errors are numpy's own TypeError subclasses; a plain TypeError is an argument error
        if type(exc).__module__.startswith("numpy") or msg.startswith("ufunc '"):
            return RuntimeError(msg)
        return None
    if isinstance(exc, IndexError):
        if "boolean index did not match indexed array along" in msg:
            return _mask_error(msg, args) or IndexError(msg)
        if " is out of bounds for axis " in msg:
            return IndexError(msg.replace(" for axis ", " for dimension "))
        return None
    if "broadcast" in msg:
        err = broadcast_error(_shapes_of(args))
        return err if err is not None else RuntimeError(msg)
    if "zero-size array to reduction operation" in msg or "of an empty sequence" in msg:
        return IndexError("Expected reduction dim to have non-zero size.")
    return RuntimeError(msg)


def _mask_error(msg, args):
    """PyTorch's message for a boolean mask whose shape does not match the indexed tensor."""
    import re

    from .tensor import Tensor

    m = re.search(r"(?:axis|dimension) (\d+)", msg)
    if not m or not args or not isinstance(args[0], Tensor) or len(args) < 2:
        return None
    key = args[1] if isinstance(args[1], tuple) else (args[1],)
    masks = [k for k in key if getattr(k, "dtype", None) is not None and k.dtype == bool]
    if not masks:
        return None
    dim = int(m.group(1))
    at = 0 if masks[0].ndim == 1 else dim  # the mask's own dimension
    return IndexError(
        f"The shape of the mask {list(masks[0].shape)} at index {at} does not match the shape of the indexed tensor "
        f"{list(args[0]._data.shape)} at index {dim}"
    )
