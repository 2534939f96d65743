"""Top-level names PyTorch programs use beyond tensors and ops: ``finfo``/``iinfo``, ``backends``
flags, ``compile``, legacy typed constructors (``FloatTensor``), matmul-precision settings."""

from __future__ import annotations

import numpy

from . import creation, dtypes


class finfo:
    """Machine limits of a floating-point dtype (``ember.finfo(ember.float32).eps``)."""

    def __init__(self, type=None):
        dt = dtypes.to_dtype(type) if type is not None else dtypes.get_default_dtype()
        if not (dt.is_floating_point or dt.is_complex):
            raise TypeError(f"finfo() requires a floating point input type. Use iinfo to handle '{dt.name}'")
        info = numpy.finfo(dt.np)
        self.dtype = dt.to_real().name
        self.bits = info.bits
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.tiny)
        self.resolution = float(info.resolution)

    def __repr__(self):
        return (f"finfo(resolution={self.resolution}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype (``ember.iinfo(ember.int64).max``)."""

    def __init__(self, type):
        dt = dtypes.to_dtype(type)
        if dt.is_floating_point or dt.is_complex:
            raise TypeError(f"iinfo() requires an integer input type. Use finfo to handle '{dt.name}'")
        info = numpy.iinfo(dt.np) if dt.name != "bool" else None
        self.dtype = dt.name
        self.bits = 8 if info is None else info.bits
        self.max = 1 if info is None else int(info.max)
        self.min = 0 if info is None else int(info.min)

    def __repr__(self):
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"


_matmul_precision = "highest"


def set_float32_matmul_precision(precision: str) -> None:
    """Accepted for compatibility ('highest' | 'high' | 'medium'); float32 matmuls always run in full precision."""
    global _matmul_precision
    if precision not in ("highest", "high", "medium"):
        raise RuntimeError(f"Invalid float32 matmul precision: {precision}")
    _matmul_precision = precision


def get_float32_matmul_precision() -> str:
    return _matmul_precision


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None, options=None, disable=False):
    """Returns ``model`` unchanged: there is no graph compiler in ember, and compiling is an optimisation
    that must not change results. Works as ``compile(model)`` and as a decorator."""
    if model is None:
        return lambda fn: fn
    return model


def _typed(name, dt):
    def constructor(*args, device=None):
        if len(args) == 1 and not isinstance(args[0], int):
            return creation.tensor(args[0], dtype=dt, device=device)
        return creation.empty(*args, dtype=dt, device=device)

    constructor.__name__ = constructor.__qualname__ = name
    constructor.__doc__ = f"Legacy constructor: ``{name}(data)`` or ``{name}(*sizes)`` ({dt.name})."
    return constructor


FloatTensor = _typed("FloatTensor", dtypes.float32)
DoubleTensor = _typed("DoubleTensor", dtypes.float64)
HalfTensor = _typed("HalfTensor", dtypes.float16)
LongTensor = _typed("LongTensor", dtypes.int64)
IntTensor = _typed("IntTensor", dtypes.int32)
ShortTensor = _typed("ShortTensor", dtypes.int16)
CharTensor = _typed("CharTensor", dtypes.int8)
ByteTensor = _typed("ByteTensor", dtypes.uint8)
BoolTensor = _typed("BoolTensor", dtypes.bool_)

__all__ = [
    "finfo", "iinfo", "set_float32_matmul_precision", "get_float32_matmul_precision", "compile",
    "FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor", "CharTensor",
    "ByteTensor", "BoolTensor",
]
